/*-------------------------------------------------------------------------
 *
 * catalog_sql.h
 *	  The pieces the schema generator's catalog queries are built of
 *
 * Every catalog query of the generator returns the same columns, one row
 * per object:
 *
 *	classid oid, objid oid	the object as pg_depend names it (classid 0:
 *							an object that no dependency points to)
 *	kind text, name text	for reports and error context
 *	prio int				pg_dump-like priority, the tie-break of the sort
 *	stmts text[]			the statements, each "NodeTag:sql", where
 *							NodeTag names the parse node the generator
 *							meant (NULL elements are skipped); the replay
 *							does not believe it (replay_check.c);
 *							"Placeholder:", "SplitIndex:" and
 *							"SplitConstraint:" elements are no statements
 *							of their own but alternatives (schema.c)
 *
 * The queries run on the source in a session whose search_path is empty
 * (conn.c) and with quote_all_identifiers on, so that format('%I'),
 * quote_ident(), format_type() and the pg_get_*def() functions quote every
 * name, as pg_dump --quote-all-identifiers does, and unqualified operators
 * and functions can only be pg_catalog's.
 *
 * IDENTIFICATION
 *	  src/schema/catalog_sql.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_CATALOG_SQL_H
#define TSM_CATALOG_SQL_H

#include "nodes/pg_list.h"

#include "source_catalog/catalog_filters.h"

/* oid of a catalog, as a constant in a query */
#define CATOID(cat) "'pg_catalog." cat "'::pg_catalog.regclass::pg_catalog.oid"

/* a schema whose objects are generated (the one rule: catalog_filters.h) */
#define USER_NSP(nspname) TSM_USER_SCHEMA_NAME(nspname)

/* an object that is no member of an extension */
#define NOT_EXT(cat, oidexpr) TSM_NOT_EXTENSION_MEMBER("pg_catalog." cat, oidexpr)

/*
 * A view or materialized view that reads no relation of TimescaleDB's
 * internal schemas: continuous aggregates are views over internal
 * materialization tables, and TimescaleDB recreates them itself.
 */
#define NOT_TS_INTERNAL_VIEW(reloid) \
	"NOT EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite ts_r JOIN pg_catalog.pg_depend ts_d" \
	" ON ts_d.classid = " CATOID("pg_rewrite") " AND ts_d.objid = ts_r.oid AND ts_d.refclassid = " CATOID("pg_class") \
	" JOIN pg_catalog.pg_class ts_c ON ts_c.oid = ts_d.refobjid" \
	" JOIN pg_catalog.pg_namespace ts_n ON ts_n.oid = ts_c.relnamespace" \
	" WHERE ts_r.ev_class = " reloid " AND ts_n.nspname::pg_catalog.text ~ '^_timescaledb')"

/*
 * A view that reads a continuous aggregate, itself or through other views:
 * it can be made only once TimescaleDB has made the aggregate, so it comes
 * with post-data rather than pre-data.
 */
#define READS_CAGG(reloid) \
	"EXISTS (WITH RECURSIVE reads(oid) AS (" \
	" SELECT rd.refobjid FROM pg_catalog.pg_rewrite rr JOIN pg_catalog.pg_depend rd" \
	"  ON rd.classid = " CATOID("pg_rewrite") " AND rd.objid = rr.oid AND rd.refclassid = " CATOID("pg_class") \
	" WHERE rr.ev_class = " reloid " AND rd.refobjid <> rr.ev_class" \
	" UNION" \
	" SELECT rd.refobjid FROM reads JOIN pg_catalog.pg_rewrite rr ON rr.ev_class = reads.oid" \
	" JOIN pg_catalog.pg_depend rd ON rd.classid = " CATOID("pg_rewrite") " AND rd.objid = rr.oid" \
	"  AND rd.refclassid = " CATOID("pg_class") " AND rd.refobjid <> rr.ev_class)" \
	" SELECT FROM reads JOIN pg_catalog.pg_class rc ON rc.oid = reads.oid" \
	" WHERE rc.relkind = 'v' AND NOT " NOT_TS_INTERNAL_VIEW("reads.oid") ")"

/*
 * A view or materialized view whose query needs a key of a table (GROUP BY
 * the key, the other columns functionally dependent on it: its rule
 * depends on the constraint), or reads such a view: as pg_dump does, it
 * comes after the key, in post-data.
 */
#define NEEDS_KEY(reloid) \
	"EXISTS (WITH RECURSIVE reads(oid) AS (" \
	" SELECT " reloid \
	" UNION" \
	" SELECT rd.refobjid FROM reads JOIN pg_catalog.pg_rewrite rr ON rr.ev_class = reads.oid" \
	" JOIN pg_catalog.pg_depend rd ON rd.classid = " CATOID("pg_rewrite") " AND rd.objid = rr.oid" \
	"  AND rd.refclassid = " CATOID("pg_class") " AND rd.refobjid <> rr.ev_class)" \
	" SELECT FROM reads JOIN pg_catalog.pg_rewrite rr ON rr.ev_class = reads.oid" \
	" JOIN pg_catalog.pg_depend rd ON rd.classid = " CATOID("pg_rewrite") " AND rd.objid = rr.oid" \
	"  AND rd.refclassid = " CATOID("pg_constraint") ")"

/*
 * A valid, local, not inherited CHECK constraint that calls a user-defined
 * function: it is added after the table with ALTER TABLE, as pg_dump does
 * when the function takes the table's row type, which would be a cycle.
 */
#define CHECK_CALLS_FUNCTION(co) \
	"(" co ".contype = 'c' AND " co ".convalidated AND " co ".conislocal AND " co ".coninhcount = 0" \
	" AND " co ".conrelid <> 0 AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend cf_d" \
	" WHERE cf_d.classid = " CATOID("pg_constraint") " AND cf_d.objid = " co ".oid" \
	" AND cf_d.refclassid = " CATOID("pg_proc") " AND cf_d.refobjid >= 16384))"

/* one statement element */
#define STMT(tag, expr) "('" tag ":' || (" expr "))"

/*
 * COMMENT ON <target> for an object, NULL without a comment; "target" is
 * an SQL expression for the text after COMMENT ON.
 */
#define COMMENT_STMT(target, cat, oidexpr) \
	"(SELECT 'CommentStmt:' || pg_catalog.format('COMMENT ON %s IS %L', " target ", d.description)" \
	" FROM pg_catalog.pg_description d WHERE d.classoid = " CATOID(cat) \
	" AND d.objoid = " oidexpr " AND d.objsubid = 0)"

/*
 * SECURITY LABEL FOR <provider> ON <target> IS <label>, one per label of an
 * object, as pg_dump writes them after the object: a text[].  An object of
 * a shared catalog (a subscription) has its labels in pg_shseclabel.
 */
#define SECLABEL_STMTS(target, cat, oidexpr) \
	"ARRAY(SELECT 'SecLabelStmt:' || pg_catalog.format('SECURITY LABEL FOR %I ON %s IS %L', sl.provider, " target ", sl.label)" \
	" FROM pg_catalog.pg_seclabel sl WHERE sl.classoid = " CATOID(cat) \
	" AND sl.objoid = " oidexpr " AND sl.objsubid = 0 ORDER BY sl.provider)"
#define SHSECLABEL_STMTS(target, cat, oidexpr) \
	"ARRAY(SELECT 'SecLabelStmt:' || pg_catalog.format('SECURITY LABEL FOR %I ON %s IS %L', sl.provider, " target ", sl.label)" \
	" FROM pg_catalog.pg_shseclabel sl WHERE sl.classoid = " CATOID(cat) \
	" AND sl.objoid = " oidexpr " ORDER BY sl.provider)"

/* the labels of a relation's columns; "relname" is its quoted name */
#define COLUMN_SECLABEL_STMTS(relname, reloid) \
	"ARRAY(SELECT 'SecLabelStmt:' || pg_catalog.format('SECURITY LABEL FOR %I ON COLUMN %s.%I IS %L'," \
	" sl.provider, " relname ", sa.attname, sl.label)" \
	" FROM pg_catalog.pg_seclabel sl JOIN pg_catalog.pg_attribute sa ON sa.attrelid = sl.objoid AND sa.attnum = sl.objsubid" \
	" WHERE sl.classoid = " CATOID("pg_class") " AND sl.objoid = " reloid " AND sl.objsubid > 0" \
	" AND NOT sa.attisdropped ORDER BY sl.objsubid, sl.provider)"

/* generic options (FDW, server, user mapping, column) as name 'value', ... */
#define GENERIC_OPTIONS(arr) \
	"(SELECT pg_catalog.string_agg(pg_catalog.format('%I %L', pg_catalog.split_part(o, '=', 1)," \
	" pg_catalog.substr(o, pg_catalog.strpos(o, '=') + 1)), ', ') FROM pg_catalog.unnest(" arr ") o)"

/*
 * reloptions or attoptions as name='value', ..., NULL when there are none;
 * prefix is '' or 'toast.'.  Left out: a view's check_option (a clause of
 * its own) and pg_attver, an attribute version that some server builds
 * keep in attoptions and that their pg_dump leaves out too.
 */
#define RELOPTIONS(arr, prefix) \
	"(SELECT pg_catalog.string_agg(pg_catalog.format('%s%I=%L', " prefix ", pg_catalog.split_part(o, '=', 1)," \
	" pg_catalog.substr(o, pg_catalog.strpos(o, '=') + 1)), ', ') FROM pg_catalog.unnest(" arr ") o" \
	" WHERE pg_catalog.split_part(o, '=', 1) <> ALL (ARRAY['check_option', 'pg_attver']))"

/* in catalog_sql.c */
extern char *tsm_schema_subst(const char *sql, const char *value);
extern char *tsm_schema_subst_marker(const char *sql, const char *marker,
									 const char *value);

/*
 * The query lists of each part of the schema, added to "queries" for a
 * source of server version "version", pre-data or post-data ("post").
 */
/* in schema_objects.c */
extern void tsm_schema_object_queries(List **queries, int version, bool post);

/* in schema_tables.c */
extern void tsm_schema_table_queries(List **queries, int version, bool post);

/* in schema_postdata.c */
extern void tsm_schema_postdata_queries(List **queries, int version, bool post);

#endif							/* TSM_CATALOG_SQL_H */
