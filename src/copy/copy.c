/*-------------------------------------------------------------------------
 *
 * copy.c
 *	  Stream one table (or one block range of it) from the source with COPY
 *
 * The source side runs COPY ... TO STDOUT on a connection that is idle
 * inside the migration's snapshot; the target side is BeginCopyFrom() fed
 * by copy_source_read(), as logical replication's table sync does, so rows
 * go straight from the socket into heap tuples: no file, no client, and
 * memory stays flat whatever the table size (one CopyData message at a
 * time).
 *
 * Text format is read back with the target database's encoding (the source
 * connection's client_encoding is set to it); binary format only where
 * copy_command.c's rule allows it.
 *
 * A copy in a transaction of its own (migrate's copy workers) may first
 * empty the (empty) table again in that transaction, so that COPY writes
 * its rows frozen (tsm_copy_prepare_freeze).
 *
 * IDENTIFICATION
 *	  src/copy/copy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "commands/copy.h"
#include "commands/tablecmds.h"
#include "executor/tuptable.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "parser/parse_relation.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "copy/copy.h"
#include "copy/copy_command.h"
#include "remote/remote.h"

/*
 * State of the copy in progress: copy_data_source_cb has no argument, so it
 * lives in a file-static pointer, set only while CopyFrom() runs.
 */
typedef struct TsmCopySource
{
	PGconn	   *conn;
	const char *sql;			/* for error context */
	char	   *msg;			/* libpq's message not handed over yet, */
	int			msglen;			/* its length */
	int			msgpos;			/* and how much of it went out */
	bool		eof;			/* source said CopyDone */
	uint64		bytes;			/* bytes received */
} TsmCopySource;

static TsmCopySource *copy_source = NULL;

static int	copy_source_read(void *outbuf, int minread, int maxread);
static void copy_source_finish(TsmCopySource *cs);
tsm_noreturn static void report_copy_error(PGresult *res, TsmCopySource *cs) tsm_noreturn_after;

/*
 * tsm_copy_check_target
 *		Refuse a target table the caller may not fill with COPY FROM.
 *
 * The caller needs INSERT on the table.  COPY FROM does not apply
 * row-level security policies, so a table with RLS enabled for the caller
 * is refused rather than filled past its policies (tablesync's rule).
 */
void
tsm_copy_check_target(Relation rel)
{
	AclResult	aclresult;

	aclresult = pg_class_aclcheck(RelationGetRelid(rel), GetUserId(), ACL_INSERT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult,
					   get_relkind_objtype(rel->rd_rel->relkind),
					   RelationGetRelationName(rel));

	if (check_enable_rls(RelationGetRelid(rel), InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("cannot copy into relation \"%s\" with row-level security enabled",
					   RelationGetRelationName(rel)),
				errdetail("COPY FROM does not apply row-level security policies."),
				errhint("Run tsmigrate.pull_data as a role with BYPASSRLS or as the table's owner, or disable row-level security on the target table during the migration."));
}

/*
 * tsm_copy_prepare_freeze
 *		Before a copy into "relid" that is alone in its transaction: TRUNCATE
 *		the table, which must be empty, in that transaction, so that COPY
 *		FREEZE may follow.  Its rows are then written frozen and visible to
 *		all: the first reader (index builds, ANALYZE, verify) sets no hint
 *		bits and rewrites no page, and VACUUM has nothing to freeze later.
 *
 * PostgreSQL's TRUNCATE, called directly: TimescaleDB's, for a chunk, would
 * record an invalidation for continuous aggregates over rows that never
 * existed.  Returns false, having done nothing, where a TRUNCATE could do
 * more than empty an empty table or is not the caller's to do: without the
 * TRUNCATE privilege, or with triggers (foreign keys among them).  A table
 * that is not empty any more is an error.
 */
bool
tsm_copy_prepare_freeze(Oid relid)
{
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	bool		empty;
	TruncateStmt *stmt;
	RangeVar   *rv;

	if (pg_class_aclcheck(relid, GetUserId(), ACL_TRUNCATE) != ACLCHECK_OK)
		return false;

	rel = table_open(relid, AccessExclusiveLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relhastriggers)
	{
		table_close(rel, NoLock);
		return false;
	}
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	empty = !table_scan_getnextslot(scan, ForwardScanDirection, slot);
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	if (!empty)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("table \"%s\" is not empty any more", RelationGetRelationName(rel)),
				errdetail("Another session wrote to it while the data was being copied."));
	rv = makeRangeVar(get_namespace_name(RelationGetNamespace(rel)),
					  pstrdup(RelationGetRelationName(rel)), -1);
	rv->inh = false;
	table_close(rel, NoLock);

	stmt = makeNode(TruncateStmt);
	stmt->relations = list_make1(rv);
	stmt->restart_seqs = false;
	stmt->behavior = DROP_RESTRICT;
	ExecuteTruncate(stmt);
	CommandCounterIncrement();
	return true;
}

/*
 * tsm_copy_table
 *		Copy the rows that "cmd" reads on the source into target relation
 *		"relid"; with "freeze", frozen (the table was emptied in this
 *		transaction by tsm_copy_prepare_freeze).
 *
 * "columns" names the target columns in the order the source sends them
 * ('\0'-separated, ending with an empty name).  The connection must be
 * idle inside the snapshot-importing transaction.  Returns the number of
 * rows; *bytes is set to the bytes received.  On error the connection is
 * left in an unknown state and the caller must close it (aborting the
 * transaction does).
 */
uint64
tsm_copy_table(PGconn *conn, Oid relid, const TsmCopyCommand *cmd,
			   const char *columns, bool freeze, uint64 *bytes)
{
	bool		binary = tsm_copy_binary_here(cmd);
	char	   *sql = tsm_copy_command(cmd, binary);
	Relation	rel;
	ParseState *pstate;
	List	   *attnames = NIL;
	List	   *options = NIL;
	CopyFromState cstate;
	TsmCopySource cs;
	uint64		rows;
	const char *col;

	rel = table_open(relid, RowExclusiveLock);
	tsm_copy_check_target(rel);

	for (col = columns; *col != '\0'; col += strlen(col) + 1)
		attnames = lappend(attnames, makeString(pstrdup(col)));

	if (binary)
		options = lappend(options, makeDefElem("format",
											   (Node *) makeString("binary"), -1));
	else
		options = lappend(options,
						  makeDefElem("encoding",
									  (Node *) makeString((char *) GetDatabaseEncodingName()),
									  -1));
	if (freeze)
		options = lappend(options, makeDefElem("freeze", NULL, -1));

	PQclear(tsm_conn_exec(conn, sql, 0, NULL, PGRES_COPY_OUT));

	memset(&cs, 0, sizeof(cs));
	cs.conn = conn;
	cs.sql = sql;

	pstate = make_parsestate(NULL);
	(void) addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock,
										 NULL, false, false);

	copy_source = &cs;
	PG_TRY();
	{
		cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false,
							   copy_source_read, attnames, options);
		rows = CopyFrom(cstate);
		EndCopyFrom(cstate);

		/* COPY FROM stops at the end marker; the source must agree */
		if (!cs.eof)
			copy_source_finish(&cs);
	}
	PG_FINALLY();
	{
		copy_source = NULL;
		if (cs.msg)
			PQfreemem(cs.msg);
	}
	PG_END_TRY();

	free_parsestate(pstate);
	table_close(rel, NoLock);

	*bytes = cs.bytes;
	return rows;
}

/*
 * copy_source_read
 *		copy_data_source_cb: hand COPY FROM between minread and maxread bytes
 *		of the source's COPY stream; 0 means the stream ended.
 *
 * Every CopyData message libpq has already received goes out in one call,
 * up to maxread bytes: the source sends a message per row, and a call per
 * row would cost COPY FROM a refill of its input buffer per row.  A
 * message that does not fit is handed over from libpq's own copy of it,
 * which is freed as soon as its last byte went out, never copied again
 * here: a large row is held by libpq (its input buffer, and the message it
 * returns) and then by COPY FROM (its attribute buffer, the datum, the
 * tuple), not a third time by tsmigrate.  Measured on PostgreSQL 15 for
 * one 250 MB text value: the backend's peak went from 1.30 GB to 1.04 GB
 * (binary COPY) and from 1.56 GB to 1.31 GB (text COPY).  The call blocks
 * only while it has nothing to hand over.
 */
static int
copy_source_read(void *outbuf, int minread, int maxread)
{
	TsmCopySource *cs = copy_source;
	char	   *out = outbuf;
	int			done = 0;
	bool		read_socket = false;	/* read it since the last message */

	Assert(cs != NULL);

	while (done < maxread)
	{
		char	   *buf;
		int			len;

		if (cs->msg != NULL)
		{
			int			n = Min(cs->msglen - cs->msgpos, maxread - done);

			memcpy(out + done, cs->msg + cs->msgpos, n);
			cs->msgpos += n;
			done += n;
			if (cs->msgpos == cs->msglen)
			{
				PQfreemem(cs->msg);
				cs->msg = NULL;
			}
			continue;
		}

		if (cs->eof)
			break;

		CHECK_FOR_INTERRUPTS();
		len = PQgetCopyData(cs->conn, &buf, true);
		if (len > 0)
		{
			int			n = Min(len, maxread - done);

			memcpy(out + done, buf, n);
			done += n;
			if (n < len)
			{
				/* the rest goes out from libpq's buffer, no copy of ours */
				cs->msg = buf;
				cs->msglen = len;
				cs->msgpos = n;
			}
			else
				PQfreemem(buf);
			cs->bytes += len;
			read_socket = false;
		}
		else if (len == 0)
		{
			/* no whole message buffered: hand over what there is */
			if (done >= minread && done > 0)
				break;
			/* read what the socket has; sleep only if that was not enough */
			if (read_socket)
			{
				(void) WaitLatchOrSocket(MyLatch,
										 WL_LATCH_SET | WL_SOCKET_READABLE |
										 WL_EXIT_ON_PM_DEATH,
										 PQsocket(cs->conn), -1L,
										 TsmWaitEventCompat("TsmigrateCopy"));
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
			if (!PQconsumeInput(cs->conn))
				report_copy_error(NULL, cs);
			read_socket = true;
		}
		else
		{
			/* -1: the source ended the COPY; -2: the connection failed */
			copy_source_finish(cs);
		}
	}
	return done;
}

/*
 * After PQgetCopyData() said the COPY is over, check that it succeeded:
 * the final result must be PGRES_COMMAND_OK.
 */
static void
copy_source_finish(TsmCopySource *cs)
{
	PGresult   *res;

	res = libpqsrv_get_result(cs->conn, TsmWaitEventCompat("TsmigrateCopy"));
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		report_copy_error(res, cs);
	PQclear(res);
	/* consume the NULL that ends the command */
	while ((res = libpqsrv_get_result(cs->conn, TsmWaitEventCompat("TsmigrateCopy"))) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (st != PGRES_COMMAND_OK)
			report_copy_error(res, cs);
		PQclear(res);
	}
	cs->eof = true;
}

/*
 * Raise the error that ended the source's COPY.  A source backend that was
 * terminated, or a source server that shut down, sends a FATAL in class 57
 * before closing the socket: for the caller that is a lost connection,
 * class 08, whether or not libpq has noticed the closed socket yet.
 */
static void
report_copy_error(PGresult *res, TsmCopySource *cs)
{
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(cs->conn) == CONNECTION_BAD || res == NULL ||
		(sqlstate != NULL && strncmp(sqlstate, "57P", 3) == 0))
	{
		const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		char	   *msg;

		msg = pchomp(primary ? primary : PQerrorMessage(cs->conn));
		if (res)
			PQclear(res);
		ereport(ERROR,
				errcode(ERRCODE_CONNECTION_FAILURE),
				errmsg("lost connection to the source during COPY"),
				errdetail_internal("%s", msg),
				errcontext("remote SQL command: %s", cs->sql));
	}
	tsm_report_remote_error(res, cs->conn, cs->sql);
}
