-- Nobody else is connected to the source database yet.
SELECT count(*) AS others FROM tsmigrate.source_sessions(source_conninfo());

-- Pointed at this database, it lists this session (and never its own
-- connection to the source).
SELECT usename = current_user AS is_me, application_name, state, client_addr IS NULL AS local
  FROM tsmigrate.source_sessions(source_conninfo(current_database()))
 WHERE pid = pg_backend_pid();
-- (once the connections of the calls above are gone)
SELECT tsmigrate_sessions_left() AS settled \gset
SELECT count(*) AS tsmigrate_itself
  FROM tsmigrate.source_sessions(source_conninfo(current_database()))
 WHERE application_name = 'tsmigrate';

-- the setting works here too
SET tsmigrate.source = 'legacy';
SELECT count(*) AS others FROM tsmigrate.source_sessions();
RESET tsmigrate.source;
