/*-------------------------------------------------------------------------
 *
 * replication.c
 *	  The source's logical replication protocol: a slot made with its
 *	  snapshot, the stream of changes of a slot, and the standby status
 *	  messages that let the source forget what was applied
 *
 * NOTES
 *	A replication connection is a session connection (conn.c) with
 *	replication=database: it speaks SQL too, and the walsender's own
 *	commands (CREATE_REPLICATION_SLOT, START_REPLICATION).  The exported
 *	snapshot of a new slot lives until the next command on its
 *	connection: the caller imports it in another session at once.
 *
 *	The stream is read as libpqwalreceiver.c reads it: PQgetCopyData in
 *	async mode, waiting on the socket and the latch in between, so that
 *	an interrupt or the postmaster's death ends the wait.  Everything in
 *	it comes from the source and is checked by its reader (stream/).
 *
 * IDENTIFICATION
 *	  src/remote/replication.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlogdefs.h"
#include "libpq/pqformat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"

/*
 * tsm_replication_open
 *		A replication connection (replication=database) to "src".
 */
PGconn *
tsm_replication_open(const TsmSource *src)
{
	TsmSource	repl = *src;
	int			n;
	int			i;

	for (n = 0; src->keywords[n] != NULL; n++)
		;
	repl.keywords = palloc0(sizeof(char *) * (n + 2));
	repl.values = palloc0(sizeof(char *) * (n + 2));
	for (i = 0; i < n; i++)
	{
		repl.keywords[i] = src->keywords[i];
		repl.values[i] = src->values[i];
	}
	repl.keywords[n] = "replication";
	repl.values[n] = "database";
	return tsm_conn_open_session(&repl);
}

/*
 * tsm_replication_create_slot
 *		Make logical slot "slot" with pgoutput and return the name of the
 *		snapshot it exported (valid until the next command on "conn") and,
 *		in *consistent_lsn, where its changes start.
 */
char *
tsm_replication_create_slot(PGconn *conn, const char *slot,
							XLogRecPtr *consistent_lsn)
{
	char	   *sql;
	PGresult   *res;
	char	   *snapshot;

	/* the form every source from 13 to 18 understands */
	sql = psprintf("CREATE_REPLICATION_SLOT %s LOGICAL pgoutput EXPORT_SNAPSHOT",
				   quote_identifier(slot));
	res = tsm_conn_exec(conn, sql, 0, NULL, PGRES_TUPLES_OK);
	if (PQntuples(res) != 1 || PQnfields(res) < 3 ||
		PQgetisnull(res, 0, 1) || PQgetisnull(res, 0, 2))
	{
		PQclear(res);
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("unexpected answer of the source to CREATE_REPLICATION_SLOT"));
	}
	*consistent_lsn = tsm_parse_lsn(PQgetvalue(res, 0, 1));
	snapshot = pstrdup(PQgetvalue(res, 0, 2));
	PQclear(res);
	return snapshot;
}

/*
 * tsm_parse_lsn
 *		An LSN the source wrote as text; an error if it is not one.
 */
XLogRecPtr
tsm_parse_lsn(const char *text)
{
	bool		have_error = false;
	XLogRecPtr	lsn;

	lsn = pg_lsn_in_internal(text, &have_error);
	if (have_error)
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("the source sent an invalid LSN"));
	return lsn;
}

/*
 * tsm_replication_start
 *		Start streaming slot "slot" from "start" (InvalidXLogRecPtr: from
 *		where the slot stands) with the changes of "publication" and the
 *		logical messages.
 */
void
tsm_replication_start(PGconn *conn, const char *slot, XLogRecPtr start,
					  const char *publication)
{
	char	   *sql;
	PGresult   *res;

	sql = psprintf("START_REPLICATION SLOT %s LOGICAL %X/%X"
				   " (proto_version '1', publication_names %s, messages 'true')",
				   quote_identifier(slot), LSN_FORMAT_ARGS(start),
				   quote_literal_cstr(quote_identifier(publication)));
	res = tsm_conn_exec(conn, sql, 0, NULL, PGRES_COPY_BOTH);
	PQclear(res);
}

/*
 * tsm_replication_receive
 *		The next message of the stream, waiting at most "timeout_ms": its
 *		length, with *buf pointing into libpq's memory until the next call
 *		(PQfreemem'd there); 0 when nothing came in time.  An error when the
 *		stream ends or the connection breaks.
 */
int
tsm_replication_receive(PGconn *conn, char **buf, long timeout_ms)
{
	static char *last = NULL;
	int			len;

	if (last != NULL)
	{
		PQfreemem(last);
		last = NULL;
	}
	*buf = NULL;

	for (;;)
	{
		int			rc;

		CHECK_FOR_INTERRUPTS();
		len = PQgetCopyData(conn, &last, 1);
		if (len > 0)
		{
			*buf = last;
			return len;
		}
		if (len == -1)
		{
			PGresult   *res = PQgetResult(conn);

			/* the walsender ended the stream: its error, if it sent one */
			if (res != NULL && PQresultStatus(res) == PGRES_FATAL_ERROR)
				tsm_report_remote_error(res, conn, NULL);
			PQclear(res);
			ereport(ERROR,
					errcode(ERRCODE_CONNECTION_FAILURE),
					errmsg("the source ended the replication stream"));
		}
		if (len < -1)
			tsm_report_remote_error(NULL, conn, NULL);

		/* nothing yet: wait for the socket, the latch, or the timeout */
		if (timeout_ms <= 0)
			return 0;
		rc = WaitLatchOrSocket(MyLatch,
							   WL_LATCH_SET | WL_SOCKET_READABLE | WL_TIMEOUT |
							   WL_EXIT_ON_PM_DEATH,
							   PQsocket(conn), timeout_ms,
							   TsmWaitEventCompat("TsmigrateStream"));
		if (rc & WL_LATCH_SET)
			ResetLatch(MyLatch);
		if (rc & WL_TIMEOUT)
			timeout_ms = 0;
		if (PQconsumeInput(conn) == 0)
			tsm_report_remote_error(NULL, conn, NULL);
	}
}

/*
 * tsm_replication_feedback
 *		Tell the source that everything up to "applied" is applied and
 *		durable here: it may recycle its WAL up to there.
 */
void
tsm_replication_feedback(PGconn *conn, XLogRecPtr applied, bool reply)
{
	StringInfoData msg;

	initStringInfo(&msg);
	pq_sendbyte(&msg, 'r');
	pq_sendint64(&msg, applied);	/* written */
	pq_sendint64(&msg, applied);	/* flushed */
	pq_sendint64(&msg, applied);	/* applied */
	pq_sendint64(&msg, GetCurrentTimestamp());
	pq_sendbyte(&msg, reply ? 1 : 0);
	if (PQputCopyData(conn, msg.data, msg.len) <= 0 || PQflush(conn) != 0)
		tsm_report_remote_error(NULL, conn, NULL);
	pfree(msg.data);
}

/*
 * tsm_replication_end
 *		End the stream of "conn" and close it: CopyDone, answered by the
 *		walsender's, which releases the slot; then the connection is closed.
 *
 * It never raises an error (the stream worker calls it on its way out,
 * errors included): a source that does not answer within a few seconds
 * is left, and its walsender releases the slot when it notices the closed
 * connection.
 */
void
tsm_replication_end(PGconn *conn)
{
	TimestampTz endtime = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 5000);

	if (conn == NULL)
		return;
	/* not streaming (START_REPLICATION not sent): PQputCopyEnd refuses */
	if (PQstatus(conn) == CONNECTION_OK &&
		PQputCopyEnd(conn, NULL) == 1 && PQflush(conn) == 0)
	{
		for (;;)
		{
			char	   *buf = NULL;
			int			len = PQgetCopyData(conn, &buf, 1);
			long		timeout_ms;
			int			rc;

			if (buf != NULL)
				PQfreemem(buf);
			if (len > 0)
				continue;
			if (len < 0)
			{
				PGresult   *res;

				/* the end of COPY, then the command's: the slot is free */
				while ((res = PQgetResult(conn)) != NULL)
					PQclear(res);
				break;
			}
			timeout_ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), endtime);
			if (timeout_ms <= 0)
				break;
			rc = WaitLatchOrSocket(MyLatch,
								   WL_LATCH_SET | WL_SOCKET_READABLE | WL_TIMEOUT |
								   WL_EXIT_ON_PM_DEATH,
								   PQsocket(conn), timeout_ms,
								   TsmWaitEventCompat("TsmigrateStream"));
			if (rc & WL_LATCH_SET)
				ResetLatch(MyLatch);
			if (PQconsumeInput(conn) == 0)
				break;
		}
	}
	tsm_conn_close(conn);
}

/*
 * tsm_replication_own_ddl
 *		"sql", statements on the source's objects of an online run, as one
 *		transaction in which the DDL event trigger of every online run from
 *		this source lets them pass (migrate/online.c's ddl_function_sql)
 */
char *
tsm_replication_own_ddl(const char *sql)
{
	return psprintf("SET LOCAL tsmigrate_stream.own_ddl = on; %s", sql);
}

/*
 * tsm_replication_drop
 *		Drop the DDL event trigger (with its function and schema), the slot
 *		and the publication "name" on the source, if there, in that order
 *		(what tsmigrate does on the source from then on, cutover's
 *		refreshes, is no DDL of the applications), through "conn", an SQL
 *		session (not a replication connection): a slot still in use by a
 *		walsender that is going away is waited for a little.  Cutover,
 *		abandon, and the stream worker when the run is gone (DROP
 *		EXTENSION) drop them here.
 */
void
tsm_replication_drop(PGconn *conn, const char *name)
{
	const char *params[1] = {name};
	int			tries;

	tsm_conn_command(conn,
					 tsm_replication_own_ddl(psprintf("DROP EVENT TRIGGER IF EXISTS %s;"
													  " DROP FUNCTION IF EXISTS %s();"
													  " DROP SCHEMA IF EXISTS %s",
													  quote_identifier(name),
													  quote_qualified_identifier(name, name),
													  quote_identifier(name))));
	for (tries = 0;; tries++)
	{
		TsmRows    *r = tsm_query(conn,
								  "SELECT s.active FROM pg_catalog.pg_replication_slots s"
								  " WHERE s.slot_name = $1",
								  1, params, 1, "the run's slot");

		if (r->nrows == 0)
			break;
		if (!tsm_rows_bool(r, 0, 0) || tries >= 100)
		{
			PQclear(tsm_conn_exec(conn, "SELECT pg_catalog.pg_drop_replication_slot($1)",
								  1, params, PGRES_TUPLES_OK));
			break;
		}
		CHECK_FOR_INTERRUPTS();
		pg_usleep(100 * 1000L);
	}
	tsm_conn_command(conn, tsm_replication_own_ddl(psprintf("DROP PUBLICATION IF EXISTS %s",
															quote_identifier(name))));
}
