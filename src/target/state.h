/*-------------------------------------------------------------------------
 *
 * state.h
 *	  migrate's run state: runs, their steps, their relations and the schema
 *	  objects their batches committed (state.c)
 *
 * IDENTIFICATION
 *	  src/target/state.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_STATE_H
#define TSM_STATE_H

#include "tsmigrate.h"

/* the advisory lock that one migrate per database holds */
#define TSM_MIGRATE_LOCK_KEY1 0x74736d67	/* "tsmg" */
#define TSM_MIGRATE_LOCK_KEY2 1

/* tsmigrate.run.state */
typedef enum TsmRunState
{
	TSM_RUN_RUNNING,
	TSM_RUN_FAILED,
	TSM_RUN_DONE,
	TSM_RUN_STREAMING,			/* online: migrate returned, cutover to come */
} TsmRunState;

/* tsmigrate.run_step.state */
typedef enum TsmStepState
{
	TSM_STEP_PENDING,
	TSM_STEP_RUNNING,
	TSM_STEP_DONE,
	TSM_STEP_FAILED,
	TSM_STEP_SKIPPED,
} TsmStepState;

/* tsmigrate.run_relation.state */
typedef enum TsmRelationState
{
	TSM_RELATION_PENDING,
	TSM_RELATION_COPYING,
	TSM_RELATION_COPIED,
	TSM_RELATION_FAILED,
} TsmRelationState;

extern int64 tsm_state_open_run(const char *source, int jobs, bool roles,
								const char *const *steps, int nsteps,
								bool *complete, bool *resumed);
extern TsmStepState tsm_state_step_state(int64 run_id, const char *step);
extern void tsm_state_step_mark(int64 run_id, const char *step,
								TsmStepState state, const char *detail,
								const char *error);
extern void tsm_state_run_mark(int64 run_id, TsmRunState state, const char *error);
extern void tsm_state_add_relation(int64 run_id, const char *relation,
								   int64 est_rows, int64 est_bytes);
extern TsmRows *tsm_state_relations_todo(int64 run_id);
extern TsmRelationState tsm_state_relation_state(const char *name);
extern void tsm_state_relations_failed(int64 run_id, const char *error);
extern void tsm_state_relation_mark(int64 run_id, const char *relation,
									TsmRelationState state, int64 rows,
									int64 bytes, const char *error);
extern void tsm_state_objects_done(int64 run_id, const char *section, int n,
								   const char *const *kinds,
								   const char *const *names);
extern TsmRows *tsm_state_objects_recorded(int64 run_id, const char *section);
extern int	tsm_state_running_pid(void);

#endif							/* TSM_STATE_H */
