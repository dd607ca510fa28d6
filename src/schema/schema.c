/*-------------------------------------------------------------------------
 *
 * schema.c
 *	  tsmigrate.schema_sql(): the source's schema as DDL, in dependency order
 *
 * The statements are generated on the source from its own catalogs, with
 * its own pg_get_*def() functions, by one query per object family
 * (schema_objects.c, schema_tables.c, schema_postdata.c,
 * schema_subscriptions.c).  They are put in order here: objects are first
 * sorted by a pg_dump-like priority and by name, then topologically over
 * the source's pg_depend, always taking the first object in that order
 * whose dependencies are all out.
 *
 * NOTES
 *	pg_depend names sub-objects that are not generated on their own: the
 *	row type of a table, an array type, a CHECK constraint that is part of
 *	CREATE TABLE, the _RETURN rule of a view, the index of a constraint,
 *	the identity sequence of a column.  The alias query maps each of them
 *	to the object that creates it.  Dependencies on objects outside the
 *	section being generated (or outside the generated set, such as
 *	extension members and built-in objects) are ignored.
 *
 *	Cycles that pg_dump breaks by splitting an object are avoided the same
 *	way: column defaults are objects of their own, foreign keys and other
 *	index-backed constraints are post-data.  A cycle through a view (a view
 *	that calls a function returning the view's row type) is broken as
 *	pg_dump breaks it: a placeholder view with the right column names and
 *	types comes first, the real definition replaces it later with CREATE
 *	OR REPLACE VIEW.  Any other cycle is broken by emitting its first
 *	object in sort order.
 *
 * IDENTIFICATION
 *	  src/schema/schema.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "tsmigrate.h"
#include "remote/remote.h"
#include "source_catalog/source_catalog.h"
#include "catalog_sql.h"
#include "schema.h"

PG_FUNCTION_INFO_V1(tsmigrate_schema_sql);

/* how a query's rows come back: one row per statement */
static const char *const wrapper_sql =
"SELECT q.classid, q.objid, q.kind, q.name, q.prio, u.s"
" FROM (%s) AS q(classid, objid, kind, name, prio, stmts)"
" CROSS JOIN LATERAL pg_catalog.unnest(q.stmts) WITH ORDINALITY AS u(s, k)"
" WHERE u.s IS NOT NULL"
" ORDER BY q.classid, q.objid, q.kind, u.k";

/* sub-objects that pg_depend names, mapped to the object that creates them */
static const char *const aliases_sql =
"SELECT " CATOID("pg_type") ", t.typarray, " CATOID("pg_type") ", t.oid"
" FROM pg_catalog.pg_type t WHERE t.oid >= 16384 AND t.typarray <> 0"
" UNION ALL "
"SELECT " CATOID("pg_type") ", c.reltype, " CATOID("pg_class") ", c.oid"
" FROM pg_catalog.pg_class c WHERE c.oid >= 16384 AND c.reltype <> 0 AND c.relkind <> 'c'"
" UNION ALL "
"SELECT " CATOID("pg_class") ", c.oid, " CATOID("pg_type") ", c.reltype"
" FROM pg_catalog.pg_class c WHERE c.oid >= 16384 AND c.relkind = 'c'"
" UNION ALL "
"SELECT " CATOID("pg_constraint") ", co.oid,"
" CASE WHEN co.contypid <> 0 THEN " CATOID("pg_type") " ELSE " CATOID("pg_class") " END,"
" CASE WHEN co.contypid <> 0 THEN co.contypid ELSE co.conrelid END"
" FROM pg_catalog.pg_constraint co WHERE co.oid >= 16384 AND co.contype = 'c'"
" AND (co.contypid <> 0 OR (co.convalidated AND co.conislocal AND NOT " CHECK_CALLS_FUNCTION("co") "))"
" UNION ALL "
"SELECT " CATOID("pg_class") ", co.conindid, " CATOID("pg_constraint") ", co.oid"
" FROM pg_catalog.pg_constraint co WHERE co.oid >= 16384 AND co.contype IN ('p', 'u', 'x')"
" UNION ALL "
"SELECT " CATOID("pg_rewrite") ", r.oid, " CATOID("pg_class") ", r.ev_class"
" FROM pg_catalog.pg_rewrite r WHERE r.oid >= 16384 AND r.rulename = '_RETURN'"
" UNION ALL "
"SELECT " CATOID("pg_attrdef") ", ad.oid, " CATOID("pg_class") ", ad.adrelid"
" FROM pg_catalog.pg_attrdef ad JOIN pg_catalog.pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum"
" WHERE ad.oid >= 16384 AND a.attgenerated <> ''"
" UNION ALL "
"SELECT " CATOID("pg_class") ", d.objid, " CATOID("pg_class") ", d.refobjid"
" FROM pg_catalog.pg_depend d WHERE d.classid = " CATOID("pg_class") " AND d.refclassid = " CATOID("pg_class")
" AND d.deptype = 'i' AND d.objid >= 16384"
" AND EXISTS (SELECT 1 FROM pg_catalog.pg_class s WHERE s.oid = d.objid AND s.relkind = 'S')";

static const char *const aliases_multirange_sql =
" UNION ALL "
"SELECT " CATOID("pg_type") ", r.rngmultitypid, " CATOID("pg_type") ", r.rngtypid"
" FROM pg_catalog.pg_range r WHERE r.rngtypid >= 16384";

static const char *const depends_sql =
"SELECT DISTINCT d.classid, d.objid, d.refclassid, d.refobjid"
" FROM pg_catalog.pg_depend d"
" WHERE d.deptype NOT IN ('p', 'e', 'x') AND d.objid >= 16384 AND d.refobjid >= 16384"
/*
 * and a materialized view's on each one it reads through views: in
 * post-data, where the views are not, its REFRESH follows theirs
 */
" UNION "
"SELECT " CATOID("pg_class") ", m.oid, " CATOID("pg_class") ", r.oid"
" FROM pg_catalog.pg_class m"
" CROSS JOIN LATERAL (WITH RECURSIVE reads(oid) AS ("
"  SELECT rd.refobjid FROM pg_catalog.pg_rewrite rr JOIN pg_catalog.pg_depend rd"
"   ON rd.classid = " CATOID("pg_rewrite") " AND rd.objid = rr.oid AND rd.refclassid = " CATOID("pg_class")
"  WHERE rr.ev_class = m.oid AND rd.refobjid <> rr.ev_class"
"  UNION"
"  SELECT rd.refobjid FROM reads JOIN pg_catalog.pg_class v ON v.oid = reads.oid AND v.relkind = 'v'"
"  JOIN pg_catalog.pg_rewrite rr ON rr.ev_class = v.oid"
"  JOIN pg_catalog.pg_depend rd ON rd.classid = " CATOID("pg_rewrite") " AND rd.objid = rr.oid"
"   AND rd.refclassid = " CATOID("pg_class") " AND rd.refobjid <> rr.ev_class)"
"  SELECT reads.oid FROM reads) r"
" JOIN pg_catalog.pg_class rc ON rc.oid = r.oid"
" WHERE m.relkind = 'm' AND m.oid >= 16384 AND rc.relkind = 'm' AND rc.oid <> m.oid";

typedef struct ObjKey
{
	Oid			classid;
	Oid			objid;
} ObjKey;

typedef struct ObjEntry
{
	ObjKey		key;
	int			index;			/* in the sorted object array */
} ObjEntry;

typedef struct AliasEntry
{
	ObjKey		key;
	ObjKey		target;
} AliasEntry;

static void collect_objects(PGconn *conn, const char *query, List **objects);
static void check_object_stmts(const TsmSchemaObject *obj);
static int	compare_objects(const void *a, const void *b);
static List *sort_objects(PGconn *conn, int version, List *objects);
static bool resolve(HTAB *aliases, HTAB *index, ObjKey key, int *result);
static int	placeholder_candidate(TsmSchemaObject **objs, int n, const bool *done,
								  const bool *stood_in);
static TsmSchemaObject *make_placeholder(TsmSchemaObject *view);
static bool releases_through_shell(TsmSchemaObject *obj, TsmSchemaObject *dependent);
static void heap_push(int *heap, int *n, int value);
static int	heap_pop(int *heap, int *n);

/*
 * tsm_schema_section
 *		Parse a section name.
 */
TsmSchemaSection
tsm_schema_section(const char *name)
{
	if (strcmp(name, "pre-data") == 0)
		return TSM_SECTION_PRE_DATA;
	if (strcmp(name, "post-data") == 0)
		return TSM_SECTION_POST_DATA;
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("unrecognized section \"%s\"", name),
			errhint("Valid values are \"pre-data\" and \"post-data\"."));
	pg_unreachable();
}

/*
 * tsm_schema_objects
 *		The objects of one section of the source's schema, in the order in
 *		which they must be created.
 *
 * "conn" must be idle; the catalog queries run in one read-only
 * REPEATABLE READ transaction on it, so they all see the same catalogs.
 * The result is allocated in the current memory context.  "opts" says
 * whether owners and privileges are generated, and what the caller allowed.
 */
List *
tsm_schema_objects(PGconn *conn, TsmSchemaSection section,
				   const TsmSchemaOptions *opts)
{
	int			version = tsm_server_version_num(conn);
	bool		post = (section == TSM_SECTION_POST_DATA);
	List	   *queries = NIL;
	List	   *objects = NIL;
	List	   *sorted;
	ListCell   *lc;

	if (version < TSM_MIN_SOURCE_VERSION_NUM)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("cannot generate the schema of a source running PostgreSQL %s",
					   PQparameterStatus(conn, "server_version")),
				errdetail("Schema generation reads catalogs of PostgreSQL %d and later.",
						  TSM_MIN_SOURCE_VERSION_NUM / 10000),
				errhint("Upgrade the source to PostgreSQL %d or later first.",
						TSM_MIN_SOURCE_VERSION_NUM / 10000));

	tsm_conn_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	tsm_conn_command(conn, "SET LOCAL quote_all_identifiers = on");

	tsm_schema_object_queries(&queries, version, post);
	tsm_schema_table_queries(&queries, version, post);
	tsm_schema_postdata_queries(&queries, version, post);
	tsm_schema_subscription_queries(conn, &queries, version, post);
	tsm_schema_privilege_queries(&queries, version, post, opts);

	foreach(lc, queries)
	{
		CHECK_FOR_INTERRUPTS();
		collect_objects(conn, (const char *) lfirst(lc), &objects);
	}
	/* to run here: without what the caller may not create here */
	if (opts->consent != NULL)
		objects = tsm_schema_subscriptions_here(objects);

	tsm_schema_owners(conn, objects, opts);
	sorted = sort_objects(conn, version, objects);

	tsm_conn_command(conn, "COMMIT");
	return sorted;
}

/*
 * collect_objects
 *		Run one family query and append its objects to *objects.
 */
static void
collect_objects(PGconn *conn, const char *query, List **objects)
{
	TsmRows    *rows;
	TsmSchemaObject *obj = NULL;
	int			r;

	rows = tsm_query(conn, psprintf(wrapper_sql, query), 0, NULL, 6,
					 "the source's schema objects");
	for (r = 0; r < rows->nrows; r++)
	{
		Oid			classid;
		Oid			objid;
		const char *kind;
		const char *stmt;
		const char *colon;
		TsmSchemaStmt *s;

		if ((r & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		classid = tsm_rows_oid(rows, r, 0);
		objid = tsm_rows_oid(rows, r, 1);
		kind = tsm_rows_get(rows, r, 2);
		stmt = tsm_rows_get(rows, r, 5);

		if (obj == NULL || obj->classid != classid || obj->objid != objid ||
			strcmp(obj->kind, kind) != 0)
		{
			check_object_stmts(obj);
			obj = palloc0(sizeof(TsmSchemaObject));
			obj->classid = classid;
			obj->objid = objid;
			obj->kind = pstrdup(kind);
			obj->name = pstrdup(tsm_rows_get(rows, r, 3));
			obj->prio = tsm_rows_int32(rows, r, 4);
			*objects = lappend(*objects, obj);
		}

		colon = strchr(stmt, ':');
		if (colon == NULL)
			ereport(ERROR,
					errcode(ERRCODE_PROTOCOL_VIOLATION),
					errmsg("invalid response from the source"),
					errdetail("The generated statement for %s %s has no node tag.",
							  obj->kind, obj->name));
		if (strncmp(stmt, "Placeholder:", colon - stmt + 1) == 0)
		{
			obj->placeholder = pstrdup(colon + 1);
			continue;
		}
		/* the two-step form of a constraint, for parallel replay only */
		if (strncmp(stmt, "SplitIndex:", colon - stmt + 1) == 0)
		{
			obj->split_index = pstrdup(colon + 1);
			continue;
		}
		if (strncmp(stmt, "SplitConstraint:", colon - stmt + 1) == 0)
		{
			obj->split_constraint = pstrdup(colon + 1);
			continue;
		}
		s = palloc0(sizeof(TsmSchemaStmt));
		s->tag = pnstrdup(stmt, colon - stmt);
		s->sql = pstrdup(colon + 1);
		s->replace = false;
		obj->stmts = lappend(obj->stmts, s);
	}
	check_object_stmts(obj);
}

/*
 * check_object_stmts
 *		Every object the queries generate comes with the statement that
 *		creates it (besides a placeholder or a two-step form): the replay
 *		relies on it.
 */
static void
check_object_stmts(const TsmSchemaObject *obj)
{
	if (obj != NULL && obj->stmts == NIL)
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("invalid response from the source"),
				errdetail("No statement was generated for %s %s.", obj->kind, obj->name));
}

static int
compare_objects(const void *a, const void *b)
{
	const TsmSchemaObject *oa = *(TsmSchemaObject *const *) a;
	const TsmSchemaObject *ob = *(TsmSchemaObject *const *) b;
	int			cmp;

	if (oa->prio != ob->prio)
		return (oa->prio < ob->prio) ? -1 : 1;
	cmp = strcmp(oa->name, ob->name);
	if (cmp != 0)
		return cmp;
	return strcmp(oa->kind, ob->kind);
}

/*
 * sort_objects
 *		Order the objects by priority and name, then topologically over the
 *		source's pg_depend.
 */
static List *
sort_objects(PGconn *conn, int version, List *objects)
{
	int			n = list_length(objects);
	TsmSchemaObject **objs;
	HASHCTL		ctl;
	HTAB	   *index;
	HTAB	   *aliases;
	TsmRows    *rows;
	List	  **succ;
	int		   *indeg;
	bool	   *done;
	bool	   *stood_in;
	int		   *heap;
	int			heapn = 0;
	int			next_forced = 0;
	List	   *result = NIL;
	int			i;
	int			r;
	ListCell   *lc;

	if (n == 0)
		return NIL;

	objs = palloc(sizeof(TsmSchemaObject *) * n);
	i = 0;
	foreach(lc, objects)
		objs[i++] = lfirst(lc);
	qsort(objs, n, sizeof(TsmSchemaObject *), compare_objects);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(ObjKey);
	ctl.entrysize = sizeof(ObjEntry);
	ctl.hcxt = CurrentMemoryContext;
	index = hash_create("tsmigrate schema objects", n, &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < n; i++)
	{
		ObjKey		key;
		ObjEntry   *entry;
		bool		found;

		if (objs[i]->classid == InvalidOid)
			continue;
		key.classid = objs[i]->classid;
		key.objid = objs[i]->objid;
		entry = hash_search(index, &key, HASH_ENTER, &found);
		if (!found)
			entry->index = i;
	}

	ctl.entrysize = sizeof(AliasEntry);
	aliases = hash_create("tsmigrate schema aliases", 1024, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	rows = tsm_query(conn,
					 version >= 140000 ?
					 psprintf("%s%s", aliases_sql, aliases_multirange_sql) :
					 aliases_sql, 0, NULL, 4, "the source's dependencies");
	for (r = 0; r < rows->nrows; r++)
	{
		ObjKey		key;
		AliasEntry *entry;
		bool		found;

		key.classid = tsm_rows_oid(rows, r, 0);
		key.objid = tsm_rows_oid(rows, r, 1);
		entry = hash_search(aliases, &key, HASH_ENTER, &found);
		if (!found)
		{
			entry->target.classid = tsm_rows_oid(rows, r, 2);
			entry->target.objid = tsm_rows_oid(rows, r, 3);
		}
	}

	succ = palloc0(sizeof(List *) * n);
	indeg = palloc0(sizeof(int) * n);
	done = palloc0(sizeof(bool) * n);
	stood_in = palloc0(sizeof(bool) * n);
	heap = palloc(sizeof(int) * n);

	rows = tsm_query(conn, depends_sql, 0, NULL, 4, "the source's dependencies");
	for (r = 0; r < rows->nrows; r++)
	{
		ObjKey		dependent;
		ObjKey		referenced;
		int			from;
		int			to;

		if ((r & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		dependent.classid = tsm_rows_oid(rows, r, 0);
		dependent.objid = tsm_rows_oid(rows, r, 1);
		referenced.classid = tsm_rows_oid(rows, r, 2);
		referenced.objid = tsm_rows_oid(rows, r, 3);
		if (!resolve(aliases, index, dependent, &to) ||
			!resolve(aliases, index, referenced, &from) ||
			from == to)
			continue;
		succ[from] = lappend_int(succ[from], to);
		indeg[to]++;
		objs[to]->after = lappend(objs[to]->after, objs[from]);
	}

	for (i = 0; i < n; i++)
		if (indeg[i] == 0)
			heap_push(heap, &heapn, i);

	for (i = 0; i < n;)
	{
		int			cur;

		CHECK_FOR_INTERRUPTS();
		if (heapn > 0)
			cur = heap_pop(heap, &heapn);
		else if ((cur = placeholder_candidate(objs, n, done, stood_in)) >= 0)
		{
			/*
			 * A cycle through a view: create a placeholder of the view now,
			 * so that what depends on the view can be created, and replace it
			 * with the real view once its own dependencies are out.
			 */
			result = lappend(result, make_placeholder(objs[cur]));
			stood_in[cur] = true;
			foreach(lc, succ[cur])
			{
				int			s = lfirst_int(lc);

				/*
				 * A base type's shell lets through only what the type needs
				 * first (its input and output functions, which need it in
				 * turn); the rest waits for the type itself.
				 */
				if (!releases_through_shell(objs[cur], objs[s]))
					continue;
				if (--indeg[s] == 0 && !done[s])
					heap_push(heap, &heapn, s);
			}
			continue;
		}
		else
		{
			/* another cycle: take the first object that is not out yet */
			while (done[next_forced])
				next_forced++;
			cur = next_forced;
		}
		if (done[cur])
			continue;
		done[cur] = true;
		objs[cur]->seq = list_length(result);
		i++;
		result = lappend(result, objs[cur]);
		foreach(lc, succ[cur])
		{
			int			s = lfirst_int(lc);

			/* those its placeholder let through are released already */
			if (stood_in[cur] && releases_through_shell(objs[cur], objs[s]))
				continue;
			if (--indeg[s] == 0 && !done[s])
				heap_push(heap, &heapn, s);
		}
	}

	return result;
}

/*
 * placeholder_candidate
 *		The first view, in sort order, that is not out yet and has a
 *		placeholder; -1 if there is none.
 */
static int
placeholder_candidate(TsmSchemaObject **objs, int n, const bool *done,
					  const bool *stood_in)
{
	int			i;

	for (i = 0; i < n; i++)
		if (!done[i] && !stood_in[i] && objs[i]->placeholder != NULL)
			return i;
	return -1;
}

/*
 * releases_through_shell
 *		Does the placeholder of "obj" let "dependent" be made?  A view's
 *		lets everything through; a base type's shell only what the type
 *		itself waits for (its functions: the cycle).
 */
static bool
releases_through_shell(TsmSchemaObject *obj, TsmSchemaObject *dependent)
{
	if (strcmp(obj->kind, "type") != 0)
		return true;
	return list_member_ptr(obj->after, dependent);
}

/*
 * make_placeholder
 *		The object that creates a view's placeholder, whose own CREATE VIEW
 *		becomes CREATE OR REPLACE VIEW; or a base type's shell.
 */
static TsmSchemaObject *
make_placeholder(TsmSchemaObject *view)
{
	TsmSchemaObject *ph = palloc0(sizeof(TsmSchemaObject));
	TsmSchemaStmt *s = palloc0(sizeof(TsmSchemaStmt));
	bool		shell = strcmp(view->kind, "type") == 0;

	/*
	 * A base type's placeholder is its shell, which the type's CREATE
	 * completes; the source generates a view's only for a view it creates.
	 */
	if (shell ?
		strncmp(view->placeholder, "CREATE TYPE ", 12) != 0 ||
		strchr(view->placeholder, '(') != NULL :
		view->stmts == NIL ||
		strncmp(((TsmSchemaStmt *) linitial(view->stmts))->sql, "CREATE VIEW ", 12) != 0)
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("invalid response from the source"),
				errdetail("The placeholder of %s %s is not a shell type or a view's.",
						  view->kind, view->name));
	ph->classid = InvalidOid;
	ph->objid = view->objid;
	ph->kind = shell ? "shell type" : "view placeholder";
	ph->name = view->name;
	ph->prio = view->prio;
	s->tag = shell ? "DefineStmt" : "ViewStmt";
	s->sql = view->placeholder;
	ph->stmts = list_make1(s);

	if (!shell)
	{
		TsmSchemaStmt *def = linitial(view->stmts);

		def->sql = psprintf("CREATE OR REPLACE VIEW %s", def->sql + 12);
		def->replace = true;
	}
	return ph;
}

/*
 * resolve
 *		The index of the object that creates "key", following aliases.
 */
static bool
resolve(HTAB *aliases, HTAB *index, ObjKey key, int *result)
{
	int			hops;

	for (hops = 0; hops < 4; hops++)
	{
		ObjEntry   *entry;
		AliasEntry *alias;

		entry = hash_search(index, &key, HASH_FIND, NULL);
		if (entry != NULL)
		{
			*result = entry->index;
			return true;
		}
		alias = hash_search(aliases, &key, HASH_FIND, NULL);
		if (alias == NULL)
			return false;
		key = alias->target;
	}
	return false;
}

/* a binary min-heap of object indexes */
static void
heap_push(int *heap, int *n, int value)
{
	int			i = (*n)++;

	while (i > 0 && heap[(i - 1) / 2] > value)
	{
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = value;
}

static int
heap_pop(int *heap, int *n)
{
	int			top = heap[0];
	int			last = heap[--(*n)];
	int			i = 0;

	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= *n)
			break;
		if (child + 1 < *n && heap[child + 1] < heap[child])
			child++;
		if (heap[child] >= last)
			break;
		heap[i] = heap[child];
		i = child;
	}
	if (*n > 0)
		heap[i] = last;
	return top;
}

/*
 * tsmigrate.schema_sql(source text, section text)
 *		The statements that create one section of the source's schema.
 */
Datum
tsmigrate_schema_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TsmSchemaSection section;
	TsmSchemaOptions opts;
	TsmSource  *src;
	PGconn	   *conn;
	List	   *objects;
	ListCell   *lc;
	MemoryContext gencxt;
	MemoryContext oldcxt;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("section must not be null"),
				errhint("Valid values are \"pre-data\" and \"post-data\"."));
	section = tsm_schema_section(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	opts.owners = PG_NARGS() <= 2 || PG_ARGISNULL(2) || PG_GETARG_BOOL(2);
	opts.privileges = PG_NARGS() <= 3 || PG_ARGISNULL(3) || PG_GETARG_BOOL(3);
	opts.consent = NULL;
	src = tsm_source_from_arg(fcinfo, 0);

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	gencxt = AllocSetContextCreate(CurrentMemoryContext,
								   "tsmigrate schema generation",
								   ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(gencxt);
	conn = tsm_conn_open(src);
	objects = tsm_schema_objects(conn, section, &opts);
	tsm_conn_close(conn);
	MemoryContextSwitchTo(oldcxt);

	foreach(lc, objects)
	{
		TsmSchemaObject *obj = lfirst(lc);
		ListCell   *sc;

		foreach(sc, obj->stmts)
		{
			TsmSchemaStmt *s = lfirst(sc);
			Datum		value;
			bool		isnull = false;

			value = PointerGetDatum(cstring_to_text(psprintf("%s;", s->sql)));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
		}
	}

	MemoryContextDelete(gencxt);
	return (Datum) 0;
}
