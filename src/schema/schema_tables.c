/*-------------------------------------------------------------------------
 *
 * schema_tables.c
 *	  Source catalog queries for sequences, tables, views and their parts
 *
 * Tables (plain, UNLOGGED, partitioned, partitions, inheritance children,
 * typed tables and foreign tables) are created with their local columns in the source's
 * order (an inheritance child whose columns are all local, as after ALTER
 * TABLE ... INHERIT, is created on its own and then attached with INHERIT,
 * which keeps its column order; CREATE TABLE ... INHERITS would put the
 * parent's columns first; likewise a partition whose columns are in another
 * order than its parent's is created on its own and attached, as pg_dump
 * does for every partition), types, collations, stored generated columns, identity, NOT NULL,
 * valid CHECK constraints, partition key and bound, access method and
 * options; column storage, compression, statistics targets and options,
 * replica identity FULL/NOTHING and comments follow as ALTER and COMMENT
 * statements of the same object.  Column defaults are objects of their own
 * (pg_attrdef), ordered after the sequences they call, as pg_dump does for
 * serial columns; so are CHECK constraints that call user-defined
 * functions, which may take the table's row type.  Sequences owned by a column get OWNED BY; identity
 * sequences are part of their column.  Materialized views are created
 * WITH NO DATA: their population is post-data (schema_postdata.c).  Views
 * come with a placeholder (columns of NULLs of the right types) that
 * schema.c uses when the view is part of a dependency cycle.
 *
 * The columns every query returns are described in schema.h.
 *
 * IDENTIFICATION
 *	  src/schema/schema_tables.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "compat.h"
#include "tsmigrate.h"
#include "catalog_sql.h"

static const char *const sequences_sql =
"SELECT " CATOID("pg_class") ", c.oid, 'sequence', pg_catalog.format('%I.%I', n.nspname, c.relname), 40,"
" ARRAY[" STMT("CreateSeqStmt", "pg_catalog.format('CREATE %sSEQUENCE %I.%I AS %s START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s%s',"
			   "   CASE WHEN c.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END, n.nspname, c.relname,"
			   "   pg_catalog.format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,"
			   "   CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END)") ","
"  (SELECT 'AlterSeqStmt:' || pg_catalog.format('ALTER SEQUENCE %I.%I OWNED BY %I.%I.%I', n.nspname, c.relname,"
"    tn.nspname, tc.relname, ta.attname)"
"   FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class tc ON tc.oid = d.refobjid"
"   JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace"
"   JOIN pg_catalog.pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid"
"   WHERE d.classid = " CATOID("pg_class") " AND d.objid = c.oid AND d.refclassid = " CATOID("pg_class")
"   AND d.deptype = 'a' AND d.refobjsubid > 0 LIMIT 1),"
"  " COMMENT_STMT("pg_catalog.format('SEQUENCE %I.%I', n.nspname, c.relname)", "pg_class", "c.oid") "]"
" || " SECLABEL_STMTS("pg_catalog.format('SEQUENCE %I.%I', n.nspname, c.relname)", "pg_class", "c.oid")
" FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid"
" WHERE c.relkind = 'S' AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_class", "c.oid")
" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = " CATOID("pg_class")
"  AND d.objid = c.oid AND d.deptype = 'i')";

/* one column of CREATE TABLE */
#define COLUMN_DEF \
	"pg_catalog.format('%I %s%s%s%s%s%s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)," \
	" CASE WHEN c.relkind = 'f' AND a.attfdwoptions IS NOT NULL THEN" \
	"  pg_catalog.format(' OPTIONS (%s)', " GENERIC_OPTIONS("a.attfdwoptions") ") ELSE '' END," \
	" CASE WHEN a.attcollation <> at.typcollation THEN (SELECT pg_catalog.format(' COLLATE %I.%I', cn.nspname, co.collname)" \
	"  FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace" \
	"  WHERE co.oid = a.attcollation) ELSE '' END," \
	" CASE WHEN a.attgenerated = 's' THEN (SELECT pg_catalog.format(' GENERATED ALWAYS AS (%s) STORED'," \
	"  pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)) FROM pg_catalog.pg_attrdef ad" \
	"  WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum) ELSE '' END," \
	" CASE WHEN a.attidentity IN ('a', 'd') THEN (SELECT pg_catalog.format(' GENERATED %s AS IDENTITY (SEQUENCE NAME %I.%I%s" \
	" START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s%s)'," \
	"  CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END, sn.nspname, sc.relname," \
	"  CASE WHEN sc.relpersistence = c.relpersistence THEN ''" \
	"   WHEN sc.relpersistence = 'u' THEN ' UNLOGGED' ELSE ' LOGGED' END," \
	"  s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END)" \
	"  FROM pg_catalog.pg_depend dd JOIN pg_catalog.pg_class sc ON sc.oid = dd.objid" \
	"  JOIN pg_catalog.pg_namespace sn ON sn.oid = sc.relnamespace JOIN pg_catalog.pg_sequence s ON s.seqrelid = sc.oid" \
	"  WHERE dd.classid = " CATOID("pg_class") " AND dd.refclassid = " CATOID("pg_class") \
	"  AND dd.refobjid = c.oid AND dd.refobjsubid = a.attnum AND dd.deptype = 'i' AND sc.relkind = 'S' LIMIT 1) ELSE '' END," \
	" @2@)"

/* @1@: SET COMPRESSION of a column (14+), or NULL */
static const char *const tables_sql_fmt =
"SELECT " CATOID("pg_class") ", c.oid, CASE c.relkind WHEN 'f' THEN 'foreign table' ELSE 'table' END,"
" pg_catalog.format('%I.%I', n.nspname, c.relname), 45,"
" ARRAY[CASE c.relkind WHEN 'f' THEN 'CreateForeignTableStmt:' ELSE 'CreateStmt:' END ||"
"  CASE WHEN c.relispartition AND NOT y.standalone THEN"
"   pg_catalog.format('CREATE %s%s %I.%I PARTITION OF %s%s %s%s%s%s', CASE WHEN c.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END,"
"    x.rk, n.nspname, c.relname, x.parent, CASE WHEN x.elems <> '' THEN ' (' || x.elems || ')' ELSE '' END,"
"    pg_catalog.pg_get_expr(c.relpartbound, c.oid), x.partby, x.server, x.withopts)"
"  ELSE"
"   pg_catalog.format('CREATE %s%s %I.%I%s%s%s%s%s%s%s', CASE WHEN c.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END,"
"    x.rk, n.nspname, c.relname,"
"    CASE WHEN c.reloftype <> 0 THEN ' OF ' || pg_catalog.format_type(c.reloftype, NULL) ELSE '' END,"
"    CASE WHEN c.reloftype = 0 THEN ' (' || x.elems || ')' WHEN x.elems <> '' THEN ' (' || x.elems || ')' ELSE '' END, CASE WHEN x.inherits IS NOT NULL AND NOT y.attach_later AND NOT c.relispartition THEN ' INHERITS (' || x.inherits || ')' ELSE '' END,"
"    x.partby, CASE WHEN c.relkind = 'r' AND am.amname <> 'heap' THEN pg_catalog.format(' USING %I', am.amname) ELSE '' END,"
"    x.server, x.withopts)"
"  END]"
" || ARRAY(SELECT 'AlterTableStmt:' || pg_catalog.format('ALTER %s %I.%I INHERIT %I.%I', x.rk, n.nspname, c.relname, pn.nspname, pc.relname)"
"   FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent"
"   JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace"
"   WHERE i.inhrelid = c.oid AND y.attach_later ORDER BY i.inhseqno)"
" || ARRAY["
"  CASE WHEN y.standalone THEN 'AlterTableStmt:' || pg_catalog.format('ALTER TABLE ONLY %s ATTACH PARTITION %I.%I %s',"
"   x.parent, n.nspname, c.relname, pg_catalog.pg_get_expr(c.relpartbound, c.oid)) END,"
"  CASE WHEN c.relkind = 'f' THEN NULL WHEN c.relreplident = 'f' THEN 'AlterTableStmt:' || pg_catalog.format('ALTER %s ONLY %I.%I REPLICA IDENTITY FULL', x.rk, n.nspname, c.relname)"
"   WHEN c.relreplident = 'n' THEN 'AlterTableStmt:' || pg_catalog.format('ALTER %s ONLY %I.%I REPLICA IDENTITY NOTHING', x.rk, n.nspname, c.relname) END,"
"  " COMMENT_STMT("pg_catalog.format('%s %I.%I', x.rk, n.nspname, c.relname)", "pg_class", "c.oid") "]"
" || ARRAY(SELECT 'CommentStmt:' || pg_catalog.format('COMMENT ON CONSTRAINT %I ON %s %I.%I IS %L', co.conname,"
"    CASE c.relkind WHEN 'f' THEN 'FOREIGN TABLE' ELSE '' END, n.nspname, c.relname, d.description)"
"   FROM pg_catalog.pg_constraint co JOIN pg_catalog.pg_description d ON d.classoid = " CATOID("pg_constraint")
"    AND d.objoid = co.oid AND d.objsubid = 0"
"   WHERE co.conrelid = c.oid AND co.convalidated"
"    AND ((co.contype = 'c' AND NOT " CHECK_CALLS_FUNCTION("co") ") OR co.contype = 'n')"
"   ORDER BY co.conname)"
" || ARRAY(SELECT u.s FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type at ON at.oid = a.atttypid"
"   CROSS JOIN LATERAL pg_catalog.unnest(ARRAY["
"    CASE WHEN @3@ AND (NOT a.attislocal OR c.relispartition OR c.reloftype <> 0) THEN 'AlterTableStmt:' ||"
"     pg_catalog.format('ALTER %s ONLY %I.%I ALTER COLUMN %I SET NOT NULL', x.rk, n.nspname, c.relname, a.attname) END,"
"    CASE WHEN a.attstorage <> at.typstorage THEN 'AlterTableStmt:' ||"
"     pg_catalog.format('ALTER %s ONLY %I.%I ALTER COLUMN %I SET STORAGE %s', x.rk, n.nspname, c.relname, a.attname,"
"      CASE a.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END) END,"
"    @1@,"
"    CASE WHEN a.attstattarget >= 0 THEN 'AlterTableStmt:' ||"
"     pg_catalog.format('ALTER %s ONLY %I.%I ALTER COLUMN %I SET STATISTICS %s', x.rk, n.nspname, c.relname, a.attname, a.attstattarget) END,"
"    (SELECT 'AlterTableStmt:' || pg_catalog.format('ALTER %s ONLY %I.%I ALTER COLUMN %I SET (%s)', x.rk, n.nspname, c.relname, a.attname, ao.o)"
"     FROM (SELECT " RELOPTIONS("a.attoptions", "''") " AS o) ao WHERE ao.o IS NOT NULL),"
"    (SELECT 'CommentStmt:' || pg_catalog.format('COMMENT ON COLUMN %I.%I.%I IS %L', n.nspname, c.relname, a.attname, d.description)"
"     FROM pg_catalog.pg_description d WHERE d.classoid = " CATOID("pg_class") " AND d.objoid = c.oid AND d.objsubid = a.attnum)"
"   ]) WITH ORDINALITY u(s, k)"
"   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND u.s IS NOT NULL ORDER BY a.attnum, u.k)"
" || " SECLABEL_STMTS("pg_catalog.format('%s %I.%I', x.rk, n.nspname, c.relname)", "pg_class", "c.oid")
" || " COLUMN_SECLABEL_STMTS("pg_catalog.format('%I.%I', n.nspname, c.relname)", "c.oid")
" FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" LEFT JOIN pg_catalog.pg_class tc ON tc.oid = c.reltoastrelid"
" LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam"
" LEFT JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid"
" LEFT JOIN pg_catalog.pg_foreign_server fs ON fs.oid = ft.ftserver"
" CROSS JOIN LATERAL (SELECT c.relispartition AND"
"  ((SELECT pg_catalog.array_agg(a.attname ORDER BY a.attnum) FROM pg_catalog.pg_attribute a"
"   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) IS DISTINCT FROM"
"  (SELECT pg_catalog.array_agg(a.attname ORDER BY a.attnum) FROM pg_catalog.pg_attribute a"
"   JOIN pg_catalog.pg_inherits i ON i.inhparent = a.attrelid"
"   WHERE i.inhrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) OR @4@) AS standalone,"
"  (NOT c.relispartition AND EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid)"
"   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0"
"    AND NOT a.attisdropped AND NOT a.attislocal)"
"   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint co WHERE co.conrelid = c.oid AND co.contype = 'c'"
"    AND NOT co.conislocal)) AS attach_later) y"
" CROSS JOIN LATERAL (SELECT"
"  CASE c.relkind WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS rk,"
"  pg_catalog.concat_ws(', ',"
"   (SELECT pg_catalog.string_agg(" COLUMN_DEF ", ', ' ORDER BY a.attnum)"
"    FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type at ON at.oid = a.atttypid"
"    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
"    AND ((a.attislocal AND NOT c.relispartition AND c.reloftype = 0) OR y.standalone)),"
"   (SELECT pg_catalog.string_agg(pg_catalog.format('CONSTRAINT %I %s', co.conname, pg_catalog.pg_get_constraintdef(co.oid)), ', ' ORDER BY co.conname)"
"    FROM pg_catalog.pg_constraint co WHERE co.conrelid = c.oid AND co.contype = 'c' AND (co.conislocal OR y.standalone)"
"    AND co.convalidated AND NOT " CHECK_CALLS_FUNCTION("co") ")) AS elems,"
"  (SELECT pg_catalog.format('%I.%I', pn.nspname, pc.relname) FROM pg_catalog.pg_inherits i"
"   JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace"
"   WHERE i.inhrelid = c.oid LIMIT 1) AS parent,"
"  (SELECT pg_catalog.string_agg(pg_catalog.format('%I.%I', pn.nspname, pc.relname), ', ' ORDER BY i.inhseqno) FROM pg_catalog.pg_inherits i"
"   JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace"
"   WHERE i.inhrelid = c.oid) AS inherits,"
"  CASE WHEN c.relkind = 'p' THEN ' PARTITION BY ' || pg_catalog.pg_get_partkeydef(c.oid) ELSE '' END AS partby,"
"  CASE WHEN c.relkind = 'f' THEN pg_catalog.format(' SERVER %I%s', fs.srvname,"
"   CASE WHEN ft.ftoptions IS NOT NULL THEN pg_catalog.format(' OPTIONS (%s)', " GENERIC_OPTIONS("ft.ftoptions") ") ELSE '' END)"
"   ELSE '' END AS server,"
"  CASE WHEN pg_catalog.concat_ws(', ', " RELOPTIONS("c.reloptions", "''") ", " RELOPTIONS("tc.reloptions", "'toast.'") ") <> ''"
"   THEN ' WITH (' || pg_catalog.concat_ws(', ', " RELOPTIONS("c.reloptions", "''") ", " RELOPTIONS("tc.reloptions", "'toast.'") ") || ')'"
"   ELSE '' END AS withopts) x"
" WHERE c.relkind IN ('r', 'p', 'f') AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_class", "c.oid");

/*
 * NOT NULL.  Before 18, attnotnull: in CREATE TABLE where no parent has it
 * (pg_dump deems it inherited then; the child gets it from the parent) or
 * where the table inherits only later (ALTER TABLE ... INHERIT wants it),
 * with ALTER ... SET NOT NULL for the columns that CREATE TABLE leaves
 * out.  From 18 on, the source's valid NOT NULL constraints (pg_constraint,
 * contype 'n'): in CREATE TABLE where local (every one for a partition made
 * on its own), named where the name is not the default one, as pg_dump
 * does, and NO INHERIT; SET NOT NULL for a local one on a column that
 * CREATE TABLE leaves out.  NOT VALID ones are post-data
 * (schema_postdata.c).
 */
#define PARENT_NOT_NULL \
	"EXISTS (SELECT 1 FROM pg_catalog.pg_inherits pi JOIN pg_catalog.pg_attribute pa" \
	" ON pa.attrelid = pi.inhparent AND pa.attname = a.attname" \
	" WHERE pi.inhrelid = c.oid AND pa.attnotnull)"

static const char *const column_not_null_pre18 =
"CASE WHEN a.attnotnull AND (y.standalone OR y.attach_later OR NOT " PARENT_NOT_NULL ") THEN ' NOT NULL' ELSE '' END";

static const char *const set_not_null_pre18 =
"(a.attnotnull AND NOT " PARENT_NOT_NULL ")";

static const char *const column_not_null_18 =
"COALESCE((SELECT CASE WHEN nn.conname::pg_catalog.text ="
"  c.relname::pg_catalog.text || '_' || a.attname::pg_catalog.text || '_not_null'"
"  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_description nd WHERE nd.classoid = " CATOID("pg_constraint")
"   AND nd.objoid = nn.oid AND nd.objsubid = 0)"
"  THEN ' NOT NULL' ELSE pg_catalog.format(' CONSTRAINT %I NOT NULL', nn.conname) END"
"  || CASE WHEN nn.connoinherit THEN ' NO INHERIT' ELSE '' END"
" FROM pg_catalog.pg_constraint nn WHERE nn.conrelid = c.oid AND nn.contype = 'n'"
" AND nn.convalidated AND nn.conkey[1] = a.attnum AND (nn.conislocal OR y.standalone)), '')";

static const char *const set_not_null_18 =
"EXISTS (SELECT 1 FROM pg_catalog.pg_constraint nn WHERE nn.conrelid = c.oid AND nn.contype = 'n'"
" AND nn.convalidated AND nn.conislocal AND nn.conkey[1] = a.attnum)";

/*
 * A target that names its NOT NULL constraints (compat.h) names those of a
 * partition made with PARTITION OF after its parent's: a partition with
 * NOT NULL columns is made on its own and attached, as pg_dump does, so
 * that its constraints get their own names.
 */
static const char *const standalone_for_not_null =
"EXISTS (SELECT 1 FROM pg_catalog.pg_attribute na WHERE na.attrelid = c.oid"
" AND na.attnum > 0 AND NOT na.attisdropped AND na.attnotnull)";

static const char *const compression_14 =
"CASE WHEN a.attcompression <> '' THEN 'AlterTableStmt:' ||"
" pg_catalog.format('ALTER %s ONLY %I.%I ALTER COLUMN %I SET COMPRESSION %s', x.rk, n.nspname, c.relname, a.attname,"
"  CASE a.attcompression WHEN 'p' THEN 'pglz' ELSE 'lz4' END) END";

static const char *const defaults_sql =
"SELECT " CATOID("pg_attrdef") ", ad.oid, 'default', pg_catalog.format('%I.%I.%I', n.nspname, c.relname, a.attname), 48,"
" ARRAY[" STMT("AlterTableStmt", "pg_catalog.format('ALTER %s %I.%I ALTER COLUMN %I SET DEFAULT %s',"
			   "   CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE ONLY' ELSE 'TABLE ONLY' END,"
			   "   n.nspname, c.relname, a.attname, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid))") "]"
" FROM pg_catalog.pg_attrdef ad JOIN pg_catalog.pg_class c ON c.oid = ad.adrelid"
" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" JOIN pg_catalog.pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum"
" WHERE a.attgenerated = '' AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f', 'v')"
" AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_class", "c.oid");

/* CHECK constraints that call user-defined functions, after their table */
static const char *const checks_sql =
"SELECT " CATOID("pg_constraint") ", co.oid, 'check constraint', pg_catalog.format('%I.%I.%I', n.nspname, c.relname, co.conname), 49,"
" ARRAY[" STMT("AlterTableStmt", "pg_catalog.format('ALTER %s %I.%I ADD CONSTRAINT %I %s',"
			   "   CASE c.relkind WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, n.nspname, c.relname, co.conname,"
			   "   pg_catalog.pg_get_constraintdef(co.oid))") ","
"  " COMMENT_STMT("pg_catalog.format('CONSTRAINT %I ON %I.%I', co.conname, n.nspname, c.relname)", "pg_constraint", "co.oid") "]"
" FROM pg_catalog.pg_constraint co JOIN pg_catalog.pg_class c ON c.oid = co.conrelid"
" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" WHERE " CHECK_CALLS_FUNCTION("co") " AND c.relkind IN ('r', 'p', 'f')"
" AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_class", "c.oid");

#define VIEWS_SQL \
"SELECT " CATOID("pg_class") ", c.oid, CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END," \
" pg_catalog.format('%I.%I', n.nspname, c.relname), CASE c.relkind WHEN 'v' THEN 50 ELSE 52 END," \
" ARRAY[CASE c.relkind WHEN 'v' THEN" \
"  'Placeholder:' || pg_catalog.format('CREATE VIEW %I.%I AS SELECT %s', n.nspname, c.relname," \
"   (SELECT pg_catalog.string_agg(pg_catalog.format('NULL::%s%s AS %I', pg_catalog.format_type(a.atttypid, a.atttypmod)," \
"     CASE WHEN a.attcollation <> at.typcollation THEN (SELECT pg_catalog.format(' COLLATE %I.%I', cn.nspname, co.collname)" \
"      FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace" \
"      WHERE co.oid = a.attcollation) ELSE '' END, a.attname), ', ' ORDER BY a.attnum)" \
"    FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type at ON at.oid = a.atttypid" \
"    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)) END," \
"  CASE c.relkind WHEN 'v' THEN" \
"  'ViewStmt:' || pg_catalog.format('CREATE VIEW %I.%I%s AS %s%s', n.nspname, c.relname," \
"   CASE WHEN x.opts IS NOT NULL THEN ' WITH (' || x.opts || ')' ELSE '' END, x.def," \
"   COALESCE((SELECT CASE o WHEN 'check_option=local' THEN ' WITH LOCAL CHECK OPTION' ELSE ' WITH CASCADED CHECK OPTION' END" \
"    FROM pg_catalog.unnest(c.reloptions) o WHERE o LIKE 'check_option=%' LIMIT 1), ''))" \
"  ELSE" \
"  'CreateTableAsStmt:' || pg_catalog.format('CREATE MATERIALIZED VIEW %I.%I%s%s AS %s WITH NO DATA', n.nspname, c.relname," \
"   CASE WHEN am.amname <> 'heap' THEN pg_catalog.format(' USING %I', am.amname) ELSE '' END," \
"   CASE WHEN x.opts IS NOT NULL THEN ' WITH (' || x.opts || ')' ELSE '' END, x.def)" \
"  END," \
"  " COMMENT_STMT("pg_catalog.format('%s %I.%I', CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END, n.nspname, c.relname)", "pg_class", "c.oid") "]" \
" || ARRAY(SELECT 'AlterTableStmt:' || pg_catalog.format('ALTER TABLE ONLY %I.%I ALTER COLUMN %I SET COMPRESSION %s'," \
"    n.nspname, c.relname, a.attname," \
"    CASE pg_catalog.to_jsonb(a) OPERATOR(pg_catalog.->>) 'attcompression' WHEN 'p' THEN 'pglz' ELSE 'lz4' END)" \
"   FROM pg_catalog.pg_attribute a" \
"   WHERE c.relkind = 'm' AND a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped" \
"    AND COALESCE(pg_catalog.to_jsonb(a) OPERATOR(pg_catalog.->>) 'attcompression', '') <> '' ORDER BY a.attnum)" \
" || ARRAY(SELECT 'CommentStmt:' || pg_catalog.format('COMMENT ON COLUMN %I.%I.%I IS %L', n.nspname, c.relname, a.attname, d.description)" \
"   FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_description d ON d.classoid = " CATOID("pg_class") \
"    AND d.objoid = c.oid AND d.objsubid = a.attnum" \
"   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)" \
" || " SECLABEL_STMTS("pg_catalog.format('%s %I.%I', CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END, n.nspname, c.relname)", "pg_class", "c.oid") \
" || " COLUMN_SECLABEL_STMTS("pg_catalog.format('%I.%I', n.nspname, c.relname)", "c.oid") \
" FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace" \
" LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam" \
" CROSS JOIN LATERAL (SELECT pg_catalog.rtrim(pg_catalog.pg_get_viewdef(c.oid), ';') AS def," \
"  " RELOPTIONS("c.reloptions", "''") " AS opts) x" \
" WHERE c.relkind IN ('v', 'm') AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_class", "c.oid") \
" AND " NOT_TS_INTERNAL_VIEW("c.oid")

/*
 * views and materialized views; those reading continuous aggregates, and
 * those that need a key of a table, come with post-data
 */
static const char *const views_sql = VIEWS_SQL " AND NOT " READS_CAGG("c.oid")
" AND NOT " NEEDS_KEY("c.oid");
static const char *const views_on_caggs_sql = VIEWS_SQL " AND (" READS_CAGG("c.oid")
" OR " NEEDS_KEY("c.oid") ")";

/*
 * tsm_schema_table_queries
 *		Append the queries of this file for a section to "queries".
 */
void
tsm_schema_table_queries(List **queries, int version, bool post)
{
	char	   *tables;

	if (post)
	{
		*queries = lappend(*queries, (char *) views_on_caggs_sql);
		return;
	}

	*queries = lappend(*queries, (char *) sequences_sql);
	tables = tsm_schema_subst(tables_sql_fmt,
							  version >= 140000 ? compression_14 : "NULL::pg_catalog.text");
	tables = tsm_schema_subst_marker(tables, "@2@",
									 version >= 180000 ? column_not_null_18 : column_not_null_pre18);
	tables = tsm_schema_subst_marker(tables, "@3@",
									 version >= 180000 ? set_not_null_18 : set_not_null_pre18);
	tables = tsm_schema_subst_marker(tables, "@4@",
									 TSM_NAMED_NOT_NULL ? standalone_for_not_null : "false");
	*queries = lappend(*queries, tables);
	*queries = lappend(*queries, (char *) defaults_sql);
	*queries = lappend(*queries, (char *) checks_sql);
	*queries = lappend(*queries, (char *) views_sql);
}
