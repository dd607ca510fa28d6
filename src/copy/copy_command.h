/*-------------------------------------------------------------------------
 *
 * copy_command.h
 *	  What a copy reads on the source, and the COPY command that reads it
 *	  (copy_command.c)
 *
 * IDENTIFICATION
 *	  src/copy/copy_command.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_COPY_COMMAND_H
#define TSM_COPY_COMMAND_H

#include "libpq-fe.h"

/*
 * One read of the source, as pull_data and pull_chunks plan it: the
 * command text is made from it by tsm_copy_command only, when the copy
 * runs, as postgres_fdw's deparse.c makes its remote queries.
 */
typedef struct TsmCopyCommand
{
	const char *relation;		/* quoted, schema-qualified source name */
	const char *columns;		/* quoted column list; NULL or "": all */
	bool		query;			/* COPY (SELECT ...): the rows a query reads
								 * (a compressed chunk's rows decompressed) */
	bool		only;			/* with query: FROM ONLY, not the children */
	int64		first_block;	/* with query: from this block (0: first) */
	int64		end_block;		/* with query: before this block (0: to the
								 * end, including rows added since) */
	bool		binary;			/* binary allowed by the source and the
								 * columns' types (tsm_copy_binary_allowed) */
} TsmCopyCommand;

extern char *tsm_copy_command(const TsmCopyCommand *cmd, bool binary);
extern bool tsm_copy_binary_allowed(PGconn *conn);
extern bool tsm_copy_binary_here(const TsmCopyCommand *cmd);

#endif							/* TSM_COPY_COMMAND_H */
