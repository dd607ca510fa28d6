# t/060_hostile_caller.pl
#
# A caller with the README's grants (EXECUTE on tsmigrate's functions and
# procedure, DML on its state tables, CREATE in a schema) attacks the
# superuser who runs migrate next: it plants a run whose relation name is
# SQL, reads and rewrites other runs' rows.  None of it may work.  Then the
# README's grant list, run as written, is enough for a whole migrate; and a
# run left "running" by a terminated leader is marked failed by the next
# call.

use strict;
use warnings FATAL => 'all';

use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib dirname(__FILE__);
use TsmTest;

my $source = tsm_source_node('source');
my $target = tsm_target_node('target');
my ($rc, $out, $err);

$source->safe_psql('postgres', 'CREATE DATABASE shop');
$source->safe_psql('shop', q{
	CREATE TABLE public.orders (id int PRIMARY KEY, note text);
	INSERT INTO public.orders SELECT g, 'n' || g FROM generate_series(1, 1000) g;
});
tsm_set_source_auth($source, 'scram-sha-256');
$source->safe_psql('postgres', q{
	CREATE ROLE reader LOGIN PASSWORD 'reader-secret';
	GRANT CONNECT ON DATABASE shop TO reader;
});
$source->safe_psql('shop', 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader');
my $port = $source->port;

# the README's grant list, as written, for a role of the target
my $readme = slurp_file(dirname(__FILE__) . '/../README.md');
my ($grants) = $readme =~ /<!-- grants:begin -->\n```sql\n(.*?)```\n<!-- grants:end -->/s;
ok(defined $grants, 'the README has its grant list between the markers');
$grants //= '';

sub grant_as_readme
{
	my ($db, $role) = @_;
	(my $sql = $grants) =~ s/\bmigrator\b/$role/g;
	$target->safe_psql($db, $sql);
	return;
}

$target->safe_psql('postgres', q{
	CREATE ROLE mallory LOGIN;
	CREATE ROLE migrator LOGIN;
	CREATE DATABASE mart OWNER migrator;
	GRANT CREATE ON DATABASE postgres TO mallory;
});
$target->safe_psql('postgres', qq{
	CREATE SERVER legacy FOREIGN DATA WRAPPER tsmigrate
		OPTIONS (host '127.0.0.1', port '$port', dbname 'shop');
	CREATE USER MAPPING FOR CURRENT_USER SERVER legacy
		OPTIONS (user 'reader', password 'reader-secret');
	CREATE USER MAPPING FOR mallory SERVER legacy
		OPTIONS (user 'reader', password 'reader-secret');
});
grant_as_readme('postgres', 'mallory');

# --- 1. a planted run whose relation name is SQL ---------------------------
#
# to_regclass() takes an unquoted name with ';' and comments in it, so a
# table "x;alter/**/role/**/mallory/**/superuser" in schema m resolves, and
# the old resume pasted the name into TRUNCATE ONLY %s.

my @steps = qw(checks extensions roles pre-data timescaledb data post-data
  compression analyze jobs verify);
my $planted = join "\n", map {
	my $state = $_ eq 'data' ? 'failed' : ($_ =~ /^(checks|extensions|roles|pre-data|timescaledb)$/ ? 'done' : 'pending');
	"INSERT INTO tsmigrate.run_step (run_id, ordinal, step, state) SELECT run_id, 0, '$_', '$state' FROM r;"
} @steps;
($rc, $out, $err) = tsm_target_sql($target, qq{
	CREATE SCHEMA m;
	CREATE TABLE m.x (a int);
	CREATE TABLE m."x;alter/**/role/**/mallory/**/superuser" (a int);
	CREATE TEMP TABLE r AS SELECT 0::bigint AS run_id;
	WITH ins AS (INSERT INTO tsmigrate.run (source, jobs, roles, state)
	             VALUES ('legacy', 2, false, 'failed') RETURNING run_id)
	UPDATE r SET run_id = (SELECT run_id FROM ins);
	$planted
	INSERT INTO tsmigrate.run_relation (run_id, relation, state)
	SELECT run_id, 'm.x;alter/**/role/**/mallory/**/superuser', 'failed' FROM r;
}, user => 'mallory');
is($rc, 0, 'mallory can write a run of her own with the README grants') or diag $err;

($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate('legacy', roles => false)");
is($target->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'"),
	'f', 'the superuser\'s migrate did not run the planted name: mallory is no superuser');
is($rc, 0, 'the superuser\'s migrate ran its own run, not mallory\'s') or diag $err;
is($target->safe_psql('postgres', q{SELECT count(*) FROM public.orders}),
	'1000', 'and migrated the source');
is($target->safe_psql('postgres', q{
	SELECT string_agg(owner || ':' || state, ',' ORDER BY run_id) FROM tsmigrate.run}),
	$target->safe_psql('postgres', q{SELECT 'mallory:failed,' || current_user || ':done'}),
	'two runs: mallory\'s planted one untouched, the superuser\'s done');

# --- the run state is private to the role that owns the run ----------------

is($target->safe_psql('postgres', q{
	SELECT count(*) FROM tsmigrate.run}, extra_params => ['-U', 'mallory']),
	'1', 'mallory sees her run only, not the superuser\'s');
is($target->safe_psql('postgres', q{
	SELECT count(DISTINCT run_id) FROM tsmigrate.progress}, extra_params => ['-U', 'mallory']),
	'1', 'the progress view shows mallory her own run only');
($rc, $out, $err) = tsm_target_sql($target, q{
	UPDATE tsmigrate.run SET state = 'failed' WHERE owner <> 'mallory';
	UPDATE tsmigrate.run_relation SET relation = 'public.orders;drop table public.orders'
	 WHERE run_id IN (SELECT run_id FROM tsmigrate.run WHERE owner <> 'mallory');
	DELETE FROM tsmigrate.run_step
	 WHERE run_id IN (SELECT run_id FROM tsmigrate.run WHERE owner <> 'mallory');
	SELECT count(*) FROM tsmigrate.run_relation;
}, user => 'mallory');
is($target->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE state = 'done') FROM tsmigrate.run WHERE owner <> 'mallory'}),
	'1', 'mallory cannot change the superuser\'s run');
is($target->safe_psql('postgres', q{
	SELECT count(*) FROM tsmigrate.run_relation r JOIN tsmigrate.run USING (run_id)
	 WHERE owner <> 'mallory' AND relation LIKE '%;%'}),
	'0', 'nor rename its relations');
($rc, $out, $err) = tsm_target_sql($target, q{
	INSERT INTO tsmigrate.run (owner, source, jobs, roles, state)
	VALUES (current_setting('is_superuser') || 'x', 'legacy', 2, false, 'failed')},
	user => 'mallory');
like($err, qr/42501.*row-level security/s,
	'nor plant a run in another role\'s name');

# --- 17. the README's grant list is enough for a whole migrate -------------

$target->safe_psql('mart', qq{
	CREATE EXTENSION tsmigrate;
	CREATE SERVER legacy FOREIGN DATA WRAPPER tsmigrate
		OPTIONS (host '127.0.0.1', port '$port', dbname 'shop');
	CREATE USER MAPPING FOR migrator SERVER legacy
		OPTIONS (user 'reader', password 'reader-secret');
});
grant_as_readme('mart', 'migrator');
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate('legacy', roles => false)", dbname => 'mart', user => 'migrator');
is($rc, 0, 'with the README\'s grants as written, a non-superuser runs CALL tsmigrate.migrate')
  or diag $err;
($rc, $out) = tsm_target_sql($target,
	"SELECT count(*) FILTER (WHERE NOT ok) FROM tsmigrate.verify('legacy')",
	dbname => 'mart', user => 'migrator');
is($out, '0', 'and verify finds no difference');

# --- 6. every entry point is bounded by tsmigrate.max_jobs ----------------

($rc, $out, $err) = tsm_target_sql($target, q{
	SET tsmigrate.copy_split_size = '64kB';
	CALL tsmigrate.migrate('legacy', jobs => 1000, roles => false)},
	dbname => 'mart', user => 'migrator');
like($err, qr/22023.*number of jobs must be between 1 and 8/s,
	'migrate refuses more jobs than tsmigrate.max_jobs, before it starts a worker');

# --- 9. workers would wait for a lock the caller holds ---------------------

($rc, $out, $err) = tsm_target_sql($target, q{
	SET statement_timeout = '60s';
	BEGIN;
	TRUNCATE public.orders;
	SELECT * FROM tsmigrate.pull_data('legacy', jobs => 2, tables => '{public.orders}');
	ROLLBACK}, dbname => 'mart', user => 'migrator');
like($err, qr/25001.*pull_data with more than one job cannot run in a transaction that holds a lock on relation "orders"/s,
	'pull_data with jobs => 2 in a transaction that locks a target table is refused, not hung');
($rc, $out, $err) = tsm_target_sql($target, q{
	SET statement_timeout = '60s';
	BEGIN;
	LOCK TABLE public.orders;
	SELECT * FROM tsmigrate.pull_chunks('legacy', jobs => 2);
	ROLLBACK}, dbname => 'mart', user => 'migrator');
like($err, qr/25001.*pull_chunks with more than one job cannot run in a transaction that holds a lock/s,
	'and so is pull_chunks');

# --- 15. a leader terminated mid-run ----------------------------------------

$target->safe_psql('postgres', 'CREATE DATABASE depot');
$target->safe_psql('depot', qq{
	CREATE EXTENSION tsmigrate;
	CREATE SERVER legacy FOREIGN DATA WRAPPER tsmigrate
		OPTIONS (host '127.0.0.1', port '$port', dbname 'shop');
	CREATE USER MAPPING FOR CURRENT_USER SERVER legacy
		OPTIONS (user 'reader', password 'reader-secret');
});
# the copy waits for this lock on the source
my $locker = $source->background_psql('shop');
$locker->query_safe('BEGIN; LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE');
my $leader = $target->background_psql('depot', on_error_stop => 0);
$leader->query_until(qr/started/, q{
	\echo started
	CALL tsmigrate.migrate('legacy', roles => false);
});
ok($target->poll_query_until('depot', q{
	SELECT count(*) = 1 FROM tsmigrate.run_step WHERE step = 'data' AND state = 'running'}),
	'the data step is running, waiting for the source');
$target->safe_psql('depot', q{
	SELECT pg_terminate_backend(pid) FROM tsmigrate.run WHERE state = 'running'});
tsm_finish_background($leader);
$locker->query_safe('COMMIT');
$locker->quit;
is($target->safe_psql('depot', 'SELECT state FROM tsmigrate.run'), 'running',
	'a terminated leader leaves its run "running"');
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate('legacy', roles => false)", dbname => 'depot');
is($rc, 0, 'the next call finishes the run') or diag $err;
like($err, qr/migration run \d+ was left running by a backend that ended; marked failed/,
	'and says that it found the run abandoned');
is($target->safe_psql('depot', q{
	SELECT state || ' ' || count(*) FROM tsmigrate.run_step WHERE step = 'data' GROUP BY state}),
	'done 1', 'the data step is done');
is($target->safe_psql('depot', 'SELECT count(*) FROM public.orders'), '1000',
	'with every row once');

unlike(slurp_file($target->logfile), qr/terminated by signal/,
	'no backend of the target died of a signal');

done_testing();
