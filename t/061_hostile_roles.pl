# t/061_hostile_roles.pl
#
# A hostile source's roles (issue 13, item 2).  Its owner names roles and
# memberships: a role "postgres" that is not its bootstrap superuser, so
# that "GRANT postgres TO evil" would make evil a superuser on a target
# whose "postgres" is one; memberships in predefined roles that read and
# write the server's files or run programs; privileges on parameters;
# CREATEROLE; a role setting that only a superuser may make
# (session_preload_libraries: code loaded at every login); a role named as
# the caller, with a password.  After pull_roles, and after a whole
# migrate, evil has none of it, each refusal is a row, and what the caller
# allows by name is granted, exactly.

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
my $target_mig = tsm_target_node('target_mig');

my $bootstrap = $source->safe_psql('postgres', 'SELECT rolname FROM pg_roles WHERE oid = 10');
my $hostile_name = "x\nGRANT pg_write_server_files TO evil; --";

$source->safe_psql('postgres', qq{
	ALTER ROLE "$bootstrap" PASSWORD 'boot-secret';

	-- named as roles that exist on the target
	CREATE ROLE postgres LOGIN PASSWORD 'pwned';
	CREATE ROLE migrator LOGIN CREATEDB PASSWORD 'pwned';

	CREATE ROLE evil LOGIN CREATEROLE PASSWORD 'evil-secret';
	CREATE ROLE helper NOLOGIN;
	CREATE ROLE "$hostile_name" NOLOGIN;

	GRANT postgres TO evil WITH ADMIN OPTION;
	GRANT pg_execute_server_program, pg_read_server_files, pg_write_server_files TO evil;
	GRANT pg_monitor TO evil WITH ADMIN OPTION;
	GRANT pg_read_server_files TO "$hostile_name";
	GRANT pg_write_server_files TO migrator;
	GRANT helper TO evil;

	GRANT ALTER SYSTEM ON PARAMETER shared_preload_libraries TO evil;
	GRANT SET ON PARAMETER session_preload_libraries TO evil;

	ALTER ROLE evil SET session_preload_libraries = 'evil_lib';
	ALTER ROLE evil SET allow_system_table_mods = on;
	ALTER ROLE evil SET work_mem = '8MB';
});
tsm_set_source_auth($source, 'scram-sha-256');
my $src = tsm_tcp_connstr($source, 'postgres', user => $bootstrap, password => 'boot-secret');

# On each target, "postgres" is a superuser that the DBA created (the
# clusters' bootstrap superuser has the name of the OS user here).
for my $node ($target, $target_cr, $target_mig)
{
	$node->safe_psql('postgres', 'CREATE ROLE postgres SUPERUSER NOLOGIN');
}

# What a DBA checks about a role on the target.
sub role_facts
{
	my ($node, $role) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT 'super=' || rolsuper || ' createrole=' || rolcreaterole
		       || ' createdb=' || rolcreatedb || ' login=' || rolcanlogin
		       || ' password=' || coalesce(rolpassword, '(none)')
		  FROM pg_authid WHERE rolname = '$role'});
}

sub memberships
{
	my ($node, $role) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT coalesce(string_agg(r.rolname || CASE WHEN a.admin_option THEN '(admin)' ELSE '' END,
		                           ',' ORDER BY r.rolname), '')
		  FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid
		 WHERE a.member = (SELECT oid FROM pg_roles WHERE rolname = '$role')});
}

sub parameter_grants
{
	my ($node, $role) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_parameter_acl p, aclexplode(p.paracl) a
		 WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = '$role')});
}

sub role_settings
{
	my ($node, $role) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT coalesce(string_agg(c.item, ',' ORDER BY c.item), '')
		  FROM pg_db_role_setting s, unnest(s.setconfig) c(item)
		 WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = '$role')});
}

# evil on "node" has nothing of what the source tried to hand it.
sub evil_has_nothing
{
	my ($node, $what) = @_;
	like(role_facts($node, 'evil'), qr/^super=false createrole=false createdb=false login=true password=SCRAM-SHA-256/,
		"$what: evil is neither superuser nor CREATEROLE (it has its login and password)");
	is(memberships($node, 'evil'), 'helper',
		"$what: evil is a member of the role the run created, of nothing else");
	is(memberships($node, $hostile_name), '',
		"$what: the role with a line break in its name is a member of nothing");
	is(parameter_grants($node, 'evil'), '0', "$what: evil has no privilege on a parameter");
	is(role_settings($node, 'evil'), 'work_mem=8MB',
		"$what: evil has its user-settable setting, not session_preload_libraries nor allow_system_table_mods");
	is(role_facts($node, 'postgres'),
		'super=true createrole=false createdb=false login=false password=(none)',
		"$what: the target's postgres is as it was: no login, no password from the source");

	# what evil would try, logged in on the target
	my ($rc, $out, $err) = tsm_target_sql($node, 'SET ROLE postgres', user => 'evil');
	like($err, qr/42501: permission denied to set role "postgres"/, "$what: evil cannot SET ROLE postgres");
	($rc, $out, $err) = tsm_target_sql($node, q{COPY (SELECT 1) TO PROGRAM 'true'}, user => 'evil');
	like($err, qr/42501: (must be superuser or have privileges of the pg_execute_server_program role|permission denied to COPY to or from an external program)/,
		"$what: evil cannot run a program on the server");
	($rc, $out, $err) = tsm_target_sql($node, q{SELECT pg_read_file('postgresql.conf')}, user => 'evil');
	like($err, qr/42501: permission denied for function pg_read_file/, "$what: evil cannot read the server's files");
}

my @refused = (
	q{evil|skipped: attribute CREATEROLE (allow => ARRAY['createrole'] to copy it)},
	q{evil|skipped: setting session_preload_libraries, a parameter that only a superuser may set (allow => ARRAY['setting:session_preload_libraries'] to set it)},
	q{evil|skipped: setting allow_system_table_mods, a parameter that only a superuser may set (allow => ARRAY['setting:allow_system_table_mods'] to set it)},
	q{evil|skipped: membership in pg_execute_server_program, a predefined role (allow => ARRAY['membership:pg_execute_server_program'] to grant it)},
	q{evil|skipped: membership in pg_monitor with admin option, a predefined role (allow => ARRAY['membership:pg_monitor'] to grant it)},
	q{evil|skipped: membership in pg_read_server_files, a predefined role (allow => ARRAY['membership:pg_read_server_files'] to grant it)},
	qq{$hostile_name|skipped: membership in pg_read_server_files, a predefined role (allow => ARRAY['membership:pg_read_server_files'] to grant it)},
	q{evil|skipped: membership in pg_write_server_files, a predefined role (allow => ARRAY['membership:pg_write_server_files'] to grant it)},
	q{migrator|skipped: membership in pg_write_server_files, a predefined role (allow => ARRAY['membership:pg_write_server_files'] to grant it)},
	q{evil|skipped: membership in postgres with admin option, a superuser that this run did not create (allow => ARRAY['membership:postgres'] to grant it)},
	q{evil|skipped: privilege SET on parameter session_preload_libraries (allow => ARRAY['parameter_privileges'] to grant it)},
	q{evil|skipped: privilege ALTER SYSTEM on parameter shared_preload_libraries (allow => ARRAY['parameter_privileges'] to grant it)});

# pull_roles(source, <args>) on "node": ($rc, [ "rolname|action", ... ] in
# the function's order, $stderr).  A role name may hold a line break, so
# rows are joined with a record separator.
sub pull
{
	my ($node, $args, %params) = @_;
	my ($rc, $out, $err) = tsm_target_sql($node, qq{
		SELECT string_agg(rolname || '|' || action, E'\\x1e' ORDER BY n)
		  FROM tsmigrate.pull_roles('$src'$args) WITH ORDINALITY p(rolname, action, n)},
		%params);
	return ($rc, [ split /\x1e/, $out ], $err);
}

sub skipped_rows
{
	my ($rows) = @_;
	return [ grep { /skipped/ } @$rows ];
}

sub has_row
{
	my ($rows, $row, $what) = @_;
	ok((grep { $_ eq $row } @$rows), $what) or diag(join "\n", @$rows);
}

# --- roles_sql: what would be refused is a comment --------------------------

my $script = $target->safe_psql('postgres', qq{
	SELECT string_agg(s, E'\\n----\\n') FROM tsmigrate.roles_sql('$src') s});
my @lines = split /\n----\n/, $script;
like($script, qr/^-- skipped: membership in postgres with admin option, a superuser that this run did not create \(allow => ARRAY\['membership:postgres'\] to grant it\): GRANT postgres TO evil WITH ADMIN OPTION(, INHERIT TRUE)?;$/m,
	'roles_sql: the membership in postgres is a comment that says why');
is((grep { /^GRANT (postgres|pg_\w+) TO/ } @lines), 0,
	'roles_sql: no membership in postgres or a predefined role outside a comment')
  or diag($script);
like($script, qr/^-- exists \(left as it is\): ALTER ROLE postgres WITH INHERIT NOCREATEROLE NOCREATEDB LOGIN PASSWORD/m,
	'roles_sql: the attributes and password of the existing postgres are a comment');
like($script, qr/^ALTER ROLE evil WITH INHERIT NOCREATEROLE /m, 'roles_sql: evil without CREATEROLE');
like($script, qr/^-- role evil: skipped: attribute CREATEROLE/m, 'roles_sql: ... and a comment says so');
like($script, qr/^-- skipped: setting session_preload_libraries, .*: ALTER ROLE evil SET session_preload_libraries TO 'evil_lib';$/m,
	'roles_sql: the superuser-only setting is a comment');
like($script, qr/^-- skipped: privilege ALTER SYSTEM on parameter shared_preload_libraries .*: GRANT ALTER SYSTEM ON PARAMETER/m,
	'roles_sql: the parameter privilege is a comment');
is((grep { /^--/ && /\n/ } @lines), 0,
	'roles_sql: a line break in a source name never ends a comment');
like($script, qr/^-- skipped: membership in pg_read_server_files, .*: GRANT pg_read_server_files TO "x\\nGRANT pg_write_server_files TO evil; --"( WITH INHERIT TRUE)?;$/m,
	'roles_sql: ... it is written as \n');

# --- pull_roles, superuser caller -------------------------------------------

my ($rc, $dry, $err) = pull($target, ', dry_run => true');
is($rc, 0, 'dry run succeeds') or diag($err);
is($target->safe_psql('postgres', q{SELECT count(*) FROM pg_roles WHERE rolname = 'evil'}), '0',
	'a dry run creates nothing');
is_deeply(skipped_rows($dry), \@refused, 'a dry run reports each refusal') or diag(join "\n", @$dry);

my $run;
($rc, $run, $err) = pull($target, '');
is($rc, 0, 'pull_roles succeeds') or diag($err);
is_deeply(skipped_rows($run), \@refused,
	'pull_roles reports each refused grant, attribute and setting as a row') or diag(join "\n", @$run);
has_row($run, 'postgres|exists (left as it is)', 'the source role "postgres" is reported as existing');
has_row($run, 'evil|membership in helper created', 'the membership in a role the run created is granted');
has_row($run, 'evil|setting work_mem created', 'the user-settable setting is made');
evil_has_nothing($target, 'pull_roles');

# A second run refuses the same, creates nothing.
($rc, $run, $err) = pull($target, '');
is($rc, 0, 'second pull_roles succeeds') or diag($err);
is((grep { /created$/ } @$run), 0, 'a second run creates nothing') or diag(join "\n", @$run);
is_deeply(skipped_rows($run), [ grep { !/CREATEROLE|setting/ } @refused ],
	'a second run refuses the same grants (the attribute and settings of roles that exist are not looked at)');
evil_has_nothing($target, 'second pull_roles');

# --- what the caller allows by name, and only that ---------------------------

($rc, $run, $err) = pull($target, q{, allow => '{membership:pg_monitor}'});
is($rc, 0, 'pull_roles with allow => membership:pg_monitor succeeds') or diag($err);
has_row($run, 'evil|membership in pg_monitor created, without admin option (not granted in a role that this run did not create)',
	'the allowed membership is reported as created, without admin option');
is(memberships($target, 'evil'), 'helper,pg_monitor',
	'allow => membership:pg_monitor grants exactly that membership');
is(role_facts($target, 'evil') =~ /super=false createrole=false/ ? 1 : 0, 1, '... and nothing else');
is(parameter_grants($target, 'evil'), '0', '... no parameter privilege');

($rc, $run, $err) = pull($target, q{, allow => '{membership}'});
like($err, qr/22023: unrecognized value in allow: "membership"/, 'a malformed allow element is an error');

# --- a CREATEROLE-only caller named like a source role ----------------------

# (CREATEDB too, as managed services' admin roles have it: from 16 on,
# pg_dumpall's ALTER ROLE ... NOCREATEDB needs it)
$target_cr->safe_psql('postgres', q{
	CREATE ROLE migrator LOGIN CREATEROLE CREATEDB PASSWORD 'mig-secret';
	GRANT USAGE ON SCHEMA tsmigrate TO migrator;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tsmigrate TO migrator;
});
my $migrator_before = role_facts($target_cr, 'migrator');
($rc, $run, $err) = pull($target_cr, '', user => 'migrator');
is($rc, 0, 'CREATEROLE caller: pull_roles succeeds') or diag($err);
has_row($run, 'migrator|exists (left as it is)', 'CREATEROLE caller: its own name is left as it is');
is(role_facts($target_cr, 'migrator'), $migrator_before,
	'CREATEROLE caller: its attributes and password are not the source\'s');
# (from 16 on, a CREATEROLE role that creates a role gets ADMIN on it)
is(memberships($target_cr, 'migrator'),
	$target_cr->safe_psql('postgres', 'SHOW server_version_num') >= 160000
	? "evil(admin),helper(admin),x\nGRANT pg_write_server_files TO evil; --(admin)"
	: '',
	'CREATEROLE caller: it is not made a member of pg_write_server_files');
is(memberships($target_cr, 'evil'), 'helper', 'CREATEROLE caller: evil is a member of helper only');
is(role_facts($target_cr, 'evil') =~ /createrole=false/ ? 1 : 0, 1,
	'CREATEROLE caller: evil is not CREATEROLE');

# --- a whole migrate --------------------------------------------------------

($rc, my $out, $err) = tsm_target_sql($target_mig, "CALL tsmigrate.migrate('$src')");
is($rc, 0, 'migrate succeeds') or diag($err);
like($err, qr/step "roles" done in [\d.]+ s: 4 roles created, 1 left as they were, 12 skipped/,
	'migrate says how many role items it skipped');
evil_has_nothing($target_mig, 'migrate');

for my $node ($target, $target_cr, $target_mig)
{
	unlike(slurp_file($node->logfile), qr/terminated by signal/,
		$node->name . ': no backend crashed');
}
ok(tsm_no_source_backends($source), 'no tsmigrate backend is left on the source');

done_testing();
