/*-------------------------------------------------------------------------
 *
 * preflight.h
 *	  What would stop a migration, found before anything changes
 *	  (preflight.c, preflight_kinds.c), for migrate's checks step
 *
 * IDENTIFICATION
 *	  src/migrate/preflight.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_PREFLIGHT_H
#define TSM_PREFLIGHT_H

#include "tsmigrate.h"

/* one row of tsmigrate.preflight */
typedef struct TsmPreflightRow
{
	const char *check;			/* "base type", "c function", "size", ... */
	const char *object;
	bool		ok;
	bool		blocks;			/* not ok, and a migration would fail half way */
	const char *detail;
	const char *fix;			/* or NULL */
} TsmPreflightRow;

/* in preflight.c */
extern List *tsm_preflight(PGconn *conn, const TsmConsent *consent);

/* in preflight_kinds.c, which preflight.c's checks build on */
extern void tsm_preflight_kinds(PGconn *conn, const TsmConsent *consent, List **rows);
extern void tsm_preflight_add_row(List **rows, const char *check, const char *object,
								  bool ok, bool blocks, const char *detail,
								  const char *fix);

#endif							/* TSM_PREFLIGHT_H */
