# t/044_object_kinds.pl
#
# The kinds of objects that need more than the source's own rights, each
# migrated by CALL tsmigrate.migrate and measured with pg_dump
# --schema-only of both sides, owners and privileges included (0 missing,
# 0 extra), and each refused before anything changes without the caller's
# consent (a preflight row that blocks, and the checks step's 55000):
#
#   procedural languages   a trusted one (handler, inline and validator
#                          functions in C, a comment, another owner, USAGE
#                          granted and revoked, a function written in it)
#                          and an untrusted one; c_functions, and
#                          untrusted_languages for the second

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaCompare;
use TsmTest;

my $source = tsm_source_node('source');
my $target = tsm_target_node('target',
	conf => "log_error_verbosity = verbose\nlog_min_error_statement = error\n");
my ($rc, $out, $err);

# a target database with tsmigrate
sub target_db
{
	my ($db) = @_;
	$target->safe_psql('postgres', qq{CREATE DATABASE "$db"});
	$target->safe_psql($db, 'SET client_min_messages = warning; CREATE EXTENSION tsmigrate');
	return;
}

# migrate source database $srcdb into target database $db with "allow"
sub migrate
{
	my ($db, $srcdb, $allow, %opts) = @_;
	my $src = $opts{source} // $source->connstr($srcdb);
	my $more = $opts{args} // '';
	return tsm_target_sql($target,
		"CALL tsmigrate.migrate(\$\$$src\$\$, allow => '$allow'$more)",
		dbname => $db, %{ $opts{sql} // {} });
}

# preflight's rows that are not ok: check|object|blocks, one a line
sub problems
{
	my ($db, $srcdb, $allow) = @_;
	my $src = $source->connstr($srcdb);
	return $target->safe_psql($db,
		"SELECT \"check\", object, blocks FROM tsmigrate.preflight(\$\$$src\$\$, allow => '$allow')"
		  . " WHERE NOT ok AND \"check\" NOT IN ('size') ORDER BY \"check\", object COLLATE \"C\", blocks");
}

# --- procedural languages ----------------------------------------------------

$source->safe_psql('postgres', q{
	CREATE ROLE lang_owner;
	CREATE ROLE lang_user;
	CREATE DATABASE langs;
});
$source->safe_psql('langs', q{
	CREATE SCHEMA pl;
	CREATE FUNCTION pl.app_call_handler() RETURNS language_handler
		LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';
	CREATE FUNCTION pl.app_inline_handler(internal) RETURNS void
		LANGUAGE c STRICT AS '$libdir/plpgsql', 'plpgsql_inline_handler';
	CREATE FUNCTION pl.app_validator(oid) RETURNS void
		LANGUAGE c STRICT AS '$libdir/plpgsql', 'plpgsql_validator';
	CREATE TRUSTED LANGUAGE "App PL" HANDLER pl.app_call_handler
		INLINE pl.app_inline_handler VALIDATOR pl.app_validator;
	COMMENT ON LANGUAGE "App PL" IS 'plpgsql, by another name';
	ALTER LANGUAGE "App PL" OWNER TO lang_owner;
	REVOKE USAGE ON LANGUAGE "App PL" FROM PUBLIC;
	GRANT USAGE ON LANGUAGE "App PL" TO lang_user WITH GRANT OPTION;
	CREATE FUNCTION public.add_one(i int) RETURNS int LANGUAGE "App PL"
		AS $$ BEGIN RETURN i + 1; END $$;
	CREATE LANGUAGE app_plu HANDLER pl.app_call_handler;
	CREATE FUNCTION public.twice(i int) RETURNS int LANGUAGE app_plu
		AS $$ BEGIN RETURN 2 * i; END $$;
});

# without consent: refused before anything changes
target_db('langs_refused');
is(problems('langs_refused', 'langs', '{}'),
	join("\n",
		'c function|pl.app_call_handler()|t',
		'c function|pl.app_inline_handler(internal)|t',
		'c function|pl.app_validator(oid)|t',
		'procedural language|"App PL"|t',
		'procedural language|app_plu|t',
		'procedural language|app_plu|t'),
	'languages: without c_functions, preflight says their CREATE LANGUAGE (and the untrusted one\'s) would be refused');
like( $target->safe_psql('langs_refused',
		"SELECT string_agg(detail || ' / ' || fix, E'\\n') FROM tsmigrate.preflight(\$\$"
		  . $source->connstr('langs') . "\$\$, allow => '{c_functions}') WHERE \"check\" = 'procedural language'"),
	qr/^it is untrusted, its functions can reach the server's files and processes: without the caller's consent its CREATE LANGUAGE is refused \/ Pass allow => '\{untrusted_languages\}'/,
	'with c_functions, only the untrusted language is left, with its fix');

($rc, $out, $err) = migrate('langs_refused', 'langs', '{c_functions}');
like($err, qr/ERROR:  55000: 1 object of the source cannot be created on this target\nDETAIL:  procedural language app_plu: it is untrusted/,
	'migrate refuses to start without untrusted_languages (55000), naming the language');
is( $target->safe_psql('langs_refused',
		q{SELECT string_agg(step || '=' || state, ',' ORDER BY ordinal) FROM tsmigrate.run_step WHERE state <> 'pending'}),
	'checks=failed', 'in its checks step');
is( $target->safe_psql('langs_refused',
		q{SELECT count(*) FROM pg_language WHERE lanname IN ('App PL', 'app_plu')
		  UNION ALL SELECT count(*) FROM pg_namespace WHERE nspname = 'pl'}),
	"0\n0", 'nothing changed on the target');

# with consent: the same languages, owners and privileges as on the source
target_db('langs');
is(problems('langs', 'langs', '{c_functions,untrusted_languages}'), '',
	'with c_functions and untrusted_languages, preflight has nothing against them');
($rc, $out, $err) = migrate('langs', 'langs', '{c_functions,untrusted_languages}');
is($rc, 0, 'migrate brings the languages') or diag $err;
is(schema_dump_diff($source, 'langs', $target, 'langs', owners_and_privileges => 1), '',
	'pg_dump --schema-only, owners and privileges: the same languages and functions');
is( $target->safe_psql('langs',
		q{SELECT public.add_one(1) || ' ' || public.twice(4) || ' ' || lanowner::regrole || ' ' || lanpltrusted
		    || ' ' || obj_description(l.oid, 'pg_language')
		    FROM pg_language l WHERE lanname = 'App PL'}),
	'2 8 lang_owner true plpgsql, by another name',
	'the functions written in them run; the trusted one has its owner and comment');

done_testing();
