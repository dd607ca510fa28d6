/*-------------------------------------------------------------------------
 *
 * verify_timescale.c
 *	  tsmigrate.verify's TimescaleDB checks
 *
 * When the source has TimescaleDB, on top of verify.c's checks:
 *	- "rows" (and "checksum") of each continuous aggregate, read through its
 *	  view, so by content: what a query of it returns on each side;
 *	- "chunks" of each hypertable and continuous aggregate: how many, how
 *	  many compressed, and a digest of their names and slices (in internal
 *	  units, as both sides run the same TimescaleDB version);
 *	- "jobs" on each relation (and those on none): procedure, schedule,
 *	  scheduled or paused, next start and config, ids left out as they
 *	  differ between sides.  TimescaleDB's own jobs (ids below 1000) are
 *	  left out.
 *
 * The same queries run on both sides; rows are matched by object name.
 *
 * IDENTIFICATION
 *	  src/verify/verify_timescale.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"
#include "miscadmin.h"

#include "remote/remote.h"
#include "verify.h"

/* a hypertable's name for these checks: its continuous aggregate's, if any */
#define HT_NAME(h, ca) \
	"CASE WHEN " ca ".mat_hypertable_id IS NOT NULL" \
	" THEN pg_catalog.quote_ident(" ca ".user_view_schema) || '.' || pg_catalog.quote_ident(" ca ".user_view_name)" \
	" ELSE pg_catalog.quote_ident(" h ".schema_name) || '.' || pg_catalog.quote_ident(" h ".table_name) END"

/*
 * The source's continuous aggregates and their columns, as raw names:
 * each is found here by those names (tsm_verify_relation), and what goes
 * into SQL is quoted here.
 */
static const char *const caggs_sql =
"SELECT ca.user_view_schema, ca.user_view_name,"
"       (SELECT pg_catalog.array_agg(a.attname::pg_catalog.text ORDER BY a.attnum)"
"          FROM pg_catalog.pg_attribute a"
"         WHERE a.attrelid = pg_catalog.format('%I.%I', ca.user_view_schema, ca.user_view_name)::pg_catalog.regclass"
"           AND a.attnum > 0 AND NOT a.attisdropped)"
"  FROM _timescaledb_catalog.continuous_agg ca"
" ORDER BY pg_catalog.quote_ident(ca.user_view_schema) || '.' || pg_catalog.quote_ident(ca.user_view_name)";

static const char *const chunks_sql =
"SELECT " HT_NAME("h", "ca") ","
"       pg_catalog.count(ch.id) || ' chunks, ' ||"
"       pg_catalog.count(ch.id) FILTER (WHERE ch.compressed) || ' compressed, slices ' ||"
"       pg_catalog.left(pg_catalog.md5(COALESCE(pg_catalog.string_agg(ch.name || ' ' || ch.slices"
"           || CASE WHEN ch.compressed THEN ' compressed' ELSE '' END, ', ' ORDER BY ch.name), '')), 12)"
"  FROM _timescaledb_catalog.hypertable h"
"  LEFT JOIN _timescaledb_catalog.continuous_agg ca ON ca.mat_hypertable_id = h.id"
"  LEFT JOIN LATERAL ("
"       SELECT c.id, pg_catalog.quote_ident(c.schema_name) || '.' || pg_catalog.quote_ident(c.table_name) AS name,"
"              c.compressed_chunk_id IS NOT NULL OR (c.status & 1) <> 0 AS compressed,"
"              (SELECT pg_catalog.string_agg(d.column_name || ' [' || s.range_start || ', ' || s.range_end || ')',"
"                                            ', ' ORDER BY d.column_name)"
"                 FROM _timescaledb_catalog.chunk_constraint cc"
"                 JOIN _timescaledb_catalog.dimension_slice s ON s.id = cc.dimension_slice_id"
"                 JOIN _timescaledb_catalog.dimension d ON d.id = s.dimension_id"
"                WHERE cc.chunk_id = c.id) AS slices"
"         FROM _timescaledb_catalog.chunk c"
"        WHERE c.hypertable_id = h.id AND NOT c.osm_chunk"
"          AND NOT COALESCE((pg_catalog.to_jsonb(c) ->> 'dropped')::pg_catalog.bool, false)) ch ON true"
" WHERE h.compression_state <> 2"
" GROUP BY 1 ORDER BY 1";

static const char *const jobs_sql =
"SELECT COALESCE(" HT_NAME("h", "ca") ", '(no relation)'),"
"       pg_catalog.string_agg(pg_catalog.format('%I.%I every %s, %s, next start %s, config %s',"
"           j.proc_schema, j.proc_name, j.schedule_interval,"
"           CASE WHEN j.scheduled THEN 'scheduled' ELSE 'paused' END, ij.next_start,"
"           j.config - 'hypertable_id' - 'mat_hypertable_id'), '; ' ORDER BY j.proc_name, ij.next_start)"
"  FROM _timescaledb_catalog.bgw_job j"
"  JOIN timescaledb_information.jobs ij ON ij.job_id = j.id"
"  LEFT JOIN _timescaledb_catalog.hypertable h ON h.id = j.hypertable_id"
"  LEFT JOIN _timescaledb_catalog.continuous_agg ca ON ca.mat_hypertable_id = j.hypertable_id"
" WHERE j.id >= 1000"
" GROUP BY 1 ORDER BY 1";

static void compare_named(VerifyState *state, const char *kind, const char *sql);

/*
 * The TimescaleDB checks, when the source has TimescaleDB (a target
 * without it is reported by the inventory's extension rows).
 */
void
tsm_verify_timescaledb(VerifyState *state)
{
	static const char *const has_sql =
		"SELECT pg_catalog.count(*) FROM pg_catalog.pg_extension WHERE extname = 'timescaledb'";
	TsmRows    *src;
	TsmRows    *tgt;
	TsmRows    *caggs;
	MemoryContext cxt;
	MemoryContext oldcxt;
	int			c;

	tsm_verify_send(state->conn, has_sql);
	tgt = tsm_verify_target(has_sql);
	src = tsm_verify_finish(state->conn, has_sql, 1, "the source's TimescaleDB");
	if (tsm_rows_int64(src, 0, 0) == 0 ||
		strcmp(tsm_rows_value(tgt, 0, 0), "0") == 0)
		return;

	/* continuous aggregates by content */
	caggs = tsm_query(state->conn, caggs_sql, 0, NULL, 3,
					  "the source's continuous aggregates");
	cxt = AllocSetContextCreate(CurrentMemoryContext, "tsmigrate verify aggregate",
								ALLOCSET_DEFAULT_SIZES);
	for (c = 0; c < caggs->nrows; c++)
	{
		const char *cagg;
		char	   *sql;
		bool		populated;

		CHECK_FOR_INTERRUPTS();
		oldcxt = MemoryContextSwitchTo(cxt);
		/* one the target lacks is reported by the inventory */
		if (!OidIsValid(tsm_verify_relation(caggs, c, &cagg, &populated)))
		{
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(cxt);
			continue;
		}
		if (state->checksums)
			sql = psprintf("SELECT pg_catalog.count(*),"
						   " COALESCE(pg_catalog.sum(('x' || pg_catalog.substr(pg_catalog.md5(ROW(%s)::text), 1, 16))::bit(64)::bigint::numeric), 0)"
						   " FROM %s t",
						   tsm_verify_columns(caggs, c, 2), cagg);
		else
			sql = psprintf("SELECT pg_catalog.count(*) FROM %s", cagg);
		tsm_verify_send(state->conn, sql);
		tgt = tsm_verify_target(sql);
		src = tsm_verify_finish(state->conn, sql, state->checksums ? 2 : 1,
								psprintf("the rows of %s", cagg));
		MemoryContextSwitchTo(oldcxt);
		tsm_verify_put(state, "rows", cagg, tsm_rows_get(src, 0, 0),
					   tsm_rows_value(tgt, 0, 0));
		if (state->checksums)
			tsm_verify_put(state, "checksum", cagg, tsm_rows_get(src, 0, 1),
						   tsm_rows_value(tgt, 0, 1));
		MemoryContextReset(cxt);
	}
	MemoryContextDelete(cxt);

	compare_named(state, "chunks", chunks_sql);
	compare_named(state, "jobs", jobs_sql);
}

/*
 * Run "sql" (object name, value; ordered by name) on both sides and put one
 * check per name found on either side.
 */
static void
compare_named(VerifyState *state, const char *kind, const char *sql)
{
	TsmRows    *src;
	TsmRows    *tgt;
	int			i = 0;
	int			j = 0;

	tsm_verify_send(state->conn, sql);
	tgt = tsm_verify_target(sql);
	src = tsm_verify_finish(state->conn, sql, 2, psprintf("the source's %s", kind));

	/* a source row has a name; a target row's may vanish meanwhile */
	for (i = 0; i < src->nrows; i++)
		(void) tsm_rows_get(src, i, 0);
	for (j = 0; j < tgt->nrows; j++)
		if (tgt->values[j * tgt->ncols] == NULL)
			tgt->values[j * tgt->ncols] = "";
	i = j = 0;

	/* both sorted by name, compared as text the same way on both sides */
	while (i < src->nrows || j < tgt->nrows)
	{
		int			cmp;

		if (i >= src->nrows)
			cmp = 1;
		else if (j >= tgt->nrows)
			cmp = -1;
		else
			cmp = strcmp(tsm_rows_value(src, i, 0), tsm_rows_value(tgt, j, 0));
		if (cmp == 0)
		{
			tsm_verify_put(state, kind, tsm_rows_value(src, i, 0),
						   tsm_rows_value(src, i, 1), tsm_rows_value(tgt, j, 1));
			i++;
			j++;
		}
		else if (cmp < 0)
		{
			tsm_verify_put(state, kind, tsm_rows_value(src, i, 0),
						   tsm_rows_value(src, i, 1), NULL);
			i++;
		}
		else
		{
			tsm_verify_put(state, kind, tsm_rows_value(tgt, j, 0),
						   NULL, tsm_rows_value(tgt, j, 1));
			j++;
		}
	}
}
