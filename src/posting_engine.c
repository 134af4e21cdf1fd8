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
 *	   on each side ("netting"): posted money, and the pending volumes that
 *	   holds take and their resolutions release.  Each resolution is checked
 *	   against its hold and each reversal against its original
 *	   (payment_flows.c); the originals are then locked, in (ledger, id)
 *	   order, and their reversals counted.
 *	2. Lock the distinct accounts in (ledger, id) order, each in turn: find
 *	   its row by the primary key, lock its latest version as UPDATE would,
 *	   check that it may take the legs (in the transfers' ledger, open, in
 *	   their currency), and add the netted sums to its volumes.  Every
 *	   statement takes its account locks in the one global order, so no two
 *	   statements wait on each other in a cycle.  A hot account's legs that
 *	   only add to what it may spend go to one of its stripes instead, which
 *	   no one else holds (to its row when all are held); legs that could
 *	   take it below its limit go to its row with all its stripes locked,
 *	   checked against the true total (hot_accounts.h).
 *	3. Read the transfers again, in order, from each account's volumes
 *	   before the statement: each leg's running balance, and each limit
 *	   checked as if the transfers had been applied one after another.  The
 *	   legs are written directly, as COPY writes rows (table_writer.c).
 *
 * A refusal is an error, which takes the whole statement (and so its
 * updates) back: nothing is partially written.  Memory holds the distinct
 * accounts (and the amounts of the holds the statement resolves), whatever
 * the number of transfers.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "entries.h"
#include "hot_accounts.h"
#include "ledger.h"
#include "ledger_triggers.h"
#include "payment_flows.h"
#include "periods.h"
#include "posting_engine.h"
#include "outcomes.h"
#include "table_writer.h"


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
	amount_int	debits;			/* the statement's posted legs, summed per side */
	amount_int	credits;
	amount_int	held_debits;	/* its holds' legs, summed per side */
	amount_int	held_credits;
	amount_int	released_debits;	/* the holds its resolutions release */
	amount_int	released_credits;
	bool		moves_money;	/* any leg but a void's or an expiry's */
	Datum		ledger_text;	/* key.ledger as text */
	/* set once locked */
	AccountRow	row;			/* volumes before the statement, then running */
	int			stripe;			/* where the legs go: -1 its row (an account
								 * without stripes), 0 its row, k its stripe k */
	AccountRow	others;			/* volumes counted in its limit but kept
								 * elsewhere (its stripes), else zero */
} EngineAccount;

/* The columns of payments.transfers the engine reads. */
typedef struct TransferColumns
{
	int			id;
	int			ledger;
	int			from_account;
	int			to_account;
	int			amount;
	int			status;
	int			pending_id;
	int			reverses;
	int			expires_at;
	int			created_at;
	int			entry_id;
} TransferColumns;

static LedgerPlan account_row_plan = {
	"SELECT " ACCOUNT_COLUMNS " FROM payments.accounts "
	" WHERE id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

/*
 * Reads a transfer of the transition table; NOT NULL and the row checks have
 * vetted it.  kind: the one the checks found, or -1 to find it again.
 */
static void
read_transfer(Relation rel, TupleTableSlot *slot, const TransferColumns *cols, Transfer *t,
			  int kind)
{
	bool		isnull;
	Datum		d;

	t->id = DatumGetInt64(slot_getattr(slot, cols->id, &isnull));
	t->ledger = TextDatumGetCString(slot_getattr(slot, cols->ledger, &isnull));
	t->from_account = DatumGetInt64(slot_getattr(slot, cols->from_account, &isnull));
	t->to_account = DatumGetInt64(slot_getattr(slot, cols->to_account, &isnull));
	t->amount = *DatumGetMonetaryP(slot_getattr(slot, cols->amount, &isnull));
	t->created_at = DatumGetTimestampTz(slot_getattr(slot, cols->created_at, &isnull));
	d = slot_getattr(slot, cols->pending_id, &isnull);
	t->pending_id = isnull ? 0 : DatumGetInt64(d);
	d = slot_getattr(slot, cols->reverses, &isnull);
	t->reverses = isnull ? 0 : DatumGetInt64(d);
	d = slot_getattr(slot, cols->expires_at, &isnull);
	t->has_expiry = !isnull;
	t->expires_at = isnull ? 0 : DatumGetTimestampTz(d);
	t->kind = kind >= 0 ? (TransferKind) kind :
		transfer_kind(rel, TextDatumGetCString(slot_getattr(slot, cols->status, &isnull)),
					  !slot_attisnull(slot, cols->pending_id),
					  !slot_attisnull(slot, cols->reverses), t->has_expiry);
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

/*
 * What the ledger assigned a row (its entry and time) is still what it
 * assigned: a BEFORE trigger a DBA adds may fire after the ledger's.
 */
static void
check_assigned(TupleTableSlot *slot, const TransferColumns *cols, const Transfer *t,
			   OpenEntry *entry)
{
	bool		isnull;

	if (t->created_at != entries_statement_time(entry) ||
		DatumGetInt64(slot_getattr(slot, cols->entry_id, &isnull)) !=
		entries_entry_applied(entry, t->ledger))
		ereport(ERROR,
				(errcode(ERRCODE_GENERATED_ALWAYS),
				 errmsg("the entry or created_at of transfer %lld changed after the ledger assigned them",
						(long long) t->id),
				 errhint("A BEFORE INSERT trigger on payments.transfers that fires after transfer_before_insert must leave ledger, entry_id and created_at as they are."),
				 errledger("transfers", "created_at", NULL)));
}

/*
 * Pass 1: one leg of a transfer, netted into its account: its posted money,
 * or the pending volume it holds, or releases (hold_amount, of a resolution).
 */
static void
add_leg(Oid monetary_oid, HTAB *accounts, const Transfer *t, int64 account, bool debit,
		amount_int hold_amount)
{
	bool		found;
	EngineAccount *a = find_account(accounts, t->ledger, account, true, &found);

	if (!found)
	{
		a->first_transfer = t->id;
		a->currency = t->amount.currency;
		a->debits = a->credits = 0;
		a->held_debits = a->held_credits = 0;
		a->released_debits = a->released_credits = 0;
		a->moves_money = false;
	}
	else if (a->currency != t->amount.currency)
	{
		/* one of the two is not the account's currency: say which */
		AccountRow *row = fetch_account(monetary_oid, account);

		ledger_check_account(row, account, a->first_transfer, t->ledger, a->currency, true);
		ledger_check_account(row, account, t->id, t->ledger, t->amount.currency, true);
	}
	/* cannot overflow: fewer than 2^63 legs of at most TRANSFER_AMOUNT_MAX */
	if (TRANSFER_POSTS(t->kind))
		amount_check(amount_add(debit ? a->debits : a->credits, t->amount.units,
								debit ? &a->debits : &a->credits),
					 "account volume", a->currency);
	if (t->kind == TRANSFER_HOLD)
		amount_check(amount_add(debit ? a->held_debits : a->held_credits, t->amount.units,
								debit ? &a->held_debits : &a->held_credits),
					 "account volume", a->currency);
	if (TRANSFER_RESOLVES_HOLD(t->kind))
		amount_check(amount_add(debit ? a->released_debits : a->released_credits, hold_amount,
								debit ? &a->released_debits : &a->released_credits),
					 "account volume", a->currency);
	a->moves_money |= t->kind != TRANSFER_VOID && t->kind != TRANSFER_EXPIRY;
}

/* Whether the statement changes the account's pending volumes. */
static bool
moves_pending(const EngineAccount *a)
{
	return a->held_debits > 0 || a->held_credits > 0 ||
		a->released_debits > 0 || a->released_credits > 0;
}

/*
 * Whether legs of the statement could take the account below what it may
 * hold: posted legs and holds may; releases never do (holds are checked
 * when made, so capturing one cannot break a limit).
 */
static bool
legs_need_total(const EngineAccount *a, bool debit_normal, bool allow_negative)
{
	return hot_legs_need_total(debit_normal, allow_negative,
							   a->debits > 0 || a->held_debits > 0,
							   a->credits > 0 || a->held_credits > 0);
}

/* Whether the account may take the statement's legs, as it now is. */
static void
check_account(const EngineAccount *a)
{
	ledger_check_account(&a->row, a->key.id, a->first_transfer, a->key.ledger, a->currency,
						 a->moves_money);
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

/* The columns of payments.accounts the engine reads and writes. */
typedef struct AccountColumns
{
	int			id;
	int			ledger;
	int			currency;
	int			normal_balance;
	int			allow_negative;
	int			status;
	int			debits_posted;
	int			credits_posted;
	int			debits_pending;
	int			credits_pending;
	int			hot;
	int			stripes;
} AccountColumns;

static void
account_columns_init(AccountColumns *c, Relation accounts)
{
	c->id = ledger_column(accounts, "id") - 1;
	c->ledger = ledger_column(accounts, "ledger") - 1;
	c->currency = ledger_column(accounts, "currency") - 1;
	c->normal_balance = ledger_column(accounts, "normal_balance") - 1;
	c->allow_negative = ledger_column(accounts, "allow_negative") - 1;
	c->status = ledger_column(accounts, "status") - 1;
	c->debits_posted = ledger_column(accounts, "debits_posted") - 1;
	c->credits_posted = ledger_column(accounts, "credits_posted") - 1;
	c->debits_pending = ledger_column(accounts, "debits_pending") - 1;
	c->credits_pending = ledger_column(accounts, "credits_pending") - 1;
	c->hot = ledger_column(accounts, "hot") - 1;
	c->stripes = ledger_column(accounts, "stripes") - 1;
}

/* An account row as values deformed from it (NOT NULL columns all). */
static void
account_from_values(const AccountColumns *c, Datum *values, AccountRow *row)
{
	row->id = DatumGetInt64(values[c->id]);
	row->ledger = TextDatumGetCString(values[c->ledger]);
	row->currency = DatumGetCurrency(values[c->currency]);
	row->debit_normal = strcmp(TextDatumGetCString(values[c->normal_balance]), "debit") == 0;
	row->allow_negative = DatumGetBool(values[c->allow_negative]);
	row->status = TextDatumGetCString(values[c->status]);
	row->debits_posted = *DatumGetMonetaryP(values[c->debits_posted]);
	row->credits_posted = *DatumGetMonetaryP(values[c->credits_posted]);
	row->debits_pending = *DatumGetMonetaryP(values[c->debits_pending]);
	row->credits_pending = *DatumGetMonetaryP(values[c->credits_pending]);
	row->hot = DatumGetBool(values[c->hot]);
	row->stripes = DatumGetInt16(values[c->stripes]);
}

/* Names the account being updated, in the error's context. */
static void
account_error_context(void *arg)
{
	EngineAccount *a = arg;

	errcontext("applying the legs of the statement's transfers to account %lld of ledger \"%s\"",
			   (long long) a->key.id, a->key.ledger);
}

/* Volumes of zero in currency (zero is zero on either side). */
static void
zero_volumes(AccountRow *row, currency_code currency)
{
	memset(row, 0, sizeof(AccountRow));
	row->currency = currency;
	row->debits_posted.currency = row->credits_posted.currency = currency;
	row->debits_pending.currency = row->credits_pending.currency = currency;
}

/*
 * Into values[debits_col] and values[credits_col]: a volume of each side as
 * it was (debits, credits), plus what the statement adds to it, less what
 * it takes off.
 */
static void
set_volumes(const EngineAccount *a, Datum *values, int debits_col, int credits_col,
			const Monetary *debits, const Monetary *credits,
			amount_int add_debits, amount_int add_credits,
			amount_int take_debits, amount_int take_credits)
{
	Monetary   *d = palloc(sizeof(Monetary));
	Monetary   *c = palloc(sizeof(Monetary));
	ErrorContextCallback callback = {error_context_stack, account_error_context, (void *) a};

	error_context_stack = &callback;
	d->currency = c->currency = a->currency;
	amount_check(amount_add(debits->units, add_debits, &d->units), "account volume", a->currency);
	amount_check(amount_sub(d->units, take_debits, &d->units), "account volume", a->currency);
	amount_check(amount_add(credits->units, add_credits, &c->units), "account volume", a->currency);
	amount_check(amount_sub(c->units, take_credits, &c->units), "account volume", a->currency);
	error_context_stack = callback.previous;
	values[debits_col] = MonetaryPGetDatum(d);
	values[credits_col] = MonetaryPGetDatum(c);
}

/* Adds the netted sums of a's posted legs to the posted volumes in values. */
static void
add_netted(const EngineAccount *a, const AccountRow *before, Datum *values,
		   int debits_col, int credits_col)
{
	set_volumes(a, values, debits_col, credits_col, &before->debits_posted,
				&before->credits_posted, a->debits, a->credits, 0, 0);
}

/* Adds what a's holds hold, less what its resolutions release, to the pending volumes. */
static void
add_pending(const EngineAccount *a, const AccountRow *before, Datum *values,
			int debits_col, int credits_col)
{
	set_volumes(a, values, debits_col, credits_col, &before->debits_pending,
				&before->credits_pending, a->held_debits, a->held_credits,
				a->released_debits, a->released_credits);
}

/*
 * Step 2 for a hot account whose legs cannot take it below its limit (as
 * the hint has it): to one of its stripes.  Returns false, having locked
 * nothing, when the account has no stripes to lock.
 */
static bool
update_stripe(LazyTableWriter *lazy_stripes, TableWriter *accounts, const AccountColumns *cols,
			  EngineAccount *a, int nstripes)
{
	TableWriter *stripes = lazy_table_writer(lazy_stripes);
	TupleDesc	desc = RelationGetDescr(stripes->rel);
	Datum		account_key[2] = {a->ledger_text, Int64GetDatum(a->key.id)};
	Datum	   *values = palloc(desc->natts * sizeof(Datum));
	bool	   *nulls = palloc(desc->natts * sizeof(bool));
	Datum	   *account_values = palloc(RelationGetDescr(accounts->rel)->natts * sizeof(Datum));
	bool	   *account_nulls = palloc(RelationGetDescr(accounts->rel)->natts * sizeof(bool));
	StripeColumns stripe_cols;
	int			stripe = hot_stripe_lock(stripes, a->ledger_text, a->key.id, nstripes);

	if (stripe == 0)
		return false;
	heap_deform_tuple(ExecCopySlotHeapTuple(stripes->slot), desc, values, nulls);

	/*
	 * The account as it now is, not locked: whatever changes its status, its
	 * limit or whether it is hot locks every stripe first, so it is either
	 * committed (and seen) or waits for this transaction.
	 */
	if (!table_writer_fetch_latest(accounts, account_key))
		ledger_account_missing(a->key.id, true);
	heap_deform_tuple(ExecCopySlotHeapTuple(accounts->slot), RelationGetDescr(accounts->rel),
					  account_values, account_nulls);
	account_from_values(cols, account_values, &a->row);
	check_account(a);
	hot_account_learn(&a->row);
	if (!a->row.hot || legs_need_total(a, a->row.debit_normal, a->row.allow_negative))
		/*
		 * Made cold, or barred from going negative, since the hint: the legs
		 * belong on its row, but waiting for the row while holding a stripe
		 * could close a cycle with whoever holds the row and waits for the
		 * stripes.
		 */
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("account %lld changed while transfer %lld was applied to it",
						(long long) a->key.id, (long long) a->first_transfer),
				 errdetail(!a->row.hot ? "It is no longer hot." :
						   "It may no longer go negative."),
				 errhint("Retry the transaction.")));

	hot_stripe_columns(stripes->rel, &stripe_cols);
	hot_stripe_read(stripes, &stripe_cols, &a->row);
	add_netted(a, &a->row, values, stripe_cols.debits_posted, stripe_cols.credits_posted);
	table_writer_update(stripes, values, nulls);
	a->stripe = stripe;
	a->row.ledger = a->row.status = NULL;
	return true;
}

/*
 * Step 2 for one account: locks its latest version (or a stripe of it),
 * checks it may take the legs, and adds their netted sums to its volumes.
 * Leaves in a->row what the legs go to as it was before the statement.
 */
static void
lock_and_update(Oid monetary_oid, TableWriter *accounts, LazyTableWriter *stripes,
				const AccountColumns *cols, EngineAccount *a)
{
	Datum		key[2] = {a->ledger_text, Int64GetDatum(a->key.id)};
	TupleDesc	desc = RelationGetDescr(accounts->rel);
	Datum	   *values = palloc(desc->natts * sizeof(Datum));
	bool	   *nulls = palloc(desc->natts * sizeof(bool));
	HotAccountHint hint;

	a->stripe = -1;
	zero_volumes(&a->others, a->currency);
	/*
	 * A stripe is updated at its latest version, which a transaction reading
	 * from its own snapshot would then see beside the version it had seen:
	 * in REPEATABLE READ and SERIALIZABLE, hot accounts' legs go to the row.
	 * So do legs that move pending volumes, which live on the row alone.
	 */
	if (!IsolationUsesXactSnapshot() && !moves_pending(a) &&
		hot_account_hint(a->key.id, &hint) &&
		!legs_need_total(a, hint.debit_normal, hint.allow_negative) &&
		update_stripe(stripes, accounts, cols, a, hint.stripes))
		return;

	if (!table_writer_lock(accounts, key))
	{
		/* not in this ledger: in another, or nowhere (as far as we can see) */
		AccountRow *row = fetch_account(monetary_oid, a->key.id);

		ledger_check_account(row, a->key.id, a->first_transfer, a->key.ledger, a->currency, true);
		ledger_account_missing(a->key.id, true);
	}
	heap_deform_tuple(ExecCopySlotHeapTuple(accounts->slot), desc, values, nulls);
	account_from_values(cols, values, &a->row);
	check_account(a);
	hot_account_learn(&a->row);

	if (a->row.stripes > 0)
	{
		a->stripe = 0;
		a->others.debit_normal = a->row.debit_normal;
		/* the true total, for the limits: stripes locked while others may write them */
		if (legs_need_total(a, a->row.debit_normal, a->row.allow_negative))
			hot_stripes_add(lazy_table_writer(stripes), a->ledger_text, a->key.id,
							a->row.stripes, a->row.hot, &a->others);
	}
	add_netted(a, &a->row, values, cols->debits_posted, cols->credits_posted);
	if (moves_pending(a))
		add_pending(a, &a->row, values, cols->debits_pending, cols->credits_pending);
	table_writer_update(accounts, values, nulls);
	/* the row's strings live in the caller's per-account context */
	a->row.ledger = a->row.status = NULL;
}

/* The columns of payments.postings, and a leg as its row. */
typedef struct LegRow
{
	int			natts;
	int			id;
	int			ledger;
	int			transfer_id;
	int			account_id;
	int			side;
	int			amount;
	int			balance_after;
	int			created_at;
	int			stripe;
	int			pending_change;
	int			held_after;
	Datum	   *values;
	bool	   *nulls;
	Datum		debit;			/* 'debit' and 'credit' as text */
	Datum		credit;
} LegRow;

static void
leg_row_init(LegRow *leg, Relation postings, TimestampTz posted_at)
{
	leg->natts = RelationGetDescr(postings)->natts;
	leg->id = ledger_column(postings, "id") - 1;
	leg->ledger = ledger_column(postings, "ledger") - 1;
	leg->transfer_id = ledger_column(postings, "transfer_id") - 1;
	leg->account_id = ledger_column(postings, "account_id") - 1;
	leg->side = ledger_column(postings, "side") - 1;
	leg->amount = ledger_column(postings, "amount") - 1;
	leg->balance_after = ledger_column(postings, "balance_after") - 1;
	leg->created_at = ledger_column(postings, "created_at") - 1;
	leg->stripe = ledger_column(postings, "stripe") - 1;
	leg->pending_change = ledger_column(postings, "pending_change") - 1;
	leg->held_after = ledger_column(postings, "held_after") - 1;
	leg->values = palloc0(leg->natts * sizeof(Datum));
	leg->nulls = palloc(leg->natts * sizeof(bool));
	for (int i = 0; i < leg->natts; i++)
		leg->nulls[i] = true;
	leg->nulls[leg->id] = leg->nulls[leg->ledger] = leg->nulls[leg->transfer_id] =
		leg->nulls[leg->account_id] = leg->nulls[leg->side] = leg->nulls[leg->amount] =
		leg->nulls[leg->balance_after] = leg->nulls[leg->created_at] = false;
	leg->values[leg->created_at] = TimestampTzGetDatum(posted_at);
	leg->debit = CStringGetTextDatum("debit");
	leg->credit = CStringGetTextDatum("credit");
}

/* What may still be spent of the account's row and its volumes elsewhere. */
static amount_int
available_total(const EngineAccount *a)
{
	amount_int	total;

	amount_check(amount_add(ledger_available_balance(&a->row),
							ledger_available_balance(&a->others), &total),
				 "available balance", a->row.currency);
	return total;
}

/*
 * Step 3 for one leg: the running volumes and balance, with it, of what it
 * goes to (the account's row, or a stripe), the limit checked against the
 * account's true total, the leg written.  A leg moves posted money, or
 * pending volume (a hold's: +its amount; a resolution's: -hold_amount, the
 * amount of the hold it resolves), or, a capture's, both.
 */
static void
apply_leg(TableWriter *postings, LegRow *leg, EngineAccount *a, const Transfer *t,
		  bool debit, amount_int hold_amount)
{
	AccountRow *row = &a->row;
	amount_int	available_before = available_total(a);
	Monetary	balance_after;
	Monetary	posted = {0, t->amount.currency};
	Monetary	pending_change = {0, t->amount.currency};
	Monetary	held_after;
	Monetary   *pending_volume = debit ? &row->debits_pending : &row->credits_pending;

	if (TRANSFER_POSTS(t->kind))
	{
		posted.units = t->amount.units;
		amount_check(amount_add(debit ? row->debits_posted.units : row->credits_posted.units,
								posted.units,
								debit ? &row->debits_posted.units : &row->credits_posted.units),
					 "account volume", row->currency);
	}
	if (t->kind == TRANSFER_HOLD)
		pending_change.units = t->amount.units;
	else if (TRANSFER_RESOLVES_HOLD(t->kind))
		pending_change.units = -hold_amount;
	amount_check(amount_add(pending_volume->units, pending_change.units, &pending_volume->units),
				 "account volume", row->currency);
	balance_after.units = ledger_posted_balance(row);
	balance_after.currency = row->currency;
	held_after.units = row->debit_normal ? row->credits_pending.units : row->debits_pending.units;
	held_after.currency = row->currency;

	/*
	 * A leg that lowers what an account with a limit may spend below zero
	 * (a stripe takes none such).
	 */
	if (!row->allow_negative && available_total(a) < available_before && available_total(a) < 0)
	{
		Monetary	had = {available_before, row->currency};

		Assert(a->stripe <= 0);
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_FUNDS),
				 errmsg("insufficient funds in account %lld for transfer %lld",
						(long long) row->id, (long long) t->id),
				 errdetail("Its available balance is %s and the transfer needs %s.",
						   monetary_to_cstring(&had), monetary_to_cstring(&t->amount)),
				 errhint("The account may not go negative (allow_negative is false)."),
				 errledger("accounts", NULL, "accounts_available_not_negative")));
	}

	/* drawn under the lock of the row or stripe: there, leg ids follow leg order */
	leg->values[leg->id] = Int64GetDatum(ledger_nextval(SEQ_POSTINGS));
	leg->values[leg->ledger] = a->ledger_text;
	leg->values[leg->transfer_id] = Int64GetDatum(t->id);
	leg->values[leg->account_id] = Int64GetDatum(row->id);
	leg->values[leg->side] = debit ? leg->debit : leg->credit;
	leg->values[leg->amount] = MonetaryPGetDatum(&posted);
	leg->values[leg->balance_after] = MonetaryPGetDatum(&balance_after);
	leg->nulls[leg->stripe] = a->stripe < 0;
	leg->values[leg->stripe] = Int16GetDatum(a->stripe < 0 ? 0 : a->stripe);
	leg->nulls[leg->pending_change] = leg->nulls[leg->held_after] =
		t->kind != TRANSFER_HOLD && !TRANSFER_RESOLVES_HOLD(t->kind);
	leg->values[leg->pending_change] = MonetaryPGetDatum(&pending_change);
	leg->values[leg->held_after] = MonetaryPGetDatum(&held_after);
	table_writer_insert(postings, leg->values, leg->nulls);
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
	int64		applied = 0;		/* transfers, for outcomes.c */
	TableWriter accounts_writer,
				postings;
	AccountColumns account_cols;
	LazyTableWriter stripes;
	FlowsState	flows;
	LegRow		leg;
	TimestampTz posted_at;
	Transfer	t;

	cols.id = ledger_column(rel, "id");
	cols.ledger = ledger_column(rel, "ledger");
	cols.from_account = ledger_column(rel, "from_account");
	cols.to_account = ledger_column(rel, "to_account");
	cols.amount = ledger_column(rel, "amount");
	cols.status = ledger_column(rel, "status");
	cols.pending_id = ledger_column(rel, "pending_id");
	cols.reverses = ledger_column(rel, "reverses");
	cols.expires_at = ledger_column(rel, "expires_at");
	cols.created_at = ledger_column(rel, "created_at");
	cols.entry_id = ledger_column(rel, "entry_id");

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

	/*
	 * Find and lock rows as UPDATE would, after whatever this transaction
	 * has done so far (a call nested in the statement may have posted): in
	 * READ COMMITTED with a fresh snapshot, so that an account committed
	 * since the statement began is there; otherwise with the transaction's.
	 * (Holds and reversed transfers are looked up with a new snapshot, in
	 * which this statement's own transfers are seen too.)
	 */
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	flows_begin(&flows, engine_cxt, monetary_oid);

	/*
	 * 1. net the legs per account, each row checked as it now is, and each
	 * against what it names: a resolution against its hold, a reversal
	 * against the transfer it reverses
	 */
	tuplestore_rescan(transfers);
	while (tuplestore_gettupleslot(transfers, true, false, slot))
	{
		bool		should_free;
		amount_int	hold_amount = 0;

		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(row_cxt);
		read_transfer(rel, slot, &cols, &t,
					  ledger_check_transfer_row(rel, ExecFetchSlotHeapTuple(slot, false,
																			&should_free),
												false));
		check_assigned(slot, &cols, &t, entries_current());
		if (t.kind == TRANSFER_HOLD)
			flows_check_hold(&t);
		else if (TRANSFER_RESOLVES_HOLD(t.kind))
			hold_amount = flows_resolve(&flows, &t);
		else if (t.kind == TRANSFER_REVERSAL)
			flows_add_reversal(&flows, &t);
		add_leg(monetary_oid, accounts, &t, t.from_account, true, hold_amount);
		add_leg(monetary_oid, accounts, &t, t.to_account, false, hold_amount);
		MemoryContextSwitchTo(engine_cxt);
		MemoryContextReset(row_cxt);
	}
	naccounts = hash_get_num_entries(accounts);
	if (naccounts == 0)
	{
		flows_end(&flows);
		PopActiveSnapshot();
		goto done;				/* nothing inserted (ON CONFLICT DO NOTHING, say) */
	}
	/* holds, then reversed transfers, are locked before accounts, each in (ledger, id) order */
	flows_lock_holds(&flows);
	flows_check_reversals(&flows);

	/* 2. lock and update the accounts, in (ledger, id) order */
	order = palloc(naccounts * sizeof(EngineAccount *));
	hash_seq_init(&seq, accounts);
	for (long i = 0; (a = hash_seq_search(&seq)) != NULL; i++)
		order[i] = a;
	qsort(order, naccounts, sizeof(EngineAccount *), compare_accounts);
	table_writer_open(&accounts_writer, ledger_relation(REL_ACCOUNTS));
	/* a hot account's stripes: opened when one is first needed */
	lazy_table_writer_init(&stripes, ledger_relation(REL_ACCOUNT_STRIPES), false, engine_cxt);
	account_columns_init(&account_cols, accounts_writer.rel);
	for (long i = 0; i < naccounts; i++)
	{
		CHECK_FOR_INTERRUPTS();
		order[i]->ledger_text = CStringGetTextDatum(order[i]->key.ledger);
		MemoryContextSwitchTo(row_cxt);
		lock_and_update(monetary_oid, &accounts_writer, &stripes, &account_cols, order[i]);
		MemoryContextSwitchTo(engine_cxt);
		MemoryContextReset(row_cxt);
	}
	lazy_table_writer_close(&stripes);
	table_writer_close(&accounts_writer);

	/* 3. the legs in transfer order: running balances, limits, postings */
	/* under every lock: per account, legs' times follow their order */
	posted_at = GetCurrentTimestamp();
	/* never into a closed period (order is by ledger: each ledger once) */
	for (long i = 0; i < naccounts; i++)
		if (i == 0 || strcmp(order[i]->key.ledger, order[i - 1]->key.ledger) != 0)
			periods_check_open(order[i]->key.ledger, posted_at);
	table_writer_open(&postings, ledger_relation(REL_POSTINGS));
	leg_row_init(&leg, postings.rel, posted_at);
	tuplestore_rescan(transfers);
	while (tuplestore_gettupleslot(transfers, true, false, slot))
	{
		EngineAccount *from,
				   *to;
		amount_int	hold_amount;

		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(row_cxt);
		read_transfer(rel, slot, &cols, &t, -1);
		from = find_account(accounts, t.ledger, t.from_account, false, NULL);
		to = find_account(accounts, t.ledger, t.to_account, false, NULL);
		if (from == NULL || to == NULL)
			elog(ERROR, "transfer %lld changed between the engine's passes", (long long) t.id);
		hold_amount = TRANSFER_RESOLVES_HOLD(t.kind) ? flows_hold_amount(&flows, &t) : 0;
		apply_leg(&postings, &leg, from, &t, true, hold_amount);
		apply_leg(&postings, &leg, to, &t, false, hold_amount);
		if (t.kind == TRANSFER_HOLD)
			flows_open_hold(&flows, &t);
		applied++;
		MemoryContextSwitchTo(engine_cxt);
		MemoryContextReset(row_cxt);
	}
	table_writer_close(&postings);
	flows_end(&flows);
	outcomes_transfers_applied(applied);
	PopActiveSnapshot();

done:
	tuplestore_rescan(transfers);	/* for whatever trigger reads it next */
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextSwitchTo(old_cxt);
	MemoryContextDelete(engine_cxt);
}
