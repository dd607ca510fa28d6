/*-------------------------------------------------------------------------
 *
 * replay_object.c
 *	  One object of the source's schema, checked and run on the target
 *
 * Every statement that schema/ generated is parsed here, on the target,
 * before it runs: it must be exactly one statement, one of those that the
 * object's kind is made of, and it must not be a form that replaces or
 * silently skips an existing object (OR REPLACE, IF NOT EXISTS) or one
 * that does more than creating.  What it may do beyond creating the
 * source's own objects is decided by replay_check.c.  Then it runs through
 * SPI, as the caller, under the settings of a pg_dump script
 * (tsm_replay_settings), with executor.c's parse of one statement and its
 * error context.  pull_schema (replay.c), its post-data workers
 * (replay_parallel.c) and migrate's index builds during the copy
 * (replay_early.c) all replay objects through tsm_replay_object().
 *
 * IDENTIFICATION
 *	  src/replay/replay_object.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_publication.h"
#include "commands/defrem.h"
#include "commands/event_trigger.h"
#include "commands/policy.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "rewrite/rewriteSupport.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "tsmigrate.h"
#include "replay/replay.h"
#include "schema/schema.h"
#include "target/target.h"
#include "workers/workers.h"

/*
 * What pg_dump sets at the top of its script: every generated name is
 * qualified, function bodies may refer to objects created later, literals
 * are standard strings, and a table without USING is heap whatever the
 * caller's default, in the default tablespace.
 */
static const char *const replay_settings[][2] = {
	{"search_path", ""},
	{"check_function_bodies", "off"},
	{"standard_conforming_strings", "on"},
	{"xmloption", "content"},
	{"default_table_access_method", "heap"},
	{"default_tablespace", ""},
};

static Node *check_statement(const TsmSchemaObject *obj, const TsmSchemaStmt *s,
							 TsmReplayGuard *guard);
static bool statement_allowed(Node *stmt);
static bool connects_not(List *options);
static void check_constraint_absent(AlterTableStmt *alter);
static bool replaces_placeholder(const TsmSchemaStmt *s, Node *stmt);
static int	execute_without_timescaledb(const char *sql);
static void replay_statement(const TsmSchemaObject *obj, const TsmSchemaStmt *s,
							 MemoryContext objcxt, TsmReplayGuard *guard);
static void replay_statement_cb(void *arg);

/* replay_statement's arguments, through tsm_replay_hiding_secrets */
typedef struct ReplayStatementArgs
{
	const TsmSchemaObject *obj;
	const TsmSchemaStmt *s;
	MemoryContext objcxt;
	TsmReplayGuard *guard;
} ReplayStatementArgs;

/*
 * statement_allowed
 *		Is this parse tree a plain creation, with nothing replaced, skipped
 *		or altered beyond what the generator writes?
 */
static bool
statement_allowed(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_CreateSchemaStmt:

			/*
			 * no AUTHORIZATION: its owner is set as any other's
			 * (schema_owners.c)
			 */
			return !((CreateSchemaStmt *) stmt)->if_not_exists &&
				((CreateSchemaStmt *) stmt)->schemaElts == NIL &&
				((CreateSchemaStmt *) stmt)->authrole == NULL;
		case T_CreateStmt:
		case T_CreateForeignTableStmt:
			return !((CreateStmt *) stmt)->if_not_exists;
		case T_CreateSeqStmt:
			return !((CreateSeqStmt *) stmt)->if_not_exists;
		case T_IndexStmt:
			return !((IndexStmt *) stmt)->if_not_exists &&
				!((IndexStmt *) stmt)->concurrent;
		case T_CreateFunctionStmt:
			return !((CreateFunctionStmt *) stmt)->replace;
		case T_CreatePLangStmt:
			/* without HANDLER, CREATE LANGUAGE is CREATE EXTENSION */
			return !((CreatePLangStmt *) stmt)->replace &&
				((CreatePLangStmt *) stmt)->plhandler != NIL;
		case T_ViewStmt:
			return !((ViewStmt *) stmt)->replace;
		case T_CreateTrigStmt:
			return !((CreateTrigStmt *) stmt)->replace;
		case T_RuleStmt:
			return !((RuleStmt *) stmt)->replace;
		case T_DefineStmt:
			return !((DefineStmt *) stmt)->replace &&
				!((DefineStmt *) stmt)->if_not_exists;
		case T_CreateStatsStmt:
			return !((CreateStatsStmt *) stmt)->if_not_exists;
		case T_CreateForeignServerStmt:
			return !((CreateForeignServerStmt *) stmt)->if_not_exists;
		case T_CreateUserMappingStmt:
			return !((CreateUserMappingStmt *) stmt)->if_not_exists;
		case T_CreateTableAsStmt:
			{
				CreateTableAsStmt *ctas = (CreateTableAsStmt *) stmt;

				return ctas->objtype == OBJECT_MATVIEW && !ctas->if_not_exists &&
					ctas->into->skipData;
			}
		case T_CreateSubscriptionStmt:
			return connects_not(((CreateSubscriptionStmt *) stmt)->options);
		case T_SecLabelStmt:
			/* a label set, not removed (IS NULL), of a named provider */
			return ((SecLabelStmt *) stmt)->provider != NULL &&
				((SecLabelStmt *) stmt)->label != NULL;
		case T_AlterOpFamilyStmt:
			return !((AlterOpFamilyStmt *) stmt)->isDrop;
		case T_GrantStmt:
			/* privileges on named objects, not ALL ... IN SCHEMA */
			return ((GrantStmt *) stmt)->targtype == ACL_TARGET_OBJECT;
		case T_AlterDomainStmt:
			return ((AlterDomainStmt *) stmt)->subtype == 'C';
		case T_AlterPublicationStmt:
			return ((AlterPublicationStmt *) stmt)->action == AP_AddObjects;
		case T_AlterTSConfigurationStmt:
			return ((AlterTSConfigurationStmt *) stmt)->kind == ALTER_TSCONFIG_ADD_MAPPING;
		case T_AlterSeqStmt:
			{
				AlterSeqStmt *seq = (AlterSeqStmt *) stmt;
				DefElem    *opt;

				if (list_length(seq->options) != 1)
					return false;
				opt = linitial_node(DefElem, seq->options);
				return strcmp(opt->defname, "owned_by") == 0;
			}
		case T_AlterTableStmt:
			{
				AlterTableStmt *alter = (AlterTableStmt *) stmt;
				AlterTableCmd *cmd;

				if (list_length(alter->cmds) != 1 || alter->missing_ok)
					return false;
				cmd = linitial_node(AlterTableCmd, alter->cmds);
				switch (cmd->subtype)
				{
					case AT_ColumnDefault:
						return cmd->def != NULL;
					case AT_SetNotNull:
					case AT_SetStorage:
					case AT_SetCompression:
					case AT_SetStatistics:
					case AT_SetOptions:
					case AT_ReplicaIdentity:
					case AT_AddConstraint:
					case AT_AttachPartition:
					case AT_AddInherit:
					case AT_ClusterOn:
					case AT_EnableRowSecurity:
					case AT_ForceRowSecurity:
					case AT_DisableTrig:
					case AT_EnableAlwaysTrig:
					case AT_EnableReplicaTrig:
					case AT_DisableRule:
					case AT_EnableAlwaysRule:
					case AT_EnableReplicaRule:
					case AT_ChangeOwner:
						return true;
					default:
						return false;
				}
			}
		default:
			return true;
	}
}

/*
 * connects_not
 *		Does a subscription with these options stay disconnected, as pg_dump
 *		writes it: connect = false, so disabled, with no slot made and no
 *		table synchronized?
 */
static bool
connects_not(List *options)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "connect") == 0)
			return !defGetBoolean(opt);
	}
	return false;
}

/*
 * replaces_placeholder
 *		CREATE OR REPLACE VIEW is allowed where the sort put a placeholder
 *		of this view before it (schema.c), and nowhere else.
 */
static bool
replaces_placeholder(const TsmSchemaStmt *s, Node *stmt)
{
	return s->replace && IsA(stmt, ViewStmt) && ((ViewStmt *) stmt)->replace;
}

/*
 * check_statement
 *		Parse a generated statement and check it: one statement, of the
 *		object's kind, doing only what the caller allowed.  Its text before
 *		the colon ("CreateTrigStmt:") is the source's claim, and not looked
 *		at.  Returns the parse tree.
 */
static Node *
check_statement(const TsmSchemaObject *obj, const TsmSchemaStmt *s,
				TsmReplayGuard *guard)
{
	Node	   *stmt = tsm_replay_parse_one(s->sql, obj->kind, obj->name, true);

	tsm_replay_check(obj, stmt, guard);
	if (!(statement_allowed(stmt) || replaces_placeholder(s, stmt)))
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("source sent a form of %s that is not replayed, for %s %s",
					   GetCommandTagName(CreateCommandTag(stmt)), obj->kind, obj->name),
				errdetail("Statements from the source create objects: they do not replace, skip or drop what exists."));
	if (IsA(stmt, AlterTableStmt))
		check_constraint_absent((AlterTableStmt *) stmt);
	return stmt;
}

/*
 * check_constraint_absent
 *		ADD CONSTRAINT of a constraint that the table already has: say so.
 *
 * Left to itself, a second primary key fails with "multiple primary keys
 * ... are not allowed" (42P16) and a second CHECK of the same name is
 * merged silently; a conflict must name the object instead, with the code
 * of a duplicate constraint name.
 */
static void
check_constraint_absent(AlterTableStmt *alter)
{
	AlterTableCmd *cmd = linitial_node(AlterTableCmd, alter->cmds);
	Constraint *con;
	Oid			relid;

	if (cmd->subtype != AT_AddConstraint || !IsA(cmd->def, Constraint))
		return;
	con = (Constraint *) cmd->def;
	if (con->conname == NULL)
		return;
	relid = RangeVarGetRelid(alter->relation, NoLock, true);
	if (OidIsValid(relid) &&
		OidIsValid(get_relation_constraint_oid(relid, con->conname, true)))
		ereport(ERROR,
				errcode(ERRCODE_DUPLICATE_OBJECT),
				errmsg("constraint \"%s\" for relation \"%s\" already exists",
					   con->conname, alter->relation->relname));
}

/*
 * tsm_replay_settings
 *		Apply the settings of a pg_dump script; "action" is GUC_ACTION_SAVE
 *		in a call that undoes them at its end, GUC_ACTION_SET in a worker.
 */
void
tsm_replay_settings(GucAction action)
{
	int			i;

	for (i = 0; i < lengthof(replay_settings); i++)
		(void) set_config_option(replay_settings[i][0], replay_settings[i][1],
								 PGC_USERSET, PGC_S_SESSION, action,
								 true, 0, false);
}

/*
 * tsm_index_builds_side_by_side
 *		For the current transaction, in a worker whose statement runs beside
 *		others: index builds sort alone, without parallel workers.
 *
 * Each of several builds at once starting parallel workers of its own only
 * adds processes to share the same cores, and each then pays for the
 * merge of its workers' sorted runs: two builds of 10M rows side by side
 * took 4.8 s alone against 5.5 s with two parallel workers each, and about
 * a sixth less CPU.  A build that has the server to itself keeps the
 * caller's max_parallel_maintenance_workers.
 */
void
tsm_index_builds_side_by_side(void)
{
	(void) set_config_option("max_parallel_maintenance_workers", "0",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
							 true, 0, false);
}

/*
 * tsm_replay_object
 *		Check and run the statements of one object, through SPI (the caller
 *		is connected), as the current user; in a dry run, check them only.
 *		"objcxt" is reset after each statement.  What the statements create
 *		is noted in "guard".
 */
void
tsm_replay_object(const TsmSchemaObject *obj, MemoryContext objcxt,
				  TsmReplayGuard *guard)
{
	TsmReplayContext ctx;
	ListCell   *sc;

	tsm_replay_context_push(&ctx, obj->kind, obj->name, true);

	foreach(sc, obj->stmts)
	{
		TsmSchemaStmt *s = lfirst(sc);

		ctx.sql = s->sql;
		if (tsm_replay_holds_secret(obj, s->sql))
		{
			/* a subscription's connection string ... (replay_secrets.c) */
			ReplayStatementArgs args = {obj, s, objcxt, guard};

			tsm_replay_hiding_secrets(s->sql, replay_statement_cb, &args);
		}
		else
			replay_statement(obj, s, objcxt, guard);
		MemoryContextReset(objcxt);
	}

	tsm_replay_context_pop(&ctx);
}

/*
 * replay_statement
 *		Check and run one statement of "obj" (see tsm_replay_object).
 */
static void
replay_statement(const TsmSchemaObject *obj, const TsmSchemaStmt *s,
				 MemoryContext objcxt, TsmReplayGuard *guard)
{
	MemoryContext oldcxt;
	Node	   *stmt;
	int			rc = 0;

	oldcxt = MemoryContextSwitchTo(objcxt);
	stmt = check_statement(obj, s, guard);

	/*
	 * an owner or grantee that the target lacks: skipped (schema_owners.c)
	 */
	if (!tsm_schema_stmt_applies(obj, s, stmt))
	{
		MemoryContextSwitchTo(oldcxt);
		return;
	}
	if (guard->dry_run)
	{
		tsm_replay_check_absent(stmt);
		MemoryContextSwitchTo(oldcxt);
		return;
	}
	MemoryContextSwitchTo(oldcxt);

	tsm_replay_watch(guard);
	PG_TRY();
	{
		if (s->without_timescaledb)
			rc = execute_without_timescaledb(s->sql);
		else
		{
			/* without ONLY where the table is a hypertable (timescale.c) */
			rc = SPI_execute(tsm_hypertable_sql(s->sql), false, 0);
		}
	}
	PG_FINALLY();
	{
		tsm_replay_unwatch();
	}
	PG_END_TRY();
	if (rc < 0)
		elog(ERROR, "SPI_execute failed for %s \"%s\": %s",
			 obj->kind, obj->name, SPI_result_code_string(rc));
	tsm_replay_record(guard);
}

static void
replay_statement_cb(void *arg)
{
	ReplayStatementArgs *args = arg;

	replay_statement(args->obj, args->s, args->objcxt, args->guard);
}

/*
 * execute_without_timescaledb
 *		Run a statement with TimescaleDB's hooks off, as a dump's restore
 *		does (timescaledb.restoring, for this statement only).
 */
static int
execute_without_timescaledb(const char *sql)
{
	int			nestlevel = NewGUCNestLevel();
	int			rc;

	(void) set_config_option("timescaledb.restoring", "on", PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	rc = SPI_execute(sql, false, 0);
	AtEOXact_GUC(true, nestlevel);
	return rc;
}
