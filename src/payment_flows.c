/*
 * payment_flows.c
 *	  Holds, their resolutions and reversals, as the posting engine applies
 *	  them (payment_flows.h).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "fx.h"
#include "ledger_access.h"
#include "payment_flows.h"

static void
refuse_row(Relation rel, const char *constraint, const char *message)
{
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("%s", message),
			 errtableconstraint(rel, constraint)));
}

TransferKind
transfer_kind(Relation rel, const char *status, bool has_pending_id, bool has_reverses,
			  bool has_expires_at)
{
	bool		pending = strcmp(status, "pending") == 0;

	if (has_expires_at && !pending)
		refuse_row(rel, "transfers_status_fields",
				   "only a hold (status pending) has an expires_at");
	if (pending)
	{
		if (has_pending_id || has_reverses)
			refuse_row(rel, "transfers_status_fields",
					   "a hold (status pending) cannot resolve a hold or reverse a transfer");
		return TRANSFER_HOLD;
	}
	if (has_pending_id && has_reverses)
		refuse_row(rel, "transfers_status_fields",
				   "a transfer cannot both resolve a hold and reverse a transfer");
	if (strcmp(status, "posted") == 0)
		return has_pending_id ? TRANSFER_CAPTURE :
			has_reverses ? TRANSFER_REVERSAL : TRANSFER_PLAIN;
	/* voided or expired: the CHECK on status allows nothing else */
	if (has_reverses)
		refuse_row(rel, "transfers_status_fields",
				   "only a posted transfer can reverse another");
	if (!has_pending_id)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("a transfer with status %s must name the hold it resolves in pending_id",
						status),
				 errhint("Release a hold with payments.release(); holds expire through payments.expire_holds()."),
				 errtableconstraint(rel, "transfers_status_fields")));
	return strcmp(status, "voided") == 0 ? TRANSFER_VOID : TRANSFER_EXPIRY;
}

/* The word for how a resolution left its hold. */
static const char *
resolved_as(const char *status)
{
	return strcmp(status, "posted") == 0 ? "captured" : status;
}

/* What resolved the hold, other than transfer $3 (0: none). */
static LedgerPlan resolution_plan = {
	"SELECT id, status, idempotency_key FROM payments.transfers "
	" WHERE ledger OPERATOR(pg_catalog.=) $1 AND pending_id OPERATOR(pg_catalog.=) $2 "
	"   AND id OPERATOR(pg_catalog.<>) $3",
	3, {TEXTOID, INT8OID, INT8OID}
};

/*
 * Refuses, naming what resolved the hold, if anything but transfer self has
 * (as a new snapshot sees it), unless by a transfer with idempotency key
 * key: returns true then (a replay), false if nothing resolved it.  The
 * caller has connected to SPI.
 */
static bool
refuse_if_resolved(const char *ledger, int64 hold, int64 self, const char *key)
{
	Datum		args[3] = {CStringGetTextDatum(ledger), Int64GetDatum(hold), Int64GetDatum(self)};
	bool		isnull;
	HeapTuple	row;
	TupleDesc	desc;
	Datum		resolution_key;
	char	   *status;

	if (SPI_execute_snapshot(ledger_plan(&resolution_plan, InvalidOid), args, NULL,
							 GetLatestSnapshot(), InvalidSnapshot, true, false, 1)
		!= SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed looking up a hold's resolution");
	if (SPI_processed == 0)
		return false;
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	resolution_key = SPI_getbinval(row, desc, 3, &isnull);
	if (key != NULL && !isnull && strcmp(TextDatumGetCString(resolution_key), key) == 0)
		return true;
	status = TextDatumGetCString(SPI_getbinval(row, desc, 2, &isnull));
	/* expired: the same decline as before the sweep wrote it (55L04) */
	ereport(ERROR,
			(errcode(strcmp(status, "expired") == 0 ? ERRCODE_HOLD_EXPIRED : ERRCODE_HOLD_RESOLVED),
			 errmsg("hold %lld is already %s", (long long) hold, resolved_as(status)),
			 errdetail("Transfer %lld resolved it; a hold is captured, voided or expired once.",
					   (long long) DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull))),
			 errledger("transfers", "pending_id", "transfers_ledger_pending_id_key")));
}

/* Transfer id, named in column of transfer self, is not in ledger. */
static void
refuse_missing(const char *ledger, int64 id, int64 self, const char *column)
{
	char	   *its_ledger = flows_transfer_ledger(id);

	/* to a role confined to other ledgers, their transfers do not exist */
	if (its_ledger != NULL && strcmp(its_ledger, ledger) != 0 &&
		ledger_access_allowed(its_ledger))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("transfer %lld is in ledger \"%s\", not in the ledger \"%s\" of transfer %lld",
						(long long) id, its_ledger, ledger, (long long) self),
				 errdetail("A hold and its resolution, or a transfer and its reversal, are in one ledger."),
				 errledger("transfers", column, "transfers_accounts_in_ledger")));
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("transfer %lld does not exist", (long long) id),
			 errledger("transfers", column, NULL)));
}

static void
refuse_not_a_hold(int64 id, int64 self)
{
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("transfer %lld is not a hold", (long long) id),
			 errdetail("Transfer %lld names it in pending_id, which only a hold's capture, void or expiry does.",
					   (long long) self),
			 errhint("To undo a posted transfer, reverse it with payments.reverse_transfer()."),
			 errledger("transfers", "pending_id", "transfers_pending_id_is_hold")));
}

/*
 * Why a hold has no open row though nothing resolved it: it does not exist
 * (as a new snapshot sees it: not yet committed, say), is not a hold, or is
 * made by the resolution's own statement.  Raises.  Connected to SPI.
 */
static void
refuse_not_open(const char *ledger, int64 hold, int64 self)
{
	TableWriter w;
	Datum		key[2] = {CStringGetTextDatum(ledger), Int64GetDatum(hold)};
	bool		found;
	bool		isnull;
	char	   *status = NULL;

	table_writer_open_for_lookup(&w, ledger_relation(REL_TRANSFERS));
	found = table_writer_fetch_latest(&w, key);
	if (found)
		status = TextDatumGetCString(slot_getattr(w.slot, ledger_column(w.rel, "status"), &isnull));
	table_writer_close(&w);
	if (!found)
		refuse_missing(ledger, hold, self, "pending_id");
	if (strcmp(status, "pending") != 0)
		refuse_not_a_hold(hold, self);
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("hold %lld is not open", (long long) hold),
			 errdetail("Transfer %lld resolves it in the statement that makes it.", (long long) self),
			 errhint("Resolve a hold in a statement after the one that makes it."),
			 errledger("open_holds", NULL, NULL)));
}

/* Locks the hold's open row: waiting, or (skip_locked) only if it is free. */
static TableWriterLock
lock_open_hold(const char *ledger, int64 hold, bool skip_locked)
{
	TableWriter w;
	Datum		key[2] = {CStringGetTextDatum(ledger), Int64GetDatum(hold)};
	TableWriterLock result;

	table_writer_open_for_lookup(&w, ledger_relation(REL_OPEN_HOLDS));
	result = table_writer_lock_latest(&w, key, skip_locked);
	table_writer_close(&w);
	return result;
}

void
flows_lock_hold(StatementHold *last, const char *ledger, int64 hold, int64 self, const char *key)
{
	int			order = last->any ? strcmp(ledger, last->ledger) : 1;
	bool		in_order = order > 0 || (order == 0 && hold >= last->id);

	/*
	 * Holds are taken in (ledger, id) order, waiting; one out of that order
	 * only if it is free, so that two statements never wait on each other
	 * in a cycle.
	 */
	switch (lock_open_hold(ledger, hold, !in_order))
	{
		case ROW_LOCKED:
			if (in_order)
			{
				last->any = true;
				strlcpy(last->ledger, ledger, sizeof(last->ledger));
				last->id = hold;
			}
			break;
		case ROW_BUSY:
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("hold %lld is being resolved by another transaction", (long long) hold),
					 errdetail("The statement resolves holds out of the order of their ids, so it does not wait for one another transaction holds."),
					 errhint("Retry the transaction; a statement that resolves several holds should list them in order of their ids.")));
			break;
		case ROW_MISSING:
			/*
			 * Resolved (a replay passes, for ON CONFLICT to answer), or not
			 * open: refused here, before the row is in the unique index.
			 */
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			if (!refuse_if_resolved(ledger, hold, self, key))
				refuse_not_open(ledger, hold, self);
			SPI_finish();
			break;
	}
}

/* the engine's part ---------------------------------------------------------- */

/* A transfer another names: a hold, or a transfer reversed. */
typedef struct NamedKey
{
	char		ledger[LEDGER_NAME_MAX_BYTES + 1];
	int64		id;
} NamedKey;

/* A hold the statement resolves. */
typedef struct Resolved
{
	NamedKey	key;
	int64		resolution;		/* the transfer that resolves it */
	TransferKind kind;			/* of the resolution */
	amount_int	amount;			/* of the hold */
	bool		has_expiry;
	TimestampTz expires_at;
} Resolved;

/* A transfer the statement reverses. */
typedef struct Reversed
{
	NamedKey	key;
	Monetary	amount;			/* of the original */
	int64		first_reversal; /* of the statement, for errors */
} Reversed;

static HTAB *
named_table(FlowsState *f, const char *name, Size entrysize)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(NamedKey);
	ctl.entrysize = entrysize;
	ctl.hcxt = f->context;
	return hash_create(name, 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static void *
named_entry(HTAB *table, const char *ledger, int64 id, HASHACTION action, bool *found)
{
	NamedKey	key;

	memset(&key, 0, sizeof(key));
	strlcpy(key.ledger, ledger, sizeof(key.ledger));
	key.id = id;
	return hash_search(table, &key, action, found);
}

static int
compare_named(const void *x, const void *y)
{
	const NamedKey *a = *(NamedKey *const *) x;
	const NamedKey *b = *(NamedKey *const *) y;
	int			c = strcmp(a->ledger, b->ledger);

	if (c != 0)
		return c;
	return a->id < b->id ? -1 : a->id > b->id ? 1 : 0;
}

/* The entries of table (each starting with its NamedKey), in (ledger, id) order. */
static void **
named_in_order(HTAB *table, long *n)
{
	HASH_SEQ_STATUS seq;
	void	  **order;
	void	   *e;

	*n = hash_get_num_entries(table);
	order = palloc(*n * sizeof(void *));
	hash_seq_init(&seq, table);
	for (long i = 0; (e = hash_seq_search(&seq)) != NULL; i++)
		order[i] = e;
	qsort(order, *n, sizeof(void *), compare_named);
	return order;
}

void
flows_begin(FlowsState *f, MemoryContext context, Oid monetary_oid)
{
	memset(f, 0, sizeof(FlowsState));
	f->context = context;
	f->monetary_oid = monetary_oid;
	lazy_table_writer_init(&f->transfers, ledger_relation(REL_TRANSFERS), true, context);
	lazy_table_writer_init(&f->open_holds, ledger_relation(REL_OPEN_HOLDS), false, context);
}

/* The transfer in w->slot, found by (ledger, id). */
static void
named_from_slot(TableWriter *w, const char *ledger, int64 id, NamedTransfer *n)
{
	Relation	rel = w->rel;
	int			amount = ledger_column(rel, "amount");
	bool		isnull;
	Datum		d;

	n->id = id;
	n->ledger = pstrdup(ledger);
	n->from_account = DatumGetInt64(slot_getattr(w->slot, ledger_column(rel, "from_account"), &isnull));
	n->to_account = DatumGetInt64(slot_getattr(w->slot, ledger_column(rel, "to_account"), &isnull));
	n->amount = *DatumGetMonetaryP(slot_getattr(w->slot, amount, &isnull));
	n->amount_type = TupleDescAttr(RelationGetDescr(rel), amount - 1)->atttypid;
	n->status = TextDatumGetCString(slot_getattr(w->slot, ledger_column(rel, "status"), &isnull));
	d = slot_getattr(w->slot, ledger_column(rel, "expires_at"), &isnull);
	n->has_expiry = !isnull;
	n->expires_at = isnull ? 0 : DatumGetTimestampTz(d);
}

bool
flows_transfer(int64 id, NamedTransfer *n)
{
	char	   *ledger = flows_transfer_ledger(id);
	TableWriter w;
	Datum		key[2];
	bool		found;

	if (ledger == NULL)
		return false;
	key[0] = CStringGetTextDatum(ledger);
	key[1] = Int64GetDatum(id);
	table_writer_open_for_lookup(&w, ledger_relation(REL_TRANSFERS));
	found = table_writer_fetch_latest(&w, key);
	if (found)
		named_from_slot(&w, ledger, id, n);
	table_writer_close(&w);
	return found;
}

/*
 * Finds transfer id in ledger as a new snapshot sees it (and, with lock,
 * locks it, waiting for whoever holds it).  Refuses one that does not exist
 * there, naming the column of t that names it.
 */
static void
find_named(FlowsState *f, const Transfer *t, int64 id, const char *column, bool lock,
		   NamedTransfer *n)
{
	TableWriter *w = lazy_table_writer(&f->transfers);
	Datum		key[2] = {CStringGetTextDatum(t->ledger), Int64GetDatum(id)};
	bool		found;

	if (lock)
		found = table_writer_lock_latest(w, key, false) == ROW_LOCKED;
	else
		found = table_writer_fetch_latest(w, key);
	if (!found)
		refuse_missing(t->ledger, id, t->id, column);
	named_from_slot(w, t->ledger, id, n);
}

void
flows_check_hold(const Transfer *t)
{
	/* made now, as it is applied: a long statement may have begun long before */
	TimestampTz now = GetCurrentTimestamp();

	if (t->has_expiry && t->expires_at <= now)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hold %lld would expire at %s, which is not after it is made, at %s",
						(long long) t->id, pstrdup(timestamptz_to_str(t->expires_at)),
						pstrdup(timestamptz_to_str(now))),
				 errledger("transfers", "expires_at", NULL)));
}

amount_int
flows_resolve(FlowsState *f, const Transfer *t)
{
	NamedTransfer hold;
	Resolved   *r;
	bool		found;

	find_named(f, t, t->pending_id, "pending_id", false, &hold);
	if (strcmp(hold.status, "pending") != 0)
		refuse_not_a_hold(t->pending_id, t->id);
	if (t->from_account != hold.from_account || t->to_account != hold.to_account)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("transfer %lld resolves hold %lld but not between its accounts",
						(long long) t->id, (long long) t->pending_id),
				 errdetail("The hold is from account %lld to account %lld.",
						   (long long) hold.from_account, (long long) hold.to_account),
				 errledger("transfers", "pending_id", "transfers_resolution_of_hold")));
	if (t->amount.currency != hold.amount.currency)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("currency mismatch: transfer %lld is in %s but hold %lld in %s",
						(long long) t->id, currency_to_cstring(t->amount.currency),
						(long long) t->pending_id, currency_to_cstring(hold.amount.currency)),
				 errledger("transfers", "amount", "transfers_currency_of_accounts")));
	if (t->kind == TRANSFER_CAPTURE ? t->amount.units > hold.amount.units :
		t->amount.units != hold.amount.units)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 t->kind == TRANSFER_CAPTURE ?
				 errmsg("capture of %s exceeds hold %lld of %s", monetary_to_cstring(&t->amount),
						(long long) t->pending_id, monetary_to_cstring(&hold.amount)) :
				 errmsg("%s of hold %lld is of its whole amount %s, not %s",
						t->kind == TRANSFER_VOID ? "a void" : "an expiry", (long long) t->pending_id,
						monetary_to_cstring(&hold.amount), monetary_to_cstring(&t->amount)),
				 errdetail("A hold is captured in full or in part, the rest released; voided or expired, it is released whole."),
				 errledger("transfers", "amount", "transfers_resolution_of_hold")));
	if (t->kind == TRANSFER_EXPIRY && (!hold.has_expiry || t->created_at < hold.expires_at))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("hold %lld has not expired", (long long) t->pending_id),
				 hold.has_expiry ?
				 errdetail("It expires at %s.", timestamptz_to_str(hold.expires_at)) :
				 errdetail("It has no expires_at."),
				 errledger("transfers", "status", NULL)));

	if (f->resolved == NULL)
		f->resolved = named_table(f, "payments resolved holds", sizeof(Resolved));
	r = named_entry(f->resolved, t->ledger, t->pending_id, HASH_ENTER, &found);
	if (found)					/* the unique index refuses it first */
		elog(ERROR, "hold %lld is resolved twice in one statement", (long long) t->pending_id);
	r->resolution = t->id;
	r->kind = t->kind;
	r->amount = hold.amount.units;
	r->has_expiry = hold.has_expiry;
	r->expires_at = hold.expires_at;
	return hold.amount.units;
}

void
flows_lock_holds(FlowsState *f)
{
	Resolved  **order;
	long		n;

	if (f->resolved == NULL)
		return;
	order = (Resolved **) named_in_order(f->resolved, &n);
	for (long i = 0; i < n; i++)
	{
		Resolved   *r = order[i];
		TableWriter *holds = lazy_table_writer(&f->open_holds);
		Datum		key[2] = {CStringGetTextDatum(r->key.ledger), Int64GetDatum(r->key.id)};

		CHECK_FOR_INTERRUPTS();
		/*
		 * The resolution's BEFORE trigger has it locked already, unless it
		 * found it resolved (then so does this) or a trigger after it
		 * changed pending_id (then this waits, in order).
		 */
		if (table_writer_lock_latest(holds, key, false) != ROW_LOCKED)
		{
			refuse_if_resolved(r->key.ledger, r->key.id, r->resolution, NULL);
			refuse_not_open(r->key.ledger, r->key.id, r->resolution);
		}
		/*
		 * Expiry is judged by the clock once the hold is ours: a capture
		 * that waited for another's void past expires_at is too late.
		 */
		if (r->kind != TRANSFER_EXPIRY && r->has_expiry &&
			GetCurrentTimestamp() >= r->expires_at)
			ereport(ERROR,
					(errcode(ERRCODE_HOLD_EXPIRED),
					 errmsg("hold %lld expired at %s", (long long) r->key.id,
							timestamptz_to_str(r->expires_at)),
					 errdetail("An expired hold can no longer be %s; payments.expire_holds() releases it.",
							   r->kind == TRANSFER_CAPTURE ? "captured" : "voided"),
					 errledger("transfers", "pending_id", NULL)));
		table_writer_delete(holds);
	}
}

amount_int
flows_hold_amount(FlowsState *f, const Transfer *t)
{
	Resolved   *r = f->resolved ?
		named_entry(f->resolved, t->ledger, t->pending_id, HASH_FIND, NULL) : NULL;

	if (r == NULL || r->resolution != t->id)
		elog(ERROR, "transfer %lld changed between the engine's passes", (long long) t->id);
	return r->amount;
}

void
flows_add_reversal(FlowsState *f, const Transfer *t)
{
	NamedTransfer original;
	Reversed   *r;
	bool		found;

	find_named(f, t, t->reverses, "reverses", false, &original);
	if (strcmp(original.status, "posted") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("transfer %lld moved no money: it cannot be reversed", (long long) t->reverses),
				 errdetail("Its status is %s; only posted transfers are reversed.", original.status),
				 strcmp(original.status, "pending") == 0 ?
				 errhint("Release a hold with payments.release().") : 0,
				 errledger("transfers", "reverses", "transfers_reverses_posted")));
	if (t->from_account != original.to_account || t->to_account != original.from_account)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("transfer %lld reverses transfer %lld but not from account %lld to account %lld",
						(long long) t->id, (long long) t->reverses,
						(long long) original.to_account, (long long) original.from_account),
				 errdetail("A reversal moves money back between the accounts of the transfer it reverses."),
				 errledger("transfers", "reverses", "transfers_reversal_of_transfer")));
	if (t->amount.currency != original.amount.currency)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("currency mismatch: transfer %lld is in %s but reverses transfer %lld in %s",
						(long long) t->id, currency_to_cstring(t->amount.currency),
						(long long) t->reverses, currency_to_cstring(original.amount.currency)),
				 errledger("transfers", "amount", "transfers_currency_of_accounts")));

	if (f->reversed == NULL)
		f->reversed = named_table(f, "payments reversed transfers", sizeof(Reversed));
	r = named_entry(f->reversed, t->ledger, t->reverses, HASH_ENTER, &found);
	if (!found)
	{
		r->amount = original.amount;
		r->first_reversal = t->id;
	}
}

/*
 * The reversals of transfer $2 of ledger $1 as snapshot sees them (this
 * statement's included), summed.
 */
static Monetary
reversed_sum(FlowsState *f, Datum *args, Snapshot snapshot);

/* All reversals of a transfer. */
static LedgerPlan reversed_sum_plan = {
	"SELECT pg_catalog.count(*), @monetary@.sum(amount) FROM payments.transfers "
	" WHERE reverses OPERATOR(pg_catalog.=) $2 AND ledger OPERATOR(pg_catalog.=) $1",
	2, {TEXTOID, INT8OID}
};

static Monetary
reversed_sum(FlowsState *f, Datum *args, Snapshot snapshot)
{
	bool		isnull;
	Datum		sum;
	Monetary	reversed;

	if (SPI_execute_snapshot(ledger_plan(&reversed_sum_plan, f->monetary_oid), args, NULL,
							 snapshot, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed summing reversals");
	sum = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (isnull)
		elog(ERROR, "the reversals of transfer %lld are not found",
			 (long long) DatumGetInt64(args[1]));
	reversed = *DatumGetMonetaryP(sum);
	SPI_freetuptable(SPI_tuptable);
	return reversed;
}

void
flows_check_reversals(FlowsState *f)
{
	Reversed  **order;
	long		n;

	if (f->reversed == NULL)
		return;
	order = (Reversed **) named_in_order(f->reversed, &n);
	for (long i = 0; i < n; i++)
	{
		Transfer	t = {.id = order[i]->first_reversal, .ledger = order[i]->key.ledger};
		NamedTransfer original;
		Datum		args[2] = {CStringGetTextDatum(order[i]->key.ledger),
		Int64GetDatum(order[i]->key.id)};
		Monetary	reversed;

		CHECK_FOR_INTERRUPTS();
		/* whoever reverses it next waits for this transaction */
		find_named(f, &t, order[i]->key.id, "reverses", true, &original);
		/* a leg of a payment between currencies goes back with its other leg, at a rate */
		if (!fx_writing_refund())
		{
			int64		fx_entry = fx_entry_of_transfer(order[i]->key.ledger, order[i]->key.id);

			if (fx_entry != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("transfer %lld is a leg of FX entry %lld",
								(long long) order[i]->key.id, (long long) fx_entry),
						 errdetail("A payment between currencies is refunded as a whole: both legs, at a recorded rate."),
						 errhint("Refund it with payments.reverse_fx_transfer(%lld).",
								 (long long) fx_entry),
						 errledger("transfers", "reverses", NULL)));
		}
		/* a new snapshot: those committed while we waited, and this statement's */
		reversed = reversed_sum(f, args, GetLatestSnapshot());
		if (reversed.units > order[i]->amount.units)
		{
			Monetary	excess;

			/*
			 * Within the transaction's snapshot it would not exceed: another
			 * transaction's reversal, committed since, made it.  Retrying
			 * sees it.
			 */
			if (IsolationUsesXactSnapshot() &&
				reversed_sum(f, args, GetActiveSnapshot()).units <= order[i]->amount.units)
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to a concurrent reversal of transfer %lld",
								(long long) order[i]->key.id),
						 errhint("Retry the transaction.")));

			excess.currency = reversed.currency;
			amount_check(amount_sub(reversed.units, order[i]->amount.units, &excess.units),
						 "reversal", reversed.currency);
			ereport(ERROR,
					(errcode(ERRCODE_REVERSAL_EXCEEDS),
					 errmsg("reversals of transfer %lld would exceed it by %s",
							(long long) order[i]->key.id, monetary_to_cstring(&excess)),
					 errdetail("It moved %s; with transfer %lld its reversals would move back %s.",
							   monetary_to_cstring(&order[i]->amount),
							   (long long) order[i]->first_reversal,
							   monetary_to_cstring(&reversed)),
					 errledger("transfers", "reverses", "transfers_reversals_within_transfer")));
		}
	}
}

void
flows_open_hold(FlowsState *f, const Transfer *t)
{
	TableWriter *w = lazy_table_writer(&f->open_holds);
	Relation	rel = w->rel;
	int			natts = RelationGetDescr(rel)->natts;
	Datum	   *values = palloc0(natts * sizeof(Datum));
	bool	   *nulls = palloc(natts * sizeof(bool));

	memset(nulls, true, natts * sizeof(bool));
	values[ledger_column(rel, "ledger") - 1] = CStringGetTextDatum(t->ledger);
	nulls[ledger_column(rel, "ledger") - 1] = false;
	values[ledger_column(rel, "id") - 1] = Int64GetDatum(t->id);
	nulls[ledger_column(rel, "id") - 1] = false;
	if (t->has_expiry)
	{
		values[ledger_column(rel, "expires_at") - 1] = TimestampTzGetDatum(t->expires_at);
		nulls[ledger_column(rel, "expires_at") - 1] = false;
	}
	table_writer_insert(w, values, nulls);
}

void
flows_end(FlowsState *f)
{
	lazy_table_writer_close(&f->open_holds);
	lazy_table_writer_close(&f->transfers);
}

static LedgerPlan transfer_ledger_plan = {
	"SELECT ledger FROM payments.postings WHERE transfer_id OPERATOR(pg_catalog.=) $1 LIMIT 1",
	1, {INT8OID}
};

char *
flows_transfer_ledger(int64 transfer)
{
	Datum		args[1] = {Int64GetDatum(transfer)};
	bool		isnull;

	if (SPI_execute_plan(ledger_plan(&transfer_ledger_plan, InvalidOid), args, NULL,
						 false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed looking up transfer %lld", (long long) transfer);
	if (SPI_processed == 0)
		return NULL;
	return TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											 1, &isnull));
}
