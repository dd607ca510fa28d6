/*-------------------------------------------------------------------------
 *
 * replay_early.c
 *	  Post-data index builds that migrate's data step runs as soon as the
 *	  table is copied
 *
 * pg_restore -j starts a table's index builds once that table's data is
 * in, while other tables are still loading; migrate's data step does the
 * same (copy/copy_workers.c: index builders beside the copy workers), so that the
 * builds use the cores while copies wait on the source, and a large
 * table's builds start the moment its last range is in.  The post-data section's objects that qualify
 * (tsm_early_indexes_attach):
 *
 *	- an index whose only statement is a CREATE INDEX on a plain table (no
 *	  parent, no child, not partitioned, not a hypertable, not ON ONLY);
 *	- the CREATE UNIQUE INDEX of a primary key or unique constraint built in
 *	  two steps (replay_parallel.c): its ADD CONSTRAINT ... USING INDEX stays
 *	  in post-data;
 *
 * and that wait for nothing else of the section, on a table that this
 * migration created.  A worker of the data step checks and runs one
 * (tsm_early_index_build) exactly as a schema worker would, with nothing
 * of the caller's "allow" needed, in a transaction of its own; migrate's
 * post-data step, which skips what exists, then finds it there.
 *
 * IDENTIFICATION
 *	  src/replay/replay_early.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "miscadmin.h"

#include "tsmigrate.h"
#include "replay/replay.h"
#include "schema/schema.h"
#include "target/target.h"

/* the copy tasks of one table (its ranges) */
typedef struct TableTasks
{
	Oid			relid;
	List	   *tasks;			/* their numbers */
} TableTasks;

static Oid	early_index_table(const char *sql);

/*
 * tsm_early_indexes_attach
 *		Read the post-data section from the source on "conn" and give each of
 *		the "ntasks" copy tasks the index builds of its table that may run
 *		once the table is copied (each range of a table gets the same list).
 *		Returns how many index builds were attached to some table.
 */
int
tsm_early_indexes_attach(PGconn *conn, const TsmSchemaOptions *opts,
						 const char *source, TsmCopyTask *tasks, int ntasks)
{
	List	   *objects = tsm_schema_objects(conn, TSM_SECTION_POST_DATA, opts);
	TsmReplayGuard guard;
	HASHCTL		ctl;
	HTAB	   *by_table;
	ListCell   *lc;
	int			n = 0;
	int			i;

	/* a run's tasks by table */
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(TableTasks);
	ctl.hcxt = CurrentMemoryContext;
	by_table = hash_create("tsmigrate early indexes", Max(ntasks, 16), &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < ntasks; i++)
	{
		TableTasks *entry;
		bool		found;

		if (tasks[i].mark == NULL)
			continue;
		entry = hash_search(by_table, &tasks[i].relid, HASH_ENTER, &found);
		if (!found)
			entry->tasks = NIL;
		entry->tasks = lappend_int(entry->tasks, i);
	}

	/* the workers build with nothing allowed: see below */
	tsm_replay_guard_init(&guard, 0, source, false);

	tsm_replay_limit_splits(objects);
	foreach(lc, objects)
	{
		TsmSchemaObject *obj = lfirst(lc);
		TsmSchemaObject *early;
		TsmSchemaStmt *s;
		Oid			relid;
		TableTasks *entry;
		ListCell   *tc;

		CHECK_FOR_INTERRUPTS();
		if (obj->after != NIL)
			continue;
		if (obj->split_index != NULL)
		{
			s = palloc0(sizeof(TsmSchemaStmt));
			s->tag = "IndexStmt";
			s->sql = obj->split_index;
		}
		else if (strcmp(obj->kind, "index") == 0 && list_length(obj->stmts) == 1 &&
				 strcmp(((TsmSchemaStmt *) linitial(obj->stmts))->tag, "IndexStmt") == 0)
			s = linitial(obj->stmts);
		else
			continue;

		relid = early_index_table(s->sql);
		if (!OidIsValid(relid))
			continue;
		/* a table this migration did not make: post-data refuses it, or not */
		if (!tsm_replay_relation_is_ours(relid, &guard))
			continue;
		entry = hash_search(by_table, &relid, HASH_FIND, NULL);
		if (entry == NULL)
			continue;

		early = palloc0(sizeof(TsmSchemaObject));
		early->kind = obj->kind;
		early->name = obj->name;
		early->stmts = list_make1(s);
		foreach(tc, entry->tasks)
			tasks[lfirst_int(tc)].indexes = lappend(tasks[lfirst_int(tc)].indexes, early);
		n++;
	}
	hash_destroy(by_table);
	return n;
}

/*
 * The plain table that "sql", a CREATE INDEX, builds on, or InvalidOid when
 * it is no such statement or its table is no such table.
 */
static Oid
early_index_table(const char *sql)
{
	List	   *raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	IndexStmt  *stmt;
	Oid			relid;

	if (list_length(raw) != 1 || !IsA(linitial_node(RawStmt, raw)->stmt, IndexStmt))
		return InvalidOid;
	stmt = (IndexStmt *) linitial_node(RawStmt, raw)->stmt;
	if (!stmt->relation->inh || stmt->concurrent)
		return InvalidOid;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_RELATION ||
		has_superclass(relid) || has_subclass(relid) ||
		tsm_target_is_hypertable(relid))
		return InvalidOid;
	return relid;
}

/*
 * tsm_early_index_build
 *		In a data step worker's transaction: check and run one index build
 *		as the caller, under the settings of a pg_dump script; "alone" when
 *		no other task runs beside it (tsm_index_builds_side_by_side).
 */
void
tsm_early_index_build(const TsmSchemaObject *obj, bool alone,
					  TsmReplayGuard *guard)
{
	MemoryContext objcxt;

	objcxt = AllocSetContextCreate(CurrentMemoryContext, "tsmigrate early index",
								   ALLOCSET_DEFAULT_SIZES);
	tsm_replay_settings(GUC_ACTION_LOCAL);
	if (!alone)
		tsm_index_builds_side_by_side();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	tsm_replay_object(obj, objcxt, guard);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	MemoryContextDelete(objcxt);
}
