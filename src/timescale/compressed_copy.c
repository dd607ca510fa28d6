/*-------------------------------------------------------------------------
 *
 * compressed_copy.c
 *	  Compressed chunks copied as they are, not decompressed and recompressed
 *
 * A chunk compressed on the source keeps its rows in a compressed chunk
 * table of TimescaleDB's: a few rows per batch of up to 1000, each column
 * a compressed_data value.  Decompressing them on the source, sending the
 * rows and compressing them again here costs about six times more than
 * sending those batches as they are (measured in bench/README.md), and
 * both sides run the same TimescaleDB version (the checks step makes
 * sure), so the format is the same.  So for each chunk that is compressed
 * and nothing else on the source (not partially compressed, not
 * unordered, not frozen), in TimescaleDB's internal schema:
 *
 *	tsm_compressed_prepare	(with the chunk, before any data) an empty
 *							"pending" table with the columns of the source's
 *							compressed chunk, named after the chunk;
 *	the copy				pull_chunks copies the source's compressed chunk,
 *							binary, into the pending table instead of the
 *							decompressed rows into the chunk;
 *	tsm_compressed_attach	_timescaledb_functions.create_compressed_chunk
 *							makes the pending table the chunk's compressed
 *							chunk, with the source's size statistics; it is
 *							renamed as TimescaleDB names its compressed
 *							chunks, the chunk's compression settings are set
 *							to the source chunk's (they say how its rows were
 *							compressed, with which metadata columns), and it
 *							gets the source's indexes.
 *
 * tsmigrate.copy_compressed = off turns this off: compressed chunks are then
 * copied decompressed and compressed again by compress_chunks.  So does a
 * caller who may not create tables in TimescaleDB's internal schema.
 *
 * IDENTIFICATION
 *	  src/timescale/compressed_copy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "miscadmin.h"

#include "tsmigrate.h"
#include "remote/remote.h"
#include "replay/replay.h"
#include "source_catalog/source_catalog.h"
#include "target/target.h"
#include "timescale/timescale.h"

/* the prefix of a pending table's name: "tsm_c_" and the chunk's name */
#define PENDING_PREFIX "tsm_c_"

/*
 * The source's chunks compressed and nothing else, with what their
 * compressed chunk holds: columns, size statistics and indexes.
 */
static const char *const compressed_sql =
"SELECT pg_catalog.format('%I.%I', ch.schema_name, ch.table_name),"
"       cc.schema_name, cc.table_name,"
"       (SELECT pg_catalog.string_agg(pg_catalog.format('%I %s', a.attname,"
"                 pg_catalog.format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)"
"          FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) r.oid"
"           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped),"
"       (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)"
"          FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) r.oid"
"           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped),"
"       (SELECT pg_catalog.array_agg(a.attname::pg_catalog.text ORDER BY a.attnum)"
"          FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) r.oid"
"           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped),"
"       NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a"
"          JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid"
"         WHERE a.attrelid OPERATOR(pg_catalog.=) r.oid AND a.attnum OPERATOR(pg_catalog.>) 0"
"           AND NOT a.attisdropped"
"           AND (t.typsend::pg_catalog.oid OPERATOR(pg_catalog.=) 0"
"                OR t.typreceive::pg_catalog.oid OPERATOR(pg_catalog.=) 0)),"
"       ARRAY[s.uncompressed_heap_size, s.uncompressed_toast_size, s.uncompressed_index_size,"
"             s.compressed_heap_size, s.compressed_toast_size, s.compressed_index_size,"
"             s.numrows_pre_compression, s.numrows_post_compression]::pg_catalog.text[],"
"       (SELECT pg_catalog.array_agg(pg_catalog.pg_get_indexdef(i.indexrelid) ORDER BY ic.relname)"
"          FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid"
"         WHERE i.indrelid OPERATOR(pg_catalog.=) r.oid),"
"       (SELECT pg_catalog.array_agg(ic.relname::pg_catalog.text ORDER BY ic.relname)"
"          FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid"
"         WHERE i.indrelid OPERATOR(pg_catalog.=) r.oid),"
"       ch.table_name,"
"       COALESCE((SELECT pg_catalog.to_jsonb(ccs) FROM _timescaledb_catalog.compression_settings ccs"
"                  WHERE ccs.relid IN (pg_catalog.format('%I.%I', ch.schema_name, ch.table_name)::pg_catalog.regclass, r.oid)"
"                  LIMIT 1),"
"                (SELECT pg_catalog.to_jsonb(hcs) FROM _timescaledb_catalog.compression_settings hcs,"
"                        _timescaledb_catalog.hypertable h"
"                  WHERE h.id OPERATOR(pg_catalog.=) ch.hypertable_id"
"                    AND hcs.relid OPERATOR(pg_catalog.=) pg_catalog.format('%I.%I', h.schema_name, h.table_name)::pg_catalog.regclass))::pg_catalog.text"
"  FROM _timescaledb_catalog.chunk ch"
"  JOIN _timescaledb_catalog.chunk cc ON cc.id OPERATOR(pg_catalog.=) ch.compressed_chunk_id"
"  JOIN pg_catalog.pg_class r"
"    ON r.oid OPERATOR(pg_catalog.=) pg_catalog.format('%I.%I', cc.schema_name, cc.table_name)::pg_catalog.regclass"
"  LEFT JOIN _timescaledb_catalog.compression_chunk_size s"
"         ON s.chunk_id OPERATOR(pg_catalog.=) ch.id"
" WHERE ch.status OPERATOR(pg_catalog.=) 1"
"   AND cc.schema_name OPERATOR(pg_catalog.=) '_timescaledb_internal'"
" ORDER BY 1";

/*
 * tsm_compressed_chunks
 *		The source's chunks that can be copied compressed, or NULL when
 *		none can: tsmigrate.copy_compressed is off, the two sides run
 *		different TimescaleDB versions, or the caller may not create tables
 *		in _timescaledb_internal.
 */
static int	compare_compressed_chunk(const void *a, const void *b);

TsmCompressed *
tsm_compressed_chunks(PGconn *conn, int *n)
{
	TsmRows    *v;
	TsmRows    *r;
	TsmCompressed *out;
	char	   *local;
	int			i;

	*n = 0;
	if (!tsm_copy_compressed)
		return NULL;
	local = tsm_local_extversion("timescaledb");
	v = tsm_query(conn, "SELECT extversion FROM pg_catalog.pg_extension"
				  " WHERE extname OPERATOR(pg_catalog.=) 'timescaledb'", 0, NULL,
				  1, "the source's TimescaleDB version");
	if (local == NULL || v->nrows == 0 || strcmp(tsm_rows_get(v, 0, 0), local) != 0)
		return NULL;

	/*
	 * TimescaleDB makes its chunks in its schema as its catalog's owner, and
	 * a chunk's compression settings, which describe its compressed rows, are
	 * in its catalog: the caller must be able to do both.
	 */
	if (!tsm_local_has_row("SELECT 1 WHERE pg_catalog.has_schema_privilege($1, 'CREATE')"
						   " AND pg_catalog.has_table_privilege($2, 'UPDATE')",
						   "_timescaledb_internal", "_timescaledb_catalog.compression_settings"))
		return NULL;

	r = tsm_query(conn, compressed_sql, 0, NULL, 12, "the source's compressed chunks");
	out = palloc0(sizeof(TsmCompressed) * Max(r->nrows, 1));
	for (i = 0; i < r->nrows; i++)
	{
		TsmCompressed *cc = &out[i];
		StringInfoData cols;
		ListCell   *lc;
		char	   *name;

		cc->chunk = pstrdup(tsm_rows_get(r, i, 0));
		cc->src_schema = pstrdup(tsm_rows_name(r, i, 1));
		cc->src_table = pstrdup(tsm_rows_name(r, i, 2));
		cc->coldefs = pstrdup(tsm_rows_get(r, i, 3));
		cc->srccols = pstrdup(tsm_rows_get(r, i, 4));
		initStringInfo(&cols);
		foreach(lc, tsm_array_items(tsm_rows_get(r, i, 5)))
			appendBinaryStringInfo(&cols, lfirst(lc), strlen(lfirst(lc)) + 1);
		cc->tgtcols = cols.data;
		cc->tgtcols_len = cols.len + 1;
		cc->binary = tsm_rows_bool(r, i, 6);
		cc->sizes = tsm_array_items(tsm_rows_get(r, i, 7));
		cc->indexdefs = tsm_rows_value(r, i, 8) ? tsm_array_items(tsm_rows_value(r, i, 8)) : NIL;
		cc->indexnames = tsm_rows_value(r, i, 9) ? tsm_array_items(tsm_rows_value(r, i, 9)) : NIL;
		/* one definition per index name */
		if (list_length(cc->indexdefs) != list_length(cc->indexnames))
			ereport(ERROR,
					errcode(ERRCODE_PROTOCOL_VIOLATION),
					errmsg("invalid response from the source"),
					errdetail("The compressed chunk of %s has %d index names and %d index definitions.",
							  cc->chunk, list_length(cc->indexnames),
							  list_length(cc->indexdefs)));
		name = psprintf(PENDING_PREFIX "%s", tsm_rows_name(r, i, 10));
		if (strlen(name) >= NAMEDATALEN)
			name[NAMEDATALEN - 1] = '\0';
		cc->pending = name;
		cc->settings = tsm_rows_value(r, i, 11) ? pstrdup(tsm_rows_value(r, i, 11)) : NULL;
	}
	*n = r->nrows;
	/* by name, byte by byte, for tsm_compressed_find */
	qsort(out, r->nrows, sizeof(TsmCompressed), compare_compressed_chunk);
	return out;
}

static int
compare_compressed_chunk(const void *a, const void *b)
{
	return strcmp(((const TsmCompressed *) a)->chunk, ((const TsmCompressed *) b)->chunk);
}

/*
 * The one of "ccs" for the chunk "qualname" (quoted, qualified), or NULL:
 * a binary search, tsm_compressed_chunks sorted them by name.
 */
TsmCompressed *
tsm_compressed_find(TsmCompressed *ccs, int n, const char *qualname)
{
	TsmCompressed key;

	if (n == 0)
		return NULL;
	key.chunk = (char *) qualname;
	return bsearch(&key, ccs, n, sizeof(TsmCompressed), compare_compressed_chunk);
}

/* the pending table here, InvalidOid if there is none */
Oid
tsm_compressed_pending_relid(const TsmCompressed *cc)
{
	Oid			nspid = get_namespace_oid(cc->src_schema, true);

	return OidIsValid(nspid) ? get_relname_relid(cc->pending, nspid) : InvalidOid;
}

/*
 * tsm_compressed_prepare
 *		Create the empty pending table of one chunk.  The column list comes
 *		from the source: the statement must be one CREATE TABLE of that name.
 */
void
tsm_compressed_prepare(const TsmCompressed *cc)
{
	char	   *name = quote_qualified_identifier(cc->src_schema, cc->pending);
	char	   *sql = psprintf("CREATE TABLE %s (%s)", name, cc->coldefs);
	List	   *raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	CreateStmt *stmt;

	stmt = list_length(raw) == 1 ? (CreateStmt *) linitial_node(RawStmt, raw)->stmt : NULL;
	if (stmt == NULL || !IsA(stmt, CreateStmt) || stmt->relation->schemaname == NULL ||
		strcmp(stmt->relation->schemaname, cc->src_schema) != 0 ||
		strcmp(stmt->relation->relname, cc->pending) != 0 ||
		stmt->inhRelations != NIL || stmt->tableElts == NIL)
		ereport(ERROR,
				errcode(ERRCODE_DATA_EXCEPTION),
				errmsg("the columns of compressed chunk %s on the source do not make a table",
					   quote_qualified_identifier(cc->src_schema, cc->src_table)));
	tsm_replay_statement(sql, T_CreateStmt, "compressed chunk of", cc->chunk);
}

/*
 * tsm_compressed_attach
 *		Make the filled pending table the compressed chunk of "chunkid" here,
 *		named as TimescaleDB names them, with the source's indexes.  The
 *		caller is connected to SPI.
 */
void
tsm_compressed_attach(const TsmCompressed *cc, Oid chunkid)
{
	Oid			pending = tsm_compressed_pending_relid(cc);
	Oid			types[10];
	Datum		values[10];
	char	   *newname;
	ListCell   *dc;
	ListCell   *nc;
	int			i;
	int			rc;

	if (!OidIsValid(pending))
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_TABLE),
				errmsg("the compressed rows of chunk %s were not copied", cc->chunk));

	types[0] = REGCLASSOID;
	values[0] = ObjectIdGetDatum(chunkid);
	types[1] = REGCLASSOID;
	values[1] = ObjectIdGetDatum(pending);
	for (i = 0; i < 8; i++)
	{
		const char *size = list_length(cc->sizes) > i ? list_nth(cc->sizes, i) : NULL;

		types[i + 2] = INT8OID;
		values[i + 2] = Int64GetDatum(size && *size ? pg_strtoint64(size) : 0);
	}
	rc = SPI_execute_with_args("SELECT _timescaledb_functions.create_compressed_chunk("
							   "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
							   10, types, values, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));

	/* "compress" + the compressed hypertable's prefix + "_<id>_chunk" */
	newname = tsm_local_query_value("SELECT 'compress' || h.associated_table_prefix || '_' || c.id || '_chunk'"
									"  FROM _timescaledb_catalog.chunk c"
									"  JOIN _timescaledb_catalog.hypertable h"
									"    ON h.id OPERATOR(pg_catalog.=) c.hypertable_id"
									" WHERE c.schema_name OPERATOR(pg_catalog.=) $1"
									"   AND c.table_name OPERATOR(pg_catalog.=) $2",
									cc->src_schema, cc->pending);
	if (newname == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INTERNAL_ERROR),
				errmsg("TimescaleDB did not attach the compressed rows of chunk %s", cc->chunk));
	tsm_replay_statement(psprintf("ALTER TABLE %s RENAME TO %s",
								  quote_qualified_identifier(cc->src_schema, cc->pending),
								  quote_identifier(newname)),
						 T_RenameStmt, "compressed chunk of", cc->chunk);

	/*
	 * The chunk's compression settings as the source's: they describe the
	 * layout of the rows just copied (made with the settings, and the
	 * TimescaleDB version, of the time the source compressed them), which may
	 * not be what this hypertable's settings would make today.
	 */
	if (cc->settings != NULL)
	{
		types[0] = REGCLASSOID;
		values[0] = ObjectIdGetDatum(chunkid);
		types[1] = JSONBOID;
		values[1] = DirectFunctionCall1(jsonb_in, CStringGetDatum(cc->settings));
		rc = SPI_execute_with_args("UPDATE _timescaledb_catalog.compression_settings t"
								   "   SET segmentby = s.segmentby, orderby = s.orderby,"
								   "       orderby_desc = s.orderby_desc,"
								   "       orderby_nullsfirst = s.orderby_nullsfirst, index = s.index"
								   "  FROM pg_catalog.jsonb_populate_record("
								   "         NULL::_timescaledb_catalog.compression_settings,"
								   "         $2 OPERATOR(pg_catalog.-) 'relid' OPERATOR(pg_catalog.-) 'compress_relid') s"
								   " WHERE t.relid OPERATOR(pg_catalog.=) $1",
								   2, types, values, NULL, false, 0);
		if (rc != SPI_OK_UPDATE)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
		if (SPI_processed != 1)
			ereport(ERROR,
					errcode(ERRCODE_INTERNAL_ERROR),
					errmsg("TimescaleDB made no compression settings for chunk %s", cc->chunk));
	}

	/* the source's indexes, named after this side's table */
	forboth(dc, cc->indexdefs, nc, cc->indexnames)
	{
		const char *srcname = lfirst(nc);
		char	   *idxname;

		if (strncmp(srcname, cc->src_table, strlen(cc->src_table)) == 0)
			idxname = psprintf("%s%s", newname, srcname + strlen(cc->src_table));
		else
			idxname = pstrdup(srcname);
		if (strlen(idxname) >= NAMEDATALEN)
			idxname[NAMEDATALEN - 1] = '\0';
		tsm_replay_index_on(lfirst(dc), cc->src_schema, cc->src_table,
							cc->src_schema, newname, idxname);
	}
}

/*
 * tsm_compressed_pending_of
 *		The pending table here of the chunk "qualname" (quoted, qualified),
 *		quoted and qualified, or NULL: for emptying a chunk caught mid-copy.
 */
char *
tsm_compressed_pending_of(const char *qualname)
{
	return tsm_local_query_value("SELECT pg_catalog.format('%I.%I', n.nspname, p.relname)"
								 "  FROM _timescaledb_catalog.chunk ch"
								 "  JOIN pg_catalog.pg_class p"
								 "    ON p.relname OPERATOR(pg_catalog.=) ('" PENDING_PREFIX "' || ch.table_name)::pg_catalog.name"
								 "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.relnamespace"
								 " WHERE pg_catalog.format('%I.%I', ch.schema_name, ch.table_name) OPERATOR(pg_catalog.=) $1"
								 " LIMIT 1",
								 qualname, NULL);
}
