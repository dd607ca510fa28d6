/*-------------------------------------------------------------------------
 *
 * replay_chunks.c
 *	  A hypertable's index or key, replayed chunk by chunk by the schema
 *	  workers
 *
 * CREATE INDEX on a hypertable, or ALTER TABLE ... ADD CONSTRAINT of its
 * primary key or a unique constraint, makes TimescaleDB build the index on
 * every chunk, one chunk after the other, in one statement (and the key
 * locks every chunk until it commits): with several schema workers, one
 * builds and the others wait.  A dump restored with pg_restore -j has one
 * statement per chunk instead.  tsm_replay_chunk_statements splits such an
 * object the same way, where TimescaleDB finds per-chunk objects by
 * themselves rather than in a catalog table of its own:
 *
 *	index		(TimescaleDB 2.22 and later: no chunk_index catalog; a
 *				chunk's index is the one that matches the hypertable's)
 *				CREATE INDEX <chunk>_<index> ON <chunk> ..., named as
 *				TimescaleDB names a chunk's index, for each chunk; then the
 *				hypertable's own, CREATE INDEX ... ON ONLY <hypertable>,
 *				which TimescaleDB creates on the hypertable alone.
 *	key			(TimescaleDB 2.28 and later: no chunk_constraint catalog;
 *				a chunk's constraint is the one named <chunk id>_<name>)
 *				ALTER TABLE ONLY <chunk> ADD CONSTRAINT "<chunk id>_<name>"
 *				..., for each chunk; then the hypertable's own statement,
 *				for which TimescaleDB finds every chunk's constraint there
 *				already and adds none (for a superuser, with TimescaleDB's
 *				hooks off, as a dump's restore runs it: TimescaleDB would
 *				also check the key over the compressed chunks again, by
 *				decompressing them).
 *
 * The statements of the chunks are the hypertable's, with the chunk's table
 * and name put in place of the hypertable's (the rest of the text, columns,
 * method, options, predicate, is the generator's); each is still checked by
 * the worker, one statement of the expected kind, before it runs.  Where
 * the caller would not be allowed what TimescaleDB does as its catalog's
 * owner (owning the chunk, creating in the chunk's schema), the object is
 * left whole.  A chunk that has the index or constraint already (a resumed
 * run) gets no statement.
 *
 * IDENTIFICATION
 *	  src/replay/replay_chunks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "parser/scansup.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "replay/replay.h"
#include "schema/schema.h"
#include "target/target.h"

static bool may_build_on_chunks(List *chunks);
static bool same_index(IndexStmt *a, IndexStmt *b);
static int	skip_name(const char *sql, int pos);
static int	skip_qualified_name(const char *sql, int pos);
static bool timescaledb_catalog_has(const char *table);

/*
 * tsm_replay_chunk_statements
 *		For an object whose first statement builds an index or a key on a
 *		hypertable: the statements of its chunks (*chunk_stmts, of
 *		TsmSchemaStmt, and *chunk_relids, the chunks they touch) and the
 *		statement that replaces the first one (*root).  False, with
 *		nothing set, for any other object.
 *
 * "*indexes" collects the hypertable indexes split so far: a second index
 * defined as an earlier one of the same hypertable gets no chunk indexes,
 * as TimescaleDB gives it none (a chunk's index serves every hypertable
 * index it matches).
 */
bool
tsm_replay_chunk_statements(const TsmSchemaObject *obj, List **chunk_stmts,
							List **chunk_relids, TsmSchemaStmt **root,
							List **indexes)
{
	bool		duplicate = false;
	TsmSchemaStmt *first;
	List	   *raw;
	Node	   *stmt;
	RangeVar   *rv;
	Oid			relid;
	List	   *chunks;
	ListCell   *lc;
	bool		is_index;
	const char *rest;
	const char *name;

	if (obj->stmts == NIL || !OidIsValid(get_namespace_oid("_timescaledb_catalog", true)))
		return false;
	first = linitial(obj->stmts);
	raw = raw_parser(first->sql, RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1)
		return false;
	stmt = linitial_node(RawStmt, raw)->stmt;

	if (IsA(stmt, IndexStmt))
	{
		IndexStmt  *index = (IndexStmt *) stmt;

		if (!index->relation->inh || index->concurrent || index->if_not_exists ||
			index->idxname == NULL || timescaledb_catalog_has("chunk_index"))
			return false;
		rv = index->relation;
		is_index = true;
		name = index->idxname;
		rest = first->sql + skip_qualified_name(first->sql, rv->location);
	}
	else if (IsA(stmt, AlterTableStmt))
	{
		AlterTableStmt *alter = (AlterTableStmt *) stmt;
		AlterTableCmd *cmd;
		Constraint *con;
		int			pos;

		if (list_length(alter->cmds) != 1)
			return false;
		cmd = linitial_node(AlterTableCmd, alter->cmds);
		if (cmd->subtype != AT_AddConstraint || !IsA(cmd->def, Constraint))
			return false;
		con = (Constraint *) cmd->def;
		if ((con->contype != CONSTR_PRIMARY && con->contype != CONSTR_UNIQUE) ||
			con->conname == NULL || con->indexname != NULL || con->location < 0 ||
			timescaledb_catalog_has("chunk_constraint"))
			return false;
		/* the text after CONSTRAINT <name> */
		pos = con->location;
		if (pg_strncasecmp(first->sql + pos, "CONSTRAINT", 10) != 0)
			return false;
		pos += 10;
		while (scanner_isspace(first->sql[pos]))
			pos++;
		rest = first->sql + skip_name(first->sql, pos);
		rv = alter->relation;
		is_index = false;
		name = con->conname;
	}
	else
		return false;

	relid = RangeVarGetRelid(rv, NoLock, true);
	if (!tsm_target_is_hypertable(relid))
		return false;
	chunks = find_inheritance_children(relid, NoLock);
	if (chunks == NIL || !may_build_on_chunks(chunks))
		return false;
	if (is_index)
	{
		IndexStmt  *index = (IndexStmt *) stmt;

		foreach(lc, *indexes)
			if (RangeVarGetRelid(((IndexStmt *) lfirst(lc))->relation, NoLock, true) == relid &&
				same_index(lfirst(lc), index))
			duplicate = true;
		if (!duplicate)
			*indexes = lappend(*indexes, index);
	}

	*chunk_stmts = NIL;
	*chunk_relids = NIL;
	foreach(lc, duplicate ? NIL : chunks)
	{
		Oid			chunk = lfirst_oid(lc);
		Oid			nsp = get_rel_namespace(chunk);
		char	   *qualname = quote_qualified_identifier(get_namespace_name(nsp),
														  get_rel_name(chunk));
		TsmSchemaStmt *s = palloc0(sizeof(TsmSchemaStmt));

		s->tag = first->tag;
		if (is_index)
		{
			/* TimescaleDB's name for a chunk's index (chunk_index.c) */
			char	   *idxname = makeObjectName(get_rel_name(chunk), name, NULL);

			if (OidIsValid(get_relname_relid(idxname, nsp)))
				continue;
			s->sql = psprintf("CREATE %sINDEX %s ON %s%s",
							  ((IndexStmt *) stmt)->unique ? "UNIQUE " : "",
							  quote_identifier(idxname), qualname, rest);
		}
		else
		{
			/*
			 * TimescaleDB's name for a chunk's constraint
			 * (chunk_constraint.c)
			 */
			char		conname[NAMEDATALEN];
			char	   *chunk_id;

			chunk_id = tsm_local_query_value("SELECT c.id::pg_catalog.text"
											 "  FROM _timescaledb_catalog.chunk c"
											 " WHERE c.schema_name OPERATOR(pg_catalog.=) $1"
											 "   AND c.table_name OPERATOR(pg_catalog.=) $2",
											 get_namespace_name(nsp), get_rel_name(chunk));
			if (chunk_id == NULL)
				return false;
			snprintf(conname, NAMEDATALEN, "%s_%s", chunk_id, name);
			if (OidIsValid(get_relation_constraint_oid(chunk, conname, true)))
				continue;
			s->sql = psprintf("ALTER TABLE ONLY %s ADD CONSTRAINT %s%s",
							  qualname, quote_identifier(conname), rest);
		}
		*chunk_stmts = lappend(*chunk_stmts, s);
		*chunk_relids = lappend_oid(*chunk_relids, chunk);
	}

	*root = palloc0(sizeof(TsmSchemaStmt));
	(*root)->tag = first->tag;
	if (is_index)
	{
		/*
		 * ON ONLY: TimescaleDB creates the hypertable's index alone, but
		 * locks every chunk to do so, thousands of locks in one statement. A
		 * superuser runs it as a dump's restore does, without TimescaleDB's
		 * hooks: the hypertable alone, a few locks.
		 */
		(*root)->sql = psprintf("%.*sONLY %s", rv->location, first->sql,
								first->sql + rv->location);
		(*root)->without_timescaledb = superuser();
	}
	else
	{
		(*root)->sql = first->sql;

		/*
		 * TimescaleDB's statement would check the key again over the
		 * compressed chunks, decompressing them; the source had the key.  A
		 * superuser (timescaledb.restoring is theirs to set) runs it as a
		 * dump's restore does, the hypertable's own key alone.
		 */
		(*root)->without_timescaledb = superuser();
	}
	return true;
}

/*
 * Does the caller own every chunk and may create in its schema, as building
 * its index or key takes?  TimescaleDB does that as its catalog's owner.
 */
static bool
may_build_on_chunks(List *chunks)
{
	ListCell   *lc;

	foreach(lc, chunks)
	{
		Oid			chunk = lfirst_oid(lc);

		if (!tsm_class_ownercheck(chunk, GetUserId()) ||
			tsm_namespace_aclcheck(get_rel_namespace(chunk), GetUserId(), ACL_CREATE) != ACLCHECK_OK ||
			get_rel_relkind(chunk) != RELKIND_RELATION)
			return false;
	}
	return true;
}

/* Do two CREATE INDEX statements define the same index (names aside)? */
static bool
same_index(IndexStmt *a, IndexStmt *b)
{
	return a->unique == b->unique &&
		strcmp(a->accessMethod, b->accessMethod) == 0 &&
		equal(a->indexParams, b->indexParams) &&
		equal(a->indexIncludingParams, b->indexIncludingParams) &&
		equal(a->whereClause, b->whereClause) &&
		equal(a->options, b->options);
}

/* the position after the (quoted or plain) name at "pos" */
static int
skip_name(const char *sql, int pos)
{
	if (sql[pos] == '"')
	{
		for (pos++; sql[pos] != '\0'; pos++)
		{
			if (sql[pos] == '"')
			{
				if (sql[pos + 1] != '"')
					return pos + 1;
				pos++;
			}
		}
		return pos;
	}
	while (sql[pos] != '\0' &&
		   (isalnum((unsigned char) sql[pos]) || sql[pos] == '_' || sql[pos] == '$' ||
			IS_HIGHBIT_SET(sql[pos])))
		pos++;
	return pos;
}

/* the position after the (schema-qualified) name at "pos" */
static int
skip_qualified_name(const char *sql, int pos)
{
	pos = skip_name(sql, pos);
	while (sql[pos] == '.')
		pos = skip_name(sql, pos + 1);
	return pos;
}

/*
 * Does TimescaleDB's catalog here keep this table (older versions)?  Newer
 * ones may have a view of that name instead.
 */
static bool
timescaledb_catalog_has(const char *table)
{
	Oid			relid = get_relname_relid(table, get_namespace_oid("_timescaledb_catalog", false));

	return OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_RELATION;
}
