/*-------------------------------------------------------------------------
 *
 * pull_data.c
 *	  tsmigrate.pull_data: copy every row of the source into the target
 *
 * The leader opens a source connection, starts a REPEATABLE READ, READ ONLY
 * transaction and (for parallel runs) exports its snapshot, as pg_dump
 * does; every read of the source, by the leader or a copy worker, happens
 * under that one snapshot, so the target receives a consistent image even
 * while the source is being written to.
 *
 * What is copied, and how (pg_dump's data section, in-server):
 *	- ordinary and unlogged tables: COPY, largest first, tables larger than
 *	  tsmigrate.copy_split_size split into block (ctid) ranges when several
 *	  jobs run;
 *	- partitioned tables: each leaf partition is copied into the same-named
 *	  target partition, as pg_dump does without --load-via-partition-root:
 *	  leaves are ordinary tables, so they are scheduled (and split) like
 *	  any other, and a big partitioned table spreads over the workers;
 *	- inheritance parents: their own rows only (COPY of a table never
 *	  includes its children);
 *	- generated columns are left out (the target computes them); identity
 *	  columns are copied with their values (COPY FROM keeps them);
 *	- sequences: last_value and is_called, set with setval();
 *	- large objects: created with the same OID and written in chunks;
 *	- materialized views: refreshed once the data is in, as a pg_dump
 *	  restore does, if they were populated on the source.
 *
 * Target tables must exist (pull_schema makes them) and be empty; the
 * caller needs INSERT on them, and row-level security that COPY FROM would
 * not honour is refused (copy.c).
 *
 * IDENTIFICATION
 *	  src/copy/pull_data.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_largeobject.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "storage/large_object.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "copy/copy.h"
#include "copy/copy_command.h"
#include "remote/remote.h"
#include "source_catalog/relations.h"
#include "target/state.h"
#include "target/target.h"
#include "workers/workers.h"

PG_FUNCTION_INFO_V1(tsmigrate_pull_data);

/* chunk size for large objects */
#define TSM_LO_CHUNK	(1024 * 1024)

/* One relation of the source: one result row */
typedef struct TsmRelation
{
	Oid			srcoid;
	char	   *nspname;
	char	   *relname;
	char	   *qualname;		/* quoted, for SQL and for the result */
	char		relkind;		/* r, S or m on the source */
	bool		populated;		/* materialized view populated on source */
	int64		size;			/* source bytes */
	int64		blocks;			/* source blocks */
	Oid			relid;			/* on the target */
	StringInfoData srccols;		/* quoted column list for the source */
	StringInfoData tgtcols;		/* '\0'-separated names for the target */
	bool		binary;
	bool		wanted;
	/* result */
	bool		copied;
	int64		rows;
	int64		bytes;
	TimestampTz start;
	TimestampTz end;
} TsmRelation;

static TsmRelation *list_source_relations(PGconn *conn, int *nrels);
static void add_source_columns(PGconn *conn, TsmRelation *rels, int nrels);
static void select_requested(ArrayType *tables, TsmRelation *rels, int nrels);
static void refuse_hypertables(PGconn *conn, TsmRelation *rels, int nrels);
static void resolve_targets(TsmRelation *rels, int nrels);
static bool target_is_empty(Relation rel);
static TsmCopyTask *make_tasks(TsmRelation *rels, int nrels, int jobs, int *ntasks);
static void copy_sequences(PGconn *conn, TsmRelation *rels, int nrels);
static void copy_large_objects(PGconn *conn, int64 *count, int64 *bytes,
							   TimestampTz *start, TimestampTz *end);
static void refresh_matviews(TsmRelation *rels, int nrels);
static int	compare_oid(const void *a, const void *b);

/*
 * tsmigrate.pull_data(source text, jobs int, tables text[],
 *					   large_objects boolean, snapshot text)
 *		Copy the data of every table (or of the listed ones) of the source
 *		into the target's tables; large objects too when asked, by default
 *		when no tables are listed.  With "snapshot" (exported by a source
 *		transaction the caller keeps open, as migrate does across its
 *		batches), everything is read under that snapshot.
 */
Datum
tsmigrate_pull_data(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TsmSource  *src;
	int			jobs = PG_ARGISNULL(1) ? 1 : PG_GETARG_INT32(1);
	ArrayType  *tables = PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2);
	bool		large_objects = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ?
		PG_GETARG_BOOL(3) : tables == NULL;
	char	   *given_snapshot = (PG_NARGS() > 4 && !PG_ARGISNULL(4)) ?
		text_to_cstring(PG_GETARG_TEXT_PP(4)) : NULL;
	PGconn	   *conn;
	char	   *snapshot = NULL;
	TsmCopyPlan *plan;
	TsmRelation *rels;
	int			nrels;
	TsmCopyTask *tasks;
	int			ntasks;
	int64		lo_count = 0;
	int64		lo_bytes = 0;
	TimestampTz lo_start = 0;
	TimestampTz lo_end = 0;
	int			i;

	tsm_copy_check_jobs(jobs, "pull_data");

	src = tsm_source_from_arg(fcinfo, 0);
	InitMaterializedSRF(fcinfo, 0);

	conn = tsm_copy_open_source(src, jobs, given_snapshot, &snapshot);

	plan = tsm_data_prepare(conn, tables, jobs);
	rels = plan->items;
	nrels = plan->nitems;
	tasks = plan->tasks;
	ntasks = plan->ntasks;
	tsm_copy_run_tasks(conn, src, snapshot, tasks, ntasks, jobs, 0);

	for (i = 0; i < ntasks; i++)
	{
		TsmRelation *rel = &rels[tasks[i].relation];

		if (!rel->copied || tasks[i].start < rel->start)
			rel->start = tasks[i].start;
		if (!rel->copied || tasks[i].end > rel->end)
			rel->end = tasks[i].end;
		rel->copied = true;
		rel->rows += tasks[i].rows;
		rel->bytes += tasks[i].bytes;
	}

	tsm_data_sequences(conn, plan, 0);
	if (large_objects)
		copy_large_objects(conn, &lo_count, &lo_bytes, &lo_start, &lo_end);

	tsm_conn_command(conn, "COMMIT");
	tsm_conn_close(conn);

	refresh_matviews(rels, nrels);

	for (i = 0; i < nrels; i++)
	{
		TsmRelation *rel = &rels[i];
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		if (!rel->wanted)
			continue;
		values[0] = CStringGetTextDatum(rel->qualname);
		if (rel->relkind == RELKIND_RELATION)
		{
			values[1] = Int64GetDatum(rel->rows);
			values[2] = Int64GetDatum(rel->bytes);
		}
		else
			nulls[1] = nulls[2] = true;
		values[3] = Float8GetDatum(rel->copied ?
								   (rel->end - rel->start) / 1000000.0 : 0.0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	if (lo_count > 0)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum("large objects");
		values[1] = Int64GetDatum(lo_count);
		values[2] = Int64GetDatum(lo_bytes);
		values[3] = Float8GetDatum((lo_end - lo_start) / 1000000.0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}

/*
 * tsm_data_prepare
 *		pull_data's work on the source's tables (or the listed ones), under
 *		the transaction of "conn": the target's tables checked, the copy
 *		tasks made (with jobs > 1, large tables in ranges), each task named
 *		after its relation for migrate to mark.
 */
TsmCopyPlan *
tsm_data_prepare(PGconn *conn, ArrayType *tables, int jobs)
{
	TsmCopyPlan *plan = palloc0(sizeof(TsmCopyPlan));
	TsmRelation *rels;
	int			nrels;
	int			i;

	rels = list_source_relations(conn, &nrels);
	add_source_columns(conn, rels, nrels);
	select_requested(tables, rels, nrels);
	refuse_hypertables(conn, rels, nrels);
	resolve_targets(rels, nrels);

	/* binary COPY: this source, and built-in types (copy_command.c) */
	if (!tsm_copy_binary_allowed(conn))
		for (i = 0; i < nrels; i++)
			rels[i].binary = false;

	plan->tasks = make_tasks(rels, nrels, jobs, &plan->ntasks);
	plan->items = rels;
	plan->nitems = nrels;
	return plan;
}

/*
 * tsm_data_sequences
 *		Set the plan's sequences as the source has them under the snapshot
 *		of "conn"; with a run id, mark each copied in that run.
 */
void
tsm_data_sequences(PGconn *conn, TsmCopyPlan *plan, int64 run_id)
{
	TsmRelation *rels = plan->items;
	int			i;

	copy_sequences(conn, rels, plan->nitems);
	for (i = 0; run_id != 0 && i < plan->nitems; i++)
		if (rels[i].wanted && rels[i].relkind == RELKIND_SEQUENCE)
			tsm_state_relation_mark(run_id, rels[i].qualname, TSM_RELATION_COPIED, -1, -1, NULL);
}

/*
 * The source's tables, sequences and materialized views, largest first, as
 * source_catalog/relations.c reads them for every step.
 */
static TsmRelation *
list_source_relations(PGconn *conn, int *nrels)
{
	TsmSourceRelation *src = tsm_source_relations(conn, "rSm", nrels);
	TsmRelation *rels = palloc0(sizeof(TsmRelation) * Max(*nrels, 1));
	int			i;

	for (i = 0; i < *nrels; i++)
	{
		TsmRelation *rel = &rels[i];

		rel->srcoid = src[i].oid;
		rel->nspname = src[i].nspname;
		rel->relname = src[i].relname;
		rel->qualname = src[i].qualname;
		rel->relkind = src[i].relkind;
		rel->populated = src[i].populated;
		rel->size = src[i].size;
		rel->blocks = src[i].blocks;
		rel->binary = true;
		rel->wanted = true;
		initStringInfo(&rel->srccols);
		initStringInfo(&rel->tgtcols);
	}
	pfree(src);
	return rels;
}

/*
 * Columns of the source's tables, without dropped and generated ones, and
 * whether each may travel in binary: only built-in types with binary I/O,
 * and no composites or arrays of them, because binary array and record
 * values carry type OIDs, which differ between databases for other types.
 */
static void
add_source_columns(PGconn *conn, TsmRelation *rels, int nrels)
{
	static const char *const sql =
		"SELECT a.attrelid, a.attname,"
		" t.oid OPERATOR(pg_catalog.<) '16384'::pg_catalog.oid"
		" AND t.typtype OPERATOR(pg_catalog.<>) 'c'"
		" AND t.typsend::pg_catalog.oid OPERATOR(pg_catalog.<>) '0'::pg_catalog.oid"
		" AND (t.typelem OPERATOR(pg_catalog.=) '0'::pg_catalog.oid OR EXISTS ("
		"  SELECT FROM pg_catalog.pg_type e WHERE e.oid OPERATOR(pg_catalog.=) t.typelem"
		"  AND e.oid OPERATOR(pg_catalog.<) '16384'::pg_catalog.oid"
		"  AND e.typtype OPERATOR(pg_catalog.<>) 'c'"
		"  AND e.typsend::pg_catalog.oid OPERATOR(pg_catalog.<>) '0'::pg_catalog.oid))"
		" FROM pg_catalog.pg_attribute a"
		" JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid"
		" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
		" JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid"
		" WHERE c.relkind OPERATOR(pg_catalog.=) 'r'"
		" AND n.nspname OPERATOR(pg_catalog.<>) ALL ('{pg_catalog,information_schema}'::pg_catalog.name[])"
		" AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
		" AND a.attgenerated OPERATOR(pg_catalog.=) ''"
		" ORDER BY a.attrelid, a.attnum";
	TsmRows    *r = tsm_query(conn, sql, 0, NULL, 3, "the columns of the source's tables");
	Oid		   *oids = palloc(sizeof(Oid) * Max(nrels, 1));
	int		   *index = palloc(sizeof(int) * Max(nrels, 1));
	int			i;

	/* sorted OIDs, and where each relation is in "rels" */
	for (i = 0; i < nrels; i++)
		oids[i] = rels[i].srcoid;
	qsort(oids, nrels, sizeof(Oid), compare_oid);
	for (i = 0; i < nrels; i++)
	{
		Oid		   *pos = bsearch(&rels[i].srcoid, oids, nrels, sizeof(Oid), compare_oid);

		index[pos - oids] = i;
	}

	for (i = 0; i < r->nrows; i++)
	{
		Oid			relid = tsm_rows_oid(r, i, 0);
		const char *attname = tsm_rows_get(r, i, 1);
		Oid		   *pos = bsearch(&relid, oids, nrels, sizeof(Oid), compare_oid);
		TsmRelation *rel;

		if (pos == NULL)
			continue;			/* a table we do not copy */
		rel = &rels[index[pos - oids]];
		if (rel->srccols.len > 0)
			appendStringInfoString(&rel->srccols, ", ");
		appendStringInfoString(&rel->srccols, quote_identifier(attname));
		appendBinaryStringInfo(&rel->tgtcols, attname, strlen(attname) + 1);
		if (!tsm_rows_bool(r, i, 2))
			rel->binary = false;
	}
	pfree(oids);
	pfree(index);
}

/*
 * With a "tables" argument, keep only the named relations (resolved on the
 * target with its search_path).  A partitioned table stands for its leaf
 * partitions.  A name that is on neither side is an error naming it.
 */
static void
select_requested(ArrayType *tables, TsmRelation *rels, int nrels)
{
	Datum	   *elems;
	bool	   *elemnulls;
	int			nelems;
	int			i;
	int			j;

	if (tables == NULL)
		return;

	for (j = 0; j < nrels; j++)
		rels[j].wanted = false;

	deconstruct_array(tables, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &elemnulls, &nelems);
	for (i = 0; i < nelems; i++)
	{
		char	   *name;
		RangeVar   *rv;
		Oid			relid;
		List	   *members;
		ListCell   *lc;
		bool		found = false;

		if (elemnulls[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("table names must not be null"));
		name = TextDatumGetCString(elems[i]);
		rv = makeRangeVarFromNameList(textToQualifiedNameList((text *) DatumGetPointer(elems[i])));
		relid = RangeVarGetRelid(rv, NoLock, true);
		if (!OidIsValid(relid))
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_TABLE),
					errmsg("relation \"%s\" does not exist on the target", name),
					errhint("Create it with tsmigrate.pull_schema() first, or check the name and the search_path."));

		if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
			members = find_all_inheritors(relid, NoLock, NULL);
		else
			members = list_make1_oid(relid);

		foreach(lc, members)
		{
			Oid			member = lfirst_oid(lc);
			char	   *nsp = get_namespace_name(get_rel_namespace(member));
			char	   *relname = get_rel_name(member);

			if (get_rel_relkind(member) == RELKIND_PARTITIONED_TABLE)
			{
				found = true;	/* has no rows of its own */
				continue;
			}
			for (j = 0; j < nrels; j++)
			{
				if (strcmp(rels[j].nspname, nsp) == 0 &&
					strcmp(rels[j].relname, relname) == 0)
				{
					rels[j].wanted = true;
					found = true;
				}
			}
		}
		if (!found)
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_TABLE),
					errmsg("relation \"%s\" does not exist on the source", name),
					errhint("pull_data copies tables, sequences and materialized views that are not members of an extension."));
	}
}

/*
 * A hypertable's rows live in its chunks, which COPY of the hypertable does
 * not read and COPY FROM through BeginCopyFrom() would not route: refuse
 * rather than copy an empty parent.
 */
static void
refuse_hypertables(PGconn *conn, TsmRelation *rels, int nrels)
{
	TsmRows    *r;
	StringInfoData names;
	int			n = 0;
	int			i;
	int			j;

	r = tsm_query(conn, "SELECT 1 FROM pg_catalog.pg_extension"
				  " WHERE extname OPERATOR(pg_catalog.=) 'timescaledb'", 0, NULL,
				  1, "the source's TimescaleDB");
	if (r->nrows == 0)
		return;
	r = tsm_query(conn, "SELECT schema_name, table_name FROM _timescaledb_catalog.hypertable",
				  0, NULL, 2, "the source's hypertables");
	initStringInfo(&names);
	for (i = 0; i < r->nrows; i++)
		for (j = 0; j < nrels; j++)
			if (rels[j].wanted &&
				strcmp(rels[j].nspname, tsm_rows_get(r, i, 0)) == 0 &&
				strcmp(rels[j].relname, tsm_rows_get(r, i, 1)) == 0)
				appendStringInfo(&names, "%s%s", n++ ? ", " : "", rels[j].qualname);
	if (n > 0)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg_plural("pull_data cannot copy hypertable %s",
							  "pull_data cannot copy hypertables %s",
							  n, names.data),
				errdetail("A hypertable's rows are in its chunks."),
				errhint("Leave hypertables out with the \"tables\" argument."));
}

/*
 * Find each wanted relation on the target, check it, and lock the tables
 * against concurrent TRUNCATE or DROP until the end of the transaction.
 * Missing and non-empty tables are reported all at once.
 */
static void
resolve_targets(TsmRelation *rels, int nrels)
{
	StringInfoData missing;
	StringInfoData notempty;
	int			nmissing = 0;
	int			nnotempty = 0;
	int			i;

	initStringInfo(&missing);
	initStringInfo(&notempty);
	for (i = 0; i < nrels; i++)
	{
		TsmRelation *rel = &rels[i];
		Oid			nspid;
		char		relkind;
		bool		kind_ok;

		if (!rel->wanted)
			continue;
		nspid = get_namespace_oid(rel->nspname, true);
		rel->relid = OidIsValid(nspid) ? get_relname_relid(rel->relname, nspid) : InvalidOid;
		if (!OidIsValid(rel->relid))
		{
			appendStringInfo(&missing, "%s%s", nmissing++ ? ", " : "", rel->qualname);
			continue;
		}
		relkind = get_rel_relkind(rel->relid);
		if (rel->relkind == RELKIND_RELATION)
			kind_ok = relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE;
		else
			kind_ok = relkind == rel->relkind;
		if (!kind_ok)
			ereport(ERROR,
					errcode(ERRCODE_WRONG_OBJECT_TYPE),
					errmsg("relation %s is not of the same kind on the source and on the target",
						   rel->qualname),
					errhint("Drop it on the target and create it again with tsmigrate.pull_schema()."));

		if (rel->relkind == RELKIND_RELATION)
		{
			Relation	r = table_open(rel->relid, RowExclusiveLock);

			tsm_copy_check_target(r);
			if (!target_is_empty(r))
				appendStringInfo(&notempty, "%s%s", nnotempty++ ? ", " : "", rel->qualname);
			/* no lock kept per table: the copy checks again (target_tables.c) */
			table_close(r, RowExclusiveLock);
		}
	}
	if (nmissing > 0)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_TABLE),
				errmsg_plural("%d relation of the source does not exist on the target",
							  "%d relations of the source do not exist on the target",
							  nmissing, nmissing),
				errdetail("Missing: %s.", missing.data),
				errhint("Create them with tsmigrate.pull_schema() first."));
	if (nnotempty > 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg_plural("%d target table is not empty",
							  "%d target tables are not empty",
							  nnotempty, nnotempty),
				errdetail("Not empty: %s.", notempty.data),
				errhint("pull_data only fills empty tables: empty them with TRUNCATE, or leave them out with the \"tables\" argument."));
}

/*
 * Does the target table (each leaf, for a partitioned one) hold no row
 * visible to us?  A direct scan, so that INSERT privilege is all the caller
 * needs, as for COPY FROM.
 */
static bool
target_is_empty(Relation rel)
{
	List	   *members;
	ListCell   *lc;
	bool		empty = true;

	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		members = find_all_inheritors(RelationGetRelid(rel), AccessShareLock, NULL);
	else
		members = list_make1_oid(RelationGetRelid(rel));

	foreach(lc, members)
	{
		Oid			member = lfirst_oid(lc);

		if (get_rel_relkind(member) != RELKIND_RELATION)
			continue;
		if (!tsm_target_heap_is_empty(member))
		{
			empty = false;
			break;
		}
	}
	return empty;
}

/*
 * One task per wanted table, or, with several jobs, one per block range of
 * a table larger than tsmigrate.copy_split_size; largest first.
 */
static TsmCopyTask *
make_tasks(TsmRelation *rels, int nrels, int jobs, int *ntasks)
{
	int			cap = 16;
	int			n = 0;
	TsmCopyTask *tasks = palloc0(sizeof(TsmCopyTask) * cap);
	int64		split_bytes = (int64) tsm_copy_split_size_kb * 1024;
	int			i;

	for (i = 0; i < nrels; i++)
	{
		TsmRelation *rel = &rels[i];
		int			nparts = 1;
		int			part;

		if (!rel->wanted || rel->relkind != RELKIND_RELATION)
			continue;
		if (jobs > 1 && rel->size > split_bytes && rel->blocks > 1)
			nparts = (int) Min((rel->size + split_bytes - 1) / split_bytes,
							   Min(rel->blocks, 1024));

		for (part = 0; part < nparts; part++)
		{
			TsmCopyTask *task;

			if (n == cap)
			{
				cap *= 2;
				tasks = repalloc(tasks, sizeof(TsmCopyTask) * cap);
			}
			task = &tasks[n++];
			memset(task, 0, sizeof(TsmCopyTask));
			task->relid = rel->relid;
			task->relation = i;
			task->size = rel->size / nparts;
			task->columns = rel->tgtcols.data;
			task->columns_len = rel->tgtcols.len + 1;
			task->mark = rel->qualname;
			task->command.relation = rel->qualname;
			task->command.columns = rel->srccols.data;
			task->command.binary = rel->binary;
			if (nparts > 1)
			{
				/* the last range is open: rows beyond the size we read */
				task->command.query = true;
				task->command.only = true;
				task->command.first_block = rel->blocks * part / nparts;
				task->command.end_block = (part < nparts - 1) ?
					rel->blocks * (part + 1) / nparts : 0;
			}
		}
	}
	*ntasks = n;
	return tasks;
}

/*
 * tsm_data_large_objects
 *		pull_data's copy of the source's large objects, read on "conn" (idle
 *		inside the snapshot's transaction), for migrate: *count of them,
 *		*bytes in all.
 */
void
tsm_data_large_objects(PGconn *conn, int64 *count, int64 *bytes)
{
	TimestampTz start;
	TimestampTz end;

	copy_large_objects(conn, count, bytes, &start, &end);
}

/*
 * tsm_copy_sequence
 *		Set sequence "relid" as the source's "qualname" (quoted) stands, in
 *		the transaction of "conn": last_value and is_called, with setval()
 *		(which checks UPDATE on the sequence).
 */
void
tsm_copy_sequence(PGconn *conn, const char *qualname, Oid relid)
{
	TsmRows    *r;

	r = tsm_query(conn, psprintf("SELECT last_value, is_called FROM %s", qualname),
				  0, NULL, 2, psprintf("sequence %s", qualname));
	DirectFunctionCall3(setval3_oid,
						ObjectIdGetDatum(relid),
						Int64GetDatum(tsm_rows_int64(r, 0, 0)),
						BoolGetDatum(tsm_rows_bool(r, 0, 1)));
}

/* Sequences: the source's, under the snapshot */
static void
copy_sequences(PGconn *conn, TsmRelation *rels, int nrels)
{
	int			i;

	for (i = 0; i < nrels; i++)
	{
		TsmRelation *rel = &rels[i];

		if (!rel->wanted || rel->relkind != RELKIND_SEQUENCE)
			continue;
		CHECK_FOR_INTERRUPTS();
		rel->start = GetCurrentTimestamp();
		tsm_copy_sequence(conn, rel->qualname, rel->relid);
		rel->end = GetCurrentTimestamp();
		rel->copied = true;
	}
}

/*
 * Large objects: each one created on the target with the source's OID
 * (one that exists already is an error) and written in chunks of
 * TSM_LO_CHUNK bytes, so memory stays flat whatever their size.  Owners,
 * privileges and comments are schema, not data.
 */
static void
copy_large_objects(PGconn *conn, int64 *count, int64 *bytes,
				   TimestampTz *start, TimestampTz *end)
{
	TsmRows    *r;
	MemoryContext locxt;
	int			i;

	*start = GetCurrentTimestamp();
	*count = 0;
	*bytes = 0;
	r = tsm_query(conn, "SELECT oid FROM pg_catalog.pg_largeobject_metadata ORDER BY oid",
				  0, NULL, 1, "the source's large objects");
	locxt = AllocSetContextCreate(CurrentMemoryContext, "tsmigrate large object",
								  ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < r->nrows; i++)
	{
		Oid			loid = tsm_rows_oid(r, i, 0);
		const char *oidstr = psprintf("%u", loid);
		int64		offset = 0;
		MemoryContext oldcxt = MemoryContextSwitchTo(locxt);

		/*
		 * Created here, in this transaction, or not written at all: a large
		 * object that exists already belongs to someone else (whoever made
		 * it, with an OID chosen to catch the source's data, would own what
		 * is written into it), and its contents would be lost.
		 */
		if (LargeObjectExists(loid))
			ereport(ERROR,
					errcode(ERRCODE_DUPLICATE_OBJECT),
					errmsg("large object %u already exists on the target", loid),
					errdetail("tsmigrate writes the source's large objects only into large objects it creates, with the source's OIDs."),
					errhint("Remove it with SELECT lo_unlink(%u) if it is not needed, or pass large_objects => false.",
							loid));
		DirectFunctionCall1(be_lo_create, ObjectIdGetDatum(loid));
		for (;;)
		{
			const char *params[3];
			TsmRows    *chunk;
			bytea	   *data;

			CHECK_FOR_INTERRUPTS();
			params[0] = oidstr;
			params[1] = psprintf(INT64_FORMAT, offset);
			params[2] = psprintf("%d", TSM_LO_CHUNK);
			chunk = tsm_query(conn,
							  "SELECT pg_catalog.lo_get($1::pg_catalog.oid, $2::pg_catalog.int8, $3::pg_catalog.int4)",
							  3, params, 1, "a large object's contents");
			data = DatumGetByteaPP(DirectFunctionCall1(byteain,
													   CStringGetDatum(tsm_rows_get(chunk, 0, 0))));
			if (VARSIZE_ANY_EXHDR(data) == 0)
				break;
			DirectFunctionCall3(be_lo_put, ObjectIdGetDatum(loid),
								Int64GetDatum(offset), PointerGetDatum(data));
			offset += VARSIZE_ANY_EXHDR(data);
			*bytes += VARSIZE_ANY_EXHDR(data);
			MemoryContextReset(locxt);
			if (offset % TSM_LO_CHUNK != 0)
				break;
		}
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(locxt);
		(*count)++;
	}
	MemoryContextDelete(locxt);
	*end = GetCurrentTimestamp();
}

/*
 * Materialized views populated on the source are refreshed on the target,
 * in the source's creation order (which respects their dependencies), once
 * the tables are filled; a fresh snapshot sees the workers' rows.
 */
static void
refresh_matviews(TsmRelation *rels, int nrels)
{
	Oid		   *order = palloc(sizeof(Oid) * Max(nrels, 1));
	int		   *index = palloc(sizeof(int) * Max(nrels, 1));
	int			n = 0;
	int			i;
	int			j;

	for (i = 0; i < nrels; i++)
		if (rels[i].wanted && rels[i].relkind == RELKIND_MATVIEW)
			order[n++] = rels[i].srcoid;
	if (n == 0)
		return;
	qsort(order, n, sizeof(Oid), compare_oid);
	for (j = 0; j < n; j++)
		for (i = 0; i < nrels; i++)
			if (rels[i].srcoid == order[j] && rels[i].relkind == RELKIND_MATVIEW)
				index[j] = i;

	SPI_connect();
	for (j = 0; j < n; j++)
	{
		TsmRelation *rel = &rels[index[j]];
		char	   *sql;
		int			rc;

		CHECK_FOR_INTERRUPTS();
		rel->start = GetCurrentTimestamp();
		sql = psprintf("REFRESH MATERIALIZED VIEW %s%s", rel->qualname,
					   rel->populated ? "" : " WITH NO DATA");
		rc = SPI_execute(sql, false, 0);
		if (rc < 0)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
		rel->end = GetCurrentTimestamp();
		rel->copied = true;
	}
	SPI_finish();
}

static int
compare_oid(const void *a, const void *b)
{
	Oid			x = *(const Oid *) a;
	Oid			y = *(const Oid *) b;

	return (x > y) - (x < y);
}
