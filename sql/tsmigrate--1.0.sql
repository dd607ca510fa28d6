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

CREATE FUNCTION tsmigrate.preflight(source text DEFAULT NULL, allow text[] DEFAULT NULL)
    RETURNS TABLE ("check" text, object text, ok boolean, blocks boolean,
                   detail text, fix text)
    AS 'MODULE_PATHNAME', 'tsmigrate_preflight'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.preflight(text, text[]) IS
    'what would stop a migration from the source (blocks: it would fail half way), with the fix; the source''s size, objects and the lock budget';

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
-- Runs of CALL tsmigrate.migrate: what was done, so that a second call
-- continues where the first stopped.  Written by migrate itself, one commit
-- per step and per batch of relations.  Not dumped with the database
-- (no pg_extension_config_dump): the state describes this database's own
-- migration and means nothing elsewhere.
------------------------------------------------------------------------------

CREATE TABLE tsmigrate.run (
    run_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner       name NOT NULL DEFAULT CURRENT_USER,  -- the role that called migrate
    source      text NOT NULL,          -- server name or host/port/dbname/user: never a password
    jobs        int NOT NULL,
    roles       boolean NOT NULL,
    state       text NOT NULL DEFAULT 'running'
                CHECK (state IN ('running', 'failed', 'done', 'streaming')),
    online      boolean NOT NULL DEFAULT false,  -- migrate(online => true)
    owners      boolean NOT NULL DEFAULT true,   -- how migrate was called, for cutover
    privileges  boolean NOT NULL DEFAULT true,
    allow       text[],
    pid         int,                    -- backend of the call working on it
    started     timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished    timestamptz,
    error       text
);

CREATE TABLE tsmigrate.run_step (
    run_id      bigint NOT NULL REFERENCES tsmigrate.run ON DELETE CASCADE,
    ordinal     int NOT NULL,
    step        text NOT NULL,
    state       text NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'running', 'done', 'failed', 'skipped')),
    started     timestamptz,
    finished    timestamptz,
    detail      text,
    error       text,
    PRIMARY KEY (run_id, step)
);

CREATE TABLE tsmigrate.run_relation (
    run_id      bigint NOT NULL REFERENCES tsmigrate.run ON DELETE CASCADE,
    relation    text NOT NULL,          -- quoted schema.name, as on the source
    state       text NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'copying', 'copied', 'failed')),
    est_rows    bigint,                 -- the source's estimate when the run started
    est_bytes   bigint,
    rows        bigint,
    bytes       bigint,
    started     timestamptz,
    finished    timestamptz,
    error       text,
    PRIMARY KEY (run_id, relation)
);

-- The objects of a schema section that a run created, recorded in the
-- transaction of the batch that created them: a resumed step replays the
-- others (no key: a name from the source may be longer than an index
-- entry allows; a run's objects are read all at once).
CREATE TABLE tsmigrate.run_object (
    run_id      bigint NOT NULL REFERENCES tsmigrate.run ON DELETE CASCADE,
    section     text NOT NULL CHECK (section IN ('pre-data', 'post-data')),
    kind        text NOT NULL,
    name        text NOT NULL
);

-- An online run's stream: the slot and publication on the source (and the
-- replication origin here) of one name, and what its worker applied.  The
-- worker writes its row about once a second ("updated"), after asking the
-- source where its WAL ends: "caught_up" is the time of the latest such
-- question whose answer was applied here, the time of the report itself
-- when everything was.  Its lag in seconds, as tsmigrate.stream_status and
-- tsmigrate.progress show it alike: 0 while its last report, at most 3 s
-- old, found everything applied; otherwise the time since caught_up (a
-- worker that cannot report, waiting on a lock or stopped, falls behind).
CREATE TABLE tsmigrate.run_stream (
    run_id      bigint PRIMARY KEY REFERENCES tsmigrate.run ON DELETE CASCADE,
    slot        text NOT NULL,
    publication text NOT NULL,
    origin      text NOT NULL,
    consistent_lsn pg_lsn,              -- where the slot's changes start
    state       text NOT NULL DEFAULT 'copying'
                CHECK (state IN ('copying', 'streaming', 'stopped', 'failed', 'done', 'abandoned')),
    worker_pid  int,
    received_lsn pg_lsn,                -- the source's WAL the worker has seen
    applied_lsn pg_lsn,                 -- everything before it is applied here
    last_commit_time timestamptz,       -- the source's commit time of the last one applied
    caught_up   timestamptz,            -- when the target last held all the source had (below)
    applied_transactions bigint,
    marker      text,                   -- cutover's last message, once applied
    updated     timestamptz,
    error       text
);

-- The relations of an online run, by their names on the source.  Its
-- tables and chunks get the rows each side had when the copy ended (the
-- source's under the copy's snapshot); the stream adds, with each batch it
-- commits, what its changes did to each relation's rows on both sides:
-- verify at cutover compares those sums instead of counting every row
-- again.  The stream marks what it wrote ("written": its continuous
-- aggregates refreshed over its range), what it could not follow row by
-- row ("recount": counted again at cutover), and what cutover copies again
-- whole ("recopy": a chunk whose rows TimescaleDB moved by a decompression
-- on the source, one the stream made, a materialization).
CREATE TABLE tsmigrate.run_stream_relation (
    run_id      bigint NOT NULL REFERENCES tsmigrate.run ON DELETE CASCADE,
    relation    text NOT NULL,          -- quoted schema.name, as on the source
    chunk       boolean NOT NULL DEFAULT false, -- counted through it, not ONLY
    source_rows bigint,
    target_rows bigint,
    written     boolean NOT NULL DEFAULT false,
    source_delta bigint NOT NULL DEFAULT 0, -- rows the stream's changes inserted less deleted there
    target_delta bigint NOT NULL DEFAULT 0, -- and here
    recount     boolean NOT NULL DEFAULT false, -- a change that did not touch one row, a TRUNCATE
    recopy      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (run_id, relation)
);

-- The schemas and relations that pull_schema created here, for the role
-- that called it and the source it read: a later call with the same source
-- (post-data, migrate's later steps) may hang indexes, triggers, rules,
-- policies, publications ... on these and on their chunks; what the target
-- had before stays as it was unless the caller allows otherwise (allow =>
-- '{existing_objects}').  Objects of other kinds are changed by the call
-- that creates them only.
CREATE TABLE tsmigrate.created_object (
    owner       name NOT NULL DEFAULT CURRENT_USER,
    source      text NOT NULL,          -- as in tsmigrate.run
    classid     oid NOT NULL,           -- pg_namespace or pg_class
    objid       oid NOT NULL,
    object      text NOT NULL,          -- its quoted name when it was created
    created     timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    PRIMARY KEY (owner, source, classid, objid)
);

-- A run's rows are read and written by the role that owns the run only,
-- however the DBA grants these tables: a role that could write another
-- role's state could make that role's next call act on what it planted.
-- Superusers bypass row level security; migrate itself reads a superuser's
-- own runs only (state.c).
ALTER TABLE tsmigrate.run ENABLE ROW LEVEL SECURITY;
ALTER TABLE tsmigrate.run FORCE ROW LEVEL SECURITY;
CREATE POLICY run_owner ON tsmigrate.run
    USING (owner OPERATOR(pg_catalog.=) CURRENT_USER)
    WITH CHECK (owner OPERATOR(pg_catalog.=) CURRENT_USER);
ALTER TABLE tsmigrate.run_step ENABLE ROW LEVEL SECURITY;
ALTER TABLE tsmigrate.run_step FORCE ROW LEVEL SECURITY;
CREATE POLICY run_step_owner ON tsmigrate.run_step
    USING (EXISTS (SELECT FROM tsmigrate.run r
                    WHERE r.run_id OPERATOR(pg_catalog.=) run_step.run_id
                      AND r.owner OPERATOR(pg_catalog.=) CURRENT_USER));
ALTER TABLE tsmigrate.run_relation ENABLE ROW LEVEL SECURITY;
ALTER TABLE tsmigrate.run_relation FORCE ROW LEVEL SECURITY;
CREATE POLICY run_relation_owner ON tsmigrate.run_relation
    USING (EXISTS (SELECT FROM tsmigrate.run r
                    WHERE r.run_id OPERATOR(pg_catalog.=) run_relation.run_id
                      AND r.owner OPERATOR(pg_catalog.=) CURRENT_USER));
ALTER TABLE tsmigrate.run_object ENABLE ROW LEVEL SECURITY;
ALTER TABLE tsmigrate.run_object FORCE ROW LEVEL SECURITY;
CREATE POLICY run_object_owner ON tsmigrate.run_object
    USING (EXISTS (SELECT FROM tsmigrate.run r
                    WHERE r.run_id OPERATOR(pg_catalog.=) run_object.run_id
                      AND r.owner OPERATOR(pg_catalog.=) CURRENT_USER));
ALTER TABLE tsmigrate.run_stream ENABLE ROW LEVEL SECURITY;
ALTER TABLE tsmigrate.run_stream FORCE ROW LEVEL SECURITY;
CREATE POLICY run_stream_owner ON tsmigrate.run_stream
    USING (EXISTS (SELECT FROM tsmigrate.run r
                    WHERE r.run_id OPERATOR(pg_catalog.=) run_stream.run_id
                      AND r.owner OPERATOR(pg_catalog.=) CURRENT_USER));
ALTER TABLE tsmigrate.run_stream_relation ENABLE ROW LEVEL SECURITY;
ALTER TABLE tsmigrate.run_stream_relation FORCE ROW LEVEL SECURITY;
CREATE POLICY run_stream_relation_owner ON tsmigrate.run_stream_relation
    USING (EXISTS (SELECT FROM tsmigrate.run r
                    WHERE r.run_id OPERATOR(pg_catalog.=) run_stream_relation.run_id
                      AND r.owner OPERATOR(pg_catalog.=) CURRENT_USER));
ALTER TABLE tsmigrate.created_object ENABLE ROW LEVEL SECURITY;
ALTER TABLE tsmigrate.created_object FORCE ROW LEVEL SECURITY;
CREATE POLICY created_object_owner ON tsmigrate.created_object
    USING (owner OPERATOR(pg_catalog.=) CURRENT_USER)
    WITH CHECK (owner OPERATOR(pg_catalog.=) CURRENT_USER);

-- One row per step and per relation of the current or last run; rows in
-- flight show the live counters of pg_stat_progress_copy, the stream step
-- of an online run its lag (tsmigrate.stream_status asks the source).
CREATE VIEW tsmigrate.progress WITH (security_invoker = true) AS
WITH last_run AS (
    SELECT r.run_id, r.state AS run_state
      FROM tsmigrate.run r
     ORDER BY r.run_id DESC LIMIT 1
), copying AS (
    SELECT p.relid, pg_catalog.sum(p.tuples_processed)::bigint AS rows_done,
           pg_catalog.sum(p.bytes_processed)::bigint AS bytes_done
      FROM pg_catalog.pg_stat_progress_copy p
     WHERE p.datid OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
                                            WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
     GROUP BY p.relid
)
SELECT s.run_id, s.ordinal, s.step, NULL::text AS relation, s.state,
       NULL::bigint AS rows_done, NULL::bigint AS bytes_done,
       NULL::bigint AS rows_total, NULL::bigint AS bytes_total,
       COALESCE(s.finished, CASE WHEN s.started IS NOT NULL THEN pg_catalog.clock_timestamp() END)
           OPERATOR(pg_catalog.-) s.started AS elapsed,
       NULL::interval AS time_left,
       CASE WHEN st.state OPERATOR(pg_catalog.=) 'streaming'
            THEN pg_catalog.format('streaming: %s transactions applied, %s s behind the source, %s bytes received and not yet applied',
                   COALESCE(st.applied_transactions, 0),
                   COALESCE(CASE WHEN st.caught_up OPERATOR(pg_catalog.>=) st.updated
                                  AND pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) st.updated
                                      OPERATOR(pg_catalog.<) interval '3 s'
                                 THEN 0
                                 ELSE pg_catalog.round(EXTRACT(epoch FROM pg_catalog.clock_timestamp()
                                          OPERATOR(pg_catalog.-) st.caught_up), 1) END::text, '?'),
                   COALESCE(pg_catalog.pg_wal_lsn_diff(st.received_lsn, st.applied_lsn), 0))
            ELSE s.detail END AS detail,
       COALESCE(s.error, st.error) AS error
  FROM tsmigrate.run_step s JOIN last_run USING (run_id)
  LEFT JOIN tsmigrate.run_stream st
         ON st.run_id OPERATOR(pg_catalog.=) s.run_id AND s.step OPERATOR(pg_catalog.=) 'stream'
UNION ALL
SELECT r.run_id, st.ordinal, 'data', r.relation, r.state,
       CASE WHEN r.state OPERATOR(pg_catalog.=) 'copying' THEN c.rows_done ELSE r.rows END,
       CASE WHEN r.state OPERATOR(pg_catalog.=) 'copying' THEN c.bytes_done ELSE r.bytes END,
       r.est_rows, r.est_bytes,
       COALESCE(r.finished, CASE WHEN r.started IS NOT NULL THEN pg_catalog.clock_timestamp() END)
           OPERATOR(pg_catalog.-) r.started,
       CASE WHEN r.state OPERATOR(pg_catalog.=) 'copying'
                 AND c.bytes_done OPERATOR(pg_catalog.>) 0
                 AND r.est_bytes OPERATOR(pg_catalog.>) c.bytes_done
            THEN (pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) r.started)
                 OPERATOR(pg_catalog.*) ((r.est_bytes OPERATOR(pg_catalog.-) c.bytes_done)::float8
                                         OPERATOR(pg_catalog./) c.bytes_done)
       END,
       NULL, r.error
  FROM tsmigrate.run_relation r JOIN last_run USING (run_id)
  LEFT JOIN tsmigrate.run_step st
         ON st.run_id OPERATOR(pg_catalog.=) r.run_id AND st.step OPERATOR(pg_catalog.=) 'data'
  LEFT JOIN copying c
         ON c.relid OPERATOR(pg_catalog.=)
            CASE WHEN r.relation OPERATOR(pg_catalog.<>) 'large objects'
                 THEN pg_catalog.to_regclass(r.relation) END;

COMMENT ON VIEW tsmigrate.progress IS
    'steps and relations of the current or last tsmigrate.migrate run';

CREATE PROCEDURE tsmigrate.migrate(source text DEFAULT NULL, jobs int DEFAULT 2,
                                   roles boolean DEFAULT true,
                                   owners boolean DEFAULT true,
                                   privileges boolean DEFAULT true,
                                   allow text[] DEFAULT NULL,
                                   online boolean DEFAULT false)
    AS 'MODULE_PATHNAME', 'tsmigrate_migrate'
    LANGUAGE C;

COMMENT ON PROCEDURE tsmigrate.migrate(text, int, boolean, boolean, boolean, text[], boolean) IS
    'migrate the source into this database, step by step; call again to resume; online: then stream the source''s changes until cutover';

CREATE PROCEDURE tsmigrate.cutover(source text DEFAULT NULL, force boolean DEFAULT false)
    AS 'MODULE_PATHNAME', 'tsmigrate_cutover'
    LANGUAGE C;

COMMENT ON PROCEDURE tsmigrate.cutover(text, boolean) IS
    'finish an online migration: with the applications stopped, apply the last changes, set the sequences, verify, drop the slot';

CREATE PROCEDURE tsmigrate.abandon(source text DEFAULT NULL)
    AS 'MODULE_PATHNAME', 'tsmigrate_abandon'
    LANGUAGE C;

COMMENT ON PROCEDURE tsmigrate.abandon(text) IS
    'give up an online migration: stop its stream and drop its slot and publication on the source';

CREATE FUNCTION tsmigrate.stream_status(source text DEFAULT NULL)
    RETURNS TABLE (run_id bigint, state text, slot text, applied_lsn pg_lsn,
                   lag_bytes bigint, lag_seconds float8,
                   applied_transactions bigint, worker_pid int, error text)
    AS 'MODULE_PATHNAME', 'tsmigrate_stream_status'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.stream_status(text) IS
    'the stream of the last online migration: state, what it applied, and its lag behind the source';

------------------------------------------------------------------------------
-- Data: every row of the source, streamed with COPY under one snapshot
------------------------------------------------------------------------------

CREATE FUNCTION tsmigrate.pull_data(source text DEFAULT NULL, jobs int DEFAULT 1,
                                    tables text[] DEFAULT NULL,
                                    large_objects boolean DEFAULT NULL,
                                    snapshot text DEFAULT NULL)
    RETURNS TABLE (relation text, rows bigint, bytes bigint, seconds double precision)
    AS 'MODULE_PATHNAME', 'tsmigrate_pull_data'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.pull_data(text, int, text[], boolean, text) IS
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
    'the statements of pg_dumpall --roles-only for the source, without superuser-only attributes, for review; what pull_roles would leave or refuse is a comment saying why';

CREATE FUNCTION tsmigrate.pull_roles(source text DEFAULT NULL, dry_run boolean DEFAULT false,
                                     allow text[] DEFAULT NULL)
    RETURNS TABLE (rolname name, action text)
    AS 'MODULE_PATHNAME', 'tsmigrate_pull_roles'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.pull_roles(text, boolean, text[]) IS
    'create the source''s roles here; roles that exist are reported and left as they are; memberships in roles the run did not create, parameter privileges, CREATEROLE and superuser-only settings are skipped unless named in allow';

------------------------------------------------------------------------------
-- Schema: the source's DDL generated from its catalogs, and its replay
------------------------------------------------------------------------------

CREATE FUNCTION tsmigrate.schema_sql(source text DEFAULT NULL, section text DEFAULT 'pre-data',
                                     owners boolean DEFAULT true, privileges boolean DEFAULT true)
    RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'tsmigrate_schema_sql'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.schema_sql(text, text, boolean, boolean) IS
    'the statements that create one section (pre-data or post-data) of the source''s schema, in dependency order';

CREATE FUNCTION tsmigrate.pull_schema(source text DEFAULT NULL, section text DEFAULT 'pre-data',
                                      dry_run boolean DEFAULT false, jobs int DEFAULT 1,
                                      skip_existing boolean DEFAULT false,
                                      owners boolean DEFAULT true, privileges boolean DEFAULT true,
                                      allow text[] DEFAULT NULL, atomic boolean DEFAULT NULL)
    RETURNS TABLE (kind text, object text, action text)
    AS 'MODULE_PATHNAME', 'tsmigrate_pull_schema'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.pull_schema(text, text, boolean, int, boolean, boolean, boolean, text[], boolean) IS
    'create one section of the source''s schema on the target: all or nothing (atomic, the default with one job), or object by object, each committed';

------------------------------------------------------------------------------
-- TimescaleDB: hypertables with their dimensions, chunks and compression
------------------------------------------------------------------------------

CREATE FUNCTION tsmigrate.pull_hypertables(source text DEFAULT NULL, dry_run boolean DEFAULT false,
                                           with_data boolean DEFAULT true)
    RETURNS TABLE (hypertable text, chunk text, compressed boolean, rows bigint)
    AS 'MODULE_PATHNAME', 'tsmigrate_pull_hypertables'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.pull_hypertables(text, boolean, boolean) IS
    'make the source''s hypertables hypertables here, with the same dimensions, compression settings and chunks, and copy each chunk''s rows';

CREATE FUNCTION tsmigrate.compress_chunks(source text DEFAULT NULL)
    RETURNS TABLE (hypertable text, chunk text)
    AS 'MODULE_PATHNAME', 'tsmigrate_compress_chunks'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.compress_chunks(text) IS
    'compress each chunk here that is compressed on the source';

CREATE FUNCTION tsmigrate.pull_chunks(source text DEFAULT NULL, jobs int DEFAULT 1,
                                      chunks text[] DEFAULT NULL, snapshot text DEFAULT NULL)
    RETURNS TABLE (chunk text, hypertable text, rows bigint, bytes bigint, seconds double precision)
    AS 'MODULE_PATHNAME', 'tsmigrate_pull_chunks'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.pull_chunks(text, int, text[], text) IS
    'copy the rows of the source''s chunks (all, or the listed ones) into the same chunks here, which must be empty';

CREATE FUNCTION tsmigrate.pull_continuous_aggregates(source text DEFAULT NULL,
                                                     snapshot text DEFAULT NULL)
    RETURNS TABLE (continuous_aggregate text, indexes int, watermark bigint,
                   state_copied boolean)
    AS 'MODULE_PATHNAME', 'tsmigrate_pull_continuous_aggregates'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.pull_continuous_aggregates(text, text) IS
    'once their rows are in: the indexes of the continuous aggregates'' materialization hypertables, and their refresh state (invalidation thresholds, watermarks, pending invalidations) as on the source';

CREATE FUNCTION tsmigrate.pull_jobs(source text DEFAULT NULL, dry_run boolean DEFAULT false,
                                    owners boolean DEFAULT true)
    RETURNS TABLE (source_job_id int, job_id int, job_name text, relation text,
                   next_start timestamptz, action text)
    AS 'MODULE_PATHNAME', 'tsmigrate_pull_jobs'
    LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tsmigrate.pull_jobs(text, boolean, boolean) IS
    'recreate the source''s TimescaleDB policies and user jobs here with the same schedule, config and next start';

------------------------------------------------------------------------------
-- Least privilege: nothing is callable by PUBLIC.
------------------------------------------------------------------------------

REVOKE ALL ON FUNCTION tsmigrate.fdw_validator(text[], oid) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.source_sessions(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.check_versions(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.preflight(text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.align_timescaledb(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.verify(text, boolean) FROM PUBLIC;
REVOKE ALL ON PROCEDURE tsmigrate.migrate(text, int, boolean, boolean, boolean, text[], boolean) FROM PUBLIC;
REVOKE ALL ON PROCEDURE tsmigrate.cutover(text, boolean) FROM PUBLIC;
REVOKE ALL ON PROCEDURE tsmigrate.abandon(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.stream_status(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.pull_data(text, int, text[], boolean, text) FROM PUBLIC;
REVOKE ALL ON tsmigrate.copy_progress FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.sync_extensions(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.roles_sql(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.pull_roles(text, boolean, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.schema_sql(text, text, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.pull_schema(text, text, boolean, int, boolean, boolean, boolean, text[], boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.pull_hypertables(text, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.compress_chunks(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.pull_chunks(text, int, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.pull_continuous_aggregates(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tsmigrate.pull_jobs(text, boolean, boolean) FROM PUBLIC;
