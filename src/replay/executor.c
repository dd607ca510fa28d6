/*-------------------------------------------------------------------------
 *
 * executor.c
 *	  Run generated global DDL on the target, one guarded unit at a time
 *
 * pull_roles and sync_extensions build their statements from the source's
 * catalogs with every name quoted; before one runs here it is parsed again
 * and must be exactly one statement of the node type its generator meant
 * (a role name cannot smuggle a second statement in).  It then runs
 * through ProcessUtility as a query of its own, as SPI would run it, so
 * that the target's event triggers see it as they would see the same
 * statement typed by the caller (ImportForeignSchema's subcommands, which
 * are part of a command that fired them already, do not fire them).
 *
 * A unit of one or more statements runs in an internal subtransaction, as
 * a PL/pgSQL block with an EXCEPTION clause does.  Errors that a DBA
 * expects from a partial right to do things (a CREATEROLE-only caller, a
 * parameter the target does not know, a role whose creation was skipped)
 * roll the unit back and come back as a reason; every other error, and
 * every cancel, goes on up.
 *
 * IDENTIFICATION
 *	  src/replay/executor.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodes.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "parser/parser.h"
#include "tcop/dest.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "compat.h"
#include "tsmigrate.h"
#include "replay/replay.h"

static void replay_error_callback(void *arg);

/*
 * tsm_replay_statement
 *		Parse "sql", check that it is one statement of node type "expected",
 *		and run it.
 *
 * "kind" and "name" say what the statement is about, for the error
 * context: ("role", "alice"), ("extension", "hstore").
 */
void
tsm_replay_statement(const char *sql, NodeTag expected, const char *kind,
					 const char *name)
{
	tsm_replay_rewritten(sql, expected, kind, name, NULL, NULL);
}

/*
 * tsm_replay_rewritten
 *		tsm_replay_statement, with the parsed statement handed to "rewrite"
 *		(when not NULL) before it runs: for a definition from the source that
 *		must name another relation here, such as an index of a continuous
 *		aggregate's materialization table.
 */
void
tsm_replay_rewritten(const char *sql, NodeTag expected, const char *kind,
					 const char *name, TsmStmtRewrite rewrite, void *arg)
{
	TsmReplayContext ctx;
	List	   *raw;
	RawStmt    *rs;
	PlannedStmt *pstmt;

	tsm_replay_context_push(&ctx, kind, name, false);
	ctx.sql = sql;

	raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1 ||
		nodeTag(((RawStmt *) linitial(raw))->stmt) != expected)
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("generated statement for %s \"%s\" is not a single statement of the expected kind",
					   kind, name),
				errdetail("A name from the source must not change what the statement does."));
	rs = linitial_node(RawStmt, raw);
	if (rewrite != NULL)
		rewrite(rs->stmt, arg);

	pstmt = makeNode(PlannedStmt);
	pstmt->commandType = CMD_UTILITY;
	pstmt->canSetTag = false;
	pstmt->utilityStmt = rs->stmt;
	pstmt->stmt_location = rs->stmt_location;
	pstmt->stmt_len = rs->stmt_len;

	/*
	 * As a query of its own, not a subcommand: event triggers fire for it as
	 * for the same statement run through SPI, so a DBA's ddl_command_start
	 * trigger that refuses CREATE EXTENSION refuses it here too.
	 */
	ProcessUtility(pstmt, sql, false, PROCESS_UTILITY_QUERY, NULL, NULL,
				   None_Receiver, NULL);
	CommandCounterIncrement();

	tsm_replay_context_pop(&ctx);
}

/* what tsm_replay_index_on's rewrite needs */
typedef struct IndexTarget
{
	const char *src_schema;
	const char *src_table;
	const char *schema;
	const char *table;
	const char *idxname;
} IndexTarget;

static void
retarget_index(Node *stmt, void *arg)
{
	IndexTarget *it = arg;
	IndexStmt  *idx = (IndexStmt *) stmt;

	if (idx->relation == NULL || idx->relation->schemaname == NULL ||
		strcmp(idx->relation->schemaname, it->src_schema) != 0 ||
		strcmp(idx->relation->relname, it->src_table) != 0)
		ereport(ERROR,
				errcode(ERRCODE_DATA_EXCEPTION),
				errmsg("index definition for %s on the source is on another table",
					   quote_qualified_identifier(it->src_schema, it->src_table)));
	idx->relation = makeRangeVar(pstrdup(it->schema), pstrdup(it->table), -1);
	idx->idxname = pstrdup(it->idxname);
}

/*
 * tsm_replay_index_on
 *		Run a source index definition (pg_get_indexdef) of the table
 *		"src_schema"."src_table" on "schema"."table" here instead, as
 *		"idxname": for TimescaleDB's internal tables, whose names differ
 *		between sides.  The definition must be one CREATE INDEX on that
 *		source table.
 */
void
tsm_replay_index_on(const char *indexdef, const char *src_schema,
					const char *src_table, const char *schema,
					const char *table, const char *idxname)
{
	IndexTarget it;

	it.src_schema = src_schema;
	it.src_table = src_table;
	it.schema = schema;
	it.table = table;
	it.idxname = idxname;
	tsm_replay_rewritten(indexdef, T_IndexStmt, "index",
						 quote_qualified_identifier(schema, idxname),
						 retarget_index, &it);
}

/*
 * tsm_replay_guarded
 *		Run "nstmts" statements as one unit in a subtransaction.
 *
 * Returns NULL when all of them ran.  When one of them fails with a
 * SQLSTATE listed in "codes" (terminated by 0), the unit is rolled back and
 * the error's message is returned, allocated in the caller's memory
 * context.  Any other error is re-thrown after the rollback.
 */
char *
tsm_replay_guarded(int nstmts, const char *const *sqls, const NodeTag *tags,
				   const char *kind, const char *name, const int *codes)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	char	   *reason = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);

	PG_TRY();
	{
		int			i;

		for (i = 0; i < nstmts; i++)
			tsm_replay_statement(sqls[i], tags[i], kind, name);

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		const int  *code;
		bool		expected = false;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();

		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;

		for (code = codes; *code != 0; code++)
			if (edata->sqlerrcode == *code)
				expected = true;
		if (!expected)
			ReThrowError(edata);

		reason = pstrdup(edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();

	return reason;
}

/*
 * tsm_replay_rolled_back
 *		Call fn(arg) and roll back everything it changed.
 *
 * A dry run really runs each statement inside one more subtransaction,
 * which is rolled back at the end: the report then shows what the target
 * would refuse, not just what tsmigrate would send.  Errors that escape
 * fn are re-thrown after the rollback.
 */
void
tsm_replay_rolled_back(void (*fn) (void *arg), void *arg)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);

	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		ReThrowError(edata);
	}
	PG_END_TRY();

	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcontext);
	CurrentResourceOwner = oldowner;
}

/*
 * tsm_replay_context_push
 *		From here until tsm_replay_context_pop, errors say which object of the
 *		source was being replayed (set ctx->sql to point into a statement).
 */
void
tsm_replay_context_push(TsmReplayContext *ctx, const char *kind,
						const char *name, bool name_quoted)
{
	ctx->kind = kind;
	ctx->name = name;
	ctx->name_quoted = name_quoted;
	ctx->sql = NULL;
	ctx->callback.callback = replay_error_callback;
	ctx->callback.arg = ctx;
	ctx->callback.previous = error_context_stack;
	error_context_stack = &ctx->callback;
}

void
tsm_replay_context_pop(TsmReplayContext *ctx)
{
	error_context_stack = ctx->callback.previous;
}

/*
 * tsm_replay_parse_one
 *		Parse a statement from the source: exactly one, or an error that
 *		names the object.  Returns its parse tree.
 */
Node *
tsm_replay_parse_one(const char *sql, const char *kind, const char *name,
					 bool name_quoted)
{
	List	   *parsed = raw_parser(sql, RAW_PARSE_DEFAULT);

	if (list_length(parsed) != 1)
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				name_quoted ?
				errmsg("source sent %d statements in one for %s %s",
					   list_length(parsed), kind, name) :
				errmsg("source sent %d statements in one for %s \"%s\"",
					   list_length(parsed), kind, name));
	return linitial_node(RawStmt, parsed)->stmt;
}

/*
 * Name the object being replayed, and point into its statement rather than
 * into the caller's query.
 */
static void
replay_error_callback(void *arg)
{
	TsmReplayContext *ctx = (TsmReplayContext *) arg;
	int			syntaxerrposition = geterrposition();

	if (syntaxerrposition > 0 && ctx->sql != NULL)
	{
		errposition(0);
		internalerrposition(syntaxerrposition);
		internalerrquery(ctx->sql);
	}
	if (ctx->name_quoted)
		errcontext("replaying definition of %s %s", ctx->kind, ctx->name);
	else
		errcontext("replaying definition of %s \"%s\"", ctx->kind, ctx->name);
}
