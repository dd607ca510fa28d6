# t/TsmTest.pm
#
# Shared setup for tsmigrate's TAP tests: source and target clusters, the
# source's authentication, connection strings, and running SQL on the
# target with SQLSTATEs in the error output.  Every test uses real servers
# started here; nothing is mocked.

package TsmTest;

use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(
  tsm_source_node tsm_target_node tsm_set_source_auth tsm_tcp_connstr
  tsm_target_sql tsm_foreign_server tsm_have_timescaledb tsm_timescaledb_versions
  tsm_no_source_backends tsm_finish_background tsm_grant_migrate);

# A source cluster that also listens on 127.0.0.1, so that tests can choose
# between trust and password authentication for TCP connections.
# Options: conf => extra postgresql.conf text, timescaledb => 1.
sub tsm_source_node
{
	my ($name, %opts) = @_;
	return _node($name, %opts, tcp => 1);
}

# A target cluster with tsmigrate created in database "postgres".
sub tsm_target_node
{
	my ($name, %opts) = @_;
	my $node = _node($name, %opts);
	$node->safe_psql('postgres', 'CREATE EXTENSION tsmigrate');
	return $node;
}

sub _node
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	my $conf = "password_encryption = 'scram-sha-256'\n";
	$conf .= "listen_addresses = '127.0.0.1'\n" if $opts{tcp};
	$conf .= "max_worker_processes = 16\n";
	if ($opts{timescaledb})
	{
		$conf .= "shared_preload_libraries = 'timescaledb'\n";
		$conf .= "timescaledb.telemetry_level = off\n";
	}
	$conf .= $opts{conf} if defined $opts{conf};
	$node->append_conf('postgresql.conf', $conf);
	$node->start;
	return $node;
}

# Rewrite the source's pg_hba.conf: the local socket stays trusted (the
# test's own administration), TCP connections use $method.
sub tsm_set_source_auth
{
	my ($node, $method) = @_;
	open my $hba, '>', $node->data_dir . '/pg_hba.conf' or die $!;
	print $hba "local all all trust\n";
	print $hba "host all all 127.0.0.1/32 $method\n";
	close $hba;
	$node->reload;
	return;
}

# A TCP connection string to the source; extra pairs are appended.
sub tsm_tcp_connstr
{
	my ($node, $dbname, %kv) = @_;
	my $str = 'host=127.0.0.1 port=' . $node->port . " dbname=$dbname";
	$str .= " $_=$kv{$_}" for sort keys %kv;
	return $str;
}

# Run SQL on the target's "postgres" database (or $params{dbname}), as
# $params{user} if given, with verbose errors (SQLSTATE in stderr), bounded
# by the tests' default timeout.  Returns ($rc, $stdout, $stderr), $rc
# undefined if psql timed out.
sub tsm_target_sql
{
	my ($node, $sql, %params) = @_;
	my @extra = ('-v', 'VERBOSITY=verbose');
	push @extra, '-U', $params{user} if defined $params{user};
	my ($out, $err, $timed_out);
	my $rc = $node->psql(
		$params{dbname} // 'postgres',
		$sql,
		stdout => \$out,
		stderr => \$err,
		extra_params => \@extra,
		on_error_stop => 1,
		timeout => $PostgreSQL::Test::Utils::timeout_default,
		timed_out => \$timed_out);
	if ($timed_out)
	{
		$err .= "\n(psql timed out)";
		$rc = undef;
	}
	return ($rc, $out, $err);
}

# In the target's $dbname, a foreign server $server of wrapper tsmigrate for
# database $source_db of $source, with a user mapping for the caller: the
# source's superuser (an online run needs a foreign server: its stream
# worker connects again after the call returns).
sub tsm_foreign_server
{
	my ($target, $dbname, $server, $source, $source_db) = @_;
	my $user = $source->safe_psql('postgres', 'SELECT current_user');
	my $port = $source->port;
	$target->safe_psql($dbname, qq{
		CREATE SERVER $server FOREIGN DATA WRAPPER tsmigrate
			OPTIONS (host '127.0.0.1', port '$port', dbname '$source_db');
		CREATE USER MAPPING FOR CURRENT_USER SERVER $server OPTIONS (user '$user');
	});
	return;
}

# Is TimescaleDB installed for the PostgreSQL these tests run against?
sub tsm_have_timescaledb
{
	my $sharedir = `pg_config --sharedir`;
	chomp $sharedir;
	return -f "$sharedir/extension/timescaledb.control";
}

# The TimescaleDB versions the TimescaleDB suites run with on "node": the
# two built for them (2.25.2 and 2.28.3) where installed, else the default.
sub tsm_timescaledb_versions
{
	my ($node) = @_;
	my @versions = split /\n/, $node->safe_psql('postgres',
		q{SELECT version FROM pg_available_extension_versions
		   WHERE name = 'timescaledb' AND version IN ('2.25.2', '2.28.3') ORDER BY 1});
	@versions = ($node->safe_psql('postgres',
		q{SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'}))
	  unless @versions;
	return @versions;
}

# What a non-superuser "role" needs to run tsmigrate in database "db" of
# "node": its functions and procedure, and its run state.
sub tsm_grant_migrate
{
	my ($node, $db, $role) = @_;
	$node->safe_psql($db, qq{
		GRANT USAGE ON SCHEMA tsmigrate TO $role;
		GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tsmigrate TO $role;
		GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA tsmigrate TO $role;
		GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tsmigrate TO $role;
	});
	return;
}

# Wait until the source has no tsmigrate backend left; true if it happened.
sub tsm_no_source_backends
{
	my ($node) = @_;
	return $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'tsmigrate'"
	);
}

# Wait for a background_psql session's last command to end and close the
# session; return its stderr.  psql may be gone already (its backend
# terminated): then only collect what it said.
sub tsm_finish_background
{
	my ($bg) = @_;
	$bg->{stdin} .= "\\echo done\n";
	# (writing to a psql that has exited meanwhile is a broken pipe)
	eval {
		$bg->{run}->pump()
		  while $bg->{run}->pumpable
		  && $bg->{stdout} !~ /done/
		  && !$bg->{timeout}->is_expired;
	};
	my $stderr = $bg->{stderr};
	eval { $bg->quit };
	return $stderr;
}

1;
