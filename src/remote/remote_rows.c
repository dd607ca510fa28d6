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
 * NOTES
 *	Nothing read from the source is trusted: its owner controls its
 *	catalogs, objects can be dropped between two queries (a function such
 *	as pg_relation_size() then returns NULL), and whoever sits between the
 *	target and the source can answer anything.  So tsm_query() checks the
 *	number of columns against what the caller's query selects, every field
 *	is read through an accessor that checks the row number and says where a
 *	NULL is not allowed, and numbers are parsed with their syntax and range
 *	checked.  A bad answer is an ERROR with a SQLSTATE, never a crash:
 *	08P01 (protocol violation) for a missing row or column, 22004 for a
 *	NULL where the query cannot return one, 22P02 for text that is not the
 *	number or boolean expected.
 *
 * IDENTIFICATION
 *	  src/remote/remote_rows.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/tuplestore.h"
#include "funcapi.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"

/* longest part of a bad value quoted in a message */
#define TSM_QUOTED_VALUE_MAX	64

static const char *rows_what(const TsmRows *rows);
static const char *column_name(const TsmRows *rows, int col);
static char *clipped(const char *value);
static void check_field(const TsmRows *rows, int row, int col);
tsm_noreturn static void bad_value(const TsmRows *rows, int row, int col, const char *type)
			tsm_noreturn_after;

/*
 * tsm_query
 *		Run a query on the source and return all its rows as text.
 *
 * The query selects "ncols" columns (a negative "ncols" skips the check,
 * for the rare caller that counts them itself); "what" names what it reads
 * ("the source's tables"), for messages.
 */
TsmRows *
tsm_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
		  int ncols, const char *what)
{
	PGresult   *volatile res = NULL;
	TsmRows    *volatile rows = NULL;

	PG_TRY();
	{
		res = tsm_conn_exec(conn, sql, nparams, params, PGRES_TUPLES_OK);
		rows = tsm_rows_from_result(res, ncols, what);
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
 *		Copy the rows of a PGresult into palloc'd memory, checking that they
 *		have "ncols" columns (unless negative).  The caller still owns (and
 *		must clear) the result.
 */
TsmRows *
tsm_rows_from_result(const PGresult *res, int ncols, const char *what)
{
	TsmRows    *rows = palloc0(sizeof(TsmRows));
	int			r;
	int			c;

	rows->what = what;
	rows->nrows = PQntuples(res);
	rows->ncols = PQnfields(res);
	if (ncols >= 0 && rows->ncols != ncols)
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("invalid response from the source"),
				errdetail("The query for %s returned %d columns, expected %d.",
						  rows_what(rows), rows->ncols, ncols));
	if (rows->nrows < 0 || rows->ncols < 0 ||
		(rows->ncols > 0 && rows->nrows > (int) (MaxAllocSize / sizeof(char *)) / rows->ncols))
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("invalid response from the source"),
				errdetail("The query for %s returned %d rows of %d columns.",
						  rows_what(rows), rows->nrows, rows->ncols));

	rows->names = palloc0(sizeof(char *) * Max(1, rows->ncols));
	for (c = 0; c < rows->ncols; c++)
	{
		const char *name = PQfname(res, c);

		if (name != NULL)
			rows->names[c] = pnstrdup(name, NAMEDATALEN - 1);
	}
	rows->values = palloc0(sizeof(char *) * Max(1, rows->nrows * rows->ncols));
	for (r = 0; r < rows->nrows; r++)
	{
		if ((r & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		for (c = 0; c < rows->ncols; c++)
			if (!PQgetisnull(res, r, c))
				rows->values[r * rows->ncols + c] = pstrdup(PQgetvalue(res, r, c));
	}
	return rows;
}

/*
 * tsm_rows_value
 *		The text of one field, or NULL for SQL NULL.
 *
 * A row past the end of the result (the source returned fewer rows than
 * its query always returns) is an error.
 */
const char *
tsm_rows_value(const TsmRows *rows, int row, int col)
{
	check_field(rows, row, col);
	return rows->values[row * rows->ncols + col];
}

/*
 * tsm_rows_get
 *		The text of one field that the query never returns as NULL.
 */
const char *
tsm_rows_get(const TsmRows *rows, int row, int col)
{
	const char *value = tsm_rows_value(rows, row, col);

	if (value == NULL)
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("invalid response from the source"),
				errdetail("The query for %s returned a null value in column %s of row %d.",
						  rows_what(rows), column_name(rows, col), row + 1),
				errhint("An object may have been dropped or changed on the source while it was read: run the step again."));
	return value;
}

/*
 * tsm_rows_name
 *		One field that the query returns as a name (of type name, never
 *		NULL): between 1 and NAMEDATALEN - 1 bytes, as no PostgreSQL server
 *		can return another, so that it cannot be truncated here into the
 *		name of another object.
 */
const char *
tsm_rows_name(const TsmRows *rows, int row, int col)
{
	const char *value = tsm_rows_get(rows, row, col);

	if (value[0] == '\0' || strlen(value) >= NAMEDATALEN)
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("invalid response from the source"),
				errdetail("The query for %s returned a name of %zu bytes in column %s of row %d, which is not between 1 and %d bytes long.",
						  rows_what(rows), strlen(value), column_name(rows, col),
						  row + 1, NAMEDATALEN - 1));
	return value;
}

/*
 * tsm_rows_int32, tsm_rows_int64, tsm_rows_oid, tsm_rows_bool
 *		One field that the query returns as a number or a boolean, never
 *		NULL, parsed with its syntax and range checked.
 */
int32
tsm_rows_int32(const TsmRows *rows, int row, int col)
{
	const char *value = tsm_rows_get(rows, row, col);
	char	   *end;
	long		n;

	errno = 0;
	n = strtol(value, &end, 10);
	if (end == value || *end != '\0' || errno == ERANGE ||
		n < PG_INT32_MIN || n > PG_INT32_MAX)
		bad_value(rows, row, col, "integer");
	return (int32) n;
}

int64
tsm_rows_int64(const TsmRows *rows, int row, int col)
{
	const char *value = tsm_rows_get(rows, row, col);
	char	   *end;
	int64		n;

	errno = 0;
	n = strtoi64(value, &end, 10);
	if (end == value || *end != '\0' || errno == ERANGE)
		bad_value(rows, row, col, "bigint");
	return n;
}

Oid
tsm_rows_oid(const TsmRows *rows, int row, int col)
{
	const char *value = tsm_rows_get(rows, row, col);
	char	   *end;
	unsigned long n;

	errno = 0;
	n = strtoul(value, &end, 10);
	if (end == value || *end != '\0' || errno == ERANGE ||
		!isdigit((unsigned char) value[0]) || n > PG_UINT32_MAX)
		bad_value(rows, row, col, "oid");
	return (Oid) n;
}

bool
tsm_rows_bool(const TsmRows *rows, int row, int col)
{
	const char *value = tsm_rows_get(rows, row, col);

	if (strcmp(value, "t") == 0)
		return true;
	if (strcmp(value, "f") == 0)
		return false;
	bad_value(rows, row, col, "boolean");
}

/*
 * tsm_source_relation_dropped
 *		Raise the error for a relation of the source that its catalogs
 *		still listed under our snapshot but that was dropped since: a size
 *		function returned NULL for it.  "qualname" is quoted, qualified.
 */
void
tsm_source_relation_dropped(const char *qualname)
{
	ereport(ERROR,
			errcode(ERRCODE_UNDEFINED_TABLE),
			errmsg("relation %s does not exist on the source any more", qualname),
			errdetail("It was dropped while tsmigrate read the source."),
			errhint("Run the step again once nothing changes the source's schema."));
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
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("invalid response from the source"),
				errdetail("The query for %s returned %d columns, expected %d.",
						  rows_what(rows), rows->ncols, rsinfo->setDesc->natts));

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

/*
 * A field's place must be inside the rows: a row past the end is the
 * source's doing, a column past the end (tsm_query checked the count) the
 * caller's.
 */
static void
check_field(const TsmRows *rows, int row, int col)
{
	if (col < 0 || col >= rows->ncols)
		elog(ERROR, "column %d of %s is out of range (%d columns)",
			 col + 1, rows_what(rows), rows->ncols);
	if (row < 0 || row >= rows->nrows)
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("invalid response from the source"),
				errdetail("The query for %s returned %d rows, expected at least %d.",
						  rows_what(rows), rows->nrows, row + 1));
}

static void
bad_value(const TsmRows *rows, int row, int col, const char *type)
{
	ereport(ERROR,
			errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			errmsg("invalid response from the source"),
			errdetail("The query for %s returned \"%s\" in column %s of row %d, which is not a valid %s.",
					  rows_what(rows),
					  clipped(tsm_rows_value(rows, row, col)),
					  column_name(rows, col), row + 1, type));
}

static const char *
rows_what(const TsmRows *rows)
{
	return rows->what ? rows->what : "the source's catalogs";
}

/* "6 (relname)": the column's number, and its name as the source gave it */
static const char *
column_name(const TsmRows *rows, int col)
{
	if (rows->names != NULL && rows->names[col] != NULL)
		return psprintf("%d (%s)", col + 1, clipped(rows->names[col]));
	return psprintf("%d", col + 1);
}

/*
 * A value from the source, for a message: its first bytes, "..." when it
 * is longer, and "?" for each byte that is not printable ASCII (it may not
 * even be valid in any encoding).
 */
static char *
clipped(const char *value)
{
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	for (p = value; *p != '\0' && p - value < TSM_QUOTED_VALUE_MAX; p++)
		appendStringInfoChar(&buf, (*p >= 0x20 && *p < 0x7f) ? *p : '?');
	if (*p != '\0')
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * tsm_array_items
 *		The items of a one-dimensional text array literal (a field of a
 *		source's answer, or of a target listing), as C strings.
 */
List *
tsm_array_items(const char *array)
{
	Datum		arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	List	   *out = NIL;

	if (array == NULL)
		elog(ERROR, "tsm_array_items called with a null array");
	/* array_in caches in flinfo: call it through the function manager */
	arr = OidInputFunctionCall(F_ARRAY_IN, (char *) array, TEXTOID, -1);
	deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (i = 0; i < n; i++)
		out = lappend(out, nulls[i] ? pstrdup("") : TextDatumGetCString(elems[i]));
	return out;
}
