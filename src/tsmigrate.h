/*-------------------------------------------------------------------------
 *
 * tsmigrate.h
 *	  Types and cross-file functions of tsmigrate
 *
 * Each group below names the file that owns it.  Files include this header
 * after their PostgreSQL headers.
 *
 * IDENTIFICATION
 *	  src/tsmigrate.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSMIGRATE_H
#define TSMIGRATE_H

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq-fe.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/relcache.h"

#include "compat.h"

struct ReturnSetInfo;

/*
 * A resolved source: what tsmigrate connects to.  keywords and values are
 * NULL-terminated arrays for PQconnectdbParams(), with the options that
 * tsmigrate forces (application_name, client_encoding) already appended.
 */
typedef struct TsmSource
{
	char	   *label;			/* for messages: server name, or host/dbname */
	Oid			serverid;		/* foreign server, or InvalidOid */
	bool		has_password;	/* did the caller supply a password? */
	const char **keywords;
	const char **values;
} TsmSource;

/*
 * Rows of a remote query, copied out of the PGresult into palloc'd memory
 * so that no libpq memory outlives the call that fetched it.  Read them
 * with the checked accessors of remote_rows.c: the source is not trusted.
 */
typedef struct TsmRows
{
	int			nrows;
	int			ncols;
	char	  **values;			/* nrows * ncols; NULL is SQL NULL */
	const char *what;			/* what the query reads, for messages */
	char	  **names;			/* column names as the source gave them, or
								 * NULL */
} TsmRows;

/*
 * One read of the source, as pull_data and pull_chunks plan it: the
 * command text is made from it by tsm_copy_command (copy/copy_command.c) only, when the copy
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

/*
 * One unit of copy work: a table, or one block range of a large table.
 * Built by pull_data.c, run by the leader or by copy workers (copy/copy_workers.c).
 */
typedef struct TsmCopyTask
{
	Oid			relid;			/* target table */
	int			relation;		/* result row this task adds to */
	TsmCopyCommand command;		/* what it reads on the source */
	int64		size;			/* source bytes to read, for ordering */
	char	   *columns;		/* target column names, '\0'-separated, ending
								 * with an empty name */
	int			columns_len;	/* bytes of "columns", final '\0' included */
	const char *mark;			/* migrate: the run_relation name to mark
								 * copying, then copied with this task */
	bool		leader_marks;	/* ... but copied by the leader, later */
	List	   *indexes;		/* migrate: TsmSchemaObjects, post-data index
								 * builds to run once the relation is copied */
	/* results, set once the task is copied */
	int64		rows;
	int64		bytes;
	int64		start;			/* TimestampTz of the copy's start */
	int64		end;			/* and of its end */
} TsmCopyTask;

/*
 * Copy work prepared by pull_data (tsm_data_prepare) or pull_chunks
 * (tsm_chunks_prepare): the tasks, and the preparer's own relations or
 * chunks, which it needs again afterwards.
 */
typedef struct TsmCopyPlan
{
	TsmCopyTask *tasks;
	int			ntasks;
	void	   *items;
	int			nitems;
} TsmCopyPlan;

/* in tsmigrate.c: the settings (module.c defines them) */
extern char *tsm_source_setting;
extern int	tsm_cancel_timeout_ms;
extern int	tsm_max_jobs;
extern int	tsm_copy_split_size_kb;
extern bool tsm_copy_binary;
extern bool tsm_copy_compressed;
extern bool tsm_copy_freeze;
extern bool tsm_copy_indexes;

/*
 * What the caller allows a source to bring beyond its own objects (the
 * "allow" argument of pull_roles, pull_schema and migrate).  consent.c.
 */
#define TSM_ALLOW_PARAMETER_PRIVILEGES	0x0001	/* GRANT ... ON PARAMETER */
#define TSM_ALLOW_CREATEROLE			0x0002	/* the CREATEROLE attribute */
#define TSM_ALLOW_C_FUNCTIONS			0x0004	/* LANGUAGE c or internal */
#define TSM_ALLOW_UNTRUSTED_LANGUAGES	0x0008	/* plpython3u, plperlu, ... */
#define TSM_ALLOW_EVENT_TRIGGERS		0x0010	/* CREATE EVENT TRIGGER */
#define TSM_ALLOW_EXISTING_OBJECTS		0x0020	/* changes to objects this run
												 * did not create */
#define TSM_ALLOW_SUPERUSER_DEFINER		0x0040	/* a SECURITY DEFINER function
												 * owned by a superuser here */
#define TSM_ALLOW_SUBSCRIPTIONS			0x0080	/* CREATE SUBSCRIPTION */

typedef struct TsmConsent
{
	bits32		flags;			/* TSM_ALLOW_* */
	List	   *member_of;		/* role names: memberships allowed in them */
	List	   *settings;		/* parameters that only a superuser may set,
								 * allowed as role settings */
} TsmConsent;

/*
 * How a schema section is generated: with the source's owners and
 * privileges (pg_dump's default) or without them (--no-owner,
 * --no-privileges), and what the caller allowed: NULL when the statements
 * are only shown (schema_sql), not run here.
 */
typedef struct TsmSchemaOptions
{
	bool		owners;
	bool		privileges;
	const TsmConsent *consent;
} TsmSchemaOptions;

#endif							/* TSMIGRATE_H */
