/*-------------------------------------------------------------------------
 *
 * preflight_kinds.c
 *	  preflight's rows for the kinds of objects that need more than the
 *	  source's own rights
 *
 * A procedural language is made only by a superuser, and only with the
 * caller's c_functions (its handler is C code that runs every function
 * written in it) and, untrusted, untrusted_languages: without them its
 * CREATE LANGUAGE, and every function written in it, would fail half way,
 * so each is a row that blocks.  A subscription the source login cannot
 * read, or the caller may not create here, is left out as pg_dump leaves
 * it out (a row that does not block: migrate warns); one the caller may
 * create needs the caller's subscriptions, or blocks.  A security label
 * needs its provider loaded here, or blocks (the probe in
 * target_rights.c); those of large objects, the database and schema
 * public are left out.
 *
 * Everything read from the source is a name to print, but a
 * subscription's connection string, which is only looked at for a
 * password.
 *
 * It also holds tsm_preflight_add_row, which every check of preflight
 * uses (preflight.c builds on this file, not the other way round).
 *
 * IDENTIFICATION
 *	  src/migrate/preflight_kinds.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "miscadmin.h"

#include "tsmigrate.h"
#include "migrate/preflight.h"
#include "remote/remote.h"
#include "schema/catalog_sql.h"
#include "source_catalog/catalog_filters.h"
#include "target/target.h"

/* the procedural languages schema_objects.c generates: (name, trusted) */
static const char *const languages_sql =
"SELECT pg_catalog.quote_ident(l.lanname), l.lanpltrusted FROM pg_catalog.pg_language l"
" WHERE l.oid >= 16384 AND l.lanispl"
"   AND " TSM_NOT_EXTENSION_MEMBER("pg_catalog.pg_language", "l.oid")
" ORDER BY 1";

#define IN_THIS_DATABASE \
	"s.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d" \
	" WHERE d.datname = pg_catalog.current_database())"

/*
 * The providers of the security labels that come with their objects (as
 * pg_dump --schema-only and pg_dumpall --roles-only write them) and how
 * many each has: those of user objects that belong to no extension, of
 * roles and of this database's subscriptions.  pg_seclabels names the
 * subscriptions whatever the source login may read of pg_subscription.
 */
static const char *const label_providers_sql =
"SELECT sl.provider, pg_catalog.count(*) FROM pg_catalog.pg_seclabels sl"
" WHERE sl.objoid >= 16384 AND sl.objtype NOT IN ('large object', 'database', 'tablespace')"
"   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = sl.classoid"
"                    AND d.objid = sl.objoid AND d.deptype = 'e')"
"   AND (sl.objtype <> 'subscription' OR EXISTS (SELECT 1 FROM pg_catalog.pg_subscription s"
"         WHERE pg_catalog.quote_ident(s.subname) = sl.objname AND " IN_THIS_DATABASE "))"
" GROUP BY 1 ORDER BY 1";

/*
 * The labels that tsmigrate leaves out: of large objects (pg_dump's data),
 * of the database (pg_dump without --create) and of schema public, which
 * the target has of its own
 */
static const char *const labels_left_out_sql =
"SELECT pg_catalog.format('%s %s (%s)', sl.objtype, sl.objname, sl.provider) FROM pg_catalog.pg_seclabels sl"
" WHERE sl.objtype = 'large object'"
"    OR (sl.objtype = 'database' AND sl.objname = pg_catalog.quote_ident(pg_catalog.current_database()))"
"    OR (sl.objtype = 'schema' AND sl.objname = pg_catalog.quote_ident('public'))"
" ORDER BY 1";

/*
 * The subscriptions of the source database, and whether the source login
 * can read them whole (their connection strings: superusers only)
 */
static const char *const subscriptions_sql =
"SELECT pg_catalog.quote_ident(s.subname),"
"  pg_catalog.has_table_privilege('pg_catalog.pg_subscription', 'SELECT')"
"  FROM pg_catalog.pg_subscription s WHERE " IN_THIS_DATABASE
" ORDER BY 1";

/*
 * Readable: their connection strings (never shown: only whether they hold
 * a password) and password_required, @1@, which is new in 16
 */
static const char *const subscription_options_sql_fmt =
"SELECT pg_catalog.quote_ident(s.subname), s.subconninfo, @1@"
"  FROM pg_catalog.pg_subscription s WHERE " IN_THIS_DATABASE
" ORDER BY 1";

static void language_problems(PGconn *conn, const TsmConsent *consent, List **rows);
static void subscription_problems(PGconn *conn, const TsmConsent *consent, List **rows);
static void label_problems(PGconn *conn, List **rows);

/*
 * tsm_preflight_kinds
 *		The rows of the kinds of this file, on "conn" (the source).
 */
void
tsm_preflight_kinds(PGconn *conn, const TsmConsent *consent, List **rows)
{
	language_problems(conn, consent, rows);
	subscription_problems(conn, consent, rows);
	label_problems(conn, rows);
}

/*
 * Subscriptions: left out when the source login cannot read them or the
 * caller may not create them here, as the generator leaves them out
 * (schema_subscriptions.c); refused without the caller's consent.
 */
static void
subscription_problems(PGconn *conn, const TsmConsent *consent, List **rows)
{
	TsmRows    *r = tsm_query(conn, subscriptions_sql, 0, NULL, 2,
							  "the source's subscriptions");
	int			i;

	if (r->nrows == 0)
		return;
	if (!tsm_rows_bool(r, 0, 1))
	{
		for (i = 0; i < r->nrows; i++)
			tsm_preflight_add_row(rows, "subscription", tsm_rows_get(r, i, 0), false, false,
								  "the source login cannot read its connection string (only superusers can): it is left out",
								  "Migrate with a superuser source login, or create it on the target after the migration.");
		return;
	}

	r = tsm_query(conn,
				  tsm_schema_subst(subscription_options_sql_fmt,
								   tsm_server_version_num(conn) >= 160000 ?
								   "s.subpasswordrequired" : "true"),
				  0, NULL, 3, "the source's subscriptions");
	for (i = 0; i < r->nrows; i++)
	{
		const char *name = tsm_rows_get(r, i, 0);
		List	   *passwords = NIL;
		char	   *reason;

		CHECK_FOR_INTERRUPTS();
		(void) tsm_conninfo_passwords(tsm_rows_get(r, i, 1), &passwords);
		if (!tsm_may_create_subscription(tsm_rows_bool(r, i, 2), passwords != NIL, &reason))
			tsm_preflight_add_row(rows, "subscription", name, false, false,
								  psprintf("the caller may not create it here, it is left out: %s", reason),
								  "Run the migration as a superuser (from PostgreSQL 16 on, a role with pg_create_subscription and CREATE on the database will do for one with a password), or create it on the target after the migration.");
		else if (!tsm_consent_allows(consent, TSM_ALLOW_SUBSCRIPTIONS))
			tsm_preflight_add_row(rows, "subscription", name, false, true,
								  "once enabled, or when dropped while it names a replication slot, it makes the target connect where its connection string says: without the caller's consent its CREATE SUBSCRIPTION is refused",
								  "Pass allow => '{subscriptions}' if the source's subscriptions may point this server at their publishers (they are created disabled, without a slot).");
	}
}

/*
 * Security labels: their provider must be loaded here, or their SECURITY
 * LABEL fails; those tsmigrate leaves out are named.
 */
static void
label_problems(PGconn *conn, List **rows)
{
	TsmRows    *r = tsm_query(conn, label_providers_sql, 0, NULL, 2,
							  "the providers of the source's security labels");
	int			i;

	for (i = 0; i < r->nrows; i++)
	{
		const char *provider = tsm_rows_get(r, i, 0);

		CHECK_FOR_INTERRUPTS();
		if (!tsm_label_provider_loaded(provider))
			tsm_preflight_add_row(rows, "security label provider", quote_identifier(provider),
								  false, true,
								  psprintf("%s security labels of the source are for provider \"%s\", which is not loaded on the target: their SECURITY LABEL would fail",
										   tsm_rows_get(r, i, 1), provider),
								  "Load the module that provides it on the target (shared_preload_libraries, then restart the server), or drop the labels on the source.");
	}

	r = tsm_query(conn, labels_left_out_sql, 0, NULL, 1,
				  "the source's security labels left out");
	for (i = 0; i < r->nrows; i++)
		tsm_preflight_add_row(rows, "security label", tsm_rows_get(r, i, 0), false, false,
							  "tsmigrate leaves out the labels of large objects, of the database and of schema public (as pg_dump --schema-only without --create does): it is left out",
							  "Set it on the target after the migration.");
}

/* procedural languages: a superuser, and the caller's consent */
static void
language_problems(PGconn *conn, const TsmConsent *consent, List **rows)
{
	TsmRows    *r = tsm_query(conn, languages_sql, 0, NULL, 2,
							  "the source's procedural languages");
	int			i;

	for (i = 0; i < r->nrows; i++)
	{
		const char *name = tsm_rows_get(r, i, 0);

		CHECK_FOR_INTERRUPTS();
		if (!superuser())
			tsm_preflight_add_row(rows, "procedural language", name, false, true,
								  "only a superuser may create a procedural language, and the functions written in it fail without it",
								  "Run the migration as a superuser, or drop the language and its functions on the source.");
		if (!tsm_consent_allows(consent, TSM_ALLOW_C_FUNCTIONS))
			tsm_preflight_add_row(rows, "procedural language", name, false, true,
								  "its handler is C code that runs every function written in it: without the caller's consent its CREATE LANGUAGE is refused",
								  "Pass allow => '{c_functions}' if you trust the source's C functions and their libraries.");
		if (!tsm_rows_bool(r, i, 1) &&
			!tsm_consent_allows(consent, TSM_ALLOW_UNTRUSTED_LANGUAGES))
			tsm_preflight_add_row(rows, "procedural language", name, false, true,
								  "it is untrusted, its functions can reach the server's files and processes: without the caller's consent its CREATE LANGUAGE is refused",
								  "Pass allow => '{untrusted_languages}' if you trust the source with that.");
	}
}

/*
 * tsm_preflight_add_row
 *		One more row; "blocks" counts only when not "ok".
 */
void
tsm_preflight_add_row(List **rows, const char *check, const char *object, bool ok,
					  bool blocks, const char *detail, const char *fix)
{
	TsmPreflightRow *row = palloc(sizeof(TsmPreflightRow));

	row->check = pstrdup(check);
	row->object = pstrdup(object);
	row->ok = ok;
	row->blocks = !ok && blocks;
	row->detail = detail;
	row->fix = fix;
	*rows = lappend(*rows, row);
}
