/*
 * lifecycle.c
 *	  The extension across upgrades and drops.
 *
 * Versions.  Installing a new build replaces the shared library at once,
 * while the extension's tables, triggers and functions change only when a
 * DBA runs ALTER EXTENSION payments UPDATE.  In between, the library would
 * apply its rules to tables shaped for another release; instead, every entry
 * point refuses with an error that says how to finish the upgrade.
 *
 * Drops.  DROP EXTENSION deletes the extension's tables with everything in
 * them, with or without CASCADE, and so do a DROP SCHEMA ... CASCADE or a
 * DROP OWNED that reaches it (also through monetary, which payments
 * requires).  An event trigger at ddl_command_start, which sees the statement
 * before anything is dropped, refuses such a statement while the ledger holds
 * a transfer, unless the session has set payments.allow_drop.
 *
 * Triggers.  The ledger's triggers keep its rules on every write path; its
 * owner could turn them off with one ALTER TABLE (a habit of bulk fixes:
 * DISABLE TRIGGER ALL, change, ENABLE) and let transfers in without legs, or
 * history be changed.  A second event trigger refuses any ALTER TABLE that
 * would change how one of them fires.  Restores load rows with
 * session_replication_role = replica instead, which the triggers expect.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "commands/extension.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "lifecycle.h"

PG_FUNCTION_INFO_V1(ledger_drop_guard);
PG_FUNCTION_INFO_V1(ledger_trigger_guard);

bool		payments_allow_drop = false;

/* The installed version was found to be ours, and nothing has changed since. */
static bool sql_version_ok = false;
static bool sql_version_callback_registered = false;

/*
 * ALTER EXTENSION ... UPDATE and DROP EXTENSION change the extension's
 * tables, which invalidates their relcache entries: check again then.
 */
static void
sql_version_forget(Datum arg, Oid relid)
{
	sql_version_ok = false;
}

/* What pg_extension says of an installed extension. */
typedef struct InstalledExtension
{
	bool		found;
	Oid			owner;
	Oid			schema;
	char	   *version;
} InstalledExtension;

static InstalledExtension
installed_extension(const char *name)
{
	InstalledExtension ext = {false, InvalidOid, InvalidOid, NULL};
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(name));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		Form_pg_extension form = (Form_pg_extension) GETSTRUCT(tuple);
		bool		isnull;
		Datum		d = heap_getattr(tuple, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		ext.found = true;
		ext.owner = form->extowner;
		ext.schema = form->extnamespace;
		if (!isnull)
			ext.version = text_to_cstring(DatumGetTextPP(d));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return ext;
}

void
payments_require_sql_version(void)
{
	char	   *version;

	if (likely(sql_version_ok))
		return;

	version = installed_extension("payments").version;
	if (version == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"payments\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION payments CASCADE.")));
	if (strcmp(version, PAYMENTS_VERSION) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"payments\" is at version %s, but its library is version %s",
						version, PAYMENTS_VERSION),
				 errdetail("A new build of the extension was installed; the ledger's tables and functions are still those of version %s.",
						   version),
				 errhint("Run ALTER EXTENSION monetary UPDATE, then ALTER EXTENSION payments UPDATE.")));

	if (!sql_version_callback_registered)
	{
		CacheRegisterRelcacheCallback(sql_version_forget, (Datum) 0);
		sql_version_callback_registered = true;
	}
	sql_version_ok = true;
}

/* Whether a name list (of a DROP statement) holds name. */
static bool
names_include(List *names, const char *name)
{
	ListCell   *cell;

	foreach(cell, names)
	{
		Node	   *n = lfirst(cell);

		if (IsA(n, String) && strcmp(strVal(n), name) == 0)
			return true;
	}
	return false;
}

/*
 * Whether the statement would drop extension payments: by name, through
 * monetary or a schema with CASCADE, or through its owner's DROP OWNED.
 * (Without CASCADE, PostgreSQL itself refuses to drop what payments needs.)
 */
static bool
statement_drops_ledger(Node *parsetree)
{
	InstalledExtension payments = installed_extension("payments");
	InstalledExtension monetary = installed_extension("monetary");

	if (!payments.found)
		return false;
	if (IsA(parsetree, DropStmt))
	{
		DropStmt   *stmt = (DropStmt *) parsetree;
		bool		cascade = stmt->behavior == DROP_CASCADE;

		if (stmt->removeType == OBJECT_EXTENSION)
			return names_include(stmt->objects, "payments") ||
				(cascade && names_include(stmt->objects, "monetary"));
		if (stmt->removeType == OBJECT_SCHEMA && cascade)
			return names_include(stmt->objects, get_namespace_name(payments.schema)) ||
				(monetary.found &&
				 names_include(stmt->objects, get_namespace_name(monetary.schema)));
		return false;
	}
	if (IsA(parsetree, DropOwnedStmt))
	{
		ListCell   *cell;

		foreach(cell, ((DropOwnedStmt *) parsetree)->roles)
		{
			Oid			role = get_rolespec_oid(lfirst(cell), true);

			if (role == payments.owner || (monetary.found && role == monetary.owner))
				return true;
		}
	}
	return false;
}

/* What a refusal counts up to: a refusal should not read 10^8 rows. */
#define DROP_COUNT_MAX	1000000

static int
drop_refusal_detail(int64 accounts)
{
	if (accounts > DROP_COUNT_MAX)
		return errdetail("Dropping it deletes every ledger's accounts (more than %d), transfers and postings, and every exchange rate.",
						 DROP_COUNT_MAX);
	return errdetail("Dropping it deletes every ledger's accounts (%lld), transfers and postings, and every exchange rate.",
					 (long long) accounts);
}

static int
drop_refusal_hint(void)
{
	return errhint("Back the ledger up first (pg_dump keeps its rows). To drop it deliberately, run SET payments.allow_drop = on as a superuser in the same session, then drop again.");
}

/*
 * payments.drop_guard(), an event trigger at ddl_command_start on DROP
 * EXTENSION, DROP SCHEMA and DROP OWNED.  It runs as the extension's owner,
 * so that it can count what would be lost whoever issues the statement (the
 * owner of a schema may drop everything in it with CASCADE).
 */
Datum
ledger_drop_guard(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	bool		isnull;
	int64		transfers,
				accounts;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("drop_guard can only be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (payments_allow_drop || !statement_drops_ledger(trigdata->parsetree))
		PG_RETURN_VOID();

	/* counted up to one past DROP_COUNT_MAX */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT (SELECT pg_catalog.count(*) FROM "
					"        (SELECT FROM payments.transfers LIMIT " CppAsString2(DROP_COUNT_MAX) " + 1) t), "
					"       (SELECT pg_catalog.count(*) FROM "
					"        (SELECT FROM payments.accounts LIMIT " CppAsString2(DROP_COUNT_MAX) " + 1) a)",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "counting the ledger's transfers failed");
	transfers = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											1, &isnull));
	accounts = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										   2, &isnull));
	SPI_finish();
	if (transfers == 0)
		PG_RETURN_VOID();

	if (transfers > DROP_COUNT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop extension payments: its ledger holds more than %d transfers",
						DROP_COUNT_MAX),
				 drop_refusal_detail(accounts),
				 drop_refusal_hint()));
	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 errmsg_plural("cannot drop extension payments: its ledger holds %lld transfer",
						   "cannot drop extension payments: its ledger holds %lld transfers",
						   transfers, (long long) transfers),
			 drop_refusal_detail(accounts),
			 drop_refusal_hint()));
	PG_RETURN_VOID();
}

/*
 * Entry points that only earlier releases' SQL names.  Their install scripts
 * must still load with this library (CREATE EXTENSION payments VERSION '1.0',
 * pg_upgrade, a restore) for ALTER EXTENSION UPDATE to start from them, so
 * the symbols stay.  Called, they mean the SQL objects are of an earlier
 * version, which payments_require_sql_version() reports.
 */
PG_FUNCTION_INFO_V1(ledger_transfer_after_insert);
PG_FUNCTION_INFO_V1(ledger_transfer_check_balanced);
PG_FUNCTION_INFO_V1(ledger_posting_guard);

static Datum
earlier_release_entry_point(const char *name)
{
	payments_require_sql_version();
	elog(ERROR, "%s belongs to an earlier release of extension payments", name);
	PG_RETURN_VOID();
}

/* payments 1.0: the row trigger that applied a transfer */
Datum
ledger_transfer_after_insert(PG_FUNCTION_ARGS)
{
	return earlier_release_entry_point("ledger_transfer_after_insert");
}

/* payments 1.0: the deferred check of a transfer's legs */
Datum
ledger_transfer_check_balanced(PG_FUNCTION_ARGS)
{
	return earlier_release_entry_point("ledger_transfer_check_balanced");
}

/* payments 1.0: the guard on postings, now ledger_write_guard */
Datum
ledger_posting_guard(PG_FUNCTION_ARGS)
{
	return earlier_release_entry_point("ledger_posting_guard");
}

/* triggers ------------------------------------------------------------------ */

/* The firing mode (pg_trigger.tgenabled) an ALTER TABLE command sets, or 0. */
static char
trigger_mode_set_by(AlterTableType subtype)
{
	switch (subtype)
	{
		case AT_EnableTrig:
		case AT_EnableTrigAll:
		case AT_EnableTrigUser:
			return TRIGGER_FIRES_ON_ORIGIN;
		case AT_EnableAlwaysTrig:
			return TRIGGER_FIRES_ALWAYS;
		case AT_EnableReplicaTrig:
			return TRIGGER_FIRES_ON_REPLICA;
		case AT_DisableTrig:
		case AT_DisableTrigAll:
		case AT_DisableTrigUser:
			return TRIGGER_DISABLED;
		default:
			return 0;
	}
}

/*
 * Refuses cmd if it would change how one of the ledger's triggers on relid
 * fires: the triggers of the table that run a function of extension
 * payments, among those the command names (one, all, or all but internal).
 */
static void
refuse_trigger_change(Oid relid, AlterTableCmd *cmd, Oid extension)
{
	char		mode = trigger_mode_set_by(cmd->subtype);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	if (mode == 0)
		return;
	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_trigger t = (Form_pg_trigger) GETSTRUCT(tuple);
		bool		named;

		switch (cmd->subtype)
		{
			case AT_EnableTrig:
			case AT_EnableAlwaysTrig:
			case AT_EnableReplicaTrig:
			case AT_DisableTrig:
				named = strcmp(NameStr(t->tgname), cmd->name) == 0;
				break;
			case AT_EnableTrigUser:
			case AT_DisableTrigUser:
				named = !t->tgisinternal;
				break;
			default:
				named = true;
				break;
		}
		if (named && t->tgenabled != mode &&
			getExtensionOfObject(ProcedureRelationId, t->tgfoid) == extension)
			ereport(ERROR,
					(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
					 errmsg("cannot change how trigger %s on %s fires",
							NameStr(t->tgname), get_rel_name(relid)),
					 errdetail("The ledger's triggers keep its rules on every write path: without them, transfers would go in without their legs and history could be changed."),
					 errhint("Restores load rows with session_replication_role = replica. To change the trigger deliberately, a superuser first runs ALTER EVENT TRIGGER payments_trigger_guard DISABLE.")));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * Event trigger at ddl_command_start for ALTER TABLE: refuses a statement
 * that would disable one of the ledger's triggers, or change when it fires.
 * The extension's own scripts (CREATE and ALTER EXTENSION) may.
 */
Datum
ledger_trigger_guard(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	AlterTableStmt *stmt;
	Oid			extension,
				relid;
	ListCell   *cell;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger_guard can only be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (creating_extension || !IsA(trigdata->parsetree, AlterTableStmt))
		PG_RETURN_VOID();
	stmt = (AlterTableStmt *) trigdata->parsetree;
	extension = get_extension_oid("payments", true);
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(extension) || !OidIsValid(relid))
		PG_RETURN_VOID();
	foreach(cell, stmt->cmds)
		refuse_trigger_change(relid, lfirst_node(AlterTableCmd, cell), extension);
	PG_RETURN_VOID();
}
