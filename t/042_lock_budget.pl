# t/042_lock_budget.pl
#
# A database larger than one transaction's share of the lock table
# migrates: source and target run with the smallest lock table PostgreSQL
# allows (max_locks_per_transaction = 10, few connections: some 400
# locks for the whole server), and the source has more tables, and a
# hypertable with more chunks, than that.  pg_dump | psql has no such
# limit (psql commits statement by statement); a migration that held every
# table or chunk it made or read in one transaction fails with "out of
# shared memory".  What this proves at this size holds for 10,000 tables
# and chunks with the default budget (64 per connection): bench/ measures
# that.

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
my $source = tsm_source_node('source', timescaledb => 1, conf => $small);
my $target = tsm_target_node('target', timescaledb => 1, conf => $small);
my $tables = 500;
my $chunks = 500;
my ($rc, $out, $err);

# each statement in a transaction of its own, as the source's own
# application would have made them over time
$source->safe_psql('postgres', 'CREATE DATABASE app');
my $make = qq{
	CREATE SCHEMA many;
	CREATE TABLE many.parent (id int PRIMARY KEY);
	INSERT INTO many.parent SELECT generate_series(1, 10);
	SELECT format('CREATE TABLE many.t%s (id int PRIMARY KEY, parent int REFERENCES many.parent,'
	              ' v int CHECK (v >= 0), note text)', g)
	  FROM generate_series(1, $tables) g \\gexec
	SELECT format('CREATE INDEX ON many.t%s (v)', g) FROM generate_series(1, $tables) g \\gexec
	SELECT format('COMMENT ON TABLE many.t%s IS %L', g, 'table ' || g)
	  FROM generate_series(1, $tables) g \\gexec
	SELECT format('INSERT INTO many.t%s VALUES (1, 1, %s, %L)', g, g, 'row of ' || g)
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
is($source->safe_psql('app', q{SELECT count(*) FROM show_chunks('readings')}),
	$chunks, "the source's hypertable has $chunks chunks");

# the target's settings say the lock table is too small for one
# transaction over everything
$target->safe_psql('postgres', 'CREATE DATABASE app');
$target->safe_psql('app', 'SET client_min_messages = warning; CREATE EXTENSION timescaledb; CREATE EXTENSION tsmigrate');
my $src = $source->connstr('app');

($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2)", dbname => 'app');
is($rc, 0, "migrate of $tables tables and $chunks chunks within a lock table of some 400 locks")
  or diag $err;

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FILTER (WHERE NOT ok) || ' of ' || count(*)"
	  . " FROM tsmigrate.verify(\$\$$src\$\$)",
	dbname => 'app');
like($out, qr/^0 of \d+$/, "verify finds no difference ($out)") or diag $err;
is( $target->safe_psql('app',
		q{SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		   WHERE n.nspname = 'many' AND c.relkind = 'r'}),
	$tables + 1, 'every table is there');
is( $target->safe_psql('app',
		q{SELECT count(*) || '/' || sum(v) FROM (SELECT (xpath('/row/v/text()', query_to_xml(format('SELECT v FROM many.%I', c.relname), false, false, '')))[1]::text::int v
		    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		   WHERE n.nspname = 'many' AND c.relname ~ '^t\d+$') s}),
	"$tables/" . ($tables * ($tables + 1) / 2), 'each table has its row');
is($target->safe_psql('app', q{SELECT count(*) FROM show_chunks('readings')}),
	$chunks, "the target's hypertable has the $chunks chunks");
is($target->safe_psql('app', q{SELECT count(*) FROM readings}),
	$chunks * 4, 'and their rows');

done_testing();
