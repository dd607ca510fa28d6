/*-------------------------------------------------------------------------
 *
 * module.c
 *	  Module entry point: the magic block, the settings defined and the
 *	  hooks installed when the library is loaded
 *
 * tsmigrate needs no shared_preload_libraries: _PG_init runs when the
 * library is first loaded into a backend.  It is the top of the house: it
 * wires what the layers below provide (remote/'s check of tsmigrate.source
 * and its log hook, replay/'s tracking of what a replay creates); their
 * variables live in tsmigrate.c.
 *
 * IDENTIFICATION
 *	  src/module.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"
#include "replay/replay.h"

PG_MODULE_MAGIC;

#define TSM_CANCEL_TIMEOUT_USER_MAX	60000	/* ms */
#define TSM_CANCEL_TIMEOUT_MAX		3600000 /* ms */

void		_PG_init(void);
static bool tsm_cancel_timeout_check(int *newval, void **extra, GucSource source);

/*
 * Check hook of tsmigrate.cancel_timeout: above a minute, superusers only.
 * Values from the configuration files, ALTER SYSTEM and the stored
 * settings of databases and roles are taken as they are (ALTER DATABASE and
 * ALTER ROLE ... SET were checked when they were run); a client's startup
 * options, SET, and a function's SET clause are checked.
 */
static bool
tsm_cancel_timeout_check(int *newval, void **extra, GucSource source)
{
	if (*newval > TSM_CANCEL_TIMEOUT_USER_MAX &&
		source >= PGC_S_CLIENT && !superuser())
	{
		GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
		GUC_check_errmsg("permission denied to set \"tsmigrate.cancel_timeout\" above %d ms",
						 TSM_CANCEL_TIMEOUT_USER_MAX);
		GUC_check_errdetail("Only superusers may make an aborting call wait longer for the source.");
		return false;
	}
	return true;
}

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
							"Sets how long an aborting call waits for the source to end a cancelled query.",
							"Above one minute, superusers only.",
							&tsm_cancel_timeout_ms,
							30000, 0, TSM_CANCEL_TIMEOUT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							tsm_cancel_timeout_check, NULL, NULL);

	DefineCustomIntVariable("tsmigrate.max_jobs",
							"Sets the maximum number of parallel copy workers of one pull_data call.",
							NULL,
							&tsm_max_jobs,
							8, 1, 64,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("tsmigrate.copy_split_size",
							"Sets the source table size above which parallel copies split a table into block ranges.",
							NULL,
							&tsm_copy_split_size_kb,
							256 * 1024, 64, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("tsmigrate.copy_binary",
							 "Uses binary COPY when source and target run the same major version.",
							 "Tables with columns of non-built-in types are always copied as text.",
							 &tsm_copy_binary,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("tsmigrate.copy_compressed",
							 "Copies TimescaleDB chunks compressed on the source as they are.",
							 "Off: they are copied decompressed and compressed again here.",
							 &tsm_copy_compressed,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("tsmigrate.copy_freeze",
							 "Writes the rows that migrate copies into a whole table frozen (COPY FREEZE).",
							 "The table is emptied again in the copy's transaction (it must be empty), which needs the TRUNCATE privilege; off, or without it, rows are written as by an ordinary COPY.",
							 &tsm_copy_freeze,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("tsmigrate.copy_indexes",
							 "Has migrate's data step build a table's indexes as soon as the table is copied.",
							 "Off: every index is built by the post-data step.",
							 &tsm_copy_indexes,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	MarkGUCPrefixReserved("tsmigrate");

	tsm_install_log_hook();
	/* what a replay of the source's statements creates (replay_check.c) */
	tsm_replay_check_init();
}
