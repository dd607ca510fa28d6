/*-------------------------------------------------------------------------
 *
 * replay.h
 *	  Running the source's statements on the target (replay/)
 *
 * IDENTIFICATION
 *	  src/replay/replay.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_REPLAY_H
#define TSM_REPLAY_H

#include "tsmigrate.h"
#include "schema/schema.h"

/*
 * What a statement from the source is about, for the error context of its
 * replay (executor.c): "replaying definition of <kind> <name>", the error
 * position pointing into "sql".
 */
typedef struct TsmReplayContext
{
	const char *kind;			/* "role", "table", ... */
	const char *name;
	bool		name_quoted;	/* came quoted: not quoted again */
	const char *sql;			/* the statement running, or NULL */
	ErrorContextCallback callback;
} TsmReplayContext;

/* in replay/executor.c */
extern void tsm_replay_context_push(TsmReplayContext *ctx, const char *kind,
									const char *name, bool name_quoted);
extern void tsm_replay_context_pop(TsmReplayContext *ctx);
extern Node *tsm_replay_parse_one(const char *sql, const char *kind,
								  const char *name, bool name_quoted);
extern void tsm_replay_statement(const char *sql, NodeTag expected,
								 const char *kind, const char *name);
typedef void (*TsmStmtRewrite) (Node *stmt, void *arg);
extern void tsm_replay_rewritten(const char *sql, NodeTag expected,
								 const char *kind, const char *name,
								 TsmStmtRewrite rewrite, void *arg);
extern void tsm_replay_index_on(const char *indexdef, const char *src_schema,
								const char *src_table, const char *schema,
								const char *table, const char *idxname);
extern char *tsm_replay_guarded(int nstmts, const char *const *sqls,
								const NodeTag *tags, const char *kind,
								const char *name, const int *codes);
extern void tsm_replay_rolled_back(void (*fn) (void *arg), void *arg);

/*
 * What a replay of the source's schema statements may do, and what it
 * created so far (replay_check.c): one per pull_schema call, schema worker
 * or copy worker.
 */
typedef struct TsmReplayGuard
{
	bits32		allow;			/* TSM_ALLOW_* that the caller gave */
	const char *source;			/* the source's label, whose objects in
								 * tsmigrate.created_object count */
	bool		dry_run;		/* check everything, run nothing */
	struct HTAB *created;		/* objects created (or found to be) this
								 * migration's */
	List	   *new_objects;	/* schemas and relations the running statement
								 * created */
	MemoryContext cxt;			/* of the two above */
} TsmReplayGuard;

/* in replay.c: what pull_schema did (tsm_pull_schema) */
typedef struct TsmSchemaDone
{
	int64		created;
	int64		existing;		/* found there already (skip_existing) */
} TsmSchemaDone;

extern void tsm_pull_schema(TsmSource *src, TsmSchemaSection section, int jobs,
							bool skip_existing, TsmSchemaOptions *opts,
							TsmSchemaDone *done);

/*
 * A section's objects, generated and ready to be replayed in batches, each
 * in a transaction of the caller's (migrate's steps), in replay.c.
 */
typedef struct TsmSectionReplay
{
	TsmSchemaSection section;
	List	   *objects;		/* TsmSchemaObjects, in replay order */
	TsmReplayGuard guard;
	MemoryContext cxt;			/* holds it all; outlives commits */
} TsmSectionReplay;

extern TsmSectionReplay *tsm_section_begin(TsmSource *src, TsmSchemaSection section,
										   bool skip_existing, TsmSchemaOptions *opts,
										   TsmSchemaDone *done);
extern void tsm_section_replay(TsmSectionReplay *replay, int from, int count);
extern void tsm_section_end(TsmSectionReplay *replay);
extern int	tsm_section_batch_size(void);

/* in replay_check.c */
extern void tsm_replay_check_init(void);
extern void tsm_replay_guard_init(TsmReplayGuard *guard, bits32 allow,
								  const char *source, bool dry_run);
extern void tsm_replay_check(const TsmSchemaObject *obj, Node *stmt,
							 TsmReplayGuard *guard);
extern void tsm_replay_check_absent(Node *stmt);
extern bool tsm_replay_relation_is_ours(Oid relid, TsmReplayGuard *guard);
extern void tsm_replay_watch(TsmReplayGuard *guard);
extern void tsm_replay_unwatch(void);
extern void tsm_replay_record(TsmReplayGuard *guard);

/* in extensions.c: what sync_extensions did (tsm_sync_extensions) */
typedef struct TsmExtensionsDone
{
	List	   *actions;		/* each extension's action, in order */
	const char *timescaledb_source; /* TimescaleDB's versions and action, */
	const char *timescaledb_target; /* when the source has it */
	const char *timescaledb_action;
} TsmExtensionsDone;

extern void tsm_sync_extensions(PGconn *conn, bool dry_run,
								struct ReturnSetInfo *rsinfo,
								TsmExtensionsDone *done);

/* in roles.c */
extern void tsm_pull_roles(TsmSource *src, TsmConsent *consent, int *created,
						   int *existing, int *skipped);

/* in replay_object.c */
extern void tsm_replay_settings(GucAction action);
extern void tsm_index_builds_side_by_side(void);
extern void tsm_replay_object(const TsmSchemaObject *obj, MemoryContext objcxt,
							  TsmReplayGuard *guard);

/* in replay_secrets.c */
extern bool tsm_replay_holds_secret(const TsmSchemaObject *obj, const char *sql);
extern void tsm_replay_hiding_secrets(const char *sql, void (*fn) (void *arg),
									  void *arg);

/* in replay_parallel.c */
extern void tsm_replay_parallel(List *objects, int jobs,
								const TsmReplayGuard *guard, int *committed);
extern void tsm_replay_limit_splits(List *objects);
PGDLLEXPORT void tsmigrate_replay_worker_main(Datum main_arg);

/* in replay_early.c */
extern int	tsm_early_indexes_attach(PGconn *conn, const TsmSchemaOptions *opts,
									 const char *source, TsmCopyTask *tasks,
									 int ntasks);
extern void tsm_early_index_build(const TsmSchemaObject *obj, bool alone,
								  TsmReplayGuard *guard);

/* in replay_chunks.c */
extern bool tsm_replay_chunk_statements(const TsmSchemaObject *obj, List **chunk_stmts,
										List **chunk_relids, TsmSchemaStmt **root,
										List **indexes);

#endif							/* TSM_REPLAY_H */
