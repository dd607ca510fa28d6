# t/062_hostile_owners.pl
#
# Objects keep their source owner and privileges (issue 13, item 3):
# - the attack: a SECURITY DEFINER function owned by an application role,
#   EXECUTE revoked from PUBLIC on the source; after a superuser's migrate
#   it is still the application role's, and a role without EXECUTE cannot
#   call it (42501), so it cannot make itself a superuser through it;
# - owners and ACLs of schemas, tables (and their columns), sequences,
#   views, types and functions are the source's;
# - an owner that the target lacks: the object is the caller's, with a
#   WARNING; a SECURITY DEFINER function is then refused, naming the
#   function, its owner and the fix; a caller that is not a superuser owns
#   it (and an object whose owner it may not become) with a WARNING;
# - owners => false, privileges => false: every object the caller's with
#   default privileges, as before (and a SECURITY DEFINER function refused
#   to a superuser caller);
# - a TimescaleDB job keeps its owner.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TsmTest;

my $ts = tsm_have_timescaledb() ? 1 : 0;
my $source = tsm_source_node('source', timescaledb => $ts);
my $target = tsm_target_node('target', timescaledb => $ts);
my ($rc, $out, $err);

# --- the attack, and owners and privileges after migrate ---------------------

$source->safe_psql('postgres', q{
	CREATE ROLE app LOGIN;
	CREATE ROLE reader;
	CREATE ROLE nobody LOGIN;
	CREATE DATABASE shop;
});
$source->safe_psql('shop', q{
	CREATE SCHEMA ledger AUTHORIZATION app;
	GRANT USAGE ON SCHEMA ledger TO reader;

	CREATE TABLE public.accounts (id int PRIMARY KEY, secret text, note text);
	ALTER TABLE public.accounts OWNER TO app;
	GRANT SELECT (id, note), UPDATE (note) ON public.accounts TO reader;
	GRANT INSERT ON public.accounts TO reader WITH GRANT OPTION;
	INSERT INTO public.accounts VALUES (1, 's3cret', 'n');

	CREATE SEQUENCE ledger.entry_seq;
	ALTER SEQUENCE ledger.entry_seq OWNER TO app;
	GRANT USAGE ON SEQUENCE ledger.entry_seq TO reader;

	CREATE TABLE ledger.entries (id bigint DEFAULT nextval('ledger.entry_seq'), amount numeric);
	ALTER TABLE ledger.entries OWNER TO app;
	REVOKE TRUNCATE ON ledger.entries FROM app;

	CREATE VIEW public.account_notes AS SELECT id, note FROM public.accounts;
	ALTER VIEW public.account_notes OWNER TO app;
	GRANT SELECT ON public.account_notes TO PUBLIC;

	CREATE TYPE ledger.mood AS ENUM ('ok', 'bad');
	ALTER TYPE ledger.mood OWNER TO app;
	REVOKE USAGE ON TYPE ledger.mood FROM PUBLIC;
	GRANT USAGE ON TYPE ledger.mood TO reader;

	CREATE FUNCTION public.secdef(cmd text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
		AS $$ BEGIN EXECUTE cmd; END $$;
	ALTER FUNCTION public.secdef(text) OWNER TO app;
	REVOKE EXECUTE ON FUNCTION public.secdef(text) FROM PUBLIC;
	GRANT EXECUTE ON FUNCTION public.secdef(text) TO reader;

	CREATE FUNCTION ledger.total() RETURNS numeric LANGUAGE sql
		AS 'SELECT sum(amount) FROM ledger.entries';
	ALTER FUNCTION ledger.total() OWNER TO app;

	CREATE AGGREGATE ledger.concat_all(text) (SFUNC = textcat, STYPE = text);
	ALTER AGGREGATE ledger.concat_all(text) OWNER TO app;
});

$target->safe_psql('postgres', 'CREATE DATABASE shop');
$target->safe_psql('shop', 'CREATE EXTENSION tsmigrate');
my $shop = $source->connstr('shop');
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate(\$\$$shop\$\$, jobs => 1)", dbname => 'shop');
is($rc, 0, 'a superuser migrates shop') or diag $err;

# what a user would compare, source against target
my %same = (
	'owners and ACLs of relations' => q{
		SELECT c.oid::regclass, c.relowner::regrole, c.relacl FROM pg_class c
		 WHERE c.relnamespace IN ('public'::regnamespace, 'ledger'::regnamespace)
		   AND c.relkind IN ('r', 'v', 'S', 'm', 'p', 'f') ORDER BY c.oid::regclass::text},
	'column privileges' => q{
		SELECT a.attrelid::regclass, a.attname, a.attacl FROM pg_attribute a
		 WHERE a.attrelid = 'public.accounts'::regclass AND a.attacl IS NOT NULL ORDER BY 2},
	'owners and ACLs of schemas' => q{
		SELECT nspname, nspowner::regrole, nspacl FROM pg_namespace WHERE nspname = 'ledger'},
	'owners and ACLs of functions' => q{
		SELECT p.oid::regprocedure, p.proowner::regrole, p.proacl, p.prosecdef FROM pg_proc p
		 WHERE p.pronamespace IN ('public'::regnamespace, 'ledger'::regnamespace) ORDER BY p.oid::regprocedure::text},
	'owners and ACLs of types' => q{
		SELECT t.oid::regtype, t.typowner::regrole, t.typacl FROM pg_type t
		 WHERE t.typnamespace = 'ledger'::regnamespace AND t.typtype = 'e' ORDER BY t.oid::regtype::text},
);
for my $what (sort keys %same)
{
	my $want = $source->safe_psql('shop', $same{$what});
	my $got = $target->safe_psql('shop', $same{$what});
	is($got, $want, "$what are the source's");
}
is($target->safe_psql('shop',
	q{SELECT proowner::regrole FROM pg_proc WHERE oid = 'public.secdef(text)'::regprocedure}),
	'app', 'the SECURITY DEFINER function is still owned by app');

# the attack: a role without EXECUTE calls the function
($rc, $out, $err) = tsm_target_sql($target,
	q{SELECT public.secdef('ALTER ROLE nobody SUPERUSER')},
	dbname => 'shop', user => 'nobody');
isnt($rc, 0, 'nobody cannot call public.secdef');
like($err, qr/42501/, 'the call fails with 42501 (insufficient_privilege)');
is($target->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'nobody'}),
	'f', 'nobody is not a superuser');
($rc, $out, $err) = tsm_target_sql($target, 'SELECT secret FROM public.accounts',
	dbname => 'shop', user => 'nobody');
like($err, qr/42501/, 'nobody cannot read accounts either');

# --- owners that the target lacks -------------------------------------------

$source->safe_psql('postgres', q{
	CREATE ROLE ghost;
	CREATE ROLE phantom;
	CREATE DATABASE haunted;
	CREATE DATABASE crypt;
});
$source->safe_psql('haunted', q{
	CREATE TABLE public.spooky (id int);
	ALTER TABLE public.spooky OWNER TO ghost;
	GRANT SELECT ON public.spooky TO phantom, reader;
});
$source->safe_psql('crypt', q{
	CREATE FUNCTION public.haunt(cmd text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
		AS $$ BEGIN EXECUTE cmd; END $$;
	ALTER FUNCTION public.haunt(text) OWNER TO ghost;
	REVOKE EXECUTE ON FUNCTION public.haunt(text) FROM PUBLIC;
	CREATE TABLE public.kept (id int);
});
$target->safe_psql('postgres', 'CREATE DATABASE haunted');
$target->safe_psql('postgres', 'CREATE DATABASE crypt');
$target->safe_psql('haunted', 'CREATE EXTENSION tsmigrate');
$target->safe_psql('crypt', 'CREATE EXTENSION tsmigrate');
my $haunted = $source->connstr('haunted');
my $crypt = $source->connstr('crypt');
my $me = $target->safe_psql('postgres', 'SELECT current_user');

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.pull_schema(\$\$$haunted\$\$, 'pre-data')", dbname => 'haunted');
is($rc, 0, 'pull_schema with a missing owner succeeds') or diag $err;
like($err, qr/WARNING:  42501: table "public"."spooky" is left owned by role "\Q$me\E", not by its source owner "ghost"/,
	'a WARNING names the table and its source owner');
like($err, qr/NOTICE:  00000: privileges on table "public"."spooky" are not granted to role "phantom"/,
	'a NOTICE names the grantee that does not exist');
# (an owner's privileges on a table: arwdDxt, and MAINTAIN from 17 on)
like($target->safe_psql('haunted',
	q{SELECT relowner::regrole || ' ' || relacl::text FROM pg_class WHERE oid = 'public.spooky'::regclass}),
	qr/^\Q$me {$me=arwdDxt\Em?\Q\/$me,reader=r\/$me}\E$/, 'the table is the caller\'s, reader may read it');

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.pull_schema(\$\$$crypt\$\$, 'pre-data')", dbname => 'crypt');
isnt($rc, 0, 'a SECURITY DEFINER function whose owner is missing is refused');
like($err, qr/ERROR:  42501: refusing to create SECURITY DEFINER function "public"."haunt"\("cmd" "text"\) owned by superuser "\Q$me\E"/,
	'the error names the function');
like($err, qr/DETAIL:  On the source it is owned by role "ghost"\. Role "ghost" does not exist on the target\./,
	'the detail names its source owner');
like($err, qr/HINT:  Create role "ghost" on the target first/, 'the hint says what to do');
is($target->safe_psql('crypt', q{SELECT count(*) FROM pg_proc WHERE proname = 'haunt'}),
	'0', 'the function is not there');

# a caller that is not a superuser: the function is its own, as before
$source->safe_psql('postgres', q{CREATE ROLE srcreader LOGIN PASSWORD 'srcpw'});
tsm_set_source_auth($source, 'scram-sha-256');
$target->safe_psql('postgres', q{
	CREATE ROLE migrator LOGIN;
	CREATE DATABASE crypt2 OWNER migrator;
});
$target->safe_psql('crypt2', 'CREATE EXTENSION tsmigrate');
tsm_grant_migrate($target, 'crypt2', 'migrator');
my $crypt_pw = tsm_tcp_connstr($source, 'crypt', user => 'srcreader', password => 'srcpw');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.pull_schema(\$\$$crypt_pw\$\$, 'pre-data')",
	dbname => 'crypt2', user => 'migrator');
is($rc, 0, 'a caller that is not a superuser replays the SECURITY DEFINER function') or diag $err;
like($err, qr/WARNING:  42501: function "public"."haunt"\("cmd" "text"\) is left owned by role "migrator", not by its source owner "ghost"/,
	'with a WARNING naming it and its source owner');
like($err, qr/WARNING:  42501: table "public"."kept" is left owned by role "migrator", not by its source owner "\Q$me\E"\n.*DETAIL:  Role "migrator" cannot SET ROLE to "\Q$me\E"/,
	'an owner the caller may not become is left too');
is($target->safe_psql('crypt2',
	q{SELECT proowner::regrole::text || ' ' || proacl::text FROM pg_proc WHERE proname = 'haunt'}),
	'migrator {migrator=X/migrator}', 'the function is the caller\'s, EXECUTE still revoked from PUBLIC');
tsm_set_source_auth($source, 'trust');

# --- owners => false, privileges => false ------------------------------------

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.pull_schema(\$\$$crypt\$\$, 'pre-data', owners => false, privileges => false)",
	dbname => 'crypt');
like($err, qr/refusing to create SECURITY DEFINER function "public"."haunt"\("cmd" "text"\).*\n.*Owners are not migrated \(owners => false\)/,
	'owners => false: a superuser caller is still refused the SECURITY DEFINER function');

$target->safe_psql('postgres', 'CREATE DATABASE plain');
$target->safe_psql('plain', 'CREATE EXTENSION tsmigrate');
# a copy of shop without its SECURITY DEFINER function (once the last
# call's source session, which ends after the call, is gone, and any other
# session on shop: CREATE DATABASE waits only 5 s for them, and an
# autovacuum worker may come to shop meanwhile: tried again then)
my $copied = 0;
for my $try (1 .. 5)
{
	tsm_no_source_backends($source);
	$source->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = 'shop'})
	  or diag($source->safe_psql('postgres',
		q{SELECT pid, backend_type, application_name, state, query FROM pg_stat_activity WHERE datname = 'shop'}));
	my ($crc, $cout, $cerr) =
	  $source->psql('postgres', 'CREATE DATABASE shop_plain TEMPLATE shop');
	if ($crc == 0)
	{
		$copied = 1;
		last;
	}
	diag("CREATE DATABASE shop_plain TEMPLATE shop, try $try: $cerr");
}
die 'shop could not be copied as a template' unless $copied;
$source->safe_psql('shop_plain', 'DROP FUNCTION public.secdef(text)');
my $shop_plain = $source->connstr('shop_plain');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.pull_schema(\$\$$shop_plain\$\$, 'pre-data', owners => false, privileges => false)",
	dbname => 'plain');
is($rc, 0, 'owners => false, privileges => false') or diag $err;
unlike($err, qr/WARNING|NOTICE/, 'without a warning or notice');
is($target->safe_psql('plain', q{
	SELECT count(*) FILTER (WHERE relowner::regrole::text <> current_user OR relacl IS NOT NULL)
	  FROM pg_class WHERE relnamespace IN ('public'::regnamespace, 'ledger'::regnamespace)}),
	'0', 'every relation is the caller\'s with default privileges');
is($target->safe_psql('plain', q{
	SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.accounts'::regclass AND attacl IS NOT NULL}),
	'0', 'no column privileges');
is($target->safe_psql('plain', q{
	SELECT string_agg(p.proname || ' ' || (p.proowner::regrole::text = current_user) || ' ' || (p.proacl IS NULL), ',' ORDER BY p.proname)
	  FROM pg_proc p WHERE p.pronamespace = 'ledger'::regnamespace}),
	'concat_all true true,total true true', 'functions are the caller\'s with default privileges');
is($target->safe_psql('plain', q{SELECT nspowner::regrole::text = current_user AND nspacl IS NULL
	FROM pg_namespace WHERE nspname = 'ledger'}), 't', 'so is the schema');

# --- a source role named as one of the target's superusers -----------------
# The source's "boss" is an ordinary role that owns a SECURITY DEFINER
# function anyone may call; the target's "boss" is a superuser.  Matched by
# name, the function would run the source's code as a superuser.

$source->safe_psql('postgres', q{
	CREATE ROLE boss;
	CREATE DATABASE usurp;
});
$source->safe_psql('usurp', q{
	CREATE FUNCTION public.elevate(cmd text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
		AS $$ BEGIN EXECUTE cmd; END $$;
	ALTER FUNCTION public.elevate(text) OWNER TO boss;
	GRANT EXECUTE ON FUNCTION public.elevate(text) TO PUBLIC;
});
$target->safe_psql('postgres', q{
	CREATE ROLE boss SUPERUSER;
	CREATE DATABASE usurp;
	CREATE ROLE intruder LOGIN;
});
$target->safe_psql('usurp', 'CREATE EXTENSION tsmigrate');
my $usurp = $source->connstr('usurp');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.pull_schema(\$\$$usurp\$\$, 'pre-data')", dbname => 'usurp');
isnt($rc, 0, 'a SECURITY DEFINER function that would be owned by a superuser of the target is refused');
like($err, qr/ERROR:  42501: refusing to create SECURITY DEFINER function "public"."elevate"\("cmd" "text"\) owned by superuser "boss"/,
	'the error names the function and the superuser');
like($err, qr/HINT:  .*allow => '\{superuser_definer\}'/, 'the hint names the allow word');
is($target->safe_psql('usurp', q{SELECT count(*) FROM pg_proc WHERE proname = 'elevate'}),
	'0', 'the function is not there');
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate(\$\$$usurp\$\$, jobs => 1)", dbname => 'usurp');
isnt($rc, 0, 'migrate refuses it too');
($rc, $out, $err) = $target->psql('usurp',
	q{SELECT public.elevate('ALTER ROLE intruder SUPERUSER')}, extra_params => [ '-U', 'intruder' ]);
is($target->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'intruder'}),
	'f', 'the intruder did not become a superuser');
$target->safe_psql('postgres', 'DROP DATABASE usurp; CREATE DATABASE usurp');
$target->safe_psql('usurp', 'CREATE EXTENSION tsmigrate');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.pull_schema(\$\$$usurp\$\$, 'pre-data', allow => '{superuser_definer}')",
	dbname => 'usurp');
is($rc, 0, 'allowed by name, it is created') or diag $err;
is($target->safe_psql('usurp', q{SELECT proowner::regrole FROM pg_proc WHERE proname = 'elevate'}),
	'boss', '... owned by boss');

# schema_sql shows the statements, written and quoted on the target
$out = $target->safe_psql('plain',
	"SELECT string_agg(s, E'\\n') FROM tsmigrate.schema_sql(\$\$$shop\$\$) s WHERE s ~ '^(ALTER .* OWNER TO|GRANT|REVOKE)'");
like($out, qr/^ALTER FUNCTION "public"."secdef"\("pg_catalog"."text"\) OWNER TO "app";$/m, 'schema_sql: the function\'s owner');
like($out, qr/^REVOKE EXECUTE ON FUNCTION "public"."secdef"\("pg_catalog"."text"\) FROM PUBLIC;$/m, 'schema_sql: its REVOKE');
like($out, qr/^GRANT SELECT \("note"\), UPDATE \("note"\) ON TABLE "public"."accounts" TO "reader";$/m,
	'schema_sql: column privileges');
like($out, qr/^ALTER TABLE "public"."accounts" OWNER TO "app";$/m, 'schema_sql: a table\'s owner');

# --- a TimescaleDB job keeps its owner ---------------------------------------

SKIP:
{
	skip 'TimescaleDB is not installed', 3 unless $ts;

	$source->safe_psql('postgres', 'CREATE DATABASE metrics');
	$source->safe_psql('metrics', q{
		CREATE EXTENSION timescaledb;
		CREATE TABLE public.cond (time timestamptz NOT NULL, v float8);
		SELECT create_hypertable('public.cond', 'time');
		ALTER TABLE public.cond OWNER TO app;
		CREATE PROCEDURE public.nightly(job_id int, config jsonb) LANGUAGE plpgsql
			AS $$ BEGIN RAISE NOTICE 'job %', job_id; END $$;
		ALTER PROCEDURE public.nightly(int, jsonb) OWNER TO app;
		SET ROLE app;
		SELECT add_retention_policy('public.cond', drop_after => interval '10 years');
		SELECT add_job('public.nightly', '1 day', scheduled => false);
		RESET ROLE;
	});
	$target->safe_psql('postgres', 'CREATE DATABASE metrics');
	$target->safe_psql('metrics', 'CREATE EXTENSION timescaledb; CREATE EXTENSION tsmigrate');
	my $metrics = $source->connstr('metrics');
	($rc, $out, $err) = tsm_target_sql($target,
		"CALL tsmigrate.migrate(\$\$$metrics\$\$, jobs => 1)", dbname => 'metrics');
	is($rc, 0, 'migrate with TimescaleDB jobs') or diag $err;
	my $jobs = q{SELECT string_agg(proc_name || ' ' || owner::text, ',' ORDER BY proc_name)
		FROM _timescaledb_catalog.bgw_job WHERE id >= 1000};
	is($target->safe_psql('metrics', $jobs), $source->safe_psql('metrics', $jobs),
		'the jobs have their source owners');
	is($target->safe_psql('metrics', $jobs), 'nightly app,policy_retention app',
		'both are app\'s');
}

# nothing on the target crashed
my $log = slurp_file($target->logfile);
unlike($log, qr/terminated by signal/, 'no backend of the target died');

done_testing();
