# t/052_timescaledb_15_to_18.pl
#
# A whole TimescaleDB migration into a newer major version, as a dump and
# restore would move a database from PostgreSQL 15 to 18: the source runs
# the PostgreSQL 15 installation named by TSM_PG15_INSTALL (default
# Debian's, /usr/lib/postgresql/15) with TimescaleDB 2.28.3, the target is
# the installation under test (18), whose database has no TimescaleDB yet:
# - migrate creates TimescaleDB at the source's version in its extensions
#   step (the target can provide it), instead of stopping at its checks;
# - a hypertable with half its chunks compressed (copied compressed, with
#   no NOTICE per chunk from the compression step), a continuous aggregate
#   and an aggregate on it, every policy kind and two user jobs arrive;
# - verify with checksums finds no difference, and every job keeps the
#   source's schedule, config and next start, none has run on the target.
# scripts/test runs it against the 18 target only.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TsmTest;

my $version = '2.28.3';
my $pg15 = $ENV{TSM_PG15_INSTALL} // '/usr/lib/postgresql/15';

my $target = tsm_target_node('target', timescaledb => 1);
my $target_major = int($target->safe_psql('postgres', 'SHOW server_version_num') / 10000);
plan skip_all => "the target runs PostgreSQL $target_major: this test migrates from 15 into a newer one"
  unless $target_major > 15;

my $source = PostgreSQL::Test::Cluster->new('source', install_path => $pg15);
$source->init;
$source->append_conf('postgresql.conf', qq{
listen_addresses = '127.0.0.1'
max_worker_processes = 16
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
});
$source->start;
my ($rc, $out, $err);

like($source->safe_psql('postgres', 'SHOW server_version'), qr/^15\./,
	'the source runs PostgreSQL 15');
is( $source->safe_psql('postgres',
		"SELECT count(*) FROM pg_available_extension_versions WHERE name = 'timescaledb' AND version = '$version'"),
	'1', "the source's installation has TimescaleDB $version");

# 12 days of 10-minute readings in 1-day chunks, the first 6 compressed;
# an hourly aggregate (refreshed) and a daily one on it; every policy kind
# and two user jobs, their next start two days ahead (in the transaction
# that creates them, so that none runs before).
$source->safe_psql('postgres', 'CREATE DATABASE metrics');
$source->safe_psql('metrics', qq{
	CREATE EXTENSION timescaledb VERSION '$version';
	CREATE TABLE cond (time timestamptz NOT NULL, device int NOT NULL, temp float8, note text);
	SELECT create_hypertable('cond', 'time', chunk_time_interval => interval '1 day');
	CREATE INDEX cond_device_time ON cond (device, time DESC);
	INSERT INTO cond
		SELECT '2024-01-01'::timestamptz + g * interval '10 minutes', g % 4, (g % 97) * 0.25,
		       CASE WHEN g % 5 = 0 THEN NULL ELSE 'n' || g END
		  FROM generate_series(0, 12 * 144 - 1) g;
	ALTER TABLE cond SET (timescaledb.compress, timescaledb.compress_segmentby = 'device',
		timescaledb.compress_orderby = 'time DESC');
	SELECT count(compress_chunk(c)) FROM (SELECT show_chunks('cond') c ORDER BY 1 LIMIT 6) s;
	CREATE TABLE devices (id int PRIMARY KEY, name text);
	INSERT INTO devices SELECT g, 'device ' || g FROM generate_series(0, 3) g;

	CREATE MATERIALIZED VIEW hourly WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
		SELECT time_bucket('1 hour', time) AS bucket, device, avg(temp) AS avg_temp, count(*) AS n
		  FROM cond GROUP BY 1, 2 WITH NO DATA;
	CALL refresh_continuous_aggregate('hourly', NULL, '2024-01-10');
	CREATE MATERIALIZED VIEW daily WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
		SELECT time_bucket('1 day', bucket) AS day, device, max(avg_temp) AS hi, sum(n) AS n
		  FROM hourly GROUP BY 1, 2 WITH NO DATA;
	CALL refresh_continuous_aggregate('daily', NULL, '2024-01-08');

	CREATE PROCEDURE nightly(job_id int, config jsonb) LANGUAGE plpgsql
		AS \$\$ BEGIN RAISE NOTICE 'job % with %', job_id, config; END \$\$;
	BEGIN;
	SELECT add_compression_policy('cond', compress_after => interval '7 days');
	SELECT add_retention_policy('cond', drop_after => interval '10 years');
	SELECT add_reorder_policy('cond', 'cond_device_time');
	SELECT add_continuous_aggregate_policy('hourly', start_offset => interval '30 days',
		end_offset => interval '1 hour', schedule_interval => interval '1 hour');
	SELECT add_continuous_aggregate_policy('daily', start_offset => NULL,
		end_offset => interval '1 day', schedule_interval => interval '1 day');
	SELECT alter_job(job_id, next_start => date_trunc('second', now()) + interval '2 days')
	  FROM timescaledb_information.jobs WHERE job_id >= 1000;
	SELECT add_job('nightly', '1 day', config => '{"keep": 3}',
		initial_start => '2030-01-01 03:00+00', timezone => 'Europe/Berlin');
	SELECT add_job('nightly', '1 hour', config => '{"paused": true}', scheduled => false);
	COMMIT;
});

# the target's database: tsmigrate only, no TimescaleDB
$target->safe_psql('postgres', 'CREATE DATABASE metrics');
$target->safe_psql('metrics', 'CREATE EXTENSION tsmigrate');
my $src = tsm_tcp_connstr($source, 'metrics');

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT component, source_version, target_version, ok FROM tsmigrate.check_versions(\$\$$src\$\$)",
	dbname => 'metrics');
like($out, qr/^postgresql\|15\.\d+\|$target_major\.\d+\|t\ntimescaledb\|\Q$version\E\|\|f$/,
	'check_versions: PostgreSQL 15 into a newer major is ok, the target has no TimescaleDB yet');

($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2, roles => false)", dbname => 'metrics');
is($rc, 0, 'migrate from 15 into a newer major') or diag $err;
like($err, qr/step "extensions" done in [\d.]+ s: 1 created/,
	'the extensions step creates TimescaleDB');
is($target->safe_psql('metrics', q{SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'}),
	$version, "at the source's version");
like($err, qr/step "timescaledb" done in [\d.]+ s: 3 hypertables and continuous aggregates, \d+ chunks \(6 compressed on the source\)/,
	'the timescaledb step makes the hypertable and the aggregates');
like($err, qr/step "compression" done in [\d.]+ s: 6 chunks compressed/,
	'the compression step counts the chunks compressed on the source');
unlike($err, qr/already (converted to columnstore|compressed)/,
	'no NOTICE per chunk copied compressed');
like($err, qr/step "jobs" done in [\d.]+ s: 7 jobs \(7 created\)/,
	'the jobs step creates the policies and jobs');
like($err, qr/step "verify" done in [\d.]+ s: \d+ checks, all ok/, 'verify finds no difference');

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FILTER (WHERE NOT ok) || ' of ' || count(*),"
	  . " count(*) FILTER (WHERE kind = 'jobs' OR kind = 'chunks')"
	  . " FROM tsmigrate.verify(\$\$$src\$\$, checksums => true)",
	dbname => 'metrics');
like($out, qr/^0 of \d+\|[1-9]\d*$/,
	"verify with checksums: no difference, chunks and jobs compared ($out)")
  or diag $err;

# what the target must have as the source has it
my %same = (
	'chunks of the hypertable' => q{
		SELECT chunk_name, range_start, range_end, is_compressed
		  FROM timescaledb_information.chunks WHERE hypertable_name = 'cond' ORDER BY 1},
	'rows of the hypertable' => q{
		SELECT count(*), sum(temp), count(note) FROM cond},
	'rows of hourly (materialized only)' => q{
		SELECT md5(string_agg(t::text, ';' ORDER BY t::text)) FROM hourly t},
	'rows of daily (real time)' => q{
		SELECT md5(string_agg(t::text, ';' ORDER BY t::text)) FROM daily t},
	'jobs: schedule, config and next start' => q{
		SELECT regexp_replace(application_name, ' \[\d+\]$', ''), proc_schema, proc_name,
		       schedule_interval, scheduled, fixed_schedule, initial_start,
		       extract(epoch FROM next_start), hypertable_name,
		       config - 'hypertable_id' - 'mat_hypertable_id'
		  FROM timescaledb_information.jobs WHERE job_id >= 1000 ORDER BY 1, 3, 9, 4},
);
foreach my $what (sort keys %same)
{
	is($target->safe_psql('metrics', $same{$what}), $source->safe_psql('metrics', $same{$what}),
		"$what as on the source");
}
is( $target->safe_psql('metrics',
		q{SELECT count(*) FROM timescaledb_information.jobs
		   WHERE job_id >= 1000 AND next_start > now() + interval '1 day'}),
	'6', 'the six scheduled jobs start in two days or later, as on the source');

# nothing ran: no job has a run, and nothing more got compressed
sleep 2;
is( $target->safe_psql('metrics',
		q{SELECT coalesce(sum(total_runs), 0) FROM timescaledb_information.job_stats WHERE job_id >= 1000}),
	'0', 'no migrated job has run on the target');

ok(tsm_no_source_backends($source), 'no tsmigrate backend is left on the source');

done_testing();
