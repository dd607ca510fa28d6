# t/010_roles.pl
#
# pull_roles against the documented procedure: a reference cluster gets
# "pg_dumpall --roles-only --quote-all-identifiers | sed ... | psql" from
# the source, the target gets tsmigrate.pull_roles(), and both must end up
# with the same roles, attributes, password hashes, memberships, settings
# and comments: called by a superuser, by a CREATEROLE-only admin (as on a
# managed service), twice in a row, and as a dry run that changes nothing.
# What tsmigrate refuses from a source unless the caller allows it (a
# membership in a predefined role, CREATEROLE, a parameter privilege, a
# superuser-only role setting: see t/061_hostile_roles.pl) is allowed here
# by name, so that the result matches pg_dumpall | sed.

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
my $target_cr = tsm_target_node('target_cr');
my $reference = PostgreSQL::Test::Cluster->new('reference');
$reference->init;
$reference->start;

my $bootstrap = $source->safe_psql('postgres', 'SELECT rolname FROM pg_roles WHERE oid = 10');

# A realistic set of roles on the source.
$source->safe_psql('postgres', qq{
	CREATE DATABASE legacy;
	CREATE DATABASE other;
	ALTER ROLE "$bootstrap" PASSWORD 'boot-secret';
	ALTER ROLE "$bootstrap" SET work_mem = '7MB';

	CREATE ROLE admin_super SUPERUSER LOGIN PASSWORD 'super-secret';
	CREATE ROLE repl REPLICATION LOGIN PASSWORD 'repl-secret';
	CREATE ROLE rls_reader BYPASSRLS LOGIN PASSWORD 'rls-secret';
	CREATE ROLE role_admin CREATEROLE LOGIN PASSWORD 'ra-secret';
	CREATE ROLE db_maker CREATEDB NOLOGIN;
	CREATE ROLE app_owner NOLOGIN NOINHERIT;
	CREATE ROLE app_user LOGIN PASSWORD 'app-secret'
		VALID UNTIL '2031-06-01 12:00:00+00' CONNECTION LIMIT 5;
	CREATE ROLE readers NOLOGIN;
	CREATE ROLE writers NOLOGIN;
	CREATE ROLE "O'Brien" LOGIN PASSWORD 'ob-secret';
	CREATE ROLE "we ""quote"" here" NOLOGIN;
	CREATE ROLE "SUPERUSER fan" LOGIN PASSWORD 'fan-secret';
	SET password_encryption = 'md5';
	SET client_min_messages = error; -- 18: md5 is deprecated, a WARNING
	CREATE ROLE old_md5 LOGIN PASSWORD 'md5-secret';
	RESET client_min_messages;
	RESET password_encryption;

	GRANT readers TO app_user WITH ADMIN OPTION;
	GRANT readers TO writers;
	-- a grantor other than the bootstrap superuser needs ADMIN from 16 on
	GRANT writers TO role_admin WITH ADMIN OPTION;
	GRANT writers TO "O'Brien" GRANTED BY role_admin;
	GRANT app_owner TO "we ""quote"" here";
	GRANT readers TO "SUPERUSER fan";
	GRANT pg_read_all_stats TO app_user;

	ALTER ROLE app_user SET search_path = app, public, "\$user";
	ALTER ROLE app_user SET work_mem = '64MB';
	ALTER ROLE app_user SET log_min_duration_statement = 250;
	ALTER ROLE "O'Brien" SET statement_timeout = '30s';
	ALTER ROLE app_user IN DATABASE legacy SET work_mem = '128MB';
	ALTER ROLE app_user IN DATABASE other SET work_mem = '256MB';

	COMMENT ON ROLE app_user IS 'the application''s login';
	COMMENT ON ROLE "we ""quote"" here" IS 'a name with "quotes"';

	GRANT SET ON PARAMETER log_min_duration_statement TO role_admin;

	-- a name that would be a second statement if it were not quoted
	CREATE ROLE "evil""; DROP ROLE readers; --" LOGIN;
	GRANT readers TO "evil""; DROP ROLE readers; --";

	-- a role labelled by a provider (sepgsql) that neither target loads
	INSERT INTO pg_shseclabel
	SELECT 'app_user'::regrole, 'pg_authid'::regclass, 'selinux',
	       'system_u:object_r:sepgsql_role_t:s0';
});
tsm_set_source_auth($source, 'scram-sha-256');
my $src = tsm_tcp_connstr($source, 'legacy', user => $bootstrap, password => 'boot-secret');

# --- the documented procedure, into the reference cluster ------------------

my $dumpfile = $PostgreSQL::Test::Utils::tmp_check . '/roles.sql';
$source->command_ok(
	[ 'pg_dumpall', '--roles-only', '--quote-all-identifiers', '-f', $dumpfile ],
	'pg_dumpall --roles-only on the source');
system_or_bail('sed', '-i', '-E',
	'-e', "/CREATE ROLE \"$bootstrap\";/d",
	'-e', "/ALTER ROLE \"$bootstrap\"/d",
	'-e', 's/(NO)*SUPERUSER//g',
	'-e', 's/(NO)*REPLICATION//g',
	'-e', 's/(NO)*BYPASSRLS//g',
	'-e', 's/GRANTED BY "[^"]*"//g',
	$dumpfile);
$reference->psql('postgres', undef, extra_params => [ '-f', $dumpfile ], on_error_stop => 0);

# What a DBA compares, one line per fact.  The caller's own role and the
# role whose name the sed cuts are left out here and checked apart.
my $skip = q{('migrator', 'SUPERUSER fan', ' fan')};
my %facts = (
	roles => qq{
		SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb,
		       rolcanlogin, rolreplication, rolbypassrls, rolconnlimit,
		       rolpassword, rolvaliduntil
		  FROM pg_authid
		 WHERE rolname !~ '^pg_' AND rolname NOT IN $skip
		 ORDER BY rolname},
	memberships => qq{
		SELECT r.rolname, m.rolname, a.admin_option
		  FROM pg_auth_members a
		  JOIN pg_roles r ON r.oid = a.roleid
		  JOIN pg_roles m ON m.oid = a.member
		 WHERE m.rolname NOT IN $skip
		 ORDER BY 1, 2},
	settings => q{
		SELECT r.rolname, coalesce(d.datname, '(all)'), c.item
		  FROM pg_db_role_setting s
		  JOIN pg_roles r ON r.oid = s.setrole
		  LEFT JOIN pg_database d ON d.oid = s.setdatabase,
		       unnest(s.setconfig) WITH ORDINALITY c(item, n)
		 WHERE s.setdatabase = 0
		 ORDER BY 1, 2, c.n},
	comments => q{
		SELECT rolname, shobj_description(oid, 'pg_authid')
		  FROM pg_roles
		 WHERE shobj_description(oid, 'pg_authid') IS NOT NULL
		 ORDER BY 1},
	parameter_privileges => q{
		SELECT p.parname, coalesce(r.rolname, 'PUBLIC'), a.privilege_type, a.is_grantable
		  FROM pg_parameter_acl p, aclexplode(p.paracl) a
		  LEFT JOIN pg_roles r ON r.oid = a.grantee
		 WHERE a.grantee <> 10
		 ORDER BY 1, 2, 3});

sub snapshot
{
	my ($node) = @_;
	return { map { $_ => $node->safe_psql('postgres', $facts{$_}) } keys %facts };
}

sub compare
{
	my ($got, $want, $what) = @_;
	is($got->{$_}, $want->{$_}, "$what: $_") for sort keys %facts;
}

my $want = snapshot($reference);
like($want->{roles}, qr/^app_user\|f\|t\|f\|f\|t\|f\|f\|5\|SCRAM-SHA-256/m,
	'the reference has the roles, with password hashes');
like($want->{settings}, qr/app_user\|\(all\)\|log_min_duration_statement=250/,
	'the reference has the role settings');

# --- roles_sql: sanitized by construction ----------------------------------

my $script = $target->safe_psql('postgres', "SELECT * FROM tsmigrate.roles_sql('$src')");
(my $unquoted = $script) =~ s/"(?:[^"]|"")*"//g;
unlike($unquoted, qr/SUPERUSER|REPLICATION|BYPASSRLS|GRANTED BY/,
	'roles_sql never emits SUPERUSER, REPLICATION, BYPASSRLS or GRANTED BY');
like($script, qr/^CREATE ROLE "SUPERUSER fan";$/m, 'a role named "SUPERUSER fan" keeps its name');
unlike($script, qr/\Q$bootstrap\E|CREATE ROLE pg_/,
	'no statement about the bootstrap superuser or creating a pg_* role')
  or diag($script);
like($script, qr/^SECURITY LABEL FOR selinux ON ROLE app_user IS 'system_u:object_r:sepgsql_role_t:s0';$/m,
	'security labels are emitted as pg_dumpall does');
like($script, qr/^CREATE ROLE "evil""; DROP ROLE readers; --";$/m, 'names are quoted');
like($script, qr/^-- skipped: membership in pg_read_all_stats, a predefined role \(allow => ARRAY\['membership:pg_read_all_stats'\] to grant it\): GRANT pg_read_all_stats TO app_user( WITH INHERIT TRUE)?;$/m,
	'memberships in pg_* roles, which pg_dumpall keeps, are a comment saying how to allow them');
like($script, qr/^ALTER ROLE app_user SET search_path TO 'app', 'public', '\$user';$/m,
	'list settings are split into literals');
like($script, qr/^ALTER ROLE app_user IN DATABASE postgres SET work_mem TO '128MB';$/m,
	'settings IN DATABASE <source database> become IN DATABASE <target database>');
unlike($script, qr/256MB/, 'settings in other source databases are not carried');

# --- a superuser caller ----------------------------------------------------

# Without "allow", what could reach beyond the source's own roles is
# refused, each with a row.
my $strict = $target->safe_psql('postgres',
	"SELECT rolname, action FROM tsmigrate.pull_roles('$src', dry_run => true)");
is_deeply(
	[ grep { /skipped/ } split /\n/, $strict ],
	[
		'app_user|security label for selinux skipped: security label provider "selinux" is not loaded',
		q{role_admin|skipped: attribute CREATEROLE (allow => ARRAY['createrole'] to copy it)},
		q{app_user|skipped: setting log_min_duration_statement, a parameter that only a superuser may set (allow => ARRAY['setting:log_min_duration_statement'] to set it)},
		q{app_user|skipped: membership in pg_read_all_stats, a predefined role (allow => ARRAY['membership:pg_read_all_stats'] to grant it)},
		q{role_admin|skipped: privilege SET on parameter log_min_duration_statement (allow => ARRAY['parameter_privileges'] to grant it)}
	],
	'without allow, CREATEROLE, the superuser-only setting, the predefined membership and the parameter privilege are refused'
) or diag($strict);

my $allow = q{, allow => ARRAY['createrole', 'membership:pg_read_all_stats', 'parameter_privileges', 'setting:log_min_duration_statement']};
my $before = snapshot($target);
my $dry = $target->safe_psql('postgres',
	"SELECT rolname, action FROM tsmigrate.pull_roles('$src', dry_run => true$allow)");
compare(snapshot($target), $before, 'a dry run changes nothing');
like($dry, qr/^app_user\|would be created$/m, 'a dry run says what would be created');

my $run1 = $target->safe_psql('postgres',
	"SELECT rolname, action FROM tsmigrate.pull_roles('$src'$allow)");
is_deeply(
	[ grep { /skipped/ } split /\n/, $run1 ],
	[ 'app_user|security label for selinux skipped: security label provider "selinux" is not loaded' ],
	'a superuser caller skips only the label of a provider the target lacks (psql fails on it too)'
) or diag($run1);
(my $dry_as_run = $dry) =~ s/would be //g;
is($dry_as_run, $run1, 'the dry run foretold the run');
compare(snapshot($target), $want, 'superuser caller, same as pg_dumpall | sed | psql');

my $run2 = $target->safe_psql('postgres',
	"SELECT rolname, action FROM tsmigrate.pull_roles('$src'$allow)");
unlike($run2, qr/created|skipped/, 'a second run creates and skips nothing') or diag($run2);
like($run2, qr/^app_user\|exists \(left as it is\)$/m, 'a second run reports the roles that exist');
compare(snapshot($target), $want, 'second run');

is($target->safe_psql('postgres',
		q{SELECT rolname, rolsuper, rolcanlogin FROM pg_roles WHERE rolname = 'SUPERUSER fan'}),
	'SUPERUSER fan|f|t', 'the target has "SUPERUSER fan" under its own name');
is($reference->safe_psql('postgres',
		q{SELECT count(*) FROM pg_roles WHERE rolname = ' fan'}),
	'1', '(while the sed renamed it to " fan" on the reference)');
is($target->safe_psql('postgres', q{
		SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting
		 WHERE setrole = 'app_user'::regrole
		   AND setdatabase = (SELECT oid FROM pg_database WHERE datname = 'postgres')}),
	'work_mem=128MB', 'the setting IN DATABASE legacy is set IN DATABASE postgres');

# --- a CREATEROLE-only caller, as on managed services ----------------------

# (CREATEDB too, as managed services' admin roles have it: from 16 on,
# pg_dumpall's ALTER ROLE ... NOCREATEDB needs it)
$target_cr->safe_psql('postgres', q{
	CREATE ROLE migrator LOGIN CREATEROLE CREATEDB;
	GRANT USAGE ON SCHEMA tsmigrate TO migrator;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tsmigrate TO migrator;
});

$before = snapshot($target_cr);
my ($rc, $out, $err) = tsm_target_sql($target_cr,
	"SELECT rolname, action FROM tsmigrate.pull_roles('$src', true$allow)", user => 'migrator');
is($rc, 0, 'CREATEROLE caller: dry run succeeds');
compare(snapshot($target_cr), $before, 'CREATEROLE caller: a dry run changes nothing');
$dry = $out;

($rc, $run1, $err) = tsm_target_sql($target_cr,
	"SELECT rolname, action FROM tsmigrate.pull_roles('$src'$allow)", user => 'migrator');
is($rc, 0, 'CREATEROLE caller: pull_roles succeeds') or diag($err);
($dry_as_run = $dry) =~ s/would be //g;
is($dry_as_run, $run1, 'CREATEROLE caller: the dry run foretold the run');

# What only a superuser (or a holder of the privilege) may do is skipped,
# with the target's reason, and nothing else.  From 16 on, CREATEROLE no
# longer grants membership in a role the caller has no ADMIN on, such as a
# predefined role.
my $pg16 = $target_cr->safe_psql('postgres', 'SHOW server_version_num') >= 160000;
my @skipped = grep { /skipped/ } split /\n/, $run1;
is_deeply(
	\@skipped,
	[
		'app_user|security label for selinux skipped: security label provider "selinux" is not loaded',
		'app_user|setting log_min_duration_statement skipped: permission denied to set parameter "log_min_duration_statement"',
		($pg16
			? 'app_user|membership in pg_read_all_stats skipped: permission denied to grant role "pg_read_all_stats"'
			: ()),
		'role_admin|privilege SET on parameter log_min_duration_statement skipped: permission denied for parameter log_min_duration_statement'
	],
	'CREATEROLE caller: only the label, the superuser-only setting and the parameter privilege are skipped'
	  . ($pg16 ? ', and (16 on) the membership in a predefined role' : '')
) or diag($run1);

my %want_cr = %$want;
$want_cr{settings} = join "\n", grep { !/log_min_duration_statement/ } split /\n/, $want->{settings};
$want_cr{parameter_privileges} = '';
$want_cr{memberships} = join "\n", grep { !/^pg_read_all_stats\|app_user\|/ } split /\n/,
  $want->{memberships}
  if $pg16;
compare(snapshot($target_cr), \%want_cr,
	'CREATEROLE caller, same as the reference but for what was skipped');

($rc, $run2, $err) = tsm_target_sql($target_cr,
	"SELECT rolname, action FROM tsmigrate.pull_roles('$src'$allow)", user => 'migrator');
is($rc, 0, 'CREATEROLE caller: a second run fails on nothing') or diag($err);
unlike($run2, qr/created/, 'CREATEROLE caller: a second run creates nothing');
compare(snapshot($target_cr), \%want_cr, 'CREATEROLE caller: second run');

# --- a source login that cannot read pg_authid -----------------------------

$source->safe_psql('postgres', q{CREATE ROLE reader LOGIN PASSWORD 'reader-secret'});
my $src_reader = tsm_tcp_connstr($source, 'legacy', user => 'reader', password => 'reader-secret');
($rc, $out, $err) = tsm_target_sql($target,
	"SELECT * FROM tsmigrate.roles_sql('$src_reader')");
like($err, qr/NOTICE:  00000: password hashes of the source's roles are not copied\nDETAIL:  Source role "reader" cannot read pg_catalog.pg_authid/,
	'a source login that cannot read pg_authid gets a NOTICE');
unlike($out, qr/PASSWORD/, '... and no PASSWORD is emitted');
like($out, qr/^-- exists \(left as it is\): ALTER ROLE app_user WITH INHERIT NOCREATEROLE NOCREATEDB LOGIN CONNECTION LIMIT 5 VALID UNTIL '2031-06-01 12:00:00\+00';$/m,
	'... while the other attributes are (a comment: app_user exists on this target)');

ok(tsm_no_source_backends($source), 'no tsmigrate backend is left on the source');

done_testing();
