/*-------------------------------------------------------------------------
 *
 * copy_command.c
 *	  Every COPY ... TO STDOUT that tsmigrate runs on the source, built
 *	  from a TsmCopyCommand, and the one rule for binary COPY
 *
 * pull_data plans whole tables and block ranges of large ones, pull_chunks
 * plans chunks (read through the chunk, so that a compressed one is
 * decompressed) and compressed chunks (their compressed rows as they are);
 * all of them describe the read, and only this file writes the command.
 *
 * Binary COPY moves values in their binary send/receive form.  It is
 * allowed when
 *	- tsmigrate.copy_binary is on;
 *	- the source runs the same major version (binary formats of built-in
 *	  types are only promised within one);
 *	- the source's server encoding is the target database's: text values
 *	  then need no conversion, and the target does not check them again
 *	  (binary receive functions convert from the session's client_encoding
 *	  without checking when the two encodings are the same);
 *	- the columns' types are built-in ones (the planner's check, per table);
 *	- the backend that runs COPY FROM has the database's encoding as its
 *	  client_encoding: textrecv converts from it.  Copy workers set it; a
 *	  caller's session may have another (tsm_copy_binary_here).
 *
 * IDENTIFICATION
 *	  src/copy/copy_command.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"

#include "tsmigrate.h"
#include "copy/copy_command.h"

/*
 * tsm_copy_command
 *		The COPY ... TO STDOUT that reads "cmd" on the source, in binary
 *		format if "binary".
 */
char *
tsm_copy_command(const TsmCopyCommand *cmd, bool binary)
{
	StringInfoData sql;
	bool		has_columns = cmd->columns != NULL && cmd->columns[0] != '\0';
	bool		ranged = cmd->first_block > 0 || cmd->end_block > 0;

	Assert(cmd->query || (!cmd->only && !ranged));
	Assert(!binary || cmd->binary);

	initStringInfo(&sql);
	if (!cmd->query)
		appendStringInfo(&sql, "COPY %s%s%s%s TO STDOUT",
						 cmd->relation,
						 has_columns ? " (" : "",
						 has_columns ? cmd->columns : "",
						 has_columns ? ")" : "");
	else
	{
		appendStringInfo(&sql, "COPY (SELECT %s FROM %s%s",
						 has_columns ? cmd->columns : "",
						 cmd->only ? "ONLY " : "",
						 cmd->relation);
		if (ranged)
			appendStringInfoString(&sql, " WHERE ");
		if (cmd->first_block > 0)
			appendStringInfo(&sql, "ctid OPERATOR(pg_catalog.>=) '(" INT64_FORMAT ",0)'::pg_catalog.tid",
							 cmd->first_block);
		if (cmd->first_block > 0 && cmd->end_block > 0)
			appendStringInfoString(&sql, " AND ");
		if (cmd->end_block > 0)
			appendStringInfo(&sql, "ctid OPERATOR(pg_catalog.<) '(" INT64_FORMAT ",0)'::pg_catalog.tid",
							 cmd->end_block);
		appendStringInfoString(&sql, ") TO STDOUT");
	}
	if (binary)
		appendStringInfoString(&sql, " WITH (FORMAT binary)");
	return sql.data;
}

/*
 * tsm_copy_binary_allowed
 *		May this source send binary COPY at all (the setting, its major
 *		version and its encoding)?  The planner adds the columns' types.
 */
bool
tsm_copy_binary_allowed(PGconn *conn)
{
	const char *encoding = PQparameterStatus(conn, "server_encoding");

	return tsm_copy_binary &&
		PQserverVersion(conn) / 10000 == PG_VERSION_NUM / 10000 &&
		encoding != NULL && strcmp(encoding, GetDatabaseEncodingName()) == 0;
}

/*
 * tsm_copy_binary_here
 *		Binary for "cmd" in this backend: a caller's session whose
 *		client_encoding is not the database's reads text instead.
 */
bool
tsm_copy_binary_here(const TsmCopyCommand *cmd)
{
	return cmd->binary && pg_get_client_encoding() == GetDatabaseEncoding();
}
