/*
 * hot_accounts.c
 *	  Hot accounts: their stripes, and payments.set_hot().
 *
 * See hot_accounts.h for the design.  The posting engine chooses the path
 * of each account's legs (posting_engine.c); account_guard counts the
 * stripes when an account is closed or barred from going negative
 * (ledger_triggers.c); the reading functions and views add them up
 * (sql/payments/033_ledger_reading.sql).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "hot_accounts.h"
#include "ledger.h"
#include "ledger_access.h"
#include "lifecycle.h"

PG_FUNCTION_INFO_V1(ledger_set_hot);

/* the hot accounts, as this backend last read them ------------------------ */

typedef struct HotAccountEntry
{
	int64		account;
	HotAccountHint hint;
} HotAccountEntry;

static HTAB *hot_set = NULL;
static MemoryContext hot_set_context = NULL;
static Oid	hot_set_relid = InvalidOid;	/* payments.accounts, when read */

static void
hot_set_reset(void)
{
	if (hot_set_context != NULL)
		MemoryContextReset(hot_set_context);
	hot_set = NULL;
}

/*
 * Any change to accounts' relcache entry (set_hot() makes one at commit;
 * an aborted transaction's own are replayed at its abort) drops the set.
 */
static void
hot_set_relcache_changed(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == hot_set_relid)
		hot_set_reset();
}

static HotAccountEntry *
hot_set_enter(int64 account)
{
	return hash_search(hot_set, &account, HASH_ENTER, NULL);
}

static LedgerPlan hot_accounts_plan = {
	"SELECT id, stripes, normal_balance OPERATOR(pg_catalog.=) 'debit', allow_negative"
	"  FROM payments.accounts WHERE hot",
	0, {InvalidOid}
};

/* Reads the hot accounts (few: accounts_hot_idx holds them alone). */
static void
hot_set_load(void)
{
	HASHCTL		ctl;

	if (hot_set_context == NULL)
	{
		hot_set_context = AllocSetContextCreate(TopMemoryContext, "payments hot accounts",
												ALLOCSET_SMALL_SIZES);
		CacheRegisterRelcacheCallback(hot_set_relcache_changed, (Datum) 0);
	}
	hot_set_relid = ledger_relation(REL_ACCOUNTS);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_plan(ledger_plan(&hot_accounts_plan, InvalidOid), NULL, NULL, true, 0) !=
		SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed reading the hot accounts");
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(HotAccountEntry);
	ctl.hcxt = hot_set_context;
	hot_set = hash_create("payments hot accounts", Max(SPI_processed, 16), &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		HotAccountEntry *e = hot_set_enter(DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull)));

		e->hint.stripes = DatumGetInt16(SPI_getbinval(tuple, desc, 2, &isnull));
		e->hint.debit_normal = DatumGetBool(SPI_getbinval(tuple, desc, 3, &isnull));
		e->hint.allow_negative = DatumGetBool(SPI_getbinval(tuple, desc, 4, &isnull));
	}
	SPI_finish();
}

bool
hot_account_hint(int64 account, HotAccountHint *hint)
{
	HotAccountEntry *e;

	if (hot_set == NULL)
		hot_set_load();
	e = hash_search(hot_set, &account, HASH_FIND, NULL);
	if (e == NULL || e->hint.stripes <= 0)
		return false;
	*hint = e->hint;
	return true;
}

void
hot_accounts_changed(void)
{
	CacheInvalidateRelcacheByRelid(ledger_relation(REL_ACCOUNTS));
}

void
hot_account_learn(const AccountRow *row)
{
	HotAccountEntry *e;

	if (hot_set == NULL)
		return;					/* read afresh next time */
	if (row->hot && row->stripes > 0)
	{
		e = hot_set_enter(row->id);
		e->hint.stripes = row->stripes;
		e->hint.debit_normal = row->debit_normal;
		e->hint.allow_negative = row->allow_negative;
	}
	else
		hash_search(hot_set, &row->id, HASH_REMOVE, NULL);
}

void
hot_stripe_columns(Relation stripes, StripeColumns *cols)
{
	cols->debits_posted = ledger_column(stripes, "debits_posted") - 1;
	cols->credits_posted = ledger_column(stripes, "credits_posted") - 1;
	cols->debits_pending = ledger_column(stripes, "debits_pending") - 1;
	cols->credits_pending = ledger_column(stripes, "credits_pending") - 1;
}

void
hot_stripe_read(TableWriter *stripes, const StripeColumns *cols, AccountRow *row)
{
	TupleTableSlot *slot = stripes->slot;

	slot_getallattrs(slot);
	row->debits_posted = *DatumGetMonetaryP(slot->tts_values[cols->debits_posted]);
	row->credits_posted = *DatumGetMonetaryP(slot->tts_values[cols->credits_posted]);
	row->debits_pending = *DatumGetMonetaryP(slot->tts_values[cols->debits_pending]);
	row->credits_pending = *DatumGetMonetaryP(slot->tts_values[cols->credits_pending]);
}

int
hot_stripe_lock(TableWriter *stripes, Datum ledger, int64 account, int nstripes)
{
	/* backends start at different stripes, and each keeps to its own */
	int			first;

	if (nstripes <= 0)
		return 0;
	first = MyProcPid % nstripes;
	for (int i = 0; i < nstripes; i++)
	{
		int			stripe = (first + i) % nstripes + 1;
		Datum		key[3] = {ledger, Int64GetDatum(account), Int16GetDatum(stripe)};

		switch (table_writer_lock_latest(stripes, key, true))
		{
			case ROW_LOCKED:
				return stripe;
			case ROW_MISSING:
				return 0;
			case ROW_BUSY:
				break;
		}
	}

	/*
	 * Every stripe is taken.  Waiting for one would wait for its holder
	 * whichever stripe frees first; the row is free of credits.
	 */
	return 0;
}

static void
add_volume(Monetary *into, const Monetary *add)
{
	amount_check(amount_add(into->units, add->units, &into->units),
				 "account volume", into->currency);
}

void
hot_stripes_add(TableWriter *stripes, Datum ledger, int64 account, int nstripes,
				bool lock, AccountRow *sum)
{
	StripeColumns cols;
	AccountRow	stripe;

	hot_stripe_columns(stripes->rel, &cols);
	for (int k = 1; k <= nstripes; k++)
	{
		Datum		key[3] = {ledger, Int64GetDatum(account), Int16GetDatum(k)};
		bool		found;

		CHECK_FOR_INTERRUPTS();
		if (lock)
			found = table_writer_lock_latest(stripes, key, false) == ROW_LOCKED;
		else
			found = table_writer_fetch_latest(stripes, key);
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("stripe %d of account %lld is missing", k, (long long) account),
					 errdetail("The account has %d stripes, numbered from 1, in payments.account_stripes.",
							   nstripes),
					 errhint("Restore the account's stripes with its other rows; payments.verify_ledger() shows what else differs.")));
		hot_stripe_read(stripes, &cols, &stripe);
		add_volume(&sum->debits_posted, &stripe.debits_posted);
		add_volume(&sum->credits_posted, &stripe.credits_posted);
		add_volume(&sum->debits_pending, &stripe.debits_pending);
		add_volume(&sum->credits_pending, &stripe.credits_pending);
	}
}

bool
hot_legs_need_total(bool debit_normal, bool allow_negative, amount_int debits,
					amount_int credits)
{
	if (allow_negative)
		return false;
	return debit_normal ? credits > 0 : debits > 0;
}

/* payments.set_hot() ------------------------------------------------------ */

static LedgerPlan lock_account_plan = {
	"SELECT ledger, hot, stripes, status OPERATOR(pg_catalog.=) 'closed' FROM payments.accounts"
	" WHERE id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
	1, {INT8OID}
};

static LedgerPlan add_stripes_plan = {
	"INSERT INTO payments.account_stripes (ledger, account_id, stripe, debits_posted,"
	"       credits_posted, debits_pending, credits_pending)"
	" SELECT a.ledger, a.id, s.stripe, z.zero, z.zero, z.zero, z.zero"
	"   FROM payments.accounts a,"
	"        pg_catalog.generate_series($2, $3) AS s(stripe),"
	"        LATERAL (SELECT @monetary@.monetary(0, a.currency) AS zero) z"
	"  WHERE a.id OPERATOR(pg_catalog.=) $1",
	3, {INT8OID, INT4OID, INT4OID}
};

static LedgerPlan mark_account_plan = {
	"UPDATE payments.accounts"
	"   SET hot = $2, stripes = $3,"
	"       striped_at = CASE WHEN $3 OPERATOR(pg_catalog.>) 0 THEN coalesce(striped_at, $4) END"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	4, {INT8OID, BOOLOID, INT2OID, TIMESTAMPTZOID}
};

/*
 * set_hot(account, hot, stripes): makes an account hot, with stripes rows
 * (16 the first time; more later, never fewer), or no longer hot.  Either
 * waits for the transfers applying to the account to end: making it hot
 * for those writing its row, making it cold again for those writing its
 * stripes, after which its stripes stay as they are, part of its volumes.
 */
Datum
ledger_set_hot(PG_FUNCTION_ARGS)
{
	int64		account;
	bool		hot;
	bool		given;
	int			requested = 0;
	Datum		args[4];
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;
	Datum		ledger;
	bool		was_hot;
	int			had;
	int			stripes;
	TimestampTz now;
	Oid			monetary_oid;
	TableWriter writer;

	payments_require_sql_version();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("set_hot() needs an account and whether it is hot")));
	account = PG_GETARG_INT64(0);
	hot = PG_GETARG_BOOL(1);
	given = !PG_ARGISNULL(2);
	if (given)
		requested = PG_GETARG_INT32(2);
	if (given && !hot)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stripes are given only when making an account hot")));
	if (given && (requested < 1 || requested > HOT_STRIPES_MAX))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stripes must be between 1 and %d, not %d", HOT_STRIPES_MAX, requested)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = Int64GetDatum(account);
	if (SPI_execute_plan(ledger_plan(&lock_account_plan, InvalidOid), args, NULL,
						 false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed locking account %lld", (long long) account);
	/* to a role confined to other ledgers, their accounts do not exist */
	if (SPI_processed == 0 ||
		!ledger_access_allowed(TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
																 SPI_tuptable->tupdesc, 1,
																 &isnull))))
		ledger_account_missing(account, false);
	/* under its lock: every leg written to its row so far is earlier */
	now = GetCurrentTimestamp();
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	ledger = SPI_getbinval(tuple, desc, 1, &isnull);
	was_hot = DatumGetBool(SPI_getbinval(tuple, desc, 2, &isnull));
	had = DatumGetInt16(SPI_getbinval(tuple, desc, 3, &isnull));
	if (hot && DatumGetBool(SPI_getbinval(tuple, desc, 4, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_ACCOUNT_CLOSED),
				 errmsg("account %lld is closed", (long long) account),
				 errdetail("A closed account takes no transfer, so it is never hot.")));
	stripes = given ? requested : had > 0 ? had : hot ? HOT_STRIPES_DEFAULT : 0;
	if (stripes < had)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("account %lld has %d stripes, and cannot have fewer", (long long) account, had),
				 errdetail("Stripes hold part of the account's volumes and the running balances of its postings: they are kept for good.")));

	table_writer_open(&writer, ledger_relation(REL_ACCOUNT_STRIPES));
	monetary_oid = TupleDescAttr(RelationGetDescr(writer.rel),
								 ledger_column(writer.rel, "debits_posted") - 1)->atttypid;
	if (was_hot && !hot)
	{
		/* wait out the transfers writing to its stripes */
		AccountRow	ignored;

		memset(&ignored, 0, sizeof(ignored));
		hot_stripes_add(&writer, ledger, account, had, true, &ignored);
	}
	table_writer_close(&writer);

	if (stripes > had)
	{
		args[1] = Int32GetDatum(had + 1);
		args[2] = Int32GetDatum(stripes);
		if (ledger_execute_write(ledger_plan(&add_stripes_plan, monetary_oid), args, NULL) !=
			SPI_OK_INSERT)
			elog(ERROR, "could not add the stripes of account %lld", (long long) account);
	}
	args[1] = BoolGetDatum(hot);
	args[2] = Int16GetDatum(stripes);
	args[3] = TimestampTzGetDatum(now);
	if (ledger_execute_write(ledger_plan(&mark_account_plan, InvalidOid), args, NULL) !=
		SPI_OK_UPDATE)
		elog(ERROR, "could not mark account %lld", (long long) account);
	hot_accounts_changed();
	SPI_finish();
	PG_RETURN_VOID();
}
