# t/063_hostile_ddl.pl
#
# A hostile source's DDL gains nothing on the target (issue 13, items 4
# and 7).  The source's owner controls its catalogs; a man in the middle
# (t/fixtures/mitm_proxy.pl) controls every statement text, the node type
# it claims ("CreateFunctionStmt:...") included.  Each attack must have no
# effect, fail with 42501 naming the object and the "allow" word that would
# let it through, and work once that word is given:
# - functions in C, in internal (one that would crash the server when
#   called), in an untrusted language, an aggregate whose C functions would
#   read each other's state wrong (c_functions, untrusted_languages);
# - an event trigger (event_triggers), with the consent reaching post-data's
#   workers;
# - statements on objects this migration did not create (existing_objects):
#   a table INHERITS tsmigrate's own run table, a trigger and a rule on
#   pg_cron's cron.job, row level security on a table that was on the
#   target, and, forged in the middle, ATTACH PARTITION onto such a table
#   and DISABLE TRIGGER of its trigger;
# - a statement whose claimed node type lies about the object's kind (a
#   schema comment that is a CREATE FUNCTION);
# - dry_run => true runs nothing: no function call (an aggregate's initial
#   value checked by a domain), no index expression, no refresh, each of
#   which would advance a sequence;
# - the target's event trigger that refuses CREATE EXTENSION fires during
#   sync_extensions and migrate.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use IO::Socket::INET;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TsmTest;

my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
my $have_cron = -f "$sharedir/extension/pg_cron.control";

my $source = tsm_source_node('source');
tsm_set_source_auth($source, 'trust');
my $target = tsm_target_node('target',
	conf => $have_cron
	? "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\n"
	: '');
$target->safe_psql('postgres', 'CREATE EXTENSION pg_cron') if $have_cron;
my ($rc, $out, $err);

# a source database made of $sql; its connection string, direct or through
# the man in the middle
sub hostile
{
	my ($db, $sql) = @_;
	$source->safe_psql('postgres', "CREATE DATABASE $db");
	$source->safe_psql($db, $sql);
	return tsm_tcp_connstr($source, $db);
}

# a target database with tsmigrate and what the DBA put there
sub target_db
{
	my ($db, $sql) = @_;
	$target->safe_psql('postgres', "CREATE DATABASE $db");
	$target->safe_psql($db, 'CREATE EXTENSION tsmigrate');
	$target->safe_psql($db, $sql) if defined $sql;
	return;
}

sub pull
{
	my ($db, $src, $section, $extra) = @_;
	$extra //= '';
	return tsm_target_sql($target,
		"SELECT kind, object, action FROM tsmigrate.pull_schema('$src', '$section'$extra)",
		dbname => $db);
}

sub value
{
	my ($db, $sql) = @_;
	return $target->safe_psql($db, $sql);
}

# --- the man in the middle ----------------------------------------------------

my $proxy_port = PostgreSQL::Test::Cluster::get_free_port();
my $rules = "$PostgreSQL::Test::Utils::tmp_check/mitm_rules";
open my $fh, '>', $rules or die $!;
print $fh join("\t", '@@LIE@@',
	q{CreateFunctionStmt:CREATE FUNCTION public.sneaky() RETURNS integer LANGUAGE sql AS 'SELECT 1'}), "\n";
print $fh join("\t", '@@ATTACH@@',
	q{AlterTableStmt:ALTER TABLE ONLY public.ledger ATTACH PARTITION public.kid FOR VALUES FROM (0) TO (100)}), "\n";
print $fh join("\t", '@@DISABLE@@',
	q{AlterTableStmt:ALTER TABLE public.audited DISABLE TRIGGER audit}), "\n";
close $fh;
my $proxy = IPC::Run::start(
	[ 'perl', "$FindBin::RealBin/fixtures/mitm_proxy.pl", $proxy_port, $source->port, $rules ],
	'>', \my $proxy_out, '2>', \my $proxy_err);
for (1 .. 100)
{
	last if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $proxy_port);
	select(undef, undef, undef, 0.1);
}

sub through_proxy
{
	my ($db) = @_;
	return "host=127.0.0.1 port=$proxy_port dbname=$db sslmode=disable gssencmode=disable";
}

# --- functions in C, internal and untrusted languages -------------------------

my $src = hostile('cfun', q{
	CREATE FUNCTION public.validate(text[], oid) RETURNS void
		LANGUAGE c AS '$libdir/tsmigrate', 'tsmigrate_fdw_validator';
});
target_db('cfun');
($rc, $out, $err) = pull('cfun', $src, 'pre-data');
like($err, qr/ERROR:  42501: permission denied to create function public\.validate from the source/,
	'a function in C is refused with 42501, naming it');
like($err, qr/HINT:  Call again with allow => '\{c_functions\}'/, 'the hint names the allow word');
is(value('cfun', q{SELECT count(*) FROM pg_proc WHERE proname = 'validate'}), '0',
	'and the function is not there');
($rc, $out, $err) = pull('cfun', $src, 'pre-data', ", allow => '{c_functions}'");
is(value('cfun', q{SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
	WHERE p.oid = 'public.validate(text[], oid)'::regprocedure}),
	'c', 'with allow => {c_functions} it is created') or diag($err);

# called with an integer, textout would follow it as a pointer
$src = hostile('crash', q{
	CREATE FUNCTION public.crash(integer) RETURNS text LANGUAGE internal STRICT AS 'textout';
});
target_db('crash');
($rc, $out, $err) = pull('crash', $src, 'pre-data');
like($err, qr/ERROR:  42501: permission denied to create function public\.crash from the source.*\n.*language "internal"/,
	'a function in internal is refused too');
is(value('crash', q{SELECT to_regprocedure('public.crash(integer)') IS NULL}), 't',
	'so nobody can call it to crash the target');

# an aggregate whose state is internal, read by a final function that
# expects another state
$src = hostile('boom', q{
	CREATE AGGREGATE public.boom(numeric) (SFUNC = numeric_avg_accum, STYPE = internal,
		FINALFUNC = numeric_poly_sum);
});
target_db('boom');
($rc, $out, $err) = pull('boom', $src, 'pre-data');
like($err, qr/ERROR:  42501: permission denied to create aggregate public\.boom from the source/,
	'an aggregate with an internal state is refused');
is(value('boom', q{SELECT to_regprocedure('public.boom(numeric)') IS NULL}), 't',
	'and not created');

# an untrusted language that the DBA installed (plpgsql's handler under
# another name: the machine has no plperlu), on the source an extension's,
# as plperlu is, so that it is not generated itself
my $plu = q{CREATE LANGUAGE plu HANDLER plpgsql_call_handler VALIDATOR plpgsql_validator;};
$src = hostile('untrusted', $plu . q{
	ALTER EXTENSION plpgsql ADD LANGUAGE plu;
	CREATE FUNCTION public.shell() RETURNS integer LANGUAGE plu AS $$ BEGIN RETURN 1; END $$;
});
target_db('untrusted', $plu);
($rc, $out, $err) = pull('untrusted', $src, 'pre-data');
like($err, qr/ERROR:  42501: permission denied to create function public\.shell from the source.*\n.*Language "plu" is untrusted/,
	'a function in an untrusted language is refused');
like($err, qr/HINT:  Call again with allow => '\{untrusted_languages\}'/, 'naming untrusted_languages');
($rc, $out, $err) = pull('untrusted', $src, 'pre-data', ", allow => '{untrusted_languages}'");
is(value('untrusted', q{SELECT public.shell()}), '1', 'which lets it through')
  or diag($err);

# --- tsmigrate's own state: a child table of tsmigrate.run ---------------------

# the source names its parent "tsmigrate"."run": its own, which schema
# generation leaves out, and here tsmigrate's run state
$src = hostile('kid', q{
	CREATE SCHEMA tsmigrate;
	CREATE TABLE tsmigrate.run (run_id bigint);
	CREATE TABLE public.kid (note text) INHERITS (tsmigrate.run);
});
target_db('kid');
($rc, $out, $err) = pull('kid', $src, 'pre-data');
like($err, qr/ERROR:  42501: permission denied to change table tsmigrate\.run from the source/,
	'a table that INHERITS tsmigrate.run is refused');
like($err, qr/HINT:  Call again with allow => '\{existing_objects\}'/, 'naming existing_objects');
is(value('kid', q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'tsmigrate.run'::regclass}),
	'0', 'tsmigrate.run has no child whose rows would be read as runs');

# --- forged in the middle -----------------------------------------------------

$source->safe_psql('postgres', 'CREATE DATABASE liar');
$source->safe_psql('liar', q{COMMENT ON SCHEMA public IS '@@LIE@@'});
target_db('liar');
($rc, $out, $err) = pull('liar', through_proxy('liar'), 'pre-data');
like($err, qr/ERROR:  42501: source sent CREATE FUNCTION as part of schema comment "public"/,
	'a statement that claims a node type its object kind has not is refused');
is(value('liar', q{SELECT to_regprocedure('public.sneaky()') IS NULL}), 't',
	'and the function is not created');

$source->safe_psql('postgres', 'CREATE DATABASE attach');
$source->safe_psql('attach', q{
	CREATE TABLE public.kid (id integer, note text);
	COMMENT ON TABLE public.kid IS '@@ATTACH@@';
});
target_db('attach', q{
	CREATE TABLE public.ledger (id integer, note text) PARTITION BY RANGE (id);
});
($rc, $out, $err) = pull('attach', through_proxy('attach'), 'pre-data');
like($err, qr/ERROR:  42501: permission denied to change table public\.ledger from the source/,
	'ATTACH PARTITION onto a table that was on the target is refused');
is(value('attach', q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.ledger'::regclass}),
	'0', 'the table has no partition of the source');
($rc, $out, $err) = pull('attach', through_proxy('attach'), 'pre-data', ", allow => '{existing_objects}'");
is(value('attach', q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.ledger'::regclass}),
	'1', 'with allow => {existing_objects} the source may change it') or diag($err);

$source->safe_psql('postgres', 'CREATE DATABASE disabler');
$source->safe_psql('disabler', q{
	CREATE TABLE public.kid (id integer);
	COMMENT ON TABLE public.kid IS '@@DISABLE@@';
});
target_db('disabler', q{
	CREATE TABLE public.audited (id integer);
	CREATE TABLE public.audit_log (id integer);
	CREATE FUNCTION public.audit() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN INSERT INTO public.audit_log VALUES (NEW.id); RETURN NEW; END $$;
	CREATE TRIGGER audit AFTER INSERT ON public.audited FOR EACH ROW EXECUTE FUNCTION public.audit();
});
($rc, $out, $err) = pull('disabler', through_proxy('disabler'), 'pre-data');
like($err, qr/ERROR:  42501: permission denied to change table public\.audited from the source/,
	'DISABLE TRIGGER of a trigger that was on the target is refused');
is(value('disabler', q{SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit'}), 'O',
	'the audit trigger stays enabled');

# --- post-data on objects that were on the target ------------------------------

SKIP:
{
	skip 'pg_cron is not installed', 5 unless $have_cron;

	# the source has a table of its own named "cron"."job"; its post-data
	# names pg_cron's here
	$src = hostile('cronjob', q{
		CREATE SCHEMA cron;
		CREATE TABLE cron.job (jobid bigint, command text);
		CREATE TRIGGER keep BEFORE UPDATE ON cron.job FOR EACH ROW
			EXECUTE FUNCTION suppress_redundant_updates_trigger();
	});
	($rc, $out, $err) = pull('postgres', $src, 'post-data');
	like($err, qr/ERROR:  42501: permission denied to change table cron\.job from the source/,
		'a trigger on cron.job is refused');
	is(value('postgres', q{SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cron.job'::regclass AND tgname = 'keep'}),
		'0', 'cron.job has no trigger of the source');

	$src = hostile('cronrule', q{
		CREATE SCHEMA cron;
		CREATE TABLE cron.job (jobid bigint, command text);
		CREATE RULE block AS ON INSERT TO cron.job DO INSTEAD NOTHING;
	});
	($rc, $out, $err) = pull('postgres', $src, 'post-data');
	like($err, qr/ERROR:  42501: permission denied to change table cron\.job from the source/,
		'a rule on cron.job is refused');
	is(value('postgres', q{SELECT count(*) FROM pg_rules WHERE schemaname = 'cron' AND tablename = 'job'}),
		'0', 'cron.job has no rule of the source');
	# (with the rule, cron.schedule fails: "cannot perform INSERT RETURNING")
	$target->psql('postgres', q{SELECT cron.schedule('nightly', '0 3 * * *', 'SELECT 1')});
	is(value('postgres', q{SELECT count(*) FROM cron.job WHERE jobname = 'nightly'}), '1',
		'and pg_cron still schedules jobs');
}

$src = hostile('rls', q{
	CREATE TABLE public.victim (id integer);
	ALTER TABLE public.victim ENABLE ROW LEVEL SECURITY;
});
target_db('rls', q{CREATE TABLE public.victim (id integer)});
($rc, $out, $err) = pull('rls', $src, 'post-data');
like($err, qr/ERROR:  42501: permission denied to change table public\.victim from the source/,
	'ENABLE ROW LEVEL SECURITY on a table that was on the target is refused');
is(value('rls', q{SELECT relrowsecurity FROM pg_class WHERE oid = 'public.victim'::regclass}), 'f',
	'its rows stay visible to its readers');

# --- an event trigger ---------------------------------------------------------

$src = hostile('spy', q{
	CREATE FUNCTION public.spy() RETURNS event_trigger LANGUAGE plpgsql AS
		$$ BEGIN RAISE NOTICE 'seen'; END $$;
	CREATE EVENT TRIGGER spy ON ddl_command_start EXECUTE FUNCTION public.spy();
});
target_db('spy');
($rc, $out, $err) = pull('spy', $src, 'pre-data');
is($rc, 0, 'spy: pre-data replays') or diag($err);
($rc, $out, $err) = pull('spy', $src, 'post-data');
like($err, qr/ERROR:  42501: permission denied to create event trigger "spy" from the source/,
	'an event trigger is refused');
like($err, qr/HINT:  Call again with allow => '\{event_triggers\}'/, 'naming event_triggers');
is(value('spy', q{SELECT count(*) FROM pg_event_trigger}), '0', 'and none is created');
($rc, $out, $err) = pull('spy', $src, 'post-data', ", jobs => 2, allow => '{event_triggers}'");
is(value('spy', q{SELECT count(*) FROM pg_event_trigger WHERE evtname = 'spy'}), '1',
	'allowed, a schema worker creates it: the consent reaches the workers') or diag($err);

# --- dry_run runs nothing from the source -------------------------------------

# every call of public.bump advances the target's sequence public.hits (the
# source has none)
$src = hostile('dry', q{
	CREATE FUNCTION public.bump(integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
	BEGIN
		IF pg_catalog.to_regclass('public.hits') IS NOT NULL THEN
			PERFORM pg_catalog.nextval('public.hits');
		END IF;
		RETURN $1;
	END $$;
	CREATE DOMAIN public.bumped AS integer CHECK (public.bump(VALUE) > 0);
	CREATE FUNCTION public.step(public.bumped, integer) RETURNS public.bumped
		LANGUAGE sql AS 'SELECT $1';
	CREATE AGGREGATE public.agg(integer) (SFUNC = public.step, STYPE = public.bumped, INITCOND = '1');
	CREATE TABLE public.t (a integer);
	INSERT INTO public.t SELECT g FROM generate_series(1, 10) g;
	CREATE INDEX t_bump ON public.t ((public.bump(a)));
	CREATE MATERIALIZED VIEW public.mv AS SELECT public.bump(1) AS b;
});
target_db('dry', q{CREATE SEQUENCE public.hits});
my $hits = q{SELECT last_value || ' ' || is_called FROM public.hits};	# "1 false": never called
($rc, $out, $err) = pull('dry', $src, 'pre-data', ', dry_run => true');
like($out, qr/^aggregate\|"public"\."agg"\(integer\)\|would create$/m,
	'a dry run of pre-data reports the aggregate') or diag($err);
is(value('dry', $hits), '1 false',
	'without checking its initial value, which would call the source\'s function');
is(value('dry', q{SELECT to_regprocedure('public.bump(integer)') IS NULL}), 't',
	'and creates nothing');
($rc, $out, $err) = pull('dry', $src, 'pre-data');
is($rc, 0, 'the real pre-data replays') or diag($err);
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT relation, rows FROM tsmigrate.pull_data('$src')", dbname => 'dry');
is($rc, 0, 'the data is copied') or diag($err);
my $before = value('dry', $hits);
($rc, $out, $err) = pull('dry', $src, 'post-data', ', dry_run => true');
like($out, qr/^index\|"public"\."t_bump"\|would create$/m, 'a dry run of post-data reports the index')
  or diag($err);
like($out, qr/^materialized view data\|"public"\."mv"\|would create$/m, 'and the refresh');
is(value('dry', $hits), $before,
	'without computing the index expression or refreshing: the source\'s function is not called');

# --- the target's event triggers see tsmigrate's DDL --------------------------

$src = hostile('withext', 'CREATE EXTENSION cube');
target_db('guarded', q{
	CREATE FUNCTION public.no_extensions() RETURNS event_trigger LANGUAGE plpgsql AS $$
	BEGIN
		RAISE EXCEPTION 'extensions are installed by the DBA' USING ERRCODE = 'P0001';
	END $$;
	CREATE EVENT TRIGGER no_extensions ON ddl_command_start WHEN TAG IN ('CREATE EXTENSION')
		EXECUTE FUNCTION public.no_extensions();
});
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.sync_extensions('$src')", dbname => 'guarded');
like($err, qr/ERROR:  P0001: extensions are installed by the DBA/,
	'sync_extensions meets the DBA\'s event trigger that refuses CREATE EXTENSION');
is(value('guarded', q{SELECT count(*) FROM pg_extension WHERE extname = 'cube'}), '0',
	'and creates no extension');
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate('$src')", dbname => 'guarded');
like($err, qr/ERROR:  P0001: extensions are installed by the DBA/,
	'so does migrate');
is(value('guarded', q{SELECT count(*) FROM pg_extension WHERE extname = 'cube'}), '0',
	'which creates no extension either');

$proxy->kill_kill;
ok(tsm_no_source_backends($source), 'no tsmigrate backend is left on the source');

done_testing();
