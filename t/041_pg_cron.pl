# t/041_pg_cron.pl
#
# Unattended: Debian's pg_cron runs CALL tsmigrate.migrate('<server>') on
# its schedule, with the credentials in a user mapping (no secret in
# cron.job).  The first scheduled run meets a stopped source and fails,
# leaving its state; the next one resumes and finishes.  pg_cron 1.4 runs
# jobs on minute boundaries, so this test waits for two of them.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TsmTest;

my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
plan skip_all => 'pg_cron is not installed'
  unless -f "$sharedir/extension/pg_cron.control";

my $source = tsm_source_node('source');
$source->safe_psql('postgres', q{
	CREATE ROLE reader LOGIN PASSWORD 'reader-secret';
	CREATE DATABASE shop OWNER reader;
});
$source->safe_psql('shop', q{
	SET ROLE reader;
	CREATE TABLE orders (id int PRIMARY KEY, placed timestamptz NOT NULL, total numeric(10,2));
	INSERT INTO orders SELECT g, '2024-01-01'::timestamptz + g * interval '1 minute', g % 1000
	  FROM generate_series(1, 50000) g;
	CREATE INDEX orders_placed ON orders (placed);
});
tsm_set_source_auth($source, 'scram-sha-256');

my $target = PostgreSQL::Test::Cluster->new('target');
$target->init;
$target->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'warehouse'
cron.host = '@{[ $target->host ]}'
max_worker_processes = 16
});
$target->start;
$target->safe_psql('postgres', 'CREATE DATABASE warehouse');
my $port = $source->port;
$target->safe_psql('warehouse', qq{
	CREATE EXTENSION pg_cron;
	CREATE EXTENSION tsmigrate;
	CREATE SERVER shop FOREIGN DATA WRAPPER tsmigrate
		OPTIONS (host '127.0.0.1', port '$port', dbname 'shop');
	CREATE USER MAPPING FOR CURRENT_USER SERVER shop
		OPTIONS (user 'reader', password 'reader-secret');
});

# the first run meets a stopped source
$source->stop;
$target->safe_psql('warehouse',
	q{SELECT cron.schedule('migrate-shop', '* * * * *', $$CALL tsmigrate.migrate('shop', roles => false)$$)});

is($target->safe_psql('warehouse',
	"SELECT count(*) FROM cron.job WHERE command ~* 'password'"),
	'0', 'no secret in cron.job: the credentials live in the user mapping');

ok($target->poll_query_until('warehouse',
	"SELECT count(*) > 0 FROM cron.job_run_details WHERE status = 'failed'"),
	'the first scheduled run fails while the source is down');
is($target->safe_psql('warehouse', 'SELECT state FROM tsmigrate.run'), 'failed',
	'it leaves its state: the run is recorded as failed');
like($target->safe_psql('warehouse',
	"SELECT return_message FROM cron.job_run_details WHERE status = 'failed' LIMIT 1"),
	qr/could not connect to source "shop"/, 'pg_cron shows why it failed');

# the next one resumes and finishes
$source->start;
ok($target->poll_query_until('warehouse',
	"SELECT state = 'done' FROM tsmigrate.run"),
	'a later scheduled run resumes the same run and finishes it');
is($target->safe_psql('warehouse', 'SELECT count(*) FROM tsmigrate.run'), '1',
	'it was the same run, resumed');
ok($target->poll_query_until('warehouse',
	"SELECT count(*) > 0 FROM cron.job_run_details WHERE status = 'succeeded'"),
	'cron.job_run_details records the successful run');
is($target->safe_psql('warehouse', 'SELECT count(*), sum(total) FROM orders'),
	$source->safe_psql('shop', 'SELECT count(*), sum(total) FROM orders'),
	'the data arrived');
is($target->safe_psql('warehouse',
	"SELECT string_agg(kind || ' ' || object, ', ') FROM tsmigrate.verify('shop', checksums => true) WHERE NOT ok AND kind <> 'count'"),
	'extension pg_cron', 'verify: source and target match, but for pg_cron, which only the target has');

$target->safe_psql('warehouse', "SELECT cron.unschedule('migrate-shop')");
done_testing();
