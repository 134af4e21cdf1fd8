/*
 * sql_version.c
 *	  The library refuses to run against SQL objects of another version.
 *
 * Installing a new build replaces the shared library at once, while the
 * extension's tables, triggers and functions change only when a DBA runs
 * ALTER EXTENSION payments UPDATE.  In between, the library would apply its
 * rules to tables shaped for another release; instead, every entry point
 * refuses with an error that says how to finish the upgrade.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/rel.h"

#include "sql_version.h"

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

/* The extversion of extension payments, or NULL when it is not installed. */
static char *
installed_version(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *version = NULL;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("payments"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			version = text_to_cstring(DatumGetTextPP(d));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return version;
}

void
payments_require_sql_version(void)
{
	char	   *version;

	if (likely(sql_version_ok))
		return;

	version = installed_version();
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
