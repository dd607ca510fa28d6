# t/032_data_timescaledb.pl
#
# pull_data and a TimescaleDB source: chunks (in TimescaleDB's own schemas)
# are not taken for tables of their own, and a hypertable is refused with
# its name rather than copied as an empty parent; the other tables copy.

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
my $target = tsm_target_node('target');

my $tables = q{
	CREATE TABLE metrics (at timestamptz NOT NULL, v float8);
	CREATE TABLE devices (id int, name text);
};
$source->safe_psql('postgres', "CREATE EXTENSION timescaledb; $tables" . q{
	SELECT create_hypertable('metrics', 'at', chunk_time_interval => interval '1 day');
	INSERT INTO metrics SELECT '2024-01-01'::timestamptz + g * interval '1 hour', g FROM generate_series(1, 100) g;
	INSERT INTO devices VALUES (1, 'a'), (2, 'b');
});
$target->safe_psql('postgres', $tables);
my $src = $source->connstr('postgres');

my ($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.pull_data(\$\$$src\$\$)");
like($err, qr/0A000: pull_data cannot copy hypertable public\.metrics/,
	'a hypertable is refused by name, and its chunks are not listed as missing tables');

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT relation, rows FROM tsmigrate.pull_data(\$\$$src\$\$, tables => '{devices}')");
is($out, 'public.devices|2', 'the other tables copy') or diag $err;

done_testing();
