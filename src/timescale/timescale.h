/*-------------------------------------------------------------------------
 *
 * timescale.h
 *	  TimescaleDB: hypertables, chunks, compressed chunks, continuous
 *	  aggregates, jobs (timescale/)
 *
 * IDENTIFICATION
 *	  src/timescale/timescale.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_TIMESCALE_H
#define TSM_TIMESCALE_H

#include "tsmigrate.h"

/* in timescale.c */
extern TsmCopyPlan *tsm_chunks_prepare(PGconn *conn, ArrayType *wanted);
extern void tsm_chunks_attach(TsmCopyPlan *plan, int64 run_id);
extern bool tsm_source_has_timescaledb(PGconn *conn);
extern int64 tsm_compress_chunks(PGconn *conn, struct ReturnSetInfo *rsinfo);

/* what pull_hypertables did (tsm_pull_hypertables) */
typedef struct TsmHypertablesDone
{
	int			hypertables;	/* and continuous aggregates */
	int64		chunks;
	int64		compressed;		/* chunks compressed on the source */
} TsmHypertablesDone;

extern void tsm_pull_hypertables(TsmSource *src, bool with_data,
								 TsmHypertablesDone *done);
typedef struct TsmHypertablesPull TsmHypertablesPull;
extern TsmHypertablesPull *tsm_hypertables_begin(TsmSource *src, bool resume);
extern int	tsm_hypertables_chunk_count(TsmHypertablesPull *pull);
extern void tsm_hypertables_chunks(TsmHypertablesPull *pull, int from, int count);
extern void tsm_hypertables_end(TsmHypertablesPull *pull, TsmHypertablesDone *done);

extern List *tsm_source_hypertables(PGconn *conn);
extern bool tsm_is_hypertable(List *hypertables, const char *qualname);
extern TsmRows *tsm_source_chunks(PGconn *conn);
extern bool tsm_target_is_chunk(const char *qualname);
extern struct HTAB *tsm_target_chunk_names(void);
extern bool tsm_target_chunk_names_has(struct HTAB *names, const char *qualname);
extern char *tsm_timescaledb_schema(void);

/* in jobs.c */
extern int	tsm_pull_jobs(TsmSource *src, bool owners, int *created);

/* in compressed_copy.c */
typedef struct TsmCompressed
{
	char	   *chunk;			/* the chunk, quoted, qualified (both sides) */
	char	   *src_schema;		/* the source's compressed chunk */
	char	   *src_table;
	char	   *pending;		/* the table here that takes its rows, in
								 * src_schema */
	char	   *coldefs;		/* its columns: "name type, ..." */
	char	   *srccols;		/* quoted column list */
	char	   *tgtcols;		/* '\0'-separated names, ending with "" */
	int			tgtcols_len;
	bool		binary;			/* every type has binary send/receive */
	List	   *sizes;			/* compression_chunk_size's eight, as text */
	List	   *indexdefs;		/* the compressed chunk's indexes */
	List	   *indexnames;
	char	   *settings;		/* its compression settings, as JSON */
} TsmCompressed;

extern TsmCompressed *tsm_compressed_chunks(PGconn *conn, int *n);
extern TsmCompressed *tsm_compressed_find(TsmCompressed *ccs, int n,
										  const char *qualname);
extern Oid	tsm_compressed_pending_relid(const TsmCompressed *cc);
extern void tsm_compressed_prepare(const TsmCompressed *cc);
extern void tsm_compressed_attach(const TsmCompressed *cc, Oid chunkid);
extern char *tsm_compressed_pending_of(const char *qualname);

/* in caggs.c */
extern Oid	tsm_cagg_create(PGconn *conn, int mat_id);
extern Oid	tsm_cagg_target_relid(const char *schema, const char *view);
extern void tsm_caggs_finish(PGconn *conn, struct ReturnSetInfo *rsinfo);

#endif							/* TSM_TIMESCALE_H */
