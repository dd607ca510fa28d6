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

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 190000
#error "tsmigrate supports PostgreSQL 15 to 18"
#endif

#define PG16_GE (PG_VERSION_NUM >= 160000)
#define PG17_GE (PG_VERSION_NUM >= 170000)
#define PG18_GE (PG_VERSION_NUM >= 180000)

/*
 * NOT NULL constraints are catalogued in pg_constraint, with names, from
 * 18 on: schema_tables.c makes a partition with NOT NULL columns on its
 * own, so that its constraints are named as pg_dump's restore names them.
 */
#define TSM_NAMED_NOT_NULL PG18_GE

/*
 * libpq-be-fe-helpers.h with libpqsrv_exec() and libpqsrv_get_result() is
 * new in 17 (commit d3c5f37d); it reached the 15 and 16 branches in the
 * minor releases of 2025-05-08, 15.13 and 16.9 (release-15.sgml, a
 * back-patched fix).  Older minors would need a vendored copy under
 * src/import/; until one is needed, refuse to build against them.
 */
#if PG_VERSION_NUM < 150013 || (PG16_GE && PG_VERSION_NUM < 160009)
#error "tsmigrate needs PostgreSQL 15.13, 16.9 or later (libpq-be-fe-helpers.h)"
#endif
#include "libpq/libpq-be-fe-helpers.h"

/*
 * A function that does not return: pg_attribute_noreturn(), after the
 * declaration, is gone in 18, for C11's _Noreturn; pg_noreturn, new in
 * 18, goes before the declaration.
 */
#if PG18_GE
#define tsm_noreturn pg_noreturn
#define tsm_noreturn_after
#else
#define tsm_noreturn
#define tsm_noreturn_after pg_attribute_noreturn()
#endif

/*
 * A replication origin for this session: 16 added which process may share
 * it (commit 216a7848), 0 for none.
 */
#if PG16_GE
#define tsm_replorigin_session_setup(origin) replorigin_session_setup((origin), 0)
#else
#define tsm_replorigin_session_setup(origin) replorigin_session_setup(origin)
#endif

/* custom wait events are new in 17 (commit c9af0546) */
#if PG17_GE
#define TsmWaitEventCompat(name) WaitEventExtensionNew(name)
#else
#define TsmWaitEventCompat(name) PG_WAIT_EXTENSION
#endif

/*
 * USAGE on a foreign server: pg_foreign_server_aclcheck() gave way to
 * object_aclcheck() in 16 (commit c727f511), which takes the catalog's OID.
 */
#if PG16_GE
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_namespace.h"
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
 * Who may create a subscription: before 16 a superuser only, who alone may
 * own one too; from 16 on also a role with the privileges of
 * pg_create_subscription (commit c3afe8cf), and any role may own one.
 */
#if PG16_GE
#include "catalog/pg_authid.h"
#define TSM_SUBSCRIPTIONS_SUPERUSER_ONLY false
#define tsm_has_create_subscription(roleid) \
	has_privs_of_role((roleid), ROLE_PG_CREATE_SUBSCRIPTION)
#else
#define TSM_SUBSCRIPTIONS_SUPERUSER_ONLY true
#define tsm_has_create_subscription(roleid) false
#endif

/*
 * A cancel request for the query running on a source connection, sent
 * without blocking the backend, so that the abort path can bound its wait
 * and give up when the backend is cancelled or terminated meanwhile
 * (conn.c's close_for_abort drives it):
 *
 *	tsm_cancel_start()	starts the request; false, with the reason in
 *						c->error, if it could not
 *	tsm_cancel_poll()	TSM_CANCEL_DONE when the source has the request,
 *						TSM_CANCEL_FAILED (reason in c->error), or the
 *						WL_SOCKET_* events to wait for on *sock
 *	tsm_cancel_finish()	releases everything, whatever the state
 *
 * libpq 17 and later have the non-blocking PQcancelCreate/PQcancelStart/
 * PQcancelPoll (LIBPQ_HAS_ASYNC_CANCEL), whatever the server's version.
 * Older libpq has only PQcancel(), which connects and then waits for the
 * source's postmaster to close the socket, with no timeout and retrying on
 * EINTR: a source host that accepts connections but never answers (a
 * stopped postmaster, a hostile peer) would hold the backend forever,
 * beyond pg_terminate_backend.  There, PQcancel() runs in a child process
 * that does nothing else (all signals blocked, no exit callbacks) and
 * reports through a pipe; giving up means SIGKILL and waitpid, as
 * COPY ... PROGRAM's children are also plain forks of the backend.
 */
#define TSM_CANCEL_DONE		(-1)
#define TSM_CANCEL_FAILED	(-2)

#ifdef LIBPQ_HAS_ASYNC_CANCEL

typedef struct TsmCancel
{
	PGcancelConn *cancel_conn;
	char		error[256];
} TsmCancel;

static inline bool
tsm_cancel_start(TsmCancel *c, PGconn *conn)
{
	c->error[0] = '\0';
	c->cancel_conn = PQcancelCreate(conn);
	if (c->cancel_conn == NULL)
	{
		strlcpy(c->error, "out of memory", sizeof(c->error));
		return false;
	}
	if (!PQcancelStart(c->cancel_conn))
	{
		strlcpy(c->error, PQcancelErrorMessage(c->cancel_conn), sizeof(c->error));
		return false;
	}
	return true;
}

static inline int
tsm_cancel_poll(TsmCancel *c, pgsocket *sock)
{
	switch (PQcancelPoll(c->cancel_conn))
	{
		case PGRES_POLLING_OK:
			return TSM_CANCEL_DONE;
		case PGRES_POLLING_READING:
			*sock = PQcancelSocket(c->cancel_conn);
			return WL_SOCKET_READABLE;
		case PGRES_POLLING_WRITING:
			*sock = PQcancelSocket(c->cancel_conn);
			return WL_SOCKET_WRITEABLE;
		default:
			strlcpy(c->error, PQcancelErrorMessage(c->cancel_conn), sizeof(c->error));
			return TSM_CANCEL_FAILED;
	}
}

static inline void
tsm_cancel_finish(TsmCancel *c)
{
	if (c->cancel_conn != NULL)
		PQcancelFinish(c->cancel_conn);
	c->cancel_conn = NULL;
}

#else							/* !LIBPQ_HAS_ASYNC_CANCEL */

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

typedef struct TsmCancel
{
	pid_t		pid;			/* the child, until reaped */
	int			fd;				/* read end of its pipe */
	int			got;			/* bytes of "reply" read so far */
	char		reply[256];		/* '1', or '0' and libpq's error */
	char		error[256];
} TsmCancel;

static inline bool
tsm_cancel_start(TsmCancel *c, PGconn *conn)
{
	PGcancel   *cancel;
	int			fds[2];

	c->pid = -1;
	c->fd = -1;
	c->got = 0;
	c->error[0] = '\0';
	if ((cancel = PQgetCancel(conn)) == NULL)
	{
		strlcpy(c->error, "out of memory", sizeof(c->error));
		return false;
	}
	if (pipe(fds) != 0)
	{
		snprintf(c->error, sizeof(c->error), "could not create pipe: %m");
		PQfreeCancel(cancel);
		return false;
	}
	c->pid = fork();
	if (c->pid == 0)
	{
		sigset_t	all;
		char		reply[256];

		/* the child: nothing of the backend's, only PQcancel() */
		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
#if defined(HAVE_SYS_PRCTL_H) && defined(PR_SET_PDEATHSIG)
		(void) prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
		close(fds[0]);
		reply[0] = '0';
		if (PQcancel(cancel, reply + 1, sizeof(reply) - 1) == 1)
			reply[0] = '1';
		if (write(fds[1], reply, 1 + strlen(reply + 1)) < 0)
			_exit(1);
		_exit(0);
	}
	PQfreeCancel(cancel);
	close(fds[1]);
	if (c->pid < 0)
	{
		snprintf(c->error, sizeof(c->error), "could not fork: %m");
		close(fds[0]);
		return false;
	}
	c->fd = fds[0];
	(void) fcntl(c->fd, F_SETFL, O_NONBLOCK);
	return true;
}

static inline int
tsm_cancel_poll(TsmCancel *c, pgsocket *sock)
{
	for (;;)
	{
		ssize_t		n = read(c->fd, c->reply + c->got, sizeof(c->reply) - 1 - c->got);

		if (n > 0)
		{
			c->got += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
			c->got < (int) sizeof(c->reply) - 1)
		{
			*sock = c->fd;
			return WL_SOCKET_READABLE;
		}
		break;
	}
	/* end of file: the child has said all it will say */
	c->reply[c->got] = '\0';
	if (c->got > 0 && c->reply[0] == '1')
		return TSM_CANCEL_DONE;
	strlcpy(c->error, c->got > 1 ? c->reply + 1 : "cancel request failed",
			sizeof(c->error));
	return TSM_CANCEL_FAILED;
}

static inline void
tsm_cancel_finish(TsmCancel *c)
{
	if (c->pid > 0)
	{
		(void) kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->pid = -1;
	c->fd = -1;
}

#endif							/* LIBPQ_HAS_ASYNC_CANCEL */

#endif							/* TSM_COMPAT_H */
