# t/083_online_drop.pl
#
# An online run's stream, seen from the target's DBA (issue 17).  Lag: with
# the worker held up (another session locks a table it writes) while the
# source writes a few MB, tsmigrate.stream_status shows the backlog in bytes
# and in seconds, and the progress view too; released, both return to about
# 0.  DROP EXTENSION tsmigrate in a transaction that rolls back leaves the
# stream as it was: its slot stays and a new row still arrives.  DROP
# EXTENSION tsmigrate CASCADE committed: the running worker drops the run's
# slot and publication on the source (the foreign server is gone with the
# extension) and its replication origin here, says so in the log, and does
# not come back.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TsmTest;

my $logical_conf = "wal_level = logical\nmax_replication_slots = 4\nmax_wal_senders = 4\n";
my $source = tsm_source_node('source', conf => $logical_conf);
my $target = tsm_target_node('target');
my $db = 'shop';
my $src = 'legacy';
my ($rc, $out, $err);

$source->safe_psql('postgres', "CREATE DATABASE $db");
$source->safe_psql($db, q{
	CREATE TABLE accounts (id serial PRIMARY KEY, name text NOT NULL);
	CREATE TABLE events (id bigserial PRIMARY KEY, payload text NOT NULL);
	INSERT INTO accounts (name) SELECT 'a' || g FROM generate_series(1, 100) g;
	INSERT INTO events (payload) SELECT repeat('e', 100) FROM generate_series(1, 100) g;
});
$target->safe_psql('postgres', "CREATE DATABASE $db");
$target->safe_psql($db, 'CREATE EXTENSION tsmigrate');
tsm_foreign_server($target, $db, $src, $source, $db);

# Run SQL on the target: ($rc, $stdout, $stderr) (tsm_target_sql).
sub target_call
{
	my ($sql) = @_;
	return tsm_target_sql($target, $sql, dbname => $db);
}

my $status = "SELECT state, lag_bytes, lag_seconds, worker_pid FROM tsmigrate.stream_status(\$\$$src\$\$)";

# A row written on the source now reaches the target.
my $markers = 0;
sub marker_arrives
{
	$markers++;
	my $id = $source->safe_psql($db,
		"INSERT INTO accounts (name) VALUES ('marker $markers') RETURNING id");
	return $target->poll_query_until($db,
		"SELECT count(*) = 1 FROM accounts WHERE id = $id AND name = 'marker $markers'");
}

($rc, $out, $err) = target_call("CALL tsmigrate.migrate(\$\$$src\$\$, online => true)");
is($rc, 0, 'migrate with online => true returns') or diag $err;
my $name = $target->safe_psql($db, "SELECT slot FROM tsmigrate.stream_status(\$\$$src\$\$)");
like($name, qr/^tsmigrate_\d+_\d+_\d+$/, "the run's slot, publication and origin: $name");
ok(marker_arrives(), 'the stream applies a new row');

subtest 'lag: in bytes and in seconds while a backlog waits, about 0 once applied' => sub {
	ok( $target->poll_query_until($db,
			"SELECT lag_seconds = 0 FROM tsmigrate.stream_status(\$\$$src\$\$)"),
		'caught up: lag_seconds is 0')
	  or diag $target->safe_psql($db, $status);

	# the worker waits on this lock in its next batch
	my $bg = $target->background_psql($db);
	$bg->query_safe('BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE;');
	$source->safe_psql($db, join("\n",
		map { "INSERT INTO events (payload) SELECT repeat('x', 1000) FROM generate_series(1, 1000);" }
		  1 .. 5));
	ok( $target->poll_query_until($db,
			"SELECT lag_bytes > 1000000 AND lag_seconds > 0 FROM tsmigrate.stream_status(\$\$$src\$\$)"),
		'held up behind 5 MB: lag_bytes and lag_seconds are above 0')
	  or diag $target->safe_psql($db, $status);
	like(
		$target->safe_psql($db,
			"SELECT detail FROM tsmigrate.progress WHERE step = 'stream'"),
		qr/streaming: \d+ transactions applied, [1-9][\d.]* s behind the source/,
		'the progress view says how many seconds behind the source');

	$bg->query_safe('COMMIT');
	$bg->quit;
	ok( $target->poll_query_until($db,
			"SELECT count(*) = 5100 FROM events"),
		'released: the backlog is applied');
	ok( $target->poll_query_until($db,
			"SELECT lag_bytes < 100000 AND lag_seconds < 1 FROM tsmigrate.stream_status(\$\$$src\$\$)"),
		'and both lags return to about 0')
	  or diag $target->safe_psql($db, $status);
};

subtest 'DROP EXTENSION that rolls back: the stream goes on' => sub {
	my $pid = $target->safe_psql($db, "SELECT worker_pid FROM tsmigrate.stream_status(\$\$$src\$\$)");
	my $bg = $target->background_psql($db);
	$bg->query_safe('SET client_min_messages = warning; BEGIN; DROP EXTENSION tsmigrate CASCADE;');
	# long enough for the worker's checks and reports (each second)
	$source->safe_psql($db, "INSERT INTO accounts (name) VALUES ('during the drop')");
	sleep 3;
	$bg->query_safe('ROLLBACK');
	$bg->quit;
	ok(marker_arrives(), 'a new row is applied');
	is( $target->safe_psql($db, "SELECT count(*) FROM accounts WHERE name = 'during the drop'"),
		'1', 'and the one written meanwhile');
	is($source->safe_psql($db,
			"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$name'"),
		'1', 'the slot is still on the source');
	is($source->safe_psql($db,
			"SELECT count(*) FROM pg_publication WHERE pubname = '$name'"),
		'1', 'and the publication');
	is($target->safe_psql($db, "SELECT state || ' ' || worker_pid FROM tsmigrate.stream_status(\$\$$src\$\$)"),
		"streaming $pid", 'the same worker streams');
};

subtest 'DROP EXTENSION tsmigrate CASCADE: slot, publication and origin dropped' => sub {
	my $log_offset = -s $target->logfile;
	($rc, $out, $err) = target_call('DROP EXTENSION tsmigrate CASCADE');
	is($rc, 0, 'DROP EXTENSION tsmigrate CASCADE') or diag $err;
	ok( $source->poll_query_until($db,
			"SELECT count(*) = 0 FROM pg_replication_slots WHERE slot_name = '$name'"),
		'the source has no slot of the run');
	is($source->safe_psql($db, "SELECT count(*) FROM pg_publication WHERE pubname = '$name'"),
		'0', 'nor its publication');
	ok( $target->poll_query_until($db,
			"SELECT count(*) = 0 FROM pg_replication_origin WHERE roname = '$name'"),
		'the target has no replication origin of the run');
	ok( $target->poll_query_until($db,
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'tsmigrate stream'"),
		'nor a stream worker');
	like(slurp_file($target->logfile, $log_offset),
		qr/LOG:  tsmigrate stream of run \d+ ended: extension "tsmigrate" was dropped\n.*DETAIL:  Its replication slot and publication "$name" were dropped on the source, and its replication origin here\./,
		'the log says what the worker did');
	# a worker started again by the postmaster would come after 5 s
	sleep 6;
	is($target->safe_psql($db,
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'tsmigrate stream'"),
		'0', 'it does not come back');
	is($source->safe_psql($db, "SELECT count(*) FROM pg_replication_slots"),
		'0', 'and nothing made a slot again');
	is($target->safe_psql($db, "SELECT count(*) FROM accounts"),
		$source->safe_psql($db, "SELECT count(*) FROM accounts"),
		'what was applied stays');
};

done_testing();
