/*-------------------------------------------------------------------------
 *
 * apply_notes.c
 *	  What the stream notes for cutover in tsmigrate.run_stream_relation,
 *	  in the transaction of the changes: the relations it wrote, the chunks
 *	  to be copied again, and what its changes did to each relation's rows
 *	  on both sides (verify at cutover, verify/verify_baseline.c)
 *
 * IDENTIFICATION
 *	  src/stream/apply_notes.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "tsmigrate.h"
#include "stream/stream.h"
#include "stream/apply_int.h"

static void note_relation(TsmApply *apply, const char *relation, bool recopy);

/*
 * Note a relation for cutover, in the transaction of the change: written
 * (a chunk's continuous aggregates are refreshed over its range), and
 * perhaps to be copied again whole ("recopy").
 */
static void
note_relation(TsmApply *apply, const char *relation, bool recopy)
{
	Oid			argtypes[3] = {INT8OID, TEXTOID, BOOLOID};
	Datum		args[3];

	args[0] = Int64GetDatum(apply->run_id);
	args[1] = CStringGetTextDatum(relation);
	args[2] = BoolGetDatum(recopy);
	SPI_connect();
	if (SPI_execute_with_args("INSERT INTO tsmigrate.run_stream_relation AS n"
							  " (run_id, relation, written, recopy) VALUES ($1, $2, true, $3)"
							  " ON CONFLICT (run_id, relation) DO UPDATE"
							  " SET written = true, recopy = n.recopy OR excluded.recopy",
							  3, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_with_args failed");
	SPI_finish();
}

/*
 * tsm_apply_note_recopy
 *		A chunk to be copied again whole at cutover.
 */
void
tsm_apply_note_recopy(TsmApply *apply, const char *chunk)
{
	note_relation(apply, chunk, true);
}

/*
 * tsm_apply_note_written
 *		A change applied to "rel": noted once per worker (a worker that
 *		fails exits, and the next one notes again).
 */
void
tsm_apply_note_written(TsmApply *apply, StreamRel *rel)
{
	if (rel->written)
		return;
	note_relation(apply, rel->qualname, false);
	rel->written = true;
}

/*
 * What a change applied to "rel" did: "source_delta" rows on the source,
 * and "processed" rows here, kept until the batch commits
 * (tsm_apply_flush).  A change that did not touch exactly one row here (a
 * row not found), or a TRUNCATE ("processed" 0, "source_delta" 0), leaves
 * the relation to be counted again at cutover.
 */
void
tsm_apply_count_change(TsmApply *apply, StreamRel *rel, int source_delta,
					   uint64 processed)
{
	rel->source_delta += source_delta;
	if (source_delta > 0)
		rel->target_delta += (int64) processed;
	else if (source_delta < 0)
		rel->target_delta -= (int64) processed;
	if (processed != 1)
		rel->recount = true;
	if (!rel->dirty)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(apply->cxt);

		apply->dirty = lappend(apply->dirty, rel);
		MemoryContextSwitchTo(oldcxt);
		rel->dirty = true;
	}
}

/*
 * tsm_apply_flush
 *		Add what the batch's changes did to each relation's rows, on both
 *		sides, to tsmigrate.run_stream_relation, in the batch's transaction:
 *		verify at cutover takes the rows counted before the stream began
 *		plus these, instead of counting the relation again
 *		(verify/verify_baseline.c).
 */
void
tsm_apply_flush(TsmApply *apply)
{
	int			n = list_length(apply->dirty);
	Datum	   *names;
	Datum	   *sources;
	Datum	   *targets;
	Datum	   *recounts;
	Oid			types[5] = {INT8OID, TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID, BOOLARRAYOID};
	Datum		values[5];
	ListCell   *lc;
	int			i = 0;

	if (n == 0)
		return;
	names = palloc(sizeof(Datum) * n);
	sources = palloc(sizeof(Datum) * n);
	targets = palloc(sizeof(Datum) * n);
	recounts = palloc(sizeof(Datum) * n);
	foreach(lc, apply->dirty)
	{
		StreamRel  *rel = lfirst(lc);

		names[i] = CStringGetTextDatum(rel->qualname);
		sources[i] = Int64GetDatum(rel->source_delta);
		targets[i] = Int64GetDatum(rel->target_delta);
		recounts[i] = BoolGetDatum(rel->recount);
		rel->source_delta = rel->target_delta = 0;
		rel->recount = rel->dirty = false;
		i++;
	}
	list_free(apply->dirty);
	apply->dirty = NIL;

	values[0] = Int64GetDatum(apply->run_id);
	values[1] = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[2] = PointerGetDatum(construct_array(sources, n, INT8OID, 8, FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[3] = PointerGetDatum(construct_array(targets, n, INT8OID, 8, FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[4] = PointerGetDatum(construct_array(recounts, n, BOOLOID, 1, true, TYPALIGN_CHAR));
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	if (SPI_execute_with_args("UPDATE tsmigrate.run_stream_relation s"
							  "   SET source_delta = s.source_delta OPERATOR(pg_catalog.+) u.sd,"
							  "       target_delta = s.target_delta OPERATOR(pg_catalog.+) u.td,"
							  "       recount = s.recount OR u.rc"
							  "  FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3),"
							  "                  pg_catalog.unnest($4), pg_catalog.unnest($5))"
							  "       AS u (relation, sd, td, rc)"
							  " WHERE s.run_id OPERATOR(pg_catalog.=) $1"
							  "   AND s.relation OPERATOR(pg_catalog.=) u.relation",
							  5, types, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "SPI_execute_with_args failed");
	SPI_finish();
	PopActiveSnapshot();
}
