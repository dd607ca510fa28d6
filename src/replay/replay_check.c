/*-------------------------------------------------------------------------
 *
 * replay_check.c
 *	  What a statement from the source may do here, decided here
 *
 * Everything about a schema statement is the source's to choose: its text,
 * the node type it claims to be ("CreateTrigStmt:..."), the kind and name
 * of the object it claims to belong to; a man in the middle chooses them
 * too.  So the replay looks only at the parse tree it makes of the text
 * here, and tsm_replay_check refuses, with 42501, a message naming the
 * object and a hint naming the word of the caller's "allow" argument that
 * would let it through:
 *
 *	- a statement that is none of those the object's kind is made of, as
 *	  the generator writes them (kind_statements): a comment that is
 *	  really a CREATE FUNCTION, say;
 *	- code that runs with the server's own rights, and crashes it when
 *	  declared wrong (c_functions): a function in C or internal, a planner
 *	  support function, a base type, a text search parser or template, an
 *	  aggregate whose state is "internal", an operator class's support
 *	  function that takes "internal", a procedural language (its handler
 *	  runs every function written in it);
 *	- a function in a language that is not trusted, or such a language
 *	  (untrusted_languages);
 *	- an event trigger (event_triggers), which would run on every DDL
 *	  command of every role;
 *	- a subscription (subscriptions), which points this server at a host
 *	  of the source's choosing (check_subscription);
 *	- a statement that changes an object this migration did not create, or
 *	  hangs something on it (existing_objects): a trigger, rule, policy,
 *	  index, statistics object, comment, security label, owner or grant on
 *	  a table that was here before, row level security switched on it, a
 *	  table attached to it as a partition or child, a foreign key that
 *	  references it, a foreign table or user mapping on a server that was
 *	  here before, a new object in a system schema, in tsmigrate's schema or
 *	  in a schema of an extension.  The comment of schema public, which the target always
 *	  has, is the one exception, as pg_dump restores it.
 *
 * A partition bound must be constants: PostgreSQL evaluates it when the
 * table is created, and pg_dump never writes anything else.
 *
 * NOTES
 *	"Created by this migration": while a source statement runs, the object
 *	access hook notes every object PostgreSQL creates (tsm_replay_watch):
 *	what one call of pull_schema, or one schema worker, created so far.
 *	Schemas and relations are also written to tsmigrate.created_object,
 *	keyed by the role and the source, so that post-data (another call, or a
 *	worker in another transaction) knows the schemas and tables that
 *	pre-data made.  An index
 *	counts as its table, an identity sequence as its table, a TimescaleDB
 *	chunk as its hypertable (TimescaleDB makes chunks of the tables this
 *	migration made).  An object that does not exist here changes nothing
 *	that was here before: the statement creates it, or fails.
 *
 * IDENTIFICATION
 *	  src/replay/replay_check.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_publication.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "tsmigrate.h"
#include "remote/remote.h"
#include "replay/replay.h"
#include "schema/schema.h"
#include "target/target.h"

/* did the caller's allow argument name this? */
#define ALLOWED(guard, what) (((guard)->allow & (what)) == (what))

/* the statements each kind of object is made of (schema_*.c, schema_owners.c) */
#define MAX_KIND_STATEMENTS 8
static const struct
{
	const char *kind;
	NodeTag		tags[MAX_KIND_STATEMENTS];
}			kind_statements[] =

{
	{"schema", {T_CreateSchemaStmt, T_CommentStmt, T_AlterOwnerStmt, T_GrantStmt, T_SecLabelStmt}},
	{"schema comment", {T_CommentStmt}},
	{"access method", {T_CreateAmStmt, T_CommentStmt}},
	{"procedural language", {T_CreatePLangStmt, T_CommentStmt, T_AlterOwnerStmt, T_GrantStmt, T_SecLabelStmt}},
	{"type", {T_CreateEnumStmt, T_CompositeTypeStmt, T_CreateRangeStmt, T_DefineStmt, T_CommentStmt, T_AlterOwnerStmt, T_GrantStmt, T_SecLabelStmt}},
	{"shell type", {T_DefineStmt}},
	{"domain", {T_CreateDomainStmt, T_AlterDomainStmt, T_CommentStmt, T_AlterOwnerStmt, T_GrantStmt, T_SecLabelStmt}},
	{"function", {T_CreateFunctionStmt, T_CommentStmt, T_AlterOwnerStmt, T_GrantStmt, T_SecLabelStmt}},
	{"procedure", {T_CreateFunctionStmt, T_CommentStmt, T_AlterOwnerStmt, T_GrantStmt, T_SecLabelStmt}},
	{"aggregate", {T_DefineStmt, T_CommentStmt, T_AlterOwnerStmt, T_GrantStmt, T_SecLabelStmt}},
	{"cast", {T_CreateCastStmt, T_CommentStmt}},
	{"transform", {T_CreateTransformStmt, T_CommentStmt}},
	{"operator", {T_DefineStmt, T_CommentStmt, T_AlterOwnerStmt}},
	{"collation", {T_DefineStmt, T_CommentStmt, T_AlterOwnerStmt}},
	{"operator family", {T_CreateOpFamilyStmt, T_AlterOpFamilyStmt, T_CommentStmt, T_AlterOwnerStmt}},
	{"operator class", {T_CreateOpClassStmt, T_CommentStmt, T_AlterOwnerStmt}},
	{"text search parser", {T_DefineStmt, T_CommentStmt}},
	{"text search template", {T_DefineStmt, T_CommentStmt}},
	{"conversion", {T_CreateConversionStmt, T_CommentStmt, T_AlterOwnerStmt}},
	{"text search dictionary", {T_DefineStmt, T_CommentStmt, T_AlterOwnerStmt}},
	{"text search configuration", {T_DefineStmt, T_AlterTSConfigurationStmt, T_CommentStmt, T_AlterOwnerStmt}},
	{"foreign-data wrapper", {T_CreateFdwStmt, T_CommentStmt, T_AlterOwnerStmt, T_GrantStmt}},
	{"server", {T_CreateForeignServerStmt, T_CreateUserMappingStmt, T_CommentStmt, T_AlterOwnerStmt, T_GrantStmt}},
	{"sequence", {T_CreateSeqStmt, T_AlterSeqStmt, T_CommentStmt, T_AlterTableStmt, T_GrantStmt, T_SecLabelStmt}},
	{"table", {T_CreateStmt, T_AlterTableStmt, T_CommentStmt, T_GrantStmt, T_SecLabelStmt}},
	{"foreign table", {T_CreateForeignTableStmt, T_AlterTableStmt, T_CommentStmt, T_GrantStmt, T_SecLabelStmt}},
	{"default", {T_AlterTableStmt}},
	{"check constraint", {T_AlterTableStmt, T_CommentStmt}},
	{"view", {T_ViewStmt, T_CommentStmt, T_AlterTableStmt, T_GrantStmt, T_SecLabelStmt}},
	{"view placeholder", {T_ViewStmt}},
	{"materialized view", {T_CreateTableAsStmt, T_CommentStmt, T_AlterTableStmt, T_GrantStmt, T_SecLabelStmt}},
	{"index", {T_IndexStmt, T_AlterTableStmt, T_CommentStmt}},
	{"constraint", {T_AlterTableStmt, T_IndexStmt, T_CommentStmt}},
	{"trigger", {T_CreateTrigStmt, T_AlterTableStmt, T_CommentStmt}},
	{"rule", {T_RuleStmt, T_AlterTableStmt, T_CommentStmt}},
	{"row security", {T_AlterTableStmt}},
	{"policy", {T_CreatePolicyStmt, T_CommentStmt}},
	{"statistics", {T_CreateStatsStmt, T_AlterStatsStmt, T_CommentStmt, T_AlterOwnerStmt}},
	{"publication", {T_CreatePublicationStmt, T_AlterPublicationStmt, T_CommentStmt, T_AlterOwnerStmt, T_SecLabelStmt}},
	{"subscription", {T_CreateSubscriptionStmt, T_CommentStmt, T_AlterOwnerStmt, T_SecLabelStmt}},
	{"event trigger", {T_CreateEventTrigStmt, T_AlterEventTrigStmt, T_CommentStmt, T_AlterOwnerStmt, T_SecLabelStmt}},
	{"materialized view data", {T_RefreshMatViewStmt}},
	{"default privileges", {T_AlterDefaultPrivilegesStmt}},
	{"privileges", {T_GrantStmt}},
};

/* a created object, as the object access hook names it */
typedef struct CreatedKey
{
	Oid			classid;
	Oid			objid;
} CreatedKey;

static object_access_hook_type prev_object_access_hook = NULL;
static TsmReplayGuard *watching = NULL;

static void note_created(ObjectAccessType access, Oid classId, Oid objectId,
						 int subId, void *arg);
static bool created_here(TsmReplayGuard *guard, Oid classid, Oid objid);
static bool recorded(Oid classid, Oid objid, const TsmReplayGuard *guard);
static bool object_is_ours(Oid classid, Oid objid, TsmReplayGuard *guard);
static void lookup_object(ObjectType objtype, Node *object, ObjectAddress *address,
						  Oid *relid);

/* what lookup_object_address needs of lookup_object */
typedef struct LookupArgs
{
	ObjectType	objtype;
	Node	   *object;
	ObjectAddress *address;
	Oid		   *relid;
} LookupArgs;

static void lookup_object_address(void *arg);
static Oid	chunk_hypertable(Oid relid);
static void check_kind(const TsmSchemaObject *obj, Node *stmt);
static bool define_fits(const char *kind, const DefineStmt *def);
static void check_relation(RangeVar *rv, Node *stmt, TsmReplayGuard *guard);
static void check_relation_oid(Oid relid, Node *stmt, TsmReplayGuard *guard);
static void check_address(ObjectAddress address, Node *stmt, TsmReplayGuard *guard);
static void check_named(ObjectType objtype, Node *object, Node *stmt,
						TsmReplayGuard *guard);
static void check_namespace(const char *nspname, Node *stmt, TsmReplayGuard *guard);
static void check_names_namespace(List *names, Node *stmt, TsmReplayGuard *guard);
static void check_foreign_keys(List *elts, Node *stmt, TsmReplayGuard *guard);
static void check_constraint(Node *node, Node *stmt, TsmReplayGuard *guard);
static void check_bound(PartitionBoundSpec *bound, const RangeVar *rv);
static bool is_constant(Node *expr);
static void check_owned_by(List *options, Node *stmt, TsmReplayGuard *guard);
static void check_function(CreateFunctionStmt *fn, TsmReplayGuard *guard);
static void check_language(CreatePLangStmt *lang, TsmReplayGuard *guard);
static void check_define(DefineStmt *def, TsmReplayGuard *guard);
static bool is_internal(TypeName *type);
static void check_support_functions(List *items, TsmReplayGuard *guard);
tsm_noreturn static void refuse_c(const char *what, const char *detail) tsm_noreturn_after;
static void check_publication_objects(List *pubobjects, Node *stmt,
									  TsmReplayGuard *guard);
static void check_subscription(CreateSubscriptionStmt *sub, TsmReplayGuard *guard);
static void check_grant(GrantStmt *grant, TsmReplayGuard *guard);
static void check_comment(CommentStmt *comment, TsmReplayGuard *guard);
tsm_noreturn static void refuse_existing(const ObjectAddress *address, Node *stmt)
			tsm_noreturn_after;
static const char *command_name(Node *stmt);

/*
 * tsm_replay_check_init
 *		Put the object access hook in place (_PG_init).
 */
void
tsm_replay_check_init(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = note_created;
}

/*
 * tsm_replay_guard_init
 *		A guard for one call (or one worker): the caller's allow flags, the
 *		source's label, and whether nothing may run.  The objects it notes
 *		live in the current memory context.
 */
void
tsm_replay_guard_init(TsmReplayGuard *guard, bits32 allow, const char *source,
					  bool dry_run)
{
	HASHCTL		ctl;

	memset(guard, 0, sizeof(TsmReplayGuard));
	guard->allow = allow;
	guard->source = source;
	guard->dry_run = dry_run;
	guard->cxt = CurrentMemoryContext;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(CreatedKey);
	ctl.entrysize = sizeof(CreatedKey);
	ctl.hcxt = guard->cxt;
	guard->created = hash_create("tsmigrate created objects", 256, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * tsm_replay_watch, tsm_replay_unwatch
 *		Note the objects that PostgreSQL creates from now on, until unwatch,
 *		as this guard's.  Called around each statement that runs.
 */
void
tsm_replay_watch(TsmReplayGuard *guard)
{
	watching = guard;
}

void
tsm_replay_unwatch(void)
{
	watching = NULL;
}

static void
note_created(ObjectAccessType access, Oid classId, Oid objectId, int subId,
			 void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if (watching != NULL && access == OAT_POST_CREATE && subId == 0)
	{
		CreatedKey	key;

		key.classid = classId;
		key.objid = objectId;
		(void) hash_search(watching->created, &key, HASH_ENTER, NULL);
		if (classId == RelationRelationId || classId == NamespaceRelationId)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(watching->cxt);
			CreatedKey *created = palloc(sizeof(CreatedKey));

			*created = key;
			watching->new_objects = lappend(watching->new_objects, created);
			MemoryContextSwitchTo(oldcxt);
		}
	}
}

/*
 * tsm_replay_record
 *		After a statement ran: write the schemas, tables, views, sequences
 *		... that it created to tsmigrate.created_object, in the same
 *		transaction, so that later calls with this source know them as this
 *		migration's.
 */
void
tsm_replay_record(TsmReplayGuard *guard)
{
	ListCell   *lc;

	if (guard->new_objects == NIL)
		return;
	SPI_connect();
	foreach(lc, guard->new_objects)
	{
		CreatedKey *created = lfirst(lc);
		Oid			argtypes[4] = {TEXTOID, OIDOID, OIDOID, TEXTOID};
		Datum		args[4];
		char	   *name;
		int			rc;

		if (created->classid == NamespaceRelationId)
		{
			name = get_namespace_name(created->objid);
			if (name == NULL)
				continue;
			name = (char *) quote_identifier(name);
		}
		else
		{
			char		relkind = get_rel_relkind(created->objid);

			/*
			 * gone already (a refresh's transient table), or found through
			 * another
			 */
			if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
				relkind != RELKIND_FOREIGN_TABLE && relkind != RELKIND_VIEW &&
				relkind != RELKIND_MATVIEW && relkind != RELKIND_SEQUENCE)
				continue;
			name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(created->objid)),
											  get_rel_name(created->objid));
		}
		args[0] = CStringGetTextDatum(guard->source);
		args[1] = ObjectIdGetDatum(created->classid);
		args[2] = ObjectIdGetDatum(created->objid);
		args[3] = CStringGetTextDatum(name);
		rc = SPI_execute_with_args("INSERT INTO tsmigrate.created_object (source, classid, objid, object)"
								   " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
								   4, argtypes, args, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	}
	SPI_finish();
	list_free_deep(guard->new_objects);
	guard->new_objects = NIL;
}

static bool
created_here(TsmReplayGuard *guard, Oid classid, Oid objid)
{
	CreatedKey	key;

	key.classid = classid;
	key.objid = objid;
	return hash_search(guard->created, &key, HASH_FIND, NULL) != NULL;
}

/* did an earlier call with this source, as this role, create the object? */
static bool
recorded(Oid classid, Oid objid, const TsmReplayGuard *guard)
{
	return tsm_target_created(guard->source, classid, objid);
}

/* an object other than a relation: created by this call, or recorded */
static bool
object_is_ours(Oid classid, Oid objid, TsmReplayGuard *guard)
{
	CreatedKey	key;

	if (classid == RelationRelationId)
		return tsm_replay_relation_is_ours(objid, guard);
	if (created_here(guard, classid, objid))
		return true;
	if (classid != NamespaceRelationId || !recorded(classid, objid, guard))
		return false;
	key.classid = classid;
	key.objid = objid;
	(void) hash_search(guard->created, &key, HASH_ENTER, NULL);
	return true;
}

/* the hypertable of a TimescaleDB chunk, or InvalidOid */
static Oid
chunk_hypertable(Oid relid)
{
	char	   *oid;

	if (!OidIsValid(get_namespace_oid("_timescaledb_catalog", true)))
		return InvalidOid;
	oid = tsm_local_query_value("SELECT pg_catalog.to_regclass(pg_catalog.format('%I.%I',"
								" h.schema_name, h.table_name))::pg_catalog.oid::pg_catalog.text"
								" FROM _timescaledb_catalog.chunk c"
								" JOIN _timescaledb_catalog.hypertable h ON h.id OPERATOR(pg_catalog.=) c.hypertable_id"
								" WHERE c.schema_name OPERATOR(pg_catalog.=) $1"
								" AND c.table_name OPERATOR(pg_catalog.=) $2",
								get_namespace_name(get_rel_namespace(relid)),
								get_rel_name(relid));
	return oid != NULL ? atooid(oid) : InvalidOid;
}

/*
 * tsm_replay_relation_is_ours
 *		Did this migration create the relation (see NOTES)?
 */
bool
tsm_replay_relation_is_ours(Oid relid, TsmReplayGuard *guard)
{
	char		relkind = get_rel_relkind(relid);
	Oid			tableid;
	int32		colid;
	Oid			hypertable;
	bool		ours;

	if (relkind == '\0')
		return false;
	if (created_here(guard, RelationRelationId, relid))
		return true;
	if (relkind == RELKIND_INDEX || relkind == RELKIND_PARTITIONED_INDEX)
		ours = tsm_replay_relation_is_ours(IndexGetRelation(relid, false), guard);
	else if (relkind == RELKIND_SEQUENCE &&
			 sequenceIsOwned(relid, DEPENDENCY_INTERNAL, &tableid, &colid))
		ours = tsm_replay_relation_is_ours(tableid, guard);
	else if (recorded(RelationRelationId, relid, guard))
		ours = true;
	else if (relkind == RELKIND_RELATION &&
			 OidIsValid(hypertable = chunk_hypertable(relid)) && hypertable != relid)
		ours = tsm_replay_relation_is_ours(hypertable, guard);
	else
		ours = false;
	/* asked again for each statement on it: remember */
	if (ours)
	{
		CreatedKey	key;

		key.classid = RelationRelationId;
		key.objid = relid;
		(void) hash_search(guard->created, &key, HASH_ENTER, NULL);
	}
	return ours;
}

/*
 * tsm_replay_check
 *		Refuse "stmt", a statement from the source for "obj", unless it is
 *		one of the statements of obj's kind and does only what the caller
 *		allowed (see the file header).
 */
void
tsm_replay_check(const TsmSchemaObject *obj, Node *stmt, TsmReplayGuard *guard)
{
	check_kind(obj, stmt);

	switch (nodeTag(stmt))
	{
		case T_CreateSchemaStmt:
		case T_CreateAmStmt:
		case T_CreateFdwStmt:
		case T_CreateForeignServerStmt:
			break;
		case T_CreateStmt:
		case T_CreateForeignTableStmt:
			{
				CreateStmt *create = (CreateStmt *) stmt;
				ListCell   *lc;

				check_namespace(create->relation->schemaname, stmt, guard);
				foreach(lc, create->inhRelations)
					check_relation(lfirst_node(RangeVar, lc), stmt, guard);
				if (create->partbound != NULL)
					check_bound(create->partbound, create->relation);
				check_foreign_keys(create->tableElts, stmt, guard);
				check_foreign_keys(create->constraints, stmt, guard);
				/* a foreign table reads through its server's user mappings */
				if (IsA(stmt, CreateForeignTableStmt))
					check_named(OBJECT_FOREIGN_SERVER,
								(Node *) makeString(((CreateForeignTableStmt *) stmt)->servername),
								stmt, guard);
			}
			break;
		case T_CreateSeqStmt:
			check_namespace(((CreateSeqStmt *) stmt)->sequence->schemaname, stmt, guard);
			check_owned_by(((CreateSeqStmt *) stmt)->options, stmt, guard);
			break;
		case T_AlterSeqStmt:
			check_relation(((AlterSeqStmt *) stmt)->sequence, stmt, guard);
			check_owned_by(((AlterSeqStmt *) stmt)->options, stmt, guard);
			break;
		case T_ViewStmt:
			check_namespace(((ViewStmt *) stmt)->view->schemaname, stmt, guard);
			if (((ViewStmt *) stmt)->replace)
				check_relation(((ViewStmt *) stmt)->view, stmt, guard);
			break;
		case T_CreateTableAsStmt:
			check_namespace(((CreateTableAsStmt *) stmt)->into->rel->schemaname, stmt, guard);
			break;
		case T_CompositeTypeStmt:
			check_namespace(((CompositeTypeStmt *) stmt)->typevar->schemaname, stmt, guard);
			break;
		case T_CreateEnumStmt:
			check_names_namespace(((CreateEnumStmt *) stmt)->typeName, stmt, guard);
			break;
		case T_CreateRangeStmt:
			check_names_namespace(((CreateRangeStmt *) stmt)->typeName, stmt, guard);
			break;
		case T_CreateDomainStmt:
			check_names_namespace(((CreateDomainStmt *) stmt)->domainname, stmt, guard);
			break;
		case T_AlterDomainStmt:
			check_named(OBJECT_DOMAIN,
						(Node *) makeTypeNameFromNameList(((AlterDomainStmt *) stmt)->typeName),
						stmt, guard);
			break;
		case T_DefineStmt:
			check_define((DefineStmt *) stmt, guard);
			break;
		case T_CreateConversionStmt:
			check_names_namespace(((CreateConversionStmt *) stmt)->conversion_name, stmt, guard);
			/* its function takes C strings and lengths as it is told */
			if (!ALLOWED(guard, TSM_ALLOW_C_FUNCTIONS))
				refuse_c(psprintf("conversion %s",
								  NameListToQuotedString(((CreateConversionStmt *) stmt)->conversion_name)),
						 "Its function in C converts bytes as it is told they are: the wrong one crashes the server.");
			break;
		case T_CreateTransformStmt:
			/* its functions take internal, which they read as C pointers */
			if (!ALLOWED(guard, TSM_ALLOW_C_FUNCTIONS))
				refuse_c(psprintf("transform for type %s language %s",
								  TypeNameToString(((CreateTransformStmt *) stmt)->type_name),
								  ((CreateTransformStmt *) stmt)->lang),
						 "Its functions in C take internal: the wrong ones crash the server.");
			break;
		case T_CreateFunctionStmt:
			check_function((CreateFunctionStmt *) stmt, guard);
			break;
		case T_CreatePLangStmt:
			check_language((CreatePLangStmt *) stmt, guard);
			break;
		case T_CreateCastStmt:
			{
				CreateCastStmt *cast = (CreateCastStmt *) stmt;
				Oid			source = LookupTypeNameOid(NULL, cast->sourcetype, true);
				Oid			target = LookupTypeNameOid(NULL, cast->targettype, true);

				/* a cast between two types that were here changes them both */
				if (OidIsValid(source) && OidIsValid(target) &&
					!created_here(guard, TypeRelationId, source) &&
					!created_here(guard, TypeRelationId, target) &&
					!ALLOWED(guard, TSM_ALLOW_EXISTING_OBJECTS))
				{
					ObjectAddress address;

					ObjectAddressSet(address, TypeRelationId, source);
					refuse_existing(&address, stmt);
				}
			}
			break;
		case T_CreateOpFamilyStmt:
			check_names_namespace(((CreateOpFamilyStmt *) stmt)->opfamilyname, stmt, guard);
			break;
		case T_CreateOpClassStmt:
			{
				CreateOpClassStmt *opc = (CreateOpClassStmt *) stmt;

				check_names_namespace(opc->opclassname, stmt, guard);
				check_support_functions(opc->items, guard);
				if (opc->opfamilyname != NIL)
					check_named(OBJECT_OPFAMILY,
								(Node *) lcons(makeString(opc->amname), opc->opfamilyname),
								stmt, guard);
			}
			break;
		case T_AlterOpFamilyStmt:
			check_support_functions(((AlterOpFamilyStmt *) stmt)->items, guard);
			check_named(OBJECT_OPFAMILY,
						(Node *) lcons(makeString(((AlterOpFamilyStmt *) stmt)->amname),
									   ((AlterOpFamilyStmt *) stmt)->opfamilyname),
						stmt, guard);
			break;
		case T_AlterTSConfigurationStmt:
			check_named(OBJECT_TSCONFIGURATION,
						(Node *) ((AlterTSConfigurationStmt *) stmt)->cfgname, stmt, guard);
			break;
		case T_CreateUserMappingStmt:
			check_named(OBJECT_FOREIGN_SERVER,
						(Node *) makeString(((CreateUserMappingStmt *) stmt)->servername),
						stmt, guard);
			break;
		case T_IndexStmt:
			check_relation(((IndexStmt *) stmt)->relation, stmt, guard);
			break;
		case T_AlterTableStmt:
			{
				AlterTableStmt *alter = (AlterTableStmt *) stmt;
				ListCell   *lc;

				check_relation(alter->relation, stmt, guard);
				foreach(lc, alter->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->subtype == AT_AttachPartition)
					{
						PartitionCmd *part = castNode(PartitionCmd, cmd->def);

						check_relation(part->name, stmt, guard);
						if (part->bound != NULL)
							check_bound(part->bound, part->name);
					}
					else if (cmd->subtype == AT_AddInherit)
						check_relation(castNode(RangeVar, cmd->def), stmt, guard);
					else if (cmd->subtype == AT_AddConstraint)
						check_constraint(cmd->def, stmt, guard);
				}
			}
			break;
		case T_CreateTrigStmt:
			check_relation(((CreateTrigStmt *) stmt)->relation, stmt, guard);
			break;
		case T_RuleStmt:
			check_relation(((RuleStmt *) stmt)->relation, stmt, guard);
			break;
		case T_CreatePolicyStmt:
			check_relation(((CreatePolicyStmt *) stmt)->table, stmt, guard);
			break;
		case T_RefreshMatViewStmt:
			check_relation(((RefreshMatViewStmt *) stmt)->relation, stmt, guard);
			break;
		case T_CreateStatsStmt:
			{
				CreateStatsStmt *stats = (CreateStatsStmt *) stmt;
				ListCell   *lc;

				check_names_namespace(stats->defnames, stmt, guard);
				foreach(lc, stats->relations)
					if (IsA(lfirst(lc), RangeVar))
					check_relation(lfirst(lc), stmt, guard);
			}
			break;
		case T_AlterStatsStmt:
			check_named(OBJECT_STATISTIC_EXT, (Node *) ((AlterStatsStmt *) stmt)->defnames,
						stmt, guard);
			break;
		case T_CreatePublicationStmt:
			check_publication_objects(((CreatePublicationStmt *) stmt)->pubobjects, stmt, guard);
			break;
		case T_AlterPublicationStmt:
			check_named(OBJECT_PUBLICATION,
						(Node *) makeString(((AlterPublicationStmt *) stmt)->pubname),
						stmt, guard);
			check_publication_objects(((AlterPublicationStmt *) stmt)->pubobjects, stmt, guard);
			break;
		case T_CreateSubscriptionStmt:
			check_subscription((CreateSubscriptionStmt *) stmt, guard);
			break;
		case T_CreateEventTrigStmt:
			if (!ALLOWED(guard, TSM_ALLOW_EVENT_TRIGGERS))
				ereport(ERROR,
						errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("permission denied to create event trigger \"%s\" from the source",
							   ((CreateEventTrigStmt *) stmt)->trigname),
						errdetail("An event trigger runs its function on every DDL command of every role, superusers included."),
						errhint("Call again with allow => '{event_triggers}' if the source may have one."));
			break;
		case T_AlterEventTrigStmt:
			if (!ALLOWED(guard, TSM_ALLOW_EVENT_TRIGGERS))
				ereport(ERROR,
						errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("permission denied to alter event trigger \"%s\" from the source",
							   ((AlterEventTrigStmt *) stmt)->trigname),
						errhint("Call again with allow => '{event_triggers}' if the source may have one."));
			check_named(OBJECT_EVENT_TRIGGER,
						(Node *) makeString(((AlterEventTrigStmt *) stmt)->trigname),
						stmt, guard);
			break;
		case T_CommentStmt:
			check_comment((CommentStmt *) stmt, guard);
			break;
		case T_SecLabelStmt:
			/* the provider checks the label, PostgreSQL the ownership */
			check_named(((SecLabelStmt *) stmt)->objtype, ((SecLabelStmt *) stmt)->object,
						stmt, guard);
			break;
		case T_AlterOwnerStmt:
			{
				AlterOwnerStmt *alter = (AlterOwnerStmt *) stmt;
				Node	   *object = alter->object;

				/* ALTER TYPE and ALTER DOMAIN name the type as a list */
				if (alter->objectType == OBJECT_TYPE || alter->objectType == OBJECT_DOMAIN)
					object = (Node *) makeTypeNameFromNameList(castNode(List, object));
				check_named(alter->objectType, object, stmt, guard);
			}
			break;
		case T_GrantStmt:
			check_grant((GrantStmt *) stmt, guard);
			break;
		case T_AlterDefaultPrivilegesStmt:
			/* what roles' future objects grant, whoever created the roles */
			if (!ALLOWED(guard, TSM_ALLOW_EXISTING_OBJECTS))
				ereport(ERROR,
						errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("permission denied to set default privileges from the source"),
						errdetail("ALTER DEFAULT PRIVILEGES decides what the objects that roles create later grant, on the target, after the migration."),
						errhint("Call again with allow => '{existing_objects}' if the source may set them, or with privileges => false to leave them out."));
			break;
		default:
			/* check_kind lets no other statement through */
			elog(ERROR, "unexpected node type %d in a replayed statement",
				 (int) nodeTag(stmt));
	}
}

/*
 * The statement must be one of those its object's kind is made of: the
 * kind is the source's word too, but a statement of another kind cannot
 * hide behind it (a comment, say, that is really a CREATE FUNCTION).
 */
static void
check_kind(const TsmSchemaObject *obj, Node *stmt)
{
	int			i;
	int			j;

	for (i = 0; i < lengthof(kind_statements); i++)
	{
		if (strcmp(kind_statements[i].kind, obj->kind) != 0)
			continue;
		for (j = 0; j < MAX_KIND_STATEMENTS && kind_statements[i].tags[j] != 0; j++)
			if (kind_statements[i].tags[j] == nodeTag(stmt) &&
				(!IsA(stmt, DefineStmt) || define_fits(obj->kind, (DefineStmt *) stmt)))
				return;
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("source sent %s as part of %s %s", command_name(stmt),
					   obj->kind, obj->name),
				errdetail("No statement of that kind belongs to a %s.", obj->kind));
	}
	ereport(ERROR,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("source sent %s for an object of unknown kind \"%s\"",
				   command_name(stmt), obj->kind));
}

/*
 * A DefineStmt creates one of several kinds of object: the one of the
 * object it came with (a "type" is no CREATE AGGREGATE)
 */
static bool
define_fits(const char *kind, const DefineStmt *def)
{
	static const struct
	{
		const char *kind;
		ObjectType	objtype;
	}			defines[] =
	{
		{"type", OBJECT_TYPE},
		{"shell type", OBJECT_TYPE},
		{"aggregate", OBJECT_AGGREGATE},
		{"operator", OBJECT_OPERATOR},
		{"collation", OBJECT_COLLATION},
		{"text search dictionary", OBJECT_TSDICTIONARY},
		{"text search parser", OBJECT_TSPARSER},
		{"text search template", OBJECT_TSTEMPLATE},
		{"text search configuration", OBJECT_TSCONFIGURATION},
	};
	int			i;

	/* a shell type is a name alone */
	if (strcmp(kind, "shell type") == 0 && def->definition != NIL)
		return false;
	for (i = 0; i < lengthof(defines); i++)
		if (strcmp(defines[i].kind, kind) == 0)
			return def->kind == defines[i].objtype;
	return false;
}

/* the relation must be this migration's, if it exists */
static void
check_relation(RangeVar *rv, Node *stmt, TsmReplayGuard *guard)
{
	check_relation_oid(RangeVarGetRelid(rv, NoLock, true), stmt, guard);
}

static void
check_relation_oid(Oid relid, Node *stmt, TsmReplayGuard *guard)
{
	ObjectAddress address;

	if (!OidIsValid(relid) || tsm_replay_relation_is_ours(relid, guard) ||
		ALLOWED(guard, TSM_ALLOW_EXISTING_OBJECTS))
		return;
	ObjectAddressSet(address, RelationRelationId, relid);
	refuse_existing(&address, stmt);
}

/* the object at "address" must be this migration's */
static void
check_address(ObjectAddress address, Node *stmt, TsmReplayGuard *guard)
{
	if (!OidIsValid(address.objectId) ||
		ALLOWED(guard, TSM_ALLOW_EXISTING_OBJECTS) ||
		object_is_ours(address.classId, address.objectId, guard))
		return;
	refuse_existing(&address, stmt);
}

/*
 * The object of this kind and name (as ALTER, COMMENT and GRANT name it)
 * must be this migration's; for a trigger, rule, policy, constraint or
 * column, its table.
 */
static void
check_named(ObjectType objtype, Node *object, Node *stmt, TsmReplayGuard *guard)
{
	ObjectAddress address;
	Oid			relid;

	lookup_object(objtype, object, &address, &relid);
	if (OidIsValid(relid))
		check_relation_oid(relid, stmt, guard);
	else
		check_address(address, stmt, guard);
}

/*
 * get_object_address, with "does not exist" as an InvalidOid object: some
 * of its lookups (the types of a cast, say) raise it whatever missing_ok
 * says, and in a dry run nothing of the section exists.  *relid is the
 * relation of a relation's part (trigger, rule, policy, constraint,
 * column), or InvalidOid.
 */
static void
lookup_object(ObjectType objtype, Node *object, ObjectAddress *address, Oid *relid)
{
	LookupArgs	args;
	ErrorData  *edata;

	args.objtype = objtype;
	args.object = object;
	args.address = address;
	args.relid = relid;
	address->classId = InvalidOid;
	address->objectId = InvalidOid;
	address->objectSubId = 0;
	*relid = InvalidOid;

	edata = tsm_subtransaction(lookup_object_address, &args, true);
	if (edata == NULL)
		return;
	if (edata->sqlerrcode != ERRCODE_UNDEFINED_OBJECT &&
		edata->sqlerrcode != ERRCODE_UNDEFINED_SCHEMA &&
		edata->sqlerrcode != ERRCODE_UNDEFINED_TABLE &&
		edata->sqlerrcode != ERRCODE_UNDEFINED_FUNCTION &&
		edata->sqlerrcode != ERRCODE_UNDEFINED_COLUMN)
		ReThrowError(edata);
	FreeErrorData(edata);
	address->classId = InvalidOid;
	address->objectId = InvalidOid;
	*relid = InvalidOid;
}

static void
lookup_object_address(void *arg)
{
	LookupArgs *args = arg;
	Relation	rel = NULL;

	*args->address = get_object_address(args->objtype, args->object, &rel,
										AccessShareLock, true);
	if (rel != NULL)
	{
		*args->relid = RelationGetRelid(rel);
		relation_close(rel, NoLock);
	}
}

/*
 * New objects go nowhere near the server's own objects or an extension's:
 * not into a system schema, tsmigrate's schema or a schema that belongs to
 * an extension.
 */
static void
check_namespace(const char *nspname, Node *stmt, TsmReplayGuard *guard)
{
	Oid			nspid;
	Oid			extoid;

	if (nspname == NULL || ALLOWED(guard, TSM_ALLOW_EXISTING_OBJECTS))
		return;
	nspid = get_namespace_oid(nspname, true);
	if (!OidIsValid(nspid) || created_here(guard, NamespaceRelationId, nspid))
		return;
	if (IsCatalogNamespace(nspid) || IsToastNamespace(nspid) ||
		strcmp(nspname, "information_schema") == 0 || strcmp(nspname, "tsmigrate") == 0)
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("permission denied to create objects in schema \"%s\" from the source",
					   nspname),
				errdetail("The source's %s would add to a schema of the server or of tsmigrate.",
						  command_name(stmt)),
				errhint("Call again with allow => '{existing_objects}' if the source may add to it."));
	extoid = getExtensionOfObject(NamespaceRelationId, nspid);
	if (OidIsValid(extoid))
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("permission denied to create objects in schema \"%s\" from the source",
					   nspname),
				errdetail("The schema belongs to extension \"%s\".", get_extension_name(extoid)),
				errhint("Call again with allow => '{existing_objects}' if the source may add to it."));
}

static void
check_names_namespace(List *names, Node *stmt, TsmReplayGuard *guard)
{
	char	   *nspname;
	char	   *objname;

	DeconstructQualifiedName(names, &nspname, &objname);
	check_namespace(nspname, stmt, guard);
}

/* the foreign keys among column and table constraints */
static void
check_foreign_keys(List *elts, Node *stmt, TsmReplayGuard *guard)
{
	ListCell   *lc;

	foreach(lc, elts)
	{
		Node	   *elt = lfirst(lc);

		if (IsA(elt, ColumnDef))
		{
			ListCell   *cc;

			foreach(cc, ((ColumnDef *) elt)->constraints)
				check_constraint(lfirst(cc), stmt, guard);
		}
		else
			check_constraint(elt, stmt, guard);
	}
}

/* a foreign key puts triggers on the table it references */
static void
check_constraint(Node *node, Node *stmt, TsmReplayGuard *guard)
{
	if (node != NULL && IsA(node, Constraint) &&
		((Constraint *) node)->contype == CONSTR_FOREIGN)
		check_relation(((Constraint *) node)->pktable, stmt, guard);
}

/* FOR VALUES ...: evaluated at CREATE, so constants only, as pg_dump writes */
static void
check_bound(PartitionBoundSpec *bound, const RangeVar *rv)
{
	List	   *lists[3] = {bound->listdatums, bound->lowerdatums, bound->upperdatums};
	int			i;

	for (i = 0; i < lengthof(lists); i++)
	{
		ListCell   *lc;

		foreach(lc, lists[i])
			if (!is_constant(lfirst(lc)))
			ereport(ERROR,
					errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					errmsg("partition bound of %s from the source is not a constant",
						   quote_qualified_identifier(rv->schemaname, rv->relname)),
					errdetail("A partition bound is evaluated when the partition is made: only constants are taken from the source."));
	}
}

static bool
is_constant(Node *expr)
{
	if (expr == NULL)
		return false;
	if (IsA(expr, A_Const))
		return true;
	if (IsA(expr, TypeCast))
		return is_constant(((TypeCast *) expr)->arg);
	/* MINVALUE, MAXVALUE */
	if (IsA(expr, ColumnRef) && list_length(((ColumnRef *) expr)->fields) == 1 &&
		IsA(linitial(((ColumnRef *) expr)->fields), String))
	{
		const char *word = strVal(linitial(((ColumnRef *) expr)->fields));

		return strcmp(word, "minvalue") == 0 || strcmp(word, "maxvalue") == 0;
	}
	return false;
}

/* OWNED BY table.column ties the sequence to that table */
static void
check_owned_by(List *options, Node *stmt, TsmReplayGuard *guard)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);
		List	   *names;

		if (strcmp(opt->defname, "owned_by") != 0)
			continue;
		names = defGetQualifiedName(opt);
		if (list_length(names) < 2)
			continue;			/* NONE */
		check_relation(makeRangeVarFromNameList(list_truncate(list_copy(names),
															  list_length(names) - 1)),
					   stmt, guard);
	}
}

/*
 * Functions: in C or internal, or with a planner support function (which is
 * C), they run with the server's own rights and a wrong declaration
 * crashes it; in an untrusted language they reach its files and processes.
 */
static void
check_function(CreateFunctionStmt *fn, TsmReplayGuard *guard)
{
	const char *language = NULL;
	bool		support = false;
	ListCell   *lc;
	HeapTuple	tup;
	const char *what = fn->is_procedure ? "procedure" : "function";

	check_names_namespace(fn->funcname, (Node *) fn, guard);
	foreach(lc, fn->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "language") == 0)
			language = defGetString(opt);
		else if (strcmp(opt->defname, "support") == 0)
			support = true;
	}
	if (language == NULL)
		language = "sql";		/* a body in SQL, or an error */

	if (support && !ALLOWED(guard, TSM_ALLOW_C_FUNCTIONS))
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("permission denied to create %s %s from the source", what,
					   NameListToQuotedString(fn->funcname)),
				errdetail("It names a planner support function, which is C code."),
				errhint("Call again with allow => '{c_functions}' if you trust the source with code that runs inside this server."));

	tup = SearchSysCache1(LANGNAME, CStringGetDatum(language));
	if (!HeapTupleIsValid(tup))
		return;					/* no such language: it fails */
	if (((Form_pg_language) GETSTRUCT(tup))->oid == ClanguageId ||
		((Form_pg_language) GETSTRUCT(tup))->oid == INTERNALlanguageId)
	{
		ReleaseSysCache(tup);
		if (!ALLOWED(guard, TSM_ALLOW_C_FUNCTIONS))
			ereport(ERROR,
					errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					errmsg("permission denied to create %s %s from the source", what,
						   NameListToQuotedString(fn->funcname)),
					errdetail("It is in language \"%s\": it would run inside the server with all of its rights, and a wrong declaration crashes the server.",
							  language),
					errhint("Call again with allow => '{c_functions}' if you trust the source with code that runs inside this server."));
		return;
	}
	if (!((Form_pg_language) GETSTRUCT(tup))->lanpltrusted)
	{
		ReleaseSysCache(tup);
		if (!ALLOWED(guard, TSM_ALLOW_UNTRUSTED_LANGUAGES))
			ereport(ERROR,
					errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					errmsg("permission denied to create %s %s from the source", what,
						   NameListToQuotedString(fn->funcname)),
					errdetail("Language \"%s\" is untrusted: its functions can reach the server's files and processes.",
							  language),
					errhint("Call again with allow => '{untrusted_languages}' if you trust the source with that."));
		return;
	}
	ReleaseSysCache(tup);
}

/*
 * A procedural language binds its handler, C code, to every function
 * written in it: the source's C (c_functions), whether the handler comes
 * with it or is one the target has.  An untrusted one lets its functions
 * reach the server's files and processes (untrusted_languages); a trusted
 * one lets any role with USAGE write functions in it.
 */
static void
check_language(CreatePLangStmt *lang, TsmReplayGuard *guard)
{
	if (!ALLOWED(guard, TSM_ALLOW_C_FUNCTIONS))
		refuse_c(psprintf("procedural language \"%s\"", lang->plname),
				 "Its handler is C code that runs every function written in it, and a wrong one crashes the server.");
	if (!lang->pltrusted && !ALLOWED(guard, TSM_ALLOW_UNTRUSTED_LANGUAGES))
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("permission denied to create procedural language \"%s\" from the source",
					   lang->plname),
				errdetail("The language is untrusted: its functions can reach the server's files and processes."),
				errhint("Call again with allow => '{untrusted_languages}' if you trust the source with that."));
}

/*
 * CREATE AGGREGATE, OPERATOR, TYPE, COLLATION, TEXT SEARCH ...: a base
 * type, a text search parser or template binds functions in C to SQL, an
 * aggregate whose state is "internal" hands one C function's memory to
 * another; PostgreSQL leaves them to superusers as a wrong one crashes it.
 */
static void
check_define(DefineStmt *def, TsmReplayGuard *guard)
{
	ListCell   *lc;

	check_names_namespace(def->defnames, (Node *) def, guard);
	/* a shell type is a name only: its functions and type come later */
	if (def->kind == OBJECT_TYPE && def->definition == NIL)
		return;
	if (ALLOWED(guard, TSM_ALLOW_C_FUNCTIONS))
		return;
	if (def->kind == OBJECT_TYPE || def->kind == OBJECT_TSPARSER ||
		def->kind == OBJECT_TSTEMPLATE)
		refuse_c(psprintf("%s %s",
						  def->kind == OBJECT_TYPE ? "base type" :
						  def->kind == OBJECT_TSPARSER ? "text search parser" :
						  "text search template",
						  NameListToQuotedString(def->defnames)),
				 "It binds functions in C to SQL, and a wrong declaration crashes the server.");
	if (def->kind != OBJECT_AGGREGATE)
		return;
	foreach(lc, def->definition)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if ((strcmp(opt->defname, "stype") == 0 || strcmp(opt->defname, "mstype") == 0) &&
			is_internal(defGetTypeName(opt)))
			refuse_c(psprintf("aggregate %s", NameListToQuotedString(def->defnames)),
					 "Its state is of type internal, which its functions in C read as they take it: the wrong ones crash the server.");
	}
}

/* is this type "internal", the C-level pseudo-type? */
static bool
is_internal(TypeName *type)
{
	char	   *nspname;
	char	   *typname;

	if (type == NULL || type->names == NIL)
		return false;
	DeconstructQualifiedName(type->names, &nspname, &typname);
	return strcmp(typname, "internal") == 0 &&
		(nspname == NULL || strcmp(nspname, "pg_catalog") == 0);
}

/*
 * The support functions of an operator class or family that take internal
 * (GiST's, GIN's, sort support ...) are C, and nothing checks that they fit
 * the type: the wrong ones crash the server when the index is used.
 */
static void
check_support_functions(List *items, TsmReplayGuard *guard)
{
	ListCell   *lc;

	if (ALLOWED(guard, TSM_ALLOW_C_FUNCTIONS))
		return;
	foreach(lc, items)
	{
		CreateOpClassItem *item = lfirst_node(CreateOpClassItem, lc);
		ListCell   *ac;

		if (item->itemtype != OPCLASS_ITEM_FUNCTION || item->name == NULL)
			continue;
		foreach(ac, item->name->objargs)
			if (is_internal(lfirst_node(TypeName, ac)))
			refuse_c(psprintf("operator class member %s",
							  NameListToQuotedString(item->name->objname)),
					 "It makes a support function that takes internal, in C, part of an index's operator class: one that does not fit the type crashes the server.");
	}
}

/* what only c_functions lets through */
static void
refuse_c(const char *what, const char *detail)
{
	ereport(ERROR,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("permission denied to create %s from the source", what),
			errdetail_internal("%s", detail),
			errhint("Call again with allow => '{c_functions}' if you trust the source with code that runs inside this server."));
}

/*
 * FOR TABLE, TABLES IN SCHEMA of a publication: tables and schemas of this
 * migration, or schema public, which the target always has.  A publication
 * FOR ALL TABLES, as pg_dump restores it, changes no table.
 */
static void
check_publication_objects(List *pubobjects, Node *stmt, TsmReplayGuard *guard)
{
	ListCell   *lc;

	foreach(lc, pubobjects)
	{
		PublicationObjSpec *spec = lfirst_node(PublicationObjSpec, lc);

		if (spec->pubtable != NULL)
			check_relation(spec->pubtable->relation, stmt, guard);
		else if (spec->name != NULL && strcmp(spec->name, "public") != 0)
			check_named(OBJECT_SCHEMA, (Node *) makeString(spec->name), stmt, guard);
	}
}

/*
 * A subscription is the one object whose purpose is to connect out: once
 * enabled, or when dropped while it names a replication slot (DROP
 * SUBSCRIPTION connects to drop the slot), this server connects to the
 * host, as the user and with the password its connection string says,
 * from inside the target's network, and an enabled one writes what it
 * receives into the target's tables.  It comes disabled and without a slot
 * (connect = false, which replay_object.c requires), so nothing connects
 * during the migration; but it hands whoever enables or drops it later a
 * connection the source chose, which reaches beyond the source's own
 * objects: the caller allows it by name.  Its connection string must be
 * one libpq reads: PostgreSQL's own message for one it cannot read quotes
 * the string, password and all.
 */
static void
check_subscription(CreateSubscriptionStmt *sub, TsmReplayGuard *guard)
{
	List	   *passwords;

	if (!ALLOWED(guard, TSM_ALLOW_SUBSCRIPTIONS))
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("permission denied to create subscription \"%s\" from the source",
					   sub->subname),
				errdetail("Once enabled, or when dropped while it names a replication slot, a subscription makes this server connect where its connection string says, as whom it says."),
				errhint("Call again with allow => '{subscriptions}' if the source's subscriptions may point this server at their publishers."));
	if (!tsm_conninfo_passwords(sub->conninfo, &passwords))
		ereport(ERROR,
				errcode(ERRCODE_PROTOCOL_VIOLATION),
				errmsg("invalid response from the source"),
				errdetail("The connection string of subscription \"%s\" is not one libpq reads (its message is not shown: it may quote a password).",
						  sub->subname));
}

static void
check_grant(GrantStmt *grant, TsmReplayGuard *guard)
{
	ListCell   *lc;

	foreach(lc, grant->objects)
	{
		Node	   *object = lfirst(lc);

		switch (grant->objtype)
		{
			case OBJECT_TABLE:
			case OBJECT_SEQUENCE:
				check_relation(castNode(RangeVar, object), (Node *) grant, guard);
				break;
			case OBJECT_TYPE:
			case OBJECT_DOMAIN:
				check_named(grant->objtype,
							(Node *) makeTypeNameFromNameList(castNode(List, object)),
							(Node *) grant, guard);
				break;
			case OBJECT_FUNCTION:
			case OBJECT_PROCEDURE:
			case OBJECT_ROUTINE:
			case OBJECT_SCHEMA:
			case OBJECT_FDW:
			case OBJECT_FOREIGN_SERVER:
			case OBJECT_LANGUAGE:
				check_named(grant->objtype, object, (Node *) grant, guard);
				break;
			default:

				/*
				 * a database, tablespace, large object ...: never this
				 * migration's
				 */
				if (!ALLOWED(guard, TSM_ALLOW_EXISTING_OBJECTS))
					ereport(ERROR,
							errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							errmsg("permission denied to run %s from the source", command_name((Node *) grant)),
							errdetail("It grants or revokes privileges on an object that this migration does not create."),
							errhint("Call again with allow => '{existing_objects}' if the source may change objects it did not create."));
		}
	}
}

/* the comment of schema public is the source's: pg_dump restores it too */
static void
check_comment(CommentStmt *comment, TsmReplayGuard *guard)
{
	if (comment->objtype == OBJECT_SCHEMA && IsA(comment->object, String) &&
		strcmp(strVal(comment->object), "public") == 0)
		return;
	check_named(comment->objtype, comment->object, (Node *) comment, guard);
}

static void
refuse_existing(const ObjectAddress *address, Node *stmt)
{
	ereport(ERROR,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("permission denied to change %s from the source",
				   getObjectDescription(address, false)),
			errdetail("It was not created by this migration, and the source's %s would change it.",
					  command_name(stmt)),
			errhint("Call again with allow => '{existing_objects}' if the source may change objects it did not create."));
}

/* "CREATE TRIGGER", "ALTER TABLE" ... */
static const char *
command_name(Node *stmt)
{
	return GetCommandTagName(CreateCommandTag(stmt));
}

/*
 * tsm_replay_check_absent
 *		For a dry run, which runs nothing: the conflict that the statement
 *		would meet, for what it creates that the target has already (a
 *		schema, relation, type or trigger), with the error PostgreSQL gives.
 */
void
tsm_replay_check_absent(Node *stmt)
{
	RangeVar   *rv = NULL;
	List	   *typname = NIL;

	switch (nodeTag(stmt))
	{
		case T_CreateSchemaStmt:
			{
				const char *name = ((CreateSchemaStmt *) stmt)->schemaname;

				if (name != NULL && OidIsValid(get_namespace_oid(name, true)))
					ereport(ERROR,
							errcode(ERRCODE_DUPLICATE_SCHEMA),
							errmsg("schema \"%s\" already exists", name));
			}
			return;
		case T_CreateStmt:
		case T_CreateForeignTableStmt:
			rv = ((CreateStmt *) stmt)->relation;
			break;
		case T_CreateSeqStmt:
			rv = ((CreateSeqStmt *) stmt)->sequence;
			break;
		case T_ViewStmt:
			if (!((ViewStmt *) stmt)->replace)
				rv = ((ViewStmt *) stmt)->view;
			break;
		case T_CreateTableAsStmt:
			rv = ((CreateTableAsStmt *) stmt)->into->rel;
			break;
		case T_CompositeTypeStmt:
			rv = ((CompositeTypeStmt *) stmt)->typevar;
			break;
		case T_IndexStmt:
			{
				IndexStmt  *index = (IndexStmt *) stmt;
				Oid			relid = RangeVarGetRelid(index->relation, NoLock, true);

				if (index->idxname != NULL && OidIsValid(relid) &&
					OidIsValid(get_relname_relid(index->idxname, get_rel_namespace(relid))))
					ereport(ERROR,
							errcode(ERRCODE_DUPLICATE_TABLE),
							errmsg("relation \"%s\" already exists", index->idxname));
			}
			return;
		case T_CreateTrigStmt:
			{
				CreateTrigStmt *trig = (CreateTrigStmt *) stmt;
				Oid			relid = RangeVarGetRelid(trig->relation, NoLock, true);

				if (OidIsValid(relid) && OidIsValid(get_trigger_oid(relid, trig->trigname, true)))
					ereport(ERROR,
							errcode(ERRCODE_DUPLICATE_OBJECT),
							errmsg("trigger \"%s\" for relation \"%s\" already exists",
								   trig->trigname, trig->relation->relname));
			}
			return;
		case T_CreateEnumStmt:
			typname = ((CreateEnumStmt *) stmt)->typeName;
			break;
		case T_CreateRangeStmt:
			typname = ((CreateRangeStmt *) stmt)->typeName;
			break;
		case T_CreateDomainStmt:
			typname = ((CreateDomainStmt *) stmt)->domainname;
			break;
		default:
			return;
	}
	if (rv != NULL && OidIsValid(RangeVarGetRelid(rv, NoLock, true)))
		ereport(ERROR,
				errcode(ERRCODE_DUPLICATE_TABLE),
				errmsg("relation \"%s\" already exists", rv->relname));
	if (typname != NIL &&
		OidIsValid(LookupTypeNameOid(NULL, makeTypeNameFromNameList(typname), true)))
		ereport(ERROR,
				errcode(ERRCODE_DUPLICATE_OBJECT),
				errmsg("type \"%s\" already exists", NameListToString(typname)));
}
