/*-------------------------------------------------------------------------
 *
 * stream_worker.c
 *	  The background worker of an online run: it streams the source's
 *	  slot and applies every change (apply.c), until cutover stops it
 *
 * NOTES
 *	The worker outlives the CALL that started it.  It runs as that call's
 *	caller (workers.c), with session_replication_role = replica as a
 *	subscription's apply worker does (the rows' triggers and foreign keys
 *	fired on the source already), which the caller must be allowed to set.
 *
 *	No change is lost or applied twice: the transactions of the source are
 *	applied in transactions here that carry, through a replication origin,
 *	the position of the last one; at start the stream resumes from that
 *	position, and the source is told to keep its WAL from what is durable
 *	here only.  Several small transactions of the source may go into one
 *	here (all or none of them commit).
 *
 *	Its state is the run's row of tsmigrate.run_stream, which it updates
 *	about once a second: what it received and applied, and its error.
 *	Killed, or stopped by an error it may outlive (a lost connection), it
 *	is started again by the postmaster after a few seconds and resumes;
 *	it exits for good when its row says it should no longer stream
 *	(cutover, abandon) or after any other error, recorded there.  After a
 *	restart of the target, migrate(online => true) starts it again.
 *
 *	A run that is gone, by DROP EXTENSION tsmigrate (which drops the
 *	foreign server with it) or by the deletion of its rows, would leave a
 *	slot on the source that holds its WAL until the disk is full.  Each
 *	transaction of the worker asks first whether the extension is still
 *	there, and each report whether the run's row is: what it sees is
 *	committed (a DROP that rolls back is never seen), and an error caused
 *	by a drop that commits meanwhile is followed by the same question.  A
 *	gone run's worker ends its stream, drops the slot and the publication
 *	on the source through the connection parameters it resolved at start
 *	(kept in memory only), drops its replication origin here, and exits
 *	for good.  A worker that does not run then (a restart of the target)
 *	cannot reach the source: it drops the origin and says what is left.
 *
 *	How far behind the source it is: about once a second, the worker asks
 *	the source where its WAL ends (on the session the apply reads the
 *	source's catalog with).  Once everything up to a position so asked is
 *	applied here, the target held, at the time of the question, everything
 *	the source had: run_stream.caught_up is the latest such time, and it is
 *	the time of its report when the worker has applied all the source had
 *	then.  tsmigrate.stream_status and tsmigrate.progress compute the lag
 *	in seconds from it alike.
 *
 * IDENTIFICATION
 *	  src/stream/stream_worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/extension.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "libpq/pqformat.h"
#include "postmaster/bgworker.h"
#include "replication/origin.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"
#include "stream/stream.h"
#include "workers/workers.h"

/* a batch of the source's transactions is committed here after this long */
#define BATCH_MS			200
/* and state and feedback are sent this often */
#define STATUS_MS			1000

/* the source's WAL end positions asked, not yet all applied here */
#define MAX_SAMPLES			16

/* what the worker finds of its run */
typedef enum StreamRunState
{
	RUN_STREAMING,				/* to stream */
	RUN_STOPPED,				/* by cutover or abandon, who clean up */
	RUN_GONE,					/* extension dropped, or the run's row deleted */
} StreamRunState;

/* what the worker reads of its run */
typedef struct StreamRun
{
	char	   *source;
	char	   *name;			/* slot, publication, origin */
} StreamRun;

/* where the source's WAL ended, and when it was asked */
typedef struct WalSample
{
	XLogRecPtr	lsn;
	TimestampTz time;
} WalSample;

/* applied_transactions of the run before this worker started */
static int64 applied_base = 0;

/* what write_state allocates, reset each time */
static MemoryContext status_cxt = NULL;

/*
 * What the worker holds to clean up after its run is gone: the stream, the
 * source's connection parameters resolved at start, and the objects' name.
 */
static PGconn *stream_conn = NULL;
static TsmSource *stream_src = NULL;
static char *stream_name = NULL;
static bool origin_held = false;

/* the source's WAL ends asked, oldest first; when all of it was here */
static WalSample samples[MAX_SAMPLES];
static int	nsamples = 0;
static TimestampTz caught_up = 0;

static StreamRunState read_run(int64 run_id, StreamRun *run);
static bool extension_present(void);
static bool run_gone_after_error(int64 run_id);
tsm_noreturn static void leave_for_good(int64 run_id) tsm_noreturn_after;
static void sample_source(TsmApply *apply, XLogRecPtr applied, TimestampTz now);
static void write_state(int64 run_id, XLogRecPtr received, XLogRecPtr applied,
						TsmApply *apply, const char *error, bool failed);
static void set_setting(const char *name, const char *value);
static bool retryable(int sqlerrcode);

/*
 * tsm_stream_worker_start
 *		Start the stream worker of run "run_id", as the caller; false when
 *		no worker could start.  *pid is its process.
 */
bool
tsm_stream_worker_start(int64 run_id, int *pid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	TsmCaller	caller;
	pid_t		wpid;

	StaticAssertStmt(sizeof(TsmCaller) <= BGW_EXTRALEN, "caller does not fit");
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "tsmigrate");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "tsm_stream_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "tsmigrate stream of run " INT64_FORMAT, run_id);
	snprintf(worker.bgw_type, BGW_MAXLEN, "tsmigrate stream");
	worker.bgw_main_arg = Int64GetDatum(run_id);
	tsm_caller_capture(&caller);
	memcpy(worker.bgw_extra, &caller, sizeof(caller));
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		return false;
	if (WaitForBackgroundWorkerStartup(handle, &wpid) != BGWH_STARTED)
		return false;
	*pid = (int) wpid;
	return true;
}

void
tsm_stream_worker_main(Datum main_arg)
{
	int64		run_id = DatumGetInt64(main_arg);
	TsmCaller	caller;
	StreamRun	run;
	TsmSource  *src;
	TsmApply   *volatile apply = NULL;
	PGconn	   *conn;
	RepOriginId originid;
	XLogRecPtr	start;
	XLogRecPtr	received = InvalidXLogRecPtr;
	TimestampTz batch_start = 0;
	TimestampTz last_status = 0;
	int64		last_marker = 0;
	MemoryContext msgcxt;

	memcpy(&caller, MyBgworkerEntry->bgw_extra, sizeof(caller));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	tsm_caller_connect(&caller);
	status_cxt = AllocSetContextCreate(TopMemoryContext, "tsmigrate stream state",
									   ALLOCSET_SMALL_SIZES);
	stream_name = MemoryContextStrdup(TopMemoryContext,
									  tsm_stream_object_name(run_id));

	PG_TRY();
	{
		StreamRunState state;

		StartTransactionCommand();
		tsm_caller_become(&caller);
		PushActiveSnapshot(GetTransactionSnapshot());
		state = extension_present() ? read_run(run_id, &run) : RUN_GONE;
		PopActiveSnapshot();
		CommitTransactionCommand();
		/* cutover or abandon stopped it, and clean up: for good */
		if (state == RUN_STOPPED)
			proc_exit(0);
		/* gone while no worker ran: the source is out of reach */
		if (state == RUN_GONE)
			leave_for_good(run_id);

		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		set_setting("session_replication_role", "replica");
		set_setting("synchronous_commit", "off");
		set_setting("search_path", "pg_catalog");
		/* how cutover and migrate tell this run's worker from any process */
		set_setting("application_name",
					psprintf("tsmigrate stream of run " INT64_FORMAT, run_id));

		originid = replorigin_by_name(run.name, true);
		if (originid == InvalidRepOriginId)
			originid = replorigin_create(run.name);
		/* for the worker's life, not the transaction's */
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);

			src = tsm_source_resolve(run.source);
			MemoryContextSwitchTo(oldcxt);
		}
		PopActiveSnapshot();
		CommitTransactionCommand();

		/* one worker per run: the origin is taken by one process only */
		tsm_replorigin_session_setup(originid);
		origin_held = true;
		/* every commit of this session records the position of the source */
		replorigin_session_origin = originid;
		start = replorigin_session_get_progress(false);

		StartTransactionCommand();
		stream_src = src;
		conn = tsm_replication_open(src);
		stream_conn = conn;
		tsm_replication_start(conn, run.name, start, run.name);
		CommitTransactionCommand();
		apply = tsm_apply_begin(run_id, run.source, src);
		msgcxt = AllocSetContextCreate(TopMemoryContext, "tsmigrate stream message",
									   ALLOCSET_DEFAULT_SIZES);
		ereport(LOG,
				errmsg("tsmigrate stream of run " INT64_FORMAT " started at %X/%X",
					   run_id, LSN_FORMAT_ARGS(start)));

		for (;;)
		{
			char	   *buf;
			int			len;
			bool		batch_open = IsTransactionState() && !tsm_apply_in_transaction(apply);
			bool		status_due;
			bool		reply = false;
			TimestampTz now;

			len = tsm_replication_receive(conn, &buf, batch_open ? 0 : STATUS_MS);
			now = GetCurrentTimestamp();
			if (len > 0)
			{
				StringInfoData s;
				MemoryContext oldcxt;

				s.data = buf;
				s.len = len;
				s.maxlen = -1;
				s.cursor = 0;
				if (buf[0] == 'w')
				{
					XLogRecPtr	end;

					s.cursor = 1;
					(void) pq_getmsgint64(&s);	/* start */
					end = pq_getmsgint64(&s);
					(void) pq_getmsgint64(&s);	/* send time */
					if (end > received)
						received = end;
					if (!IsTransactionState())
					{
						batch_start = now;
						StartTransactionCommand();

						/*
						 * Before anything touches tsmigrate's tables: is the
						 * extension still there?  (Its run's row is asked by
						 * each report.)
						 */
						if (!extension_present())
							leave_for_good(run_id);
					}
					oldcxt = MemoryContextSwitchTo(msgcxt);
					tsm_apply_message(apply, &s);
					MemoryContextSwitchTo(oldcxt);
					MemoryContextReset(msgcxt);
				}
				else if (buf[0] == 'k')
				{
					XLogRecPtr	end;

					s.cursor = 1;
					end = pq_getmsgint64(&s);
					(void) pq_getmsgint64(&s);	/* send time */
					reply = pq_getmsgbyte(&s);
					if (end > received)
						received = end;
				}
			}

			/*
			 * A batch of whole transactions: committed when nothing more is
			 * waiting, when it is old enough, or when the state is due (a
			 * steady stream would otherwise never leave a moment for it).
			 */
			/* cutover's marker: said at once, cutover waits for it */
			status_due = reply || tsm_apply_marker_count(apply) != last_marker ||
				TimestampDifferenceExceeds(last_status, now, STATUS_MS);
			if (IsTransactionState() && !tsm_apply_in_transaction(apply) &&
				(len == 0 || status_due ||
				 TimestampDifferenceExceeds(batch_start, now, BATCH_MS)))
			{
				/* the batch's rows counted with it: verify at cutover */
				tsm_apply_flush(apply);
				CommitTransactionCommand();
			}

			if (!IsTransactionState() && status_due)
			{
				XLogRecPtr	flushed = replorigin_session_get_progress(true);
				XLogRecPtr	applied = tsm_apply_last_commit(apply, NULL);

				/* idle with all of it durable: everything received is done */
				if (flushed >= applied)
					applied = Max(applied, received);
				else
					applied = flushed;

				/*
				 * The state first: a marker the source is told is applied is
				 * recorded here.
				 */
				write_state(run_id, received, applied, apply, NULL, false);
				tsm_replication_feedback(conn, applied, false);
				last_status = now;
				last_marker = tsm_apply_marker_count(apply);
			}
			else if (status_due)
			{
				/*
				 * Inside a long transaction of the source: still an answer,
				 * with what is durable here, or the walsender's timeout ends
				 * the stream, and the same transaction again, for ever.
				 */
				tsm_replication_feedback(conn, replorigin_session_get_progress(true), false);
				last_status = now;
			}
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		bool		retry;

		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		FlushErrorState();

		/*
		 * The stream ends here whatever follows; before the abort, which
		 * would close its connection without a word.
		 */
		tsm_replication_end(stream_conn);
		stream_conn = NULL;
		AbortOutOfAnyTransaction();

		/*
		 * The aborted batch set the origin's position to its last commit: the
		 * commit below (of the state) must not record it, or the restarted
		 * worker would skip the batch.
		 */
		replorigin_session_origin = InvalidRepOriginId;
		replorigin_session_origin_lsn = InvalidXLogRecPtr;
		replorigin_session_origin_timestamp = 0;

		/* a second worker of this run: it leaves, quietly */
		if (edata->sqlerrcode == ERRCODE_OBJECT_IN_USE && apply == NULL)
		{
			ereport(LOG,
					errmsg("tsmigrate stream of run " INT64_FORMAT " runs in another process already",
						   run_id));
			proc_exit(0);
		}

		/* the error of a run dropped meanwhile (its tables gone) */
		if (run_gone_after_error(run_id))
			leave_for_good(run_id);

		retry = retryable(edata->sqlerrcode);
		ereport(LOG,
				errmsg("tsmigrate stream of run " INT64_FORMAT " stopped: %s",
					   run_id, edata->message),
				edata->detail ? errdetail_internal("%s", edata->detail) : 0,
				errhint("%s", retry ? "It starts again in a few seconds." :
						edata->hint ? edata->hint :
						"Call tsmigrate.abandon(), remove the cause, and migrate again."));
		write_state(run_id, InvalidXLogRecPtr, InvalidXLogRecPtr, NULL,
					edata->message, !retry);
		proc_exit(retry ? 1 : 0);
	}
	PG_END_TRY();
}

/*
 * tsm_stream_object_name
 *		The name of run "run_id"'s slot and publication on the source and of
 *		its replication origin here: this target's system, database and run,
 *		made again wherever it is used, never read from a table.
 */
char *
tsm_stream_object_name(int64 run_id)
{
	return psprintf("tsmigrate_" UINT64_FORMAT "_%u_" INT64_FORMAT,
					GetSystemIdentifier(), MyDatabaseId, run_id);
}

/* errors the worker outlives: it is started again and resumes */
static bool
retryable(int sqlerrcode)
{
	/* a message the worker cannot read: the same again, for ever */
	if (sqlerrcode == ERRCODE_PROTOCOL_VIOLATION)
		return false;
	switch (ERRCODE_TO_CATEGORY(sqlerrcode))
	{
		case ERRCODE_CONNECTION_EXCEPTION:	/* 08: the source went away */
		case ERRCODE_OPERATOR_INTERVENTION: /* 57: shut down, cancelled */
		case ERRCODE_INSUFFICIENT_RESOURCES:	/* 53 */
		case ERRCODE_TRANSACTION_ROLLBACK:	/* 40: deadlock, serialization */
			return true;
		default:
			return false;
	}
}

/*
 * The run's stream row: streaming (its source, slot, publication and
 * replication origin in *run), stopped (its state says so), or gone.
 */
static StreamRunState
read_run(int64 run_id, StreamRun *run)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	StreamRunState state = RUN_GONE;

	values[0] = Int64GetDatum(run_id);
	SPI_connect();
	if (SPI_execute_with_args("SELECT r.source, COALESCE(s.applied_transactions, 0),"
							  "       s.state OPERATOR(pg_catalog.=) 'streaming',"
							  "       COALESCE(s.caught_up, (SELECT st.started FROM tsmigrate.run_step st"
							  "                               WHERE st.run_id OPERATOR(pg_catalog.=) s.run_id"
							  "                                 AND st.step OPERATOR(pg_catalog.=) 'data'))"
							  "  FROM tsmigrate.run_stream s JOIN tsmigrate.run r USING (run_id)"
							  " WHERE s.run_id OPERATOR(pg_catalog.=) $1"
							  "   AND r.owner OPERATOR(pg_catalog.=) CURRENT_USER",
							  1, types, values, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		bool		streaming = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
		MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);

		state = RUN_STOPPED;
		run->source = SPI_getvalue(tup, desc, 1);
		if (streaming && run->source != NULL)
		{
			Datum		since = SPI_getbinval(tup, desc, 4, &isnull);

			state = RUN_STREAMING;
			applied_base = pg_strtoint64(SPI_getvalue(tup, desc, 2));
			run->name = tsm_stream_object_name(run_id);
			/* the lag goes on from where the last worker left it */
			caught_up = isnull ? GetCurrentTimestamp() : DatumGetTimestampTz(since);
		}
		MemoryContextSwitchTo(oldcxt);
	}
	SPI_finish();
	return state;
}

/*
 * Is the extension there, as committed when the current transaction
 * began?  A DROP EXTENSION not yet committed (it may roll back) is not
 * seen; the worker waits on its locks if it touches tsmigrate's tables.
 */
static bool
extension_present(void)
{
	return OidIsValid(get_extension_oid("tsmigrate", true));
}

/*
 * After an error: is the run gone, the extension dropped or the run's row
 * deleted, as committed now?  The error may be one of the drop (a table of
 * tsmigrate that is no longer there); a question that fails again is asked
 * once more (a drop that committed between its two parts), then taken for
 * "no".
 */
static bool
run_gone_after_error(int64 run_id)
{
	volatile bool gone = false;
	int			tries;

	for (tries = 0; tries < 3; tries++)
	{
		volatile bool answered = false;

		StartTransactionCommand();
		PG_TRY();
		{
			PushActiveSnapshot(GetTransactionSnapshot());
			if (!extension_present())
				gone = true;
			else
			{
				Oid			types[1] = {INT8OID};
				Datum		values[1];

				values[0] = Int64GetDatum(run_id);
				SPI_connect();
				if (SPI_execute_with_args("SELECT FROM tsmigrate.run_stream"
										  " WHERE run_id OPERATOR(pg_catalog.=) $1",
										  1, types, values, NULL, true, 1) != SPI_OK_SELECT)
					elog(ERROR, "SPI_execute_with_args failed");
				gone = SPI_processed == 0;
				SPI_finish();
			}
			PopActiveSnapshot();
			CommitTransactionCommand();
			answered = true;
		}
		PG_CATCH();
		{
			FlushErrorState();
			AbortOutOfAnyTransaction();
		}
		PG_END_TRY();
		if (answered)
			break;
	}
	return gone;
}

/*
 * The run is gone (DROP EXTENSION tsmigrate, or its rows deleted): end the
 * stream, drop the slot and the publication on the source and the
 * replication origin here, say so, and exit for good.  The foreign server
 * may be gone with the extension: the source is reached with the
 * connection parameters resolved at start, if the worker got that far.
 * No error leaves it: what could not be dropped is said.
 */
static void
leave_for_good(int64 run_id)
{
	ErrorData  *volatile failure = NULL;
	volatile bool on_source = false;
	volatile bool origin_dropped = false;
	bool		dropped_extension;
	int			tries;

	/* the walsender releases the slot when its stream ends */
	tsm_replication_end(stream_conn);
	stream_conn = NULL;
	AbortOutOfAnyTransaction();
	replorigin_session_origin = InvalidRepOriginId;
	replorigin_session_origin_lsn = InvalidXLogRecPtr;
	replorigin_session_origin_timestamp = 0;
	if (origin_held)
	{
		replorigin_session_reset();
		origin_held = false;
	}

	StartTransactionCommand();
	dropped_extension = !extension_present();
	CommitTransactionCommand();

	/* a source that does not answer at once is given a few more chances */
	for (tries = 0; stream_src != NULL && !on_source && tries < 5; tries++)
	{
		if (tries > 0)
			pg_usleep(2000 * 1000L);
		StartTransactionCommand();
		PG_TRY();
		{
			PGconn	   *conn = tsm_conn_open(stream_src);

			tsm_replication_drop(conn, stream_name);
			tsm_conn_close(conn);
			CommitTransactionCommand();
			on_source = true;
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(TopMemoryContext);
			if (failure != NULL)
				FreeErrorData(failure);
			failure = CopyErrorData();
			FlushErrorState();
			AbortOutOfAnyTransaction();
		}
		PG_END_TRY();
	}

	StartTransactionCommand();
	PG_TRY();
	{
		replorigin_drop_by_name(stream_name, true, true);
		CommitTransactionCommand();
		origin_dropped = true;
	}
	PG_CATCH();
	{
		FlushErrorState();
		AbortOutOfAnyTransaction();
	}
	PG_END_TRY();

	if (on_source)
		ereport(LOG,
				errmsg("tsmigrate stream of run " INT64_FORMAT " ended: %s",
					   run_id, dropped_extension ? "extension \"tsmigrate\" was dropped" :
					   "its run was deleted"),
				errdetail("Its replication slot and publication \"%s\" were dropped on the source%s.",
						  stream_name, origin_dropped ? ", and its replication origin here" : ""));
	else
		ereport(WARNING,
				errmsg("tsmigrate stream of run " INT64_FORMAT " ended: %s",
					   run_id, dropped_extension ? "extension \"tsmigrate\" was dropped" :
					   "its run was deleted"),
				failure != NULL ?
				errdetail("Its replication slot and publication \"%s\" could not be dropped on the source: %s",
						  stream_name, failure->message) :
				errdetail("Its replication slot and publication \"%s\" were left on the source: no stream worker was running to reach it.",
						  stream_name),
				errhint("The slot holds the source's WAL: on the source, SELECT pg_drop_replication_slot('%s'); DROP PUBLICATION %s;",
						stream_name, quote_identifier(stream_name)));
	proc_exit(0);
}

/*
 * Ask the source where its WAL ends now ("now" being the time of the
 * question), and move caught_up to the time of the latest question whose
 * answer is applied here ("applied").  When all of them are, the target
 * holds all the source had now.
 */
static void
sample_source(TsmApply *apply, XLogRecPtr applied, TimestampTz now)
{
	TsmRows    *r;
	int			n;

	r = tsm_query(tsm_apply_source_session(apply),
				  "SELECT CASE WHEN pg_catalog.pg_is_in_recovery()"
				  "            THEN pg_catalog.pg_last_wal_replay_lsn()"
				  "            ELSE pg_catalog.pg_current_wal_lsn() END",
				  0, NULL, 1, "the source's WAL position");
	if (r->nrows != 1 || tsm_rows_value(r, 0, 0) == NULL)
		return;
	/* full (far behind): the newest gives way to a newer one */
	if (nsamples == MAX_SAMPLES)
		nsamples--;
	samples[nsamples].lsn = tsm_parse_lsn(tsm_rows_value(r, 0, 0));
	samples[nsamples].time = now;
	nsamples++;
	for (n = 0; n < nsamples && samples[n].lsn <= applied; n++)
		caught_up = samples[n].time;
	if (n > 0)
	{
		memmove(samples, samples + n, sizeof(WalSample) * (nsamples - n));
		nsamples -= n;
	}
}

/*
 * Write the run's stream row, in a transaction of its own: positions
 * (InvalidXLogRecPtr: left as they are), counters, when the target last
 * held all the source had (asked of the source first, with "apply"), and
 * an error, which with "failed" ends the streaming for good.  A run found
 * gone (the extension, or the row) is left for good.
 */
static void
write_state(int64 run_id, XLogRecPtr received, XLogRecPtr applied,
			TsmApply *apply, const char *error, bool failed)
{
	Oid			types[9] = {INT8OID, TEXTOID, TEXTOID, INT8OID, TEXTOID, TEXTOID,
	TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[9];
	char		nulls[9] = {' ', 'n', 'n', 'n', 'n', 'n', 'n', ' ', 'n'};
	TimestampTz committime = 0;
	TimestampTz now = GetCurrentTimestamp();
	bool		found;
	MemoryContext oldcxt = MemoryContextSwitchTo(status_cxt);

	values[0] = Int64GetDatum(run_id);
	if (!XLogRecPtrIsInvalid(received))
	{
		values[1] = CStringGetTextDatum(psprintf("%X/%X", LSN_FORMAT_ARGS(received)));
		nulls[1] = ' ';
	}
	if (!XLogRecPtrIsInvalid(applied))
	{
		values[2] = CStringGetTextDatum(psprintf("%X/%X", LSN_FORMAT_ARGS(applied)));
		nulls[2] = ' ';
	}
	if (apply != NULL)
	{
		values[3] = Int64GetDatum(tsm_apply_transactions(apply));
		nulls[3] = ' ';
		if (tsm_apply_marker(apply))
		{
			values[5] = CStringGetTextDatum(tsm_apply_marker(apply));
			nulls[5] = ' ';
		}
		tsm_apply_last_commit(apply, &committime);
		if (committime != 0)
		{
			values[6] = TimestampTzGetDatum(committime);
			nulls[6] = ' ';
		}
	}
	if (error != NULL)
	{
		values[4] = CStringGetTextDatum(error);
		nulls[4] = ' ';
	}
	values[7] = TimestampTzGetDatum(now);

	StartTransactionCommand();
	if (!extension_present())
		leave_for_good(run_id);
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	if (apply != NULL)
		sample_source(apply, applied, now);
	if (caught_up != 0)
	{
		values[8] = TimestampTzGetDatum(caught_up);
		nulls[8] = ' ';
	}
	if (SPI_execute_with_args(psprintf("UPDATE tsmigrate.run_stream SET"
									   "  received_lsn = COALESCE($2::pg_catalog.pg_lsn, received_lsn),"
									   "  applied_lsn = COALESCE($3::pg_catalog.pg_lsn, applied_lsn),"
									   "  applied_transactions = COALESCE($4 OPERATOR(pg_catalog.+) " INT64_FORMAT ", applied_transactions),"
									   "  error = $5,"
									   "  marker = COALESCE($6, marker),"
									   "  last_commit_time = COALESCE($7, last_commit_time),"
									   "  caught_up = COALESCE($9, caught_up),"
									   "  worker_pid = CASE WHEN $5 IS NULL THEN pg_catalog.pg_backend_pid() END,"
									   "  updated = $8%s"
									   " WHERE run_id OPERATOR(pg_catalog.=) $1",
									   applied_base, failed ? ", state = 'failed'" : ""),
							  9, types, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "SPI_execute_with_args failed");
	found = SPI_processed > 0;
	SPI_finish();
	PopActiveSnapshot();
	/* the run's row deleted (DELETE FROM tsmigrate.run) */
	if (!found)
		leave_for_good(run_id);
	CommitTransactionCommand();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(status_cxt);
}

/* a setting for the worker's session, as the caller may set it */
static void
set_setting(const char *name, const char *value)
{
	(void) set_config_option(name, value, superuser() ? PGC_SUSET : PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SET, true, 0, false);
}
