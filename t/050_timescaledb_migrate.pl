# t/050_timescaledb_migrate.pl
#
# CALL tsmigrate.migrate from a TimescaleDB source: hypertables arrive as
# hypertables with the same dimensions (time interval, hash partitions,
# integer time with its integer_now function), the same chunks (names and
# slices), the rows in the chunks and none in the root tables, the same
# compression settings and the same chunks compressed; verify with
# checksums finds no difference.  Done for each installed TimescaleDB
# version, compressed chunks copied as they are (and, by hand, decompressed
# and compressed again).  A source without TimescaleDB skips its steps,
# different TimescaleDB versions stop the run at its checks; a data step
# failing among chunks resumes; the functions work by hand; a non-superuser
# migrates hypertables through a foreign server.

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

# conditions: 1-day chunks over 5 days, 2 hash partitions on device_id: 10
# chunks, the first 5 compressed; ticks: integer time, chunks of 1000.
my $fixture = q{
	CREATE TABLE conditions (time timestamptz NOT NULL, device_id int NOT NULL,
		temp float8, note text);
	SELECT create_hypertable('conditions', 'time', 'device_id', 2,
		chunk_time_interval => interval '1 day');
	CREATE INDEX conditions_device_time ON conditions (device_id, time DESC);
	INSERT INTO conditions
		SELECT '2024-01-01'::timestamptz + g * interval '10 minutes', g % 4, g * 0.5,
		       CASE WHEN g % 7 = 0 THEN NULL ELSE 'n' || g END
		  FROM generate_series(0, 5 * 144 - 1) g;
	ALTER TABLE conditions SET (timescaledb.compress,
		timescaledb.compress_segmentby = 'device_id',
		timescaledb.compress_orderby = 'time DESC');
	SELECT count(compress_chunk(c))
	  FROM (SELECT show_chunks('conditions') c ORDER BY 1 LIMIT 5) s;
	CREATE TABLE ticks (t bigint NOT NULL, v int);
	CREATE FUNCTION ticks_now() RETURNS bigint LANGUAGE sql STABLE
		AS 'SELECT coalesce(max(t), 0) FROM public.ticks';
	SELECT create_hypertable('ticks', 't', chunk_time_interval => 1000);
	SELECT set_integer_now_func('ticks', 'ticks_now');
	INSERT INTO ticks SELECT g, g FROM generate_series(1, 3500) g;
	CREATE TABLE devices (id int PRIMARY KEY, name text);
	INSERT INTO devices SELECT g, 'device ' || g FROM generate_series(0, 3) g;
	ALTER TABLE conditions ADD PRIMARY KEY (device_id, time),
		ADD FOREIGN KEY (device_id) REFERENCES devices;
	ALTER TABLE ticks ADD CONSTRAINT ticks_t_key UNIQUE (t);
	CREATE SCHEMA "Odd Schema";
	CREATE TABLE "Odd Schema"."My Metrics" ("Time Col" timestamptz NOT NULL,
		"dev id" int NOT NULL, v float8);
	SELECT create_hypertable('"Odd Schema"."My Metrics"', 'Time Col',
		chunk_time_interval => interval '12 hours', associated_table_prefix => 'odd');
	INSERT INTO "Odd Schema"."My Metrics"
		SELECT '2024-03-01'::timestamptz + g * interval '1 hour', g % 3, g
		  FROM generate_series(0, 47) g;
	ALTER TABLE "Odd Schema"."My Metrics" SET (timescaledb.compress,
		timescaledb.compress_segmentby = '"dev id"');
	SELECT compress_chunk(c)
	  FROM (SELECT show_chunks('"Odd Schema"."My Metrics"') c ORDER BY 1 LIMIT 1) s;
};

# what the target must have as the source has it
my %same = (
	'dimensions' => q{
		SELECT hypertable_name, dimension_number, column_name, dimension_type,
		       time_interval, integer_interval, integer_now_func, num_partitions
		  FROM timescaledb_information.dimensions ORDER BY 1, 2},
	'chunk boundaries and compression' => q{
		SELECT hypertable_name, chunk_name, range_start, range_end,
		       range_start_integer, range_end_integer, is_compressed
		  FROM timescaledb_information.chunks ORDER BY 1, 2},
	'slices of every dimension' => q{
		SELECT ch.table_name, d.column_name, s.range_start, s.range_end
		  FROM _timescaledb_catalog.chunk ch
		  JOIN _timescaledb_catalog.chunk_constraint cc ON cc.chunk_id = ch.id
		  JOIN _timescaledb_catalog.dimension_slice s ON s.id = cc.dimension_slice_id
		  JOIN _timescaledb_catalog.dimension d ON d.id = s.dimension_id
		 ORDER BY 1, 2},
	'rows per chunk' => q{
		SELECT chunk_name,
		       (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I',
		            chunk_schema, chunk_name), false, true, '')))[1]::text
		  FROM timescaledb_information.chunks ORDER BY 1},
	'compression statistics (compressed chunks copied as they are)' => q{
		SELECT chunk_name, compression_status, before_compression_table_bytes,
		       before_compression_total_bytes, after_compression_total_bytes
		  FROM chunk_compression_stats('conditions') ORDER BY 1},
	'compression settings' => q{
		SELECT hypertable::text, segmentby, orderby
		  FROM timescaledb_information.hypertable_compression_settings ORDER BY 1},
	'indexes of the hypertables' => q{
		SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
		  FROM pg_index WHERE indrelid IN ('conditions'::regclass, 'ticks'::regclass,
		                                   '"Odd Schema"."My Metrics"'::regclass)
		 ORDER BY 1},
	# (a chunk's constraint is named after its chunk's id, which may differ)
	'indexes of the chunks' => q{
		SELECT indrelid::regclass::text, indisunique, indisprimary,
		       regexp_replace(pg_get_indexdef(indexrelid), '^.* USING ', '')
		  FROM pg_index
		 WHERE indrelid IN (SELECT format('%I.%I', chunk_schema, chunk_name)::regclass
		                      FROM timescaledb_information.chunks)
		 ORDER BY 1, 2, 3, 4},
	'constraints of the hypertables and their chunks' => q{
		SELECT conrelid::regclass::text, contype, pg_get_constraintdef(oid)
		  FROM pg_constraint
		 WHERE conrelid IN (SELECT format('%I.%I', chunk_schema, chunk_name)::regclass
		                      FROM timescaledb_information.chunks
		                    UNION ALL SELECT 'conditions'::regclass
		                    UNION ALL SELECT 'ticks'::regclass)
		   AND contype IN ('p', 'u', 'f')
		 ORDER BY 1, 2, 3},
);

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

	my $start = time();
	($rc, $out, $err) = tsm_target_sql($target,
		"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2)", dbname => $db);
	is($rc, 0, "$version: migrate") or diag $err;
	note sprintf('%s: migrate took %d s', $version, time() - $start);
	like($err, qr/step "timescaledb" done in [\d.]+ s: 3 hypertables and continuous aggregates, 18 chunks \(6 compressed on the source\)/,
		"$version: the timescaledb step reports hypertables and chunks");
	like($err, qr/step "data" done in [\d.]+ s: 19 relations, 4272 rows/,
		"$version: the data step copies the chunks with the other tables");
	like($err, qr/step "compression" done in [\d.]+ s: 6 chunks compressed/,
		"$version: the compression step compresses what the source had compressed");
	unlike($err, qr/already (converted to columnstore|compressed)/,
		"$version: no NOTICE per chunk copied compressed");

	is( $target->safe_psql($db,
			q{SELECT string_agg(hypertable_name, ',' ORDER BY hypertable_name COLLATE "C")
			    FROM timescaledb_information.hypertables}),
		'My Metrics,conditions,ticks', "$version: the tables are hypertables on the target");
	foreach my $what (sort keys %same)
	{
		my $want = $source->safe_psql($db, $same{$what});
		is($target->safe_psql($db, $same{$what}), $want, "$version: $what as on the source");
	}
	is( $target->safe_psql($db,
			q{SELECT count(*) FROM pg_class WHERE relname LIKE 'tsm\_c\_%'}),
		'0', "$version: no table of compressed rows is left over");
	is( $target->safe_psql($db,
			q{SELECT (SELECT count(*) FROM ONLY conditions) + (SELECT count(*) FROM ONLY ticks)
		         + (SELECT count(*) FROM ONLY "Odd Schema"."My Metrics")}),
		'0', "$version: no row is in the root tables themselves");
	is( $target->safe_psql($db,
			q{SELECT count(*) FROM conditions WHERE note IS NULL AND device_id = 3}),
		$source->safe_psql($db,
			q{SELECT count(*) FROM conditions WHERE note IS NULL AND device_id = 3}),
		"$version: a query through the compressed chunks answers as on the source");

	($rc, $out, $err) = tsm_target_sql($target,
		"SELECT count(*) FILTER (WHERE NOT ok) || ' of ' || count(*),"
		  . " count(*) FILTER (WHERE kind = 'rows' AND object = 'public.conditions' AND target_value = '720')"
		  . " FROM tsmigrate.verify(\$\$$src\$\$, checksums => true)",
		dbname => $db);
	like($out, qr/^0 of \d+\|1$/,
		"$version: verify with checksums finds no difference, and counts the hypertable's rows ($out)")
	  or diag $err;
	is( $target->safe_psql($db,
			q{SELECT count(*) FROM tsmigrate.run_relation WHERE relation LIKE '_timescaledb_internal.%' AND state = 'copied'}),
		'18', "$version: each chunk is a relation of the data step, copied");

	($rc, $out, $err) = tsm_target_sql($target,
		"SELECT * FROM tsmigrate.pull_chunks(\$\$$src\$\$, chunks => '{_timescaledb_internal._hyper_1_1_chunk}')",
		dbname => $db);
	like($err, qr/55000: chunk _timescaledb_internal._hyper_1_1_chunk is not empty on the target/,
		"$version: pull_chunks refuses a chunk that is not empty");
	($rc, $out, $err) = tsm_target_sql($target,
		"SELECT * FROM tsmigrate.pull_chunks(\$\$$src\$\$, chunks => '{public.devices}')",
		dbname => $db);
	like($err, qr/42P01: "public.devices" is not a chunk of a hypertable of the source/,
		"$version: pull_chunks refuses what is not a chunk");
	is( $target->safe_psql($db,
			q{SELECT string_agg(step || '=' || state, ',' ORDER BY ordinal) FROM tsmigrate.run_step}),
		'checks=done,extensions=done,roles=done,pre-data=done,timescaledb=done,data=done,'
		  . 'post-data=done,compression=done,analyze=done,jobs=done,verify=done',
		"$version: every step is done");

	# statistics: each table and chunk analyzed once (by the copy worker, or
	# by the analyze step for the chunks copied compressed), each hypertable
	# over its chunks
	is( $target->safe_psql($db, q{
			SELECT count(*) FILTER (WHERE s.analyze_count <> 1) || ' of ' || count(*)
			  FROM pg_stat_all_tables s
			 WHERE s.relid IN (SELECT format('%I.%I', chunk_schema, chunk_name)::regclass
			                     FROM timescaledb_information.chunks
			                   UNION ALL SELECT 'devices'::regclass)}),
		'0 of 19', "$version: every chunk and table is analyzed, once");
	is( $target->safe_psql($db, q{
			SELECT string_agg(DISTINCT tablename, ',' ORDER BY tablename) FROM pg_stats
			 WHERE inherited AND tablename IN ('conditions', 'ticks', 'My Metrics')}),
		'My Metrics,conditions,ticks', "$version: each hypertable has statistics over its chunks");

	# TimescaleDB knows the chunks' indexes and keys, built chunk by chunk
	# where it allows: a new chunk gets the indexes a new chunk gets on the
	# source, and dropping the hypertables' drops the chunks' as there (on
	# the source in a transaction rolled back)
	my $new_chunk = q{
		INSERT INTO conditions VALUES ('2024-02-01', 1, 1, 'new chunk');
		SELECT string_agg(regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', ''), ', '
		                  ORDER BY regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', ''))
		  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
		 WHERE c.relname = (SELECT chunk_name FROM timescaledb_information.chunks
		                     WHERE hypertable_name = 'conditions'
		                     ORDER BY range_start DESC, chunk_name LIMIT 1);};
	my $drop = q{
		DROP INDEX conditions_device_time;
		ALTER TABLE conditions DROP CONSTRAINT conditions_pkey;
		ALTER TABLE ticks DROP CONSTRAINT ticks_t_key;
		SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
		 WHERE c.relnamespace = '_timescaledb_internal'::regnamespace
		   AND NOT EXISTS (SELECT FROM pg_inherits h JOIN pg_index r ON r.indrelid = h.inhparent
		                    WHERE h.inhrelid = c.oid
		                      AND pg_get_indexdef(r.indexrelid) ~ ' USING '
		                      AND regexp_replace(pg_get_indexdef(r.indexrelid), '^.* USING ', '')
		                        = regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', ''))
		   AND c.relname !~ '^compress_';};
	is($target->safe_psql($db, $new_chunk),
		$source->safe_psql($db, "BEGIN; $new_chunk ROLLBACK;"),
		"$version: a new chunk gets the indexes it gets on the source");
	is($target->safe_psql($db, $drop),
		$source->safe_psql($db, "BEGIN; $drop ROLLBACK;"),
		"$version: dropping the hypertables' index and keys drops the chunks' as on the source");
}

# --- the functions by hand: pre-data, pull_hypertables, post-data, compress

{
	my $db = 'ts_' . ($versions[-1] =~ s/\./_/gr);
	$target->safe_psql('postgres', 'CREATE DATABASE by_hand');
	$target->safe_psql('by_hand',
		"CREATE EXTENSION timescaledb VERSION '$versions[-1]'; CREATE EXTENSION tsmigrate");
	my $src = tsm_tcp_connstr($source, $db);
	# compressed chunks copied decompressed, and compressed again here
	$target->safe_psql('postgres', 'ALTER DATABASE by_hand SET tsmigrate.copy_compressed = off');
	($rc, $out, $err) = tsm_target_sql($target,
		"SELECT count(*) FROM tsmigrate.pull_schema(\$\$$src\$\$, 'pre-data');"
		  . "SELECT count(*) FROM tsmigrate.pull_hypertables(\$\$$src\$\$, dry_run => true);"
		  . "SELECT count(*) FROM timescaledb_information.hypertables;"
		  . "SELECT string_agg(hypertable || ':' || rows, ',' ORDER BY hypertable)"
		  . "  FROM tsmigrate.pull_hypertables(\$\$$src\$\$) WHERE chunk IS NULL;"
		  . "SELECT count(*) FROM tsmigrate.pull_data(\$\$$src\$\$, tables => '{public.devices}');"
		  . "SELECT count(*) FROM tsmigrate.pull_schema(\$\$$src\$\$, 'post-data');"
		  . "SELECT count(*) FROM tsmigrate.compress_chunks(\$\$$src\$\$);",
		dbname => 'by_hand');
	is( $out,
		"7\n21\n0\n\"Odd Schema\".\"My Metrics\":48,public.conditions:720,public.ticks:3500\n1\n9\n6",
		'by hand, copy_compressed off: a dry run leaves no hypertable; pull_hypertables copies the rows; compress_chunks compresses 6 chunks')
	  or diag $err;
	is( $target->safe_psql('by_hand',
			q{SELECT count(*) FILTER (WHERE is_compressed) || '/' || count(*) FROM timescaledb_information.chunks}),
		'6/18', 'by hand: the same chunks, the same compressed');
}

# --- a data step that fails among the chunks, and is resumed --------------

# A CHECK constraint (so on every chunk) that fails on the target while
# test.max_v is set there: the data step fails on the chunk with v >= 3000,
# after copy workers may have committed other chunks; called again, it
# empties what the failed batch left and copies it again.
{
	my $version = $versions[-1];
	$source->safe_psql('postgres', 'CREATE DATABASE resume');
	$source->safe_psql('resume', "CREATE EXTENSION timescaledb VERSION '$version'");
	$source->safe_psql('resume', q{
		CREATE FUNCTION v_ok(v int) RETURNS boolean LANGUAGE sql
			AS $$SELECT v < coalesce(nullif(current_setting('test.max_v', true), '')::int, 1000000)$$;
		CREATE TABLE ticks (t bigint NOT NULL, v int CHECK (v_ok(v)));
		SELECT create_hypertable('ticks', 't', chunk_time_interval => 1000);
		INSERT INTO ticks SELECT g, g FROM generate_series(1, 3500) g;
		CREATE TABLE other (id int);
		INSERT INTO other VALUES (1);
	});
	$target->safe_psql('postgres', 'CREATE DATABASE resume');
	$target->safe_psql('resume',
		"CREATE EXTENSION timescaledb VERSION '$version'; CREATE EXTENSION tsmigrate;"
		  . " ALTER DATABASE resume SET test.max_v = 3000");
	my $src = tsm_tcp_connstr($source, 'resume');
	($rc, $out, $err) = tsm_target_sql($target,
		"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2)", dbname => 'resume');
	like($err, qr/23514: .*violates check constraint/,
		'a chunk that the target refuses fails the data step');
	# each relation is committed on its own: the chunk that failed (and one
	# that the other worker was copying then) is marked failed, the others
	# copied (complete) or pending, none left copying
	is( $target->safe_psql('resume',
			q{SELECT state FROM tsmigrate.run_relation
			   WHERE relation = '_timescaledb_internal._hyper_1_4_chunk'}),
		'failed', 'the chunk that failed is marked failed');
	is( $target->safe_psql('resume',
			q{SELECT count(*) FROM tsmigrate.run_relation WHERE state = 'copying'}),
		'0', 'no relation is left copying');
	is( $target->safe_psql('resume',
			q{SELECT count(*) FROM tsmigrate.run_relation
			   WHERE state = 'copied' AND rows IS DISTINCT FROM (xpath('/row/c/text()',
			         query_to_xml('SELECT count(*) AS c FROM ' || relation, false, true, '')))[1]::text::bigint}),
		'0', 'a relation marked copied has all its rows');

	$target->safe_psql('resume', 'ALTER DATABASE resume RESET test.max_v');
	($rc, $out, $err) = tsm_target_sql($target,
		"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2)", dbname => 'resume');
	is($rc, 0, 'called again, migrate resumes and finishes') or diag $err;
	my $per_chunk = q{
		SELECT string_agg(chunk_name || '=' || (xpath('/row/c/text()',
		         query_to_xml(format('SELECT count(*) AS c FROM %I.%I', chunk_schema, chunk_name),
		                      false, true, '')))[1]::text, ',' ORDER BY chunk_name)
		  FROM timescaledb_information.chunks};
	is($target->safe_psql('resume', $per_chunk), $source->safe_psql('resume', $per_chunk),
		'every chunk has its rows exactly once');
	is($target->safe_psql('resume', 'SELECT count(*) FROM ticks'), '3500',
		'and the hypertable all of them');
}

# --- compressed rows copied, then their chunk's attach fails, and resumed --
#
# The copy workers commit the compressed rows of each chunk into a table of
# their own before the leader attaches it; a trigger on TimescaleDB's
# compression settings makes the attach fail while test.fail_attach is on.
# Called again, migrate empties those tables and copies the chunks again.
{
	my $version = $versions[-1];
	$source->safe_psql('postgres', 'CREATE DATABASE resume_cc');
	$source->safe_psql('resume_cc', "CREATE EXTENSION timescaledb VERSION '$version'");
	$source->safe_psql('resume_cc', q{
		CREATE TABLE cc (t timestamptz NOT NULL, d int, v float8);
		SELECT create_hypertable('cc', 't', chunk_time_interval => interval '1 day');
		INSERT INTO cc SELECT '2024-01-01'::timestamptz + g * interval '1 minute', g % 5, g
		  FROM generate_series(0, 3 * 1440 - 1) g;
		ALTER TABLE cc SET (timescaledb.compress, timescaledb.compress_segmentby = 'd');
		SELECT count(compress_chunk(c)) FROM show_chunks('cc') c;
	});
	$target->safe_psql('postgres', 'CREATE DATABASE resume_cc');
	$target->safe_psql('resume_cc', qq{
		CREATE EXTENSION timescaledb VERSION '$version'; CREATE EXTENSION tsmigrate;
		CREATE FUNCTION fail_attach() RETURNS trigger LANGUAGE plpgsql AS \$\$
			BEGIN
				IF current_setting('test.fail_attach', true) = 'on' THEN
					RAISE EXCEPTION 'attach refused for the test';
				END IF;
				RETURN NEW;
			END \$\$;
		CREATE TRIGGER fail_attach BEFORE UPDATE ON _timescaledb_catalog.compression_settings
			FOR EACH ROW EXECUTE FUNCTION fail_attach();
		ALTER DATABASE resume_cc SET test.fail_attach = on;
	});
	my $src = tsm_tcp_connstr($source, 'resume_cc');
	($rc, $out, $err) = tsm_target_sql($target,
		"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2)", dbname => 'resume_cc');
	like($err, qr/P0001: attach refused for the test/, 'the attach of a compressed chunk fails');
	cmp_ok( $target->safe_psql('resume_cc',
			q{SELECT sum((xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I',
			        n.nspname, c.relname), false, true, '')))[1]::text::int)
			    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			   WHERE c.relname LIKE 'tsm\_c\_%'}),
		'>', 0, 'the copy workers had committed compressed rows before it');

	$target->safe_psql('resume_cc', 'ALTER DATABASE resume_cc RESET test.fail_attach');
	($rc, $out, $err) = tsm_target_sql($target,
		"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2)", dbname => 'resume_cc');
	is($rc, 0, 'called again, migrate empties them, copies the chunks again and finishes')
	  or diag $err;
	my $chunks = q{SELECT string_agg(chunk_name || ':' || is_compressed, ',' ORDER BY chunk_name)
	                 FROM timescaledb_information.chunks};
	is($target->safe_psql('resume_cc', $chunks), $source->safe_psql('resume_cc', $chunks),
		'the same chunks, compressed');
	is($target->safe_psql('resume_cc', 'SELECT count(*), sum(v) FROM cc'),
		$source->safe_psql('resume_cc', 'SELECT count(*), sum(v) FROM cc'),
		'every row exactly once');
}

# --- a source without TimescaleDB: the TimescaleDB steps are skipped -------

$source->safe_psql('postgres',
	'CREATE DATABASE plain; ');
$source->safe_psql('plain', 'CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)');
$target->safe_psql('postgres', 'CREATE DATABASE plain');
$target->safe_psql('plain', 'CREATE EXTENSION tsmigrate');
my $plain = tsm_tcp_connstr($source, 'plain');
($rc, $out, $err) = tsm_target_sql($target, "CALL tsmigrate.migrate(\$\$$plain\$\$)",
	dbname => 'plain');
is($rc, 0, 'migrate from a source without TimescaleDB') or diag $err;
is( $target->safe_psql('plain',
		q{SELECT string_agg(step || '=' || state || ': ' || detail, ',' ORDER BY ordinal)
		    FROM tsmigrate.run_step WHERE step IN ('timescaledb', 'compression')}),
	'timescaledb=skipped: skipped: the source has no TimescaleDB,'
	  . 'compression=skipped: skipped: the source has no TimescaleDB',
	'the timescaledb and compression steps are skipped');

# --- a target database without TimescaleDB: migrate creates it -----------

{
	my $version = $versions[0];
	my $db = 'ts_' . ($version =~ s/\./_/gr);
	$target->safe_psql('postgres', 'CREATE DATABASE no_ts');
	$target->safe_psql('no_ts', 'CREATE EXTENSION tsmigrate');
	my $src = tsm_tcp_connstr($source, $db);
	($rc, $out, $err) = tsm_target_sql($target, "CALL tsmigrate.migrate(\$\$$src\$\$)",
		dbname => 'no_ts');
	is($rc, 0, 'a target database without TimescaleDB: migrate goes past its checks') or diag $err;
	like($err, qr/step "extensions" done in [\d.]+ s: 1 created/,
		'its extensions step creates TimescaleDB');
	is($target->safe_psql('no_ts', q{SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'}),
		$version, "at the source's version, $version");
}

# --- different TimescaleDB versions: the checks step stops the run ---------

SKIP:
{
	skip 'only one TimescaleDB version is installed', 3 if @versions < 2;
	my $db = 'ts_' . ($versions[0] =~ s/\./_/gr);
	$target->safe_psql('postgres', 'CREATE DATABASE newer');
	$target->safe_psql('newer',
		"CREATE EXTENSION timescaledb VERSION '$versions[1]'; CREATE EXTENSION tsmigrate");
	my $src = tsm_tcp_connstr($source, $db);
	($rc, $out, $err) = tsm_target_sql($target, "CALL tsmigrate.migrate(\$\$$src\$\$)",
		dbname => 'newer');
	like($err, qr/55000: timescaledb versions of source and target do not match/,
		'different TimescaleDB versions stop migrate');
	like($err, qr/HINT:  Run on the source: ALTER EXTENSION timescaledb UPDATE TO '\Q$versions[1]\E';/,
		'with the hint that says how to align them');
	is( $target->safe_psql('newer',
			q{SELECT string_agg(step || '=' || state, ',' ORDER BY ordinal) FROM tsmigrate.run_step
			   WHERE state <> 'pending'}),
		'checks=failed', 'nothing ran after the checks');
}

# --- a non-superuser, through a foreign server and a user mapping ---------

{
	my $version = $versions[-1];
	my $db = 'ts_' . ($version =~ s/\./_/gr);
	tsm_set_source_auth($source, 'scram-sha-256');
	$source->safe_psql('postgres', qq{
		CREATE ROLE reader LOGIN PASSWORD 'reader-secret';
		GRANT CONNECT ON DATABASE $db TO reader;
	});
	$source->safe_psql($db, q{
		GRANT USAGE ON SCHEMA "Odd Schema" TO reader;
		GRANT SELECT ON ALL TABLES IN SCHEMA public, "Odd Schema" TO reader;
	});
	my $port = $source->port;
	$target->safe_psql('postgres', q{
		CREATE ROLE migrator LOGIN;
		CREATE DATABASE tsmart OWNER migrator;
	});
	$target->safe_psql('tsmart', qq{
		CREATE EXTENSION timescaledb VERSION '$version';
		CREATE EXTENSION tsmigrate;
		CREATE SERVER ts FOREIGN DATA WRAPPER tsmigrate
			OPTIONS (host '127.0.0.1', port '$port', dbname '$db');
		GRANT USAGE ON FOREIGN SERVER ts TO migrator;
		CREATE USER MAPPING FOR migrator SERVER ts
			OPTIONS (user 'reader', password 'reader-secret');
		ALTER DATABASE tsmart SET tsmigrate.source = 'ts';
	});
	tsm_grant_migrate($target, 'tsmart', 'migrator');
	($rc, $out, $err) = tsm_target_sql($target,
		'CALL tsmigrate.migrate(jobs => 2, roles => false)', dbname => 'tsmart',
		user => 'migrator');
	is($rc, 0, 'a non-superuser migrates hypertables through a foreign server') or diag $err;
	my $chunks = q{
		SELECT string_agg(hypertable_name || '.' || chunk_name || ':' || is_compressed, ','
		                  ORDER BY chunk_name)
		  FROM timescaledb_information.chunks};
	is($target->safe_psql('tsmart', $chunks), $source->safe_psql($db, $chunks),
		'the same chunks, compressed as on the source');
	is( $target->safe_psql('tsmart',
			q{SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') FROM pg_class
			   WHERE oid IN (SELECT format('%I.%I', chunk_schema, chunk_name)::regclass
			                   FROM timescaledb_information.chunks
			                 UNION ALL
			                 SELECT format('%I.%I', hypertable_schema, hypertable_name)::regclass
			                   FROM timescaledb_information.hypertables)}),
		'migrator', 'hypertables and chunks belong to the caller');
}

done_testing();
