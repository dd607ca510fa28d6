/*-------------------------------------------------------------------------
 *
 * timescale.c
 *	  Hypertables: the source's hypertables, chunks and compression, here
 *
 * pull_schema creates a hypertable as the plain table it is underneath
 * (its chunks live in TimescaleDB's own schema, which no tool copies), and
 * pull_data refuses it.  This file makes such a table a hypertable again:
 *
 *	pull_hypertables	create_hypertable with the source's first dimension
 *						(interval in the source's internal units), the other
 *						dimensions with add_dimension, the integer_now
 *						function, the compression settings; the continuous
 *						aggregates (caggs.c) in between, in id order, so each
 *						comes after what it reads; then every chunk (of
 *						hypertables and of aggregates) with the source's
 *						exact slices and name
 *						(_timescaledb_functions.create_chunk), with a table
 *						for its compressed rows where it is compressed on the
 *						source (compressed_copy.c), and (unless with_data =>
 *						false) its rows, in the same transaction
 *	pull_chunks			the rows of each chunk, copied from the source chunk
 *						into the same-named chunk here (or its compressed
 *						batches as they are, then attached), under one
 *						source snapshot, by copy workers with jobs > 1; the
 *						chunks must be committed first (migrate's data step)
 *	compress_chunks		compress_chunk for each chunk that is compressed on
 *						the source and not yet here, once indexes are in
 *						(after post-data)
 *
 * And for the other files: the source's hypertables and chunks by name
 * (migrate's data step, verify's row counts), whether a target relation is
 * a chunk, and pull_schema's ALTER TABLE ONLY made fit for a hypertable.
 *
 * The source's TimescaleDB catalog (_timescaledb_catalog) is read directly:
 * the check step makes sure both sides run the same TimescaleDB version, so
 * what is read there means the same here.  Default indexes are not created:
 * post-data brings the source's own indexes.
 *
 * IDENTIFICATION
 *	  src/timescale/timescale.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "copy/copy.h"
#include "copy/copy_command.h"
#include "remote/remote.h"
#include "replay/replay.h"
#include "source_catalog/catalog_filters.h"
#include "target/state.h"
#include "target/target.h"
#include "timescale/timescale.h"
#include "workers/workers.h"

PG_FUNCTION_INFO_V1(tsmigrate_pull_hypertables);
PG_FUNCTION_INFO_V1(tsmigrate_compress_chunks);
PG_FUNCTION_INFO_V1(tsmigrate_pull_chunks);

/*
 * The source's hypertables made by the user (not internal ones), and the
 * materialization hypertables of continuous aggregates, with the
 * aggregate's name (those have other names here).
 */
static const char *const hypertables_sql =
"SELECT h.id, h.schema_name, h.table_name, h.associated_schema_name,"
"       h.associated_table_prefix,"
"       h.compression_state OPERATOR(pg_catalog.=) 1,"
"       cs.segmentby, cs.orderby, cs.orderby_desc, cs.orderby_nullsfirst,"
"       (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)"
"          FROM pg_catalog.pg_attribute a"
"         WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0"
"           AND NOT a.attisdropped AND a.attgenerated OPERATOR(pg_catalog.=) ''),"
"       (SELECT pg_catalog.array_agg(a.attname::pg_catalog.text ORDER BY a.attnum)"
"          FROM pg_catalog.pg_attribute a"
"         WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0"
"           AND NOT a.attisdropped AND a.attgenerated OPERATOR(pg_catalog.=) ''),"
"       NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a"
"          JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid"
"         WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0"
"           AND NOT a.attisdropped AND a.attgenerated OPERATOR(pg_catalog.=) ''"
"           AND NOT (t.oid OPERATOR(pg_catalog.<) '16384'::pg_catalog.oid"
"                    AND t.typtype OPERATOR(pg_catalog.<>) 'c' AND t.typelem OPERATOR(pg_catalog.=) 0"
"                    AND t.typsend::pg_catalog.oid OPERATOR(pg_catalog.<>) 0)),"
"       ca.user_view_schema, ca.user_view_name"
"  FROM _timescaledb_catalog.hypertable h"
"  JOIN pg_catalog.pg_namespace n ON n.nspname OPERATOR(pg_catalog.=) h.schema_name"
"  JOIN pg_catalog.pg_class c ON c.relnamespace OPERATOR(pg_catalog.=) n.oid"
"                            AND c.relname OPERATOR(pg_catalog.=) h.table_name"
"  LEFT JOIN _timescaledb_catalog.compression_settings cs"
"         ON cs.relid OPERATOR(pg_catalog.=) c.oid"
"  LEFT JOIN _timescaledb_catalog.continuous_agg ca"
"         ON ca.mat_hypertable_id OPERATOR(pg_catalog.=) h.id"
" WHERE h.compression_state OPERATOR(pg_catalog.<>) 2"
"   AND (" TSM_USER_NAMESPACE("n.oid") " OR ca.mat_hypertable_id IS NOT NULL)"
" ORDER BY h.id";

/* hypertables_sql's columns, in its order */
enum
{
	HT_ID,
	HT_SCHEMA,
	HT_TABLE,
	HT_CHUNK_SCHEMA,			/* associated_schema_name */
	HT_CHUNK_PREFIX,			/* associated_table_prefix */
	HT_COMPRESSION,
	HT_SEGMENTBY,
	HT_ORDERBY,
	HT_ORDERBY_DESC,
	HT_ORDERBY_NULLSFIRST,
	HT_COLUMNS,					/* quoted, for the source's COPY */
	HT_COLUMN_NAMES,			/* text[], for the target's COPY FROM */
	HT_BINARY,
	HT_CAGG_SCHEMA,
	HT_CAGG_VIEW,
	HT_NCOLS
};

/* their dimensions, in creation order: the first one is the primary */
static const char *const dimensions_sql =
"SELECT d.hypertable_id, d.column_name, d.num_slices, d.interval_length,"
"       d.partitioning_func_schema, d.partitioning_func,"
"       d.integer_now_func_schema, d.integer_now_func"
"  FROM _timescaledb_catalog.dimension d"
" ORDER BY d.hypertable_id, d.id";

/* their chunks with each slice in internal units, and compressed or not */
static const char *const chunks_sql =
"SELECT ch.hypertable_id, ch.schema_name, ch.table_name,"
"       ch.compressed_chunk_id IS NOT NULL"
"         OR (ch.status OPERATOR(pg_catalog.&) 1) OPERATOR(pg_catalog.<>) 0,"
"       pg_catalog.jsonb_object_agg(d.column_name,"
"         pg_catalog.jsonb_build_array(s.range_start, s.range_end))::text,"
"       CASE WHEN ch.compressed_chunk_id IS NULL THEN (SELECT CASE WHEN c.reltuples OPERATOR(pg_catalog.>=) 0"
"         THEN c.reltuples::pg_catalog.int8 ELSE -1 END FROM pg_catalog.pg_class c"
"         WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.format('%I.%I', ch.schema_name, ch.table_name)::pg_catalog.regclass)"
"         ELSE -1 END,"
"       pg_catalog.pg_relation_size(pg_catalog.format('%I.%I', ch.schema_name, ch.table_name)::pg_catalog.regclass)"
"       OPERATOR(pg_catalog.+) COALESCE((SELECT pg_catalog.pg_total_relation_size("
"           pg_catalog.format('%I.%I', z.schema_name, z.table_name)::pg_catalog.regclass)"
"         FROM _timescaledb_catalog.chunk z WHERE z.id OPERATOR(pg_catalog.=) ch.compressed_chunk_id), 0)"
"  FROM _timescaledb_catalog.chunk ch"
"  JOIN _timescaledb_catalog.chunk_constraint cc"
"    ON cc.chunk_id OPERATOR(pg_catalog.=) ch.id"
"  JOIN _timescaledb_catalog.dimension_slice s"
"    ON s.id OPERATOR(pg_catalog.=) cc.dimension_slice_id"
"  JOIN _timescaledb_catalog.dimension d ON d.id OPERATOR(pg_catalog.=) s.dimension_id"
" WHERE NOT ch.osm_chunk"
"   AND NOT COALESCE((pg_catalog.to_jsonb(ch) OPERATOR(pg_catalog.->>) 'dropped')::pg_catalog.bool, false)"
" GROUP BY ch.id, ch.hypertable_id, ch.schema_name, ch.table_name,"
"          ch.compressed_chunk_id, ch.status"
" ORDER BY ch.hypertable_id, ch.id";

/* one hypertable of the source */
typedef struct TsmHypertable
{
	int			id;
	char	   *qualname;		/* quoted, qualified; a continuous aggregate's
								 * for its materialization */
	bool		cagg;			/* a continuous aggregate's materialization */
	char	   *cagg_schema;	/* its aggregate, unquoted */
	char	   *cagg_view;
	Oid			relid;			/* on the target */
	char	   *assoc_schema;
	char	   *assoc_prefix;
	bool		compression;
	char	   *segmentby;		/* "a, b" of quoted names, or NULL */
	char	   *orderby;		/* "a DESC NULLS FIRST, ...", or NULL */
	char	   *srccols;		/* quoted column list for the source */
	char	   *tgtcols;		/* '\0'-separated names, ending with "" */
	int			tgtcols_len;	/* bytes of tgtcols, final '\0' included */
	bool		binary;			/* built-in types only: binary COPY is safe */
	int			ndims;
	int			nchunks;
	int64		rows;
} TsmHypertable;

typedef struct PullArgs
{
	TsmSource  *src;
	bool		with_data;
	ReturnSetInfo *rsinfo;		/* a row per chunk and hypertable, or NULL */
	TsmHypertablesDone done;	/* and what was done */
} PullArgs;

/* pull_hypertables' state between its pieces (tsm_hypertables_begin) */
struct TsmHypertablesPull
{
	PullArgs   *args;
	PGconn	   *conn;			/* the source, with data; NULL without */
	TsmHypertable *hts;
	int			nhts;
	TsmRows    *chunks;
	bool		binary_ok;
	TsmCompressed *ccs;
	int			nccs;
	struct HTAB *existing;		/* resumed: the chunks here already */
};

static TsmHypertable *read_hypertables(PGconn *conn, int *nhts);
static void read_compression_settings(TsmHypertable *ht, TsmRows *r, int i);
static void create_hypertable(TsmHypertable *ht, TsmRows *dims, const char *tsschema);
static void set_compression(TsmHypertable *ht);
static void set_cagg_interval(TsmHypertable *ht, TsmRows *dims, const char *tsschema);
static void pull_hypertables(void *arg);
static TsmHypertablesPull *hypertables_begin(PullArgs *args, bool resume);
static bool made_already(TsmHypertable *ht);
static int64 pull_chunk(PullArgs *args, PGconn *conn, TsmHypertable *ht,
						const char *schema, const char *table, const char *slices,
						TsmCompressed *ccs, int nccs, bool binary_ok);
static void spi_exec(const char *sql, int nargs, Oid *types, Datum *values,
					 const char *nulls);
static Datum text_or_null(const char *s, char *null);
static bool relation_is_empty(const char *qualname);
static HTAB *target_chunk_names(bool compressed_only);

static TsmCopyCommand chunk_copy(const TsmHypertable *ht, const char *chunk,
								 bool binary_ok);
static TsmCopyCommand compressed_copy(const TsmCompressed *cc, bool binary_ok);
static int64 compressed_rows(const TsmCompressed *cc);

/*
 * tsmigrate.pull_hypertables(source text, dry_run boolean, with_data boolean)
 *		Make the source's hypertables hypertables here too, with their
 *		chunks and (with_data) their rows.  One row per chunk, and one per
 *		hypertable (chunk NULL) with its totals.
 */
Datum
tsmigrate_pull_hypertables(PG_FUNCTION_ARGS)
{
	PullArgs	args = {0};
	bool		dry_run = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);

	args.src = tsm_source_from_arg(fcinfo, 0);
	args.with_data = !dry_run && (PG_ARGISNULL(2) || PG_GETARG_BOOL(2));
	InitMaterializedSRF(fcinfo, 0);
	args.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	if (dry_run)
		tsm_replay_rolled_back(pull_hypertables, &args);
	else
		pull_hypertables(&args);
	return (Datum) 0;
}

/*
 * tsm_pull_hypertables
 *		pull_hypertables' work for migrate: no rows; *done says what it did.
 */
void
tsm_pull_hypertables(TsmSource *src, bool with_data, TsmHypertablesDone *done)
{
	PullArgs	args = {0};

	args.src = src;
	args.with_data = with_data;
	pull_hypertables(&args);
	*done = args.done;
}

static void
put_row(PullArgs *args, const char *hypertable, const char *chunk,
		bool compressed, int64 rows, bool rows_known)
{
	ReturnSetInfo *rsinfo = args->rsinfo;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (chunk == NULL)
		args->done.hypertables++;
	else
	{
		args->done.chunks++;
		if (compressed)
			args->done.compressed++;
	}
	if (rsinfo == NULL)
		return;

	values[0] = CStringGetTextDatum(hypertable);
	if (chunk)
		values[1] = CStringGetTextDatum(chunk);
	else
		nulls[1] = true;
	values[2] = BoolGetDatum(compressed);
	values[3] = Int64GetDatum(rows);
	nulls[3] = !rows_known;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

static void
pull_hypertables(void *arg)
{
	PullArgs   *args = arg;
	TsmHypertablesPull *pull;

	pull = hypertables_begin(args, false);
	if (pull == NULL)
		return;
	tsm_hypertables_chunks(pull, 0, pull->chunks->nrows);
	tsm_hypertables_end(pull, &args->done);
}

/*
 * tsm_hypertables_begin
 *		pull_hypertables in pieces, for migrate, which commits between them
 *		(no rows, no data): this one reads the source's hypertables and
 *		chunks and makes the hypertables, their dimensions and compression
 *		settings, and the continuous aggregates; tsm_hypertables_chunks then
 *		makes chunks, as many at a time as the caller's transaction may lock;
 *		tsm_hypertables_end counts.  With "resume", what an earlier call
 *		committed is left as it is: a hypertable or aggregate that exists,
 *		a chunk that exists.  NULL when the source has no hypertables.
 */
TsmHypertablesPull *
tsm_hypertables_begin(TsmSource *src, bool resume)
{
	PullArgs   *args = palloc0(sizeof(PullArgs));

	args->src = src;
	return hypertables_begin(args, resume);
}

static TsmHypertablesPull *
hypertables_begin(PullArgs *args, bool resume)
{
	TsmHypertablesPull *pull;
	PGconn	   *conn;
	TsmRows    *dims;
	char	   *tsschema;
	int			h;

	conn = tsm_conn_open(args->src);
	tsm_conn_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	pull = palloc0(sizeof(TsmHypertablesPull));
	pull->args = args;
	pull->conn = conn;
	if (tsm_source_has_timescaledb(conn))
		pull->hts = read_hypertables(conn, &pull->nhts);
	if (pull->nhts == 0)
	{
		tsm_conn_command(conn, "COMMIT");
		tsm_conn_close(conn);
		return NULL;
	}
	tsschema = tsm_timescaledb_schema();
	dims = tsm_query(conn, dimensions_sql, 0, NULL, 8, "the source's dimensions");
	pull->chunks = tsm_query(conn, chunks_sql, 0, NULL, 7, "the source's chunks");
	pull->binary_ok = tsm_copy_binary_allowed(conn);
	pull->ccs = tsm_compressed_chunks(conn, &pull->nccs);
	if (resume)
		pull->existing = tsm_target_chunk_names();

	SPI_connect();

	/* the hypertables, their dimensions and compression settings */
	for (h = 0; h < pull->nhts; h++)
	{
		TsmHypertable *ht = &pull->hts[h];

		CHECK_FOR_INTERRUPTS();
		if (resume && made_already(ht))
			continue;
		if (ht->cagg)
		{
			ht->relid = tsm_cagg_create(conn, ht->id);
			set_cagg_interval(ht, dims, tsschema);
		}
		else
			create_hypertable(ht, dims, tsschema);
		if (ht->compression)
			set_compression(ht);
	}
	SPI_finish();

	/* what is left to do needs the source only to copy rows */
	if (!args->with_data)
	{
		tsm_conn_command(conn, "COMMIT");
		tsm_conn_close(conn);
		pull->conn = NULL;
	}
	return pull;
}

/*
 * Did an earlier call make this hypertable (or continuous aggregate)
 * already?  Then its relid is set from the target.
 */
static bool
made_already(TsmHypertable *ht)
{
	if (ht->cagg)
	{
		Oid			relid = tsm_cagg_target_relid(ht->cagg_schema, ht->cagg_view);

		if (!OidIsValid(relid))
			return false;
		ht->relid = relid;
		return true;
	}
	return tsm_target_is_hypertable(ht->relid);
}

/* how many chunks tsm_hypertables_chunks has to make, in all */
int
tsm_hypertables_chunk_count(TsmHypertablesPull *pull)
{
	return pull->chunks->nrows;
}

/*
 * tsm_hypertables_chunks
 *		Make "count" of the source's chunks from the "from"th on, with the
 *		source's slices and names, and (with_data) their rows.
 */
void
tsm_hypertables_chunks(TsmHypertablesPull *pull, int from, int count)
{
	PullArgs   *args = pull->args;
	TsmRows    *chunks = pull->chunks;
	MemoryContext chunkcxt;
	int			c;

	SPI_connect();
	chunkcxt = AllocSetContextCreate(CurrentMemoryContext, "tsmigrate chunk",
									 ALLOCSET_DEFAULT_SIZES);
	for (c = from; c < from + count && c < chunks->nrows; c++)
	{
		int			htid = tsm_rows_int32(chunks, c, 0);
		const char *schema = tsm_rows_name(chunks, c, 1);
		const char *table = tsm_rows_name(chunks, c, 2);
		bool		compressed = tsm_rows_bool(chunks, c, 3);
		TsmHypertable *ht = NULL;
		char	   *chunkname;
		int64		rows;
		MemoryContext oldcxt;
		int			h;

		CHECK_FOR_INTERRUPTS();
		for (h = 0; h < pull->nhts; h++)
			if (pull->hts[h].id == htid)
				ht = &pull->hts[h];
		if (ht == NULL)
			continue;			/* a chunk of an internal hypertable */

		oldcxt = MemoryContextSwitchTo(chunkcxt);
		chunkname = quote_qualified_identifier(schema, table);
		if (tsm_target_chunk_names_has(pull->existing, chunkname))
			rows = 0;			/* made by an earlier call */
		else
			rows = pull_chunk(args, pull->conn, ht, schema, table,
							  tsm_rows_get(chunks, c, 4), pull->ccs, pull->nccs,
							  pull->binary_ok);
		ht->nchunks++;
		MemoryContextSwitchTo(oldcxt);
		put_row(args, ht->qualname, chunkname, compressed, rows,
				args->with_data);
		MemoryContextReset(chunkcxt);
	}
	MemoryContextDelete(chunkcxt);
	SPI_finish();
}

/*
 * tsm_hypertables_end
 *		A row per hypertable with its totals; with data, the continuous
 *		aggregates' indexes and refresh state, once filled.
 */
void
tsm_hypertables_end(TsmHypertablesPull *pull, TsmHypertablesDone *done)
{
	PullArgs   *args = pull->args;
	int			h;

	for (h = 0; h < pull->nhts; h++)
		put_row(args, pull->hts[h].qualname, NULL, pull->hts[h].compression,
				pull->hts[h].rows, args->with_data);
	if (pull->conn != NULL)
	{
		if (args->with_data)
			tsm_caggs_finish(pull->conn, NULL);
		tsm_conn_command(pull->conn, "COMMIT");
		tsm_conn_close(pull->conn);
	}
	*done = args->done;
}

/*
 * One chunk of "ht", made here with the source's slices ("slices", JSON)
 * and name, and, with_data, filled: its compressed rows as they are, or
 * its rows through the chunk.  Returns the rows copied.
 */
static int64
pull_chunk(PullArgs *args, PGconn *conn, TsmHypertable *ht, const char *schema,
		   const char *table, const char *slices, TsmCompressed *ccs, int nccs,
		   bool binary_ok)
{
	char	   *chunkname = quote_qualified_identifier(schema, table);
	Oid			types[4] = {REGCLASSOID, JSONBOID, NAMEOID, NAMEOID};
	Datum		values[4];
	Oid			chunkid;
	TsmCompressed *cc;
	int64		rows = 0;

	values[0] = ObjectIdGetDatum(ht->relid);
	values[1] = DirectFunctionCall1(jsonb_in, CStringGetDatum(slices));
	values[2] = DirectFunctionCall1(namein, CStringGetDatum(schema));
	values[3] = DirectFunctionCall1(namein, CStringGetDatum(table));
	spi_exec(psprintf("SELECT FROM %s.create_chunk($1, $2, $3, $4)",
					  quote_identifier("_timescaledb_functions")),
			 4, types, values, NULL);
	CommandCounterIncrement();

	chunkid = get_relname_relid(table, get_namespace_oid(schema, false));
	if (!OidIsValid(chunkid))
		ereport(ERROR,
				errcode(ERRCODE_INTERNAL_ERROR),
				errmsg("chunk %s of hypertable %s was not created on the target",
					   chunkname, ht->qualname));

	/*
	 * compressed on the source: its compressed rows go to a table of their
	 * own
	 */
	cc = tsm_compressed_find(ccs, nccs, chunkname);
	if (cc)
	{
		tsm_compressed_prepare(cc);
		CommandCounterIncrement();
	}

	if (args->with_data && cc)
	{
		uint64		bytes;
		TsmCopyCommand cmd = compressed_copy(cc, binary_ok);

		(void) tsm_copy_table(conn, tsm_compressed_pending_relid(cc),
							  &cmd, cc->tgtcols, false, &bytes);
		CommandCounterIncrement();
		tsm_compressed_attach(cc, chunkid);
		CommandCounterIncrement();
		rows = compressed_rows(cc);
		ht->rows += rows;
	}
	else if (args->with_data)
	{
		uint64		bytes;
		TsmCopyCommand cmd = chunk_copy(ht, chunkname, binary_ok);

		rows = (int64) tsm_copy_table(conn, chunkid, &cmd, ht->tgtcols,
									  false, &bytes);
		CommandCounterIncrement();
		ht->rows += rows;
	}
	return rows;
}

/*
 * tsm_source_has_timescaledb
 *		Has the source's database TimescaleDB installed?
 */
bool
tsm_source_has_timescaledb(PGconn *conn)
{
	TsmRows    *r = tsm_query(conn, "SELECT FROM pg_catalog.pg_extension"
							  " WHERE extname OPERATOR(pg_catalog.=) 'timescaledb'",
							  0, NULL, 0, "the source's TimescaleDB");

	return r->nrows > 0;
}

/* the schema of the target's timescaledb extension, quoted; error if none */
char *
tsm_timescaledb_schema(void)
{
	char	   *schema;

	schema = tsm_local_query_value("SELECT e.extnamespace::pg_catalog.regnamespace::pg_catalog.text"
								   " FROM pg_catalog.pg_extension e WHERE e.extname = $1",
								   "timescaledb", NULL);
	if (schema == NULL)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("the source has hypertables but the target has no TimescaleDB"),
				errhint("Run tsmigrate.sync_extensions() first, or see SELECT * FROM tsmigrate.check_versions()."));
	return schema;
}

/*
 * The source's hypertables, each found on the target (pull_schema made it
 * as a plain table).
 */
static TsmHypertable *
read_hypertables(PGconn *conn, int *nhts)
{
	TsmRows    *r = tsm_query(conn, hypertables_sql, 0, NULL, HT_NCOLS, "the source's hypertables");
	TsmHypertable *hts = palloc0(sizeof(TsmHypertable) * Max(r->nrows, 1));
	int			i;

	for (i = 0; i < r->nrows; i++)
	{
		TsmHypertable *ht = &hts[i];
		const char *nsp = tsm_rows_name(r, i, HT_SCHEMA);
		const char *rel = tsm_rows_name(r, i, HT_TABLE);
		Oid			nspid = get_namespace_oid(nsp, true);
		const char *names = tsm_rows_value(r, i, HT_COLUMN_NAMES);
		StringInfoData cols;

		ht->id = tsm_rows_int32(r, i, HT_ID);
		ht->cagg = tsm_rows_value(r, i, HT_CAGG_SCHEMA) != NULL;
		if (ht->cagg)
		{
			/* made with its aggregate by pull_hypertables */
			ht->cagg_schema = pstrdup(tsm_rows_name(r, i, HT_CAGG_SCHEMA));
			ht->cagg_view = pstrdup(tsm_rows_name(r, i, HT_CAGG_VIEW));
			ht->qualname = quote_qualified_identifier(ht->cagg_schema, ht->cagg_view);
			ht->relid = InvalidOid;
		}
		else
		{
			ht->qualname = quote_qualified_identifier(nsp, rel);
			ht->relid = OidIsValid(nspid) ? get_relname_relid(rel, nspid) : InvalidOid;
		}
		if (!ht->cagg && !OidIsValid(ht->relid))
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_TABLE),
					errmsg("hypertable %s of the source does not exist on the target",
						   ht->qualname),
					errhint("Create it with tsmigrate.pull_schema(section => 'pre-data') first."));
		if (!ht->cagg && get_rel_relkind(ht->relid) != RELKIND_RELATION)
			ereport(ERROR,
					errcode(ERRCODE_WRONG_OBJECT_TYPE),
					errmsg("%s is not a table on the target", ht->qualname));
		ht->assoc_schema = pstrdup(tsm_rows_name(r, i, HT_CHUNK_SCHEMA));
		ht->assoc_prefix = pstrdup(tsm_rows_name(r, i, HT_CHUNK_PREFIX));
		ht->compression = tsm_rows_bool(r, i, HT_COMPRESSION);
		ht->srccols = pstrdup(tsm_rows_get(r, i, HT_COLUMNS));

		if (ht->compression)
			read_compression_settings(ht, r, i);

		/* target column names, '\0'-separated */
		initStringInfo(&cols);
		if (names)
		{
			ListCell   *lc;

			foreach(lc, tsm_array_items(names))
				appendBinaryStringInfo(&cols, lfirst(lc), strlen(lfirst(lc)) + 1);
		}
		ht->tgtcols = cols.data;
		ht->tgtcols_len = cols.len + 1;
		ht->binary = tsm_rows_bool(r, i, HT_BINARY);
	}
	*nhts = r->nrows;
	return hts;
}

/*
 * A hypertable's compression settings from row "i" of hypertables_sql:
 * segmentby, and orderby with one direction and one NULLS placement per
 * column, as ALTER TABLE ... SET (timescaledb.compress_...) takes them.
 */
static void
read_compression_settings(TsmHypertable *ht, TsmRows *r, int i)
{
	const char *segmentby = tsm_rows_value(r, i, HT_SEGMENTBY);
	const char *orderby = tsm_rows_value(r, i, HT_ORDERBY);
	ListCell   *lc;

	if (segmentby)
	{
		StringInfoData sb;

		initStringInfo(&sb);
		foreach(lc, tsm_array_items(segmentby))
			appendStringInfo(&sb, "%s%s", sb.len > 0 ? ", " : "",
							 quote_identifier(lfirst(lc)));
		ht->segmentby = sb.data;
	}
	if (orderby)
	{
		List	   *columns = tsm_array_items(orderby);
		List	   *desc = tsm_array_items(tsm_rows_get(r, i, HT_ORDERBY_DESC));
		List	   *nullsfirst = tsm_array_items(tsm_rows_get(r, i, HT_ORDERBY_NULLSFIRST));
		StringInfoData ob;
		int			k = 0;

		/* one direction and one NULLS placement per column */
		if (list_length(desc) != list_length(columns) ||
			list_length(nullsfirst) != list_length(columns))
			ereport(ERROR,
					errcode(ERRCODE_PROTOCOL_VIOLATION),
					errmsg("invalid response from the source"),
					errdetail("The compression settings of hypertable %s have %d orderby columns, %d directions and %d NULLS placements.",
							  ht->qualname, list_length(columns),
							  list_length(desc), list_length(nullsfirst)));
		initStringInfo(&ob);
		foreach(lc, columns)
		{
			bool		d = ((char *) list_nth(desc, k))[0] == 't';
			bool		nf = ((char *) list_nth(nullsfirst, k))[0] == 't';

			appendStringInfo(&ob, "%s%s %s NULLS %s", k > 0 ? ", " : "",
							 quote_identifier(lfirst(lc)),
							 d ? "DESC" : "ASC", nf ? "FIRST" : "LAST");
			k++;
		}
		ht->orderby = ob.data;
	}
}

/*
 * create_hypertable with the first dimension, add_dimension for the others,
 * set_integer_now_func where the source has one.
 */
static void
create_hypertable(TsmHypertable *ht, TsmRows *dims, const char *tsschema)
{
	int			d;
	bool		first = true;

	for (d = 0; d < dims->nrows; d++)
	{
		const char *column;
		const char *slices;
		const char *interval;
		const char *pfschema;
		const char *pfname;
		const char *nowschema = NULL;
		const char *nowname;
		char	   *pfunc = NULL;
		char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
		Datum		values[6];

		if (tsm_rows_int32(dims, d, 0) != ht->id)
			continue;
		CHECK_FOR_INTERRUPTS();
		column = tsm_rows_name(dims, d, 1);
		slices = tsm_rows_value(dims, d, 2);
		interval = tsm_rows_value(dims, d, 3);
		/* a function's schema with its name */
		pfname = tsm_rows_value(dims, d, 5);
		pfschema = pfname ? tsm_rows_name(dims, d, 4) : NULL;
		nowname = tsm_rows_value(dims, d, 7);
		if (nowname != NULL)
			nowschema = tsm_rows_name(dims, d, 6);

		/* the default hash function is TimescaleDB's; name only a user's */
		if (pfname != NULL &&
			!(strcmp(pfname, "get_partition_hash") == 0 &&
			  (strcmp(pfschema, "_timescaledb_functions") == 0 ||
			   strcmp(pfschema, "_timescaledb_internal") == 0)))
			pfunc = quote_qualified_identifier(pfschema, pfname);

		values[0] = ObjectIdGetDatum(ht->relid);
		values[1] = DirectFunctionCall1(namein, CStringGetDatum(column));
		if (first)
		{
			Oid			types[6] = {REGCLASSOID, NAMEOID, NAMEOID, NAMEOID, INT8OID, TEXTOID};

			if (interval == NULL)
				ereport(ERROR,
						errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("the first dimension of hypertable %s is not a time dimension",
							   ht->qualname));
			values[2] = DirectFunctionCall1(namein, CStringGetDatum(ht->assoc_schema));
			values[3] = DirectFunctionCall1(namein, CStringGetDatum(ht->assoc_prefix));
			values[4] = Int64GetDatum(tsm_rows_int64(dims, d, 3));
			values[5] = text_or_null(pfunc, &nulls[5]);
			spi_exec(psprintf("SELECT FROM %s.create_hypertable($1, $2,"
							  " associated_schema_name => $3,"
							  " associated_table_prefix => $4,"
							  " chunk_time_interval => $5,"
							  " create_default_indexes => false,"
							  " time_partitioning_func => $6::pg_catalog.regproc)",
							  tsschema),
					 6, types, values, nulls);
			first = false;
		}
		else
		{
			Oid			types[5] = {REGCLASSOID, NAMEOID, INT4OID, INT8OID, TEXTOID};

			if (slices)
				values[2] = Int32GetDatum(tsm_rows_int32(dims, d, 2));
			else
				nulls[2] = 'n';
			if (interval)
				values[3] = Int64GetDatum(tsm_rows_int64(dims, d, 3));
			else
				nulls[3] = 'n';
			values[4] = text_or_null(pfunc, &nulls[4]);
			spi_exec(psprintf("SELECT FROM %s.add_dimension($1, $2,"
							  " number_partitions => $3, chunk_time_interval => $4,"
							  " partitioning_func => $5::pg_catalog.regproc)",
							  tsschema),
					 5, types, values, nulls);
		}
		ht->ndims++;

		if (nowname != NULL)
		{
			Oid			types[2] = {REGCLASSOID, TEXTOID};

			values[1] = CStringGetTextDatum(quote_qualified_identifier(nowschema, nowname));
			spi_exec(psprintf("SELECT FROM %s.set_integer_now_func($1, $2::pg_catalog.regproc)",
							  tsschema),
					 2, types, values, NULL);
		}
	}
	if (first)
		ereport(ERROR,
				errcode(ERRCODE_DATA_EXCEPTION),
				errmsg("hypertable %s has no dimensions on the source", ht->qualname));
	CommandCounterIncrement();
}

/*
 * A continuous aggregate's materialization hypertable gets its own chunk
 * interval (ten times its raw hypertable's, unless changed): the source's,
 * for the chunks made after the migration.
 */
static void
set_cagg_interval(TsmHypertable *ht, TsmRows *dims, const char *tsschema)
{
	int			d;

	for (d = 0; d < dims->nrows; d++)
	{
		Oid			types[2] = {REGCLASSOID, INT8OID};
		Datum		values[2];

		if (tsm_rows_int32(dims, d, 0) != ht->id ||
			tsm_rows_value(dims, d, 3) == NULL)
			continue;
		values[0] = ObjectIdGetDatum(ht->relid);
		values[1] = Int64GetDatum(tsm_rows_int64(dims, d, 3));
		spi_exec(psprintf("SELECT FROM %s.set_chunk_time_interval($1, $2)", tsschema),
				 2, types, values, NULL);
		break;
	}
}

/*
 * Compression settings as on the source: segmentby and orderby (the
 * source's internal order, with its directions and NULLS placement).
 */
static void
set_compression(TsmHypertable *ht)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "ALTER %s %s SET (timescaledb.compress",
					 ht->cagg ? "MATERIALIZED VIEW" : "TABLE", ht->qualname);
	/* an aggregate stores an empty segmentby as such, not as none */
	if (ht->segmentby || !ht->cagg)
		appendStringInfo(&sql, ", timescaledb.compress_segmentby = %s",
						 quote_literal_cstr(ht->segmentby ? ht->segmentby : ""));
	if (ht->orderby)
		appendStringInfo(&sql, ", timescaledb.compress_orderby = %s",
						 quote_literal_cstr(ht->orderby));
	appendStringInfoChar(&sql, ')');
	tsm_replay_statement(sql.data, T_AlterTableStmt, "hypertable", ht->qualname);
}

/*
 * tsmigrate.compress_chunks(source text)
 *		Compress each chunk here that is compressed on the source.
 */
Datum
tsmigrate_compress_chunks(PG_FUNCTION_ARGS)
{
	TsmSource  *src = tsm_source_from_arg(fcinfo, 0);
	PGconn	   *conn;

	InitMaterializedSRF(fcinfo, 0);
	conn = tsm_conn_open(src);
	(void) tsm_compress_chunks(conn, (ReturnSetInfo *) fcinfo->resultinfo);
	tsm_conn_close(conn);
	return (Datum) 0;
}

/*
 * tsm_compress_chunks
 *		compress_chunks' work, the source read on "conn": one row per chunk
 *		into "rsinfo" (when not NULL); returns how many.
 */
int64
tsm_compress_chunks(PGconn *conn, ReturnSetInfo *rsinfo)
{
	TsmRows    *hts;
	TsmRows    *chunks;
	char	   *tsschema;
	int			c;
	int64		n = 0;
	MemoryContext chunkcxt;

	tsm_conn_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	if (!tsm_source_has_timescaledb(conn))
	{
		tsm_conn_command(conn, "COMMIT");
		return 0;
	}
	hts = tsm_query(conn, hypertables_sql, 0, NULL, HT_NCOLS, "the source's hypertables");
	chunks = tsm_query(conn, chunks_sql, 0, NULL, 7, "the source's chunks");
	tsm_conn_command(conn, "COMMIT");
	if (hts->nrows == 0)
		return 0;
	tsschema = tsm_timescaledb_schema();

	SPI_connect();
	chunkcxt = AllocSetContextCreate(CurrentMemoryContext, "tsmigrate chunk",
									 ALLOCSET_DEFAULT_SIZES);
	for (c = 0; c < chunks->nrows; c++)
	{
		const char *htid = tsm_rows_get(chunks, c, 0);
		const char *schema = tsm_rows_name(chunks, c, 1);
		const char *table = tsm_rows_name(chunks, c, 2);
		const char *hypertable = NULL;
		Oid			nspid;
		Oid			chunkid;
		Oid			types[1] = {REGCLASSOID};
		Datum		values[1];
		Datum		row[2];
		bool		rownulls[2] = {false, false};
		int			h;
		MemoryContext oldcxt;

		CHECK_FOR_INTERRUPTS();
		if (!tsm_rows_bool(chunks, c, 3))
			continue;
		/* a continuous aggregate's chunks: named after the aggregate */
		for (h = 0; h < hts->nrows; h++)
			if (strcmp(tsm_rows_get(hts, h, HT_ID), htid) == 0)
				hypertable = tsm_rows_value(hts, h, HT_CAGG_SCHEMA) ?
					quote_qualified_identifier(tsm_rows_name(hts, h, HT_CAGG_SCHEMA),
											   tsm_rows_name(hts, h, HT_CAGG_VIEW)) :
					quote_qualified_identifier(tsm_rows_name(hts, h, HT_SCHEMA),
											   tsm_rows_name(hts, h, HT_TABLE));
		if (hypertable == NULL)
			continue;

		oldcxt = MemoryContextSwitchTo(chunkcxt);
		nspid = get_namespace_oid(schema, true);
		chunkid = OidIsValid(nspid) ? get_relname_relid(table, nspid) : InvalidOid;
		if (!OidIsValid(chunkid))
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_TABLE),
					errmsg("chunk %s of the source does not exist on the target",
						   quote_qualified_identifier(schema, table)),
					errhint("Create the hypertables' chunks with tsmigrate.pull_hypertables() first."));
		values[0] = ObjectIdGetDatum(chunkid);

		/*
		 * A chunk copied compressed is compressed already: compress_chunk
		 * would only say so, with a NOTICE per chunk.
		 */
		spi_exec("SELECT FROM pg_catalog.pg_class c"
				 " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
				 " JOIN _timescaledb_catalog.chunk ch"
				 "  ON ch.schema_name OPERATOR(pg_catalog.=) n.nspname"
				 "  AND ch.table_name OPERATOR(pg_catalog.=) c.relname"
				 " WHERE c.oid OPERATOR(pg_catalog.=) $1 AND ch.compressed_chunk_id IS NOT NULL",
				 1, types, values, NULL);
		if (SPI_processed == 0)
		{
			spi_exec(psprintf("SELECT FROM %s.compress_chunk($1, if_not_compressed => true)",
							  tsschema),
					 1, types, values, NULL);
			CommandCounterIncrement();
		}
		MemoryContextSwitchTo(oldcxt);

		if (rsinfo != NULL)
		{
			row[0] = CStringGetTextDatum(hypertable);
			row[1] = CStringGetTextDatum(quote_qualified_identifier(schema, table));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, rownulls);
		}
		n++;
		MemoryContextReset(chunkcxt);
	}
	MemoryContextDelete(chunkcxt);
	SPI_finish();
	return n;
}

static void
spi_exec(const char *sql, int nargs, Oid *types, Datum *values,
		 const char *nulls)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls,
										   false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
}

static Datum
text_or_null(const char *s, char *null)
{
	if (s == NULL)
	{
		*null = 'n';
		return (Datum) 0;
	}
	return CStringGetTextDatum(s);
}

/*
 * tsm_source_hypertables
 *		The source's user hypertables, as quoted qualified names; NIL when
 *		the source has no TimescaleDB.  For the callers that must treat a
 *		hypertable's root table otherwise than a table (migrate's data
 *		step, verify's row counts).
 */
List *
tsm_source_hypertables(PGconn *conn)
{
	TsmRows    *r;
	List	   *names = NIL;
	int			i;

	if (!tsm_source_has_timescaledb(conn))
		return NIL;
	r = tsm_query(conn, hypertables_sql, 0, NULL, HT_NCOLS, "the source's hypertables");
	for (i = 0; i < r->nrows; i++)
		if (tsm_rows_value(r, i, HT_CAGG_SCHEMA) == NULL)
			names = lappend(names,
							quote_qualified_identifier(tsm_rows_name(r, i, HT_SCHEMA),
													   tsm_rows_name(r, i, HT_TABLE)));
	return names;
}

/* is "qualname" (quoted, qualified) one of tsm_source_hypertables()? */
bool
tsm_is_hypertable(List *hypertables, const char *qualname)
{
	ListCell   *lc;

	foreach(lc, hypertables)
		if (strcmp(lfirst(lc), qualname) == 0)
		return true;
	return false;
}

/*
 * tsm_source_chunks
 *		The chunks of the source's user hypertables: quoted qualified name,
 *		estimated rows (-1 when unknown, as for compressed ones) and bytes
 *		(compressed data included), for migrate's list of relations.  NULL
 *		when the source has no TimescaleDB.
 */
TsmRows *
tsm_source_chunks(PGconn *conn)
{
	TsmRows    *hts;
	TsmRows    *chunks;
	TsmRows    *out;
	int			c;
	int			n = 0;

	if (!tsm_source_has_timescaledb(conn))
		return NULL;
	hts = tsm_query(conn, hypertables_sql, 0, NULL, HT_NCOLS, "the source's hypertables");
	chunks = tsm_query(conn, chunks_sql, 0, NULL, 7, "the source's chunks");
	out = palloc0(sizeof(TsmRows));
	out->what = chunks->what;
	out->ncols = 3;
	out->values = palloc0(sizeof(char *) * 3 * Max(chunks->nrows, 1));
	for (c = 0; c < chunks->nrows; c++)
	{
		int			h;
		bool		found = false;

		for (h = 0; h < hts->nrows && !found; h++)
			found = strcmp(tsm_rows_get(hts, h, 0), tsm_rows_get(chunks, c, 0)) == 0;
		if (!found)
			continue;
		out->values[n * 3] = quote_qualified_identifier(tsm_rows_name(chunks, c, 1),
														tsm_rows_name(chunks, c, 2));
		/* no estimate is "unknown"; no size, a chunk dropped meanwhile */
		out->values[n * 3 + 1] = tsm_rows_value(chunks, c, 5) == NULL ? pstrdup("-1") :
			psprintf(INT64_FORMAT, tsm_rows_int64(chunks, c, 5));
		if (tsm_rows_value(chunks, c, 6) == NULL)
			tsm_source_relation_dropped(out->values[n * 3]);
		out->values[n * 3 + 2] = psprintf(INT64_FORMAT, tsm_rows_int64(chunks, c, 6));
		n++;
	}
	out->nrows = n;
	return out;
}

/*
 * A chunk's quoted, qualified name: two names of at most NAMEDATALEN - 1
 * bytes, each quote doubled, in quotes, and a dot.
 */
#define CHUNK_NAME_KEY_SIZE (4 * NAMEDATALEN + 8)

typedef struct ChunkByName
{
	char		name[CHUNK_NAME_KEY_SIZE];
	int			index;
} ChunkByName;

static HTAB *
chunk_name_hash(int size)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = CHUNK_NAME_KEY_SIZE;
	ctl.entrysize = sizeof(ChunkByName);
	ctl.hcxt = CurrentMemoryContext;
	return hash_create("tsmigrate chunks by name", Max(size, 16), &ctl,
					   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/*
 * tsm_target_chunk_names
 *		The quoted, qualified names of the target's chunks, read once, for
 *		tsm_target_chunk_names_has; NULL without TimescaleDB.
 */
HTAB *
tsm_target_chunk_names(void)
{
	return target_chunk_names(false);
}

/* the target's chunks, or those compressed here only */
static HTAB *
target_chunk_names(bool compressed_only)
{
	MemoryContext callercxt = CurrentMemoryContext;
	HTAB	   *names;
	uint64		i;
	int			rc;

	if (!OidIsValid(get_namespace_oid("_timescaledb_catalog", true)))
		return NULL;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute(compressed_only ?
					 "SELECT pg_catalog.format('%I.%I', ch.schema_name, ch.table_name)"
					 "  FROM _timescaledb_catalog.chunk ch WHERE ch.compressed_chunk_id IS NOT NULL" :
					 "SELECT pg_catalog.format('%I.%I', ch.schema_name, ch.table_name)"
					 "  FROM _timescaledb_catalog.chunk ch", true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

		names = chunk_name_hash((int) SPI_processed);
		MemoryContextSwitchTo(spicxt);
	}
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		CHECK_FOR_INTERRUPTS();
		if (name != NULL && strlen(name) < CHUNK_NAME_KEY_SIZE)
			(void) hash_search(names, name, HASH_ENTER, NULL);
	}
	SPI_finish();
	return names;
}

/* Is "qualname" one of the chunks of tsm_target_chunk_names()? */
bool
tsm_target_chunk_names_has(HTAB *names, const char *qualname)
{
	return names != NULL && strlen(qualname) < CHUNK_NAME_KEY_SIZE &&
		hash_search(names, qualname, HASH_FIND, NULL) != NULL;
}

/*
 * Is the target relation "qualname" (quoted, qualified) a TimescaleDB
 * chunk?  Such relations are copied by pull_chunks, not pull_data.
 */
bool
tsm_target_is_chunk(const char *qualname)
{
	if (!OidIsValid(get_namespace_oid("_timescaledb_catalog", true)))
		return false;
	return tsm_local_query_value("SELECT 1 FROM _timescaledb_catalog.chunk ch"
								 " WHERE pg_catalog.format('%I.%I', ch.schema_name, ch.table_name)"
								 "  OPERATOR(pg_catalog.=) $1",
								 qualname, NULL) != NULL;
}


/* one chunk to copy */
typedef struct TsmChunk
{
	char	   *qualname;
	TsmHypertable *ht;
	Oid			relid;			/* on the target */
	int64		size;
	bool		wanted;
	TsmCompressed *compressed;	/* copied compressed, or NULL */
	bool		compressed_here;	/* compressed on the target already */
} TsmChunk;

static void select_wanted_chunks(TsmChunk *chunks, int nchunks, ArrayType *wanted);
static bool chunk_is_empty(const TsmChunk *ch);
static void plan_chunk_task(TsmChunk *ch, int c, TsmCopyTask *task,
							TsmCompressed *ccs, int nccs, bool binary_ok);

/*
 * tsmigrate.pull_chunks(source text, jobs int, chunks text[], snapshot text)
 *		Copy the rows of the source's chunks (all, or the listed ones) into
 *		the same-named chunks here, which pull_hypertables created and which
 *		must be empty.  A compressed source chunk is read decompressed.  All
 *		reads under one snapshot (the given one, exported by a source
 *		transaction the caller keeps open, as migrate does across its
 *		batches); with several jobs, copy workers share the chunks, largest
 *		first.
 */
Datum
tsmigrate_pull_chunks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	TsmSource  *src;
	int			jobs = PG_ARGISNULL(1) ? 1 : PG_GETARG_INT32(1);
	ArrayType  *wanted = PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2);
	char	   *given_snapshot = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ?
		text_to_cstring(PG_GETARG_TEXT_PP(3)) : NULL;
	PGconn	   *conn;
	char	   *snapshot = NULL;
	TsmCopyPlan *plan;
	TsmChunk   *chunks;
	TsmCopyTask *tasks;
	int			t;

	tsm_copy_check_jobs(jobs, "pull_chunks");

	src = tsm_source_from_arg(fcinfo, 0);
	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	conn = tsm_copy_open_source(src, jobs, given_snapshot, &snapshot);
	plan = tsm_chunks_prepare(conn, wanted);
	tsm_copy_run_tasks(conn, src, snapshot, plan->tasks, plan->ntasks, jobs, 0);

	tsm_conn_command(conn, "COMMIT");
	tsm_conn_close(conn);

	tsm_chunks_attach(plan, 0);

	chunks = plan->items;
	tasks = plan->tasks;
	for (t = 0; t < plan->ntasks; t++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = CStringGetTextDatum(chunks[tasks[t].relation].qualname);
		values[1] = CStringGetTextDatum(chunks[tasks[t].relation].ht->qualname);
		values[2] = Int64GetDatum(tasks[t].rows);
		values[3] = Int64GetDatum(tasks[t].bytes);
		values[4] = Float8GetDatum((tasks[t].end - tasks[t].start) / 1000000.0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * tsm_chunks_prepare
 *		pull_chunks' work on the source's chunks (all, or the listed ones),
 *		under the transaction of "conn": each chunk checked here (it exists,
 *		it is empty, it takes our rows) and its copy task made, named after
 *		it for migrate to mark; the compressed rows of a chunk copied
 *		compressed are attached (and the chunk marked copied) by
 *		tsm_chunks_attach.
 *		No tasks for a source without TimescaleDB.
 */
TsmCopyPlan *
tsm_chunks_prepare(PGconn *conn, ArrayType *wanted)
{
	TsmCopyPlan *plan = palloc0(sizeof(TsmCopyPlan));
	TsmHypertable *hts;
	int			nhts;
	TsmRows    *rows;
	TsmChunk   *chunks;
	int			nchunks = 0;
	TsmCopyTask *tasks;
	int			ntasks = 0;
	bool		binary_ok;
	TsmCompressed *ccs;
	HTAB	   *compressed_here;
	int			nccs;
	int			c;

	if (!tsm_source_has_timescaledb(conn))
	{
		if (wanted != NULL && ArrayGetNItems(ARR_NDIM(wanted), ARR_DIMS(wanted)) > 0)
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_TABLE),
					errmsg("the source has no TimescaleDB, so no chunks"));
		return plan;
	}
	hts = read_hypertables(conn, &nhts);
	rows = tsm_query(conn, chunks_sql, 0, NULL, 7, "the source's chunks");

	binary_ok = tsm_copy_binary_allowed(conn);
	ccs = tsm_compressed_chunks(conn, &nccs);
	compressed_here = target_chunk_names(true);
	chunks = palloc0(sizeof(TsmChunk) * Max(rows->nrows, 1));
	for (c = 0; c < rows->nrows; c++)
	{
		int			htid = tsm_rows_int32(rows, c, 0);
		TsmChunk   *ch = &chunks[nchunks];
		int			h;

		for (h = 0; h < nhts; h++)
			if (hts[h].id == htid)
				ch->ht = &hts[h];
		if (ch->ht == NULL)
			continue;
		ch->qualname = quote_qualified_identifier(tsm_rows_name(rows, c, 1),
												  tsm_rows_name(rows, c, 2));
		if (tsm_rows_value(rows, c, 6) == NULL)
			tsm_source_relation_dropped(ch->qualname);
		ch->size = tsm_rows_int64(rows, c, 6);
		ch->wanted = wanted == NULL;
		ch->relid = get_relname_relid(tsm_rows_name(rows, c, 2),
									  get_namespace_oid(tsm_rows_name(rows, c, 1), true));
		ch->compressed_here = tsm_target_chunk_names_has(compressed_here, ch->qualname);
		nchunks++;
	}

	if (wanted != NULL)
		select_wanted_chunks(chunks, nchunks, wanted);

	/* each wanted chunk must exist here, be empty, and accept our rows */
	tasks = palloc0(sizeof(TsmCopyTask) * Max(nchunks, 1));
	for (c = 0; c < nchunks; c++)
	{
		if (!chunks[c].wanted)
			continue;
		CHECK_FOR_INTERRUPTS();
		plan_chunk_task(&chunks[c], c, &tasks[ntasks++], ccs, nccs, binary_ok);
	}
	plan->tasks = tasks;
	plan->ntasks = ntasks;
	plan->items = chunks;
	plan->nitems = nchunks;
	return plan;
}

/*
 * Mark "wanted" (chunk names, as the source quotes them) among "chunks";
 * a name that is no chunk of the source is an error.
 */
static void
select_wanted_chunks(TsmChunk *chunks, int nchunks, ArrayType *wanted)
{
	Datum	   *elems;
	bool	   *elemnulls;
	int			nelems;
	int			i;
	int			c;

	/* the chunks by name: one look-up per wanted chunk */
	HTAB	   *by_name = chunk_name_hash(nchunks);

	for (c = 0; c < nchunks; c++)
	{
		ChunkByName *entry;

		if (strlen(chunks[c].qualname) >= CHUNK_NAME_KEY_SIZE)
			continue;
		entry = hash_search(by_name, chunks[c].qualname, HASH_ENTER, NULL);
		entry->index = c;
	}

	deconstruct_array(wanted, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &elemnulls, &nelems);
	for (i = 0; i < nelems; i++)
	{
		char	   *name;
		bool		found = false;

		if (elemnulls[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("chunk names must not be null"));
		name = TextDatumGetCString(elems[i]);
		CHECK_FOR_INTERRUPTS();
		if (strlen(name) < CHUNK_NAME_KEY_SIZE)
		{
			ChunkByName *entry = hash_search(by_name, name, HASH_FIND, NULL);

			if (entry != NULL)
			{
				chunks[entry->index].wanted = true;
				found = true;
			}
		}
		if (!found)
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_TABLE),
					errmsg("\"%s\" is not a chunk of a hypertable of the source", name),
					errhint("Chunk names are schema-qualified and quoted as in timescaledb_information.chunks of the source, e.g. _timescaledb_internal._hyper_1_1_chunk."));
	}
}

/*
 * The copy task of wanted chunk "ch" (chunks[c]): the chunk checked here
 * (it exists, takes our rows, is empty), and read through the chunk or, if
 * compressed on the source, as its compressed rows.
 */
static void
plan_chunk_task(TsmChunk *ch, int c, TsmCopyTask *task, TsmCompressed *ccs,
				int nccs, bool binary_ok)
{
	Relation	rel;
	bool		empty;

	if (!OidIsValid(ch->relid))
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_TABLE),
				errmsg("chunk %s of the source does not exist on the target", ch->qualname),
				errhint("Create the hypertables' chunks with tsmigrate.pull_hypertables(with_data => false) first."));
	rel = table_open(ch->relid, RowExclusiveLock);
	tsm_copy_check_target(rel);
	/* no lock kept per chunk: the copy checks again (target_tables.c) */
	table_close(rel, RowExclusiveLock);
	empty = chunk_is_empty(ch);
	if (!empty)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("chunk %s is not empty on the target", ch->qualname),
				errhint("pull_chunks only fills empty chunks: empty it with TRUNCATE, or leave it out with the \"chunks\" argument."));

	task->relation = c;
	task->size = ch->size;
	ch->compressed = tsm_compressed_find(ccs, nccs, ch->qualname);
	if (ch->compressed &&
		OidIsValid(task->relid = tsm_compressed_pending_relid(ch->compressed)))
	{
		/* compressed on the source: its compressed rows, as they are */
		char	   *pending = quote_qualified_identifier(ch->compressed->src_schema,
														 ch->compressed->pending);

		if (!relation_is_empty(pending))
			ereport(ERROR,
					errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					errmsg("the compressed rows of chunk %s are already on the target, in %s",
						   ch->qualname, pending),
					errhint("Empty that table with TRUNCATE to copy them again."));
		task->mark = ch->qualname;
		task->leader_marks = true;
		task->columns = ch->compressed->tgtcols;
		task->columns_len = ch->compressed->tgtcols_len;
		task->command = compressed_copy(ch->compressed, binary_ok);
		return;
	}
	ch->compressed = NULL;
	task->mark = ch->qualname;
	task->relid = ch->relid;
	task->columns = ch->ht->tgtcols;
	task->columns_len = ch->ht->tgtcols_len;
	task->command = chunk_copy(ch->ht, ch->qualname, binary_ok);
}

/*
 * tsm_chunks_attach
 *		Once their compressed rows are copied, make them the compressed
 *		chunks of the plan's chunks copied compressed; with a run id, mark
 *		each of those chunks copied in that run.
 */
void
tsm_chunks_attach(TsmCopyPlan *plan, int64 run_id)
{
	TsmChunk   *chunks = plan->items;
	int			t;

	SPI_connect();
	for (t = 0; t < plan->ntasks; t++)
	{
		TsmCopyTask *task = &plan->tasks[t];
		TsmChunk   *ch = &chunks[task->relation];

		if (ch->compressed == NULL)
			continue;
		CHECK_FOR_INTERRUPTS();
		tsm_compressed_attach(ch->compressed, ch->relid);
		CommandCounterIncrement();
		task->rows = compressed_rows(ch->compressed);
		if (run_id != 0)
			tsm_state_relation_mark(run_id, ch->qualname, TSM_RELATION_COPIED, task->rows,
									task->bytes, NULL);
	}
	SPI_finish();
}


/*
 * Does the target chunk hold no row visible to us?  Its heap, and, when it
 * is compressed here, its rows through the chunk (not ONLY: TimescaleDB
 * keeps them in another table and reads them through the chunk); only then
 * through a query, whose locks last to the end of the transaction.
 */
static bool
chunk_is_empty(const TsmChunk *ch)
{
	if (!tsm_target_heap_is_empty(ch->relid))
		return false;
	if (!ch->compressed_here)
		return true;
	return relation_is_empty(ch->qualname);
}

/* Does the relation hold no row visible to us, read through a query? */
static bool
relation_is_empty(const char *qualname)
{
	bool		empty;
	int			rc;

	SPI_connect();
	rc = SPI_execute(psprintf("SELECT FROM %s LIMIT 1", qualname), true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	empty = SPI_processed == 0;
	SPI_finish();
	return empty;
}

/*
 * A chunk's rows read through the chunk, not ONLY: TimescaleDB decompresses
 * a compressed one.
 */
static TsmCopyCommand
chunk_copy(const TsmHypertable *ht, const char *chunk, bool binary_ok)
{
	TsmCopyCommand cmd = {0};

	cmd.relation = chunk;
	cmd.columns = ht->srccols;
	cmd.query = true;
	cmd.binary = binary_ok && ht->binary;
	return cmd;
}

/*
 * A source chunk's compressed chunk read as it is (ONLY: it is an
 * inheritance child of TimescaleDB's compressed hypertable).
 */
static TsmCopyCommand
compressed_copy(const TsmCompressed *cc, bool binary_ok)
{
	TsmCopyCommand cmd = {0};

	cmd.relation = quote_qualified_identifier(cc->src_schema, cc->src_table);
	cmd.columns = cc->srccols;
	cmd.query = true;
	cmd.only = true;
	cmd.binary = binary_ok && cc->binary;
	return cmd;
}

/* the rows a compressed chunk holds, as the source counted them */
static int64
compressed_rows(const TsmCompressed *cc)
{
	const char *n = list_length(cc->sizes) > 6 ? list_nth(cc->sizes, 6) : NULL;

	return (n && *n) ? pg_strtoint64(n) : -1;
}
