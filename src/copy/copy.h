/*-------------------------------------------------------------------------
 *
 * copy.h
 *	  Moving rows: the COPY stream, the copy workers, pull_data (copy/;
 *	  the COPY commands are copy_command.h)
 *
 * IDENTIFICATION
 *	  src/copy/copy.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_COPY_H
#define TSM_COPY_H

#include "tsmigrate.h"
#include "schema/schema.h"

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

/* in pull_data.c */
extern TsmCopyPlan *tsm_data_prepare(PGconn *conn, ArrayType *tables, int jobs);
extern void tsm_data_large_objects(PGconn *conn, int64 *count, int64 *bytes);
extern void tsm_data_sequences(PGconn *conn, TsmCopyPlan *plan, int64 run_id);
extern void tsm_copy_sequence(PGconn *conn, const char *qualname, Oid relid);

#endif							/* TSM_COPY_H */
