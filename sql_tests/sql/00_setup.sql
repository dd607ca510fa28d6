-- The target is this regression database; the source is another database
-- of the same instance, reached over the instance's own socket.
CREATE EXTENSION tsmigrate;
SELECT extversion FROM pg_extension WHERE extname = 'tsmigrate';

-- quietly: a fresh instance has no leftover from an earlier run
SET client_min_messages = warning;
DROP DATABASE IF EXISTS tsm_source;
RESET client_min_messages;
CREATE DATABASE tsm_source;

-- connection string for a database of this instance
CREATE FUNCTION source_conninfo(db text DEFAULT 'tsm_source') RETURNS text
LANGUAGE sql AS $f$
    SELECT format('host=%s port=%s dbname=%s',
                  coalesce(nullif(split_part(current_setting('unix_socket_directories'), ',', 1), ''),
                           'localhost'),
                  current_setting('port'), db)
$f$;

-- the same as a URI
CREATE FUNCTION source_uri(db text DEFAULT 'tsm_source') RETURNS text
LANGUAGE sql AS $f$
    SELECT format('postgresql:///%s?host=%s&port=%s', db,
                  coalesce(nullif(split_part(current_setting('unix_socket_directories'), ',', 1), ''),
                           'localhost'),
                  current_setting('port'))
$f$;

-- tsmigrate sessions on this instance, once those that are closing have
-- gone: a source backend exits a moment after tsmigrate disconnects
CREATE FUNCTION tsmigrate_sessions_left() RETURNS bigint
LANGUAGE plpgsql AS $f$
BEGIN
    FOR i IN 1..200 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'tsmigrate');
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN (SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tsmigrate');
END
$f$;

-- the functions are not for everyone
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'tsmigrate'
 ORDER BY 1;
