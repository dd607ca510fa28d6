/*-------------------------------------------------------------------------
 *
 * schema.h
 *	  Declarations of the schema generator shared by its files
 *	  (src/schema/); the catalog queries' pieces are in catalog_sql.h
 *
 * IDENTIFICATION
 *	  src/schema/schema.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_SCHEMA_H
#define TSM_SCHEMA_H

#include "nodes/pg_list.h"

/* in schema_owners.c */
extern void tsm_schema_owners(PGconn *conn, List *objects,
							  const TsmSchemaOptions *opts);

#endif							/* TSM_SCHEMA_H */
