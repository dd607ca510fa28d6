# t/065_hostile_connections.pl
#
# The connection to the source, attacked (issue 13, items 11 to 14 and 16):
#	- a non-superuser cannot make an aborting call wait longer than a
#	  minute for the source (tsmigrate.cancel_timeout);
#	- a source that takes connections but never answers them (its
#	  postmaster stopped) holds an aborting call for cancel_timeout at most,
#	  and a second pg_cancel_backend ends that wait at once;
#	- a password in a source argument, well or badly formed, or in
#	  tsmigrate.source, appears neither in the error, nor in the server log,
#	  nor in tsmigrate's state tables;
#	- a large object that exists on the target with a source OID is not
#	  written into;
#	- check_versions warns about a source reached over TCP, unencrypted, at
#	  an address that is not the loopback interface's.
# The target's postmaster log shows no backend killed by a signal.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use IO::Socket::INET;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use TsmTest;

# An address of this host that is not the loopback interface, if it has
# one: the route towards a documentation address (no packet is sent).
my $lan_ip;
{
	my $probe = IO::Socket::INET->new(
		PeerAddr => '198.51.100.1',
		PeerPort => 9,
		Proto => 'udp');
	$lan_ip = $probe->sockhost if $probe;
	undef $lan_ip if defined $lan_ip && ($lan_ip =~ /^127\./ || $lan_ip eq '0.0.0.0');
}

my $source = tsm_source_node('source',
	conf => defined $lan_ip ? "listen_addresses = '127.0.0.1, $lan_ip'\n" : '');
# log_statement = all (the test clusters' default) would log every
# statement by design; what is checked here is what errors log
my $target = tsm_target_node('target', conf => "log_statement = none\n");

$source->safe_psql('postgres', q{
	CREATE DATABASE slow;
	CREATE DATABASE lo;
	CREATE ROLE reader LOGIN PASSWORD 'reader-secret';
});
$source->safe_psql('slow', 'CREATE TABLE t (id int); INSERT INTO t VALUES (1)');
$source->safe_psql('lo', q{SELECT lo_from_bytea(424242, 'source data')});
$target->safe_psql('postgres', q{
	CREATE TABLE t (id int);
	CREATE ROLE mallory LOGIN;
});
tsm_grant_migrate($target, 'postgres', 'mallory');

# --- item 11: cancel_timeout is bounded for non-superusers -----------------

# a call of any of its functions loads the library, and its settings
my $load = "SELECT tsmigrate.fdw_validator('{}', 0);";
my ($rc, $out, $err) = tsm_target_sql($target,
	"$load SET tsmigrate.cancel_timeout = '10min'", user => 'mallory');
isnt($rc, 0, 'a non-superuser cannot set cancel_timeout to 10min');
like($err, qr/42501: permission denied to set "tsmigrate.cancel_timeout"/,
	'... with 42501 and the reason');
($rc, $out, $err) = tsm_target_sql($target,
	"$load SET tsmigrate.cancel_timeout = '2147483647'", user => 'mallory');
isnt($rc, 0, 'nor to INT_MAX');
($rc, $out, $err) = tsm_target_sql($target,
	"$load SET tsmigrate.cancel_timeout = '45s'; SHOW tsmigrate.cancel_timeout",
	user => 'mallory');
like($out, qr/45s$/, 'a non-superuser may set it up to a minute');
# set before the library is loaded: checked when it loads
($rc, $out, $err) = tsm_target_sql($target,
	"SET tsmigrate.cancel_timeout = '10min'; $load SHOW tsmigrate.cancel_timeout",
	user => 'mallory');
like($out, qr/30s$/, 'a placeholder set before the library loaded does not get past the check');
($rc, $out, $err) = tsm_target_sql($target,
	"$load SET tsmigrate.cancel_timeout = '10min'; SHOW tsmigrate.cancel_timeout");
like($out, qr/10min$/, 'a superuser may set it higher');

# --- item 11: a source that does not answer a cancel request ---------------

my $slow = $source->connstr('slow');
my $source_pid = $source->{_pid};

# Start pull_data from database slow while a lock on the source holds its
# queries; return once a source query of tsmigrate waits for that lock.
sub start_stuck_pull
{
	my ($timeout) = @_;
	my $lock = $source->background_psql('slow');
	$lock->query_safe('BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
	my $bg = $target->background_psql('postgres', on_error_stop => 0);
	$bg->query_safe("SET application_name = 'puller'");
	$bg->query_safe("SET tsmigrate.cancel_timeout = '$timeout'");
	$bg->{stdin} .= "\\set VERBOSITY verbose\n"
	  . "SELECT * FROM tsmigrate.pull_data(\$\$$slow\$\$);\n";
	$bg->{run}->pump_nb();
	$source->poll_query_until('slow',
		"SELECT count(*) > 0 FROM pg_stat_activity
		  WHERE application_name = 'tsmigrate' AND wait_event_type = 'Lock'")
	  or die 'pull_data never reached the source';
	return ($bg, $lock);
}

# Seconds until the puller's backend is idle again, at most $limit (undef
# past it).
sub seconds_until_idle
{
	my ($start, $limit) = @_;
	while (time - $start < $limit)
	{
		return time - $start
		  if $target->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'puller' AND state = 'active'"
		  ) eq '0';
		usleep(100_000);
	}
	return undef;
}

my $cancel_puller =
  "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'puller'";

# the source's postmaster stopped: connections queue up, nobody answers
my ($bg, $lock) = start_stuck_pull('3s');
kill 'STOP', $source_pid;
my $start = time;
$target->safe_psql('postgres', $cancel_puller);
my $took = seconds_until_idle($start, 30);
ok(defined $took && $took < 15,
	'a cancel request nobody answers holds the aborting call for cancel_timeout at most')
  or diag('took ' . ($took // 'more than 30') . ' s');
kill 'CONT', $source_pid;
$err = tsm_finish_background($bg);
like($err, qr/57014: canceling statement due to user request/, 'the call was cancelled');
like($err, qr/WARNING:  08006: could not send cancel request to the source/,
	'the unanswered cancel request is reported');
$lock->quit;
ok(tsm_no_source_backends($source), 'no tsmigrate backend left on the source');

# the same with a minute to wait: a second pg_cancel_backend ends the wait
($bg, $lock) = start_stuck_pull('60s');
kill 'STOP', $source_pid;
$target->safe_psql('postgres', $cancel_puller);
sleep 2;
is($target->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'puller' AND state = 'active'"),
	'1', 'the aborting call waits for the source');
$start = time;
$target->safe_psql('postgres', $cancel_puller);
$took = seconds_until_idle($start, 30);
ok(defined $took && $took < 10, 'a second pg_cancel_backend ends the wait at once')
  or diag('took ' . ($took // 'more than 30') . ' s');
kill 'CONT', $source_pid;
tsm_finish_background($bg);
$lock->quit;
ok(tsm_no_source_backends($source), 'no tsmigrate backend left on the source');
is($target->safe_psql('postgres', 'SELECT 1'), '1', 'the target answers');

# --- item 12: no password in messages, logs and state --------------------

tsm_set_source_auth($source, 'scram-sha-256');
my $port = $source->port;
my $log_offset = -s $target->logfile;
my %bad = (
	'a password in two words' => 'host=127.0.0.1 password=SECRETVALUE SECRETVALUE',
	'an unterminated quote' => "host=127.0.0.1 password='SECRETVALUE",
	'an unterminated IPv6 host in a URI' => 'postgresql://reader:SECRETVALUE@[::1/slow',
	'a bad percent escape in a URI password' => 'postgresql://reader:SECRETVALUE%zz@127.0.0.1/slow',
	'a bad query parameter in a URI' => "postgresql://127.0.0.1:$port/slow?password=SECRETVALUE&bogus=1",
	'a wrong password' => "host=127.0.0.1 port=$port dbname=slow user=reader password=SECRETVALUE",
	'a bad sslmode' => "host=127.0.0.1 port=$port dbname=slow password=SECRETVALUE sslmode=bogus",
	'a forbidden option' => "host=127.0.0.1 port=$port password=SECRETVALUE application_name=x",
	'a URI with a wrong password' => "postgresql://reader:SECRETVALUE\@127.0.0.1:$port/slow");
foreach my $what (sort keys %bad)
{
	($rc, $out, $err) = tsm_target_sql($target,
		"SELECT * FROM tsmigrate.check_versions(\$\$$bad{$what}\$\$)");
	isnt($rc, 0, "$what: the call fails");
	unlike($err, qr/SECRETVALUE/, "$what: the error does not show the password");
}
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate(\$\$host=127.0.0.1 port=$port dbname=slow user=reader password=SECRETVALUE\$\$)");
isnt($rc, 0, 'migrate with a wrong password fails');
unlike($err, qr/SECRETVALUE/, 'migrate: the error does not show the password');
foreach my $value ('host=127.0.0.1 password=SECRETVALUE',
	'host=127.0.0.1 password=SECRETVALUE SECRETVALUE',
	'postgresql://u:SECRETVALUE@[::1/db')
{
	# loaded first, so that the setting is checked at once
	($rc, $out, $err) = tsm_target_sql($target,
		"SELECT count(*) FROM tsmigrate.check_versions(\$\$" . $source->connstr('slow') . "\$\$);
		 SET tsmigrate.source = \$\$$value\$\$");
	like($err, qr/22023/, "tsmigrate.source = '$value' is refused");
	unlike($err, qr/SECRETVALUE/, '... and the error does not show the password');
	($rc, $out, $err) = tsm_target_sql($target,
		"SELECT count(*) FROM tsmigrate.check_versions(\$\$" . $source->connstr('slow') . "\$\$);
		 ALTER DATABASE postgres SET tsmigrate.source = \$\$$value\$\$");
	isnt($rc, 0, '... and so is ALTER DATABASE SET');
	unlike($err, qr/SECRETVALUE/, '... whose error does not show the password');
}
my $log = slurp_file($target->logfile, $log_offset);
like($log, qr/could not connect to source|invalid connection string/,
	'the errors reached the server log');
unlike($log, qr/SECRETVALUE/, 'the server log does not show the password');
my $state = $target->safe_psql('postgres', q{
	SELECT string_agg(format('SELECT %L, count(*) FROM %s x WHERE x::text LIKE ''%%SECRETVALUE%%''',
			c.relname, c.oid::regclass), ' UNION ALL ')
	  FROM pg_class c WHERE c.relnamespace = 'tsmigrate'::regnamespace AND c.relkind = 'r'});
ok($state ne '', "tsmigrate's state tables found");
is($target->safe_psql('postgres', "SELECT string_agg(count::text, ',') FROM ($state) s WHERE count > 0"),
	'', "tsmigrate's state tables do not hold the password");
tsm_set_source_auth($source, 'trust');

# --- item 13: a large object that exists already is not written into ------

$target->safe_psql('postgres', q{SELECT lo_from_bytea(424242, 'target data')});
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.pull_data(\$\$" . $source->connstr('lo') . "\$\$, large_objects => true)");
isnt($rc, 0, 'pull_data refuses a large object that exists on the target');
like($err, qr/42710: large object 424242 already exists on the target/,
	'... with 42710 and its OID');
like($err, qr/HINT:  .*lo_unlink\(424242\)/, '... and the fix');
is($target->safe_psql('postgres', q{SELECT convert_from(lo_get(424242), 'UTF8')}),
	'target data', 'its contents are unchanged');
$target->safe_psql('postgres', q{SELECT lo_unlink(424242)});
is($target->safe_psql('postgres',
		"SELECT rows FROM tsmigrate.pull_data(\$\$" . $source->connstr('lo') . "\$\$, large_objects => true) WHERE relation = 'large objects'"),
	'1', 'once it is gone, the source large object is copied');
is($target->safe_psql('postgres', q{SELECT convert_from(lo_get(424242), 'UTF8')}),
	'source data', '... with its contents');

# --- item 16: check_versions and an unencrypted network connection --------

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FROM tsmigrate.check_versions(\$\$" . $source->connstr('slow') . "\$\$)");
unlike($err, qr/not encrypted/, 'a Unix-domain socket: no warning');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FROM tsmigrate.check_versions(\$\$host=127.0.0.1 port=$port dbname=slow\$\$)");
unlike($err, qr/not encrypted/, 'the loopback interface: no warning');
SKIP:
{
	skip 'this host has no address beside the loopback interface', 2
	  unless defined $lan_ip;
	open my $hba, '>>', $source->data_dir . '/pg_hba.conf' or die $!;
	print $hba "host all all $lan_ip/32 trust\n";
	close $hba;
	$source->reload;
	($rc, $out, $err) = tsm_target_sql($target,
		"SELECT component, ok FROM tsmigrate.check_versions(\$\$host=$lan_ip port=$port dbname=slow sslmode=disable\$\$)");
	is($rc, 0, 'check_versions over TCP without SSL works') or diag $err;
	like($err, qr/WARNING:  01000: the connection to source ".*" is not encrypted\nDETAIL:  It goes over TCP to \Q$lan_ip\E.*\nHINT:  Connect with sslmode=verify-full/,
		'... and warns that the connection is not encrypted');
}

# --- nothing crashed ---------------------------------------------------------

unlike(slurp_file($target->logfile), qr/terminated by signal/,
	'no target backend was killed by a signal');

done_testing();
