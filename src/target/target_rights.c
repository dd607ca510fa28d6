/*-------------------------------------------------------------------------
 *
 * target_rights.c
 *	  Whether the caller may create here what PostgreSQL keeps from most
 *	  roles (a subscription), and whether this server can take a security
 *	  label of a provider
 *
 * The same answer about a subscription serves preflight (a row that says
 * it is left out, and why) and the generator of a section that is to run
 * here, which leaves it out with a WARNING rather than letting its CREATE
 * fail half way: pg_dump's script, restored by such a role, fails there.
 *
 * IDENTIFICATION
 *	  src/target/target_rights.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/seclabel.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "miscadmin.h"

#include "compat.h"
#include "tsmigrate.h"
#include "target/target.h"

/*
 * tsm_may_create_subscription
 *		May the current user run CREATE SUBSCRIPTION ... WITH (connect =
 *		false) here, for a subscription with this password_required (true
 *		before 16) whose connection string holds a password or not?
 *		Otherwise *reason says why not, as CreateSubscription() would.
 */
bool
tsm_may_create_subscription(bool password_required, bool with_password,
							char **reason)
{
	Oid			roleid = GetUserId();
	const char *rolname;

	if (superuser_arg(roleid))
		return true;
	rolname = GetUserNameFromId(roleid, false);
	if (TSM_SUBSCRIPTIONS_SUPERUSER_ONLY)
		*reason = psprintf("Only superusers may create subscriptions on this server, and role \"%s\" is not one.",
						   rolname);
	else if (!tsm_has_create_subscription(roleid))
		*reason = psprintf("Role \"%s\" is not a superuser and has not the privileges of role \"pg_create_subscription\".",
						   rolname);
	else if (tsm_database_aclcheck(MyDatabaseId, roleid, ACL_CREATE) != ACLCHECK_OK)
		*reason = psprintf("Role \"%s\" has no CREATE privilege on the database.", rolname);
	else if (!password_required)
		*reason = psprintf("Only a superuser may create a subscription with password_required = false, and role \"%s\" is not one.",
						   rolname);
	else if (!with_password)
		*reason = pstrdup("Its connection string holds no password, which a subscription made by a role that is not a superuser must have.");
	else
		return true;
	return false;
}

/* ExecSecLabelStmt() of a statement that names only a provider */
static void
probe_provider(void *arg)
{
	(void) ExecSecLabelStmt((SecLabelStmt *) arg);
}

/*
 * tsm_label_provider_loaded
 *		Is the security label provider "provider" loaded in this backend?
 *
 * PostgreSQL lists its providers nowhere but in seclabel.c.  Its
 * ExecSecLabelStmt() looks the provider up before anything else, and then
 * refuses a kind of object that takes no label: a label for a cast, which
 * names no cast, fails with 42809 when the provider is loaded and with
 * 22023 when it is not, and changes nothing either way.
 */
bool
tsm_label_provider_loaded(const char *provider)
{
	SecLabelStmt *stmt = makeNode(SecLabelStmt);
	ErrorData  *edata;

	stmt->objtype = OBJECT_CAST;
	stmt->object = NULL;
	stmt->provider = pstrdup(provider);
	stmt->label = NULL;
	edata = tsm_subtransaction(probe_provider, stmt, false);
	if (edata == NULL)
		elog(ERROR, "a security label for a cast was accepted");
	if (edata->sqlerrcode == ERRCODE_WRONG_OBJECT_TYPE)
	{
		FreeErrorData(edata);
		return true;
	}
	if (edata->sqlerrcode == ERRCODE_INVALID_PARAMETER_VALUE)
	{
		FreeErrorData(edata);
		return false;
	}
	ReThrowError(edata);
	pg_unreachable();
}
