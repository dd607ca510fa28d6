/*-------------------------------------------------------------------------
 *
 * catalog_sql.c
 *	  Filling the markers of the schema generator's catalog queries
 *
 * IDENTIFICATION
 *	  src/schema/catalog_sql.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "catalog_sql.h"

/*
 * tsm_schema_subst
 *		Replace "@1@" in a query by "value".
 *
 * The queries are full of format() patterns, so they cannot be printf
 * formats themselves.
 */
char *
tsm_schema_subst(const char *sql, const char *value)
{
	return tsm_schema_subst_marker(sql, "@1@", value);
}

/*
 * tsm_schema_subst_marker
 *		Replace "marker" in a query by "value".
 */
char *
tsm_schema_subst_marker(const char *sql, const char *marker, const char *value)
{
	StringInfoData buf;
	const char *p;
	const char *hit;
	size_t		len = strlen(marker);

	initStringInfo(&buf);
	p = sql;
	while ((hit = strstr(p, marker)) != NULL)
	{
		appendBinaryStringInfo(&buf, p, hit - p);
		appendStringInfoString(&buf, value);
		p = hit + len;
	}
	appendStringInfoString(&buf, p);
	return buf.data;
}
