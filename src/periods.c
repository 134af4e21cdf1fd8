/*
 * periods.c
 *	  Closed periods: payments.close_period(), and the check that nothing
 *	  posts into one.
 *
 * A posting's created_at is the time its statement applied it (under its
 * accounts' locks), not when its transaction commits: so a balance or a
 * statement as of T can still change after T, until every transaction that
 * applied a leg at or before T has ended.  close_period(ledger, until) makes
 * "as of until" final.  until must be past.  It waits for every transaction
 * in progress when it starts, as CREATE INDEX CONCURRENTLY does: any of them
 * may have applied legs at or before until and may still commit; any other
 * applies its legs later, at a time past until.  Then it records the period.
 * Behind that argument, which trusts the clock, the posting engine refuses
 * a leg at or before the ledger's last closed time on every write path (a
 * clock stepped back, a period recorded by hand).
 *
 * The engine reads each ledger's last closed time once per backend and
 * again after any change to payments.closed_periods (a trigger on it sends
 * a relcache invalidation, at commit), so that posting pays a hash look-up.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ledger.h"
#include "ledger_access.h"
#include "lifecycle.h"
#include "periods.h"

PG_FUNCTION_INFO_V1(ledger_close_period);

#define ERRCODE_PERIOD_CLOSED	MAKE_SQLSTATE('5','5','L','0','5')

typedef struct ClosedEntry
{
	char		ledger[LEDGER_NAME_MAX_BYTES + 1];	/* hash key: first */
	bool		closed;
	TimestampTz until;
} ClosedEntry;

static HTAB *closed_cache = NULL;
static Oid	closed_cache_relid = InvalidOid;	/* payments.closed_periods, when read */
static bool callback_registered = false;

/* No catalog access here: a callback may run outside a transaction. */
static void
closed_cache_reset(Datum arg, Oid relid)
{
	if (closed_cache != NULL && (relid == InvalidOid || relid == closed_cache_relid))
	{
		hash_destroy(closed_cache);
		closed_cache = NULL;
	}
}

static LedgerPlan last_closed_plan = {
	"SELECT pg_catalog.max(until) FROM payments.closed_periods "
	" WHERE ledger OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}
};

/* The ledger's last closed time, read with a new snapshot; false if none. */
static bool
last_closed(const char *ledger, TimestampTz *until)
{
	Datum		args[1] = {CStringGetTextDatum(ledger)};
	bool		isnull;
	Datum		d;

	if (SPI_execute_plan(ledger_plan(&last_closed_plan, InvalidOid), args, NULL, false, 1)
		!= SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed reading the closed periods of ledger \"%s\"", ledger);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		*until = DatumGetTimestampTz(d);
	SPI_freetuptable(SPI_tuptable);
	return !isnull;
}

void
periods_check_open(const char *ledger, TimestampTz posted_at)
{
	ClosedEntry *e;
	bool		found;
	char		key[LEDGER_NAME_MAX_BYTES + 1] = {0};

	if (closed_cache == NULL)
	{
		HASHCTL		ctl = {0};

		if (!callback_registered)
		{
			CacheRegisterRelcacheCallback(closed_cache_reset, (Datum) 0);
			callback_registered = true;
		}
		closed_cache_relid = ledger_relation(REL_CLOSED_PERIODS);
		ctl.keysize = sizeof(key);
		ctl.entrysize = sizeof(ClosedEntry);
		ctl.hcxt = TopMemoryContext;
		closed_cache = hash_create("payments closed periods", 16, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	strlcpy(key, ledger, sizeof(key));
	e = (ClosedEntry *) hash_search(closed_cache, key, HASH_ENTER, &found);
	if (!found)
		e->closed = last_closed(ledger, &e->until);
	if (e->closed && posted_at <= e->until)
		ereport(ERROR,
				(errcode(ERRCODE_PERIOD_CLOSED),
				 errmsg("the period of ledger \"%s\" up to %s is closed",
						ledger, timestamptz_to_str(e->until)),
				 errdetail("A leg posted now would be dated %s, at or before the close: the clock has gone back.",
						   timestamptz_to_str(posted_at)),
				 errhint("Post once the server's clock is past the close."),
				 errledger("closed_periods", "until", NULL)));
}

static LedgerPlan record_period_plan = {
	"INSERT INTO payments.closed_periods (ledger, until, closed_at, closed_by) "
	"VALUES ($1, $2, pg_catalog.clock_timestamp(), $3) ON CONFLICT DO NOTHING",
	3, {TEXTOID, TIMESTAMPTZOID, TEXTOID}
};

/* payments.close_period(ledger text, until timestamptz) -> timestamptz */
Datum
ledger_close_period(PG_FUNCTION_ARGS)
{
	char	   *ledger;
	TimestampTz until;
	TimestampTz closed;
	Snapshot	snap;
	TransactionId *running;
	int			nrunning;
	Datum		args[3];
	Datum		session;
	bool		session_null;

	payments_require_sql_version();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ledger and until must not be null")));
	ledger = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ledger_access_check(ledger);
	until = PG_GETARG_TIMESTAMPTZ(1);
	if (until >= GetCurrentTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the period up to %s has not ended", timestamptz_to_str(until)),
				 errhint("Close a period once its end is past.")));
	/* legs this transaction applied before would escape the wait below */
	if (TransactionIdIsValid(GetTopTransactionIdIfAny()))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("close_period() must run before its transaction writes anything"),
				 errhint("Call it in a transaction of its own.")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (last_closed(ledger, &closed) && closed >= until)
	{
		SPI_finish();
		PG_RETURN_TIMESTAMPTZ(closed);
	}

	/* every transaction in progress now may have posted at or before until */
	snap = GetLatestSnapshot();
	nrunning = snap->xcnt;
	running = palloc(Max(nrunning, 1) * sizeof(TransactionId));
	memcpy(running, snap->xip, nrunning * sizeof(TransactionId));
	for (int i = 0; i < nrunning; i++)
	{
		CHECK_FOR_INTERRUPTS();
		XactLockTableWait(running[i], NULL, NULL, XLTW_None);
	}

	args[0] = CStringGetTextDatum(ledger);
	args[1] = TimestampTzGetDatum(until);
	/* who closed it: the caller, not the owner this function runs as */
	ledger_posted_by(&args[2], &session, &session_null);
	if (ledger_execute_write(ledger_plan(&record_period_plan, InvalidOid), args, NULL)
		!= SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_plan failed recording a closed period");
	SPI_finish();
	PG_RETURN_TIMESTAMPTZ(until);
}

