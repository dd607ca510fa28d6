/*-------------------------------------------------------------------------
 *
 * stream.h
 *	  Online migration's stream: the changes the source commits after the
 *	  copy's snapshot, applied here (stream/)
 *
 * IDENTIFICATION
 *	  src/stream/stream.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_STREAM_H
#define TSM_STREAM_H

#include "access/xlogdefs.h"
#include "lib/stringinfo.h"

#include "tsmigrate.h"

/* what the apply of one run knows: set up once by the stream worker */
typedef struct TsmApply TsmApply;

/* in apply.c */
extern TsmApply *tsm_apply_begin(int64 run_id, const char *source_label,
								 TsmSource *src);
extern void tsm_apply_message(TsmApply *apply, StringInfo msg);
extern void tsm_apply_flush(TsmApply *apply);
extern bool tsm_apply_in_transaction(TsmApply *apply);
extern XLogRecPtr tsm_apply_last_commit(TsmApply *apply, TimestampTz *committime);
extern int64 tsm_apply_transactions(TsmApply *apply);
extern const char *tsm_apply_marker(TsmApply *apply);
extern int64 tsm_apply_marker_count(TsmApply *apply);
extern PGconn *tsm_apply_source_session(TsmApply *apply);

/* in stream_worker.c */
extern PGDLLEXPORT void tsm_stream_worker_main(Datum main_arg);
extern bool tsm_stream_worker_start(int64 run_id, int *pid);
extern char *tsm_stream_object_name(int64 run_id);

#endif							/* TSM_STREAM_H */
