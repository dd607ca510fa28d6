/*-------------------------------------------------------------------------
 *
 * jobs.c
 *	  TimescaleDB jobs: policies and user jobs, with the source's schedule
 *
 * A pg_dump of TimescaleDB's catalog brings the jobs but not their next
 * start times, so every policy fires as soon as the restore ends (a
 * retention policy then drops chunks).  pull_jobs recreates each job of the
 * source (ids from 1000 on: TimescaleDB's own jobs are left to the target's
 * extension) through TimescaleDB's API, in one transaction:
 *
 *	add_job			the same procedure, schedule, config (its hypertable
 *					and materialization ids made this side's), check
 *					function, fixed schedule, initial start and time zone,
 *					not scheduled yet;
 *	alter_job_set_hypertable_id
 *					the same hypertable or continuous aggregate, which is
 *					what makes a policy one (timescaledb_information.jobs,
 *					remove_*_policy, DROP cascade);
 *	alter_job		the same name, max runtime, retries, retry period,
 *					scheduled or not, and next start.
 *
 * Each job is added as its source owner (owners => true), so that
 * TimescaleDB records that role as the job's owner and runs the job as it,
 * as its own add_job does for the role that calls it: only when that role
 * exists here, the caller may SET ROLE to it (or is a superuser) and it may
 * log in, which TimescaleDB asks of a job's owner.  Otherwise the job is the
 * caller's, with a WARNING naming the job and its source owner.
 *
 * TimescaleDB's scheduler sees a job only once its transaction commits, by
 * which time its next start is the source's: none fires early.  migrate
 * runs this once all data is in and compressed, so no migrated job ever
 * runs against half-loaded data.  A job that the target already has (same
 * procedure, relation and config) is reported, not added twice.
 *
 * IDENTIFICATION
 *	  src/timescale/jobs.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "catalog/pg_authid.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"
#include "replay/replay.h"
#include "source_catalog/source_catalog.h"
#include "target/target.h"
#include "timescale/timescale.h"

PG_FUNCTION_INFO_V1(tsmigrate_pull_jobs);

/* a job's relation: its continuous aggregate, or else its hypertable */
#define JOB_RELATION \
	"CASE WHEN ca.mat_hypertable_id IS NOT NULL" \
	" THEN pg_catalog.format('%I.%I', ca.user_view_schema, ca.user_view_name)" \
	" WHEN h.id IS NOT NULL THEN pg_catalog.format('%I.%I', h.schema_name, h.table_name) END"

/*
 * The source's jobs, with the relation of each (a hypertable, or the
 * continuous aggregate whose materialization it is) and its next start.
 */
static const char *const jobs_sql =
"SELECT j.id, j.application_name, pg_catalog.format('%I.%I', j.proc_schema, j.proc_name),"
"       j.schedule_interval::pg_catalog.text, j.max_runtime::pg_catalog.text,"
"       j.max_retries, j.retry_period::pg_catalog.text, j.scheduled, j.fixed_schedule,"
"       j.initial_start::pg_catalog.text, j.config::pg_catalog.text,"
"       CASE WHEN j.check_name IS NOT NULL"
"            THEN pg_catalog.format('%I.%I', j.check_schema, j.check_name) END,"
"       j.timezone, " JOB_RELATION ","
"       ca.mat_hypertable_id IS NOT NULL,"
"       (SELECT pg_catalog.format('%I.%I', mca.user_view_schema, mca.user_view_name)"
"          FROM _timescaledb_catalog.continuous_agg mca"
"         WHERE mca.mat_hypertable_id OPERATOR(pg_catalog.=)"
"               (j.config OPERATOR(pg_catalog.->>) 'mat_hypertable_id')::pg_catalog.int4),"
"       (SELECT ij.next_start::pg_catalog.text FROM timescaledb_information.jobs ij"
"         WHERE ij.job_id OPERATOR(pg_catalog.=) j.id),"
"       (SELECT r.rolname FROM pg_catalog.pg_roles r"
"         WHERE r.oid OPERATOR(pg_catalog.=) j.owner::pg_catalog.oid)"
"  FROM _timescaledb_catalog.bgw_job j"
"  LEFT JOIN _timescaledb_catalog.hypertable h ON h.id OPERATOR(pg_catalog.=) j.hypertable_id"
"  LEFT JOIN _timescaledb_catalog.continuous_agg ca"
"         ON ca.mat_hypertable_id OPERATOR(pg_catalog.=) j.hypertable_id"
" WHERE j.id OPERATOR(pg_catalog.>=) 1000"
" ORDER BY j.id";

/* the id here of a hypertable, or of an aggregate's materialization */
static const char *const target_htid_sql =
"SELECT COALESCE("
"  (SELECT ca.mat_hypertable_id FROM _timescaledb_catalog.continuous_agg ca"
"    WHERE pg_catalog.format('%I.%I', ca.user_view_schema, ca.user_view_name) OPERATOR(pg_catalog.=) $1),"
"  (SELECT h.id FROM _timescaledb_catalog.hypertable h"
"    WHERE pg_catalog.format('%I.%I', h.schema_name, h.table_name) OPERATOR(pg_catalog.=) $1))";

typedef struct PullJobsArgs
{
	TsmSource  *src;
	bool		dry_run;
	bool		owners;			/* each job owned as on the source */
	ReturnSetInfo *rsinfo;		/* a row per job, or NULL */
	int			jobs;			/* how many */
	int			created;		/* and created here */
} PullJobsArgs;

static void pull_jobs(void *arg);
static char *target_config(const char *config, const char *relation,
						   const char *mat_cagg);
static char *existing_job(const char *proc, const char *relation, const char *config);
static int32 add_job(TsmRows *jobs, int j, const char *config);
static char *spi_value(const char *sql, int nargs, Oid *types, Datum *values,
					   const char *nulls);
static Oid	job_owner(const char *owner, const char *srcid, const char *name);

/*
 * tsmigrate.pull_jobs(source text, dry_run boolean, owners boolean)
 *		The source's TimescaleDB jobs, here, with their schedules.  One row
 *		per job: its id on the source and here, name, relation, next start,
 *		and what was done.
 */
Datum
tsmigrate_pull_jobs(PG_FUNCTION_ARGS)
{
	PullJobsArgs args = {0};

	args.src = tsm_source_from_arg(fcinfo, 0);
	args.dry_run = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	args.owners = PG_NARGS() <= 2 || PG_ARGISNULL(2) || PG_GETARG_BOOL(2);
	InitMaterializedSRF(fcinfo, 0);
	args.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	if (args.dry_run)
		tsm_replay_rolled_back(pull_jobs, &args);
	else
		pull_jobs(&args);
	return (Datum) 0;
}

/*
 * tsm_pull_jobs
 *		pull_jobs' work for migrate: no rows; returns how many jobs, and
 *		sets *created to how many were created here.
 */
int
tsm_pull_jobs(TsmSource *src, bool owners, int *created)
{
	PullJobsArgs args = {0};

	args.src = src;
	args.owners = owners;
	pull_jobs(&args);
	*created = args.created;
	return args.jobs;
}

static void
pull_jobs(void *arg)
{
	PullJobsArgs *args = arg;
	PGconn	   *conn = tsm_conn_open(args->src);
	TsmRows    *jobs;
	int			j;

	if (tsm_query(conn, "SELECT FROM pg_catalog.pg_extension"
				  " WHERE extname OPERATOR(pg_catalog.=) 'timescaledb'", 0, NULL,
				  0, "the source's TimescaleDB")->nrows == 0)
	{
		tsm_conn_close(conn);
		return;
	}
	jobs = tsm_query(conn, jobs_sql, 0, NULL, 18, "the source's jobs");
	tsm_conn_close(conn);
	if (jobs->nrows > 0 && tsm_local_extversion("timescaledb") == NULL)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("the source has TimescaleDB jobs but the target has no TimescaleDB"),
				errhint("Run tsmigrate.sync_extensions() first, or see SELECT * FROM tsmigrate.check_versions()."));

	SPI_connect();
	for (j = 0; j < jobs->nrows; j++)
	{
		const char *relation = tsm_rows_value(jobs, j, 13);
		const char *next_start = tsm_rows_value(jobs, j, 16);
		char	   *config;
		char	   *existing;
		const char *action;
		int32		id = 0;
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		CHECK_FOR_INTERRUPTS();
		config = target_config(tsm_rows_value(jobs, j, 10), relation,
							   tsm_rows_value(jobs, j, 15));
		existing = existing_job(tsm_rows_get(jobs, j, 2), relation, config);
		if (existing != NULL)
		{
			id = pg_strtoint32(existing);
			action = "exists";
		}
		else
		{
			Oid			ownerid = args->owners ?
				job_owner(tsm_rows_value(jobs, j, 17), tsm_rows_get(jobs, j, 0),
						  tsm_rows_get(jobs, j, 1)) : InvalidOid;
			Oid			save_userid;
			int			save_sec;

			/*
			 * As its owner: add_job records the current user.  An error
			 * aborts the (sub)transaction, which restores the user.
			 */
			GetUserIdAndSecContext(&save_userid, &save_sec);
			if (OidIsValid(ownerid))
				SetUserIdAndSecContext(ownerid, save_sec | SECURITY_LOCAL_USERID_CHANGE);
			id = add_job(jobs, j, config);
			SetUserIdAndSecContext(save_userid, save_sec);
			action = args->dry_run ? "would create" : "created";
		}

		values[0] = Int32GetDatum(tsm_rows_int32(jobs, j, 0));
		values[1] = Int32GetDatum(id);
		nulls[1] = args->dry_run && existing == NULL;
		values[2] = CStringGetTextDatum(tsm_rows_get(jobs, j, 1));
		if (relation)
			values[3] = CStringGetTextDatum(relation);
		else
			nulls[3] = true;
		if (next_start)
			values[4] = DirectFunctionCall3(timestamptz_in, CStringGetDatum(next_start),
											ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		else
			nulls[4] = true;
		values[5] = CStringGetTextDatum(action);
		args->jobs++;
		if (strcmp(action, "created") == 0)
			args->created++;
		if (args->rsinfo != NULL)
			tuplestore_putvalues(args->rsinfo->setResult, args->rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
}

/*
 * A job's config with the ids of its hypertable ("hypertable_id") and of
 * its continuous aggregate's materialization ("mat_hypertable_id") made
 * this side's; NULL stays NULL.
 */
static char *
target_config(const char *config, const char *relation, const char *mat_cagg)
{
	char	   *out = config ? pstrdup(config) : NULL;
	const char *keys[2] = {"hypertable_id", "mat_hypertable_id"};
	const char *names[2] = {relation, mat_cagg};
	int			k;

	for (k = 0; k < 2 && out != NULL; k++)
	{
		Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
		Datum		values[3];
		char	   *id;

		if (!tsm_local_has_row("SELECT 1 WHERE $1::pg_catalog.jsonb OPERATOR(pg_catalog.?) $2",
							   out, keys[k]))
			continue;
		if (names[k] == NULL ||
			(id = tsm_local_query_value(target_htid_sql, names[k], NULL)) == NULL)
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_OBJECT),
					errmsg("the %s of a job's config has no hypertable on the target", keys[k]),
					errdetail("The job's config is %s.", config),
					errhint("Migrate its hypertables and continuous aggregates first, with tsmigrate.pull_hypertables()."));
		values[0] = CStringGetTextDatum(out);
		values[1] = CStringGetTextDatum(keys[k]);
		values[2] = CStringGetTextDatum(id);
		out = spi_value("SELECT pg_catalog.jsonb_set($1::pg_catalog.jsonb, ARRAY[$2],"
						" pg_catalog.to_jsonb($3::pg_catalog.int4))::pg_catalog.text",
						3, types, values, NULL);
	}
	return out;
}

/* the id of a job here with this procedure, relation and config, or NULL */
static char *
existing_job(const char *proc, const char *relation, const char *config)
{
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};

	values[0] = CStringGetTextDatum(proc);
	if (relation)
		values[1] = CStringGetTextDatum(relation);
	else
		nulls[1] = 'n';
	if (config)
		values[2] = CStringGetTextDatum(config);
	else
		nulls[2] = 'n';
	return spi_value("SELECT j.id FROM _timescaledb_catalog.bgw_job j"
					 "  LEFT JOIN _timescaledb_catalog.hypertable h ON h.id OPERATOR(pg_catalog.=) j.hypertable_id"
					 "  LEFT JOIN _timescaledb_catalog.continuous_agg ca"
					 "         ON ca.mat_hypertable_id OPERATOR(pg_catalog.=) j.hypertable_id"
					 " WHERE j.id OPERATOR(pg_catalog.>=) 1000"
					 "   AND pg_catalog.format('%I.%I', j.proc_schema, j.proc_name) OPERATOR(pg_catalog.=) $1"
					 "   AND " JOB_RELATION " IS NOT DISTINCT FROM $2"
					 "   AND j.config IS NOT DISTINCT FROM $3::pg_catalog.jsonb"
					 " ORDER BY j.id LIMIT 1",
					 3, types, values, nulls);
}

/*
 * Add row "j" of the source's jobs here with "config", unscheduled, then
 * give it its relation, name and schedule.  Returns its id here.
 */
static int32
add_job(TsmRows *jobs, int j, const char *config)
{
	const char *srcid = psprintf("%d", tsm_rows_int32(jobs, j, 0));
	const char *name = tsm_rows_get(jobs, j, 1);
	const char *relation = tsm_rows_value(jobs, j, 13);
	const char *params[12];
	Oid			types[12];
	Datum		values[12];
	char		nulls[12];
	int			i;
	int32		id;
	char	   *suffix;
	char	   *newname;

	/* proc, schedule, config, initial start, check, fixed, time zone */
	params[0] = tsm_rows_get(jobs, j, 2);
	params[1] = tsm_rows_get(jobs, j, 3);
	params[2] = config;
	params[3] = tsm_rows_value(jobs, j, 9);
	params[4] = tsm_rows_value(jobs, j, 11);
	params[5] = tsm_rows_value(jobs, j, 8);
	params[6] = tsm_rows_value(jobs, j, 12);
	for (i = 0; i < 7; i++)
	{
		types[i] = TEXTOID;
		nulls[i] = params[i] ? ' ' : 'n';
		values[i] = params[i] ? CStringGetTextDatum(params[i]) : (Datum) 0;
	}
	id = pg_strtoint32(spi_value(psprintf("SELECT %s.add_job($1::pg_catalog.regproc, $2::pg_catalog.interval,"
										  " config => $3::pg_catalog.jsonb,"
										  " initial_start => $4::pg_catalog.timestamptz,"
										  " scheduled => false,"
										  " check_config => $5::pg_catalog.regproc,"
										  " fixed_schedule => $6::pg_catalog.bool,"
										  " timezone => $7)", tsm_timescaledb_schema()),
								 7, types, values, nulls));

	if (relation != NULL)
	{
		types[0] = INT4OID;
		values[0] = Int32GetDatum(id);
		types[1] = TEXTOID;
		values[1] = CStringGetTextDatum(relation);
		spi_value("SELECT _timescaledb_functions.alter_job_set_hypertable_id($1,"
				  " $2::pg_catalog.regclass)", 2, types, values, NULL);
	}

	/*
	 * TimescaleDB names a job "<job_name> [<id>]": "Retention Policy [1001]"
	 * becomes "Retention Policy [<its id here>]".
	 */
	suffix = psprintf(" [%s]", srcid);
	if (strlen(name) > strlen(suffix) &&
		strcmp(name + strlen(name) - strlen(suffix), suffix) == 0)
		newname = pnstrdup(name, strlen(name) - strlen(suffix));
	else
		newname = pstrdup(name);

	/* name, max runtime, retries, retry period, scheduled, next start */
	params[0] = newname;
	params[1] = tsm_rows_value(jobs, j, 4);
	params[2] = tsm_rows_value(jobs, j, 5);
	params[3] = tsm_rows_value(jobs, j, 6);
	params[4] = tsm_rows_value(jobs, j, 7);
	params[5] = tsm_rows_value(jobs, j, 16);
	types[0] = INT4OID;
	values[0] = Int32GetDatum(id);
	nulls[0] = ' ';
	for (i = 0; i < 6; i++)
	{
		types[i + 1] = TEXTOID;
		nulls[i + 1] = params[i] ? ' ' : 'n';
		values[i + 1] = params[i] ? CStringGetTextDatum(params[i]) : (Datum) 0;
	}
	spi_value(psprintf("SELECT FROM %s.alter_job($1, job_name => $2,"
					   " max_runtime => $3::pg_catalog.interval,"
					   " max_retries => $4::pg_catalog.int4,"
					   " retry_period => $5::pg_catalog.interval,"
					   " scheduled => $6::pg_catalog.bool,"
					   " next_start => $7::pg_catalog.timestamptz)", tsm_timescaledb_schema()),
			  7, types, values, nulls);
	return id;
}

/* the first column of the first row of a query here, or NULL */
static char *
spi_value(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0 || SPI_tuptable->tupdesc->natts == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * job_owner
 *		The role here that a job of the source's "owner" is added as, or
 *		InvalidOid (the caller), with a WARNING saying why.
 */
static Oid
job_owner(const char *owner, const char *srcid, const char *name)
{
	Oid			roleid;
	HeapTuple	tup;
	bool		canlogin = false;
	const char *why = NULL;

	if (owner == NULL)
		return InvalidOid;
	roleid = get_role_oid(owner, true);
	if (!OidIsValid(roleid))
		why = "The role does not exist on the target.";
	else if (!superuser() && !tsm_can_set_role(GetUserId(), roleid))
		why = "The caller may not SET ROLE to it.";
	else
	{
		tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(roleid));
		if (HeapTupleIsValid(tup))
		{
			canlogin = ((Form_pg_authid) GETSTRUCT(tup))->rolcanlogin;
			ReleaseSysCache(tup);
		}
		if (!canlogin)
			why = "The role cannot log in, and TimescaleDB runs a job as its owner.";
	}
	if (why == NULL)
		return roleid;
	ereport(WARNING,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("job %s \"%s\" is added owned by role \"%s\", not by its source owner \"%s\"",
				   srcid ? srcid : "?", name ? name : "", GetUserNameFromId(GetUserId(), false), owner),
			errdetail_internal("%s", why),
			errhint("Create the role on the target first (tsmigrate.pull_roles()), or call pull_jobs with owners => false."));
	return InvalidOid;
}
