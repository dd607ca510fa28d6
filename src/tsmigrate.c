/*-------------------------------------------------------------------------
 *
 * tsmigrate.c
 *	  Module entry point: the magic block and tsmigrate's settings
 *
 * tsmigrate needs no shared_preload_libraries: the settings below are
 * defined when the library is first loaded into a backend.
 *
 * IDENTIFICATION
 *	  src/tsmigrate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "compat.h"
#include "tsmigrate.h"

PG_MODULE_MAGIC;

/* tsmigrate.source: the source used when a function is given none */
char	   *tsm_source_setting = NULL;

/* tsmigrate.cancel_timeout: how long a cancelled source query may take */
int			tsm_cancel_timeout_ms = 30000;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomStringVariable("tsmigrate.source",
							   "Sets the source database used when a tsmigrate function is given none.",
							   "A foreign server of wrapper tsmigrate, or a connection string without a password.",
							   &tsm_source_setting,
							   NULL,
							   PGC_USERSET,
							   0,
							   tsm_source_check_setting, NULL, NULL);

	DefineCustomIntVariable("tsmigrate.cancel_timeout",
							"Sets how long to wait for the source to end a cancelled query.",
							NULL,
							&tsm_cancel_timeout_ms,
							30000, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("tsmigrate");
}
