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

#include "tsmigrate.h"

/* TsmCopyCommand, which every copy task carries, is in tsmigrate.h */

extern char *tsm_copy_command(const TsmCopyCommand *cmd, bool binary);
extern bool tsm_copy_binary_allowed(PGconn *conn);
extern bool tsm_copy_binary_here(const TsmCopyCommand *cmd);

#endif							/* TSM_COPY_COMMAND_H */
