/*-------------------------------------------------------------------------
 *
 * workers.c
 *	  Background workers of a leader backend: their shared memory, start
 *	  and stop, their errors relayed to the leader, running as the caller
 *
 * The copy workers (copy/copy_workers.c) and the post-data schema workers
 * (replay/replay_parallel.c) are built on this; it knows nothing of what
 * they do.  A leader lays out one DSM segment with shm_toc
 * (tsm_workers_segment): its shared state, a text area and one shm_mq per
 * worker, through which the worker's errors and notices reach the leader
 * (pq_redirect_to_shm_mq, as parallel query does).  Workers run as the
 * caller: they log in as the caller's authenticated user and take on the
 * session user, current role and security context of the leader, as
 * parallel workers do, and the caller's settings that matter to their
 * statements (tsm_caller_settings_capture).  The leader's DSM detach
 * callback terminates them (tsm_workers_terminate), so an error in the
 * leader never leaves a worker running.
 *
 * Every entry point that starts workers checks its "jobs" argument and its
 * transaction first (tsm_copy_check_jobs).
 *
 * IDENTIFICATION
 *	  src/workers/workers.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "mb/pg_wchar.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
#include "miscadmin.h"
#include "pgstat.h"

#include "compat.h"
#include "tsmigrate.h"
#include "workers/workers.h"

/* the keys of a workers' DSM segment */
#define TSM_KEY_SHARED		1
#define TSM_KEY_TEXT		2
#define TSM_KEY_ERRQ		3

/* the caller's settings that matter to the workers' statements */
static const char *const caller_settings[] = {
	"maintenance_work_mem",
	"max_parallel_maintenance_workers",
	"work_mem",
	"synchronous_commit",
};

static void rethrow_worker_message(StringInfo msg, const char *label);

/*
 * tsm_copy_check_jobs
 *		Check the "jobs" argument of a copying function ("what" names it).
 *
 * Workers commit on their own, so with several jobs the caller must see
 * their rows afterwards: not in a REPEATABLE READ or SERIALIZABLE
 * transaction.
 */
void
tsm_copy_check_jobs(int jobs, const char *what)
{
	if (jobs < 1 || jobs > tsm_max_jobs)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("number of jobs must be between 1 and %d", tsm_max_jobs),
				errhint("Raise \"tsmigrate.max_jobs\" to allow more parallel copy workers."));
	if (jobs > 1 && IsolationUsesXactSnapshot())
		ereport(ERROR,
				errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				errmsg("%s with more than one job cannot run in a REPEATABLE READ or SERIALIZABLE transaction",
					   what),
				errhint("Run it in a READ COMMITTED transaction, or with jobs => 1."));
	if (jobs > 1)
		tsm_workers_check_no_relation_locks(what);
}

/*
 * tsm_workers_check_no_relation_locks
 *		Workers are other sessions: a lock that this transaction holds on a
 *		table would make them wait for the leader, which waits for them, for
 *		ever.  Refuse up front ("what" names the caller's function).
 *		tsmigrate's own state tables, catalogs and indexes do not count.
 */
void
tsm_workers_check_no_relation_locks(const char *what)
{
	LockData   *locks = GetLockStatusData();
	Oid			own_nsp = get_namespace_oid("tsmigrate", true);
	int			i;

	for (i = 0; i < locks->nelements; i++)
	{
		LockInstanceData *inst = &locks->locks[i];
		Oid			relid;
		char		relkind;

		if (inst->pid != MyProcPid || inst->holdMask == 0 ||
			inst->locktag.locktag_type != LOCKTAG_RELATION ||
			inst->locktag.locktag_field1 != MyDatabaseId)
			continue;
		relid = inst->locktag.locktag_field2;
		relkind = get_rel_relkind(relid);
		if (relid < FirstNormalObjectId || get_rel_namespace(relid) == own_nsp ||
			!OidIsValid(get_rel_namespace(relid)) ||
			relkind == RELKIND_INDEX || relkind == RELKIND_PARTITIONED_INDEX ||
			relkind == RELKIND_TOASTVALUE)	/* its table is named instead */
			continue;
		ereport(ERROR,
				errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				errmsg("%s with more than one job cannot run in a transaction that holds a lock on relation \"%s\"",
					   what, get_rel_name(relid)),
				errdetail("Its workers would wait for the lock."),
				errhint("Commit first, or call it with jobs => 1."));
	}
}

/*
 * tsm_workers_segment
 *		In the leader: the DSM segment of "nworkers" workers, under "magic":
 *		the shared state (*shared, shared_size bytes, copied in; *shared then
 *		points at the copy, whose spinlock the caller initializes), the text
 *		area, and one error queue of TSM_WORKER_ERRQ_SIZE per worker
 *		(*errq).
 */
dsm_segment *
tsm_workers_segment(uint64 magic, void **shared, Size shared_size,
					const StringInfoData *area, int nworkers, char **errq)
{
	shm_toc_estimator e;
	Size		segsize;
	dsm_segment *seg;
	shm_toc    *toc;
	void	   *sh;
	char	   *textarea;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, shared_size);
	shm_toc_estimate_chunk(&e, area->len);
	shm_toc_estimate_chunk(&e, (Size) TSM_WORKER_ERRQ_SIZE * nworkers);
	shm_toc_estimate_keys(&e, 3);
	segsize = shm_toc_estimate(&e);

	seg = dsm_create(segsize, 0);
	toc = shm_toc_create(magic, dsm_segment_address(seg), segsize);
	sh = shm_toc_allocate(toc, shared_size);
	memcpy(sh, *shared, shared_size);
	pfree(*shared);
	*shared = sh;
	shm_toc_insert(toc, TSM_KEY_SHARED, sh);
	textarea = shm_toc_allocate(toc, area->len);
	memcpy(textarea, area->data, area->len);
	shm_toc_insert(toc, TSM_KEY_TEXT, textarea);
	*errq = shm_toc_allocate(toc, (Size) TSM_WORKER_ERRQ_SIZE * nworkers);
	shm_toc_insert(toc, TSM_KEY_ERRQ, *errq);
	return seg;
}

/*
 * tsm_worker_map
 *		In a worker: map the leader's segment (tsm_workers_segment) and find
 *		its parts; *myindex is this worker's number, from bgw_extra, for the
 *		caller to check.
 */
dsm_segment *
tsm_worker_map(Datum main_arg, uint64 magic, const char *what, void **shared,
			   char **area, char **errq, int *myindex)
{
	dsm_segment *seg;
	shm_toc    *toc;

	CurrentResourceOwner = ResourceOwnerCreate(NULL, what);
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("could not map dynamic shared memory segment"));
	toc = shm_toc_attach(magic, dsm_segment_address(seg));
	if (toc == NULL)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("invalid magic number in dynamic shared memory segment"));
	*shared = shm_toc_lookup(toc, TSM_KEY_SHARED, false);
	*area = shm_toc_lookup(toc, TSM_KEY_TEXT, false);
	*errq = shm_toc_lookup(toc, TSM_KEY_ERRQ, false);
	memcpy(myindex, MyBgworkerEntry->bgw_extra, sizeof(int));
	return seg;
}

/*
 * tsm_workers_start
 *		In the leader: register "nworkers" background workers running
 *		"function" on the segment of tsm_workers_segment, each with its
 *		error queue attached in mqh[i].  Leaving by error (or cancel) from
 *		here on stops every worker started (the segment's detach callback).
 *		Returns their handles; nregistered says how many could start.
 */
TsmWorkerHandles *
tsm_workers_start(dsm_segment *seg, char *errq, int nworkers,
				  const char *function, const char *type, shm_mq_handle **mqh)
{
	TsmWorkerHandles *lstate;
	int			i;

	lstate = MemoryContextAllocZero(TopMemoryContext,
									offsetof(TsmWorkerHandles, handles) +
									sizeof(BackgroundWorkerHandle *) * nworkers);
	lstate->nworkers = nworkers;
	on_dsm_detach(seg, tsm_workers_terminate, PointerGetDatum(lstate));

	for (i = 0; i < nworkers; i++)
	{
		BackgroundWorker worker;
		shm_mq	   *mq;
		MemoryContext oldcxt;
		bool		registered;

		mq = shm_mq_create(errq + (Size) TSM_WORKER_ERRQ_SIZE * i, TSM_WORKER_ERRQ_SIZE);
		shm_mq_set_receiver(mq, MyProc);

		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_ConsistentState;
		worker.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(worker.bgw_library_name, BGW_MAXLEN, "tsmigrate");
		snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", function);
		snprintf(worker.bgw_name, BGW_MAXLEN, "%s %d for PID %d", type, i + 1, MyProcPid);
		snprintf(worker.bgw_type, BGW_MAXLEN, "%s", type);
		worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
		memcpy(worker.bgw_extra, &i, sizeof(int));
		worker.bgw_notify_pid = MyProcPid;

		/* the handles must outlive an abort: the detach callback uses them */
		oldcxt = MemoryContextSwitchTo(TopMemoryContext);
		registered = RegisterDynamicBackgroundWorker(&worker, &lstate->handles[i]);
		MemoryContextSwitchTo(oldcxt);
		if (!registered)
			break;
		lstate->nregistered++;
		mqh[i] = shm_mq_attach(mq, seg, lstate->handles[i]);
	}
	return lstate;
}

/*
 * tsm_worker_errors_to_leader
 *		In a worker: from here on, its errors and notices go to the leader,
 *		through its queue.
 */
void
tsm_worker_errors_to_leader(dsm_segment *seg, char *errq, int myindex)
{
	shm_mq	   *mq = (shm_mq *) (errq + (Size) TSM_WORKER_ERRQ_SIZE * myindex);
	shm_mq_handle *mqh;

	shm_mq_set_sender(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);
	pq_redirect_to_shm_mq(seg, mqh);
}

/*
 * tsm_workers_area_add
 *		In the leader: append "str" to a segment's text area, "len" bytes or,
 *		with len -1, up to and with its NUL; return its offset there.
 */
Size
tsm_workers_area_add(StringInfo area, const char *str, int len)
{
	Size		off = area->len;

	if (len < 0)
		len = strlen(str) + 1;
	appendBinaryStringInfo(area, str, len);
	return off;
}

/*
 * tsm_worker_begin
 *		In a worker whose segment is mapped and whose PGPROC is in its slot:
 *		its errors go to the leader from here on; it connects to the
 *		caller's database, with the database's encoding as client_encoding
 *		(binary COPY's text values are read with it), and begins a
 *		transaction as the caller, with the caller's settings.
 */
void
tsm_worker_begin(dsm_segment *seg, char *errq, int myindex,
				 const TsmCaller *caller, const char *settings, int nsettings)
{
	tsm_worker_errors_to_leader(seg, errq, myindex);
	tsm_caller_connect(caller);
	SetClientEncoding(GetDatabaseEncoding());
	StartTransactionCommand();
	tsm_caller_become(caller);
	tsm_caller_settings_apply(settings, nsettings);
}

/*
 * tsm_workers_terminate
 *		on_dsm_detach callback of a leader ("arg": its TsmWorkerHandles),
 *		which is leaving (normally after cancel_on_dsm_detach(), so only on
 *		error or cancel): stop the workers.  Their transactions abort.
 */
void
tsm_workers_terminate(dsm_segment *seg, Datum arg)
{
	TsmWorkerHandles *lstate = (TsmWorkerHandles *) DatumGetPointer(arg);
	int			i;

	for (i = 0; i < lstate->nworkers; i++)
	{
		if (lstate->handles[i] != NULL)
		{
			TerminateBackgroundWorker(lstate->handles[i]);
			pfree(lstate->handles[i]);
		}
	}
	pfree(lstate);
}

/*
 * tsm_worker_drain_errors
 *		Read what a worker sent through its error queue, without waiting,
 *		and raise it here with "label" (the kind of worker) as context.
 */
void
tsm_worker_drain_errors(shm_mq_handle *mqh, bool *detached, const char *label)
{
	for (;;)
	{
		Size		nbytes;
		void	   *data;
		shm_mq_result res;
		StringInfoData msg;

		res = shm_mq_receive(mqh, &nbytes, &data, true);
		if (res == SHM_MQ_WOULD_BLOCK)
			return;
		if (res == SHM_MQ_DETACHED)
		{
			*detached = true;
			return;
		}
		initStringInfo(&msg);
		appendBinaryStringInfo(&msg, data, nbytes);
		rethrow_worker_message(&msg, label);
		pfree(msg.data);
	}
}

/*
 * An ErrorResponse or NoticeResponse from a worker: raise it here, as
 * parallel.c's HandleParallelMessage does, capped at ERROR.
 */
static void
rethrow_worker_message(StringInfo msg, const char *label)
{
	char		msgtype = pq_getmsgbyte(msg);

	if (msgtype == 'E' || msgtype == 'N')
	{
		ErrorData	edata;

		pq_parse_errornotice(msg, &edata);
		edata.elevel = Min(edata.elevel, ERROR);
		if (edata.context)
			edata.context = psprintf("%s\n%s", edata.context, label);
		else
			edata.context = pstrdup(label);
		ThrowErrorData(&edata);
	}
	/* anything else a worker might send is of no interest */
}

/*
 * tsm_caller_capture
 *		In the leader: who the caller is, for the workers to become.
 */
void
tsm_caller_capture(TsmCaller *caller)
{
	caller->database_id = MyDatabaseId;
	caller->authenticated_user_id = GetAuthenticatedUserId();
	caller->session_user_id = GetSessionUserId();
	caller->session_is_superuser = superuser_arg(caller->session_user_id);
	caller->current_role_id = GetCurrentRoleId();
	caller->role_is_superuser = OidIsValid(caller->current_role_id) ?
		superuser_arg(caller->current_role_id) : caller->session_is_superuser;
	GetUserIdAndSecContext(&caller->current_user_id, &caller->sec_context);
}

/*
 * tsm_caller_connect
 *		In a worker: connect to the caller's database as the user who
 *		logged in there.
 */
void
tsm_caller_connect(const TsmCaller *caller)
{
	BackgroundWorkerInitializeConnectionByOid(caller->database_id,
											  caller->authenticated_user_id, 0);
}

/*
 * tsm_caller_become
 *		In a worker's transaction: the caller's session user, role and
 *		security context, as a parallel worker takes them; never more.
 */
void
tsm_caller_become(const TsmCaller *caller)
{
	SetSessionAuthorization(caller->session_user_id, caller->session_is_superuser);
	SetCurrentRoleId(caller->current_role_id, caller->role_is_superuser);
	SetUserIdAndSecContext(caller->current_user_id, caller->sec_context);
}

/*
 * tsm_caller_settings_capture
 *		In the leader: append the caller's settings that its workers take on
 *		to the text area, as name\0value\0 pairs; returns their offset and
 *		sets *n to their number.
 */
Size
tsm_caller_settings_capture(StringInfo area, int *n)
{
	Size		off = area->len;
	int			i;

	for (i = 0; i < lengthof(caller_settings); i++)
	{
		appendBinaryStringInfo(area, caller_settings[i], strlen(caller_settings[i]) + 1);
		appendStringInfoString(area, GetConfigOptionByName(caller_settings[i], NULL, false));
		appendStringInfoChar(area, '\0');
	}
	*n = lengthof(caller_settings);
	return off;
}

/*
 * tsm_caller_settings_apply
 *		In a worker's transaction: take on the "n" settings at "p", for the
 *		session.
 */
void
tsm_caller_settings_apply(const char *p, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		const char *name = p;
		const char *value = p + strlen(p) + 1;

		(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SET, true, 0, false);
		p = value + strlen(value) + 1;
	}
}
