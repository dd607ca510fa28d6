/*-------------------------------------------------------------------------
 *
 * sessions.c
 *	  tsmigrate.source_sessions: who else is connected to the source
 *
 * The manual procedure starts with "take the applications offline"; this
 * shows who has not gone yet.  A source role without pg_read_all_stats
 * sees other roles' sessions with most fields NULL, as in pg_stat_activity
 * itself (backend_type too, hence the IS NULL below).
 *
 * IDENTIFICATION
 *	  src/remote/sessions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"

PG_FUNCTION_INFO_V1(tsmigrate_source_sessions);

static const char *const sessions_sql =
"SELECT a.pid, a.usename, a.application_name, a.client_addr, a.state,"
"       a.backend_start"
"  FROM pg_catalog.pg_stat_activity a"
" WHERE a.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()"
"   AND a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()"
"   AND (a.backend_type OPERATOR(pg_catalog.=) 'client backend'"
"        OR a.backend_type IS NULL)"
" ORDER BY a.backend_start, a.pid";

/*
 * tsm_source_sessions
 *		The other sessions connected to the source database of "conn":
 *		(pid, usename, application_name, client_addr, state, backend_start).
 */
TsmRows *
tsm_source_sessions(PGconn *conn)
{
	return tsm_query(conn, sessions_sql, 0, NULL, 6, "the source's sessions");
}

/*
 * tsmigrate.source_sessions(source text)
 *		List the other sessions connected to the source database.
 */
Datum
tsmigrate_source_sessions(PG_FUNCTION_ARGS)
{
	TsmSource  *src = tsm_source_from_arg(fcinfo, 0);
	PGconn	   *conn = tsm_conn_open(src);
	TsmRows    *rows = tsm_source_sessions(conn);

	tsm_conn_close(conn);

	tsm_rows_store(rows, fcinfo);
	return (Datum) 0;
}
