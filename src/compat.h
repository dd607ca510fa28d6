/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every PostgreSQL version test of tsmigrate lives here
 *
 * The rest of the code calls the names defined below and never tests
 * PG_VERSION_NUM itself, so that supporting another major version means
 * editing this file only.
 *
 * IDENTIFICATION
 *	  src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_COMPAT_H
#define TSM_COMPAT_H

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 180000
#error "tsmigrate supports PostgreSQL 15 to 17"
#endif

#define PG16_GE (PG_VERSION_NUM >= 160000)
#define PG17_GE (PG_VERSION_NUM >= 170000)

/*
 * libpq-be-fe-helpers.h with libpqsrv_exec() and libpqsrv_get_result()
 * reached the 15 branch in 15.13 (release-15.sgml, a back-patched v17-era
 * fix).  Older minors would need a vendored copy under src/import/; until
 * one is needed, refuse to build against them.
 */
#if PG_VERSION_NUM < 150013
#error "tsmigrate needs PostgreSQL 15.13 or later (libpq-be-fe-helpers.h)"
#endif
#include "libpq/libpq-be-fe-helpers.h"

/* custom wait events are new in 17 (commit c9af0546) */
#if PG17_GE
#define TsmWaitEventCompat(name) WaitEventExtensionNew(name)
#else
#define TsmWaitEventCompat(name) PG_WAIT_EXTENSION
#endif

/*
 * USAGE on a foreign server: pg_foreign_server_aclcheck() gave way to
 * object_aclcheck() in 16 (commit c727f511).
 */
#if PG16_GE
#define tsm_server_aclcheck(serverid, roleid, mode) \
	object_aclcheck(ForeignServerRelationId, (serverid), (roleid), (mode))
#else
#define tsm_server_aclcheck(serverid, roleid, mode) \
	pg_foreign_server_aclcheck((serverid), (roleid), (mode))
#endif

/*
 * Ownership of a table and privileges on a schema: pg_class_ownercheck()
 * and pg_namespace_aclcheck() gave way to object_ownercheck() and
 * object_aclcheck() in 16 (commits afbfc029, c727f511).
 */
#if PG16_GE
#define tsm_class_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#define tsm_namespace_aclcheck(nspid, roleid, mode) \
	object_aclcheck(NamespaceRelationId, (nspid), (roleid), (mode))
#else
#define tsm_class_ownercheck(relid, roleid) \
	pg_class_ownercheck((relid), (roleid))
#define tsm_namespace_aclcheck(nspid, roleid, mode) \
	pg_namespace_aclcheck((nspid), (roleid), (mode))
#endif

/*
 * May "member" give an object to "role" (ALTER ... OWNER TO)?  16 asks for
 * the right to SET ROLE to it (member_can_set_role, commit 3d14e171), 15
 * for membership.  CREATE on a database: pg_database_aclcheck() gave way
 * to object_aclcheck() in 16.
 */
#if PG16_GE
#define tsm_can_set_role(member, role) member_can_set_role((member), (role))
#define tsm_database_aclcheck(dbid, roleid, mode) \
	object_aclcheck(DatabaseRelationId, (dbid), (roleid), (mode))
#else
#define tsm_can_set_role(member, role) is_member_of_role((member), (role))
#define tsm_database_aclcheck(dbid, roleid, mode) \
	pg_database_aclcheck((dbid), (roleid), (mode))
#endif

/*
 * Send a cancel request for the query running on "conn", waiting at most
 * until "endtime".  Returns false, with the reason in errbuf, if the request
 * could not be sent.  17 has the interruptible libpqsrv_cancel() (commit
 * 61461a30); before it, PQcancel() is what postgres_fdw uses.
 */
static inline bool
tsm_compat_send_cancel(PGconn *conn, TimestampTz endtime, char *errbuf, int errbufsize)
{
#if PG17_GE
	const char *error = libpqsrv_cancel(conn, endtime);

	if (error != NULL)
	{
		strlcpy(errbuf, error, errbufsize);
		return false;
	}
	return true;
#else
	PGcancel   *cancel;
	bool		sent;

	(void) endtime;
	if ((cancel = PQgetCancel(conn)) == NULL)
	{
		strlcpy(errbuf, "out of memory", errbufsize);
		return false;
	}
	sent = PQcancel(cancel, errbuf, errbufsize) == 1;
	PQfreeCancel(cancel);
	return sent;
#endif
}

#endif							/* TSM_COMPAT_H */
