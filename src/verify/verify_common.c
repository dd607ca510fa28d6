/*-------------------------------------------------------------------------
 *
 * verify_common.c
 *	  What every check of tsmigrate.verify uses: a source query sent while
 *	  the target's side runs, the target's listing, a source's relation
 *	  resolved here, the queries of a relation's rows and of the chunks,
 *	  and the result row
 *
 * verify.c (the entry point and the general checks), verify_baseline.c
 * (an online run's counts) and verify_timescale.c (TimescaleDB's checks)
 * call down into this file.
 *
 * IDENTIFICATION
 *	  src/verify/verify_common.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"
#include "target/target.h"
#include "verify.h"

/*
 * tsm_verify_relation
 *		The relation here that row "r" of a source query names by its raw
 *		schema and relation names (its first two columns), or InvalidOid if
 *		the target has none.  *qualname is set to the names quoted for SQL,
 *		*populated to whether the relation here is populated.
 *
 * A name is never pasted from the source's text into a statement: it is
 * looked up in the target's catalogs, and the statement names the relation
 * quoted here.
 */
Oid
tsm_verify_relation(const TsmRows *rows, int r, const char **qualname,
					bool *populated)
{
	const char *nspname = tsm_rows_name(rows, r, 0);
	const char *relname = tsm_rows_name(rows, r, 1);
	Oid			nspid = get_namespace_oid(nspname, true);
	Oid			relid = OidIsValid(nspid) ? get_relname_relid(relname, nspid) : InvalidOid;
	HeapTuple	tuple;

	*qualname = quote_qualified_identifier(nspname, relname);
	*populated = false;
	if (!OidIsValid(relid))
		return InvalidOid;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;		/* dropped meanwhile */
	*populated = ((Form_pg_class) GETSTRUCT(tuple))->relispopulated;
	ReleaseSysCache(tuple);
	return relid;
}

/*
 * tsm_verify_columns
 *		The column list, quoted here, of the text[] of raw column names in
 *		column "c" of row "r" (NULL: a table without columns).
 */
char *
tsm_verify_columns(const TsmRows *rows, int r, int c)
{
	const char *names = tsm_rows_value(rows, r, c);
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	if (names == NULL)
		return buf.data;
	foreach(lc, tsm_array_items(names))
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
						 quote_identifier(lfirst(lc)));
	return buf.data;
}

/*
 * Checks of one relation each read in batches of this many: on the target
 * in a subtransaction, on the source after a savepoint, both rolled back
 * when the batch is done.  Reading a relation locks it and its indexes
 * until the transaction ends, and verify runs in one transaction on each
 * side (one snapshot of the source); rolled back, a batch's locks go with
 * it, and no number of tables or chunks fills either lock table.  The
 * reads wrote nothing, so nothing else is undone; their results are
 * copied out first.
 */
#define TSM_VERIFY_BATCH 16

/* what verify_batch needs of tsm_verify_batched */
typedef struct VerifyBatch
{
	VerifyState *state;
	TsmVerifyItem item;
	void	   *arg;
	int			from;
	int			n;
} VerifyBatch;

static void verify_batch(void *arg);

/*
 * tsm_verify_batched
 *		Call "item" for 0 .. n-1, in batches that hold no lock past their
 *		end (above).
 */
void
tsm_verify_batched(VerifyState *state, int n, TsmVerifyItem item, void *arg)
{
	VerifyBatch batch;

	batch.state = state;
	batch.item = item;
	batch.arg = arg;
	batch.n = n;
	for (batch.from = 0; batch.from < n; batch.from += TSM_VERIFY_BATCH)
	{
		ErrorData  *edata;

		/* no source: the target's side only */
		if (state->conn != NULL)
			tsm_conn_command(state->conn, "SAVEPOINT tsm_verify");
		edata = tsm_subtransaction(verify_batch, &batch, false);
		if (edata != NULL)
			ReThrowError(edata);
		if (state->conn != NULL)
			tsm_conn_command(state->conn,
							 "ROLLBACK TO SAVEPOINT tsm_verify; RELEASE SAVEPOINT tsm_verify");
	}
}

/* one batch of tsm_verify_batched */
static void
verify_batch(void *arg)
{
	VerifyBatch *batch = arg;
	int			i;

	for (i = batch->from; i < batch->n && i < batch->from + TSM_VERIFY_BATCH; i++)
	{
		CHECK_FOR_INTERRUPTS();
		batch->item(batch->state, i, batch->arg);
	}
}

/*
 * Send a query to the source without waiting for its result.
 */
void
tsm_verify_send(PGconn *conn, const char *sql)
{
	if (!PQsendQuery(conn, sql))
		tsm_report_remote_error(NULL, conn, sql);
}

/*
 * Collect the rows of a query sent with tsm_verify_send(): "ncols" columns
 * of "what".
 */
TsmRows *
tsm_verify_finish(PGconn *conn, const char *sql, int ncols, const char *what)
{
	PGresult   *volatile res = NULL;
	TsmRows    *volatile rows = NULL;

	PG_TRY();
	{
		res = libpqsrv_get_result_last(conn, TsmWaitEventCompat("TsmigrateQuery"));
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			PGresult   *failed = res;

			res = NULL;
			tsm_report_remote_error(failed, conn, sql);
		}
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
 * Run a read-only query on the target (inside the SPI connection of
 * tsmigrate_verify) and copy its rows out as text.
 */
TsmRows *
tsm_verify_target(const char *sql)
{
	TsmRows    *rows = palloc0(sizeof(TsmRows));
	int			rc;
	uint64		r;
	int			c;

	rc = SPI_execute(sql, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));

	rows->nrows = (int) SPI_processed;
	rows->ncols = SPI_tuptable->tupdesc->natts;
	rows->values = palloc0(sizeof(char *) * Max(1, rows->nrows * rows->ncols));
	for (r = 0; r < SPI_processed; r++)
		for (c = 0; c < rows->ncols; c++)
		{
			char	   *value = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c + 1);

			rows->values[r * rows->ncols + c] = value ? pstrdup(value) : NULL;
		}
	SPI_freetuptable(SPI_tuptable);
	return rows;
}

/* one check, counted as migrate's verify step reports it */
static void
summarize(TsmVerifySummary *summary, const char *kind, const char *object,
		  const char *source_value, const char *target_value, bool ok)
{
	summary->checks++;
	if (ok || strcmp(kind, "count") == 0)
		return;
	if (source_value != NULL && strcmp(source_value, "missing") == 0)
	{
		summary->only_target++;
		appendStringInfo(&summary->extra, "%s%s %s",
						 summary->extra.len > 0 ? ", " : "", kind, object);
		return;
	}
	summary->differences++;
	appendStringInfo(&summary->differ, "%s%s %s: source %s, target %s",
					 summary->differ.len > 0 ? "; " : "", kind, object,
					 source_value ? source_value : "none",
					 target_value ? target_value : "none");
}

void
tsm_verify_put(VerifyState *state, const char *kind, const char *object,
			   const char *source_value, const char *target_value)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	bool		ok;

	ok = (source_value == NULL && target_value == NULL) ||
		(source_value != NULL && target_value != NULL &&
		 strcmp(source_value, target_value) == 0);

	values[0] = CStringGetTextDatum(kind);
	values[1] = CStringGetTextDatum(object);
	if (source_value)
		values[2] = CStringGetTextDatum(source_value);
	else
		nulls[2] = true;
	if (target_value)
		values[3] = CStringGetTextDatum(target_value);
	else
		nulls[3] = true;
	values[4] = BoolGetDatum(ok);
	if (state->summary != NULL)
		summarize(state->summary, kind, object, source_value, target_value, ok);
	if (state->rsinfo != NULL)
		tuplestore_putvalues(state->rsinfo->setResult, state->rsinfo->setDesc, values, nulls);
}

/*
 * the chunks of every hypertable, the same query on both sides: names
 * unquoted, quoted here
 */
const char *const tsm_verify_chunks_sql =
"SELECT h.schema_name, h.table_name, ch.schema_name, ch.table_name"
"  FROM _timescaledb_catalog.chunk ch"
"  JOIN _timescaledb_catalog.hypertable h ON h.id OPERATOR(pg_catalog.=) ch.hypertable_id"
" WHERE NOT ch.osm_chunk"
"   AND NOT COALESCE((pg_catalog.to_jsonb(ch) OPERATOR(pg_catalog.->>) 'dropped')::pg_catalog.bool, false)";

/* the query of a relation's rows: their count, and with columns, checksum */
char *
tsm_verify_rows_sql(const char *columns, const char *only, const char *relation)
{
	if (columns != NULL)
		return psprintf("SELECT pg_catalog.count(*),"
						" COALESCE(pg_catalog.sum(('x' || pg_catalog.substr(pg_catalog.md5(ROW(%s)::text), 1, 16))::bit(64)::bigint::numeric), 0)"
						" FROM %s%s t",
						columns, only, relation);
	return psprintf("SELECT pg_catalog.count(*) FROM %s%s", only, relation);
}
