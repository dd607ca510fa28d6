/*-------------------------------------------------------------------------
 *
 * versions.c
 *	  check_versions and align_timescaledb: can this source come here?
 *
 * PostgreSQL may move to the same or a newer major version.  TimescaleDB's
 * catalog must be at exactly the same version on both sides; when the
 * source's is older, align_timescaledb updates it on the source (the
 * documented procedure's ALTER EXTENSION ... UPDATE), and it never
 * downgrades anything.
 *
 * check_versions also warns when the source is reached over a network
 * without encryption: what a migration reads (the whole database) and what
 * it runs on the target (the source's DDL) would then be open to anyone on
 * the path.
 *
 * IDENTIFICATION
 *	  src/source_catalog/versions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"
#include "funcapi.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"
#include "source_catalog/source_catalog.h"
#include "target/target.h"

PG_FUNCTION_INFO_V1(tsmigrate_check_versions);
PG_FUNCTION_INFO_V1(tsmigrate_align_timescaledb);

static const char *const source_versions_sql =
"SELECT pg_catalog.current_setting('server_version_num'),"
"       (SELECT e.extversion FROM pg_catalog.pg_extension e"
"         WHERE e.extname OPERATOR(pg_catalog.=) 'timescaledb')";

static char *major_minor(int version_num);
static int	compare_versions(const char *a, const char *b);
static void put_row(ReturnSetInfo *rsinfo, const char *component,
					const char *source_version, const char *target_version,
					bool ok, const char *hint);
static char *timescaledb_hint(const char *srcver, const char *tgtver);

/*
 * tsm_local_extversion
 *		The version of extension "extname" installed in this database, or
 *		NULL.
 */
char *
tsm_local_extversion(const char *extname)
{
	return tsm_local_query_value("SELECT extversion FROM pg_catalog.pg_extension"
								 " WHERE extname OPERATOR(pg_catalog.=) $1",
								 extname, NULL);
}

/*
 * tsm_local_version_available
 *		Does this server have the scripts for "extname" at "version"?
 */
bool
tsm_local_version_available(const char *extname, const char *version)
{
	return tsm_local_query_value("SELECT true FROM pg_catalog.pg_available_extension_versions"
								 " WHERE name OPERATOR(pg_catalog.=) $1"
								 " AND version OPERATOR(pg_catalog.=) $2",
								 extname, version) != NULL;
}

/* one row of check_versions */
static TsmVersionCheck *
version_check(const char *component, const char *source_version,
			  const char *target_version, bool ok, const char *hint)
{
	TsmVersionCheck *check = palloc(sizeof(TsmVersionCheck));

	check->component = component;
	check->source_version = source_version;
	check->target_version = target_version;
	check->ok = ok;
	check->hint = hint;
	return check;
}

/*
 * tsm_check_versions
 *		check_versions' rows (TsmVersionChecks) for the source that "conn"
 *		is connected to: PostgreSQL, and TimescaleDB where either side has
 *		it.  Warns when the connection travels unencrypted.
 */
List *
tsm_check_versions(PGconn *conn, const TsmSource *src)
{
	List	   *checks = NIL;
	TsmRows    *rows;
	int			src_num;
	int			tgt_num;
	const char *src_ts;
	char	   *tgt_ts;
	char		peer[64];

	rows = tsm_query(conn, source_versions_sql, 0, NULL, 2, "the source's versions");
	if (tsm_conn_exposed(conn, peer, sizeof(peer)))
		ereport(WARNING,
				errcode(ERRCODE_WARNING),
				errmsg("the connection to source \"%s\" is not encrypted", src->label),
				errdetail("It goes over TCP to %s, not to the loopback interface or a Unix-domain socket, without SSL: anyone on the network path can read the data or play the source.",
						  peer),
				errhint("Connect with sslmode=verify-full and the source server's CA in sslrootcert, in the connection string or in the foreign server's options."));

	src_num = tsm_rows_int32(rows, 0, 0);
	src_ts = tsm_rows_value(rows, 0, 1);
	tgt_num = pg_strtoint32(GetConfigOption("server_version_num", false, false));
	tgt_ts = tsm_local_extversion("timescaledb");

	/* PostgreSQL: the same major or a newer one */
	if (src_num < TSM_MIN_SOURCE_VERSION_NUM)
		checks = lappend(checks,
						 version_check("postgresql", major_minor(src_num), major_minor(tgt_num),
									   false,
									   psprintf("Upgrade the source to PostgreSQL %d or later first: tsmigrate reads the catalogs of PostgreSQL %d and later.",
												TSM_MIN_SOURCE_VERSION_NUM / 10000,
												TSM_MIN_SOURCE_VERSION_NUM / 10000)));
	else if (src_num / 10000 > tgt_num / 10000)
		checks = lappend(checks,
						 version_check("postgresql", major_minor(src_num), major_minor(tgt_num),
									   false,
									   psprintf("Migrate into a server running PostgreSQL %d or later: a database cannot move to an older major version.",
												src_num / 10000)));
	else
		checks = lappend(checks,
						 version_check("postgresql", major_minor(src_num), major_minor(tgt_num),
									   true, NULL));

	/* TimescaleDB: exactly the same version where the source has it */
	if (src_ts != NULL || tgt_ts != NULL)
	{
		bool		ok = src_ts == NULL || (tgt_ts != NULL && strcmp(src_ts, tgt_ts) == 0);

		checks = lappend(checks,
						 version_check("timescaledb", src_ts ? pstrdup(src_ts) : NULL,
									   tgt_ts, ok,
									   ok ? NULL : timescaledb_hint(src_ts, tgt_ts)));
	}
	return checks;
}

/*
 * tsmigrate.check_versions(source text)
 *		tsm_check_versions' rows.
 */
Datum
tsmigrate_check_versions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TsmSource  *src = tsm_source_from_arg(fcinfo, 0);
	PGconn	   *conn = tsm_conn_open(src);
	List	   *checks = tsm_check_versions(conn, src);
	ListCell   *lc;

	tsm_conn_close(conn);
	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, checks)
	{
		TsmVersionCheck *check = lfirst(lc);

		put_row(rsinfo, check->component, check->source_version,
				check->target_version, check->ok, check->hint);
	}
	return (Datum) 0;
}

/*
 * The exact fix for a TimescaleDB mismatch; the source has it.
 */
static char *
timescaledb_hint(const char *srcver, const char *tgtver)
{
	const char *lit = quote_literal_cstr(srcver);

	if (tgtver == NULL)
	{
		if (tsm_local_version_available("timescaledb", srcver))
			return psprintf("Run on the target: CREATE EXTENSION timescaledb VERSION %s;", lit);
		return psprintf("Install TimescaleDB %s on the target server, add timescaledb to shared_preload_libraries, then run on the target: CREATE EXTENSION timescaledb VERSION %s;",
						srcver, lit);
	}
	if (compare_versions(srcver, tgtver) < 0)
		return psprintf("Run on the source: ALTER EXTENSION timescaledb UPDATE TO %s; (SELECT tsmigrate.align_timescaledb() does it from here.)",
						quote_literal_cstr(tgtver));
	if (tsm_local_version_available("timescaledb", srcver))
		return psprintf("Run on the target: ALTER EXTENSION timescaledb UPDATE TO %s;", lit);
	return psprintf("Install TimescaleDB %s on the target server, then run on the target: ALTER EXTENSION timescaledb UPDATE TO %s;",
					srcver, lit);
}

/*
 * tsmigrate.align_timescaledb(source text)
 *		Update TimescaleDB on the source to the target's version.
 */
Datum
tsmigrate_align_timescaledb(PG_FUNCTION_ARGS)
{
	TsmSource  *src = tsm_source_from_arg(fcinfo, 0);
	char	   *tgtver = tsm_local_extversion("timescaledb");
	const char *params[2];
	PGconn	   *conn;
	TsmRows    *rows;
	const char *srcver;
	char	   *sql;

	if (tgtver == NULL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("extension \"timescaledb\" is not installed on the target"),
				errhint("Run CREATE EXTENSION timescaledb on the target first: the source is updated to the target's version."));

	params[0] = tgtver;
	conn = tsm_conn_open(src);
	rows = tsm_query(conn,
					 "SELECT e.extversion,"
					 "       EXISTS (SELECT FROM pg_catalog.pg_available_extension_versions v"
					 "                WHERE v.name OPERATOR(pg_catalog.=) 'timescaledb'"
					 "                  AND v.version OPERATOR(pg_catalog.=) $1)"
					 "  FROM pg_catalog.pg_extension e"
					 " WHERE e.extname OPERATOR(pg_catalog.=) 'timescaledb'",
					 1, params, 2, "the source's TimescaleDB version");

	if (rows->nrows == 0)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("extension \"timescaledb\" is not installed on the source"),
				errhint("There is nothing to align: migrate the source's tables as plain tables, or run CREATE EXTENSION timescaledb on the source."));

	srcver = tsm_rows_get(rows, 0, 0);
	if (strcmp(srcver, tgtver) == 0)
	{
		tsm_conn_close(conn);
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("extension \"timescaledb\" is already at version %s on both sides",
												  tgtver)));
	}

	if (compare_versions(srcver, tgtver) > 0)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("cannot downgrade extension \"timescaledb\" on the source from version %s to %s",
					   srcver, tgtver),
				errdetail("The source runs a newer TimescaleDB than the target."),
				errhint("Install TimescaleDB %s on the target, then run ALTER EXTENSION timescaledb UPDATE TO %s there.",
						srcver, quote_literal_cstr(srcver)));

	if (!tsm_rows_bool(rows, 0, 1))
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("version %s of extension \"timescaledb\" is not installed on the source server",
					   tgtver),
				errhint("Install the TimescaleDB %s packages on the source server, then run tsmigrate.align_timescaledb again.",
						tgtver));

	params[1] = srcver;
	rows = tsm_query(conn,
					 "SELECT p.path FROM pg_catalog.pg_extension_update_paths('timescaledb') p"
					 " WHERE p.target OPERATOR(pg_catalog.=) $1"
					 "   AND p.source OPERATOR(pg_catalog.=) $2"
					 "   AND p.path IS NOT NULL",
					 2, params, 1, "the source's TimescaleDB update paths");
	if (rows->nrows == 0)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("extension \"timescaledb\" has no update path from version %s to %s on the source",
					   srcver, tgtver),
				errhint("Install a TimescaleDB release on the source that ships the update scripts to %s.",
						tgtver));
	tsm_conn_close(conn);

	/*
	 * TimescaleDB wants ALTER EXTENSION as the first command of a session
	 * that has not loaded its library yet: use a fresh connection.
	 */
	sql = psprintf("ALTER EXTENSION timescaledb UPDATE TO %s",
				   quote_literal_cstr(tgtver));
	conn = tsm_conn_open(src);
	tsm_conn_command(conn, sql);
	tsm_conn_close(conn);

	PG_RETURN_TEXT_P(cstring_to_text(psprintf("updated extension \"timescaledb\" on the source from version %s to %s",
											  srcver, tgtver)));
}

/*
 * "150020" -> "15.20"
 */
static char *
major_minor(int version_num)
{
	return psprintf("%d.%d", version_num / 10000, version_num % 10000);
}

/*
 * Compare dotted version strings numerically, part by part ("2.9.1" <
 * "2.25.0"); a part that is not a number ("2.14.0-dev") compares as text.
 */
static int
compare_versions(const char *a, const char *b)
{
	while (*a != '\0' || *b != '\0')
	{
		if (isdigit((unsigned char) *a) && isdigit((unsigned char) *b))
		{
			char	   *enda;
			char	   *endb;
			long		na = strtol(a, &enda, 10);
			long		nb = strtol(b, &endb, 10);

			if (na != nb)
				return na < nb ? -1 : 1;
			a = enda;
			b = endb;
		}
		else
		{
			if (*a != *b)
				return (unsigned char) *a < (unsigned char) *b ? -1 : 1;
			a++;
			b++;
		}
	}
	return 0;
}

static void
put_row(ReturnSetInfo *rsinfo, const char *component, const char *source_version,
		const char *target_version, bool ok, const char *hint)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	values[0] = CStringGetTextDatum(component);
	if (source_version)
		values[1] = CStringGetTextDatum(source_version);
	else
		nulls[1] = true;
	if (target_version)
		values[2] = CStringGetTextDatum(target_version);
	else
		nulls[2] = true;
	values[3] = BoolGetDatum(ok);
	if (hint)
		values[4] = CStringGetTextDatum(hint);
	else
		nulls[4] = true;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}
