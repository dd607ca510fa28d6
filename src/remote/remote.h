/*-------------------------------------------------------------------------
 *
 * remote.h
 *	  The source: resolving it, connecting, reading its answers (remote/)
 *
 * IDENTIFICATION
 *	  src/remote/remote.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_REMOTE_H
#define TSM_REMOTE_H

#include "access/xlogdefs.h"

#include "tsmigrate.h"

/* in source.c */
extern TsmSource *tsm_source_resolve(const char *source);
extern TsmSource *tsm_source_from_arg(FunctionCallInfo fcinfo, int argno);
extern bool tsm_source_is_conninfo(const char *source);
extern void tsm_source_flatten(const TsmSource *src, StringInfo buf);
extern TsmSource *tsm_source_unflatten(const char *flat);
extern bool tsm_source_check_setting(char **newval, void **extra, GucSource source);
extern bool tsm_text_has_password(const char *text);
extern char *tsm_redact_passwords(const char *text);
extern bool tsm_conninfo_passwords(const char *conninfo, List **passwords);
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

/* in replication.c */
extern PGconn *tsm_replication_open(const TsmSource *src);
extern char *tsm_replication_create_slot(PGconn *conn, const char *slot,
										 XLogRecPtr *consistent_lsn);
extern XLogRecPtr tsm_parse_lsn(const char *text);
extern void tsm_replication_start(PGconn *conn, const char *slot,
								  XLogRecPtr start, const char *publication);
extern int	tsm_replication_receive(PGconn *conn, char **buf, long timeout_ms);
extern void tsm_replication_feedback(PGconn *conn, XLogRecPtr applied, bool reply);
extern void tsm_replication_end(PGconn *conn);
extern char *tsm_replication_own_ddl(const char *sql);
extern void tsm_replication_drop(PGconn *conn, const char *name);

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

#endif							/* TSM_REMOTE_H */
