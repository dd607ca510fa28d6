# t/082_online_ddl.pl
#
# DDL on the source during an online migration (issue 17): the run's event
# trigger on the source reports each DDL command into the stream, and the
# stream worker stops for good with an error that names the statement
# (stream_status shows it, cutover refuses with it), never applying what
# follows to tables that no longer match.  CREATE INDEX and ALTER TABLE ...
# ADD COLUMN are named; a user mapping's password is never shown, neither
# of CREATE USER MAPPING nor of a query string that holds one after another
# statement.  abandon leaves nothing on the source: no slot, publication,
# event trigger, function or schema.  TimescaleDB's own work on the source
# while streaming (chunks made by inserts, compress_chunk, drop_chunks, a
# policy run by run_job, a refresh of a continuous aggregate) does not stop
# the stream, and cutover ends with verify finding no difference; the
# trigger's schema, function and event trigger are not migrated, and a
# second run from the same source, made and abandoned meanwhile, does not
# stop the first one's stream either.  preflight
# lists an event trigger that a run left behind without its slot.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TsmTest;

plan skip_all => 'TimescaleDB is not installed' unless tsm_have_timescaledb();

my $logical_conf = "wal_level = logical\nmax_replication_slots = 4\nmax_wal_senders = 4\n";
my $source = tsm_source_node('source', timescaledb => 1, conf => $logical_conf);
my $target = tsm_target_node('target', timescaledb => 1);
my $version = (tsm_timescaledb_versions($target))[-1];
my $db = 'shop';
my $src = 'legacy';
my ($rc, $out, $err);

# Run SQL in the target's $dbname: ($rc, $stdout, $stderr) (tsm_target_sql).
sub target_call
{
	my ($dbname, $sql) = @_;
	return tsm_target_sql($target, $sql, dbname => $dbname);
}

# state and error of the stream of $dbname's run
sub stream_state
{
	my ($dbname) = @_;
	return $target->safe_psql($dbname,
		"SELECT state || '|' || coalesce(error, '') FROM tsmigrate.stream_status('$src')");
}

# An online run from the source's $db into a new target database $dbname:
# true once it streams.
sub start_run
{
	my ($dbname) = @_;
	$target->safe_psql('postgres', "CREATE DATABASE $dbname");
	$target->safe_psql($dbname, qq{
		CREATE EXTENSION timescaledb VERSION '$version';
		CREATE EXTENSION tsmigrate;
	});
	tsm_foreign_server($target, $dbname, $src, $source, $db);
	my ($ret, $stdout, $stderr) = target_call($dbname,
		"CALL tsmigrate.migrate('$src', roles => false, online => true)");
	is($ret, 0, "migrate online into $dbname returns") or diag $stderr;
	return stream_state($dbname) eq 'streaming|';
}

# Wait until the stream of $dbname's run is no longer streaming: its state
# and error.
sub stopped
{
	my ($dbname) = @_;
	$target->poll_query_until($dbname,
		"SELECT state <> 'streaming' FROM tsmigrate.stream_status('$src')");
	return split /\|/, stream_state($dbname), 2;
}

# What of online runs is on the source: slots, publications, event
# triggers, their functions and schemas.
my $on_source = q{
	SELECT (SELECT count(*) FROM pg_replication_slots WHERE slot_name ~ '^tsmigrate_[0-9]+_[0-9]+_[0-9]+$')
	    || ' slots, ' || (SELECT count(*) FROM pg_publication WHERE pubname ~ '^tsmigrate_[0-9]+_[0-9]+_[0-9]+$')
	    || ' publications, ' || (SELECT count(*) FROM pg_event_trigger WHERE evtname ~ '^tsmigrate_[0-9]+_[0-9]+_[0-9]+$')
	    || ' event triggers, ' || (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	                               WHERE n.nspname ~ '^tsmigrate_[0-9]+_[0-9]+_[0-9]+$')
	    || ' functions, ' || (SELECT count(*) FROM pg_namespace WHERE nspname ~ '^tsmigrate_[0-9]+_[0-9]+_[0-9]+$')
	    || ' schemas'};
my $one_run = '1 slots, 1 publications, 1 event triggers, 1 functions, 1 schemas';
my $none = '0 slots, 0 publications, 0 event triggers, 0 functions, 0 schemas';

# A failed stream: cutover refuses with its error; abandon leaves nothing
# on the source.  Returns cutover's stderr.
sub refuse_and_abandon
{
	my ($dbname) = @_;
	my ($ret, $stdout, $stderr) = target_call($dbname, "CALL tsmigrate.cutover('$src')");
	isnt($ret, 0, "$dbname: cutover refuses");
	like($stderr, qr/ERROR:  55000: the stream of run \d+ is failed/, "$dbname: with 55000");
	my ($r2, $o2, $e2) = target_call($dbname, "CALL tsmigrate.abandon('$src')");
	is($r2, 0, "$dbname: abandon") or diag $e2;
	is($source->safe_psql($db, $on_source), $none, "$dbname: abandon leaves nothing on the source");
	return $stderr;
}

# --- the source: a table with a key; a hypertable of 1-day chunks, 3 days,
# the first compressed; a continuous aggregate over it

$source->safe_psql('postgres', "CREATE DATABASE $db");
$source->safe_psql($db, "CREATE EXTENSION timescaledb VERSION '$version'");
$source->safe_psql($db, q{
	CREATE TABLE items (id serial PRIMARY KEY, v text NOT NULL);
	INSERT INTO items (v) SELECT 'item ' || g FROM generate_series(1, 100) g;
	CREATE TABLE readings (id bigserial, time timestamptz NOT NULL, device int NOT NULL,
		value float8, PRIMARY KEY (id, time));
	SELECT create_hypertable('readings', 'time', chunk_time_interval => interval '1 day');
	INSERT INTO readings (time, device, value)
		SELECT '2024-01-01 00:00:00+00'::timestamptz + g * interval '10 minutes', g % 3, g
		  FROM generate_series(0, 3 * 144 - 1) g;
	ALTER TABLE readings SET (timescaledb.compress, timescaledb.compress_segmentby = 'device');
	SELECT count(compress_chunk(c)) FROM (SELECT show_chunks('readings') c ORDER BY 1 LIMIT 1) s;
	CREATE MATERIALIZED VIEW daily WITH (timescaledb.continuous) AS
		SELECT time_bucket('1 day', time) AS day, device, count(*) AS n, sum(value) AS total
		  FROM readings GROUP BY 1, 2 WITH NO DATA;
	CALL refresh_continuous_aggregate('daily', NULL, NULL);
	DO $do$ DECLARE h record; BEGIN
		FOR h IN SELECT mh.schema_name, mh.table_name FROM _timescaledb_catalog.continuous_agg ca
		           JOIN _timescaledb_catalog.hypertable mh ON mh.id = ca.mat_hypertable_id LOOP
			EXECUTE format('ALTER TABLE %I.%I REPLICA IDENTITY FULL', h.schema_name, h.table_name);
		END LOOP;
	END $do$;
});

# --- 1. TimescaleDB's own work while streaming does not stop the stream

subtest "TimescaleDB's work on the source does not stop the stream; cutover" => sub {
	my $streams = start_run('tsops');
	ok($streams, 'the run streams') or diag stream_state('tsops');
	is($source->safe_psql($db, $on_source), $one_run,
		'the source has the run slot, publication, event trigger, function and schema');
	is( $target->safe_psql('tsops',
			q{SELECT (SELECT count(*) FROM pg_namespace WHERE nspname ~ '^tsmigrate_')
			       + (SELECT count(*) FROM pg_event_trigger WHERE evtname ~ '^tsmigrate_')}),
		'0', 'none of them is migrated');

	# a second run from the same source, made and abandoned meanwhile: its
	# schema, function and publication are no DDL of the applications
	ok(start_run('other'), 'a second run from the same source streams too')
	  or diag stream_state('other');
	($rc, $out, $err) = target_call('other', "CALL tsmigrate.abandon('$src')");
	is($rc, 0, 'and is abandoned') or diag $err;
	is($source->safe_psql($db, $on_source), $one_run, "which leaves the first run's objects on the source");

	$source->safe_psql($db, q{
		INSERT INTO readings (time, device, value)
			SELECT '2024-01-04 00:00:00+00'::timestamptz + g * interval '10 minutes', g % 3, -g
			  FROM generate_series(0, 2 * 144 - 1) g;
		SELECT count(compress_chunk(c)) FROM (SELECT show_chunks('readings') c ORDER BY 1 OFFSET 1 LIMIT 1) s;
		SELECT count(*) FROM drop_chunks('readings', older_than => '2024-01-02 00:00:00+00'::timestamptz);
		CALL refresh_continuous_aggregate('daily', NULL, NULL);
	});
	my $job = $source->safe_psql($db,
		q{SELECT add_compression_policy('readings', compress_after => interval '1 day')});
	$source->safe_psql($db, "CALL run_job($job)");
	$source->safe_psql($db, q{INSERT INTO items (v) VALUES ('after TimescaleDB')});
	ok( $streams && $target->poll_query_until('tsops',
			q{SELECT count(*) = 1 FROM items WHERE v = 'after TimescaleDB'
			   OR (SELECT state <> 'streaming' FROM tsmigrate.stream_status('legacy'))}),
		'a row written after them is applied');
	is(stream_state('tsops'), 'streaming|', 'the stream still streams');

	($rc, $out, $err) = target_call('tsops', "CALL tsmigrate.cutover('$src')");
	is($rc, 0, 'cutover succeeds') or diag $err;
	like($err, qr/source and target match/, 'verify finds no difference') or diag $err;
	is($source->safe_psql($db, $on_source), $none, 'cutover leaves nothing on the source');
	is( $target->safe_psql('tsops', 'SELECT count(*) FROM readings'),
		$source->safe_psql($db, 'SELECT count(*) FROM readings'), 'the readings are the same');
};

# --- 2. CREATE INDEX

subtest 'CREATE INDEX stops the stream, naming it' => sub {
	ok(start_run('idx'), 'the run streams') or diag stream_state('idx');
	$source->safe_psql($db, 'CREATE INDEX items_v_idx ON items (v)');
	my ($state, $error) = stopped('idx');
	is($state, 'failed', 'stream_status: failed');
	like($error, qr/^the source ran DDL during the online migration: "CREATE INDEX items_v_idx ON items \(v\);?"$/,
		'the error names the statement');
	like(slurp_file($target->logfile),
		qr/stopped: the source ran DDL.*\n.*DETAIL:  The source committed CREATE INDEX at [0-9A-F]+\/[0-9A-F]+; the stream does not apply DDL\.\n.*HINT:  Abandon the run with tsmigrate\.abandon\(\), then migrate again/,
		"the target's log has the command tag, the source's LSN and the hint");
	is( $target->safe_psql('idx', q{SELECT error FROM tsmigrate.progress WHERE step = 'stream'}),
		$error, 'the progress view shows it');
	my $cutover = refuse_and_abandon('idx');
	like($cutover, qr/DETAIL:  the source ran DDL during the online migration: "CREATE INDEX items_v_idx/,
		'cutover says why');
};

# --- 3. ALTER TABLE ... ADD COLUMN

subtest 'ALTER TABLE ... ADD COLUMN stops the stream, naming it' => sub {
	ok(start_run('col'), 'the run streams') or diag stream_state('col');
	$source->safe_psql($db, q{
		ALTER TABLE items
			ADD COLUMN note text;
		INSERT INTO items (v, note) VALUES ('with a note', 'note');});
	my ($state, $error) = stopped('col');
	is($state, 'failed', 'stream_status: failed');
	like($error, qr/: "ALTER TABLE items ADD COLUMN note text;?"$/, 'the error names the statement, on one line');
	is($target->safe_psql('col', q{SELECT count(*) FROM items WHERE v = 'with a note'}),
		'0', 'the row inserted after it is not applied');
	refuse_and_abandon('col');
};

# --- 4. a password is never shown

subtest 'a user mapping with a password stops the stream without showing it' => sub {
	ok(start_run('um'), 'the run streams') or diag stream_state('um');
	# one statement whose text holds a password after the first DDL command
	$source->safe_psql($db, q{
		DO $do$ BEGIN
			CREATE FOREIGN DATA WRAPPER tsm_test_fdw;
			CREATE SERVER tsm_test_server FOREIGN DATA WRAPPER tsm_test_fdw;
			CREATE USER MAPPING FOR CURRENT_USER SERVER tsm_test_server OPTIONS (password 'secret');
		END $do$;
	});
	my ($state, $error) = stopped('um');
	is($state, 'failed', 'stream_status: failed');
	like($error, qr/^the source ran DDL during the online migration: CREATE FOREIGN DATA WRAPPER$/,
		'the error names the command only: its query string holds a password');
	my $cutover = refuse_and_abandon('um');
	unlike($error . $cutover . slurp_file($target->logfile), qr/secret/,
		'no password in stream_status, cutover or the log');

	$source->safe_psql($db, q{DROP USER MAPPING FOR CURRENT_USER SERVER tsm_test_server;
		DROP SERVER tsm_test_server; DROP FOREIGN DATA WRAPPER tsm_test_fdw;});
	$source->safe_psql($db, q{CREATE FOREIGN DATA WRAPPER tsm_test_fdw;
		CREATE SERVER tsm_test_server FOREIGN DATA WRAPPER tsm_test_fdw;});
	ok(start_run('um2'), 'a run with the server there streams') or diag stream_state('um2');
	$source->safe_psql($db,
		q{CREATE USER MAPPING FOR CURRENT_USER SERVER tsm_test_server OPTIONS (password 'secret2')});
	($state, $error) = stopped('um2');
	is($state, 'failed', 'CREATE USER MAPPING stops the stream');
	like($error, qr/^the source ran DDL during the online migration: CREATE USER MAPPING$/,
		'naming the command only');
	$cutover = refuse_and_abandon('um2');
	unlike($error . $cutover . slurp_file($target->logfile), qr/secret2/,
		'no password in stream_status, cutover or the log');
};

# --- 5. preflight lists an event trigger left without its run's slot

subtest 'preflight lists a leftover event trigger' => sub {
	$source->safe_psql($db, q{
		CREATE SCHEMA tsmigrate_1_2_3;
		CREATE FUNCTION tsmigrate_1_2_3.tsmigrate_1_2_3() RETURNS event_trigger
			LANGUAGE plpgsql AS 'BEGIN END';
		CREATE EVENT TRIGGER tsmigrate_1_2_3 ON ddl_command_end
			EXECUTE FUNCTION tsmigrate_1_2_3.tsmigrate_1_2_3();
	});
	like( $target->safe_psql('um2',
			"SELECT \"check\" || ': ' || object || ': ' || coalesce(fix, '') FROM tsmigrate.preflight('$src')"
			  . " WHERE object ~ '^tsmigrate_'"),
		qr/^event trigger: tsmigrate_1_2_3: on the source: DROP EVENT TRIGGER tsmigrate_1_2_3;/,
		'preflight names it, with the statements that drop it');
	is( $target->safe_psql('um2',
			"SELECT count(*) FROM tsmigrate.schema_sql('$src', 'pre-data') s WHERE s ~ 'tsmigrate_1_2_3'"
			  . " UNION ALL SELECT count(*) FROM tsmigrate.schema_sql('$src', 'post-data') s"
			  . " WHERE s ~ 'tsmigrate_1_2_3'"),
		"0\n0", 'schema_sql leaves it out, its schema and function too');
	$source->safe_psql($db, q{DROP EVENT TRIGGER tsmigrate_1_2_3; DROP SCHEMA tsmigrate_1_2_3 CASCADE;});
};

done_testing();
