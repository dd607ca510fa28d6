-- sync_extensions, roles_sql and pull_roles with this instance as both
-- source and target.  The source is a database of its own, dropped at the
-- end, so that later tests see neither its extensions nor its roles.
SELECT current_database() AS target_db \gset
SELECT source_conninfo('tsm_ext_source') AS src \gset
DROP DATABASE IF EXISTS tsm_ext_source;
CREATE DATABASE tsm_ext_source;
\c tsm_ext_source
CREATE SCHEMA ext;
CREATE EXTENSION hstore WITH SCHEMA ext VERSION '1.4';
CREATE EXTENSION pg_trgm;
-- earthdistance needs cube: the source has cube from CASCADE (1.1, which
-- every supported target provides: 18's default is 1.2)
SET client_min_messages = warning;
CREATE EXTENSION earthdistance VERSION '1.1' CASCADE;
RESET client_min_messages;
\c :target_db

-- A dry run says what would happen, required extensions first, and does
-- nothing.
SELECT * FROM tsmigrate.sync_extensions(:'src', dry_run => true);
SELECT count(*) AS extensions, (SELECT count(*) FROM pg_namespace WHERE nspname = 'ext') AS schemas
  FROM pg_extension WHERE extname NOT IN ('plpgsql', 'tsmigrate');

-- The run: hstore at the source's 1.4, not the default 1.8, in its schema.
SELECT * FROM tsmigrate.sync_extensions(:'src');
SELECT e.extname, e.extversion, n.nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname NOT IN ('plpgsql', 'tsmigrate')
 ORDER BY 1;

-- Again: nothing to do.  An extension at another version is left alone.
ALTER EXTENSION hstore UPDATE TO '1.5';
SELECT * FROM tsmigrate.sync_extensions(:'src');

-- dry_run is not optional-by-NULL
SELECT * FROM tsmigrate.sync_extensions(:'src', NULL);

DROP EXTENSION earthdistance, cube, hstore, pg_trgm;
DROP SCHEMA ext;

-- Roles: the script pg_dumpall --roles-only would give, without what the
-- documented sed removes.  md5 hashes are deterministic, SCRAM ones are not
-- (18 warns that md5 is deprecated).  A grantor other than the bootstrap
-- superuser needs the ADMIN option from 16 on.
SET password_encryption = 'md5';
SET client_min_messages = error;
CREATE ROLE regress_tsm_super SUPERUSER REPLICATION BYPASSRLS LOGIN PASSWORD 'secret';
RESET client_min_messages;
CREATE ROLE "regress_tsm SUPERUSER fan" NOINHERIT CREATEDB CREATEROLE CONNECTION LIMIT 3
    VALID UNTIL '2031-06-01 00:00:00+00';
CREATE ROLE "regress_tsm_O'Brien";
RESET password_encryption;
GRANT "regress_tsm SUPERUSER fan" TO regress_tsm_super WITH ADMIN OPTION;
GRANT "regress_tsm SUPERUSER fan" TO "regress_tsm_O'Brien" WITH ADMIN OPTION
    GRANTED BY regress_tsm_super;
ALTER ROLE "regress_tsm_O'Brien" SET search_path = app, "$user";
ALTER ROLE "regress_tsm_O'Brien" IN DATABASE tsm_ext_source SET work_mem = '8MB';
ALTER ROLE "regress_tsm_O'Brien" IN DATABASE postgres SET work_mem = '9MB';
COMMENT ON ROLE "regress_tsm SUPERUSER fan" IS 'likes ''superusers''';

-- "IN DATABASE" names this database, whatever pg_regress calls it
SELECT replace(s, :'target_db', '<target>') AS roles_sql
  FROM tsmigrate.roles_sql(:'src') s
 WHERE s ~ 'regress_tsm';

-- Same instance: every role and membership exists already and is left as
-- it is; so does a dry run.
SELECT * FROM tsmigrate.pull_roles(:'src') WHERE rolname ~ '^regress_tsm';
SELECT * FROM tsmigrate.pull_roles(:'src', true) WHERE rolname ~ '^regress_tsm';
SELECT * FROM tsmigrate.pull_roles(:'src', NULL);

-- A source login that cannot read pg_authid: no password hashes, and a
-- NOTICE that says so.
CREATE ROLE regress_tsm_reader LOGIN;
SELECT count(*) AS statements, count(*) FILTER (WHERE s ~ 'PASSWORD') AS with_password
  FROM tsmigrate.roles_sql(:'src' || ' user=regress_tsm_reader') s
 WHERE s ~ 'regress_tsm';
DROP ROLE regress_tsm_reader;

DROP ROLE regress_tsm_super, "regress_tsm SUPERUSER fan", "regress_tsm_O'Brien";
DROP DATABASE tsm_ext_source;
