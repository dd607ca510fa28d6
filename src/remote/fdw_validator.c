/*-------------------------------------------------------------------------
 *
 * fdw_validator.c
 *	  Which libpq options a source may use, and where they may be written
 *
 * The foreign-data wrapper tsmigrate exists only to hold sources: a SERVER
 * carries the connection options, a USER MAPPING carries "user" and the
 * secret ones ("password"), exactly as dblink's validator rules it.  Debug
 * options (replication) and the options tsmigrate sets itself
 * (application_name, client_encoding) are accepted nowhere, in connection
 * strings neither.
 *
 * IDENTIFICATION
 *	  src/remote/fdw_validator.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"

PG_FUNCTION_INFO_V1(tsmigrate_fdw_validator);

static const PQconninfoOption *libpq_options(void);
static bool option_valid_in(const PQconninfoOption *opt, Oid context);

/*
 * tsm_option_allowed
 *		May a source use this libpq option at all?
 */
bool
tsm_option_allowed(const PQconninfoOption *opt)
{
	if (strchr(opt->dispchar, 'D') != NULL)
		return false;
	if (strcmp(opt->keyword, "client_encoding") == 0 ||
		strcmp(opt->keyword, "application_name") == 0 ||
		strcmp(opt->keyword, "fallback_application_name") == 0)
		return false;
	return true;
}

/*
 * tsmigrate.fdw_validator(options text[], catalog oid)
 *		Validate the options of the wrapper's servers and user mappings.
 */
Datum
tsmigrate_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options_list = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			context = PG_GETARG_OID(1);
	const PQconninfoOption *options = libpq_options();
	ListCell   *cell;

	foreach(cell, options_list)
	{
		DefElem    *def = (DefElem *) lfirst(cell);
		const PQconninfoOption *opt;
		bool		valid = false;

		for (opt = options; opt->keyword != NULL; opt++)
			if (strcmp(opt->keyword, def->defname) == 0)
				valid = option_valid_in(opt, context);

		if (!valid)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			for (opt = options; opt->keyword != NULL; opt++)
				if (option_valid_in(opt, context))
					appendStringInfo(&buf, "%s%s", (buf.len > 0) ? ", " : "",
									 opt->keyword);
			ereport(ERROR,
					errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
					errmsg("invalid option \"%s\"", def->defname),
					buf.len > 0 ?
					errhint("Valid options in this context are: %s.", buf.data) :
					errhint("There are no valid options in this context."));
		}
	}

	PG_RETURN_VOID();
}

/*
 * libpq's option list, fetched once per backend and kept, as dblink does.
 */
static const PQconninfoOption *
libpq_options(void)
{
	static PQconninfoOption *options = NULL;

	if (options == NULL)
	{
		options = PQconndefaults();
		if (options == NULL)
			ereport(ERROR,
					errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					errmsg("out of memory"),
					errdetail("Could not get libpq's default connection options."));
	}
	return options;
}

static bool
option_valid_in(const PQconninfoOption *opt, Oid context)
{
	if (!tsm_option_allowed(opt))
		return false;
	if (strcmp(opt->keyword, "user") == 0 || strchr(opt->dispchar, '*') != NULL)
		return context == UserMappingRelationId;
	return context == ForeignServerRelationId;
}
