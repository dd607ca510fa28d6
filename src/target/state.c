/*-------------------------------------------------------------------------
 *
 * state.c
 *	  The rows of tsmigrate.run, run_step, run_relation and run_object
 *
 * NOTES
 *	A run moves running -> done, or running -> failed -> running (resumed)
 *	-> ... -> done.  Each step moves pending -> running -> done | skipped,
 *	or running -> failed -> running on resume.  Each relation of the data
 *	step moves pending -> copying -> copied, or copying -> failed; a
 *	relation found "copying" or "failed" when a run resumes is emptied and
 *	copied again (tablesync's SUBREL_STATE_DATASYNC rule): its rows were
 *	never committed together with "copied", so nothing is lost and nothing
 *	is duplicated.
 *
 *	Every function here runs SQL through SPI and expects the caller (the
 *	migrate procedure) to be connected to SPI and to commit when the state
 *	it wrote should become visible and durable.
 *
 * IDENTIFICATION
 *	  src/target/state.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "target/state.h"

static int	state_exec(const char *sql, int nargs, Oid *types, Datum *values,
					   const char *nulls);
static char *state_value(int row, int col);
static void mark_run_abandoned(int64 run_id, const char *pid);

/* the states as the tables' CHECK constraints spell them, by enum value */
static const char *const run_state_names[] = {"running", "failed", "done", "streaming"};
static const char *const step_state_names[] = {"pending", "running", "done", "failed", "skipped"};
static const char *const relation_state_names[] = {"pending", "copying", "copied", "failed"};

/*
 * The enum value of a state read back from a table ("names" in enum order);
 * the tables' CHECK constraints allow no other.
 */
static int
state_index(const char *const *names, int nnames, const char *name,
			const char *what)
{
	int			i;

	for (i = 0; i < nnames; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	elog(ERROR, "unexpected %s state \"%s\"", what, name);
}

/* a run's state as tsmigrate.run holds it */
static TsmRunState
run_state(const char *name)
{
	return (TsmRunState) state_index(run_state_names, lengthof(run_state_names),
									 name, "run");
}

/*
 * tsm_state_open_run
 *		Find the run to work on, or start one.
 *
 * The last run of this database is resumed when it did not finish and has
 * the same source; a finished run with the same source sets *complete.  A
 * new run gets one pending row per step in "steps".
 */
int64
tsm_state_open_run(const char *source, int jobs, bool roles,
				   const char *const *steps, int nsteps,
				   bool *complete, bool *resumed)
{
	Oid			types[4] = {TEXTOID, INT4OID, BOOLOID, INT4OID};
	Datum		values[4];
	int64		run_id;
	int			i;

	*complete = false;
	*resumed = false;

	/*
	 * Only the caller's own runs: a superuser bypasses the tables' row level
	 * security, and must never resume what another role could have written.
	 */
	state_exec("SELECT run_id, source, state, pid FROM tsmigrate.run"
			   " WHERE owner OPERATOR(pg_catalog.=) CURRENT_USER"
			   " ORDER BY run_id DESC LIMIT 1 FOR UPDATE", 0, NULL, NULL, NULL);
	if (SPI_processed > 0)
	{
		int64		last_id = pg_strtoint64(state_value(0, 1));
		char	   *last_source = state_value(0, 2);
		TsmRunState last_state = run_state(state_value(0, 3));

		/*
		 * Running, while this call holds migrate's lock: the backend that ran
		 * it was terminated before it could record its end.
		 */
		if (last_state == TSM_RUN_RUNNING)
		{
			mark_run_abandoned(last_id, state_value(0, 4));
			last_state = TSM_RUN_FAILED;
		}

		if (last_state == TSM_RUN_DONE && strcmp(last_source, source) == 0)
		{
			*complete = true;
			return last_id;
		}

		/*
		 * Stopped in its checks, before anything changed (a refused online
		 * run, a wrong version): nothing to finish; a call with another
		 * source starts afresh.
		 */
		if (last_state != TSM_RUN_DONE && strcmp(last_source, source) != 0)
		{
			Oid			idtype[1] = {INT8OID};
			Datum		idvalue[1];

			idvalue[0] = Int64GetDatum(last_id);
			state_exec("SELECT FROM tsmigrate.run_step WHERE run_id OPERATOR(pg_catalog.=) $1"
					   " AND step OPERATOR(pg_catalog.<>) 'checks'"
					   " AND state OPERATOR(pg_catalog.<>) 'pending' LIMIT 1",
					   1, idtype, idvalue, NULL);
			if (SPI_processed == 0)
			{
				state_exec("DELETE FROM tsmigrate.run WHERE run_id OPERATOR(pg_catalog.=) $1",
						   1, idtype, idvalue, NULL);
				ereport(NOTICE,
						errmsg("migration run " INT64_FORMAT " from \"%s\" stopped in its checks, before anything changed: it is discarded",
							   last_id, last_source));
				last_state = TSM_RUN_DONE;	/* as if finished: start anew */
			}
		}
		if (last_state != TSM_RUN_DONE)
		{
			if (strcmp(last_source, source) != 0)
				ereport(ERROR,
						errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("migration run " INT64_FORMAT " from source \"%s\" is not finished",
							   last_id, last_source),
						errhint("Call tsmigrate.migrate with that source to finish it, or start over with DELETE FROM tsmigrate.run WHERE run_id = " INT64_FORMAT ".",
								last_id));

			types[0] = INT8OID;
			values[0] = Int64GetDatum(last_id);
			values[1] = Int32GetDatum(jobs);
			values[2] = BoolGetDatum(roles);
			values[3] = Int32GetDatum(MyProcPid);
			state_exec("UPDATE tsmigrate.run SET state = 'running', error = NULL,"
					   " finished = NULL, jobs = $2, roles = $3, pid = $4"
					   " WHERE run_id OPERATOR(pg_catalog.=) $1", 4, types, values, NULL);
			*resumed = true;
			return last_id;
		}
	}

	values[0] = CStringGetTextDatum(source);
	values[1] = Int32GetDatum(jobs);
	values[2] = BoolGetDatum(roles);
	values[3] = Int32GetDatum(MyProcPid);
	state_exec("INSERT INTO tsmigrate.run (source, jobs, roles, pid)"
			   " VALUES ($1, $2, $3, $4) RETURNING run_id", 4, types, values, NULL);
	run_id = pg_strtoint64(state_value(0, 1));

	for (i = 0; i < nsteps; i++)
	{
		Oid			steptypes[3] = {INT8OID, INT4OID, TEXTOID};
		Datum		stepvalues[3];

		stepvalues[0] = Int64GetDatum(run_id);
		stepvalues[1] = Int32GetDatum(i + 1);
		stepvalues[2] = CStringGetTextDatum(steps[i]);
		state_exec("INSERT INTO tsmigrate.run_step (run_id, ordinal, step) VALUES ($1, $2, $3)",
				   3, steptypes, stepvalues, NULL);
	}
	return run_id;
}

/*
 * tsm_state_step_state
 *		The state of one step of a run.
 */
TsmStepState
tsm_state_step_state(int64 run_id, const char *step)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(step);
	state_exec("SELECT state FROM tsmigrate.run_step"
			   " WHERE run_id OPERATOR(pg_catalog.=) $1 AND step OPERATOR(pg_catalog.=) $2",
			   2, types, values, NULL);
	if (SPI_processed == 0)
		elog(ERROR, "step \"%s\" of run " INT64_FORMAT " not found", step, run_id);
	return (TsmStepState) state_index(step_state_names, lengthof(step_state_names),
									  state_value(0, 1), "step");
}

/*
 * tsm_state_step_mark
 *		Move a step to "state", with an optional detail or error text.
 *		"running" also stamps the start time; done, skipped and failed the
 *		end time.
 */
void
tsm_state_step_mark(int64 run_id, const char *step, TsmStepState state,
					const char *detail, const char *error)
{
	Oid			types[5] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(step);
	values[2] = CStringGetTextDatum(step_state_names[state]);
	if (detail)
		values[3] = CStringGetTextDatum(detail);
	else
		nulls[3] = 'n';
	if (error)
		values[4] = CStringGetTextDatum(error);
	else
		nulls[4] = 'n';
	state_exec("UPDATE tsmigrate.run_step SET state = $3, detail = $4, error = $5,"
			   " started = CASE WHEN $3 OPERATOR(pg_catalog.=) 'running'"
			   "  THEN pg_catalog.clock_timestamp() ELSE started END,"
			   " finished = CASE WHEN $3 OPERATOR(pg_catalog.=) 'running'"
			   "  THEN NULL ELSE pg_catalog.clock_timestamp() END"
			   " WHERE run_id OPERATOR(pg_catalog.=) $1 AND step OPERATOR(pg_catalog.=) $2", 5, types, values, nulls);
}

/*
 * tsm_state_run_mark
 *		Move the run to "state" (done or failed), with the error if any.
 */
void
tsm_state_run_mark(int64 run_id, TsmRunState state, const char *error)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(run_state_names[state]);
	if (error)
		values[2] = CStringGetTextDatum(error);
	else
		nulls[2] = 'n';
	state_exec("UPDATE tsmigrate.run SET state = $2, error = $3,"
			   " finished = pg_catalog.clock_timestamp() WHERE run_id OPERATOR(pg_catalog.=) $1",
			   3, types, values, nulls);
}

/*
 * tsm_state_add_relation
 *		Record a relation of the source for the data step (once per run).
 */
void
tsm_state_add_relation(int64 run_id, const char *relation, int64 est_rows,
					   int64 est_bytes)
{
	Oid			types[4] = {INT8OID, TEXTOID, INT8OID, INT8OID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(relation);
	values[2] = Int64GetDatum(est_rows);
	values[3] = Int64GetDatum(est_bytes);
	if (est_rows < 0)
		nulls[2] = 'n';
	state_exec("INSERT INTO tsmigrate.run_relation (run_id, relation, est_rows, est_bytes)"
			   " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", 4, types, values, nulls);
}

/*
 * tsm_state_relations_todo
 *		The relations of a run not copied yet, largest first, with their
 *		state and estimated size: (relation, state, est_bytes).
 */
TsmRows *
tsm_state_relations_todo(int64 run_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	TsmRows    *rows = palloc0(sizeof(TsmRows));
	uint64		r;

	values[0] = Int64GetDatum(run_id);
	state_exec("SELECT relation, state, COALESCE(est_bytes, 0)::text FROM tsmigrate.run_relation"
			   " WHERE run_id OPERATOR(pg_catalog.=) $1 AND state OPERATOR(pg_catalog.<>) 'copied'"
			   " ORDER BY est_bytes DESC NULLS LAST, relation", 1, types, values, NULL);
	rows->nrows = (int) SPI_processed;
	rows->ncols = 3;
	rows->values = palloc0(sizeof(char *) * Max(1, rows->nrows * 3));
	for (r = 0; r < SPI_processed; r++)
	{
		rows->values[r * 3] = state_value(r, 1);
		rows->values[r * 3 + 1] = state_value(r, 2);
		rows->values[r * 3 + 2] = state_value(r, 3);
	}
	return rows;
}

/*
 * tsm_state_objects_done
 *		Record objects of a schema section as created by the run, in the
 *		transaction that created them: a resumed step replays the others.
 */
void
tsm_state_objects_done(int64 run_id, const char *section, int n,
					   const char *const *kinds, const char *const *names)
{
	Oid			types[4] = {INT8OID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID};
	Datum		values[4];
	Datum	   *kind_datums = palloc(sizeof(Datum) * Max(n, 1));
	Datum	   *name_datums = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	if (n <= 0)
		return;
	for (i = 0; i < n; i++)
	{
		kind_datums[i] = CStringGetTextDatum(kinds[i]);
		name_datums[i] = CStringGetTextDatum(names[i]);
	}
	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(section);
	values[2] = PointerGetDatum(construct_array(kind_datums, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[3] = PointerGetDatum(construct_array(name_datums, n, TEXTOID, -1, false, TYPALIGN_INT));
	state_exec("INSERT INTO tsmigrate.run_object (run_id, section, kind, name)"
			   " SELECT $1, $2, o.kind, o.name FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4)) AS o (kind, name)",
			   4, types, values, NULL);
}

/*
 * tsm_state_objects_recorded
 *		The objects of a section that the run's committed batches created:
 *		(kind, name).
 */
TsmRows *
tsm_state_objects_recorded(int64 run_id, const char *section)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	TsmRows    *rows = palloc0(sizeof(TsmRows));
	uint64		r;

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(section);
	state_exec("SELECT kind, name FROM tsmigrate.run_object"
			   " WHERE run_id OPERATOR(pg_catalog.=) $1 AND section OPERATOR(pg_catalog.=) $2",
			   2, types, values, NULL);
	rows->nrows = (int) SPI_processed;
	rows->ncols = 2;
	rows->values = palloc0(sizeof(char *) * Max(1, rows->nrows * 2));
	for (r = 0; r < SPI_processed; r++)
	{
		rows->values[r * 2] = state_value(r, 1);
		rows->values[r * 2 + 1] = state_value(r, 2);
	}
	return rows;
}

/*
 * tsm_state_relation_state
 *		A relation's state as tsm_state_relations_todo returns it.
 */
TsmRelationState
tsm_state_relation_state(const char *name)
{
	return (TsmRelationState) state_index(relation_state_names,
										  lengthof(relation_state_names),
										  name, "relation");
}

/*
 * tsm_state_relation_mark
 *		Move a relation to "state"; rows and bytes are recorded when >= 0.
 */
void
tsm_state_relation_mark(int64 run_id, const char *relation,
						TsmRelationState state, int64 rows, int64 bytes,
						const char *error)
{
	Oid			types[6] = {INT8OID, TEXTOID, TEXTOID, INT8OID, INT8OID, TEXTOID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(relation);
	values[2] = CStringGetTextDatum(relation_state_names[state]);
	values[3] = Int64GetDatum(rows);
	values[4] = Int64GetDatum(bytes);
	if (rows < 0)
		nulls[3] = 'n';
	if (bytes < 0)
		nulls[4] = 'n';
	if (error)
		values[5] = CStringGetTextDatum(error);
	else
		nulls[5] = 'n';
	state_exec("UPDATE tsmigrate.run_relation SET state = $3, rows = $4, bytes = $5, error = $6,"
			   " started = CASE WHEN $3 OPERATOR(pg_catalog.=) 'copying'"
			   "  THEN pg_catalog.clock_timestamp() ELSE started END,"
			   " finished = CASE WHEN $3 OPERATOR(pg_catalog.=) 'copying'"
			   "  THEN NULL ELSE pg_catalog.clock_timestamp() END"
			   " WHERE run_id OPERATOR(pg_catalog.=) $1 AND relation OPERATOR(pg_catalog.=) $2", 6, types, values, nulls);
}

/*
 * tsm_state_relations_failed
 *		Mark failed, with "error", the relations of a run caught copying.
 */
void
tsm_state_relations_failed(int64 run_id, const char *error)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(error);
	state_exec("UPDATE tsmigrate.run_relation SET state = 'failed', error = $2,"
			   " finished = pg_catalog.clock_timestamp()"
			   " WHERE run_id OPERATOR(pg_catalog.=) $1 AND state OPERATOR(pg_catalog.=) 'copying'", 2, types, values, NULL);
}

/*
 * tsm_state_running_pid
 *		The backend holding tsmigrate's migration lock on this database, or
 *		0 when none does (pg_locks, so it is right even after a crash).
 */
int
tsm_state_running_pid(void)
{
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		values[2];

	values[0] = Int32GetDatum(TSM_MIGRATE_LOCK_KEY1);
	values[1] = Int32GetDatum(TSM_MIGRATE_LOCK_KEY2);
	state_exec("SELECT pid FROM pg_catalog.pg_locks"
			   " WHERE locktype OPERATOR(pg_catalog.=) 'advisory' AND granted"
			   "   AND database OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_database"
			   "         WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
			   "   AND classid OPERATOR(pg_catalog.=) $1::pg_catalog.oid"
			   "   AND objid OPERATOR(pg_catalog.=) $2::pg_catalog.oid"
			   "   AND objsubid OPERATOR(pg_catalog.=) 2"
			   " LIMIT 1", 2, types, values, NULL);
	return SPI_processed > 0 ? pg_strtoint32(state_value(0, 1)) : 0;
}

static int
state_exec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	return rc;
}

/* one value of the last state_exec() result, copied; NULL for SQL NULL */
static char *
state_value(int row, int col)
{
	char	   *value = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);

	return value ? pstrdup(value) : NULL;
}

/*
 * A run left "running" by a backend that was terminated (or a server that
 * crashed) before it could record its end: its running step and the
 * relations it was copying are marked failed, as an error would have left
 * them, so that progress tells the truth and the resume empties them.
 */
static void
mark_run_abandoned(int64 run_id, const char *pid)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	char	   *error;

	error = psprintf("the backend running it (pid %s) ended before the run finished",
					 pid ? pid : "?");
	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(error);
	state_exec("UPDATE tsmigrate.run SET state = 'failed', error = $2,"
			   " finished = pg_catalog.clock_timestamp()"
			   " WHERE run_id OPERATOR(pg_catalog.=) $1", 2, types, values, NULL);
	state_exec("UPDATE tsmigrate.run_step SET state = 'failed', error = $2,"
			   " finished = pg_catalog.clock_timestamp()"
			   " WHERE run_id OPERATOR(pg_catalog.=) $1 AND state OPERATOR(pg_catalog.=) 'running'",
			   2, types, values, NULL);
	tsm_state_relations_failed(run_id, error);
	ereport(NOTICE,
			errmsg("migration run " INT64_FORMAT " was left running by a backend that ended; marked failed",
				   run_id));
}
