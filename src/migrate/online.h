/*-------------------------------------------------------------------------
 *
 * online.h
 *	  migrate(online => true)'s pieces (online.c, cutover.c)
 *
 * IDENTIFICATION
 *	  src/migrate/online.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_ONLINE_H
#define TSM_ONLINE_H

#include "tsmigrate.h"

/* in online.c */
extern void tsm_online_check(PGconn *conn, TsmSource *src);
extern void tsm_online_snapshot(int64 run_id, TsmSource *src, PGconn *snapshot_conn);
extern char *tsm_online_start_stream(int64 run_id);
extern TsmRows *tsm_online_stream_row(int64 run_id);
extern bool tsm_online_worker_alive(const char *pid, int64 run_id);
extern void tsm_online_stop_worker(int64 run_id);
extern void tsm_online_run_update(const char *sql, int64 run_id);

/* in cutover.c */
extern char *tsm_online_cutover_begin(int64 run_id, TsmSource *src, bool force);
extern bool tsm_online_cutover_applied(int64 run_id, const char *token,
									   bool *worker_gone);
extern char *tsm_online_cutover_finish(int64 run_id, TsmSource *src);

#endif							/* TSM_ONLINE_H */
