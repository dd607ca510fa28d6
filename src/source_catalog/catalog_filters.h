/*-------------------------------------------------------------------------
 *
 * catalog_filters.h
 *	  SQL fragments that pick the user's objects out of a catalog
 *
 * Used in catalog queries that run on the source, the target or both (so
 * valid on every version tsmigrate reads): an object is the user's when its
 * schema is not a system schema, not an extension's and not tsmigrate's,
 * and it is not itself a member of an extension.
 *
 * IDENTIFICATION
 *	  src/source_catalog/catalog_filters.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_CATALOG_FILTERS_H
#define TSM_CATALOG_FILTERS_H

/* true when the namespace with OID "nspoid" (an SQL expression) is the user's */
#define TSM_USER_NAMESPACE(nspoid) \
"(SELECT un.nspname !~ '^pg_' AND un.nspname <> 'information_schema' " \
"    AND un.nspname <> 'tsmigrate' " \
"    AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend ud " \
"                     WHERE ud.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass " \
"                       AND ud.objid = un.oid AND ud.deptype = 'e') " \
"  FROM pg_catalog.pg_namespace un WHERE un.oid = " nspoid ")"

/* true when the object "oid" of system catalog "catalog" is no extension's */
#define TSM_NOT_EXTENSION_MEMBER(catalog, oid) \
"NOT EXISTS (SELECT FROM pg_catalog.pg_depend d " \
"             WHERE d.classid = '" catalog "'::pg_catalog.regclass " \
"               AND d.objid = " oid " AND d.deptype = 'e')"

#endif							/* TSM_CATALOG_FILTERS_H */
