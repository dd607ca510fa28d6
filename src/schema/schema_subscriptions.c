/*-------------------------------------------------------------------------
 *
 * schema_subscriptions.c
 *	  Subscriptions, as pg_dump writes them
 *
 * Post-data, after publications: CREATE SUBSCRIPTION ... CONNECTION ...
 * PUBLICATION ... WITH (connect = false, slot_name = ..., and every option
 * of the source's version that is not the default), so the subscription
 * comes disabled, connected to nothing, with no slot made on its
 * publisher; then its owner (schema_owners.c) and comment.  Enabling it
 * (with ALTER SUBSCRIPTION ... ENABLE, after REFRESH PUBLICATION or a slot
 * of its own) is the DBA's, as after pg_dump.
 *
 * Its connection string, which may hold a password, is readable on the
 * source only by superusers (and pg_read_all_data): with a source login
 * that cannot read pg_subscription whole, subscriptions are left out with
 * a WARNING, as pg_dump leaves them out.  A section that is to run here
 * (pull_schema, migrate) leaves out, with a WARNING too, those the caller
 * may not create here (target_rights.c); preflight says so beforehand.
 *
 * IDENTIFICATION
 *	  src/schema/schema_subscriptions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "miscadmin.h"

#include "tsmigrate.h"
#include "remote/remote.h"
#include "target/target.h"
#include "catalog_sql.h"
#include "schema.h"

/* the subscriptions of the source database */
#define IN_THIS_DATABASE \
	"s.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d" \
	" WHERE d.datname = pg_catalog.current_database())"

/* can the source login read them, and how many are there? */
static const char *const readable_sql =
"SELECT pg_catalog.has_table_privilege('pg_catalog.pg_subscription', 'SELECT'),"
" (SELECT pg_catalog.count(*) FROM pg_catalog.pg_subscription s WHERE " IN_THIS_DATABASE ")";

/* @1@: the options of the source's version, each ", name = value" or NULL */
static const char *const subscriptions_sql_fmt =
"SELECT " CATOID("pg_subscription") ", s.oid, 'subscription', pg_catalog.quote_ident(s.subname), 77,"
" ARRAY[" STMT("CreateSubscriptionStmt",
			   "pg_catalog.format('CREATE SUBSCRIPTION %I CONNECTION %L PUBLICATION %s WITH (connect = false, slot_name = %s%s)',"
			   "   s.subname, s.subconninfo,"
			   "   (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(p.name), ', ' ORDER BY p.k)"
			   "     FROM pg_catalog.unnest(s.subpublications) WITH ORDINALITY AS p(name, k)),"
			   "   COALESCE(pg_catalog.quote_literal(s.subslotname), 'NONE'),"
			   "   pg_catalog.concat(@1@))") ","
"  " COMMENT_STMT("pg_catalog.format('SUBSCRIPTION %I', s.subname)", "pg_subscription", "s.oid") "]"
" || " SHSECLABEL_STMTS("pg_catalog.format('SUBSCRIPTION %I', s.subname)", "pg_subscription", "s.oid")
" FROM pg_catalog.pg_subscription s"
" WHERE " IN_THIS_DATABASE;

/* options as pg_dump writes them; before 14 streaming did not exist */
#define SUB_BINARY \
	"CASE WHEN s.subbinary THEN ', binary = true' END"
#define SUB_STREAMING_16 \
	"CASE s.substream WHEN 't' THEN ', streaming = on' WHEN 'p' THEN ', streaming = parallel'" \
	" ELSE ', streaming = off' END"
#define SUB_STREAMING_14 \
	"CASE WHEN s.substream THEN ', streaming = on' ELSE ', streaming = off' END"
#define SUB_STREAMING_13 "', streaming = off'"
#define SUB_TWO_PHASE \
	"CASE WHEN s.subtwophasestate <> 'd' THEN ', two_phase = on' END, " \
	"CASE WHEN s.subdisableonerr THEN ', disable_on_error = true' END"
#define SUB_PASSWORD_OWNER \
	"CASE WHEN NOT s.subpasswordrequired THEN ', password_required = false' END, " \
	"CASE WHEN s.subrunasowner THEN ', run_as_owner = true' END"
#define SUB_FAILOVER \
	"CASE WHEN s.subfailover THEN ', failover = true' END"
#define SUB_SYNC_COMMIT \
	"CASE WHEN s.subsynccommit <> 'off' THEN pg_catalog.format(', synchronous_commit = %L', s.subsynccommit) END"
#define SUB_ORIGIN \
	"CASE WHEN pg_catalog.lower(s.suborigin) <> 'any' THEN pg_catalog.format(', origin = %L', s.suborigin) END"

/*
 * tsm_schema_subscription_queries
 *		Append the query of the source's subscriptions to "queries" for
 *		post-data, when the source login can read them; otherwise say, with
 *		a WARNING, that those the source has are left out.
 */
void
tsm_schema_subscription_queries(PGconn *conn, List **queries, int version,
								bool post)
{
	TsmRows    *rows;
	StringInfoData options;
	int64		count;

	if (!post)
		return;
	rows = tsm_query(conn, readable_sql, 0, NULL, 2, "the source's subscriptions");
	count = tsm_rows_int64(rows, 0, 1);
	if (count == 0)
		return;
	if (!tsm_rows_bool(rows, 0, 0))
	{
		ereport(WARNING,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg_plural("%lld subscription of the source is not migrated",
							  "%lld subscriptions of the source are not migrated",
							  count, (long long) count),
				errdetail("The source login cannot read pg_subscription, whose connection strings only superusers may read."),
				errhint("Migrate with a superuser source login, or create them on the target after the migration."));
		return;
	}

	initStringInfo(&options);
	if (version >= 140000)
		appendStringInfoString(&options, SUB_BINARY ", ");
	appendStringInfoString(&options,
						   version >= 160000 ? SUB_STREAMING_16 :
						   version >= 140000 ? SUB_STREAMING_14 : SUB_STREAMING_13);
	if (version >= 150000)
		appendStringInfoString(&options, ", " SUB_TWO_PHASE);
	if (version >= 160000)
		appendStringInfoString(&options, ", " SUB_PASSWORD_OWNER);
	if (version >= 170000)
		appendStringInfoString(&options, ", " SUB_FAILOVER);
	appendStringInfoString(&options, ", " SUB_SYNC_COMMIT);
	if (version >= 160000)
		appendStringInfoString(&options, ", " SUB_ORIGIN);
	*queries = lappend(*queries, tsm_schema_subst(subscriptions_sql_fmt, options.data));
}

/*
 * tsm_schema_subscriptions_here
 *		"objects" without the subscriptions that the caller may not create
 *		here, each left out with a WARNING.
 *
 * Decided on the statement the source sent, parsed here: its connection
 * string and password_required.  A statement that is not one CREATE
 * SUBSCRIPTION stays, for the replay to refuse.
 */
List *
tsm_schema_subscriptions_here(List *objects)
{
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, objects)
	{
		TsmSchemaObject *obj = lfirst(lc);
		TsmSchemaStmt *s;
		List	   *raw;
		CreateSubscriptionStmt *sub;
		List	   *passwords;
		bool		password_required = true;
		char	   *reason;
		ListCell   *oc;

		if (strcmp(obj->kind, "subscription") != 0 || obj->stmts == NIL)
		{
			kept = lappend(kept, obj);
			continue;
		}
		CHECK_FOR_INTERRUPTS();
		s = linitial(obj->stmts);
		raw = raw_parser(s->sql, RAW_PARSE_DEFAULT);
		if (list_length(raw) != 1 ||
			!IsA(linitial_node(RawStmt, raw)->stmt, CreateSubscriptionStmt))
		{
			kept = lappend(kept, obj);
			continue;
		}
		sub = (CreateSubscriptionStmt *) linitial_node(RawStmt, raw)->stmt;
		foreach(oc, sub->options)
		{
			DefElem    *opt = lfirst_node(DefElem, oc);

			if (strcmp(opt->defname, "password_required") == 0)
				password_required = defGetBoolean(opt);
		}
		if (!tsm_conninfo_passwords(sub->conninfo, &passwords) ||
			tsm_may_create_subscription(password_required, passwords != NIL, &reason))
		{
			kept = lappend(kept, obj);
			continue;
		}
		ereport(WARNING,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("subscription %s of the source is not migrated", obj->name),
				errdetail_internal("%s", reason),
				errhint("Create it on the target after the migration, as a role that may."));
	}
	return kept;
}
