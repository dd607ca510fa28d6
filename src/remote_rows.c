/*-------------------------------------------------------------------------
 *
 * remote_rows.c
 *	  Fetch the rows of a catalog query on the source into palloc'd memory
 *
 * Catalog answers are small, so tsm_query() copies them out of the
 * PGresult at once and frees it: code that walks the rows afterwards can
 * raise errors freely without leaking libpq memory.  tsm_rows_store() turns
 * such rows into the result set of a materialized SRF through the input
 * functions of the SQL function's declared result columns.
 *
 * IDENTIFICATION
 *	  src/remote_rows.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "tsmigrate.h"

/*
 * tsm_query
 *		Run a query on the source and return all its rows as text.
 */
TsmRows *
tsm_query(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *volatile res = NULL;
	TsmRows    *volatile rows = NULL;

	PG_TRY();
	{
		res = tsm_conn_exec(conn, sql, nparams, params, PGRES_TUPLES_OK);
		rows = tsm_rows_from_result(res);
	}
	PG_FINALLY();
	{
		PQclear(res);
	}
	PG_END_TRY();

	return rows;
}

/*
 * tsm_rows_from_result
 *		Copy the rows of a PGresult into palloc'd memory.  The caller still
 *		owns (and must clear) the result.
 */
TsmRows *
tsm_rows_from_result(const PGresult *res)
{
	TsmRows    *rows = palloc0(sizeof(TsmRows));
	int			r;
	int			c;

	rows->nrows = PQntuples(res);
	rows->ncols = PQnfields(res);
	rows->values = palloc0(sizeof(char *) * Max(1, rows->nrows * rows->ncols));
	for (r = 0; r < rows->nrows; r++)
		for (c = 0; c < rows->ncols; c++)
			if (!PQgetisnull(res, r, c))
				rows->values[r * rows->ncols + c] = pstrdup(PQgetvalue(res, r, c));
	return rows;
}

/*
 * tsm_rows_value
 *		The text of one field, or NULL for SQL NULL.
 */
const char *
tsm_rows_value(const TsmRows *rows, int row, int col)
{
	Assert(row >= 0 && row < rows->nrows && col >= 0 && col < rows->ncols);
	return rows->values[row * rows->ncols + col];
}

/*
 * tsm_rows_store
 *		Return "rows" as the result of a set-returning function.
 *
 * Column i of the rows feeds column i of the function's result type; the
 * query must produce exactly those columns, in that order.
 */
void
tsm_rows_store(const TsmRows *rows, FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AttInMetadata *attinmeta;
	int			r;

	InitMaterializedSRF(fcinfo, 0);
	if (rsinfo->setDesc->natts != rows->ncols)
		elog(ERROR, "remote query returned %d columns, expected %d",
			 rows->ncols, rsinfo->setDesc->natts);

	attinmeta = TupleDescGetAttInMetadata(rsinfo->setDesc);
	for (r = 0; r < rows->nrows; r++)
	{
		HeapTuple	tuple;

		tuple = BuildTupleFromCStrings(attinmeta,
									   &rows->values[r * rows->ncols]);
		tuplestore_puttuple(rsinfo->setResult, tuple);
		heap_freetuple(tuple);
	}
}

/*
 * tsm_server_version_num
 *		The source's server_version_num, e.g. 150020.
 */
int
tsm_server_version_num(PGconn *conn)
{
	int			version = PQserverVersion(conn);

	if (version == 0)
		ereport(ERROR,
				errcode(ERRCODE_CONNECTION_FAILURE),
				errmsg("could not determine the source's server version"));
	return version;
}
