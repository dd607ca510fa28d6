/*-------------------------------------------------------------------------
 *
 * conn.c
 *	  Open, use and close connections to the source database
 *
 * Every source connection is opened by tsm_conn_open(), which applies the
 * password rule of dblink and postgres_fdw (the session's hardening rides
 * along as startup options, see source.c), and every one is registered in
 * a list owned by this file.  A function that
 * finishes normally closes its connection with tsm_conn_close(); on every
 * other path (an error, pg_cancel_backend, statement_timeout, a rolled-back
 * subtransaction) the transaction callbacks below close whatever the
 * aborted (sub)transaction opened.  A connection caught with a query still
 * running on the source is sent a cancel request first and drained, as
 * postgres_fdw does, so no tsmigrate backend goes on working on the source
 * after the caller gave up.  A source that does not answer cannot hold the
 * backend: the cancel request is sent without blocking (compat.h), one
 * abort waits tsmigrate.cancel_timeout at most for all its connections
 * (a minute at most unless a superuser set it), and a pg_cancel_backend or
 * pg_terminate_backend arriving meanwhile ends the wait at once.
 *
 * A migrate call opens a run scope (tsm_run_scope_begin, source.c): while
 * it lasts, every step resolves the run's source argument to the TsmSource
 * migrate resolved, and tsm_conn_open of that source hands out one leader
 * session, kept between
 * steps, as postgres_fdw's connection cache keeps one connection per user
 * mapping: one resolution and one session per run, whatever the steps are.
 * A step that ends with the session idle gives it back; one that fails
 * with it, or leaves it inside a transaction, closes it, and the next step
 * opens another.
 *
 * Remote errors are raised with the source's own SQLSTATE, detail and hint
 * (pgfdw_report_error); a lost connection, whatever the source said as it
 * went, becomes 08006.
 *
 * IDENTIFICATION
 *	  src/remote/conn.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "access/xact.h"
#include "mb/pg_wchar.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"

/* One open source connection and the subtransaction that owns it */
typedef struct TsmOpenConn
{
	PGconn	   *conn;
	SubTransactionId subid;
	bool		session;		/* survives commits (tsm_conn_open_session) */
	struct TsmOpenConn *next;
} TsmOpenConn;

static void source_notice(void *arg, const PGresult *res);
static TsmOpenConn *open_conns = NULL;
static bool callbacks_registered = false;

/* the leader session of migrate's run scope (source.c holds its source) */
typedef struct TsmRunSession
{
	PGconn	   *conn;			/* NULL until a step first connects */
	bool		in_use;			/* handed out by tsm_conn_open */
	SubTransactionId user_subid;	/* the subtransaction that took it */
} TsmRunSession;

static TsmRunSession run_session;

static void xact_callback(XactEvent event, void *arg);
static void subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							 SubTransactionId parentSubid, void *arg);
static PGconn *open_conn(const TsmSource *src, bool session);
static void close_for_abort(PGconn *conn, TimestampTz endtime);
static TimestampTz cleanup_endtime(void);
static void forget_conn(PGconn *conn);
static char *first_line_of(const char *message);

/*
 * tsm_conn_open
 *		Connect to "src" and return a connection ready for queries.
 *
 * The connection belongs to the current subtransaction: if that aborts
 * before tsm_conn_close() is called, the connection is cancelled and closed.
 */
PGconn *
tsm_conn_open(const TsmSource *src)
{
	if (!run_session.in_use && tsm_run_scope_has(src))
	{
		if (run_session.conn == NULL)
		{
			run_session.conn = open_conn(src, true);
			/* the run's, not the step's: a step's rollback leaves it open */
			open_conns->subid = TopSubTransactionId;
		}
		run_session.in_use = true;
		run_session.user_subid = GetCurrentSubTransactionId();
		return run_session.conn;
	}
	return open_conn(src, false);
}

/*
 * A NOTICE or WARNING of the source (a DROP ... IF EXISTS with nothing to
 * drop, say) goes to this server's log, as postgres_fdw's and dblink's do:
 * a WARNING as LOG, anything less as DEBUG1.  libpq's default would write
 * it to stderr, a line without the log's prefix.
 */
static void
source_notice(void *arg, const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	ereport(severity != NULL && strcmp(severity, "WARNING") == 0 ? LOG : DEBUG1,
			errmsg_internal("the source said: %s", message ? message : "?"));
}

/*
 * tsm_conn_open_session
 *		Like tsm_conn_open(), for a procedure that commits along the way
 *		(migrate): the connection survives commits, and is closed only by
 *		tsm_conn_close() or when a transaction aborts.
 */
PGconn *
tsm_conn_open_session(const TsmSource *src)
{
	return open_conn(src, true);
}

static PGconn *
open_conn(const TsmSource *src, bool session)
{
	PGconn	   *volatile conn = NULL;
	TsmOpenConn *entry;

	if (!callbacks_registered)
	{
		RegisterXactCallback(xact_callback, NULL);
		RegisterSubXactCallback(subxact_callback, NULL);
		callbacks_registered = true;
	}

	/* before connecting: dblink_connstr_check() */
	if (!superuser() && !src->has_password)
		ereport(ERROR,
				errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
				errmsg("password is required"),
				errdetail("Non-superusers must provide a password to connect to the source."),
				OidIsValid(src->serverid) ?
				errhint("Put a password in the user mapping for server \"%s\".", src->label) :
				errhint("Add \"password=...\" to the connection string, or use a foreign server with a user mapping."));

	/* allocate the list entry first, so that registering cannot fail */
	entry = MemoryContextAlloc(TopMemoryContext, sizeof(TsmOpenConn));

	PG_TRY();
	{
		conn = libpqsrv_connect_params(src->keywords, src->values, false,
									   TsmWaitEventCompat("TsmigrateConnect"));
		if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
			ereport(ERROR,
					errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					errmsg("could not connect to source \"%s\"", src->label),
					conn ? errdetail_internal("%s", tsm_redact_passwords(pchomp(PQerrorMessage(conn)))) :
					errdetail("out of memory"));

		/* the source's notices: to the log, with its prefix */
		PQsetNoticeReceiver(conn, source_notice, NULL);

		/* after connecting: dblink_security_check() */
		if (!superuser() && !PQconnectionUsedPassword(conn))
			ereport(ERROR,
					errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
					errmsg("password is required"),
					errdetail("Non-superuser cannot connect if the server does not request a password."),
					errhint("Make the source's pg_hba.conf ask for a password (scram-sha-256) for this connection."));

		/*
		 * A session outlives commits and waits idle between a run's steps: no
		 * idle_session_timeout (14 and later) may cut it.  Not a startup
		 * option, which a 13 source would refuse.
		 */
		if (session && PQserverVersion(conn) >= 140000)
			PQclear(tsm_conn_exec(conn, "SET idle_session_timeout = 0", 0, NULL,
								  PGRES_COMMAND_OK));
	}
	PG_CATCH();
	{
		libpqsrv_disconnect(conn);
		pfree(entry);
		PG_RE_THROW();
	}
	PG_END_TRY();

	entry->conn = conn;
	entry->subid = GetCurrentSubTransactionId();
	entry->session = session;
	entry->next = open_conns;
	open_conns = entry;

	return conn;
}

/*
 * tsm_conn_close
 *		Close a connection opened by tsm_conn_open().  NULL is allowed.
 *
 * For the normal path: the connection is idle.  Should a query still be
 * running, it is cancelled first, as on abort.
 */
void
tsm_conn_close(PGconn *conn)
{
	if (conn == NULL)
		return;
	if (conn == run_session.conn)
	{
		run_session.in_use = false;
		/* idle outside a transaction: kept for the run's next step */
		if (PQstatus(conn) == CONNECTION_OK &&
			PQtransactionStatus(conn) == PQTRANS_IDLE)
			return;
		run_session.conn = NULL;
	}
	forget_conn(conn);
	if (PQtransactionStatus(conn) == PQTRANS_ACTIVE)
		close_for_abort(conn, cleanup_endtime());
	else
		libpqsrv_disconnect(conn);
}

/*
 * tsm_run_scope_end
 *		End migrate's run scope (tsm_run_scope_begin) and close its leader
 *		session.  On every path: an error ends the scope too (migrate's
 *		PG_FINALLY).
 */
void
tsm_run_scope_end(void)
{
	PGconn	   *conn = run_session.conn;

	memset(&run_session, 0, sizeof(run_session));
	tsm_run_scope_forget();
	if (conn != NULL)
		tsm_conn_close(conn);
}

/*
 * tsm_conn_exec
 *		Run one SQL command on the source and return its result.
 *
 * Parameters are passed as text.  Unless the result has status "expected",
 * the result is freed and the source's error raised.  The caller must
 * PQclear() the result on every path (see tsm_query() for the usual way).
 */
PGresult *
tsm_conn_exec(PGconn *conn, const char *sql, int nparams,
			  const char *const *params, ExecStatusType expected)
{
	PGresult   *res;

	if (nparams == 0)
		res = libpqsrv_exec(conn, sql, TsmWaitEventCompat("TsmigrateQuery"));
	else
		res = libpqsrv_exec_params(conn, sql, nparams, NULL, params, NULL,
								   NULL, 0, TsmWaitEventCompat("TsmigrateQuery"));
	if (PQresultStatus(res) != expected)
		tsm_report_remote_error(res, conn, sql);
	return res;
}

/*
 * tsm_conn_command
 *		Run SQL that returns no rows on the source; raise its error if any.
 */
void
tsm_conn_command(PGconn *conn, const char *sql)
{
	PQclear(tsm_conn_exec(conn, sql, 0, NULL, PGRES_COMMAND_OK));
}

/*
 * tsm_report_remote_error
 *		Raise the error in "res" (which may be NULL) as the source reported
 *		it, and free "res".
 */
void
tsm_report_remote_error(PGresult *res, PGconn *conn, const char *sql)
{
	PG_TRY();
	{
		const char *diag_sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
		const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
		const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);
		int			sqlstate;

		if (diag_sqlstate && strlen(diag_sqlstate) == 5)
			sqlstate = MAKE_SQLSTATE(diag_sqlstate[0], diag_sqlstate[1],
									 diag_sqlstate[2], diag_sqlstate[3],
									 diag_sqlstate[4]);
		else
			sqlstate = ERRCODE_CONNECTION_FAILURE;

		/* no primary message means libpq's own error: a broken connection */
		if (primary == NULL)
			primary = pchomp(PQerrorMessage(conn));

		/*
		 * A source backend that was terminated, or a source server that
		 * stopped, sends a FATAL (57P01, 57P02...) and closes the connection:
		 * for the caller that is a lost connection, class 08.
		 */
		if (PQstatus(conn) == CONNECTION_BAD)
			ereport(ERROR,
					errcode(ERRCODE_CONNECTION_FAILURE),
					errmsg("lost connection to the source"),
					errdetail_internal("%s", first_line_of(primary)),
					sql ? errcontext("remote SQL command: %s", sql) : 0);

		ereport(ERROR,
				errcode(sqlstate),
				errmsg_internal("%s", primary),
				detail ? errdetail_internal("%s", detail) : 0,
				hint ? errhint("%s", hint) : 0,
				context ? errcontext("%s", context) : 0,
				sql ? errcontext("remote SQL command: %s", sql) : 0);
	}
	PG_FINALLY();
	{
		PQclear(res);
	}
	PG_END_TRY();
	pg_unreachable();
}

/*
 * The first line of a libpq error message, without its severity prefix:
 * "FATAL:  terminating connection ..." -> "terminating connection ...".
 */
static char *
first_line_of(const char *message)
{
	static const char *const prefixes[] = {"FATAL:  ", "ERROR:  ", "PANIC:  "};
	char	   *line;
	int			i;

	for (i = 0; i < lengthof(prefixes); i++)
		if (strncmp(message, prefixes[i], strlen(prefixes[i])) == 0)
			message += strlen(prefixes[i]);
	line = pstrdup(message);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

/*
 * tsm_conn_exposed
 *		Does "conn" travel unencrypted over a network?  True when it uses
 *		neither SSL nor GSSAPI encryption and goes over TCP to an address
 *		other than the loopback interface; "peer" then holds that address.
 *		A Unix-domain socket, or a peer that cannot be told, is not exposed.
 */
bool
tsm_conn_exposed(PGconn *conn, char *peer, size_t peerlen)
{
	struct sockaddr_storage addr;
	socklen_t	len = sizeof(addr);

	peer[0] = '\0';
	if (PQsslInUse(conn) || PQgssEncInUse(conn))
		return false;
	if (getpeername(PQsocket(conn), (struct sockaddr *) &addr, &len) != 0)
		return false;
	if (addr.ss_family == AF_INET)
	{
		struct sockaddr_in *in4 = (struct sockaddr_in *) &addr;

		if ((ntohl(in4->sin_addr.s_addr) >> 24) == 127)
			return false;
		return inet_ntop(AF_INET, &in4->sin_addr, peer, peerlen) != NULL;
	}
	if (addr.ss_family == AF_INET6)
	{
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &addr;

		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
			(IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
			 in6->sin6_addr.s6_addr[12] == 127))
			return false;
		return inet_ntop(AF_INET6, &in6->sin6_addr, peer, peerlen) != NULL;
	}
	return false;
}

/*
 * Take "conn" off the list of open connections.
 */
static void
forget_conn(PGconn *conn)
{
	TsmOpenConn **link;

	for (link = &open_conns; *link != NULL; link = &(*link)->next)
	{
		if ((*link)->conn == conn)
		{
			TsmOpenConn *entry = *link;

			*link = entry->next;
			pfree(entry);
			return;
		}
	}
}

/*
 * Has the backend been told to stop what it does (pg_cancel_backend,
 * pg_terminate_backend, statement_timeout) since it started to wait?  In
 * abort cleanup interrupts are held and an ERROR cannot be thrown, so the
 * waits below do not CHECK_FOR_INTERRUPTS(): they stop waiting, disconnect,
 * and leave the interrupt pending for when the abort is over, the way
 * postgres_fdw's cleanup gives up on a connection that does not answer.
 */
static bool
stop_waiting(void)
{
	return QueryCancelPending || ProcDiePending;
}

/*
 * Wait for "events" on "sock", or the latch, until "endtime"; false when
 * time ran out or the backend is asked to stop.
 */
static bool
wait_for_source(pgsocket sock, int events, TimestampTz endtime)
{
	TimestampTz now = GetCurrentTimestamp();
	int			rc;

	if (stop_waiting() || now >= endtime)
		return false;
	rc = WaitLatchOrSocket(MyLatch,
						   WL_LATCH_SET | events | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						   sock, TimestampDifferenceMilliseconds(now, endtime),
						   TsmWaitEventCompat("TsmigrateCancel"));
	if (rc & WL_LATCH_SET)
		ResetLatch(MyLatch);
	return !stop_waiting();
}

/*
 * Send a cancel request for the query running on "conn"; false if it
 * could not be sent by "endtime" (a WARNING says why, unless the backend
 * was asked to stop meanwhile).
 */
static bool
send_cancel(PGconn *conn, TimestampTz endtime)
{
	TsmCancel	cancel;
	bool		sent = false;
	bool		started;

	started = tsm_cancel_start(&cancel, conn);
	while (started)
	{
		pgsocket	sock = PGINVALID_SOCKET;
		int			events = tsm_cancel_poll(&cancel, &sock);

		if (events == TSM_CANCEL_DONE)
		{
			sent = true;
			break;
		}
		if (events == TSM_CANCEL_FAILED)
			break;
		if (!wait_for_source(sock, events, endtime))
		{
			strlcpy(cancel.error, stop_waiting() ?
					"" : "the source did not answer in time",
					sizeof(cancel.error));
			break;
		}
	}
	tsm_cancel_finish(&cancel);
	if (!sent && cancel.error[0] != '\0')
		ereport(WARNING,
				errcode(ERRCODE_CONNECTION_FAILURE),
				errmsg("could not send cancel request to the source"),
				errdetail_internal("%s", tsm_redact_passwords(pchomp(cancel.error))),
				errhint("The source may go on running the query until it notices that the connection is closed."));
	return sent;
}

/*
 * Close a connection that may have a query running, during abort or
 * cleanup: send a cancel request and drain the results until "endtime"
 * (shared by every connection one abort closes, so that the whole cleanup
 * takes at most tsmigrate.cancel_timeout), then disconnect.  Must not
 * throw; gives up early if the backend is cancelled or terminated.
 */
static void
close_for_abort(PGconn *conn, TimestampTz endtime)
{
	if (PQtransactionStatus(conn) == PQTRANS_ACTIVE &&
		PQstatus(conn) == CONNECTION_OK &&
		!stop_waiting() &&
		send_cancel(conn, endtime))
	{
		/* drain until the source says the query is over, or time runs out */
		for (;;)
		{
			PGresult   *res;

			while (PQisBusy(conn))
			{
				if (!wait_for_source(PQsocket(conn), WL_SOCKET_READABLE, endtime))
					goto done;
				if (!PQconsumeInput(conn))
					goto done;
			}
			res = PQgetResult(conn);
			if (res == NULL)
				break;

			/*
			 * Inside COPY, PQgetResult() returns the COPY result again and
			 * again: stop draining and disconnect, the cancel is already on
			 * its way.
			 */
			if (PQresultStatus(res) == PGRES_COPY_OUT ||
				PQresultStatus(res) == PGRES_COPY_IN ||
				PQresultStatus(res) == PGRES_COPY_BOTH)
			{
				PQclear(res);
				break;
			}
			PQclear(res);
		}
	}
done:
	libpqsrv_disconnect(conn);
}

/* the end of the cleanup that starts now */
static TimestampTz
cleanup_endtime(void)
{
	return TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
									   tsm_cancel_timeout_ms);
}

/*
 * At transaction end every connection is closed: on abort because the
 * function that owned it is gone, on commit because a connection still open
 * then is a bug of ours, worth a warning in the tests (session connections
 * excepted: they are meant to outlive commits).
 */
static void
xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			break;
		default:
			return;
	}

	{
		TsmOpenConn **link = &open_conns;
		bool		aborting = event == XACT_EVENT_ABORT ||
			event == XACT_EVENT_PARALLEL_ABORT;
		TimestampTz endtime = cleanup_endtime();

		while (*link != NULL)
		{
			TsmOpenConn *entry = *link;

			if (entry->session && !aborting)
			{
				link = &entry->next;
				continue;
			}
			*link = entry->next;
			if (!aborting)
				elog(WARNING, "tsmigrate source connection left open at transaction end");
			if (entry->conn == run_session.conn)
			{
				run_session.conn = NULL;
				run_session.in_use = false;
			}
			close_for_abort(entry->conn, endtime);
			pfree(entry);
		}
	}
}

/*
 * On subtransaction abort, close what it opened; on commit, hand what it
 * opened to its parent.
 */
static void
subxact_callback(SubXactEvent event, SubTransactionId mySubid,
				 SubTransactionId parentSubid, void *arg)
{
	TsmOpenConn **link = &open_conns;
	TimestampTz endtime;

	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;
	endtime = cleanup_endtime();

	/*
	 * The run's leader session, taken in this subtransaction: handed to the
	 * parent on commit; on abort, in an unknown state, closed.
	 */
	if (run_session.in_use && run_session.user_subid == mySubid)
	{
		if (event == SUBXACT_EVENT_COMMIT_SUB)
			run_session.user_subid = parentSubid;
		else
		{
			PGconn	   *conn = run_session.conn;

			run_session.conn = NULL;
			run_session.in_use = false;
			forget_conn(conn);
			close_for_abort(conn, endtime);
		}
	}

	while (*link != NULL)
	{
		TsmOpenConn *entry = *link;

		if (entry->subid != mySubid)
		{
			link = &entry->next;
			continue;
		}
		if (event == SUBXACT_EVENT_COMMIT_SUB)
		{
			entry->subid = parentSubid;
			link = &entry->next;
			continue;
		}
		*link = entry->next;
		close_for_abort(entry->conn, endtime);
		pfree(entry);
	}
}
