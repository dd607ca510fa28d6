/*-------------------------------------------------------------------------
 *
 * preflight.c
 *	  tsmigrate.preflight: what would stop a migration, found before
 *	  anything changes
 *
 * One row per problem: the object, what is wrong and the fix.  Some
 * problems stop a migration half way (a C function whose library this
 * server lacks fails its CREATE FUNCTION, whatever check_function_bodies
 * says; an object the caller did not allow is refused by the replay):
 * migrate's checks step refuses to start on those ("blocks").  Others lose
 * something without failing (default privileges, a subscription the
 * caller may not create): a WARNING of the checks step names them (the
 * kinds that need more than the source's own rights: preflight_kinds.c).
 * Then the figures a DBA plans with: the source's size against the
 * target's free space, the numbers of objects, and the lock budget
 * (migrate commits every tsm_section_batch_size objects; a query through a
 * hypertable locks all of its chunks and their indexes at once, on both
 * servers).
 *
 * Everything read from the source is a name to print: nothing of it is
 * run here, and a library path is only looked up as a file, and only when
 * the caller allowed C functions (which load it anyway).
 *
 * IDENTIFICATION
 *	  src/migrate/preflight.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include "access/twophase.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "migrate/preflight.h"
#include "remote/remote.h"
#include "replay/replay.h"
#include "schema/schema.h"
#include "source_catalog/catalog_filters.h"
#include "target/target.h"

PG_FUNCTION_INFO_V1(tsmigrate_preflight);

/* the user's C functions and their libraries: (function, probin) */
static const char *const c_functions_sql =
"SELECT pg_catalog.format('%I.%I(%s)', n.nspname, p.proname,"
"       pg_catalog.pg_get_function_identity_arguments(p.oid)), p.probin"
"  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
" WHERE p.prolang = 13 AND " TSM_USER_NAMESPACE("p.pronamespace")
"   AND " TSM_NOT_EXTENSION_MEMBER("pg_catalog.pg_proc", "p.oid")
" ORDER BY 1";

/* the source's extensions, but plpgsql and TimescaleDB (check_versions') */
static const char *const extensions_sql =
"SELECT e.extname, e.extversion FROM pg_catalog.pg_extension e"
" WHERE e.extname NOT IN ('plpgsql', 'timescaledb') ORDER BY 1";

/* what the source holds: its size and its objects by kind */
static const char *const figures_sql =
"SELECT pg_catalog.pg_database_size(pg_catalog.current_database()),"
"  (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c WHERE c.relkind IN ('r', 'p', 'm')"
"     AND " TSM_USER_NAMESPACE("c.relnamespace") "),"
"  (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c WHERE c.relkind IN ('i', 'I')"
"     AND " TSM_USER_NAMESPACE("c.relnamespace") "),"
"  (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c WHERE c.relkind = 'S'"
"     AND " TSM_USER_NAMESPACE("c.relnamespace") "),"
"  (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c"
"    WHERE c.relnamespace OPERATOR(pg_catalog.=) ANY (SELECT n.oid FROM pg_catalog.pg_namespace n"
"                                       WHERE n.nspname ~ '^_timescaledb_internal$')"
"      AND c.relkind = 'r')";

static void privilege_problems(PGconn *conn, List **rows);
static void c_function_problems(PGconn *conn, const TsmConsent *consent, List **rows);
static void extension_problems(PGconn *conn, List **rows);
static void figures(PGconn *conn, List **rows);
static void slot_problems(PGconn *conn, List **rows);
static bool library_exists(const char *probin);
static bool file_exists(const char *path);
static int64 target_free_bytes(void);
static char *pretty_size(int64 bytes);

/*
 * tsmigrate.preflight(source text, allow text[])
 *		What would stop a migration from this source, and the figures of it.
 */
Datum
tsmigrate_preflight(PG_FUNCTION_ARGS)
{
	TsmSource  *src = tsm_source_from_arg(fcinfo, 0);
	TsmConsent *consent = tsm_consent_from_arg(fcinfo, 1);
	ReturnSetInfo *rsinfo;
	PGconn	   *conn;
	List	   *rows;
	ListCell   *lc;

	conn = tsm_conn_open(src);
	rows = tsm_preflight(conn, consent);
	tsm_conn_close(conn);

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	foreach(lc, rows)
	{
		TsmPreflightRow *row = lfirst(lc);
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		values[0] = CStringGetTextDatum(row->check);
		values[1] = CStringGetTextDatum(row->object);
		values[2] = BoolGetDatum(row->ok);
		values[3] = BoolGetDatum(row->blocks);
		values[4] = CStringGetTextDatum(row->detail);
		if (row->fix)
			values[5] = CStringGetTextDatum(row->fix);
		else
			nulls[5] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * tsm_preflight
 *		The checks, on "conn" (the source): the problems first, then the
 *		figures.
 */
List *
tsm_preflight(PGconn *conn, const TsmConsent *consent)
{
	List	   *rows = NIL;

	tsm_preflight_kinds(conn, consent, &rows);
	if (!tsm_consent_allows(consent, TSM_ALLOW_EXISTING_OBJECTS))
		privilege_problems(conn, &rows);
	c_function_problems(conn, consent, &rows);
	extension_problems(conn, &rows);
	slot_problems(conn, &rows);
	figures(conn, &rows);
	return rows;
}

/*
 * The slots of tsmigrate's online runs on the source (migrate/online.c
 * names them): each holds the source's WAL until dropped, and one left
 * by a run that is gone fills the source's disk; and the DDL event
 * triggers such runs left without their slot.
 */
static void
slot_problems(PGconn *conn, List **rows)
{
	TsmRows    *r = tsm_query(conn,
							  "SELECT s.slot_name, pg_catalog.pg_size_pretty(pg_catalog.pg_wal_lsn_diff("
							  "         pg_catalog.pg_current_wal_lsn(), s.restart_lsn)), s.active"
							  "  FROM pg_catalog.pg_replication_slots s"
							  " WHERE s.slot_name ~ " TSM_STREAM_OBJECT_PATTERN
							  " ORDER BY 1",
							  0, NULL, 3, "the source's tsmigrate slots");
	int			i;

	for (i = 0; i < r->nrows; i++)
	{
		const char *slot = tsm_rows_get(r, i, 0);

		tsm_preflight_add_row(rows, "replication slot", slot, false, false,
							  psprintf("a slot of an online tsmigrate run%s holds %s of WAL on the source",
									   tsm_rows_bool(r, i, 2) ? ", streaming," : "",
									   tsm_rows_value(r, i, 1) ? tsm_rows_value(r, i, 1) : "?"),
							  psprintf("finish its run with tsmigrate.cutover() or tsmigrate.abandon() on its target; if that target is gone, on the source: SELECT pg_drop_replication_slot('%s')",
									   slot));
	}

	/* a DDL event trigger whose run's slot is gone: left behind */
	r = tsm_query(conn,
				  "SELECT e.evtname FROM pg_catalog.pg_event_trigger e"
				  " WHERE e.evtname ~ " TSM_STREAM_OBJECT_PATTERN
				  "   AND NOT EXISTS (SELECT FROM pg_catalog.pg_replication_slots s"
				  "                    WHERE s.slot_name = e.evtname)"
				  " ORDER BY 1",
				  0, NULL, 1, "the source's tsmigrate event triggers");
	for (i = 0; i < r->nrows; i++)
	{
		const char *name = tsm_rows_get(r, i, 0);

		tsm_preflight_add_row(rows, "event trigger", name, false, false,
							  "the DDL event trigger of an online tsmigrate run whose slot is gone: every DDL on the source still writes a message into its WAL",
							  psprintf("on the source: DROP EVENT TRIGGER %s; DROP FUNCTION %s(); DROP SCHEMA %s",
									   quote_identifier(name),
									   quote_qualified_identifier(name, name),
									   quote_identifier(name)));
	}
}

/*
 * Without existing_objects: default privileges, and privileges changed
 * since initdb on the public schema and system catalogs, left out
 */
static void
privilege_problems(PGconn *conn, List **rows)
{
	ListCell   *lc;

	foreach(lc, tsm_schema_existing_privilege_queries(tsm_server_version_num(conn)))
	{
		TsmRows    *r;
		int			i;

		r = tsm_query(conn,
					  psprintf("SELECT q.kind, q.name FROM (%s) AS q(classid, objid, kind, name, prio, stmts)"
							   " WHERE pg_catalog.cardinality(q.stmts) > 0 ORDER BY 2",
							   (char *) lfirst(lc)),
					  0, NULL, 2, "the source's privileges");
		for (i = 0; i < r->nrows; i++)
			tsm_preflight_add_row(rows, tsm_rows_get(r, i, 0), tsm_rows_get(r, i, 1), false, false,
								  strcmp(tsm_rows_get(r, i, 0), "default privileges") == 0 ?
								  "they decide what roles' future objects grant, on the target after the migration: without allow => '{existing_objects}' they are left out" :
								  "privileges changed since initdb on what the target has of its own: without allow => '{existing_objects}' they are left out",
								  "Pass allow => '{existing_objects}' to set them, or set them on the target after the migration.");
	}
}

/* C functions: their library must be here, and the caller's consent */
static void
c_function_problems(PGconn *conn, const TsmConsent *consent, List **rows)
{
	TsmRows    *r = tsm_query(conn, c_functions_sql, 0, NULL, 2, "the source's C functions");
	int			i;

	for (i = 0; i < r->nrows; i++)
	{
		const char *probin = tsm_rows_value(r, i, 1);

		CHECK_FOR_INTERRUPTS();

		/*
		 * Without the caller's consent the replay refuses it, and no path the
		 * source names is looked up here: a source must not learn, from how
		 * far a run goes, which files the target has.
		 */
		if (!tsm_consent_allows(consent, TSM_ALLOW_C_FUNCTIONS))
			tsm_preflight_add_row(rows, "c function", tsm_rows_get(r, i, 0), false, true,
								  "a C function runs native code inside the target's server: without the caller's consent its CREATE FUNCTION is refused",
								  "Pass allow => '{c_functions}' if you trust the source's C functions and their libraries.");
		else if (probin == NULL || !library_exists(probin))
			tsm_preflight_add_row(rows, "c function", tsm_rows_get(r, i, 0), false, true,
								  psprintf("its library \"%s\" is not installed on the target",
										   probin ? probin : ""),
								  "Install the library on the target (the package or build that provides it), or drop the function on the source.");
	}
}

/* extensions: available here by name (their versions: sync_extensions) */
static void
extension_problems(PGconn *conn, List **rows)
{
	TsmRows    *r = tsm_query(conn, extensions_sql, 0, NULL, 2, "the source's extensions");
	int			i;

	for (i = 0; i < r->nrows; i++)
	{
		const char *name = tsm_rows_get(r, i, 0);

		if (tsm_local_query_value("SELECT true FROM pg_catalog.pg_available_extensions"
								  " WHERE name OPERATOR(pg_catalog.=) $1", name, NULL) == NULL)
			tsm_preflight_add_row(rows, "extension", quote_identifier(name), false, true,
								  psprintf("extension \"%s\" %s is not available on the target",
										   name, tsm_rows_get(r, i, 1)),
								  "Install the extension's package on the target.");
	}
}

/* the figures: size against free space, objects, the lock budget */
static void
figures(PGconn *conn, List **rows)
{
	TsmRows    *r = tsm_query(conn, figures_sql, 0, NULL, 5, "the source's figures");
	int64		source_bytes = tsm_rows_int64(r, 0, 0);
	int64		free_bytes = target_free_bytes();

	tsm_preflight_add_row(rows, "size", "database", free_bytes < 0 || source_bytes < free_bytes, true,
						  free_bytes < 0 ?
						  psprintf("the source's database is %s", pretty_size(source_bytes)) :
						  psprintf("the source's database is %s; the target's data directory has %s free",
								   pretty_size(source_bytes), pretty_size(free_bytes)),
						  free_bytes >= 0 && source_bytes >= free_bytes ?
						  "Free space on the target's disk: the data and its indexes need about as much as on the source." : NULL);
	tsm_preflight_add_row(rows, "objects", "database", true, false,
						  psprintf("%s tables and materialized views, %s indexes, %s sequences, %s chunks",
								   tsm_rows_get(r, 0, 1), tsm_rows_get(r, 0, 2), tsm_rows_get(r, 0, 3),
								   tsm_rows_get(r, 0, 4)),
						  NULL);
	tsm_preflight_add_row(rows, "lock budget", "target", true, false,
						  psprintf("the lock table holds about %d locks (max_locks_per_transaction %d); migrate commits every %d objects or chunks, and reads each relation in transactions of a few; a query through a hypertable locks each of its chunks and their indexes at once",
								   max_locks_per_xact * (MaxBackends + max_prepared_xacts),
								   max_locks_per_xact, tsm_section_batch_size()),
						  NULL);
}

/*
 * Would this server find the library "probin" names?  As dfmgr.c looks
 * for it, without loading it: an absolute path as it is (with the shared
 * library suffix or without); "$libdir/name" in the package library
 * directory; a bare name in each directory of dynamic_library_path.
 */
static bool
library_exists(const char *probin)
{
	const char *path;
	char	   *copy;
	char	   *dir;
	char	   *save = NULL;

	if (strncmp(probin, "$libdir/", 8) == 0)
		return file_exists(psprintf("%s/%s", pkglib_path, probin + 8));
	if (strchr(probin, '/') != NULL)
		return file_exists(probin);

	path = GetConfigOption("dynamic_library_path", false, false);
	copy = pstrdup(path ? path : "$libdir");
	for (dir = strtok_r(copy, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save))
	{
		const char *d = strcmp(dir, "$libdir") == 0 ? pkglib_path : dir;

		if (file_exists(psprintf("%s/%s", d, probin)))
			return true;
	}
	return false;
}

/* "path", or "path" with the shared library suffix, is a file here */
static bool
file_exists(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
		return true;
	return stat(psprintf("%s%s", path, DLSUFFIX), &st) == 0 && !S_ISDIR(st.st_mode);
}

/* bytes free for this server in its data directory; -1 if unknown */
static int64
target_free_bytes(void)
{
	struct statvfs fs;

	if (statvfs(DataDir, &fs) != 0)
		return -1;
	return (int64) fs.f_bavail * (int64) fs.f_frsize;
}

/* as pg_size_pretty writes it */
static char *
pretty_size(int64 bytes)
{
	return text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
															  Int64GetDatum(bytes))));
}
