/*-------------------------------------------------------------------------
 *
 * source.c
 *	  Turn a function's "source" argument into connection options
 *
 * A source is one of:
 *	- a libpq connection string ("host=... dbname=...") or URI
 *	  ("postgresql://..."), used as given;
 *	- the name of a foreign server of wrapper tsmigrate: its options plus
 *	  those of the caller's user mapping, after a USAGE check, as dblink
 *	  does, so that credentials live in pg_user_mapping and nowhere else;
 *	- nothing (NULL): the setting tsmigrate.source, which names a server or
 *	  holds a connection string that must not contain a password, since
 *	  settings can be read by other users.
 *
 * A password never appears in a message tsmigrate raises or relays: libpq's
 * parse errors quote fragments of the string they could not parse, so they
 * are not relayed for a string that holds a password; the check of
 * tsmigrate.source names no value; and a log hook hides the statement of an
 * error (the server log's STATEMENT line) when that statement calls
 * tsmigrate with a password, and masks "password=..." and a URI's password
 * in what it logs (tsm_redact_passwords).  What stays visible is the
 * caller's own statement text: pg_stat_activity, log_statement, cron.job.
 *
 * Whatever the form, tsmigrate appends application_name and client_encoding
 * so that its sessions are recognisable on the source and text arrives in
 * the target database's encoding, and starts the session with hardened
 * settings (session_options below).
 *
 * IDENTIFICATION
 *	  src/remote/source.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_foreign_server.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"
#include "postmaster/bgworker.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/memutils.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"

#define TSM_FDW_NAME "tsmigrate"

static TsmSource *source_from_conninfo(const char *conninfo, bool from_setting);
static TsmSource *source_from_options(PQconninfoOption *opts, bool from_setting);
static TsmSource *source_from_server(const char *name);
static TsmSource *make_source(List *keywords, List *values);
static bool has_password(PQconninfoOption *opts);
static void parse_error_detail(const char *conninfo, char *parse_error,
							   char **detail);
static void log_hook(ErrorData *edata);

static emit_log_hook_type prev_log_hook = NULL;

/*
 * migrate's run scope: its source argument and what it resolved to, for
 * the user who resolved it (the session is conn.c's)
 */
static struct
{
	bool		active;
	char	   *arg;			/* NULL for the setting */
	Oid			userid;
	TsmSource  *src;
} run_scope;

/*
 * tsm_run_scope_begin
 *		From now until tsm_run_scope_end (conn.c), "arg" (a source argument
 *		as given, NULL for the setting tsmigrate.source) resolves to "src"
 *		for the current user, and "src" connects through one leader session.
 *		"src" must live until then.
 */
void
tsm_run_scope_begin(const char *arg, TsmSource *src)
{
	Assert(!run_scope.active);
	run_scope.	arg = arg ? MemoryContextStrdup(TopMemoryContext, arg) : NULL;
	run_scope.	userid = GetUserId();
	run_scope.	src = src;
	run_scope.	active = true;
}

/* tsm_run_scope_end's part here */
void
tsm_run_scope_forget(void)
{
	if (run_scope.arg)
		pfree(run_scope.arg);
	memset(&run_scope, 0, sizeof(run_scope));
}

/*
 * tsm_run_scope_has
 *		Is "src" the run's source, used by the user who resolved it?
 */
bool
tsm_run_scope_has(const TsmSource *src)
{
	return run_scope.active && src == run_scope.src &&
		GetUserId() == run_scope.userid;
}

/*
 * The run's source when "arg" is the run's source argument and the current
 * user is the one who resolved it; else NULL.
 */
static TsmSource *
run_scope_source(const char *arg)
{
	if (!run_scope.active || GetUserId() != run_scope.userid)
		return NULL;
	if (arg == NULL ? run_scope.arg != NULL :
		(run_scope.arg == NULL || strcmp(arg, run_scope.arg) != 0))
		return NULL;
	return run_scope.src;
}

/*
 * tsm_source_from_arg
 *		Resolve argument "argno" of a SQL function, or the setting when the
 *		argument is NULL or left out; within a migrate run, its source.
 */
TsmSource *
tsm_source_from_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *arg = NULL;
	TsmSource  *src;

	if (PG_NARGS() > argno && !PG_ARGISNULL(argno))
		arg = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	/* a step of migrate: the source migrate resolved for the whole run */
	src = run_scope_source(arg);
	return src ? src : tsm_source_resolve(arg);
}

/*
 * tsm_source_resolve
 *		Resolve a source given as text; NULL means tsmigrate.source.
 */
TsmSource *
tsm_source_resolve(const char *source)
{
	bool		from_setting = false;

	if (source == NULL)
	{
		source = tsm_source_setting;
		from_setting = true;
	}
	if (source == NULL || source[0] == '\0')
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("no source database given"),
				errhint("Pass a connection string or the name of a foreign server of wrapper \"%s\", or set one for this database with ALTER DATABASE %s SET tsmigrate.source = 'server_name'.",
						TSM_FDW_NAME,
						quote_identifier(get_database_name(MyDatabaseId))));

	if (tsm_source_is_conninfo(source))
		return source_from_conninfo(source, from_setting);
	return source_from_server(source);
}

/*
 * tsm_source_is_conninfo
 *		Does this text look like a connection string or URI rather than a
 *		server name?  (A server name cannot be either: it has no "=" and no
 *		URI scheme.)
 */
bool
tsm_source_is_conninfo(const char *source)
{
	return strchr(source, '=') != NULL ||
		strncmp(source, "postgresql://", strlen("postgresql://")) == 0 ||
		strncmp(source, "postgres://", strlen("postgres://")) == 0;
}

/*
 * tsm_source_check_setting
 *		GUC check hook of tsmigrate.source: a connection string must parse
 *		and must not carry a password.
 */
bool
tsm_source_check_setting(char **newval, void **extra, GucSource source)
{
	PQconninfoOption *opts;
	char	   *parse_error = NULL;
	bool		with_password;

	if (*newval == NULL || !tsm_source_is_conninfo(*newval))
		return true;

	opts = PQconninfoParse(*newval, &parse_error);
	if (opts == NULL)
	{
		char	   *detail;

		/* guc.c's own message would quote the whole value */
		parse_error_detail(*newval, parse_error, &detail);
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errmsg("invalid connection string in \"tsmigrate.source\"");
		GUC_check_errdetail("%s", detail);
		return false;
	}
	with_password = has_password(opts);
	PQconninfoFree(opts);

	if (with_password)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errmsg("\"tsmigrate.source\" must not contain a password");
		GUC_check_errdetail("Settings can be read by other users.");
		GUC_check_errhint("Put the password in a user mapping of a foreign server of wrapper \"%s\", and set \"tsmigrate.source\" to the server's name.",
						  TSM_FDW_NAME);
		return false;
	}
	return true;
}

static bool
has_password(PQconninfoOption *opts)
{
	PQconninfoOption *opt;

	for (opt = opts; opt->keyword != NULL; opt++)
		if (strcmp(opt->keyword, "password") == 0 &&
			opt->val != NULL && opt->val[0] != '\0')
			return true;
	return false;
}

/*
 * tsm_conninfo_passwords
 *		The passwords a connection string holds (password, sslpassword: the
 *		values to keep out of every message), in *passwords; false when libpq
 *		cannot read the string.  For a string that is not a source's: a
 *		subscription's.
 */
bool
tsm_conninfo_passwords(const char *conninfo, List **passwords)
{
	PQconninfoOption *opts;
	char	   *parse_error = NULL;

	*passwords = NIL;
	opts = PQconninfoParse(conninfo, &parse_error);
	if (parse_error)
		PQfreemem(parse_error);
	if (opts == NULL)
		return false;
	PG_TRY();
	{
		PQconninfoOption *opt;

		for (opt = opts; opt->keyword != NULL; opt++)
			if ((strcmp(opt->keyword, "password") == 0 || strcmp(opt->keyword, "sslpassword") == 0) &&
				opt->val != NULL && opt->val[0] != '\0')
				*passwords = lappend(*passwords, pstrdup(opt->val));
	}
	PG_FINALLY();
	{
		PQconninfoFree(opts);
	}
	PG_END_TRY();
	return true;
}

/*
 * The detail for a connection string libpq could not parse: libpq's
 * message, which quotes the fragment it stumbled on ("missing "=" after
 * ...", a whole URI), unless the string holds a password, which may be in
 * that fragment.  Frees libpq's message.
 */
static void
parse_error_detail(const char *conninfo, char *parse_error, char **detail)
{
	if (parse_error == NULL)
		*detail = pstrdup("out of memory");
	else if (tsm_text_has_password(conninfo))
		*detail = pstrdup("libpq's message is not shown because the connection string holds a password.");
	else
		*detail = pchomp(parse_error);
	if (parse_error)
		PQfreemem(parse_error);
}

/*
 * Where a password starts in "text" at "p", if one does: "password" then
 * "=" (a connection string, a URI query) or a quote (OPTIONS (password
 * '...')), or the userinfo of a URI, "scheme://user:secret@".  Returns the
 * start of the secret and sets *end past it, or returns NULL.
 */
static const char *
password_at(const char *text, const char *p, const char **end)
{
	const char *q;

	if (pg_strncasecmp(p, "password", 8) == 0)
	{
		q = p + 8;
		while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
			q++;
		if (*q == '=')
		{
			q++;
			while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
				q++;
		}
		else if (*q != '\'')
			return NULL;
		if (*q == '\'')
		{
			/* quoted: to the closing quote; \x and '' escape */
			const char *v = ++q;

			while (*q != '\0')
			{
				if (*q == '\\' && q[1] != '\0')
					q += 2;
				else if (*q == '\'' && q[1] == '\'')
					q += 2;
				else if (*q == '\'')
					break;
				else
					q++;
			}
			*end = q;
			return v;
		}
		*end = q + strcspn(q, " \t\n\r&\"'");
		/* our own hints say "password=..." */
		if (*end - q == 3 && strncmp(q, "...", 3) == 0)
			return NULL;
		return q;
	}
	if (strncmp(p, "://", 3) == 0)
	{
		const char *colon = NULL;

		/* libpq's URI parser: the userinfo ends at the first "@" or "/" */
		for (q = p + 3; *q != '\0' && strchr("@/ \t\n\r\"'?", *q) == NULL; q++)
			if (*q == ':' && colon == NULL)
				colon = q;
		if (*q == '@' && colon != NULL)
		{
			*end = q;
			return colon + 1;
		}
	}
	return NULL;
}

/*
 * tsm_text_has_password
 *		Does "text" (a source argument, a statement, a message) seem to
 *		hold a password?
 */
bool
tsm_text_has_password(const char *text)
{
	const char *p;
	const char *end;

	if (text == NULL)
		return false;
	for (p = text; *p != '\0'; p++)
		if (password_at(text, p, &end) != NULL)
			return true;
	return false;
}

/*
 * tsm_redact_passwords
 *		"text" with every password tsm_text_has_password() finds replaced
 *		by "********"; "text" itself when there is none.
 */
char *
tsm_redact_passwords(const char *text)
{
	StringInfoData buf;
	const char *p;
	const char *copied;

	if (!tsm_text_has_password(text))
		return (char *) text;

	initStringInfo(&buf);
	copied = text;

	for (p = text; *p != '\0';)
	{
		const char *end;
		const char *secret = password_at(text, p, &end);

		if (secret == NULL)
		{
			p++;
			continue;
		}
		appendBinaryStringInfo(&buf, copied, secret - copied);
		appendStringInfoString(&buf, "********");
		copied = p = end;
	}
	appendStringInfoString(&buf, copied);
	return buf.data;
}

/*
 * tsm_install_log_hook
 *		Chain log_hook into emit_log_hook (once, from _PG_init).
 */
void
tsm_install_log_hook(void)
{
	prev_log_hook = emit_log_hook;
	emit_log_hook = log_hook;
}

/*
 * emit_log_hook: for a statement that calls tsmigrate, and in tsmigrate's
 * background workers, keep passwords out of the server log.  The statement
 * is hidden when it holds a password (the caller's source argument), and
 * passwords in the message's fields are masked, whichever code raised it.
 */
static void
log_hook(ErrorData *edata)
{
	const char *stmt = debug_query_string;
	bool		ours;

	ours = (MyBgworkerEntry != NULL &&
			strcmp(MyBgworkerEntry->bgw_library_name, "tsmigrate") == 0);
	if (!ours && stmt != NULL)
	{
		const char *p;

		for (p = stmt; *p != '\0' && !ours; p++)
			ours = pg_strncasecmp(p, "tsmigrate", 9) == 0;
	}
	if (ours)
	{
		if (tsm_text_has_password(stmt))
			edata->hide_stmt = true;
		if (tsm_text_has_password(edata->message))
			edata->message = tsm_redact_passwords(edata->message);
		if (tsm_text_has_password(edata->detail))
			edata->detail = tsm_redact_passwords(edata->detail);
		if (tsm_text_has_password(edata->detail_log))
			edata->detail_log = tsm_redact_passwords(edata->detail_log);
		if (tsm_text_has_password(edata->hint))
			edata->hint = tsm_redact_passwords(edata->hint);
		if (tsm_text_has_password(edata->context))
			edata->context = tsm_redact_passwords(edata->context);
		if (tsm_text_has_password(edata->internalquery))
			edata->internalquery = tsm_redact_passwords(edata->internalquery);
	}
	if (prev_log_hook)
		prev_log_hook(edata);
}

static TsmSource *
source_from_conninfo(const char *conninfo, bool from_setting)
{
	PQconninfoOption *opts;
	char	   *parse_error = NULL;
	TsmSource  *volatile src = NULL;

	opts = PQconninfoParse(conninfo, &parse_error);
	if (opts == NULL)
	{
		char	   *detail;

		parse_error_detail(conninfo, parse_error, &detail);
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid connection string for the source"),
				errdetail_internal("%s", detail),
				errhint("Use \"host=... port=... dbname=... user=...\", a postgresql:// URI, or the name of a foreign server."));
	}

	PG_TRY();
	{
		src = source_from_options(opts, from_setting);
	}
	PG_FINALLY();
	{
		PQconninfoFree(opts);
	}
	PG_END_TRY();

	return src;
}

/*
 * The source described by parsed connection options.
 */
static TsmSource *
source_from_options(PQconninfoOption *opts, bool from_setting)
{
	PQconninfoOption *opt;
	List	   *keywords = NIL;
	List	   *values = NIL;
	StringInfoData label;
	TsmSource  *src;

	if (from_setting && has_password(opts))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("\"tsmigrate.source\" must not contain a password"),
				errdetail("Settings can be read by other users."),
				errhint("Put the password in a user mapping of a foreign server of wrapper \"%s\", and set \"tsmigrate.source\" to the server's name.",
						TSM_FDW_NAME));

	initStringInfo(&label);
	for (opt = opts; opt->keyword != NULL; opt++)
	{
		if (opt->val == NULL)
			continue;
		if (!tsm_option_allowed(opt))
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("connection option \"%s\" is not allowed for a source",
						   opt->keyword),
					errhint("Remove it from the connection string."));
		keywords = lappend(keywords, pstrdup(opt->keyword));
		values = lappend(values, pstrdup(opt->val));
		if (strcmp(opt->keyword, "host") == 0 ||
			strcmp(opt->keyword, "hostaddr") == 0 ||
			strcmp(opt->keyword, "port") == 0 ||
			strcmp(opt->keyword, "dbname") == 0 ||
			strcmp(opt->keyword, "user") == 0)
			appendStringInfo(&label, "%s%s=%s", label.len > 0 ? " " : "",
							 opt->keyword, opt->val);
	}

	src = make_source(keywords, values);
	src->has_password = has_password(opts);
	src->label = label.len > 0 ? label.data : pstrdup("(defaults)");
	return src;
}

static TsmSource *
source_from_server(const char *name)
{
	ForeignServer *server;
	ForeignDataWrapper *fdw;
	UserMapping *um;
	AclResult	aclresult;
	List	   *keywords = NIL;
	List	   *values = NIL;
	List	   *options;
	ListCell   *lc;
	TsmSource  *src;
	bool		password = false;

	server = GetForeignServerByName(name, true);
	if (server == NULL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("server \"%s\" does not exist", name),
				errhint("A source is a connection string such as \"host=... dbname=...\", a postgresql:// URI, or the name of a foreign server of wrapper \"%s\".",
						TSM_FDW_NAME));

	fdw = GetForeignDataWrapper(server->fdwid);
	if (strcmp(fdw->fdwname, TSM_FDW_NAME) != 0)
		ereport(ERROR,
				errcode(ERRCODE_WRONG_OBJECT_TYPE),
				errmsg("server \"%s\" does not use foreign-data wrapper \"%s\"",
					   name, TSM_FDW_NAME),
				errhint("Create the source's server with CREATE SERVER ... FOREIGN DATA WRAPPER %s.",
						TSM_FDW_NAME));

	aclresult = tsm_server_aclcheck(server->serverid, GetUserId(), ACL_USAGE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, server->servername);

	um = GetUserMapping(GetUserId(), server->serverid);
	options = list_concat(list_copy(server->options), um->options);

	foreach(lc, options)
	{
		DefElem    *def = lfirst(lc);
		char	   *value = defGetString(def);

		keywords = lappend(keywords, def->defname);
		values = lappend(values, value);
		if (strcmp(def->defname, "password") == 0 && value[0] != '\0')
			password = true;
	}

	src = make_source(keywords, values);
	src->serverid = server->serverid;
	src->label = pstrdup(server->servername);
	src->has_password = password;
	return src;
}

/*
 * Settings every source session starts with, as startup options so that
 * they take effect before the first statement (TimescaleDB's ALTER
 * EXTENSION ... UPDATE must be the first statement of its session) and
 * outrank per-role and per-database settings on the source: pg_dump's
 * session settings, so that catalog text and data come out in a form the
 * target reads back exactly, an empty search_path (common/connect.h), and
 * no source-side timeout that would cut a long COPY short.
 */
static const char *const session_options =
"-c search_path= -c datestyle=ISO -c intervalstyle=postgres "
"-c extra_float_digits=3 -c statement_timeout=0 -c lock_timeout=0 "
"-c idle_in_transaction_session_timeout=0 -c jit=off";

/*
 * Build the NULL-terminated arrays for PQconnectdbParams(): the given
 * options, with the session options added to any "options" the caller
 * gave, and the options tsmigrate forces appended last (libpq lets the last
 * one win).
 */
static TsmSource *
make_source(List *keywords, List *values)
{
	TsmSource  *src = palloc0(sizeof(TsmSource));
	int			n = list_length(keywords);
	int			i = 0;
	char	   *options = pstrdup(session_options);
	ListCell   *kc;
	ListCell   *vc;

	src->keywords = palloc0(sizeof(char *) * (n + 4));
	src->values = palloc0(sizeof(char *) * (n + 4));
	forboth(kc, keywords, vc, values)
	{
		if (strcmp(lfirst(kc), "options") == 0)
		{
			options = psprintf("%s %s", (char *) lfirst(vc), session_options);
			continue;
		}
		src->keywords[i] = lfirst(kc);
		src->values[i] = lfirst(vc);
		i++;
	}
	src->keywords[i] = "options";
	src->values[i] = options;
	i++;
	src->keywords[i] = "application_name";
	src->values[i] = "tsmigrate";
	i++;
	src->keywords[i] = "client_encoding";
	src->values[i] = GetDatabaseEncodingName();
	return src;
}

/*
 * tsm_source_flatten
 *		Append "src" to "buf" as one block of '\0'-terminated strings, for a
 *		background worker's shared memory: the worker connects with exactly
 *		what the leader resolved (the user mapping it read, the password
 *		rule it applied), without resolving again as another user.
 */
void
tsm_source_flatten(const TsmSource *src, StringInfo buf)
{
	int			n;

	for (n = 0; src->keywords[n] != NULL; n++)
		;
	appendStringInfo(buf, "%u%c%d%c%d%c", src->serverid, '\0',
					 src->has_password ? 1 : 0, '\0', n, '\0');
	appendBinaryStringInfo(buf, src->label, strlen(src->label) + 1);
	for (n = 0; src->keywords[n] != NULL; n++)
	{
		const char *value = src->values[n] ? src->values[n] : "";

		appendBinaryStringInfo(buf, src->keywords[n], strlen(src->keywords[n]) + 1);
		appendBinaryStringInfo(buf, value, strlen(value) + 1);
	}
}

/*
 * tsm_source_unflatten
 *		The TsmSource that tsm_source_flatten wrote at "flat"; its strings
 *		point into "flat", which must outlive it.
 */
TsmSource *
tsm_source_unflatten(const char *flat)
{
	TsmSource  *src = palloc0(sizeof(TsmSource));
	const char *p = flat;
	int			n;
	int			i;

	src->serverid = (Oid) strtoul(p, NULL, 10);
	p += strlen(p) + 1;
	src->has_password = strcmp(p, "1") == 0;
	p += strlen(p) + 1;
	n = atoi(p);
	p += strlen(p) + 1;
	src->label = (char *) p;
	p += strlen(p) + 1;
	src->keywords = palloc0(sizeof(char *) * (n + 1));
	src->values = palloc0(sizeof(char *) * (n + 1));
	for (i = 0; i < n; i++)
	{
		src->keywords[i] = p;
		p += strlen(p) + 1;
		src->values[i] = p;
		p += strlen(p) + 1;
	}
	return src;
}
