-- The three forms of a source: connection string, URI, foreign server.
SELECT component, ok FROM tsmigrate.check_versions(source_conninfo());
SELECT component, ok FROM tsmigrate.check_versions(source_uri());

CREATE SERVER legacy FOREIGN DATA WRAPPER tsmigrate
    OPTIONS (host 'placeholder', dbname 'tsm_source');
-- the real socket directory and port of this instance
DO $$
BEGIN
    EXECUTE format('ALTER SERVER legacy OPTIONS (SET host %L, ADD port %L)',
                   coalesce(nullif(split_part(current_setting('unix_socket_directories'), ',', 1), ''), 'localhost'),
                   current_setting('port'));
END $$;
CREATE USER MAPPING FOR CURRENT_USER SERVER legacy;
SELECT component, ok FROM tsmigrate.check_versions('legacy');

-- Left out, the source comes from tsmigrate.source.
SELECT component, ok FROM tsmigrate.check_versions();
SET tsmigrate.source = 'legacy';
SELECT component, ok FROM tsmigrate.check_versions();
SELECT component, ok FROM tsmigrate.check_versions(NULL);
RESET tsmigrate.source;

-- ... per database too
ALTER DATABASE contrib_regression SET tsmigrate.source = 'legacy';
\c
SHOW tsmigrate.source;
SELECT component, ok FROM tsmigrate.check_versions();
ALTER DATABASE contrib_regression RESET tsmigrate.source;
\c

-- A password never goes into the setting.  PostgreSQL checks a custom
-- setting only once the library that defines it is loaded: calling any
-- tsmigrate function loads it.
SELECT count(*) FROM tsmigrate.check_versions('legacy');
SET tsmigrate.source = 'host=db.example.com dbname=legacy password=secret';
SET tsmigrate.source = 'postgresql://app:secret@db.example.com/legacy';
ALTER DATABASE contrib_regression SET tsmigrate.source = 'dbname=legacy password=secret';
SHOW tsmigrate.source;
SET tsmigrate.source = 'dbname=legacy user=app';
SHOW tsmigrate.source;
RESET tsmigrate.source;

-- The wrapper's validator: connection options on the server, user and
-- password on the user mapping, nothing that tsmigrate sets itself.
CREATE SERVER bad1 FOREIGN DATA WRAPPER tsmigrate OPTIONS (user 'app');
CREATE SERVER bad2 FOREIGN DATA WRAPPER tsmigrate OPTIONS (password 'secret');
CREATE SERVER bad3 FOREIGN DATA WRAPPER tsmigrate OPTIONS (client_encoding 'LATIN1');
CREATE SERVER bad4 FOREIGN DATA WRAPPER tsmigrate OPTIONS (replication 'database');
CREATE SERVER bad5 FOREIGN DATA WRAPPER tsmigrate OPTIONS (no_such_option 'x');
CREATE USER MAPPING FOR PUBLIC SERVER legacy OPTIONS (host 'elsewhere');
ALTER FOREIGN DATA WRAPPER tsmigrate OPTIONS (host 'x');

-- Wrong sources: each a clear error with its SQLSTATE.
SELECT * FROM tsmigrate.check_versions('no_such_server');
CREATE FOREIGN DATA WRAPPER other_fdw;
CREATE SERVER other_server FOREIGN DATA WRAPPER other_fdw;
SELECT * FROM tsmigrate.check_versions('other_server');
CREATE SERVER no_mapping FOREIGN DATA WRAPPER tsmigrate OPTIONS (dbname 'tsm_source');
SELECT * FROM tsmigrate.check_versions('no_mapping');
SELECT * FROM tsmigrate.check_versions('host=localhost dbname');
SELECT * FROM tsmigrate.check_versions('postgresql://[::1');
SELECT * FROM tsmigrate.check_versions(source_conninfo() || ' replication=database');
SELECT * FROM tsmigrate.check_versions(source_conninfo() || ' application_name=other');
SELECT * FROM tsmigrate.check_versions('');
-- libpq's detail names the socket path, which varies: show the SQLSTATE only
\set VERBOSITY sqlstate
SELECT * FROM tsmigrate.check_versions(source_conninfo('no_such_database'));
\set VERBOSITY default

-- a password set before the library was loaded is refused when it loads,
-- and never used
\c
SET tsmigrate.source = 'dbname=legacy password=secret';
SELECT * FROM tsmigrate.check_versions();
SHOW tsmigrate.source;

-- Non-superusers: EXECUTE is granted explicitly, and a password is required
-- that the connection really used.  pg_regress instances trust local
-- connections, so the source never asks for one here.
SELECT source_conninfo() AS src \gset
CREATE ROLE tsm_user LOGIN;
GRANT USAGE ON SCHEMA tsmigrate TO tsm_user;
SET ROLE tsm_user;
SELECT * FROM tsmigrate.check_versions(:'src');
RESET ROLE;
GRANT EXECUTE ON FUNCTION tsmigrate.check_versions(text) TO tsm_user;
SET ROLE tsm_user;
SELECT * FROM tsmigrate.check_versions(:'src');
SELECT * FROM tsmigrate.check_versions(:'src' || ' user=tsm_user password=whatever');
-- a server needs USAGE, then a user mapping with a password
SELECT * FROM tsmigrate.check_versions('legacy');
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER legacy TO tsm_user;
SET ROLE tsm_user;
SELECT * FROM tsmigrate.check_versions('legacy');
RESET ROLE;
CREATE USER MAPPING FOR tsm_user SERVER legacy OPTIONS (user 'tsm_user', password 'whatever');
SET ROLE tsm_user;
SELECT * FROM tsmigrate.check_versions('legacy');
RESET ROLE;

-- Errors raised on the source keep their SQLSTATE; a failed call, caught
-- or not, leaves no tsmigrate session behind on the source.
DO $$
BEGIN
    PERFORM * FROM tsmigrate.check_versions('no_mapping');
EXCEPTION WHEN undefined_object THEN
    RAISE NOTICE 'caught: %', SQLERRM;
END $$;
SELECT tsmigrate_sessions_left();

DROP USER MAPPING FOR tsm_user SERVER legacy;
REVOKE ALL ON FOREIGN SERVER legacy FROM tsm_user;
REVOKE ALL ON FUNCTION tsmigrate.check_versions(text) FROM tsm_user;
REVOKE ALL ON SCHEMA tsmigrate FROM tsm_user;
DROP ROLE tsm_user;
DROP SERVER other_server;
DROP FOREIGN DATA WRAPPER other_fdw;
DROP SERVER no_mapping;
