# t/030_data.pl
#
# pull_data across two clusters: the pagila sample database arrives
# complete (its post-data constraints validate afterwards), the target is
# one consistent image of a source that is being written to during the
# copy, progress is visible while it runs, a non-superuser needs INSERT
# and may not bypass row-level security, a worker's error comes back to
# the caller with nothing committed, and too few worker slots is a clear
# error.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TsmTest;

# shared/ lies beside the checkout; scripts/test passes its copy's place
my $pagila_dir = $ENV{TSM_PAGILA_DIR}
  // ($ENV{TSM_DATASETS} ? "$ENV{TSM_DATASETS}/pagila"
	: "$FindBin::RealBin/../../shared/datasets/pagila");

my $source = tsm_source_node('source');
my $target = tsm_target_node('target');
my ($rc, $out, $err);

# "table|rows:checksum" for every table (and populated materialized view)
# of a database, and "sequence|last_value:is_called" for every sequence
sub data_image
{
	my ($node, $db) = @_;
	my @rels = split /\n/, $node->safe_psql($db, q{
		SELECT format('%s|%s', c.oid::regclass, c.relkind)
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE (c.relkind IN ('r', 'S') OR (c.relkind = 'm' AND c.relispopulated))
		   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tsmigrate')
		   AND n.nspname !~ '^pg_toast'
		 ORDER BY 1});
	my @image;
	for my $r (@rels)
	{
		my ($rel, $kind) = split /\|/, $r;
		my $sql = $kind eq 'S'
		  ? "SELECT last_value || ':' || is_called FROM $rel"
		  : "SELECT count(*) || ':' || md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), '')) FROM ONLY $rel t";
		push @image, "$rel|" . $node->safe_psql($db, $sql);
	}
	return join("\n", @image);
}

# --- pagila ----------------------------------------------------------------

SKIP:
{
	skip "pagila sample not found in $pagila_dir", 10
	  unless -f "$pagila_dir/pagila-schema.sql";

	$source->safe_psql('postgres', 'CREATE ROLE postgres; CREATE DATABASE pagila');
	for my $file ('pagila-schema.sql', 'pagila-data.sql')
	{
		$source->command_ok(
			[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $source->connstr('pagila'),
			  '-f', "$pagila_dir/$file" ],
			"pagila $file loads into the source");
	}

	$target->safe_psql('postgres', 'CREATE DATABASE pagila');
	$target->safe_psql('pagila', 'CREATE EXTENSION tsmigrate');
	my $predata = $target->basedir . '/pagila-pre.sql';
	my $postdata = $target->basedir . '/pagila-post.sql';
	$source->command_ok([ 'pg_dump', '--schema-only', '--no-owner', '--section=pre-data',
		'-f', $predata, $source->connstr('pagila') ], 'pre-data dumped');
	$source->command_ok([ 'pg_dump', '--schema-only', '--no-owner', '--section=post-data',
		'-f', $postdata, $source->connstr('pagila') ], 'post-data dumped');
	$target->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d',
		$target->connstr('pagila'), '-f', $predata ], 'pre-data loads into the target');

	my $src = $source->connstr('pagila');
	($rc, $out, $err) = tsm_target_sql($target,
		"SELECT count(*), sum(rows) FROM tsmigrate.pull_data(\$\$$src\$\$, jobs => 3)",
		dbname => 'pagila');
	is($rc, 0, 'pull_data copies pagila with three jobs') or diag $err;

	$target->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d',
		$target->connstr('pagila'), '-f', $postdata ],
		'post-data (primary keys, foreign keys, triggers) validates on the copied rows');

	my $src_image = data_image($source, 'pagila');
	is(data_image($target, 'pagila'), $src_image,
		'every pagila table and sequence: same rows and checksum, same last_value');
	note "pagila image compared:\n$src_image";

	# the same with tsmigrate's own steps around it, in the README's order:
	# roles first, so that objects keep their owner (pagila's SECURITY
	# DEFINER function is refused rather than left to a superuser)
	$target->safe_psql('postgres', 'CREATE DATABASE pagila2');
	$target->safe_psql('pagila2', 'CREATE EXTENSION tsmigrate');
	($rc, $out, $err) = tsm_target_sql($target,
		"SELECT count(*) FROM tsmigrate.pull_roles(\$\$$src\$\$);"
		  . "SELECT count(*) FROM tsmigrate.pull_schema(\$\$$src\$\$, 'pre-data');"
		  . "SELECT count(*) FROM tsmigrate.pull_data(\$\$$src\$\$, jobs => 2);"
		  . "SELECT count(*) FROM tsmigrate.pull_schema(\$\$$src\$\$, 'post-data')",
		dbname => 'pagila2');
	is($rc, 0, 'pull_roles, pull_schema pre-data, pull_data, pull_schema post-data') or diag $err;
	is(data_image($target, 'pagila2'), $src_image,
		'the same image through tsmigrate\'s own schema steps');
}

# --- one snapshot while the source is written to ----------------------------

$source->safe_psql('postgres', q{
	CREATE ROLE alice LOGIN PASSWORD 'alice-secret';
	CREATE DATABASE shop OWNER alice;
});
my $schema = q{
	CREATE TABLE acct (id int PRIMARY KEY, balance int NOT NULL, pad text);
	CREATE TABLE ev (n int);
	CREATE TABLE counter (n int);
	CREATE TABLE slow (id int);
};
$source->safe_psql('shop', "SET ROLE alice; $schema");
$source->safe_psql('shop', q{
	SET ROLE alice;
	INSERT INTO acct SELECT g, 100, repeat('x', 200) FROM generate_series(1, 100000) g;
	INSERT INTO counter VALUES (0);
	INSERT INTO slow SELECT generate_series(1, 1500);
	CREATE PROCEDURE churn(iterations int) LANGUAGE plpgsql AS $$
	DECLARE a int; b int;
	BEGIN
		FOR i IN 1..iterations LOOP
			a := 1 + (i * 7919) % 100000;
			b := 1 + (i * 104729) % 100000;
			-- the new row versions land in other blocks than the old ones
			UPDATE acct SET balance = balance - 1, pad = repeat('y', 200) WHERE id = a;
			UPDATE acct SET balance = balance + 1, pad = repeat('z', 200) WHERE id = b;
			INSERT INTO ev VALUES (i);
			UPDATE counter SET n = i;
			COMMIT;
		END LOOP;
	END $$;
});
$target->safe_psql('postgres', q{
	CREATE DATABASE shop;
	CREATE ROLE bob LOGIN;
});
$target->safe_psql('shop', $schema . q{
	CREATE EXTENSION tsmigrate;
	-- a slow table on the target only, so that the copy can be watched
	CREATE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN PERFORM pg_sleep(0.002); RETURN NEW; END $$;
	CREATE TRIGGER slow_down BEFORE INSERT ON slow FOR EACH ROW EXECUTE FUNCTION slow_down();
});

my $shop = tsm_tcp_connstr($source, 'shop', user => 'alice', password => 'alice-secret');

my $writer = $source->background_psql('shop', on_error_stop => 0);
$writer->{stdin} .= "SET application_name = 'writer'; CALL churn(10000000);\n";
$writer->{run}->pump_nb();
$source->poll_query_until('shop', 'SELECT n > 100 FROM counter')
  or die 'the writer never started';

my $puller = $target->background_psql('shop', on_error_stop => 0);
$puller->{stdin} .= "\\set VERBOSITY verbose\n"
  . "SET tsmigrate.copy_split_size = '1MB';\n"
  . "SELECT relation, rows FROM tsmigrate.pull_data('$shop', jobs => 3) ORDER BY 1;\n"
  . "\\echo pulled\n";
$puller->{run}->pump_nb();

ok( $target->poll_query_until('shop',
		"SELECT count(*) > 0 FROM tsmigrate.copy_progress WHERE in_worker AND relation = 'slow' AND rows > 0"),
	'copy_progress shows a worker copying, with rows so far');
is( $target->safe_psql('shop', q{
		SELECT count(*) > 0 FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid)
		 WHERE a.backend_type = 'tsmigrate copy worker' AND p.command = 'COPY FROM'}),
	't', 'pg_stat_progress_copy shows the workers\' copies');

$puller->{run}->pump() until $puller->{stdout} =~ /pulled/ || $puller->{timeout}->is_expired;
like($puller->{stdout}, qr/^public\.acct\|100000$/m, 'pull_data reports every row of the split table');
is($puller->{stderr}, '', 'no error while the source is written to');
$puller->quit;

$source->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'writer'");
$writer->quit;
my $src_count = $source->safe_psql('shop', 'SELECT n FROM counter');

is($target->safe_psql('shop', 'SELECT count(*), sum(balance) FROM acct'), '100000|10000000',
	'split table read under one snapshot: every account once, the total unchanged');
my ($tgt_counter, $tgt_ev, $tgt_max) =
  split /\|/, $target->safe_psql('shop', 'SELECT (SELECT n FROM counter), count(*), max(n) FROM ev');
is($tgt_ev, $tgt_counter, 'tables copied by different workers agree with each other');
is($tgt_max, $tgt_counter, 'and with the same point in time');
cmp_ok($tgt_counter, '<', $src_count, 'the source kept changing during the copy');
ok(tsm_no_source_backends($source), 'pull_data leaves no backend on the source');

# --- privileges and row-level security ---------------------------------------

tsm_set_source_auth($source, 'scram-sha-256');
my $port = $source->port;
$target->safe_psql('shop', qq{
	CREATE SERVER shop FOREIGN DATA WRAPPER tsmigrate
		OPTIONS (host '127.0.0.1', port '$port', dbname 'shop');
	CREATE USER MAPPING FOR bob SERVER shop OPTIONS (user 'alice', password 'alice-secret');
	GRANT USAGE ON FOREIGN SERVER shop TO bob;
	GRANT USAGE ON SCHEMA tsmigrate TO bob;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tsmigrate TO bob;
	TRUNCATE acct, ev, counter, slow;
	DROP TRIGGER slow_down ON slow;
	GRANT SELECT ON ALL TABLES IN SCHEMA public TO bob;
});

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.pull_data('shop', tables => '{acct}')", user => 'bob', dbname => 'shop');
like($err, qr/42501: permission denied for table acct/, 'INSERT privilege is required');

$target->safe_psql('shop', q{
	GRANT INSERT ON ALL TABLES IN SCHEMA public TO bob;
	ALTER TABLE acct ENABLE ROW LEVEL SECURITY;
	CREATE POLICY only_rich ON acct USING (balance > 1000);
});
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.pull_data('shop', tables => '{acct}')", user => 'bob', dbname => 'shop');
like($err, qr/42501: cannot copy into relation "acct" with row-level security enabled/,
	'a table with row-level security is refused for a caller without BYPASSRLS');

$target->safe_psql('postgres', 'ALTER ROLE bob BYPASSRLS');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT relation, rows FROM tsmigrate.pull_data('shop', jobs => 2) ORDER BY 1",
	user => 'bob', dbname => 'shop');
is($out, "public.acct|100000\npublic.counter|1\npublic.ev|$src_count\npublic.slow|1500",
	'a non-superuser copies through a foreign server with two workers (BYPASSRLS)')
  or diag $err;
is($target->safe_psql('shop', 'SELECT count(*) FROM acct'), '100000',
	'no row was dropped by the policy');

# --- a worker's error comes back; nothing is committed ------------------------

$target->safe_psql('shop', q{
	TRUNCATE acct, ev, counter, slow;
	ALTER TABLE ev ADD CONSTRAINT small CHECK (n < 1000);
});
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.pull_data('$shop', jobs => 2)", dbname => 'shop');
like($err, qr/23514: new row for relation "ev" violates check constraint "small".*CONTEXT:.*tsmigrate copy worker/s,
	'a worker\'s error is rethrown in the caller with its SQLSTATE and context');
is($target->safe_psql('shop',
		'SELECT (SELECT count(*) FROM acct) + (SELECT count(*) FROM ev) + (SELECT count(*) FROM slow)'),
	'0', 'no worker committed anything');
ok( $target->poll_query_until('shop',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'tsmigrate copy worker'"),
	'no worker is left running');
$target->safe_psql('shop', 'ALTER TABLE ev DROP CONSTRAINT small');

# --- too few worker slots ----------------------------------------------------

($rc, $out, $err) = tsm_target_sql($target, qq{
	SET tsmigrate.max_jobs = 40;
	SET tsmigrate.copy_split_size = '64kB';
	SELECT * FROM tsmigrate.pull_data('$shop', jobs => 40)}, dbname => 'shop');
like($err, qr/53000: could not start 40 parallel copy workers.*HINT:  Raise "max_worker_processes"/s,
	'too few free worker slots is an error with a hint');
ok( $target->poll_query_until('shop',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'tsmigrate copy worker'"),
	'the workers that did start are stopped');
is($target->safe_psql('shop', 'SELECT count(*) FROM acct'), '0', 'and committed nothing');
ok(tsm_no_source_backends($source), 'no tsmigrate backend is left on the source');

# --- a snapshot the caller holds (migrate's batches share one) ---------------

$source->safe_psql('shop',
	'SET ROLE alice; CREATE TABLE snap_t (n int); INSERT INTO snap_t SELECT generate_series(1, 10)');
$target->safe_psql('shop', 'CREATE TABLE snap_t (n int)');
my $holder = $source->background_psql('shop');
$holder->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
my $snapshot = $holder->query_safe('SELECT pg_export_snapshot()');
$source->safe_psql('shop', 'INSERT INTO snap_t SELECT generate_series(11, 15)');
for my $jobs (1, 2)
{
	$target->safe_psql('shop', 'TRUNCATE snap_t');
	($rc, $out, $err) = tsm_target_sql($target, qq{
		SELECT rows FROM tsmigrate.pull_data('$shop', jobs => $jobs, tables => '{snap_t}',
		                                     snapshot => '$snapshot')}, dbname => 'shop');
	is($out, '10', "with snapshot => and $jobs job(s), rows committed after the snapshot stay behind")
	  or diag $err;
}
$holder->quit;

# --- binary COPY in the caller's session -------------------------------------
# Binary text values are read with the receiving session's client_encoding:
# a caller whose client_encoding is not the database's gets text COPY, even
# with jobs => 2 when one table leaves the copy to the caller's session.

for my $node ($source, $target)
{
	$node->safe_psql('postgres',
		"CREATE DATABASE enc ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
	$node->safe_psql('enc', 'CREATE TABLE words (w text)');
}
$target->safe_psql('enc', 'CREATE EXTENSION tsmigrate');
$source->safe_psql('enc', q{INSERT INTO words VALUES (U&'caf\00E9'), (U&'\00FCber')});
my $enc = $source->connstr('enc');
my $hex = q{SELECT string_agg(encode(convert_to(w, 'UTF8'), 'hex'), ',' ORDER BY w) FROM words};
for my $jobs (1, 2)
{
	$target->safe_psql('enc', 'TRUNCATE words');
	($rc, $out, $err) = tsm_target_sql($target, qq{
		SET client_encoding = 'LATIN1';
		SELECT relation, rows FROM tsmigrate.pull_data(\$\$$enc\$\$, jobs => $jobs)}, dbname => 'enc');
	is($out, 'public.words|2', "client_encoding LATIN1, $jobs job(s): the table is copied")
	  or diag $err;
	is($target->safe_psql('enc', $hex), $source->safe_psql('enc', $hex),
		"client_encoding LATIN1, $jobs job(s): text values arrive unchanged");
}

done_testing();
