/*-------------------------------------------------------------------------
 *
 * tsmigrate.h
 *	  Types and cross-file functions of tsmigrate
 *
 * Each group below names the file that owns it.  Files include this header
 * after their PostgreSQL headers.
 *
 * IDENTIFICATION
 *	  src/tsmigrate.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSMIGRATE_H
#define TSMIGRATE_H

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq-fe.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/relcache.h"

#include "compat.h"

struct ReturnSetInfo;

/*
 * A resolved source: what tsmigrate connects to.  keywords and values are
 * NULL-terminated arrays for PQconnectdbParams(), with the options that
 * tsmigrate forces (application_name, client_encoding) already appended.
 */
typedef struct TsmSource
{
	char	   *label;			/* for messages: server name, or host/dbname */
	Oid			serverid;		/* foreign server, or InvalidOid */
	bool		has_password;	/* did the caller supply a password? */
	const char **keywords;
	const char **values;
} TsmSource;

/*
 * Rows of a remote query, copied out of the PGresult into palloc'd memory
 * so that no libpq memory outlives the call that fetched it.  Read them
 * with the checked accessors of remote_rows.c: the source is not trusted.
 */
typedef struct TsmRows
{
	int			nrows;
	int			ncols;
	char	  **values;			/* nrows * ncols; NULL is SQL NULL */
	const char *what;			/* what the query reads, for messages */
	char	  **names;			/* column names as the source gave them, or
								 * NULL */
} TsmRows;

/*
 * One read of the source, as pull_data and pull_chunks plan it: the
 * command text is made from it by tsm_copy_command (copy/copy_command.c) only, when the copy
 * runs, as postgres_fdw's deparse.c makes its remote queries.
 */
typedef struct TsmCopyCommand
{
	const char *relation;		/* quoted, schema-qualified source name */
	const char *columns;		/* quoted column list; NULL or "": all */
	bool		query;			/* COPY (SELECT ...): the rows a query reads
								 * (a compressed chunk's rows decompressed) */
	bool		only;			/* with query: FROM ONLY, not the children */
	int64		first_block;	/* with query: from this block (0: first) */
	int64		end_block;		/* with query: before this block (0: to the
								 * end, including rows added since) */
	bool		binary;			/* binary allowed by the source and the
								 * columns' types (tsm_copy_binary_allowed) */
} TsmCopyCommand;

/*
 * One unit of copy work: a table, or one block range of a large table.
 * Built by pull_data.c, run by the leader or by copy workers (copy/copy_workers.c).
 */
typedef struct TsmCopyTask
{
	Oid			relid;			/* target table */
	int			relation;		/* result row this task adds to */
	TsmCopyCommand command;		/* what it reads on the source */
	int64		size;			/* source bytes to read, for ordering */
	char	   *columns;		/* target column names, '\0'-separated, ending
								 * with an empty name */
	int			columns_len;	/* bytes of "columns", final '\0' included */
	const char *mark;			/* migrate: the run_relation name to mark
								 * copying, then copied with this task */
	bool		leader_marks;	/* ... but copied by the leader, later */
	List	   *indexes;		/* migrate: TsmSchemaObjects, post-data index
								 * builds to run once the relation is copied */
	/* results, set once the task is copied */
	int64		rows;
	int64		bytes;
	int64		start;			/* TimestampTz of the copy's start */
	int64		end;			/* and of its end */
} TsmCopyTask;

/*
 * Copy work prepared by pull_data (tsm_data_prepare) or pull_chunks
 * (tsm_chunks_prepare): the tasks, and the preparer's own relations or
 * chunks, which it needs again afterwards.
 */
typedef struct TsmCopyPlan
{
	TsmCopyTask *tasks;
	int			ntasks;
	void	   *items;
	int			nitems;
} TsmCopyPlan;

/* in tsmigrate.c: the settings (module.c defines them) */
extern char *tsm_source_setting;
extern int	tsm_cancel_timeout_ms;
extern int	tsm_max_jobs;
extern int	tsm_copy_split_size_kb;
extern bool tsm_copy_binary;
extern bool tsm_copy_compressed;
extern bool tsm_copy_freeze;
extern bool tsm_copy_indexes;

/*
 * What the caller allows a source to bring beyond its own objects (the
 * "allow" argument of pull_roles, pull_schema and migrate).  consent.c.
 */
#define TSM_ALLOW_PARAMETER_PRIVILEGES	0x0001	/* GRANT ... ON PARAMETER */
#define TSM_ALLOW_CREATEROLE			0x0002	/* the CREATEROLE attribute */
#define TSM_ALLOW_C_FUNCTIONS			0x0004	/* LANGUAGE c or internal */
#define TSM_ALLOW_UNTRUSTED_LANGUAGES	0x0008	/* plpython3u, plperlu, ... */
#define TSM_ALLOW_EVENT_TRIGGERS		0x0010	/* CREATE EVENT TRIGGER */
#define TSM_ALLOW_EXISTING_OBJECTS		0x0020	/* changes to objects this run
												 * did not create */
#define TSM_ALLOW_SUPERUSER_DEFINER		0x0040	/* a SECURITY DEFINER function
												 * owned by a superuser here */

typedef struct TsmConsent
{
	bits32		flags;			/* TSM_ALLOW_* */
	List	   *member_of;		/* role names: memberships allowed in them */
	List	   *settings;		/* parameters that only a superuser may set,
								 * allowed as role settings */
} TsmConsent;

/*
 * How a schema section is generated: with the source's owners and
 * privileges (pg_dump's default) or without them (--no-owner,
 * --no-privileges), and what the caller allowed.
 */
typedef struct TsmSchemaOptions
{
	bool		owners;
	bool		privileges;
	const TsmConsent *consent;
} TsmSchemaOptions;

/* in consent.c */
extern TsmConsent *tsm_consent_parse(ArrayType *allow);
extern TsmConsent *tsm_consent_from_arg(FunctionCallInfo fcinfo, int argno);
extern bool tsm_consent_allows(const TsmConsent *consent, bits32 what);
extern bool tsm_consent_allows_membership(const TsmConsent *consent,
										  const char *rolname);
extern bool tsm_consent_allows_setting(const TsmConsent *consent,
									   const char *parameter);

/* in source.c */
extern TsmSource *tsm_source_resolve(const char *source);
extern TsmSource *tsm_source_from_arg(FunctionCallInfo fcinfo, int argno);
extern bool tsm_source_is_conninfo(const char *source);
extern void tsm_source_flatten(const TsmSource *src, StringInfo buf);
extern TsmSource *tsm_source_unflatten(const char *flat);
extern bool tsm_source_check_setting(char **newval, void **extra, GucSource source);
extern bool tsm_text_has_password(const char *text);
extern char *tsm_redact_passwords(const char *text);
extern void tsm_install_log_hook(void);

/* in fdw_validator.c */
extern bool tsm_option_allowed(const PQconninfoOption *opt);

/* in conn.c */
extern PGconn *tsm_conn_open(const TsmSource *src);
extern PGconn *tsm_conn_open_session(const TsmSource *src);
extern TsmRows *tsm_source_sessions(PGconn *conn);
extern void tsm_run_scope_begin(const char *arg, TsmSource *src);
extern bool tsm_run_scope_has(const TsmSource *src);
extern void tsm_run_scope_forget(void);
extern void tsm_run_scope_end(void);
extern void tsm_conn_close(PGconn *conn);
extern bool tsm_conn_exposed(PGconn *conn, char *peer, size_t peerlen);
extern PGresult *tsm_conn_exec(PGconn *conn, const char *sql, int nparams,
							   const char *const *params, ExecStatusType expected);
extern void tsm_conn_command(PGconn *conn, const char *sql);
tsm_noreturn extern void tsm_report_remote_error(PGresult *res, PGconn *conn,
												 const char *sql) tsm_noreturn_after;

/* in versions.c */
extern char *tsm_local_extversion(const char *extname);
extern bool tsm_local_version_available(const char *extname, const char *version);

/* in target_query.c */
extern char *tsm_local_query_value(const char *sql, const char *param1,
								   const char *param2);
extern bool tsm_local_has_row(const char *sql, const char *param1,
							  const char *param2);

/* in target_hypertables.c */
extern bool tsm_target_is_hypertable(Oid relid);
extern const char *tsm_hypertable_sql(const char *sql);

/* in remote_rows.c */
extern TsmRows *tsm_query(PGconn *conn, const char *sql, int nparams,
						  const char *const *params, int ncols,
						  const char *what);
extern TsmRows *tsm_rows_from_result(const PGresult *res, int ncols,
									 const char *what);
extern const char *tsm_rows_value(const TsmRows *rows, int row, int col);
extern const char *tsm_rows_get(const TsmRows *rows, int row, int col);
extern const char *tsm_rows_name(const TsmRows *rows, int row, int col);
extern int32 tsm_rows_int32(const TsmRows *rows, int row, int col);
extern int64 tsm_rows_int64(const TsmRows *rows, int row, int col);
extern Oid	tsm_rows_oid(const TsmRows *rows, int row, int col);
extern bool tsm_rows_bool(const TsmRows *rows, int row, int col);
extern void tsm_rows_store(const TsmRows *rows, FunctionCallInfo fcinfo);
tsm_noreturn extern void tsm_source_relation_dropped(const char *qualname) tsm_noreturn_after;
extern int	tsm_server_version_num(PGconn *conn);
extern List *tsm_array_items(const char *array);

/* in copy.c */
extern void tsm_copy_check_target(Relation rel);
extern bool tsm_copy_prepare_freeze(Oid relid);
extern uint64 tsm_copy_table(PGconn *conn, Oid relid,
							 const TsmCopyCommand *cmd, const char *columns,
							 bool freeze, uint64 *bytes);

/* in copy/copy_workers.c */
extern void tsm_copy_run_tasks(PGconn *conn, const TsmSource *src,
							   const char *snapshot, TsmCopyTask *tasks,
							   int ntasks, int jobs, int64 run_id);
extern PGconn *tsm_copy_open_source(const TsmSource *src, int jobs,
									const char *given_snapshot, char **snapshot);
extern void tsm_parallel_copy(const TsmSource *src, const char *snapshot,
							  TsmCopyTask **tasks, int ntasks, int jobs,
							  int64 run_id);
PGDLLEXPORT void tsmigrate_copy_worker_main(Datum main_arg);

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

/* in schema_owners.c */
extern bool tsm_schema_stmt_applies(const TsmSchemaObject *obj,
									const TsmSchemaStmt *s, Node *stmt);

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

/* in replay_parallel.c */
extern void tsm_replay_parallel(List *objects, int jobs,
								const TsmReplayGuard *guard);
extern void tsm_replay_limit_splits(List *objects);
PGDLLEXPORT void tsmigrate_replay_worker_main(Datum main_arg);

/* in pull_data.c */
extern TsmCopyPlan *tsm_data_prepare(PGconn *conn, ArrayType *tables, int jobs);
extern void tsm_data_large_objects(PGconn *conn, int64 *count, int64 *bytes);
extern void tsm_data_sequences(PGconn *conn, TsmCopyPlan *plan, int64 run_id);

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

/* in timescale.c */
extern TsmCopyPlan *tsm_chunks_prepare(PGconn *conn, ArrayType *wanted);
extern void tsm_chunks_attach(TsmCopyPlan *plan, int64 run_id);
extern bool tsm_source_has_timescaledb(PGconn *conn);
extern int64 tsm_compress_chunks(PGconn *conn, struct ReturnSetInfo *rsinfo);

/* what pull_hypertables did (tsm_pull_hypertables) */
typedef struct TsmHypertablesDone
{
	int			hypertables;	/* and continuous aggregates */
	int64		chunks;
	int64		compressed;		/* chunks compressed on the source */
} TsmHypertablesDone;

extern void tsm_pull_hypertables(TsmSource *src, bool with_data,
								 TsmHypertablesDone *done);

/* in jobs.c */
extern int	tsm_pull_jobs(TsmSource *src, bool owners, int *created);
extern List *tsm_source_hypertables(PGconn *conn);
extern bool tsm_is_hypertable(List *hypertables, const char *qualname);
extern TsmRows *tsm_source_chunks(PGconn *conn);
extern bool tsm_target_is_chunk(const char *qualname);
extern struct HTAB *tsm_target_chunk_names(void);
extern bool tsm_target_chunk_names_has(struct HTAB *names, const char *qualname);
extern char *tsm_timescaledb_schema(void);

/* in compressed_copy.c */
typedef struct TsmCompressed
{
	char	   *chunk;			/* the chunk, quoted, qualified (both sides) */
	char	   *src_schema;		/* the source's compressed chunk */
	char	   *src_table;
	char	   *pending;		/* the table here that takes its rows, in
								 * src_schema */
	char	   *coldefs;		/* its columns: "name type, ..." */
	char	   *srccols;		/* quoted column list */
	char	   *tgtcols;		/* '\0'-separated names, ending with "" */
	int			tgtcols_len;
	bool		binary;			/* every type has binary send/receive */
	List	   *sizes;			/* compression_chunk_size's eight, as text */
	List	   *indexdefs;		/* the compressed chunk's indexes */
	List	   *indexnames;
	char	   *settings;		/* its compression settings, as JSON */
} TsmCompressed;

extern TsmCompressed *tsm_compressed_chunks(PGconn *conn, int *n);
extern TsmCompressed *tsm_compressed_find(TsmCompressed *ccs, int n,
										  const char *qualname);
extern Oid	tsm_compressed_pending_relid(const TsmCompressed *cc);
extern void tsm_compressed_prepare(const TsmCompressed *cc);
extern void tsm_compressed_attach(const TsmCompressed *cc, Oid chunkid);
extern char *tsm_compressed_pending_of(const char *qualname);

/* in caggs.c */
extern Oid	tsm_cagg_create(PGconn *conn, int mat_id);
extern void tsm_caggs_finish(PGconn *conn, struct ReturnSetInfo *rsinfo);

#endif							/* TSMIGRATE_H */
