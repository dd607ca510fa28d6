/*-------------------------------------------------------------------------
 *
 * verify.h
 *	  What the files of tsmigrate.verify share: its state and its helpers
 *
 * verify.c owns the entry point and the general checks; verify_timescale.c
 * adds TimescaleDB's; both call down into verify_common.c's helpers.  Each
 * check is one result row (kind, object, source_value, target_value, ok).
 *
 * IDENTIFICATION
 *	  src/verify/verify.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_VERIFY_H
#define TSM_VERIFY_H

#include "funcapi.h"
#include "utils/hsearch.h"

#include "tsmigrate.h"

/* what verify found, for migrate (tsm_verify) */
typedef struct TsmVerifySummary
{
	int64		checks;
	int64		differences;	/* not ok: other than counts and what only the
								 * target has */
	StringInfoData differ;		/* "kind object: source x, target y; ..." */
	int64		only_target;	/* objects the source does not have */
	StringInfoData extra;		/* "kind object, ..." */
	int64		from_baseline;	/* relations whose rows were not counted:
								 * verify_baseline.c */
} TsmVerifySummary;

extern void tsm_verify(TsmSource *src, bool checksums, int64 baseline_run,
					   TsmVerifySummary *summary);

typedef struct VerifyState
{
	ReturnSetInfo *rsinfo;		/* a row per check, or NULL */
	TsmVerifySummary *summary;	/* or NULL */
	PGconn	   *conn;			/* the source, in a REPEATABLE READ
								 * transaction */
	bool		checksums;
	HTAB	   *baseline;		/* counts an online run took, or NULL */
	int64		from_baseline;	/* relations whose counts came from it */
} VerifyState;

/* in verify_common.c */
typedef void (*TsmVerifyItem) (VerifyState *state, int i, void *arg);
extern void tsm_verify_batched(VerifyState *state, int n, TsmVerifyItem item,
							   void *arg);
extern void tsm_verify_send(PGconn *conn, const char *sql);
extern TsmRows *tsm_verify_finish(PGconn *conn, const char *sql, int ncols,
								  const char *what);
extern TsmRows *tsm_verify_target(const char *sql);
extern Oid	tsm_verify_relation(const TsmRows *rows, int r, const char **qualname,
								bool *populated);
extern char *tsm_verify_columns(const TsmRows *rows, int r, int c);
extern void tsm_verify_put(VerifyState *state, const char *kind, const char *object,
						   const char *source_value, const char *target_value);

extern char *tsm_verify_rows_sql(const char *columns, const char *only,
								 const char *relation);
extern const char *const tsm_verify_chunks_sql;

/* in verify_baseline.c */
extern char *tsm_verify_baseline_take(PGconn *conn, int64 run_id);
extern HTAB *tsm_verify_baseline_load(int64 run_id);
extern bool tsm_verify_baseline_rows(HTAB *baseline, const char *name,
									 int64 *source_rows, int64 *target_rows);

/* in verify_timescale.c */
extern void tsm_verify_timescaledb(VerifyState *state);

#endif							/* TSM_VERIFY_H */
