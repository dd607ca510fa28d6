# t/080_online.pl
#
# Online migration (issue 17): CALL tsmigrate.migrate(source, online =>
# true) copies a TimescaleDB source under a logical replication slot's
# snapshot while an application (pgbench, two clients) keeps writing to it,
# then a stream worker on the target applies every change committed after
# that snapshot: inserts, updates (one that changes a composite key, one
# that leaves a toasted value unchanged), deletes, a table with REPLICA
# IDENTITY FULL and no key, a hypertable with a compressed chunk, rows in
# the compressed chunk and in chunks that the source creates while
# streaming.  A stream worker terminated in the middle comes back (by
# itself, or when migrate is called again), and so does the stream after a
# target restart, where it stopped, and after a source restart.  cutover refuses while a
# source session has an open transaction that wrote, then applies the last
# changes, sets the sequences, finishes the steps and leaves nothing on the
# source; verify with checksums finds no difference, every table is the
# same on both sides, each row once, and the hypertable has the source's
# chunks, with their names.  migrate refuses, before anything
# changes, a source given as a connection string (the stream worker needs
# a foreign server to connect again), a source without wal_level = logical
# and a table without a replica identity; abandon drops the slot and the
# publication.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TsmTest;

plan skip_all => 'TimescaleDB is not installed' unless tsm_have_timescaledb();

my $logical_conf = "wal_level = logical\nmax_replication_slots = 4\nmax_wal_senders = 4\n";
my $source = tsm_source_node('source', timescaledb => 1, conf => $logical_conf);
my $target = tsm_target_node('target', timescaledb => 1);
my ($rc, $out, $err);

my $version = (tsm_timescaledb_versions($target))[-1];
my $db = 'shop';
# an online run reads its source through a foreign server (its stream worker
# connects again after the call returns); the caller is a superuser, trusted
my $src = 'legacy';

# A foreign server $server in the target's $dbname for database $source_db
# of $node, with a user mapping for the caller (the source's superuser).
sub create_server
{
	my ($dbname, $server, $node, $source_db) = @_;
	return tsm_foreign_server($target, $dbname, $server, $node, $source_db);
}

# Run SQL in the target's $dbname: ($rc, $stdout, $stderr) (tsm_target_sql).
sub target_call
{
	my ($dbname, $sql) = @_;
	return tsm_target_sql($target, $sql, dbname => $dbname);
}

# tsmigrate.stream_status of $source_str in $dbname, as a hash of its
# columns ('' for NULL, and every one '' with the error under "call_error"
# when the call fails).
my @status_columns = qw(run_id state slot applied_lsn lag_bytes lag_seconds
  applied_transactions worker_pid error);
sub stream_status
{
	my ($dbname, $source_str) = @_;
	my ($ret, $stdout, $stderr) = target_call($dbname,
		'SELECT ' . join(', ', @status_columns)
		  . " FROM tsmigrate.stream_status(\$\$$source_str\$\$)");
	my %s = map { $_ => '' } @status_columns;
	if (!defined $ret || $ret != 0)
	{
		$s{call_error} = $stderr;
		return \%s;
	}
	my @values = split /\|/, $stdout, scalar @status_columns;
	@s{@status_columns} = map { $_ // '' } @values[ 0 .. $#status_columns ];
	return \%s;
}

# Wait until $cond holds on the target, as the stream applies the source's
# changes: true once it does, false at once when nothing streams or when
# the stream fails meanwhile (a worker that stops and starts again is
# waited for).  After a wait in vain the stream counts as stopped, so that
# the later parts do not wait again.
my ($streaming, $not_streaming);
sub applied
{
	my ($cond) = @_;
	return 0 unless $streaming;
	$target->poll_query_until($db,
		"SELECT ($cond) OR (SELECT state = 'failed' FROM tsmigrate.stream_status(\$\$$src\$\$))");
	return 1 if $target->safe_psql($db, "SELECT ($cond)") eq 't';
	my $s = stream_status($db, $src);
	$streaming = 0;
	$not_streaming = "the stream does not apply the source's changes: state '$s->{state}',"
	  . " worker '$s->{worker_pid}', applied up to '$s->{applied_lsn}', error '$s->{error}'";
	diag $not_streaming;
	return 0;
}

# A row written on the source now reaches the target: true once it is there.
my $markers = 0;
sub marker_arrives
{
	my ($what) = @_;
	$markers++;
	my $id = $source->safe_psql($db,
		"INSERT INTO accounts (name, balance) VALUES ('marker $markers: $what', -$markers) RETURNING id");
	return applied("SELECT count(*) = 1 FROM accounts WHERE id = $id AND name = 'marker $markers: $what'");
}

# The same on both sides: each table's rows (in key order, or whole rows
# for the table without a key), with a count of its distinct keys.
my %digest = (
	accounts => q{SELECT count(*), count(DISTINCT id), md5(string_agg(md5(t::text), '' ORDER BY id)) FROM accounts t},
	ledger => q{SELECT count(*), count(DISTINCT (account_id, entry)),
	                   md5(string_agg(md5(t::text), '' ORDER BY account_id, entry)) FROM ledger t},
	events_log => q{SELECT count(*), count(DISTINCT n), md5(string_agg(md5(t::text), '' ORDER BY t::text)) FROM events_log t},
	workload => q{SELECT count(*), count(DISTINCT id), md5(string_agg(md5(t::text), '' ORDER BY id)) FROM workload t},
	readings => q{SELECT count(*), count(DISTINCT id), md5(string_agg(md5(t::text), '' ORDER BY id, time)) FROM readings t},
);
my $chunk_ranges = q{
	SELECT string_agg((range_start AT TIME ZONE 'UTC') || '..' || (range_end AT TIME ZONE 'UTC')
	                  || ':' || CASE WHEN is_compressed THEN 'compressed' ELSE 'plain' END,
	                  ', ' ORDER BY range_start)
	  FROM timescaledb_information.chunks WHERE hypertable_name = 'readings'};
my $chunk_names = q{
	SELECT string_agg((range_start AT TIME ZONE 'UTC')::date || '=' || chunk_name, ', ' ORDER BY range_start)
	  FROM timescaledb_information.chunks WHERE hypertable_name = 'readings'};
my @sequences = qw(accounts_id_seq ledger_entry reading_id);

# --- the source ---------------------------------------------------------------
#
# accounts: 800,000 rows, bigserial key, a toasted note on the rows whose
# id ends in 000 or 001; ledger: a composite key; events_log: REPLICA
# IDENTITY FULL and no key (some notes toasted); workload: how many days
# after 2024-01-01 the workload writes readings into (the test moves it on
# to make the source create chunks); readings: a hypertable of 1-day chunks,
# 5 days of rows, the first day's chunk compressed, ids from the sequence
# reading_id.

$source->safe_psql('postgres', "CREATE DATABASE $db");
$source->safe_psql($db, "CREATE EXTENSION timescaledb VERSION '$version'");
$source->safe_psql($db, q{
	CREATE TABLE accounts (id bigserial PRIMARY KEY, name text NOT NULL, balance int NOT NULL,
		pad text, note text);
	INSERT INTO accounts (id, name, balance, pad, note)
		SELECT g, 'account ' || g, g % 1000, md5(g::text) || md5((-g)::text),
		       CASE WHEN g % 1000 IN (0, 1)
		            THEN (SELECT string_agg(md5(g || '-' || i), '') FROM generate_series(1, 200) i) END
		  FROM generate_series(1, 800000) g;
	SELECT setval('accounts_id_seq', 800000);
	CREATE SEQUENCE ledger_entry START 100;
	CREATE TABLE ledger (account_id bigint, entry int, amount int NOT NULL,
		PRIMARY KEY (account_id, entry));
	INSERT INTO ledger SELECT a, e, a * e FROM generate_series(1, 20000) a, generate_series(1, 5) e;
	CREATE TABLE events_log (n int NOT NULL, hits int NOT NULL, note text);
	ALTER TABLE events_log REPLICA IDENTITY FULL;
	INSERT INTO events_log
		SELECT g, 0, CASE WHEN g % 500 = 0
		                  THEN (SELECT string_agg(md5(g || '/' || i), '') FROM generate_series(1, 200) i)
		                  ELSE 'event ' || g END
		  FROM generate_series(1, 5000) g;
	CREATE TABLE archive (id int PRIMARY KEY, v text NOT NULL);
	INSERT INTO archive SELECT g, 'archived ' || g FROM generate_series(1, 3000) g;
	CREATE TABLE workload (id int PRIMARY KEY, days int NOT NULL);
	INSERT INTO workload VALUES (1, 6);
	CREATE SEQUENCE reading_id;
	CREATE TABLE readings (id bigint NOT NULL DEFAULT nextval('reading_id'),
		time timestamptz NOT NULL, device int NOT NULL, value float8, PRIMARY KEY (id, time));
	SELECT create_hypertable('readings', 'time', chunk_time_interval => interval '1 day');
	INSERT INTO readings (time, device, value)
		SELECT '2024-01-01 00:00:00+00'::timestamptz + g * interval '30 seconds', g % 4, g * 0.25
		  FROM generate_series(0, 5 * 2880 - 1) g;
	ALTER TABLE readings SET (timescaledb.compress, timescaledb.compress_segmentby = 'device',
		timescaledb.compress_orderby = 'time DESC, id');
	SELECT count(compress_chunk(c)) FROM (SELECT show_chunks('readings') c ORDER BY 1 LIMIT 1) s;
});
$target->safe_psql('postgres', "CREATE DATABASE $db");
$target->safe_psql($db, "CREATE EXTENSION timescaledb VERSION '$version'; CREATE EXTENSION tsmigrate");
create_server($db, $src, $source, $db);

# --- the workload -----------------------------------------------------------------
#
# Each transaction inserts, updates and deletes rows of every table and
# inserts one reading (so the readings with an id above the fixture's count
# the transactions committed).  Client 0 writes rows of even keys, client 1
# of odd ones: the two never wait for each other.  A reading goes into one
# of the days 2024-01-01 (the compressed chunk) to 2024-01-01 + workload.days.

my $tmp = PostgreSQL::Test::Utils::tempdir();
my $script = "$tmp/workload.sql";
open my $fh, '>', $script or die "$script: $!";
print $fh <<'EOS';
\set aid 2 * random(1, 400000) - :client_id
\set did 2 * random(1, 400000) - :client_id
\set big 1000 * random(1, 799) + :client_id
\set acct 2 * random(1, 10000) - :client_id
\set acct2 2 * random(1, 10000) - :client_id
\set e random(1, 5)
\set e2 random(1, 5)
\set n 2 * random(1, 2500) - :client_id
\set n2 2 * random(1, 2500) - :client_id
\set d random(0, 100000)
\set sec random(0, 86399)
BEGIN;
INSERT INTO accounts (name, balance) VALUES ('new ' || :client_id, :sec);
UPDATE accounts SET balance = balance + 1 WHERE id = :aid;
UPDATE accounts SET balance = balance - 1, name = name || '*' WHERE id = :big;
DELETE FROM accounts WHERE id = :did;
INSERT INTO ledger (account_id, entry, amount) VALUES (:acct, nextval('ledger_entry'), :sec);
UPDATE ledger SET amount = amount + 1 WHERE account_id = :acct2 AND entry = :e;
UPDATE ledger SET entry = entry + 1000000 WHERE account_id = :acct2 AND entry = :e2;
DELETE FROM ledger WHERE account_id = :acct AND entry = :e;
UPDATE events_log SET hits = hits + 1 WHERE n = :n;
DELETE FROM events_log WHERE n = :n2;
INSERT INTO readings (time, device, value) SELECT CAST('2024-01-01 00:00:00+00' AS timestamptz) + (:d % (days + 1)) * interval '1 day' + :sec * interval '1 second', :client_id, :sec FROM workload;
END;
EOS
close $fh;

my $fixture_readings = $source->safe_psql($db, 'SELECT max(id) FROM readings');
my $committed_sql = "SELECT count(*) FROM readings WHERE id > $fixture_readings";

my $pgbench = IPC::Run::start(
	[
		$source->installed_command('pgbench'), '-n', '-f', $script,
		'-c', '2', '-j', '1', '-R', '50', '-T', '900',
		'-h', $source->host, '-p', $source->port, $db
	],
	'<', \undef, '>', "$tmp/pgbench.out", '2>', "$tmp/pgbench.err");
END { eval { $pgbench->kill_kill if $pgbench }; }

sub stop_workload
{
	return unless $pgbench;
	$pgbench->kill_kill;
	eval { $pgbench->finish };
	undef $pgbench;
	$source->poll_query_until($db,
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'pgbench'")
	  or diag 'pgbench sessions are still on the source';
	return;
}

ok( $source->poll_query_until($db, "SELECT ($committed_sql) >= 20"),
	'the workload commits transactions on the source')
  or diag slurp_file("$tmp/pgbench.err");
my $before_migrate = $source->safe_psql($db, $committed_sql);

# --- 1. migrate online, while the workload runs -----------------------------

# $started: the online migrate returned and streamed; $streaming: it
# still streams (a subtest that finds it stopped says why in $not_streaming,
# and the subtests that need a stream are skipped rather than left waiting).
my $started = 0;
$not_streaming = 'the online migrate did not start streaming';
my $first_pid;

sub check_still_streaming
{
	return unless $streaming;
	my $s = stream_status($db, $src);
	return if $s->{state} eq 'streaming';
	$streaming = 0;
	$not_streaming = "the stream stopped: state '$s->{state}', error '$s->{error}'"
	  . ($s->{call_error} ? ", stream_status: $s->{call_error}" : '');
	diag $not_streaming;
	return;
}
subtest 'migrate online while the source is being written' => sub {
	my $start = time();
	($rc, $out, $err) = target_call($db,
		"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2, online => true)");
	is($rc, 0, 'migrate with online => true returns') or diag $err;
	note sprintf('migrate online took %d s', time() - $start);
	my $during = $source->safe_psql($db, $committed_sql);
	cmp_ok($during, '>', $before_migrate,
		"the workload went on committing during the call ($before_migrate before it, $during after)");

	is( $target->safe_psql($db,
			q{SELECT string_agg(step || '=' || state, ',' ORDER BY ordinal) FROM tsmigrate.progress
			   WHERE relation IS NULL AND step IN ('stream', 'cutover')}),
		'stream=done,cutover=pending', 'progress: the stream step is done, cutover pending');

	my $s = stream_status($db, $src);
	is($s->{state}, 'streaming', 'stream_status says streaming')
	  or diag explain $s;
	$first_pid = $s->{worker_pid};
	like($first_pid, qr/^\d+$/, 'stream_status names the worker');
	$started = $streaming = $s->{state} eq 'streaming' && $first_pid =~ /^\d+$/;
	is( $target->safe_psql($db,
			"SELECT backend_type FROM pg_stat_activity WHERE pid = " . ($first_pid || 0)),
		'tsmigrate stream', "the worker is the target's backend 'tsmigrate stream'");
	like($s->{slot}, qr/^tsmigrate/, "stream_status names the slot ($s->{slot})");
	ok( $s->{slot} ne ''
		  && $source->poll_query_until($db,
			"SELECT plugin = 'pgoutput' AND active FROM pg_replication_slots WHERE slot_name = '$s->{slot}'"),
		'the source has the slot, pgoutput, in use');
	is( $source->safe_psql($db, q{SELECT count(*) FROM pg_publication WHERE pubname LIKE 'tsmigrate%'}),
		'1', 'the source has the publication');
};

# --- 2. changes after the call arrive while streaming --------------------------

subtest 'changes committed after the call are applied while streaming' => sub {
	plan skip_all => $not_streaming unless $streaming;
	ok(marker_arrives('after the call'),
		'a row inserted on the source after the call appears on the target');

	# the source creates the chunks of 2024-01-08 to 2024-01-11 now
	$source->safe_psql($db, 'UPDATE workload SET days = 10');
	ok( $source->poll_query_until($db,
			q{SELECT count(*) = 4 FROM timescaledb_information.chunks
			   WHERE hypertable_name = 'readings' AND range_start >= '2024-01-08 00:00:00+00'}),
		'the workload creates four chunks on the source while streaming');
	ok( applied(
			q{SELECT count(DISTINCT date_trunc('day', time AT TIME ZONE 'UTC')) = 4
			    FROM readings WHERE time >= '2024-01-08 00:00:00+00'}),
		'their rows reach the target, in chunks of the same days');
	# (the worker writes its status about once a second)
	ok(applied("SELECT applied_transactions > 0 FROM tsmigrate.stream_status(\$\$$src\$\$)"),
		'stream_status counts the applied transactions');
	my $s = stream_status($db, $src);
	is($s->{state}, 'streaming', "still streaming, $s->{applied_transactions} transactions applied");
	like($s->{applied_lsn}, qr{^[0-9A-F]+/[0-9A-F]+$}, "and the applied LSN ($s->{applied_lsn})");
	like($s->{lag_bytes}, qr/^\d+$/, "and the lag in bytes ($s->{lag_bytes})");
	like($s->{lag_seconds}, qr/^[\d.e+-]*$/, "and in seconds ($s->{lag_seconds})");
	check_still_streaming();
};

# --- 3. the stream worker terminated -----------------------------------------------

subtest 'the stream worker terminated while the source is written' => sub {
	plan skip_all => $not_streaming unless $streaming;
	# chunks of 2024-01-12 and 13 are created while the worker is gone
	$source->safe_psql($db, 'UPDATE workload SET days = 12');
	my $pid = stream_status($db, $src)->{worker_pid};
	like($pid, qr/^\d+$/, "the worker runs ($pid)");
	$pid = 0 unless $pid =~ /^\d+$/;
	is($target->safe_psql($db, "SELECT pg_terminate_backend($pid)"), 't',
		'pg_terminate_backend of the worker');
	ok( $target->poll_query_until($db,
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
		'the worker is gone');
	# it may come back by itself: a new worker, or a state that says it
	# will not
	$target->poll_query_until($db, qq{
		SELECT state <> 'streaming'
		       OR worker_pid IN (SELECT pid FROM pg_stat_activity
		                          WHERE backend_type = 'tsmigrate stream' AND pid <> $pid)
		  FROM tsmigrate.stream_status(\$\$$src\$\$)});
	my $s = stream_status($db, $src);
	note "after the worker was terminated: state '$s->{state}', worker '$s->{worker_pid}', error '$s->{error}'";
	if ($s->{state} eq 'streaming' && $s->{worker_pid} =~ /^\d+$/ && $s->{worker_pid} != $pid)
	{
		pass('the worker came back by itself');
	}
	else
	{
		($rc, $out, $err) = target_call($db,
			"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2, online => true)");
		is($rc, 0, 'migrate online called again') or diag $err;
	}
	$s = stream_status($db, $src);
	is($s->{state}, 'streaming', 'streaming again') or diag explain $s;
	isnt($s->{worker_pid}, $pid, 'with another worker');
	$streaming = $s->{state} eq 'streaming';
	$not_streaming = "not streaming after the worker was terminated: state '$s->{state}', error '$s->{error}'";
	ok(marker_arrives('after the worker was terminated'),
		'a row inserted on the source reaches the target again');
	check_still_streaming();
};

# --- 4. the target restarted ----------------------------------------------------

subtest 'the target restarted while the source is written' => sub {
	plan skip_all => $not_streaming unless $streaming;
	$source->safe_psql($db, 'UPDATE workload SET days = 14');
	$target->restart;
	($rc, $out, $err) = target_call($db,
		"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2, online => true)");
	is($rc, 0, 'after the restart, migrate online called again') or diag $err;
	my $s = stream_status($db, $src);
	is($s->{state}, 'streaming', 'streaming again') or diag explain $s;
	$streaming = $s->{state} eq 'streaming';
	$not_streaming = "not streaming after the target restarted: state '$s->{state}', error '$s->{error}'";
	# the stream goes on under the workload for a while
	my $so_far = $source->safe_psql($db, $committed_sql);
	ok($source->poll_query_until($db, "SELECT ($committed_sql) >= $so_far + 200"),
		'the workload commits 200 more transactions');
	ok(marker_arrives('after the target restarted'),
		'a row inserted on the source reaches the target again');
	ok( $source->poll_query_until($db,
			q{SELECT count(*) = 4 FROM timescaledb_information.chunks
			   WHERE hypertable_name = 'readings' AND range_start >= '2024-01-12 00:00:00+00'}),
		'the source has created the chunks of 2024-01-12 to 2024-01-15 meanwhile');
	check_still_streaming();
};

# --- 5. the workload stops; cutover ----------------------------------------------

stop_workload();
my $committed = $source->safe_psql($db, $committed_sql);
note "the workload committed $committed transactions ($before_migrate before migrate)";
my $pgbench_err = slurp_file("$tmp/pgbench.err");
unlike($pgbench_err, qr/aborted|ERROR/, 'no transaction of the workload failed')
  or diag $pgbench_err;

subtest 'the source restarted' => sub {
	plan skip_all => $not_streaming unless $streaming;
	# the worker loses its connection, and starts again a few seconds later
	$source->restart;
	ok(marker_arrives('after the source restarted'),
		'a row inserted on the source after its restart reaches the target');
	my $s = stream_status($db, $src);
	is($s->{state}, 'streaming', 'still streaming') or diag explain $s;
	$streaming = $s->{state} eq 'streaming';
	$not_streaming = "not streaming after the source restarted: state '$s->{state}', error '$s->{error}'";
};

subtest 'cutover refuses while a source session has written in an open transaction' => sub {
	plan skip_all => 'the online migrate did not start streaming' unless $started;
	my $bg = $source->background_psql($db);
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	$bg->query_safe('BEGIN');
	$bg->query_safe("INSERT INTO accounts (name, balance) VALUES ('open transaction', 7)");
	($rc, $out, $err) = target_call($db, "CALL tsmigrate.cutover(\$\$$src\$\$)");
	isnt($rc, 0, 'cutover fails');
	like($err, qr/ERROR:  55006: /, 'with SQLSTATE 55006') or diag $err;
	like($err, qr/\b$pid\b/, "naming the session's process ($pid)");
	is(stream_status($db, $src)->{state}, 'streaming', 'the stream goes on');
	is( $target->safe_psql($db,
			q{SELECT r.state || ', step ' || s.state FROM tsmigrate.run r
			    JOIN tsmigrate.run_step s USING (run_id)
			   WHERE s.step = 'cutover' ORDER BY r.run_id DESC LIMIT 1}),
		'failed, step failed', 'the run and its cutover step say failed, not running');
	$bg->query_safe('COMMIT');
	$bg->quit;
};

my $done = 0;
subtest 'cutover' => sub {
	plan skip_all => 'the online migrate did not start streaming' unless $started;
	($rc, $out, $err) = target_call($db, "CALL tsmigrate.cutover(\$\$$src\$\$)");
	is($rc, 0, 'cutover succeeds once that transaction is committed') or diag $err;
	like($err, qr/NOTICE:  00000: .*downtime/i, 'a NOTICE says the downtime');
	($err =~ /^(NOTICE:  00000: .*downtime.*)$/mi) and note $1;
	$done = ($rc // 1) == 0;
	is($target->safe_psql($db, q{SELECT count(*) FROM accounts WHERE name = 'open transaction'}),
		'1', 'the row of that transaction is on the target');
	my $s = stream_status($db, $src);
	is($s->{state}, 'done', 'stream_status says done') or diag explain $s;
	is( $target->safe_psql($db,
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'tsmigrate stream'"),
		'0', 'no stream worker is left on the target');
	is( $target->safe_psql($db,
			q{SELECT string_agg(step || '=' || state, ',' ORDER BY ordinal) FROM tsmigrate.progress
			   WHERE relation IS NULL AND state NOT IN ('done', 'skipped')}),
		'', 'progress: every step done or skipped, cutover included');
	is( $source->safe_psql($db,
			q{SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'tsmigrate%'}),
		'0', 'no replication slot of tsmigrate is left on the source');
	is( $source->safe_psql($db, q{SELECT count(*) FROM pg_publication WHERE pubname LIKE 'tsmigrate%'}),
		'0', 'no publication of tsmigrate is left on the source');
};

subtest 'verify at cutover counts again what the stream wrote, not the rest' => sub {
	plan skip_all => 'cutover did not succeed' unless $done;
	my $step = q{SELECT s.detail FROM tsmigrate.run_step s JOIN tsmigrate.run r USING (run_id)
	              WHERE s.step = '%s' ORDER BY r.run_id DESC LIMIT 1};
	like($target->safe_psql($db, sprintf($step, 'data')),
		qr/; [1-9]\d* relations counted on both sides \([1-9]\d* rows\)/,
		'the data step counted the rows on both sides when the copy was done');
	like($target->safe_psql($db, sprintf($step, 'verify')),
		qr/all ok; the rows of [1-9]\d* relations from their counts after the copy and the stream's changes/,
		'verify at cutover took those counts and the changes the stream applied');
	is( $target->safe_psql($db,
			q{SELECT string_agg(relation, ',' ORDER BY relation) FROM tsmigrate.run_stream_relation
			   WHERE NOT chunk AND NOT written AND NOT recopy}),
		'public.archive', 'of the tables, the stream did not write archive only');
};

# --- 6. source and target are the same ---------------------------------------------

subtest 'after cutover the target is the source' => sub {
	plan skip_all => 'cutover did not succeed' unless $done;
	($rc, $out, $err) = target_call($db,
		"SELECT count(*) FILTER (WHERE NOT ok) || ' of ' || count(*)"
		  . " FROM tsmigrate.verify(\$\$$src\$\$, checksums => true)");
	like($out, qr/^0 of \d+$/, "verify with checksums finds no difference ($out)") or do {
		diag $err;
		diag((target_call($db,
			"SELECT kind, object, source_value, target_value FROM tsmigrate.verify(\$\$$src\$\$, checksums => true) WHERE NOT ok"))[1]);
	};
	foreach my $table (sort keys %digest)
	{
		my $want = $source->safe_psql($db, $digest{$table});
		my ($count, $keys) = split /\|/, $want;
		is($target->safe_psql($db, $digest{$table}), $want,
			"$table: the same $count rows on both sides, each once ($keys keys)");
	}
	is( $target->safe_psql($db, 'SELECT count(*) FROM ONLY readings'), '0',
		'no reading is in the root table itself');
	my $ranges = $source->safe_psql($db, $chunk_ranges);
	is($target->safe_psql($db, $chunk_ranges), $ranges,
		'the hypertable has the chunks of the source, compressed as there');
	like($ranges, qr/^2024-01-01 00:00:00\.\.2024-01-02 00:00:00:compressed, .*2024-01-15 00:00:00\.\.2024-01-16 00:00:00:plain$/,
		'from the compressed first day to the last day the workload created');
	# (a chunk the source made while streaming is made here with its name)
	is($target->safe_psql($db, $chunk_names), $source->safe_psql($db, $chunk_names),
		'each chunk has the name it has on the source');
	foreach my $seq (@sequences)
	{
		my $s = $source->safe_psql($db, "SELECT last_value FROM $seq");
		cmp_ok($target->safe_psql($db, "SELECT last_value FROM $seq"), '>=', $s,
			"sequence $seq is at least at the source's value ($s)");
	}
	is($target->safe_psql($db, "SELECT count(*) FROM accounts WHERE name LIKE 'marker %'"),
		$markers, 'every marker row arrived once');
	cmp_ok($committed, '>', $before_migrate, 'the workload wrote after migrate started');
};

# --- 7. refused before anything changes --------------------------------------------

subtest 'a source without wal_level = logical is refused before anything changes' => sub {
	my $replica = tsm_source_node('replica',
		conf => "wal_level = replica\nmax_replication_slots = 4\nmax_wal_senders = 4\n");
	$replica->safe_psql('postgres', 'CREATE DATABASE app');
	$replica->safe_psql('app', q{
		CREATE SCHEMA app;
		CREATE TABLE app.items (id int PRIMARY KEY, v text);
		INSERT INTO app.items SELECT g, 'v' || g FROM generate_series(1, 100) g;
	});
	$target->safe_psql('postgres', 'CREATE DATABASE from_replica');
	$target->safe_psql('from_replica', 'CREATE EXTENSION tsmigrate');
	my $rsrc = 'replica';
	create_server('from_replica', $rsrc, $replica, 'app');
	($rc, $out, $err) = target_call('from_replica',
		"CALL tsmigrate.migrate(\$\$$rsrc\$\$, online => true)");
	like($err, qr/ERROR:  55000: /, 'migrate online fails with 55000') or diag $err;
	like($err, qr/(?:ERROR|DETAIL):  [^\n]*wal_level/, 'naming wal_level');
	like($err, qr/HINT:  .*wal_level/, 'the hint says how to set it');
	is($replica->safe_psql('app', 'SELECT count(*) FROM pg_replication_slots'), '0',
		'no replication slot on the source');
	is($replica->safe_psql('app', 'SELECT count(*) FROM pg_publication'), '0',
		'no publication on the source');
	is( $target->safe_psql('from_replica',
			q{SELECT count(*) FROM pg_namespace WHERE nspname = 'app'}),
		'0', 'nothing of the source is created on the target');
	$replica->stop;
};

subtest 'a table without a replica identity is refused; abandon' => sub {
	$source->safe_psql('postgres', 'CREATE DATABASE small');
	$source->safe_psql('small', q{
		CREATE TABLE keyed (id int PRIMARY KEY, v text);
		CREATE TABLE loose (a int, b text);
		INSERT INTO keyed SELECT g, 'k' || g FROM generate_series(1, 100) g;
		INSERT INTO loose SELECT g, 'l' || g FROM generate_series(1, 100) g;
		CREATE TABLE tickets (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
		INSERT INTO tickets (v) SELECT 't' || g FROM generate_series(1, 10) g;
	});
	$target->safe_psql('postgres', 'CREATE DATABASE small');
	$target->safe_psql('small', 'CREATE EXTENSION tsmigrate');
	my $ssrc = 'small_src';
	create_server('small', $ssrc, $source, 'small');
	my $left_on_source = q{
		SELECT (SELECT count(*) FROM pg_replication_slots WHERE database = 'small')
		       || ' slots, ' || (SELECT count(*) FROM pg_publication) || ' publications'};
	# a connection string: the stream worker could not connect again
	my $connstr = tsm_tcp_connstr($source, 'small');
	($rc, $out, $err) = target_call('small',
		"CALL tsmigrate.migrate(\$\$$connstr\$\$, online => true)");
	like($err, qr/ERROR:  55000: .*foreign server/, 'a connection string is refused: online needs a foreign server')
	  or diag $err;
	like($err, qr/HINT:  CREATE SERVER/, 'the hint says how to make one');

	($rc, $out, $err) = target_call('small',
		"CALL tsmigrate.migrate(\$\$$ssrc\$\$, online => true)");
	unlike($err, qr/is not finished/,
		'doing as the hint says, through a foreign server, is not stopped by the refused run')
	  or do {
		# (as that error's hint says, to go on with the rest)
		diag $err;
		$target->safe_psql('small', 'DELETE FROM tsmigrate.run');
		($rc, $out, $err) = target_call('small',
			"CALL tsmigrate.migrate(\$\$$ssrc\$\$, online => true)");
	  };
	like($err, qr/ERROR:  55000: /, 'a table without replica identity: migrate online fails with 55000') or diag $err;
	like($err, qr/(?:ERROR|DETAIL):  [^\n]*\bloose\b/, 'naming the table');
	like($err, qr/HINT:  .*REPLICA IDENTITY/i, 'the hint says how to give it one');
	unlike($err, qr/(?:ERROR|DETAIL):  [^\n]*\bkeyed\b/, 'not the table with a key');
	is($source->safe_psql('small', $left_on_source), '0 slots, 0 publications',
		'no slot and no publication on the source');
	is($target->safe_psql('small', q{SELECT count(*) FROM pg_class WHERE relname IN ('keyed', 'loose')}),
		'0', 'no table created on the target');

	$source->safe_psql('small', 'ALTER TABLE loose REPLICA IDENTITY FULL');
	($rc, $out, $err) = target_call('small',
		"CALL tsmigrate.migrate(\$\$$ssrc\$\$, online => true)");
	is($rc, 0, 'with REPLICA IDENTITY FULL migrate online starts') or diag $err;
	my $small_streams = stream_status('small', $ssrc)->{state} eq 'streaming';
	ok($small_streams, 'and streams');
	$source->safe_psql('small', q{
		UPDATE loose SET b = 'changed' WHERE a = 7;
		INSERT INTO keyed VALUES (101, 'new');});
	ok( $small_streams && $target->poll_query_until('small',
			q{SELECT (SELECT b FROM loose WHERE a = 7) = 'changed'
			     AND (SELECT v FROM keyed WHERE id = 101) = 'new'}),
		'its changes are applied');
	# an identity GENERATED ALWAYS given a new value by an update
	$source->safe_psql('small', q{UPDATE tickets SET id = DEFAULT WHERE id = 5});
	my $tickets = q{SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM tickets};
	my $want = $source->safe_psql('small', $tickets);
	ok( $small_streams && $target->poll_query_until('small', "SELECT ($tickets) = '$want'"),
		"an update that gives an identity column GENERATED ALWAYS a new value is applied ($want)")
	  or diag $target->safe_psql('small', $tickets);
	is($source->safe_psql('small', $left_on_source), '1 slots, 1 publications',
		'the source has its slot and publication');

	($rc, $out, $err) = target_call('small', "CALL tsmigrate.abandon(\$\$$ssrc\$\$)");
	is($rc, 0, 'abandon') or diag $err;
	is($source->safe_psql('small', $left_on_source), '0 slots, 0 publications',
		'drops the slot and the publication on the source');
	ok( $target->poll_query_until('small',
			q{SELECT count(*) = 0 FROM pg_stat_activity
			   WHERE backend_type = 'tsmigrate stream' AND datname = 'small'}),
		'and stops the stream worker');
	isnt(stream_status('small', $ssrc)->{state}, 'streaming', 'stream_status no longer says streaming');
};

subtest 'a change the stream could not apply row by row: the table is counted again at cutover' => sub {
	$source->safe_psql('postgres', 'CREATE DATABASE lost');
	$source->safe_psql('lost', q{
		CREATE TABLE hot (id int PRIMARY KEY, v text);
		CREATE TABLE cold (id int PRIMARY KEY, v text);
		INSERT INTO hot SELECT g, 'h' || g FROM generate_series(1, 100) g;
		INSERT INTO cold SELECT g, 'c' || g FROM generate_series(1, 100) g;
	});
	$target->safe_psql('postgres', 'CREATE DATABASE lost');
	$target->safe_psql('lost', 'CREATE EXTENSION tsmigrate');
	my $lsrc = 'lost_src';
	create_server('lost', $lsrc, $source, 'lost');
	($rc, $out, $err) = target_call('lost', "CALL tsmigrate.migrate(\$\$$lsrc\$\$, online => true)");
	is($rc, 0, 'migrate online') or diag $err;
	$source->safe_psql('lost', q{INSERT INTO hot VALUES (101, 'new')});
	ok($target->poll_query_until('lost', 'SELECT count(*) = 101 FROM hot'), 'the new row is applied');
	# after the copy, a row goes missing here; then the source updates it:
	# the stream finds no row to update
	$target->safe_psql('lost', 'DELETE FROM hot WHERE id = 5');
	$source->safe_psql('lost', q{UPDATE hot SET v = 'updated' WHERE id = 5});
	ok( $target->poll_query_until('lost',
			q{SELECT recount FROM tsmigrate.run_stream_relation WHERE relation = 'public.hot'}),
		'the stream marks the table to be counted again');
	($rc, $out, $err) = target_call('lost', "CALL tsmigrate.cutover(\$\$$lsrc\$\$)");
	isnt($rc, 0, 'cutover fails');
	like($err, qr/ERROR:  22000: source and target differ/, 'in its verify step (22000)') or diag $err;
	like($err, qr/rows public\.hot: source 101, target 100/, 'naming the table and both counts');
	unlike($err, qr/public\.cold/, 'not the table the stream did not write');
	is( $source->safe_psql('lost',
			q{SELECT count(*) FROM pg_replication_slots WHERE database = 'lost'}),
		'0', 'the stream had ended: no slot left on the source');
};

done_testing();
