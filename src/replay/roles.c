/*-------------------------------------------------------------------------
 *
 * roles.c
 *	  roles_sql and pull_roles: the source cluster's roles on the target
 *
 * The manual procedure runs "pg_dumpall --roles-only" on the source and
 * edits the file with sed before running it on the target, whose admin is
 * not a superuser: it deletes the bootstrap superuser's lines and every
 * SUPERUSER, REPLICATION, BYPASSRLS (with their NO forms) and GRANTED BY.
 * Here the same statements are built from the source's catalogs, in the
 * order and form of pg_dumpall's dumpRoles() (with its comments and
 * security labels), dumpUserConfig(), dumpRoleMembership() and
 * dumpRoleGUCPrivs(), except that what the sed
 * removes is never generated in the first place: a role named
 * "SUPERUSER fan" keeps its name, which the sed would have cut.
 *
 * On top of pg_dumpall --roles-only, the settings that roles have IN
 * DATABASE <the source database> are applied IN DATABASE <this database>.
 *
 * pull_roles replays the statements through replay/executor.c.  A role that
 * already exists on the target is reported and left as it is, with its
 * attributes, password, comment and settings; a statement that the caller
 * may not run (a CREATEROLE-only admin of a managed service meets several)
 * is reported as skipped with the target's reason, so a second run changes
 * nothing and fails on nothing.
 *
 * The source is trusted with its own roles and nothing more: it names the
 * roles and memberships, and a hostile one would name "postgres" or
 * pg_write_server_files.  So, stricter than pg_dumpall | sed on purpose,
 * these are refused and reported as skipped unless the caller's "allow"
 * argument names them (consent.c), and roles_sql shows them as comments:
 *	- a membership in a role that this run did not create: one that existed
 *	  on the target before (whatever its name on the source), a predefined
 *	  role, the bootstrap superuser.  When allowed, it is granted without
 *	  ADMIN OPTION, which would let the source hand the role on;
 *	- privileges on parameters (GRANT SET / ALTER SYSTEM ON PARAMETER);
 *	- the CREATEROLE attribute;
 *	- a role setting of a parameter that users cannot set themselves
 *	  (session_preload_libraries, allow_system_table_mods...): a superuser
 *	  caller's ALTER ROLE ... SET would make it apply at every login of the
 *	  role as if a superuser had set it.
 * Every decision is taken on the target, by names and OIDs resolved there:
 * the source's own filters (no pg_* role, no bootstrap superuser) are not
 * relied upon, as a man in the middle can play the source.
 *
 * IDENTIFICATION
 *	  src/replay/roles.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "catalog/catalog.h"
#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "lib/stringinfo.h"
#include "nodes/nodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"
#include "replay/replay.h"
#include "target/target.h"

PG_FUNCTION_INFO_V1(tsmigrate_roles_sql);
PG_FUNCTION_INFO_V1(tsmigrate_pull_roles);

/* What one unit of the script does */
typedef enum RoleItemKind
{
	ITEM_ROLE,					/* CREATE ROLE + ALTER ROLE ... WITH */
	ITEM_CREATEROLE,			/* the CREATEROLE attribute, not allowed: no
								 * statement, a row saying so */
	ITEM_COMMENT,				/* COMMENT ON ROLE, SECURITY LABEL ON ROLE */
	ITEM_SETTING,				/* ALTER ROLE ... [IN DATABASE ...] SET */
	ITEM_MEMBERSHIP,			/* GRANT role TO role */
	ITEM_PARAMETER				/* GRANT ... ON PARAMETER */
} RoleItemKind;

/* One unit of the script: what pull_roles reports one row for */
typedef struct RoleItem
{
	RoleItemKind kind;
	char	   *rolname;		/* the row's role; of a membership, the member */
	char	   *what;			/* "comment", "setting work_mem"...; NULL for
								 * the role itself */
	int			nstmts;
	const char *sqls[2];
	NodeTag		tags[2];
	char	   *object;			/* membership: the granted role; parameter and
								 * setting: the parameter */
	char	   *privilege;		/* parameter: SET or ALTER SYSTEM */
	char	   *sql_no_admin;	/* membership with admin option: the GRANT
								 * without it */
} RoleItem;

/* What is done with one unit, decided on the target */
typedef enum RoleVerdict
{
	VERDICT_RUN,				/* run its statements */
	VERDICT_RUN_NO_ADMIN,		/* run sql_no_admin instead */
	VERDICT_HIDDEN,				/* of a role this run did not create: not run,
								 * no row */
	VERDICT_LEFT,				/* not run, it exists: a row says so */
	VERDICT_REFUSED				/* not run: a row says why and how to allow it */
} RoleVerdict;

/* The whole script, and how it was read */
typedef struct RoleScript
{
	List	   *items;
	bool		passwords;		/* could the source login read pg_authid? */
	char	   *source_login;
} RoleScript;

/* One row of pull_roles' result */
typedef struct RoleResult
{
	char	   *rolname;
	char	   *action;
} RoleResult;

/* State of a pull_roles run, passed through tsm_replay_rolled_back() */
typedef struct PullState
{
	RoleScript *script;
	bool		dry_run;
	const TsmConsent *consent;	/* memberships etc. the caller allowed */
	List	   *results;		/* of RoleResult */
} PullState;

/* the oid of the bootstrap superuser, on every version */
#define SOURCE_BOOTSTRAP_OID "10"

static const char *const login_sql =
"SELECT pg_catalog.has_table_privilege('pg_catalog.pg_authid', 'SELECT'),"
"       CURRENT_USER";

/* dumpRoles(); %s: password column, catalog */
static const char *const roles_query =
"SELECT a.rolname, a.rolinherit, a.rolcreaterole, a.rolcreatedb,"
"       a.rolcanlogin, a.rolconnlimit, %s, a.rolvaliduntil,"
"       pg_catalog.shobj_description(a.oid, 'pg_authid')"
"  FROM pg_catalog.%s a"
" WHERE a.rolname OPERATOR(pg_catalog.!~) '^pg_'"
"   AND a.oid OPERATOR(pg_catalog.<>) " SOURCE_BOOTSTRAP_OID
" ORDER BY a.rolname";

/* buildShSecLabels() of dumpRoles() */
static const char *const labels_query =
"SELECT r.rolname, l.provider, l.label"
"  FROM pg_catalog.pg_shseclabel l"
"  JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) l.objoid"
" WHERE l.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_authid'::pg_catalog.regclass"
"   AND r.rolname OPERATOR(pg_catalog.!~) '^pg_'"
"   AND r.oid OPERATOR(pg_catalog.<>) " SOURCE_BOOTSTRAP_OID
" ORDER BY 1, 2";

/* dumpUserConfig(), then the settings IN DATABASE <the source database> */
static const char *const settings_query =
"SELECT r.rolname, s.setdatabase OPERATOR(pg_catalog.<>) 0, c.item"
"  FROM pg_catalog.pg_db_role_setting s"
"  JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) s.setrole,"
"       LATERAL pg_catalog.unnest(s.setconfig) WITH ORDINALITY c(item, n)"
" WHERE r.rolname OPERATOR(pg_catalog.!~) '^pg_'"
"   AND r.oid OPERATOR(pg_catalog.<>) " SOURCE_BOOTSTRAP_OID
"   AND (s.setdatabase OPERATOR(pg_catalog.=) 0"
"        OR s.setdatabase OPERATOR(pg_catalog.=)"
"           (SELECT d.oid FROM pg_catalog.pg_database d"
"             WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()))"
" ORDER BY 2, 1, c.n";

/* dumpRoleMembership() before 16: one row per role and member */
static const char *const members_query_15 =
"SELECT ur.rolname, um.rolname, a.admin_option, NULL, NULL"
"  FROM pg_catalog.pg_auth_members a"
"  JOIN pg_catalog.pg_roles ur ON ur.oid OPERATOR(pg_catalog.=) a.roleid"
"  JOIN pg_catalog.pg_roles um ON um.oid OPERATOR(pg_catalog.=) a.member"
" WHERE NOT (ur.rolname OPERATOR(pg_catalog.~) '^pg_'"
"            AND um.rolname OPERATOR(pg_catalog.~) '^pg_')"
"   AND a.roleid OPERATOR(pg_catalog.<>) " SOURCE_BOOTSTRAP_OID
"   AND a.member OPERATOR(pg_catalog.<>) " SOURCE_BOOTSTRAP_OID
" ORDER BY 1, 2";

/*
 * 16 and later keep one grant per grantor, with INHERIT and SET options.
 * Without GRANTED BY the grants of one role to one member become one,
 * with each option granted if any grantor granted it.
 */
static const char *const members_query_16 =
"SELECT ur.rolname, um.rolname, pg_catalog.bool_or(a.admin_option),"
"       pg_catalog.bool_or(a.inherit_option), pg_catalog.bool_or(a.set_option)"
"  FROM pg_catalog.pg_auth_members a"
"  JOIN pg_catalog.pg_roles ur ON ur.oid OPERATOR(pg_catalog.=) a.roleid"
"  JOIN pg_catalog.pg_roles um ON um.oid OPERATOR(pg_catalog.=) a.member"
" WHERE NOT (ur.rolname OPERATOR(pg_catalog.~) '^pg_'"
"            AND um.rolname OPERATOR(pg_catalog.~) '^pg_')"
"   AND a.roleid OPERATOR(pg_catalog.<>) " SOURCE_BOOTSTRAP_OID
"   AND a.member OPERATOR(pg_catalog.<>) " SOURCE_BOOTSTRAP_OID
" GROUP BY 1, 2"
" ORDER BY 1, 2";

/* dumpRoleGUCPrivs(), 15 and later; a NULL role is PUBLIC */
static const char *const parameters_query =
"SELECT p.parname, a.privilege_type, a.is_grantable, r.rolname"
"  FROM pg_catalog.pg_parameter_acl p,"
"       LATERAL pg_catalog.aclexplode(p.paracl) a"
"  LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee"
" WHERE a.grantee OPERATOR(pg_catalog.<>) " SOURCE_BOOTSTRAP_OID
" ORDER BY 1, 4, 2";

/* on the target */
static const char *const membership_exists_sql =
"SELECT true FROM pg_catalog.pg_auth_members a"
"  JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.roleid"
"  JOIN pg_catalog.pg_roles m ON m.oid OPERATOR(pg_catalog.=) a.member"
" WHERE r.rolname OPERATOR(pg_catalog.=) $1"
"   AND m.rolname OPERATOR(pg_catalog.=) $2"
" LIMIT 1";

static const char *const parameter_grant_exists_sql =
"SELECT true FROM pg_catalog.pg_parameter_acl p,"
"       LATERAL pg_catalog.aclexplode(p.paracl) a"
" WHERE p.parname OPERATOR(pg_catalog.=) $1"
"   AND a.privilege_type OPERATOR(pg_catalog.=) %s"
"   AND a.grantee OPERATOR(pg_catalog.=) COALESCE("
"       (SELECT r.oid FROM pg_catalog.pg_roles r"
"         WHERE r.rolname OPERATOR(pg_catalog.=) $2), 0::pg_catalog.oid)"
" LIMIT 1";

/* on the target: a parameter's context, "user" when anyone may set it */
static const char *const setting_context_sql =
"SELECT s.context FROM pg_catalog.pg_settings s"
" WHERE s.name OPERATOR(pg_catalog.=) pg_catalog.lower($1)";

/* failures of one unit that skip it instead of ending the run */
static const int role_skip_codes[] = {
	ERRCODE_INSUFFICIENT_PRIVILEGE, /* a CREATEROLE-only caller */
	ERRCODE_INVALID_GRANT_OPERATION,	/* circular membership */
	ERRCODE_UNDEFINED_OBJECT,	/* unknown parameter, role not created */
	ERRCODE_INVALID_PARAMETER_VALUE,	/* a setting the target rejects, a
										 * label provider it lacks */
	ERRCODE_INVALID_NAME,		/* a parameter name the target rejects */
	ERRCODE_DUPLICATE_OBJECT,	/* created meanwhile by someone else */
	0
};

static RoleScript *read_roles(TsmSource *src, const TsmConsent *consent);
static RoleVerdict judge(const RoleItem *item, const TsmConsent *consent,
						 HTAB *created, char **action);
static char *foreign_role(const char *rolname);
static char *allow_hint(const char *word, const char *verb);
static HTAB *new_role_set(void);
static bool in_role_set(HTAB *set, const char *rolname);
static void add_to_role_set(HTAB *set, const char *rolname);
static char *comment_line(const char *why, const char *sql);
static const char *source_name(const TsmRows *rows, int r, int c, const char *what);
static RoleItem *new_item(RoleScript *script, RoleItemKind kind,
						  const char *rolname, char *what);
static void add_item_stmt(RoleItem *item, char *sql, NodeTag tag);
static char *role_attributes_sql(const char *rolname, const TsmRows *rows, int r,
								 bool passwords, bool createrole);
static char *setting_sql(const char *rolname, const char *dbname,
						 const char *item, char **guc);
static void pull_roles_run(void *arg);
static char *outcome(const RoleItem *item, const char *verb, bool dry_run);
static char *membership_sql(const char *role, const char *member, bool admin,
							int version, const TsmRows *members, int r);
static bool is_true(const char *value);

/*
 * tsmigrate.roles_sql(source text)
 *		The sanitized statements of pg_dumpall --roles-only, one per row.
 *
 * What pull_roles would not run, with nothing allowed, on this target as it
 * is now, is shown as comments that say why: a role that exists and its
 * statements, a membership in a role that this run would not create, a
 * parameter privilege, the CREATEROLE attribute, a setting only a superuser
 * may make.  Piped into psql, the script does what pull_roles would do.
 */
Datum
tsmigrate_roles_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TsmConsent *consent = tsm_consent_parse(NULL);
	RoleScript *script = read_roles(tsm_source_from_arg(fcinfo, 0), consent);
	HTAB	   *created = new_role_set();
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	foreach(lc, script->items)
	{
		RoleItem   *item = (RoleItem *) lfirst(lc);
		char	   *action = NULL;
		RoleVerdict verdict;
		List	   *lines = NIL;
		ListCell   *lc2;
		int			i;

		CHECK_FOR_INTERRUPTS();

		verdict = judge(item, consent, created, &action);
		switch (verdict)
		{
			case VERDICT_RUN:
				if (item->kind == ITEM_ROLE)
					add_to_role_set(created, item->rolname);
				for (i = 0; i < item->nstmts; i++)
					lines = lappend(lines, pstrdup(item->sqls[i]));
				break;
			case VERDICT_RUN_NO_ADMIN:
				lines = lappend(lines, item->sql_no_admin);
				break;
			case VERDICT_HIDDEN:
				/* a refused CREATEROLE of a role that exists: nothing to say */
				action = psprintf("role %s is not created by this run",
								  quote_identifier(item->rolname));
				for (i = 0; i < item->nstmts; i++)
					lines = lappend(lines, comment_line(action, item->sqls[i]));
				break;
			case VERDICT_LEFT:
			case VERDICT_REFUSED:
				if (item->nstmts == 0)
					lines = lappend(lines,
									comment_line(psprintf("role %s",
														  quote_identifier(item->rolname)),
												 action));
				for (i = 0; i < item->nstmts; i++)
					lines = lappend(lines, comment_line(action, item->sqls[i]));
				break;
		}

		foreach(lc2, lines)
		{
			Datum		value = CStringGetTextDatum((char *) lfirst(lc2));
			bool		isnull = false;

			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 &value, &isnull);
		}
	}
	hash_destroy(created);
	return (Datum) 0;
}

/*
 * tsm_pull_roles
 *		pull_roles' work for migrate: the source's roles created here, with
 *		what "consent" allows; counts of the units created, of those left as
 *		they were, and of those skipped.
 */
void
tsm_pull_roles(TsmSource *src, TsmConsent *consent, int *created,
			   int *existing, int *skipped)
{
	PullState	state;
	ListCell   *lc;

	state.consent = consent;
	state.script = read_roles(src, consent);
	state.dry_run = false;
	state.results = NIL;
	pull_roles_run(&state);

	*created = *existing = *skipped = 0;
	foreach(lc, state.results)
	{
		RoleResult *res = (RoleResult *) lfirst(lc);

		if (strcmp(res->action, "created") == 0)
			(*created)++;
		else if (strcmp(res->action, "exists (left as it is)") == 0)
			(*existing)++;
		if (strstr(res->action, "skipped") != NULL)
			(*skipped)++;
	}
}

/*
 * tsmigrate.pull_roles(source text, dry_run boolean, allow text[])
 *		Create the source's roles on the target; one row per unit.
 */
Datum
tsmigrate_pull_roles(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	PullState	state;
	ListCell   *lc;

	if (PG_NARGS() > 1 && PG_ARGISNULL(1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("dry_run must not be null"));

	state.consent = tsm_consent_from_arg(fcinfo, 2);
	state.script = read_roles(tsm_source_from_arg(fcinfo, 0), state.consent);
	state.dry_run = PG_NARGS() > 1 && PG_GETARG_BOOL(1);
	state.results = NIL;

	/* rows are kept in a List: a tuplestore must not live in a subxact */
	if (state.dry_run)
		tsm_replay_rolled_back(pull_roles_run, &state);
	else
		pull_roles_run(&state);

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	foreach(lc, state.results)
	{
		RoleResult *res = (RoleResult *) lfirst(lc);
		Datum		values[2];
		bool		nulls[2] = {false, false};
		NameData	name;

		namestrcpy(&name, res->rolname);
		values[0] = NameGetDatum(&name);
		values[1] = CStringGetTextDatum(res->action);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * Replay the script, filling state->results.  Runs inside a subtransaction
 * that is rolled back when this is a dry run.
 */
static void
pull_roles_run(void *arg)
{
	PullState  *state = (PullState *) arg;
	MemoryContext callercxt = CurrentMemoryContext;
	MemoryContext itemcxt;
	HTAB	   *created;
	ListCell   *lc;

	/* the roles this run created: only they get comments, settings, members */
	created = new_role_set();

	itemcxt = AllocSetContextCreate(CurrentMemoryContext,
									"tsmigrate pull_roles item",
									ALLOCSET_DEFAULT_SIZES);

	foreach(lc, state->script->items)
	{
		RoleItem   *item = (RoleItem *) lfirst(lc);
		char	   *reason = NULL;
		char	   *action = NULL;
		bool		report = true;

		CHECK_FOR_INTERRUPTS();

		MemoryContextSwitchTo(itemcxt);

		switch (judge(item, state->consent, created, &action))
		{
			case VERDICT_HIDDEN:
				report = false;
				break;

			case VERDICT_LEFT:
			case VERDICT_REFUSED:
				break;

			case VERDICT_RUN_NO_ADMIN:
				{
					const char *sql = item->sql_no_admin;

					reason = tsm_replay_guarded(1, &sql, item->tags, "role",
												item->rolname, role_skip_codes);
					if (reason == NULL)
						action = psprintf("membership in %s %s, without admin option (not granted in a role that this run did not create)",
										  quote_identifier(item->object),
										  state->dry_run ? "would be created" : "created");
				}
				break;

			case VERDICT_RUN:
				if (item->kind == ITEM_PARAMETER)
				{
					char	   *check = psprintf(parameter_grant_exists_sql,
												 quote_literal_cstr(item->privilege));
					const char *grantee = item->rolname;

					if (strcmp(item->rolname, "public") == 0)
						grantee = "";	/* no role has that name: PUBLIC */
					reason = tsm_replay_guarded(item->nstmts, item->sqls,
												item->tags, "parameter",
												item->object, role_skip_codes);

					/* GRANT grants what it can and only warns about the rest */
					if (reason == NULL && !tsm_local_has_row(check, item->object, grantee))
						reason = psprintf("no privileges could be granted on parameter \"%s\"",
										  item->object);
					break;
				}
				reason = tsm_replay_guarded(item->nstmts, item->sqls, item->tags,
											"role", item->rolname,
											role_skip_codes);
				if (reason == NULL && item->kind == ITEM_ROLE)
					add_to_role_set(created, item->rolname);
				break;
		}

		MemoryContextSwitchTo(callercxt);
		if (report)
		{
			RoleResult *res = palloc(sizeof(RoleResult));

			res->rolname = pstrdup(item->rolname);
			if (action != NULL)
				res->action = pstrdup(action);
			else if (reason != NULL)
				res->action = item->what ?
					psprintf("%s skipped: %s", item->what, reason) :
					psprintf("skipped: %s", reason);
			else
				res->action = outcome(item, "created", state->dry_run);
			state->results = lappend(state->results, res);
		}
		MemoryContextReset(itemcxt);
	}

	MemoryContextDelete(itemcxt);
	hash_destroy(created);
}

/*
 * judge
 *		What to do with one unit on this target, given the roles that this
 *		run created (or, for roles_sql, would create) so far.
 *
 * For VERDICT_LEFT and VERDICT_REFUSED, *action is the row's action: what
 * is left or skipped, why, and for a refusal which "allow" element would
 * let it through.
 */
static RoleVerdict
judge(const RoleItem *item, const TsmConsent *consent, HTAB *created,
	  char **action)
{
	*action = NULL;

	switch (item->kind)
	{
		case ITEM_ROLE:
			/* a real source never sends these; a fake one might */
			if (IsReservedName(item->rolname))
			{
				*action = psprintf("skipped: role name %s is reserved for predefined roles",
								   quote_identifier(item->rolname));
				return VERDICT_REFUSED;
			}
			if (OidIsValid(get_role_oid(item->rolname, true)))
			{
				*action = "exists (left as it is)";
				return VERDICT_LEFT;
			}
			return VERDICT_RUN;

		case ITEM_CREATEROLE:
			if (!in_role_set(created, item->rolname))
				return VERDICT_HIDDEN;
			*action = psprintf("skipped: attribute CREATEROLE (%s)",
							   allow_hint("createrole", "copy it"));
			return VERDICT_REFUSED;

		case ITEM_COMMENT:
			if (!in_role_set(created, item->rolname))
				return VERDICT_HIDDEN;
			return VERDICT_RUN;

		case ITEM_SETTING:
			{
				char	   *context;

				if (!in_role_set(created, item->rolname))
					return VERDICT_HIDDEN;
				if (tsm_consent_allows_setting(consent, item->object))
					return VERDICT_RUN;

				/*
				 * A role's settings apply at its login with the rights of
				 * whoever made them: only what the role could set itself. A
				 * parameter this server does not know may become
				 * superuser-only when its module loads.
				 */
				context = tsm_local_query_value(setting_context_sql,
												item->object, NULL);
				if (context != NULL && strcmp(context, "user") == 0)
					return VERDICT_RUN;
				*action = psprintf("skipped: %s, %s (%s)", item->what,
								   context == NULL ?
								   "a parameter this server does not know" :
								   "a parameter that only a superuser may set",
								   allow_hint(psprintf("setting:%s", item->object),
											  "set it"));
				return VERDICT_REFUSED;
			}

		case ITEM_MEMBERSHIP:
			if (tsm_local_has_row(membership_exists_sql, item->object, item->rolname))
			{
				*action = psprintf("%s exists (left as it is)", item->what);
				return VERDICT_LEFT;
			}
			if (in_role_set(created, item->object))
				return VERDICT_RUN;
			if (!OidIsValid(get_role_oid(item->object, true)))
			{
				*action = psprintf("skipped: %s: role %s was not created",
								   item->what, quote_identifier(item->object));
				return VERDICT_REFUSED;
			}
			if (tsm_consent_allows_membership(consent, item->object))
				return item->sql_no_admin != NULL ? VERDICT_RUN_NO_ADMIN : VERDICT_RUN;
			*action = psprintf("skipped: %s, %s (%s)", item->what,
							   foreign_role(item->object),
							   allow_hint(psprintf("membership:%s", item->object),
										  "grant it"));
			return VERDICT_REFUSED;

		case ITEM_PARAMETER:
			{
				char	   *check = psprintf(parameter_grant_exists_sql,
											 quote_literal_cstr(item->privilege));
				const char *grantee = item->rolname;

				if (strcmp(item->rolname, "public") == 0)
					grantee = "";	/* no role has that name: PUBLIC */
				if (tsm_local_has_row(check, item->object, grantee))
				{
					*action = psprintf("%s exists (left as it is)", item->what);
					return VERDICT_LEFT;
				}
				if (tsm_consent_allows(consent, TSM_ALLOW_PARAMETER_PRIVILEGES))
					return VERDICT_RUN;
				*action = psprintf("skipped: %s (%s)", item->what,
								   allow_hint("parameter_privileges", "grant it"));
				return VERDICT_REFUSED;
			}
	}
	return VERDICT_HIDDEN;		/* keep compiler quiet */
}

/*
 * What an existing role that the run did not create is, for a refused
 * membership: said from the target's catalogs.
 */
static char *
foreign_role(const char *rolname)
{
	Oid			roleid = get_role_oid(rolname, false);

	if (roleid == BOOTSTRAP_SUPERUSERID)
		return "the target's bootstrap superuser";
	if (roleid < FirstNormalObjectId || IsReservedName(rolname))
		return "a predefined role";
	if (superuser_arg(roleid))
		return "a superuser that this run did not create";
	return "a role that this run did not create";
}

/* "allow => ARRAY['word'] to verb", the word quoted as a literal */
static char *
allow_hint(const char *word, const char *verb)
{
	return psprintf("allow => ARRAY[%s] to %s", quote_literal_cstr(word), verb);
}

/* A set of role names */
static HTAB *
new_role_set(void)
{
	HASHCTL		hctl;

	hctl.keysize = NAMEDATALEN;
	hctl.entrysize = NAMEDATALEN;
	hctl.hcxt = CurrentMemoryContext;
	return hash_create("tsmigrate created roles", 64, &hctl,
					   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/* names are shorter than NAMEDATALEN: source_name() saw to it */
static bool
in_role_set(HTAB *set, const char *rolname)
{
	char		key[NAMEDATALEN];

	strlcpy(key, rolname, NAMEDATALEN);
	return hash_search(set, key, HASH_FIND, NULL) != NULL;
}

static void
add_to_role_set(HTAB *set, const char *rolname)
{
	char		key[NAMEDATALEN];

	strlcpy(key, rolname, NAMEDATALEN);
	hash_search(set, key, HASH_ENTER, NULL);
}

/*
 * "-- why: sql" on one line.  Source names may hold line breaks, which
 * would end the comment and make the rest of it a statement: they are
 * written as \n and \r.
 */
static char *
comment_line(const char *why, const char *sql)
{
	StringInfoData buf;
	const char *parts[2] = {why, sql};
	int			i;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "-- ");
	for (i = 0; i < 2; i++)
	{
		const char *p;

		if (i == 1)
			appendStringInfoString(&buf, ": ");
		for (p = parts[i]; *p; p++)
		{
			if (*p == '\n')
				appendStringInfoString(&buf, "\\n");
			else if (*p == '\r')
				appendStringInfoString(&buf, "\\r");
			else
				appendStringInfoChar(&buf, *p);
		}
	}
	return buf.data;
}

/*
 * "created", or "would be created" in a dry run, after what the item is.
 */
static char *
outcome(const RoleItem *item, const char *verb, bool dry_run)
{
	const char *said = dry_run ? psprintf("would be %s", verb) : verb;

	if (item->what == NULL)
		return pstrdup(said);
	return psprintf("%s %s", item->what, said);
}

/*
 * Read the source's roles and build the script.
 */
static RoleScript *
read_roles(TsmSource *src, const TsmConsent *consent)
{
	RoleScript *script = palloc0(sizeof(RoleScript));
	PGconn	   *conn;
	TsmRows    *login;
	TsmRows    *roles;
	TsmRows    *labels;
	TsmRows    *settings;
	TsmRows    *members;
	TsmRows    *parameters = NULL;
	int			version;
	char	   *dbname = get_database_name(MyDatabaseId);
	int			r;
	int			l;

	conn = tsm_conn_open(src);
	version = tsm_server_version_num(conn);
	login = tsm_query(conn, login_sql, 0, NULL, 2, "the source's login");
	if (login->nrows != 1 || tsm_rows_value(login, 0, 1) == NULL)
		ereport(ERROR,
				errcode(ERRCODE_DATA_EXCEPTION),
				errmsg("source returned no current user"));
	script->passwords = is_true(tsm_rows_value(login, 0, 0));
	script->source_login = pstrdup(tsm_rows_value(login, 0, 1));

	if (script->passwords)
		roles = tsm_query(conn, psprintf(roles_query, "a.rolpassword", "pg_authid"),
						  0, NULL, 9, "the source's roles");
	else
		roles = tsm_query(conn, psprintf(roles_query, "NULL::text", "pg_roles"),
						  0, NULL, 9, "the source's roles");
	labels = tsm_query(conn, labels_query, 0, NULL, 3,
					   "the security labels of the source's roles");
	settings = tsm_query(conn, settings_query, 0, NULL, 3,
						 "the settings of the source's roles");
	members = tsm_query(conn, version >= 160000 ? members_query_16 : members_query_15,
						0, NULL, 5, "the source's role memberships");
	if (version >= 150000)
		parameters = tsm_query(conn, parameters_query, 0, NULL, 4,
							   "the source's privileges on parameters");
	tsm_conn_close(conn);

	if (!script->passwords)
		ereport(NOTICE,
				errmsg("password hashes of the source's roles are not copied"),
				errdetail("Source role \"%s\" cannot read pg_catalog.pg_authid, which only superusers can read.",
						  script->source_login),
				errhint("Connect to the source as a superuser to copy the password hashes, or set the passwords on the target afterwards."));

	/* roles, each with its comment and security labels */
	for (r = 0; r < roles->nrows; r++)
	{
		const char *rolname = source_name(roles, r, 0, "role");
		const char *comment = tsm_rows_value(roles, r, 8);
		bool		createrole = is_true(tsm_rows_value(roles, r, 2));
		bool		allow_createrole = tsm_consent_allows(consent, TSM_ALLOW_CREATEROLE);
		RoleItem   *item;

		CHECK_FOR_INTERRUPTS();

		item = new_item(script, ITEM_ROLE, rolname, NULL);
		add_item_stmt(item, psprintf("CREATE ROLE %s;", quote_identifier(rolname)),
					  T_CreateRoleStmt);
		add_item_stmt(item, role_attributes_sql(rolname, roles, r, script->passwords,
												createrole && allow_createrole),
					  T_AlterRoleStmt);
		if (createrole && !allow_createrole)
			new_item(script, ITEM_CREATEROLE, rolname, pstrdup("attribute CREATEROLE"));

		if (comment != NULL)
		{
			item = new_item(script, ITEM_COMMENT, rolname, pstrdup("comment"));
			add_item_stmt(item, psprintf("COMMENT ON ROLE %s IS %s;",
										 quote_identifier(rolname),
										 quote_literal_cstr(comment)),
						  T_CommentStmt);
		}

		for (l = 0; l < labels->nrows; l++)
		{
			const char *provider = tsm_rows_value(labels, l, 1);
			const char *label = tsm_rows_value(labels, l, 2);

			if (tsm_rows_value(labels, l, 0) == NULL || provider == NULL ||
				label == NULL || strcmp(tsm_rows_value(labels, l, 0), rolname) != 0)
				continue;
			item = new_item(script, ITEM_COMMENT, rolname,
							psprintf("security label for %s", quote_identifier(provider)));
			add_item_stmt(item, psprintf("SECURITY LABEL FOR %s ON ROLE %s IS %s;",
										 quote_identifier(provider),
										 quote_identifier(rolname),
										 quote_literal_cstr(label)),
						  T_SecLabelStmt);
		}
	}

	/* settings: of the role, then IN DATABASE <the source database> */
	for (r = 0; r < settings->nrows; r++)
	{
		const char *rolname = source_name(settings, r, 0, "role");
		bool		indb = is_true(tsm_rows_value(settings, r, 1));
		const char *setting = tsm_rows_value(settings, r, 2);
		char	   *guc;
		char	   *sql;
		RoleItem   *item;

		if (setting == NULL)
			continue;
		sql = setting_sql(rolname, indb ? dbname : NULL, setting, &guc);
		if (sql == NULL)
			continue;			/* no "=": pg_dumpall ignores it too */
		item = new_item(script, ITEM_SETTING, rolname,
						indb ? psprintf("setting %s in database %s", guc,
										quote_identifier(dbname)) :
						psprintf("setting %s", guc));
		item->object = guc;
		add_item_stmt(item, sql, T_AlterRoleSetStmt);
	}

	/* memberships, never GRANTED BY */
	for (r = 0; r < members->nrows; r++)
	{
		const char *role = source_name(members, r, 0, "role");
		const char *member = source_name(members, r, 1, "role");
		bool		admin = is_true(tsm_rows_value(members, r, 2));
		RoleItem   *item;

		item = new_item(script, ITEM_MEMBERSHIP, member,
						psprintf("membership in %s%s", quote_identifier(role),
								 admin ? " with admin option" : ""));
		item->object = pstrdup(role);
		add_item_stmt(item, membership_sql(role, member, admin, version, members, r),
					  T_GrantRoleStmt);
		if (admin)
			item->sql_no_admin = membership_sql(role, member, false, version,
												members, r);
	}

	/* privileges on parameters (GRANT SET ON PARAMETER ...) */
	for (r = 0; parameters != NULL && r < parameters->nrows; r++)
	{
		const char *parname = source_name(parameters, r, 0, "parameter");
		const char *privilege = tsm_rows_value(parameters, r, 1);
		bool		grantable = is_true(tsm_rows_value(parameters, r, 2));
		const char *grantee = tsm_rows_value(parameters, r, 3);
		RoleItem   *item;

		/* aclexplode() names only these two for parameters */
		if (privilege == NULL ||
			(strcmp(privilege, "SET") != 0 && strcmp(privilege, "ALTER SYSTEM") != 0))
			ereport(ERROR,
					errcode(ERRCODE_DATA_EXCEPTION),
					errmsg("source returned an unexpected privilege on parameter \"%s\"",
						   parname));
		if (grantee != NULL)
			grantee = source_name(parameters, r, 3, "role");

		item = new_item(script, ITEM_PARAMETER, grantee ? grantee : "public",
						psprintf("privilege %s on parameter %s", privilege,
								 quote_identifier(parname)));
		item->object = pstrdup(parname);
		item->privilege = pstrdup(privilege);
		add_item_stmt(item, psprintf("GRANT %s ON PARAMETER %s TO %s%s;",
									 privilege, quote_identifier(parname),
									 grantee ? quote_identifier(grantee) : "PUBLIC",
									 grantable ? " WITH GRANT OPTION" : ""),
					  T_GrantStmt);
	}

	return script;
}

static RoleItem *
new_item(RoleScript *script, RoleItemKind kind, const char *rolname, char *what)
{
	RoleItem   *item = palloc0(sizeof(RoleItem));

	item->kind = kind;
	item->rolname = pstrdup(rolname);
	item->what = what;
	script->items = lappend(script->items, item);
	return item;
}

/*
 * GRANT role TO member as pg_dumpall writes it, with or without ADMIN
 * OPTION; from a source of 16 or later with its INHERIT and SET options
 * (from the row r of "members"), as the target is 16 or later too.
 */
static char *
membership_sql(const char *role, const char *member, bool admin, int version,
			   const TsmRows *members, int r)
{
	StringInfoData sql;
	StringInfoData options;

	initStringInfo(&sql);
	initStringInfo(&options);
	appendStringInfo(&sql, "GRANT %s TO %s",
					 quote_identifier(role), quote_identifier(member));
	if (admin)
		appendStringInfoString(&options, "ADMIN OPTION");
	if (version >= 160000)
	{
		appendStringInfo(&options, "%sINHERIT %s",
						 options.len > 0 ? ", " : "",
						 is_true(tsm_rows_value(members, r, 3)) ? "TRUE" : "FALSE");
		if (!is_true(tsm_rows_value(members, r, 4)))
			appendStringInfoString(&options, ", SET FALSE");
	}
	if (options.len > 0)
		appendStringInfo(&sql, " WITH %s", options.data);
	appendStringInfoChar(&sql, ';');
	return sql.data;
}

/*
 * A name read from the source: not NULL, and short enough that the
 * target does not truncate it into another role's name.
 */
static const char *
source_name(const TsmRows *rows, int r, int c, const char *what)
{
	const char *name = tsm_rows_value(rows, r, c);

	if (name == NULL || name[0] == '\0' || strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				errcode(ERRCODE_DATA_EXCEPTION),
				errmsg("source returned an invalid %s name", what),
				errdetail("A %s name must be between 1 and %d bytes long.",
						  what, NAMEDATALEN - 1));
	return name;
}

static void
add_item_stmt(RoleItem *item, char *sql, NodeTag tag)
{
	Assert(item->nstmts < lengthof(item->sqls));
	item->sqls[item->nstmts] = sql;
	item->tags[item->nstmts] = tag;
	item->nstmts++;
}

/*
 * ALTER ROLE ... WITH as dumpRoles() writes it, without SUPERUSER,
 * REPLICATION and BYPASSRLS in either form, and with CREATEROLE only when
 * "createrole" (the source has it and the caller allowed it).
 */
static char *
role_attributes_sql(const char *rolname, const TsmRows *rows, int r,
					bool passwords, bool createrole)
{
	StringInfoData buf;
	const char *connlimit = tsm_rows_value(rows, r, 5);
	const char *password = tsm_rows_value(rows, r, 6);
	const char *validuntil = tsm_rows_value(rows, r, 7);

	initStringInfo(&buf);
	appendStringInfo(&buf, "ALTER ROLE %s WITH", quote_identifier(rolname));
	appendStringInfoString(&buf, is_true(tsm_rows_value(rows, r, 1)) ?
						   " INHERIT" : " NOINHERIT");
	appendStringInfoString(&buf, createrole ? " CREATEROLE" : " NOCREATEROLE");
	appendStringInfoString(&buf, is_true(tsm_rows_value(rows, r, 3)) ?
						   " CREATEDB" : " NOCREATEDB");
	appendStringInfoString(&buf, is_true(tsm_rows_value(rows, r, 4)) ?
						   " LOGIN" : " NOLOGIN");
	if (connlimit != NULL && strcmp(connlimit, "-1") != 0)
		appendStringInfo(&buf, " CONNECTION LIMIT %d", pg_strtoint32(connlimit));
	if (passwords && password != NULL)
		appendStringInfo(&buf, " PASSWORD %s", quote_literal_cstr(password));
	if (validuntil != NULL)
		appendStringInfo(&buf, " VALID UNTIL %s", quote_literal_cstr(validuntil));
	appendStringInfoChar(&buf, ';');
	return buf.data;
}

/*
 * ALTER ROLE ... SET for one "name=value" item of pg_db_role_setting, as
 * makeAlterConfigCommand() writes it: list parameters (search_path...)
 * split into one literal per element, others one literal.  Whether a
 * parameter is a list is asked of this server, which knows more of them
 * than pg_dump's fixed list.  Returns NULL for an item without "=".
 */
static char *
setting_sql(const char *rolname, const char *dbname, const char *item,
			char **guc)
{
	StringInfoData buf;
	char	   *name = pstrdup(item);
	char	   *value = strchr(name, '=');

	if (value == NULL)
		return NULL;
	*value++ = '\0';
	*guc = name;

	initStringInfo(&buf);
	appendStringInfo(&buf, "ALTER ROLE %s ", quote_identifier(rolname));
	if (dbname != NULL)
		appendStringInfo(&buf, "IN DATABASE %s ", quote_identifier(dbname));
	appendStringInfo(&buf, "SET %s TO ", quote_identifier(name));

	if (GetConfigOptionFlags(name, true) & GUC_LIST_QUOTE)
	{
		List	   *elements;
		ListCell   *lc;

		if (!SplitGUCList(pstrdup(value), ',', &elements))
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("invalid list syntax in setting \"%s\" of source role \"%s\"",
						   name, rolname));
		if (elements == NIL)
			appendStringInfoString(&buf, "''");
		foreach(lc, elements)
		{
			if (lc != list_head(elements))
				appendStringInfoString(&buf, ", ");
			appendStringInfoString(&buf, quote_literal_cstr((char *) lfirst(lc)));
		}
	}
	else
		appendStringInfoString(&buf, quote_literal_cstr(value));
	appendStringInfoChar(&buf, ';');
	return buf.data;
}

static bool
is_true(const char *value)
{
	return value != NULL && strcmp(value, "t") == 0;
}
