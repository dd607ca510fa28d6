/*-------------------------------------------------------------------------
 *
 * replay.c
 *	  tsmigrate.pull_schema(): replay one section of the source's schema
 *
 * Every statement that schema.c generated is parsed here, on the target,
 * before it runs: it must be exactly one statement, one of those that the
 * object's kind is made of, and it must not be a form that replaces or
 * silently skips an existing object (OR REPLACE, IF NOT EXISTS) or one
 * that does more than creating (ALTER TABLE is limited to the subcommands
 * that the generator writes).  What it may do beyond creating the source's
 * own objects is decided on its parse tree by replay_check.c, against the
 * caller's "allow" argument.  Then it runs through SPI, as the caller.
 * The whole call is one transaction: an object that already exists on the
 * target fails its CREATE with the usual SQLSTATE (42P07, 42710, 42723
 * ...), the error context names the object, and nothing of the section
 * stays.  A dry run runs nothing at all (a statement from the source may
 * call the source's functions: an index expression, a refresh): it parses
 * and checks every statement, and reports the objects that the target has
 * already by the error their creation would meet.
 *
 * Post-data with several jobs is replayed by background workers instead,
 * each object checked and run by tsm_replay_object() in a transaction of
 * its own (replay_parallel.c).  With skip_existing, the post-data objects
 * that the target has already (by kind and name) are reported as "exists"
 * and left out, so that a call can finish what a failed one left.
 *
 * While replaying, the settings of a pg_dump script apply (replay_settings):
 * search_path is empty (every generated name is qualified),
 * check_function_bodies is off, and so on.
 *
 * IDENTIFICATION
 *	  src/replay/replay.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_publication.h"
#include "commands/event_trigger.h"
#include "commands/policy.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
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

#include "tsmigrate.h"
#include "workers/workers.h"

PG_FUNCTION_INFO_V1(tsmigrate_pull_schema);

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

typedef struct ReplayContext
{
	const char *kind;
	const char *name;
	const char *sql;
} ReplayContext;

static Node *check_statement(const TsmSchemaObject *obj, const TsmSchemaStmt *s,
							 TsmReplayGuard *guard);
static bool statement_allowed(Node *stmt);
static void check_constraint_absent(AlterTableStmt *alter);
static bool replaces_placeholder(const TsmSchemaStmt *s, Node *stmt);
static void replay_error_callback(void *arg);
static int	execute_without_timescaledb(const char *sql);

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
			/* no AUTHORIZATION: its owner is set as any other's (schema_owners.c) */
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
	List	   *parsed = raw_parser(s->sql, RAW_PARSE_DEFAULT);
	Node	   *stmt;

	if (list_length(parsed) != 1)
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("source sent %d statements in one for %s %s",
					   list_length(parsed), obj->kind, obj->name));
	stmt = linitial_node(RawStmt, parsed)->stmt;
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
 * replay_error_callback
 *		Name the object being replayed, and point into its statement.
 *
 * Object names come quoted from the generator ("fx"."items"), so they are
 * not quoted again.
 */
static void
replay_error_callback(void *arg)
{
	ReplayContext *ctx = (ReplayContext *) arg;
	int			syntaxerrposition = geterrposition();

	if (syntaxerrposition > 0)
	{
		errposition(0);
		internalerrposition(syntaxerrposition);
		internalerrquery(ctx->sql);
	}
	errcontext("replaying definition of %s %s", ctx->kind, ctx->name);
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
	ReplayContext ctx;
	ErrorContextCallback errcallback;
	ListCell   *sc;

	ctx.kind = obj->kind;
	ctx.name = obj->name;
	ctx.sql = NULL;
	errcallback.callback = replay_error_callback;
	errcallback.arg = &ctx;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	foreach(sc, obj->stmts)
	{
		TsmSchemaStmt *s = lfirst(sc);
		MemoryContext oldcxt;
		Node	   *stmt;
		int			rc = 0;

		ctx.sql = s->sql;
		oldcxt = MemoryContextSwitchTo(objcxt);
		stmt = check_statement(obj, s, guard);
		/* an owner or grantee that the target lacks: skipped (schema_owners.c) */
		if (!tsm_schema_stmt_applies(obj, s, stmt))
		{
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(objcxt);
			continue;
		}
		if (guard->dry_run)
		{
			tsm_replay_check_absent(stmt);
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(objcxt);
			continue;
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
		MemoryContextReset(objcxt);
	}

	error_context_stack = errcallback.previous;
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

/*
 * name_parts
 *		Split a quoted, qualified name from the generator ("s"."t"."c")
 *		into "n" parts; false if it has another number of parts.
 */
static bool
name_parts(const char *name, int n, char **parts)
{
	List	   *list;
	ListCell   *lc;
	int			i = 0;

	if (!SplitIdentifierString(pstrdup(name), '.', &list) ||
		list_length(list) != n)
		return false;
	foreach(lc, list)
		parts[i++] = lfirst(lc);
	return true;
}

static bool
ends_with(const char *str, const char *suffix)
{
	size_t		len = strlen(str);
	size_t		slen = strlen(suffix);

	return len >= slen && strcmp(str + len - slen, suffix) == 0;
}

/* the relation "nsp"."rel" of the target, or InvalidOid */
static Oid
relation_oid(const char *nsp, const char *rel)
{
	return RangeVarGetRelid(makeRangeVar(pstrdup(nsp), pstrdup(rel), -1),
							NoLock, true);
}

/*
 * object_exists
 *		Does the target have an object of this kind and name already?
 *
 * Only the post-data kinds are looked up; for anything else the answer is
 * no, and replaying it meets the conflict.
 */
static bool
object_exists(const TsmSchemaObject *obj)
{
	char	   *p[3];
	Oid			relid;

	if (strcmp(obj->kind, "index") == 0 && name_parts(obj->name, 2, p))
	{
		relid = relation_oid(p[0], p[1]);
		return OidIsValid(relid) &&
			(get_rel_relkind(relid) == RELKIND_INDEX ||
			 get_rel_relkind(relid) == RELKIND_PARTITIONED_INDEX);
	}
	if (strcmp(obj->kind, "materialized view data") == 0 && name_parts(obj->name, 2, p))
	{
		HeapTuple	tup;
		bool		populated = false;

		relid = relation_oid(p[0], p[1]);
		tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
		if (HeapTupleIsValid(tup))
		{
			populated = ((Form_pg_class) GETSTRUCT(tup))->relispopulated;
			ReleaseSysCache(tup);
		}
		return populated;
	}
	if (strcmp(obj->kind, "row security") == 0 && name_parts(obj->name, 2, p))
	{
		/* as set as its statements would set it */
		HeapTuple	tup;
		bool		set = false;

		relid = relation_oid(p[0], p[1]);
		tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
		if (HeapTupleIsValid(tup))
		{
			Form_pg_class form = (Form_pg_class) GETSTRUCT(tup);
			ListCell   *sc;

			set = true;
			foreach(sc, obj->stmts)
			{
				const char *sql = ((TsmSchemaStmt *) lfirst(sc))->sql;

				if (ends_with(sql, " ENABLE ROW LEVEL SECURITY"))
					set &= form->relrowsecurity;
				if (ends_with(sql, " FORCE ROW LEVEL SECURITY"))
					set &= form->relforcerowsecurity;
			}
			ReleaseSysCache(tup);
		}
		return set;
	}
	if (strcmp(obj->kind, "statistics") == 0 && name_parts(obj->name, 2, p))
		return OidIsValid(get_statistics_object_oid(list_make2(makeString(p[0]),
															   makeString(p[1])),
													true));
	if (strcmp(obj->kind, "publication") == 0 && name_parts(obj->name, 1, p))
		return OidIsValid(get_publication_oid(p[0], true));
	if (strcmp(obj->kind, "event trigger") == 0 && name_parts(obj->name, 1, p))
		return OidIsValid(get_event_trigger_oid(p[0], true));

	/* the rest belong to a table: "schema"."table"."name" */
	if (!name_parts(obj->name, 3, p) ||
		!OidIsValid(relid = relation_oid(p[0], p[1])))
		return false;
	if (strcmp(obj->kind, "constraint") == 0)
		return OidIsValid(get_relation_constraint_oid(relid, p[2], true));
	if (strcmp(obj->kind, "trigger") == 0)
		return OidIsValid(get_trigger_oid(relid, p[2], true));
	if (strcmp(obj->kind, "rule") == 0)
		return OidIsValid(get_rewrite_oid(relid, p[2], true));
	if (strcmp(obj->kind, "policy") == 0)
		return OidIsValid(get_relation_policy_oid(relid, p[2], true));
	return false;
}

/*
 * skip_existing_objects
 *		Drop from "objects" what the target has already (an earlier call that
 *		committed part of the section), reporting each as "exists".
 *
 * A constraint built in two steps whose index is there but the constraint
 * not (a parallel call stopped between the two) keeps only its second
 * step.
 */
static List *
skip_existing_objects(List *objects, ReturnSetInfo *rsinfo)
{
	List	   *todo = NIL;
	ListCell   *lc;

	foreach(lc, objects)
	{
		TsmSchemaObject *obj = lfirst(lc);
		char	   *p[3];

		CHECK_FOR_INTERRUPTS();
		if (object_exists(obj))
		{
			Datum		values[3];
			bool		nulls[3] = {false, false, false};

			values[0] = CStringGetTextDatum(obj->kind);
			values[1] = CStringGetTextDatum(obj->name);
			values[2] = CStringGetTextDatum("exists");
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			continue;
		}
		if (obj->split_index != NULL && name_parts(obj->name, 3, p) &&
			OidIsValid(relation_oid(p[0], p[2])))
		{
			TsmSchemaStmt *s = palloc0(sizeof(TsmSchemaStmt));

			s->tag = "AlterTableStmt";
			s->sql = obj->split_constraint;
			obj->stmts = lcons(s, list_delete_first(obj->stmts));
			obj->split_index = NULL;
			obj->split_constraint = NULL;
		}
		todo = lappend(todo, obj);
	}
	return todo;
}

/*
 * tsmigrate.pull_schema(source text, section text, dry_run boolean,
 *						 jobs int, skip_existing boolean)
 *		Create one section of the source's schema on the target.
 */
Datum
tsmigrate_pull_schema(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TsmSchemaSection section;
	bool		dry_run;
	int			jobs;
	bool		skip_existing;
	TsmSchemaOptions opts;
	TsmSource  *src;
	PGconn	   *conn;
	List	   *objects;
	ListCell   *lc;
	MemoryContext gencxt;
	MemoryContext objcxt;
	MemoryContext oldcxt;
	int			save_nestlevel;
	TsmReplayGuard guard;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("section must not be null"),
				errhint("Valid values are \"pre-data\" and \"post-data\"."));
	section = tsm_schema_section(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	dry_run = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	jobs = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_INT32(3) : 1;
	skip_existing = (PG_NARGS() > 4 && !PG_ARGISNULL(4)) ? PG_GETARG_BOOL(4) : false;
	opts.owners = PG_NARGS() <= 5 || PG_ARGISNULL(5) || PG_GETARG_BOOL(5);
	opts.privileges = PG_NARGS() <= 6 || PG_ARGISNULL(6) || PG_GETARG_BOOL(6);
	opts.consent = tsm_consent_from_arg(fcinfo, 7);
	tsm_copy_check_jobs(jobs, "pull_schema");
	src = tsm_source_from_arg(fcinfo, 0);

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	gencxt = AllocSetContextCreate(CurrentMemoryContext,
								   "tsmigrate schema replay",
								   ALLOCSET_DEFAULT_SIZES);
	objcxt = AllocSetContextCreate(CurrentMemoryContext,
								   "tsmigrate per-object",
								   ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(gencxt);
	conn = tsm_conn_open(src);
	objects = tsm_schema_objects(conn, section, &opts);
	tsm_conn_close(conn);
	if (skip_existing)
		objects = skip_existing_objects(objects, rsinfo);
	tsm_replay_guard_init(&guard, opts.consent->flags, src->label, dry_run);
	MemoryContextSwitchTo(oldcxt);

	/*
	 * Post-data with several jobs: each object in a worker, committed on its
	 * own (replay_parallel.c).  A dry run and pre-data stay one transaction.
	 */
	if (jobs > 1 && !dry_run && section == TSM_SECTION_POST_DATA)
	{
		tsm_replay_parallel(objects, jobs, &guard);
		foreach(lc, objects)
		{
			TsmSchemaObject *obj = lfirst(lc);
			Datum		values[3];
			bool		nulls[3] = {false, false, false};

			values[0] = CStringGetTextDatum(obj->kind);
			values[1] = CStringGetTextDatum(obj->name);
			values[2] = CStringGetTextDatum("created");
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		MemoryContextDelete(objcxt);
		MemoryContextDelete(gencxt);
		return (Datum) 0;
	}

	/* the settings of a pg_dump script, undone when this call ends */
	save_nestlevel = NewGUCNestLevel();
	tsm_replay_settings(GUC_ACTION_SAVE);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	foreach(lc, objects)
	{
		TsmSchemaObject *obj = lfirst(lc);
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		CHECK_FOR_INTERRUPTS();
		tsm_replay_object(obj, objcxt, &guard);

		values[0] = CStringGetTextDatum(obj->kind);
		values[1] = CStringGetTextDatum(obj->name);
		values[2] = CStringGetTextDatum(dry_run ? "would create" : "created");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	AtEOXact_GUC(true, save_nestlevel);

	MemoryContextDelete(objcxt);
	MemoryContextDelete(gencxt);
	return (Datum) 0;
}
