/*-------------------------------------------------------------------------
 *
 * relations.h
 *	  The source's tables, sequences and materialized views (relations.c)
 *
 * IDENTIFICATION
 *	  src/source_catalog/relations.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_SOURCE_RELATIONS_H
#define TSM_SOURCE_RELATIONS_H

#include "libpq-fe.h"

/* one relation of the source that holds data to migrate */
typedef struct TsmSourceRelation
{
	Oid			oid;			/* on the source */
	char	   *nspname;
	char	   *relname;
	char	   *qualname;		/* quoted and qualified */
	char		relkind;		/* r, S or m */
	bool		populated;		/* a materialized view: populated */
	int64		reltuples;		/* the planner's estimate, -1 unknown */
	int64		size;			/* bytes of its main fork */
	int64		blocks;			/* and its blocks */
} TsmSourceRelation;

extern TsmSourceRelation *tsm_source_relations(PGconn *conn, const char *relkinds,
											   int *nrels);

#endif							/* TSM_SOURCE_RELATIONS_H */
