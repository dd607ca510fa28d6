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
 * With "atomic" (the default with one job) the whole call is one
 * transaction: an object that already exists on the target fails its
 * CREATE with the usual SQLSTATE (42P07, 42710, 42723 ...), the error
 * context names the object, and nothing of the section stays.  Without it,
 * schema workers replay the objects (replay_parallel.c), each committed on
 * its own, up to "jobs" at once: no lock outlives its object, and an error
 * says how much of the section was committed and stays.  A dry run runs nothing at all (a statement from the source may
 * call the source's functions: an index expression, a refresh): it parses
 * and checks every statement, and reports the objects that the target has
 * already by the error their creation would meet.
 *
 * Each object is checked and run by tsm_replay_object() (replay_object.c),
 * in this backend or in a schema worker.  With skip_existing, the objects
 * that the target has already (by kind and name, for the kinds that
 * object_exists looks up) are reported as "exists" and left out, so that a
 * call can finish what a failed one left.
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

#include "access/twophase.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_publication.h"
#include "catalog/pg_subscription.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/policy.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "parser/parser.h"
#include "rewrite/rewriteSupport.h"
#include "storage/lock.h"
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
#include "remote/remote.h"
#include "replay/replay.h"
#include "schema/schema.h"
#include "target/target.h"
#include "workers/workers.h"

PG_FUNCTION_INFO_V1(tsmigrate_pull_schema);

static void pull_schema(TsmSource *src, TsmSchemaSection section, bool dry_run,
						int jobs, bool atomic, bool skip_existing,
						TsmSchemaOptions *opts, ReturnSetInfo *rsinfo,
						TsmSchemaDone *done);
static TsmSectionReplay *section_begin(TsmSource *src, TsmSchemaSection section,
									   bool dry_run, bool skip_existing,
									   TsmSchemaOptions *opts, ReturnSetInfo *rsinfo,
									   TsmSchemaDone *done);
static void explain_lock_table_full(TsmSectionReplay *replay);
static void explain_left_in_place(TsmSectionReplay *replay, int committed);

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

/* relation kinds of pre-data objects, as schema_tables.c names them */
static const struct
{
	const char *kind;
	char		relkind;
	char		relkind2;
}			relation_kinds[] =

{
	{"table", RELKIND_RELATION, RELKIND_PARTITIONED_TABLE},
	{"foreign table", RELKIND_FOREIGN_TABLE, RELKIND_FOREIGN_TABLE},
	{"view", RELKIND_VIEW, RELKIND_VIEW},
	{"view placeholder", RELKIND_VIEW, RELKIND_VIEW},
	{"materialized view", RELKIND_MATVIEW, RELKIND_MATVIEW},
	{"sequence", RELKIND_SEQUENCE, RELKIND_SEQUENCE},
};

/*
 * A type "nsp"."name" of the target: any (a shell too) when "shell", else
 * one that is defined.
 */
static bool
type_exists(const char *nsp, const char *name, bool shell)
{
	Oid			nspid = get_namespace_oid(nsp, true);
	HeapTuple	tup;
	bool		found;

	if (!OidIsValid(nspid))
		return false;
	tup = SearchSysCache2(TYPENAMENSP, CStringGetDatum(name), ObjectIdGetDatum(nspid));
	if (!HeapTupleIsValid(tup))
		return false;
	found = shell || ((Form_pg_type) GETSTRUCT(tup))->typisdefined;
	ReleaseSysCache(tup);
	return found;
}

/*
 * A function or procedure named as the generator names it, schema, name
 * and identity arguments: looked up as DROP ROUTINE would find it, the
 * statement parsed only, never run.  A name that does not parse as one
 * routine is not there.
 */
static bool
routine_exists(const char *name)
{
	List	   *raw = raw_parser(psprintf("DROP ROUTINE %s", name), RAW_PARSE_DEFAULT);
	DropStmt   *drop;

	if (list_length(raw) != 1 || !IsA(linitial_node(RawStmt, raw)->stmt, DropStmt))
		return false;
	drop = (DropStmt *) linitial_node(RawStmt, raw)->stmt;
	if (drop->removeType != OBJECT_ROUTINE || list_length(drop->objects) != 1 ||
		!IsA(linitial(drop->objects), ObjectWithArgs))
		return false;
	return OidIsValid(LookupFuncWithArgs(OBJECT_ROUTINE, linitial(drop->objects), true));
}

/*
 * object_exists
 *		Does the target have an object of this kind and name already?
 *
 * Looked up: schemas, relations, types, domains, functions and procedures
 * (pre-data), and the post-data kinds; for anything else the answer is no,
 * and replaying it meets the conflict.  A view that replaces its
 * placeholder is replayed again (OR REPLACE): the view there may be the
 * placeholder still.
 */
static bool
object_exists(const TsmSchemaObject *obj)
{
	char	   *p[3];
	Oid			relid;
	ListCell   *lc;
	int			i;

	foreach(lc, obj->stmts)
		if (((TsmSchemaStmt *) lfirst(lc))->replace)
		return false;
	if (strcmp(obj->kind, "schema") == 0 && name_parts(obj->name, 1, p))
		return OidIsValid(get_namespace_oid(p[0], true));
	for (i = 0; i < lengthof(relation_kinds); i++)
		if (strcmp(obj->kind, relation_kinds[i].kind) == 0 && name_parts(obj->name, 2, p))
		{
			char		relkind;

			relid = relation_oid(p[0], p[1]);
			relkind = OidIsValid(relid) ? get_rel_relkind(relid) : '\0';
			return relkind != '\0' &&
				(relkind == relation_kinds[i].relkind || relkind == relation_kinds[i].relkind2);
		}
	if ((strcmp(obj->kind, "type") == 0 || strcmp(obj->kind, "domain") == 0 ||
		 strcmp(obj->kind, "shell type") == 0) && name_parts(obj->name, 2, p))
		return type_exists(p[0], p[1], strcmp(obj->kind, "shell type") == 0);
	if (strcmp(obj->kind, "function") == 0 || strcmp(obj->kind, "procedure") == 0)
		return routine_exists(obj->name);

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
	if (strcmp(obj->kind, "subscription") == 0 && name_parts(obj->name, 1, p))
		return OidIsValid(get_subscription_oid(p[0], true));

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
/* one result row of pull_schema, counted in *done; no row without rsinfo */
static void
put_row(ReturnSetInfo *rsinfo, TsmSchemaDone *done, const TsmSchemaObject *obj,
		const char *action)
{
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (strcmp(action, "exists") == 0)
		done->existing++;
	else
		done->created++;
	if (rsinfo == NULL)
		return;
	values[0] = CStringGetTextDatum(obj->kind);
	values[1] = CStringGetTextDatum(obj->name);
	values[2] = CStringGetTextDatum(action);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

static List *
skip_existing_objects(List *objects, ReturnSetInfo *rsinfo, TsmSchemaDone *done)
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
			put_row(rsinfo, done, obj, "exists");
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
 *						 jobs int, skip_existing boolean, owners boolean,
 *						 privileges boolean, allow text[], atomic boolean)
 *		Create one section of the source's schema on the target.
 */
Datum
tsmigrate_pull_schema(PG_FUNCTION_ARGS)
{
	TsmSchemaSection section;
	bool		dry_run;
	int			jobs;
	bool		skip_existing;
	bool		atomic;
	TsmSchemaOptions opts;
	TsmSource  *src;
	TsmSchemaDone done = {0};

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
	/* all or nothing unless told otherwise, or given several jobs */
	atomic = (PG_NARGS() > 8 && !PG_ARGISNULL(8)) ? PG_GETARG_BOOL(8) : jobs == 1;
	tsm_copy_check_jobs(jobs, "pull_schema");
	if (atomic && jobs > 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("pull_schema with atomic => true runs with one job"),
				errdetail("An atomic replay is one transaction, in this session."),
				errhint("Pass jobs => 1, or atomic => false to commit each object on its own."));
	src = tsm_source_from_arg(fcinfo, 0);

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	pull_schema(src, section, dry_run, jobs, atomic, skip_existing, &opts,
				(ReturnSetInfo *) fcinfo->resultinfo, &done);
	return (Datum) 0;
}

/*
 * tsm_pull_schema
 *		pull_schema's work for migrate: no rows; *done counts the objects
 *		created and those found there already (with skip_existing).
 */
void
tsm_pull_schema(TsmSource *src, TsmSchemaSection section, int jobs,
				bool skip_existing, TsmSchemaOptions *opts, TsmSchemaDone *done)
{
	memset(done, 0, sizeof(TsmSchemaDone));
	pull_schema(src, section, false, jobs, jobs <= 1, skip_existing, opts, NULL, done);
}

static void
pull_schema(TsmSource *src, TsmSchemaSection section, bool dry_run, int jobs,
			bool atomic, bool skip_existing, TsmSchemaOptions *opts,
			ReturnSetInfo *rsinfo, TsmSchemaDone *done)
{
	TsmSectionReplay *replay;
	ListCell   *lc;

	replay = section_begin(src, section, dry_run, skip_existing, opts, rsinfo, done);

	/*
	 * Each object in a schema worker, committed on its own
	 * (replay_parallel.c): up to "jobs" at once where no two touch the same
	 * tables (in pre-data, only new tables of their own run side by side; the
	 * rest, one after the other).  A dry run stays here.
	 */
	if (!atomic && !dry_run)
	{
		volatile int committed = 0;

		PG_TRY();
		{
			tsm_replay_parallel(replay->objects, jobs, &replay->guard,
								(int *) &committed);
		}
		PG_CATCH();
		{
			/* migrate (no rows) resumes by itself */
			if (rsinfo != NULL)
				explain_left_in_place(replay, committed);
			PG_RE_THROW();
		}
		PG_END_TRY();
		foreach(lc, replay->objects)
			put_row(rsinfo, done, lfirst(lc), "created");
		tsm_section_end(replay);
		return;
	}

	PG_TRY();
	{
		tsm_section_replay(replay, 0, list_length(replay->objects));
	}
	PG_CATCH();
	{
		explain_lock_table_full(replay);
		PG_RE_THROW();
	}
	PG_END_TRY();
	foreach(lc, replay->objects)
		put_row(rsinfo, done, lfirst(lc), dry_run ? "would create" : "created");
	tsm_section_end(replay);
}

/*
 * tsm_section_begin
 *		A section's objects generated from the source, in replay order, for a
 *		replay in batches (migrate's steps): what the target has already is
 *		left out with skip_existing, counted in *done.  Everything lives in a
 *		memory context of its own, under the caller's, which outlives the
 *		commits between batches; tsm_section_end frees it.
 */
TsmSectionReplay *
tsm_section_begin(TsmSource *src, TsmSchemaSection section, bool skip_existing,
				  TsmSchemaOptions *opts, TsmSchemaDone *done)
{
	memset(done, 0, sizeof(TsmSchemaDone));
	return section_begin(src, section, false, skip_existing, opts, NULL, done);
}

static TsmSectionReplay *
section_begin(TsmSource *src, TsmSchemaSection section, bool dry_run,
			  bool skip_existing, TsmSchemaOptions *opts, ReturnSetInfo *rsinfo,
			  TsmSchemaDone *done)
{
	MemoryContext cxt;
	MemoryContext oldcxt;
	TsmSectionReplay *replay;
	PGconn	   *conn;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "tsmigrate schema replay",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	replay = palloc0(sizeof(TsmSectionReplay));
	replay->cxt = cxt;
	replay->section = section;
	conn = tsm_conn_open(src);
	replay->objects = tsm_schema_objects(conn, section, opts);
	tsm_conn_close(conn);
	if (skip_existing)
		replay->objects = skip_existing_objects(replay->objects, rsinfo, done);
	tsm_replay_guard_init(&replay->guard, opts->consent->flags, src->label, dry_run);
	MemoryContextSwitchTo(oldcxt);
	return replay;
}

/*
 * tsm_section_replay
 *		Replay "count" of the section's objects from the "from"th on, in the
 *		caller's transaction, under the settings of a pg_dump script.
 */
void
tsm_section_replay(TsmSectionReplay *replay, int from, int count)
{
	MemoryContext objcxt;
	int			save_nestlevel;
	int			i;

	objcxt = AllocSetContextCreate(CurrentMemoryContext, "tsmigrate per-object",
								   ALLOCSET_DEFAULT_SIZES);
	/* the settings of a pg_dump script, undone when this batch ends */
	save_nestlevel = NewGUCNestLevel();
	tsm_replay_settings(GUC_ACTION_SAVE);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (i = from; i < from + count && i < list_length(replay->objects); i++)
	{
		CHECK_FOR_INTERRUPTS();
		tsm_replay_object(list_nth(replay->objects, i), objcxt, &replay->guard);
	}
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	AtEOXact_GUC(true, save_nestlevel);
	MemoryContextDelete(objcxt);
}

void
tsm_section_end(TsmSectionReplay *replay)
{
	MemoryContextDelete(replay->cxt);
}

/*
 * tsm_section_batch_size
 *		How many objects one transaction of a batched replay may create.
 *
 * A relation created stays locked (AccessExclusiveLock, with its TOAST
 * table and index, and a primary key's index) until its transaction ends;
 * keeping a batch within a quarter of max_locks_per_transaction, a
 * transaction's guaranteed share of the lock table, leaves room for what
 * one object locks besides.  With the default (64): 16 objects a commit.
 */
int
tsm_section_batch_size(void)
{
	return Max(1, max_locks_per_xact / 4);
}

/*
 * The lock table filled up during an all-or-nothing replay: say what that
 * means here, and the ways out, instead of the lock manager's bare
 * "out of shared memory".
 */
static void
explain_lock_table_full(TsmSectionReplay *replay)
{
	ErrorData  *edata;
	MemoryContext oldcxt;
	int64		relations = 0;
	ListCell   *lc;

	if (geterrcode() != ERRCODE_OUT_OF_MEMORY)
		return;
	oldcxt = MemoryContextSwitchTo(replay->cxt);
	edata = CopyErrorData();
	MemoryContextSwitchTo(oldcxt);
	if (strcmp(edata->message, "out of shared memory") != 0)
		return;
	foreach(lc, replay->objects)
	{
		const char *kind = ((TsmSchemaObject *) lfirst(lc))->kind;

		if (strcmp(kind, "table") == 0 || strcmp(kind, "sequence") == 0 ||
			strcmp(kind, "view") == 0 || strcmp(kind, "materialized view") == 0 ||
			strcmp(kind, "index") == 0 || strcmp(kind, "constraint") == 0 ||
			strcmp(kind, "foreign table") == 0)
			relations++;
	}
	FlushErrorState();
	ereport(ERROR,
			errcode(ERRCODE_OUT_OF_MEMORY),
			errmsg("out of shared memory"),
			errdetail("pull_schema replays the section's %d objects (%lld tables, indexes, constraints and other relations) in one transaction, which locks each relation it creates until it ends; the lock table holds %d locks per connection (max_locks_per_transaction).",
					  list_length(replay->objects), (long long) relations,
					  max_locks_per_xact),
			errhint("Run CALL tsmigrate.migrate(...), which commits the section in batches, or call pull_schema with atomic => false, or set max_locks_per_transaction to at least %lld and restart the server.",
					(long long) Max(64, (relations * 3) / Max(1, MaxBackends + max_prepared_xacts) + 64)),
			edata->context ? errcontext("%s", edata->context) : 0);
}

/*
 * A replay that commits object by object stopped: say how much of the
 * section it committed, which stays, and how to finish it.
 */
static void
explain_left_in_place(TsmSectionReplay *replay, int committed)
{
	ErrorData  *edata;
	MemoryContext oldcxt;
	char	   *left;

	oldcxt = MemoryContextSwitchTo(replay->cxt);
	edata = CopyErrorData();
	left = committed == 0 ?
		pstrdup("No object of the section was committed.") :
		psprintf("%d of the section's %d objects were committed before this error, and stay on the target.",
				 committed, list_length(replay->objects));
	edata->detail = edata->detail ? psprintf("%s\n%s", edata->detail, left) : left;
	if (edata->hint == NULL && committed > 0)
		edata->hint = pstrdup("Once the cause is removed, call pull_schema again with skip_existing => true: it leaves out the objects that are there.");
	MemoryContextSwitchTo(oldcxt);
	FlushErrorState();
	ReThrowError(edata);
}
