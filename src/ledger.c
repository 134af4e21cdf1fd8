/*
 * ledger.c
 *	  Applying a transfer: apply its two legs to their accounts, lower id
 *	  first, each in one UPDATE that locks the row and refuses an account that
 *	  may not take it; check the limits on the rows as updated; write the legs.
 *
 * This runs in the AFTER INSERT trigger of payments.transfers, so that it
 * happens exactly once for every transfer row that is really inserted,
 * whatever wrote it (post_transfer(), INSERT, INSERT ... ON CONFLICT, COPY).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "ledger.h"

static bool ledger_writing = false;

static void ledger_account_missing(int64 account) pg_attribute_noreturn();

/*
 * The transfers this backend applied in the current transaction, in
 * TopTransactionContext.  An id left by an aborted subtransaction is
 * harmless: its transfer row, and the deferred check queued for it, are gone
 * with it, and ids are never reused.
 */
static HTAB *applied_transfers = NULL;
static bool applied_callback_registered = false;

static void
applied_transfers_reset(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT)
		applied_transfers = NULL;
}

static void
applied_transfers_add(int64 transfer_id)
{
	bool		found;

	if (applied_transfers == NULL)
	{
		HASHCTL		ctl;

		if (!applied_callback_registered)
		{
			RegisterXactCallback(applied_transfers_reset, NULL);
			applied_callback_registered = true;
		}
		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(int64);
		ctl.hcxt = TopTransactionContext;
		applied_transfers = hash_create("payments applied transfers", 64, &ctl,
										HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	(void) hash_search(applied_transfers, &transfer_id, HASH_ENTER, &found);
}

bool
ledger_applied_here(int64 transfer_id)
{
	bool		found = false;

	if (applied_transfers != NULL)
		(void) hash_search(applied_transfers, &transfer_id, HASH_FIND, &found);
	return found;
}

#define MONETARY_SCHEMA_TOKEN	"@monetary@"

/* sql with every @monetary@ replaced by the quoted schema of the type. */
static char *
with_monetary_schema(const char *sql, Oid monetary_oid)
{
	HeapTuple	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(monetary_oid));
	const char *schema;
	StringInfoData buf;
	const char *rest = sql;
	const char *token;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for type %u", monetary_oid);
	schema = quote_identifier(get_namespace_name(((Form_pg_type) GETSTRUCT(tuple))->typnamespace));
	ReleaseSysCache(tuple);

	initStringInfo(&buf);
	while ((token = strstr(rest, MONETARY_SCHEMA_TOKEN)) != NULL)
	{
		appendBinaryStringInfo(&buf, rest, token - rest);
		appendStringInfoString(&buf, schema);
		rest = token + strlen(MONETARY_SCHEMA_TOKEN);
	}
	appendStringInfoString(&buf, rest);
	return buf.data;
}

SPIPlanPtr
ledger_plan(LedgerPlan *p, Oid monetary_oid)
{
	Oid			types[lengthof(p->argtypes)];
	bool		uses_monetary = strstr(p->sql, MONETARY_SCHEMA_TOKEN) != NULL;

	for (int i = 0; i < p->nargs; i++)
		uses_monetary |= p->argtypes[i] == MONETARY_PARAM;
	if (!uses_monetary)
		monetary_oid = InvalidOid;
	if (p->plan != NULL && p->monetary_oid == monetary_oid)
		return p->plan;
	if (p->plan != NULL)
	{
		SPI_freeplan(p->plan);
		p->plan = NULL;
	}
	if (uses_monetary && !OidIsValid(monetary_oid))
		elog(ERROR, "statement \"%s\" needs the monetary type", p->sql);
	for (int i = 0; i < p->nargs; i++)
		types[i] = p->argtypes[i] == MONETARY_PARAM ? monetary_oid : p->argtypes[i];
	p->plan = SPI_prepare(uses_monetary ? with_monetary_schema(p->sql, monetary_oid) : p->sql,
						  p->nargs, types);
	if (p->plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", p->sql,
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(p->plan);
	p->monetary_oid = monetary_oid;
	return p->plan;
}

bool
ledger_is_writing(void)
{
	return ledger_writing;
}

int
ledger_execute_write(SPIPlanPtr plan, Datum *values, const char *nulls)
{
	int			ret;

	ledger_writing = true;
	PG_TRY();
	{
		ret = SPI_execute_plan(plan, values, nulls, false, 0);
	}
	PG_FINALLY();
	{
		ledger_writing = false;
	}
	PG_END_TRY();
	return ret;
}

static void
ledger_account_missing(int64 account)
{
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("account %lld does not exist", (long long) account)));
	pg_unreachable();
}

static LedgerPlan account_ledger_plan = {
	"SELECT ledger FROM payments.accounts WHERE id = $1",
	1, {INT8OID}
};

/*
 * Accounts' ledgers, kept per backend: an account's ledger never changes
 * (account_guard refuses it) and committed accounts are never deleted, so an
 * entry stays true.  An account of an aborted (sub)transaction is gone, so an
 * abort empties the cache; so do any relcache invalidation (DROP EXTENSION
 * among them) and reaching its bound.  Should an entry still be stale (rows
 * rewritten in replica mode), the AFTER trigger, which compares each updated
 * account's ledger with the transfer's, refuses the transfer: a stale entry
 * can refuse, never misfile.
 */
#define ACCOUNT_LEDGER_CACHE_MAX	65536

typedef struct AccountLedgerEntry
{
	int64		account;
	char	   *ledger;
} AccountLedgerEntry;

static HTAB *account_ledger_cache = NULL;
static MemoryContext account_ledger_context = NULL;

static void
account_ledger_cache_reset(Datum arg, Oid relid)
{
	if (account_ledger_context != NULL)
		MemoryContextReset(account_ledger_context);
	account_ledger_cache = NULL;
}

static void
account_ledger_xact_abort(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		account_ledger_cache_reset((Datum) 0, InvalidOid);
}

static void
account_ledger_subxact_abort(SubXactEvent event, SubTransactionId mySubid,
							 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		account_ledger_cache_reset((Datum) 0, InvalidOid);
}

static const char *
account_ledger_cached(int64 account)
{
	AccountLedgerEntry *e;

	if (account_ledger_cache == NULL)
		return NULL;
	e = hash_search(account_ledger_cache, &account, HASH_FIND, NULL);
	return e ? e->ledger : NULL;
}

static void
account_ledger_remember(int64 account, const char *ledger)
{
	AccountLedgerEntry *e;

	if (account_ledger_context == NULL)
	{
		account_ledger_context = AllocSetContextCreate(TopMemoryContext,
													   "payments account ledgers",
													   ALLOCSET_DEFAULT_SIZES);
		CacheRegisterRelcacheCallback(account_ledger_cache_reset, (Datum) 0);
		RegisterXactCallback(account_ledger_xact_abort, NULL);
		RegisterSubXactCallback(account_ledger_subxact_abort, NULL);
	}
	if (account_ledger_cache != NULL &&
		hash_get_num_entries(account_ledger_cache) >= ACCOUNT_LEDGER_CACHE_MAX)
		account_ledger_cache_reset((Datum) 0, InvalidOid);
	if (account_ledger_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(AccountLedgerEntry);
		ctl.hcxt = account_ledger_context;
		account_ledger_cache = hash_create("payments account ledgers", 1024, &ctl,
										   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(account_ledger_cache, &account, HASH_ENTER, NULL);
	e->ledger = MemoryContextStrdup(account_ledger_context, ledger);
}

char *
ledger_account_ledger(Oid monetary_oid, int64 account)
{
	Datum		values[1] = {Int64GetDatum(account)};
	bool		isnull;
	const char *ledger = account_ledger_cached(account);
	char	   *result;

	if (ledger != NULL)
		return pstrdup(ledger);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_plan(ledger_plan(&account_ledger_plan, monetary_oid),
						 values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed reading account %lld", (long long) account);
	if (SPI_processed == 0)
		ledger_account_missing(account);
	ledger = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull));
	account_ledger_remember(account, ledger);
	/* in the caller's context, so that it outlives SPI_finish() */
	result = SPI_palloc(strlen(ledger) + 1);
	strcpy(result, ledger);
	SPI_finish();
	return result;
}


/*
 * Applies one leg: one UPDATE locks the account's row and adds the amount to
 * its volume on the leg's side, where the account may take the leg (in the
 * transfer's ledger, open, in the amount's currency); otherwise it updates
 * nothing, and refuse_leg() says why.  Locking and updating in one statement
 * takes the row's page lock once and writes no separate lock record, which
 * matters to concurrent transfers.  The legs are applied lower account id
 * first, so two transfers never wait on each other in a cycle.
 */
#define LEG_RETURNING \
	"RETURNING id, ledger, currency, normal_balance, allow_negative, status, " \
	"          debits_posted, credits_posted, debits_pending, credits_pending"
#define LEG_WHERE \
	" WHERE id OPERATOR(pg_catalog.=) $1 AND ledger OPERATOR(pg_catalog.=) $3 " \
	"   AND status OPERATOR(pg_catalog.=) 'open' " \
	"   AND currency OPERATOR(@monetary@.=) @monetary@.currency($2) "

static LedgerPlan debit_leg_plan = {
	"UPDATE payments.accounts SET debits_posted = debits_posted OPERATOR(@monetary@.+) $2"
	LEG_WHERE LEG_RETURNING,
	3, {INT8OID, MONETARY_PARAM, TEXTOID}
};

static LedgerPlan credit_leg_plan = {
	"UPDATE payments.accounts SET credits_posted = credits_posted OPERATOR(@monetary@.+) $2"
	LEG_WHERE LEG_RETURNING,
	3, {INT8OID, MONETARY_PARAM, TEXTOID}
};

static LedgerPlan account_row_plan = {
	"SELECT id, ledger, currency, normal_balance, allow_negative, status, "
	"       debits_posted, credits_posted, debits_pending, credits_pending "
	"  FROM payments.accounts WHERE id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

static LedgerPlan insert_postings_plan = {
	"INSERT INTO payments.postings "
	"       (ledger, transfer_id, account_id, side, amount, balance_after, created_at) "
	"VALUES ($1, $2, $3, 'debit', $5, $6, $8), ($1, $2, $4, 'credit', $5, $7, $8)",
	8, {TEXTOID, INT8OID, INT8OID, INT8OID, MONETARY_PARAM, MONETARY_PARAM,
	MONETARY_PARAM, TIMESTAMPTZOID}
};

static Monetary
read_monetary(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	if (isnull)
		elog(ERROR, "account volume column %d is null", col);
	return *DatumGetMonetaryP(d);
}

static void
read_account(HeapTuple tuple, TupleDesc desc, AccountRow *row)
{
	bool		isnull;

	row->id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
	row->ledger = TextDatumGetCString(SPI_getbinval(tuple, desc, 2, &isnull));
	row->currency = DatumGetCurrency(SPI_getbinval(tuple, desc, 3, &isnull));
	row->debit_normal =
		strcmp(TextDatumGetCString(SPI_getbinval(tuple, desc, 4, &isnull)), "debit") == 0;
	row->allow_negative = DatumGetBool(SPI_getbinval(tuple, desc, 5, &isnull));
	row->status = TextDatumGetCString(SPI_getbinval(tuple, desc, 6, &isnull));
	row->debits_posted = read_monetary(tuple, desc, 7);
	row->credits_posted = read_monetary(tuple, desc, 8);
	row->debits_pending = read_monetary(tuple, desc, 9);
	row->credits_pending = read_monetary(tuple, desc, 10);
}

/* Posted balance on the account's normal side. */
amount_int
ledger_posted_balance(const AccountRow *a)
{
	amount_int	r = 0;

	if (a->debit_normal)
		amount_check(amount_sub(a->debits_posted.units, a->credits_posted.units, &r),
					 "balance", a->currency);
	else
		amount_check(amount_sub(a->credits_posted.units, a->debits_posted.units, &r),
					 "balance", a->currency);
	return r;
}

/* What may still be spent: posted balance less pending outgoing amounts. */
amount_int
ledger_available_balance(const AccountRow *a)
{
	amount_int	r = 0;

	amount_check(amount_sub(ledger_posted_balance(a),
							a->debit_normal ? a->credits_pending.units :
							a->debits_pending.units, &r),
				 "available balance", a->currency);
	return r;
}

static void
check_account(const AccountRow *a, const char *ledger, const Monetary *amount)
{
	if (strcmp(a->ledger, ledger) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("account %lld is in ledger \"%s\", not in the transfer's ledger \"%s\"",
						(long long) a->id, a->ledger, ledger),
				 errdetail("A transfer moves money inside one ledger; between ledgers it takes two transfers through bridge accounts.")));
	if (strcmp(a->status, "open") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("account %lld is %s", (long long) a->id, a->status),
				 errdetail("Only open accounts send or receive transfers.")));
	if (a->currency != amount->currency)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("currency mismatch: the transfer is in %s but account %lld holds %s",
						currency_to_cstring(amount->currency), (long long) a->id,
						currency_to_cstring(a->currency))));
}

static void
check_limit(const AccountRow *before, const AccountRow *after, const Monetary *amount)
{
	amount_int	available;

	if (after->allow_negative || ledger_posted_balance(after) >= ledger_posted_balance(before))
		return;
	available = ledger_available_balance(after);
	if (available < 0)
	{
		Monetary	had;

		had.units = ledger_available_balance(before);
		had.currency = before->currency;
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("insufficient funds in account %lld", (long long) before->id),
				 errdetail("Its available balance is %s and the transfer needs %s.",
						   monetary_to_cstring(&had), monetary_to_cstring(amount)),
				 errhint("The account may not go negative (allow_negative is false).")));
	}
}

/* Why an account did not take a leg: each refusal with its own error. */
static void
refuse_leg(Oid monetary_oid, int64 account, const char *ledger, const Monetary *amount)
{
	Datum		args[1] = {Int64GetDatum(account)};
	AccountRow	row;

	if (SPI_execute_plan(ledger_plan(&account_row_plan, monetary_oid), args, NULL,
						 false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed reading account %lld", (long long) account);
	if (SPI_processed == 0)
		ledger_account_missing(account);
	read_account(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, &row);
	check_account(&row, ledger, amount);
	/* changed back between the UPDATE and this look-up: a retry will do */
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("account %lld changed while a transfer was applied to it",
					(long long) account),
			 errhint("Retry the transaction.")));
}

/* Applies one leg; *after is the account's row with it. */
static void
apply_leg(Oid monetary_oid, int64 account, bool debit, const char *ledger,
		  const Monetary *amount, AccountRow *after)
{
	Datum		args[3] = {Int64GetDatum(account), MonetaryPGetDatum(amount),
	CStringGetTextDatum(ledger)};

	if (ledger_execute_write(ledger_plan(debit ? &debit_leg_plan : &credit_leg_plan,
										 monetary_oid),
							 args, NULL) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "SPI_execute_plan failed applying a leg to account %lld",
			 (long long) account);
	if (SPI_processed == 0)
		refuse_leg(monetary_oid, account, ledger, amount);
	read_account(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, after);
}

void
ledger_apply_transfer(Oid monetary_oid, int64 transfer_id, const char *ledger,
					  int64 from_account, int64 to_account, const Monetary *amount)
{
	AccountRow	from,
				to,
				from_before,
				to_before;
	Monetary	from_balance,
				to_balance;
	Datum		args[8];

	if (from_account < to_account)
	{
		apply_leg(monetary_oid, from_account, true, ledger, amount, &from);
		apply_leg(monetary_oid, to_account, false, ledger, amount, &to);
	}
	else
	{
		apply_leg(monetary_oid, to_account, false, ledger, amount, &to);
		apply_leg(monetary_oid, from_account, true, ledger, amount, &from);
	}

	/* the rows as they were: the leg was added to a volume within range */
	from_before = from;
	from_before.debits_posted.units -= amount->units;
	to_before = to;
	to_before.credits_posted.units -= amount->units;
	check_limit(&from_before, &from, amount);
	check_limit(&to_before, &to, amount);

	from_balance.units = ledger_posted_balance(&from);
	from_balance.currency = amount->currency;
	to_balance.units = ledger_posted_balance(&to);
	to_balance.currency = amount->currency;
	args[0] = CStringGetTextDatum(ledger);
	args[1] = Int64GetDatum(transfer_id);
	args[2] = Int64GetDatum(from_account);
	args[3] = Int64GetDatum(to_account);
	args[4] = MonetaryPGetDatum(amount);
	args[5] = MonetaryPGetDatum(&from_balance);
	args[6] = MonetaryPGetDatum(&to_balance);
	/* taken under both locks: per account, leg times follow the leg order */
	args[7] = TimestampTzGetDatum(GetCurrentTimestamp());
	if (ledger_execute_write(ledger_plan(&insert_postings_plan, monetary_oid),
							 args, NULL) != SPI_OK_INSERT || SPI_processed != 2)
		elog(ERROR, "writing the legs of transfer %lld failed", (long long) transfer_id);
	applied_transfers_add(transfer_id);
}
