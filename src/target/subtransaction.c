/*-------------------------------------------------------------------------
 *
 * subtransaction.c
 *	  Running a piece of work in a subtransaction of the caller's, as a
 *	  PL/pgSQL block with an EXCEPTION clause does
 *
 * For work whose error the caller handles (an ANALYZE that may fail, a
 * lookup that may not find), and for reads whose locks should not outlive
 * them (rolled back, a subtransaction takes its locks along: verify's
 * batches).  migrate's steps have their own (migrate.c's run_guarded),
 * which also marks the run state.
 *
 * IDENTIFICATION
 *	  src/target/subtransaction.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "tsmigrate.h"
#include "target/target.h"

/*
 * tsm_subtransaction
 *		Run fn(arg) in a subtransaction.  When it returns, the subtransaction
 *		is committed ("keep") or rolled back (what it wrote, and the locks it
 *		took, undone), and NULL is returned.  When it raises an error, the
 *		subtransaction is rolled back and the error returned, copied into
 *		the caller's memory context, for the caller to raise again
 *		(ReThrowError) or to report.  The caller's memory context and
 *		resource owner are as they were either way.
 */
ErrorData *
tsm_subtransaction(void (*fn) (void *arg), void *arg, bool keep)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		fn(arg);
		if (keep)
			ReleaseCurrentSubTransaction();
		else
			RollbackAndReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	return edata;
}
