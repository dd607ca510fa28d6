# t/002_timescaledb_versions.pl
#
# check_versions and align_timescaledb against real TimescaleDB releases.
# Runs where TimescaleDB is installed with at least two versions (an older
# one whose update scripts lead to the default one); skipped elsewhere.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TsmTest;

plan skip_all => 'TimescaleDB is not installed' unless tsm_have_timescaledb();

my $source = tsm_source_node('source', timescaledb => 1);
my $target = tsm_target_node('target', timescaledb => 1);

# the newest version is the default; take the oldest one that can update to it
my $newest = $source->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'");
my $older = $source->safe_psql('postgres', qq{
	SELECT p.source FROM pg_extension_update_paths('timescaledb') p
	 WHERE p.target = '$newest' AND p.path IS NOT NULL
	   AND p.source IN (SELECT version FROM pg_available_extension_versions
	                     WHERE name = 'timescaledb')
	 ORDER BY string_to_array(p.source, '.')::int[] DESC LIMIT 1});
plan skip_all => "only TimescaleDB $newest is installed; an older version is needed"
  if $older eq '';
note "TimescaleDB versions: source starts at $older, target has $newest";

$source->safe_psql('postgres', q{
	CREATE ROLE alice LOGIN PASSWORD 'alice-secret';
	CREATE DATABASE legacy OWNER alice;
	CREATE DATABASE plain;
});
$source->safe_psql('legacy', "CREATE EXTENSION timescaledb VERSION '$older'");
tsm_set_source_auth($source, 'scram-sha-256');

my $su = $source->connstr('legacy');
my $alice = tsm_tcp_connstr($source, 'legacy', user => 'alice', password => 'alice-secret');
my $plain = $source->connstr('plain');
my ($rc, $out, $err);

# --- target without TimescaleDB -------------------------------------------

($rc, $out) = tsm_target_sql($target, qq{
	SELECT component, source_version, target_version IS NULL, ok, hint
	  FROM tsmigrate.check_versions(\$\$$su\$\$) WHERE component = 'timescaledb'});
is($out,
	"timescaledb|$older|t|f|Run on the target: CREATE EXTENSION timescaledb VERSION '$older';",
	'source has TimescaleDB, target not: the row says how to create it');

$target->safe_psql('postgres', 'CREATE EXTENSION timescaledb');

# --- source older than target ----------------------------------------------

($rc, $out) = tsm_target_sql($target, qq{
	SELECT component, source_version, target_version, ok, hint
	  FROM tsmigrate.check_versions(\$\$$su\$\$) ORDER BY component});
is($out,
	"postgresql|" . _pgver($source) . "|" . _pgver($target) . "|t|\n"
	  . "timescaledb|$older|$newest|f|Run on the source: ALTER EXTENSION timescaledb UPDATE TO '$newest'; (SELECT tsmigrate.align_timescaledb() does it from here.)",
	'older TimescaleDB on the source: mismatch with the exact fix');

# only the extension's owner (or a superuser) may update it on the source
$source->safe_psql('postgres', 'CREATE ROLE mallory LOGIN PASSWORD \'m\'');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT tsmigrate.align_timescaledb('"
	  . tsm_tcp_connstr($source, 'legacy', user => 'mallory', password => 'm')
	  . "')");
like($err, qr/ERROR:  42501: must be owner of extension timescaledb/,
	'the source refuses the update to a role that does not own the extension, with its SQLSTATE');

($rc, $out) = tsm_target_sql($target,
	"SELECT tsmigrate.align_timescaledb(\$\$$su\$\$)");
is($out,
	"updated extension \"timescaledb\" on the source from version $older to $newest",
	'align_timescaledb updates the source');
is($source->safe_psql('legacy',
	"SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"),
	$newest, 'the source really is at the target\'s version');

($rc, $out) = tsm_target_sql($target, qq{
	SELECT component, ok, hint IS NULL FROM tsmigrate.check_versions(\$\$$su\$\$)
	 WHERE component = 'timescaledb'});
is($out, 'timescaledb|t|t', 'versions agree afterwards');

($rc, $out) = tsm_target_sql($target,
	"SELECT tsmigrate.align_timescaledb(\$\$$su\$\$)");
is($out, "extension \"timescaledb\" is already at version $newest on both sides",
	'a second align is a no-op');

# --- source newer than target: never a downgrade -----------------------------

$target->safe_psql('postgres', 'CREATE DATABASE oldts');
$target->safe_psql('oldts',
	"CREATE EXTENSION tsmigrate; CREATE EXTENSION timescaledb VERSION '$older'");
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT tsmigrate.align_timescaledb(\$\$$su\$\$)", dbname => 'oldts');
like($err,
	qr/ERROR:  0A000: cannot downgrade extension "timescaledb" on the source from version \Q$newest\E to \Q$older\E\nDETAIL:  The source runs a newer TimescaleDB than the target\.\nHINT:  Install TimescaleDB \Q$newest\E on the target, then run ALTER EXTENSION timescaledb UPDATE TO '\Q$newest\E' there\./,
	'a newer source is refused, with the fix');
($rc, $out) = tsm_target_sql($target, qq{
	SELECT ok, hint FROM tsmigrate.check_versions(\$\$$su\$\$)
	 WHERE component = 'timescaledb'}, dbname => 'oldts');
is($out, "f|Run on the target: ALTER EXTENSION timescaledb UPDATE TO '$newest';",
	'check_versions gives the target-side fix for a newer source');
is($source->safe_psql('legacy',
	"SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"),
	$newest, 'the refused call changed nothing on the source');

# --- source without TimescaleDB ----------------------------------------------

($rc, $out) = tsm_target_sql($target, qq{
	SELECT component, source_version IS NULL, target_version, ok
	  FROM tsmigrate.check_versions(\$\$$plain\$\$) WHERE component = 'timescaledb'});
is($out, "timescaledb|t|$newest|t",
	'a plain PostgreSQL source may move into a TimescaleDB target');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT tsmigrate.align_timescaledb(\$\$$plain\$\$)");
like($err, qr/ERROR:  42704: extension "timescaledb" is not installed on the source/,
	'align_timescaledb with nothing to align: 42704');

ok(tsm_no_source_backends($source), 'no tsmigrate backend left on the source');

done_testing();

sub _pgver
{
	my ($node) = @_;
	my $num = $node->safe_psql('postgres', 'SHOW server_version_num');
	return int($num / 10000) . '.' . ($num % 10000);
}
