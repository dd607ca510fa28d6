/*-------------------------------------------------------------------------
 *
 * schema_postdata.c
 *	  Source catalog queries for the post-data section
 *
 * Indexes (with ALTER INDEX ... ATTACH PARTITION for the indexes of
 * partitions, CLUSTER ON and REPLICA IDENTITY USING INDEX), primary key,
 * unique, exclusion and foreign key constraints and CHECK constraints that
 * are NOT VALID, triggers (with their enabled state), rules, row level
 * security and policies, statistics objects, publications, event triggers
 * and the population of materialized views: everything that pg_dump puts after the
 * data.  The columns every query returns are described in schema.h.
 *
 * IDENTIFICATION
 *	  src/schema/schema_postdata.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "tsmigrate.h"
#include "schema/schema.h"
#include "catalog_sql.h"

/* index-level extras shared by indexes and constraints; "ic" is the index */
#define INDEX_EXTRAS \
	"  (SELECT 'AlterTableStmt:' || pg_catalog.format('ALTER INDEX %I.%I ATTACH PARTITION %I.%I', pn.nspname, pc.relname, n.nspname, ic.relname)" \
	"   FROM pg_catalog.pg_inherits ih JOIN pg_catalog.pg_class pc ON pc.oid = ih.inhparent" \
	"   JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace WHERE ih.inhrelid = ic.oid LIMIT 1)," \
	"  CASE WHEN i.indisclustered THEN 'AlterTableStmt:' || pg_catalog.format('ALTER TABLE %I.%I CLUSTER ON %I', n.nspname, c.relname, ic.relname) END," \
	"  CASE WHEN i.indisreplident THEN 'AlterTableStmt:' || pg_catalog.format('ALTER TABLE ONLY %I.%I REPLICA IDENTITY USING INDEX %I', n.nspname, c.relname, ic.relname) END"

static const char *const indexes_sql =
"SELECT " CATOID("pg_class") ", ic.oid, 'index', pg_catalog.format('%I.%I', n.nspname, ic.relname), " CppAsString2(TSM_PRIO_INDEX) ","
" ARRAY[" STMT("IndexStmt", "pg_catalog.pg_get_indexdef(ic.oid)") ","
INDEX_EXTRAS ","
"  " COMMENT_STMT("pg_catalog.format('INDEX %I.%I', n.nspname, ic.relname)", "pg_class", "ic.oid") "]"
" FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid"
" JOIN pg_catalog.pg_class c ON c.oid = i.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" WHERE c.relkind IN ('r', 'p', 'm') AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_class", "c.oid")
" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint co WHERE co.conindid = i.indexrelid"
"  AND co.conrelid = i.indrelid AND co.contype IN ('p', 'u', 'x'))";

/*
 * A primary key or unique constraint that a parallel replay may build in
 * two steps, CREATE UNIQUE INDEX then ADD CONSTRAINT ... USING INDEX: on a
 * plain table without parent or child, whose index has the constraint's
 * name and the default tablespace.
 */
#define SPLITTABLE \
	"(co.contype IN ('p', 'u') AND c.relkind = 'r' AND NOT c.relispartition" \
	" AND ic.relname = co.conname AND ic.reltablespace = 0" \
	" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits sp_i" \
	"  WHERE sp_i.inhrelid = c.oid OR sp_i.inhparent = c.oid))"

/*
 * Constraints of tables.  Foreign keys cloned from a partitioned parent
 * come with the parent's; CHECK constraints that are valid are part of
 * CREATE TABLE.  ONLY is right for everything but the foreign keys of
 * partitioned tables and CHECK constraints, which recurse as pg_dump's do.
 */
static const char *const constraints_sql =
"SELECT " CATOID("pg_constraint") ", co.oid, 'constraint', pg_catalog.format('%I.%I.%I', n.nspname, c.relname, co.conname),"
" CASE co.contype WHEN 'f' THEN 65 WHEN 'c' THEN 66 ELSE 60 END,"
" ARRAY[" STMT("AlterTableStmt", "pg_catalog.format('ALTER %s%s %I.%I ADD CONSTRAINT %I %s',"
			   "   CASE c.relkind WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,"
			   "   CASE WHEN co.contype = 'c' OR (co.contype = 'f' AND c.relkind = 'p') THEN '' ELSE ' ONLY' END,"
			   "   n.nspname, c.relname, co.conname, pg_catalog.pg_get_constraintdef(co.oid))") ","
INDEX_EXTRAS ","
"  " COMMENT_STMT("pg_catalog.format('CONSTRAINT %I ON %I.%I', co.conname, n.nspname, c.relname)", "pg_constraint", "co.oid") ","
"  " COMMENT_STMT("pg_catalog.format('INDEX %I.%I', n.nspname, ic.relname)", "pg_class", "ic.oid") ","
"  CASE WHEN " SPLITTABLE " THEN 'SplitIndex:' || pg_catalog.pg_get_indexdef(co.conindid) END,"
"  CASE WHEN " SPLITTABLE " THEN 'SplitConstraint:' ||"
"   pg_catalog.format('ALTER TABLE ONLY %I.%I ADD CONSTRAINT %I %s USING INDEX %I%s%s', n.nspname, c.relname, co.conname,"
"    CASE co.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END, ic.relname,"
"    CASE WHEN co.condeferrable THEN ' DEFERRABLE' ELSE '' END,"
"    CASE WHEN co.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END) END]"
" FROM pg_catalog.pg_constraint co JOIN pg_catalog.pg_class c ON c.oid = co.conrelid"
" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = co.conindid AND co.contype IN ('p', 'u', 'x')"
" LEFT JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid"
" WHERE (co.contype IN ('p', 'u', 'x') OR (co.contype = 'f' AND co.conparentid = 0)"
"  OR (co.contype IN ('c', 'n') AND NOT co.convalidated AND co.conislocal))"
" AND c.relkind IN ('r', 'p', 'f') AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_class", "c.oid");

/*
 * Triggers, without the clones of partitioned tables' triggers (they come
 * with their parent's).  Triggers that call TimescaleDB's internal
 * functions are TimescaleDB's.
 */
static const char *const triggers_sql =
"SELECT " CATOID("pg_trigger") ", t.oid, 'trigger', pg_catalog.format('%I.%I.%I', n.nspname, c.relname, t.tgname), 70,"
" ARRAY[" STMT("CreateTrigStmt", "pg_catalog.pg_get_triggerdef(t.oid, false)") ","
"  CASE t.tgenabled WHEN 'D' THEN 'AlterTableStmt:' || pg_catalog.format('ALTER TABLE %I.%I DISABLE TRIGGER %I', n.nspname, c.relname, t.tgname)"
"   WHEN 'A' THEN 'AlterTableStmt:' || pg_catalog.format('ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER %I', n.nspname, c.relname, t.tgname)"
"   WHEN 'R' THEN 'AlterTableStmt:' || pg_catalog.format('ALTER TABLE %I.%I ENABLE REPLICA TRIGGER %I', n.nspname, c.relname, t.tgname) END,"
"  " COMMENT_STMT("pg_catalog.format('TRIGGER %I ON %I.%I', t.tgname, n.nspname, c.relname)", "pg_trigger", "t.oid") "]"
/* its clones on partitions whose state differs from their parent's, top down */
" || ARRAY(SELECT 'AlterTableStmt:' || pg_catalog.format('ALTER TABLE %I.%I %s TRIGGER %I', cn.nspname, cc.relname,"
"     CASE ct.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'A' THEN 'ENABLE ALWAYS' WHEN 'R' THEN 'ENABLE REPLICA' ELSE 'ENABLE' END,"
"     ct.tgname)"
"   FROM (WITH RECURSIVE clones(oid, parent_enabled, depth) AS ("
"     SELECT k.oid, t.tgenabled, 1 FROM pg_catalog.pg_trigger k WHERE k.tgparentid = t.oid"
"     UNION ALL"
"     SELECT k.oid, p.tgenabled, clones.depth + 1 FROM clones"
"     JOIN pg_catalog.pg_trigger p ON p.oid = clones.oid"
"     JOIN pg_catalog.pg_trigger k ON k.tgparentid = p.oid)"
"    SELECT * FROM clones) cl"
"   JOIN pg_catalog.pg_trigger ct ON ct.oid = cl.oid"
"   JOIN pg_catalog.pg_class cc ON cc.oid = ct.tgrelid"
"   JOIN pg_catalog.pg_namespace cn ON cn.oid = cc.relnamespace"
"   WHERE ct.tgenabled <> cl.parent_enabled ORDER BY cl.depth, cn.nspname, cc.relname)"
" FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid"
" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_class", "c.oid")
" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc tp JOIN pg_catalog.pg_namespace tn ON tn.oid = tp.pronamespace"
"  WHERE tp.oid = t.tgfoid AND tn.nspname::pg_catalog.text ~ '^_timescaledb')";

static const char *const rules_sql =
"SELECT " CATOID("pg_rewrite") ", r.oid, 'rule', pg_catalog.format('%I.%I.%I', n.nspname, c.relname, r.rulename), 71,"
" ARRAY[" STMT("RuleStmt", "pg_catalog.rtrim(pg_catalog.pg_get_ruledef(r.oid), ';')") ","
"  CASE r.ev_enabled WHEN 'D' THEN 'AlterTableStmt:' || pg_catalog.format('ALTER TABLE %I.%I DISABLE RULE %I', n.nspname, c.relname, r.rulename)"
"   WHEN 'A' THEN 'AlterTableStmt:' || pg_catalog.format('ALTER TABLE %I.%I ENABLE ALWAYS RULE %I', n.nspname, c.relname, r.rulename)"
"   WHEN 'R' THEN 'AlterTableStmt:' || pg_catalog.format('ALTER TABLE %I.%I ENABLE REPLICA RULE %I', n.nspname, c.relname, r.rulename) END,"
"  " COMMENT_STMT("pg_catalog.format('RULE %I ON %I.%I', r.rulename, n.nspname, c.relname)", "pg_rewrite", "r.oid") "]"
" FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class"
" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" WHERE r.rulename <> '_RETURN' AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_class", "c.oid");

/* ENABLE/FORCE ROW LEVEL SECURITY: no dependency points to it (classid 0) */
static const char *const row_security_sql =
"SELECT 0::pg_catalog.oid, c.oid, 'row security', pg_catalog.format('%I.%I', n.nspname, c.relname), 72,"
" ARRAY[CASE WHEN c.relrowsecurity THEN 'AlterTableStmt:' || pg_catalog.format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', n.nspname, c.relname) END,"
"  CASE WHEN c.relforcerowsecurity THEN 'AlterTableStmt:' || pg_catalog.format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', n.nspname, c.relname) END]"
" FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" WHERE (c.relrowsecurity OR c.relforcerowsecurity) AND c.relkind IN ('r', 'p')"
" AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_class", "c.oid");

static const char *const policies_sql =
"SELECT " CATOID("pg_policy") ", p.oid, 'policy', pg_catalog.format('%I.%I.%I', n.nspname, c.relname, p.polname), 73,"
" ARRAY[" STMT("CreatePolicyStmt", "pg_catalog.format('CREATE POLICY %I ON %I.%I AS %s FOR %s TO %s%s%s', p.polname, n.nspname, c.relname,"
			   "   CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,"
			   "   CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,"
			   "   CASE WHEN p.polroles = '{0}' THEN 'PUBLIC' ELSE (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(ro.rolname), ', ' ORDER BY ro.rolname)"
			   "    FROM pg_catalog.pg_roles ro WHERE ro.oid = ANY (p.polroles)) END,"
			   "   CASE WHEN p.polqual IS NOT NULL THEN pg_catalog.format(' USING (%s)', pg_catalog.pg_get_expr(p.polqual, p.polrelid)) ELSE '' END,"
			   "   CASE WHEN p.polwithcheck IS NOT NULL THEN pg_catalog.format(' WITH CHECK (%s)', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)) ELSE '' END)") ","
"  " COMMENT_STMT("pg_catalog.format('POLICY %I ON %I.%I', p.polname, n.nspname, c.relname)", "pg_policy", "p.oid") "]"
" FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid"
" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" WHERE " USER_NSP("n.nspname") " AND " NOT_EXT("pg_class", "c.oid");

static const char *const statistics_sql =
"SELECT " CATOID("pg_statistic_ext") ", s.oid, 'statistics', pg_catalog.format('%I.%I', n.nspname, s.stxname), 74,"
" ARRAY[" STMT("CreateStatsStmt", "pg_catalog.pg_get_statisticsobjdef(s.oid)") ","
"  CASE WHEN s.stxstattarget >= 0 THEN 'AlterStatsStmt:' ||"
"   pg_catalog.format('ALTER STATISTICS %I.%I SET STATISTICS %s', n.nspname, s.stxname, s.stxstattarget) END,"
"  " COMMENT_STMT("pg_catalog.format('STATISTICS %I.%I', n.nspname, s.stxname)", "pg_statistic_ext", "s.oid") "]"
" FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace"
" WHERE " USER_NSP("n.nspname") " AND " NOT_EXT("pg_statistic_ext", "s.oid");

/* @1@: the tables of a publication, with column lists and row filters on 15+ */
static const char *const publications_sql_fmt =
"SELECT " CATOID("pg_publication") ", p.oid, 'publication', pg_catalog.quote_ident(p.pubname), 76,"
" ARRAY[" STMT("CreatePublicationStmt", "pg_catalog.format('CREATE PUBLICATION %I%s WITH (publish = %L, publish_via_partition_root = %s)',"
			   "   p.pubname, CASE WHEN p.puballtables THEN ' FOR ALL TABLES' ELSE '' END,"
			   "   pg_catalog.concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END,"
			   "    CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END),"
			   "   CASE WHEN p.pubviaroot THEN 'true' ELSE 'false' END)") ","
"  " COMMENT_STMT("pg_catalog.format('PUBLICATION %I', p.pubname)", "pg_publication", "p.oid") "]"
" || @1@"
" || " SECLABEL_STMTS("pg_catalog.format('PUBLICATION %I', p.pubname)", "pg_publication", "p.oid")
" FROM pg_catalog.pg_publication p"
" WHERE " NOT_EXT("pg_publication", "p.oid")
/* not the publication of an online run of tsmigrate (migrate/online.c) */
"   AND " TSM_NOT_STREAM_OBJECT("p.pubname");

static const char *const publication_tables_13 =
"ARRAY(SELECT 'AlterPublicationStmt:' || pg_catalog.format('ALTER PUBLICATION %I ADD TABLE ONLY %I.%I', p.pubname, n.nspname, c.relname)"
" FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid"
" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE pr.prpubid = p.oid ORDER BY n.nspname, c.relname)";

static const char *const publication_tables_15 =
"ARRAY(SELECT 'AlterPublicationStmt:' || pg_catalog.format('ALTER PUBLICATION %I ADD TABLES IN SCHEMA %I', p.pubname, n.nspname)"
" FROM pg_catalog.pg_publication_namespace pn JOIN pg_catalog.pg_namespace n ON n.oid = pn.pnnspid"
" WHERE pn.pnpubid = p.oid ORDER BY n.nspname)"
" || ARRAY(SELECT 'AlterPublicationStmt:' || pg_catalog.format('ALTER PUBLICATION %I ADD TABLE ONLY %I.%I%s%s', p.pubname, n.nspname, c.relname,"
"  CASE WHEN pr.prattrs IS NOT NULL THEN ' (' || (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)"
"   FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = ANY (pr.prattrs)) || ')' ELSE '' END,"
"  CASE WHEN pr.prqual IS NOT NULL THEN pg_catalog.format(' WHERE (%s)', pg_catalog.pg_get_expr(pr.prqual, c.oid)) ELSE '' END)"
" FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid"
" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE pr.prpubid = p.oid ORDER BY n.nspname, c.relname)";

static const char *const event_triggers_sql =
"SELECT " CATOID("pg_event_trigger") ", e.oid, 'event trigger', pg_catalog.quote_ident(e.evtname), 90,"
" ARRAY[" STMT("CreateEventTrigStmt", "pg_catalog.format('CREATE EVENT TRIGGER %I ON %I%s EXECUTE FUNCTION %s()', e.evtname, e.evtevent,"
			   "   CASE WHEN e.evttags IS NOT NULL THEN ' WHEN TAG IN (' || (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(t), ', ')"
			   "    FROM pg_catalog.unnest(e.evttags) t) || ')' ELSE '' END, e.evtfoid::pg_catalog.regproc)") ","
"  CASE e.evtenabled WHEN 'D' THEN 'AlterEventTrigStmt:' || pg_catalog.format('ALTER EVENT TRIGGER %I DISABLE', e.evtname)"
"   WHEN 'R' THEN 'AlterEventTrigStmt:' || pg_catalog.format('ALTER EVENT TRIGGER %I ENABLE REPLICA', e.evtname)"
"   WHEN 'A' THEN 'AlterEventTrigStmt:' || pg_catalog.format('ALTER EVENT TRIGGER %I ENABLE ALWAYS', e.evtname) END,"
"  " COMMENT_STMT("pg_catalog.format('EVENT TRIGGER %I', e.evtname)", "pg_event_trigger", "e.oid") "]"
" || " SECLABEL_STMTS("pg_catalog.format('EVENT TRIGGER %I', e.evtname)", "pg_event_trigger", "e.oid")
" FROM pg_catalog.pg_event_trigger e"
" WHERE " NOT_EXT("pg_event_trigger", "e.oid") " AND " TSM_NOT_STREAM_OBJECT("e.evtname");

/* REFRESH keyed like the materialized view, so it follows the ones it reads */
static const char *const refresh_sql =
"SELECT " CATOID("pg_class") ", c.oid, 'materialized view data', pg_catalog.format('%I.%I', n.nspname, c.relname), 80,"
" ARRAY[" STMT("RefreshMatViewStmt", "pg_catalog.format('REFRESH MATERIALIZED VIEW %I.%I', n.nspname, c.relname)") "]"
" FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" WHERE c.relkind = 'm' AND c.relispopulated AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_class", "c.oid")
" AND " NOT_TS_INTERNAL_VIEW("c.oid");

/*
 * tsm_schema_postdata_queries
 *		Append the queries of this file for a section to "queries".
 */
void
tsm_schema_postdata_queries(List **queries, int version, bool post)
{
	if (!post)
		return;

	*queries = lappend(*queries, (char *) indexes_sql);
	*queries = lappend(*queries, (char *) constraints_sql);
	*queries = lappend(*queries, (char *) triggers_sql);
	*queries = lappend(*queries, (char *) rules_sql);
	*queries = lappend(*queries, (char *) row_security_sql);
	*queries = lappend(*queries, (char *) policies_sql);
	*queries = lappend(*queries, (char *) statistics_sql);
	*queries = lappend(*queries,
					   tsm_schema_subst(publications_sql_fmt,
										version >= 150000 ? publication_tables_15 : publication_tables_13));
	*queries = lappend(*queries, (char *) event_triggers_sql);
	*queries = lappend(*queries, (char *) refresh_sql);
}
