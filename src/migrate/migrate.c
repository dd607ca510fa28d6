/*-------------------------------------------------------------------------
 *
 * migrate.c
 *	  CALL tsmigrate.migrate: every step, in order, resumable
 *
 * NOTES
 *	The steps, each committed on its own (see state.c for the states):
 *
 *		checks			check_versions must be all ok, but for a target
 *						without TimescaleDB that can provide the source's
 *						version; other sessions on the source are a WARNING
 *		extensions		sync_extensions; TimescaleDB, where the source has
 *						it, must then be here at the source's version
 *		roles			pull_roles (skipped with roles => false)
 *		pre-data		pull_schema(..., 'pre-data')
 *		timescaledb		pull_hypertables: the source's hypertables made
 *						hypertables, and its continuous aggregates made
 *						without data, with their (empty) chunks (skipped when
 *						the source has no TimescaleDB)
 *		data			what pull_data and pull_chunks copy (tables,
 *						sequences, and the chunks of hypertables and of
 *						continuous aggregates), all in one pool of copy
 *						workers, largest first, each relation committed,
 *						marked copied and analyzed on its own (a table
 *						copied whole written frozen), a table's post-data
 *						indexes built by index builders beside the copy
 *						workers as soon as the table is copied
 *						(replay_early.c), all under one source
 *						snapshot held open for the whole step; then large
 *						objects and, under the same snapshot,
 *						pull_continuous_aggregates
 *		post-data		pull_schema(..., 'post-data', jobs), each object
 *						committed on its own when jobs > 1; it skips the
 *						objects that are there already: the indexes the
 *						data step built, and, resumed, what an earlier call
 *						committed
 *		compression		compress_chunks: what is compressed on the source
 *		analyze			ANALYZE of what the copy workers did not analyze
 *		jobs			pull_jobs: policies and user jobs with the source's
 *						next start, once everything else is in
 *		verify			verify: every check must be ok
 *
 *	Each step calls in C the work of the function of the same name (what a
 *	DBA calling that function by hand gets, without its result rows), with
 *	the source this call resolved once and, through the run scope
 *	(remote/), one source session for all of them; the data step uses
 *	pull_data's and pull_chunks' preparation, to run both in one pool of
 *	workers, and reads large objects and the continuous aggregates' state
 *	on its snapshot's own session.
 *	A step runs in a subtransaction: when it fails, the step (and, for
 *	data, the relations caught copying) are marked failed with the
 *	error, that is committed, and the error is raised again with its own
 *	SQLSTATE.  Calling migrate again resumes the unfinished run: done steps
 *	and copied relations are not repeated, a relation caught mid-copy is
 *	emptied and copied again.
 *
 *	One migration at a time per target database: a session-level advisory
 *	lock, released on every exit (and by PostgreSQL when a session dies),
 *	so a crashed run never blocks the next one.
 *
 * IDENTIFICATION
 *	  src/migrate/migrate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/vacuum.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_node.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "copy/copy.h"
#include "migrate/online.h"
#include "migrate/preflight.h"
#include "remote/remote.h"
#include "replay/replay.h"
#include "source_catalog/relations.h"
#include "source_catalog/source_catalog.h"
#include "target/state.h"
#include "target/target.h"
#include "timescale/timescale.h"
#include "verify/verify.h"
#include "workers/workers.h"

PG_FUNCTION_INFO_V1(tsmigrate_migrate);
PG_FUNCTION_INFO_V1(tsmigrate_cutover);

/* the data step's name for the source's large objects (pull_data's too) */
#define TSM_LARGE_OBJECTS		"large objects"

typedef struct TsmRun
{
	int64		run_id;
	Datum		source;			/* the argument as given: text, or NULL */
	bool		source_null;
	TsmSource  *src;			/* resolved once, for every step this call
								 * runs */
	int			has_timescaledb;	/* the source's, once read; -1 before */
	int			jobs;
	bool		roles;
	bool		owners;			/* objects and jobs owned as on the source */
	bool		privileges;		/* with the source's GRANTs and REVOKEs */
	TsmConsent *consent;		/* allow, parsed */
	ArrayType  *allow;			/* allow, as given */
	bool		online;			/* migrate(online => true): stream, cutover */
	bool		cutover;		/* this call is tsmigrate.cutover() */
	bool		force;			/* cutover(force => true) */
	bool		stream_started; /* by this call's stream step */
	char	   *cutover_token;	/* the message cutover waits for */
	bool		cutover_applied;	/* the worker has applied it */
	bool		cutover_worker_gone;	/* no worker runs */
	PGconn	   *snapshot_conn;	/* data step: holds the exported snapshot */
	char	   *snapshot;
	bool		step_resumed;	/* the current step was begun by an earlier
								 * call */
	/* the data step's pieces, each run guarded, share: */
	List	   *batch;			/* the relations to copy, */
	List	   *batch_states;	/* their TsmRelationStates, as ints, */
	TsmCopyPlan *table_plan;	/* their copy work, prepared (and committed */
	TsmCopyPlan *chunk_plan;	/* since: no locks held), */
	int			early_indexes;	/* and the index builds given to it */
	/* a schema section replayed in batches, each guarded and committed: */
	TsmSchemaSection section;
	TsmSectionReplay *replay;	/* its objects left to replay, */
	int			replay_next;	/* the first of the next batch, */
	int			replay_batch;	/* and how many a batch holds */
	bool		replay_skip_existing;
	TsmSchemaDone section_done;
	List	   *analyze;		/* the analyze step's relations, by OID */
	TsmHypertablesPull *hypertables;	/* the timescaledb step's, between its
										 * batches (of replay_batch) */
} TsmRun;

typedef char *(*StepFunction) (TsmRun *run);

typedef struct TsmStep
{
	const char *name;
	StepFunction run;
	bool		commits;		/* commits on its own, guarding each piece */
	bool		online_only;	/* a step of online runs only */
} TsmStep;

static char *step_checks(TsmRun *run);
static char *step_extensions(TsmRun *run);
static char *step_roles(TsmRun *run);
static char *step_pre_data(TsmRun *run);
static char *step_data(TsmRun *run);
static char *step_post_data(TsmRun *run);
static char *step_timescaledb(TsmRun *run);
static char *step_compression(TsmRun *run);
static char *step_analyze(TsmRun *run);
static char *step_stream(TsmRun *run);
static char *step_cutover(TsmRun *run);
static char *step_jobs(TsmRun *run);
static char *step_verify(TsmRun *run);


static const TsmStep steps[] = {
	{"checks", step_checks, false, false},
	{"extensions", step_extensions, false, false},
	{"roles", step_roles, false, false},
	{"pre-data", step_pre_data, true, false},
	{"timescaledb", step_timescaledb, true, false},
	{"data", step_data, true, false},
	{"post-data", step_post_data, true, false},
	{"compression", step_compression, false, false},
	{"analyze", step_analyze, true, false},
	{"stream", step_stream, true, true},
	{"cutover", step_cutover, true, true},
	{"jobs", step_jobs, false, false},
	{"verify", step_verify, false, false},
};

static char *prepare_current_batch(TsmRun *run);
static char *copy_current_batch(TsmRun *run);
static char *empty_current_batch(TsmRun *run);
static char *finish_caggs(TsmRun *run);
static char *count_rows(TsmRun *run);
static char *cutover_begin(TsmRun *run);
static char *cutover_look(TsmRun *run);
static char *cutover_finish(TsmRun *run);
static char *post_data_parallel(TsmRun *run);
static char *begin_hypertables(TsmRun *run);
static char *make_chunks(TsmRun *run);
static char *list_unanalyzed(TsmRun *run);
static char *analyze_batch(TsmRun *run);
static void check_preflight(List *rows);
static void replay_section(TsmRun *run, TsmSchemaSection section, bool skip_existing);
static char *begin_section(TsmRun *run);
static char *replay_batch(TsmRun *run);
static char *object_key(const char *kind, const char *name);
static int	compare_string_ptrs(const void *a, const void *b);

/* how run_guarded runs a piece of a step */
#define GUARD_RELATIONS		0x01	/* on error, mark the relations copying
									 * failed */
#define GUARD_SNAPSHOT		0x02	/* with a snapshot, as a statement */
#define GUARD_OWN_MEMORY	0x04	/* in a memory context freed after it: a
									 * whole step, which keeps nothing */

static void run_steps(TsmRun *run);
static void run_guarded(TsmRun *run, const char *step, StepFunction fn,
						char **detail, int flags);
static void run_in_batches(TsmRun *run, const char *step, int n, StepFunction fn);
static char *result_value(int row, int col);
static char *list_source_relations(TsmRun *run);
static char *export_snapshot(TsmRun *run);
static TsmSource *run_source(TsmRun *run);
static TsmSchemaOptions *run_schema_options(TsmRun *run);
static int	compare_strings(const ListCell *a, const ListCell *b);
static ArrayType *text_array(List *items);
static char *copy_source_large_objects(TsmRun *run);
static bool take_lock(void);
static void release_lock(void);
static void migrate_call(FunctionCallInfo fcinfo, TsmRun *run);
static void record_options(TsmRun *run, bool resumed);

/*
 * CALL tsmigrate.migrate(source text, jobs int, roles boolean,
 *						   owners boolean, privileges boolean, allow text[],
 *						   online boolean)
 */
Datum
tsmigrate_migrate(PG_FUNCTION_ARGS)
{
	TsmRun		run;

	memset(&run, 0, sizeof(run));
	run.jobs = PG_ARGISNULL(1) ? 2 : PG_GETARG_INT32(1);
	run.roles = PG_ARGISNULL(2) ? true : PG_GETARG_BOOL(2);
	run.owners = PG_ARGISNULL(3) ? true : PG_GETARG_BOOL(3);
	run.privileges = PG_ARGISNULL(4) ? true : PG_GETARG_BOOL(4);
	/* a wrong word in allow fails before anything is recorded */
	run.consent = tsm_consent_from_arg(fcinfo, 5);
	run.allow = PG_ARGISNULL(5) ? NULL : PG_GETARG_ARRAYTYPE_P(5);
	run.online = PG_NARGS() > 6 && !PG_ARGISNULL(6) && PG_GETARG_BOOL(6);
	migrate_call(fcinfo, &run);
	PG_RETURN_VOID();
}

/*
 * CALL tsmigrate.cutover(source text, force boolean)
 *		The rest of an online run: its cutover step, then the steps after
 *		it, with the options migrate was called with.  The NOTICE at the
 *		end says the downtime: from this call to the run's end.
 */
Datum
tsmigrate_cutover(PG_FUNCTION_ARGS)
{
	TsmRun		run;

	memset(&run, 0, sizeof(run));
	run.cutover = true;
	run.online = true;
	run.force = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	/* the options come from the run (record_options) */
	run.jobs = 2;
	run.roles = true;
	run.owners = true;
	run.privileges = true;
	migrate_call(fcinfo, &run);
	PG_RETURN_VOID();
}

/* what migrate and cutover share: the run, its lock and its steps */
static void
migrate_call(FunctionCallInfo fcinfo, TsmRun *run)
{
	const char *step_names[lengthof(steps)];
	const char *what = run->cutover ? "cutover" : "migrate";
	TsmSource  *src;
	bool		complete;
	bool		resumed;
	TimestampTz start = GetCurrentTimestamp();
	int			nsteps;
	int			i;

	if (fcinfo->context == NULL || !IsA(fcinfo->context, CallContext) ||
		castNode(CallContext, fcinfo->context)->atomic)
		ereport(ERROR,
				errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				errmsg("tsmigrate.%s cannot run inside a transaction block", what),
				errhint("Run CALL tsmigrate.%s(...) on its own, so that it can commit after each step.", what));

	run->source_null = PG_ARGISNULL(0);
	run->source = run->source_null ? (Datum) 0 : PG_GETARG_DATUM(0);
	run->step_resumed = false;
	/* the same bound as every entry point: tsmigrate.max_jobs */
	tsm_copy_check_jobs(run->jobs, "migrate");

	/* resolve now: a wrong source fails before anything is recorded */
	src = tsm_source_from_arg(fcinfo, 0);
	run->src = src;
	run->has_timescaledb = -1;

	if (!take_lock())
	{
		int			pid;

		SPI_connect();
		pid = tsm_state_running_pid();
		SPI_finish();
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_IN_USE),
				errmsg("a migration into database \"%s\" is already in progress",
					   get_database_name(MyDatabaseId)),
				pid ? errdetail("Process %d is running it.", pid) : 0,
				pid ? errhint("Wait for it to finish, or cancel it with pg_cancel_backend(%d).", pid) :
				errhint("Wait for it to finish."));
	}

	PG_TRY();
	{
		/* every step: this resolution of the source, one leader session */
		tsm_run_scope_begin(run->source_null ? NULL : TextDatumGetCString(run->source),
							src);
		SPI_connect_ext(SPI_OPT_NONATOMIC);

		/* an offline run has the steps it always had */
		nsteps = 0;
		for (i = 0; i < lengthof(steps); i++)
			if (run->online || !steps[i].online_only)
				step_names[nsteps++] = steps[i].name;
		if (run->cutover &&
			tsm_local_query_value("SELECT 1 FROM tsmigrate.run"
								  " WHERE owner OPERATOR(pg_catalog.=) CURRENT_USER"
								  "   AND source OPERATOR(pg_catalog.=) $1"
								  "   AND online AND state OPERATOR(pg_catalog.<>) 'done'",
								  src->label, NULL) == NULL)
			ereport(ERROR,
					errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					errmsg("no online migration from \"%s\" to cut over", src->label),
					errhint("Start one with CALL tsmigrate.migrate(..., online => true)."));
		run->run_id = tsm_state_open_run(src->label, run->jobs, run->roles,
										 step_names, nsteps,
										 &complete, &resumed);
		record_options(run, resumed);
		SPI_commit();

		if (complete)
			ereport(NOTICE,
					errmsg("migration run " INT64_FORMAT " from \"%s\" is complete",
						   run->run_id, src->label),
					errhint("To migrate again, drop what it created and DELETE FROM tsmigrate.run WHERE run_id = " INT64_FORMAT ".",
							run->run_id));
		else
		{
			ereport(NOTICE,
					run->cutover ?
					errmsg("cutting over migration run " INT64_FORMAT " from \"%s\"", run->run_id, src->label) :
					resumed ?
					errmsg("resuming migration run " INT64_FORMAT " from \"%s\"", run->run_id, src->label) :
					errmsg("starting migration run " INT64_FORMAT " from \"%s\"", run->run_id, src->label));
			run_steps(run);
			if (run->online && !run->cutover)
			{
				tsm_state_run_mark(run->run_id, TSM_RUN_STREAMING, NULL);
				SPI_commit();
				ereport(NOTICE,
						errmsg("migration run " INT64_FORMAT " is streaming the source's changes",
							   run->run_id),
						errhint("Stop the applications, then CALL tsmigrate.cutover(); see SELECT * FROM tsmigrate.stream_status()."));
			}
			else
			{
				tsm_state_run_mark(run->run_id, TSM_RUN_DONE, NULL);
				SPI_commit();
				if (run->cutover)
					ereport(NOTICE,
							errmsg("migration run " INT64_FORMAT " is complete: source and target match; downtime %.1f s",
								   run->run_id, (GetCurrentTimestamp() - start) / 1000000.0));
				else
					ereport(NOTICE,
							errmsg("migration run " INT64_FORMAT " is complete: source and target match",
								   run->run_id));
			}
		}
		SPI_finish();
	}
	PG_FINALLY();
	{
		tsm_run_scope_end();
		release_lock();
	}
	PG_END_TRY();
}

/*
 * A new run records how it was called, so that cutover goes on with the
 * same options; a resumed one must be resumed as it was started (online
 * or not), and cutover takes its options from it.
 */
static void
record_options(TsmRun *run, bool resumed)
{
	Oid			types[6] = {INT8OID, BOOLOID, BOOLOID, BOOLOID, TEXTARRAYOID, INT4OID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(run->run_id);
	if (resumed || run->cutover)
	{
		bool		online;

		SPI_execute_with_args("SELECT online, owners, privileges, allow, jobs"
							  "  FROM tsmigrate.run WHERE run_id OPERATOR(pg_catalog.=) $1",
							  1, types, values, NULL, true, 1);
		if (SPI_processed == 1)
		{
			HeapTuple	tup = SPI_tuptable->vals[0];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;

			online = DatumGetBool(SPI_getbinval(tup, desc, 1, &isnull));
			if (online != run->online)
				ereport(ERROR,
						errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						online ?
						errmsg("migration run " INT64_FORMAT " is online", run->run_id) :
						errmsg("migration run " INT64_FORMAT " is offline", run->run_id),
						online ?
						errhint("Resume it with migrate(..., online => true), finish it with tsmigrate.cutover(), or give it up with tsmigrate.abandon().") :
						errhint("Resume it with migrate(..., online => false), or start over with DELETE FROM tsmigrate.run WHERE run_id = " INT64_FORMAT ".", run->run_id));
			if (run->cutover)
			{
				Datum		allow;

				run->owners = DatumGetBool(SPI_getbinval(tup, desc, 2, &isnull));
				run->privileges = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
				allow = SPI_getbinval(tup, desc, 4, &isnull);
				run->consent = tsm_consent_parse(isnull ? NULL :
												 DatumGetArrayTypePCopy(allow));
				run->jobs = DatumGetInt32(SPI_getbinval(tup, desc, 5, &isnull));
				return;
			}
		}
	}
	values[1] = BoolGetDatum(run->online);
	values[2] = BoolGetDatum(run->owners);
	values[3] = BoolGetDatum(run->privileges);
	values[4] = run->allow ? PointerGetDatum(run->allow) : (Datum) 0;
	nulls[4] = run->allow ? ' ' : 'n';
	values[5] = Int32GetDatum(run->jobs);
	SPI_execute_with_args("UPDATE tsmigrate.run SET online = $2, owners = $3,"
						  " privileges = $4, allow = $5"
						  " WHERE run_id OPERATOR(pg_catalog.=) $1",
						  5, types, values, nulls, false, 0);
}

/*
 * Run the steps not done yet, in order, each marked running, then done or
 * skipped, and committed; a NOTICE says how long each took and what it did.
 */
static void
run_steps(TsmRun *run)
{
	int			i;

	for (i = 0; i < lengthof(steps); i++)
	{
		TsmStepState state;
		char	   *detail = NULL;
		TimestampTz start = GetCurrentTimestamp();

		if (steps[i].online_only && !run->online)
			continue;
		state = tsm_state_step_state(run->run_id, steps[i].name);
		if (state == TSM_STEP_DONE || state == TSM_STEP_SKIPPED)
			continue;

		/*
		 * An online run streams until tsmigrate.cutover() goes on; called
		 * again (after a restart of the target), migrate starts its worker
		 * again.
		 */
		if (run->online && !run->cutover && strcmp(steps[i].name, "cutover") == 0)
		{
			if (!run->stream_started)
			{
				char	   *streaming = tsm_online_start_stream(run->run_id);

				SPI_commit();
				ereport(NOTICE, errmsg("stream: %s", streaming));
			}
			return;
		}
		if (run->cutover && i > 0 && strcmp(steps[i].name, "cutover") != 0 &&
			tsm_state_step_state(run->run_id, "cutover") != TSM_STEP_DONE)
			ereport(ERROR,
					errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					errmsg("migration run " INT64_FORMAT " has not reached its cutover: step \"%s\" is not done",
						   run->run_id, steps[i].name),
					errhint("Call migrate(..., online => true) again to finish it first."));
		run->step_resumed = state != TSM_STEP_PENDING;

		tsm_state_step_mark(run->run_id, steps[i].name, TSM_STEP_RUNNING, NULL, NULL);
		SPI_commit();

		if (steps[i].commits)
			detail = steps[i].run(run);
		else
			run_guarded(run, steps[i].name, steps[i].run, &detail,
						GUARD_SNAPSHOT | GUARD_OWN_MEMORY);

		tsm_state_step_mark(run->run_id, steps[i].name,
							detail && strncmp(detail, "skipped", 7) == 0 ?
							TSM_STEP_SKIPPED : TSM_STEP_DONE,
							detail, NULL);
		SPI_commit();
		ereport(NOTICE,
				errmsg("step \"%s\" done in %.1f s%s%s", steps[i].name,
					   (GetCurrentTimestamp() - start) / 1000000.0,
					   detail ? ": " : "", detail ? detail : ""));
	}
}

/*
 * Run "fn" over "n" items of a step, tsm_section_batch_size at a time (it
 * reads run->replay_next and run->replay_batch), each batch guarded and
 * committed: what a batch locks goes with its commit.
 *
 * A batch commits without waiting for its WAL to be flushed (as SET LOCAL
 * synchronous_commit = off, which its commit resets): thousands of batches
 * would otherwise each wait for a flush.  Nothing is lost by it: commits
 * reach the WAL in order, so a crash can only take the last batches, with
 * their records in run_object, and a resumed run replays them; the commit
 * that marks the step done waits, as the caller's setting says, for all of
 * the WAL before it.
 */
static void
run_in_batches(TsmRun *run, const char *step, int n, StepFunction fn)
{
	run->replay_batch = tsm_section_batch_size();
	for (run->replay_next = 0; run->replay_next < n;
		 run->replay_next += run->replay_batch)
	{
		CHECK_FOR_INTERRUPTS();
		run_guarded(run, step, fn, NULL, GUARD_SNAPSHOT);
		(void) set_config_option("synchronous_commit", "off", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
		SPI_commit();
	}
}

/*
 * Run one step in a subtransaction.  On error: mark the step (and, with
 * "relations", the relations caught copying) failed, commit that, and raise
 * the error again.
 */
static void
run_guarded(TsmRun *run, const char *step, StepFunction fn, char **detail,
			int flags)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	MemoryContext volatile stepcxt = NULL;
	ResourceOwner oldowner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);

	PG_TRY();
	{
		char	   *result = NULL;

		/* a whole step's memory goes with it: only its detail is kept */
		if (flags & GUARD_OWN_MEMORY)
		{
			stepcxt = AllocSetContextCreate(oldcxt, "tsmigrate step",
											ALLOCSET_DEFAULT_SIZES);
			MemoryContextSwitchTo(stepcxt);
		}

		/*
		 * With GUARD_SNAPSHOT, as a statement of its own would run: with a
		 * snapshot (a procedure has none after a commit), which some utility
		 * commands need; an error pops it with the subtransaction.  Not
		 * around the copy, whose wait would hold back the target's xmin
		 * horizon.
		 */
		if (fn != NULL && (flags & GUARD_SNAPSHOT))
		{
			PushActiveSnapshot(GetTransactionSnapshot());
			result = fn(run);
			PopActiveSnapshot();
		}
		else if (fn != NULL)
			result = fn(run);

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		if (stepcxt != NULL)
		{
			result = result ? pstrdup(result) : NULL;
			MemoryContextDelete(stepcxt);
		}
		CurrentResourceOwner = oldowner;
		if (detail)
			*detail = result;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;

		if (flags & GUARD_RELATIONS)
			tsm_state_relations_failed(run->run_id, edata->message);
		tsm_state_step_mark(run->run_id, step, TSM_STEP_FAILED, NULL, edata->message);
		tsm_state_run_mark(run->run_id, TSM_RUN_FAILED,
						   psprintf("step \"%s\": %s", step, edata->message));
		SPI_commit();

		edata->context = edata->context ?
			psprintf("%s\ntsmigrate.migrate step \"%s\"", edata->context, step) :
			psprintf("tsmigrate.migrate step \"%s\"", step);
		ReThrowError(edata);
	}
	PG_END_TRY();
}

static char *
result_value(int row, int col)
{
	char	   *value = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);

	return value ? pstrdup(value) : NULL;
}

/*
 * Versions first: a target without TimescaleDB that can provide the
 * source's version gets it from the extensions step.  Then who else is on
 * the source: a warning, since rows they write may be missed.
 */
static char *
step_checks(TsmRun *run)
{
	PGconn	   *conn = tsm_conn_open(run->src);
	List	   *checks = tsm_check_versions(conn, run->src);
	TsmRows    *sessions = tsm_source_sessions(conn);
	List	   *preflight = tsm_preflight(conn, run->consent);
	ListCell   *lc;
	StringInfoData list;
	int			others = 0;
	int			r;

	/* online: everything the stream needs, before anything changes */
	if (run->online)
		tsm_online_check(conn, run->src);
	tsm_conn_close(conn);
	foreach(lc, checks)
	{
		TsmVersionCheck *check = lfirst(lc);

		if (check->ok)
			continue;
		if (strcmp(check->component, "timescaledb") == 0 &&
			check->target_version == NULL &&
			tsm_local_version_available("timescaledb", check->source_version))
			continue;
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("%s versions of source and target do not match",
					   check->component),
				errdetail("The source has %s, the target %s.",
						  check->source_version ? check->source_version : "none",
						  check->target_version ? check->target_version : "none"),
				errhint("%s See SELECT * FROM tsmigrate.check_versions().",
						check->hint));
	}

	check_preflight(preflight);

	/* online, the applications go on writing: that is the point */
	if (run->online)
		return NULL;

	initStringInfo(&list);
	for (r = 0; r < sessions->nrows; r++)
	{
		const char *pid = tsm_rows_get(sessions, r, 0);
		const char *user = tsm_rows_value(sessions, r, 1);
		const char *application = tsm_rows_value(sessions, r, 2);

		if (application != NULL && strcmp(application, "tsmigrate") == 0)
			continue;
		if (others++ < 10)
			appendStringInfo(&list, "%spid %s (%s, %s)", list.len > 0 ? ", " : "",
							 pid, user ? user : "?", application ? application : "?");
	}
	if (others > 0)
		ereport(WARNING,
				errmsg_plural("%d other session is connected to the source database",
							  "%d other sessions are connected to the source database",
							  others, others),
				errdetail("%s", list.data),
				errhint("Take the applications offline: rows written during the migration may be missed."));
	return others > 0 ? psprintf("%d other sessions on the source", others) : NULL;
}

/*
 * Preflight's problems: one that would stop the run half way stops it
 * now, before anything changes; one that loses something without failing
 * is a WARNING.  Each names ten objects at most: preflight lists them all.
 */
static void
check_preflight(List *rows)
{
	StringInfoData blocking;
	StringInfoData losing;
	int			nblocking = 0;
	int			nlosing = 0;
	ListCell   *lc;

	initStringInfo(&blocking);
	initStringInfo(&losing);
	foreach(lc, rows)
	{
		TsmPreflightRow *row = lfirst(lc);
		StringInfo	buf = row->blocks ? &blocking : &losing;
		int		   *n = row->blocks ? &nblocking : &nlosing;

		if (row->ok)
			continue;
		if ((*n)++ < 10)
			appendStringInfo(buf, "%s%s %s: %s", buf->len > 0 ? "; " : "",
							 row->check, row->object, row->detail);
	}
	if (nblocking > 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg_plural("%d object of the source cannot be created on this target",
							  "%d objects of the source cannot be created on this target",
							  nblocking, nblocking),
				errdetail("%s%s.", blocking.data, nblocking > 10 ? "; ..." : ""),
				errhint("SELECT * FROM tsmigrate.preflight(...) lists them with their fixes; nothing was changed."));
	if (nlosing > 0)
		ereport(WARNING,
				errmsg_plural("%d object of the source will not be migrated",
							  "%d objects of the source will not be migrated",
							  nlosing, nlosing),
				errdetail("%s%s.", losing.data, nlosing > 10 ? "; ..." : ""),
				errhint("SELECT * FROM tsmigrate.preflight(...) lists them with their fixes."));
}

/*
 * sync_extensions; TimescaleDB, where the source has it, must then be here
 * at the source's version (the checks step let a target without it come
 * this far when it can provide that version).
 */
static char *
step_extensions(TsmRun *run)
{
	PGconn	   *conn = tsm_conn_open(run->src);
	TsmExtensionsDone done;
	StringInfoData detail;
	List	   *actions;
	ListCell   *lc;
	int			n = 0;

	tsm_sync_extensions(conn, false, NULL, &done);
	tsm_conn_close(conn);

	/* "2 created, 1 already present": how many of each action, by action */
	initStringInfo(&detail);
	actions = list_copy(done.actions);
	list_sort(actions, compare_strings);
	foreach(lc, actions)
	{
		n++;
		if (lnext(actions, lc) != NULL &&
			strcmp(lfirst(lc), lfirst(lnext(actions, lc))) == 0)
			continue;
		appendStringInfo(&detail, "%s%d %s", detail.len > 0 ? ", " : "", n,
						 (char *) lfirst(lc));
		n = 0;
	}

	if (done.timescaledb_source != NULL &&
		(done.timescaledb_target == NULL ||
		 strcmp(done.timescaledb_source, done.timescaledb_target) != 0))
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("timescaledb versions of source and target do not match"),
				errdetail("The source has %s, the target %s: %s.", done.timescaledb_source,
						  done.timescaledb_target ? done.timescaledb_target : "none",
						  done.timescaledb_action),
				errhint("Run on the target, as a superuser: CREATE EXTENSION timescaledb VERSION %s;",
						quote_literal_cstr(done.timescaledb_source)));
	return detail.len > 0 ? detail.data : pstrdup("no extensions");
}

/* list_sort's comparator for a List of C strings */
static int
compare_strings(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

static char *
step_roles(TsmRun *run)
{
	int			created;
	int			existing;
	int			skipped;

	if (!run->roles)
		return pstrdup("skipped: roles => false");
	/* what was refused (pull_roles' "skipped..." rows) is counted apart */
	tsm_pull_roles(run->src, run->consent, &created, &existing, &skipped);
	return psprintf("%d roles created, %d left as they were, %d skipped (pull_roles(..., dry_run => true) lists them)",
					created, existing, skipped);
}

/*
 * Pre-data, in batches of objects, each batch a transaction of its own that
 * records its objects in tsmigrate.run_object: the locks of the relations
 * a batch creates go with its commit, so that no number of tables fills the
 * lock table, and a resumed step replays what no batch committed.
 */
static char *
step_pre_data(TsmRun *run)
{
	replay_section(run, TSM_SECTION_PRE_DATA, false);
	return psprintf(INT64_FORMAT " objects", run->section_done.created);
}

/*
 * Post-data with the run's jobs, skipping what is there already: the
 * indexes that the data step built, and, in a step begun by an earlier
 * call, the objects it committed.  With several jobs each object commits
 * on its own in a worker; with one, in batches as pre-data.
 */
static char *
step_post_data(TsmRun *run)
{
	TsmSchemaDone *done = &run->section_done;

	if (run->jobs > 1)
		run_guarded(run, "post-data", post_data_parallel, NULL, GUARD_SNAPSHOT);
	else
		replay_section(run, TSM_SECTION_POST_DATA, true);
	if (done->existing == 0)
		return psprintf(INT64_FORMAT " objects", done->created);
	if (run->step_resumed)
		return psprintf(INT64_FORMAT " objects (" INT64_FORMAT " more were there already)",
						done->created, done->existing);
	return psprintf(INT64_FORMAT " objects (" INT64_FORMAT " more built by the data step)",
					done->created, done->existing);
}

static char *
post_data_parallel(TsmRun *run)
{
	tsm_pull_schema(run->src, TSM_SECTION_POST_DATA, run->jobs, true,
					run_schema_options(run), &run->section_done);
	return NULL;
}

/*
 * Replay a section in batches (tsm_section_batch_size objects each), each
 * run guarded and committed with the record of its objects.
 */
static void
replay_section(TsmRun *run, TsmSchemaSection section, bool skip_existing)
{
	const char *step = section == TSM_SECTION_PRE_DATA ? "pre-data" : "post-data";
	int			nobjects;

	run->section = section;
	run->replay_skip_existing = skip_existing;
	run_guarded(run, step, begin_section, NULL, GUARD_SNAPSHOT);
	nobjects = list_length(run->replay->objects);
	run_in_batches(run, step, nobjects, replay_batch);
	run->section_done.created += nobjects;
	tsm_section_end(run->replay);
	run->replay = NULL;
}

/*
 * Generate the section's objects from the source, and leave out those that
 * an earlier call's committed batches recorded (counted as existing).
 */
static char *
begin_section(TsmRun *run)
{
	const char *step = run->section == TSM_SECTION_PRE_DATA ? "pre-data" : "post-data";
	TsmRows    *recorded;
	char	  **keys;
	List	   *todo = NIL;
	ListCell   *lc;
	int			i;

	run->replay = tsm_section_begin(run->src, run->section, run->replay_skip_existing,
									run_schema_options(run), &run->section_done);
	recorded = tsm_state_objects_recorded(run->run_id, step);
	if (recorded->nrows == 0)
		return NULL;

	/* sorted "kind\x1fname" keys: one lookup per object, by bsearch */
	keys = palloc(sizeof(char *) * recorded->nrows);
	for (i = 0; i < recorded->nrows; i++)
		keys[i] = object_key(tsm_rows_value(recorded, i, 0), tsm_rows_value(recorded, i, 1));
	qsort(keys, recorded->nrows, sizeof(char *), compare_string_ptrs);
	foreach(lc, run->replay->objects)
	{
		TsmSchemaObject *obj = lfirst(lc);
		char	   *key;

		CHECK_FOR_INTERRUPTS();
		key = object_key(obj->kind, obj->name);

		if (bsearch(&key, keys, recorded->nrows, sizeof(char *), compare_string_ptrs))
			run->section_done.existing++;
		else
			todo = lappend(todo, obj);
		pfree(key);
	}
	run->replay->objects = todo;
	return NULL;
}

/* one batch of the section's objects, recorded as the run's */
static char *
replay_batch(TsmRun *run)
{
	const char *step = run->section == TSM_SECTION_PRE_DATA ? "pre-data" : "post-data";
	List	   *objects = run->replay->objects;
	int			n = Min(run->replay_batch, list_length(objects) - run->replay_next);
	const char **kinds = palloc(sizeof(char *) * n);
	const char **names = palloc(sizeof(char *) * n);
	int			i;

	tsm_section_replay(run->replay, run->replay_next, n);
	for (i = 0; i < n; i++)
	{
		TsmSchemaObject *obj = list_nth(objects, run->replay_next + i);

		kinds[i] = obj->kind;
		names[i] = obj->name;
	}
	tsm_state_objects_done(run->run_id, step, n, kinds, names);
	pfree(kinds);
	pfree(names);
	return NULL;
}

/* a schema object's kind and name as one string, for the lookup above */
static char *
object_key(const char *kind, const char *name)
{
	return psprintf("%s\x1f%s", kind ? kind : "", name ? name : "");
}

static int
compare_string_ptrs(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* how the run's schema is generated: its owners, privileges and allow */
static TsmSchemaOptions *
run_schema_options(TsmRun *run)
{
	TsmSchemaOptions *opts = palloc0(sizeof(TsmSchemaOptions));

	opts->owners = run->owners;
	opts->privileges = run->privileges;
	opts->consent = run->consent;
	return opts;
}

/* does the source have TimescaleDB?  Read once per call, on one connection */
static bool
source_has_timescaledb(TsmRun *run)
{
	if (run->has_timescaledb < 0)
	{
		PGconn	   *conn = tsm_conn_open(run->src);

		run->has_timescaledb = tsm_source_has_timescaledb(conn) ? 1 : 0;
		tsm_conn_close(conn);
	}
	return run->has_timescaledb == 1;
}

/*
 * Hypertables, after pre-data made their root tables: dimensions,
 * compression settings and continuous aggregates in one transaction, then
 * the (empty) chunks in batches, each committed: a chunk made stays locked
 * until its transaction ends, and thousands would fill the lock table.  A
 * resumed step leaves what an earlier call committed.
 */
static char *
step_timescaledb(TsmRun *run)
{
	TsmHypertablesDone done;
	int			nchunks;

	run_guarded(run, "timescaledb", begin_hypertables, NULL, GUARD_SNAPSHOT);
	if (run->hypertables == NULL)
		return pstrdup(source_has_timescaledb(run) ?
					   "0 hypertables and continuous aggregates, 0 chunks (0 compressed on the source)" :
					   "skipped: the source has no TimescaleDB");
	SPI_commit();
	nchunks = tsm_hypertables_chunk_count(run->hypertables);
	run_in_batches(run, "timescaledb", nchunks, make_chunks);
	tsm_hypertables_end(run->hypertables, &done);
	run->hypertables = NULL;
	return psprintf("%d hypertables and continuous aggregates, " INT64_FORMAT " chunks (" INT64_FORMAT " compressed on the source)",
					done.hypertables, done.chunks, done.compressed);
}

/* the hypertables and aggregates made, the chunks read: NULL if none */
static char *
begin_hypertables(TsmRun *run)
{
	run->hypertables = source_has_timescaledb(run) ?
		tsm_hypertables_begin(run->src, run->step_resumed) : NULL;
	return NULL;
}

static char *
make_chunks(TsmRun *run)
{
	tsm_hypertables_chunks(run->hypertables, run->replay_next, run->replay_batch);
	return NULL;
}

/*
 * Continuous aggregates, once their rows are in: the indexes of their
 * materialization hypertables, and their refresh state as of the data
 * step's snapshot.
 */
static char *
finish_caggs(TsmRun *run)
{
	/* on the step's own snapshot session, still in its transaction */
	if (source_has_timescaledb(run))
		tsm_caggs_finish(run->snapshot_conn, NULL);
	return NULL;
}

/*
 * Online: the rows of each table and chunk on both sides, the source's
 * under the copy's snapshot, for verify at cutover (verify_baseline.c).
 */
static char *
count_rows(TsmRun *run)
{
	return tsm_verify_baseline_take(run->snapshot_conn, run->run_id);
}

/*
 * The stream step (online runs only): the worker that applies the
 * source's changes from the copy's snapshot on.
 */
static char *
step_stream(TsmRun *run)
{
	run->stream_started = true;
	return tsm_online_start_stream(run->run_id);
}

/*
 * The cutover step (online runs only, in tsmigrate.cutover()): every
 * change applied, the stream ended.  Its parts are guarded as the other
 * steps are, so that an error marks it and the run failed; the wait between
 * them commits after each look at the worker's progress (and may start the
 * worker again, which commits), each look guarded.
 */
static char *
step_cutover(TsmRun *run)
{
	TimestampTz last_notice = GetCurrentTimestamp();
	char	   *detail = NULL;

	run->cutover_token = NULL;
	run_guarded(run, "cutover", cutover_begin, NULL, GUARD_SNAPSHOT);
	while (run->cutover_token != NULL)
	{
		run_guarded(run, "cutover", cutover_look, NULL, GUARD_SNAPSHOT);
		if (run->cutover_applied)
			break;
		if (GetCurrentTimestamp() - last_notice > 10 * USECS_PER_SEC)
		{
			/* a worker gone (the target restarted): started again */
			if (run->cutover_worker_gone)
				(void) tsm_online_start_stream(run->run_id);
			else
				ereport(NOTICE,
						errmsg("waiting for the stream worker to apply the source's last changes"));
			last_notice = GetCurrentTimestamp();
		}
		SPI_commit();
		/* the worker records the message as it meets it: look often */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 20, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	/* for good: a worker the postmaster starts again must see it (commits) */
	tsm_online_stop_worker(run->run_id);
	run_guarded(run, "cutover", cutover_finish, &detail, GUARD_SNAPSHOT);
	return detail;
}

/* the source's writers, and the message the worker must reach */
static char *
cutover_begin(TsmRun *run)
{
	run->cutover_token = tsm_online_cutover_begin(run->run_id, run_source(run), run->force);
	return NULL;
}

/* one look at the worker's progress */
static char *
cutover_look(TsmRun *run)
{
	run->cutover_applied = tsm_online_cutover_applied(run->run_id, run->cutover_token,
													  &run->cutover_worker_gone);
	return NULL;
}

static char *
cutover_finish(TsmRun *run)
{
	return tsm_online_cutover_finish(run->run_id, run_source(run));
}

/*
 * Policies and user jobs, last: with the source's next start times, and
 * only once all data is in, compressed and analyzed.
 */
static char *
step_jobs(TsmRun *run)
{
	int			jobs;
	int			created;

	if (!source_has_timescaledb(run))
		return pstrdup("skipped: the source has no TimescaleDB");
	jobs = tsm_pull_jobs(run->src, run->owners, &created);
	return psprintf("%d jobs (%d created)", jobs, created);
}

/* chunks compressed on the source, compressed here once indexes are in */
static char *
step_compression(TsmRun *run)
{
	PGconn	   *conn;
	int64		n;

	if (!source_has_timescaledb(run))
		return pstrdup("skipped: the source has no TimescaleDB");
	conn = tsm_conn_open(run->src);
	n = tsm_compress_chunks(conn, NULL);
	tsm_conn_close(conn);
	return psprintf(INT64_FORMAT " chunks compressed", n);
}

/*
 * The data step: record the source's relations once, then copy what is not
 * copied yet: tables, sequences and chunks in one pool of copy workers,
 * then large objects, then the continuous aggregates' indexes and refresh
 * state, all under one source snapshot.
 */
static char *
step_data(TsmRun *run)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	TsmRows    *todo;
	char	   *counted = NULL;
	bool		large_objects = false;
	int			r;

	values[0] = Int64GetDatum(run->run_id);
	if (SPI_execute_with_args("SELECT FROM tsmigrate.run_relation WHERE run_id = $1 LIMIT 1",
							  1, types, values, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 0)
	{
		run_guarded(run, "data", list_source_relations, NULL, 0);
		SPI_commit();
	}

	/*
	 * Online, resumed: a new slot, with a new snapshot; what an earlier call
	 * copied under the old one is copied again under it.
	 */
	if (run->online && run->step_resumed)
	{
		SPI_execute_with_args("UPDATE tsmigrate.run_relation SET state = 'copying'"
							  " WHERE run_id = $1 AND state <> 'pending'",
							  1, types, values, NULL, false, 0);
		SPI_commit();
	}

	/* every read of the source under one snapshot, held open here */
	run_guarded(run, "data", export_snapshot, NULL, 0);

	todo = tsm_state_relations_todo(run->run_id);
	run->batch = NIL;
	run->batch_states = NIL;
	run->early_indexes = 0;
	for (r = 0; r < todo->nrows; r++)
	{
		if (strcmp(tsm_rows_value(todo, r, 0), TSM_LARGE_OBJECTS) == 0)
		{
			large_objects = true;
			continue;
		}
		run->batch = lappend(run->batch, pstrdup(tsm_rows_value(todo, r, 0)));
		run->batch_states = lappend_int(run->batch_states,
										tsm_state_relation_state(tsm_rows_value(todo, r, 1)));
	}
	if (run->batch != NIL)
	{
		run_guarded(run, "data", empty_current_batch, NULL, 0);
		SPI_commit();
		run_guarded(run, "data", prepare_current_batch, NULL, 0);
		SPI_commit();
		run_guarded(run, "data", copy_current_batch, NULL, GUARD_RELATIONS);
		SPI_commit();
	}
	run->batch = NIL;
	run->batch_states = NIL;
	run->table_plan = NULL;
	run->chunk_plan = NULL;

	/* large objects: one more item, on their own */
	if (large_objects)
	{
		tsm_state_relation_mark(run->run_id, TSM_LARGE_OBJECTS, TSM_RELATION_COPYING, -1, -1, NULL);
		SPI_commit();
		run_guarded(run, "data", copy_source_large_objects, NULL,
					GUARD_RELATIONS | GUARD_SNAPSHOT);
		SPI_commit();
	}

	/* continuous aggregates: indexes and refresh state, same snapshot */
	run_guarded(run, "data", finish_caggs, NULL, GUARD_SNAPSHOT);
	SPI_commit();
	if (run->online)
	{
		run_guarded(run, "data", count_rows, &counted, GUARD_SNAPSHOT);
		SPI_commit();
	}

	tsm_conn_command(run->snapshot_conn, "COMMIT");
	tsm_conn_close(run->snapshot_conn);
	run->snapshot_conn = NULL;
	run->snapshot = NULL;

	values[0] = Int64GetDatum(run->run_id);
	SPI_execute_with_args("SELECT count(*), COALESCE(sum(rows), 0), COALESCE(sum(bytes), 0)"
						  " FROM tsmigrate.run_relation WHERE run_id = $1",
						  1, types, values, NULL, true, 0);
	return psprintf("%s relations, %s rows, %s bytes%s%s", result_value(0, 1),
					result_value(0, 2), result_value(0, 3),
					run->early_indexes > 0 ?
					psprintf(", %d indexes built", run->early_indexes) : "",
					counted ? psprintf("; %s", counted) : "");
}

/*
 * Open the data step's snapshot: a REPEATABLE READ transaction on a source
 * connection that outlives the batches' commits, and its exported snapshot.
 * A resumed run takes a new one: the applications are expected to be
 * offline (the checks step warns about sessions still connected).
 */
static char *
export_snapshot(TsmRun *run)
{
	TsmRows    *rows;

	run->snapshot_conn = tsm_conn_open_session(run_source(run));
	if (run->online)
		tsm_online_snapshot(run->run_id, run_source(run), run->snapshot_conn);
	else
		tsm_conn_command(run->snapshot_conn,
						 "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	rows = tsm_query(run->snapshot_conn, "SELECT pg_catalog.pg_export_snapshot()",
					 0, NULL, 1, "the source's snapshot");
	run->snapshot = pstrdup(tsm_rows_get(rows, 0, 0));
	return NULL;
}

/* the run's source, as this call resolved it (the argument, or tsmigrate.source) */
static TsmSource *
run_source(TsmRun *run)
{
	return run->src;
}

/*
 * The source's tables and sequences, as pull_data copies them (leaf
 * partitions, not partitioned parents).  Materialized views are left to
 * post-data, which refreshes those populated on the source once all data
 * and indexes are in, as a pg_dump restore does.
 */
static char *
list_source_relations(TsmRun *run)
{
	TsmSource  *src = run_source(run);
	PGconn	   *conn = tsm_conn_open(src);
	TsmSourceRelation *rels;
	int			nrels;
	TsmRows    *lo;
	List	   *hypertables;
	TsmRows    *chunks;
	int			r;

	rels = tsm_source_relations(conn, "rS", &nrels);
	/* hypertables' rows are in their chunks, relations of their own */
	hypertables = tsm_source_hypertables(conn);
	chunks = tsm_source_chunks(conn);
	/* large objects are one more item, copied on their own at the end */
	lo = tsm_query(conn,
				   "SELECT pg_catalog.count(*),"
				   "       pg_catalog.pg_relation_size('pg_catalog.pg_largeobject')"
				   "  FROM pg_catalog.pg_largeobject_metadata",
				   0, NULL, 2, "the source's large objects");
	tsm_conn_close(conn);
	for (r = 0; chunks != NULL && r < chunks->nrows; r++)
		tsm_state_add_relation(run->run_id, tsm_rows_get(chunks, r, 0),
							   tsm_rows_int64(chunks, r, 1),
							   tsm_rows_int64(chunks, r, 2));

	for (r = 0; r < nrels; r++)
	{
		if (tsm_is_hypertable(hypertables, rels[r].qualname))
			continue;
		tsm_state_add_relation(run->run_id, rels[r].qualname,
							   rels[r].reltuples, rels[r].size);
	}

	if (tsm_rows_int64(lo, 0, 0) != 0)
		tsm_state_add_relation(run->run_id, TSM_LARGE_OBJECTS,
							   tsm_rows_int64(lo, 0, 0),
							   tsm_rows_int64(lo, 0, 1));
	return NULL;
}

/*
 * Prepare the copy of the relations of the batch as pull_data and
 * pull_chunks would: the source's side read under the step's snapshot,
 * the target's tables checked.  The caller commits then, so that the copy
 * workers may TRUNCATE what they fill (tsm_copy_prepare_freeze).
 */
static char *
prepare_current_batch(TsmRun *run)
{
	List	   *tables = NIL;
	List	   *chunks = NIL;
	ListCell   *lc;
	struct HTAB *chunk_names = tsm_target_chunk_names();

	/* hypertables' chunks are pull_chunks', the rest pull_data's */
	foreach(lc, run->batch)
	{
		if (tsm_target_chunk_names_has(chunk_names, lfirst(lc)))
			chunks = lappend(chunks, lfirst(lc));
		else
			tables = lappend(tables, lfirst(lc));
	}

	/*
	 * the checks of the target's tables read them (a procedure has no
	 * snapshot)
	 */
	PushActiveSnapshot(GetTransactionSnapshot());
	run->table_plan = tables != NIL ?
		tsm_data_prepare(run->snapshot_conn, text_array(tables), run->jobs) : NULL;
	run->chunk_plan = chunks != NIL ?
		tsm_chunks_prepare(run->snapshot_conn, text_array(chunks)) : NULL;
	PopActiveSnapshot();

	/* the tables' indexes, built in the data step once each is copied */
	if (run->table_plan != NULL && tsm_copy_indexes)
	{
		PGconn	   *conn = tsm_conn_open(run_source(run));
		TsmSchemaOptions opts = {run->owners, run->privileges, run->consent};

		run->early_indexes = tsm_early_indexes_attach(conn, &opts, run_source(run)->label,
													  run->table_plan->tasks, run->table_plan->ntasks);
		tsm_conn_close(conn);
	}
	return NULL;
}

/*
 * Copy the prepared relations in one pool of copy workers, largest first,
 * so that tables and chunks keep every worker busy.  Each relation is
 * committed and marked copied on its own: by the worker that copies its
 * last part, or here for a sequence (set here) and for a chunk copied
 * compressed (attached here).
 */
static char *
copy_current_batch(TsmRun *run)
{
	TsmCopyTask *tasks;
	int			ntasks = 0;

	tasks = palloc(sizeof(TsmCopyTask) * ((run->table_plan ? run->table_plan->ntasks : 0) +
										  (run->chunk_plan ? run->chunk_plan->ntasks : 0) + 1));
	if (run->table_plan)
	{
		memcpy(tasks, run->table_plan->tasks, sizeof(TsmCopyTask) * run->table_plan->ntasks);
		ntasks += run->table_plan->ntasks;
	}
	if (run->chunk_plan)
	{
		memcpy(tasks + ntasks, run->chunk_plan->tasks, sizeof(TsmCopyTask) * run->chunk_plan->ntasks);
		ntasks += run->chunk_plan->ntasks;
	}
	tsm_copy_run_tasks(run->snapshot_conn, run_source(run), run->snapshot,
					   tasks, ntasks, run->jobs, run->run_id);
	/* the results, back into the plans */
	if (run->chunk_plan)
		memcpy(run->chunk_plan->tasks, tasks + (ntasks - run->chunk_plan->ntasks),
			   sizeof(TsmCopyTask) * run->chunk_plan->ntasks);

	if (run->table_plan)
		tsm_data_sequences(run->snapshot_conn, run->table_plan, run->run_id);
	if (run->chunk_plan)
		tsm_chunks_attach(run->chunk_plan, run->run_id);
	return NULL;
}

/* a text[] of the strings of "items" */
static ArrayType *
text_array(List *items)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(items), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, items)
		elems[n++] = CStringGetTextDatum(lfirst(lc));
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/* the source's large objects, pull_data's way, then marked copied */
static char *
copy_source_large_objects(TsmRun *run)
{
	int64		count;
	int64		bytes;

	tsm_data_large_objects(run->snapshot_conn, &count, &bytes);
	tsm_state_relation_mark(run->run_id, TSM_LARGE_OBJECTS, TSM_RELATION_COPIED,
							count, bytes, NULL);
	return NULL;
}

/*
 * A relation caught mid-copy by an earlier call is emptied first, in a
 * transaction of its own: TRUNCATE's lock, held until the copy commits,
 * would make the copy workers wait for the leader that waits for them.
 */
static char *
empty_current_batch(TsmRun *run)
{
	ListCell   *lc;
	ListCell   *sc;

	forboth(lc, run->batch, sc, run->batch_states)
	{
		if (lfirst_int(sc) != TSM_RELATION_PENDING)
		{
			Oid			relid = DatumGetObjectId(DirectFunctionCall1(to_regclass,
																	 CStringGetTextDatum(lfirst(lc))));

			/*
			 * The name was read back from run_relation: it picks the table,
			 * and the statement names what the target's catalogs call it,
			 * quoted here, never the text that was read.
			 */
			if (OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_RELATION)
			{
				char	   *qualname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
																  get_rel_name(relid));
				char	   *pending;

				SPI_execute(psprintf("TRUNCATE ONLY %s", qualname), false, 0);
				/* a chunk's compressed rows, copied as they are */
				if (tsm_target_is_chunk(qualname) &&
					(pending = tsm_compressed_pending_of(qualname)) != NULL)
					SPI_execute(psprintf("TRUNCATE ONLY %s", pending), false, 0);
			}
		}
	}
	return NULL;
}

/*
 * ANALYZE what the caller owns (a database-wide ANALYZE would warn about
 * every shared catalog to a non-superuser) and the copy workers did not
 * analyze right after copying it in this run: hypertables' and
 * partitioned tables' parents, chunks copied compressed, materialized
 * views, relations copied by an earlier call.  PostgreSQL's ANALYZE on
 * exactly those, by OID: a hypertable's own rows and inheritance
 * statistics, without TimescaleDB analyzing its chunks again, as it does
 * for an ANALYZE statement on a hypertable.
 */
static char *
step_analyze(TsmRun *run)
{
	int			n;

	run_guarded(run, "analyze", list_unanalyzed, NULL, GUARD_SNAPSHOT);
	SPI_commit();
	n = list_length(run->analyze);
	run_in_batches(run, "analyze", n, analyze_batch);
	run->analyze = NIL;
	return n == 0 ? NULL : psprintf("%d relations", n);
}

/* what the caller owns and the copy workers did not analyze, by OID */
static char *
list_unanalyzed(TsmRun *run)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	uint64		r;

	values[0] = Int64GetDatum(run->run_id);
	SPI_execute_with_args("SELECT c.oid"
						  "  FROM pg_catalog.pg_class c"
						  "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
						  "  LEFT JOIN pg_catalog.pg_stat_all_tables s ON s.relid OPERATOR(pg_catalog.=) c.oid"
						  " WHERE c.relkind IN ('r', 'm', 'p')"
						  "   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
						  "   AND pg_catalog.pg_has_role(c.relowner, 'USAGE')"
						  "   AND (s.last_analyze IS NULL OR s.last_analyze OPERATOR(pg_catalog.<)"
						  "        (SELECT st.started FROM tsmigrate.run_step st"
						  "          WHERE st.run_id OPERATOR(pg_catalog.=) $1"
						  "            AND st.step OPERATOR(pg_catalog.=) 'data'))"
						  " ORDER BY c.oid",
						  1, types, values, NULL, true, 0);
	run->analyze = NIL;
	for (r = 0; r < SPI_processed; r++)
	{
		bool		isnull;

		run->analyze = lappend_oid(run->analyze,
								   DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[r],
																  SPI_tuptable->tupdesc, 1, &isnull)));
	}
	return NULL;
}

/*
 * ANALYZE a batch of them, each on its own (its lock released as it ends;
 * one it cannot analyze is a WARNING)
 */
static char *
analyze_batch(TsmRun *run)
{
	int			i;

	for (i = run->replay_next;
		 i < run->replay_next + run->replay_batch && i < list_length(run->analyze); i++)
	{
		CHECK_FOR_INTERRUPTS();
		(void) tsm_target_analyze(list_nth_oid(run->analyze, i));
	}
	return NULL;
}

/*
 * verify, and fail on anything of the source's that the target lacks or has
 * otherwise.  Objects only the target has (pg_cron, say, installed there to
 * run this very migration) do not make the migration incomplete: they are
 * a WARNING.
 */
static char *
step_verify(TsmRun *run)
{
	TsmVerifySummary found;

	tsm_verify(run->src, false, run->online ? run->run_id : 0, &found);
	if (found.differences > 0)
		ereport(ERROR,
				errcode(ERRCODE_DATA_EXCEPTION),
				errmsg("source and target differ in " INT64_FORMAT " of " INT64_FORMAT " checks",
					   found.differences, found.checks),
				errdetail("%s", found.differ.data),
				errhint("See SELECT * FROM tsmigrate.verify() WHERE NOT ok."));
	if (found.only_target > 0)
		ereport(WARNING,
				errmsg("the target has " INT64_FORMAT " objects that the source does not have",
					   found.only_target),
				errdetail("%s", found.extra.data));
	return psprintf(INT64_FORMAT " checks, all ok%s%s", found.checks,
					found.only_target > 0 ?
					psprintf(" (" INT64_FORMAT " objects only on the target)",
							 found.only_target) : "",
					found.from_baseline > 0 ?
					psprintf("; the rows of " INT64_FORMAT " relations from their counts after the copy and the stream's changes",
							 found.from_baseline) : "");
}

/*
 * The migration lock: one advisory lock per database, held by the session
 * for the whole call.
 */
static bool
take_lock(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, TSM_MIGRATE_LOCK_KEY1,
						 TSM_MIGRATE_LOCK_KEY2, 2);
	return LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
}

static void
release_lock(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, TSM_MIGRATE_LOCK_KEY1,
						 TSM_MIGRATE_LOCK_KEY2, 2);
	LockRelease(&tag, ExclusiveLock, true);
}
