# t/012_extensions_timescaledb.pl
#
# sync_extensions and TimescaleDB, whose catalog must be at exactly the
# source's version: created at that version when the target has it, and
# otherwise never created or changed silently: the row says so and points
# at check_versions and align_timescaledb.

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
my $newer = tsm_target_node('newer', timescaledb => 1);

# the older of the versions installed on this machine
my $old = $target->safe_psql('postgres', q{
	SELECT version FROM pg_available_extension_versions
	 WHERE name = 'timescaledb' ORDER BY string_to_array(version, '.')::int[] LIMIT 1});
my $default = $target->safe_psql('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'});
plan skip_all => 'two TimescaleDB versions are needed' if $old eq $default;

$source->safe_psql('postgres', 'CREATE DATABASE legacy');
$source->safe_psql('legacy', qq{CREATE EXTENSION timescaledb VERSION '$old'});
my $src = $source->connstr('legacy');

# --- the target has the source's version: created at it --------------------

my $out = $target->safe_psql('postgres',
	"SELECT * FROM tsmigrate.sync_extensions(\$\$$src\$\$)");
is($out, "timescaledb|$old|$old|created", "created at the source's version $old, not the default $default");
is($target->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'}),
	$old, 'the target now runs the source\'s TimescaleDB version');

# --- the target has another version already: left alone, and said so -------

$newer->safe_psql('postgres', 'CREATE EXTENSION timescaledb');
$out = $newer->safe_psql('postgres',
	"SELECT * FROM tsmigrate.sync_extensions(\$\$$src\$\$)");
is($out,
	"timescaledb|$old|$default|present at another version, not changed: run tsmigrate.check_versions() and tsmigrate.align_timescaledb()",
	'another version on the target is reported with the way out');
is($newer->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'}),
	$default, '... and left as it is');

# --- the target cannot provide the source's version: not created -----------

# A stand-in for a source on a TimescaleDB version that this machine lacks:
# a source cluster without TimescaleDB loaded, whose catalog says so.
my $odd = tsm_source_node('odd');
$odd->safe_psql('postgres', q{
	CREATE DATABASE legacy;
});
$odd->safe_psql('legacy', q{
	CREATE EXTENSION tablefunc;
	UPDATE pg_extension SET extname = 'timescaledb', extversion = '2.0.0'
	 WHERE extname = 'tablefunc';
});
my $oddsrc = $odd->connstr('legacy');
$newer->safe_psql('postgres', q{CREATE DATABASE appdb});
$newer->safe_psql('appdb', q{CREATE EXTENSION tsmigrate});
$out = $newer->safe_psql('appdb',
	"SELECT * FROM tsmigrate.sync_extensions(\$\$$oddsrc\$\$)");
is($out,
	"timescaledb|2.0.0|$default|not created: the target cannot provide version 2.0.0; run tsmigrate.check_versions() and tsmigrate.align_timescaledb()",
	'a version the target cannot provide is not replaced by another');
is($newer->safe_psql('appdb', q{SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'}),
	'0', '... and nothing is created');

done_testing();
