/*-------------------------------------------------------------------------
 *
 * replay_parallel.c
 *	  pull_schema's sections object by object (several jobs, or atomic =>
 *	  false): objects replayed by background workers, each in a transaction
 *	  of its own
 *
 * As pg_restore -j does, the leader (the backend running pull_schema)
 * keeps the dependency graph and hands one object at a time to whichever
 * worker is idle; a worker checks and runs the object's statements exactly
 * as the one-job replay does (replay_object.c: parsed, one statement of the
 * expected kind, as the caller, under the settings of a pg_dump script) and
 * commits.  An object may start when
 *
 *	- every object of the section that it depends on (the source's
 *	  pg_depend, as the sort saw it) is done, and
 *	- every earlier object on the same tables is done, except that index
 *	  builds on a plain table run side by side (CREATE INDEX takes a
 *	  SHARE lock, which does not block another CREATE INDEX).  "Same
 *	  tables" is by family: a partition or inheritance child counts as its
 *	  topmost parent, and a foreign key touches its referenced table too, so
 *	  a foreign key comes after the primary key it references and after
 *	  the indexes of both its tables, and no two statements that would
 *	  block each other (or deadlock) run at once.  Objects whose tables
 *	  cannot be told (publications, event triggers, and in pre-data all
 *	  but the CREATE TABLE of a table without parent, which touches only
 *	  its own new table) wait for everything before them and everything
 *	  after them waits for them.
 *
 * A primary key or unique constraint of a plain table comes in two steps
 * when the source says it may (schema_postdata.c): CREATE UNIQUE INDEX,
 * which runs beside the table's other index builds, then ALTER TABLE ...
 * ADD CONSTRAINT ... USING INDEX, queued after the section's indexes, so
 * that a table's primary key and its other indexes are built at once.
 *
 * The DSM segment (parallel.c's tsm_workers_segment):
 *
 *	shared state	TsmReplayShared: the caller (TsmCaller), one TsmReplaySlot
 *					per worker (its state and task), one offset per task
 *					into the text area
 *	text area		the tasks' kind, name and statements, and the caller's
 *					settings that the workers take on
 *	error queues	one shm_mq per worker for its errors
 *
 * NOTES
 *	A slot's life: STARTING -> IDLE -> ASSIGNED (leader) -> DONE (worker)
 *	-> ASSIGNED ... -> EXIT (leader).  A worker's error is rethrown by the
 *	leader with the worker's context (which names the object); the
 *	leader's DSM detach callback then terminates the other workers, whose
 *	current objects roll back.  Objects already committed stay: calling
 *	again with skip_existing => true finishes the section.
 *
 *	A task handed out while another runs or waits to run is told so
 *	("alone" false): its index builds then sort without parallel workers
 *	(tsm_index_builds_side_by_side).
 *
 * IDENTIFICATION
 *	  src/replay/replay_parallel.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "executor/spi.h"
#include "lib/binaryheap.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "mb/pg_wchar.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"
#include "miscadmin.h"
#include "pgstat.h"

#include "compat.h"
#include "tsmigrate.h"
#include "replay/replay.h"
#include "schema/schema.h"
#include "target/target.h"
#include "workers/workers.h"

#define TSM_REPLAY_MAGIC	0x54534d32	/* "TSM2" */

typedef enum TsmReplaySlotState
{
	TSM_RSLOT_STARTING = 0,
	TSM_RSLOT_IDLE,
	TSM_RSLOT_ASSIGNED,
	TSM_RSLOT_DONE,
	TSM_RSLOT_EXIT
} TsmReplaySlotState;

typedef struct TsmReplaySlot
{
	PGPROC	   *proc;			/* set by the worker, to wake it */
	TsmReplaySlotState state;
	int			task;
	bool		alone;			/* nothing else to run beside the task */
} TsmReplaySlot;

typedef struct TsmReplayShared
{
	slock_t		mutex;
	PGPROC	   *leader;
	TsmCaller	caller;			/* whom the workers run as */
	Size		settings_off;	/* name\0value\0 pairs */
	int			nsettings;
	bits32		allow;			/* what the caller allowed (TsmReplayGuard) */
	Size		source_off;		/* the source's label */
	int			nworkers;
	int			ntasks;
} TsmReplayShared;

/* after the header: the slots, then per task its offset and statements */
typedef struct TsmReplaySharedTask
{
	Size		off;			/* kind\0name\0owner\0 then per statement
								 * tag\0sql\0 and its flags */
	int			nstmts;
	bool		superuser_definer;	/* the object's, as the leader has it */
} TsmReplaySharedTask;

#define TSM_REPLAY_SLOTS(sh) \
	((TsmReplaySlot *) ((char *) (sh) + MAXALIGN(sizeof(TsmReplayShared))))
#define TSM_REPLAY_TASKS(sh) \
	((TsmReplaySharedTask *) ((char *) TSM_REPLAY_SLOTS(sh) + \
							  MAXALIGN(sizeof(TsmReplaySlot) * (sh)->nworkers)))

/* one unit of work in the leader: an object, or one step of a split one */
typedef struct ReplayTask
{
	const TsmSchemaObject *obj;
	List	   *stmts;			/* of TsmSchemaStmt */
	List	   *families;		/* OIDs of the topmost tables it touches */
	bool		shared;			/* only index builds on plain tables */
	bool		barrier;		/* tables unknown: alone, in order */
	RangeVar   *creates;		/* a new table of its own, touching no other */
	Oid			chunk;			/* a hypertable's chunk, its statement's only
								 * table (replay_chunks.c) */
	List	   *succ;			/* tasks that wait for this one */
	int			indeg;
	bool		completes;		/* its object's last task */
} ReplayTask;

/* where an object went: its first and last task */
typedef struct ObjectTasks
{
	const TsmSchemaObject *key;
	int			pos;			/* in the list of objects to replay */
	int			first;
	int			last;
} ObjectTasks;

typedef struct FamilyEntry
{
	Oid			root;
	int			last_exclusive;
	List	   *shared_since;	/* index builds since last_exclusive */
} FamilyEntry;


static ReplayTask *build_tasks(List *objects, int *ntasks);
static void analyze_task(ReplayTask *task);
static bool plain_table(Node *stmt);
static bool own_table(const ReplayTask *task, const RangeVar *rv);
static bool grants_on_own_table(const ReplayTask *task, const GrantStmt *grant);
static void add_relation(ReplayTask *task, RangeVar *rv, bool index_build);
static Oid	family_root(Oid relid);
static void add_edge(ReplayTask *tasks, int from, int to);
static void add_family_edges(ReplayTask *tasks, int ntasks);
static int	compare_task_index(Datum a, Datum b, void *arg);
static int	place_deferred(ReplayTask *tasks, int n, List **deferred);
static void analyze_error_callback(void *arg);

/*
 * tsm_replay_parallel
 *		Replay "objects" (a section, in creation order) with up to "jobs"
 *		background workers, each object committed on its own.  *committed
 *		(when given) counts the objects committed so far, also when this
 *		ends in an error.
 */
void
tsm_replay_parallel(List *objects, int jobs, const TsmReplayGuard *guard,
					int *committed)
{
	MemoryContext cxt;
	MemoryContext oldcxt;
	ReplayTask *tasks;
	int			ntasks;
	int			nworkers;
	StringInfoData area;
	Size		shared_size;
	TsmReplayShared *shared;
	TsmReplaySharedTask *stasks;
	TsmReplaySlot *slots;
	dsm_segment *seg;
	char	   *errq;
	shm_mq_handle **mqh;
	bool	   *detached;
	TsmWorkerHandles *lstate;
	binaryheap *ready;
	int			ndone = 0;
	int			nrunning = 0;
	int			i;

	if (objects == NIL)
		return;
	tsm_workers_check_no_relation_locks("pull_schema");

	cxt = AllocSetContextCreate(CurrentMemoryContext, "tsmigrate parallel replay",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);

	tasks = build_tasks(objects, &ntasks);
	nworkers = Min(jobs, ntasks);

	/* the text area: settings, then each task's strings */
	initStringInfo(&area);
	appendStringInfoChar(&area, '\0');
	shared_size = MAXALIGN(sizeof(TsmReplayShared)) +
		MAXALIGN(sizeof(TsmReplaySlot) * nworkers) +
		sizeof(TsmReplaySharedTask) * ntasks;
	shared = palloc0(shared_size);
	shared->nworkers = nworkers;
	shared->ntasks = ntasks;
	shared->settings_off = tsm_caller_settings_capture(&area, &shared->nsettings);
	shared->allow = guard->allow;
	shared->source_off = tsm_workers_area_add(&area, guard->source, -1);
	stasks = TSM_REPLAY_TASKS(shared);
	for (i = 0; i < ntasks; i++)
	{
		ListCell   *lc;

		stasks[i].off = tsm_workers_area_add(&area, tasks[i].obj->kind, -1);
		tsm_workers_area_add(&area, tasks[i].obj->name, -1);
		/* no role is named "": it stands for none */
		tsm_workers_area_add(&area, tasks[i].obj->owner ? tasks[i].obj->owner : "", -1);
		foreach(lc, tasks[i].stmts)
		{
			TsmSchemaStmt *s = lfirst(lc);

			tsm_workers_area_add(&area, s->tag, -1);
			tsm_workers_area_add(&area, s->sql, -1);
			tsm_workers_area_add(&area, s->without_timescaledb ? "t" : "f", -1);
			tsm_workers_area_add(&area, s->replace ? "t" : "f", -1);
		}
		stasks[i].nstmts = list_length(tasks[i].stmts);
		stasks[i].superuser_definer = tasks[i].obj->superuser_definer;
	}

	shared->leader = MyProc;
	tsm_caller_capture(&shared->caller);

	seg = tsm_workers_segment(TSM_REPLAY_MAGIC, (void **) &shared, shared_size, &area,
							  nworkers, &errq);
	SpinLockInit(&shared->mutex);
	slots = TSM_REPLAY_SLOTS(shared);

	/* from here on, leaving by error (or cancel) stops every worker */
	mqh = palloc0(sizeof(shm_mq_handle *) * nworkers);
	detached = palloc0(sizeof(bool) * nworkers);
	lstate = tsm_workers_start(seg, errq, nworkers, "tsmigrate_replay_worker_main",
							   "tsmigrate schema worker", mqh);
	if (lstate->nregistered < nworkers)
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				errmsg("could not start %d parallel schema workers", nworkers),
				errdetail("Only %d background worker slots were free.", lstate->nregistered),
				errhint("Raise \"max_worker_processes\" on the target (a restart is needed), or call pull_schema with fewer jobs."));

	ready = binaryheap_allocate(ntasks, compare_task_index, NULL);
	for (i = 0; i < ntasks; i++)
		if (tasks[i].indeg == 0)
			binaryheap_add_unordered(ready, Int32GetDatum(i));
	binaryheap_build(ready);

	while (ndone < ntasks)
	{
		bool		progress = false;

		for (i = 0; i < nworkers; i++)
		{
			TsmReplaySlotState state;
			int			task;

			if (!detached[i])
				tsm_worker_drain_errors(mqh[i], &detached[i], "tsmigrate schema worker");

			SpinLockAcquire(&shared->mutex);
			state = slots[i].state;
			task = slots[i].task;
			SpinLockRelease(&shared->mutex);

			if (state == TSM_RSLOT_DONE)
			{
				ListCell   *lc;

				ndone++;
				nrunning--;
				if (tasks[task].completes && committed != NULL)
					(*committed)++;
				foreach(lc, tasks[task].succ)
				{
					int			s = lfirst_int(lc);

					if (--tasks[s].indeg == 0)
						binaryheap_add(ready, Int32GetDatum(s));
				}
				state = TSM_RSLOT_IDLE;
				progress = true;
			}
			if (state == TSM_RSLOT_IDLE && !binaryheap_empty(ready))
			{
				task = DatumGetInt32(binaryheap_remove_first(ready));
				progress = true;
				SpinLockAcquire(&shared->mutex);
				slots[i].task = task;
				slots[i].alone = nrunning == 0 && binaryheap_empty(ready);
				slots[i].state = TSM_RSLOT_ASSIGNED;
				SpinLockRelease(&shared->mutex);
				SetLatch(&slots[i].proc->procLatch);
				nrunning++;
			}
			else if (state == TSM_RSLOT_IDLE)
			{
				SpinLockAcquire(&shared->mutex);
				slots[i].state = TSM_RSLOT_IDLE;
				SpinLockRelease(&shared->mutex);
			}
			else
			{
				BgwHandleStatus status;
				pid_t		pid;

				status = GetBackgroundWorkerPid(lstate->handles[i], &pid);
				if (status == BGWH_POSTMASTER_DIED)
					ereport(FATAL,
							errcode(ERRCODE_ADMIN_SHUTDOWN),
							errmsg("postmaster exited during a parallel schema replay"));
				if (status == BGWH_STOPPED)
				{
					/* it may have said why just before it stopped */
					if (!detached[i])
						tsm_worker_drain_errors(mqh[i], &detached[i], "tsmigrate schema worker");
					ereport(ERROR,
							errcode(ERRCODE_INTERNAL_ERROR),
							errmsg("tsmigrate schema worker %d exited unexpectedly", i + 1),
							errhint("The server log of the target may tell why."));
				}
			}
		}
		if (ndone == ntasks)
			break;
		if (progress)
			continue;			/* tasks freed by one worker, for another */
		if (nrunning == 0 && binaryheap_empty(ready))
		{
			bool		starting = false;

			for (i = 0; i < nworkers; i++)
				starting |= (slots[i].state == TSM_RSLOT_STARTING);
			if (!starting)
				elog(ERROR, "parallel schema replay has %d objects left and none can start",
					 ntasks - ndone);
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, TsmWaitEventCompat("TsmigrateSchemaWorkers"));
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	/* every object committed: let the workers go */
	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < nworkers; i++)
		slots[i].state = TSM_RSLOT_EXIT;
	SpinLockRelease(&shared->mutex);
	for (i = 0; i < nworkers; i++)
		if (slots[i].proc != NULL)
			SetLatch(&slots[i].proc->procLatch);
	for (i = 0; i < nworkers; i++)
		(void) WaitForBackgroundWorkerShutdown(lstate->handles[i]);
	for (i = 0; i < nworkers; i++)
		if (!detached[i])
			tsm_worker_drain_errors(mqh[i], &detached[i], "tsmigrate schema worker");

	cancel_on_dsm_detach(seg, tsm_workers_terminate, PointerGetDatum(lstate));
	dsm_detach(seg);
	for (i = 0; i < nworkers; i++)
		pfree(lstate->handles[i]);
	pfree(lstate);

	/*
	 * The workers' commits, made without waiting, durable now.  Up to where
	 * the WAL inserted so far ends: when that is a page's start, the insert
	 * position points past the page's header, where no record is yet, and
	 * XLogFlush refuses it ("xlog flush request ... is not satisfied").
	 */
	{
		XLogRecPtr	upto = GetXLogInsertRecPtr();

		if (XLogSegmentOffset(upto, wal_segment_size) == SizeOfXLogLongPHD)
			upto -= SizeOfXLogLongPHD;
		else if (upto % XLOG_BLCKSZ == SizeOfXLogShortPHD)
			upto -= SizeOfXLogShortPHD;
		XLogFlush(upto);
	}

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
}

static int
compare_task_index(Datum a, Datum b, void *arg)
{
	int			x = DatumGetInt32(a);
	int			y = DatumGetInt32(b);

	/* binaryheap keeps the largest first: the lowest index is the largest */
	return (x < y) ? 1 : (x > y) ? -1 : 0;
}

static TsmSchemaStmt *
make_stmt(const char *tag, char *sql)
{
	TsmSchemaStmt *s = palloc0(sizeof(TsmSchemaStmt));

	s->tag = pstrdup(tag);
	s->sql = sql;
	return s;
}

/*
 * place_deferred
 *		Put the second steps of the split constraints in "deferred" at task
 *		"n" and after; returns the next free task.
 */
static int
place_deferred(ReplayTask *tasks, int n, List **deferred)
{
	ListCell   *lc;

	foreach(lc, *deferred)
	{
		ObjectTasks *entry = lfirst(lc);
		const TsmSchemaObject *obj = entry->key;

		tasks[n].obj = obj;
		tasks[n].stmts = lcons(make_stmt("AlterTableStmt", obj->split_constraint),
							   list_copy_tail(obj->stmts, 1));
		add_edge(tasks, entry->first, n);
		entry->last = n++;
	}
	*deferred = NIL;
	return n;
}

/*
 * tsm_replay_limit_splits
 *		Keep a constraint's two steps (split_index) only where nothing among
 *		the indexes and constraints (which its second step is queued after)
 *		depends on it, and not on a hypertable, which takes no USING INDEX.
 */
void
tsm_replay_limit_splits(List *objects)
{
	ListCell   *lc;

	foreach(lc, objects)
	{
		TsmSchemaObject *obj = lfirst(lc);
		ListCell   *ac;

		if (obj->prio <= TSM_PRIO_INDEX)
			foreach(ac, obj->after)
				((TsmSchemaObject *) lfirst(ac))->split_index = NULL;
	}
	foreach(lc, objects)
	{
		TsmSchemaObject *obj = lfirst(lc);

		if (obj->split_index != NULL &&
			tsm_hypertable_sql(obj->split_constraint) != obj->split_constraint)
			obj->split_index = NULL;
	}
}

/*
 * build_tasks
 *		Turn the objects into tasks, in order, with the edges of the
 *		dependency graph.
 */
static ReplayTask *
build_tasks(List *objects, int *ntasks)
{
	int			nobjects = list_length(objects);
	ReplayTask *tasks;
	List	  **chunk_stmts = palloc0(sizeof(List *) * Max(nobjects, 1));
	List	  **chunk_relids = palloc0(sizeof(List *) * Max(nobjects, 1));
	TsmSchemaStmt **roots = palloc0(sizeof(TsmSchemaStmt *) * Max(nobjects, 1));
	List	   *split_indexes = NIL;
	int			nchunk_tasks = 0;
	HASHCTL		ctl;
	HTAB	   *index;
	List	   *deferred = NIL;
	ListCell   *lc;
	ErrorContextCallback errcallback;
	int			n = 0;
	int			pos = 0;
	int			i;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(TsmSchemaObject *);
	ctl.entrysize = sizeof(ObjectTasks);
	ctl.hcxt = CurrentMemoryContext;
	index = hash_create("tsmigrate replay objects", nobjects, &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	tsm_replay_limit_splits(objects);

	/* a hypertable's index or key: one task per chunk, then its own */
	foreach(lc, objects)
	{
		TsmSchemaObject *obj = lfirst(lc);
		int			k = foreach_current_index(lc);

		if (obj->split_index == NULL &&
			tsm_replay_chunk_statements(obj, &chunk_stmts[k], &chunk_relids[k], &roots[k],
										&split_indexes))
			nchunk_tasks += list_length(chunk_stmts[k]);
	}
	tasks = palloc0(sizeof(ReplayTask) * (nobjects * 2 + nchunk_tasks));

	foreach(lc, objects)
	{
		TsmSchemaObject *obj = lfirst(lc);
		ObjectTasks *entry;
		bool		found;

		/* second steps of split constraints go before what follows indexes */
		if (obj->prio > TSM_PRIO_INDEX)
			n = place_deferred(tasks, n, &deferred);

		entry = hash_search(index, &obj, HASH_ENTER, &found);
		entry->pos = pos++;
		entry->first = n;
		tasks[n].obj = obj;
		if (obj->split_index != NULL)
		{
			tasks[n++].stmts = list_make1(make_stmt("IndexStmt", obj->split_index));
			deferred = lappend(deferred, entry);
		}
		else if (roots[entry->pos] != NULL)
		{
			ListCell   *sc;
			ListCell   *rc;
			int			k = entry->pos;

			/* the chunks' tasks, then the hypertable's, which waits for them */
			forboth(sc, chunk_stmts[k], rc, chunk_relids[k])
			{
				tasks[n].obj = obj;
				tasks[n].chunk = lfirst_oid(rc);
				tasks[n++].stmts = list_make1(lfirst(sc));
			}
			tasks[n].obj = obj;
			tasks[n].stmts = lcons(roots[k], list_copy_tail(obj->stmts, 1));
			entry->last = n++;
		}
		else
		{
			tasks[n].stmts = obj->stmts;
			entry->last = n++;
		}
	}
	n = place_deferred(tasks, n, &deferred);
	foreach(lc, objects)
	{
		TsmSchemaObject *obj = lfirst(lc);

		tasks[((ObjectTasks *) hash_search(index, &obj, HASH_FIND, NULL))->last].completes = true;
	}

	/* what each task locks */
	errcallback.callback = analyze_error_callback;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	for (i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		errcallback.arg = &tasks[i];
		analyze_task(&tasks[i]);
	}
	error_context_stack = errcallback.previous;

	add_family_edges(tasks, n);

	/* the source's dependencies */
	foreach(lc, objects)
	{
		TsmSchemaObject *obj = lfirst(lc);
		ObjectTasks *entry = hash_search(index, &obj, HASH_FIND, NULL);
		ListCell   *ac;

		foreach(ac, obj->after)
		{
			TsmSchemaObject *dep = lfirst(ac);
			ObjectTasks *de = hash_search(index, &dep, HASH_FIND, NULL);

			/* not replayed (it exists), or after it (a broken cycle) */
			if (de == NULL || de->pos >= entry->pos)
				continue;
			add_edge(tasks, de->last, entry->first);
		}
	}

	*ntasks = n;
	return tasks;
}

/*
 * analyze_task
 *		Which tables a task touches (by family), and whether it is only
 *		index builds on plain tables.
 */
static void
analyze_task(ReplayTask *task)
{
	ListCell   *lc;

	/* a chunk's index or constraint: that chunk alone (replay_chunks.c) */
	if (OidIsValid(task->chunk))
	{
		TsmSchemaStmt *s = linitial(task->stmts);

		task->families = list_make1_oid(task->chunk);
		task->shared = strcmp(s->tag, "IndexStmt") == 0;
		return;
	}

	task->shared = true;
	foreach(lc, task->stmts)
	{
		TsmSchemaStmt *s = lfirst(lc);
		List	   *raw = raw_parser(s->sql, RAW_PARSE_DEFAULT);
		Node	   *stmt;

		if (list_length(raw) != 1)
		{
			/* the worker's check reports it */
			task->barrier = true;
			continue;
		}
		stmt = linitial_node(RawStmt, raw)->stmt;
		switch (nodeTag(stmt))
		{
			case T_CreateStmt:
				/* a table of its own, no parent, as pre-data's come */
				if (lc == list_head(task->stmts) && plain_table(stmt))
				{
					task->creates = ((CreateStmt *) stmt)->relation;
					task->shared = false;
				}
				else
					task->barrier = true;
				break;
			case T_GrantStmt:
				if (!grants_on_own_table(task, (GrantStmt *) stmt))
					task->barrier = true;
				break;
			case T_IndexStmt:
				add_relation(task, ((IndexStmt *) stmt)->relation, true);
				break;
			case T_CommentStmt:
			case T_AlterStatsStmt:
			case T_AlterOwnerStmt:	/* of a statistics object */
				break;
			case T_AlterTableStmt:
				{
					AlterTableStmt *alter = (AlterTableStmt *) stmt;
					ListCell   *cc;

					task->shared = false;

					/* its owner, options ... after CREATE TABLE */
					if (alter->objtype == OBJECT_TABLE && own_table(task, alter->relation))
						break;

					/*
					 * ALTER INDEX ... ATTACH PARTITION: the index's table
					 * counts
					 */
					if (alter->objtype == OBJECT_INDEX)
						break;
					add_relation(task, alter->relation, false);
					foreach(cc, alter->cmds)
					{
						AlterTableCmd *cmd = lfirst_node(AlterTableCmd, cc);

						if (cmd->subtype == AT_AddConstraint && cmd->def != NULL &&
							IsA(cmd->def, Constraint) &&
							((Constraint *) cmd->def)->contype == CONSTR_FOREIGN)
							add_relation(task, ((Constraint *) cmd->def)->pktable, false);
					}
				}
				break;
			case T_CreateTrigStmt:
				add_relation(task, ((CreateTrigStmt *) stmt)->relation, false);
				if (((CreateTrigStmt *) stmt)->constrrel != NULL)
					add_relation(task, ((CreateTrigStmt *) stmt)->constrrel, false);
				break;
			case T_RuleStmt:
				add_relation(task, ((RuleStmt *) stmt)->relation, false);
				break;
			case T_CreatePolicyStmt:
				add_relation(task, ((CreatePolicyStmt *) stmt)->table, false);
				break;
			case T_RefreshMatViewStmt:
				add_relation(task, ((RefreshMatViewStmt *) stmt)->relation, false);
				break;
			case T_CreateStatsStmt:
				{
					ListCell   *rc;

					foreach(rc, ((CreateStatsStmt *) stmt)->relations)
					{
						if (IsA(lfirst(rc), RangeVar))
							add_relation(task, lfirst(rc), false);
						else
							task->barrier = true;
					}
				}
				break;
			default:
				task->barrier = true;
				break;
		}
	}
	if (task->families == NIL && task->creates == NULL)
		task->barrier = true;
	if (task->barrier)
		task->shared = false;
}

/*
 * plain_table
 *		CREATE TABLE of a table that is no partition or inheritance child:
 *		the only relation it locks is its own, new one.  Two of them run side
 *		by side; what either is made of (types, functions, sequences of the
 *		section) it waits for through the source's dependencies.
 */
static bool
plain_table(Node *stmt)
{
	CreateStmt *create = (CreateStmt *) stmt;

	return create->inhRelations == NIL && create->partbound == NULL &&
		create->partspec == NULL && create->relation->schemaname != NULL;
}

/* is "rv" the table that the task creates? */
static bool
own_table(const ReplayTask *task, const RangeVar *rv)
{
	return task->creates != NULL && rv != NULL && rv->schemaname != NULL &&
		rv->catalogname == NULL &&
		strcmp(rv->schemaname, task->creates->schemaname) == 0 &&
		strcmp(rv->relname, task->creates->relname) == 0;
}

/* GRANT or REVOKE on the table the task creates, and nothing else */
static bool
grants_on_own_table(const ReplayTask *task, const GrantStmt *grant)
{
	ListCell   *lc;

	if (grant->targtype != ACL_TARGET_OBJECT || grant->objtype != OBJECT_TABLE ||
		grant->objects == NIL)
		return false;
	foreach(lc, grant->objects)
		if (!IsA(lfirst(lc), RangeVar) || !own_table(task, lfirst(lc)))
		return false;
	return true;
}

/*
 * add_relation
 *		The task touches "rv"; an index build on a plain table (no parent, no
 *		child, not partitioned) may share it with other index builds.
 */
static void
add_relation(ReplayTask *task, RangeVar *rv, bool index_build)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	Oid			root;
	char		relkind;

	if (!OidIsValid(relid))
	{
		task->barrier = true;
		return;
	}
	root = family_root(relid);
	relkind = get_rel_relkind(relid);
	if (!index_build || root != relid || has_subclass(relid) ||
		(relkind != RELKIND_RELATION && relkind != RELKIND_MATVIEW))
		task->shared = false;
	task->families = list_append_unique_oid(task->families, root);

	/*
	 * A statement on an inheritance parent (a hypertable) locks its children
	 * (the chunks) too, which tasks of their own may build on.
	 */
	if (root == relid && relkind == RELKIND_RELATION && has_subclass(relid))
	{
		ListCell   *cc;

		foreach(cc, find_inheritance_children(relid, NoLock))
			task->families = list_append_unique_oid(task->families, lfirst_oid(cc));
	}
}

/* the topmost parent of a partition or inheritance child, or itself */
static Oid
family_root(Oid relid)
{
	int			depth;

	Relation	inherits = table_open(InheritsRelationId, AccessShareLock);

	for (depth = 0; depth < 1000; depth++)
	{
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tup;
		Oid			parent = InvalidOid;

		ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(relid));
		scan = systable_beginscan(inherits, InheritsRelidSeqnoIndexId, true,
								  NULL, 1, &key);
		/* the first parent (lowest inhseqno) */
		if (HeapTupleIsValid(tup = systable_getnext(scan)))
			parent = ((Form_pg_inherits) GETSTRUCT(tup))->inhparent;
		systable_endscan(scan);
		if (!OidIsValid(parent))
			break;
		relid = parent;
	}
	table_close(inherits, AccessShareLock);
	return relid;
}

static void
add_edge(ReplayTask *tasks, int from, int to)
{
	if (from >= to)
		elog(ERROR, "parallel schema replay: task %d cannot wait for task %d",
			 to, from);
	tasks[from].succ = lappend_int(tasks[from].succ, to);
	tasks[to].indeg++;
}

/*
 * add_family_edges
 *		Per family, tasks in order: an exclusive task waits for everything
 *		before it, an index build for the last exclusive task only.  A
 *		barrier waits for every task since the last barrier, and every
 *		later task waits for it.
 */
static void
add_family_edges(ReplayTask *tasks, int ntasks)
{
	HASHCTL		ctl;
	HTAB	   *families;
	List	   *since_barrier = NIL;
	int			last_barrier = -1;
	int			i;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(FamilyEntry);
	ctl.hcxt = CurrentMemoryContext;
	families = hash_create("tsmigrate replay families", 256, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	for (i = 0; i < ntasks; i++)
	{
		ReplayTask *task = &tasks[i];
		ListCell   *lc;

		if (task->barrier)
		{
			foreach(lc, since_barrier)
				add_edge(tasks, lfirst_int(lc), i);
			if (last_barrier >= 0)
				add_edge(tasks, last_barrier, i);
			last_barrier = i;
			since_barrier = NIL;
			continue;
		}
		if (last_barrier >= 0)
			add_edge(tasks, last_barrier, i);
		since_barrier = lappend_int(since_barrier, i);

		foreach(lc, task->families)
		{
			Oid			root = lfirst_oid(lc);
			bool		found;
			FamilyEntry *fam = hash_search(families, &root, HASH_ENTER, &found);

			if (!found)
			{
				fam->last_exclusive = -1;
				fam->shared_since = NIL;
			}
			if (fam->last_exclusive >= 0)
				add_edge(tasks, fam->last_exclusive, i);
			if (task->shared)
				fam->shared_since = lappend_int(fam->shared_since, i);
			else
			{
				ListCell   *sc;

				foreach(sc, fam->shared_since)
					add_edge(tasks, lfirst_int(sc), i);
				fam->shared_since = NIL;
				fam->last_exclusive = i;
			}
		}
	}
}

static void
analyze_error_callback(void *arg)
{
	ReplayTask *task = (ReplayTask *) arg;

	errcontext("replaying definition of %s %s", task->obj->kind, task->obj->name);
}

/*
 * tsmigrate_replay_worker_main
 *		Entry point of a schema worker: replay the objects the leader hands
 *		over, one transaction each, until told to exit.
 */
void
tsmigrate_replay_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	TsmReplayShared *shared;
	TsmReplaySlot *slot;
	TsmReplaySharedTask *stasks;
	char	   *area;
	char	   *errq;
	int			myindex;
	MemoryContext taskcxt;
	MemoryContext objcxt;
	MemoryContext oldcxt;
	TsmReplayGuard guard;
	char	   *p;
	int			i;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = tsm_worker_map(main_arg, TSM_REPLAY_MAGIC, "tsmigrate schema worker",
						 (void **) &shared, &area, &errq, &myindex);
	if (myindex < 0 || myindex >= shared->nworkers)
		elog(ERROR, "invalid tsmigrate schema worker number %d", myindex);
	slot = &TSM_REPLAY_SLOTS(shared)[myindex];
	stasks = TSM_REPLAY_TASKS(shared);

	SpinLockAcquire(&shared->mutex);
	slot->proc = MyProc;
	SpinLockRelease(&shared->mutex);

	/* the caller's settings, then those of a pg_dump script */
	tsm_worker_begin(seg, errq, myindex, &shared->caller,
					 area + shared->settings_off, shared->nsettings);
	tsm_replay_settings(GUC_ACTION_SET);

	/*
	 * Each object commits without waiting for the WAL flush: thousands of
	 * them, each its own fsync, would be most of the section's time.  The
	 * leader flushes the WAL once they are all in, before it returns
	 * (tsm_replay_parallel), so that none is lost that the caller was told
	 * was created.
	 */
	SetConfigOption("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION);
	CommitTransactionCommand();

	taskcxt = AllocSetContextCreate(TopMemoryContext, "tsmigrate replay task",
									ALLOCSET_DEFAULT_SIZES);
	objcxt = AllocSetContextCreate(TopMemoryContext, "tsmigrate per-object",
								   ALLOCSET_DEFAULT_SIZES);
	/* what the caller allowed; what this worker creates, for its later tasks */
	oldcxt = MemoryContextSwitchTo(AllocSetContextCreate(TopMemoryContext,
														 "tsmigrate replay guard",
														 ALLOCSET_DEFAULT_SIZES));
	tsm_replay_guard_init(&guard, shared->allow, area + shared->source_off, false);
	MemoryContextSwitchTo(oldcxt);

	/* ready, unless the leader is done already */
	SpinLockAcquire(&shared->mutex);
	if (slot->state == TSM_RSLOT_STARTING)
		slot->state = TSM_RSLOT_IDLE;
	SpinLockRelease(&shared->mutex);
	SetLatch(&shared->leader->procLatch);

	for (;;)
	{
		TsmReplaySlotState state;
		int			task;
		bool		alone;
		TsmSchemaObject obj;
		TsmSchemaStmt *first;

		SpinLockAcquire(&shared->mutex);
		state = slot->state;
		task = slot->task;
		alone = slot->alone;
		SpinLockRelease(&shared->mutex);
		if (state == TSM_RSLOT_EXIT)
			break;
		if (state != TSM_RSLOT_ASSIGNED)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L,
							 TsmWaitEventCompat("TsmigrateSchemaTask"));
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			continue;
		}

		/* the object, as the leader wrote it */
		oldcxt = MemoryContextSwitchTo(taskcxt);
		memset(&obj, 0, sizeof(obj));
		p = area + stasks[task].off;
		obj.kind = p;
		p += strlen(p) + 1;
		obj.name = p;
		p += strlen(p) + 1;
		obj.owner = *p != '\0' ? p : NULL;
		p += strlen(p) + 1;
		obj.superuser_definer = stasks[task].superuser_definer;
		for (i = 0; i < stasks[task].nstmts; i++)
		{
			TsmSchemaStmt *s = palloc0(sizeof(TsmSchemaStmt));

			s->tag = p;
			p += strlen(p) + 1;
			s->sql = p;
			p += strlen(p) + 1;
			s->without_timescaledb = *p == 't';
			p += strlen(p) + 1;
			s->replace = *p == 't';
			p += strlen(p) + 1;
			obj.stmts = lappend(obj.stmts, s);
		}
		MemoryContextSwitchTo(oldcxt);

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		if (!alone)
			tsm_index_builds_side_by_side();
		/* what it runs, but a statement that holds a password */
		first = linitial(obj.stmts);
		pgstat_report_activity(STATE_RUNNING,
							   tsm_replay_holds_secret(&obj, first->sql) ?
							   psprintf("tsmigrate: %s %s", obj.kind, obj.name) : first->sql);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		PushActiveSnapshot(GetTransactionSnapshot());
		tsm_replay_object(&obj, objcxt, &guard);
		PopActiveSnapshot();
		if (SPI_finish() != SPI_OK_FINISH)
			elog(ERROR, "SPI_finish failed");
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
		MemoryContextReset(taskcxt);

		SpinLockAcquire(&shared->mutex);
		slot->state = TSM_RSLOT_DONE;
		SpinLockRelease(&shared->mutex);
		SetLatch(&shared->leader->procLatch);
	}

	dsm_detach(seg);
	proc_exit(0);
}
