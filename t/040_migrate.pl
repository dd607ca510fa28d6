# t/040_migrate.pl
#
# CALL tsmigrate.migrate end to end: pagila and a time-series database
# arrive whole (verify all ok, pg_dump --schema-only identical); a source
# stopped mid-copy, a target backend terminated mid-run and a target server
# crashed mid-copy are all resumed by calling again, with no row lost or
# duplicated; a second concurrent call is refused; a finished run stays
# finished; a statement failing in post-data (two jobs: workers, each object
# committed alone) is resumed by the next call, which skips what is there,
# and so is an index build failing in the data step;
# a non-superuser migrates through a foreign server and user mapping, the
# tables' indexes built during the data step, each table analyzed after
# them; large objects arrive with their OIDs; a run opens one source
# session for all its steps.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaCompare;
use TsmTest;

# shared/ lies beside the checkout; scripts/test passes its copy's place
my $pagila = $ENV{TSM_DATASETS}
  ? "$ENV{TSM_DATASETS}/pagila"
  : "$FindBin::RealBin/../../shared/datasets/pagila";
my $dataset = "$FindBin::RealBin/../bench/dataset.sql";

my $source = tsm_source_node('source');
my $target = tsm_target_node('target');
my ($rc, $out, $err);

# --- pagila ----------------------------------------------------------------

SKIP:
{
	skip 'the pagila dataset is not beside the checkout', 4
	  unless -f "$pagila/pagila-schema.sql";

	# pagila's objects belong to "postgres"
	$source->safe_psql('postgres', q{
		DO $$ BEGIN
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'postgres') THEN
				CREATE ROLE postgres;
			END IF;
		END $$;
		CREATE DATABASE pagila;
	});
	$source->command_ok(
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $source->connstr('pagila'),
		  '-f', "$pagila/pagila-schema.sql" ], 'pagila schema loads on the source');
	$source->command_ok(
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $source->connstr('pagila'),
		  '-f', "$pagila/pagila-data.sql" ], 'pagila data loads on the source');

	$target->safe_psql('postgres', 'CREATE DATABASE pagila');
	$target->safe_psql('pagila', 'CREATE EXTENSION tsmigrate');
	my $src = $source->connstr('pagila');
	# the source logs each session tsmigrate opens
	$source->safe_psql('postgres',
		'ALTER SYSTEM SET log_connections = on; SELECT pg_reload_conf()');
	my $log_offset = -s $source->logfile;
	($rc, $out, $err) = tsm_target_sql($target,
		"CALL tsmigrate.migrate(\$\$$src\$\$, jobs => 2)", dbname => 'pagila');
	is($rc, 0, 'migrate pagila') or diag $err;
	my $sessions = () = slurp_file($source->logfile, $log_offset)
	  =~ /connection authorized: .*application_name=tsmigrate/g;
	ok($sessions <= 4,
		"migrate with jobs => 2 opens $sessions source sessions: one for its steps, one for the snapshot, one per copy worker");
	$source->safe_psql('postgres',
		'ALTER SYSTEM RESET log_connections; SELECT pg_reload_conf()');

	($rc, $out) = tsm_target_sql($target,
		"SELECT count(*) FILTER (WHERE NOT ok) || ' of ' || count(*) FROM tsmigrate.verify(\$\$$src\$\$, checksums => true)",
		dbname => 'pagila');
	like($out, qr/^0 of \d+$/, "pagila: verify with checksums finds no difference ($out)");
	is(schema_dump_diff($source, 'pagila', $target, 'pagila'), '',
		'pagila: pg_dump --schema-only of source and target are the same');
}

# --- a time-series database: stopped source, terminated target backend -----

$source->safe_psql('postgres', 'CREATE DATABASE shop');
$source->command_ok(
	[ 'psql', '-X', '-q', '-v', 'scale=0.1', '-d', $source->connstr('shop'), '-f', $dataset ],
	'time-series dataset loads on the source');
$target->safe_psql('postgres', 'CREATE DATABASE warehouse');
$target->safe_psql('warehouse', 'CREATE EXTENSION tsmigrate');
$source->safe_psql('shop', q{
	SELECT lo_from_bytea(424242, convert_to(repeat('firmware image ', 100000), 'UTF8'));
	SELECT lo_from_bytea(0, '\x00ff00ff'::bytea);
	CREATE INDEX devices_model_lower ON devices (lower(model));
});
my $shop = tsm_tcp_connstr($source, 'shop');
my $expected_rows = $source->safe_psql('shop', 'SELECT count(*) FROM metrics');

# Start migrate in the background; return once a COPY into metrics runs.
sub start_migrate
{
	my $bg = $target->background_psql('warehouse', on_error_stop => 0);
	$bg->query_safe("SET application_name = 'migrate-call'");
	$bg->{stdin} .= "\\set VERBOSITY verbose\nCALL tsmigrate.migrate('$shop', jobs => 2);\n";
	$bg->{run}->pump_nb();
	$target->poll_query_until('warehouse', q{
		SELECT count(*) > 0 FROM pg_stat_progress_copy p
		 WHERE p.relid = to_regclass('metrics') AND p.tuples_processed > 0})
	  or die 'the copy of metrics never started';
	return $bg;
}

# 1. the source stops (immediate) in the middle of the copy
my $bg = start_migrate();
$source->stop('immediate');
$err = tsm_finish_background($bg);
like($err, qr/ERROR:  08\w\w\w: /, 'source stopped mid-copy: an error of class 08');
is($target->safe_psql('warehouse', q{
	SELECT string_agg(state, ',' ORDER BY relation) FROM tsmigrate.run_relation
	 WHERE relation = 'public.metrics'}),
	'failed', 'the relation being copied is recorded as failed, not as copied');
is($target->safe_psql('warehouse', 'SELECT state FROM tsmigrate.run'), 'failed',
	'the run is recorded as failed');
is($target->safe_psql('warehouse', 'SELECT count(*) FROM metrics'), '0',
	'no half-copied rows are left in the target table');

# 2. a second concurrent call is refused while one runs
$source->start;
$bg = start_migrate();
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate('$shop')", dbname => 'warehouse');
my $first_pid = $target->safe_psql('warehouse',
	"SELECT pid FROM pg_stat_activity WHERE application_name = 'migrate-call'");
like($err,
	qr/ERROR:  55006: a migration into database "warehouse" is already in progress\nDETAIL:  Process $first_pid is running it\./,
	'a concurrent call is refused with 55006, naming the running process');

# 3. the target backend running migrate is terminated mid-copy
$target->safe_psql('warehouse',
	"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'migrate-call'");
# psql, reading a script, exits when it loses its connection
eval { $bg->{run}->kill_kill; $bg->{run}->finish; };
ok(tsm_no_source_backends($source), 'no tsmigrate backend is left on the source');

# 4. the target server crashes (immediate stop) in the middle of the copy:
#    the run cannot even record its failure, yet the next call resumes it
$bg = start_migrate();
$target->stop('immediate');
eval { $bg->{run}->kill_kill; $bg->{run}->finish; };
$target->start;
is($target->safe_psql('warehouse', 'SELECT state FROM tsmigrate.run'), 'running',
	'after a target crash the run is still marked running (nobody could mark it)');

# 5. called again: it resumes and finishes
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate('$shop', jobs => 2)", dbname => 'warehouse');
is($rc, 0, 'migrate called again finishes') or diag $err;
like($err, qr/resuming migration run 1/, 'it resumes the same run');
is($target->safe_psql('warehouse', 'SELECT count(*) FROM metrics'), $expected_rows,
	'every metrics row arrived exactly once');
is($target->safe_psql('warehouse',
	"SELECT count(*), md5(lo_get(424242)) = md5(convert_to(repeat('firmware image ', 100000), 'UTF8')) FROM pg_largeobject_metadata"),
	'2|t', 'large objects arrived with their OIDs and contents');
($rc, $out) = tsm_target_sql($target,
	"SELECT count(*) FILTER (WHERE NOT ok) FROM tsmigrate.verify('$shop', checksums => true)",
	dbname => 'warehouse');
is($out, '0', 'verify with checksums: source and target match');
is(schema_dump_diff($source, 'shop', $target, 'warehouse'), '',
	'pg_dump --schema-only of source and target are the same');
is($target->safe_psql('warehouse',
	"SELECT count(*) FROM tsmigrate.progress WHERE state NOT IN ('done', 'skipped', 'copied')"),
	'0', 'progress: every step done or skipped, every relation copied');
# tables copied whole were written frozen: every row's xmin frozen
# (HEAP_XMIN_FROZEN in its infomask), nothing left for a first reader or
# VACUUM to rewrite.  (The visibility map marks the pages all-frozen too,
# every one on 15; on 18 COPY FREEZE leaves the last page of some of its
# batches unmarked, whoever runs it.)
$target->safe_psql('warehouse', 'CREATE EXTENSION pageinspect');
is($target->safe_psql('warehouse', q{
	SELECT string_agg(t || ':' || f, ',' ORDER BY t) FROM (
		SELECT t, bool_and((i.t_infomask & 768) = 768) AND count(*) > 0 AS f
		  FROM unnest(ARRAY['public.devices', 'public.events', 'public.metrics']) t,
		       generate_series(0, pg_relation_size(t::regclass) / 8192 - 1) b,
		       heap_page_items(get_raw_page(t, b::int)) i
		 WHERE i.lp_flags = 1
		 GROUP BY t) s}),
	'public.devices:true,public.events:true,public.metrics:true',
	'tables copied whole were written frozen (COPY FREEZE)');
$target->safe_psql('warehouse', 'DROP EXTENSION pageinspect');

# 6. after success: nothing harmful, says it is complete
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate('$shop')", dbname => 'warehouse');
like($err, qr/NOTICE:  00000: migration run 1 from "[^"]+" is complete/,
	'a call after success says the migration is complete');
is($target->safe_psql('warehouse', 'SELECT count(*) FROM metrics'), $expected_rows,
	'and copies nothing again');

# A new target database with tsmigrate and an event trigger that, once the
# query $exists finds a row, refuses every statement with "$what refused for
# the test" (P0001), as a failing statement would.  refuse_no_more() drops it.
sub target_refusing
{
	my ($db, $exists, $what) = @_;
	$target->safe_psql('postgres', "CREATE DATABASE $db");
	$target->safe_psql($db, qq{
		CREATE EXTENSION tsmigrate;
		CREATE FUNCTION public.refuse() RETURNS event_trigger LANGUAGE plpgsql AS \$\$
		BEGIN
			IF EXISTS ($exists) THEN
				RAISE EXCEPTION '$what refused for the test' USING ERRCODE = 'P0001';
			END IF;
		END \$\$;
		CREATE EVENT TRIGGER refuse ON ddl_command_end EXECUTE FUNCTION public.refuse();
	});
}

sub refuse_no_more
{
	$target->safe_psql(shift, 'DROP EVENT TRIGGER refuse; DROP FUNCTION public.refuse()');
}

# --- post-data: a statement fails in a worker, the next call resumes -------

# The foreign key of events is refused; everything it waits for (the keys
# and indexes of events and devices) is committed before it runs.
target_refusing('depot',
	q{SELECT FROM pg_constraint WHERE conname = 'events_device_id_fkey'}, 'foreign key');
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate('$shop', jobs => 2)", dbname => 'depot');
isnt($rc, 0, 'a statement failing in post-data stops migrate');
like($err, qr/ERROR:  P0001: foreign key refused for the test/,
	'the statement\'s error arrives with its SQLSTATE');
like($err, qr/replaying definition of constraint "public"."events"."events_device_id_fkey"\ntsmigrate schema worker/,
	'the context names the object, replayed by a schema worker');
is($target->safe_psql('depot', q{SELECT state FROM tsmigrate.run_step WHERE step = 'post-data'}),
	'failed', 'the post-data step is recorded as failed');
is($target->safe_psql('depot', q{
	SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint
	 WHERE conrelid IN ('public.events'::regclass, 'public.devices'::regclass)
	   AND contype <> 'n'}),
	'devices_pkey,devices_site_id_fkey,events_pkey',
	'with two jobs, what the foreign key waited for was committed before it; the foreign key was not');

refuse_no_more('depot');
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate('$shop', jobs => 2)", dbname => 'depot');
is($rc, 0, 'migrate called again finishes') or diag $err;
# (metrics' indexes, in flight when the foreign key failed, may or may not
# have been committed; the keys of sites, devices and events and the foreign
# key of devices were)
my ($there) = $err =~ /step "post-data" done in [\d.]+ s: \d+ objects \((\d+) more were there already\)/;
cmp_ok($there // 0, '>=', 4, 'the resumed post-data step skips the objects that are there');
($rc, $out) = tsm_target_sql($target,
	"SELECT count(*) FILTER (WHERE NOT ok) FROM tsmigrate.verify('$shop', checksums => true)",
	dbname => 'depot');
is($out, '0', 'verify with checksums: source and target match');
is(schema_dump_diff($source, 'shop', $target, 'depot'), '',
	'pg_dump --schema-only of source and target are the same');

# --- an index build of the data step fails; the next call finishes --------

# The expression index of devices is refused.  The data step builds it once
# devices is copied: the step stops with the build's error, devices stays
# copied with all its rows, and the next call builds the index in post-data.
target_refusing('annex',
	q{SELECT FROM pg_class WHERE relname = 'devices_model_lower'}, 'index');
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate('$shop', jobs => 2)", dbname => 'annex');
isnt($rc, 0, 'an index build failing in the data step stops migrate');
like($err, qr/ERROR:  P0001: index refused for the test/,
	'the build\'s error arrives with its SQLSTATE');
like($err, qr/replaying definition of index "public"."devices_model_lower"\ntsmigrate copy worker/,
	'the context names the index, built by a worker of the data step');
is($target->safe_psql('annex', q{SELECT state FROM tsmigrate.run_step WHERE step = 'data'}),
	'failed', 'the data step is recorded as failed');
is($target->safe_psql('annex', q{
	SELECT r.state || ' ' || (SELECT count(*) FROM public.devices)
	  FROM tsmigrate.run_relation r WHERE r.relation = 'public.devices'}),
	'copied ' . $source->safe_psql('shop', 'SELECT count(*) FROM devices'),
	'the table whose index failed stays copied, with all its rows');

refuse_no_more('annex');
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate('$shop', jobs => 2)", dbname => 'annex');
is($rc, 0, 'migrate called again finishes') or diag $err;
($rc, $out) = tsm_target_sql($target,
	"SELECT count(*) FILTER (WHERE NOT ok) FROM tsmigrate.verify('$shop', checksums => true)",
	dbname => 'annex');
is($out, '0', 'verify with checksums: source and target match');
is(schema_dump_diff($source, 'shop', $target, 'annex'), '',
	'pg_dump --schema-only of source and target are the same');

# --- index builds: no free slot for index builders, or turned off ---------

# Index builders are extra workers: with no slot free beyond the two copy
# workers, the copy workers build the indexes themselves once their copies
# are done.
$target->append_conf('postgresql.conf', 'max_worker_processes = 3');
$target->restart;
$target->safe_psql('postgres', 'CREATE DATABASE outpost');
$target->safe_psql('outpost', 'CREATE EXTENSION tsmigrate');
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate('$shop', jobs => 2)", dbname => 'outpost');
is($rc, 0, 'with no worker slot for index builders, migrate finishes') or diag $err;
like($err, qr/step "data" done in [\d.]+ s: \d+ relations, \d+ rows, \d+ bytes, 6 indexes built/,
	'and the copy workers built the six indexes');
$target->append_conf('postgresql.conf', 'max_worker_processes = 16');
$target->restart;

# tsmigrate.copy_indexes off: the post-data step builds every index
$target->safe_psql('postgres', q{
	CREATE DATABASE annexe;
	ALTER DATABASE annexe SET tsmigrate.copy_indexes = off;
});
$target->safe_psql('annexe', 'CREATE EXTENSION tsmigrate');
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate('$shop', jobs => 2)", dbname => 'annexe');
is($rc, 0, 'migrate with tsmigrate.copy_indexes off') or diag $err;
like($err, qr/step "data" done in [\d.]+ s: \d+ relations, \d+ rows, \d+ bytes\n/,
	'copy_indexes off: the data step builds no index');
like($err, qr/step "post-data" done in [\d.]+ s: 8 objects\n/,
	'copy_indexes off: post-data builds every index and key');
foreach my $db ('outpost', 'annexe')
{
	($rc, $out) = tsm_target_sql($target,
		"SELECT count(*) FILTER (WHERE NOT ok) FROM tsmigrate.verify('$shop', checksums => true)",
		dbname => $db);
	is($out, '0', "$db: verify with checksums: source and target match");
}

# --- a non-superuser, with a foreign server and a user mapping -------------

tsm_set_source_auth($source, 'scram-sha-256');
$source->safe_psql('postgres', q{
	CREATE ROLE reader LOGIN PASSWORD 'reader-secret';
	GRANT CONNECT ON DATABASE shop TO reader;
});
$source->safe_psql('shop', q{
	GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;
	GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO reader;
	SELECT format('GRANT SELECT ON LARGE OBJECT %s TO reader', oid) FROM pg_largeobject_metadata \gexec
});
my $port = $source->port;
$target->safe_psql('postgres', q{
	CREATE ROLE migrator LOGIN;
	CREATE DATABASE mart OWNER migrator;
});
$target->safe_psql('mart', qq{
	CREATE EXTENSION tsmigrate;
	CREATE SERVER shop FOREIGN DATA WRAPPER tsmigrate
		OPTIONS (host '127.0.0.1', port '$port', dbname 'shop');
	GRANT USAGE ON FOREIGN SERVER shop TO migrator;
	CREATE USER MAPPING FOR migrator SERVER shop
		OPTIONS (user 'reader', password 'reader-secret');
	ALTER DATABASE mart SET tsmigrate.source = 'shop';
});
tsm_grant_migrate($target, 'mart', 'migrator');
($rc, $out, $err) = tsm_target_sql($target,
	'CALL tsmigrate.migrate(jobs => 2, roles => false)', dbname => 'mart', user => 'migrator');
is($rc, 0, 'a non-superuser migrates through a foreign server') or diag $err;
# the tables' indexes are built by the copy workers as each table is in,
# and each table is analyzed after them (an expression index has statistics)
like($err, qr/step "data" done in [\d.]+ s: \d+ relations, \d+ rows, \d+ bytes, 6 indexes built/,
	'the data step built the tables\' six indexes (those of their keys included)');
like($err, qr/step "post-data" done in [\d.]+ s: 6 objects \(2 more built by the data step\)/,
	'post-data attaches the keys to their indexes and adds the foreign keys');
is($target->safe_psql('mart', q{
	SELECT count(*) > 0 FROM pg_stats
	 WHERE schemaname = 'public' AND tablename = 'devices_model_lower'}),
	't', 'a table is analyzed after its indexes are built: its expression index has statistics');
($rc, $out) = tsm_target_sql($target,
	'SELECT count(*) FILTER (WHERE NOT ok) FROM tsmigrate.verify(checksums => true)',
	dbname => 'mart', user => 'migrator');
is($out, '0', 'and verify finds no difference');
is($target->safe_psql('mart', "SELECT tableowner FROM pg_tables WHERE tablename = 'metrics'"),
	'migrator', 'the tables belong to the caller: nothing ran with more rights');

done_testing();
