/* sql/tsmigrate--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION tsmigrate" to load this file. \quit

-- The schema tsmigrate is created by CREATE EXTENSION (schema = tsmigrate in
-- the control file).  Nothing in it is granted to PUBLIC: a DBA grants USAGE
-- on the schema and EXECUTE on the functions to the roles that migrate.

------------------------------------------------------------------------------
-- Sources: a foreign server of this wrapper names a source database; the
-- caller's user mapping holds the credentials.
------------------------------------------------------------------------------

CREATE FUNCTION tsmigrate.fdw_validator(options text[], catalog oid)
    RETURNS void
    AS 'MODULE_PATHNAME', 'tsmigrate_fdw_validator'
    LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER tsmigrate VALIDATOR tsmigrate.fdw_validator;

COMMENT ON FOREIGN DATA WRAPPER tsmigrate IS
    'source databases for tsmigrate: connection options on the server, user and password on the user mapping';

------------------------------------------------------------------------------
-- Checks before a migration
------------------------------------------------------------------------------

CREATE FUNCTION tsmigrate.source_sessions(source text DEFAULT NULL)
    RETURNS TABLE (pid int, usename name, application_name text, client_addr inet,
                   state text, backend_start timestamptz)
    AS 'MODULE_PATHNAME', 'tsmigrate_source_sessions'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.source_sessions(text) IS
    'sessions still connected to the source database';

CREATE FUNCTION tsmigrate.check_versions(source text DEFAULT NULL)
    RETURNS TABLE (component text, source_version text, target_version text,
                   ok boolean, hint text)
    AS 'MODULE_PATHNAME', 'tsmigrate_check_versions'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.check_versions(text) IS
    'PostgreSQL and TimescaleDB versions of source and target, with the fix for a mismatch';

CREATE FUNCTION tsmigrate.align_timescaledb(source text DEFAULT NULL)
    RETURNS text
    AS 'MODULE_PATHNAME', 'tsmigrate_align_timescaledb'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.align_timescaledb(text) IS
    'update TimescaleDB on the source to the target''s version; never downgrades';

------------------------------------------------------------------------------
-- Verification
------------------------------------------------------------------------------

CREATE FUNCTION tsmigrate.verify(source text DEFAULT NULL, checksums boolean DEFAULT false)
    RETURNS TABLE (kind text, object text, source_value text, target_value text, ok boolean)
    AS 'MODULE_PATHNAME', 'tsmigrate_verify'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.verify(text, boolean) IS
    'compare source and target: objects per kind, rows (and checksums) per table, sequences';

------------------------------------------------------------------------------
-- Data: every row of the source, streamed with COPY under one snapshot
------------------------------------------------------------------------------

CREATE FUNCTION tsmigrate.pull_data(source text DEFAULT NULL, jobs int DEFAULT 1,
                                    tables text[] DEFAULT NULL)
    RETURNS TABLE (relation text, rows bigint, bytes bigint, seconds double precision)
    AS 'MODULE_PATHNAME', 'tsmigrate_pull_data'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.pull_data(text, int, text[]) IS
    'copy the rows of every table (or the listed ones), sequences, large objects and materialized views of the source into the empty target tables';

-- Copies in progress, from any session: pull_data's copies are the only
-- ones of type CALLBACK apart from logical replication's table sync.  A
-- copy worker's shared memory is private to its run, so queued and finished
-- tables are not shown; pull_data's result rows report those.
CREATE VIEW tsmigrate.copy_progress AS
    SELECT p.relid::pg_catalog.regclass::pg_catalog.text AS relation,
           CASE WHEN a.wait_event_type OPERATOR(pg_catalog.=) 'Extension'
                THEN 'waiting for source' ELSE 'copying' END AS state,
           p.tuples_processed AS rows,
           p.bytes_processed AS bytes,
           p.pid AS worker_pid,
           a.backend_type OPERATOR(pg_catalog.=) 'tsmigrate copy worker' AS in_worker
      FROM pg_catalog.pg_stat_progress_copy p
      JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) p.pid
     WHERE p.type OPERATOR(pg_catalog.=) 'CALLBACK'
       AND a.backend_type OPERATOR(pg_catalog.<>) 'logical replication worker';

COMMENT ON VIEW tsmigrate.copy_progress IS
    'tables being copied by tsmigrate.pull_data right now: rows and bytes so far, and which backend copies them';

------------------------------------------------------------------------------
-- Extensions and roles
------------------------------------------------------------------------------

CREATE FUNCTION tsmigrate.sync_extensions(source text DEFAULT NULL, dry_run boolean DEFAULT false)
    RETURNS TABLE (extname name, source_version text, target_version text, action text)
    AS 'MODULE_PATHNAME', 'tsmigrate_sync_extensions'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.sync_extensions(text, boolean) IS
    'create the source database''s extensions here, in their schemas and at their versions';

CREATE FUNCTION tsmigrate.roles_sql(source text DEFAULT NULL)
    RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'tsmigrate_roles_sql'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.roles_sql(text) IS
    'the statements of pg_dumpall --roles-only for the source, without superuser-only attributes, for review';

CREATE FUNCTION tsmigrate.pull_roles(source text DEFAULT NULL, dry_run boolean DEFAULT false)
    RETURNS TABLE (rolname name, action text)
    AS 'MODULE_PATHNAME', 'tsmigrate_pull_roles'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.pull_roles(text, boolean) IS
    'create the source''s roles here; roles that exist are reported and left as they are';

------------------------------------------------------------------------------
-- Least privilege: nothing is callable by PUBLIC.
------------------------------------------------------------------------------

REVOKE ALL ON FUNCTION tsmigrate.fdw_validator(text[], oid) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.source_sessions(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.check_versions(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.align_timescaledb(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.verify(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.pull_data(text, int, text[]) FROM PUBLIC;
REVOKE ALL ON tsmigrate.copy_progress FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.sync_extensions(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.roles_sql(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.pull_roles(text, boolean) FROM PUBLIC;
