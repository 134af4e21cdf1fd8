/*
 * posting_engine.c
 *	  The posting engine: a set of transfers becomes locks, volumes and legs.
 *
 * It runs once per statement that inserts into payments.transfers (the
 * AFTER INSERT ... FOR EACH STATEMENT trigger transfer_apply), over the
 * statement's transition table, so that post_transfer(), post_transfers(),
 * INSERT, INSERT ... SELECT, multi-row VALUES, INSERT ... ON CONFLICT DO
 * NOTHING, MERGE and COPY all take this one path.  This file is the one
 * place where "a transfer has two legs" is written down.
 *
 *	1. Read the transfers once, summing per account the amounts of its legs
 *	   on each side ("netting").
 *	2. Lock and update the distinct accounts in (ledger, id) order, one
 *	   UPDATE each that adds the netted sums to the volumes where the account
 *	   may take them: in the transfers' ledger, open, in their currency.
 *	   Every statement takes its locks in the one global order, all before
 *	   anything else, so no two statements wait on each other in a cycle.
 *	3. Read the transfers again, in order, from each account's volumes
 *	   before the statement: each leg's running balance, and each limit
 *	   checked as if the transfers had been applied one after another.  The
 *	   legs are written in chunks.
 *
 * A refusal is an error, which takes the whole statement (and so its
 * updates) back: nothing is partially written.  Memory holds the distinct
 * accounts and one chunk of legs, whatever the number of transfers.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "entries.h"
#include "ledger.h"
#include "posting_engine.h"

/* How many transfers' legs are written by one INSERT. */
#define LEG_CHUNK	1024

typedef struct EngineAccountKey
{
	char		ledger[LEDGER_NAME_MAX_BYTES + 1];
	int64		id;
} EngineAccountKey;

typedef struct EngineAccount
{
	EngineAccountKey key;
	int64		first_transfer; /* the first transfer with a leg here, for errors */
	currency_code currency;		/* of that leg: all must be the account's */
	amount_int	debits;			/* the statement's legs, summed per side */
	amount_int	credits;
	/* set once locked */
	AccountRow	row;			/* volumes before the statement, then running */
} EngineAccount;

/* The columns of payments.transfers the engine reads. */
typedef struct TransferColumns
{
	int			id;
	int			ledger;
	int			from_account;
	int			to_account;
	int			amount;
} TransferColumns;

typedef struct Transfer
{
	int64		id;
	const char *ledger;
	int64		from_account;
	int64		to_account;
	Monetary	amount;
} Transfer;

/* One chunk of legs, as the INSERT's arrays take them. */
typedef struct LegChunk
{
	int			n;
	Datum		ledger[2 * LEG_CHUNK];
	Datum		transfer_id[2 * LEG_CHUNK];
	Datum		account_id[2 * LEG_CHUNK];
	Datum		debit[2 * LEG_CHUNK];
	Datum		amount[2 * LEG_CHUNK];
	Datum		balance_after[2 * LEG_CHUNK];
	Monetary	amounts[2 * LEG_CHUNK];
	Monetary	balances[2 * LEG_CHUNK];
} LegChunk;

static LedgerPlan apply_account_plan = {
	"UPDATE payments.accounts "
	"   SET debits_posted = debits_posted OPERATOR(@monetary@.+) $3, "
	"       credits_posted = credits_posted OPERATOR(@monetary@.+) $4 "
	" WHERE ledger OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2 "
	"   AND status OPERATOR(pg_catalog.=) 'open' "
	"   AND currency OPERATOR(@monetary@.=) @monetary@.currency($3) "
	"RETURNING " ACCOUNT_COLUMNS,
	4, {TEXTOID, INT8OID, MONETARY_PARAM, MONETARY_PARAM}
};

static LedgerPlan account_row_plan = {
	"SELECT " ACCOUNT_COLUMNS " FROM payments.accounts "
	" WHERE id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

static LedgerPlan insert_legs_plan = {
	"INSERT INTO payments.postings "
	"       (ledger, transfer_id, account_id, side, amount, balance_after, created_at) "
	"SELECT l.ledger, l.transfer_id, l.account_id, "
	"       CASE WHEN l.debit THEN 'debit' ELSE 'credit' END, "
	"       l.amount, l.balance_after, $7 "
	"  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), "
	"                 pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6)) "
	"       AS l(ledger, transfer_id, account_id, debit, amount, balance_after)",
	7, {TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID, BOOLARRAYOID,
	MONETARY_ARRAY_PARAM, MONETARY_ARRAY_PARAM, TIMESTAMPTZOID}
};

/* Reads a transfer of the transition table; NOT NULL has vetted it. */
static void
read_transfer(TupleTableSlot *slot, const TransferColumns *cols, Transfer *t)
{
	bool		isnull;

	t->id = DatumGetInt64(slot_getattr(slot, cols->id, &isnull));
	t->ledger = TextDatumGetCString(slot_getattr(slot, cols->ledger, &isnull));
	t->from_account = DatumGetInt64(slot_getattr(slot, cols->from_account, &isnull));
	t->to_account = DatumGetInt64(slot_getattr(slot, cols->to_account, &isnull));
	t->amount = *DatumGetMonetaryP(slot_getattr(slot, cols->amount, &isnull));
}

static EngineAccount *
find_account(HTAB *accounts, const char *ledger, int64 id, bool create, bool *found)
{
	EngineAccountKey key;

	memset(&key, 0, sizeof(key));
	strlcpy(key.ledger, ledger, sizeof(key.ledger));
	key.id = id;
	return hash_search(accounts, &key, create ? HASH_ENTER : HASH_FIND, found);
}

/* The account row as it is now, or NULL: for explaining a refusal. */
static AccountRow *
fetch_account(Oid monetary_oid, int64 id)
{
	Datum		args[1] = {Int64GetDatum(id)};
	AccountRow *row;

	if (SPI_execute_plan(ledger_plan(&account_row_plan, monetary_oid), args, NULL,
						 false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed reading account %lld", (long long) id);
	if (SPI_processed == 0)
		return NULL;
	row = palloc(sizeof(AccountRow));
	ledger_read_account(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row);
	return row;
}

/* Pass 1: one leg of a transfer, netted into its account. */
static void
add_leg(Oid monetary_oid, HTAB *accounts, const Transfer *t, int64 account, bool debit)
{
	bool		found;
	EngineAccount *a = find_account(accounts, t->ledger, account, true, &found);

	if (!found)
	{
		a->first_transfer = t->id;
		a->currency = t->amount.currency;
		a->debits = a->credits = 0;
	}
	else if (a->currency != t->amount.currency)
	{
		/* one of the two is not the account's currency: say which */
		AccountRow *row = fetch_account(monetary_oid, account);

		ledger_check_account(row, account, a->first_transfer, t->ledger, a->currency);
		ledger_check_account(row, account, t->id, t->ledger, t->amount.currency);
	}
	/* cannot overflow: fewer than 2^63 legs of at most TRANSFER_AMOUNT_MAX */
	if (debit)
		amount_check(amount_add(a->debits, t->amount.units, &a->debits),
					 "account volume", a->currency);
	else
		amount_check(amount_add(a->credits, t->amount.units, &a->credits),
					 "account volume", a->currency);
}

static int
compare_accounts(const void *x, const void *y)
{
	const EngineAccount *a = *(EngineAccount *const *) x;
	const EngineAccount *b = *(EngineAccount *const *) y;
	int			c = strcmp(a->key.ledger, b->key.ledger);

	if (c != 0)
		return c;
	return a->key.id < b->key.id ? -1 : a->key.id > b->key.id ? 1 : 0;
}

/* Names the account whose update failed, in the error's context. */
static void
account_error_context(void *arg)
{
	EngineAccount *a = arg;

	errcontext("applying the legs of the statement's transfers to account %lld of ledger \"%s\"",
			   (long long) a->key.id, a->key.ledger);
}

/*
 * Step 2 for one account: adds the netted legs to its volumes in one UPDATE
 * that also locks it, where it may take them; otherwise says why not.
 * Leaves in a->row the account as it was before the statement.
 */
static void
lock_and_update(Oid monetary_oid, EngineAccount *a)
{
	Monetary	debits = {a->debits, a->currency};
	Monetary	credits = {a->credits, a->currency};
	Datum		args[4] = {CStringGetTextDatum(a->key.ledger), Int64GetDatum(a->key.id),
	MonetaryPGetDatum(&debits), MonetaryPGetDatum(&credits)};
	ErrorContextCallback callback = {error_context_stack, account_error_context, a};

	error_context_stack = &callback;
	if (ledger_execute_write(ledger_plan(&apply_account_plan, monetary_oid), args, NULL)
		!= SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "SPI_execute_plan failed applying legs to account %lld",
			 (long long) a->key.id);
	if (SPI_processed == 0)
	{
		AccountRow *row = fetch_account(monetary_oid, a->key.id);

		ledger_check_account(row, a->key.id, a->first_transfer, a->key.ledger, a->currency);
		/* changed back between the UPDATE and this look-up: a retry will do */
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("account %lld changed while transfers were applied to it",
						(long long) a->key.id),
				 errhint("Retry the transaction.")));
	}
	error_context_stack = callback.previous;

	ledger_read_account(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, &a->row);
	/* back to the volumes before the statement: step 3 adds the legs in order */
	a->row.debits_posted.units -= a->debits;
	a->row.credits_posted.units -= a->credits;
}

/*
 * Step 3 for one leg: the account's running volumes and balance with it, the
 * limit checked, the leg queued.
 */
static void
apply_leg(LegChunk *chunk, EngineAccount *a, const Transfer *t, bool debit)
{
	AccountRow *row = &a->row;
	amount_int	before = ledger_posted_balance(row);
	amount_int	available_before = ledger_available_balance(row);
	amount_int	after;
	int			i = chunk->n++;

	if (debit)
		amount_check(amount_add(row->debits_posted.units, t->amount.units,
								&row->debits_posted.units),
					 "account volume", row->currency);
	else
		amount_check(amount_add(row->credits_posted.units, t->amount.units,
								&row->credits_posted.units),
					 "account volume", row->currency);
	after = ledger_posted_balance(row);

	if (!row->allow_negative && after < before && ledger_available_balance(row) < 0)
	{
		Monetary	had = {available_before, row->currency};

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_FUNDS),
				 errmsg("insufficient funds in account %lld for transfer %lld",
						(long long) row->id, (long long) t->id),
				 errdetail("Its available balance is %s and the transfer needs %s.",
						   monetary_to_cstring(&had), monetary_to_cstring(&t->amount)),
				 errhint("The account may not go negative (allow_negative is false)."),
				 errledger("accounts", NULL, "accounts_available_not_negative")));
	}

	chunk->ledger[i] = PointerGetDatum(NULL);	/* filled at flush */
	chunk->transfer_id[i] = Int64GetDatum(t->id);
	chunk->account_id[i] = Int64GetDatum(row->id);
	chunk->debit[i] = BoolGetDatum(debit);
	chunk->amounts[i] = t->amount;
	chunk->balances[i].units = after;
	chunk->balances[i].currency = row->currency;
	chunk->amount[i] = MonetaryPGetDatum(&chunk->amounts[i]);
	chunk->balance_after[i] = MonetaryPGetDatum(&chunk->balances[i]);
}

/* Writes the chunk's legs in one INSERT. */
static void
flush_legs(Oid monetary_oid, LegChunk *chunk, const char **leg_ledgers,
		   TimestampTz posted_at)
{
	Datum		args[7];
	int			n = chunk->n;

	if (n == 0)
		return;
	for (int i = 0; i < n; i++)
		chunk->ledger[i] = CStringGetTextDatum(leg_ledgers[i]);
	args[0] = PointerGetDatum(construct_array(chunk->ledger, n, TEXTOID, -1, false,
											  TYPALIGN_INT));
	args[1] = PointerGetDatum(construct_array(chunk->transfer_id, n, INT8OID, 8,
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(construct_array(chunk->account_id, n, INT8OID, 8,
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[3] = PointerGetDatum(construct_array(chunk->debit, n, BOOLOID, 1, true,
											  TYPALIGN_CHAR));
	args[4] = PointerGetDatum(construct_array(chunk->amount, n, monetary_oid,
											  sizeof(Monetary), false, TYPALIGN_DOUBLE));
	args[5] = PointerGetDatum(construct_array(chunk->balance_after, n, monetary_oid,
											  sizeof(Monetary), false, TYPALIGN_DOUBLE));
	args[6] = TimestampTzGetDatum(posted_at);
	if (ledger_execute_write(ledger_plan(&insert_legs_plan, monetary_oid), args, NULL)
		!= SPI_OK_INSERT || SPI_processed != (uint64) n)
		elog(ERROR, "writing %d legs failed", n);
	chunk->n = 0;
}

void
posting_engine_apply(Relation rel, Tuplestorestate *transfers)
{
	Oid			monetary_oid = TupleDescAttr(RelationGetDescr(rel),
											 ledger_column(rel, "amount") - 1)->atttypid;
	TransferColumns cols;
	MemoryContext engine_cxt,
				row_cxt,
				old_cxt;
	TupleTableSlot *slot;
	HASHCTL		ctl;
	HTAB	   *accounts;
	HASH_SEQ_STATUS seq;
	EngineAccount **order;
	EngineAccount *a;
	long		naccounts;
	LegChunk   *chunk;
	const char **leg_ledgers;
	TimestampTz posted_at;
	Transfer	t;

	cols.id = ledger_column(rel, "id");
	cols.ledger = ledger_column(rel, "ledger");
	cols.from_account = ledger_column(rel, "from_account");
	cols.to_account = ledger_column(rel, "to_account");
	cols.amount = ledger_column(rel, "amount");

	engine_cxt = AllocSetContextCreate(CurrentMemoryContext, "payments posting engine",
									   ALLOCSET_DEFAULT_SIZES);
	row_cxt = AllocSetContextCreate(engine_cxt, "payments posting engine row",
									ALLOCSET_SMALL_SIZES);
	old_cxt = MemoryContextSwitchTo(engine_cxt);
	slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
	ctl.keysize = sizeof(EngineAccountKey);
	ctl.entrysize = sizeof(EngineAccount);
	ctl.hcxt = engine_cxt;
	accounts = hash_create("payments engine accounts", 16, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	/* 1. net the legs per account */
	tuplestore_rescan(transfers);
	while (tuplestore_gettupleslot(transfers, true, false, slot))
	{
		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(row_cxt);
		read_transfer(slot, &cols, &t);
		add_leg(monetary_oid, accounts, &t, t.from_account, true);
		add_leg(monetary_oid, accounts, &t, t.to_account, false);
		MemoryContextSwitchTo(engine_cxt);
		MemoryContextReset(row_cxt);
	}
	naccounts = hash_get_num_entries(accounts);
	if (naccounts == 0)
		goto done;				/* nothing inserted (ON CONFLICT DO NOTHING, say) */

	/* 2. lock and update the accounts, in (ledger, id) order */
	order = palloc(naccounts * sizeof(EngineAccount *));
	hash_seq_init(&seq, accounts);
	for (long i = 0; (a = hash_seq_search(&seq)) != NULL; i++)
		order[i] = a;
	qsort(order, naccounts, sizeof(EngineAccount *), compare_accounts);
	for (long i = 0; i < naccounts; i++)
	{
		CHECK_FOR_INTERRUPTS();
		lock_and_update(monetary_oid, order[i]);
	}

	/* 3. the legs in transfer order: running balances, limits, postings */
	posted_at = GetCurrentTimestamp();	/* under every lock: legs' times follow their order */
	chunk = palloc(sizeof(LegChunk));
	chunk->n = 0;
	leg_ledgers = palloc(2 * LEG_CHUNK * sizeof(char *));
	tuplestore_rescan(transfers);
	while (tuplestore_gettupleslot(transfers, true, false, slot))
	{
		EngineAccount *from,
				   *to;

		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(row_cxt);
		read_transfer(slot, &cols, &t);
		from = find_account(accounts, t.ledger, t.from_account, false, NULL);
		to = find_account(accounts, t.ledger, t.to_account, false, NULL);
		if (from == NULL || to == NULL)
			elog(ERROR, "transfer %lld changed between the engine's passes", (long long) t.id);
		MemoryContextSwitchTo(engine_cxt);
		leg_ledgers[chunk->n] = from->key.ledger;
		apply_leg(chunk, from, &t, true);
		leg_ledgers[chunk->n] = to->key.ledger;
		apply_leg(chunk, to, &t, false);
		if (chunk->n == 2 * LEG_CHUNK)
		{
			MemoryContextSwitchTo(row_cxt);
			flush_legs(monetary_oid, chunk, leg_ledgers, posted_at);
			MemoryContextSwitchTo(engine_cxt);
		}
		MemoryContextReset(row_cxt);
	}
	MemoryContextSwitchTo(row_cxt);
	flush_legs(monetary_oid, chunk, leg_ledgers, posted_at);
	MemoryContextSwitchTo(engine_cxt);

done:
	tuplestore_rescan(transfers);	/* for whatever trigger reads it next */
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextSwitchTo(old_cxt);
	MemoryContextDelete(engine_cxt);
}
