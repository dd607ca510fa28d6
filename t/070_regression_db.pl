# t/070_regression_db.pl
#
# PostgreSQL's own regression database, the widest schema there is (what
# the core regression suite leaves behind; pg_upgrade's test dumps and
# compares it), migrated as a DBA would: CALL tsmigrate.migrate with every
# word of allow (its C functions, event triggers, superuser-owned SECURITY
# DEFINER functions ... are the source's own; existing_objects brings the
# privileges changed on the public schema and the system catalogs and the
# default privileges).  The run completes, its verify step included; then
# pg_dump --schema-only of both sides, owners and privileges included,
# compared as sorted statements: 0 missing, 0 extra (pg_dump | psql of the
# same database leaves 3 statements missing and 3 extra).  verify with
# checksums: every table's rows the same but those of one materialized view
# that the regression suite left stale (the target's REFRESH reads today's
# rows, as pg_dump | psql's does).
#
# Needs TSM_REGRESSION_DB, the path of ../shared/tools/regression-db (with
# ../shared/vendor/postgresql beside it), which scripts/test sets.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SchemaCompare;
use TsmTest;

plan skip_all => 'TSM_REGRESSION_DB names no regression-db tool'
  unless $ENV{TSM_REGRESSION_DB};

my $source = tsm_source_node('source', conf => "max_prepared_transactions = 2\n");
my $target = tsm_target_node('target');
my $user = $source->safe_psql('postgres', 'SELECT current_user');
my $work = PostgreSQL::Test::Utils::tempdir();
my ($rc, $out, $err);

my ($tool_out, $tool_err);
IPC::Run::run(
	[ 'bash', $ENV{TSM_REGRESSION_DB}, "$work/rdb", $source->host, $source->port, $user ],
	'>', \$tool_out, '2>', \$tool_err);
is($?, 0, 'the regression suite leaves its database on the source') or diag "$tool_out$tool_err";
note $tool_out;

$target->safe_psql('postgres', 'CREATE DATABASE regression');
$target->safe_psql('regression', 'CREATE EXTENSION tsmigrate');
my $src = $source->connstr('regression');
my $allow = '{parameter_privileges,createrole,c_functions,untrusted_languages,event_triggers,existing_objects,superuser_definer,subscriptions}';

($rc, $out, $err) = tsm_target_sql($target,
	"CALL tsmigrate.migrate(\$\$$src\$\$, allow => '$allow')", dbname => 'regression');
is($rc, 0, 'migrate of the regression database completes') or diag $err;
like($err, qr/step "verify" done in [\d.]+ s: \d+ checks, all ok/, 'its verify step finds every check ok');
like($err, qr/step "pre-data" done in [\d.]+ s: (\d{4}) objects/, 'pre-data makes its thousand objects');

# owners and privileges included: those of the public schema and the
# system catalogs changed since initdb and the default privileges of roles
# come with existing_objects
my $diff = schema_dump_diff($source, 'regression', $target, 'regression',
	owners_and_privileges => 1);
my @missing = grep { /^- / } split /\n/, $diff;
my @extra = grep { /^\+ / } split /\n/, $diff;
is(scalar(@extra), 0, 'pg_dump --schema-only: nothing on the target that the source lacks')
  or diag join("\n", @extra);
is(scalar(@missing), 0,
	'pg_dump --schema-only, owners and privileges: nothing missing')
  or diag join("\n", @missing);

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT string_agg(kind || ' ' || object, ', ' ORDER BY object) FROM tsmigrate.verify(\$\$$src\$\$, checksums => true) WHERE NOT ok",
	dbname => 'regression');
is($out, 'checksum public.mvtest_bb',
	'verify with checksums: only the materialized view the suite left stale differs');

done_testing();
