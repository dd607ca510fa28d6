# t/031_data_faults.pl
#
# pull_data when things go wrong mid-copy: the source backend terminated,
# the source server stopped (immediate), the caller cancelled.  Each time
# the caller gets a clear error (class 08 for a lost source), nothing is
# left half-copied on the target (the call is one transaction, and copy
# workers commit only when every copy is complete), no copy worker stays
# behind on the target and no tsmigrate backend on the source.

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

my $tables = q{
	CREATE TABLE big1 (id int, payload text);
	CREATE TABLE big2 (id int, payload text);
};
$source->safe_psql('postgres', 'CREATE DATABASE bulk');
$source->safe_psql('bulk', $tables . q{
	INSERT INTO big1 SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 300000) g;
	INSERT INTO big2 SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 300000) g;
});
# the target inserts slowly, so that every fault below hits a copy in
# progress, with the source still sending
$target->safe_psql('postgres', $tables . q{
	CREATE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN PERFORM pg_sleep(0.0005); RETURN NEW; END $$;
	CREATE TRIGGER slow_down BEFORE INSERT ON big1 FOR EACH ROW EXECUTE FUNCTION slow_down();
	CREATE TRIGGER slow_down BEFORE INSERT ON big2 FOR EACH ROW EXECUTE FUNCTION slow_down();
});
my $src = $source->connstr('bulk');

# Start pull_data in the background; return once the target shows a copy
# with rows in it.
sub start_pull
{
	my ($jobs) = @_;
	my $bg = $target->background_psql('postgres', on_error_stop => 0);
	$bg->query_safe("SET application_name = 'puller'");
	$bg->{stdin} .= "\\set VERBOSITY verbose\n"
	  . "SELECT * FROM tsmigrate.pull_data(\$\$$src\$\$, jobs => $jobs);\n";
	$bg->{run}->pump_nb();
	$target->poll_query_until('postgres',
		'SELECT count(*) > 0 FROM pg_stat_progress_copy WHERE tuples_processed > 0')
	  or die 'pull_data never started copying';
	return $bg;
}

# After a failed call: nothing copied, nothing left running.
sub check_clean
{
	my ($what) = @_;
	is($target->safe_psql('postgres',
			'SELECT (SELECT count(*) FROM big1) + (SELECT count(*) FROM big2)'),
		'0', "$what: no row reached the target");
	ok( $target->poll_query_until('postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'tsmigrate copy worker'"),
		"$what: no copy worker left on the target");
	ok(tsm_no_source_backends($source), "$what: no tsmigrate backend left on the source");
}

my $terminate_copies =
  "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE application_name = 'tsmigrate' AND query LIKE 'COPY%'";

# --- the source backend terminated -------------------------------------------

my $bg = start_pull(1);
$source->safe_psql('postgres', $terminate_copies);
my $err = tsm_finish_background($bg);
like($err, qr/ERROR:  08006: lost connection to the source during COPY/,
	'one job: a terminated source backend is a lost connection (08006)');
like($err, qr/CONTEXT:  remote SQL command: COPY public\.big[12] .*\nCOPY big[12], line \d+/,
	'the error names the relation being copied');
check_clean('one job, source backend terminated');

$bg = start_pull(2);
$source->safe_psql('postgres', $terminate_copies);
$err = tsm_finish_background($bg);
like($err, qr/ERROR:  08006: lost connection to the source/,
	'two jobs: a terminated source backend is a lost connection (08006)');
like($err, qr/tsmigrate copy worker/, 'the error comes from a copy worker, with that context');
check_clean('two jobs, source backend terminated');

# --- the source server stopped -------------------------------------------------

$bg = start_pull(2);
$source->stop('immediate');
$err = tsm_finish_background($bg);
like($err, qr/ERROR:  08\d\d\d: lost connection to the source/,
	'the source stopped mid-copy: a lost connection (class 08)');
$source->start;
check_clean('source stopped');

# --- the caller cancelled --------------------------------------------------------

$bg = start_pull(2);
ok( $target->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'tsmigrate copy worker'"),
	'two copy workers are running');
$target->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'puller'");
$err = tsm_finish_background($bg);
like($err, qr/ERROR:  57014: canceling statement due to user request/,
	'pg_cancel_backend stops the call');
check_clean('caller cancelled');

$bg = start_pull(1);
$target->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'puller'");
$err = tsm_finish_background($bg);
like($err, qr/ERROR:  57014: canceling statement due to user request/,
	'pg_cancel_backend stops a one-job call');
check_clean('one-job call cancelled');

# --- and afterwards everything works -------------------------------------------

$target->safe_psql('postgres', 'DROP TRIGGER slow_down ON big1; DROP TRIGGER slow_down ON big2');
is($target->safe_psql('postgres',
		"SELECT string_agg(relation || ':' || rows, ',' ORDER BY relation) FROM tsmigrate.pull_data(\$\$$src\$\$, jobs => 2)"),
	'public.big1:300000,public.big2:300000', 'the same call succeeds once nothing gets in the way');

done_testing();
