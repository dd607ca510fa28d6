/*-------------------------------------------------------------------------
 *
 * verify.c
 *	  tsmigrate.verify: compare source and target, object by object
 *
 * Three families of checks, each one row (kind, object, source_value,
 * target_value, ok):
 *	- inventory: per object kind, how many user objects each side has
 *	  ("count"), and one row per object that exists on one side only
 *	  (NOT NULL constraints left out: 18 catalogs them in pg_constraint,
 *	  older sources do not; so are the clones of a partitioned table's
 *	  constraints on its partitions, which come with it, as pg_dump's do,
 *	  and which PostgreSQL names as it creates them: a partition's own
 *	  constraint, merged into the parent's when it was attached, keeps its
 *	  name on the source only);
 *	- rows: per table and materialized view, the row count on each side,
 *	  and with checksums an order-independent checksum of the rows (the sum
 *	  of a 64-bit hash of each row's text, computed on each server); a
 *	  materialized view not populated on one side gets a "populated" check
 *	  instead;
 *	- sequences: last_value and is_called;
 *	- large objects: how many, and with checksums their OIDs and contents;
 *	- TimescaleDB (verify_timescale.c): continuous aggregates' rows, chunks
 *	  and their compression, jobs and their schedules.
 *
 * The source is read in one REPEATABLE READ, READ ONLY transaction, so its
 * side is one consistent image.  Both sides render rows as text with the
 * same settings (DateStyle, IntervalStyle, extra_float_digits, TimeZone),
 * and with the source's column order, so equal rows hash equally.  Objects
 * that belong to extensions, system schemas and tsmigrate itself are left
 * out.  Each source query is sent before the matching target query runs,
 * so both servers work at the same time.
 *
 * IDENTIFICATION
 *	  src/verify/verify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"
#include "source_catalog/catalog_filters.h"
#include "target/target.h"
#include "timescale/timescale.h"
#include "verify.h"

PG_FUNCTION_INFO_V1(tsmigrate_verify);

/*
 * every user object as (kind, identity), the same query on both sides; an
 * index, trigger, policy or rule is the user's when its table is.  A
 * routine's identity leaves out the IN of its arguments, which
 * pg_get_function_identity_arguments writes for procedures from 14 on and
 * not on 13: the same procedure on both sides of a 13 to 15 migration.
 */
static const char *const inventory_sql =
"SELECT kind, identity FROM ("
" SELECT 'schema' AS kind, pg_catalog.quote_ident(n.nspname) AS identity"
"   FROM pg_catalog.pg_namespace n WHERE " TSM_USER_SCHEMA_NAME("n.nspname")
"    AND " TSM_NOT_EXTENSION_MEMBER("pg_catalog.pg_namespace", "n.oid")
" UNION ALL"
" SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table'"
"          WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'"
"          WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table'"
"          WHEN 'i' THEN 'index' WHEN 'I' THEN 'index'"
"          WHEN 'c' THEN 'type' END,"
"        pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)"
"   FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
"  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'i', 'I', 'c')"
"    AND " TSM_USER_NAMESPACE("c.relnamespace")
"    AND " TSM_NOT_EXTENSION_MEMBER("pg_catalog.pg_class",
									"COALESCE((SELECT ix.indrelid FROM pg_catalog.pg_index ix"
									" WHERE ix.indexrelid = c.oid), c.oid)")
" UNION ALL"
" SELECT 'constraint', pg_catalog.quote_ident(o.conname) || ' on ' ||"
"        pg_catalog.quote_ident(n.nspname) || '.' ||"
"        pg_catalog.quote_ident(COALESCE(c.relname, t.typname))"
"   FROM pg_catalog.pg_constraint o"
"   JOIN pg_catalog.pg_namespace n ON n.oid = o.connamespace"
"   LEFT JOIN pg_catalog.pg_class c ON c.oid = o.conrelid"
"   LEFT JOIN pg_catalog.pg_type t ON t.oid = o.contypid"
"  WHERE " TSM_USER_NAMESPACE("o.connamespace") " AND o.contype <> 'n' AND o.conparentid = 0"
"    AND (c.oid IS NULL OR " TSM_NOT_EXTENSION_MEMBER("pg_catalog.pg_class", "c.oid") ")"
" UNION ALL"
" SELECT 'trigger', pg_catalog.quote_ident(g.tgname) || ' on ' ||"
"        pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)"
"   FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid"
"   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
"  WHERE NOT g.tgisinternal AND " TSM_USER_NAMESPACE("c.relnamespace")
"    AND " TSM_NOT_EXTENSION_MEMBER("pg_catalog.pg_class", "c.oid")
" UNION ALL"
" SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,"
"        pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) ||"
"        '(' || pg_catalog.regexp_replace(pg_catalog.pg_get_function_identity_arguments(p.oid),"
"                                         '(^|, )IN ', '\\1', 'g') || ')'"
"   FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
"  WHERE " TSM_USER_NAMESPACE("p.pronamespace")
"    AND " TSM_NOT_EXTENSION_MEMBER("pg_catalog.pg_proc", "p.oid")
" UNION ALL"
" SELECT 'type', pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname)"
"   FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"
"  WHERE (t.typtype IN ('e', 'd', 'r', 'm')"
"         OR (t.typtype = 'b' AND NOT EXISTS (SELECT FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)))"
"    AND " TSM_USER_NAMESPACE("t.typnamespace")
"    AND " TSM_NOT_EXTENSION_MEMBER("pg_catalog.pg_type", "t.oid")
" UNION ALL"
" SELECT 'policy', pg_catalog.quote_ident(y.polname) || ' on ' ||"
"        pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)"
"   FROM pg_catalog.pg_policy y JOIN pg_catalog.pg_class c ON c.oid = y.polrelid"
"   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
"  WHERE " TSM_USER_NAMESPACE("c.relnamespace")
"    AND " TSM_NOT_EXTENSION_MEMBER("pg_catalog.pg_class", "c.oid")
" UNION ALL"
" SELECT 'rule', pg_catalog.quote_ident(r.rulename) || ' on ' ||"
"        pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)"
"   FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class"
"   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
"  WHERE r.rulename <> '_RETURN' AND " TSM_USER_NAMESPACE("c.relnamespace")
"    AND " TSM_NOT_EXTENSION_MEMBER("pg_catalog.pg_class", "c.oid")
" UNION ALL"
" SELECT 'extension', pg_catalog.quote_ident(e.extname)"
"   FROM pg_catalog.pg_extension e WHERE e.extname NOT IN ('plpgsql', 'tsmigrate')"
") objects ORDER BY 1, 2";

/*
 * The source's tables and materialized views whose rows are compared, and
 * their columns in the source's order (dropped and generated columns
 * included alike on both sides: generated values must match too), as raw
 * names: what goes into SQL is quoted here, and the relation is the one
 * the target's catalogs give those names (tsm_verify_relation).
 * Partitioned parents are left out: their leaves are compared.
 */
static const char *const tables_sql =
"SELECT n.nspname, c.relname,"
"       (SELECT pg_catalog.array_agg(a.attname::pg_catalog.text ORDER BY a.attnum)"
"          FROM pg_catalog.pg_attribute a"
"         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),"
"       c.relispopulated"
"  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't'"
"   AND " TSM_USER_NAMESPACE("c.relnamespace")
"   AND " TSM_NOT_EXTENSION_MEMBER("pg_catalog.pg_class", "c.oid")
" ORDER BY pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)";

static const char *const sequences_sql =
"SELECT n.nspname, c.relname"
"  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" WHERE c.relkind = 'S' AND " TSM_USER_NAMESPACE("c.relnamespace")
"   AND " TSM_NOT_EXTENSION_MEMBER("pg_catalog.pg_class", "c.oid")
" ORDER BY pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)";


/* a chunk of a hypertable, both quoted and qualified */
typedef struct ChunkOf
{
	char	   *hypertable;
	char	   *chunk;
} ChunkOf;

/* one side's chunks, sorted by hypertable (strcmp) */
typedef struct ChunkList
{
	ChunkOf    *items;
	int			n;
} ChunkList;

/* what verify_table_rows needs of verify_rows */
typedef struct RowsArgs
{
	TsmRows    *tables;
	List	   *hypertables;
	ChunkList	src_chunks;
	ChunkList	tgt_chunks;
	MemoryContext tablecxt;
} RowsArgs;

/* a hypertable's rows, summed over the chunks of each side */
typedef struct ChunkSums
{
	const char *columns;		/* for checksums, or NULL */
	ChunkOf    *src;			/* the source's chunks of it */
	int			nsrc;
	ChunkOf    *tgt;			/* the target's */
	int			ntgt;
	int64		src_rows;
	int64		tgt_rows;
	Datum		src_sum;		/* numeric */
	Datum		tgt_sum;
} ChunkSums;

static void verify_source(VerifyState *state, TsmSource *src);
static void verify_inventory(VerifyState *state);
static void verify_rows(VerifyState *state);
static void verify_table_rows(VerifyState *state, int t, void *arg);
static void verify_hypertable_rows(VerifyState *state, RowsArgs *args,
								   const char *table, const char *columns);
static void verify_chunk_rows(VerifyState *state, int i, void *arg);
static ChunkList chunk_list(TsmRows *rows);
static ChunkOf *chunks_of(ChunkList *list, const char *hypertable, int *n);
static int	compare_chunk_of(const void *a, const void *b);
static void verify_sequence(VerifyState *state, int s, void *arg);
static void verify_sequences(VerifyState *state);
static void verify_large_objects(VerifyState *state);
static void set_render_settings(void);

/*
 * tsmigrate.verify(source text, checksums boolean DEFAULT false)
 */
Datum
tsmigrate_verify(PG_FUNCTION_ARGS)
{
	VerifyState state = {0};

	state.checksums = PG_NARGS() > 1 && !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	InitMaterializedSRF(fcinfo, 0);
	state.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	verify_source(&state, tsm_source_from_arg(fcinfo, 0));
	return (Datum) 0;
}

/*
 * tsm_verify
 *		verify's checks for migrate: no rows, *summary says what they found.
 *		With "baseline_run", an online run's cutover: a relation's rows are
 *		those counted when the copy was done plus what the stream's changes
 *		did, where the stream could follow them (verify_baseline.c).
 */
void
tsm_verify(TsmSource *src, bool checksums, int64 baseline_run,
		   TsmVerifySummary *summary)
{
	VerifyState state = {0};

	memset(summary, 0, sizeof(TsmVerifySummary));
	initStringInfo(&summary->differ);
	initStringInfo(&summary->extra);
	state.checksums = checksums;
	state.summary = summary;
	if (baseline_run > 0 && !checksums)
		state.baseline = tsm_verify_baseline_load(baseline_run);
	verify_source(&state, src);
	summary->from_baseline = state.from_baseline;
}

/* every check, the source read under one snapshot */
static void
verify_source(VerifyState *state, TsmSource *src)
{
	int			save_nestlevel;
	char	   *timezone_sql;

	state->conn = tsm_conn_open(src);

	/* both sides render values alike: the target's time zone on the source */
	save_nestlevel = NewGUCNestLevel();
	set_render_settings();
	timezone_sql = psprintf("SET LOCAL TimeZone = %s",
							quote_literal_cstr(GetConfigOption("TimeZone", false, false)));
	tsm_conn_command(state->conn,
					 "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	tsm_conn_command(state->conn, timezone_sql);

	SPI_connect();
	verify_inventory(state);
	verify_rows(state);
	verify_sequences(state);
	verify_large_objects(state);
	tsm_verify_timescaledb(state);
	SPI_finish();

	tsm_conn_command(state->conn, "COMMIT");
	tsm_conn_close(state->conn);
	AtEOXact_GUC(true, save_nestlevel);
}

/*
 * Counts per kind, and each object that one side lacks.
 */
static void
verify_inventory(VerifyState *state)
{
	TsmRows    *src;
	TsmRows    *tgt;
	int			i = 0;
	int			j = 0;
	int			r;
	const char *kinds[] = {"schema", "table", "view", "materialized view",
		"sequence", "foreign table", "index", "constraint", "trigger",
		"function", "procedure", "aggregate", "type", "policy", "rule",
	"extension"};
	int			k;

	tsm_verify_send(state->conn, inventory_sql);
	tgt = tsm_verify_target(inventory_sql);
	src = tsm_verify_finish(state->conn, inventory_sql, 2, "the source's objects");

	/*
	 * an object of the source is named; one of the target may vanish
	 * meanwhile
	 */
	for (r = 0; r < src->nrows; r++)
	{
		(void) tsm_rows_get(src, r, 0);
		(void) tsm_rows_get(src, r, 1);
	}
	for (r = 0; r < tgt->nrows * tgt->ncols; r++)
		if (tgt->values[r] == NULL)
			tgt->values[r] = "";

	for (k = 0; k < lengthof(kinds); k++)
	{
		int			nsrc = 0;
		int			ntgt = 0;

		for (r = 0; r < src->nrows; r++)
			nsrc += strcmp(tsm_rows_value(src, r, 0), kinds[k]) == 0;
		for (r = 0; r < tgt->nrows; r++)
			ntgt += strcmp(tsm_rows_value(tgt, r, 0), kinds[k]) == 0;
		tsm_verify_put(state, "count", kinds[k], psprintf("%d", nsrc), psprintf("%d", ntgt));
	}

	/* both lists are sorted by (kind, identity): merge them */
	while (i < src->nrows || j < tgt->nrows)
	{
		int			cmp;

		CHECK_FOR_INTERRUPTS();
		if (i >= src->nrows)
			cmp = 1;
		else if (j >= tgt->nrows)
			cmp = -1;
		else
		{
			cmp = strcmp(tsm_rows_value(src, i, 0), tsm_rows_value(tgt, j, 0));
			if (cmp == 0)
				cmp = strcmp(tsm_rows_value(src, i, 1), tsm_rows_value(tgt, j, 1));
		}

		if (cmp == 0)
		{
			i++;
			j++;
		}
		else if (cmp < 0)
		{
			tsm_verify_put(state, tsm_rows_value(src, i, 0), tsm_rows_value(src, i, 1),
						   "present", "missing");
			i++;
		}
		else
		{
			tsm_verify_put(state, tsm_rows_value(tgt, j, 0), tsm_rows_value(tgt, j, 1),
						   "missing", "present");
			j++;
		}
	}
}

/*
 * Row counts, and checksums if asked, per table of the source.
 */
static void
verify_rows(VerifyState *state)
{
	RowsArgs	args;

	args.tables = tsm_query(state->conn, tables_sql, 0, NULL, 4, "the source's tables");
	/* a hypertable's rows are in its chunks: count through it, not ONLY */
	args.hypertables = tsm_source_hypertables(state->conn);
	memset(&args.src_chunks, 0, sizeof(ChunkList));
	memset(&args.tgt_chunks, 0, sizeof(ChunkList));
	if (args.hypertables != NIL)
	{
		/* counted chunk by chunk: a query through one locks every chunk */
		args.src_chunks = chunk_list(tsm_query(state->conn, tsm_verify_chunks_sql, 0, NULL, 4,
											   "the source's chunks"));
		if (OidIsValid(get_namespace_oid("_timescaledb_catalog", true)))
			args.tgt_chunks = chunk_list(tsm_verify_target(tsm_verify_chunks_sql));
	}
	args.tablecxt = AllocSetContextCreate(CurrentMemoryContext, "tsmigrate verify table",
										  ALLOCSET_DEFAULT_SIZES);
	tsm_verify_batched(state, args.tables->nrows, verify_table_rows, &args);
	MemoryContextDelete(args.tablecxt);
}

/* the rows of the "t"th table of the source, on both sides */
static void
verify_table_rows(VerifyState *state, int t, void *arg)
{
	RowsArgs   *args = arg;
	TsmRows    *tables = args->tables;
	const char *table;
	char	   *columns;
	char	   *sql;
	TsmRows    *src;
	TsmRows    *tgt;
	Oid			relid;
	bool		src_populated = tsm_rows_bool(tables, t, 3);
	bool		tgt_populated;
	const char *only;
	int64		src_rows;
	int64		tgt_rows;
	MemoryContext oldcxt;

	oldcxt = MemoryContextSwitchTo(args->tablecxt);

	/*
	 * A table the target lacks is already reported by the inventory.  A
	 * materialized view that is not populated on either side has no rows to
	 * count: compare that state instead.
	 */
	relid = tsm_verify_relation(tables, t, &table, &tgt_populated);
	if (!OidIsValid(relid) || !tgt_populated || !src_populated)
	{
		MemoryContextSwitchTo(oldcxt);
		if (OidIsValid(relid))
			tsm_verify_put(state, "populated", table,
						   src_populated ? "yes" : "no",
						   tgt_populated ? "yes" : "no");
		MemoryContextReset(args->tablecxt);
		return;
	}

	/* a table the stream followed row by row: its counts from the copy on */
	if (!tsm_is_hypertable(args->hypertables, table) &&
		tsm_verify_baseline_rows(state->baseline, table, &src_rows, &tgt_rows))
	{
		MemoryContextSwitchTo(oldcxt);
		tsm_verify_put(state, "rows", table, psprintf(INT64_FORMAT, src_rows),
					   psprintf(INT64_FORMAT, tgt_rows));
		state->from_baseline++;
		MemoryContextReset(args->tablecxt);
		return;
	}

	columns = state->checksums ? tsm_verify_columns(tables, t, 2) : NULL;
	if (tsm_is_hypertable(args->hypertables, table) &&
		tsm_target_is_hypertable(relid))
	{
		MemoryContextSwitchTo(oldcxt);
		verify_hypertable_rows(state, args, table, columns);
		MemoryContextReset(args->tablecxt);
		return;
	}
	only = tsm_is_hypertable(args->hypertables, table) ? "" : "ONLY ";
	sql = tsm_verify_rows_sql(columns, only, table);

	tsm_verify_send(state->conn, sql);
	tgt = tsm_verify_target(sql);
	src = tsm_verify_finish(state->conn, sql, state->checksums ? 2 : 1,
							psprintf("the rows of %s", table));

	MemoryContextSwitchTo(oldcxt);
	tsm_verify_put(state, "rows", table, tsm_rows_get(src, 0, 0), tsm_rows_value(tgt, 0, 0));
	if (state->checksums)
		tsm_verify_put(state, "checksum", table, tsm_rows_get(src, 0, 1),
					   tsm_rows_value(tgt, 0, 1));
	MemoryContextReset(args->tablecxt);
}

/*
 * A hypertable's rows: each side's chunks counted one by one (through the
 * chunk: a compressed one's rows too), in batches that keep no lock, and
 * summed.  Through the hypertable, one query would lock every chunk and
 * its indexes at once, which the default lock table does not hold for a
 * few thousand chunks.  The checksum is a sum, so the chunks' add up to
 * the hypertable's.
 */
static void
verify_hypertable_rows(VerifyState *state, RowsArgs *args, const char *table,
					   const char *columns)
{
	ChunkSums	sums = {0};
	Datum		zero = DirectFunctionCall3(numeric_in, CStringGetDatum("0"),
										   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));

	sums.columns = columns;
	sums.src = chunks_of(&args->src_chunks, table, &sums.nsrc);
	sums.tgt = chunks_of(&args->tgt_chunks, table, &sums.ntgt);
	sums.src_sum = sums.tgt_sum = zero;
	tsm_verify_batched(state, Max(sums.nsrc, sums.ntgt), verify_chunk_rows, &sums);
	tsm_verify_put(state, "rows", table, psprintf(INT64_FORMAT, sums.src_rows),
				   psprintf(INT64_FORMAT, sums.tgt_rows));
	if (columns != NULL)
		tsm_verify_put(state, "checksum", table,
					   DatumGetCString(DirectFunctionCall1(numeric_out, sums.src_sum)),
					   DatumGetCString(DirectFunctionCall1(numeric_out, sums.tgt_sum)));
}

/* the "i"th chunk of each side, where it has one, added to the sums */
static void
verify_chunk_rows(VerifyState *state, int i, void *arg)
{
	ChunkSums  *sums = arg;
	char	   *src_sql = NULL;
	TsmRows    *src = NULL;
	TsmRows    *tgt = NULL;
	int64		rows;

	/* a chunk the stream followed row by row: its counts from the copy on */
	if (i < sums->nsrc)
	{
		if (tsm_verify_baseline_rows(state->baseline, sums->src[i].chunk, &rows, NULL))
		{
			sums->src_rows += rows;
			state->from_baseline++;
		}
		else
			src_sql = tsm_verify_rows_sql(sums->columns, "", sums->src[i].chunk);
	}
	if (src_sql != NULL)
		tsm_verify_send(state->conn, src_sql);
	if (i < sums->ntgt)
	{
		if (tsm_verify_baseline_rows(state->baseline, sums->tgt[i].chunk, NULL, &rows))
			sums->tgt_rows += rows;
		else
			tgt = tsm_verify_target(tsm_verify_rows_sql(sums->columns, "", sums->tgt[i].chunk));
	}
	if (src_sql != NULL)
		src = tsm_verify_finish(state->conn, src_sql, sums->columns ? 2 : 1,
								psprintf("the rows of %s", sums->src[i].chunk));
	if (src != NULL)
	{
		sums->src_rows += tsm_rows_int64(src, 0, 0);
		if (sums->columns != NULL)
			sums->src_sum = DirectFunctionCall2(numeric_add, sums->src_sum,
												DirectFunctionCall3(numeric_in,
																	CStringGetDatum(tsm_rows_get(src, 0, 1)),
																	ObjectIdGetDatum(InvalidOid),
																	Int32GetDatum(-1)));
	}
	if (tgt != NULL)
	{
		sums->tgt_rows += pg_strtoint64(tsm_rows_value(tgt, 0, 0));
		if (sums->columns != NULL)
			sums->tgt_sum = DirectFunctionCall2(numeric_add, sums->tgt_sum,
												DirectFunctionCall3(numeric_in,
																	CStringGetDatum(tsm_rows_value(tgt, 0, 1)),
																	ObjectIdGetDatum(InvalidOid),
																	Int32GetDatum(-1)));
	}
}

/* (hypertable schema, table, chunk schema, table) rows, quoted and sorted */
static ChunkList
chunk_list(TsmRows *rows)
{
	ChunkList	list;
	int			r;

	list.n = rows->nrows;
	list.items = palloc(sizeof(ChunkOf) * Max(rows->nrows, 1));
	for (r = 0; r < rows->nrows; r++)
	{
		CHECK_FOR_INTERRUPTS();
		list.items[r].hypertable = quote_qualified_identifier(tsm_rows_name(rows, r, 0),
															  tsm_rows_name(rows, r, 1));
		list.items[r].chunk = quote_qualified_identifier(tsm_rows_name(rows, r, 2),
														 tsm_rows_name(rows, r, 3));
	}
	qsort(list.items, list.n, sizeof(ChunkOf), compare_chunk_of);
	return list;
}

static int
compare_chunk_of(const void *a, const void *b)
{
	return strcmp(((const ChunkOf *) a)->hypertable, ((const ChunkOf *) b)->hypertable);
}

/* the chunks of "hypertable" in "list": *n of them from the one returned */
static ChunkOf *
chunks_of(ChunkList *list, const char *hypertable, int *n)
{
	int			lo = 0;
	int			hi = list->n;
	int			end;

	/* the first whose hypertable is not below "hypertable" */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (strcmp(list->items[mid].hypertable, hypertable) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < list->n && strcmp(list->items[end].hypertable, hypertable) == 0; end++)
		;
	*n = end - lo;
	return list->items + lo;
}

/*
 * last_value and is_called of each sequence of the source.
 */
static void
verify_sequences(VerifyState *state)
{
	TsmRows    *sequences = tsm_query(state->conn, sequences_sql, 0, NULL, 2,
									  "the source's sequences");

	tsm_verify_batched(state, sequences->nrows, verify_sequence, sequences);
}

/* last_value and is_called of the "s"th sequence, on both sides */
static void
verify_sequence(VerifyState *state, int s, void *arg)
{
	TsmRows    *sequences = arg;
	const char *seq;
	char	   *sql;
	TsmRows    *src;
	TsmRows    *tgt;
	bool		populated;

	if (!OidIsValid(tsm_verify_relation(sequences, s, &seq, &populated)))
		return;
	sql = psprintf("SELECT last_value || CASE WHEN is_called THEN ' (called)' ELSE '' END FROM %s",
				   seq);
	src = tsm_query(state->conn, sql, 0, NULL, 1, psprintf("sequence %s", seq));
	tgt = tsm_verify_target(sql);
	tsm_verify_put(state, "sequence", seq, tsm_rows_get(src, 0, 0), tsm_rows_value(tgt, 0, 0));
}

/*
 * Large objects: the count, and with checksums a checksum over each one's
 * OID and content.
 */
static void
verify_large_objects(VerifyState *state)
{
	const char *sql = state->checksums ?
		"SELECT pg_catalog.count(*),"
		" COALESCE(pg_catalog.sum(('x' || pg_catalog.substr(pg_catalog.md5(m.oid::text || ':' ||"
		"   pg_catalog.md5(pg_catalog.lo_get(m.oid))), 1, 16))::bit(64)::bigint::numeric), 0)"
		" FROM pg_catalog.pg_largeobject_metadata m" :
		"SELECT pg_catalog.count(*) FROM pg_catalog.pg_largeobject_metadata";
	TsmRows    *src;
	TsmRows    *tgt;

	tsm_verify_send(state->conn, sql);
	tgt = tsm_verify_target(sql);
	src = tsm_verify_finish(state->conn, sql, state->checksums ? 2 : 1,
							"the source's large objects");
	tsm_verify_put(state, "large objects", "count", tsm_rows_get(src, 0, 0),
				   tsm_rows_value(tgt, 0, 0));
	if (state->checksums)
		tsm_verify_put(state, "large objects", "checksum", tsm_rows_get(src, 0, 1),
					   tsm_rows_value(tgt, 0, 1));
}

/*
 * The target renders values as the source session does (see the session
 * options in source.c); undone by AtEOXact_GUC at the end of verify.
 */
static void
set_render_settings(void)
{
	(void) set_config_option("datestyle", "ISO", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("intervalstyle", "postgres", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("extra_float_digits", "3", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("search_path", "", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}
