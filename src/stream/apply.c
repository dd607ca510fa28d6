/*-------------------------------------------------------------------------
 *
 * apply.c
 *	  Apply the source's committed changes, as pgoutput sends them, to the
 *	  tables the run migrated
 *
 * NOTES
 *	Messages are read with PostgreSQL's own readers of the protocol
 *	(logicalrep_read_*, which stop at the first byte that does not fit)
 *	and applied with SPI, as statements on the target's relations, so that
 *	TimescaleDB sees them as it sees an application's: a row of a chunk is
 *	written through its hypertable, which routes it to the chunk, compressed
 *	or not.  The statements name columns and operators resolved on the
 *	target; the source's values are read by the target columns' input
 *	functions, as COPY reads them.
 *
 *	Where each relation's changes go is apply_relations.c's.
 *
 *	TimescaleDB moves rows between a chunk and its compressed chunk when it
 *	compresses, decompresses or recompresses; those moves come between its
 *	WAL markers and are not the application's: a chunk's changes there are
 *	not applied but noted in tsmigrate.run_stream_relation, and cutover
 *	copies the chunk again whole, once the source is quiet.  Every relation
 *	written is noted too, and what each change did to its rows on both
 *	sides, with the batch (tsm_apply_flush): verify at cutover adds that to
 *	the counts taken when the copy was done instead of counting again;
 *	cutover refreshes the continuous aggregates of a chunk written.
 *
 * IDENTIFICATION
 *	  src/stream/apply.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "libpq/pqformat.h"
#include "nodes/bitmapset.h"
#include "replication/logicalproto.h"
#include "replication/origin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"
#include "stream/stream.h"
#include "stream/apply_int.h"
#include "target/target.h"

static void apply_relation(TsmApply *apply, StringInfo msg);
static StreamRel *rel_for(TsmApply *apply, LogicalRepRelId remoteid);
static void apply_insert(TsmApply *apply, StringInfo msg);
static void apply_update(TsmApply *apply, StringInfo msg);
static void apply_delete(TsmApply *apply, StringInfo msg);
static void apply_truncate(TsmApply *apply, StringInfo msg);
static bool identity_moved(StreamRel *rel, LogicalRepTupleData *oldtup,
						   LogicalRepTupleData *newtup);
static void apply_identity_move(TsmApply *apply, StreamRel *rel,
								LogicalRepTupleData *oldtup,
								LogicalRepTupleData *newtup);
static void apply_message(TsmApply *apply, StringInfo msg);
static bool not_applied(TsmApply *apply, StreamRel *rel);

static bool compressing(TsmApply *apply, StreamRel *rel);
static void run_plan(TsmApply *apply, StreamRel *rel, SPIPlanPtr *cached,
					 const char *sql, int nargs, Oid *types, Datum *values,
					 char *nulls, int expected, int source_delta);
static void column_value(StreamRel *rel, LogicalRepTupleData *tup, int i,
						 Datum *value, char *null);
static void append_key_condition(StringInfo sql, StreamRel *rel,
								 LogicalRepTupleData *tup, int *nargs,
								 Oid *types, Datum *values, char *nulls,
								 bool full);
static const char *eq_operator(Oid type);

/*
 * tsm_apply_begin
 *		What the apply of run "run_id" needs: "source" as tsmigrate.run
 *		records it (the key of created_object), "src" to read the source's
 *		catalog.
 */
TsmApply *
tsm_apply_begin(int64 run_id, const char *source, TsmSource *src)
{
	TsmApply   *apply = palloc0(sizeof(TsmApply));
	HASHCTL		ctl;

	apply->run_id = run_id;
	apply->source = pstrdup(source);
	apply->src = src;
	apply->has_timescaledb = -1;
	apply->cxt = AllocSetContextCreate(TopMemoryContext, "tsmigrate apply",
									   ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(LogicalRepRelId);
	ctl.entrysize = sizeof(StreamRel);
	ctl.hcxt = apply->cxt;
	apply->rels = hash_create("tsmigrate stream relations", 256, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	return apply;
}

bool
tsm_apply_in_transaction(TsmApply *apply)
{
	return apply->in_remote_xact;
}

XLogRecPtr
tsm_apply_last_commit(TsmApply *apply, TimestampTz *committime)
{
	if (committime)
		*committime = apply->last_committime;
	return apply->last_commit;
}

int64
tsm_apply_transactions(TsmApply *apply)
{
	return apply->xacts;
}

const char *
tsm_apply_marker(TsmApply *apply)
{
	return apply->marker;
}

/* how many markers came: a new one is to be said at once */
int64
tsm_apply_marker_count(TsmApply *apply)
{
	return apply->nmarkers;
}

/*
 * tsm_apply_source_session
 *		The session on the source that the apply reads its catalog with,
 *		opened if it is not yet; inside a transaction.  The worker asks its
 *		WAL position there.
 */
PGconn *
tsm_apply_source_session(TsmApply *apply)
{
	if (apply->conn == NULL)
		apply->conn = tsm_conn_open_session(apply->src);
	return apply->conn;
}

/*
 * tsm_apply_message
 *		Apply one pgoutput message.  A Begin starts a transaction here when
 *		none is open (the worker may put several of the source's in one);
 *		a Commit sets the origin's progress, which the worker's commit
 *		records with it.
 */
void
tsm_apply_message(TsmApply *apply, StringInfo msg)
{
	char		action = pq_getmsgbyte(msg);

	switch (action)
	{
		case LOGICAL_REP_MSG_BEGIN:
			{
				LogicalRepBeginData begin;

				logicalrep_read_begin(msg, &begin);
				if (apply->in_remote_xact)
					ereport(ERROR,
							errcode(ERRCODE_PROTOCOL_VIOLATION),
							errmsg("the source began a transaction inside another"));
				if (!IsTransactionState())
					StartTransactionCommand();
				apply->in_remote_xact = true;
				break;
			}
		case LOGICAL_REP_MSG_COMMIT:
			{
				LogicalRepCommitData commit;

				logicalrep_read_commit(msg, &commit);
				if (!apply->in_remote_xact)
					ereport(ERROR,
							errcode(ERRCODE_PROTOCOL_VIOLATION),
							errmsg("the source committed a transaction it did not begin"));
				apply->in_remote_xact = false;
				apply->compression = 0;
				apply->last_commit = commit.end_lsn;
				apply->last_committime = commit.committime;
				replorigin_session_origin_lsn = commit.end_lsn;
				replorigin_session_origin_timestamp = commit.committime;
				apply->xacts++;
				break;
			}
		case LOGICAL_REP_MSG_ORIGIN:
		case LOGICAL_REP_MSG_TYPE:
			/* types are known by the target's columns; origins do not matter */
			break;
		case LOGICAL_REP_MSG_RELATION:
		case LOGICAL_REP_MSG_INSERT:
		case LOGICAL_REP_MSG_UPDATE:
		case LOGICAL_REP_MSG_DELETE:
		case LOGICAL_REP_MSG_TRUNCATE:
			if (!apply->in_remote_xact)
				ereport(ERROR,
						errcode(ERRCODE_PROTOCOL_VIOLATION),
						errmsg("the source sent a change outside a transaction"));
			/* each change sees what the ones before it did */
			PushActiveSnapshot(GetTransactionSnapshot());
			if (action == LOGICAL_REP_MSG_RELATION)
				apply_relation(apply, msg);
			else if (action == LOGICAL_REP_MSG_INSERT)
				apply_insert(apply, msg);
			else if (action == LOGICAL_REP_MSG_UPDATE)
				apply_update(apply, msg);
			else if (action == LOGICAL_REP_MSG_DELETE)
				apply_delete(apply, msg);
			else
				apply_truncate(apply, msg);
			PopActiveSnapshot();
			CommandCounterIncrement();
			break;
		case LOGICAL_REP_MSG_MESSAGE:
			apply_message(apply, msg);
			break;
		default:
			ereport(ERROR,
					errcode(ERRCODE_PROTOCOL_VIOLATION),
					errmsg("unexpected message of type \"%c\" in the source's stream",
						   action));
	}
}

/*
 * A Relation message: (re)describe a source relation and decide where its
 * changes go.  The source sends one before the first change of a relation
 * in a stream, and again after its definition changed.
 */
static void
apply_relation(TsmApply *apply, StringInfo msg)
{
	MemoryContext relcxt = AllocSetContextCreate(apply->cxt, "tsmigrate stream relation",
												 ALLOCSET_SMALL_SIZES);
	MemoryContext oldcxt = MemoryContextSwitchTo(relcxt);
	LogicalRepRelation *remote = logicalrep_read_rel(msg);
	StreamRel  *rel;
	bool		found;
	int64		source_delta = 0;
	int64		target_delta = 0;
	bool		recount = false;
	bool		dirty = false;

	/* described again (after DDL, or a new session): the old goes */
	rel = hash_search(apply->rels, &remote->remoteid, HASH_ENTER, &found);
	if (found)
	{
		/* what it applied since the last flush is kept */
		source_delta = rel->source_delta;
		target_delta = rel->target_delta;
		recount = rel->recount;
		dirty = rel->dirty;
		if (rel->insert_plan)
			SPI_freeplan(rel->insert_plan);
		if (rel->update_plan)
			SPI_freeplan(rel->update_plan);
		if (rel->delete_plan)
			SPI_freeplan(rel->delete_plan);
		if (rel->cxt)
			MemoryContextDelete(rel->cxt);
	}
	memset(((char *) rel) + sizeof(LogicalRepRelId), 0,
		   sizeof(StreamRel) - sizeof(LogicalRepRelId));
	rel->source_delta = source_delta;
	rel->target_delta = target_delta;
	rel->recount = recount;
	rel->dirty = dirty;
	/* unusable until described whole: an error below leaves it so */
	rel->mode = REL_IGNORE;
	rel->described = false;
	rel->cxt = relcxt;
	rel->qualname = quote_qualified_identifier(remote->nspname, remote->relname);
	rel->replident = remote->replident;
	tsm_apply_describe(apply, rel, remote);
	rel->described = true;
	MemoryContextSwitchTo(oldcxt);
}

static StreamRel *
rel_for(TsmApply *apply, LogicalRepRelId remoteid)
{
	StreamRel  *rel = hash_search(apply->rels, &remoteid, HASH_FIND, NULL);

	if (rel == NULL || !rel->described)
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("the source sent a change of relation %u before describing it",
					   remoteid));
	return rel;
}

/* the value of remote column "i" of "tup" as a Datum of its target type */
static void
column_value(StreamRel *rel, LogicalRepTupleData *tup, int i, Datum *value,
			 char *null)
{
	if (i >= tup->ncols || tup->colstatus[i] == LOGICALREP_COLUMN_NULL)
	{
		*value = (Datum) 0;
		*null = 'n';
		return;
	}
	if (tup->colstatus[i] != LOGICALREP_COLUMN_TEXT)
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("the source sent a value of table %s in a form not asked for",
					   rel->qualname));
	/* in the database's encoding, as COPY checks its input */
	(void) pg_verify_mbstr(GetDatabaseEncoding(), tup->colvalues[i].data,
						   tup->colvalues[i].len, false);
	*value = InputFunctionCall(&rel->input[i], tup->colvalues[i].data,
							   rel->ioparam[i], rel->atttypmod[i]);
	*null = ' ';
}

static const char *
column_name(StreamRel *rel, int i)
{
	return quote_identifier(get_attname(rel->target, rel->attnum[i], false));
}

static void
check_tuple(StreamRel *rel, LogicalRepTupleData *tup)
{
	if (tup->ncols != rel->natts)
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("the source sent %d columns of table %s, described with %d",
					   tup->ncols, rel->qualname, rel->natts));
}

static void
apply_insert(TsmApply *apply, StringInfo msg)
{
	LogicalRepTupleData tup;
	StreamRel  *rel = rel_for(apply, logicalrep_read_insert(msg, &tup));
	Datum	   *values;
	char	   *nulls;
	StringInfoData sql;
	int			i;

	if (not_applied(apply, rel))
		return;
	check_tuple(rel, &tup);
	values = palloc(sizeof(Datum) * rel->natts);
	nulls = palloc(rel->natts);
	for (i = 0; i < rel->natts; i++)
		column_value(rel, &tup, i, &values[i], &nulls[i]);

	initStringInfo(&sql);
	if (rel->insert_plan == NULL)
	{
		appendStringInfo(&sql, "INSERT INTO %s (", rel->target_name);
		for (i = 0; i < rel->natts; i++)
			appendStringInfo(&sql, "%s%s", i ? ", " : "", column_name(rel, i));
		/* the source's values, identity columns' too */
		appendStringInfoString(&sql, ") OVERRIDING SYSTEM VALUE VALUES (");
		for (i = 0; i < rel->natts; i++)
			appendStringInfo(&sql, "%s$%d", i ? ", " : "", i + 1);
		appendStringInfoChar(&sql, ')');
	}
	run_plan(apply, rel, &rel->insert_plan, sql.data, rel->natts, rel->atttype,
			 values, nulls, SPI_OK_INSERT, 1);
}

/*
 * WHERE ... for the row "tup" identifies: its replica identity's columns,
 * or with REPLICA IDENTITY FULL every column that has an equality
 * operator (the first such row only: the caller wraps it).
 */
static void
append_key_condition(StringInfo sql, StreamRel *rel, LogicalRepTupleData *tup,
					 int *nargs, Oid *types, Datum *values, char *nulls,
					 bool full)
{
	bool		first = true;
	int			i;

	for (i = 0; i < rel->natts; i++)
	{
		const char *op;

		if (!full && !bms_is_member(i, rel->keys))
			continue;
		if (full && (i >= tup->ncols || tup->colstatus[i] == LOGICALREP_COLUMN_UNCHANGED))
			continue;
		op = eq_operator(rel->atttype[i]);
		if (op == NULL)
		{
			if (full)
				continue;
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_FUNCTION),
					errmsg("no equality operator for column %s of table %s",
						   column_name(rel, i), rel->qualname));
		}
		appendStringInfoString(sql, first ? " WHERE " : " AND ");
		first = false;
		column_value(rel, tup, i, &values[*nargs], &nulls[*nargs]);
		if (nulls[*nargs] == 'n')
		{
			/* a key is never NULL: a source that says so is not believed */
			if (!full)
				ereport(ERROR,
						errcode(ERRCODE_PROTOCOL_VIOLATION),
						errmsg("the source sent a NULL key column of table %s",
							   rel->qualname));
			appendStringInfo(sql, "%s IS NULL", column_name(rel, i));
			continue;
		}
		types[*nargs] = rel->atttype[i];
		(*nargs)++;
		appendStringInfo(sql, "%s OPERATOR(%s) $%d", column_name(rel, i), op, *nargs);
	}
	if (first)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("table %s has no replica identity to find its rows by",
					   rel->qualname));
}

/* the schema-qualified equality operator of "type", or NULL */
static const char *
eq_operator(Oid type)
{
	TypeCacheEntry *tce = lookup_type_cache(type, TYPECACHE_EQ_OPR);
	HeapTuple	tup;
	Form_pg_operator op;
	char	   *result;

	if (!OidIsValid(tce->eq_opr))
		return NULL;
	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(tce->eq_opr));
	if (!HeapTupleIsValid(tup))
		return NULL;
	op = (Form_pg_operator) GETSTRUCT(tup);
	result = psprintf("%s.%s", quote_identifier(get_namespace_name(op->oprnamespace)),
					  NameStr(op->oprname));
	ReleaseSysCache(tup);
	return result;
}

/*
 * A FULL identity finds one row: the first that matches, by its tid (and,
 * through a hypertable, its chunk).
 */
static void
wrap_full(StringInfo sql, StreamRel *rel, const char *head, const char *cond)
{
	if (rel->is_chunk)
		appendStringInfo(sql, "%s WHERE (tableoid, ctid) OPERATOR(pg_catalog.=) ANY"
						 " (SELECT tableoid, ctid FROM %s%s LIMIT 1)",
						 head, rel->target_sql, cond);
	else
		appendStringInfo(sql, "%s WHERE ctid OPERATOR(pg_catalog.=)"
						 " (SELECT ctid FROM %s%s LIMIT 1)",
						 head, rel->target_sql, cond);
}

static void
apply_update(TsmApply *apply, StringInfo msg)
{
	LogicalRepTupleData oldtup;
	LogicalRepTupleData newtup;
	bool		has_old;
	StreamRel  *rel = rel_for(apply, logicalrep_read_update(msg, &has_old, &oldtup, &newtup));
	bool		full = rel->replident == REPLICA_IDENTITY_FULL;
	bool		unchanged = false;
	Datum	   *values;
	char	   *nulls;
	Oid		   *types;
	int			nargs = 0;
	StringInfoData set;
	StringInfoData cond;
	StringInfoData sql;
	int			i;

	if (not_applied(apply, rel))
		return;
	check_tuple(rel, &newtup);
	if (has_old)
		check_tuple(rel, &oldtup);
	if (has_old && identity_moved(rel, &oldtup, &newtup))
	{
		apply_identity_move(apply, rel, &oldtup, &newtup);
		return;
	}
	values = palloc(sizeof(Datum) * rel->natts * 2);
	nulls = palloc(rel->natts * 2);
	types = palloc(sizeof(Oid) * rel->natts * 2);

	initStringInfo(&set);
	for (i = 0; i < rel->natts; i++)
	{
		if (newtup.colstatus[i] == LOGICALREP_COLUMN_UNCHANGED)
		{
			unchanged = true;	/* a TOASTed value the update left alone */
			continue;
		}

		/*
		 * An identity column GENERATED ALWAYS takes no value in an UPDATE:
		 * the source's update could not have given it one either.
		 */
		if (rel->identity_always[i])
			continue;
		column_value(rel, &newtup, i, &values[nargs], &nulls[nargs]);
		types[nargs] = rel->atttype[i];
		nargs++;
		appendStringInfo(&set, "%s%s = $%d", set.len ? ", " : "",
						 column_name(rel, i), nargs);
	}
	/* nothing it may set (only identity columns, unchanged): nothing to do */
	if (set.len == 0)
		return;
	initStringInfo(&cond);
	append_key_condition(&cond, rel, has_old ? &oldtup : &newtup, &nargs,
						 types, values, nulls, full);

	initStringInfo(&sql);
	if (full)
		wrap_full(&sql, rel, psprintf("UPDATE %s SET %s", rel->target_sql, set.data), cond.data);
	else
		appendStringInfo(&sql, "UPDATE %s SET %s%s", rel->target_sql, set.data, cond.data);
	run_plan(apply, rel, full || unchanged || has_old ? NULL : &rel->update_plan,
			 sql.data, nargs, types, values, nulls, SPI_OK_UPDATE, 0);
}

/*
 * Did the update give an identity column GENERATED ALWAYS a new value (SET
 * id = DEFAULT on the source)?  Known when the old row came with it: the
 * column is in the replica identity, or the identity is FULL.
 */
static bool
identity_moved(StreamRel *rel, LogicalRepTupleData *oldtup,
			   LogicalRepTupleData *newtup)
{
	int			i;

	for (i = 0; i < rel->natts; i++)
		if (rel->identity_always[i] &&
			oldtup->colstatus[i] == LOGICALREP_COLUMN_TEXT &&
			newtup->colstatus[i] == LOGICALREP_COLUMN_TEXT &&
			(oldtup->colvalues[i].len != newtup->colvalues[i].len ||
			 memcmp(oldtup->colvalues[i].data, newtup->colvalues[i].data,
					oldtup->colvalues[i].len) != 0))
			return true;
	return false;
}

/*
 * An update that gave an identity column GENERATED ALWAYS a new value,
 * which an UPDATE here cannot give: the row deleted and inserted again in
 * one statement, with the source's values (OVERRIDING SYSTEM VALUE), and
 * the values the update left alone (TOASTed, not sent) from the old row.
 */
static void
apply_identity_move(TsmApply *apply, StreamRel *rel, LogicalRepTupleData *oldtup,
					LogicalRepTupleData *newtup)
{
	bool		full = rel->replident == REPLICA_IDENTITY_FULL;
	Datum	   *values = palloc(sizeof(Datum) * rel->natts * 2);
	char	   *nulls = palloc(rel->natts * 2);
	Oid		   *types = palloc(sizeof(Oid) * rel->natts * 2);
	int			nargs = 0;
	StringInfoData cond;
	StringInfoData delete;
	StringInfoData columns;
	StringInfoData select;
	int			i;

	initStringInfo(&columns);
	initStringInfo(&select);
	for (i = 0; i < rel->natts; i++)
	{
		appendStringInfo(&columns, "%s%s", i ? ", " : "", column_name(rel, i));
		if (newtup->colstatus[i] == LOGICALREP_COLUMN_UNCHANGED)
		{
			appendStringInfo(&select, "%sd.%s", i ? ", " : "", column_name(rel, i));
			continue;
		}
		column_value(rel, newtup, i, &values[nargs], &nulls[nargs]);
		types[nargs] = rel->atttype[i];
		nargs++;
		appendStringInfo(&select, "%s$%d", i ? ", " : "", nargs);
	}
	initStringInfo(&cond);
	append_key_condition(&cond, rel, oldtup, &nargs, types, values, nulls, full);
	initStringInfo(&delete);
	if (full)
		wrap_full(&delete, rel, psprintf("DELETE FROM %s", rel->target_sql), cond.data);
	else
		appendStringInfo(&delete, "DELETE FROM %s%s", rel->target_sql, cond.data);
	run_plan(apply, rel, NULL,
			 psprintf("WITH d AS (%s RETURNING *) INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE"
					  " SELECT %s FROM d",
					  delete.data, rel->target_name, columns.data, select.data),
			 nargs, types, values, nulls, SPI_OK_INSERT, 0);
}

static void
apply_delete(TsmApply *apply, StringInfo msg)
{
	LogicalRepTupleData oldtup;
	StreamRel  *rel = rel_for(apply, logicalrep_read_delete(msg, &oldtup));
	bool		full = rel->replident == REPLICA_IDENTITY_FULL;
	Datum	   *values;
	char	   *nulls;
	Oid		   *types;
	int			nargs = 0;
	StringInfoData cond;
	StringInfoData sql;

	if (not_applied(apply, rel))
		return;
	check_tuple(rel, &oldtup);
	values = palloc(sizeof(Datum) * rel->natts);
	nulls = palloc(rel->natts);
	types = palloc(sizeof(Oid) * rel->natts);
	initStringInfo(&cond);
	append_key_condition(&cond, rel, &oldtup, &nargs, types, values, nulls, full);
	initStringInfo(&sql);
	if (full)
		wrap_full(&sql, rel, psprintf("DELETE FROM %s", rel->target_sql), cond.data);
	else
		appendStringInfo(&sql, "DELETE FROM %s%s", rel->target_sql, cond.data);
	run_plan(apply, rel, full ? NULL : &rel->delete_plan, sql.data, nargs,
			 types, values, nulls, SPI_OK_DELETE, -1);
}

/*
 * TRUNCATE: of a table, here too; of a chunk (TimescaleDB truncates one
 * it compresses), noted: cutover copies the chunk again.
 */
static void
apply_truncate(TsmApply *apply, StringInfo msg)
{
	bool		cascade;
	bool		restart_seqs;
	List	   *relids = logicalrep_read_truncate(msg, &cascade, &restart_seqs);
	ListCell   *lc;

	StringInfoData sql;

	/*
	 * One statement, as on the source: tables that reference each other are
	 * truncated together; a hypertable whole (TimescaleDB refuses ONLY), its
	 * chunks' truncations noted as well.
	 */
	initStringInfo(&sql);
	foreach(lc, relids)
	{
		StreamRel  *rel = rel_for(apply, lfirst_oid(lc));

		if (rel->mode == REL_IGNORE)
			continue;
		if (rel->is_chunk)
		{
			tsm_apply_note_recopy(apply, rel->qualname);
			continue;
		}
		tsm_apply_note_written(apply, rel);
		tsm_apply_count_change(apply, rel, 0, 0);
		appendStringInfo(&sql, "%s%s", sql.len ? ", " : "TRUNCATE ",
						 tsm_target_is_hypertable(rel->target) ?
						 rel->target_name : rel->target_sql);
	}
	if (sql.len == 0)
		return;
	SPI_connect();
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "SPI_execute failed");
	SPI_finish();
}

/* how much of a DDL statement the stream's error shows, in bytes */
#define DDL_STATEMENT_MAX	1000

/*
 * Is "word" in "text" (lower case, whitespace runs as one space), not as
 * part of a longer identifier?
 */
static bool
has_word(const char *text, const char *word)
{
	const char *p;
	size_t		len = strlen(word);

	for (p = strstr(text, word); p != NULL; p = strstr(p + 1, word))
	{
		bool		before = p > text &&
			(isalnum((unsigned char) p[-1]) || p[-1] == '_' || p[-1] == '$');
		bool		after = isalnum((unsigned char) p[len]) || p[len] == '_' || p[len] == '$';

		if (!before && !after)
			return true;
	}
	return false;
}

/*
 * May the DDL statement "stmt" (tagged "tag") hold a secret?  A user
 * mapping's, a server's or a subscription's options and connection string
 * do (of any wrapper: a password, a key, a token), and a role's password:
 * those, whatever the tag (the source's query string may hold several
 * statements), are never shown.
 */
static bool
may_hold_secret(const char *tag, const char *stmt)
{
	static const char *const words[] = {"mapping", "server", "subscription"};
	static const char *const anywhere[] = {"password", "passwd", "secret", "passphrase"};
	char	   *lower = asc_tolower(stmt, strlen(stmt));
	int			i;

	if (strstr(tag, "USER MAPPING") || strstr(tag, "SERVER") ||
		strstr(tag, "SUBSCRIPTION") || strstr(tag, "ROLE") || strstr(tag, "USER"))
		return true;
	for (i = 0; i < lengthof(anywhere); i++)
		if (strstr(lower, anywhere[i]))
			return true;
	for (i = 0; i < lengthof(words); i++)
		if (has_word(lower, words[i]))
			return true;
	return false;
}

/*
 * The message of the source's DDL event trigger (migrate/online.c): a
 * command committed there at "lsn", its tag and the statement that ran it.
 * The stream does not apply DDL, and the target's tables would silently
 * differ from the source's: the stream stops for good (a SQLSTATE that
 * stream_worker.c does not retry), naming the statement.
 */
static void
report_ddl(XLogRecPtr lsn, const char *content, int len)
{
	const char *nl = memchr(content, '\n', len);
	char	   *tag = "DDL";
	char	   *stmt = NULL;
	bool		shown = false;

	/* what the target can show: valid text, a tag of words */
	if (nl != NULL && pg_verify_mbstr(GetDatabaseEncoding(), content, len, true) &&
		nl - content > 0 && nl - content <= 64)
	{
		char	   *t = pnstrdup(content, nl - content);

		if (strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ ") == strlen(t))
			tag = t;
		stmt = pnstrdup(nl + 1, len - (nl - content) - 1);
	}
	if (stmt != NULL)
	{
		char	   *r = stmt;
		char	   *w = stmt;

		/* on one line, without the space around it */
		while (*r)
		{
			if (isspace((unsigned char) *r))
			{
				while (isspace((unsigned char) *r))
					r++;
				if (w > stmt && *r)
					*w++ = ' ';
				continue;
			}
			*w++ = *r++;
		}
		*w = '\0';
		shown = *stmt != '\0' && !may_hold_secret(tag, stmt);
		if (shown && strlen(stmt) > DDL_STATEMENT_MAX)
			stmt = psprintf("%.*s...", pg_mbcliplen(stmt, strlen(stmt), DDL_STATEMENT_MAX), stmt);
	}
	if (shown)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("the source ran DDL during the online migration: \"%s\"", stmt),
				errdetail("The source committed %s at %X/%X; the stream does not apply DDL.",
						  tag, LSN_FORMAT_ARGS(lsn)),
				errhint("Abandon the run with tsmigrate.abandon(), then migrate again: a new run reads the changed schema."));
	ereport(ERROR,
			errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			errmsg("the source ran DDL during the online migration: %s", tag),
			errdetail("The source committed %s at %X/%X; the stream does not apply DDL.  The statement is not shown: it may hold a password.",
					  tag, LSN_FORMAT_ARGS(lsn)),
			errhint("Abandon the run with tsmigrate.abandon(), then migrate again: a new run reads the changed schema."));
}

/*
 * A logical message: tsmigrate's own (cutover's marker, through
 * pg_logical_emit_message) is remembered, and its DDL event trigger's
 * stops the stream; others are not ours.
 */
static void
apply_message(TsmApply *apply, StringInfo msg)
{
	const char *prefix;
	int			len;
	const char *content;
	XLogRecPtr	lsn;

	(void) pq_getmsgbyte(msg);	/* flags */
	lsn = pq_getmsgint64(msg);
	prefix = pq_getmsgstring(msg);
	len = pq_getmsgint(msg, 4);
	content = pq_getmsgbytes(msg, len);

	if (strcmp(prefix, "tsmigrate-ddl") == 0)
		report_ddl(lsn, content, len);

	/*
	 * TimescaleDB's markers around a compression or decompression
	 * (timescaledb.enable_compression_wal_markers, tsl/src/compression/
	 * wal_utils.h): the rows it moves between a chunk and its compressed
	 * chunk are not the application's.
	 */
	if (strcmp(prefix, "::timescaledb-compression-start") == 0 ||
		strcmp(prefix, "::timescaledb-decompression-start") == 0)
	{
		apply->compression++;
		return;
	}
	if (strcmp(prefix, "::timescaledb-compression-end") == 0 ||
		strcmp(prefix, "::timescaledb-decompression-end") == 0)
	{
		if (apply->compression > 0)
			apply->compression--;
		return;
	}
	if (strcmp(prefix, "tsmigrate") != 0 || len > 64)
		return;
	if (apply->marker)
		pfree(apply->marker);
	apply->marker = MemoryContextAlloc(apply->cxt, len + 1);
	apply->nmarkers++;
	memcpy(apply->marker, content, len);
	apply->marker[len] = '\0';
}

/*
 * Whether a change of "rel" is left alone: a relation whose changes are
 * not applied, or a chunk's inside TimescaleDB's (de)compression (noted,
 * to be copied again whole at cutover).
 */
static bool
not_applied(TsmApply *apply, StreamRel *rel)
{
	if (rel->mode == REL_APPLY)
		return compressing(apply, rel);

	/*
	 * A compressed chunk's rows changed outside TimescaleDB's markers (a
	 * delete of whole compressed batches, which needs no decompression): the
	 * rows of its chunk changed, and only a copy brings them.
	 */
	if (rel->owner_chunk != NULL && apply->compression == 0 &&
		rel->recopy_noted != apply->xacts + 1)
	{
		tsm_apply_note_recopy(apply, rel->owner_chunk);
		rel->recopy_noted = apply->xacts + 1;
	}
	return true;
}

/*
 * A change of a chunk inside TimescaleDB's (de)compression: not applied,
 * the chunk noted, to be copied again whole at cutover.
 */
static bool
compressing(TsmApply *apply, StreamRel *rel)
{
	if (apply->compression == 0 || !rel->is_chunk)
		return false;
	/* once per transaction: a decompression moves every row of a chunk */
	if (rel->recopy_noted != apply->xacts + 1)
	{
		tsm_apply_note_recopy(apply, rel->qualname);
		rel->recopy_noted = apply->xacts + 1;
	}
	return true;
}

/*
 * Run one statement of a change, through the relation's cached plan when
 * "cached" is given; "source_delta" is what the change did to the source's
 * rows (1 an insert, -1 a delete).  A row an update or delete did not find
 * is counted (verify shows what it means).
 */
static void
run_plan(TsmApply *apply, StreamRel *rel, SPIPlanPtr *cached, const char *sql,
		 int nargs, Oid *types, Datum *values, char *nulls, int expected,
		 int source_delta)
{
	SPIPlanPtr	plan;
	int			rc;

	SPI_connect();
	if (cached != NULL && *cached != NULL)
		plan = *cached;
	else
	{
		plan = SPI_prepare(sql, nargs, types);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (cached != NULL)
		{
			SPI_keepplan(plan);
			*cached = plan;
		}
	}
	/* a cached plan takes exactly the parameters of this change */
	if (SPI_getargcount(plan) != nargs)
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("the source sent a change of table %s that does not fit its description",
					   rel->qualname));
	rc = SPI_execute_plan(plan, values, nulls, false, 0);
	if (rc != expected)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	tsm_apply_note_written(apply, rel);
	tsm_apply_count_change(apply, rel, source_delta, SPI_processed);
	if (SPI_processed == 0 && expected != SPI_OK_INSERT)
	{
		apply->missed++;
		ereport(LOG,
				errmsg("tsmigrate stream: a row of table %s to %s was not found",
					   rel->qualname, expected == SPI_OK_UPDATE ? "update" : "delete"));
	}
	if (cached == NULL)
		SPI_freeplan(plan);
	SPI_finish();
}
