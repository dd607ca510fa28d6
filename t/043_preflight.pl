# t/043_preflight.pl
#
# tsmigrate.preflight lists, before anything changes, what would stop a
# migration half way (an untrusted procedural language without the caller's
# untrusted_languages, a C function whose library the target lacks)
# and what would be left out (default privileges), each with its fix, then
# the source's size against the target's free space, its objects and the
# lock budget.  migrate's checks step refuses to start on the first kind,
# changing nothing, and warns about the second; with the blocking objects
# gone from the source, the migration completes, a base type (made as
# pg_dump makes it: shell, functions, type) and its table's rows, a text
# search template and its dictionary and an encoding conversion included.

use strict;
use warnings FATAL => 'all';

use File::Copy;
use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TsmTest;

my $source = tsm_source_node('source');
my $target = tsm_target_node('target');
my ($rc, $out, $err);

# a C library that the source loaded and that is gone since: the target
# cannot find it either (both run from this machine's installation)
my $libdir = PostgreSQL::Test::Utils::tempdir();
my $pkglib = $target->safe_psql('postgres', q{SELECT setting FROM pg_config() WHERE name = 'PKGLIBDIR'});
copy("$pkglib/tsmigrate.so", "$libdir/tsm_gone.so") or die "copy: $!";

$source->safe_psql('postgres', qq{
	CREATE TYPE app_text;
	CREATE FUNCTION app_text_in(cstring) RETURNS app_text LANGUAGE internal IMMUTABLE STRICT AS 'textin';
	CREATE FUNCTION app_text_out(app_text) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'textout';
	CREATE TYPE app_text (INPUT = app_text_in, OUTPUT = app_text_out, LIKE = text);
	CREATE TABLE notes (id int PRIMARY KEY, body app_text);
	INSERT INTO notes VALUES (1, 'first'), (2, 'second');
	COMMENT ON TYPE app_text IS 'text, by another name';
	CREATE TEXT SEARCH TEMPLATE app_tmpl (INIT = dsimple_init, LEXIZE = dsimple_lexize);
	CREATE TEXT SEARCH DICTIONARY app_dict (TEMPLATE = app_tmpl);
	CREATE CONVERSION app_conv FOR 'UTF8' TO 'LATIN1' FROM utf8_to_iso8859_1;
	CREATE FUNCTION app_lang_handler() RETURNS language_handler
		LANGUAGE c AS '\$libdir/plpgsql', 'plpgsql_call_handler';
	CREATE LANGUAGE app_lang HANDLER app_lang_handler;
	CREATE FUNCTION gone(text[], oid) RETURNS void LANGUAGE c AS '$libdir/tsm_gone', 'tsmigrate_fdw_validator';
	ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC;
	GRANT SELECT (rolname) ON pg_catalog.pg_authid TO PUBLIC;
	CREATE TABLE kept (id int PRIMARY KEY);
	INSERT INTO kept VALUES (1), (2);
});
unlink("$libdir/tsm_gone.so") or die "unlink: $!";
my $src = $source->connstr('postgres');

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT \"check\", object, blocks FROM tsmigrate.preflight(\$\$$src\$\$, allow => '{c_functions}') WHERE NOT ok ORDER BY 1, 2");
is($out, join("\n",
		'c function|public.gone(text[], oid)|t',
		'default privileges|FOR ROLE ' . getpwuid($<) . ' ON TABLES|f',
		'privileges|TABLE pg_catalog.pg_authid|f',
		'procedural language|app_lang|t'),
	'preflight lists the C function without its library and the untrusted procedural language as blocking, the default privileges and a grant on a system catalog as left out')
  or diag $err;
like( $target->safe_psql('postgres',
		"SELECT detail || ' / ' || fix FROM tsmigrate.preflight(\$\$$src\$\$, allow => '{c_functions}') WHERE \"check\" = 'c function'"),
	qr{its library "\Q$libdir\E/tsm_gone" is not installed on the target / Install the library},
	'with the reason and the fix');
like( $target->safe_psql('postgres',
		"SELECT detail || ' / ' || fix FROM tsmigrate.preflight(\$\$$src\$\$) WHERE \"check\" = 'c function'"),
	qr{without the caller's consent its CREATE FUNCTION is refused / Pass allow => '\{c_functions\}'},
	'without allow => {c_functions}, the C function is refused, its library not even looked for');
like( $target->safe_psql('postgres',
		"SELECT string_agg(\"check\" || ': ' || detail, E'\\n' ORDER BY \"check\") FROM tsmigrate.preflight(\$\$$src\$\$) WHERE ok"),
	qr/^lock budget: the lock table holds about \d+ locks \(max_locks_per_transaction 64\).*\nobjects: 2 tables and materialized views, 2 indexes, 0 sequences, 0 chunks\nsize: the source's database is [\d.]+ [kMG]B; the target's data directory has [\d.]+ [kMGT]B free$/s,
	'and the figures: lock budget, objects, size against free space');

($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate(\$\$$src\$\$, allow => '{c_functions}')");
like($err, qr/ERROR:  55000: 2 objects of the source cannot be created on this target\nDETAIL:  procedural language app_lang: it is untrusted, .*; c function public.gone\(text\[\], oid\): its library /,
	'migrate refuses to start, naming them');
is( $target->safe_psql('postgres',
		q{SELECT string_agg(step || '=' || state, ',' ORDER BY ordinal) FROM tsmigrate.run_step WHERE state <> 'pending'}),
	'checks=failed', 'in its checks step');
is($target->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname IN ('kept', 'notes')}),
	'0', 'nothing changed on the target');

# the blocking objects gone, the run goes to the end and warns about the rest
$source->safe_psql('postgres', 'DROP LANGUAGE app_lang; DROP FUNCTION gone(text[], oid)');
($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate(\$\$$src\$\$, allow => '{c_functions}')");
is($rc, 0, 'the resumed run completes') or diag $err;
like($err, qr/WARNING:  01000: 2 objects of the source will not be migrated\nDETAIL:  default privileges FOR ROLE \S+ ON TABLES: they decide what roles' future objects grant, on the target after the migration: without allow => '\{existing_objects\}' they are left out; privileges TABLE pg_catalog.pg_authid: privileges changed since initdb/,
	'warning about what it leaves out');
is($target->safe_psql('postgres', 'SELECT count(*) FROM pg_default_acl'), '0',
	'and leaves the default privileges out');
is( $target->safe_psql('postgres',
		q{SELECT attacl IS NULL FROM pg_attribute WHERE attrelid = 'pg_catalog.pg_authid'::regclass AND attname = 'rolname'}),
	't', 'and the source\'s grant on pg_authid: the target\'s catalog is as it was');
is($target->safe_psql('postgres', 'SELECT count(*) FROM kept'), '2', 'and the data is there');
is( $target->safe_psql('postgres',
		q{SELECT string_agg(body::text, ',' ORDER BY id) || ' ' || pg_typeof(body)::text || ' ' || obj_description('app_text'::regtype, 'pg_type') FROM notes GROUP BY pg_typeof(body)}),
	'first,second app_text text, by another name',
	'the base type is made, with its comment, and its table has its rows');
is( $target->safe_psql('postgres',
		q{SELECT concat_ws(' ', typlen, typinput, typoutput, typstorage, typalign, typcategory, typdelim) FROM pg_type WHERE typname = 'app_text'}),
	$source->safe_psql('postgres',
		q{SELECT concat_ws(' ', typlen, typinput, typoutput, typstorage, typalign, typcategory, typdelim) FROM pg_type WHERE typname = 'app_text'}),
	'as the source declares it');
is( $target->safe_psql('postgres',
		q{SELECT (SELECT tmpllexize::text FROM pg_ts_template WHERE tmplname = 'app_tmpl') || ' '
		      || (SELECT t.tmplname FROM pg_ts_dict d JOIN pg_ts_template t ON t.oid = d.dicttemplate WHERE d.dictname = 'app_dict') || ' '
		      || (SELECT conproc::text || ' ' || pg_encoding_to_char(contoencoding) FROM pg_conversion WHERE conname = 'app_conv')}),
	'dsimple_lexize app_tmpl utf8_to_iso8859_1 LATIN1',
	'a text search template, its dictionary and an encoding conversion are made too');

done_testing();
