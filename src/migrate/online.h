/*-------------------------------------------------------------------------
 *
 * online.h
 *	  migrate(online => true)'s pieces (online.c)
 *
 * IDENTIFICATION
 *	  src/migrate/online.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_ONLINE_H
#define TSM_ONLINE_H

#include "tsmigrate.h"

extern void tsm_online_check(PGconn *conn, TsmSource *src);
extern void tsm_online_snapshot(int64 run_id, TsmSource *src, PGconn *snapshot_conn);
extern char *tsm_online_start_stream(int64 run_id);
extern char *tsm_online_cutover(int64 run_id, TsmSource *src, bool force);

#endif							/* TSM_ONLINE_H */
