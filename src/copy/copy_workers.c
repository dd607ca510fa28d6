/*-------------------------------------------------------------------------
 *
 * copy_workers.c
 *	  Copy tasks in dynamic background workers sharing one source snapshot
 *
 * The leader (the backend running pull_data) puts everything the workers
 * need into one DSM segment laid out with shm_toc:
 *
 *	TSM_KEY_SHARED	TsmCopyShared: a spinlock, the next task to take, the
 *					caller's database and roles, one slot per worker and one
 *					TsmSharedTask per task (largest first)
 *	TSM_KEY_TEXT	the snapshot id, the source's connection options and the
 *					tasks' source commands and column lists
 *	TSM_KEY_ERRQ	one shm_mq per worker, through which the worker's
 *					errors and notices reach the leader
 *					(pq_redirect_to_shm_mq, as parallel query does)
 *
 * The connection options may hold the password of the caller's user
 * mapping: they live in this segment only for the duration of the call,
 * never in a table or a file.
 *
 * NOTES
 *	A worker's life: STARTING -> COPYING (source snapshot imported) ->
 *	READY (all tasks taken and copied, its transaction still open) ->
 *	COMMITTED.  The leader sets "decision" only when every worker is READY,
 *	so if any worker fails, the leader rethrows its error, its DSM detach
 *	callback terminates the others and none of them commits: no table is
 *	left half-copied by a failed call.  The leader's own source transaction
 *	(which exported the snapshot) stays open until every worker has ended.
 *
 *	For migrate (a run id given) a worker commits each task instead, and
 *	records its relations in the run's tsmigrate.run_relation as it goes:
 *	"copying" when it takes the first task of a relation, "copied" once
 *	every task of it is committed (by whichever worker commits the last
 *	one, in a transaction of its own), and that worker then analyzes it.
 *	A failed run thus leaves complete relations committed and marked
 *	copied, and the ones caught in flight "copying", which the next run
 *	empties and copies again.  A chunk's compressed rows, attached later
 *	by the leader, are marked copied by the leader once attached.
 *
 *	A run's relation may come with post-data index builds (TsmCopyTask's
 *	indexes, replay_early.c): once it is copied, they are tasks for the
 *	index builders, as many more workers as there are copy workers (as
 *	pgcopydb's index jobs), started where slots are free, so that the
 *	copies go on while tables already copied get their indexes.  A copy
 *	worker with no copy left builds too.  Each build commits on its own,
 *	and the worker that commits a relation's last one analyzes it.  A
 *	worker with nothing to take waits while builds remain for relations
 *	still being copied.  A build taken while other work runs or waits
 *	sorts without parallel workers (tsm_index_builds_side_by_side).
 *
 *	Workers run as the caller, and relay their errors to the leader, by
 *	the machinery of workers/workers.c, which replay_parallel.c's schema
 *	workers use too.
 *
 * IDENTIFICATION
 *	  src/copy/copy_workers.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "mb/pg_wchar.h"
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
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
#include "miscadmin.h"
#include "pgstat.h"

#include "compat.h"
#include "tsmigrate.h"
#include "copy/copy.h"
#include "remote/remote.h"
#include "replay/replay.h"
#include "schema/schema.h"
#include "target/state.h"
#include "target/target.h"
#include "workers/workers.h"

#define TSM_SHM_MAGIC		0x54534d31	/* "TSM1" */

typedef enum TsmWorkerState
{
	TSM_WORKER_STARTING = 0,
	TSM_WORKER_COPYING,
	TSM_WORKER_READY,
	TSM_WORKER_COMMITTED
} TsmWorkerState;

typedef struct TsmWorkerSlot
{
	PGPROC	   *proc;			/* set by the worker, to wake it */
	TsmWorkerState state;
} TsmWorkerSlot;

typedef struct TsmSharedTask
{
	Oid			relid;
	TsmCopyCommand command;		/* its strings in the text area: */
	Size		relation_off;
	Size		srccols_off;
	Size		columns_off;	/* target column names */
	Size		mark_off;		/* run_relation name, 0 when none */
	int			group;			/* the tasks of one relation, -1 when none */
	bool		leader_marks;	/* copied: the leader marks it, later */
	bool		whole;			/* the group's only task: the whole table */
	bool		done;
	int64		rows;
	int64		bytes;
	TimestampTz start;
	TimestampTz end;
} TsmSharedTask;

typedef struct TsmCopyShared
{
	slock_t		mutex;
	PGPROC	   *leader;
	TsmCaller	caller;			/* whom the workers run as */
	Size		source_off;		/* the source, tsm_source_flatten's */
	Size		label_off;		/* and its label */
	Size		snapshot_off;
	/* work */
	int			nworkers;		/* slots: copy workers, then index builders */
	int			ncopiers;		/* copy workers */
	int			nstarted;		/* workers registered */
	int			ntasks;
	int			next_task;		/* protected by mutex */
	bool		commit;			/* the leader's decision */
	int64		run_id;			/* migrate's run: commit each task, mark */
	bool		freeze;			/* tsmigrate.copy_freeze */
	int			ngroups;
	int			nindexes;
	Size		settings_off;	/* the caller's, name\0value\0 pairs */
	int			nsettings;
	/* protected by mutex */
	int			indexes_untaken;	/* index builds no worker has taken */
	int			ready_head;		/* builds whose relation is copied, in the */
	int			ready_tail;		/* order the relations were: -1 when none */
	int			nbusy;			/* workers with a task in hand */
} TsmCopyShared;

/* the tasks of one relation to mark (run_id set), by group number */
typedef struct TsmSharedGroup
{
	bool		started;		/* marked copying */
	int			remaining;		/* tasks not committed yet */
	int64		rows;
	int64		bytes;
	bool		copied;			/* every task committed: builds may start */
	int			indexes_left;	/* index builds not committed yet */
	int			first_index;	/* its builds are first_index .. + nindexes */
	int			nindexes;
} TsmSharedGroup;

/* an index build to run once its relation (group) is copied */
typedef struct TsmSharedIndex
{
	int			group;
	Oid			relid;
	Size		off;			/* kind\0name\0sql\0 in the text area */
	bool		taken;
	int			next_ready;		/* the next build in the ready queue, or -1 */
} TsmSharedIndex;

#define TSM_SHARED_WORKERS(sh) \
	((TsmWorkerSlot *) ((char *) (sh) + MAXALIGN(sizeof(TsmCopyShared))))
#define TSM_SHARED_TASKS(sh) \
	((TsmSharedTask *) ((char *) TSM_SHARED_WORKERS(sh) + \
						MAXALIGN(sizeof(TsmWorkerSlot) * (sh)->nworkers)))
#define TSM_SHARED_GROUPS(sh) \
	((TsmSharedGroup *) ((char *) TSM_SHARED_TASKS(sh) + \
						 MAXALIGN(sizeof(TsmSharedTask) * (sh)->ntasks)))
#define TSM_SHARED_INDEXES(sh) \
	((TsmSharedIndex *) ((char *) TSM_SHARED_GROUPS(sh) + \
						 MAXALIGN(sizeof(TsmSharedGroup) * (sh)->ngroups)))


static int	compare_task_size(const void *a, const void *b);
static int	group_tasks(TsmCopyTask **tasks, int ntasks, int *groups);
static int	compare_task_mark(const void *a, const void *b);
static void wait_for_workers(TsmCopyShared *shared, shm_mq_handle **mqh,
							 TsmWorkerHandles *lstate, TsmWorkerState goal);
static void worker_copy_tasks(TsmCopyShared *shared, char *area, PGconn *conn);
static int	take_index_build(TsmCopyShared *shared);
static void worker_index_build(TsmCopyShared *shared, char *area, int index,
							   bool alone);
static void wake_workers(TsmCopyShared *shared);
static void worker_mark(TsmCopyShared *shared, const char *relation,
						TsmRelationState state, int64 rows, int64 bytes);
static void worker_next_transaction(void);
static void source_begin(PGconn *conn, const char *snapshot);
static void worker_analyze(Oid relid);

/*
 * Tasks a copy worker reads in one source transaction.  A task locks its
 * relation and, through the planner, the relation's indexes: 8 tasks stay
 * within a transaction's share of the default lock table (64) even for
 * chunks with several indexes, and cost 3 round trips more per 8 copies.
 */
#define TSM_SOURCE_TASKS_PER_XACT 8

/* group_tasks' tasks, whose indexes compare_task_mark compares */
static TsmCopyTask **group_tasks_sorting;

/*
 * tsm_copy_open_source
 *		The leader's source connection, in a REPEATABLE READ, READ ONLY
 *		transaction: under "given_snapshot" when the caller holds one open
 *		(migrate), otherwise under its own, exported for the workers when
 *		there are several jobs.  *snapshot is what the workers import, or
 *		NULL when the leader copies alone.
 */
PGconn *
tsm_copy_open_source(const TsmSource *src, int jobs, const char *given_snapshot,
					 char **snapshot)
{
	PGconn	   *conn = tsm_conn_open(src);

	*snapshot = NULL;
	tsm_conn_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	if (given_snapshot != NULL)
	{
		tsm_conn_command(conn, psprintf("SET TRANSACTION SNAPSHOT %s",
										quote_literal_cstr(given_snapshot)));
		*snapshot = pstrdup(given_snapshot);
	}
	else if (jobs > 1)
	{
		TsmRows    *r = tsm_query(conn, "SELECT pg_catalog.pg_export_snapshot()", 0, NULL,
								  1, "the source's snapshot");

		*snapshot = pstrdup(tsm_rows_get(r, 0, 0));
	}
	return conn;
}

/*
 * tsm_copy_run_tasks
 *		Run copy tasks, largest first: in the leader over "conn" when there
 *		is one job (or one task), otherwise in "jobs" background workers
 *		reading under "snapshot".  Fills each task's rows, bytes and times.
 *
 * With a run id (migrate's), always in workers, which commit each task and
 * mark its relation in the run (see NOTES above).
 */
void
tsm_copy_run_tasks(PGconn *conn, const TsmSource *src, const char *snapshot,
				   TsmCopyTask *tasks, int ntasks, int jobs, int64 run_id)
{
	MemoryContext taskcxt;
	TsmCopyTask **order;
	int			i;

	/* largest first, the caller's array left in its order */
	order = palloc(sizeof(TsmCopyTask *) * Max(ntasks, 1));
	for (i = 0; i < ntasks; i++)
		order[i] = &tasks[i];
	qsort(order, ntasks, sizeof(TsmCopyTask *), compare_task_size);

	if ((jobs > 1 && ntasks > 1) || run_id != 0)
	{
		tsm_parallel_copy(src, snapshot, order, ntasks, jobs, run_id);
		pfree(order);
		return;
	}

	taskcxt = AllocSetContextCreate(CurrentMemoryContext, "tsmigrate copy task",
									ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < ntasks; i++)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(taskcxt);
		TsmCopyTask *task = order[i];
		uint64		bytes;

		task->start = GetCurrentTimestamp();
		task->rows = tsm_copy_table(conn, task->relid, &task->command,
									task->columns, false, &bytes);
		task->bytes = bytes;
		task->end = GetCurrentTimestamp();
		CommandCounterIncrement();
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(taskcxt);
	}
	MemoryContextDelete(taskcxt);
	pfree(order);
}

/* largest first; equal sizes keep the order the caller built */
static int
compare_task_size(const void *a, const void *b)
{
	const TsmCopyTask *x = *(TsmCopyTask *const *) a;
	const TsmCopyTask *y = *(TsmCopyTask *const *) b;

	if (x->size != y->size)
		return (x->size < y->size) ? 1 : -1;
	return (x > y) - (x < y);
}

/*
 * tsm_parallel_copy
 *		Copy "tasks" with up to "jobs" background workers, each reading the
 *		source under "snapshot"; with "run_id", each task committed on its
 *		own and its relation marked in that run.
 *
 * Returns once every worker has committed; the tasks' rows, bytes and
 * seconds are filled in.  A worker's error is rethrown here.
 */
void
tsm_parallel_copy(const TsmSource *src, const char *snapshot,
				  TsmCopyTask **tasks, int ntasks, int jobs, int64 run_id)
{
	int			ncopiers = Min(jobs, ntasks);
	int			nworkers;
	Size		shared_size;
	StringInfoData area;
	dsm_segment *seg;
	TsmCopyShared *shared;
	TsmSharedTask *stasks;
	TsmSharedGroup *groups;
	TsmSharedIndex *sindexes;
	int		   *task_group;
	int			ngroups;
	int			nindexes = 0;
	List	  **group_indexes;
	Oid		   *group_relid;
	char	   *errq;
	shm_mq_handle **mqh;
	TsmWorkerHandles *lstate;
	int			i;

	if (ncopiers <= 0)
		return;

	/* the text area: snapshot, connection options, tasks' strings */
	initStringInfo(&area);
	appendStringInfoChar(&area, '\0');	/* offset 0 is "" */

	task_group = palloc(sizeof(int) * ntasks);
	ngroups = run_id != 0 ? group_tasks(tasks, ntasks, task_group) : 0;

	/* a run's relations' index builds, once per relation */
	group_indexes = palloc0(sizeof(List *) * Max(ngroups, 1));
	group_relid = palloc0(sizeof(Oid) * Max(ngroups, 1));
	for (i = 0; i < ntasks; i++)
		if (ngroups > 0 && task_group[i] >= 0 && group_indexes[task_group[i]] == NIL &&
			!tasks[i]->leader_marks)
		{
			group_indexes[task_group[i]] = tasks[i]->indexes;
			group_relid[task_group[i]] = tasks[i]->relid;
			nindexes += list_length(tasks[i]->indexes);
		}

	/* as many index builders as copy workers, for as long as builds wait */
	nworkers = ncopiers + Min(ncopiers, nindexes);

	shared_size = MAXALIGN(sizeof(TsmCopyShared)) +
		MAXALIGN(sizeof(TsmWorkerSlot) * nworkers) +
		MAXALIGN(sizeof(TsmSharedTask) * ntasks) +
		MAXALIGN(sizeof(TsmSharedGroup) * ngroups) +
		sizeof(TsmSharedIndex) * nindexes;
	shared = palloc0(shared_size);
	shared->nworkers = nworkers;
	shared->ncopiers = ncopiers;
	shared->ntasks = ntasks;
	shared->run_id = run_id;
	shared->freeze = tsm_copy_freeze;
	shared->ngroups = ngroups;
	shared->nindexes = nindexes;
	shared->indexes_untaken = nindexes;
	shared->ready_head = -1;
	shared->ready_tail = -1;
	shared->settings_off = tsm_caller_settings_capture(&area, &shared->nsettings);
	shared->snapshot_off = tsm_workers_area_add(&area, snapshot, -1);
	shared->label_off = tsm_workers_area_add(&area, src->label, -1);
	shared->source_off = area.len;
	tsm_source_flatten(src, &area);
	stasks = TSM_SHARED_TASKS(shared);
	for (i = 0; i < ntasks; i++)
	{
		stasks[i].relid = tasks[i]->relid;
		stasks[i].command = tasks[i]->command;
		stasks[i].command.relation = stasks[i].command.columns = NULL;
		stasks[i].relation_off = tsm_workers_area_add(&area, tasks[i]->command.relation, -1);
		stasks[i].srccols_off = tsm_workers_area_add(&area, tasks[i]->command.columns ?
													 tasks[i]->command.columns : "", -1);
		stasks[i].columns_off = tsm_workers_area_add(&area, tasks[i]->columns,
													 tasks[i]->columns_len);
		stasks[i].group = -1;
		if (run_id != 0 && tasks[i]->mark != NULL)
		{
			stasks[i].mark_off = tsm_workers_area_add(&area, tasks[i]->mark, -1);
			stasks[i].group = task_group[i];
			stasks[i].leader_marks = tasks[i]->leader_marks;
		}
	}
	groups = TSM_SHARED_GROUPS(shared);
	for (i = 0; i < ntasks; i++)
		if (stasks[i].group >= 0)
			groups[stasks[i].group].remaining++;
	for (i = 0; i < ntasks; i++)
		stasks[i].whole = stasks[i].group >= 0 &&
			groups[stasks[i].group].remaining == 1;
	sindexes = TSM_SHARED_INDEXES(shared);
	nindexes = 0;
	for (i = 0; i < ngroups; i++)
	{
		ListCell   *lc;

		groups[i].first_index = nindexes;
		groups[i].nindexes = list_length(group_indexes[i]);
		foreach(lc, group_indexes[i])
		{
			TsmSchemaObject *obj = lfirst(lc);

			sindexes[nindexes].group = i;
			sindexes[nindexes].relid = group_relid[i];
			sindexes[nindexes].off = tsm_workers_area_add(&area, obj->kind, -1);
			tsm_workers_area_add(&area, obj->name, -1);
			tsm_workers_area_add(&area, ((TsmSchemaStmt *) linitial(obj->stmts))->sql, -1);
			groups[i].indexes_left++;
			nindexes++;
		}
	}

	shared->leader = MyProc;
	tsm_caller_capture(&shared->caller);

	seg = tsm_workers_segment(TSM_SHM_MAGIC, (void **) &shared, shared_size, &area,
							  nworkers, &errq);
	SpinLockInit(&shared->mutex);
	stasks = TSM_SHARED_TASKS(shared);

	/* from here on, leaving by error stops every worker started */
	mqh = palloc0(sizeof(shm_mq_handle *) * nworkers);
	lstate = tsm_workers_start(seg, errq, nworkers, "tsmigrate_copy_worker_main",
							   "tsmigrate copy worker", mqh);
	if (lstate->nregistered < ncopiers)
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				errmsg("could not start %d parallel copy workers", ncopiers),
				errdetail("Only %d background worker slots were free.", lstate->nregistered),
				errhint("Raise \"max_worker_processes\" on the target (a restart is needed), or call pull_data with fewer jobs."));
	/* index builders are extra: without a free slot, copy workers build */
	SpinLockAcquire(&shared->mutex);
	shared->nstarted = lstate->nregistered;
	SpinLockRelease(&shared->mutex);
	nworkers = lstate->nregistered;

	/* all copies done, every worker's transaction still open */
	if (run_id == 0)
	{
		wait_for_workers(shared, mqh, lstate, TSM_WORKER_READY);

		SpinLockAcquire(&shared->mutex);
		shared->commit = true;
		SpinLockRelease(&shared->mutex);
		for (i = 0; i < nworkers; i++)
			SetLatch(&TSM_SHARED_WORKERS(shared)[i].proc->procLatch);
	}

	wait_for_workers(shared, mqh, lstate, TSM_WORKER_COMMITTED);
	for (i = 0; i < nworkers; i++)
		(void) WaitForBackgroundWorkerShutdown(lstate->handles[i]);

	for (i = 0; i < ntasks; i++)
	{
		tasks[i]->rows = stasks[i].rows;
		tasks[i]->bytes = stasks[i].bytes;
		tasks[i]->start = stasks[i].start;
		tasks[i]->end = stasks[i].end;
	}

	cancel_on_dsm_detach(seg, tsm_workers_terminate, PointerGetDatum(lstate));
	dsm_detach(seg);
	for (i = 0; i < nworkers; i++)
		pfree(lstate->handles[i]);
	pfree(lstate);
	pfree(area.data);
	pfree(task_group);
	pfree(group_indexes);
	pfree(group_relid);
}

/*
 * Number the tasks' relations to mark: tasks with the same name (the
 * ranges of one table) share a group; *groups gets each task's, -1 for a
 * task without a name.  Returns the number of groups.
 */
static int
group_tasks(TsmCopyTask **tasks, int ntasks, int *groups)
{
	int		   *order = palloc(sizeof(int) * Max(ntasks, 1));
	int			ngroups = 0;
	int			n = 0;
	int			i;

	for (i = 0; i < ntasks; i++)
	{
		groups[i] = -1;
		if (tasks[i]->mark != NULL)
			order[n++] = i;
	}
	group_tasks_sorting = tasks;
	qsort(order, n, sizeof(int), compare_task_mark);
	for (i = 0; i < n; i++)
	{
		if (i > 0 && strcmp(tasks[order[i]]->mark, tasks[order[i - 1]]->mark) != 0)
			ngroups++;
		groups[order[i]] = ngroups;
	}
	pfree(order);
	return n > 0 ? ngroups + 1 : 0;
}

static int
compare_task_mark(const void *a, const void *b)
{
	return strcmp(group_tasks_sorting[*(const int *) a]->mark,
				  group_tasks_sorting[*(const int *) b]->mark);
}


/*
 * Wait until every worker has reached "goal", rethrowing the first error a
 * worker reports.  A worker that stops short of the goal without an error
 * is an error too.
 */
static void
wait_for_workers(TsmCopyShared *shared, shm_mq_handle **mqh,
				 TsmWorkerHandles *lstate, TsmWorkerState goal)
{
	TsmWorkerSlot *slots = TSM_SHARED_WORKERS(shared);
	bool	   *detached = palloc0(sizeof(bool) * shared->nworkers);

	for (;;)
	{
		bool		all = true;
		int			i;

		for (i = 0; i < shared->nstarted; i++)
		{
			TsmWorkerState state;
			BgwHandleStatus status;
			pid_t		pid;

			if (!detached[i])
				tsm_worker_drain_errors(mqh[i], &detached[i], "tsmigrate copy worker");

			SpinLockAcquire(&shared->mutex);
			state = slots[i].state;
			SpinLockRelease(&shared->mutex);
			if (state >= goal)
				continue;
			all = false;

			status = GetBackgroundWorkerPid(lstate->handles[i], &pid);
			if (status == BGWH_POSTMASTER_DIED)
				ereport(FATAL,
						errcode(ERRCODE_ADMIN_SHUTDOWN),
						errmsg("postmaster exited during a parallel copy"));
			if (status == BGWH_STOPPED)
			{
				/* it may have said why just before it stopped */
				if (!detached[i])
					tsm_worker_drain_errors(mqh[i], &detached[i], "tsmigrate copy worker");
				SpinLockAcquire(&shared->mutex);
				state = slots[i].state;
				SpinLockRelease(&shared->mutex);
				if (state < goal)
					ereport(ERROR,
							errcode(ERRCODE_INTERNAL_ERROR),
							errmsg("tsmigrate copy worker %d exited unexpectedly", i + 1),
							errhint("The server log of the target may tell why."));
			}
		}
		if (all)
			break;

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, TsmWaitEventCompat("TsmigrateCopyWorkers"));
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	pfree(detached);
}

/*
 * tsmigrate_copy_worker_main
 *		Entry point of a copy worker.
 */
void
tsmigrate_copy_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	TsmCopyShared *shared;
	TsmWorkerSlot *slot;
	char	   *area;
	char	   *errq;
	int			myindex;
	TsmSource  *src;
	PGconn	   *conn;
	bool		builder;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = tsm_worker_map(main_arg, TSM_SHM_MAGIC, "tsmigrate copy worker",
						 (void **) &shared, &area, &errq, &myindex);
	if (myindex < 0 || myindex >= shared->nworkers)
		elog(ERROR, "invalid tsmigrate copy worker number %d", myindex);
	slot = &TSM_SHARED_WORKERS(shared)[myindex];
	builder = myindex >= shared->ncopiers;

	SpinLockAcquire(&shared->mutex);
	slot->proc = MyProc;
	SpinLockRelease(&shared->mutex);

	tsm_worker_begin(seg, errq, myindex, &shared->caller,
					 area + shared->settings_off, shared->nsettings);

	pgstat_report_activity(STATE_RUNNING, "tsmigrate copy");
	PushActiveSnapshot(GetTransactionSnapshot());

	/*
	 * One parse analysis, as a session's first query has: TimescaleDB's
	 * loader loads its library there, and only then do the binary input
	 * functions of its types (compressed chunks copied as they are) work.
	 */
	SPI_connect();
	SPI_execute("SELECT", true, 0);
	SPI_finish();

	/* the source, as the leader resolved it */
	src = tsm_source_unflatten(area + shared->source_off);

	/*
	 * A run's workers commit as they go: their source connection outlives
	 * those commits, which need not wait for the WAL flush (the leader's own
	 * commit at the end of the step flushes them all; a crash before that
	 * leaves relations "copying", copied again by the next run).
	 */
	if (shared->run_id != 0)
		SetConfigOption("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION);
	if (builder)
		conn = NULL;			/* an index builder reads no source */
	else
	{
		conn = shared->run_id != 0 ? tsm_conn_open_session(src) : tsm_conn_open(src);
		source_begin(conn, area + shared->snapshot_off);
	}

	SpinLockAcquire(&shared->mutex);
	slot->state = TSM_WORKER_COPYING;
	SpinLockRelease(&shared->mutex);

	worker_copy_tasks(shared, area, conn);

	if (conn != NULL)
	{
		tsm_conn_command(conn, "COMMIT");
		tsm_conn_close(conn);
	}
	PopActiveSnapshot();

	/* wait for the leader's word before committing (a run's: committed) */
	SpinLockAcquire(&shared->mutex);
	slot->state = TSM_WORKER_READY;
	SpinLockRelease(&shared->mutex);
	SetLatch(&shared->leader->procLatch);
	pgstat_report_activity(STATE_IDLEINTRANSACTION, "tsmigrate copy: waiting for the other workers");

	for (;;)
	{
		bool		commit;

		if (shared->run_id != 0)
			break;

		SpinLockAcquire(&shared->mutex);
		commit = shared->commit;
		SpinLockRelease(&shared->mutex);
		if (commit)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L,
						 TsmWaitEventCompat("TsmigrateCopyCommit"));
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	CommitTransactionCommand();

	SpinLockAcquire(&shared->mutex);
	slot->state = TSM_WORKER_COMMITTED;
	SpinLockRelease(&shared->mutex);
	SetLatch(&shared->leader->procLatch);
	pgstat_report_activity(STATE_IDLE, NULL);

	dsm_detach(seg);
	proc_exit(0);
}

/*
 * Take tasks from the shared queue until it is empty; copy each.  In a run,
 * commit each and mark its relation as it goes.  Index builds of copied
 * relations (replay_early.c) are taken by the index builders, and by copy
 * workers that have no copy left; a relation is analyzed when the last of
 * its builds is in.  An index builder ("conn" NULL) copies nothing.
 */
static void
worker_copy_tasks(TsmCopyShared *shared, char *area, PGconn *conn)
{
	TsmSharedTask *tasks = TSM_SHARED_TASKS(shared);
	TsmSharedGroup *groups = TSM_SHARED_GROUPS(shared);
	MemoryContext taskcxt;
	int			source_tasks = 0;

	/* outlives the run's commits */
	taskcxt = AllocSetContextCreate(TopMemoryContext,
									"tsmigrate copy task",
									ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		TsmSharedTask *task;
		TsmSharedGroup *group = NULL;
		MemoryContext oldcxt;
		TimestampTz start;
		uint64		rows;
		uint64		bytes;
		bool		first = false;
		bool		last = false;
		bool		freeze;
		TsmCopyCommand command;
		bool		alone = false;
		bool		waiting;
		int			index;
		int			n = -1;

		CHECK_FOR_INTERRUPTS();
		SpinLockAcquire(&shared->mutex);
		if (conn != NULL && shared->next_task < shared->ntasks)
			n = shared->next_task++;
		index = n < 0 ? take_index_build(shared) : -1;
		if (index >= 0 || n >= 0)
		{
			alone = shared->nbusy == 0 && shared->next_task >= shared->ntasks &&
				shared->indexes_untaken == 0;
			shared->nbusy++;
		}
		if (n >= 0 && tasks[n].group >= 0)
		{
			group = &groups[tasks[n].group];
			first = !group->started;
			group->started = true;
		}
		waiting = shared->indexes_untaken > 0;
		SpinLockRelease(&shared->mutex);

		if (index >= 0)
		{
			worker_index_build(shared, area, index, alone);
			continue;
		}
		if (n < 0)
		{
			/* index builds left, of relations other workers still copy */
			if (waiting)
			{
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L,
								 TsmWaitEventCompat("TsmigrateCopyIndexes"));
				ResetLatch(MyLatch);
				continue;
			}
			break;
		}
		task = &tasks[n];

		if (first)
			worker_mark(shared, area + task->mark_off, TSM_RELATION_COPYING, -1, -1);

		oldcxt = MemoryContextSwitchTo(taskcxt);
		start = GetCurrentTimestamp();
		/* a whole table, alone in this transaction: written frozen */
		freeze = shared->freeze && task->whole &&
			tsm_copy_prepare_freeze(task->relid);
		command = task->command;
		command.relation = area + task->relation_off;
		command.columns = area + task->srccols_off;
		rows = tsm_copy_table(conn, task->relid, &command,
							  area + task->columns_off, freeze, &bytes);
		CommandCounterIncrement();
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(taskcxt);
		if (++source_tasks >= TSM_SOURCE_TASKS_PER_XACT)
		{
			/* the source's locks on what it read go with its transaction */
			tsm_conn_command(conn, "COMMIT");
			source_begin(conn, area + shared->snapshot_off);
			source_tasks = 0;
		}
		if (shared->run_id != 0)
			worker_next_transaction();

		SpinLockAcquire(&shared->mutex);
		task->rows = rows;
		task->bytes = bytes;
		task->start = start;
		task->end = GetCurrentTimestamp();
		task->done = true;
		shared->nbusy--;
		if (group != NULL)
		{
			group->rows += rows;
			group->bytes += bytes;
			last = --group->remaining == 0;
		}
		SpinLockRelease(&shared->mutex);

		/* every task of the relation is committed: it is copied */
		if (last && !task->leader_marks)
		{
			worker_mark(shared, area + task->mark_off, TSM_RELATION_COPIED,
						group->rows, group->bytes);
			if (group->indexes_left > 0)
			{
				TsmSharedIndex *indexes = TSM_SHARED_INDEXES(shared);
				int			j;

				/* its builds join the ready queue: taking one is O(1) */
				SpinLockAcquire(&shared->mutex);
				group->copied = true;
				for (j = group->first_index; j < group->first_index + group->nindexes; j++)
				{
					indexes[j].next_ready = -1;
					if (shared->ready_tail < 0)
						shared->ready_head = j;
					else
						indexes[shared->ready_tail].next_ready = j;
					shared->ready_tail = j;
				}
				SpinLockRelease(&shared->mutex);
				wake_workers(shared);
			}
			else
				worker_analyze(task->relid);
		}
	}
	MemoryContextDelete(taskcxt);
}

/*
 * With the mutex held: take an index build whose relation is copied, and
 * return its number; -1 when there is none to take now.
 */
static int
take_index_build(TsmCopyShared *shared)
{
	TsmSharedIndex *indexes = TSM_SHARED_INDEXES(shared);
	int			i = shared->ready_head;

	if (i < 0)
		return -1;
	shared->ready_head = indexes[i].next_ready;
	if (shared->ready_head < 0)
		shared->ready_tail = -1;
	Assert(!indexes[i].taken);
	indexes[i].taken = true;
	shared->indexes_untaken--;
	return i;
}

/*
 * Build one early index in a transaction of its own; the last one of its
 * relation then analyzes the relation (with its expression indexes).
 */
static void
worker_index_build(TsmCopyShared *shared, char *area, int index, bool alone)
{
	TsmSharedIndex *sindex = &TSM_SHARED_INDEXES(shared)[index];
	TsmSharedGroup *group = &TSM_SHARED_GROUPS(shared)[sindex->group];
	TsmSchemaObject obj;
	TsmSchemaStmt stmt;
	TsmReplayGuard guard;
	char	   *p = area + sindex->off;
	bool		last;

	memset(&obj, 0, sizeof(obj));
	memset(&stmt, 0, sizeof(stmt));
	obj.kind = p;
	p += strlen(p) + 1;
	obj.name = p;
	p += strlen(p) + 1;
	stmt.tag = "IndexStmt";
	stmt.sql = p;
	obj.stmts = list_make1(&stmt);

	/* an index on a table of this migration: nothing allowed is needed */
	tsm_replay_guard_init(&guard, 0, area + shared->label_off, false);
	pgstat_report_activity(STATE_RUNNING, stmt.sql);
	tsm_early_index_build(&obj, alone, &guard);
	hash_destroy(guard.created);
	list_free(obj.stmts);
	worker_next_transaction();
	pgstat_report_activity(STATE_RUNNING, "tsmigrate copy");

	SpinLockAcquire(&shared->mutex);
	shared->nbusy--;
	last = --group->indexes_left == 0;
	SpinLockRelease(&shared->mutex);
	if (last)
		worker_analyze(sindex->relid);
}

/* wake the other workers: index builds may have become free to take */
static void
wake_workers(TsmCopyShared *shared)
{
	TsmWorkerSlot *slots = TSM_SHARED_WORKERS(shared);
	int			i;

	for (i = 0; i < shared->nworkers; i++)
	{
		PGPROC	   *proc;

		SpinLockAcquire(&shared->mutex);
		proc = slots[i].proc;
		SpinLockRelease(&shared->mutex);
		if (proc != NULL && proc != MyProc)
			SetLatch(&proc->procLatch);
	}
}

/*
 * Record a relation's state in the run and commit that.  "copying" is
 * written by the worker that takes its first task, before it copies;
 * "copied" by the one that commits its last, so always after.
 */
static void
worker_mark(TsmCopyShared *shared, const char *relation, TsmRelationState state,
			int64 rows, int64 bytes)
{
	SPI_connect();
	tsm_state_relation_mark(shared->run_id, relation, state, rows, bytes, NULL);
	SPI_finish();
	worker_next_transaction();
}

/*
 * A run's relation, copied: ANALYZE it now, while its pages are fresh and
 * beside the copies of others, rather than in migrate's analyze step, one
 * relation after the other (which leaves out what was analyzed here).  Only
 * what the caller owns, as that step does.
 */
static void
worker_analyze(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	int			rc;

	SPI_connect();
	values[0] = ObjectIdGetDatum(relid);
	rc = SPI_execute_with_args("SELECT FROM pg_catalog.pg_class c"
							   " WHERE c.oid OPERATOR(pg_catalog.=) $1"
							   "   AND pg_catalog.pg_has_role(c.relowner, 'USAGE')",
							   1, types, values, NULL, true, 1);
	if (rc == SPI_OK_SELECT && SPI_processed == 1)
		(void) tsm_target_analyze(relid);
	SPI_finish();
	worker_next_transaction();
}

/*
 * Open a transaction on the source that reads under the leader's exported
 * snapshot.  A worker opens one after every TSM_SOURCE_TASKS_PER_XACT tasks:
 * the source keeps a lock on every relation and index that a transaction
 * has read until it ends, and one transaction over thousands of chunks
 * fills the source's lock table ("out of shared memory").  Each new
 * transaction sees the same data, as the snapshot is the same; the
 * leader's exporting transaction lives until every worker has ended.
 */
static void
source_begin(PGconn *conn, const char *snapshot)
{
	tsm_conn_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	tsm_conn_command(conn, psprintf("SET TRANSACTION SNAPSHOT %s",
									quote_literal_cstr(snapshot)));
}

/* commit the worker's transaction and start the next one */
static void
worker_next_transaction(void)
{
	PopActiveSnapshot();
	CommitTransactionCommand();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
}
