/*-------------------------------------------------------------------------
 *
 * apply_int.h
 *	  What apply.c and apply_relations.c share: a run's apply, and what it
 *	  knows of each relation of the source
 *
 * IDENTIFICATION
 *	  src/stream/apply_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_APPLY_INT_H
#define TSM_APPLY_INT_H

#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/bitmapset.h"
#include "replication/logicalproto.h"
#include "utils/hsearch.h"

#include "stream/stream.h"

/* what becomes of a source relation's changes */
typedef enum StreamRelMode
{
	REL_APPLY,					/* applied to "target" */
	REL_IGNORE,					/* an extension's own table, a compressed
								 * chunk */
} StreamRelMode;

/* a source relation, as its last Relation message described it */
typedef struct StreamRel
{
	LogicalRepRelId remoteid;	/* hash key */
	StreamRelMode mode;
	char	   *qualname;		/* quoted, as on the source */
	Oid			target;			/* REL_APPLY: the relation written */
	bool		is_chunk;		/* the source relation is a chunk of target */
	bool		written;		/* noted as written by this worker */
	char	   *owner_chunk;	/* REL_IGNORE, a compressed chunk: its chunk,
								 * quoted as on the source, or NULL */
	char	   *target_name;	/* its quoted name */
	char	   *target_sql;		/* in UPDATE and DELETE: with ONLY, but for a
								 * hypertable */
	char		replident;
	int			natts;
	AttrNumber *attnum;			/* target column of each remote column */
	Oid		   *atttype;
	int32	   *atttypmod;
	bool	   *identity_always;	/* GENERATED ALWAYS AS IDENTITY */
	Bitmapset  *keys;			/* remote columns of the replica identity */
	FmgrInfo   *input;
	Oid		   *ioparam;
	SPIPlanPtr	insert_plan;
	SPIPlanPtr	update_plan;	/* every column sent, by key */
	SPIPlanPtr	delete_plan;	/* by key */
	MemoryContext cxt;			/* all of the above, but the plans */
	bool		described;		/* tsm_apply_describe went through */
	/* the changes applied since the last flush (tsm_apply_flush) */
	int64		source_delta;	/* rows the source inserted less deleted */
	int64		target_delta;	/* rows here the changes inserted less deleted */
	bool		recount;		/* a change did not touch one row exactly, or
								 * a TRUNCATE: verify counts it again */
	bool		dirty;			/* in TsmApply.dirty */
	int64		recopy_noted;	/* noted in the transaction numbered so */
} StreamRel;

struct TsmApply
{
	int64		run_id;
	const char *source;			/* tsmigrate.run.source */
	TsmSource  *src;
	PGconn	   *conn;			/* a session on the source, for its catalog */
	int			has_timescaledb;	/* on the source: -1 unknown */
	MemoryContext cxt;			/* the relations' entries and plans */
	HTAB	   *rels;
	bool		in_remote_xact;
	XLogRecPtr	last_commit;	/* end of the last applied transaction */
	TimestampTz last_committime;
	int64		xacts;
	int64		missed;			/* rows an update or delete did not find */
	char	   *marker;			/* the last tsmigrate message seen */
	int64		nmarkers;		/* how many came */
	int			compression;	/* inside TimescaleDB's (de)compression
								 * markers */
	List	   *dirty;			/* StreamRels with changes to flush */
};

/* in apply_notes.c */
extern void tsm_apply_note_recopy(TsmApply *apply, const char *chunk);
extern void tsm_apply_note_written(TsmApply *apply, StreamRel *rel);
extern void tsm_apply_count_change(TsmApply *apply, StreamRel *rel,
								   int source_delta, uint64 processed);

/* in apply_relations.c */
extern void tsm_apply_describe(TsmApply *apply, StreamRel *rel,
							   LogicalRepRelation *remote);

#endif							/* TSM_APPLY_INT_H */
