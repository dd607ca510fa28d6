/*-------------------------------------------------------------------------
 *
 * tsmigrate.c
 *	  tsmigrate's settings, as every layer reads them
 *
 * module.c defines them (DefineCustom*Variable) when the library is first
 * loaded into a backend; here are their variables and defaults, so that a
 * layer reading one calls nothing above it.
 *
 * IDENTIFICATION
 *	  src/tsmigrate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "compat.h"
#include "tsmigrate.h"

/* tsmigrate.source: the source used when a function is given none */
char	   *tsm_source_setting = NULL;

/*
 * tsmigrate.cancel_timeout: how long an abort may wait for the source to
 * take a cancel request and end the query.  The wait holds the backend in
 * abort cleanup (pg_cancel_backend and pg_terminate_backend cut it short),
 * so only a superuser may make it longer than a minute.
 */
int			tsm_cancel_timeout_ms = 30000;

/* tsmigrate.max_jobs: upper bound of pull_data's jobs */
int			tsm_max_jobs = 8;

/* tsmigrate.copy_split_size: tables larger than this are copied in ranges */
int			tsm_copy_split_size_kb = 256 * 1024;

/* tsmigrate.copy_binary: binary COPY where both sides allow it */
bool		tsm_copy_binary = true;

/* tsmigrate.copy_compressed: compressed chunks copied as they are */
bool		tsm_copy_compressed = true;

/* tsmigrate.copy_freeze: migrate's copies write their rows frozen */
bool		tsm_copy_freeze = true;

/* tsmigrate.copy_indexes: migrate's copy workers build the tables' indexes */
bool		tsm_copy_indexes = true;
