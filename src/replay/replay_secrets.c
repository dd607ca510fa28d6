/*-------------------------------------------------------------------------
 *
 * replay_secrets.c
 *	  Statements from the source that hold a password, replayed without
 *	  showing it
 *
 * A subscription's connection string, a user mapping's options: the
 * statement that creates the object holds the password, and no error may
 * show it.  SPI's context line ("SQL statement ...") and the internal
 * query of a syntax error quote the statement whole, and PostgreSQL's own
 * messages about a subscription may quote its connection string; the log
 * hook (remote/source.c) masks "password=..." in what reaches the log, but
 * not every way a password can be written in SQL, nor the error that
 * migrate keeps in its run state.  So an error raised while such a
 * statement is checked or runs is raised again without the statement, the
 * connection string and its passwords, and with any other password
 * masked.
 *
 * IDENTIFICATION
 *	  src/replay/replay_secrets.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"

#include "tsmigrate.h"
#include "remote/remote.h"
#include "replay/replay.h"

static char *hide_secrets(const char *text, List *hidden);

/*
 * tsm_replay_holds_secret
 *		Does this statement of "obj" hold a password (a subscription's, a
 *		user mapping's)?
 */
bool
tsm_replay_holds_secret(const TsmSchemaObject *obj, const char *sql)
{
	return strcmp(obj->kind, "subscription") == 0 || tsm_text_has_password(sql);
}

/*
 * tsm_replay_hiding_secrets
 *		Call fn(arg), which checks and runs "sql"; an error it raises comes
 *		back without "sql", without the connection string of a CREATE
 *		SUBSCRIPTION and its passwords, and with any other password masked.
 */
void
tsm_replay_hiding_secrets(const char *sql, void (*fn) (void *arg), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *volatile hidden = list_make1((char *) sql);

	PG_TRY();
	{
		List	   *raw = raw_parser(sql, RAW_PARSE_DEFAULT);

		if (list_length(raw) == 1 &&
			IsA(linitial_node(RawStmt, raw)->stmt, CreateSubscriptionStmt))
		{
			const char *conninfo = ((CreateSubscriptionStmt *) linitial_node(RawStmt, raw)->stmt)->conninfo;
			List	   *passwords;

			hidden = lappend(hidden, pstrdup(conninfo));
			if (tsm_conninfo_passwords(conninfo, &passwords))
				hidden = list_concat(hidden, passwords);
		}
		fn(arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		edata->message = hide_secrets(edata->message, hidden);
		edata->detail = hide_secrets(edata->detail, hidden);
		edata->detail_log = hide_secrets(edata->detail_log, hidden);
		edata->hint = hide_secrets(edata->hint, hidden);
		edata->context = hide_secrets(edata->context, hidden);
		edata->internalquery = NULL;
		edata->internalpos = 0;
		edata->cursorpos = 0;
		ReThrowError(edata);
	}
	PG_END_TRY();
	list_free(hidden);
}

/*
 * hide_secrets
 *		"text" with each string of "hidden" (the statement first, then what
 *		it holds) replaced, and any other password masked.
 */
static char *
hide_secrets(const char *text, List *hidden)
{
	char	   *result;
	ListCell   *lc;

	if (text == NULL)
		return NULL;
	result = pstrdup(text);
	foreach(lc, hidden)
	{
		const char *secret = lfirst(lc);
		StringInfoData buf;
		const char *p;
		const char *hit;

		if (secret[0] == '\0' || strstr(result, secret) == NULL)
			continue;
		initStringInfo(&buf);
		for (p = result; (hit = strstr(p, secret)) != NULL; p = hit + strlen(secret))
		{
			appendBinaryStringInfo(&buf, p, hit - p);
			appendStringInfoString(&buf, foreach_current_index(lc) == 0 ?
								   "(a statement that holds a password, not shown)" :
								   "********");
		}
		appendStringInfoString(&buf, p);
		result = buf.data;
	}
	return tsm_redact_passwords(result);
}
