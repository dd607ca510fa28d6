/*-------------------------------------------------------------------------
 *
 * caggs.c
 *	  Continuous aggregates: their definitions, rows and refresh state, here
 *
 * A continuous aggregate is a view over a materialization hypertable in
 * TimescaleDB's internal schema, which no tool copies.  It arrives in three
 * moves, so that its rows are copied rather than recomputed:
 *
 *	tsm_cagg_create		(pull_hypertables, before any data) the source's
 *						query, column names and materialized_only, as
 *						CREATE MATERIALIZED VIEW ... WITH (timescaledb.
 *						continuous) ... WITH NO DATA; TimescaleDB's default
 *						indexes on the new materialization hypertable are
 *						dropped so that its chunks load without them (if the
 *						caller may make indexes in TimescaleDB's schema, where
 *						they live; otherwise they stay).  The
 *						caller then creates the chunks with the source's
 *						names and slices, and pull_chunks fills them like
 *						any other chunk, under the migration's snapshot.
 *	pull_continuous_aggregates
 *						(once the rows are in, under the same snapshot) the
 *						source's indexes on each materialization hypertable,
 *						and the refresh state: the invalidation threshold of
 *						each raw hypertable, the watermark of each aggregate
 *						and the pending invalidations of both, so that the
 *						next refresh here does what it would have done on the
 *						source.  That state lives in TimescaleDB's catalog
 *						tables, which only their owner may write: for another
 *						caller it is left as a new aggregate has it (all
 *						invalid: the first refresh recomputes), with a
 *						warning.
 *
 * Materialization hypertables have other ids here than on the source, so
 * they are matched through their aggregates' names, and raw hypertables
 * through theirs.
 *
 * IDENTIFICATION
 *	  src/timescale/caggs.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "copy/copy.h"
#include "remote/remote.h"
#include "replay/replay.h"
#include "target/target.h"
#include "timescale/timescale.h"

PG_FUNCTION_INFO_V1(tsmigrate_pull_continuous_aggregates);

/* one aggregate of the source, by its materialization hypertable's id */
static const char *const cagg_sql =
"SELECT ca.user_view_schema, ca.user_view_name, ca.materialized_only,"
"       pg_catalog.pg_get_viewdef(pg_catalog.format('%I.%I', ca.direct_view_schema,"
"                                 ca.direct_view_name)::pg_catalog.regclass),"
"       (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)"
"          FROM pg_catalog.pg_attribute a"
"         WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.format('%I.%I',"
"                 ca.user_view_schema, ca.user_view_name)::pg_catalog.regclass"
"           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped),"
"       pg_catalog.obj_description(pg_catalog.format('%I.%I', ca.user_view_schema,"
"                                  ca.user_view_name)::pg_catalog.regclass, 'pg_class')"
"  FROM _timescaledb_catalog.continuous_agg ca"
" WHERE ca.mat_hypertable_id OPERATOR(pg_catalog.=) $1::pg_catalog.int4";

/*
 * Every aggregate of the source, parents first, with its raw hypertable
 * (and the aggregate that one materializes, for an aggregate on an
 * aggregate) and its refresh state; invalidation ranges as JSON arrays of
 * [lowest, greatest] in internal time units.
 */
static const char *const caggs_state_sql =
"SELECT ca.user_view_schema, ca.user_view_name,"
"       rh.schema_name, rh.table_name, rca.user_view_schema, rca.user_view_name,"
"       (SELECT t.watermark FROM _timescaledb_catalog.continuous_aggs_invalidation_threshold t"
"         WHERE t.hypertable_id OPERATOR(pg_catalog.=) ca.raw_hypertable_id),"
"       (SELECT w.watermark FROM _timescaledb_catalog.continuous_aggs_watermark w"
"         WHERE w.mat_hypertable_id OPERATOR(pg_catalog.=) ca.mat_hypertable_id),"
"       (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array("
"                 l.lowest_modified_value, l.greatest_modified_value)), '[]')"
"          FROM _timescaledb_catalog.continuous_aggs_hypertable_invalidation_log l"
"         WHERE l.hypertable_id OPERATOR(pg_catalog.=) ca.raw_hypertable_id),"
"       (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array("
"                 m.lowest_modified_value, m.greatest_modified_value)), '[]')"
"          FROM _timescaledb_catalog.continuous_aggs_materialization_invalidation_log m"
"         WHERE m.materialization_id OPERATOR(pg_catalog.=) ca.mat_hypertable_id),"
"       mh.schema_name, mh.table_name"
"  FROM _timescaledb_catalog.continuous_agg ca"
"  JOIN _timescaledb_catalog.hypertable rh ON rh.id OPERATOR(pg_catalog.=) ca.raw_hypertable_id"
"  JOIN _timescaledb_catalog.hypertable mh ON mh.id OPERATOR(pg_catalog.=) ca.mat_hypertable_id"
"  LEFT JOIN _timescaledb_catalog.continuous_agg rca"
"    ON rca.mat_hypertable_id OPERATOR(pg_catalog.=) ca.raw_hypertable_id"
" ORDER BY ca.mat_hypertable_id";

/* the indexes of each aggregate's materialization hypertable, and its name */
static const char *const cagg_indexes_sql =
"SELECT ca.user_view_schema, ca.user_view_name, ic.relname,"
"       pg_catalog.pg_get_indexdef(i.indexrelid), h.schema_name, h.table_name"
"  FROM _timescaledb_catalog.continuous_agg ca"
"  JOIN _timescaledb_catalog.hypertable h ON h.id OPERATOR(pg_catalog.=) ca.mat_hypertable_id"
"  JOIN pg_catalog.pg_index i ON i.indrelid OPERATOR(pg_catalog.=)"
"       pg_catalog.format('%I.%I', h.schema_name, h.table_name)::pg_catalog.regclass"
"  JOIN pg_catalog.pg_class ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid"
" ORDER BY ca.mat_hypertable_id, ic.relname";

/* the target's materialization hypertable of an aggregate, by its name */
static const char *const target_mat_sql =
"SELECT h.id, pg_catalog.format('%I.%I', h.schema_name, h.table_name)::pg_catalog.regclass::pg_catalog.oid,"
"       h.schema_name::pg_catalog.text, h.table_name::pg_catalog.text"
"  FROM _timescaledb_catalog.continuous_agg ca"
"  JOIN _timescaledb_catalog.hypertable h ON h.id OPERATOR(pg_catalog.=) ca.mat_hypertable_id"
" WHERE ca.user_view_schema OPERATOR(pg_catalog.=) $1"
"   AND ca.user_view_name OPERATOR(pg_catalog.=) $2";

/* TimescaleDB's catalog tables that hold the refresh state */
static const char *const state_tables[] = {
	"_timescaledb_catalog.continuous_aggs_invalidation_threshold",
	"_timescaledb_catalog.continuous_aggs_watermark",
	"_timescaledb_catalog.continuous_aggs_hypertable_invalidation_log",
	"_timescaledb_catalog.continuous_aggs_materialization_invalidation_log",
};

/* a materialization hypertable here */
typedef struct TargetMat
{
	int32		id;				/* 0 when the aggregate does not exist */
	Oid			relid;
	char	   *schema;
	char	   *table;
} TargetMat;

/* what the CREATE MATERIALIZED VIEW check needs */
typedef struct ViewTarget
{
	const char *schema;
	const char *name;
} ViewTarget;

static TargetMat target_mat(const char *schema, const char *view);
static int32 target_hypertable_id(const char *schema, const char *table);
static void check_create_cagg(Node *stmt, void *arg);
static int	create_indexes(const char *schema, const char *view,
						   const TargetMat *mat, TsmRows *indexes);
static bool may_create_indexes(void);
static bool may_write_state(void);
static void write_state(const char *table, const char *idcol, int32 id,
						const char *watermark, const char *ranges);
static void spi_run(const char *sql, int nargs, Oid *types, Datum *values,
					const char *nulls);

/*
 * tsm_cagg_create
 *		Create here, without data, the continuous aggregate whose
 *		materialization hypertable has id "mat_id" on the source, and return
 *		its materialization hypertable (without indexes, when the caller may
 *		make them again).
 *
 * The caller is connected to SPI; its raw hypertable (or aggregate) exists.
 */
Oid
tsm_cagg_create(PGconn *conn, int mat_id)
{
	char		idbuf[16];
	const char *params[1];
	TsmRows    *r;
	const char *schema;
	const char *view;
	char	   *query;
	size_t		len;
	StringInfoData sql;
	char	   *name;
	ViewTarget	vt;
	TargetMat	mat;
	List	   *dropped = NIL;
	bool		own_indexes;
	TsmReplayContext ctx;
	Node	   *stmt;
	ListCell   *lc;
	uint64		i;
	Oid			oidtype = OIDOID;
	Datum		relid;

	snprintf(idbuf, sizeof(idbuf), "%d", mat_id);
	params[0] = idbuf;
	r = tsm_query(conn, cagg_sql, 1, params, 6, "a continuous aggregate of the source");
	if (r->nrows != 1)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("continuous aggregate of materialization hypertable %d not found on the source",
					   mat_id));
	schema = tsm_rows_name(r, 0, 0);
	view = tsm_rows_name(r, 0, 1);
	name = quote_qualified_identifier(schema, view);

	/* pg_get_viewdef ends the query with a semicolon */
	query = pstrdup(tsm_rows_get(r, 0, 3));
	len = strlen(query);
	while (len > 0 && (query[len - 1] == ';' || isspace((unsigned char) query[len - 1])))
		query[--len] = '\0';

	/*
	 * Who may create indexes in TimescaleDB's schema gets the source's, after
	 * the rows; others keep the ones TimescaleDB makes (as the catalog's
	 * owner) with the aggregate.
	 */
	own_indexes = may_create_indexes();
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE MATERIALIZED VIEW %s (%s) WITH (timescaledb.continuous,"
					 " timescaledb.materialized_only = %s,"
					 " timescaledb.create_group_indexes = %s) AS %s WITH NO DATA",
					 name, tsm_rows_get(r, 0, 4),
					 tsm_rows_bool(r, 0, 2) ? "true" : "false",
					 own_indexes ? "false" : "true", query);

	/*
	 * Parsed as one statement by the executor (replay/executor.c), which
	 * names the aggregate in any error of its replay, checked to be the
	 * expected kind, then run through SPI: CREATE ... AS needs parse
	 * analysis, which ProcessUtility does not do.
	 */
	vt.schema = schema;
	vt.name = view;
	tsm_replay_context_push(&ctx, "continuous aggregate", name, true);
	ctx.sql = sql.data;
	stmt = tsm_replay_parse_one(sql.data, "continuous aggregate", name, true);
	if (!IsA(stmt, CreateTableAsStmt))
		ereport(ERROR,
				errcode(ERRCODE_DATA_EXCEPTION),
				errmsg("the definition of continuous aggregate %s on the source is not one query",
					   name));
	check_create_cagg(stmt, &vt);
	if (SPI_execute(sql.data, false, 0) < 0)
		elog(ERROR, "SPI_execute failed on the definition of %s", name);
	tsm_replay_context_pop(&ctx);
	CommandCounterIncrement();

	if (tsm_rows_value(r, 0, 5) != NULL)
		tsm_replay_statement(psprintf("COMMENT ON VIEW %s IS %s", name,
									  quote_literal_cstr(tsm_rows_value(r, 0, 5))),
							 T_CommentStmt, "continuous aggregate", name);

	mat = target_mat(schema, view);
	if (mat.id == 0)
		ereport(ERROR,
				errcode(ERRCODE_INTERNAL_ERROR),
				errmsg("continuous aggregate %s was created without a materialization hypertable",
					   name));

	if (!own_indexes)
		return mat.relid;

	/* its rows load faster without indexes: the source's come afterwards */
	relid = ObjectIdGetDatum(mat.relid);
	spi_run("SELECT pg_catalog.format('%I.%I', n.nspname, c.relname)"
			"  FROM pg_catalog.pg_index i"
			"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid"
			"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
			" WHERE i.indrelid OPERATOR(pg_catalog.=) $1",
			1, &oidtype, &relid, NULL);
	for (i = 0; i < SPI_processed; i++)
		dropped = lappend(dropped, SPI_getvalue(SPI_tuptable->vals[i],
												SPI_tuptable->tupdesc, 1));
	foreach(lc, dropped)
		tsm_replay_statement(psprintf("DROP INDEX %s", (char *) lfirst(lc)),
							 T_DropStmt, "index", lfirst(lc));
	return mat.relid;
}

/*
 * tsm_cagg_target_relid
 *		The materialization hypertable here of the aggregate
 *		"schema"."view", made by an earlier call; InvalidOid if none.  SPI
 *		connected.
 */
Oid
tsm_cagg_target_relid(const char *schema, const char *view)
{
	return target_mat(schema, view).relid;
}

/*
 * The statement built for an aggregate must create exactly that
 * materialized view, without data: the source's query cannot have turned it
 * into something else.
 */
static void
check_create_cagg(Node *stmt, void *arg)
{
	ViewTarget *vt = arg;
	CreateTableAsStmt *ctas = (CreateTableAsStmt *) stmt;
	RangeVar   *rel = ctas->into ? ctas->into->rel : NULL;

	if (ctas->objtype != OBJECT_MATVIEW || rel == NULL || !ctas->into->skipData ||
		rel->schemaname == NULL || strcmp(rel->schemaname, vt->schema) != 0 ||
		strcmp(rel->relname, vt->name) != 0)
		ereport(ERROR,
				errcode(ERRCODE_DATA_EXCEPTION),
				errmsg("the definition of continuous aggregate %s on the source does not make a continuous aggregate",
					   quote_qualified_identifier(vt->schema, vt->name)));
}

/*
 * tsmigrate.pull_continuous_aggregates(source text, snapshot text)
 *		Once the aggregates' rows are in: the source's indexes on their
 *		materialization hypertables, and their refresh state.  One row per
 *		aggregate: its name, the indexes created, its watermark (internal
 *		units) and whether the refresh state was copied.
 */
Datum
tsmigrate_pull_continuous_aggregates(PG_FUNCTION_ARGS)
{
	TsmSource  *src = tsm_source_from_arg(fcinfo, 0);
	char	   *given_snapshot = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *snapshot;
	PGconn	   *conn;

	InitMaterializedSRF(fcinfo, 0);
	conn = tsm_copy_open_source(src, 1, given_snapshot, &snapshot);
	if (tsm_query(conn, "SELECT FROM pg_catalog.pg_extension"
				  " WHERE extname OPERATOR(pg_catalog.=) 'timescaledb'", 0, NULL,
				  0, "the source's TimescaleDB")->nrows > 0)
		tsm_caggs_finish(conn, (ReturnSetInfo *) fcinfo->resultinfo);
	tsm_conn_command(conn, "COMMIT");
	tsm_conn_close(conn);
	return (Datum) 0;
}

/*
 * tsm_caggs_finish
 *		Indexes and refresh state of every continuous aggregate of the source
 *		(read on "conn", in the transaction of the rows' snapshot), here.
 *		One row per aggregate into "rsinfo" when not NULL.
 */
void
tsm_caggs_finish(PGconn *conn, ReturnSetInfo *rsinfo)
{
	TsmRows    *caggs = tsm_query(conn, caggs_state_sql, 0, NULL, 12,
								  "the source's continuous aggregates");
	TsmRows    *indexes;
	List	   *raw_done = NIL;
	bool		write_ok;
	int			c;

	if (caggs->nrows == 0)
		return;
	indexes = tsm_query(conn, cagg_indexes_sql, 0, NULL, 6,
						"the indexes of the source's continuous aggregates");

	SPI_connect();
	write_ok = may_write_state();
	for (c = 0; c < caggs->nrows; c++)
	{
		const char *schema = tsm_rows_name(caggs, c, 0);
		const char *view = tsm_rows_name(caggs, c, 1);
		char	   *name = quote_qualified_identifier(schema, view);
		TargetMat	mat;
		int32		raw_id;
		int			nindexes;
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		CHECK_FOR_INTERRUPTS();
		mat = target_mat(schema, view);
		if (mat.id == 0)
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_OBJECT),
					errmsg("continuous aggregate %s of the source does not exist on the target",
						   name),
					errhint("Create it with tsmigrate.pull_hypertables() first."));

		/* the raw hypertable: a hypertable, or another aggregate's */
		if (tsm_rows_value(caggs, c, 4) != NULL)
			raw_id = target_mat(tsm_rows_name(caggs, c, 4), tsm_rows_name(caggs, c, 5)).id;
		else
			raw_id = target_hypertable_id(tsm_rows_name(caggs, c, 2),
										  tsm_rows_name(caggs, c, 3));
		if (raw_id == 0)
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_OBJECT),
					errmsg("the hypertable of continuous aggregate %s does not exist on the target",
						   name));

		nindexes = create_indexes(schema, view, &mat, indexes);

		if (write_ok)
		{
			/* a raw hypertable's state is shared by its aggregates */
			if (!list_member_int(raw_done, raw_id))
			{
				write_state(state_tables[0], "hypertable_id", raw_id,
							tsm_rows_value(caggs, c, 6), NULL);
				write_state(state_tables[2], "hypertable_id", raw_id,
							NULL, tsm_rows_get(caggs, c, 8));
				raw_done = lappend_int(raw_done, raw_id);
			}
			write_state(state_tables[1], "mat_hypertable_id", mat.id,
						tsm_rows_value(caggs, c, 7), NULL);
			write_state(state_tables[3], "materialization_id", mat.id,
						NULL, tsm_rows_get(caggs, c, 9));
		}

		if (rsinfo != NULL)
		{
			values[0] = CStringGetTextDatum(name);
			values[1] = Int32GetDatum(nindexes);
			if (tsm_rows_value(caggs, c, 7) != NULL)
				values[2] = Int64GetDatum(tsm_rows_int64(caggs, c, 7));
			else
				nulls[2] = true;
			values[3] = BoolGetDatum(write_ok);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	SPI_finish();

	if (!write_ok)
		ereport(WARNING,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("the refresh state of the continuous aggregates was not copied"),
				errdetail("Their rows were copied, but the invalidation thresholds, watermarks and pending invalidations live in TimescaleDB's catalog tables, which the current user may not write."),
				errhint("Their first refresh recomputes the refreshed range; to keep the source's state, run the migration as the owner of the timescaledb extension."));
}

/*
 * The source's indexes of one aggregate's materialization hypertable, made
 * on this side's, named after it; those already here (a resumed run) are
 * left alone.  Returns how many were created.
 */
static int
create_indexes(const char *schema, const char *view,
			   const TargetMat *mat, TsmRows *indexes)
{
	int			n = 0;
	int			i;

	for (i = 0; i < indexes->nrows; i++)
	{
		const char *srcname;
		const char *prefix;
		char	   *idxname;

		if (strcmp(tsm_rows_get(indexes, i, 0), schema) != 0 ||
			strcmp(tsm_rows_get(indexes, i, 1), view) != 0)
			continue;
		CHECK_FOR_INTERRUPTS();

		/* "_materialized_hypertable_2_bucket_idx" becomes "..._5_bucket_idx" */
		srcname = tsm_rows_name(indexes, i, 2);
		prefix = tsm_rows_name(indexes, i, 5);
		if (strncmp(srcname, prefix, strlen(prefix)) == 0)
			idxname = psprintf("%s%s", mat->table, srcname + strlen(prefix));
		else
			idxname = pstrdup(srcname);
		if (strlen(idxname) >= NAMEDATALEN)
			idxname[NAMEDATALEN - 1] = '\0';
		if (OidIsValid(get_relname_relid(idxname, get_namespace_oid(mat->schema, false))))
			continue;
		if (!may_create_indexes())
		{
			ereport(WARNING,
					errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					errmsg("index %s of continuous aggregate %s was not created",
						   quote_identifier(idxname), quote_qualified_identifier(schema, view)),
					errdetail("Indexes of continuous aggregates live in schema _timescaledb_internal, where the current user may not create objects."),
					errhint("TimescaleDB's default indexes are there; create this one as the owner of the timescaledb extension."));
			continue;
		}

		tsm_replay_index_on(tsm_rows_get(indexes, i, 3), tsm_rows_name(indexes, i, 4),
							prefix, mat->schema, mat->table, idxname);
		n++;
	}
	return n;
}

/* may the current user create indexes in TimescaleDB's internal schema? */
static bool
may_create_indexes(void)
{
	return tsm_local_has_row("SELECT 1 WHERE pg_catalog.has_schema_privilege($1, 'CREATE')",
							 "_timescaledb_internal", NULL);
}

/*
 * May the current user write the catalog tables of the refresh state?
 */
static bool
may_write_state(void)
{
	int			i;

	for (i = 0; i < lengthof(state_tables); i++)
		if (!tsm_local_has_row("SELECT 1 WHERE pg_catalog.has_table_privilege($1, $2)",
							   state_tables[i], "INSERT, DELETE"))
			return false;
	return true;
}

/*
 * Replace the rows of one id in a state table: a watermark (a single row,
 * none when NULL), or invalidation ranges (a JSON array of [lowest,
 * greatest]).
 */
static void
write_state(const char *table, const char *idcol, int32 id,
			const char *watermark, const char *ranges)
{
	Datum		values[2];
	Oid			types[2] = {INT4OID, INT8OID};

	values[0] = Int32GetDatum(id);
	spi_run(psprintf("DELETE FROM %s WHERE %s OPERATOR(pg_catalog.=) $1", table, idcol),
			1, types, values, NULL);
	if (ranges != NULL)
	{
		types[1] = JSONBOID;
		values[1] = DirectFunctionCall1(jsonb_in, CStringGetDatum(ranges));
		spi_run(psprintf("INSERT INTO %s (%s, lowest_modified_value, greatest_modified_value)"
						 " SELECT $1, (r OPERATOR(pg_catalog.->>) 0)::pg_catalog.int8,"
						 "        (r OPERATOR(pg_catalog.->>) 1)::pg_catalog.int8"
						 "   FROM pg_catalog.jsonb_array_elements($2) r", table, idcol),
				2, types, values, NULL);
	}
	else if (watermark != NULL)
	{
		values[1] = Int64GetDatum(pg_strtoint64(watermark));
		spi_run(psprintf("INSERT INTO %s (%s, watermark) VALUES ($1, $2)", table, idcol),
				2, types, values, NULL);
	}
}

/* the materialization hypertable here of the aggregate "schema"."view" */
static TargetMat
target_mat(const char *schema, const char *view)
{
	TargetMat	mat = {0, InvalidOid, NULL, NULL};
	Datum		values[2];
	Oid			types[2] = {NAMEOID, NAMEOID};

	values[0] = DirectFunctionCall1(namein, CStringGetDatum(schema));
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(view));
	spi_run(target_mat_sql, 2, types, values, NULL);
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		mat.id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		mat.relid = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
		mat.schema = SPI_getvalue(tup, desc, 3);
		mat.table = SPI_getvalue(tup, desc, 4);
	}
	return mat;
}

/* the id here of the hypertable "schema"."table", 0 if none */
static int32
target_hypertable_id(const char *schema, const char *table)
{
	char	   *id = tsm_local_query_value("SELECT h.id FROM _timescaledb_catalog.hypertable h"
										   " WHERE h.schema_name OPERATOR(pg_catalog.=) $1"
										   "   AND h.table_name OPERATOR(pg_catalog.=) $2",
										   schema, table);

	return id ? pg_strtoint32(id) : 0;
}

static void
spi_run(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
}
