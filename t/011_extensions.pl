# t/011_extensions.pl
#
# sync_extensions across two clusters: contrib extensions in several
# schemas, one at a non-default version, one that needs another (CASCADE),
# one already on the target at another version, one the target has only
# at another version, one it lacks, and one only a superuser may create.
# Dry runs change nothing.

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

$source->safe_psql('postgres', q{
	CREATE ROLE alice LOGIN PASSWORD 'alice-secret';
	CREATE DATABASE legacy OWNER alice;
});
$source->safe_psql('legacy', q{
	CREATE SCHEMA ext;
	CREATE EXTENSION hstore WITH SCHEMA ext VERSION '1.4';
	CREATE EXTENSION pg_trgm;
	-- versions that every supported target provides (18's defaults are
	-- newer)
	CREATE EXTENSION citext VERSION '1.6';
	CREATE SCHEMA tree;
	CREATE EXTENSION ltree WITH SCHEMA tree VERSION '1.2';
	CREATE EXTENSION earthdistance VERSION '1.1' CASCADE;
	CREATE EXTENSION pageinspect VERSION '1.11';

	-- Stand-ins for a source whose installation differs from the
	-- target's: an intarray at a version this target has no script for,
	-- and an extension this target does not have at all.
	CREATE EXTENSION intarray;
	UPDATE pg_extension SET extversion = '1.9' WHERE extname = 'intarray';
	CREATE EXTENSION tablefunc;
	UPDATE pg_extension SET extname = 'no_such_extension' WHERE extname = 'tablefunc';
});
tsm_set_source_auth($source, 'scram-sha-256');
my $src = tsm_tcp_connstr($source, 'legacy', user => 'alice', password => 'alice-secret');

# already on the target, at another version than the source's
$target->safe_psql('postgres', q{CREATE EXTENSION pg_trgm VERSION '1.5'});

my $state_sql = q{
	SELECT coalesce(string_agg(e.extname || ' ' || e.extversion || ' ' || n.nspname, ', '
	                           ORDER BY e.extname), '')
	  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
	 WHERE e.extname NOT IN ('plpgsql', 'tsmigrate')};
my $schemas_sql = q{SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace
	 WHERE nspname IN ('ext', 'tree')};

# --- dry run ---------------------------------------------------------------

my $before = $target->safe_psql('postgres', $state_sql);
my $dry = $target->safe_psql('postgres',
	"SELECT extname, source_version, target_version, action FROM tsmigrate.sync_extensions('$src', dry_run => true)");
is($dry, join("\n",
	'cube|1.5|1.5|would be created',
	'citext|1.6|1.6|would be created',
	'earthdistance|1.1|1.1|would be created',
	'hstore|1.4|1.4|would be created, in new schema ext',
	'intarray|1.9|1.5|would be created at another version: the target cannot provide version 1.9',
	'ltree|1.2|1.2|would be created, in new schema tree',
	'no_such_extension|1.0||unavailable on the target',
	'pageinspect|1.11|1.11|would be created',
	'pg_trgm|1.6|1.5|present at another version (left as it is)'),
	'a dry run reports what would happen, required extensions first');
is($target->safe_psql('postgres', $state_sql), $before, 'a dry run creates no extension');
is($target->safe_psql('postgres', $schemas_sql), '', 'a dry run creates no schema');

# --- a non-superuser caller ------------------------------------------------

# trusted extensions come; pageinspect and earthdistance need a superuser
$target->safe_psql('postgres', q{
	CREATE DATABASE appdb;
	CREATE ROLE bob LOGIN;
	GRANT CREATE ON DATABASE appdb TO bob;
});
$target->safe_psql('appdb', q{
	CREATE EXTENSION tsmigrate;
	GRANT USAGE ON SCHEMA tsmigrate TO bob;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tsmigrate TO bob;
});
my ($rc, $out, $err, $dry_as_run);
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT extname, action FROM tsmigrate.sync_extensions('$src', true)",
	user => 'bob', dbname => 'appdb');
my $bob_dry = $out;
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT extname, action FROM tsmigrate.sync_extensions('$src')",
	user => 'bob', dbname => 'appdb');
is($rc, 0, 'a non-superuser caller gets a report, not an error') or diag($err);
is($out, join("\n",
	'cube|created',
	'citext|created',
	'earthdistance|skipped: permission denied to create extension "earthdistance"',
	'hstore|created, in new schema ext',
	'intarray|created at another version: the target cannot provide version 1.9',
	'ltree|created, in new schema tree',
	'no_such_extension|unavailable on the target',
	'pageinspect|skipped: permission denied to create extension "pageinspect"',
	'pg_trgm|created'),
	'untrusted extensions are skipped with the reason, the others created');
($dry_as_run = $bob_dry) =~ s/would be //g;
is($dry_as_run, $out, 'for a non-superuser too, the dry run foretells the run');

# --- the run ---------------------------------------------------------------

my $run = $target->safe_psql('postgres',
	"SELECT extname, source_version, target_version, action FROM tsmigrate.sync_extensions('$src')");
($dry_as_run = $dry) =~ s/would be //g;
is($run, $dry_as_run, 'the run does what the dry run said');
is($target->safe_psql('postgres', $state_sql),
	'citext 1.6 public, cube 1.5 public, earthdistance 1.1 public, hstore 1.4 ext, '
	  . 'intarray 1.5 public, ltree 1.2 tree, pageinspect 1.11 public, pg_trgm 1.5 public',
	'each extension in the source\'s schema, at the source\'s version where the target has it');
is($target->safe_psql('postgres', q{SELECT 'a=>1'::ext.hstore OPERATOR(ext.->) 'a'}), '1',
	'hstore 1.4 works on the target');

my $again = $target->safe_psql('postgres',
	"SELECT extname, action FROM tsmigrate.sync_extensions('$src')");
unlike($again, qr/created/, 'a second run creates nothing');
like($again, qr/^hstore\|already present$/m, 'a second run reports what is already present');

# --- wrong input -----------------------------------------------------------

($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.sync_extensions('$src', NULL)");
like($err, qr/ERROR:  22004: dry_run must not be null/, 'a NULL dry_run is refused');

ok(tsm_no_source_backends($source), 'no tsmigrate backend is left on the source');

done_testing();
