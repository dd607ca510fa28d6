# t/081_online_hostile.pl
#
# Online migration attacked by a caller with the README's grants (the
# security review of the online migration).  Its run state is its own to
# write: a run and a stream of its own whose slot, publication, origin and
# worker are a victim's (a logical slot of the source, a replication origin
# of the target, a session of a superuser).  A superuser's stream_status
# must not show that run, nor the superuser's abandon act on it; the
# caller's own abandon of it must not drop the victim's origin (a
# superuser's object, which no grant lets the caller drop).  Then, with
# what an online run needs (SET on session_replication_role, a source login
# that is a superuser there, as a DBA might give it), the caller migrates
# online and adds to its run a relation whose name is SQL, as its own
# sequence resolves it: cutover must not send that name to the source.
# Each attack succeeded against the code before the review's fixes.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TsmTest;

my $logical_conf = "wal_level = logical\nmax_replication_slots = 6\nmax_wal_senders = 6\n";
my $source = tsm_source_node('source', conf => $logical_conf);
my $target = tsm_target_node('target');
my $db = 'shop';
my $src = 'legacy';
my ($rc, $out, $err);

# --- the source: one small table with a key and its sequence; a victim's
# logical slot

my $su = $source->safe_psql('postgres', 'SELECT current_user');
$source->safe_psql('postgres', qq{
	ALTER ROLE "$su" PASSWORD 'source-secret';
	CREATE DATABASE $db;
});
$source->safe_psql($db, q{
	CREATE TABLE public.items (id serial PRIMARY KEY, v text NOT NULL);
	INSERT INTO public.items (v) SELECT 'item ' || g FROM generate_series(1, 100) g;
	SELECT count(*) FROM pg_create_logical_replication_slot('victim_slot', 'pgoutput');
});
# a non-superuser caller must authenticate with a password
tsm_set_source_auth($source, 'scram-sha-256');
my $port = $source->port;

# --- the target: migrator owns the database and has the README's grants;
# the superuser has a user mapping of its own; a victim's origin

my $readme = slurp_file("$FindBin::RealBin/../README.md");
my ($grants) = $readme =~ /<!-- grants:begin -->\n```sql\n(.*?)```\n<!-- grants:end -->/s;
ok(defined $grants, 'the README has its grant list between the markers');
$grants //= '';

$target->safe_psql('postgres', qq{
	CREATE ROLE migrator LOGIN;
	CREATE DATABASE $db OWNER migrator;
});
$target->safe_psql($db, qq{
	CREATE EXTENSION tsmigrate;
	CREATE SERVER $src FOREIGN DATA WRAPPER tsmigrate
		OPTIONS (host '127.0.0.1', port '$port', dbname '$db');
	CREATE USER MAPPING FOR CURRENT_USER SERVER $src
		OPTIONS (user '$su', password 'source-secret');
	SELECT pg_replication_origin_create('victim_origin');
});
$target->safe_psql($db, $grants);
# what an online run needs besides, given as a DBA might: SET on
# session_replication_role, a source login that is a superuser there
$target->safe_psql($db, qq{
	GRANT SET ON PARAMETER session_replication_role TO migrator;
	CREATE USER MAPPING FOR migrator SERVER $src
		OPTIONS (user '$su', password 'source-secret');
});

# Run SQL in the target's database as $user (the superuser when undef):
# ($rc, $stdout, $stderr) (tsm_target_sql).
sub target_call
{
	my ($user, $sql) = @_;
	return tsm_target_sql($target, $sql, dbname => $db, user => $user);
}

sub victim_slot
{
	return $source->safe_psql($db,
		q{SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'victim_slot'});
}

sub victim_origin
{
	return $target->safe_psql($db,
		q{SELECT count(*) FROM pg_replication_origin WHERE roname = 'victim_origin'});
}

# a superuser's session on the target, whose pid the planted run names as
# its worker
my $victim = $target->background_psql($db);
my $victim_pid = $victim->query_safe('SELECT pg_backend_pid()');

sub victim_alive
{
	my $alive = $target->safe_psql($db,
		"SELECT count(*) FROM pg_stat_activity WHERE pid = $victim_pid");
	my $answer = eval { $victim->query_safe('SELECT 42') } // '';
	return $alive eq '1' && $answer eq '42';
}

# --- 1. a run of migrator's own, whose stream names the victim's objects --

($rc, $out, $err) = target_call('migrator', qq{
	INSERT INTO tsmigrate.run (source, jobs, roles, state, online)
	VALUES ('$src', 2, false, 'streaming', true);
	INSERT INTO tsmigrate.run_stream (run_id, slot, publication, origin, state, worker_pid)
	SELECT max(run_id), 'victim_slot', 'victim_slot', 'victim_origin', 'streaming', $victim_pid
	  FROM tsmigrate.run;
});
is($rc, 0, 'migrator can write a run and a stream of its own with the README grants')
  or diag $err;
my $planted = $target->safe_psql($db, q{SELECT max(run_id) FROM tsmigrate.run WHERE owner = 'migrator'});

subtest "a superuser's stream_status does not show migrator's run" => sub {
	($rc, $out, $err) = target_call(undef,
		"SELECT count(*) FROM tsmigrate.stream_status(\$\$$src\$\$)");
	is($rc, 0, 'stream_status') or diag $err;
	is($out, '0', 'shows no run: the superuser has no online run from the source')
	  or diag((target_call(undef, "SELECT * FROM tsmigrate.stream_status(\$\$$src\$\$)"))[1]);
};

subtest "a superuser's abandon does not act on migrator's run" => sub {
	is(victim_slot(), '1', 'before: the victim slot is on the source');
	is(victim_origin(), '1', 'before: the victim origin is on the target');
	ok(victim_alive(), "before: the victim session ($victim_pid) is alive");

	($rc, $out, $err) = target_call(undef, "CALL tsmigrate.abandon(\$\$$src\$\$)");
	isnt($rc, 0, 'abandon fails');
	like($err, qr/ERROR:  42704: no online run from "$src" to abandon/,
		'with "no online run" (42704): the superuser has none') or diag $err;
	is(victim_slot(), '1', 'the victim slot is still on the source');
	is(victim_origin(), '1', 'the victim origin is still on the target');
	ok(victim_alive(), 'the victim session is still alive');
	is( $target->safe_psql($db,
			"SELECT r.state || '/' || s.state FROM tsmigrate.run r JOIN tsmigrate.run_stream s USING (run_id)"
			  . " WHERE run_id = $planted"),
		'streaming/streaming', "migrator's run is left as it was");
};

subtest "migrator's abandon of its own run does not drop the victim origin" => sub {
	# (the code before the fix dropped them above; made again, for this part)
	$source->safe_psql($db,
		q{SELECT count(*) FROM pg_create_logical_replication_slot('victim_slot', 'pgoutput')})
	  if victim_slot() eq '0';
	$target->safe_psql($db, q{SELECT pg_replication_origin_create('victim_origin')})
	  if victim_origin() eq '0';
	# no worker to stop: migrator could not terminate a superuser's session
	($rc, $out, $err) = target_call('migrator',
		"UPDATE tsmigrate.run_stream SET worker_pid = NULL WHERE run_id = $planted");
	is($rc, 0, 'migrator names no worker in its run') or diag $err;
	($rc, $out, $err) = target_call('migrator', q{SELECT pg_replication_origin_drop('victim_origin')});
	like($err, qr/ERROR:  42501: permission denied for function pg_replication_origin_drop/,
		'migrator may not drop a replication origin itself');

	($rc, $out, $err) = target_call('migrator', "CALL tsmigrate.abandon(\$\$$src\$\$)");
	note "migrator's abandon: rc " . ($rc // 'undef') . ", $err";
	is(victim_origin(), '1', 'the victim origin is still on the target');
	is(victim_slot(), '1', 'the victim slot is still on the source');
};
eval { $victim->quit };

# to migrate from the same source, migrator starts over
($rc, $out, $err) = target_call('migrator', "DELETE FROM tsmigrate.run WHERE run_id = $planted");
is($rc, 0, 'migrator deletes its planted run') or diag $err;

# --- 2. a relation name that is SQL, at cutover ---------------------------
#
# migrator migrates online, with what it was given above.  Before the fix,
# cutover's set_sequences resolved each run_relation name of the run on the
# target (textToQualifiedNameList: an unquoted name keeps ';', ',', '(' and
# comments, up to a dot or a space) and, for a sequence, sent the name as
# written to the source: SELECT last_value, is_called FROM <name>, one
# query string.  The name below, unqualified, resolves to migrator's
# temporary sequence of its first 63 bytes (a temporary schema is left out
# of verify), and on the source it is three statements, the second
# CREATE SCHEMA pwned.  First as a sequence the run created (a row of
# created_object, which migrator may write too), then as one it did not.

my $injected = '(values(1,true))v(last_value,is_called);create/**/schema/**/pwned;select/**/1,true';
my $seqname = substr($injected, 0, 63);
my $pwned = q{SELECT count(*) FROM pg_namespace WHERE nspname = 'pwned'};

my $online = 0;
subtest 'migrator migrates online' => sub {
	($rc, $out, $err) = target_call('migrator',
		"CALL tsmigrate.migrate(\$\$$src\$\$, roles => false, owners => false, online => true)");
	is($rc, 0, 'migrate online as migrator') or diag $err;
	($rc, $out, $err) = target_call('migrator',
		"SELECT state FROM tsmigrate.stream_status(\$\$$src\$\$)");
	is($out, 'streaming', 'streaming') or diag $err;
	$online = ($out // '') eq 'streaming';
	$source->safe_psql($db, q{
		INSERT INTO public.items (v) SELECT 'more ' || g FROM generate_series(1, 10) g;
		SELECT setval('public.items_id_seq', 5000);
	});
	ok($online && $target->poll_query_until($db, 'SELECT count(*) = 110 FROM public.items'),
		'a change of the source arrives');
};

subtest 'cutover does not send a relation name of the run to the source' => sub {
	plan skip_all => 'migrator does not stream' unless $online;
	my $run = $target->safe_psql($db,
		q{SELECT max(run_id) FROM tsmigrate.run WHERE owner = 'migrator'});
	($rc, $out, $err) = target_call('migrator', qq{
		INSERT INTO tsmigrate.run_relation (run_id, relation, state)
		VALUES ($run, \$\$$injected\$\$, 'copied')});
	is($rc, 0, 'migrator adds the name to its own run') or diag $err;

	# a sequence the run created, as far as created_object says: cutover
	# names it as the target's catalogs have it, quoted
	($rc, $out, $err) = target_call('migrator', qq{
		CREATE TEMPORARY SEQUENCE "$seqname";
		INSERT INTO tsmigrate.created_object (source, classid, objid, object)
		SELECT '$src', 'pg_catalog.pg_class'::regclass, c.oid, \$\$$injected\$\$
		  FROM pg_class c WHERE c.relname = \$\$$seqname\$\$ AND c.relnamespace = pg_my_temp_schema();
		CALL tsmigrate.cutover(\$\$$src\$\$);
	});
	note 'cutover with the sequence in created_object: rc ' . ($rc // 'undef') . ", $err";
	ok(defined $rc, 'cutover ends');
	unlike($err // '', qr/PANIC|server closed the connection|terminated abnormally/,
		'the target does not crash');
	is($source->safe_psql($db, $pwned), '0', 'the statement in the name did not run on the source');

	# and as it is: a sequence the run did not create
	if (($rc // 1) != 0)
	{
		($rc, $out, $err) = target_call('migrator', qq{
			DELETE FROM tsmigrate.created_object WHERE object = \$\$$injected\$\$;
			CREATE TEMPORARY SEQUENCE "$seqname";
			CALL tsmigrate.cutover(\$\$$src\$\$);
		});
		note 'cutover again, without it in created_object: rc ' . ($rc // 'undef') . ", $err";
	}
	is($rc, 0, 'cutover finishes') or diag $err;
	is($source->safe_psql($db, $pwned), '0', 'the statement in the name never ran on the source');
	is($target->safe_psql($db, "SELECT state FROM tsmigrate.run WHERE run_id = $run"),
		'done', "migrator's run is done");
	is($target->safe_psql($db, 'SELECT last_value FROM public.items_id_seq'),
		$source->safe_psql($db, 'SELECT last_value FROM public.items_id_seq'),
		"the run's own sequence is set as on the source (5000)");
	is($target->safe_psql($db, 'SELECT count(*) FROM public.items'), '110',
		'every row is on the target');
	is($source->safe_psql($db, q{SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'tsmigrate%'}),
		'0', 'no slot of the run is left on the source');
};

unlike(slurp_file($target->logfile), qr/terminated by signal/,
	'no backend of the target died of a signal');

done_testing();
