# t/051_timescaledb_caggs_jobs.pl
#
# Continuous aggregates and jobs through CALL tsmigrate.migrate, for each
# installed TimescaleDB version (and an aggregate on integer time):
# - an aggregate (materialized only, compressed, some chunks compressed) and
#   an aggregate on it (real time) arrive as continuous aggregates with the
#   same chunks, indexes and rows: copied, not recomputed (a late row the
#   source has not refreshed yet is not in the target's rows either), with
#   the same refresh state, so that the same refresh on both sides gives
#   the same rows again;
# - every policy kind (compression, retention, reorder, refresh, compression
#   of an aggregate) and user jobs (one with a fixed schedule and a time
#   zone, one paused) arrive with the same schedule, config and next start,
#   none has run on the target, and policies belong to their relations;
# - views on an aggregate (and on such a view) are made once it exists;
# - verify with checksums finds no difference.
# Then a source on the older TimescaleDB: migrate stops at its checks,
# align_timescaledb updates the source, and migrate, called again, finishes.
# Last, a non-superuser: the refresh state cannot be written, a warning.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TsmTest;

plan skip_all => 'TimescaleDB is not installed' unless tsm_have_timescaledb();

my $source = tsm_source_node('source', timescaledb => 1);
my $target = tsm_target_node('target', timescaledb => 1);
my ($rc, $out, $err);

my @versions = tsm_timescaledb_versions($target);

# 25 days of 10-minute readings of 4 devices in 1-day chunks, the first 10
# compressed; hourly (refreshed to day 20, then a late row on day 18 that
# it has not seen), daily on hourly (refreshed to day 15); every policy kind
# and two user jobs, their next start two days ahead (in the transaction
# that creates them, so that none runs before).
my $fixture = q{
	CREATE TABLE cond (time timestamptz NOT NULL, device int NOT NULL, temp float8);
	SELECT create_hypertable('cond', 'time', chunk_time_interval => interval '1 day');
	CREATE INDEX cond_device_time ON cond (device, time DESC);
	INSERT INTO cond
		SELECT '2024-01-01'::timestamptz + g * interval '10 minutes', g % 4, (g % 97) * 0.25
		  FROM generate_series(0, 25 * 144 - 1) g;
	ALTER TABLE cond SET (timescaledb.compress, timescaledb.compress_segmentby = 'device');
	SELECT count(compress_chunk(c)) FROM (SELECT show_chunks('cond') c ORDER BY 1 LIMIT 10) s;

	CREATE MATERIALIZED VIEW hourly WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
		SELECT time_bucket('1 hour', time) AS bucket, device, avg(temp) AS avg_temp, count(*) AS n
		  FROM cond GROUP BY 1, 2 WITH NO DATA;
	CALL refresh_continuous_aggregate('hourly', NULL, '2024-01-20');
	COMMENT ON VIEW hourly IS 'hourly means, it''s refreshed by a policy';
	CREATE MATERIALIZED VIEW daily WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
		SELECT time_bucket('1 day', bucket) AS day, device, max(avg_temp) AS hi, sum(n) AS n
		  FROM hourly GROUP BY 1, 2 WITH NO DATA;
	CALL refresh_continuous_aggregate('daily', NULL, '2024-01-15');
	SELECT set_chunk_time_interval('hourly', interval '7 days');
	ALTER MATERIALIZED VIEW hourly SET (timescaledb.compress = true);
	SELECT count(compress_chunk(c)) FROM (SELECT show_chunks('hourly') c ORDER BY 1 LIMIT 1) s;
	INSERT INTO cond VALUES ('2024-01-18 12:05', 1, 1000);

	CREATE TABLE ticks (t bigint NOT NULL, v int);
	CREATE FUNCTION ticks_now() RETURNS bigint LANGUAGE sql STABLE
		AS 'SELECT coalesce(max(t), 0) FROM public.ticks';
	SELECT create_hypertable('ticks', 't', chunk_time_interval => 1000);
	SELECT set_integer_now_func('ticks', 'ticks_now');
	INSERT INTO ticks SELECT g, g % 10 FROM generate_series(1, 5000) g;
	CREATE MATERIALIZED VIEW ticks_by_100 WITH (timescaledb.continuous) AS
		SELECT time_bucket(100, t) AS b, sum(v) AS total FROM ticks GROUP BY 1 WITH NO DATA;
	CALL refresh_continuous_aggregate('ticks_by_100', NULL, 4000);
	INSERT INTO ticks VALUES (3999, 1000);

	CREATE VIEW hot_days AS SELECT day, device, hi FROM daily WHERE hi > 20;
	CREATE VIEW hot_day_count AS SELECT count(*) AS n FROM hot_days;
	COMMENT ON VIEW hot_days IS 'days over 20';

	CREATE PROCEDURE nightly(job_id int, config jsonb) LANGUAGE plpgsql
		AS $$ BEGIN RAISE NOTICE 'job % with %', job_id, config; END $$;
	BEGIN;
	SELECT add_compression_policy('cond', compress_after => interval '7 days');
	SELECT add_retention_policy('cond', drop_after => interval '10 years');
	SELECT add_reorder_policy('cond', 'cond_device_time');
	SELECT add_continuous_aggregate_policy('hourly', start_offset => interval '30 days',
		end_offset => interval '1 hour', schedule_interval => interval '1 hour');
	SELECT add_continuous_aggregate_policy('daily', start_offset => NULL,
		end_offset => interval '1 day', schedule_interval => interval '1 day');
	SELECT add_compression_policy('hourly', compress_after => interval '20 days');
	SELECT alter_job(job_id, next_start => date_trunc('second', now()) + interval '2 days')
	  FROM timescaledb_information.jobs WHERE job_id >= 1000;
	SELECT add_job('nightly', '1 day', config => '{"keep": 3, "note": "it''s"}',
		initial_start => '2030-01-01 03:00+00', timezone => 'Europe/Berlin');
	SELECT add_job('nightly', '1 hour', config => '{"paused": true}', scheduled => false);
	COMMIT;
};

my $fresh_hourly = q{
	SELECT md5(string_agg(t::text, ';' ORDER BY t::text)) FROM (
		SELECT time_bucket('1 hour', time) AS bucket, device, avg(temp) AS avg_temp, count(*) AS n
		  FROM cond WHERE time < '2024-01-20' GROUP BY 1, 2) t};
my $hourly_rows = q{SELECT md5(string_agg(t::text, ';' ORDER BY t::text)) FROM hourly t};
my $daily_rows = q{SELECT md5(string_agg(t::text, ';' ORDER BY t::text)) FROM daily t};

# what the target must have as the source has it
my %same = (
	'continuous aggregates' => q{
		SELECT view_schema, view_name, materialized_only, compression_enabled, view_definition,
		       obj_description(format('%I.%I', view_schema, view_name)::regclass, 'pg_class')
		  FROM timescaledb_information.continuous_aggregates ORDER BY 2},
	'rows of hourly (materialized only)' => $hourly_rows,
	'rows of daily (real time)' => $daily_rows,
	'rows of ticks_by_100 (integer time, real time)' => q{
		SELECT md5(string_agg(t::text, ';' ORDER BY t::text)) FROM ticks_by_100 t},
	'views on the aggregates' => q{
		SELECT c.relname, pg_get_viewdef(c.oid), obj_description(c.oid, 'pg_class'),
		       (SELECT n FROM hot_day_count)
		  FROM pg_class c WHERE c.relname IN ('hot_days', 'hot_day_count') ORDER BY 1},
	'refresh state' => q{
		SELECT ca.user_view_name,
		       (SELECT watermark FROM _timescaledb_catalog.continuous_aggs_invalidation_threshold t
		         WHERE t.hypertable_id = ca.raw_hypertable_id),
		       (SELECT watermark FROM _timescaledb_catalog.continuous_aggs_watermark w
		         WHERE w.mat_hypertable_id = ca.mat_hypertable_id),
		       (SELECT string_agg(lowest_modified_value || ' ' || greatest_modified_value, ',' ORDER BY 1)
		          FROM _timescaledb_catalog.continuous_aggs_hypertable_invalidation_log l
		         WHERE l.hypertable_id = ca.raw_hypertable_id),
		       (SELECT string_agg(lowest_modified_value || ' ' || greatest_modified_value, ',' ORDER BY 1)
		          FROM _timescaledb_catalog.continuous_aggs_materialization_invalidation_log m
		         WHERE m.materialization_id = ca.mat_hypertable_id)
		  FROM _timescaledb_catalog.continuous_agg ca ORDER BY 1},
	'chunks of the aggregates' => q{
		SELECT ca.user_view_name, c.chunk_name, c.range_start, c.range_end, c.is_compressed
		  FROM timescaledb_information.chunks c
		  JOIN _timescaledb_catalog.hypertable h
		    ON h.schema_name = c.hypertable_schema AND h.table_name = c.hypertable_name
		  JOIN _timescaledb_catalog.continuous_agg ca ON ca.mat_hypertable_id = h.id
		 ORDER BY 1, 2},
	'indexes of the aggregates' => q{
		SELECT ca.user_view_name,
		       regexp_replace(pg_get_indexdef(i.indexrelid), '_materialized_hypertable_\d+', 'M', 'g')
		  FROM _timescaledb_catalog.continuous_agg ca
		  JOIN _timescaledb_catalog.hypertable h ON h.id = ca.mat_hypertable_id
		  JOIN pg_index i ON i.indrelid = format('%I.%I', h.schema_name, h.table_name)::regclass
		 ORDER BY 1, 2},
	'compression settings of the aggregates' => q{
		SELECT ca.user_view_name, cs.segmentby, cs.orderby, cs.orderby_desc
		  FROM _timescaledb_catalog.continuous_agg ca
		  JOIN _timescaledb_catalog.hypertable h ON h.id = ca.mat_hypertable_id
		  JOIN _timescaledb_catalog.compression_settings cs
		    ON cs.relid = format('%I.%I', h.schema_name, h.table_name)::regclass
		 ORDER BY 1},
	'jobs' => q{
		SELECT regexp_replace(application_name, ' \[\d+\]$', ''), proc_schema, proc_name,
		       schedule_interval, max_runtime, max_retries, retry_period, scheduled,
		       fixed_schedule, initial_start, next_start, hypertable_schema, hypertable_name,
		       config - 'hypertable_id' - 'mat_hypertable_id', check_schema, check_name
		  FROM timescaledb_information.jobs WHERE job_id >= 1000 ORDER BY 1, 3, 13, 4},
	'chunk intervals' => q{
		SELECT coalesce(ca.user_view_name, h.table_name), d.column_name, d.interval_length
		  FROM _timescaledb_catalog.dimension d
		  JOIN _timescaledb_catalog.hypertable h ON h.id = d.hypertable_id
		  LEFT JOIN _timescaledb_catalog.continuous_agg ca ON ca.mat_hypertable_id = h.id
		 WHERE h.compression_state <> 2 ORDER BY 1},
	'chunks of the hypertable' => q{
		SELECT chunk_name, range_start, range_end, is_compressed
		  FROM timescaledb_information.chunks WHERE hypertable_name = 'cond' ORDER BY 1},
);

# check everything %same lists, and what the jobs and aggregates must do
sub check_same
{
	my ($label, $db, $srcdb) = @_;
	foreach my $what (sort keys %same)
	{
		my $want = $source->safe_psql($srcdb, $same{$what});
		is($target->safe_psql($db, $same{$what}), $want, "$label: $what as on the source");
	}
}

foreach my $version (@versions)
{
	my $db = 'ts_' . ($version =~ s/\./_/gr);
	$source->safe_psql('postgres', "CREATE DATABASE $db");
	$source->safe_psql($db, "CREATE EXTENSION timescaledb VERSION '$version'");
	$source->safe_psql($db, $fixture);
	$target->safe_psql('postgres', "CREATE DATABASE $db");
	$target->safe_psql($db,
		"CREATE EXTENSION timescaledb VERSION '$version'; CREATE EXTENSION tsmigrate");
	my $src = tsm_tcp_connstr($source, $db);

	isnt($source->safe_psql($db, $hourly_rows), $source->safe_psql($db, $fresh_hourly),
		"$version: the source's hourly aggregate has not seen the late row yet");

	($rc, $out, $err) = tsm_target_sql($target,
		"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2, roles => false)", dbname => $db);
	is($rc, 0, "$version: migrate") or diag $err;
	like($err, qr/step "jobs" done in [\d.]+ s: 8 jobs \(8 created\)/,
		"$version: the jobs step creates the policies and jobs");
	like($err, qr/step "verify" done in [\d.]+ s: \d+ checks, all ok/,
		"$version: verify finds no difference");

	check_same($version, $db, $db);
	isnt($target->safe_psql($db, $hourly_rows), $target->safe_psql($db, $fresh_hourly),
		"$version: the aggregate's rows were copied, not recomputed");
	is( $target->safe_psql($db,
			q{SELECT count(*) FROM _timescaledb_catalog.continuous_agg}),
		'3', "$version: all three are continuous aggregates on the target");

	($rc, $out, $err) = tsm_target_sql($target,
		"SELECT count(*) FILTER (WHERE NOT ok) || ' of ' || count(*),"
		  . " count(*) FILTER (WHERE kind IN ('jobs', 'chunks') OR object IN ('public.hourly', 'public.daily'))"
		  . " FROM tsmigrate.verify(\$\$$src\$\$, checksums => true)",
		dbname => $db);
	like($out, qr/^0 of \d+\|(\d+)$/, "$version: verify with checksums: no difference ($out)")
	  or diag $err;
	my ($ts_checks) = $out =~ /\|(\d+)$/;
	cmp_ok($ts_checks // 0, '>=', 9,
		"$version: verify compares the aggregates' rows and checksums, chunks and jobs");

	# nothing ran: no job has a run, and nothing more got compressed
	sleep 2;
	is( $target->safe_psql($db,
			q{SELECT coalesce(sum(total_runs), 0) FROM timescaledb_information.job_stats
			   WHERE job_id >= 1000}),
		'0', "$version: no migrated job has run on the target");
	is( $target->safe_psql($db,
			q{SELECT count(*) FILTER (WHERE is_compressed) FROM timescaledb_information.chunks}),
		$source->safe_psql($db,
			q{SELECT count(*) FILTER (WHERE is_compressed) FROM timescaledb_information.chunks}),
		"$version: no policy compressed anything early");
	like( $target->safe_psql($db, q{
			BEGIN;
			SELECT remove_compression_policy('cond');
			SELECT remove_retention_policy('cond');
			SELECT remove_reorder_policy('cond');
			SELECT remove_continuous_aggregate_policy('hourly');
			SELECT remove_compression_policy('hourly');
			SELECT count(*) FROM timescaledb_information.jobs WHERE job_id >= 1000;
			ROLLBACK;}),
		qr/^t
*t
3$/, "$version: the policies belong to their hypertable and aggregate");

	# the same refresh on both sides, from the same state: the same rows
	foreach my $node ($source, $target)
	{
		$node->safe_psql($db, q{CALL refresh_continuous_aggregate('hourly', NULL, '2024-01-24')});
		$node->safe_psql($db, q{CALL refresh_continuous_aggregate('daily', NULL, '2024-01-24')});
		$node->safe_psql($db, q{CALL refresh_continuous_aggregate('ticks_by_100', NULL, 5000)});
	}
	is( $target->safe_psql($db, q{SELECT total FROM ticks_by_100 WHERE b = 3900}),
		$source->safe_psql($db, q{SELECT total FROM ticks_by_100 WHERE b = 3900}),
		"$version: integer time: the late row refreshed alike");
	is($target->safe_psql($db, $hourly_rows), $source->safe_psql($db, $hourly_rows),
		"$version: after the same refresh, hourly has the same rows on both sides");
	is($target->safe_psql($db, $daily_rows), $source->safe_psql($db, $daily_rows),
		"$version: and so has daily");
	is( $target->safe_psql($db,
			q{SELECT avg_temp FROM hourly WHERE bucket = '2024-01-18 12:00' AND device = 1}),
		$source->safe_psql($db,
			q{SELECT avg_temp FROM hourly WHERE bucket = '2024-01-18 12:00' AND device = 1}),
		"$version: the late row's pending invalidation was kept and refreshed alike");
}

# --- a source on the older TimescaleDB: align it, then migrate ------------

SKIP:
{
	skip 'only one TimescaleDB version is installed', 6 if @versions < 2;
	my ($old, $new) = @versions;
	$source->safe_psql('postgres', 'CREATE DATABASE legacy');
	$source->safe_psql('legacy', "CREATE EXTENSION timescaledb VERSION '$old'");
	$source->safe_psql('legacy', $fixture);
	$target->safe_psql('postgres', 'CREATE DATABASE fromlegacy');
	$target->safe_psql('fromlegacy',
		"CREATE EXTENSION timescaledb VERSION '$new'; CREATE EXTENSION tsmigrate");
	my $src = tsm_tcp_connstr($source, 'legacy');

	($rc, $out, $err) = tsm_target_sql($target,
		"CALL tsmigrate.migrate(\$\$$src\$\$, roles => false)", dbname => 'fromlegacy');
	like($err, qr/55000: timescaledb versions of source and target do not match/,
		"a source on $old is refused by a target on $new");
	($rc, $out, $err) = tsm_target_sql($target,
		"SELECT tsmigrate.align_timescaledb(\$\$$src\$\$)", dbname => 'fromlegacy');
	is($rc, 0, 'align_timescaledb updates the source') or diag $err;
	is($source->safe_psql('legacy',
			q{SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'}),
		$new, "the source runs $new now");

	($rc, $out, $err) = tsm_target_sql($target,
		"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2, roles => false)", dbname => 'fromlegacy');
	is($rc, 0, 'migrate, called again, resumes and finishes') or diag $err;
	like($err, qr/step "verify" done in [\d.]+ s: \d+ checks, all ok/,
		'verify finds no difference');
	check_same('from the older version', 'fromlegacy', 'legacy');
}

# --- a non-superuser: rows copied, refresh state left as new, with a warning

{
	my $version = $versions[-1];
	my $db = 'ts_' . ($version =~ s/\./_/gr);
	tsm_set_source_auth($source, 'scram-sha-256');
	$source->safe_psql('postgres', qq{
		CREATE ROLE reader LOGIN PASSWORD 'reader-secret';
		GRANT CONNECT ON DATABASE $db TO reader;
	});
	$source->safe_psql($db, q{GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;});
	$target->safe_psql('postgres', q{
		CREATE ROLE migrator LOGIN;
		CREATE DATABASE bymigrator OWNER migrator;
	});
	$target->safe_psql('bymigrator', qq{
		CREATE EXTENSION timescaledb VERSION '$version';
		CREATE EXTENSION tsmigrate;
		GRANT USAGE ON SCHEMA tsmigrate TO migrator;
		GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tsmigrate TO migrator;
		GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA tsmigrate TO migrator;
		GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tsmigrate TO migrator;
	});
	my $src = tsm_tcp_connstr($source, $db) . ' user=reader password=reader-secret';
	($rc, $out, $err) = tsm_target_sql($target,
		"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2, roles => false)",
		dbname => 'bymigrator', user => 'migrator');
	is($rc, 0, 'a non-superuser migrates the aggregates and jobs') or diag $err;
	like($err, qr/WARNING:  42501: the refresh state of the continuous aggregates was not copied/,
		'with a warning that their refresh state is left as for new aggregates');
	unlike($err, qr/only superuser can analyze/, 'and no warning about shared catalogs');
	is($target->safe_psql('bymigrator', $hourly_rows), $source->safe_psql($db, $hourly_rows),
		'the rows of the aggregate are copied all the same');
	is( $target->safe_psql('bymigrator',
			q{SELECT string_agg(DISTINCT owner::text, ',') FROM timescaledb_information.jobs
			   WHERE job_id >= 1000}),
		'migrator', 'the jobs belong to the caller');
}

done_testing();
