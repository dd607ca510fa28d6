/*-------------------------------------------------------------------------
 *
 * schema_objects.c
 *	  Source catalog queries for the objects that are not relations
 *
 * Schemas, access methods, procedural languages, enum, composite, range,
 * base and shell types, domains, functions and procedures, transforms,
 * aggregates, casts, operators, operator families and classes, collations,
 * encoding conversions, text search parsers, templates, dictionaries and
 * configurations, foreign data wrappers, servers and user mappings: all of
 * them pre-data.  The columns every query returns are
 * described in schema.h.  Objects that belong to an extension are left to
 * CREATE EXTENSION; objects with an oid below FirstNormalObjectId (16384)
 * are built in.
 *
 * IDENTIFICATION
 *	  src/schema/schema_objects.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "tsmigrate.h"
#include "catalog_sql.h"

/* the target has a public schema already: only its comment is the source's */
static const char *const schemas_sql =
"SELECT " CATOID("pg_namespace") ", n.oid, CASE WHEN n.nspname <> 'public' THEN 'schema' ELSE 'schema comment' END,"
" pg_catalog.quote_ident(n.nspname), 1,"
" ARRAY[CASE WHEN n.nspname <> 'public' THEN " STMT("CreateSchemaStmt", "pg_catalog.format('CREATE SCHEMA %I', n.nspname)") " END,"
"  CASE WHEN n.nspname <> 'public' THEN " COMMENT_STMT("pg_catalog.format('SCHEMA %I', n.nspname)", "pg_namespace", "n.oid")
"  ELSE " STMT("CommentStmt", "pg_catalog.format('COMMENT ON SCHEMA %I IS %L', n.nspname,"
			   "   (SELECT d.description FROM pg_catalog.pg_description d WHERE d.classoid = " CATOID("pg_namespace")
			   "    AND d.objoid = n.oid AND d.objsubid = 0))") " END]"
" || CASE WHEN n.nspname <> 'public' THEN " SECLABEL_STMTS("pg_catalog.format('SCHEMA %I', n.nspname)", "pg_namespace", "n.oid") " END"
" FROM pg_catalog.pg_namespace n"
" WHERE " USER_NSP("n.nspname") " AND " NOT_EXT("pg_namespace", "n.oid");

static const char *const access_methods_sql =
"SELECT " CATOID("pg_am") ", a.oid, 'access method', pg_catalog.quote_ident(a.amname), 3,"
" ARRAY[" STMT("CreateAmStmt", "pg_catalog.format('CREATE ACCESS METHOD %I TYPE %s HANDLER %s', a.amname,"
			   "   CASE a.amtype WHEN 't' THEN 'TABLE' ELSE 'INDEX' END, a.amhandler::pg_catalog.regproc)") ","
"  " COMMENT_STMT("pg_catalog.format('ACCESS METHOD %I', a.amname)", "pg_am", "a.oid") "]"
" FROM pg_catalog.pg_am a"
" WHERE a.oid >= 16384 AND " NOT_EXT("pg_am", "a.oid");

/* a function as CREATE LANGUAGE names it: "schema"."name", as pg_dump does */
#define PROC_NAME(oidexpr) \
	"(SELECT pg_catalog.format('%I.%I', pn.nspname, pp.proname) FROM pg_catalog.pg_proc pp" \
	" JOIN pg_catalog.pg_namespace pn ON pn.oid = pp.pronamespace WHERE pp.oid = " oidexpr ")"

/*
 * Procedural languages, after their handler, inline and validator
 * functions (C: c_functions) and before the functions written in them,
 * which pg_depend orders.  Those of extensions come with CREATE EXTENSION.
 */
static const char *const languages_sql =
"SELECT " CATOID("pg_language") ", l.oid, 'procedural language', pg_catalog.quote_ident(l.lanname), 2,"
" ARRAY[" STMT("CreatePLangStmt", "pg_catalog.format('CREATE %sPROCEDURAL LANGUAGE %I HANDLER %s%s%s',"
			   "   CASE WHEN l.lanpltrusted THEN 'TRUSTED ' ELSE '' END, l.lanname, " PROC_NAME("l.lanplcallfoid") ","
			   "   CASE WHEN l.laninline <> 0 THEN ' INLINE ' || " PROC_NAME("l.laninline") " ELSE '' END,"
			   "   CASE WHEN l.lanvalidator <> 0 THEN ' VALIDATOR ' || " PROC_NAME("l.lanvalidator") " ELSE '' END)") ","
"  " COMMENT_STMT("pg_catalog.format('LANGUAGE %I', l.lanname)", "pg_language", "l.oid") "]"
" || " SECLABEL_STMTS("pg_catalog.format('LANGUAGE %I', l.lanname)", "pg_language", "l.oid")
" FROM pg_catalog.pg_language l"
" WHERE l.oid >= 16384 AND l.lanispl AND " NOT_EXT("pg_language", "l.oid");

/* enum, composite and range types; domains */
static const char *const types_sql_fmt =
"SELECT " CATOID("pg_type") ", t.oid, CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END,"
" pg_catalog.format('%I.%I', n.nspname, t.typname), 10,"
" CASE t.typtype"
" WHEN 'e' THEN ARRAY[" STMT("CreateEnumStmt", "pg_catalog.format('CREATE TYPE %I.%I AS ENUM (%s)', n.nspname, t.typname,"
							 "   (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(en.enumlabel), ', ' ORDER BY en.enumsortorder)"
							 "    FROM pg_catalog.pg_enum en WHERE en.enumtypid = t.oid))") "]"
" WHEN 'c' THEN ARRAY[" STMT("CompositeTypeStmt", "pg_catalog.format('CREATE TYPE %I.%I AS (%s)', n.nspname, t.typname,"
							 "   (SELECT pg_catalog.string_agg(pg_catalog.format('%I %s%s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),"
							 "      CASE WHEN a.attcollation <> at.typcollation THEN pg_catalog.format(' COLLATE %I.%I', cn.nspname, co.collname) ELSE '' END),"
							 "      ', ' ORDER BY a.attnum)"
							 "    FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type at ON at.oid = a.atttypid"
							 "    LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation"
							 "    LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace"
							 "    WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))") "]"
"  || ARRAY(SELECT 'CommentStmt:' || pg_catalog.format('COMMENT ON COLUMN %I.%I.%I IS %L', n.nspname, t.typname, a.attname, d.description)"
"    FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_description d ON d.classoid = " CATOID("pg_class")
"     AND d.objoid = a.attrelid AND d.objsubid = a.attnum"
"    WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)"
" WHEN 'r' THEN ARRAY[" STMT("CreateRangeStmt", "pg_catalog.format('CREATE TYPE %I.%I AS RANGE (SUBTYPE = %s, SUBTYPE_OPCLASS = %I.%I%s%s%s)',"
							 "   n.nspname, t.typname, pg_catalog.format_type(r.rngsubtype, NULL), ocn.nspname, oc.opcname,"
							 "   CASE WHEN r.rngcollation <> 0 THEN (SELECT pg_catalog.format(', COLLATION = %I.%I', cn.nspname, co.collname)"
							 "     FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = r.rngcollation) ELSE '' END,"
							 "   CASE WHEN r.rngsubdiff <> 0 THEN pg_catalog.format(', SUBTYPE_DIFF = %s', r.rngsubdiff::pg_catalog.regproc) ELSE '' END,"
							 "   @1@)") "]"
" WHEN 'd' THEN ARRAY[" STMT("CreateDomainStmt", "pg_catalog.format('CREATE DOMAIN %I.%I AS %s%s%s%s%s', n.nspname, t.typname,"
							 "   pg_catalog.format_type(t.typbasetype, t.typtypmod),"
							 "   CASE WHEN t.typcollation <> bt.typcollation THEN (SELECT pg_catalog.format(' COLLATE %I.%I', cn.nspname, co.collname)"
							 "     FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation) ELSE '' END,"
							 "   CASE WHEN t.typdefaultbin IS NOT NULL THEN ' DEFAULT ' || pg_catalog.pg_get_expr(t.typdefaultbin, 0) ELSE '' END,"
							 "   CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END,"
							 "   (SELECT pg_catalog.string_agg(pg_catalog.format(' CONSTRAINT %I %s', c.conname, pg_catalog.pg_get_constraintdef(c.oid)), '' ORDER BY c.conname)"
							 "    FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c' AND c.convalidated))") "]"
"  || ARRAY(SELECT 'AlterDomainStmt:' || pg_catalog.format('ALTER DOMAIN %I.%I ADD CONSTRAINT %I %s', n.nspname, t.typname,"
"     c.conname, pg_catalog.pg_get_constraintdef(c.oid))"
"    FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c' AND NOT c.convalidated ORDER BY c.conname)"
"  || ARRAY(SELECT 'CommentStmt:' || pg_catalog.format('COMMENT ON CONSTRAINT %I ON DOMAIN %I.%I IS %L', c.conname, n.nspname, t.typname, d.description)"
"    FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_description d ON d.classoid = " CATOID("pg_constraint")
"     AND d.objoid = c.oid AND d.objsubid = 0 WHERE c.contypid = t.oid ORDER BY c.conname)"
" END || " COMMENT_STMT("pg_catalog.format('%s %I.%I', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, n.nspname, t.typname)", "pg_type", "t.oid")
" || " SECLABEL_STMTS("pg_catalog.format('%s %I.%I', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, n.nspname, t.typname)", "pg_type", "t.oid")
" FROM pg_catalog.pg_type t"
" JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"
" LEFT JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype"
" LEFT JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid"
" LEFT JOIN pg_catalog.pg_opclass oc ON oc.oid = r.rngsubopc"
" LEFT JOIN pg_catalog.pg_namespace ocn ON ocn.oid = oc.opcnamespace"
" LEFT JOIN pg_catalog.pg_class tc ON tc.oid = t.typrelid"
" WHERE t.oid >= 16384 AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_type", "t.oid")
" AND (t.typtype IN ('e', 'r', 'd') OR (t.typtype = 'c' AND tc.relkind = 'c'))";

/*
 * Base types, whose input and output functions (in C, or internal) and the
 * type depend on each other: made as pg_dump makes them, a shell type
 * first (the placeholder, made when the sort meets that cycle), then the
 * functions, then the type.  Their array types come with them; a shell
 * type that nothing completed is made alone.  @1@ is typsubscript (14 on).
 */
static const char *const base_types_sql_fmt =
"SELECT " CATOID("pg_type") ", t.oid, 'type', pg_catalog.format('%I.%I', n.nspname, t.typname), 10,"
" CASE WHEN t.typtype = 'p' THEN ARRAY[" STMT("DefineStmt", "pg_catalog.format('CREATE TYPE %I.%I', n.nspname, t.typname)") "]"
" ELSE ARRAY['Placeholder:' || pg_catalog.format('CREATE TYPE %I.%I', n.nspname, t.typname),"
"  " STMT("DefineStmt", "pg_catalog.format('CREATE TYPE %I.%I (%s)', n.nspname, t.typname, pg_catalog.concat_ws(', ',"
		  "    CASE WHEN t.typlen = -1 THEN 'INTERNALLENGTH = variable'"
		  "         ELSE pg_catalog.format('INTERNALLENGTH = %s', t.typlen) END,"
		  "    pg_catalog.format('INPUT = %s', t.typinput::pg_catalog.regproc),"
		  "    pg_catalog.format('OUTPUT = %s', t.typoutput::pg_catalog.regproc),"
		  "    CASE WHEN t.typreceive <> 0 THEN pg_catalog.format('RECEIVE = %s', t.typreceive::pg_catalog.regproc) END,"
		  "    CASE WHEN t.typsend <> 0 THEN pg_catalog.format('SEND = %s', t.typsend::pg_catalog.regproc) END,"
		  "    CASE WHEN t.typmodin <> 0 THEN pg_catalog.format('TYPMOD_IN = %s', t.typmodin::pg_catalog.regproc) END,"
		  "    CASE WHEN t.typmodout <> 0 THEN pg_catalog.format('TYPMOD_OUT = %s', t.typmodout::pg_catalog.regproc) END,"
		  "    CASE WHEN t.typanalyze <> 0 THEN pg_catalog.format('ANALYZE = %s', t.typanalyze::pg_catalog.regproc) END,"
		  "    CASE WHEN @1@::pg_catalog.oid <> 0 THEN pg_catalog.format('SUBSCRIPT = %s', @1@::pg_catalog.regproc) END,"
		  "    CASE WHEN t.typbyval THEN 'PASSEDBYVALUE' END,"
		  "    'ALIGNMENT = ' || CASE t.typalign WHEN 'c' THEN 'char' WHEN 's' THEN 'int2' WHEN 'i' THEN 'int4' ELSE 'double' END,"
		  "    'STORAGE = ' || CASE t.typstorage WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external' WHEN 'm' THEN 'main' ELSE 'extended' END,"
		  "    CASE WHEN t.typcategory <> 'U' THEN pg_catalog.format('CATEGORY = %L', t.typcategory) END,"
		  "    CASE WHEN t.typispreferred THEN 'PREFERRED = true' END,"
		  "    CASE WHEN t.typdefault IS NOT NULL THEN pg_catalog.format('DEFAULT = %L', t.typdefault) END,"
		  "    CASE WHEN t.typelem <> 0 THEN pg_catalog.format('ELEMENT = %s', pg_catalog.format_type(t.typelem, NULL)) END,"
		  "    CASE WHEN t.typdelim <> ',' THEN pg_catalog.format('DELIMITER = %L', t.typdelim) END,"
		  "    CASE WHEN t.typcollation <> 0 THEN 'COLLATABLE = true' END))") "]"
" END || " COMMENT_STMT("pg_catalog.format('TYPE %I.%I', n.nspname, t.typname)", "pg_type", "t.oid")
" || " SECLABEL_STMTS("pg_catalog.format('TYPE %I.%I', n.nspname, t.typname)", "pg_type", "t.oid")
" FROM pg_catalog.pg_type t"
" JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"
" WHERE t.oid >= 16384 AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_type", "t.oid")
" AND ((t.typtype = 'b' AND NOT EXISTS (SELECT FROM pg_catalog.pg_type e WHERE e.typarray = t.oid))"
"      OR (t.typtype = 'p' AND NOT t.typisdefined))";

/*
 * Functions and procedures; pg_get_functiondef() says CREATE OR REPLACE.
 * The constructors of range and multirange types come with their type.
 */
static const char *const functions_sql =
"SELECT " CATOID("pg_proc") ", p.oid, CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,"
" pg_catalog.format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)), 20,"
" ARRAY[" STMT("CreateFunctionStmt", "pg_catalog.rtrim(pg_catalog.regexp_replace(pg_catalog.pg_get_functiondef(p.oid), '^CREATE OR REPLACE ', 'CREATE '), E'\\n')") ","
"  " COMMENT_STMT("pg_catalog.format('%s %I.%I(%s)', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,"
				  "   n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid))", "pg_proc", "p.oid") "]"
" || " SECLABEL_STMTS("pg_catalog.format('%s %I.%I(%s)', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,"
					  "   n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid))", "pg_proc", "p.oid")
" FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
" WHERE p.prokind <> 'a' AND p.oid >= 16384 AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_proc", "p.oid")
" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend i WHERE i.classid = " CATOID("pg_proc")
"  AND i.objid = p.oid AND i.deptype = 'i')";

/* transforms: after their functions, before the functions that use them */
static const char *const transforms_sql =
"SELECT " CATOID("pg_transform") ", tr.oid, 'transform',"
" pg_catalog.format('FOR %s LANGUAGE %I', pg_catalog.format_type(tr.trftype, NULL), l.lanname), 21,"
" ARRAY[" STMT("CreateTransformStmt", "pg_catalog.format('CREATE TRANSFORM FOR %s LANGUAGE %I (%s)',"
			   "   pg_catalog.format_type(tr.trftype, NULL), l.lanname, pg_catalog.concat_ws(', ',"
			   "    CASE WHEN tr.trffromsql <> 0 THEN pg_catalog.format('FROM SQL WITH FUNCTION %s', tr.trffromsql::pg_catalog.regprocedure) END,"
			   "    CASE WHEN tr.trftosql <> 0 THEN pg_catalog.format('TO SQL WITH FUNCTION %s', tr.trftosql::pg_catalog.regprocedure) END))") ","
"  " COMMENT_STMT("pg_catalog.format('TRANSFORM FOR %s LANGUAGE %I', pg_catalog.format_type(tr.trftype, NULL), l.lanname)",
				  "pg_transform", "tr.oid") "]"
" FROM pg_catalog.pg_transform tr JOIN pg_catalog.pg_language l ON l.oid = tr.trflang"
" WHERE tr.oid >= 16384 AND " NOT_EXT("pg_transform", "tr.oid");

#define OPNAME(oidexpr) \
	"(SELECT pg_catalog.format('OPERATOR(%I.%s)', xn.nspname, xo.oprname) FROM pg_catalog.pg_operator xo" \
	" JOIN pg_catalog.pg_namespace xn ON xn.oid = xo.oprnamespace WHERE xo.oid = " oidexpr ")"

static const char *const aggregates_sql =
"SELECT " CATOID("pg_proc") ", p.oid, 'aggregate',"
" pg_catalog.format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)), 22,"
" ARRAY[" STMT("DefineStmt", "pg_catalog.format('CREATE AGGREGATE %I.%I(%s) (%s)', n.nspname, p.proname,"
			   "   CASE WHEN p.pronargs = 0 THEN '*' ELSE pg_catalog.pg_get_function_arguments(p.oid) END,"
			   "   pg_catalog.concat_ws(', ',"
			   "    pg_catalog.format('SFUNC = %s', a.aggtransfn::pg_catalog.regproc),"
			   "    pg_catalog.format('STYPE = %s', pg_catalog.format_type(a.aggtranstype, NULL)),"
			   "    CASE WHEN a.aggtransspace <> 0 THEN pg_catalog.format('SSPACE = %s', a.aggtransspace) END,"
			   "    CASE WHEN a.aggfinalfn <> 0 THEN pg_catalog.format('FINALFUNC = %s', a.aggfinalfn::pg_catalog.regproc) END,"
			   "    CASE WHEN a.aggfinalextra THEN 'FINALFUNC_EXTRA' END,"
			   "    CASE WHEN a.aggfinalfn <> 0 THEN 'FINALFUNC_MODIFY = ' || CASE a.aggfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END END,"
			   "    CASE WHEN a.aggcombinefn <> 0 THEN pg_catalog.format('COMBINEFUNC = %s', a.aggcombinefn::pg_catalog.regproc) END,"
			   "    CASE WHEN a.aggserialfn <> 0 THEN pg_catalog.format('SERIALFUNC = %s', a.aggserialfn::pg_catalog.regproc) END,"
			   "    CASE WHEN a.aggdeserialfn <> 0 THEN pg_catalog.format('DESERIALFUNC = %s', a.aggdeserialfn::pg_catalog.regproc) END,"
			   "    CASE WHEN a.agginitval IS NOT NULL THEN pg_catalog.format('INITCOND = %L', a.agginitval) END,"
			   "    CASE WHEN a.aggmtransfn <> 0 THEN pg_catalog.format('MSFUNC = %s, MINVFUNC = %s, MSTYPE = %s', a.aggmtransfn::pg_catalog.regproc,"
			   "      a.aggminvtransfn::pg_catalog.regproc, pg_catalog.format_type(a.aggmtranstype, NULL)) END,"
			   "    CASE WHEN a.aggmtransspace <> 0 THEN pg_catalog.format('MSSPACE = %s', a.aggmtransspace) END,"
			   "    CASE WHEN a.aggmfinalfn <> 0 THEN pg_catalog.format('MFINALFUNC = %s', a.aggmfinalfn::pg_catalog.regproc) END,"
			   "    CASE WHEN a.aggmfinalextra THEN 'MFINALFUNC_EXTRA' END,"
			   "    CASE WHEN a.aggmfinalfn <> 0 THEN 'MFINALFUNC_MODIFY = ' || CASE a.aggmfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END END,"
			   "    CASE WHEN a.aggminitval IS NOT NULL THEN pg_catalog.format('MINITCOND = %L', a.aggminitval) END,"
			   "    CASE WHEN a.aggsortop <> 0 THEN 'SORTOP = ' || " OPNAME("a.aggsortop") " END,"
			   "    CASE WHEN a.aggkind = 'h' THEN 'HYPOTHETICAL' END,"
			   "    CASE p.proparallel WHEN 's' THEN 'PARALLEL = SAFE' WHEN 'r' THEN 'PARALLEL = RESTRICTED' END))") ","
"  " COMMENT_STMT("pg_catalog.format('AGGREGATE %I.%I(%s)', n.nspname, p.proname,"
				  "   CASE WHEN p.pronargs = 0 THEN '*' ELSE pg_catalog.pg_get_function_identity_arguments(p.oid) END)", "pg_proc", "p.oid") "]"
" || " SECLABEL_STMTS("pg_catalog.format('AGGREGATE %I.%I(%s)', n.nspname, p.proname,"
					  "   CASE WHEN p.pronargs = 0 THEN '*' ELSE pg_catalog.pg_get_function_identity_arguments(p.oid) END)", "pg_proc", "p.oid")
" FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
" JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid"
" WHERE p.oid >= 16384 AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_proc", "p.oid");

static const char *const casts_sql =
"SELECT " CATOID("pg_cast") ", c.oid, 'cast',"
" pg_catalog.format('(%s AS %s)', pg_catalog.format_type(c.castsource, NULL), pg_catalog.format_type(c.casttarget, NULL)), 26,"
" ARRAY[" STMT("CreateCastStmt", "pg_catalog.format('CREATE CAST (%s AS %s) %s%s',"
			   "   pg_catalog.format_type(c.castsource, NULL), pg_catalog.format_type(c.casttarget, NULL),"
			   "   CASE c.castmethod WHEN 'f' THEN pg_catalog.format('WITH FUNCTION %s', c.castfunc::pg_catalog.regprocedure)"
			   "    WHEN 'i' THEN 'WITH INOUT' ELSE 'WITHOUT FUNCTION' END,"
			   "   CASE c.castcontext WHEN 'a' THEN ' AS ASSIGNMENT' WHEN 'i' THEN ' AS IMPLICIT' ELSE '' END)") ","
"  " COMMENT_STMT("pg_catalog.format('CAST (%s AS %s)', pg_catalog.format_type(c.castsource, NULL), pg_catalog.format_type(c.casttarget, NULL))", "pg_cast", "c.oid") "]"
" FROM pg_catalog.pg_cast c"
" WHERE c.oid >= 16384 AND " NOT_EXT("pg_cast", "c.oid")
" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend i WHERE i.classid = " CATOID("pg_cast")
"  AND i.objid = c.oid AND i.deptype = 'i')";

static const char *const operators_sql =
"SELECT " CATOID("pg_operator") ", o.oid, 'operator',"
" pg_catalog.format('%I.%s(%s, %s)', n.nspname, o.oprname, pg_catalog.format_type(NULLIF(o.oprleft, 0), NULL),"
"  pg_catalog.format_type(NULLIF(o.oprright, 0), NULL)), 24,"
" ARRAY[" STMT("DefineStmt", "pg_catalog.format('CREATE OPERATOR %I.%s (%s)', n.nspname, o.oprname, pg_catalog.concat_ws(', ',"
			   "   pg_catalog.format('FUNCTION = %s', o.oprcode::pg_catalog.regproc),"
			   "   CASE WHEN o.oprleft <> 0 THEN pg_catalog.format('LEFTARG = %s', pg_catalog.format_type(o.oprleft, NULL)) END,"
			   "   CASE WHEN o.oprright <> 0 THEN pg_catalog.format('RIGHTARG = %s', pg_catalog.format_type(o.oprright, NULL)) END,"
			   "   CASE WHEN o.oprcom <> 0 THEN 'COMMUTATOR = ' || " OPNAME("o.oprcom") " END,"
			   "   CASE WHEN o.oprnegate <> 0 THEN 'NEGATOR = ' || " OPNAME("o.oprnegate") " END,"
			   "   CASE WHEN o.oprrest <> 0 THEN pg_catalog.format('RESTRICT = %s', o.oprrest::pg_catalog.regproc) END,"
			   "   CASE WHEN o.oprjoin <> 0 THEN pg_catalog.format('JOIN = %s', o.oprjoin::pg_catalog.regproc) END,"
			   "   CASE WHEN o.oprcanhash THEN 'HASHES' END,"
			   "   CASE WHEN o.oprcanmerge THEN 'MERGES' END))") ","
"  " COMMENT_STMT("pg_catalog.format('OPERATOR %I.%s (%s, %s)', n.nspname, o.oprname,"
				  "   COALESCE(pg_catalog.format_type(NULLIF(o.oprleft, 0), NULL), 'NONE'),"
				  "   COALESCE(pg_catalog.format_type(NULLIF(o.oprright, 0), NULL), 'NONE'))", "pg_operator", "o.oid") "]"
" FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace"
" WHERE o.oid >= 16384 AND o.oprcode <> 0 AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_operator", "o.oid");

/* @1@: the ICU locale column, which moved between versions */
static const char *const collations_sql_fmt =
"SELECT " CATOID("pg_collation") ", c.oid, 'collation', pg_catalog.format('%I.%I', n.nspname, c.collname), 5,"
" ARRAY[" STMT("DefineStmt", "pg_catalog.format('CREATE COLLATION %I.%I (%s, deterministic = %s)', n.nspname, c.collname,"
			   "   CASE c.collprovider WHEN 'i' THEN pg_catalog.format('provider = icu, locale = %L', @1@)"
			   "    ELSE pg_catalog.format('provider = libc, lc_collate = %L, lc_ctype = %L', c.collcollate, c.collctype) END,"
			   "   CASE WHEN c.collisdeterministic THEN 'true' ELSE 'false' END)") ","
"  " COMMENT_STMT("pg_catalog.format('COLLATION %I.%I', n.nspname, c.collname)", "pg_collation", "c.oid") "]"
" FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace"
" WHERE c.oid >= 16384 AND c.collprovider IN ('c', 'i') AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_collation", "c.oid");

/* an operator of an operator family or class: "ns".op(left, right) */
#define AMOP_ITEM(ao) \
	"pg_catalog.format('OPERATOR %s %s(%s, %s)%s', " ao ".amopstrategy, " \
	" (SELECT pg_catalog.format('%I.%s', xn.nspname, xo.oprname) FROM pg_catalog.pg_operator xo" \
	"   JOIN pg_catalog.pg_namespace xn ON xn.oid = xo.oprnamespace WHERE xo.oid = " ao ".amopopr)," \
	" pg_catalog.format_type(" ao ".amoplefttype, NULL), pg_catalog.format_type(" ao ".amoprighttype, NULL)," \
	" CASE WHEN " ao ".amoppurpose = 'o' THEN (SELECT pg_catalog.format(' FOR ORDER BY %I.%I', sn.nspname, sf.opfname)" \
	"   FROM pg_catalog.pg_opfamily sf JOIN pg_catalog.pg_namespace sn ON sn.oid = sf.opfnamespace" \
	"   WHERE sf.oid = " ao ".amopsortfamily) ELSE '' END)"

#define AMPROC_ITEM(ap) \
	"pg_catalog.format('FUNCTION %s (%s, %s) %s', " ap ".amprocnum, pg_catalog.format_type(" ap ".amproclefttype, NULL)," \
	" pg_catalog.format_type(" ap ".amprocrighttype, NULL), " ap ".amproc::pg_catalog.regprocedure)"

/*
 * Operator families with the members that belong to no operator class
 * (ALTER OPERATOR FAMILY ... ADD), then operator classes, always in an
 * explicit family, with their own members: pg_depend tells which is which.
 */
static const char *const opfamilies_sql =
"SELECT " CATOID("pg_opfamily") ", f.oid, 'operator family', pg_catalog.format('%I.%I USING %I', n.nspname, f.opfname, am.amname), 27,"
" ARRAY[" STMT("CreateOpFamilyStmt", "pg_catalog.format('CREATE OPERATOR FAMILY %I.%I USING %I', n.nspname, f.opfname, am.amname)") "]"
" || ARRAY(SELECT 'AlterOpFamilyStmt:' || pg_catalog.format('ALTER OPERATOR FAMILY %I.%I USING %I ADD %s', n.nspname, f.opfname, am.amname, " AMOP_ITEM("ao") ")"
"   FROM pg_catalog.pg_amop ao JOIN pg_catalog.pg_depend d ON d.classid = " CATOID("pg_amop") " AND d.objid = ao.oid"
"    AND d.refclassid = " CATOID("pg_opfamily") " AND d.refobjid = f.oid AND d.deptype = 'a'"
"   WHERE ao.amopfamily = f.oid ORDER BY ao.amoplefttype, ao.amoprighttype, ao.amopstrategy)"
" || ARRAY(SELECT 'AlterOpFamilyStmt:' || pg_catalog.format('ALTER OPERATOR FAMILY %I.%I USING %I ADD %s', n.nspname, f.opfname, am.amname, " AMPROC_ITEM("ap") ")"
"   FROM pg_catalog.pg_amproc ap JOIN pg_catalog.pg_depend d ON d.classid = " CATOID("pg_amproc") " AND d.objid = ap.oid"
"    AND d.refclassid = " CATOID("pg_opfamily") " AND d.refobjid = f.oid AND d.deptype = 'a'"
"   WHERE ap.amprocfamily = f.oid ORDER BY ap.amproclefttype, ap.amprocrighttype, ap.amprocnum)"
" || " COMMENT_STMT("pg_catalog.format('OPERATOR FAMILY %I.%I USING %I', n.nspname, f.opfname, am.amname)", "pg_opfamily", "f.oid")
" FROM pg_catalog.pg_opfamily f JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace"
" JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod"
" WHERE f.oid >= 16384 AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_opfamily", "f.oid");

static const char *const opclasses_sql =
"SELECT " CATOID("pg_opclass") ", oc.oid, 'operator class', pg_catalog.format('%I.%I USING %I', n.nspname, oc.opcname, am.amname), 27,"
" ARRAY[" STMT("CreateOpClassStmt", "pg_catalog.format('CREATE OPERATOR CLASS %I.%I %sFOR TYPE %s USING %I FAMILY %I.%I AS %s',"
			   "   n.nspname, oc.opcname, CASE WHEN oc.opcdefault THEN 'DEFAULT ' ELSE '' END, pg_catalog.format_type(oc.opcintype, NULL),"
			   "   am.amname, fn.nspname, f.opfname, COALESCE(NULLIF(pg_catalog.concat_ws(', ',"
			   "    (SELECT pg_catalog.string_agg(" AMOP_ITEM("ao") ", ', ' ORDER BY ao.amoplefttype, ao.amoprighttype, ao.amopstrategy)"
			   "     FROM pg_catalog.pg_amop ao JOIN pg_catalog.pg_depend d ON d.classid = " CATOID("pg_amop") " AND d.objid = ao.oid"
			   "      AND d.refclassid = " CATOID("pg_opclass") " AND d.refobjid = oc.oid AND d.deptype = 'i'),"
			   "    (SELECT pg_catalog.string_agg(" AMPROC_ITEM("ap") ", ', ' ORDER BY ap.amproclefttype, ap.amprocrighttype, ap.amprocnum)"
			   "     FROM pg_catalog.pg_amproc ap JOIN pg_catalog.pg_depend d ON d.classid = " CATOID("pg_amproc") " AND d.objid = ap.oid"
			   "      AND d.refclassid = " CATOID("pg_opclass") " AND d.refobjid = oc.oid AND d.deptype = 'i'),"
			   "    CASE WHEN oc.opckeytype <> 0 THEN 'STORAGE ' || pg_catalog.format_type(oc.opckeytype, NULL) END), ''),"
			   "    'STORAGE ' || pg_catalog.format_type(oc.opcintype, NULL)))") ","
"  " COMMENT_STMT("pg_catalog.format('OPERATOR CLASS %I.%I USING %I', n.nspname, oc.opcname, am.amname)", "pg_opclass", "oc.oid") "]"
" FROM pg_catalog.pg_opclass oc JOIN pg_catalog.pg_namespace n ON n.oid = oc.opcnamespace"
" JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod"
" JOIN pg_catalog.pg_opfamily f ON f.oid = oc.opcfamily JOIN pg_catalog.pg_namespace fn ON fn.oid = f.opfnamespace"
" WHERE oc.oid >= 16384 AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_opclass", "oc.oid");

/* text search parsers and templates: their functions are C (c_functions) */
static const char *const ts_parsers_sql =
"SELECT " CATOID("pg_ts_parser") ", p.oid, 'text search parser', pg_catalog.format('%I.%I', n.nspname, p.prsname), 26,"
" ARRAY[" STMT("DefineStmt", "pg_catalog.format('CREATE TEXT SEARCH PARSER %I.%I (%s)', n.nspname, p.prsname,"
			   "   pg_catalog.concat_ws(', ',"
			   "    pg_catalog.format('START = %s', p.prsstart::pg_catalog.regproc),"
			   "    pg_catalog.format('GETTOKEN = %s', p.prstoken::pg_catalog.regproc),"
			   "    pg_catalog.format('END = %s', p.prsend::pg_catalog.regproc),"
			   "    pg_catalog.format('LEXTYPES = %s', p.prslextype::pg_catalog.regproc),"
			   "    CASE WHEN p.prsheadline <> 0 THEN pg_catalog.format('HEADLINE = %s', p.prsheadline::pg_catalog.regproc) END))") ","
"  " COMMENT_STMT("pg_catalog.format('TEXT SEARCH PARSER %I.%I', n.nspname, p.prsname)", "pg_ts_parser", "p.oid") "]"
" FROM pg_catalog.pg_ts_parser p JOIN pg_catalog.pg_namespace n ON n.oid = p.prsnamespace"
" WHERE p.oid >= 16384 AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_ts_parser", "p.oid");

static const char *const ts_templates_sql =
"SELECT " CATOID("pg_ts_template") ", t.oid, 'text search template', pg_catalog.format('%I.%I', n.nspname, t.tmplname), 27,"
" ARRAY[" STMT("DefineStmt", "pg_catalog.format('CREATE TEXT SEARCH TEMPLATE %I.%I (%s)', n.nspname, t.tmplname,"
			   "   pg_catalog.concat_ws(', ',"
			   "    CASE WHEN t.tmplinit <> 0 THEN pg_catalog.format('INIT = %s', t.tmplinit::pg_catalog.regproc) END,"
			   "    pg_catalog.format('LEXIZE = %s', t.tmpllexize::pg_catalog.regproc)))") ","
"  " COMMENT_STMT("pg_catalog.format('TEXT SEARCH TEMPLATE %I.%I', n.nspname, t.tmplname)", "pg_ts_template", "t.oid") "]"
" FROM pg_catalog.pg_ts_template t JOIN pg_catalog.pg_namespace n ON n.oid = t.tmplnamespace"
" WHERE t.oid >= 16384 AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_ts_template", "t.oid");

/* encoding conversions: their functions are C (c_functions) */
static const char *const conversions_sql =
"SELECT " CATOID("pg_conversion") ", c.oid, 'conversion', pg_catalog.format('%I.%I', n.nspname, c.conname), 25,"
" ARRAY[" STMT("CreateConversionStmt", "pg_catalog.format('CREATE %sCONVERSION %I.%I FOR %L TO %L FROM %s',"
			   "   CASE WHEN c.condefault THEN 'DEFAULT ' ELSE '' END, n.nspname, c.conname,"
			   "   pg_catalog.pg_encoding_to_char(c.conforencoding), pg_catalog.pg_encoding_to_char(c.contoencoding),"
			   "   c.conproc::pg_catalog.regproc)") ","
"  " COMMENT_STMT("pg_catalog.format('CONVERSION %I.%I', n.nspname, c.conname)", "pg_conversion", "c.oid") "]"
" FROM pg_catalog.pg_conversion c JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace"
" WHERE c.oid >= 16384 AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_conversion", "c.oid");

static const char *const ts_dicts_sql =
"SELECT " CATOID("pg_ts_dict") ", d0.oid, 'text search dictionary', pg_catalog.format('%I.%I', n.nspname, d0.dictname), 28,"
" ARRAY[" STMT("DefineStmt", "pg_catalog.format('CREATE TEXT SEARCH DICTIONARY %I.%I (TEMPLATE = %I.%I%s)', n.nspname, d0.dictname,"
			   "   tn.nspname, t.tmplname, CASE WHEN d0.dictinitoption IS NOT NULL THEN ', ' || d0.dictinitoption ELSE '' END)") ","
"  " COMMENT_STMT("pg_catalog.format('TEXT SEARCH DICTIONARY %I.%I', n.nspname, d0.dictname)", "pg_ts_dict", "d0.oid") "]"
" FROM pg_catalog.pg_ts_dict d0 JOIN pg_catalog.pg_namespace n ON n.oid = d0.dictnamespace"
" JOIN pg_catalog.pg_ts_template t ON t.oid = d0.dicttemplate JOIN pg_catalog.pg_namespace tn ON tn.oid = t.tmplnamespace"
" WHERE d0.oid >= 16384 AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_ts_dict", "d0.oid");

static const char *const ts_configs_sql =
"SELECT " CATOID("pg_ts_config") ", c.oid, 'text search configuration', pg_catalog.format('%I.%I', n.nspname, c.cfgname), 29,"
" ARRAY[" STMT("DefineStmt", "pg_catalog.format('CREATE TEXT SEARCH CONFIGURATION %I.%I (PARSER = %I.%I)', n.nspname, c.cfgname,"
			   "   pn.nspname, p.prsname)") "]"
" || ARRAY(SELECT 'AlterTSConfigurationStmt:' || pg_catalog.format('ALTER TEXT SEARCH CONFIGURATION %I.%I ADD MAPPING FOR %I WITH %s',"
"    n.nspname, c.cfgname, tt.alias, m.dicts)"
"   FROM pg_catalog.ts_token_type(c.cfgparser) tt"
"   JOIN (SELECT mp.maptokentype, pg_catalog.string_agg(pg_catalog.format('%I.%I', dn.nspname, dd.dictname), ', ' ORDER BY mp.mapseqno) AS dicts"
"     FROM pg_catalog.pg_ts_config_map mp JOIN pg_catalog.pg_ts_dict dd ON dd.oid = mp.mapdict"
"     JOIN pg_catalog.pg_namespace dn ON dn.oid = dd.dictnamespace"
"     WHERE mp.mapcfg = c.oid GROUP BY mp.maptokentype) m ON m.maptokentype = tt.tokid"
"   ORDER BY tt.tokid)"
" || " COMMENT_STMT("pg_catalog.format('TEXT SEARCH CONFIGURATION %I.%I', n.nspname, c.cfgname)", "pg_ts_config", "c.oid")
" FROM pg_catalog.pg_ts_config c JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace"
" JOIN pg_catalog.pg_ts_parser p ON p.oid = c.cfgparser JOIN pg_catalog.pg_namespace pn ON pn.oid = p.prsnamespace"
" WHERE c.oid >= 16384 AND " USER_NSP("n.nspname") " AND " NOT_EXT("pg_ts_config", "c.oid");

static const char *const fdws_sql =
"SELECT " CATOID("pg_foreign_data_wrapper") ", w.oid, 'foreign-data wrapper', pg_catalog.quote_ident(w.fdwname), 30,"
" ARRAY[" STMT("CreateFdwStmt", "pg_catalog.format('CREATE FOREIGN DATA WRAPPER %I%s%s%s', w.fdwname,"
			   "   CASE WHEN w.fdwhandler <> 0 THEN pg_catalog.format(' HANDLER %s', w.fdwhandler::pg_catalog.regproc) ELSE '' END,"
			   "   CASE WHEN w.fdwvalidator <> 0 THEN pg_catalog.format(' VALIDATOR %s', w.fdwvalidator::pg_catalog.regproc) ELSE '' END,"
			   "   CASE WHEN w.fdwoptions IS NOT NULL THEN pg_catalog.format(' OPTIONS (%s)', " GENERIC_OPTIONS("w.fdwoptions") ") ELSE '' END)") ","
"  " COMMENT_STMT("pg_catalog.format('FOREIGN DATA WRAPPER %I', w.fdwname)", "pg_foreign_data_wrapper", "w.oid") "]"
" FROM pg_catalog.pg_foreign_data_wrapper w"
" WHERE w.oid >= 16384 AND " NOT_EXT("pg_foreign_data_wrapper", "w.oid");

static const char *const servers_sql =
"SELECT " CATOID("pg_foreign_server") ", s.oid, 'server', pg_catalog.quote_ident(s.srvname), 31,"
" ARRAY[" STMT("CreateForeignServerStmt", "pg_catalog.format('CREATE SERVER %I%s%s FOREIGN DATA WRAPPER %I%s', s.srvname,"
			   "   CASE WHEN s.srvtype IS NOT NULL THEN pg_catalog.format(' TYPE %L', s.srvtype) ELSE '' END,"
			   "   CASE WHEN s.srvversion IS NOT NULL THEN pg_catalog.format(' VERSION %L', s.srvversion) ELSE '' END,"
			   "   w.fdwname,"
			   "   CASE WHEN s.srvoptions IS NOT NULL THEN pg_catalog.format(' OPTIONS (%s)', " GENERIC_OPTIONS("s.srvoptions") ") ELSE '' END)") ","
"  " COMMENT_STMT("pg_catalog.format('SERVER %I', s.srvname)", "pg_foreign_server", "s.oid") "]"
" || ARRAY(SELECT 'CreateUserMappingStmt:' || pg_catalog.format('CREATE USER MAPPING FOR %s SERVER %I%s',"
"    CASE WHEN um.umuser = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(um.usename) END, s.srvname,"
"    CASE WHEN um.umoptions IS NOT NULL THEN pg_catalog.format(' OPTIONS (%s)', " GENERIC_OPTIONS("um.umoptions") ") ELSE '' END)"
"   FROM pg_catalog.pg_user_mappings um WHERE um.srvid = s.oid ORDER BY um.usename)"
" FROM pg_catalog.pg_foreign_server s JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw"
" WHERE s.oid >= 16384 AND " NOT_EXT("pg_foreign_server", "s.oid");

/*
 * tsm_schema_object_queries
 *		Append the queries of this file for a section to "queries".
 */
void
tsm_schema_object_queries(List **queries, int version, bool post)
{
	if (post)
		return;

	*queries = lappend(*queries, (char *) schemas_sql);
	*queries = lappend(*queries, (char *) access_methods_sql);
	*queries = lappend(*queries, (char *) languages_sql);
	*queries = lappend(*queries,
					   tsm_schema_subst(types_sql_fmt,
										version >= 140000 ?
										"(SELECT pg_catalog.format(', MULTIRANGE_TYPE_NAME = %I.%I', mn.nspname, mt.typname)"
										" FROM pg_catalog.pg_type mt JOIN pg_catalog.pg_namespace mn ON mn.oid = mt.typnamespace"
										" WHERE mt.oid = r.rngmultitypid)" : "''"));
	*queries = lappend(*queries,
					   tsm_schema_subst(base_types_sql_fmt,
										version >= 140000 ? "t.typsubscript" : "0"));
	*queries = lappend(*queries, (char *) functions_sql);
	*queries = lappend(*queries, (char *) transforms_sql);
	*queries = lappend(*queries, (char *) aggregates_sql);
	*queries = lappend(*queries, (char *) casts_sql);
	*queries = lappend(*queries, (char *) operators_sql);
	*queries = lappend(*queries, (char *) opfamilies_sql);
	*queries = lappend(*queries, (char *) opclasses_sql);
	*queries = lappend(*queries,
					   tsm_schema_subst(collations_sql_fmt,
										version >= 170000 ? "c.colllocale" :
										version >= 150000 ? "c.colliculocale" : "c.collcollate"));
	*queries = lappend(*queries, (char *) conversions_sql);
	*queries = lappend(*queries, (char *) ts_parsers_sql);
	*queries = lappend(*queries, (char *) ts_templates_sql);
	*queries = lappend(*queries, (char *) ts_dicts_sql);
	*queries = lappend(*queries, (char *) ts_configs_sql);
	*queries = lappend(*queries, (char *) fdws_sql);
	*queries = lappend(*queries, (char *) servers_sql);
}
