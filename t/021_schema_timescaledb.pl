# t/021_schema_timescaledb.pl
#
# pull_schema with a TimescaleDB source: TimescaleDB's internal schemas,
# its catalog and the continuous aggregates (views over internal
# materialization tables) are left to TimescaleDB; the user's tables,
# views and indexes come as with any other source.

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

$source->safe_psql('postgres', 'CREATE EXTENSION timescaledb');
my $version = $source->safe_psql('postgres',
	q{SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'});
$target->safe_psql('postgres', "CREATE EXTENSION timescaledb VERSION '$version'");

$source->safe_psql('postgres', q{
	CREATE TABLE public.metrics (t timestamptz NOT NULL, dev int, v float8);
	SELECT create_hypertable('public.metrics', 't');
	INSERT INTO public.metrics
		SELECT now() - g * interval '1 hour', g % 3, g FROM generate_series(1, 100) g;
	ALTER TABLE public.metrics SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
	CREATE VIEW public.recent AS SELECT * FROM public.metrics WHERE t > now() - interval '1 day';
});
$source->safe_psql('postgres', q{
	CREATE MATERIALIZED VIEW public.daily WITH (timescaledb.continuous) AS
		SELECT time_bucket('1 day', t) AS day, dev, avg(v) FROM public.metrics GROUP BY 1, 2
		WITH NO DATA;
});

my $src = $source->connstr('postgres');
my $sql = $target->safe_psql('postgres',
	"SELECT string_agg(s, E'\\n') FROM tsmigrate.schema_sql(\$\$$src\$\$, 'pre-data') s");
like($sql, qr/^CREATE TABLE "public"."metrics" \(/m, 'the hypertable is generated as a table');
like($sql, qr/^CREATE VIEW "public"."recent" AS/m, 'a view over it is generated');
unlike($sql, qr/_timescaledb|"daily"/,
	'nothing of the internal schemas and no continuous aggregate is generated');

my ($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FROM tsmigrate.pull_schema(\$\$$src\$\$, 'pre-data')");
is($rc, 0, 'pre-data replays on a TimescaleDB target') or diag($err);
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT count(*) FROM tsmigrate.pull_schema(\$\$$src\$\$, 'post-data', jobs => 2)");
is($rc, 0, 'post-data replays with two jobs on a TimescaleDB target') or diag($err);
is( $target->safe_psql('postgres',
		q{SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class
		   WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v')}),
	'metrics,recent',
	'the target has the table and the view, and no continuous aggregate');

done_testing();
