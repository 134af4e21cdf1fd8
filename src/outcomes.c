/*
 * outcomes.c
 *	  What became of the API's calls: transfers committed, and calls refused
 *	  by SQLSTATE, per minute for the last hour and in all since the server
 *	  started (payments.outcome_counts(), the views monitor_outcomes and
 *	  monitor_outcome_totals).
 *
 * A refusal rolls back everything it wrote, so no table can count it: the
 * counts live in shared memory, which PostgreSQL 15 gives only to a library
 * in shared_preload_libraries.  Without it nothing is counted (the views are
 * empty) and everything else works the same.
 *
 * Transfers are counted when their transaction commits, not when the engine
 * applies them: the engine adds each statement's to a per-backend tally,
 * tagged with its subtransaction, a subtransaction that aborts takes its
 * own and its children's back (their ids are all at least its own), and a
 * commit adds the rest to the minute.  A refusal is counted once per
 * outermost call of the API that raised it, by its SQLSTATE.
 */
#include "postgres.h"

#include "access/xact.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "outcomes.h"

/* 61 minutes: the last 60 whole ones and the current one */
#define OUTCOME_MINUTES		61
/* distinct SQLSTATEs kept per minute; more are counted without their code */
#define OUTCOME_CODES		32

typedef struct OutcomeCounts
{
	int64		minute;			/* minutes since the PostgreSQL epoch; -1: the totals */
	uint64		committed;		/* transfers committed */
	uint64		refused_other;	/* refusals past OUTCOME_CODES codes */
	int			ncodes;
	int			codes[OUTCOME_CODES];	/* sqlerrcode, MAKE_SQLSTATE() */
	uint64		refused[OUTCOME_CODES];
} OutcomeCounts;

typedef struct OutcomeShared
{
	slock_t		mutex;
	TimestampTz since;
	OutcomeCounts total;
	OutcomeCounts minutes[OUTCOME_MINUTES];
} OutcomeShared;

static OutcomeShared *shared = NULL;

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* This backend's transfers applied in the transaction, by subtransaction. */
typedef struct AppliedTally
{
	SubTransactionId subid;
	int64		n;
} AppliedTally;

static AppliedTally *tally = NULL;
static int	ntally = 0;
static int	tally_size = 0;
static bool callbacks_registered = false;

/* Calls of the API in progress, so that a nested call's error counts once. */
static int	call_depth = 0;

static void
outcomes_shmem_request(void)
{
#if PG_VERSION_NUM >= 150000
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(MAXALIGN(sizeof(OutcomeShared)));
}

static void
outcomes_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("payments outcomes", sizeof(OutcomeShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(OutcomeShared));
		SpinLockInit(&shared->mutex);
		shared->since = GetCurrentTimestamp();
		shared->total.minute = -1;
		for (int i = 0; i < OUTCOME_MINUTES; i++)
			shared->minutes[i].minute = -1;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
outcomes_request_shmem(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
#if PG_VERSION_NUM >= 150000
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = outcomes_shmem_request;
#else
	outcomes_shmem_request();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = outcomes_shmem_startup;
}

/* The counts of the current minute, emptied if they were of an older one. */
static OutcomeCounts *
current_minute(void)
{
	int64		minute = GetCurrentTimestamp() / USECS_PER_MINUTE;
	OutcomeCounts *m = &shared->minutes[(minute % OUTCOME_MINUTES + OUTCOME_MINUTES) % OUTCOME_MINUTES];

	if (m->minute != minute)
	{
		memset(m, 0, sizeof(OutcomeCounts));
		m->minute = minute;
	}
	return m;
}

static void
add_refusal(OutcomeCounts *c, int sqlerrcode)
{
	for (int i = 0; i < c->ncodes; i++)
		if (c->codes[i] == sqlerrcode)
		{
			c->refused[i]++;
			return;
		}
	if (c->ncodes < OUTCOME_CODES)
	{
		c->codes[c->ncodes] = sqlerrcode;
		c->refused[c->ncodes++] = 1;
	}
	else
		c->refused_other++;
}

/* Inside PG_CATCH: nothing here may fail. */
static void
count_refusal(int sqlerrcode)
{
	SpinLockAcquire(&shared->mutex);
	add_refusal(&shared->total, sqlerrcode);
	add_refusal(current_minute(), sqlerrcode);
	SpinLockRelease(&shared->mutex);
}

Datum
outcomes_call(PGFunction fn, FunctionCallInfo fcinfo)
{
	Datum		result;

	if (shared == NULL)
		return fn(fcinfo);
	call_depth++;
	PG_TRY();
	{
		result = fn(fcinfo);
	}
	PG_CATCH();
	{
		if (--call_depth == 0)
			count_refusal(geterrcode());
		PG_RE_THROW();
	}
	PG_END_TRY();
	call_depth--;
	return result;
}

static void
outcomes_xact_callback(XactEvent event, void *arg)
{
	int64		committed = 0;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			for (int i = 0; i < ntally; i++)
				committed += tally[i].n;
			if (committed > 0 && shared != NULL)
			{
				SpinLockAcquire(&shared->mutex);
				shared->total.committed += committed;
				current_minute()->committed += committed;
				SpinLockRelease(&shared->mutex);
			}
			ntally = 0;
			call_depth = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			/* a prepared transaction commits elsewhere: not counted */
			ntally = 0;
			call_depth = 0;
			break;
		default:
			break;
	}
}

static void
outcomes_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	while (ntally > 0 && tally[ntally - 1].subid >= mySubid)
		ntally--;
}

void
outcomes_transfers_applied(int64 n)
{
	SubTransactionId subid;

	if (shared == NULL || n <= 0)
		return;
	if (!callbacks_registered)
	{
		RegisterXactCallback(outcomes_xact_callback, NULL);
		RegisterSubXactCallback(outcomes_subxact_callback, NULL);
		callbacks_registered = true;
	}
	subid = GetCurrentSubTransactionId();
	if (ntally > 0 && tally[ntally - 1].subid == subid)
	{
		tally[ntally - 1].n += n;
		return;
	}
	if (ntally == tally_size)
	{
		tally_size = tally_size == 0 ? 16 : tally_size * 2;
		tally = tally == NULL ?
			MemoryContextAlloc(TopMemoryContext, tally_size * sizeof(AppliedTally)) :
			repalloc(tally, tally_size * sizeof(AppliedTally));
	}
	tally[ntally].subid = subid;
	tally[ntally].n = n;
	ntally++;
}

/* Emits the rows of one set of counts: minute null for the totals. */
static void
emit_counts(ReturnSetInfo *rsinfo, const OutcomeCounts *c, TimestampTz since)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	nulls[0] = c->minute < 0;
	values[0] = TimestampTzGetDatum(c->minute * USECS_PER_MINUTE);
	values[4] = TimestampTzGetDatum(since);

	values[1] = CStringGetTextDatum("committed");
	nulls[2] = true;
	values[3] = Int64GetDatum((int64) c->committed);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	values[1] = CStringGetTextDatum("refused");
	nulls[2] = false;
	for (int i = 0; i < c->ncodes; i++)
	{
		values[2] = CStringGetTextDatum(unpack_sql_state(c->codes[i]));
		values[3] = Int64GetDatum((int64) c->refused[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	if (c->refused_other > 0)
	{
		nulls[2] = true;
		values[3] = Int64GetDatum((int64) c->refused_other);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * payments.outcome_counts(): (minute, outcome, sqlstate, count, since): the
 * totals since counting began at since (minute null), then each of the last
 * 61 minutes that counted anything.  Outcome committed: transfers
 * committed; refused: calls refused, by SQLSTATE (null: past the codes a
 * minute keeps).  No rows when the library is not preloaded.
 */
PG_FUNCTION_INFO_V1(ledger_outcome_counts);
Datum
ledger_outcome_counts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	OutcomeShared *copy;
	int64		now_minute = GetCurrentTimestamp() / USECS_PER_MINUTE;

	InitMaterializedSRF(fcinfo, 0);
	if (shared == NULL)
		PG_RETURN_VOID();
	/* a copy, read under the lock; the rows are made outside it */
	copy = palloc(sizeof(OutcomeShared));
	SpinLockAcquire(&shared->mutex);
	memcpy(copy, shared, sizeof(OutcomeShared));
	SpinLockRelease(&shared->mutex);

	emit_counts(rsinfo, &copy->total, copy->since);
	for (int64 minute = now_minute - (OUTCOME_MINUTES - 1); minute <= now_minute; minute++)
	{
		const OutcomeCounts *m =
			&copy->minutes[(minute % OUTCOME_MINUTES + OUTCOME_MINUTES) % OUTCOME_MINUTES];

		if (m->minute == minute)
			emit_counts(rsinfo, m, copy->since);
	}
	PG_RETURN_VOID();
}
