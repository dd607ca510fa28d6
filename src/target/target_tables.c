/*-------------------------------------------------------------------------
 *
 * target_tables.c
 *	  Questions and chores about one relation of the target that hold no
 *	  lock past their own work
 *
 * A migration touches every table and chunk of a database, thousands of
 * them, often in one transaction (the checks before the copy, a step's
 * ANALYZE).  A lock kept to the end of the transaction on each would fill
 * the lock table (max_locks_per_transaction x connections), where pg_dump
 * | psql, which commits statement by statement, never holds more than a
 * few.  The emptiness check here lets go of its relation at once: what it
 * answers may change after it returns, and the copy checks again when it
 * begins.  ANALYZE's lock stays with the caller's transaction, as a
 * subtransaction's locks do: its callers commit every few relations.
 *
 * IDENTIFICATION
 *	  src/target/target_tables.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "commands/vacuum.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "target/target.h"

static void analyze_relation(void *arg);

/*
 * tsm_target_heap_is_empty
 *		Does the heap of "relid" (a plain table or chunk, ONLY) hold no row
 *		visible to the active snapshot?  A direct scan, so that INSERT
 *		privilege is all the caller needs, as for COPY FROM; the lock is
 *		released when it ends.
 */
bool
tsm_target_heap_is_empty(Oid relid)
{
	Relation	rel;
	TupleTableSlot *slot;
	TableScanDesc scan;
	bool		empty;

	rel = table_open(relid, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	empty = !table_scan_getnextslot(scan, ForwardScanDirection, slot);
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);
	return empty;
}

/*
 * tsm_target_analyze
 *		ANALYZE one relation in a subtransaction of the caller's.
 *
 * ANALYZE is for the planner's sake, not part of what is migrated: where
 * it cannot run (a partitioned table with a partition of a foreign-data
 * wrapper that has no handler, which pg_dump restores without complaint)
 * the error becomes a WARNING and the migration goes on.  Returns whether
 * it ran.
 */
bool
tsm_target_analyze(Oid relid)
{
	ErrorData  *edata = tsm_subtransaction(analyze_relation, &relid, true);

	if (edata == NULL)
		return true;
	/* a cancel or a shutdown is not the relation's doing */
	if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
		edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
		ReThrowError(edata);
	ereport(WARNING,
			errcode(edata->sqlerrcode),
			errmsg("could not analyze \"%s\": %s",
				   get_rel_name(relid) ? get_rel_name(relid) : "?", edata->message),
			errhint("Its statistics are missing until an ANALYZE succeeds; the migration goes on."));
	FreeErrorData(edata);
	return false;
}

static void
analyze_relation(void *arg)
{
	VacuumStmt *stmt = makeNode(VacuumStmt);

	stmt->is_vacuumcmd = false;
	stmt->rels = list_make1(makeVacuumRelation(NULL, *(Oid *) arg, NIL));
	ExecVacuum(make_parsestate(NULL), stmt, false);
}
