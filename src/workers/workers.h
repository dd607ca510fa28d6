/*-------------------------------------------------------------------------
 *
 * workers.h
 *	  Background workers of a leader backend (workers.c)
 *
 * IDENTIFICATION
 *	  src/workers/workers.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_WORKERS_H
#define TSM_WORKERS_H

struct BackgroundWorkerHandle;
struct dsm_segment;
struct shm_mq_handle;

/* a leader's handles of its workers, for tsm_workers_terminate */
typedef struct TsmWorkerHandles
{
	int			nworkers;
	int			nregistered;	/* how many could start */
	struct BackgroundWorkerHandle *handles[FLEXIBLE_ARRAY_MEMBER];
} TsmWorkerHandles;

extern void tsm_workers_terminate(struct dsm_segment *seg, Datum arg);
extern void tsm_worker_drain_errors(struct shm_mq_handle *mqh, bool *detached,
									const char *label);
extern void tsm_workers_check_no_relation_locks(const char *what);
extern void tsm_copy_check_jobs(int jobs, const char *what);

/* who a background worker runs as: the caller, as a parallel worker does */
typedef struct TsmCaller
{
	Oid			database_id;
	Oid			authenticated_user_id;
	Oid			session_user_id;
	bool		session_is_superuser;
	Oid			current_role_id;
	bool		role_is_superuser;
	Oid			current_user_id;
	int			sec_context;
} TsmCaller;

/* a workers' DSM segment: shared state, text area, an error queue each */
#define TSM_WORKER_ERRQ_SIZE	16384
struct StringInfoData;
extern struct dsm_segment *tsm_workers_segment(uint64 magic, void **shared,
											   Size shared_size,
											   const struct StringInfoData *area,
											   int nworkers, char **errq);
extern struct dsm_segment *tsm_worker_map(Datum main_arg, uint64 magic,
										  const char *what, void **shared,
										  char **area, char **errq, int *myindex);
extern void tsm_worker_errors_to_leader(struct dsm_segment *seg, char *errq,
										int myindex);
extern TsmWorkerHandles *tsm_workers_start(struct dsm_segment *seg, char *errq,
										   int nworkers, const char *function,
										   const char *type,
										   struct shm_mq_handle **mqh);
extern void tsm_caller_capture(TsmCaller *caller);
extern Size tsm_workers_area_add(struct StringInfoData *area, const char *str,
								 int len);
extern void tsm_worker_begin(struct dsm_segment *seg, char *errq, int myindex,
							 const TsmCaller *caller, const char *settings,
							 int nsettings);
extern void tsm_caller_connect(const TsmCaller *caller);
extern void tsm_caller_become(const TsmCaller *caller);
extern Size tsm_caller_settings_capture(struct StringInfoData *area, int *n);
extern void tsm_caller_settings_apply(const char *p, int n);

#endif							/* TSM_WORKERS_H */
