/*-------------------------------------------------------------------------
 *
 * apply_relations.c
 *	  Where the changes of each relation of the source's stream go: the
 *	  relation of the target that this run created, a chunk's hypertable,
 *	  or nowhere (TimescaleDB's and extensions' own tables)
 *
 * NOTES
 *	What the source names is trusted no further than the data step trusted
 *	it: a change is applied to a relation this role created for this source
 *	(tsmigrate.created_object), or to a chunk of such a hypertable; any
 *	other relation is an error, which stops the stream.  A relation of the
 *	source whose columns differ from the target's (DDL on the source during
 *	the online phase) stops it too, naming the relation and the column.
 *
 * IDENTIFICATION
 *	  src/stream/apply_relations.c
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
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/varlena.h"
#include "storage/latch.h"
#include "utils/wait_event.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"
#include "stream/apply_int.h"
#include "target/target.h"
#include "timescale/timescale.h"

/* what a relation of the source is: kind, and a chunk's hypertable */
static const char *const classify_sql =
"SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_depend d"
"                          WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"                            AND d.objid = c.oid AND d.deptype = 'e')"
"            THEN 'extension' ELSE 'table' END, NULL::name, NULL::name, NULL::pg_catalog.text"
"  FROM (SELECT pg_catalog.to_regclass(pg_catalog.format('%I.%I', $1::pg_catalog.text,"
"                                                      $2::pg_catalog.text)) AS oid) c";

static const char *const classify_ts_sql =
"SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_depend d"
"                          WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"                            AND d.objid = c.oid AND d.deptype = 'e') THEN 'extension'"
"            WHEN EXISTS (SELECT FROM _timescaledb_catalog.hypertable p"
"                          WHERE p.compressed_hypertable_id = ch.hypertable_id) THEN 'compressed'"
"            WHEN EXISTS (SELECT FROM _timescaledb_catalog.continuous_agg ca"
"                          WHERE ca.mat_hypertable_id = ch.hypertable_id) THEN 'materialization'"
"            WHEN ch.id IS NOT NULL THEN 'chunk' ELSE 'table' END,"
"       h.schema_name, h.table_name,"
"       (SELECT pg_catalog.format('%I.%I', o.schema_name, o.table_name)"
"          FROM _timescaledb_catalog.chunk o WHERE o.compressed_chunk_id = ch.id)"
"  FROM (SELECT pg_catalog.to_regclass(pg_catalog.format('%I.%I', $1::pg_catalog.text,"
"                                                      $2::pg_catalog.text)) AS oid) c"
"  LEFT JOIN _timescaledb_catalog.chunk ch ON ch.schema_name = $1 AND ch.table_name = $2"
"  LEFT JOIN _timescaledb_catalog.hypertable h ON h.id = ch.hypertable_id";

static void classify(TsmApply *apply, StreamRel *rel, LogicalRepRelation *remote);
static Oid	target_of(TsmApply *apply, const char *nspname, const char *relname,
					  bool *is_chunk);
static bool created_for_source(TsmApply *apply, Oid relid);
static void map_columns(StreamRel *rel, LogicalRepRelation *remote);
static void make_missing_chunks(void *arg);

/*
 * tsm_apply_describe
 *		Decide where the changes of "remote" go, and, when they are applied,
 *		map its columns to the target's.
 */
void
tsm_apply_describe(TsmApply *apply, StreamRel *rel, LogicalRepRelation *remote)
{
	classify(apply, rel, remote);
	if (rel->mode == REL_APPLY)
		map_columns(rel, remote);
}

/*
 * Where do the changes of "remote" go?  A chunk of the source whose
 * hypertable this run made is written through that hypertable, the chunk
 * made here first if the source made it during the online phase; a
 * compressed chunk's changes are TimescaleDB's, noted for cutover; any
 * other relation must be one this run created.
 */
static void
classify(TsmApply *apply, StreamRel *rel, LogicalRepRelation *remote)
{
	const char *params[2] = {remote->nspname, remote->relname};
	TsmRows    *source_hypertable = NULL;
	TsmRows    *kind;
	const char *what;
	int			tries;

	if (apply->conn == NULL)
		apply->conn = tsm_conn_open_session(apply->src);
	if (apply->has_timescaledb < 0)
		apply->has_timescaledb = tsm_source_has_timescaledb(apply->conn) ? 1 : 0;

	/*
	 * What the relation is on the source, in one question: an extension's own
	 * table (TimescaleDB's job statistics); a compressed chunk (TimescaleDB's
	 * own copy of a chunk's rows, changed only by compression, between its
	 * markers: apply.c); a chunk of a continuous aggregate's materialization
	 * (the source's refreshes write it: cutover refreshes the aggregates
	 * there over what the stream wrote, and copies the materializations
	 * again); a chunk of a hypertable, with that hypertable's name.
	 */
	for (tries = 0;; tries++)
	{
		kind = tsm_query(apply->conn,
						 apply->has_timescaledb ? classify_ts_sql : classify_sql,
						 2, params, 4, "what the source's relation is");
		if (kind->nrows != 1)
			ereport(ERROR,
					errcode(ERRCODE_PROTOCOL_VIOLATION),
					errmsg("the source did not say what its relation %s is", rel->qualname));
		what = tsm_rows_get(kind, 0, 0);

		/*
		 * A relation unknown here, that the source does not say is a chunk:
		 * perhaps made by the very transaction whose changes came, which the
		 * source decodes as soon as its commit is in the WAL, a moment before
		 * other sessions see it.  Asked again for two seconds.
		 */
		if (strcmp(what, "table") != 0 || tries >= 20 ||
			OidIsValid(target_of(apply, remote->nspname, remote->relname, NULL)))
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	/*
	 * A compressed chunk by its name too: a decompression drops it before it
	 * is asked about.
	 */
	if (strcmp(what, "extension") == 0 || strcmp(what, "compressed") == 0 ||
		strcmp(what, "materialization") == 0 ||
		(apply->has_timescaledb &&
		 strcmp(remote->nspname, "_timescaledb_internal") == 0 &&
		 strncmp(remote->relname, "compress_hyper_", 15) == 0 &&
		 strlen(remote->relname) > 21 &&
		 strcmp(remote->relname + strlen(remote->relname) - 6, "_chunk") == 0))
	{
		rel->mode = REL_IGNORE;
		/* a compressed chunk's chunk (apply.c: its rows may change) */
		if (strcmp(what, "compressed") == 0 && tsm_rows_value(kind, 0, 3) != NULL)
			rel->owner_chunk = pstrdup(tsm_rows_value(kind, 0, 3));
		return;
	}

	if (strcmp(what, "chunk") == 0)
	{
		TsmRows    *rows = kind;

		if (rows->nrows > 0 &&
			!OidIsValid(target_of(apply, remote->nspname, remote->relname, NULL)))
		{
			/*
			 * A chunk the source made during the online phase: made here,
			 * with its name.  It may not be made (a chunk of the same range
			 * here, that the source dropped since): its rows then go where
			 * the hypertable puts them, and cutover copies the source's
			 * chunks that are not here, and drops those only here.
			 */
			ErrorData  *edata = tsm_subtransaction(make_missing_chunks, apply->src, true);

			if (edata != NULL)
				ereport(LOG,
						errmsg("tsmigrate stream: chunk %s of the source is not made here: %s",
							   quote_qualified_identifier(remote->nspname, remote->relname),
							   edata->message),
						errdetail("Its rows are written through its hypertable; cutover copies the chunk."));
			CommandCounterIncrement();

			/*
			 * Made after the copy's list of relations, perhaps before its
			 * snapshot: rows of it may be in neither; cutover copies it.
			 */
			tsm_apply_note_recopy(apply, quote_qualified_identifier(remote->nspname,
																	remote->relname));
		}
		if (rows->nrows > 0)
			source_hypertable = rows;
	}

	rel->mode = REL_APPLY;
	rel->target = target_of(apply, remote->nspname, remote->relname, &rel->is_chunk);

	/* a chunk not made here: its hypertable, if this run made it */
	if (!OidIsValid(rel->target) && source_hypertable != NULL)
	{
		Oid			nspid = get_namespace_oid(tsm_rows_name(source_hypertable, 0, 1), true);
		Oid			htid = OidIsValid(nspid) ?
			get_relname_relid(tsm_rows_name(source_hypertable, 0, 2), nspid) : InvalidOid;

		if (OidIsValid(htid) && created_for_source(apply, htid) &&
			tsm_target_is_hypertable(htid))
		{
			rel->target = htid;
			rel->is_chunk = true;
		}
	}
	if (!OidIsValid(rel->target))
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("the source changed table %s, which this migration did not create",
					   rel->qualname),
				errdetail("A table created on the source after the migration began is DDL, which online migration does not follow."),
				errhint("Abandon the run with tsmigrate.abandon(), and migrate again."));
	rel->target_name =
		quote_qualified_identifier(get_namespace_name(get_rel_namespace(rel->target)),
								   get_rel_name(rel->target));
	rel->target_sql = rel->is_chunk ? rel->target_name :
		psprintf("ONLY %s", rel->target_name);
}

/* the source's chunks that are not here, made here (timescale/) */
static void
make_missing_chunks(void *arg)
{
	TsmHypertablesPull *pull = tsm_hypertables_begin((TsmSource *) arg, true);

	if (pull != NULL)
	{
		TsmHypertablesDone done;

		tsm_hypertables_chunks(pull, 0, tsm_hypertables_chunk_count(pull));
		tsm_hypertables_end(pull, &done);
	}
}

/*
 * The target relation that the changes of source relation nspname.relname
 * are applied to: the same-named relation, created for this source, or for
 * a chunk, its hypertable (*is_chunk set).  InvalidOid when there is none.
 */
static Oid
target_of(TsmApply *apply, const char *nspname, const char *relname,
		  bool *is_chunk)
{
	Oid			nspid = get_namespace_oid(nspname, true);
	Oid			relid;
	char	   *parent;

	if (is_chunk)
		*is_chunk = false;
	if (!OidIsValid(nspid))
		return InvalidOid;
	relid = get_relname_relid(relname, nspid);
	if (!OidIsValid(relid))
		return InvalidOid;
	/* tables only, as a subscription writes: no view, no foreign table */
	if (get_rel_relkind(relid) != RELKIND_RELATION &&
		get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		return InvalidOid;
	if (created_for_source(apply, relid))
		return relid;

	/* a chunk: its hypertable must be this run's */
	parent = tsm_local_query_value("SELECT pg_catalog.format('%I.%I', h.schema_name, h.table_name)"
								   "  FROM _timescaledb_catalog.chunk c"
								   "  JOIN _timescaledb_catalog.hypertable h"
								   "    ON h.id OPERATOR(pg_catalog.=) c.hypertable_id"
								   " WHERE c.schema_name OPERATOR(pg_catalog.=) $1"
								   "   AND c.table_name OPERATOR(pg_catalog.=) $2",
								   nspname, relname);
	if (parent != NULL)
	{
		List	   *names = textToQualifiedNameList(cstring_to_text(parent));
		Oid			htid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);

		if (OidIsValid(htid) && created_for_source(apply, htid))
		{
			if (is_chunk)
				*is_chunk = true;
			return htid;
		}
	}
	return InvalidOid;
}

/* did this role create "relid" for this run's source? */
static bool
created_for_source(TsmApply *apply, Oid relid)
{
	return tsm_target_created(apply->source, RelationRelationId, relid);
}

/*
 * Find each remote column among the target relation's, by name; the two
 * must have the same columns (generated ones aside, which the source does
 * not send), or the source's table changed.
 */
static void
map_columns(StreamRel *rel, LogicalRepRelation *remote)
{
	Relation	target = table_open(rel->target, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(target);
	int			ntarget = 0;
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && !att->attgenerated)
			ntarget++;
	}

	rel->natts = remote->natts;
	rel->attnum = palloc0(sizeof(AttrNumber) * remote->natts);
	rel->atttype = palloc0(sizeof(Oid) * remote->natts);
	rel->atttypmod = palloc0(sizeof(int32) * remote->natts);
	rel->identity_always = palloc0(sizeof(bool) * remote->natts);
	rel->input = palloc0(sizeof(FmgrInfo) * remote->natts);
	rel->ioparam = palloc0(sizeof(Oid) * remote->natts);
	rel->keys = bms_copy(remote->attkeys);
	for (i = 0; i < remote->natts; i++)
	{
		AttrNumber	attnum = InvalidAttrNumber;
		int			a;
		Oid			infunc;

		for (a = 0; a < desc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, a);

			if (!att->attisdropped && !att->attgenerated &&
				strcmp(NameStr(att->attname), remote->attnames[i]) == 0)
			{
				attnum = att->attnum;
				rel->atttype[i] = att->atttypid;
				rel->atttypmod[i] = att->atttypmod;
				rel->identity_always[i] = att->attidentity == ATTRIBUTE_IDENTITY_ALWAYS;
				break;
			}
		}
		if (attnum == InvalidAttrNumber)
			ereport(ERROR,
					errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					errmsg("table %s changed on the source: column %s is not on the target",
						   rel->qualname, quote_identifier(remote->attnames[i])),
					errdetail("Online migration does not follow DDL on the source."),
					errhint("Abandon the run with tsmigrate.abandon(), and migrate again."));
		rel->attnum[i] = attnum;
		getTypeInputInfo(rel->atttype[i], &infunc, &rel->ioparam[i]);
		fmgr_info_cxt(infunc, &rel->input[i], CurrentMemoryContext);
	}
	if (remote->natts != ntarget)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("table %s changed on the source: it has %d columns, the target's %d",
					   rel->qualname, remote->natts, ntarget),
				errdetail("Online migration does not follow DDL on the source."),
				errhint("Abandon the run with tsmigrate.abandon(), and migrate again."));
	table_close(target, AccessShareLock);
}
