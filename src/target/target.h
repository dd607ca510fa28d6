/*-------------------------------------------------------------------------
 *
 * target.h
 *	  The target: the caller's allow words, one-value lookups, hypertables
 *	  (target/; the run state is state.h)
 *
 * IDENTIFICATION
 *	  src/target/target.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_TARGET_H
#define TSM_TARGET_H

#include "tsmigrate.h"

/* in consent.c */
extern TsmConsent *tsm_consent_parse(ArrayType *allow);
extern TsmConsent *tsm_consent_from_arg(FunctionCallInfo fcinfo, int argno);
extern bool tsm_consent_allows(const TsmConsent *consent, bits32 what);
extern bool tsm_consent_allows_membership(const TsmConsent *consent,
										  const char *rolname);
extern bool tsm_consent_allows_setting(const TsmConsent *consent,
									   const char *parameter);

/* in target_query.c */
extern char *tsm_local_query_value(const char *sql, const char *param1,
								   const char *param2);
extern bool tsm_target_created(const char *source, Oid classid, Oid objid);
extern bool tsm_local_has_row(const char *sql, const char *param1,
							  const char *param2);

/* in target_rights.c */
extern bool tsm_may_create_subscription(bool password_required, bool with_password,
										char **reason);
extern bool tsm_label_provider_loaded(const char *provider);

/* in target_hypertables.c */
extern bool tsm_target_is_hypertable(Oid relid);

/* in subtransaction.c */
extern ErrorData *tsm_subtransaction(void (*fn) (void *arg), void *arg, bool keep);

/* in target_tables.c */
extern bool tsm_target_heap_is_empty(Oid relid);
extern bool tsm_target_analyze(Oid relid);
extern const char *tsm_hypertable_sql(const char *sql);

#endif							/* TSM_TARGET_H */
