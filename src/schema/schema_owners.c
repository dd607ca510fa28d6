/*-------------------------------------------------------------------------
 *
 * schema_owners.c
 *	  Owners and privileges of the generated objects, as pg_dump writes them
 *
 * Without this, every object would be recreated owned by the caller (often
 * a superuser) with default privileges: a SECURITY DEFINER function owned by
 * an application role, with EXECUTE revoked from PUBLIC on the source, would
 * become a superuser's function that anyone may call.
 *
 * Generation (tsm_schema_owners, in the generator's source transaction):
 * the source sends raw names only (schema, object, argument types, owner,
 * grantee, privilege); the statements are written here with
 * quote_identifier(), and privilege names are taken from a fixed list, so
 * nothing from the source is pasted into SQL.  Each object gets, right after
 * its creating statement:
 *
 *	owners => true		ALTER <kind> <name> OWNER TO <role>: for relations
 *						an AlterTableStmt with one AT_ChangeOwner subcommand,
 *						for every other kind an AlterOwnerStmt;
 *	privileges => true	the REVOKE and GRANT statements (GrantStmt) that turn
 *						the kind's default privileges for the owner
 *						(acldefault) into the source's ACL, as pg_dump's
 *						buildACLCommands does, then column privileges.  The
 *						grantor cannot be chosen: grants are made by the
 *						caller (a superuser's are recorded as the owner's).
 *
 * Replay (tsm_schema_stmt_applies, called by the replay for each statement
 * on the target, in the leader or a worker): whether the owner exists on the
 * target and the caller may give the object to it is decided only then, on
 * the parsed statement itself.  An owner that cannot be set is skipped with
 * a WARNING (the object stays the caller's), a grantee that does not exist
 * with a NOTICE.  A SECURITY DEFINER function whose owner is not set is
 * refused when the caller is a superuser: it would run anyone's call with a
 * superuser's rights.
 *
 * IDENTIFICATION
 *	  src/schema/schema_owners.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "remote/remote.h"
#include "target/target.h"
#include "catalog_sql.h"
#include "schema.h"

/*
 * The objects that have an owner, one row each: classid, objid and kind as
 * the family queries give them, then raw names (schema, name, argument type
 * schemas and names, extra: an operator family's or class's access method,
 * an aggregate's aggkind), the owner's oid and the acldefault() letter and
 * ACL of the kind.  Relations, types, functions, foreign-data wrappers,
 * servers, schemas and trusted procedural languages have privileges (as
 * pg_dump, none for an untrusted language: only superusers use one); the
 * rest have an owner only.
 */
#define OWNED_OBJECTS \
"WITH o(classid, objid, kind, nsp, name, argnsp, argtyp, extra, ownerid, acltype, acl) AS (" \
"SELECT " CATOID("pg_namespace") ", n.oid, 'schema', NULL::pg_catalog.text, n.nspname::pg_catalog.text," \
" NULL::pg_catalog.text[], NULL::pg_catalog.text[], NULL::pg_catalog.text, n.nspowner, 'n'::pg_catalog.char, n.nspacl" \
" FROM pg_catalog.pg_namespace n WHERE n.nspname <> 'public' AND " USER_NSP("n.nspname") \
" UNION ALL " \
"SELECT " CATOID("pg_class") ", c.oid, CASE c.relkind WHEN 'f' THEN 'foreign table' WHEN 'v' THEN 'view'" \
"  WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' ELSE 'table' END," \
" n.nspname, c.relname, NULL, NULL, NULL, c.relowner, CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::pg_catalog.char, c.relacl" \
" FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace" \
" WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') AND " USER_NSP("n.nspname") \
" UNION ALL " \
"SELECT " CATOID("pg_type") ", t.oid, CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END," \
" n.nspname, t.typname, NULL, NULL, NULL, t.typowner, 'T', t.typacl" \
" FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace" \
" WHERE t.oid >= 16384 AND t.typtype IN ('e', 'r', 'd', 'c') AND " USER_NSP("n.nspname") \
" UNION ALL " \
"SELECT " CATOID("pg_proc") ", p.oid, CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END," \
" n.nspname, p.proname," \
" ARRAY(SELECT tn.nspname::pg_catalog.text FROM pg_catalog.unnest(p.proargtypes::pg_catalog.oid[]) WITH ORDINALITY a(t, k)" \
"  JOIN pg_catalog.pg_type at ON at.oid = a.t JOIN pg_catalog.pg_namespace tn ON tn.oid = at.typnamespace ORDER BY a.k)," \
" ARRAY(SELECT at.typname::pg_catalog.text FROM pg_catalog.unnest(p.proargtypes::pg_catalog.oid[]) WITH ORDINALITY a(t, k)" \
"  JOIN pg_catalog.pg_type at ON at.oid = a.t ORDER BY a.k)," \
" (SELECT ag.aggkind::pg_catalog.text FROM pg_catalog.pg_aggregate ag WHERE ag.aggfnoid = p.oid)," \
" p.proowner, 'f', p.proacl" \
" FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace" \
" WHERE p.oid >= 16384 AND " USER_NSP("n.nspname") \
" UNION ALL " \
"SELECT " CATOID("pg_operator") ", o.oid, 'operator', n.nspname, o.oprname," \
" ARRAY[ln.nspname::pg_catalog.text, rn.nspname::pg_catalog.text], ARRAY[lt.typname::pg_catalog.text, rt.typname::pg_catalog.text]," \
" NULL, o.oprowner, NULL, NULL" \
" FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace" \
" LEFT JOIN pg_catalog.pg_type lt ON lt.oid = o.oprleft LEFT JOIN pg_catalog.pg_namespace ln ON ln.oid = lt.typnamespace" \
" LEFT JOIN pg_catalog.pg_type rt ON rt.oid = o.oprright LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rt.typnamespace" \
" WHERE o.oid >= 16384 AND " USER_NSP("n.nspname") \
" UNION ALL " \
"SELECT " CATOID("pg_opfamily") ", f.oid, 'operator family', n.nspname, f.opfname, NULL, NULL, am.amname, f.opfowner, NULL, NULL" \
" FROM pg_catalog.pg_opfamily f JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod" \
" WHERE f.oid >= 16384 AND " USER_NSP("n.nspname") \
" UNION ALL " \
"SELECT " CATOID("pg_opclass") ", oc.oid, 'operator class', n.nspname, oc.opcname, NULL, NULL, am.amname, oc.opcowner, NULL, NULL" \
" FROM pg_catalog.pg_opclass oc JOIN pg_catalog.pg_namespace n ON n.oid = oc.opcnamespace JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod" \
" WHERE oc.oid >= 16384 AND " USER_NSP("n.nspname") \
" UNION ALL " \
"SELECT " CATOID("pg_collation") ", c.oid, 'collation', n.nspname, c.collname, NULL, NULL, NULL, c.collowner, NULL, NULL" \
" FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace" \
" WHERE c.oid >= 16384 AND " USER_NSP("n.nspname") \
" UNION ALL " \
"SELECT " CATOID("pg_conversion") ", cv.oid, 'conversion', n.nspname, cv.conname, NULL, NULL, NULL, cv.conowner, NULL, NULL" \
" FROM pg_catalog.pg_conversion cv JOIN pg_catalog.pg_namespace n ON n.oid = cv.connamespace" \
" WHERE cv.oid >= 16384 AND " USER_NSP("n.nspname") \
" UNION ALL " \
"SELECT " CATOID("pg_ts_dict") ", d.oid, 'text search dictionary', n.nspname, d.dictname, NULL, NULL, NULL, d.dictowner, NULL, NULL" \
" FROM pg_catalog.pg_ts_dict d JOIN pg_catalog.pg_namespace n ON n.oid = d.dictnamespace" \
" WHERE d.oid >= 16384 AND " USER_NSP("n.nspname") \
" UNION ALL " \
"SELECT " CATOID("pg_ts_config") ", c.oid, 'text search configuration', n.nspname, c.cfgname, NULL, NULL, NULL, c.cfgowner, NULL, NULL" \
" FROM pg_catalog.pg_ts_config c JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace" \
" WHERE c.oid >= 16384 AND " USER_NSP("n.nspname") \
" UNION ALL " \
"SELECT " CATOID("pg_foreign_data_wrapper") ", w.oid, 'foreign-data wrapper', NULL, w.fdwname, NULL, NULL, NULL, w.fdwowner, 'F', w.fdwacl" \
" FROM pg_catalog.pg_foreign_data_wrapper w WHERE w.oid >= 16384" \
" UNION ALL " \
"SELECT " CATOID("pg_foreign_server") ", s.oid, 'server', NULL, s.srvname, NULL, NULL, NULL, s.srvowner, 'S', s.srvacl" \
" FROM pg_catalog.pg_foreign_server s WHERE s.oid >= 16384" \
" UNION ALL " \
"SELECT " CATOID("pg_statistic_ext") ", s.oid, 'statistics', n.nspname, s.stxname, NULL, NULL, NULL, s.stxowner, NULL, NULL" \
" FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace" \
" WHERE " USER_NSP("n.nspname") \
" UNION ALL " \
"SELECT " CATOID("pg_publication") ", p.oid, 'publication', NULL, p.pubname, NULL, NULL, NULL, p.pubowner, NULL, NULL" \
" FROM pg_catalog.pg_publication p" \
" WHERE " TSM_NOT_STREAM_OBJECT("p.pubname") \
" UNION ALL " \
"SELECT " CATOID("pg_event_trigger") ", e.oid, 'event trigger', NULL, e.evtname, NULL, NULL, NULL, e.evtowner, NULL, NULL" \
" FROM pg_catalog.pg_event_trigger e" \
" WHERE " TSM_NOT_STREAM_OBJECT("e.evtname") \
" UNION ALL " \
"SELECT " CATOID("pg_language") ", l.oid, 'procedural language', NULL, l.lanname, NULL, NULL, NULL, l.lanowner," \
" 'l', CASE WHEN l.lanpltrusted THEN l.lanacl END" \
" FROM pg_catalog.pg_language l WHERE l.oid >= 16384" \
" @SUBSCRIPTIONS@) "

/*
 * For @SUBSCRIPTIONS@ when the section has subscriptions: then the source
 * login can read pg_subscription (schema_subscriptions.c), whose oid column
 * is not public before 14.
 */
static const char *const subscription_owners =
" UNION ALL "
"SELECT " CATOID("pg_subscription") ", s.oid, 'subscription', NULL, s.subname, NULL, NULL, NULL, s.subowner, NULL, NULL"
" FROM pg_catalog.pg_subscription s";

/* one row per object: its names and its owner's name */
static const char *const owners_sql =
OWNED_OBJECTS
"SELECT o.classid, o.objid, o.kind, o.nsp, o.name, o.argnsp, o.argtyp, o.extra, r.rolname"
" FROM o LEFT JOIN pg_catalog.pg_roles r ON r.oid = o.ownerid";

/*
 * The privileges to revoke and grant, one row per privilege: those of the
 * kind's default for the owner that the ACL lacks (REVOKE), those of the
 * ACL that the default lacks (GRANT), then every column privilege (the
 * default of a column is none).  aclexplode() gives grantee, privilege and
 * grant option apart; grantee 0 is PUBLIC.  Revokes come first.
 */
static const char *const privileges_sql =
OWNED_OBJECTS
"SELECT q.classid, q.objid, q.kind, q.col, q.action, q.grantee = 0, r.rolname, q.privilege_type, q.is_grantable"
" FROM ("
" SELECT o.classid, o.objid, o.kind, NULL::pg_catalog.text AS col, d.action, d.grantee, d.privilege_type, d.is_grantable"
" FROM o CROSS JOIN LATERAL ("
"  (SELECT 'REVOKE'::pg_catalog.text AS action, x.grantee, x.privilege_type, x.is_grantable"
"    FROM pg_catalog.aclexplode(pg_catalog.acldefault(o.acltype, o.ownerid)) x"
"   EXCEPT SELECT 'REVOKE', x.grantee, x.privilege_type, x.is_grantable FROM pg_catalog.aclexplode(o.acl) x)"
"  UNION ALL"
"  (SELECT 'GRANT', x.grantee, x.privilege_type, x.is_grantable FROM pg_catalog.aclexplode(o.acl) x"
"   EXCEPT SELECT 'GRANT', x.grantee, x.privilege_type, x.is_grantable"
"    FROM pg_catalog.aclexplode(pg_catalog.acldefault(o.acltype, o.ownerid)) x)) d"
" WHERE o.acl IS NOT NULL"
" UNION ALL"
" SELECT o.classid, o.objid, o.kind, a.attname::pg_catalog.text, 'GRANT', x.grantee, x.privilege_type, x.is_grantable"
" FROM o JOIN pg_catalog.pg_attribute a ON a.attrelid = o.objid AND a.attnum > 0 AND NOT a.attisdropped"
" CROSS JOIN LATERAL (SELECT DISTINCT y.grantee, y.privilege_type, y.is_grantable FROM pg_catalog.aclexplode(a.attacl) y) x"
" WHERE o.classid = " CATOID("pg_class") " AND a.attacl IS NOT NULL) q"
" LEFT JOIN pg_catalog.pg_roles r ON r.oid = q.grantee"
" ORDER BY q.classid, q.objid, q.kind, q.col NULLS FIRST, q.action DESC, r.rolname NULLS FIRST, q.is_grantable, q.privilege_type";

/* what an object kind is called in ALTER ... OWNER TO and in GRANT ... ON */
typedef struct OwnedKind
{
	const char *kind;			/* as the generator names it */
	const char *alter;			/* ALTER <alter> ... OWNER TO */
	const char *grant;			/* GRANT ... ON <grant>, NULL: no ACL */
} OwnedKind;

static const OwnedKind owned_kinds[] = {
	{"schema", "SCHEMA", "SCHEMA"},
	{"table", "TABLE", "TABLE"},
	{"foreign table", "FOREIGN TABLE", "TABLE"},
	{"view", "VIEW", "TABLE"},
	{"materialized view", "MATERIALIZED VIEW", "TABLE"},
	{"sequence", "SEQUENCE", "SEQUENCE"},
	{"type", "TYPE", "TYPE"},
	{"domain", "DOMAIN", "DOMAIN"},
	{"function", "FUNCTION", "FUNCTION"},
	{"procedure", "PROCEDURE", "PROCEDURE"},
	{"aggregate", "AGGREGATE", "FUNCTION"},
	{"operator", "OPERATOR", NULL},
	{"operator family", "OPERATOR FAMILY", NULL},
	{"operator class", "OPERATOR CLASS", NULL},
	{"collation", "COLLATION", NULL},
	{"conversion", "CONVERSION", NULL},
	{"text search dictionary", "TEXT SEARCH DICTIONARY", NULL},
	{"text search configuration", "TEXT SEARCH CONFIGURATION", NULL},
	{"foreign-data wrapper", "FOREIGN DATA WRAPPER", "FOREIGN DATA WRAPPER"},
	{"server", "SERVER", "FOREIGN SERVER"},
	{"statistics", "STATISTICS", NULL},
	{"publication", "PUBLICATION", NULL},
	{"event trigger", "EVENT TRIGGER", NULL},
	{"procedural language", "LANGUAGE", "LANGUAGE"},
	{"subscription", "SUBSCRIPTION", NULL},
};

/* the privileges a GRANT may name; anything else from the source is dropped */
static const char *const privilege_names[] = {
	"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES",
	"TRIGGER", "EXECUTE", "USAGE", "CREATE", "MAINTAIN",
};

typedef struct OwnKey
{
	Oid			classid;
	Oid			objid;
} OwnKey;


/* per object: its reference in SQL and the statements it gets */
typedef struct OwnTarget
{
	TsmSchemaObject *obj;
	const OwnedKind *kind;
	const char *alter;			/* ALTER <alter> ... OWNER TO */
	char	   *ref;			/* quoted name, with arguments */
	char	   *relref;			/* relations: "schema"."name" */
	List	   *stmts;			/* owner, then privileges */
	bool		named;			/* ref built (NULL: names not usable) */
} OwnTarget;

/* the objects of the section by (classid, objid), with what they get */
typedef struct OwnEntry
{
	OwnKey		key;
	List	   *targets;		/* OwnTargets of the objects with this key */
} OwnEntry;

static const OwnedKind *owned_kind(const char *kind);
static OwnTarget *find_target(HTAB *index, const TsmRows *rows, int r);
static char *object_ref(const OwnedKind *kind, const TsmRows *rows, int r);
static char *type_list(const char *argnsp, const char *argtyp, bool operator,
					   bool *ok);
static void add_privileges(HTAB *index, const TsmRows *rows);
static TsmSchemaStmt *make_stmt(const char *tag, char *sql);
static bool owner_settable(Node *stmt, const char **rolname, char **reason);
static void check_security_definer(const TsmSchemaObject *obj);
static bool grantees_exist(const TsmSchemaObject *obj, GrantStmt *grant);

static const OwnedKind *
owned_kind(const char *kind)
{
	int			i;

	for (i = 0; i < lengthof(owned_kinds); i++)
		if (strcmp(owned_kinds[i].kind, kind) == 0)
			return &owned_kinds[i];
	return NULL;
}

/* two values of a row, NULL equal to NULL */
static bool
same_value(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static TsmSchemaStmt *
make_stmt(const char *tag, char *sql)
{
	TsmSchemaStmt *s = palloc0(sizeof(TsmSchemaStmt));

	s->tag = pstrdup(tag);
	s->sql = sql;
	return s;
}

/*
 * ALTER DEFAULT PRIVILEGES, as pg_dump writes them: for each role (and
 * schema), what its defaults grant beyond PostgreSQL's built-in ones
 * (acldefault) and what they revoke of those; a schema's defaults start
 * from none.  Post-data, as pg_dump has them, so that the objects the
 * replay creates are not granted by them.  Their replay needs the
 * caller's existing_objects: they decide what other roles' future objects
 * grant.
 */
static const char *const default_privileges_sql =
"SELECT " CATOID("pg_default_acl") ", d.oid, 'default privileges',"
" pg_catalog.format('FOR ROLE %I%s ON %s', pg_catalog.pg_get_userbyid(d.defaclrole),"
"  CASE WHEN d.defaclnamespace <> 0 THEN pg_catalog.format(' IN SCHEMA %I', n.nspname) ELSE '' END, x.objs), 95,"
" x.stmts"
" FROM pg_catalog.pg_default_acl d"
" LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace"
" CROSS JOIN LATERAL (SELECT o.objs, ARRAY("
"   SELECT 'AlterDefaultPrivilegesStmt:' || pg_catalog.format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s %s %s ON %s %s %s%s',"
"    pg_catalog.pg_get_userbyid(d.defaclrole),"
"    CASE WHEN d.defaclnamespace <> 0 THEN pg_catalog.format(' IN SCHEMA %I', n.nspname) ELSE '' END,"
"    g.op, g.privs, o.objs, CASE g.op WHEN 'GRANT' THEN 'TO' ELSE 'FROM' END,"
"    CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,"
"    CASE WHEN g.grantable THEN ' WITH GRANT OPTION' ELSE '' END)"
"   FROM (SELECT 'GRANT' AS op, c.grantee, c.is_grantable AS grantable,"
"          pg_catalog.string_agg(c.privilege_type, ', ' ORDER BY c.privilege_type) AS privs"
"          FROM pg_catalog.aclexplode(d.defaclacl) c"
"         WHERE NOT EXISTS (SELECT FROM pg_catalog.aclexplode(o.base) b WHERE b.grantee = c.grantee"
"                            AND b.privilege_type = c.privilege_type AND b.is_grantable = c.is_grantable)"
"         GROUP BY c.grantee, c.is_grantable"
"        UNION ALL"
"        SELECT 'REVOKE', b.grantee, false,"
"          pg_catalog.string_agg(b.privilege_type, ', ' ORDER BY b.privilege_type)"
"          FROM pg_catalog.aclexplode(o.base) b"
"         WHERE NOT EXISTS (SELECT FROM pg_catalog.aclexplode(d.defaclacl) c WHERE c.grantee = b.grantee"
"                            AND c.privilege_type = b.privilege_type)"
"         GROUP BY b.grantee) g"
"   ORDER BY g.op DESC, g.grantee, g.grantable) AS stmts"
"  FROM (SELECT CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'"
"                 WHEN 'T' THEN 'TYPES' ELSE 'SCHEMAS' END AS objs,"
"               CASE WHEN d.defaclnamespace = 0"
"                 THEN pg_catalog.acldefault(CASE d.defaclobjtype WHEN 'S' THEN 's' ELSE d.defaclobjtype END, d.defaclrole)"
"                 ELSE NULL::pg_catalog.aclitem[] END AS base) o) x"
" WHERE (d.defaclnamespace = 0 OR " USER_NSP("n.nspname") ")"
"   AND pg_catalog.cardinality(x.stmts) > 0";

/*
 * Privileges changed since initdb on what the target has of its own: the
 * public schema and, from a source of the target's major version (the
 * catalogs of another differ), the tables and columns of pg_catalog
 * (information_schema's are not dumped by pg_dump either).  As pg_dump
 * does: against pg_init_privs (or the built-in default where it has no
 * row), what was granted since and what was revoked.  Post-data, last; with existing_objects only, since they
 * change objects no run creates (the replay refuses them otherwise).
 * @1@: whether system catalogs are in.
 */
#define ACL_DIFF_STMTS(cur, base, fmt_grant, fmt_revoke) \
" ARRAY(SELECT 'GrantStmt:' || CASE g.op WHEN 'GRANT' THEN" \
"   pg_catalog.format(" fmt_grant ", g.privs, o.target," \
"    CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END," \
"    CASE WHEN g.grantable THEN ' WITH GRANT OPTION' ELSE '' END)" \
"  ELSE pg_catalog.format(" fmt_revoke ", g.privs, o.target," \
"    CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END) END" \
"  FROM (SELECT 'GRANT' AS op, c.grantee, c.is_grantable AS grantable," \
"         pg_catalog.string_agg(c.privilege_type || o.cols, ', ' ORDER BY c.privilege_type) AS privs" \
"         FROM pg_catalog.aclexplode(" cur ") c" \
"        WHERE NOT EXISTS (SELECT FROM pg_catalog.aclexplode(" base ") b WHERE b.grantee = c.grantee" \
"                           AND b.privilege_type = c.privilege_type AND b.is_grantable = c.is_grantable)" \
"        GROUP BY c.grantee, c.is_grantable" \
"       UNION ALL" \
"       SELECT 'REVOKE', b.grantee, false," \
"         pg_catalog.string_agg(b.privilege_type || o.cols, ', ' ORDER BY b.privilege_type)" \
"         FROM pg_catalog.aclexplode(" base ") b" \
"        WHERE NOT EXISTS (SELECT FROM pg_catalog.aclexplode(" cur ") c WHERE c.grantee = b.grantee" \
"                           AND c.privilege_type = b.privilege_type)" \
"        GROUP BY b.grantee) g" \
"  ORDER BY g.op DESC, g.grantee, g.grantable)"

static const char *const changed_privileges_sql_fmt =
"SELECT o.classid, o.objid, 'privileges', o.name, 96,"
ACL_DIFF_STMTS("o.cur", "o.base", "'GRANT %s ON %s TO %s%s'", "'REVOKE %s ON %s FROM %s'")
" FROM ("
"  SELECT " CATOID("pg_namespace") " AS classid, n.oid AS objid,"
"   pg_catalog.format('SCHEMA %I', n.nspname) AS name, pg_catalog.format('SCHEMA %I', n.nspname) AS target, '' AS cols,"
"   COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner)) AS cur,"
"   COALESCE(ip.initprivs, pg_catalog.acldefault('n', n.nspowner)) AS base"
"   FROM pg_catalog.pg_namespace n"
"   JOIN pg_catalog.pg_init_privs ip ON ip.classoid = " CATOID("pg_namespace")
"    AND ip.objoid = n.oid AND ip.objsubid = 0"
"  WHERE n.nspname = 'public'"
"  UNION ALL"
"  SELECT " CATOID("pg_class") ", c.oid, pg_catalog.format('TABLE %I.%I', n.nspname, c.relname),"
"   pg_catalog.format('TABLE %I.%I', n.nspname, c.relname), '',"
"   COALESCE(c.relacl, pg_catalog.acldefault('r', c.relowner)),"
"   COALESCE(ip.initprivs, pg_catalog.acldefault('r', c.relowner))"
"   FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
"   LEFT JOIN pg_catalog.pg_init_privs ip ON ip.classoid = " CATOID("pg_class")
"    AND ip.objoid = c.oid AND ip.objsubid = 0"
"  WHERE @1@ AND n.nspname = 'pg_catalog' AND c.relkind IN ('r', 'v')"
"  UNION ALL"
"  SELECT " CATOID("pg_class") ", c.oid, pg_catalog.format('TABLE %I.%I', n.nspname, c.relname),"
"   pg_catalog.format('TABLE %I.%I', n.nspname, c.relname), pg_catalog.format('(%I)', a.attname),"
"   a.attacl, ip.initprivs"
"   FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
"   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
"   LEFT JOIN pg_catalog.pg_init_privs ip ON ip.classoid = " CATOID("pg_class")
"    AND ip.objoid = a.attrelid AND ip.objsubid = a.attnum"
"  WHERE @1@ AND n.nspname = 'pg_catalog' AND c.relkind IN ('r', 'v')"
"   AND a.attnum > 0 AND (a.attacl IS NOT NULL OR ip.objoid IS NOT NULL)"
" ) o"
" WHERE o.cur IS DISTINCT FROM o.base"
" ORDER BY o.classid, o.objid, o.cols";

/*
 * tsm_schema_privilege_queries
 *		Append the queries of this file for a section to "queries": default
 *		privileges and privileges changed since initdb, in post-data, with
 *		the privileges and the caller's existing_objects (without it they
 *		are left out, as preflight says; the replay refuses them).
 */
void
tsm_schema_privilege_queries(List **queries, int version, bool post,
							 const TsmSchemaOptions *opts)
{
	if (!post || !opts->privileges ||
		!tsm_consent_allows(opts->consent, TSM_ALLOW_EXISTING_OBJECTS))
		return;
	*queries = list_concat(*queries, tsm_schema_existing_privilege_queries(version));
}

/*
 * tsm_schema_existing_privilege_queries
 *		The two queries above, for a source of server version "version":
 *		what the replay sets with existing_objects, and preflight names
 *		without it.  Each returns a schema object per row (catalog_sql.h).
 */
List *
tsm_schema_existing_privilege_queries(int version)
{
	return list_make2((char *) default_privileges_sql,
					  tsm_schema_subst(changed_privileges_sql_fmt,
									   version / 10000 == PG_VERSION_NUM / 10000 ? "true" : "false"));
}

/*
 * tsm_schema_owners
 *		Give the objects of a section (in "objects", in any order) their
 *		source owner and privileges, as "opts" asks.  Runs in the generator's
 *		transaction on "conn".
 *
 * Every object's source owner is noted (obj->owner) even with owners =>
 * false: the replay names it when it refuses a SECURITY DEFINER function.
 */
void
tsm_schema_owners(PGconn *conn, List *objects, const TsmSchemaOptions *opts)
{
	HASHCTL		ctl;
	HTAB	   *index;
	List	   *targets = NIL;
	TsmRows    *rows;
	ListCell   *lc;
	int			r;
	int			save_nestlevel;
	const char *subscriptions = "";

	if (objects == NIL)
		return;

	/*
	 * Every name quoted, as the source quotes the rest of the generated text
	 * (and pg_dump --quote-all-identifiers); undone at the end, or by the
	 * transaction's abort.
	 */
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("quote_all_identifiers", "on", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(OwnKey);
	ctl.entrysize = sizeof(OwnEntry);
	ctl.hcxt = CurrentMemoryContext;
	index = hash_create("tsmigrate owned objects", list_length(objects), &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	foreach(lc, objects)
	{
		TsmSchemaObject *obj = lfirst(lc);
		OwnKey		key;
		OwnEntry   *entry;
		OwnTarget  *t;
		bool		found;

		obj->superuser_definer = tsm_consent_allows(opts->consent, TSM_ALLOW_SUPERUSER_DEFINER);
		if (strcmp(obj->kind, "subscription") == 0)
			subscriptions = subscription_owners;
		if (obj->classid == InvalidOid || owned_kind(obj->kind) == NULL)
			continue;
		key.classid = obj->classid;
		key.objid = obj->objid;
		entry = hash_search(index, &key, HASH_ENTER, &found);
		if (!found)
			entry->targets = NIL;
		t = palloc0(sizeof(OwnTarget));
		t->obj = obj;
		t->kind = owned_kind(obj->kind);
		entry->targets = lappend(entry->targets, t);
		targets = lappend(targets, t);
	}

	rows = tsm_query(conn, tsm_schema_subst_marker(owners_sql, "@SUBSCRIPTIONS@", subscriptions),
					 0, NULL, 9, "the owners of the source's objects");
	for (r = 0; r < rows->nrows; r++)
	{
		OwnTarget  *t;
		const char *owner;

		if ((r & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		t = find_target(index, rows, r);
		owner = tsm_rows_value(rows, r, 8);
		if (t == NULL || owner == NULL || t->obj->owner != NULL)
			continue;
		t->obj->owner = pstrdup(owner);
		if (opts->owners)
			t->stmts = lappend(t->stmts,
							   make_stmt(t->relref ? "AlterTableStmt" : "AlterOwnerStmt",
										 psprintf("ALTER %s %s OWNER TO %s", t->alter,
												  t->ref, quote_identifier(owner))));
	}

	if (opts->privileges)
		add_privileges(index, tsm_query(conn,
										tsm_schema_subst_marker(privileges_sql, "@SUBSCRIPTIONS@",
																subscriptions),
										0, NULL, 9, "the privileges on the source's objects"));

	/* right after each object's creating statement */
	foreach(lc, targets)
	{
		OwnTarget  *t = lfirst(lc);
		TsmSchemaObject *obj = t->obj;

		if (t->stmts == NIL || obj->stmts == NIL)
			continue;
		obj->stmts = list_concat(list_concat(list_make1(linitial(obj->stmts)), t->stmts),
								 list_copy_tail(obj->stmts, 1));
	}
	AtEOXact_GUC(true, save_nestlevel);
}

/*
 * find_target
 *		The object of the section that row "r" (classid, objid, kind, then
 *		the names) is about, with its reference built on first use; NULL if
 *		the section has no such object or its names are not usable.
 */
static OwnTarget *
find_target(HTAB *index, const TsmRows *rows, int r)
{
	const char *classid = tsm_rows_value(rows, r, 0);
	const char *objid = tsm_rows_value(rows, r, 1);
	const char *kind = tsm_rows_value(rows, r, 2);
	OwnKey		key;
	OwnEntry   *entry;
	ListCell   *lc;

	if (classid == NULL || objid == NULL || kind == NULL)
		return NULL;
	key.classid = atooid(classid);
	key.objid = atooid(objid);
	entry = hash_search(index, &key, HASH_FIND, NULL);
	if (entry == NULL)
		return NULL;
	/* at most a few objects share a key */
	foreach(lc, entry->targets)
	{
		OwnTarget  *t = lfirst(lc);

		if (strcmp(t->obj->kind, kind) != 0)
			continue;
		if (!t->named)
		{
			t->named = true;
			t->alter = t->kind->alter;
			t->ref = object_ref(t->kind, rows, r);
			if (t->ref != NULL && t->kind->grant != NULL &&
				(strcmp(t->kind->grant, "TABLE") == 0 || strcmp(t->kind->grant, "SEQUENCE") == 0))
				t->relref = t->ref;

			/*
			 * ALTER AGGREGATE names an ordered-set aggregate with ORDER BY
			 * and one without arguments as (*); ALTER ROUTINE takes both by
			 * their argument types, as GRANT ... ON FUNCTION does.
			 */
			if (strcmp(kind, "aggregate") == 0 &&
				(!same_value(tsm_rows_value(rows, r, 7), "n") ||
				 (t->ref != NULL && strlen(t->ref) > 2 &&
				  strcmp(t->ref + strlen(t->ref) - 2, "()") == 0)))
				t->alter = "ROUTINE";
		}
		return t->ref ? t : NULL;
	}
	return NULL;
}

/*
 * object_ref
 *		The object's name as ALTER and GRANT take it, quoted here from the
 *		raw names of row "r": "schema"."name", with the argument types of a
 *		routine or an operator, USING the access method of an operator class
 *		or family.  NULL if a name is missing or an operator's name is not
 *		made of operator characters.
 */
static char *
object_ref(const OwnedKind *kind, const TsmRows *rows, int r)
{
	const char *nsp = tsm_rows_value(rows, r, 3);
	const char *name = tsm_rows_value(rows, r, 4);
	const char *argnsp = tsm_rows_value(rows, r, 5);
	const char *argtyp = tsm_rows_value(rows, r, 6);
	const char *extra = tsm_rows_value(rows, r, 7);
	bool		ok = true;
	char	   *args;

	if (name == NULL || name[0] == '\0')
		return NULL;
	if (nsp == NULL)
	{
		/* schemas, foreign-data wrappers, servers, languages ... */
		if (strcmp(kind->alter, "SCHEMA") != 0 && strcmp(kind->alter, "FOREIGN DATA WRAPPER") != 0 &&
			strcmp(kind->alter, "SERVER") != 0 && strcmp(kind->alter, "PUBLICATION") != 0 &&
			strcmp(kind->alter, "EVENT TRIGGER") != 0 && strcmp(kind->alter, "LANGUAGE") != 0 &&
			strcmp(kind->alter, "SUBSCRIPTION") != 0)
			return NULL;
		return pstrdup(quote_identifier(name));
	}
	if (strcmp(kind->alter, "OPERATOR") == 0)
	{
		if (strspn(name, "+-*/<>=~!@#%^&|`?") != strlen(name) || strlen(name) >= NAMEDATALEN)
			return NULL;
		args = type_list(argnsp, argtyp, true, &ok);
		return ok ? psprintf("%s.%s(%s)", quote_identifier(nsp), name, args) : NULL;
	}
	if (strcmp(kind->alter, "OPERATOR CLASS") == 0 || strcmp(kind->alter, "OPERATOR FAMILY") == 0)
	{
		if (extra == NULL)
			return NULL;
		return psprintf("%s.%s USING %s", quote_identifier(nsp), quote_identifier(name),
						quote_identifier(extra));
	}
	if (strcmp(kind->alter, "FUNCTION") != 0 && strcmp(kind->alter, "PROCEDURE") != 0 &&
		strcmp(kind->alter, "AGGREGATE") != 0)
		return psprintf("%s.%s", quote_identifier(nsp), quote_identifier(name));

	args = type_list(argnsp, argtyp, false, &ok);
	if (!ok)
		return NULL;
	return psprintf("%s.%s(%s)", quote_identifier(nsp), quote_identifier(name), args);
}

/*
 * type_list
 *		"schema"."type", ... from two text[] literals of the same length; an
 *		operator's missing side (NULL) is NONE.
 */
static char *
type_list(const char *argnsp, const char *argtyp, bool operator, bool *ok)
{
	StringInfoData buf;
	Datum	   *nsps;
	Datum	   *typs;
	bool	   *nspnulls;
	bool	   *typnulls;
	int			nnsp;
	int			ntyp;
	int			i;

	*ok = false;
	if (argnsp == NULL || argtyp == NULL)
		return NULL;
	deconstruct_array(DatumGetArrayTypeP(OidInputFunctionCall(F_ARRAY_IN, (char *) argnsp,
															  TEXTOID, -1)),
					  TEXTOID, -1, false, TYPALIGN_INT, &nsps, &nspnulls, &nnsp);
	deconstruct_array(DatumGetArrayTypeP(OidInputFunctionCall(F_ARRAY_IN, (char *) argtyp,
															  TEXTOID, -1)),
					  TEXTOID, -1, false, TYPALIGN_INT, &typs, &typnulls, &ntyp);
	if (nnsp != ntyp || (operator && nnsp != 2))
		return NULL;
	initStringInfo(&buf);
	for (i = 0; i < nnsp; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		if (nspnulls[i] || typnulls[i])
		{
			if (!operator || !nspnulls[i] || !typnulls[i])
				return NULL;
			appendStringInfoString(&buf, "NONE");
			continue;
		}
		appendStringInfo(&buf, "%s.%s",
						 quote_identifier(TextDatumGetCString(nsps[i])),
						 quote_identifier(TextDatumGetCString(typs[i])));
	}
	*ok = true;
	return buf.data;
}

/*
 * add_privileges
 *		The REVOKE and GRANT statements of the privilege rows: one statement
 *		per object, column, action, grantee and grant option, naming its
 *		privileges.
 */
static void
add_privileges(HTAB *index, const TsmRows *rows)
{
	int			r = 0;

	while (r < rows->nrows)
	{
		OwnTarget  *t;
		const char *col = tsm_rows_value(rows, r, 3);
		const char *action = tsm_rows_value(rows, r, 4);
		const char *public = tsm_rows_value(rows, r, 5);
		const char *grantee = tsm_rows_value(rows, r, 6);
		const char *grantable = tsm_rows_value(rows, r, 8);
		StringInfoData privs;
		int			first = r;
		bool		is_public;
		bool		with_option;

		CHECK_FOR_INTERRUPTS();
		t = find_target(index, rows, r);
		is_public = public != NULL && strcmp(public, "t") == 0;
		with_option = grantable != NULL && strcmp(grantable, "t") == 0;

		/* the rows of one statement: all but the privilege alike */
		initStringInfo(&privs);
		for (; r < rows->nrows; r++)
		{
			const char *priv = tsm_rows_value(rows, r, 7);
			int			i;
			int			k;

			for (k = 0; k < 9 && r != first; k++)
				if (k != 7 && !same_value(tsm_rows_value(rows, r, k),
										  tsm_rows_value(rows, first, k)))
					break;
			if (r != first && k < 9)
				break;
			for (i = 0; priv != NULL && i < lengthof(privilege_names); i++)
				if (strcmp(priv, privilege_names[i]) == 0)
					break;
			if (priv == NULL || i == lengthof(privilege_names))
				continue;
			if (privs.len > 0)
				appendStringInfoString(&privs, ", ");
			appendStringInfoString(&privs, privilege_names[i]);
			if (col != NULL)
				appendStringInfo(&privs, " (%s)", quote_identifier(col));
		}

		if (t == NULL || t->kind->grant == NULL || privs.len == 0 || action == NULL ||
			(col != NULL && t->relref == NULL) ||
			(!is_public && grantee == NULL))
			continue;
		if (strcmp(action, "GRANT") == 0)
			t->stmts = lappend(t->stmts,
							   make_stmt("GrantStmt",
										 psprintf("GRANT %s ON %s %s TO %s%s", privs.data,
												  t->kind->grant, t->ref,
												  is_public ? "PUBLIC" : quote_identifier(grantee),
												  with_option ? " WITH GRANT OPTION" : "")));
		else if (strcmp(action, "REVOKE") == 0)
			t->stmts = lappend(t->stmts,
							   make_stmt("GrantStmt",
										 psprintf("REVOKE %s ON %s %s FROM %s", privs.data,
												  t->kind->grant, t->ref,
												  is_public ? "PUBLIC" : quote_identifier(grantee))));
	}
}

/*
 * owner_namespace
 *		The schema of the object an ownership change names, NULL if it has
 *		none or the name is not qualified.
 */
static const char *
owner_namespace(Node *stmt)
{
	if (IsA(stmt, AlterTableStmt))
		return ((AlterTableStmt *) stmt)->relation->schemaname;
	if (IsA(stmt, AlterOwnerStmt))
	{
		AlterOwnerStmt *alter = (AlterOwnerStmt *) stmt;
		List	   *names = NIL;

		switch (alter->objectType)
		{
			case OBJECT_FUNCTION:
			case OBJECT_PROCEDURE:
			case OBJECT_AGGREGATE:
			case OBJECT_ROUTINE:
			case OBJECT_OPERATOR:
				names = castNode(ObjectWithArgs, alter->object)->objname;
				break;
			case OBJECT_OPCLASS:
			case OBJECT_OPFAMILY:
				names = list_copy_tail(castNode(List, alter->object), 1);
				break;
			case OBJECT_TYPE:
			case OBJECT_DOMAIN:
			case OBJECT_COLLATION:
			case OBJECT_TSDICTIONARY:
			case OBJECT_TSCONFIGURATION:
			case OBJECT_STATISTIC_EXT:
				names = castNode(List, alter->object);
				break;
			default:
				return NULL;
		}
		if (list_length(names) == 2)
			return strVal(linitial(names));
	}
	return NULL;
}

/*
 * owner_settable
 *		May this ownership change run here?  The new owner must exist, the
 *		caller must be a superuser or able to become it, and it must meet
 *		what ALTER ... OWNER TO asks of a new owner (CREATE on the schema or
 *		database for a non-superuser caller; a superuser for foreign-data
 *		wrappers and event triggers).  Otherwise *reason says why not.
 */
static bool
owner_settable(Node *stmt, const char **rolname, char **reason)
{
	RoleSpec   *spec;
	ObjectType	objtype;
	Oid			roleid;
	const char *nsp;

	if (IsA(stmt, AlterTableStmt))
	{
		AlterTableStmt *alter = (AlterTableStmt *) stmt;

		spec = linitial_node(AlterTableCmd, alter->cmds)->newowner;
		objtype = alter->objtype;
	}
	else
	{
		spec = ((AlterOwnerStmt *) stmt)->newowner;
		objtype = ((AlterOwnerStmt *) stmt)->objectType;
	}
	if (spec == NULL || spec->roletype != ROLESPEC_CSTRING)
	{
		*rolname = "?";
		*reason = pstrdup("The statement names no role.");
		return false;
	}
	*rolname = spec->rolename;
	roleid = get_role_oid(spec->rolename, true);
	if (!OidIsValid(roleid))
	{
		*reason = psprintf("Role \"%s\" does not exist on the target.", spec->rolename);
		return false;
	}
	if ((objtype == OBJECT_FDW || objtype == OBJECT_EVENT_TRIGGER ||
		 (objtype == OBJECT_SUBSCRIPTION && TSM_SUBSCRIPTIONS_SUPERUSER_ONLY)) &&
		!superuser_arg(roleid))
	{
		*reason = psprintf("The owner of a %s must be a superuser, and role \"%s\" is not one on the target.",
						   objtype == OBJECT_FDW ? "foreign-data wrapper" :
						   objtype == OBJECT_EVENT_TRIGGER ? "event trigger" : "subscription",
						   spec->rolename);
		return false;
	}
	if (superuser())
		return true;
	if (!tsm_can_set_role(GetUserId(), roleid))
	{
		*reason = psprintf("Role \"%s\" cannot SET ROLE to \"%s\".",
						   GetUserNameFromId(GetUserId(), false), spec->rolename);
		return false;
	}
	if (objtype == OBJECT_SCHEMA || objtype == OBJECT_PUBLICATION)
	{
		if (tsm_database_aclcheck(MyDatabaseId, roleid, ACL_CREATE) != ACLCHECK_OK)
		{
			*reason = psprintf("Role \"%s\" has no CREATE privilege on the database.", spec->rolename);
			return false;
		}
	}
	else if ((nsp = owner_namespace(stmt)) != NULL)
	{
		Oid			nspid = get_namespace_oid(nsp, true);

		if (OidIsValid(nspid) &&
			tsm_namespace_aclcheck(nspid, roleid, ACL_CREATE) != ACLCHECK_OK)
		{
			*reason = psprintf("Role \"%s\" has no CREATE privilege on schema \"%s\".",
							   spec->rolename, nsp);
			return false;
		}
	}
	return true;
}

/* the single statement of "sql", or NULL */
static Node *
parse_one(const char *sql)
{
	List	   *parsed = raw_parser(sql, RAW_PARSE_DEFAULT);

	if (list_length(parsed) != 1)
		return NULL;
	return linitial_node(RawStmt, parsed)->stmt;
}

/* is this an ownership change: ALTER ... OWNER TO */
static bool
is_owner_change(Node *stmt)
{
	if (IsA(stmt, AlterOwnerStmt))
		return true;
	if (IsA(stmt, AlterTableStmt))
	{
		AlterTableStmt *alter = (AlterTableStmt *) stmt;

		return list_length(alter->cmds) == 1 &&
			linitial_node(AlterTableCmd, alter->cmds)->subtype == AT_ChangeOwner;
	}
	return false;
}

/*
 * Does every role a GRANT or REVOKE names exist here?  If not, a NOTICE
 * says which, and the statement is skipped.
 */
static bool
grantees_exist(const TsmSchemaObject *obj, GrantStmt *grant)
{
	ListCell   *lc;

	foreach(lc, grant->grantees)
	{
		RoleSpec   *spec = lfirst_node(RoleSpec, lc);

		if (spec->roletype == ROLESPEC_CSTRING &&
			!OidIsValid(get_role_oid(spec->rolename, true)))
		{
			ereport(NOTICE,
					errmsg("privileges on %s %s are not %s role \"%s\"", obj->kind, obj->name,
						   grant->is_grant ? "granted to" : "revoked from",
						   spec->rolename),
					errdetail("The role does not exist on the target."));
			return false;
		}
	}
	return true;
}

/*
 * tsm_schema_stmt_applies
 *		Whether the replay runs statement "s" of "obj" here, decided on the
 *		target when it is about to run, on "stmt", its parse tree (it has
 *		passed the replay's check):
 *		an ownership change whose owner cannot be set and a GRANT or REVOKE
 *		naming a role that does not exist here are skipped, with a WARNING or
 *		a NOTICE.  CREATE of a SECURITY DEFINER function is refused when the
 *		function would be left to a superuser caller.
 */
bool
tsm_schema_stmt_applies(const TsmSchemaObject *obj, const TsmSchemaStmt *s,
						Node *stmt)
{
	if (is_owner_change(stmt))
	{
		const char *rolname;
		char	   *reason;

		if (owner_settable(stmt, &rolname, &reason))
			return true;
		ereport(WARNING,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("%s %s is left owned by role \"%s\", not by its source owner \"%s\"",
					   obj->kind, obj->name, GetUserNameFromId(GetUserId(), false), rolname),
				errdetail_internal("%s", reason),
				errhint("Create the role on the target first (tsmigrate.pull_roles()), or run as a role that may set it, then ALTER the object's owner."));
		return false;
	}
	if (IsA(stmt, GrantStmt))
		return grantees_exist(obj, (GrantStmt *) stmt);
	if (IsA(stmt, AlterDefaultPrivilegesStmt))
	{
		AlterDefaultPrivilegesStmt *adp = (AlterDefaultPrivilegesStmt *) stmt;
		ListCell   *lc;

		/* FOR ROLE: the role whose future objects they are */
		foreach(lc, adp->options)
		{
			DefElem    *def = lfirst_node(DefElem, lc);
			ListCell   *rc;

			if (strcmp(def->defname, "roles") != 0)
				continue;
			foreach(rc, (List *) def->arg)
			{
				RoleSpec   *spec = lfirst_node(RoleSpec, rc);

				if (spec->roletype == ROLESPEC_CSTRING &&
					!OidIsValid(get_role_oid(spec->rolename, true)))
				{
					ereport(NOTICE,
							errmsg("%s %s are not set: role \"%s\" does not exist on the target",
								   obj->kind, obj->name, spec->rolename));
					return false;
				}
			}
		}
		return grantees_exist(obj, adp->action);
	}
	if (IsA(stmt, CreateFunctionStmt))
	{
		ListCell   *lc;

		foreach(lc, ((CreateFunctionStmt *) stmt)->options)
		{
			DefElem    *def = lfirst_node(DefElem, lc);

			if (strcmp(def->defname, "security") == 0 && defGetBoolean(def))
				check_security_definer(obj);
		}
	}
	return true;
}

/*
 * check_security_definer
 *		A SECURITY DEFINER function runs with its owner's rights: one whose
 *		source owner is not set here would be the caller's, and when the
 *		caller is a superuser anyone allowed to call it would run code as a
 *		superuser.  Refuse it then; a caller that is not a superuser owns it
 *		as any other object it creates.  A source owner that is a superuser
 *		here is refused too unless the caller allows "superuser_definer": a
 *		source's role is matched to the target's by name only, so a source
 *		role named as one of the target's superusers would otherwise hand
 *		the source's code a superuser's rights.
 */
static void
check_security_definer(const TsmSchemaObject *obj)
{
	ListCell   *lc;
	const char *rolname = obj->owner;
	char	   *reason = NULL;

	foreach(lc, obj->stmts)
	{
		TsmSchemaStmt *s = lfirst(lc);
		Node	   *stmt;

		if (strcmp(s->tag, "AlterOwnerStmt") != 0 || (stmt = parse_one(s->sql)) == NULL ||
			!IsA(stmt, AlterOwnerStmt))
			continue;
		if (((AlterOwnerStmt *) stmt)->objectType != OBJECT_FUNCTION &&
			((AlterOwnerStmt *) stmt)->objectType != OBJECT_PROCEDURE)
			continue;
		if (owner_settable(stmt, &rolname, &reason))
		{
			if (!obj->superuser_definer &&
				superuser_arg(get_role_oid(rolname, false)))
				ereport(ERROR,
						errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("refusing to create SECURITY DEFINER %s %s owned by superuser \"%s\"",
							   obj->kind, obj->name, rolname),
						errdetail("Role \"%s\" is a superuser on the target: the function's code, from the source, would run with a superuser's rights.",
								  rolname),
						errhint("If you trust the source with that, allow it with allow => '{superuser_definer}'; otherwise make \"%s\" a role that is not a superuser on the target, or migrate with owners => false as a role that is not a superuser.",
								rolname));
			return;
		}
		break;
	}
	if (!superuser())
		return;
	if (reason == NULL)
		reason = pstrdup("Owners are not migrated (owners => false).");
	ereport(ERROR,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("refusing to create SECURITY DEFINER %s %s owned by superuser \"%s\"",
				   obj->kind, obj->name, GetUserNameFromId(GetUserId(), false)),
			errdetail_internal("On the source it is owned by role \"%s\". %s",
							   rolname ? rolname : "?", reason),
			errhint("Create role \"%s\" on the target first (tsmigrate.pull_roles()) and migrate with owners => true, or run the migration as a role that is not a superuser.",
					rolname ? rolname : "?"));
}
