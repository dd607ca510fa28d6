/*-------------------------------------------------------------------------
 *
 * online.c
 *	  migrate(online => true): its preconditions, the slot whose snapshot
 *	  the copy reads, the stream worker started after post-data and
 *	  stopped, abandon, and the stream's status (cutover: cutover.c)
 *
 * NOTES
 *	An online run is migrate's run with two more steps, "stream" and
 *	"cutover".  The data step reads the source under the snapshot of a
 *	new logical replication slot, made with a publication of every schema
 *	that holds the source's tables (and TimescaleDB's chunks); the stream
 *	step starts the worker (stream/) that applies what the source commits
 *	after that snapshot, and migrate returns.  tsmigrate.cutover() runs
 *	the rest: the cutover step waits until every change is applied, then
 *	stops the worker, sets the sequences, copies again the chunks that
 *	TimescaleDB changed underneath (compression), and drops the slot and
 *	the publication; compression, jobs and verify follow as offline.
 *
 *	The slot, the publication and the worker's replication origin share
 *	one name, made of the target's system identifier, database and run: a
 *	slot left on the source holds its WAL, so every way out (cutover,
 *	abandon) drops it, and the checks of an online run warn about any
 *	other tsmigrate slot on the source.
 *
 *	DDL on the source during the online phase is not replicated: an event
 *	trigger of the same name (in a schema of that name, with its function)
 *	writes each DDL command the source commits into the WAL as a
 *	transactional logical message, "tsmigrate-ddl", which the stream
 *	worker reads in commit order and stops on, naming the statement.  It
 *	is made before the slot, so that nothing after the slot's snapshot
 *	escapes it, and dropped before the publication on every way out.
 *
 * IDENTIFICATION
 *	  src/migrate/online.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "nodes/parsenodes.h"
#include "replication/origin.h"
#include "replication/slot.h"
#include "storage/latch.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/hsearch.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "utils/wait_event.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "copy/copy.h"
#include "migrate/online.h"
#include "remote/remote.h"
#include "stream/stream.h"
#include "target/target.h"
#include "timescale/timescale.h"

PG_FUNCTION_INFO_V1(tsmigrate_abandon);
PG_FUNCTION_INFO_V1(tsmigrate_stream_status);

/* the schemas a publication of an online run leaves out: the system's, TimescaleDB's catalog */
static const char *const published_schemas_sql =
"SELECT n.nspname FROM pg_catalog.pg_namespace n"
" WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"
"   AND (n.nspname = '_timescaledb_internal'"
"        OR NOT EXISTS (SELECT FROM pg_catalog.pg_depend d"
"                        WHERE d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass"
"                          AND d.objid = n.oid AND d.deptype = 'e'))"
"   AND EXISTS (SELECT FROM pg_catalog.pg_class c"
"                WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p'))"
" ORDER BY 1";

/*
 * Tables of those schemas whose updates and deletes the source could not
 * publish (no replica identity): with the publication, the source would
 * refuse them.  A chunk is named by its hypertable; TimescaleDB's
 * compressed chunks and the tables of extensions are written by their
 * extension's C code alone, which does not ask.
 * %s: the name (a chunk's hypertable's) and the compressed chunks left out
 */
static const char *const no_identity_sql =
"SELECT DISTINCT %s"
"  FROM pg_catalog.pg_class c"
"  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" WHERE c.relkind = 'r' AND n.nspname = ANY ($1::pg_catalog.text[])"
"   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d"
"                    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
"                      AND d.objid = c.oid AND d.deptype = 'e')"
"   AND (c.relreplident = 'n'"
"        OR (c.relreplident = 'd' AND NOT EXISTS (SELECT FROM pg_catalog.pg_index i"
"                                                  WHERE i.indrelid = c.oid AND i.indisprimary))"
"        OR (c.relreplident = 'i' AND NOT EXISTS (SELECT FROM pg_catalog.pg_index i"
"                                                  WHERE i.indrelid = c.oid AND i.indisreplident)))"
"%s"
" ORDER BY 1";

static const char *const no_identity_name_ts =
"COALESCE((SELECT pg_catalog.format('%I.%I', h.schema_name, h.table_name)"
"            FROM _timescaledb_catalog.chunk ch"
"            JOIN _timescaledb_catalog.hypertable h ON h.id = ch.hypertable_id"
"           WHERE ch.schema_name = n.nspname AND ch.table_name = c.relname),"
"          pg_catalog.format('%I.%I', n.nspname, c.relname))";

static const char *const no_identity_compressed_ts =
"   AND NOT EXISTS (SELECT FROM _timescaledb_catalog.chunk cc"
"                     JOIN _timescaledb_catalog.hypertable p"
"                       ON p.compressed_hypertable_id = cc.hypertable_id"
"                    WHERE cc.schema_name = n.nspname AND cc.table_name = c.relname)"
"   AND NOT EXISTS (SELECT FROM _timescaledb_catalog.hypertable ch"
"                     JOIN _timescaledb_catalog.hypertable p"
"                       ON p.compressed_hypertable_id = ch.id"
"                    WHERE ch.schema_name = n.nspname AND ch.table_name = c.relname)";

/*
 * The function of the run's DDL event trigger on the source (%s: its name,
 * quoted and qualified), fixed: nothing of the source is pasted into it.
 * ON ddl_command_end, ENABLE ALWAYS (whatever session_replication_role a
 * session sets), it writes the command's tag and statement into the WAL,
 * in the command's transaction: the stream worker (stream/apply.c) meets
 * it where the command committed, and stops.  Left out:
 *
 * - TimescaleDB's own commands.  Inserting rows that make a chunk fires
 *	 ALTER TABLE on that chunk (TimescaleDB 2.25 and 2.28, tested): the
 *	 commands all of whose objects are in TimescaleDB's internal schemas
 *	 (_timescaledb_*) or are chunks (a hypertable's chunks may live in a
 *	 schema of the user's: associated_schema_name) are its, and the stream
 *	 follows chunks by itself.  compress_chunk, decompress_chunk,
 *	 drop_chunks, refreshes of continuous aggregates and the policies its
 *	 scheduler runs fire nothing.  A DROP collects no command here: it is
 *	 always reported.
 * - tsmigrate's own: the schema, function and publication of an online
 *	 run, made and dropped by a session that sets tsmigrate_stream.own_ddl
 *	 (another run from the same source must not stop this one's stream).
 *
 * A statement that may hold a password (a user mapping's, a server's or a
 * subscription's) is written as its tag alone; the worker applies the
 * wider rule before it shows anything.
 */
static const char *const ddl_function_sql =
"CREATE FUNCTION %s() RETURNS event_trigger LANGUAGE plpgsql"
" SET search_path = pg_catalog, pg_temp AS $tsm$\n"
"BEGIN\n"
"	IF pg_catalog.current_setting('tsmigrate_stream.own_ddl', true) = 'on'\n"
"	   AND tg_tag IN ('CREATE SCHEMA', 'CREATE FUNCTION', 'CREATE PUBLICATION',\n"
"	                  'DROP SCHEMA', 'DROP FUNCTION', 'DROP PUBLICATION') THEN\n"
"		RETURN;\n"
"	END IF;\n"
"	IF EXISTS (SELECT FROM pg_catalog.pg_event_trigger_ddl_commands()) THEN\n"
"		IF pg_catalog.to_regclass('_timescaledb_catalog.chunk') IS NULL THEN\n"
"			IF NOT EXISTS (SELECT FROM pg_catalog.pg_event_trigger_ddl_commands() c\n"
"			                WHERE c.schema_name IS NULL OR c.schema_name !~ '^_timescaledb_') THEN\n"
"				RETURN;\n"
"			END IF;\n"
"		ELSIF NOT EXISTS (SELECT FROM pg_catalog.pg_event_trigger_ddl_commands() c\n"
"		                   WHERE (c.schema_name IS NULL OR c.schema_name !~ '^_timescaledb_')\n"
"		                     AND NOT EXISTS (SELECT FROM _timescaledb_catalog.chunk ch\n"
"		                                      WHERE c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass\n"
"		                                        AND ch.schema_name = c.schema_name\n"
"		                                        AND pg_catalog.format('%%I.%%I', ch.schema_name, ch.table_name)\n"
"		                                            = c.object_identity)) THEN\n"
"			RETURN;\n"
"		END IF;\n"
"	END IF;\n"
"	PERFORM pg_catalog.pg_logical_emit_message(true, 'tsmigrate-ddl',\n"
"		tg_tag || E'\\n' || CASE WHEN tg_tag ~ '(USER MAPPING|SERVER|SUBSCRIPTION)' THEN ''\n"
"		                          ELSE COALESCE(pg_catalog.current_query(), '') END);\n"
"END\n"
"$tsm$";

static char *published_schemas(PGconn *conn);

/*
 * tsm_online_check
 *		Everything an online run needs, checked before anything changes;
 *		each missing piece an error with its fix.  (A tsmigrate slot left
 *		on the source by another run is preflight's WARNING: it holds WAL.)
 */
void
tsm_online_check(PGconn *conn, TsmSource *src)
{
	TsmRows    *r;
	char	   *schemas;
	bool		has_ts;
	StringInfoData list;
	int			i;

	if (!OidIsValid(src->serverid))
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("online migration needs the source as a foreign server"),
				errdetail("The stream worker connects to the source again after the call returns, with the user mapping, and a connection string is not kept."),
				errhint("CREATE SERVER ... FOREIGN DATA WRAPPER tsmigrate, a user mapping, and migrate(source => 'that server', online => true)."));
	if (!superuser() &&
		!DatumGetBool(DirectFunctionCall3(has_parameter_privilege_name_name,
										  CStringGetDatum(GetUserNameFromId(GetUserId(), false)),
										  CStringGetTextDatum("session_replication_role"),
										  CStringGetTextDatum("SET"))))
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("online migration needs the right to set session_replication_role"),
				errdetail("The stream worker applies the source's rows without firing triggers again, as a subscription does."),
				errhint("GRANT SET ON PARAMETER session_replication_role TO %s;",
						quote_identifier(GetUserNameFromId(GetUserId(), false))));

	/* the worker's replication origin takes one of this server's slots */
	if (max_replication_slots == 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("online migration needs max_replication_slots above 0 on the target"),
				errdetail("The stream worker keeps the source's position in a replication origin, which takes one of them."),
				errhint("ALTER SYSTEM SET max_replication_slots = 10; then restart the target."));

	if (PQserverVersion(conn) < 150000)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("online migration needs a source of PostgreSQL 15 or later"),
				errdetail("It publishes whole schemas (CREATE PUBLICATION ... FOR TABLES IN SCHEMA), so that chunks made during the copy are published too."),
				errhint("Migrate this source offline: migrate(online => false)."));

	r = tsm_query(conn,
				  "SELECT pg_catalog.current_setting('wal_level'),"
				  "       pg_catalog.current_setting('max_replication_slots')::int"
				  "         - (SELECT pg_catalog.count(*) FROM pg_catalog.pg_replication_slots),"
				  "       pg_catalog.current_setting('max_wal_senders')::int"
				  "         - (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_replication),"
				  "       r.rolsuper, r.rolreplication,"
				  "       EXISTS (SELECT FROM pg_catalog.pg_language l WHERE l.lanname = 'plpgsql'),"
				  "       pg_catalog.current_setting('event_triggers', true)"
				  "  FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER",
				  0, NULL, 7, "the source's replication settings");
	if (r->nrows != 1)
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("the source did not describe its login role"));
	if (strcmp(tsm_rows_get(r, 0, 0), "logical") != 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("the source's wal_level is \"%s\", online migration needs \"logical\"",
					   tsm_rows_get(r, 0, 0)),
				errhint("On the source: ALTER SYSTEM SET wal_level = logical; then restart it."));
	if (tsm_rows_int32(r, 0, 1) < 1)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("the source has no free replication slot"),
				errhint("Raise max_replication_slots on the source (a restart), or drop a slot it no longer needs."));
	if (tsm_rows_int32(r, 0, 2) < 1)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("the source has no free WAL sender"),
				errhint("Raise max_wal_senders on the source (a restart)."));
	if (!tsm_rows_bool(r, 0, 3))
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("online migration needs a superuser login on the source"),
				errdetail("It makes a publication of whole schemas, a replication slot, and an event trigger that stops the stream on DDL there."),
				errhint("Use a superuser in the user mapping, or on a managed service the role it grants logical replication to, or migrate offline."));

	/* the event trigger that reports DDL (tsm_online_snapshot) */
	if (!tsm_rows_bool(r, 0, 5))
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("online migration needs PL/pgSQL in the source database"),
				errdetail("Its event trigger, which stops the stream on DDL, is written in PL/pgSQL."),
				errhint("On the source: CREATE EXTENSION plpgsql;"));
	if (tsm_rows_value(r, 0, 6) != NULL && strcmp(tsm_rows_value(r, 0, 6), "on") != 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("event triggers are disabled on the source"),
				errdetail("Online migration detects DDL on the source with an event trigger; with \"event_triggers\" off, DDL would go unseen."),
				errhint("On the source: ALTER SYSTEM RESET event_triggers; SELECT pg_reload_conf();"));

	schemas = published_schemas(conn);
	has_ts = tsm_source_has_timescaledb(conn);

	/*
	 * Compression moves a chunk's rows to and from its compressed chunk: the
	 * stream tells those moves from the application's writes by TimescaleDB's
	 * markers around them.
	 */
	if (has_ts)
	{
		r = tsm_query(conn,
					  "SELECT pg_catalog.current_setting('timescaledb.enable_compression_wal_markers', true)"
					  "  FROM _timescaledb_catalog.hypertable h"
					  " WHERE h.compressed_hypertable_id IS NOT NULL LIMIT 1",
					  0, NULL, 1, "the source's compression markers");
		if (r->nrows > 0 && (tsm_rows_value(r, 0, 0) == NULL ||
							 strcmp(tsm_rows_value(r, 0, 0), "on") != 0))
			ereport(ERROR,
					errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					errmsg("the source's TimescaleDB does not mark its compressions in the WAL"),
					errdetail("The source has compressed hypertables; without the markers, rows moved by a compression would be taken for the application's."),
					tsm_rows_value(r, 0, 0) == NULL ?
					errhint("Upgrade TimescaleDB on the source, or migrate offline.") :
					errhint("On the source: ALTER SYSTEM SET timescaledb.enable_compression_wal_markers = on; SELECT pg_reload_conf();"));
	}
	{
		const char *params[1] = {schemas};

		r = tsm_query(conn,
					  psprintf(no_identity_sql,
							   has_ts ? no_identity_name_ts : "pg_catalog.format('%I.%I', n.nspname, c.relname)",
							   has_ts ? no_identity_compressed_ts : ""),
					  1, params, 1, "the source's tables without replica identity");
	}
	if (r->nrows > 0)
	{
		initStringInfo(&list);
		for (i = 0; i < r->nrows && i < 10; i++)
			appendStringInfo(&list, "%s%s", i ? ", " : "", tsm_rows_get(r, i, 0));
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg_plural("%d table of the source has no replica identity",
							  "%d tables of the source have no replica identity",
							  r->nrows, r->nrows),
				errdetail("With the run's publication, the source would refuse their updates and deletes: %s%s.",
						  list.data, r->nrows > 10 ? ", ..." : ""),
				errhint("Give each a primary key, or ALTER TABLE ... REPLICA IDENTITY FULL, on the source (for a continuous aggregate's _materialized_hypertable, REPLICA IDENTITY FULL: its refreshes delete rows); then migrate again."));
	}
}

/*
 * Is the stream worker recorded as "pid" (text, or NULL) alive?  The
 * process of that pid must be this run's worker (its application_name
 * says so), not whatever process has the pid now.
 */
bool
tsm_online_worker_alive(const char *pid, int64 run_id)
{
	if (pid == NULL)
		return false;
	return tsm_local_has_row("SELECT 1 FROM pg_catalog.pg_stat_activity"
							 " WHERE pid OPERATOR(pg_catalog.=) $1::pg_catalog.int4"
							 "   AND datid OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d"
							 "        WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
							 "   AND backend_type OPERATOR(pg_catalog.=) 'tsmigrate stream'"
							 "   AND application_name OPERATOR(pg_catalog.=) $2",
							 pid, psprintf("tsmigrate stream of run " INT64_FORMAT, run_id));
}

/* an UPDATE of the run's state, with the run as $1 */
void
tsm_online_run_update(const char *sql, int64 run_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];

	values[0] = Int64GetDatum(run_id);
	SPI_connect();
	if (SPI_execute_with_args(sql, 1, types, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "SPI_execute_with_args failed");
	SPI_finish();
}

/* the source's schemas to publish, as a text[] literal */
static char *
published_schemas(PGconn *conn)
{
	TsmRows    *r = tsm_query(conn, published_schemas_sql, 0, NULL, 1,
							  "the source's schemas");
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < r->nrows; i++)
	{
		const char *s = tsm_rows_name(r, i, 0);

		appendStringInfo(&buf, "%s\"", i ? "," : "");
		for (; *s; s++)
		{
			if (*s == '"' || *s == '\\')
				appendStringInfoChar(&buf, '\\');
			appendStringInfoChar(&buf, *s);
		}
		appendStringInfoChar(&buf, '"');
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * tsm_online_snapshot
 *		For the data step of online run "run_id": the publication and the
 *		slot (made again if an earlier call made them: what it copied is
 *		copied again, under the new snapshot), and the slot's snapshot
 *		imported into "snapshot_conn", whose transaction has just begun.
 *		Records them in tsmigrate.run_stream.
 */
void
tsm_online_snapshot(int64 run_id, TsmSource *src, PGconn *snapshot_conn)
{
	char	   *name = tsm_stream_object_name(run_id);
	PGconn	   *repl;
	XLogRecPtr	consistent;
	char	   *snapshot;
	TsmRows    *r;
	StringInfoData sql;
	Oid			types[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	int			i;

	tsm_replication_drop(snapshot_conn, name);
	r = tsm_query(snapshot_conn, published_schemas_sql, 0, NULL, 1, "the source's schemas");
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE PUBLICATION %s", quote_identifier(name));
	for (i = 0; i < r->nrows; i++)
		appendStringInfo(&sql, "%s%s", i ? ", " : " FOR TABLES IN SCHEMA ",
						 quote_identifier(tsm_rows_name(r, i, 0)));
	tsm_conn_command(snapshot_conn, tsm_replication_own_ddl(sql.data));

	/* before the slot: every DDL after its snapshot is reported */
	tsm_conn_command(snapshot_conn,
					 tsm_replication_own_ddl(psprintf("CREATE SCHEMA %s; %s;"
													  " CREATE EVENT TRIGGER %s ON ddl_command_end EXECUTE FUNCTION %s();"
													  " ALTER EVENT TRIGGER %s ENABLE ALWAYS",
													  quote_identifier(name),
													  psprintf(ddl_function_sql, quote_qualified_identifier(name, name)),
													  quote_identifier(name), quote_qualified_identifier(name, name),
													  quote_identifier(name))));

	repl = tsm_replication_open(src);
	snapshot = tsm_replication_create_slot(repl, name, &consistent);
	if (strspn(snapshot, "0123456789ABCDEFabcdef-") != strlen(snapshot))
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("the source sent an invalid snapshot name"));
	tsm_conn_command(snapshot_conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	tsm_conn_command(snapshot_conn, psprintf("SET TRANSACTION SNAPSHOT %s",
											 quote_literal_cstr(snapshot)));
	tsm_conn_close(repl);

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(name);
	values[2] = CStringGetTextDatum(psprintf("%X/%X", LSN_FORMAT_ARGS(consistent)));
	values[3] = CStringGetTextDatum(name);
	if (SPI_execute_with_args("INSERT INTO tsmigrate.run_stream (run_id, slot, publication, origin, consistent_lsn, state)"
							  " VALUES ($1, $2, $2, $4, $3::pg_catalog.pg_lsn, 'copying')"
							  " ON CONFLICT (run_id) DO UPDATE SET consistent_lsn = excluded.consistent_lsn,"
							  "   state = 'copying', error = NULL",
							  4, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_with_args failed");
}

/*
 * tsm_online_start_stream
 *		The stream step: start the worker of run "run_id" (again, after a
 *		restart of the target), unless it runs.
 */
char *
tsm_online_start_stream(int64 run_id)
{
	TsmRows    *row = tsm_online_stream_row(run_id);
	int			pid;

	if (row == NULL)
		elog(ERROR, "online run " INT64_FORMAT " has no stream", run_id);
	if (strcmp(tsm_rows_get(row, 0, 0), "abandoned") == 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("online run " INT64_FORMAT " was abandoned", run_id),
				errhint("To migrate again, drop what it created and DELETE FROM tsmigrate.run WHERE run_id = " INT64_FORMAT ".",
						run_id));
	if (strcmp(tsm_rows_get(row, 0, 0), "failed") == 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("the stream of run " INT64_FORMAT " failed: %s", run_id,
					   tsm_rows_value(row, 0, 2) ? tsm_rows_value(row, 0, 2) : "?"),
				errhint("Call tsmigrate.abandon(), remove the cause, and migrate again."));
	if (tsm_online_worker_alive(tsm_rows_value(row, 0, 1), run_id))
		return psprintf("streaming, worker %s", tsm_rows_value(row, 0, 1));

	/* a worker outlives its call: as many as tsmigrate.max_jobs, in all */
	if (tsm_local_has_row("SELECT 1 FROM pg_catalog.pg_stat_activity"
						  " WHERE backend_type OPERATOR(pg_catalog.=) 'tsmigrate stream'"
						  " HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>=) $1::pg_catalog.int4",
						  psprintf("%d", tsm_max_jobs), NULL))
		ereport(ERROR,
				errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				errmsg("%d stream workers of online migrations run already", tsm_max_jobs),
				errhint("Finish or abandon one of them, or raise tsmigrate.max_jobs."));
	tsm_online_run_update("UPDATE tsmigrate.run_stream SET state = 'streaming'"
						  " WHERE run_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8", run_id);
	/* the worker reads the row: it must be committed */
	SPI_commit();
	if (!tsm_stream_worker_start(run_id, &pid))
		ereport(ERROR,
				errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				errmsg("could not start the stream worker"),
				errhint("Raise max_worker_processes on the target (a restart), then call migrate(..., online => true) again."));
	/* known from now on: a second call does not start another */
	{
		Oid			types[2] = {INT8OID, INT4OID};
		Datum		values[2];

		values[0] = Int64GetDatum(run_id);
		values[1] = Int32GetDatum(pid);
		SPI_connect();
		if (SPI_execute_with_args("UPDATE tsmigrate.run_stream SET worker_pid = $2"
								  " WHERE run_id OPERATOR(pg_catalog.=) $1",
								  2, types, values, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "SPI_execute_with_args failed");
		SPI_finish();
	}
	return psprintf("streaming, worker %d", pid);
}

/* the run's stream row: state, worker_pid, error, marker, slot, origin */
TsmRows *
tsm_online_stream_row(int64 run_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	TsmRows    *rows = NULL;

	values[0] = Int64GetDatum(run_id);
	SPI_connect();
	if (SPI_execute_with_args("SELECT state, worker_pid::text, error, marker, slot, origin"
							  "  FROM tsmigrate.run_stream WHERE run_id OPERATOR(pg_catalog.=) $1",
							  1, types, values, NULL, false, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		int			c;

		/* in the caller's memory, which SPI_finish leaves */
		rows = SPI_palloc(sizeof(TsmRows));
		rows->nrows = 1;
		rows->ncols = 6;
		rows->what = "the run's stream";
		rows->names = NULL;
		rows->values = SPI_palloc(sizeof(char *) * 6);
		for (c = 0; c < 6; c++)
		{
			char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, c + 1);

			rows->values[c] = NULL;
			if (v != NULL)
			{
				rows->values[c] = SPI_palloc(strlen(v) + 1);
				strcpy(rows->values[c], v);
			}
		}
	}
	SPI_finish();
	return rows;
}

/*
 * Stop the worker for good: its row says so first (a worker started again
 * by the postmaster reads it and exits), then it is terminated, and
 * waited for.
 */
void
tsm_online_stop_worker(int64 run_id)
{
	char	   *id = psprintf(INT64_FORMAT, run_id);
	char	   *pid;

	pid = tsm_local_query_value("SELECT worker_pid::pg_catalog.text FROM tsmigrate.run_stream"
								" WHERE run_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8",
								id, NULL);
	tsm_online_run_update("UPDATE tsmigrate.run_stream SET state = 'stopped'"
						  " WHERE run_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8"
						  "   AND state OPERATOR(pg_catalog.=) 'streaming'", run_id);
	SPI_commit();
	if (tsm_online_worker_alive(pid, run_id))
		(void) tsm_local_query_value("SELECT pg_catalog.pg_terminate_backend($1::pg_catalog.int4, 10000)::pg_catalog.text",
									 pid, NULL);
}

/*
 * CALL tsmigrate.abandon(source text)
 *		Give up the online run of "source": stop its worker, drop its DDL
 *		event trigger, slot and publication on the source and its
 *		replication origin here, and mark the run failed.  What it copied
 *		stays.
 */
Datum
tsmigrate_abandon(PG_FUNCTION_ARGS)
{
	TsmSource  *src = tsm_source_from_arg(fcinfo, 0);
	char	   *run;
	char	   *name;
	PGconn	   *conn;

	/* it commits that the worker is to stop before stopping it */
	if (fcinfo->context == NULL || !IsA(fcinfo->context, CallContext) ||
		castNode(CallContext, fcinfo->context)->atomic)
		ereport(ERROR,
				errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				errmsg("tsmigrate.abandon cannot run inside a transaction block"),
				errhint("Run CALL tsmigrate.abandon(...) on its own."));
	SPI_connect_ext(SPI_OPT_NONATOMIC);
	run = tsm_local_query_value("SELECT r.run_id::pg_catalog.text FROM tsmigrate.run r"
								"  JOIN tsmigrate.run_stream s USING (run_id)"
								" WHERE r.source OPERATOR(pg_catalog.=) $1"
								"   AND r.owner OPERATOR(pg_catalog.=) CURRENT_USER"
								"   AND s.state OPERATOR(pg_catalog.<>) 'done'"
								" ORDER BY r.run_id DESC LIMIT 1",
								src->label, NULL);
	if (run == NULL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("no online run from \"%s\" to abandon", src->label));
	name = tsm_stream_object_name(pg_strtoint64(run));
	tsm_online_stop_worker(pg_strtoint64(run));
	conn = tsm_conn_open(src);
	tsm_replication_drop(conn, name);
	tsm_conn_close(conn);
	replorigin_drop_by_name(name, true, true);
	tsm_online_run_update("UPDATE tsmigrate.run_stream SET state = 'abandoned', worker_pid = NULL"
						  " WHERE run_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8", pg_strtoint64(run));
	tsm_online_run_update("UPDATE tsmigrate.run SET state = 'failed', error = 'abandoned',"
						  " finished = pg_catalog.clock_timestamp()"
						  " WHERE run_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8", pg_strtoint64(run));
	SPI_finish();
	ereport(NOTICE,
			errmsg("online run %s abandoned: its slot, publication and DDL event trigger are dropped on the source", run),
			errhint("What it copied stays; to migrate again, drop it and DELETE FROM tsmigrate.run WHERE run_id = %s.",
					run));
	PG_RETURN_VOID();
}

/*
 * tsmigrate.stream_status(source text)
 *		The stream of the last online run from "source": its state, what it
 *		applied, and how far behind the source it is: in bytes asked of
 *		the source (its WAL position against what the slot confirmed), in
 *		seconds from what the worker recorded (the progress view's way).
 */
Datum
tsmigrate_stream_status(PG_FUNCTION_ARGS)
{
	TsmSource  *src = tsm_source_from_arg(fcinfo, 0);
	ReturnSetInfo *rsinfo;
	Datum		values[9];
	bool		nulls[9];
	Oid			types[1] = {TEXTOID};
	Datum		args[1];
	int			c;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	args[0] = CStringGetTextDatum(src->label);
	SPI_connect();
	/* the lag in seconds: as the progress view has it (see run_stream) */
	if (SPI_execute_with_args("SELECT s.run_id, s.state, s.slot, s.applied_lsn,"
							  "       CASE WHEN s.caught_up OPERATOR(pg_catalog.>=) s.updated"
							  "             AND pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) s.updated"
							  "                 OPERATOR(pg_catalog.<) interval '3 s'"
							  "            THEN 0"
							  "            ELSE EXTRACT(epoch FROM pg_catalog.clock_timestamp()"
							  "                     OPERATOR(pg_catalog.-) s.caught_up) END::pg_catalog.float8,"
							  "       NULL,"
							  "       s.applied_transactions, s.worker_pid, s.error"
							  "  FROM tsmigrate.run_stream s JOIN tsmigrate.run r USING (run_id)"
							  " WHERE r.source OPERATOR(pg_catalog.=) $1"
							  "   AND r.owner OPERATOR(pg_catalog.=) CURRENT_USER"
							  " ORDER BY s.run_id DESC LIMIT 1",
							  1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *slot = tsm_stream_object_name(DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull)));
		char	   *state = SPI_getvalue(tup, desc, 2);
		Datum		applied = SPI_getbinval(tup, desc, 4, &isnull);
		bool		applied_null = isnull;
		Datum		lag_seconds = SPI_getbinval(tup, desc, 5, &isnull);
		bool		lag_seconds_null = isnull;

		for (c = 0; c < 9; c++)
			nulls[c] = false;
		values[0] = SPI_getbinval(tup, desc, 1, &nulls[0]);
		values[1] = CStringGetTextDatum(state);
		values[2] = slot ? CStringGetTextDatum(slot) : (Datum) 0;
		nulls[2] = slot == NULL;
		values[3] = applied;
		nulls[3] = applied_null;
		nulls[4] = true;
		nulls[5] = true;
		values[6] = SPI_getbinval(tup, desc, 7, &nulls[6]);
		values[7] = SPI_getbinval(tup, desc, 8, &nulls[7]);
		values[8] = SPI_getbinval(tup, desc, 9, &nulls[8]);
		if (nulls[8] == false)
			values[8] = CStringGetTextDatum(SPI_getvalue(tup, desc, 9));

		/* the lag, from the source: its WAL against the slot's confirmation */
		if (slot != NULL && strcmp(state, "streaming") == 0)
		{
			PGconn	   *conn = tsm_conn_open(src);
			const char *params[1] = {slot};
			TsmRows    *r;

			r = tsm_query(conn,
						  "SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(),"
						  "                                  s.confirmed_flush_lsn)::bigint"
						  "  FROM pg_catalog.pg_replication_slots s WHERE s.slot_name = $1",
						  1, params, 1, "the run's slot");
			tsm_conn_close(conn);
			if (r->nrows == 1 && tsm_rows_value(r, 0, 0) != NULL)
			{
				int64		lag = tsm_rows_int64(r, 0, 0);

				values[4] = Int64GetDatum(Max(lag, 0));
				nulls[4] = false;
			}
			/* how far behind in seconds: see tsmigrate.run_stream */
			values[5] = lag_seconds;
			nulls[5] = lag_seconds_null;
		}
		else if (state != NULL && strcmp(state, "done") == 0)
		{
			values[4] = Int64GetDatum(0);
			values[5] = Float8GetDatum(0.0);
			nulls[4] = nulls[5] = false;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
