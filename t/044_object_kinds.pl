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
#   subscriptions          with every option the source's version has, one
#                          enabled on the source, a comment, an owner;
#                          subscriptions.  They arrive disabled.  Left out,
#                          with a WARNING and a preflight row that does not
#                          block, where the source login cannot read them
#                          or the caller may not create them here (on 18, a
#                          role with pg_create_subscription creates the one
#                          whose connection string has a password).  Their
#                          password appears in no message, progress row or
#                          log line, also when the replay of one fails
#   security labels        of every kind pg_dump labels (schema, table and
#                          column, view, materialized view, sequence,
#                          foreign table, type, domain, function, procedure,
#                          aggregate, language, publication, event trigger,
#                          subscription) and of a role, with the provider
#                          dummy (PostgreSQL's dummy_seclabel, which
#                          scripts/test builds); a target without the
#                          provider is refused before anything changes, and
#                          the labels tsmigrate leaves out (a large
#                          object's, the database's) are named

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

# preflight's subscription rows from source $src, as $user if given:
# "object blocks detail", one a line
sub subscription_rows
{
	my ($db, $src, $user) = @_;
	my ($rc, $out, $err) = tsm_target_sql($target,
		"SELECT string_agg(object || ' ' || blocks || ' ' || detail, E'\\n' ORDER BY object COLLATE \"C\")"
		  . " FROM tsmigrate.preflight(\$\$$src\$\$, allow => '{subscriptions}') WHERE \"check\" = 'subscription'",
		dbname => $db, defined $user ? (user => $user) : ());
	diag $err if $rc != 0;
	return $out;
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

# --- subscriptions -----------------------------------------------------------

my $major = int($source->safe_psql('postgres', 'SHOW server_version_num') / 10000);
my $secret = 'Sub-S3cret-pw';
my @messages;    # every stderr of the target, for the secret

my $opts = 'binary = true, streaming = on, two_phase = true, disable_on_error = true, synchronous_commit = local';
$opts .= ', origin = none, run_as_owner = true, password_required = false' if $major >= 16;
$opts .= ', failover = true' if $major >= 17;
$source->safe_psql('postgres', q{
	CREATE ROLE sub_owner;
	CREATE DATABASE subs;
});
$source->safe_psql('subs', qq{
	CREATE SUBSCRIPTION "App Sub"
		CONNECTION 'host=127.0.0.1 port=1 dbname=shop user=repl password=$secret'
		PUBLICATION "Pub A", pub_b WITH (connect = false, slot_name = 'app_slot', $opts);
	COMMENT ON SUBSCRIPTION "App Sub" IS 'the shop''s orders';
	ALTER SUBSCRIPTION "App Sub" ENABLE;
	CREATE SUBSCRIPTION plain_sub CONNECTION 'host=127.0.0.1 port=1 dbname=shop'
		PUBLICATION pub_a WITH (connect = false, slot_name = NONE);
	CREATE SUBSCRIPTION pw_sub CONNECTION 'host=127.0.0.1 port=1 dbname=shop user=repl password=$secret'
		PUBLICATION pub_a WITH (connect = false);
});
# before 16 only a superuser owns a subscription
$source->safe_psql('subs', 'ALTER SUBSCRIPTION plain_sub OWNER TO sub_owner') if $major >= 16;
my $subs_query = q{SELECT string_agg(subname || ' ' || subenabled, ', ' ORDER BY subname COLLATE "C")
	FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())};
is($source->safe_psql('subs', $subs_query), 'App Sub true, plain_sub false, pw_sub false',
	'the source has three subscriptions, one of them enabled');

# without consent: refused before anything changes
target_db('subs_refused');
is(problems('subs_refused', 'subs', '{}'),
	join("\n", map { "subscription|$_|t" } '"App Sub"', 'plain_sub', 'pw_sub'),
	'subscriptions: without the word, preflight says their CREATE SUBSCRIPTION would be refused');
($rc, $out, $err) = migrate('subs_refused', 'subs', '{}');
push @messages, $err;
like($err, qr/ERROR:  55000: 3 objects of the source cannot be created on this target\nDETAIL:  subscription "App Sub": once enabled, or when dropped while it names a replication slot, it makes the target connect where its connection string says: without the caller's consent its CREATE SUBSCRIPTION is refused/,
	'migrate refuses to start without subscriptions (55000)');
is($target->safe_psql('subs_refused', $subs_query), '', 'nothing changed on the target');

# with consent: pg_dump's subscriptions, disabled
target_db('subs');
($rc, $out, $err) = migrate('subs', 'subs', '{subscriptions}');
push @messages, $err;
is($rc, 0, 'migrate brings the subscriptions') or diag $err;
is(schema_dump_diff($source, 'subs', $target, 'subs', owners_and_privileges => 1), '',
	'pg_dump --schema-only, owners included: the same subscriptions, every option');
is($target->safe_psql('subs', $subs_query), 'App Sub false, plain_sub false, pw_sub false',
	'all of them disabled on the target');
is( $target->safe_psql('subs',
		q{SELECT count(*) FROM pg_stat_subscription s JOIN pg_subscription p ON p.oid = s.subid WHERE s.pid IS NOT NULL}),
	'0', 'no apply worker runs for them');

# the replay of one fails (the target has one of the name): no password
# shown, with several jobs (a worker's error) and with one (SPI's context)
target_db('subs_clash');
$target->safe_psql('subs_clash',
	q{CREATE SUBSCRIPTION "App Sub" CONNECTION 'host=127.0.0.1 port=1 dbname=other' PUBLICATION x WITH (connect = false)});
foreach my $jobs (2, 1)
{
	($rc, $out, $err) = tsm_target_sql($target,
		"SELECT * FROM tsmigrate.pull_schema(\$\$" . $source->connstr('subs')
		  . "\$\$, 'post-data', jobs => $jobs, allow => '{subscriptions}')",
		dbname => 'subs_clash');
	push @messages, $err;
	like($err, qr/ERROR:  42710: subscription "App Sub" already exists\n(.*\n)*CONTEXT:  (.*\n)*.*replaying definition of subscription "App Sub"/,
		"a subscription that exists on the target: 42710, naming it ($jobs jobs)");
	like($err, qr/SQL statement "\(a statement that holds a password, not shown\)"/,
		"SPI's context line does not quote the statement ($jobs jobs)");
}

# a migrate run that fails on one (an event trigger of the target refuses
# it): its error, kept in the run's state, shows no password either
target_db('subs_trigger');
$target->safe_psql('subs_trigger', q{
	CREATE FUNCTION public.no_subscriptions() RETURNS event_trigger LANGUAGE plpgsql
		AS $$ BEGIN RAISE EXCEPTION 'no subscriptions here'; END $$;
	CREATE EVENT TRIGGER no_subscriptions ON ddl_command_start WHEN TAG IN ('CREATE SUBSCRIPTION')
		EXECUTE FUNCTION public.no_subscriptions();
});
($rc, $out, $err) = migrate('subs_trigger', 'subs', '{subscriptions}');
push @messages, $err;
like($err, qr/ERROR:  P0001: no subscriptions here\n(.*\n)*CONTEXT:  (.*\n)*.*replaying definition of subscription "App Sub"/,
	'a migrate run fails on it, naming it');
is( $target->safe_psql('subs_trigger',
		q{SELECT step || ': ' || error FROM tsmigrate.progress WHERE state = 'failed'}),
	'post-data: no subscriptions here', 'in its post-data step');

# the source login cannot read them: left out, as pg_dump leaves them out
tsm_set_source_auth($source, 'scram-sha-256');
$source->safe_psql('postgres', q{
	CREATE ROLE reader LOGIN PASSWORD 'reader-pw';
	CREATE ROLE src_admin LOGIN SUPERUSER PASSWORD 'admin-pw';
});
my $as_reader = tsm_tcp_connstr($source, 'subs', user => 'reader', password => 'reader-pw');
target_db('subs_reader');
is(subscription_rows('subs_reader', $as_reader),
	join("\n", map { "$_ false the source login cannot read its connection string (only superusers can): it is left out" }
		'"App Sub"', 'plain_sub', 'pw_sub'),
	'a source login that cannot read pg_subscription: left out, not blocking');
($rc, $out, $err) = migrate('subs_reader', 'subs', '{}', source => $as_reader);
push @messages, $err;
is($rc, 0, 'migrate completes') or diag $err;
like($err, qr/WARNING:  01000: 3 objects of the source will not be migrated\nDETAIL:  subscription "App Sub": the source login cannot read/,
	'warning in its checks step');
like($err, qr/WARNING:  42501: 3 subscriptions of the source are not migrated\nDETAIL:  The source login cannot read pg_subscription/,
	'and in its post-data step');
is($target->safe_psql('subs_reader', $subs_query), '', 'no subscription on the target');

# the caller may not create them here: left out
my $as_admin = tsm_tcp_connstr($source, 'subs', user => 'src_admin', password => 'admin-pw');
$target->safe_psql('postgres', 'CREATE ROLE migrator LOGIN');
target_db('subs_user');
$target->safe_psql('postgres', 'ALTER DATABASE subs_user OWNER TO migrator');
tsm_grant_migrate($target, 'subs_user', 'migrator');
my $left_out = $major >= 16
  ? qr/the caller may not create it here, it is left out: Role "migrator" is not a superuser and has not the privileges of role "pg_create_subscription"\./
  : qr/the caller may not create it here, it is left out: Only superusers may create subscriptions on this server, and role "migrator" is not one\./;
like(subscription_rows('subs_user', $as_admin, 'migrator'), qr/^"App Sub" false $left_out\nplain_sub false $left_out\npw_sub false $left_out$/,
	'a caller that may not create subscriptions: left out, not blocking');
($rc, $out, $err) = migrate('subs_user', 'subs', '{subscriptions}', source => $as_admin,
	args => ', roles => false', sql => { user => 'migrator' });
push @messages, $err;
is($rc, 0, 'migrate completes') or diag $err;
like($err, qr/WARNING:  42501: subscription "App Sub" of the source is not migrated\nDETAIL:  /,
	'its post-data step says which it leaves out');
is($target->safe_psql('subs_user', $subs_query), '', 'no subscription on the target');

SKIP:
{
	skip 'pg_create_subscription is new in 16', 3 if $major < 16;
	$target->safe_psql('postgres', 'GRANT pg_create_subscription TO migrator');
	target_db('subs_creator');
	$target->safe_psql('postgres', 'ALTER DATABASE subs_creator OWNER TO migrator');
	tsm_grant_migrate($target, 'subs_creator', 'migrator');
	is(subscription_rows('subs_creator', $as_admin, 'migrator'), join("\n",
			'"App Sub" false the caller may not create it here, it is left out: Only a superuser may create a subscription with password_required = false, and role "migrator" is not one.',
			'plain_sub false the caller may not create it here, it is left out: Its connection string holds no password, which a subscription made by a role that is not a superuser must have.'),
		'with pg_create_subscription: the one with a password is created, the others left out, each with its reason');
	($rc, $out, $err) = migrate('subs_creator', 'subs', '{subscriptions}', source => $as_admin,
		args => ', roles => false', sql => { user => 'migrator' });
	push @messages, $err;
	is($rc, 0, 'migrate completes') or diag $err;
	is( $target->safe_psql('subs_creator',
			q{SELECT string_agg(subname || ' ' || subenabled || ' ' || subowner::regrole, ', ') FROM pg_subscription
			   WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())}),
		'pw_sub false migrator', 'the role made the one with a password, disabled');
}

# the password: in no message, progress row or log line
my $shown = join("\n", @messages);
foreach my $db (qw(subs_refused subs subs_clash subs_trigger subs_reader subs_user))
{
	$shown .= $target->safe_psql($db,
		q{SELECT concat_ws(' ', (SELECT string_agg(concat_ws(' ', step, state, detail, error), ' ') FROM tsmigrate.progress),
			(SELECT string_agg(concat_ws(' ', error), ' ') FROM tsmigrate.run))});
}
unlike($shown, qr/\Q$secret\E/, 'no message nor progress row shows the password');
like($shown, qr/no subscriptions here/, '(the failed run\'s error is in them)');
unlike(slurp_file($target->logfile), qr/\Q$secret\E/, 'nor does the target\'s log');

# --- security labels ---------------------------------------------------------

my $pkglib = $target->safe_psql('postgres', q{SELECT setting FROM pg_config() WHERE name = 'PKGLIBDIR'});
SKIP:
{
	skip 'dummy_seclabel is not installed here (scripts/test builds it)', 11
	  unless -f "$pkglib/dummy_seclabel.so";

	my $preload = "shared_preload_libraries = 'dummy_seclabel'\n";
	my $lsource = tsm_source_node('lsource', conf => $preload);
	my $ltarget = tsm_target_node('ltarget', conf => $preload);
	$lsource->safe_psql('postgres', q{
		CREATE ROLE label_role;
		SECURITY LABEL FOR dummy ON ROLE label_role IS 'classified';
		CREATE DATABASE labels;
	});
	$lsource->safe_psql('labels', q{
		CREATE SCHEMA s;
		CREATE TABLE s.t (id int PRIMARY KEY, note text);
		CREATE VIEW s.v AS SELECT id, note FROM s.t;
		CREATE MATERIALIZED VIEW s.mv AS SELECT id FROM s.t;
		CREATE SEQUENCE s.seq;
		CREATE FOREIGN DATA WRAPPER w;
		CREATE SERVER srv FOREIGN DATA WRAPPER w;
		CREATE FOREIGN TABLE s.ft (a int) SERVER srv;
		CREATE TYPE s.mood AS ENUM ('ok');
		CREATE DOMAIN s.pos AS int CHECK (VALUE > 0);
		CREATE FUNCTION s.f(i int) RETURNS int LANGUAGE sql AS 'SELECT i';
		CREATE PROCEDURE s.p() LANGUAGE sql AS '';
		CREATE AGGREGATE s.total(int) (SFUNC = int4pl, STYPE = int);
		CREATE FUNCTION s.lab_handler() RETURNS language_handler
			LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';
		CREATE TRUSTED LANGUAGE lab_pl HANDLER s.lab_handler;
		CREATE PUBLICATION pub;
		CREATE FUNCTION s.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
		CREATE EVENT TRIGGER on_ddl ON ddl_command_end EXECUTE FUNCTION s.on_ddl();
		CREATE SUBSCRIPTION sub CONNECTION 'host=127.0.0.1 port=1 dbname=x'
			PUBLICATION pub WITH (connect = false, slot_name = NONE);
		SECURITY LABEL FOR dummy ON SCHEMA s IS 'classified';
		SECURITY LABEL FOR dummy ON TABLE s.t IS 'unclassified';
		SECURITY LABEL FOR dummy ON COLUMN s.t.note IS 'secret';
		SECURITY LABEL FOR dummy ON VIEW s.v IS 'classified';
		SECURITY LABEL FOR dummy ON COLUMN s.v.note IS 'classified';
		SECURITY LABEL FOR dummy ON MATERIALIZED VIEW s.mv IS 'classified';
		SECURITY LABEL FOR dummy ON SEQUENCE s.seq IS 'classified';
		SECURITY LABEL FOR dummy ON FOREIGN TABLE s.ft IS 'classified';
		SECURITY LABEL FOR dummy ON TYPE s.mood IS 'classified';
		SECURITY LABEL FOR dummy ON DOMAIN s.pos IS 'top secret';
		SECURITY LABEL FOR dummy ON FUNCTION s.f(int) IS 'classified';
		SECURITY LABEL FOR dummy ON PROCEDURE s.p() IS 'classified';
		SECURITY LABEL FOR dummy ON AGGREGATE s.total(int) IS 'classified';
		SECURITY LABEL FOR dummy ON LANGUAGE lab_pl IS 'classified';
		SECURITY LABEL FOR dummy ON PUBLICATION pub IS 'classified';
		SECURITY LABEL FOR dummy ON EVENT TRIGGER on_ddl IS 'classified';
		SECURITY LABEL FOR dummy ON SUBSCRIPTION sub IS 'classified';
		SELECT lo_create(4242);
		SECURITY LABEL FOR dummy ON LARGE OBJECT 4242 IS 'classified';
		SECURITY LABEL FOR dummy ON DATABASE labels IS 'classified';
	});
	my $lsrc = $lsource->connstr('labels');
	my $lallow = '{c_functions,event_triggers,subscriptions}';

	# a target without the provider: refused before anything changes
	target_db('labels_missing');
	is( $target->safe_psql('labels_missing',
			"SELECT \"check\", object, blocks FROM tsmigrate.preflight(\$\$$lsrc\$\$, allow => '$lallow')"
			  . " WHERE NOT ok AND \"check\" <> 'size' ORDER BY \"check\", object COLLATE \"C\""),
		join("\n",
			'security label|database labels (dummy)|f',
			'security label|large object 4242 (dummy)|f',
			'security label provider|dummy|t'),
		'security labels: the missing provider blocks; the labels left out are named');
	like( $target->safe_psql('labels_missing',
			"SELECT detail || ' / ' || fix FROM tsmigrate.preflight(\$\$$lsrc\$\$, allow => '$lallow')"
			  . " WHERE \"check\" = 'security label provider'"),
		qr/^18 security labels of the source are for provider "dummy", which is not loaded on the target: their SECURITY LABEL would fail \/ Load the module that provides it on the target \(shared_preload_libraries/,
		'with their number and the fix');
	($rc, $out, $err) = migrate('labels_missing', 'labels', $lallow, source => $lsrc);
	like($err, qr/ERROR:  55000: 1 object of the source cannot be created on this target\nDETAIL:  security label provider dummy: 18 security labels/,
		'migrate refuses to start without the provider (55000)');
	is( $target->safe_psql('labels_missing',
			q{SELECT (SELECT string_agg(step || '=' || state, ',' ORDER BY ordinal) FROM tsmigrate.run_step WHERE state <> 'pending')
			    || ' ' || (SELECT count(*) FROM pg_namespace WHERE nspname = 's')}),
		'checks=failed 0', 'in its checks step, and nothing changed on the target');

	# the provider loaded: every label, where pg_dump has it
	$ltarget->safe_psql('postgres', 'CREATE DATABASE labels');
	$ltarget->safe_psql('labels', 'CREATE EXTENSION tsmigrate');
	($rc, $out, $err) = tsm_target_sql($ltarget,
		"CALL tsmigrate.migrate(\$\$$lsrc\$\$, allow => '$lallow')", dbname => 'labels');
	is($rc, 0, 'migrate brings the labels') or diag $err;
	like($err, qr/WARNING:  01000: 2 objects of the source will not be migrated\nDETAIL:  security label database labels \(dummy\): tsmigrate leaves out the labels of large objects, of the database and of schema public/,
		'warning about the labels it leaves out');
	is(schema_dump_diff($lsource, 'labels', $ltarget, 'labels', owners_and_privileges => 1), '',
		'pg_dump --schema-only, owners and privileges: the same labels');
	my $labels_query = q{SELECT string_agg(objtype || ' ' || objname || ' ' || label, ', ' ORDER BY objtype, objname COLLATE "C")
		FROM pg_seclabels WHERE provider = 'dummy' AND objtype NOT IN ('large object', 'database')};
	my $want = $lsource->safe_psql('labels', $labels_query);
	is($ltarget->safe_psql('labels', $labels_query), $want, 'every label of an object, the role\'s included');
	like($want, qr/column s\.t\.note secret, .*role label_role classified, .*subscription sub classified/,
		'(columns, roles and subscriptions among them)');
	is( $ltarget->safe_psql('labels',
			q{SELECT count(*) FROM pg_seclabels WHERE objtype IN ('large object', 'database')}),
		'0', 'those of the large object and the database are left out');
	is($ltarget->safe_psql('labels', q{SELECT s.f(3) + (SELECT s.total(x) FROM generate_series(1, 2) x)}), '6',
		'the labelled objects work');
}

done_testing();
