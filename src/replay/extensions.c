/*-------------------------------------------------------------------------
 *
 * extensions.c
 *	  sync_extensions: the source database's extensions on the target
 *
 * The manual procedure lists the source's extensions and runs CREATE
 * EXTENSION IF NOT EXISTS ... CASCADE for each on the target.  Here each
 * is created in the source's schema and at the source's version where the
 * target has that version's scripts, and at the target's default version
 * otherwise, which the row then says.  Extensions are visited with the
 * ones others require first, so that CASCADE never picks a schema or a
 * version for an extension that the source has too.
 *
 * An extension already on the target is left as it is.  TimescaleDB is
 * never created at a version other than the source's: its catalog must
 * match exactly, and check_versions and align_timescaledb are the way
 * there.  A dry run reports and changes nothing.
 *
 * IDENTIFICATION
 *	  src/replay/extensions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "nodes/nodes.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"
#include "replay/replay.h"
#include "source_catalog/source_catalog.h"
#include "target/target.h"

PG_FUNCTION_INFO_V1(tsmigrate_sync_extensions);

/*
 * The source's extensions, required ones first: "depth" is the length of
 * the longest chain of extensions that requires this one.
 */
static const char *const source_extensions_sql =
"WITH RECURSIVE req(oid, depth) AS ("
"  SELECT e.oid, 0 FROM pg_catalog.pg_extension e"
"  UNION ALL"
"  SELECT d.refobjid, r.depth OPERATOR(pg_catalog.+) 1"
"    FROM req r"
"    JOIN pg_catalog.pg_depend d ON d.objid OPERATOR(pg_catalog.=) r.oid"
"   WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass"
"     AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass"
"     AND d.deptype OPERATOR(pg_catalog.=) 'n')"
"SELECT e.extname, e.extversion, n.nspname"
"  FROM pg_catalog.pg_extension e"
"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace"
"  JOIN (SELECT req.oid, pg_catalog.max(req.depth) AS depth"
"          FROM req GROUP BY req.oid) r ON r.oid OPERATOR(pg_catalog.=) e.oid"
" WHERE e.extname OPERATOR(pg_catalog.<>) 'plpgsql'"
"   AND e.extname OPERATOR(pg_catalog.<>) 'tsmigrate'"
" ORDER BY r.depth DESC, e.extname";

static const char *const default_version_sql =
"SELECT default_version FROM pg_catalog.pg_available_extensions"
" WHERE name OPERATOR(pg_catalog.=) $1";

static const char *const version_available_sql =
"SELECT true FROM pg_catalog.pg_available_extension_versions"
" WHERE name OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2";

static const char *const extversion_sql =
"SELECT extversion FROM pg_catalog.pg_extension"
" WHERE extname OPERATOR(pg_catalog.=) $1";

/* may only a superuser create this version? */
static const char *const superuser_only_sql =
"SELECT true FROM pg_catalog.pg_available_extension_versions"
" WHERE name OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2"
"   AND superuser AND NOT trusted";

/* the schema an extension's control file pins it to, if any */
static const char *const fixed_schema_sql =
"SELECT schema FROM pg_catalog.pg_available_extension_versions"
" WHERE name OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2";

/* failures that leave one extension out instead of ending the run */
static const int extension_skip_codes[] = {
	ERRCODE_INSUFFICIENT_PRIVILEGE, /* not trusted, caller not superuser */
	ERRCODE_FEATURE_NOT_SUPPORTED,
	ERRCODE_UNDEFINED_FILE,		/* script or library missing */
	0
};

static const char *const timescaledb_pointer =
"run tsmigrate.check_versions() and tsmigrate.align_timescaledb()";

static char *target_extversion(const char *extname);

/* where sync_extensions' results go */
typedef struct SyncResults
{
	ReturnSetInfo *rsinfo;		/* a row per extension, or NULL */
	TsmExtensionsDone *done;	/* and what was done */
	MemoryContext cxt;			/* the caller's, for "done" */
} SyncResults;

static void put_row(SyncResults *results, const char *extname,
					const char *source_version, const char *target_version,
					const char *action);

/*
 * tsmigrate.sync_extensions(source text, dry_run boolean)
 *		Create the source database's extensions here; one row per extension.
 */
Datum
tsmigrate_sync_extensions(PG_FUNCTION_ARGS)
{
	TsmSource  *src;
	bool		dry_run;
	PGconn	   *conn;
	TsmExtensionsDone done;

	if (PG_NARGS() > 1 && PG_ARGISNULL(1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("dry_run must not be null"));
	dry_run = PG_NARGS() > 1 && PG_GETARG_BOOL(1);
	src = tsm_source_from_arg(fcinfo, 0);

	InitMaterializedSRF(fcinfo, 0);
	conn = tsm_conn_open(src);
	tsm_sync_extensions(conn, dry_run, (ReturnSetInfo *) fcinfo->resultinfo, &done);
	tsm_conn_close(conn);
	return (Datum) 0;
}

/*
 * tsm_sync_extensions
 *		sync_extensions' work, the source read on "conn": a row per
 *		extension into "rsinfo" (when not NULL); *done says what was done.
 */
void
tsm_sync_extensions(PGconn *conn, bool dry_run, ReturnSetInfo *rsinfo,
					TsmExtensionsDone *done)
{
	SyncResults results;
	TsmRows    *rows;
	MemoryContext extcxt;
	MemoryContext oldcxt;
	int			r;

	memset(done, 0, sizeof(TsmExtensionsDone));
	results.rsinfo = rsinfo;
	results.done = done;
	results.cxt = CurrentMemoryContext;
	rows = tsm_query(conn, source_extensions_sql, 0, NULL, 3,
					 "the source's extensions");

	extcxt = AllocSetContextCreate(CurrentMemoryContext,
								   "tsmigrate sync_extensions",
								   ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(extcxt);

	for (r = 0; r < rows->nrows; r++)
	{
		const char *extname = tsm_rows_get(rows, r, 0);
		const char *srcver = tsm_rows_get(rows, r, 1);
		const char *nspname = tsm_rows_get(rows, r, 2);
		bool		is_timescaledb = strcmp(extname, "timescaledb") == 0;
		char	   *tgtver;
		char	   *defver;
		const char *version;
		bool		at_source_version;
		char	   *fixed_schema;
		bool		new_schema;
		const char *sqls[2];
		NodeTag		tags[2];
		int			nstmts = 0;
		char	   *reason;
		char	   *action;

		CHECK_FOR_INTERRUPTS();

		/* already here: left as it is */
		tgtver = target_extversion(extname);
		if (tgtver != NULL)
		{
			if (strcmp(tgtver, srcver) == 0)
				action = "already present";
			else if (is_timescaledb)
				action = psprintf("present at another version, not changed: %s",
								  timescaledb_pointer);
			else
				action = "present at another version (left as it is)";
			put_row(&results, extname, srcver, tgtver, action);
			MemoryContextReset(extcxt);
			continue;
		}

		defver = tsm_local_query_value(default_version_sql, extname, NULL);
		if (defver == NULL)
		{
			put_row(&results, extname, srcver, NULL, "unavailable on the target");
			MemoryContextReset(extcxt);
			continue;
		}

		at_source_version = tsm_local_has_row(version_available_sql, extname, srcver);
		if (at_source_version)
			version = srcver;
		else if (is_timescaledb)
		{
			put_row(&results, extname, srcver, defver,
					psprintf("not created: the target cannot provide version %s; %s",
							 srcver, timescaledb_pointer));
			MemoryContextReset(extcxt);
			continue;
		}
		else
			version = defver;

		/*
		 * An extension whose control file names its schema goes there (and
		 * CREATE EXTENSION makes that schema); the others go into the
		 * source's schema, made first if the target lacks it.
		 */
		fixed_schema = tsm_local_query_value(fixed_schema_sql, extname, version);
		new_schema = fixed_schema == NULL &&
			!OidIsValid(get_namespace_oid(nspname, true));
		if (new_schema)
		{
			sqls[nstmts] = psprintf("CREATE SCHEMA IF NOT EXISTS %s;",
									quote_identifier(nspname));
			tags[nstmts++] = T_CreateSchemaStmt;
		}
		if (fixed_schema != NULL)
			sqls[nstmts] = psprintf("CREATE EXTENSION IF NOT EXISTS %s VERSION %s CASCADE;",
									quote_identifier(extname),
									quote_literal_cstr(version));
		else
			sqls[nstmts] = psprintf("CREATE EXTENSION IF NOT EXISTS %s WITH SCHEMA %s VERSION %s CASCADE;",
									quote_identifier(extname),
									quote_identifier(nspname),
									quote_literal_cstr(version));
		tags[nstmts++] = T_CreateExtensionStmt;

		reason = NULL;
		if (!dry_run)
			reason = tsm_replay_guarded(nstmts, sqls, tags, "extension",
										extname, extension_skip_codes);
		else if (!superuser() &&
				 tsm_local_has_row(superuser_only_sql, extname, version))
		{
			/* what CREATE EXTENSION would say (extension.c) */
			reason = psprintf("permission denied to create extension \"%s\"",
							  extname);
		}
		if (reason != NULL)
		{
			put_row(&results, extname, srcver, NULL,
					psprintf("skipped: %s", reason));
			MemoryContextReset(extcxt);
			continue;
		}

		action = dry_run ? "would be created" : "created";
		if (!at_source_version)
			action = psprintf("%s at another version: the target cannot provide version %s",
							  action, srcver);
		if (new_schema)
			action = psprintf("%s, in new schema %s", action,
							  quote_identifier(nspname));
		put_row(&results, extname, srcver,
				dry_run ? version : target_extversion(extname), action);
		MemoryContextReset(extcxt);
	}

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(extcxt);
}

/*
 * The version of "extname" in this database now, or NULL: unlike
 * tsm_local_extversion(), this sees what CASCADE created earlier in the run.
 */
static char *
target_extversion(const char *extname)
{
	return tsm_local_query_value(extversion_sql, extname, NULL);
}

static void
put_row(SyncResults *results, const char *extname, const char *source_version,
		const char *target_version, const char *action)
{
	ReturnSetInfo *rsinfo = results->rsinfo;
	TsmExtensionsDone *done = results->done;
	MemoryContext oldcxt = MemoryContextSwitchTo(results->cxt);
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	NameData	name;

	done->actions = lappend(done->actions, pstrdup(action));
	if (strcmp(extname, "timescaledb") == 0)
	{
		done->timescaledb_source = pstrdup(source_version);
		done->timescaledb_target = target_version ? pstrdup(target_version) : NULL;
		done->timescaledb_action = pstrdup(action);
	}
	MemoryContextSwitchTo(oldcxt);
	if (rsinfo == NULL)
		return;

	namestrcpy(&name, extname);
	values[0] = NameGetDatum(&name);
	values[1] = CStringGetTextDatum(source_version);
	if (target_version != NULL)
		values[2] = CStringGetTextDatum(target_version);
	else
		nulls[2] = true;
	values[3] = CStringGetTextDatum(action);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}
