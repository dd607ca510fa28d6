# t/020_schema.pl
#
# pull_schema across two clusters, measured with pg_dump: after pre-data
# and post-data, pg_dump --schema-only of the source and of the target are
# the same statements (t/SchemaCompare.pm).  Sources: the pagila sample
# database ($TSM_DATASETS/pagila as scripts/test sets it, or the directory
# TSM_PAGILA_DIR; skipped without either) and t/fixtures/schema_fixture.sql, which has every
# object kind and hostile names; post-data of both with one job and with
# two (workers, each object committed alone).  Also: a conflict and a dry
# run leave the target as it was, the section and jobs arguments are
# checked, a statement failing in a worker is reported with its SQLSTATE
# and object, and skip_existing finishes what a failed call left.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaCompare;
use TsmTest;

my $source = tsm_source_node('source');
my $target = tsm_target_node('target');

# roles that the fixture's policies and user mappings name, on both sides
# (roles are pull_roles' business); "postgres" owns pagila's objects
foreach my $node ($source, $target)
{
	$node->safe_psql('postgres', q{CREATE ROLE "fixture reader"; CREATE ROLE postgres});
}

# a target database with tsmigrate and the given extensions
sub target_db
{
	my ($db, @extensions) = @_;
	$target->safe_psql('postgres', qq{CREATE DATABASE "$db"});
	$target->safe_psql($db,
		join('', 'SET client_min_messages = warning; CREATE EXTENSION tsmigrate;',
			map { " CREATE EXTENSION $_;" } @extensions));
	return;
}

# the source database as an SQL literal
sub source_literal
{
	my ($db) = @_;
	my $connstr = $source->connstr($db);
	$connstr =~ s/'/''/g;
	return "'$connstr'";
}

# pull one section into a target database, with 1 job unless given, not
# skipping existing objects unless told; returns ($rc, $stdout, $stderr)
sub pull
{
	my ($db, $srcdb, $section, $dry_run, $jobs, $skip_existing) = @_;
	my $src = source_literal($srcdb);
	$dry_run = $dry_run ? 'true' : 'false';
	$jobs //= 1;
	$skip_existing = $skip_existing ? 'true' : 'false';
	# the fixture has an event trigger, an aggregate whose state is internal
	# and a GiST operator class made of pg_trgm's C functions, which a source
	# brings only when allowed; its SECURITY DEFINER function belongs to the
	# bootstrap superuser on both sides (t/062 tests that refusal)
	my $allow = $srcdb eq 'fixture'
	  ? ", allow => '{event_triggers,c_functions,superuser_definer}'" : '';
	return tsm_target_sql($target,
		"SET client_min_messages = error; SELECT action, count(*) FROM "
		  . "tsmigrate.pull_schema($src, '$section', $dry_run, jobs => $jobs,"
		  . " skip_existing => $skip_existing$allow) GROUP BY 1 ORDER BY 1",
		dbname => $db);
}

sub load_source
{
	my ($db, $file) = @_;
	$source->command_ok(
		[
			'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
			'-c', 'SET client_min_messages = error',
			'-d', $source->connstr($db), '-f', $file
		],
		"$file loads into the source");
	return;
}

# --- pagila ----------------------------------------------------------------

SKIP:
{
	my $dir = $ENV{TSM_PAGILA_DIR}
	  // (defined $ENV{TSM_DATASETS} ? "$ENV{TSM_DATASETS}/pagila" : undef);
	skip 'pagila not found: set TSM_DATASETS or TSM_PAGILA_DIR', 5
	  unless defined $dir && -f "$dir/pagila-schema.sql";

	$source->safe_psql('postgres', 'CREATE DATABASE pagila');
	load_source('pagila', "$dir/pagila-schema.sql");
	target_db('pagila');

	my ($rc, $out, $err) = pull('pagila', 'pagila', 'pre-data');
	is($rc, 0, 'pagila: pre-data replays') or diag($err);
	like($out, qr/^created\|\d+$/m, 'pagila: pre-data objects reported as created');
	($rc, $out, $err) = pull('pagila', 'pagila', 'post-data', 0, 2);
	is($rc, 0, 'pagila: post-data replays with two jobs') or diag($err);
	is(schema_dump_diff($source, 'pagila', $target, 'pagila'),
		'', 'pagila: pg_dump --schema-only of source and target are the same');
}

# --- the broad fixture -------------------------------------------------------

$source->safe_psql('postgres', 'CREATE DATABASE fixture');
load_source('fixture', "$FindBin::RealBin/fixtures/schema_fixture.sql");

# schema_sql shows the statements, with every name quoted
my $src = source_literal('fixture');
my $sql = $target->safe_psql('postgres',
	"SELECT string_agg(s, E'\\n') FROM tsmigrate.schema_sql($src, 'pre-data') s");
like(
	$sql,
	qr/^CREATE TABLE "we""ird sch\$ema"\."x""; DROP TABLE canary; --" \(/m,
	'schema_sql quotes hostile names');
unlike($sql, qr/ALTER INDEX|CREATE INDEX|CREATE TRIGGER|FOREIGN KEY/,
	'pre-data has no indexes, triggers or foreign keys');
like(
	$sql,
	qr/^CREATE VIEW "fx"."cyc_v" AS SELECT NULL::integer AS "x".*^CREATE FUNCTION "fx"."cyc_f"\(\).*^CREATE OR REPLACE VIEW "fx"."cyc_v" AS/ms,
	'a view and a function that need each other: placeholder view, function, real view');
$sql = $target->safe_psql('postgres',
	"SELECT string_agg(s, E'\\n') FROM tsmigrate.schema_sql($src, 'post-data') s");
like($sql, qr/FOREIGN KEY .*DEFERRABLE INITIALLY DEFERRED/,
	'post-data has the deferrable foreign key');
like($sql, qr/^REFRESH MATERIALIZED VIEW "fx"."mv";$/m,
	'post-data populates materialized views that had data');
unlike($sql, qr/REFRESH MATERIALIZED VIEW "fx"."mv_nodata"/,
	'but not those without data');

# a wrong section
my ($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.schema_sql($src, 'data')");
like($err, qr/ERROR:  22023: unrecognized section "data"/,
	'an unknown section is refused with 22023');
like($err, qr/HINT:  Valid values are "pre-data" and "post-data"\./,
	'the hint lists the sections');

target_db('fixture', 'btree_gist', 'pg_trgm SCHEMA public');
my @before = schema_dump_statements($target, 'fixture');

# dry run: every object reported, nothing created
($rc, $out, $err) = pull('fixture', 'fixture', 'pre-data', 1);
is($rc, 0, 'dry run of pre-data succeeds') or diag($err);
like($out, qr/^would create\|\d+$/, 'dry run reports every object as "would create"');
is_deeply([ schema_dump_statements($target, 'fixture') ],
	\@before, 'dry run changes nothing on the target');

# conflict: a table that exists on the target stops the whole section
$target->safe_psql('fixture', 'CREATE TABLE public.canary (id int)');
@before = schema_dump_statements($target, 'fixture');
($rc, $out, $err) = pull('fixture', 'fixture', 'pre-data');
isnt($rc, 0, 'pre-data fails when an object exists on the target');
like($err, qr/ERROR:  42P07: relation "canary" already exists/,
	'the conflict is 42P07 and names the relation');
like($err, qr/replaying definition of table "public"."canary"/,
	'the context names the object being replayed');
is_deeply([ schema_dump_statements($target, 'fixture') ],
	\@before, 'a conflict leaves the target unchanged');
($rc, $out, $err) = pull('fixture', 'fixture', 'pre-data', 1);
like($err, qr/ERROR:  42P07: relation "canary" already exists/,
	'a dry run meets the same conflict');
is($target->safe_psql('fixture', q{SELECT count(*) FROM pg_namespace WHERE nspname = 'fx'}),
	'0', 'no schema of the failed section stays');
$target->safe_psql('fixture', 'DROP TABLE public.canary');

# the real thing, from a session whose settings would change the meaning
# of the statements if replay kept them
$target->safe_psql('fixture', q{
	ALTER DATABASE fixture SET standard_conforming_strings = off;
	ALTER DATABASE fixture SET search_path = fx, public;
	ALTER DATABASE fixture SET default_table_access_method = 'no_such_am';
});
($rc, $out, $err) = pull('fixture', 'fixture', 'pre-data');
is($rc, 0, 'fixture: pre-data replays') or diag($err);
($rc, $out, $err) = pull('fixture', 'fixture', 'post-data');
is($rc, 0, 'fixture: post-data replays') or diag($err);
# (pg_dump writes backslashes differently under standard_conforming_strings = off)
$target->safe_psql('fixture', 'ALTER DATABASE fixture RESET ALL');
is(schema_dump_diff($source, 'fixture', $target, 'fixture'),
	'', 'fixture: pg_dump --schema-only of source and target are the same');
is( $target->safe_psql(
		'fixture',
		q{SELECT count(*) FROM public.canary, "we""ird sch$ema"."x""; DROP TABLE canary; --"}),
	'0',
	'hostile names created their tables and dropped nothing');

# post-data a second time: the first constraint that exists stops it
($rc, $out, $err) = pull('fixture', 'fixture', 'post-data');
like($err, qr/ERROR:  42710: constraint "a_pkey" for relation "a" already exists/,
	'replaying post-data again is a conflict naming the constraint');
is(schema_dump_diff($source, 'fixture', $target, 'fixture'),
	'', 'and leaves the target as it was');

# --- post-data with two jobs: each object in a worker, committed alone ------

target_db('fixture2', 'btree_gist', 'pg_trgm SCHEMA public');
($rc, $out, $err) = pull('fixture2', 'fixture', 'pre-data');
is($rc, 0, 'fixture2: pre-data replays') or diag($err);
@before = schema_dump_statements($target, 'fixture2');

# a dry run with two jobs is the one-job dry run: reports, creates nothing
($rc, $out, $err) = pull('fixture2', 'fixture', 'post-data', 1, 2);
is($rc, 0, 'dry run of post-data with two jobs succeeds') or diag($err);
like($out, qr/^would create\|\d+$/, 'it reports every object as "would create"');
is_deeply([ schema_dump_statements($target, 'fixture2') ],
	\@before, 'and changes nothing on the target');

# the jobs argument is checked as pull_data's is
($rc, $out, $err) = pull('fixture2', 'fixture', 'post-data', 0, 0);
like($err, qr/ERROR:  22023: number of jobs must be between 1 and \d+/,
	'jobs => 0 is refused with 22023');
# workers are other sessions: locks this transaction holds would stall them
($rc, $out, $err) = tsm_target_sql($target,
	'BEGIN; SELECT count(*) FROM fx.items; SELECT count(*) FROM tsmigrate.pull_schema('
	  . source_literal('fixture') . ", 'post-data', jobs => 2)",
	dbname => 'fixture2');
like($err, qr/ERROR:  25001: pull_schema with more than one job cannot run in a transaction that holds a lock on relation "items"/,
	'with two jobs, a transaction holding a table lock is refused with 25001');

# one statement fails in a worker (a relation has the name of an index):
# the caller gets its SQLSTATE and the object's name
$target->safe_psql('fixture2', 'CREATE TABLE fx.items_gin (x int)');
($rc, $out, $err) = pull('fixture2', 'fixture', 'post-data', 0, 2);
isnt($rc, 0, 'post-data with two jobs fails when one statement fails');
like($err, qr/ERROR:  42P07: relation "items_gin" already exists/,
	'the error of the failing statement comes with its SQLSTATE');
like($err, qr/CONTEXT:  .*\nreplaying definition of index "fx"."items_gin"\ntsmigrate schema worker/,
	'the context names the object and the worker');
ok(tsm_no_source_backends($source), 'no tsmigrate backend is left on the source');
is($target->safe_psql('fixture2',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'tsmigrate schema worker'"),
	'0', 'no schema worker is left on the target');

# cancelling the call stops its workers: one of them waits for a lock that
# another session holds until the caller's statement_timeout cancels it
$target->safe_psql('fixture2', 'DROP TABLE fx.items_gin');
my $locker = $target->background_psql('fixture2');
$locker->query_safe('BEGIN; LOCK TABLE fx.items IN ACCESS EXCLUSIVE MODE');
($rc, $out, $err) = tsm_target_sql($target,
	"SET statement_timeout = '3s'; SELECT count(*) FROM tsmigrate.pull_schema("
	  . source_literal('fixture') . ", 'post-data', jobs => 2, skip_existing => true)",
	dbname => 'fixture2');
like($err, qr/ERROR:  57014: canceling statement due to statement timeout/,
	'a call with two jobs is cancelled while a worker waits');
ok( $target->poll_query_until('fixture2',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'tsmigrate schema worker'"),
	'and its workers are gone');
$locker->query_safe('COMMIT');
$locker->quit;

# what committed stays; called again, skipping it, post-data finishes
($rc, $out, $err) = pull('fixture2', 'fixture', 'post-data', 0, 2, 1);
is($rc, 0, 'post-data with two jobs and skip_existing finishes') or diag($err);
like($out, qr/^created\|\d+$/m, 'it reports what it created');
is(schema_dump_diff($source, 'fixture', $target, 'fixture2'),
	'', 'fixture with two jobs: pg_dump --schema-only of source and target are the same');
($rc, $out, $err) = pull('fixture2', 'fixture', 'post-data', 0, 2, 1);
like($out, qr/\Aexists\|\d+\z/, 'a third call finds every object there and creates nothing');

# --- as a non-superuser: everything runs as the caller -----------------------

$source->safe_psql('postgres', q{
	CREATE ROLE alice LOGIN PASSWORD 'alice-secret';
	CREATE DATABASE small;
});
$source->safe_psql('small', q{
	CREATE SCHEMA shop;
	CREATE TYPE shop.status AS ENUM ('new', 'paid');
	CREATE TABLE shop.orders (id serial PRIMARY KEY, status shop.status NOT NULL DEFAULT 'new');
	CREATE FUNCTION shop.paid() RETURNS bigint LANGUAGE sql
		AS $$SELECT count(*) FROM shop.orders WHERE status = 'paid'$$;
	CREATE INDEX orders_status ON shop.orders (status);
});
tsm_set_source_auth($source, 'scram-sha-256');
$target->safe_psql('postgres', q{
	CREATE ROLE bob LOGIN;
	CREATE DATABASE bobdb OWNER bob;
});
$target->safe_psql('bobdb', q{
	CREATE EXTENSION tsmigrate;
	GRANT USAGE ON SCHEMA tsmigrate TO bob;
	GRANT EXECUTE ON FUNCTION tsmigrate.pull_schema(text, text, boolean, int, boolean, boolean, boolean, text[], boolean) TO bob;
	-- what pre-data created, for post-data to know (bob's own rows only)
	GRANT SELECT, INSERT ON tsmigrate.created_object TO bob;
});
my $alice = tsm_tcp_connstr($source, 'small', user => 'alice', password => 'alice-secret');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FROM tsmigrate.pull_schema('$alice', 'pre-data')",
	dbname => 'bobdb', user => 'bob');
is($rc, 0, 'a non-superuser database owner pulls pre-data') or diag($err);
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FROM tsmigrate.pull_schema('$alice', 'post-data', jobs => 2)",
	dbname => 'bobdb', user => 'bob');
is($rc, 0, 'and post-data with two jobs, whose workers run as the caller') or diag($err);
is( $target->safe_psql('bobdb',
		q{SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') FROM pg_class
		   WHERE relnamespace = 'shop'::regnamespace}),
	'bob',
	'what it created belongs to the caller');
is(schema_dump_diff($source, 'small', $target, 'bobdb'),
	'', 'and pg_dump --schema-only of source and target are the same');
my $fixture = tsm_tcp_connstr($source, 'fixture', user => 'alice', password => 'alice-secret');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FROM tsmigrate.pull_schema('$fixture', 'pre-data')",
	dbname => 'bobdb', user => 'bob');
like($err, qr/ERROR:  42501: /, 'what the caller may not do fails with 42501, nothing is escalated');

ok(tsm_no_source_backends($source), 'no tsmigrate backend is left on the source');

done_testing();
