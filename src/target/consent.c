/*-------------------------------------------------------------------------
 *
 * consent.c
 *	  What the caller allows a source to bring beyond its own objects
 *
 * A source is trusted with its own objects and nothing more.  Whatever
 * could hand it more than that on the target (a membership in a role this
 * run did not create, a parameter privilege, CREATEROLE, a function in C or
 * an untrusted language, an event trigger, a change to an object this run
 * did not create, a SECURITY DEFINER function owned by a role that is a
 * superuser here, a subscription, which points this server at a host of
 * the source's choosing) is refused unless the caller names it in the "allow"
 * argument of pull_roles, pull_schema or migrate.  This file parses that
 * argument; the files that generate or replay statements ask it.
 *
 * IDENTIFICATION
 *	  src/target/consent.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "tsmigrate.h"
#include "target/target.h"

#define MEMBERSHIP_PREFIX "membership:"
#define SETTING_PREFIX "setting:"

static const struct
{
	const char *word;
	bits32		flag;
}			consent_words[] =

{
	{"parameter_privileges", TSM_ALLOW_PARAMETER_PRIVILEGES},
	{"createrole", TSM_ALLOW_CREATEROLE},
	{"c_functions", TSM_ALLOW_C_FUNCTIONS},
	{"untrusted_languages", TSM_ALLOW_UNTRUSTED_LANGUAGES},
	{"event_triggers", TSM_ALLOW_EVENT_TRIGGERS},
	{"existing_objects", TSM_ALLOW_EXISTING_OBJECTS},
	{"superuser_definer", TSM_ALLOW_SUPERUSER_DEFINER},
	{"subscriptions", TSM_ALLOW_SUBSCRIPTIONS},
};

/*
 * tsm_consent_parse
 *		The caller's "allow" array: words from consent_words, and
 *		"membership:ROLE" for each existing or predefined role in which the
 *		source's roles may be made members, and "setting:PARAMETER" for each
 *		parameter that only a superuser may set which the source's roles may
 *		have as a role setting.  NULL allows nothing.
 */
TsmConsent *
tsm_consent_parse(ArrayType *allow)
{
	TsmConsent *consent = palloc0(sizeof(TsmConsent));
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int			i;

	if (allow == NULL)
		return consent;
	if (ARR_NDIM(allow) > 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("allow must be a one-dimensional array"));
	deconstruct_array(allow, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	for (i = 0; i < nelems; i++)
	{
		char	   *word;
		bool		known = false;
		int			w;

		if (nulls[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("allow must not contain nulls"));
		word = TextDatumGetCString(elems[i]);
		if (strncmp(word, MEMBERSHIP_PREFIX, strlen(MEMBERSHIP_PREFIX)) == 0 &&
			word[strlen(MEMBERSHIP_PREFIX)] != '\0')
		{
			consent->member_of = lappend(consent->member_of,
										 pstrdup(word + strlen(MEMBERSHIP_PREFIX)));
			continue;
		}
		if (strncmp(word, SETTING_PREFIX, strlen(SETTING_PREFIX)) == 0 &&
			word[strlen(SETTING_PREFIX)] != '\0')
		{
			consent->settings = lappend(consent->settings,
										pstrdup(word + strlen(SETTING_PREFIX)));
			continue;
		}
		for (w = 0; w < lengthof(consent_words); w++)
		{
			if (strcmp(word, consent_words[w].word) == 0)
			{
				consent->flags |= consent_words[w].flag;
				known = true;
				break;
			}
		}
		if (!known)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("unrecognized value in allow: \"%s\"", word),
					errhint("Valid values are \"membership:ROLE\", \"setting:PARAMETER\", \"parameter_privileges\", "
							"\"createrole\", \"c_functions\", \"untrusted_languages\", "
							"\"event_triggers\", \"existing_objects\", \"superuser_definer\" and \"subscriptions\"."));
	}
	return consent;
}

/*
 * tsm_consent_from_arg
 *		The "allow" argument at argno, or allow nothing when it is absent or
 *		NULL.
 */
TsmConsent *
tsm_consent_from_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return tsm_consent_parse(NULL);
	return tsm_consent_parse(PG_GETARG_ARRAYTYPE_P(argno));
}

/* Did the caller allow this kind of thing? */
bool
tsm_consent_allows(const TsmConsent *consent, bits32 what)
{
	return consent != NULL && (consent->flags & what) == what;
}

/* Did the caller allow memberships in this role, by its exact name? */
bool
tsm_consent_allows_membership(const TsmConsent *consent, const char *rolname)
{
	ListCell   *lc;

	if (consent == NULL)
		return false;
	foreach(lc, consent->member_of)
	{
		if (strcmp((const char *) lfirst(lc), rolname) == 0)
			return true;
	}
	return false;
}

/*
 * May the source's roles have a setting of this parameter that users cannot
 * set themselves?  GUC names are case-insensitive.
 */
bool
tsm_consent_allows_setting(const TsmConsent *consent, const char *parameter)
{
	ListCell   *lc;

	if (consent == NULL)
		return false;
	foreach(lc, consent->settings)
	{
		if (pg_strcasecmp((const char *) lfirst(lc), parameter) == 0)
			return true;
	}
	return false;
}
