/*-------------------------------------------------------------------------
 *
 * source_catalog.h
 *	  What tsmigrate knows of a source before reading its objects
 *
 * IDENTIFICATION
 *	  src/source_catalog/source_catalog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_SOURCE_CATALOG_H
#define TSM_SOURCE_CATALOG_H

#include "tsmigrate.h"

/*
 * The oldest source whose catalogs tsmigrate reads: check_versions refuses
 * an older one and schema generation stops on it, with the same number.
 */
#define TSM_MIN_SOURCE_VERSION_NUM 130000

/* one row of check_versions (versions.c) */
typedef struct TsmVersionCheck
{
	const char *component;		/* "postgresql" or "timescaledb" */
	const char *source_version; /* NULL: not on the source */
	const char *target_version; /* NULL: not on the target */
	bool		ok;
	const char *hint;			/* what to do when not ok */
} TsmVersionCheck;

extern List *tsm_check_versions(PGconn *conn, const TsmSource *src);

/* in versions.c */
extern char *tsm_local_extversion(const char *extname);
extern bool tsm_local_version_available(const char *extname, const char *version);

#endif							/* TSM_SOURCE_CATALOG_H */
