/*-------------------------------------------------------------------------
 *
 * target_hypertables.c
 *	  The target's hypertables, for statements replayed on them
 *
 * Replay, its chunk splitting and migrate's index builds ask whether a
 * relation is a hypertable here, and adapt pg_dump's "ALTER TABLE ONLY" to
 * one; this file reads the target's TimescaleDB catalog, nothing of the
 * source's.
 *
 * IDENTIFICATION
 *	  src/target/target_hypertables.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/lsyscache.h"

#include "compat.h"
#include "tsmigrate.h"
#include "target/target.h"

/*
 * tsm_hypertable_sql
 *		A replayed statement as it must run when its table is a hypertable
 *		here.
 *
 * Schema replay generates "ALTER TABLE ONLY t ..." as pg_dump does (for
 * constraints, replica identity); TimescaleDB refuses ONLY on a hypertable,
 * and a hypertable's constraints and indexes are to reach its chunks
 * anyway.  The statement has been checked already: only the ONLY of its
 * prefix is dropped, so it stays the same kind of statement.
 */
const char *
tsm_hypertable_sql(const char *sql)
{
	static const char prefix[] = "ALTER TABLE ONLY ";
	List	   *raw;
	Node	   *stmt;
	RangeVar   *rv;
	Oid			relid;

	if (strncmp(sql, prefix, sizeof(prefix) - 1) != 0 ||
		!OidIsValid(get_namespace_oid("_timescaledb_catalog", true)))
		return sql;

	raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1)
		return sql;
	stmt = linitial_node(RawStmt, raw)->stmt;
	if (!IsA(stmt, AlterTableStmt))
		return sql;
	rv = ((AlterTableStmt *) stmt)->relation;
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (!tsm_target_is_hypertable(relid))
		return sql;
	return psprintf("ALTER TABLE %s", sql + sizeof(prefix) - 1);
}

/*
 * tsm_target_is_hypertable
 *		Is this relation (InvalidOid allowed) a hypertable here?
 */
bool
tsm_target_is_hypertable(Oid relid)
{
	return OidIsValid(relid) &&
		OidIsValid(get_namespace_oid("_timescaledb_catalog", true)) &&
		tsm_local_query_value("SELECT 1 FROM _timescaledb_catalog.hypertable h"
							  " WHERE h.schema_name OPERATOR(pg_catalog.=) $1"
							  " AND h.table_name OPERATOR(pg_catalog.=) $2",
							  get_namespace_name(get_rel_namespace(relid)),
							  get_rel_name(relid)) != NULL;
}
