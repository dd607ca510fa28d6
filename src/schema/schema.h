/*-------------------------------------------------------------------------
 *
 * schema.h
 *	  The schema generator: its objects and statements, for replay/ and
 *	  copy/, and what its files share (src/schema/); the catalog queries'
 *	  pieces are in catalog_sql.h
 *
 * IDENTIFICATION
 *	  src/schema/schema.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_SCHEMA_H
#define TSM_SCHEMA_H

#include "nodes/pg_list.h"

#include "tsmigrate.h"

/* in schema.c: one section of the source's schema, in creation order */
typedef enum TsmSchemaSection
{
	TSM_SECTION_PRE_DATA,
	TSM_SECTION_POST_DATA
} TsmSchemaSection;

/* one generated statement and the parse node it must produce */
typedef struct TsmSchemaStmt
{
	char	   *tag;			/* NodeTag name, e.g. "CreateStmt": from the
								 * source, a hint that checks never trust */
	char	   *sql;
	bool		replace;		/* may replace a placeholder (OR REPLACE) */
	bool		without_timescaledb;	/* run with TimescaleDB's hooks off
										 * (replay_chunks.c) */
} TsmSchemaStmt;

/*
 * The priority of an index in post-data (pg_dump's order, schema_postdata.c):
 * what sorts after it (triggers, rules, policies ...) waits for the second
 * steps of split constraints (replay_parallel.c).
 */
#define TSM_PRIO_INDEX 61

/* one object of the source's schema */
typedef struct TsmSchemaObject
{
	Oid			classid;		/* as in pg_depend; 0 if none points to it */
	Oid			objid;
	char	   *kind;			/* "table", "index", ... */
	char	   *name;			/* quoted, qualified */
	int			prio;
	List	   *stmts;			/* of TsmSchemaStmt */
	char	   *placeholder;	/* a view's stand-in that breaks a cycle */
	List	   *after;			/* objects of the section it depends on */
	int			seq;			/* its place in the section's order */
	/* a primary key or unique constraint that may be built in two steps */
	char	   *split_index;	/* CREATE UNIQUE INDEX of the constraint */
	char	   *split_constraint;	/* ADD CONSTRAINT ... USING INDEX */
	char	   *owner;			/* its owner on the source (raw name), or NULL */
	bool		superuser_definer;	/* allow: SECURITY DEFINER owned by a
									 * superuser here */
} TsmSchemaObject;

extern TsmSchemaSection tsm_schema_section(const char *name);
extern List *tsm_schema_objects(PGconn *conn, TsmSchemaSection section,
								const TsmSchemaOptions *opts);

/* in schema_subscriptions.c: only those the source login can read */
extern void tsm_schema_subscription_queries(PGconn *conn, List **queries,
											int version, bool post);
extern List *tsm_schema_subscriptions_here(List *objects);

/* in schema_owners.c */
extern bool tsm_schema_stmt_applies(const TsmSchemaObject *obj,
									const TsmSchemaStmt *s, Node *stmt);

/* in schema_owners.c */
extern void tsm_schema_privilege_queries(List **queries, int version, bool post,
										 const TsmSchemaOptions *opts);
extern List *tsm_schema_existing_privilege_queries(int version);
extern void tsm_schema_owners(PGconn *conn, List *objects,
							  const TsmSchemaOptions *opts);

#endif							/* TSM_SCHEMA_H */
