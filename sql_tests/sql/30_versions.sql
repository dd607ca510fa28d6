-- Same server on both sides: PostgreSQL versions agree.  Neither side has
-- TimescaleDB in these databases, so there is no timescaledb row.
SELECT component, source_version = target_version AS same, ok, hint
  FROM tsmigrate.check_versions(source_conninfo());
SELECT source_version ~ '^\d+\.\d+$' AS version_format
  FROM tsmigrate.check_versions(source_conninfo());

-- align_timescaledb needs TimescaleDB on the target first.
SELECT tsmigrate.align_timescaledb(source_conninfo());
SELECT tsmigrate.align_timescaledb('no_such_server');
