/*-------------------------------------------------------------------------
 *
 * target_query.c
 *	  One-value catalog lookups on the target, through SPI
 *
 * For the small questions tsmigrate asks its own database while it works
 * ("is this extension installed?", "does this role exist?"), each with one
 * or two text parameters.
 *
 * IDENTIFICATION
 *	  src/target/target_query.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "compat.h"
#include "tsmigrate.h"
#include "target/target.h"

/*
 * tsm_local_query_value
 *		Run a query with one or two text parameters on the target and
 *		return the first column of its first row, or NULL.
 *
 * The query takes a new snapshot, so it sees what the calling function has
 * done so far (pull_roles' own grants, the extensions CASCADE created).
 */
char *
tsm_local_query_value(const char *sql, const char *param1, const char *param2)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *result = NULL;
	int			nargs = param2 ? 2 : 1;
	int			rc;

	args[0] = CStringGetTextDatum(param1);
	if (param2)
		args[1] = CStringGetTextDatum(param2);

	SPI_connect();
	rc = SPI_execute_with_args(sql, nargs, argtypes, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1);

		if (value != NULL)
			result = MemoryContextStrdup(callercxt, value);
	}
	SPI_finish();

	return result;
}

/*
 * tsm_local_has_row
 *		Does the query return a row on the target?  As above.
 */
bool
tsm_local_has_row(const char *sql, const char *param1, const char *param2)
{
	return tsm_local_query_value(sql, param1, param2) != NULL;
}

/*
 * tsm_target_created
 *		Did the caller create object (classid, objid) here for "source"
 *		(tsmigrate.created_object, written by pull_schema's replay)?  Read
 *		with a new snapshot: what the calling function recorded counts.
 */
bool
tsm_target_created(const char *source, Oid classid, Oid objid)
{
	Oid			argtypes[3] = {TEXTOID, OIDOID, OIDOID};
	Datum		args[3];
	bool		found;
	int			rc;

	args[0] = CStringGetTextDatum(source);
	args[1] = ObjectIdGetDatum(classid);
	args[2] = ObjectIdGetDatum(objid);
	SPI_connect();
	rc = SPI_execute_with_args("SELECT FROM tsmigrate.created_object"
							   " WHERE owner OPERATOR(pg_catalog.=) CURRENT_USER"
							   " AND source OPERATOR(pg_catalog.=) $1"
							   " AND classid OPERATOR(pg_catalog.=) $2"
							   " AND objid OPERATOR(pg_catalog.=) $3",
							   3, argtypes, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}
