/*-------------------------------------------------------------------------
 *
 * relations.c
 *	  The source's relations that hold data to migrate, read one way
 *
 * pull_data copies them, migrate records them in its run state before it
 * copies them: both read this list, so that the data step and pull_data
 * agree on what is data.  A relation is the user's by catalog_filters.h's
 * rule, the one schema generation and verify apply: what pull_schema
 * creates is what is copied and what is compared.  Temporary relations
 * are nobody's data here; partitioned parents and views hold no rows of
 * their own, hypertables' rows are in their chunks (left to the caller,
 * who knows TimescaleDB).
 *
 * IDENTIFICATION
 *	  src/source_catalog/relations.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "tsmigrate.h"
#include "remote/remote.h"
#include "source_catalog/catalog_filters.h"
#include "source_catalog/relations.h"

/* $1: the relkinds wanted, as a "char"[] */
static const char *const relations_sql =
"SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispopulated,"
"       CASE WHEN c.reltuples >= 0 THEN c.reltuples::pg_catalog.int8 ELSE -1 END,"
"       pg_catalog.pg_relation_size(c.oid),"
"       pg_catalog.pg_relation_size(c.oid) /"
"        pg_catalog.current_setting('block_size')::pg_catalog.int8"
"  FROM pg_catalog.pg_class c"
"  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" WHERE c.relkind = ANY ($1::pg_catalog.\"char\"[]) AND c.relpersistence <> 't'"
"   AND " TSM_USER_SCHEMA_NAME("n.nspname")
"   AND " TSM_NOT_EXTENSION_MEMBER("pg_catalog.pg_class", "c.oid")
" ORDER BY 7 DESC, 2, 3";

/*
 * tsm_source_relations
 *		The source's relations of the kinds in "relkinds" (of "rSm"), largest
 *		first, as its catalogs show them to "conn"'s snapshot.
 *
 * A relation dropped since that snapshot (its size is NULL) is an error:
 * the caller is about to read it.
 */
TsmSourceRelation *
tsm_source_relations(PGconn *conn, const char *relkinds, int *nrels)
{
	StringInfoData kinds;
	const char *k;
	const char *params[1];
	TsmRows    *r;
	TsmSourceRelation *rels;
	int			i;

	initStringInfo(&kinds);
	appendStringInfoChar(&kinds, '{');
	for (k = relkinds; *k != '\0'; k++)
	{
		Assert(*k == 'r' || *k == 'S' || *k == 'm');
		appendStringInfo(&kinds, "%s%c", k == relkinds ? "" : ",", *k);
	}
	appendStringInfoChar(&kinds, '}');
	params[0] = kinds.data;

	r = tsm_query(conn, relations_sql, 1, params, 8, "the source's tables");
	rels = palloc0(sizeof(TsmSourceRelation) * Max(r->nrows, 1));
	for (i = 0; i < r->nrows; i++)
	{
		TsmSourceRelation *rel = &rels[i];

		rel->oid = tsm_rows_oid(r, i, 0);
		rel->nspname = pstrdup(tsm_rows_name(r, i, 1));
		rel->relname = pstrdup(tsm_rows_name(r, i, 2));
		rel->qualname = quote_qualified_identifier(rel->nspname, rel->relname);
		rel->relkind = tsm_rows_get(r, i, 3)[0];
		if (rel->relkind == '\0' || strchr(relkinds, rel->relkind) == NULL)
			ereport(ERROR,
					errcode(ERRCODE_PROTOCOL_VIOLATION),
					errmsg("invalid response from the source"),
					errdetail("The query for the source's tables returned relation %s of kind \"%s\", which was not asked for.",
							  rel->qualname, tsm_rows_get(r, i, 3)));
		rel->populated = tsm_rows_bool(r, i, 4);
		rel->reltuples = tsm_rows_int64(r, i, 5);
		/* pg_relation_size() is NULL for a relation dropped since */
		if (tsm_rows_value(r, i, 6) == NULL || tsm_rows_value(r, i, 7) == NULL)
			tsm_source_relation_dropped(rel->qualname);
		rel->size = tsm_rows_int64(r, i, 6);
		rel->blocks = tsm_rows_int64(r, i, 7);
	}
	*nrels = r->nrows;
	return rels;
}
