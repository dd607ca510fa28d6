# t/001_sources.pl
#
# Sources across two clusters: the three forms, the password rule with
# real trust and scram-sha-256 authentication, wrong input, and that no
# path (error, pg_cancel_backend, statement_timeout, a source-side cancel
# or termination) leaves a tsmigrate backend on the source.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TsmTest;

my $source = tsm_source_node('source');
my $target = tsm_target_node('target');

$source->safe_psql('postgres', q{
	CREATE ROLE alice LOGIN PASSWORD 'alice-secret';
	CREATE DATABASE legacy OWNER alice;
	-- settings a source may carry that would break a migration: tsmigrate's
	-- sessions must override them (the lock waits below prove it)
	ALTER ROLE alice SET statement_timeout = '20ms';
	ALTER ROLE alice SET lock_timeout = '20ms';
	ALTER DATABASE legacy SET search_path = 'alice_schema';
});
tsm_set_source_auth($source, 'scram-sha-256');

# bob migrates on the target without being a superuser
$target->safe_psql('postgres', q{
	CREATE ROLE bob LOGIN;
	GRANT USAGE ON SCHEMA tsmigrate TO bob;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tsmigrate TO bob;
});

my $good = tsm_tcp_connstr($source, 'legacy', user => 'alice', password => 'alice-secret');
my ($rc, $out, $err);

# --- the three forms -------------------------------------------------------

($rc, $out) = tsm_target_sql($target,
	"SELECT component, ok FROM tsmigrate.check_versions('$good')");
is($out, 'postgresql|t', 'conninfo with scram password works');

my $uri = 'postgresql://alice:alice-secret@127.0.0.1:' . $source->port . '/legacy';
($rc, $out) = tsm_target_sql($target,
	"SELECT component, ok FROM tsmigrate.check_versions('$uri')", user => 'bob');
is($out, 'postgresql|t', 'URI works for a non-superuser with a password');

my $port = $source->port;
$target->safe_psql('postgres', qq{
	CREATE SERVER legacy FOREIGN DATA WRAPPER tsmigrate
		OPTIONS (host '127.0.0.1', port '$port', dbname 'legacy');
	GRANT USAGE ON FOREIGN SERVER legacy TO bob;
	CREATE USER MAPPING FOR bob SERVER legacy
		OPTIONS (user 'alice', password 'alice-secret');
});
($rc, $out) = tsm_target_sql($target,
	"SELECT component, ok FROM tsmigrate.check_versions('legacy')", user => 'bob');
is($out, 'postgresql|t', 'foreign server with user mapping works for a non-superuser');

$target->safe_psql('postgres', "ALTER ROLE bob SET tsmigrate.source = 'legacy'");
($rc, $out) = tsm_target_sql($target,
	"SELECT component, ok FROM tsmigrate.check_versions()", user => 'bob');
is($out, 'postgresql|t', 'source from ALTER ROLE ... SET tsmigrate.source');

# --- the password rule -----------------------------------------------------

my $nopass = tsm_tcp_connstr($source, 'legacy', user => 'alice');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.check_versions('$nopass')", user => 'bob');
like($err, qr/ERROR:  2F003: password is required/, 'non-superuser without a password: 2F003');

tsm_set_source_auth($source, 'trust');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.check_versions('legacy')", user => 'bob');
like($err,
	qr/ERROR:  2F003: password is required\nDETAIL:  Non-superuser cannot connect if the server does not request a password/,
	'non-superuser whose password the source did not ask for: 2F003');
($rc, $out) = tsm_target_sql($target,
	"SELECT component, ok FROM tsmigrate.check_versions('$nopass')");
is($out, 'postgresql|t', 'a superuser may use trust authentication');
tsm_set_source_auth($source, 'scram-sha-256');

# --- wrong input -----------------------------------------------------------

my $wrongpw = tsm_tcp_connstr($source, 'legacy', user => 'alice', password => 'wrong');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.check_versions('$wrongpw')");
like($err, qr/ERROR:  08001: could not connect to source.*\nDETAIL:  .*password authentication failed/s,
	'wrong password: 08001 with libpq\'s reason');

my $closed_port = PostgreSQL::Test::Cluster::get_free_port();
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.check_versions('host=127.0.0.1 port=$closed_port dbname=x user=alice password=x connect_timeout=5')");
like($err, qr/ERROR:  08001: could not connect to source/, 'unreachable host: 08001');

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.check_versions('nosuchserver')");
like($err, qr/ERROR:  42704: server "nosuchserver" does not exist/, 'unknown server: 42704');

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.check_versions('host=127.0.0.1 port')");
like($err, qr/ERROR:  22023: invalid connection string for the source/, 'invalid conninfo: 22023');

$target->safe_psql('postgres',
	'CREATE ROLE carol LOGIN; GRANT USAGE ON SCHEMA tsmigrate TO carol');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.source_sessions('$good')", user => 'carol');
like($err, qr/ERROR:  42501: permission denied for function source_sessions/,
	'a role that was not granted EXECUTE cannot call tsmigrate');

ok(tsm_no_source_backends($source), 'failed connections leave nothing behind');

# --- sessions --------------------------------------------------------------

my $app = $source->background_psql('legacy');
$app->query_safe("SET application_name = 'billing-app'");
my $admin = $source->connstr('legacy');
my $bootstrap = getpwuid($<);    # initdb's superuser is the OS user
($rc, $out) = tsm_target_sql($target,
	"SELECT usename, application_name, state FROM tsmigrate.source_sessions(\$\$$admin\$\$)");
is($out, "$bootstrap|billing-app|idle", 'source_sessions lists the application still connected');
($rc, $out) = tsm_target_sql($target,
	"SELECT usename, state IS NULL FROM tsmigrate.source_sessions('$good')");
is($out, "$bootstrap|t", 'a source role without pg_read_all_stats still sees who is connected');
$app->quit;

# --- cancel, statement_timeout, source-side cancel and termination ---------

# A session on the source holds a lock that check_versions' query waits on.
sub hold_catalog_lock
{
	my $locker = $source->background_psql('legacy');
	$locker->query_safe(
		'BEGIN; LOCK TABLE pg_catalog.pg_extension IN ACCESS EXCLUSIVE MODE');
	return $locker;
}

# Start check_versions on the target in the background; return once its
# query is waiting on the source.
sub start_blocked_call
{
	my $bg = $target->background_psql('postgres', on_error_stop => 0);
	$bg->query_safe("SET application_name = 'blocked-call'");
	$bg->{stdin} .= "\\set VERBOSITY verbose\nSELECT * FROM tsmigrate.check_versions('$good');\n";
	$bg->{run}->pump_nb();
	$source->poll_query_until('legacy',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'tsmigrate' AND wait_event_type = 'Lock'"
	) or die 'check_versions never reached the source';
	return $bg;
}

my $locker = hold_catalog_lock();

($rc, $out, $err) = tsm_target_sql($target,
	"SET statement_timeout = '1s'; SELECT * FROM tsmigrate.check_versions('$good')");
like($err, qr/57014: canceling statement due to statement timeout/, 'statement_timeout stops the call');
ok(tsm_no_source_backends($source), 'after statement_timeout no tsmigrate backend is left on the source');

my $bg = start_blocked_call();
$target->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'blocked-call'");
$err = tsm_finish_background($bg);
like($err, qr/57014: canceling statement due to user request/, 'pg_cancel_backend stops the call');
ok(tsm_no_source_backends($source), 'after pg_cancel_backend no tsmigrate backend is left on the source');

$bg = start_blocked_call();
$source->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'tsmigrate'");
$err = tsm_finish_background($bg);
like($err, qr/57014: canceling statement due to user request\n.*CONTEXT:  remote SQL command: SELECT/s,
	'a cancel on the source is relayed with its SQLSTATE and the remote command');

$bg = start_blocked_call();
$source->safe_psql('postgres',
	"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tsmigrate'");
$err = tsm_finish_background($bg);
like($err, qr/08006: lost connection to the source\nDETAIL:  terminating connection due to administrator command/,
	'a terminated source backend is a lost connection: 08006');

# rolled back inside a transaction, and caught in a subtransaction
$bg = $target->background_psql('postgres', on_error_stop => 0);
$bg->query_safe("SET application_name = 'blocked-call'");
$bg->{stdin} .= "BEGIN; SAVEPOINT s; SELECT * FROM tsmigrate.check_versions('$good');\n";
$bg->{run}->pump_nb();
$source->poll_query_until('legacy',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'tsmigrate' AND wait_event_type = 'Lock'"
) or die 'check_versions never reached the source';
$target->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'blocked-call'");
ok(tsm_no_source_backends($source), 'a cancelled call inside a transaction closes its connection');
$bg->query('ROLLBACK TO SAVEPOINT s');
$bg->quit;

$locker->quit;

($rc, $out) = tsm_target_sql($target,
	"SELECT component, ok FROM tsmigrate.check_versions('$good')");
is($out, 'postgresql|t', 'the source works again once the lock is gone');
ok(tsm_no_source_backends($source), 'and the call closed its connection');

done_testing();
