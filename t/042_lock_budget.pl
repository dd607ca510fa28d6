# t/042_lock_budget.pl
#
# A database larger than one transaction's share of the lock table
# migrates: source and target run with the smallest lock table PostgreSQL
# allows (max_locks_per_transaction = 10, few connections: some 400 locks
# for the whole server), and the source has more tables, and a hypertable
# with more chunks, than one transaction could create or read there.
# pg_dump | psql has no such limit (psql commits statement by statement);
# before migrate committed its steps in batches, pre-data failed with "out
# of shared memory" at the 203rd table, and then the chunks, the copy
# workers' source transactions, the data step's checks, ANALYZE and verify
# each would have.  A failure injected in the middle of pre-data (a table
# the target has already), then the cause removed, resumes after the last
# committed batch and creates nothing twice.  What this proves at this size
# holds for 10,000 tables and chunks with the default budget (64 per
# connection): bench/ measures that.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TsmTest;
use SchemaCompare;

plan skip_all => 'TimescaleDB is not installed' unless tsm_have_timescaledb();

# the lock table: max_locks_per_transaction x (max_connections +
# autovacuum_max_workers + 1 + max_worker_processes + max_wal_senders)
my $small = "max_locks_per_transaction = 10\nmax_connections = 12\nmax_wal_senders = 0\n";
my $source = tsm_source_node('source', timescaledb => 1, conf => $small);
my $target = tsm_target_node('target', timescaledb => 1, conf => $small);
my $tables = 500;
my $chunks = 500;
my ($rc, $out, $err);

# each statement in a transaction of its own, as the source's own
# application would have made them over time
$source->safe_psql('postgres', 'CREATE DATABASE app');
my $make = qq{
	CREATE TABLE parent (id int PRIMARY KEY);
	INSERT INTO parent SELECT generate_series(1, 10);
	SELECT format('CREATE TABLE t%s (id int PRIMARY KEY, parent int REFERENCES parent,'
	              ' v int CHECK (v >= 0), note text)', g)
	  FROM generate_series(1, $tables) g \\gexec
	SELECT format('CREATE INDEX ON t%s (v)', g) FROM generate_series(1, $tables) g \\gexec
	SELECT format('COMMENT ON TABLE t%s IS %L', g, 'table ' || g)
	  FROM generate_series(1, $tables) g \\gexec
	SELECT format('INSERT INTO t%s VALUES (1, 1, %s, %L)', g, g, 'row of ' || g)
	  FROM generate_series(1, $tables) g \\gexec
	CREATE EXTENSION timescaledb;
	CREATE TABLE readings (time timestamptz NOT NULL, device int NOT NULL, value float8);
	SELECT create_hypertable('readings', 'time', chunk_time_interval => interval '1 day');
	CREATE INDEX ON readings (device, time DESC);
	SELECT format('INSERT INTO readings SELECT %L::timestamptz + g * interval ''6 hours'', g %% 3, g'
	              ' FROM generate_series(0, 3) g', '2020-01-01'::date + d)
	  FROM generate_series(0, $chunks - 1) d \\gexec
};
my ($mout, $merr);
IPC::Run::run(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $source->connstr('app') ],
	'<', \$make, '>', \$mout, '2>', \$merr);
is($?, 0, 'the source is made, statement by statement') or diag $merr;
is($source->safe_psql('app', q{SELECT count(*) FROM timescaledb_information.chunks}),
	$chunks, "the source's hypertable has $chunks chunks");

# the target has one of the tables already: pre-data stops there, with the
# batches before it committed
$target->safe_psql('postgres', 'CREATE DATABASE app');
$target->safe_psql('app', 'SET client_min_messages = warning; CREATE EXTENSION timescaledb;'
	  . ' CREATE EXTENSION tsmigrate; CREATE TABLE public.t300 (planted int)');
my $src = $source->connstr('app');
my $ours = q{SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace
	AND relkind = 'r' AND relname ~ '^t\d+$'};

($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2)", dbname => 'app');
like($err, qr/42P07: relation "t300" already exists/,
	'pre-data stops at the table the target has already');
unlike($err, qr/out of shared memory/, 'and not for want of locks');
my $committed = $target->safe_psql('app', $ours);
ok($committed > 200 && $committed < $tables,
	"the batches before it stay committed ($committed tables, the planted one included)");
is( $target->safe_psql('app',
		q{SELECT count(*) FROM tsmigrate.run_object WHERE section = 'pre-data' AND kind = 'table'
		   AND name ~ '^"public"."t\d+"$'}),
	$committed - 1, 'each table it committed is recorded with its batch');

# the cause removed, the run resumes after the last committed batch and
# goes to the end: the data, post-data, ANALYZE and verify
$target->safe_psql('app', 'DROP TABLE public.t300');
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2)", dbname => 'app');
is($rc, 0, "migrate of $tables tables and $chunks chunks within a lock table of some 400 locks, resumed")
  or diag $err;
like($err, qr/step "verify" done in [\d.]+ s: \d+ checks, all ok/, 'its verify step finds every check ok');
is($target->safe_psql('app', $ours), $tables, 'every table is there, once');
is($target->safe_psql('app', 'SELECT v || note FROM t300'), '300row of 300',
	'the table that failed has its row');
is( $target->safe_psql('app',
		q{SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text ~ '^t\d+$'}),
	$tables, 'and each its foreign key');
is($target->safe_psql('app', q{SELECT count(*) FROM timescaledb_information.chunks}),
	$chunks, "the target's hypertable has the $chunks chunks");

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FILTER (WHERE NOT ok) || ' of ' || count(*) || ', '"
	  . " || max(target_value) FILTER (WHERE kind = 'rows' AND object = 'public.readings')"
	  . " FROM tsmigrate.verify(\$\$$src\$\$, checksums => true)",
	dbname => 'app');
like($out, qr/^0 of \d+, 2000$/,
	"verify with checksums finds no difference, and counts the hypertable's rows chunk by chunk ($out)")
  or diag $err;

# pull_schema alone is one transaction (a function cannot commit): when the
# lock table fills, the error says why and what to do
$target->safe_psql('postgres', 'CREATE DATABASE alone');
$target->safe_psql('alone', 'CREATE EXTENSION tsmigrate');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FROM tsmigrate.pull_schema(\$\$$src\$\$, 'pre-data')", dbname => 'alone');
like($err, qr/ERROR:  53200: out of shared memory\nDETAIL:  pull_schema replays the section's \d+ objects \(\d+ tables, indexes, constraints and other relations\) in one transaction, which locks each relation it creates until it ends; the lock table holds 10 locks per connection \(max_locks_per_transaction\)\.\nHINT:  Run CALL tsmigrate\.migrate\(\.\.\.\), which commits the section in batches, or call pull_schema with atomic => false, or set max_locks_per_transaction to at least \d+ and restart the server\./,
	'pull_schema alone: the lock table is named, with the ways out');
is($target->safe_psql('alone', q{SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace}),
	'0', 'and nothing of the section stays');

# atomic => false: a schema worker commits each object on its own, so no
# lock outlives its object.  A table the target has already, in the middle:
# the error says how much of the section stays
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FROM tsmigrate.pull_schema(\$\$$src\$\$, 'pre-data', jobs => 2, atomic => true)",
	dbname => 'alone');
like($err, qr/ERROR:  22023: pull_schema with atomic => true runs with one job/,
	'atomic => true with several jobs is refused');
$target->safe_psql('alone', 'CREATE TABLE t300 (x int)');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FROM tsmigrate.pull_schema(\$\$$src\$\$, 'pre-data', atomic => false)",
	dbname => 'alone');
like($err,
	qr/ERROR:  42P07: relation "t300" already exists\nDETAIL:  (\d+) of the section's (\d+) objects were committed before this error, and stay on the target\.\nHINT:  Once the cause is removed, call pull_schema again with skip_existing => true: it leaves out the objects that are there\./,
	'pull_schema, atomic => false: the error says how much of the section stays');
my ($stayed) = $err =~ /DETAIL:  (\d+) of/;
my $tables_left = $target->safe_psql('alone', $ours);
ok(defined $stayed && $tables_left > 200 && $tables_left < $tables + 1,
	"the objects committed before the error stay ($tables_left tables)");
my $all_left = $target->safe_psql('alone',
	q{SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'}) - 1;
$target->safe_psql('alone', 'DROP TABLE t300');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FILTER (WHERE action = 'exists' AND kind = 'table') || ' '"
	  . " || count(*) FILTER (WHERE action = 'created' AND kind = 'table')"
	  . " FROM tsmigrate.pull_schema(\$\$$src\$\$, 'pre-data', jobs => 2, skip_existing => true)",
	dbname => 'alone');
is($rc, 0, 'the cause removed, pull_schema with skip_existing (and two jobs) finishes the section') or diag $err;
is($out, $all_left . ' ' . ($tables + 2 - $all_left),
	'leaving out the tables committed before, creating the others');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FROM tsmigrate.pull_schema(\$\$$src\$\$, 'post-data', atomic => false)",
	dbname => 'alone');
is($rc, 0, "post-data, atomic => false, within the same lock table") or diag $err;
is( schema_dump_diff(
		$source, 'app', $target, 'alone',
		pg_dump_args => [ '--table', 'public.t3*', '--table', 'public.parent' ]),
	'',
	'the schema is the source\'s: tables t3* (t300 among them) with their keys, indexes, foreign keys and comments'
);
is($target->safe_psql('alone', $ours), $tables,
	'every table is there, once');

done_testing();
