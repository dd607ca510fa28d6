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
 * IDENTIFICATION
 *	  src/stream/stream_worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
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

/* what the worker reads of its run */
typedef struct StreamRun
{
	char	   *source;
	char	   *name;			/* slot, publication, origin */
} StreamRun;

/* applied_transactions of the run before this worker started */
static int64 applied_base = 0;

/* what write_state allocates, reset each time */
static MemoryContext status_cxt = NULL;

static bool read_run(int64 run_id, StreamRun *run);
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

	PG_TRY();
	{
		StartTransactionCommand();
		tsm_caller_become(&caller);
		PushActiveSnapshot(GetTransactionSnapshot());
		if (!read_run(run_id, &run))
		{
			/* cutover or abandon stopped it, or the run is gone: for good */
			PopActiveSnapshot();
			CommitTransactionCommand();
			proc_exit(0);
		}
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
		/* every commit of this session records the position of the source */
		replorigin_session_origin = originid;
		start = replorigin_session_get_progress(false);

		StartTransactionCommand();
		conn = tsm_replication_open(src);
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
						batch_start = now;
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
				CommitTransactionCommand();

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
 * The run's stream row, if the run is still to stream: its source, slot,
 * publication and replication origin.
 */
static bool
read_run(int64 run_id, StreamRun *run)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	bool		streaming = false;

	values[0] = Int64GetDatum(run_id);
	SPI_connect();
	if (SPI_execute_with_args("SELECT r.source, COALESCE(s.applied_transactions, 0)"
							  "  FROM tsmigrate.run_stream s JOIN tsmigrate.run r USING (run_id)"
							  " WHERE s.run_id OPERATOR(pg_catalog.=) $1"
							  "   AND r.owner OPERATOR(pg_catalog.=) CURRENT_USER"
							  "   AND s.state OPERATOR(pg_catalog.=) 'streaming'",
							  1, types, values, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);

		run->source = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		applied_base = pg_strtoint64(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
		run->name = tsm_stream_object_name(run_id);
		MemoryContextSwitchTo(oldcxt);
		streaming = run->source != NULL;
	}
	SPI_finish();
	return streaming;
}

/*
 * Write the run's stream row, in a transaction of its own: positions
 * (InvalidXLogRecPtr: left as they are), counters, and an error, which
 * with "failed" ends the streaming for good.
 */
static void
write_state(int64 run_id, XLogRecPtr received, XLogRecPtr applied,
			TsmApply *apply, const char *error, bool failed)
{
	Oid			types[7] = {INT8OID, TEXTOID, TEXTOID, INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[7];
	char		nulls[7] = {' ', 'n', 'n', 'n', 'n', 'n', 'n'};
	TimestampTz committime = 0;
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

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	if (SPI_execute_with_args(psprintf("UPDATE tsmigrate.run_stream SET"
									   "  received_lsn = COALESCE($2::pg_catalog.pg_lsn, received_lsn),"
									   "  applied_lsn = COALESCE($3::pg_catalog.pg_lsn, applied_lsn),"
									   "  applied_transactions = COALESCE($4 OPERATOR(pg_catalog.+) " INT64_FORMAT ", applied_transactions),"
									   "  error = $5,"
									   "  marker = COALESCE($6, marker),"
									   "  last_commit_time = COALESCE($7, last_commit_time),"
									   "  worker_pid = CASE WHEN $5 IS NULL THEN pg_catalog.pg_backend_pid() END,"
									   "  updated = pg_catalog.clock_timestamp()%s"
									   " WHERE run_id OPERATOR(pg_catalog.=) $1",
									   applied_base, failed ? ", state = 'failed'" : ""),
							  7, types, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "SPI_execute_with_args failed");
	SPI_finish();
	PopActiveSnapshot();
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
