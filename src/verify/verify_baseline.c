/*-------------------------------------------------------------------------
 *
 * verify_baseline.c
 *	  The rows of an online run's tables and chunks, counted when the copy
 *	  is done and followed through the stream, for verify at cutover
 *
 * NOTES
 *	Verify counts every row on both sides; at cutover the applications wait
 *	for it, and counting grows with the database.  So an online run counts
 *	its tables and chunks once, when the copy is done: the source's under
 *	the copy's snapshot, the target's at the same time (the data step), into
 *	tsmigrate.run_stream_relation; a difference there is a WARNING at once.
 *	From then on the stream worker adds, with each batch it commits, what
 *	its changes did to each relation's rows: the source's inserts less its
 *	deletes, and the rows the same statements inserted less deleted here
 *	(apply.c).  A change that did not touch exactly one row here (a row not
 *	found) or a TRUNCATE marks the relation to be counted again.  Verify at
 *	cutover compares, for every other relation, the count before plus the
 *	changes on each side: the source changes a logged table only through
 *	its WAL, which the stream reads whole, and nothing but the stream
 *	writes the target's copy.  Unlogged tables, materialized views, chunks
 *	cutover copied again, and relations without counts are counted.
 *
 *	Names in run_stream_relation are the run owner's to write: each is
 *	resolved to a relation here, and what is counted is that relation,
 *	named from its OID.
 *
 * IDENTIFICATION
 *	  src/verify/verify_baseline.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/varlena.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"
#include "source_catalog/catalog_filters.h"
#include "timescale/timescale.h"
#include "verify.h"

/* room for a quoted, qualified name: two quoted identifiers and a dot */
#define BASELINE_KEY_SIZE	(4 * NAMEDATALEN + 8)

/* the source's logged tables: unlogged ones have no WAL for the stream */
static const char *const logged_tables_sql =
"SELECT n.nspname, c.relname"
"  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" WHERE c.relkind = 'r' AND c.relpersistence = 'p'"
"   AND " TSM_USER_NAMESPACE("c.relnamespace")
"   AND " TSM_NOT_EXTENSION_MEMBER("pg_catalog.pg_class", "c.oid");

typedef struct BaselineEntry
{
	char		name[BASELINE_KEY_SIZE];	/* hash key */
	int64		source_rows;
	int64		target_rows;
} BaselineEntry;

/* what is counted: the relations, and their rows on each side */
typedef struct Counted
{
	List	   *names;			/* quoted, qualified */
	List	   *chunks;			/* int: counted through it, not ONLY */
	int64	   *rows;			/* the source's */
	int64	   *target;			/* here, -1: not a table here */
	int			differ;
	StringInfoData differing;
} Counted;

static void count_item(VerifyState *state, int i, void *arg);
static Datum text_array(List *names);

/*
 * tsm_verify_baseline_take
 *		Count each logged table and each chunk of a user hypertable on both
 *		sides: on "conn" (in the copy's snapshot) and here, each source
 *		query sent before the target's count runs, into run "run_id"'s
 *		run_stream_relation, which it empties first (a data step that begins
 *		again has a new snapshot).  Returns what it found, for the data
 *		step's detail; a relation whose rows differ is a WARNING now, and a
 *		difference at cutover.
 */
char *
tsm_verify_baseline_take(PGconn *conn, int64 run_id)
{
	VerifyState state = {0};
	Counted		counted = {0};
	List	   *hypertables = tsm_source_hypertables(conn);
	HTAB	   *is_hypertable = NULL;
	TsmRows    *tables;
	Oid			types[5] = {INT8OID, TEXTARRAYOID, BOOLARRAYOID, INT8ARRAYOID, INT8ARRAYOID};
	Datum		values[5];
	Datum	   *rows;
	Datum	   *target_rows;
	Datum	   *chunks;
	bool	   *target_nulls;
	int			dims[1];
	int			lbs[1] = {1};
	int64		total = 0;
	ListCell   *lc;
	int			n;
	int			i;

	if (hypertables != NIL)
	{
		HASHCTL		ctl;

		ctl.keysize = BASELINE_KEY_SIZE;
		ctl.entrysize = BASELINE_KEY_SIZE;
		ctl.hcxt = CurrentMemoryContext;
		is_hypertable = hash_create("tsmigrate hypertables", list_length(hypertables),
									&ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		foreach(lc, hypertables)
			if (strlen(lfirst(lc)) < BASELINE_KEY_SIZE)
			(void) hash_search(is_hypertable, lfirst(lc), HASH_ENTER, NULL);
	}

	/* a hypertable's rows are its chunks' */
	tables = tsm_query(conn, logged_tables_sql, 0, NULL, 2, "the source's tables");
	for (i = 0; i < tables->nrows; i++)
	{
		char	   *name = quote_qualified_identifier(tsm_rows_name(tables, i, 0),
													  tsm_rows_name(tables, i, 1));

		if (strlen(name) >= BASELINE_KEY_SIZE ||
			(is_hypertable && hash_search(is_hypertable, name, HASH_FIND, NULL)))
			continue;
		counted.names = lappend(counted.names, name);
		counted.chunks = lappend_int(counted.chunks, 0);
	}
	if (is_hypertable != NULL)
	{
		TsmRows    *ch = tsm_query(conn, tsm_verify_chunks_sql, 0, NULL, 4,
								   "the source's chunks");

		for (i = 0; i < ch->nrows; i++)
		{
			char	   *hypertable = quote_qualified_identifier(tsm_rows_name(ch, i, 0),
																tsm_rows_name(ch, i, 1));
			char	   *name = quote_qualified_identifier(tsm_rows_name(ch, i, 2),
														  tsm_rows_name(ch, i, 3));

			if (strlen(hypertable) >= BASELINE_KEY_SIZE || strlen(name) >= BASELINE_KEY_SIZE ||
				!hash_search(is_hypertable, hypertable, HASH_FIND, NULL))
				continue;
			counted.names = lappend(counted.names, name);
			counted.chunks = lappend_int(counted.chunks, 1);
		}
	}

	/* counted in batches that keep no lock: a savepoint each on the source */
	n = list_length(counted.names);
	counted.rows = palloc0(sizeof(int64) * Max(1, n));
	counted.target = palloc0(sizeof(int64) * Max(1, n));
	initStringInfo(&counted.differing);
	state.conn = conn;
	SPI_connect();
	tsm_verify_batched(&state, n, count_item, &counted);
	SPI_finish();

	/* a relation not found here (-1) keeps no count: counted at cutover */
	rows = palloc(sizeof(Datum) * Max(1, n));
	target_rows = palloc(sizeof(Datum) * Max(1, n));
	target_nulls = palloc(sizeof(bool) * Max(1, n));
	chunks = palloc(sizeof(Datum) * Max(1, n));
	for (i = 0; i < n; i++)
	{
		rows[i] = Int64GetDatum(counted.rows[i]);
		target_rows[i] = Int64GetDatum(counted.target[i]);
		target_nulls[i] = counted.target[i] < 0;
		chunks[i] = BoolGetDatum(list_nth_int(counted.chunks, i) != 0);
		total += counted.rows[i];
	}
	dims[0] = n;
	values[0] = Int64GetDatum(run_id);
	values[1] = text_array(counted.names);
	values[2] = PointerGetDatum(construct_array(chunks, n, BOOLOID, 1, true, TYPALIGN_CHAR));
	values[3] = PointerGetDatum(construct_array(rows, n, INT8OID, 8, FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[4] = PointerGetDatum(construct_md_array(target_rows, target_nulls, 1, dims, lbs,
												   INT8OID, 8, FLOAT8PASSBYVAL,
												   TYPALIGN_DOUBLE));
	SPI_connect();
	if (SPI_execute_with_args("DELETE FROM tsmigrate.run_stream_relation"
							  " WHERE run_id OPERATOR(pg_catalog.=) $1",
							  1, types, values, NULL, false, 0) != SPI_OK_DELETE ||
		SPI_execute_with_args("INSERT INTO tsmigrate.run_stream_relation"
							  " (run_id, relation, chunk, source_rows, target_rows)"
							  " SELECT $1, u.relation, u.chunk, u.n, u.t"
							  "   FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3),"
							  "                   pg_catalog.unnest($4), pg_catalog.unnest($5))"
							  "        AS u (relation, chunk, n, t)",
							  5, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_with_args failed");
	SPI_finish();

	if (counted.differ > 0)
		ereport(WARNING,
				errmsg_plural("%d relation has other rows here than the source had under the copy's snapshot",
							  "%d relations have other rows here than the source had under the copy's snapshot",
							  counted.differ, counted.differ),
				errdetail("%s", counted.differing.data),
				errhint("Verify at cutover will fail on them: abandon the run and migrate again."));
	return psprintf("%d relations counted on both sides (" INT64_FORMAT " rows)", n, total);
}

/*
 * The "i"th relation's rows on the source, sent first, and here, -1 if it
 * is not a table here: the name is the run owner's to write, so the table
 * counted is the one it names here, quoted from its OID.
 */
static void
count_item(VerifyState *state, int i, void *arg)
{
	Counted    *counted = arg;
	const char *name = list_nth(counted->names, i);
	const char *only = list_nth_int(counted->chunks, i) ? "" : "ONLY ";
	char	   *sql = tsm_verify_rows_sql(NULL, only, name);
	List	   *qualified = textToQualifiedNameList(cstring_to_text(name));
	Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(qualified), NoLock, true);

	tsm_verify_send(state->conn, sql);
	counted->target[i] = -1;
	if (OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_RELATION)
	{
		TsmRows    *rows;

		rows = tsm_verify_target(tsm_verify_rows_sql(NULL, only,
													 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
																				get_rel_name(relid))));
		counted->target[i] = pg_strtoint64(tsm_rows_get(rows, 0, 0));
	}
	counted->rows[i] = tsm_rows_int64(tsm_verify_finish(state->conn, sql, 1,
														psprintf("the rows of %s", name)),
									  0, 0);
	if (counted->target[i] >= 0 && counted->rows[i] != counted->target[i] &&
		counted->differ++ < 10)
		appendStringInfo(&counted->differing, "%s%s: source " INT64_FORMAT ", target " INT64_FORMAT,
						 counted->differing.len ? "; " : "", name, counted->rows[i],
						 counted->target[i]);
}

/* a text[] of "names" */
static Datum
text_array(List *names)
{
	Datum	   *items = palloc(sizeof(Datum) * Max(1, list_length(names)));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, names)
		items[i++] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(items, i, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * tsm_verify_baseline_load
 *		The rows of run "run_id"'s relations that verify at cutover may take
 *		instead of counting: the counts taken when the copy was done plus
 *		what the stream's changes did, for relations with both counts that
 *		need no recount and that cutover did not copy again.  NULL when there
 *		are none.
 */
HTAB *
tsm_verify_baseline_load(int64 run_id)
{
	HTAB	   *baseline;
	HASHCTL		ctl;
	MemoryContext outer = CurrentMemoryContext;
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	uint64		r;

	values[0] = Int64GetDatum(run_id);
	SPI_connect();
	if (SPI_execute_with_args("SELECT relation,"
							  "       source_rows OPERATOR(pg_catalog.+) source_delta,"
							  "       target_rows OPERATOR(pg_catalog.+) target_delta"
							  "  FROM tsmigrate.run_stream_relation"
							  " WHERE run_id OPERATOR(pg_catalog.=) $1 AND NOT recount AND NOT recopy"
							  "   AND source_rows IS NOT NULL AND target_rows IS NOT NULL",
							  1, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed == 0)
	{
		SPI_finish();
		return NULL;
	}
	ctl.keysize = BASELINE_KEY_SIZE;
	ctl.entrysize = sizeof(BaselineEntry);
	ctl.hcxt = outer;			/* the caller's, not SPI's */
	baseline = hash_create("tsmigrate verify baseline", SPI_processed, &ctl,
						   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *name = SPI_getvalue(tup, desc, 1);
		BaselineEntry *entry;

		CHECK_FOR_INTERRUPTS();
		if (name == NULL || strlen(name) >= BASELINE_KEY_SIZE)
			continue;
		entry = hash_search(baseline, name, HASH_ENTER, NULL);
		entry->source_rows = pg_strtoint64(SPI_getvalue(tup, desc, 2));
		entry->target_rows = pg_strtoint64(SPI_getvalue(tup, desc, 3));
	}
	SPI_finish();
	return baseline;
}

/*
 * tsm_verify_baseline_rows
 *		The counts of "name" (quoted, qualified) that verify may take, from
 *		tsm_verify_baseline_load's "baseline": false when it must count.
 */
bool
tsm_verify_baseline_rows(HTAB *baseline, const char *name, int64 *source_rows,
						 int64 *target_rows)
{
	BaselineEntry *entry;

	if (baseline == NULL || strlen(name) >= BASELINE_KEY_SIZE)
		return false;
	entry = hash_search(baseline, name, HASH_FIND, NULL);
	if (entry == NULL)
		return false;
	if (source_rows)
		*source_rows = entry->source_rows;
	if (target_rows)
		*target_rows = entry->target_rows;
	return true;
}
