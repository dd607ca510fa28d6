# t/042_lock_budget.pl
#
# A database larger than one transaction's share of the lock table: the
# target runs with the smallest lock table PostgreSQL allows
# (max_locks_per_transaction = 10, few connections: some 400 locks for the
# whole server), and the source has more tables, and a hypertable with more
# chunks, than one transaction could create there.  pg_dump | psql has no
# such limit (psql commits statement by statement); before migrate's
# pre-data and timescaledb steps committed in batches, pre-data failed with
# "out of shared memory" at the 203rd table.  A failure injected in the
# middle of pre-data (a table whose owner the target lacks), then the cause
# removed, resumes after the last committed batch, creating nothing twice.
#
# The data step's checks of the target's tables and verify still read
# every relation in one transaction on each side (issue 16): at this size
# the run stops there, and this test asserts the steps before it.

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

# the lock table: max_locks_per_transaction x (max_connections +
# autovacuum_max_workers + 1 + max_worker_processes + max_wal_senders)
my $small = "max_locks_per_transaction = 10\nmax_connections = 12\nmax_wal_senders = 0\n";
my $source = tsm_source_node('source', timescaledb => 1);
my $target = tsm_target_node('target', timescaledb => 1, conf => $small);
my $tables = 500;
my $chunks = 500;
my ($rc, $out, $err);

# each statement in a transaction of its own, as the source's own
# application would have made them over time
$source->safe_psql('postgres', 'CREATE DATABASE app');
my $make = qq{
	CREATE ROLE late_owner;
	CREATE SCHEMA many;
	CREATE TABLE many.parent (id int PRIMARY KEY);
	INSERT INTO many.parent SELECT generate_series(1, 10);
	SELECT format('CREATE TABLE many.t%s (id int PRIMARY KEY, parent int REFERENCES many.parent,'
	              ' v int CHECK (v >= 0), note text)', g)
	  FROM generate_series(1, $tables) g \\gexec
	SELECT format('CREATE INDEX ON many.t%s (v)', g) FROM generate_series(1, $tables) g \\gexec
	SELECT format('COMMENT ON TABLE many.t%s IS %L', g, 'table ' || g)
	  FROM generate_series(1, $tables) g \\gexec
	ALTER TABLE many.t300 OWNER TO late_owner;
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
is($source->safe_psql('app', q{SELECT count(*) FROM show_chunks('readings')}),
	$chunks, "the source's hypertable has $chunks chunks");

$target->safe_psql('postgres', 'CREATE DATABASE app');
$target->safe_psql('app', 'SET client_min_messages = warning; CREATE EXTENSION timescaledb; CREATE EXTENSION tsmigrate');
my $src = $source->connstr('app');
my $steps = q{SELECT string_agg(step || '=' || state, ',' ORDER BY ordinal) FROM tsmigrate.run_step
	WHERE step IN ('pre-data', 'timescaledb')};
my $many = q{SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'many' AND c.relkind = 'r'};

# the owner of many.t300 is not on the target (roles => false): pre-data
# stops there, with the batches before it committed
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate(\$\$$src\$\$, roles => false)", dbname => 'app');
like($err, qr/42704: role "late_owner" does not exist/,
	'pre-data stops at the table whose owner the target lacks');
unlike($err, qr/out of shared memory/, 'and not for want of locks');
my $committed = $target->safe_psql('app', $many);
ok($committed > 200 && $committed < $tables + 1,
	"the batches before it stay committed ($committed tables)");
is( $target->safe_psql('app',
		q{SELECT count(*) FROM tsmigrate.run_object WHERE section = 'pre-data' AND kind = 'table'}),
	$committed, 'each committed table is recorded with its batch');

# the cause removed, the run resumes after the last committed batch
$target->safe_psql('app', 'CREATE ROLE late_owner');
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate(\$\$$src\$\$, roles => false)", dbname => 'app');
like($err, qr/step "pre-data" done in [\d.]+ s: \d+ objects/, 'the resumed pre-data step is done');
is($target->safe_psql('app', $steps), 'pre-data=done,timescaledb=done',
	"pre-data and the hypertable's chunks are done within a lock table of some 400 locks")
  or diag $err;
is($target->safe_psql('app', $many), $tables + 1, 'every table is there, once');
is( $target->safe_psql('app',
		q{SELECT pg_get_userbyid(relowner) || ' ' || obj_description(oid, 'pg_class') FROM pg_class WHERE oid = 'many.t300'::regclass}),
	'late_owner table 300', 'the table that failed has its owner and comment');
is($target->safe_psql('app', q{SELECT count(*) FROM show_chunks('readings')}),
	$chunks, "the target's hypertable has the $chunks chunks");

done_testing();
