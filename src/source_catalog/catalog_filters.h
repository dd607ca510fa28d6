/*-------------------------------------------------------------------------
 *
 * catalog_filters.h
 *	  SQL fragments that pick the user's objects out of a catalog
 *
 * Used in catalog queries that run on the source, the target or both (so
 * valid on every version tsmigrate reads): an object is the user's when its
 * schema is not a system schema, not TimescaleDB's and not tsmigrate's,
 * and it is not itself a member of an extension.  Schema generation, the
 * data step and verify all pick objects with these, so that what is
 * created is what is copied and what is compared.
 *
 * IDENTIFICATION
 *	  src/source_catalog/catalog_filters.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_CATALOG_FILTERS_H
#define TSM_CATALOG_FILTERS_H

/*
 * true when "nspname" (an SQL expression, name or text) names a schema that
 * may hold the user's objects: not a system schema (every "pg_" name is
 * reserved), not TimescaleDB's own (its chunks are copied as chunks, its
 * catalog is the extension's), not tsmigrate's, nor that of an online
 * run's DDL event trigger on the source.  A schema an extension
 * created is not excluded here: it is itself an extension member, but what
 * the user put in it is the user's, as pg_dump dumps it.
 */
#define TSM_USER_SCHEMA_NAME(nspname) \
"(" nspname "::pg_catalog.text !~ '^pg_'" \
" AND " nspname "::pg_catalog.text <> ALL (ARRAY['information_schema'," \
" 'timescaledb_information', 'timescaledb_experimental', 'tsmigrate'])" \
" AND " nspname "::pg_catalog.text !~ '^_timescaledb'" \
" AND " TSM_NOT_STREAM_OBJECT(nspname) ")"

/*
 * The name of an online run's objects on the source (its slot, publication,
 * DDL event trigger and that trigger's schema and function:
 * tsm_stream_object_name), as a regular expression.  Exactly those names,
 * never a wider prefix: they are never migrated, reported or compared.
 */
#define TSM_STREAM_OBJECT_PATTERN "'^tsmigrate_[0-9]+_[0-9]+_[0-9]+$'"

/* true when "name" (an SQL expression) is no online run's object name */
#define TSM_NOT_STREAM_OBJECT(name) \
"(" name "::pg_catalog.text OPERATOR(pg_catalog.!~) " TSM_STREAM_OBJECT_PATTERN ")"

/* true when the namespace with OID "nspoid" (an SQL expression) is the user's */
#define TSM_USER_NAMESPACE(nspoid) \
"(SELECT " TSM_USER_SCHEMA_NAME("un.nspname") \
"  FROM pg_catalog.pg_namespace un WHERE un.oid = " nspoid ")"

/* true when the object "oid" of system catalog "catalog" is no extension's */
#define TSM_NOT_EXTENSION_MEMBER(catalog, oid) \
"NOT EXISTS (SELECT FROM pg_catalog.pg_depend ext_d " \
"             WHERE ext_d.classid = '" catalog "'::pg_catalog.regclass " \
"               AND ext_d.objid = " oid " AND ext_d.deptype = 'e')"

#endif							/* TSM_CATALOG_FILTERS_H */
