# t/064_hostile_source.pl
#
# A hostile source never crashes the target (issue 13, item 5): whatever
# the source answers, every entry point ends with a result or an ERROR with
# a SQLSTATE, and the target keeps answering.
#
# - Fuzzing, through a man in the middle (HostileProxy.pm) between the
#   target and a real source: every catalog query that each entry point
#   sends is answered, in turn, with a NULL in each column, "x" in each
#   column that holds numbers or booleans, 100000 bytes in each text
#   column, no rows, one column more and one column less.  Each column of
#   each query of each entry point once, not in combination.
# - The source itself has roles and objects with extreme names and values
#   (quotes, semicolons, line breaks, 63-byte multibyte names, the largest
#   bigint and int, a long comment): the honest run of each entry point,
#   through the proxy, succeeds.
# - Names are not pasted into the target's SQL (item 8): verify's listings
#   of tables, sequences and continuous aggregates rewritten by the proxy
#   to hold a call of a function (one the source brought, that advances a
#   sequence) in each column, with and without checksums: the function
#   never runs on the target.
# - Objects dropped on the real source while pull_data, pull_chunks and
#   migrate read it (each waits for the dropping transaction's lock and
#   then finds a relation whose size is NULL): an ERROR naming it, 42P01.
# Last, the target's server log shows no backend terminated by a signal.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use HostileProxy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use TsmTest;

plan skip_all => 'TimescaleDB is not installed' unless tsm_have_timescaledb();

my $started = time;
my $source = tsm_source_node('source', timescaledb => 1);
# restart_after_crash: on the code before the fix, the fuzzing goes on
# after a crash, and counts them all
my $target = tsm_target_node('target', timescaledb => 1,
	conf => "log_statement = none\nrestart_after_crash = on\n");
my ($rc, $out, $err);

# --- a source with extreme names and values ----------------------------------

# 63 bytes, two per character but the last
my $long_role = ('é' x 31) . 'x';
my $odd_role = qq{r "q" ; DROP ROLE x; --\nnext line};
(my $odd_role_q = $odd_role) =~ s/"/""/g;
my $odd_schema = qq{s "q" ;\n-- x};
(my $odd_schema_q = $odd_schema) =~ s/"/""/g;
my $long_table = 't' x 63;

$source->safe_psql('postgres', qq{
	CREATE ROLE "$odd_role_q" LOGIN CONNECTION LIMIT 2147483647 VALID UNTIL 'infinity';
	CREATE ROLE "$long_role" NOLOGIN;
	GRANT "$long_role" TO "$odd_role_q" WITH ADMIN OPTION;
	COMMENT ON ROLE "$odd_role_q" IS '} . ("it''s a long comment; -- \n" x 2000) . qq{';
	ALTER ROLE "$odd_role_q" SET search_path = 'a', '"b c"', '\$user';
	ALTER ROLE "$long_role" SET work_mem = '64kB';
	CREATE DATABASE src;
});
$source->safe_psql('src', qq{
	CREATE EXTENSION timescaledb;
	CREATE SCHEMA "$odd_schema_q";
	CREATE TABLE "$odd_schema_q"."$long_table" (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		"c ""1"" ;" text DEFAULT E'it''s\\n-- not a comment',
		big numeric DEFAULT 1e300,
		tiny smallint DEFAULT -32768);
	INSERT INTO "$odd_schema_q"."$long_table" ("c ""1"" ;") VALUES (E'a\\tb'), (NULL);
	COMMENT ON TABLE "$odd_schema_q"."$long_table" IS '} . ('x' x 100000) . qq{';
	CREATE SEQUENCE "$odd_schema_q".seq MAXVALUE 9223372036854775807 START 9223372036854775806;
	SELECT nextval('"$odd_schema_q".seq');
	CREATE SEQUENCE public.plain_seq;
	CREATE TABLE public.victim (id int);
	CREATE TABLE public.parted (k int, v text) PARTITION BY RANGE (k);
	CREATE TABLE public.parted_1 PARTITION OF public.parted FOR VALUES FROM (0) TO (10);
	CREATE TABLE public.parted_2 PARTITION OF public.parted FOR VALUES FROM (10) TO (20);
	INSERT INTO public.parted SELECT g, g::text FROM generate_series(0, 19) g;
	CREATE VIEW "$odd_schema_q".v AS SELECT id, "c ""1"" ;" FROM "$odd_schema_q"."$long_table";
	CREATE MATERIALIZED VIEW public.mv AS SELECT k, v FROM public.parted;
	CREATE FUNCTION "$odd_schema_q".f("a ""b""" int) RETURNS text LANGUAGE sql
		AS \$f\$ SELECT \$\$'; DROP TABLE x; --\$\$::text \$f\$;
	SELECT lo_from_bytea(4242, 'large object');
	CREATE SEQUENCE public.witness_seq;
	CREATE FUNCTION public.witness() RETURNS int LANGUAGE sql
		AS 'SELECT pg_catalog.nextval(''public.witness_seq'')::int';
	ALTER TABLE "$odd_schema_q"."$long_table" OWNER TO "$odd_role_q";

	CREATE TABLE public.cond (time timestamptz NOT NULL, device int NOT NULL, temp float8);
	SELECT create_hypertable('public.cond', 'time', chunk_time_interval => interval '1 day');
	INSERT INTO public.cond
		SELECT '2024-01-01'::timestamptz + g * interval '1 hour', g % 3, g * 0.5
		  FROM generate_series(0, 71) g;
	ALTER TABLE public.cond SET (timescaledb.compress, timescaledb.compress_segmentby = 'device',
		timescaledb.compress_orderby = 'time DESC');
	SELECT count(compress_chunk(c)) FROM (SELECT show_chunks('public.cond') c ORDER BY 1 LIMIT 1) s;
	CREATE MATERIALIZED VIEW public.daily WITH (timescaledb.continuous) AS
		SELECT time_bucket('1 day', time) AS day, device, avg(temp) AS t
		  FROM public.cond GROUP BY 1, 2 WITH NO DATA;
	CALL refresh_continuous_aggregate('public.daily', NULL, '2024-01-03');
	CREATE PROCEDURE public.nightly(job_id int, config jsonb) LANGUAGE plpgsql
		AS \$\$ BEGIN RAISE NOTICE 'job %', job_id; END \$\$;
	BEGIN;
	SELECT add_compression_policy('public.cond', compress_after => interval '7 days');
	SELECT add_job('public.nightly', '1 day', config => '{"k": "it''s"}',
		initial_start => '2030-01-01 03:00+00');
	SELECT alter_job(job_id, next_start => '2030-01-02 00:00+00')
	  FROM timescaledb_information.jobs WHERE job_id >= 1000;
	COMMIT;
});

# --- the proxy, and the target's databases ----------------------------------

my $proxy = HostileProxy->start(
	upstream_port => $source->port,
	dir => $PostgreSQL::Test::Utils::tmp_check);
my $via_proxy = 'host=127.0.0.1 port=' . $proxy->port . ' dbname=src';
my $direct = $source->connstr('src');

# Run $sql on the target's database $db; return (outcome, stderr): "ok",
# "error XXXXX", "crash" (the backend died), "timeout" or "other".
sub run_case
{
	my ($db, $sql) = @_;
	my $timed_out = 0;
	my ($rc, $out, $err) = $target->psql(
		$db, $sql,
		extra_params => [ '-v', 'VERBOSITY=verbose' ],
		on_error_stop => 1,
		timeout => 120,
		timed_out => \$timed_out);
	my $outcome =
		$timed_out ? 'timeout'
	  : $rc == 0 ? 'ok'
	  : $err =~ /^(?:psql:\S+ )?ERROR:\s+([0-9A-Z]{5}):/m ? "error $1"
	  : $err =~ /server closed the connection unexpectedly|terminating connection because of crash|no connection to the server/
	  ? 'crash'
	  : 'other';
	# after a crash, the postmaster restarts every backend: wait for it
	$target->poll_query_until('postgres', 'SELECT true')
	  or die 'the target does not answer any more';
	return ($outcome, $err);
}

sub setup_db
{
	my ($db, @calls) = @_;
	$target->safe_psql('postgres', "CREATE DATABASE $db");
	$target->safe_psql($db, 'CREATE EXTENSION tsmigrate');
	for my $call (@calls)
	{
		my ($outcome, $err) = run_case($db, $call);
		die "setting up $db: $call: $outcome\n$err" unless $outcome eq 'ok';
	}
	return;
}

my $src = "\$\$$via_proxy\$\$";
my $sync = "SELECT count(*) FROM tsmigrate.sync_extensions($src)";
my $pre = "SELECT count(*) FROM tsmigrate.pull_schema($src, 'pre-data')";
my $hyper = "SELECT count(*) FROM tsmigrate.pull_hypertables($src, with_data => false)";
setup_db('fz_empty', $sync);
setup_db('fz_pre', $sync, $pre);
setup_db('fz', $sync, $pre, $hyper);

# --- the entry points, honest then fuzzed ------------------------------------

my $tables = q{ARRAY['public.victim', 'public.parted', 'public.plain_seq', 'public.mv']}
  . qq{ || ARRAY['"$odd_schema_q"."$long_table"', '"$odd_schema_q".seq']};
my @entry_points = (
	[ 'check_versions', 'fz', "SELECT count(*) FROM tsmigrate.check_versions($src)" ],
	[ 'align_timescaledb', 'fz', "SELECT tsmigrate.align_timescaledb($src)" ],
	[ 'source_sessions', 'fz', "SELECT count(*) FROM tsmigrate.source_sessions($src)" ],
	[ 'sync_extensions', 'fz_empty',
		"SELECT count(*) FROM tsmigrate.sync_extensions($src, dry_run => true)" ],
	[ 'roles_sql', 'fz', "SELECT count(*) FROM tsmigrate.roles_sql($src)" ],
	[ 'pull_roles', 'fz',
		"BEGIN; SELECT count(*) FROM tsmigrate.pull_roles($src); ROLLBACK" ],
	[ 'pull_schema pre-data', 'fz_empty', "BEGIN; $pre; ROLLBACK" ],
	[ 'pull_schema post-data', 'fz',
		"BEGIN; SELECT count(*) FROM tsmigrate.pull_schema($src, 'post-data'); ROLLBACK" ],
	[ 'pull_data', 'fz',
		"BEGIN; SELECT count(*) FROM tsmigrate.pull_data($src, tables => $tables, large_objects => true); ROLLBACK" ],
	[ 'pull_hypertables', 'fz_pre',
		"BEGIN; SELECT count(*) FROM tsmigrate.pull_hypertables($src); ROLLBACK" ],
	[ 'pull_chunks', 'fz',
		"BEGIN; SELECT count(*) FROM tsmigrate.pull_chunks($src); ROLLBACK" ],
	[ 'pull_continuous_aggregates', 'fz',
		"BEGIN; SELECT count(*) FROM tsmigrate.pull_continuous_aggregates($src); ROLLBACK" ],
	[ 'compress_chunks', 'fz',
		"BEGIN; SELECT count(*) FROM tsmigrate.compress_chunks($src); ROLLBACK" ],
	[ 'pull_jobs', 'fz',
		"BEGIN; SELECT count(*) FROM tsmigrate.pull_jobs($src); ROLLBACK" ],
	[ 'verify', 'fz', "SELECT count(*) FROM tsmigrate.verify($src, checksums => true)" ],
);

# what a source may make the target answer: an error of the source's
# answer (protocol violation, null value, bad number), or whatever the
# entry point says of the object it was given (undefined, wrong, invalid)
my %crashes;
my %outcomes;
my $ncases = 0;

# a message for the test's log, without the 100000 bytes it may quote
sub clip
{
	my ($text) = @_;
	return length $text > 300 ? substr($text, 0, 300) . '...' : $text;
}

# The cases for one query as the proxy logged it: each column once.
sub cases_of
{
	my ($res) = @_;
	my @shape = split //, $res->{shape};
	my @cases = ("empty $res->{key}", "extra $res->{key}");
	push @cases, "missing $res->{key}" if $res->{ncols} > 0;
	for my $c (0 .. $res->{ncols} - 1)
	{
		push @cases, "null $res->{key} $c";
		push @cases, "nan $res->{key} $c" if $shape[$c] =~ /[nb]/;
		push @cases, "long $res->{key} $c" if $shape[$c] eq 's';
	}
	return @cases;
}

sub fuzz
{
	my ($name, $db, $sql, %opts) = @_;

	$proxy->set('off');
	$proxy->clear_log;
	my ($outcome, $err) = $opts{run} ? $opts{run}->('off') : run_case($db, $sql);
	is($outcome, 'ok', "$name: the honest run succeeds")
	  or diag($err);
	my %seen;
	my @queries = grep { !$seen{ $_->{key} }++ } $proxy->results;
	@queries = grep {
		!$opts{skip}->{ $_->{key} }
		  || ($opts{again} && $_->{sql} =~ $opts{again})
	} @queries if $opts{skip};

	my @bad;
	for my $res (@queries)
	{
		for my $case (cases_of($res))
		{
			$proxy->set($case);
			my ($outcome, $err) = $opts{run} ? $opts{run}->($case) : run_case($db, $sql);
			$ncases++;
			$outcomes{$outcome}++;
			my $what = "$name, $case ($res->{sql})";
			if ($outcome eq 'crash' || $outcome eq 'timeout' || $outcome eq 'other')
			{
				$crashes{$name}++ if $outcome eq 'crash';
				push @bad, "$what: $outcome";
				my ($first) = $err =~ /^(.*)$/m;
				diag(clip("$what: $outcome: " . ($first // '')));
			}
			elsif ($outcome eq 'error XX000')
			{
				push @bad, "$what: $outcome";
				my ($msg) = $err =~ /ERROR:\s+XX000:\s+(.*)$/m;
				diag(clip("$what: XX000: " . ($msg // '')));
			}
		}
	}
	$proxy->set('off');
	is(scalar @bad, 0,
		"$name: " . scalar(@queries) . ' queries fuzzed, no crash, no internal error');
	return map { $_->{key} => 1 } @queries;
}

my %fuzzed;
for my $ep (@entry_points)
{
	my %keys = fuzz(@$ep);
	$fuzzed{$_} = 1 for keys %keys;
}

# migrate: each case in a new database; only the queries that the entry
# points above did not send (its own list of relations, large objects and
# snapshot), and the chunks, which it lists its own way
my $mig = 0;
sub migrate_case
{
	my $db = 'mg' . $mig++;
	$target->safe_psql('postgres', "CREATE DATABASE $db");
	$target->safe_psql($db, 'CREATE EXTENSION timescaledb; CREATE EXTENSION tsmigrate');
	my @r = run_case($db,
		"CALL tsmigrate.migrate($src, jobs => 1, roles => false, owners => false, privileges => false)");
	$target->safe_psql('postgres', "DROP DATABASE $db WITH (FORCE)");
	return @r;
}
fuzz('migrate', undef, undef, run => \&migrate_case, skip => \%fuzzed,
	again => qr/^SELECT ch\.hypertable_id, ch\.schema_name/);

# --- names from the source are not pasted into the target's SQL ------------

# verify compares rows with the same query on both sides: a table's name and
# columns as the source's answer spells them would run on the target.  The
# proxy puts a call of public.witness() (a function the source brought,
# which advances a sequence that no rollback undoes) in each column of the
# queries that list tables, sequences and continuous aggregates.
# (a row in a table here, for a column list to be evaluated)
$target->safe_psql('fz', q{INSERT INTO public.parted VALUES (1, 'here')});
my $verify = "SELECT count(*) FROM tsmigrate.verify($src, checksums => true)";
$proxy->set('off');
$proxy->clear_log;
($rc) = run_case('fz', $verify);
my %listing;
for my $res ($proxy->results)
{
	$listing{ $res->{key} } = $res
	  if $res->{sql} =~ /^SELECT (?:pg_catalog\.quote_ident\((?:n\.nspname|ca\.user_view_schema)\)|n\.nspname, c\.relname|ca\.user_view_schema, ca\.user_view_name,)/;
}
my $injected = 0;
for my $res (values %listing)
{
	for my $c (0 .. $res->{ncols} - 1)
	{
		for my $value ('public.witness()', '{public.witness()}')
		{
			$proxy->set("set $res->{key} $c " . unpack('H*', $value));
			for my $checksums ('true', 'false')
			{
				my ($outcome) = run_case('fz',
					"SELECT count(*) FROM tsmigrate.verify($src, checksums => $checksums)");
				$injected++;
				isnt($outcome, 'crash',
					clip("verify (checksums $checksums) with $value in column $c of $res->{sql}"));
			}
		}
	}
}
$proxy->set('off');
cmp_ok($injected, '>=', 24, 'the listings of tables, sequences and aggregates were rewritten');
is($target->safe_psql('fz', 'SELECT is_called FROM public.witness_seq'), 'f',
	'no name or column list from the source ran as SQL on the target');

diag("$ncases cases in " . int(time - $started) . ' s: '
	  . join(', ', map { "$outcomes{$_} $_" } sort keys %outcomes));
diag('crashes: ' . join(', ', map { "$_ $crashes{$_}" } sort keys %crashes))
  if %crashes;
$proxy->stop;

# --- objects dropped on the real source mid-run ------------------------------

# Start $sql on the target while the source's transaction that drops
# $victim holds its lock; once a tsmigrate query waits for that lock,
# commit the drop; return the outcome and stderr.
sub dropped_midway
{
	my ($db, $sql, $drop) = @_;
	my $locker = $source->background_psql('src');
	$locker->query_safe("BEGIN; $drop");
	my $bg = $target->background_psql($db, on_error_stop => 0);
	$bg->{stdin} .= "\\set VERBOSITY verbose\n$sql;\n";
	$bg->{run}->pump_nb();
	my $waited = $source->poll_query_until('src',
		"SELECT count(*) > 0 FROM pg_stat_activity
		  WHERE application_name = 'tsmigrate' AND wait_event_type = 'Lock'");
	$locker->query_safe('COMMIT');
	$locker->quit;
	# psql may be gone with its backend (the code before the fix crashed)
	my $stderr = eval { tsm_finish_background($bg) } // $bg->{stderr};
	$target->poll_query_until('postgres', 'SELECT true')
	  or die 'the target does not answer any more';
	return ($waited, $stderr);
}

my $dsrc = "\$\$$direct\$\$";
my ($waited, $stderr) = dropped_midway('fz',
	"BEGIN; SELECT count(*) FROM tsmigrate.pull_data($dsrc, tables => ARRAY['public.victim']); ROLLBACK",
	'DROP TABLE public.victim');
ok($waited, 'pull_data waited for the table being dropped');
like($stderr, qr/ERROR:\s+42P01: relation public\.victim does not exist on the source any more/,
	'... and then failed with 42P01, naming it');

$source->safe_psql('src', 'CREATE TABLE public.victim2 (id int)');
$target->safe_psql('postgres', 'CREATE DATABASE mg_drop');
$target->safe_psql('mg_drop', 'CREATE EXTENSION timescaledb; CREATE EXTENSION tsmigrate');
($waited, $stderr) = dropped_midway('mg_drop',
	"CALL tsmigrate.migrate($dsrc, jobs => 1, roles => false, owners => false, privileges => false)",
	'DROP TABLE public.victim2');
ok($waited, 'migrate waited for the table being dropped');
like($stderr, qr/ERROR:\s+42P01: relation public\.victim2 does not exist on the source any more/,
	'... and then failed with 42P01, naming it');

my $chunk = $source->safe_psql('src',
	q{SELECT c FROM show_chunks('public.cond') c ORDER BY 1 DESC LIMIT 1});
($waited, $stderr) = dropped_midway('fz',
	"BEGIN; SELECT count(*) FROM tsmigrate.pull_chunks($dsrc); ROLLBACK",
	"DROP TABLE $chunk");
ok($waited, 'pull_chunks waited for the chunk being dropped');
like($stderr, qr/ERROR:\s+42P01: .*\Q$chunk\E/,
	'... and then failed with 42P01, naming it');

# --- no backend of the target died -------------------------------------------

my $log = slurp_file($target->logfile);
my $signals = () = $log =~ /terminated by signal/g;
is($signals, 0, 'the target\'s server log shows no backend terminated by a signal');

done_testing();
