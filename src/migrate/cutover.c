/*-------------------------------------------------------------------------
 *
 * cutover.c
 *	  The cutover step of an online run (tsmigrate.cutover): the source's
 *	  writers gone, every change applied, the stream ended, and what
 *	  logical replication does not carry set here: sequences, chunks that
 *	  TimescaleDB changed underneath, continuous aggregates
 *
 * IDENTIFICATION
 *	  src/migrate/cutover.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "replication/origin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "copy/copy.h"
#include "migrate/online.h"
#include "remote/remote.h"
#include "stream/stream.h"
#include "target/target.h"
#include "timescale/timescale.h"

static void set_sequences(int64 run_id, PGconn *conn, TsmSource *src);
static int	copy_changed_chunks(int64 run_id, TsmSource *src);
static int	refresh_caggs(int64 run_id, PGconn *conn);

/*
 * tsm_online_cutover_begin
 *		The cutover step's first part: with the source's writers gone (a
 *		session that wrote in its open transaction stops it, unless "force"),
 *		write a logical message on the source, which comes to the worker
 *		after everything the source committed before it.  Returns the
 *		message to wait for (tsm_online_cutover_applied), or NULL when the
 *		worker had stopped already (a cutover that failed after it stopped:
 *		the stream gave all it had).  Commits nothing: the migrate step
 *		guards it.
 */
char *
tsm_online_cutover_begin(int64 run_id, TsmSource *src, bool force)
{
	PGconn	   *conn = tsm_conn_open(src);
	TsmRows    *r;
	TsmRows    *row;
	StringInfoData writers;
	StringInfoData others;
	int			nwriters = 0;
	int			nothers = 0;
	char	   *token;
	const char *params[1];
	int			i;

	row = tsm_online_stream_row(run_id);
	if (row == NULL)
		elog(ERROR, "online run " INT64_FORMAT " has no stream", run_id);

	r = tsm_query(conn,
				  "SELECT a.pid, a.usename, a.application_name, a.backend_xid IS NOT NULL"
				  "  FROM pg_catalog.pg_stat_activity a"
				  " WHERE a.datname = pg_catalog.current_database()"
				  "   AND a.pid <> pg_catalog.pg_backend_pid()"
				  "   AND a.backend_type = 'client backend'"
				  " ORDER BY a.pid",
				  0, NULL, 4, "the source's sessions");
	initStringInfo(&writers);
	initStringInfo(&others);
	for (i = 0; i < r->nrows; i++)
	{
		bool		writing = tsm_rows_bool(r, i, 3);
		StringInfo	list = writing ? &writers : &others;
		int		   *n = writing ? &nwriters : &nothers;

		/*
		 * tsmigrate's own sessions only read; any session that wrote is
		 * named, whatever application_name it gives
		 */
		if (!writing && tsm_rows_value(r, i, 2) &&
			strcmp(tsm_rows_value(r, i, 2), "tsmigrate") == 0)
			continue;

		if ((*n)++ < 10)
			appendStringInfo(list, "%spid %s (%s, %s)", list->len ? ", " : "",
							 tsm_rows_get(r, i, 0),
							 tsm_rows_value(r, i, 1) ? tsm_rows_value(r, i, 1) : "?",
							 tsm_rows_value(r, i, 2) ? tsm_rows_value(r, i, 2) : "?");
	}
	if (nwriters > 0 && !force)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_IN_USE),
				errmsg_plural("%d session on the source is writing",
							  "%d sessions on the source are writing",
							  nwriters, nwriters),
				errdetail("Their open transactions have written: %s.", writers.data),
				errhint("Stop the applications, then call cutover again; or call it with force => true to leave their transactions behind."));
	if (nothers + nwriters > 0)
		ereport(WARNING,
				errmsg_plural("%d other session is connected to the source database",
							  "%d other sessions are connected to the source database",
							  nothers + nwriters, nothers + nwriters),
				errdetail("%s%s%s", writers.data, writers.len && others.len ? ", " : "", others.data),
				errhint("What they commit from now on is not migrated."));

	/* the worker stopped in an earlier cutover: nothing more comes */
	if (strcmp(tsm_rows_get(row, 0, 0), "stopped") == 0)
	{
		tsm_conn_close(conn);
		return NULL;
	}

	/*
	 * DROP EVENT TRIGGER and ALTER EVENT TRIGGER fire no event trigger: the
	 * run's, gone or disabled, saw no DDL since.
	 */
	params[0] = tsm_stream_object_name(run_id);
	r = tsm_query(conn,
				  "SELECT 1 FROM pg_catalog.pg_event_trigger e"
				  " WHERE e.evtname = $1 AND e.evtenabled = 'A'",
				  1, params, 1, "the run's DDL event trigger");
	if (r->nrows == 0)
		ereport(WARNING,
				errmsg("the DDL event trigger \"%s\" of run " INT64_FORMAT " was dropped or disabled on the source",
					   params[0], run_id),
				errdetail("DDL on the source since then was not detected."),
				errhint("Look at what verify reports, and at the source's DDL since the migration started."));

	token = psprintf(INT64_FORMAT "-" INT64_FORMAT, run_id, GetCurrentTimestamp());
	params[0] = token;
	PQclear(tsm_conn_exec(conn,
						  "SELECT pg_catalog.pg_logical_emit_message(false, 'tsmigrate', $1)",
						  1, params, PGRES_TUPLES_OK));
	tsm_conn_close(conn);
	return token;
}

/*
 * tsm_online_cutover_applied
 *		Has the worker applied everything up to the message "token"?  An
 *		error if its stream failed or stopped; *worker_gone when no worker
 *		runs (the target restarted: the caller starts it again).  Read with
 *		a new snapshot each time: the caller commits between two looks.
 */
bool
tsm_online_cutover_applied(int64 run_id, const char *token, bool *worker_gone)
{
	TsmRows    *row = tsm_online_stream_row(run_id);

	*worker_gone = false;
	if (row == NULL)
		elog(ERROR, "online run " INT64_FORMAT " has no stream", run_id);
	if (tsm_rows_value(row, 0, 3) && strcmp(tsm_rows_value(row, 0, 3), token) == 0)
		return true;
	if (strcmp(tsm_rows_get(row, 0, 0), "streaming") != 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("the stream of run " INT64_FORMAT " is %s", run_id,
					   tsm_rows_get(row, 0, 0)),
				tsm_rows_value(row, 0, 2) ? errdetail("%s", tsm_rows_value(row, 0, 2)) : 0,
				errhint("Call tsmigrate.abandon(), remove the cause, and migrate again."));
	*worker_gone = !tsm_online_worker_alive(tsm_rows_value(row, 0, 1), run_id);
	return false;
}

/*
 * tsm_online_cutover_finish
 *		The rest of the cutover step, once every change is applied and the
 *		worker stopped: set the sequences, drop the DDL event trigger, the
 *		slot and the publication, copy
 *		again the chunks TimescaleDB changed underneath, refresh the
 *		continuous aggregates the stream wrote under.  Commits nothing: the
 *		migrate step guards it.
 */
char *
tsm_online_cutover_finish(int64 run_id, TsmSource *src)
{
	PGconn	   *conn = tsm_conn_open(src);
	int			chunks;
	int			caggs;

	set_sequences(run_id, conn, src);
	tsm_replication_drop(conn, tsm_stream_object_name(run_id));
	caggs = refresh_caggs(run_id, conn);
	tsm_conn_close(conn);
	replorigin_drop_by_name(tsm_stream_object_name(run_id), true, true);
	chunks = copy_changed_chunks(run_id, src);

	/* the refreshed aggregates' state, as the source has it now */
	if (caggs > 0)
	{
		conn = tsm_conn_open(src);
		tsm_conn_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
		tsm_caggs_finish(conn, NULL);
		tsm_conn_command(conn, "COMMIT");
		tsm_conn_close(conn);
	}
	tsm_online_run_update("UPDATE tsmigrate.run_stream SET state = 'done', worker_pid = NULL"
						  " WHERE run_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8", run_id);
	return psprintf("every change applied, %d chunks copied again, %d continuous aggregates refreshed",
					chunks, caggs);
}

/*
 * The sequences the run copied, set again as the source has them now
 * (logical replication does not carry sequences).
 */
static void
set_sequences(int64 run_id, PGconn *conn, TsmSource *src)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	uint64		i;
	List	   *names = NIL;
	ListCell   *lc;
	MemoryContext outer = CurrentMemoryContext;

	values[0] = Int64GetDatum(run_id);
	SPI_connect();
	if (SPI_execute_with_args("SELECT relation FROM tsmigrate.run_relation"
							  " WHERE run_id OPERATOR(pg_catalog.=) $1",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		if (name != NULL)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(outer);

			names = lappend(names, pstrdup(name));
			MemoryContextSwitchTo(oldcxt);
		}
	}
	SPI_finish();

	foreach(lc, names)
	{
		const char *name = lfirst(lc);
		Oid			relid;

		CHECK_FOR_INTERRUPTS();
		if (strcmp(name, "large objects") == 0)
			continue;
		relid = RangeVarGetRelid(makeRangeVarFromNameList(textToQualifiedNameList(cstring_to_text(name))),
								 NoLock, true);

		/*
		 * the sequence as found here, named from its OID, and one this run
		 * created: the recorded name is only looked up, never sent
		 */
		if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_SEQUENCE ||
			!tsm_target_created(src->label, RelationRelationId, relid))
			continue;
		tsm_copy_sequence(conn,
						  quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
													 get_rel_name(relid)),
						  relid);
	}
}

/* a chunk's name and whether it is compressed, on each side */
#define CHUNK_KEY_SIZE (2 * NAMEDATALEN + 8)
typedef struct ChunkState
{
	char		name[CHUNK_KEY_SIZE];	/* quoted, qualified */
	bool		on_source;
	bool		source_compressed;
	bool		on_target;
	bool		target_compressed;
	bool		noted;			/* by the worker */
} ChunkState;

/* chunks of user hypertables, not compressed chunks: the same on both sides */
static const char *const chunk_states_sql =
"SELECT pg_catalog.format('%I.%I', ch.schema_name, ch.table_name),"
"       ch.compressed_chunk_id IS NOT NULL"
"  FROM _timescaledb_catalog.chunk ch"
" WHERE NOT EXISTS (SELECT FROM _timescaledb_catalog.hypertable p"
"                    WHERE p.compressed_hypertable_id OPERATOR(pg_catalog.=) ch.hypertable_id)";

static ChunkState *
chunk_state(HTAB *chunks, const char *name)
{
	ChunkState *cs;
	bool		found;

	if (name == NULL || strlen(name) >= CHUNK_KEY_SIZE)
		return NULL;
	cs = hash_search(chunks, name, HASH_ENTER, &found);
	if (!found)
		memset(((char *) cs) + CHUNK_KEY_SIZE, 0, sizeof(ChunkState) - CHUNK_KEY_SIZE);
	return cs;
}

/*
 * The chunks TimescaleDB changed underneath on the source during the
 * online phase, copied again whole, now that the source is quiet: those
 * the worker noted (rows moved by a decompression), those compressed on
 * one side only (compressed or decompressed there), those the source no
 * longer has (dropped by retention) and those it made that are not here.
 * Each is dropped here (if this run made its hypertable), made again with
 * the source's slices if the source has it, and filled as pull_chunks
 * fills it, compressed as on the source.  Returns how many.
 */
static int
copy_changed_chunks(int64 run_id, TsmSource *src)
{
	HTAB	   *chunks;
	HASHCTL		ctl;
	HASH_SEQ_STATUS seq;
	ChunkState *cs;
	PGconn	   *conn;
	TsmRows    *r;
	List	   *wanted = NIL;
	List	   *handled = NIL;
	int			n = 0;
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	uint64		i;

	if (!OidIsValid(get_namespace_oid("_timescaledb_catalog", true)))
		return 0;
	conn = tsm_conn_open(src);
	if (!tsm_source_has_timescaledb(conn))
	{
		tsm_conn_close(conn);
		return 0;
	}
	ctl.keysize = CHUNK_KEY_SIZE;
	ctl.entrysize = sizeof(ChunkState);
	ctl.hcxt = CurrentMemoryContext;
	chunks = hash_create("tsmigrate cutover chunks", 1024, &ctl,
						 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	r = tsm_query(conn, chunk_states_sql, 0, NULL, 2, "the source's chunks");
	tsm_conn_close(conn);
	for (i = 0; i < r->nrows; i++)
		if ((cs = chunk_state(chunks, tsm_rows_get(r, i, 0))) != NULL)
		{
			cs->on_source = true;
			cs->source_compressed = tsm_rows_bool(r, i, 1);
		}

	/* read with a new snapshot: what this call noted and dropped so far */
	values[0] = Int64GetDatum(run_id);
	SPI_connect();
	if (SPI_execute(chunk_states_sql, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed");
	for (i = 0; i < SPI_processed; i++)
		if ((cs = chunk_state(chunks, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1))) != NULL)
		{
			cs->on_target = true;
			cs->target_compressed =
				strcmp(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2), "t") == 0;
		}
	if (SPI_execute_with_args("SELECT relation FROM tsmigrate.run_stream_relation"
							  " WHERE run_id OPERATOR(pg_catalog.=) $1 AND recopy",
							  1, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	for (i = 0; i < SPI_processed; i++)
		if ((cs = chunk_state(chunks, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1))) != NULL)
			cs->noted = true;
	SPI_finish();

	/* dropped here, each the chunk of a hypertable this run made */
	hash_seq_init(&seq, chunks);
	while ((cs = hash_seq_search(&seq)) != NULL)
	{
		Oid			relid;
		char	   *parent;

		CHECK_FOR_INTERRUPTS();
		if (!cs->noted && cs->on_source == cs->on_target &&
			cs->source_compressed == cs->target_compressed)
			continue;
		if (cs->on_source)
			wanted = lappend(wanted, cs->name);
		handled = lappend(handled, cs->name);
		n++;
		if (!cs->on_target)
			continue;
		relid = RangeVarGetRelid(makeRangeVarFromNameList(textToQualifiedNameList(cstring_to_text(cs->name))),
								 NoLock, true);
		/* its hypertable; a materialization's: its aggregate's hypertable */
		parent = OidIsValid(relid) ?
			tsm_local_query_value("SELECT pg_catalog.format('%I.%I', COALESCE(rh.schema_name, h.schema_name),"
								  "                         COALESCE(rh.table_name, h.table_name))"
								  "  FROM _timescaledb_catalog.chunk c"
								  "  JOIN _timescaledb_catalog.hypertable h"
								  "    ON h.id OPERATOR(pg_catalog.=) c.hypertable_id"
								  "  LEFT JOIN _timescaledb_catalog.continuous_agg ca"
								  "    ON ca.mat_hypertable_id OPERATOR(pg_catalog.=) h.id"
								  "  LEFT JOIN _timescaledb_catalog.hypertable rh"
								  "    ON rh.id OPERATOR(pg_catalog.=) ca.raw_hypertable_id"
								  " WHERE pg_catalog.format('%I.%I', c.schema_name, c.table_name)"
								  "       OPERATOR(pg_catalog.=) $1",
								  cs->name, NULL) : NULL;
		if (parent == NULL ||
			!tsm_target_created(src->label, RelationRelationId,
								RangeVarGetRelid(makeRangeVarFromNameList(textToQualifiedNameList(cstring_to_text(parent))),
												 NoLock, true)))
			continue;
		SPI_connect();
		if (SPI_execute(psprintf("DROP TABLE %s",
								 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
															get_rel_name(relid))),
						false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "SPI_execute failed");
		SPI_finish();
	}
	if (n == 0)
		return 0;

	/* verify counts their rows again: none is as the stream followed it */
	{
		Oid			argtypes[2] = {INT8OID, TEXTARRAYOID};
		Datum		args[2];
		Datum	   *items = palloc(sizeof(Datum) * list_length(handled));
		ListCell   *lc;
		int			k = 0;

		foreach(lc, handled)
			items[k++] = CStringGetTextDatum((char *) lfirst(lc));
		args[0] = Int64GetDatum(run_id);
		args[1] = PointerGetDatum(construct_array(items, k, TEXTOID, -1, false, TYPALIGN_INT));
		SPI_connect();
		if (SPI_execute_with_args("INSERT INTO tsmigrate.run_stream_relation (run_id, relation, recopy)"
								  " SELECT $1, u.relation, true FROM pg_catalog.unnest($2) AS u (relation)"
								  " ON CONFLICT (run_id, relation) DO UPDATE SET recopy = true",
								  2, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "SPI_execute_with_args failed");
		SPI_finish();
	}

	/*
	 * Made again as the source has them: what reads the target's catalog from
	 * here on must see the drops.
	 */
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (wanted != NIL)
	{
		TsmHypertablesPull *pull = tsm_hypertables_begin(src, true);
		Datum	   *items = palloc(sizeof(Datum) * list_length(wanted));
		ListCell   *lc;
		char	   *snapshot = NULL;
		TsmCopyPlan *plan;
		int			k = 0;

		if (pull != NULL)
		{
			TsmHypertablesDone done;

			tsm_hypertables_chunks(pull, 0, tsm_hypertables_chunk_count(pull));
			tsm_hypertables_end(pull, &done);
		}
		CommandCounterIncrement();

		/* and filled, as pull_chunks fills them */
		foreach(lc, wanted)
			items[k++] = CStringGetTextDatum((char *) lfirst(lc));
		conn = tsm_copy_open_source(src, 1, NULL, &snapshot);
		plan = tsm_chunks_prepare(conn, construct_array(items, k, TEXTOID, -1, false,
														TYPALIGN_INT));
		tsm_copy_run_tasks(conn, src, snapshot, plan->tasks, plan->ntasks, 1, 0);
		tsm_conn_command(conn, "COMMIT");
		tsm_conn_close(conn);
		tsm_chunks_attach(plan, 0);

		/* compressed as on the source */
		CommandCounterIncrement();
		conn = tsm_conn_open(src);
		(void) tsm_compress_chunks(conn, NULL);
		tsm_conn_close(conn);
	}
	PopActiveSnapshot();
	return n;
}

/*
 * The continuous aggregates of the chunks the stream wrote into: the
 * stream wrote with session_replication_role = replica, in which
 * TimescaleDB's invalidation triggers do not fire, and left out what the
 * source's own refreshes wrote.  So, with the source quiet, each is
 * refreshed on the source over those chunks' time range (a CALL of its
 * own there: a refresh commits), and its materialization's chunks are
 * noted, to be copied again here with the rest, and its refresh state
 * after them (tsm_online_cutover_finish).  Returns how many.
 */
static int
refresh_caggs(int64 run_id, PGconn *conn)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	List	   *calls = NIL;
	List	   *views = NIL;
	MemoryContext outer = CurrentMemoryContext;
	TsmRows    *r;
	const char *params[1];
	StringInfoData list;
	char	   *tsschema;
	ListCell   *lc;
	uint64		i;

	if (!OidIsValid(get_namespace_oid("_timescaledb_catalog", true)))
		return 0;
	r = tsm_query(conn,
				  "SELECT n.nspname FROM pg_catalog.pg_extension e"
				  "  JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
				  " WHERE e.extname = 'timescaledb'",
				  0, NULL, 1, "the source's TimescaleDB");
	if (r->nrows == 0)
		return 0;
	tsschema = pstrdup(tsm_rows_name(r, 0, 0));

	/* each aggregate, over the time range of the chunks written */
	values[0] = Int64GetDatum(run_id);
	SPI_connect();
	if (SPI_execute_with_args("SELECT pg_catalog.format('%I.%I', ca.user_view_schema, ca.user_view_name),"
							  "       d.column_type::pg_catalog.regtype::pg_catalog.text,"
							  "       pg_catalog.min(ds.range_start), pg_catalog.max(ds.range_end)"
							  "  FROM tsmigrate.run_stream_relation r"
							  "  JOIN _timescaledb_catalog.chunk c"
							  "    ON pg_catalog.format('%I.%I', c.schema_name, c.table_name) OPERATOR(pg_catalog.=) r.relation"
							  "  JOIN _timescaledb_catalog.chunk_constraint cc ON cc.chunk_id OPERATOR(pg_catalog.=) c.id"
							  "  JOIN _timescaledb_catalog.dimension_slice ds ON ds.id OPERATOR(pg_catalog.=) cc.dimension_slice_id"
							  "  JOIN _timescaledb_catalog.dimension d ON d.id OPERATOR(pg_catalog.=) ds.dimension_id"
							  "   AND d.interval_length IS NOT NULL"
							  "  JOIN _timescaledb_catalog.continuous_agg ca"
							  "    ON ca.raw_hypertable_id OPERATOR(pg_catalog.=) c.hypertable_id"
							  " WHERE r.run_id OPERATOR(pg_catalog.=) $1 AND (r.written OR r.recopy)"
							  " GROUP BY 1, 2 ORDER BY 1",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *view = SPI_getvalue(tup, desc, 1);
		char	   *type = SPI_getvalue(tup, desc, 2);
		char	   *bounds[2] = {SPI_getvalue(tup, desc, 3), SPI_getvalue(tup, desc, 4)};
		char	   *args[2];
		int			b;
		MemoryContext oldcxt;

		if (view == NULL || type == NULL)
			continue;
		oldcxt = MemoryContextSwitchTo(outer);
		for (b = 0; b < 2; b++)
		{
			int64		v = bounds[b] ? pg_strtoint64(bounds[b]) : (b == 0 ? PG_INT64_MIN : PG_INT64_MAX);

			/* a slice's internal time, in the column's type; open: none */
			if (v == PG_INT64_MIN || v == PG_INT64_MAX)
				args[b] = "NULL";
			else if (strcmp(type, "timestamp with time zone") == 0)
				args[b] = psprintf("_timescaledb_functions.to_timestamp(" INT64_FORMAT ")", v);
			else if (strcmp(type, "timestamp without time zone") == 0)
				args[b] = psprintf("_timescaledb_functions.to_timestamp_without_timezone(" INT64_FORMAT ")", v);
			else if (strcmp(type, "date") == 0)
				args[b] = psprintf("_timescaledb_functions.to_date(" INT64_FORMAT ")", v);
			else
				args[b] = psprintf("CAST(" INT64_FORMAT " AS %s)", v, type);	/* regtype's text */
		}
		views = lappend(views, pstrdup(view));
		calls = lappend(calls, psprintf("CALL %s.refresh_continuous_aggregate(%s::pg_catalog.regclass, %s, %s)",
										quote_identifier(tsschema), quote_literal_cstr(view),
										args[0], args[1]));
		MemoryContextSwitchTo(oldcxt);
	}
	SPI_finish();
	if (calls == NIL)
		return 0;

	foreach(lc, calls)
	{
		CHECK_FOR_INTERRUPTS();
		tsm_conn_command(conn, (char *) lfirst(lc));
	}

	/* their materializations' chunks, to be copied again */
	initStringInfo(&list);
	appendStringInfoChar(&list, '{');
	foreach(lc, views)
	{
		const char *v;

		appendStringInfo(&list, "%s\"", list.len > 1 ? "," : "");
		for (v = lfirst(lc); *v; v++)
		{
			if (*v == '"' || *v == '\\')
				appendStringInfoChar(&list, '\\');
			appendStringInfoChar(&list, *v);
		}
		appendStringInfoChar(&list, '"');
	}
	appendStringInfoChar(&list, '}');
	params[0] = list.data;
	r = tsm_query(conn,
				  "SELECT pg_catalog.format('%I.%I', c.schema_name, c.table_name)"
				  "  FROM _timescaledb_catalog.chunk c"
				  "  JOIN _timescaledb_catalog.continuous_agg ca ON ca.mat_hypertable_id = c.hypertable_id"
				  " WHERE pg_catalog.format('%I.%I', ca.user_view_schema, ca.user_view_name)"
				  "       = ANY ($1::pg_catalog.text[])",
				  1, params, 1, "the source's materialization chunks");
	for (i = 0; i < r->nrows; i++)
	{
		Oid			argtypes[2] = {INT8OID, TEXTOID};
		Datum		args[2];

		args[0] = Int64GetDatum(run_id);
		args[1] = CStringGetTextDatum(tsm_rows_get(r, i, 0));
		SPI_connect();
		if (SPI_execute_with_args("INSERT INTO tsmigrate.run_stream_relation (run_id, relation, written, recopy)"
								  " VALUES ($1, $2, true, true) ON CONFLICT (run_id, relation)"
								  " DO UPDATE SET written = true, recopy = true",
								  2, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "SPI_execute_with_args failed");
		SPI_finish();
	}
	return list_length(calls);
}
