/*
 * ledger_triggers.c
 *	  The triggers that hold the ledger's rules on every path that writes.
 *
 * transfers: BEFORE INSERT checks the row on its own and fills in what the
 * ledger assigns; AFTER INSERT applies it (ledger.c); a deferred constraint
 * trigger checks at commit that its legs balance.  postings are written only
 * by the ledger; account volumes change only through transfers; history is
 * never updated, deleted or truncated.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "ledger.h"
#include "lifecycle.h"

PG_FUNCTION_INFO_V1(ledger_transfer_before_insert);
PG_FUNCTION_INFO_V1(ledger_transfer_after_insert);
PG_FUNCTION_INFO_V1(ledger_transfer_check_balanced);
PG_FUNCTION_INFO_V1(ledger_account_guard);
PG_FUNCTION_INFO_V1(ledger_posting_guard);
PG_FUNCTION_INFO_V1(ledger_history_guard);

static TriggerData *
trigger_data(FunctionCallInfo fcinfo, const char *name)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s can only be called as a trigger", name)));
	return (TriggerData *) fcinfo->context;
}

/*
 * Columns are found by name, since the tables may gain columns in upgrades,
 * and the answers kept per relation and name (the names are the literals of
 * this file) until the relcache says the relation changed.
 */
typedef struct ColumnCacheEntry
{
	Oid			relid;
	const char *name;
	int			attnum;
} ColumnCacheEntry;

static ColumnCacheEntry column_cache[32];
static int	column_cache_used = 0;
static bool column_cache_callback_registered = false;

static void
column_cache_invalidate(Datum arg, Oid relid)
{
	column_cache_used = 0;
}

static int
column(Relation rel, const char *name)
{
	Oid			relid = RelationGetRelid(rel);
	int			attnum;

	for (int i = 0; i < column_cache_used; i++)
		if (column_cache[i].relid == relid && column_cache[i].name == name)
			return column_cache[i].attnum;

	attnum = SPI_fnumber(RelationGetDescr(rel), name);
	if (attnum <= 0)
		elog(ERROR, "column \"%s\" of \"%s\" is missing", name,
			 RelationGetRelationName(rel));
	if (!column_cache_callback_registered)
	{
		CacheRegisterRelcacheCallback(column_cache_invalidate, (Datum) 0);
		column_cache_callback_registered = true;
	}
	if (column_cache_used < lengthof(column_cache))
	{
		column_cache[column_cache_used].relid = relid;
		column_cache[column_cache_used].name = name;
		column_cache[column_cache_used].attnum = attnum;
		column_cache_used++;
	}
	return attnum;
}

static Datum
get_column(HeapTuple tuple, Relation rel, const char *name, bool *isnull)
{
	return heap_getattr(tuple, column(rel, name), RelationGetDescr(rel), isnull);
}

static bool
column_is_null(HeapTuple tuple, Relation rel, const char *name)
{
	return heap_attisnull(tuple, column(rel, name), RelationGetDescr(rel));
}

static Oid
column_type(Relation rel, const char *name)
{
	return TupleDescAttr(RelationGetDescr(rel), column(rel, name) - 1)->atttypid;
}

static void
refuse_restore_value(Relation rel, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_GENERATED_ALWAYS),
			 errmsg("%s of %s is assigned by the ledger", name,
					RelationGetRelationName(rel)),
			 errhint("Leave %s out of the INSERT. To restore a dump, restore with session_replication_role = replica.",
					 name)));
}

/*
 * BEFORE INSERT on transfers: the checks that need no other row, the kinds of
 * transfer not supported yet, the ledger taken from the accounts when left
 * out, and created_at assigned.
 */
Datum
ledger_transfer_before_insert(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "transfer_before_insert");
	Relation	rel = trigdata->tg_relation;
	HeapTuple	tuple = trigdata->tg_trigtuple;
	bool		from_null,
				to_null,
				amount_null,
				status_null;
	int64		from_account,
				to_account;
	Monetary   *amount;
	Datum		status;
	int			cols[2];
	Datum		values[2];
	bool		nulls[2] = {false, false};
	int			ncols = 0;

	payments_require_sql_version();
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		elog(ERROR, "transfer_before_insert must fire BEFORE INSERT FOR EACH ROW");

	from_account = DatumGetInt64(get_column(tuple, rel, "from_account", &from_null));
	to_account = DatumGetInt64(get_column(tuple, rel, "to_account", &to_null));
	amount = DatumGetMonetaryP(get_column(tuple, rel, "amount", &amount_null));
	status = get_column(tuple, rel, "status", &status_null);
	/*
	 * NOT NULL would refuse these only after the BEFORE triggers, naming the
	 * first null column in table order, which may be the ledger left for us
	 * to fill in: name the column that really is null.
	 */
	if (from_null || to_null || amount_null || status_null)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
						from_null ? "from_account" : to_null ? "to_account" :
						amount_null ? "amount" : "status",
						RelationGetRelationName(rel))));

	if (amount->units <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("transfer amount must be positive: %s", monetary_to_cstring(amount))));
	if (from_account == to_account)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("transfer from account %lld to itself", (long long) from_account)));
	if (strcmp(TextDatumGetCString(status), "posted") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot insert a transfer with status \"%s\"",
						TextDatumGetCString(status)),
				 errdetail("Only posted transfers are supported in this version.")));
	if (!column_is_null(tuple, rel, "pending_id") ||
		!column_is_null(tuple, rel, "reverses") ||
		!column_is_null(tuple, rel, "expires_at"))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pending transfers and reversals are not supported in this version"),
				 errdetail("pending_id, reverses and expires_at must be null.")));
	if (!column_is_null(tuple, rel, "created_at"))
		refuse_restore_value(rel, "created_at");

	cols[ncols] = column(rel, "created_at");
	values[ncols++] = TimestampTzGetDatum(GetCurrentTimestamp());

	if (column_is_null(tuple, rel, "ledger"))
	{
		char	   *ledger;

		ledger = ledger_account_ledger(column_type(rel, "amount"), from_account);
		values[ncols] = CStringGetTextDatum(ledger);
		cols[ncols++] = column(rel, "ledger");
	}

	return PointerGetDatum(heap_modify_tuple_by_cols(tuple, RelationGetDescr(rel),
													 ncols, cols, values, nulls));
}

/* The columns of a transfer row that applying and checking it need. */
typedef struct TransferRow
{
	int64		id;
	char	   *ledger;
	int64		from_account;
	int64		to_account;
	Monetary   *amount;
	Oid			monetary_oid;
} TransferRow;

/* Reads a transfer row that NOT NULL has already vetted (AFTER triggers). */
static void
read_transfer(HeapTuple tuple, Relation rel, TransferRow *t)
{
	bool		isnull;

	t->id = DatumGetInt64(get_column(tuple, rel, "id", &isnull));
	t->ledger = TextDatumGetCString(get_column(tuple, rel, "ledger", &isnull));
	t->from_account = DatumGetInt64(get_column(tuple, rel, "from_account", &isnull));
	t->to_account = DatumGetInt64(get_column(tuple, rel, "to_account", &isnull));
	t->amount = DatumGetMonetaryP(get_column(tuple, rel, "amount", &isnull));
	t->monetary_oid = column_type(rel, "amount");
}

/* AFTER INSERT on transfers: apply the legs (ledger.c). */
Datum
ledger_transfer_after_insert(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "transfer_after_insert");
	TransferRow t;

	payments_require_sql_version();
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		elog(ERROR, "transfer_after_insert must fire AFTER INSERT FOR EACH ROW");

	read_transfer(trigdata->tg_trigtuple, trigdata->tg_relation, &t);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ledger_apply_transfer(t.monetary_oid, t.id, t.ledger, t.from_account,
						  t.to_account, t.amount);
	SPI_finish();
	return PointerGetDatum(NULL);
}

static LedgerPlan transfer_legs_plan = {
	"SELECT account_id, side, amount, ledger FROM payments.postings "
	" WHERE transfer_id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

/*
 * Deferred to commit: the transfer's legs are one debit of its amount from
 * from_account and one credit of it to to_account, in its ledger, so they
 * sum to zero.  No path can commit a transfer without both its legs.  A
 * transfer this backend applied in this transaction had both written by one
 * INSERT, and legs are never deleted, so only the others are read back:
 * those whose AFTER trigger did not run (disabled by their owner).
 */
Datum
ledger_transfer_check_balanced(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "transfer_check_balanced");
	TransferRow t;
	Datum		args[1];
	bool		isnull;
	int			debits = 0,
				credits = 0;
	uint64		legs;

	payments_require_sql_version();
	/* its legs were written by ledger_apply_transfer(), both in one INSERT */
	if (ledger_applied_here(DatumGetInt64(get_column(trigdata->tg_trigtuple,
													   trigdata->tg_relation,
													   "id", &isnull))))
		return PointerGetDatum(NULL);
	read_transfer(trigdata->tg_trigtuple, trigdata->tg_relation, &t);
	args[0] = Int64GetDatum(t.id);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_plan(ledger_plan(&transfer_legs_plan, t.monetary_oid),
						 args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed reading the legs of transfer %lld", (long long) t.id);
	legs = SPI_processed;
	for (uint64 i = 0; i < legs; i++)
	{
		HeapTuple	leg = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		int64		account = DatumGetInt64(SPI_getbinval(leg, desc, 1, &isnull));
		bool		debit = strcmp(TextDatumGetCString(SPI_getbinval(leg, desc, 2, &isnull)),
								   "debit") == 0;
		Monetary   *leg_amount = DatumGetMonetaryP(SPI_getbinval(leg, desc, 3, &isnull));
		char	   *leg_ledger = TextDatumGetCString(SPI_getbinval(leg, desc, 4, &isnull));
		bool		matches = leg_amount->currency == t.amount->currency &&
			leg_amount->units == t.amount->units && strcmp(leg_ledger, t.ledger) == 0;

		if (matches && debit && account == t.from_account)
			debits++;
		else if (matches && !debit && account == t.to_account)
			credits++;
		else
			debits = credits = -1;
	}
	SPI_finish();

	if (legs != 2 || debits != 1 || credits != 1)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("transfer %lld is unbalanced", (long long) t.id),
				 errdetail("It has %llu legs; a posted transfer has one debit of %s from account %lld and one credit of it to account %lld.",
						   (unsigned long long) legs, monetary_to_cstring(t.amount),
						   (long long) t.from_account, (long long) t.to_account)));
	return PointerGetDatum(NULL);
}

static bool
monetary_column_is_zero(HeapTuple tuple, Relation rel, const char *name,
						currency_code currency)
{
	bool		isnull;
	Monetary   *m = DatumGetMonetaryP(get_column(tuple, rel, name, &isnull));

	return isnull || (m->units == 0 && m->currency == currency);
}

static bool
column_changed(HeapTuple old, HeapTuple new, Relation rel, const char *name)
{
	bool		old_null,
				new_null;
	int			attnum = column(rel, name);
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	Datum		a = heap_getattr(old, attnum, RelationGetDescr(rel), &old_null);
	Datum		b = heap_getattr(new, attnum, RelationGetDescr(rel), &new_null);

	if (old_null || new_null)
		return old_null != new_null;
	return !datumIsEqual(a, b, att->attbyval, att->attlen);
}

static const char *const volume_columns[] = {
	"debits_posted", "credits_posted", "debits_pending", "credits_pending"
};

/* A posted balance and the available one, from an account row. */
static void
account_balances(HeapTuple tuple, Relation rel, Monetary *posted, Monetary *available)
{
	bool		isnull;
	AccountRow	row;

	row.debit_normal =
		strcmp(TextDatumGetCString(get_column(tuple, rel, "normal_balance", &isnull)),
			   "debit") == 0;
	row.debits_posted = *DatumGetMonetaryP(get_column(tuple, rel, "debits_posted", &isnull));
	row.credits_posted = *DatumGetMonetaryP(get_column(tuple, rel, "credits_posted", &isnull));
	row.debits_pending = *DatumGetMonetaryP(get_column(tuple, rel, "debits_pending", &isnull));
	row.credits_pending = *DatumGetMonetaryP(get_column(tuple, rel, "credits_pending", &isnull));
	row.currency = row.debits_posted.currency;
	posted->currency = available->currency = row.currency;
	posted->units = ledger_posted_balance(&row);
	available->units = ledger_available_balance(&row);
}

static bool
has_pending(HeapTuple tuple, Relation rel, currency_code currency)
{
	return !monetary_column_is_zero(tuple, rel, "debits_pending", currency) ||
		!monetary_column_is_zero(tuple, rel, "credits_pending", currency);
}

/*
 * BEFORE INSERT OR UPDATE on accounts.  A new account starts at zero.  The
 * volumes change only through transfers; id, ledger, currency and normal
 * side never change, since postings were made under them.  Closing needs a
 * zero balance with nothing pending and is final.
 */
Datum
ledger_account_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "account_guard");
	Relation	rel = trigdata->tg_relation;
	bool		isnull;

	payments_require_sql_version();
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		HeapTuple	tuple = trigdata->tg_trigtuple;
		currency_code currency;
		Monetary   *zero;
		int			cols[lengthof(volume_columns)];
		Datum		values[lengthof(volume_columns)];
		bool		nulls[lengthof(volume_columns)] = {false};

		currency = DatumGetCurrency(get_column(tuple, rel, "currency", &isnull));
		if (isnull)
			return PointerGetDatum(tuple);	/* NOT NULL refuses it */
		for (int i = 0; i < lengthof(volume_columns); i++)
			if (!monetary_column_is_zero(tuple, rel, volume_columns[i], currency))
				ereport(ERROR,
						(errcode(ERRCODE_GENERATED_ALWAYS),
						 errmsg("a new account's %s must be zero in its currency %s",
								volume_columns[i], currency_to_cstring(currency)),
						 errhint("Leave the volumes out of the INSERT: they start at zero and change only through transfers. To restore a dump, restore with session_replication_role = replica.")));
		if (!column_is_null(tuple, rel, "status") &&	/* NOT NULL refuses a null */
			strcmp(TextDatumGetCString(get_column(tuple, rel, "status", &isnull)),
				   "closed") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot create a closed account")));
		zero = monetary_make(0, currency);
		for (int i = 0; i < lengthof(volume_columns); i++)
		{
			cols[i] = column(rel, volume_columns[i]);
			values[i] = MonetaryPGetDatum(zero);
		}
		return PointerGetDatum(heap_modify_tuple_by_cols(tuple, RelationGetDescr(rel),
														 lengthof(volume_columns),
														 cols, values, nulls));
	}
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		HeapTuple	old = trigdata->tg_trigtuple;
		HeapTuple	new = trigdata->tg_newtuple;
		int64		id = DatumGetInt64(get_column(old, rel, "id", &isnull));
		static const char *const fixed[] = {"id", "ledger", "currency", "normal_balance"};
		char	   *old_status;
		char	   *new_status;

		/* the ledger's own volume updates were checked as they were computed */
		if (ledger_is_writing())
			return PointerGetDatum(new);

		for (int i = 0; i < lengthof(fixed); i++)
			if (column_changed(old, new, rel, fixed[i]))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot change the %s of account %lld", fixed[i], (long long) id),
						 errdetail("The account's postings were made under it.")));
		for (int i = 0; i < lengthof(volume_columns); i++)
			if (column_changed(old, new, rel, volume_columns[i]))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot change the %s of account %lld directly",
								volume_columns[i], (long long) id),
						 errdetail("Account volumes change only through transfers."),
						 errhint("Post a transfer with payments.post_transfer().")));

		if (column_is_null(new, rel, "status"))
			return PointerGetDatum(new);	/* NOT NULL refuses it */
		old_status = TextDatumGetCString(get_column(old, rel, "status", &isnull));
		new_status = TextDatumGetCString(get_column(new, rel, "status", &isnull));
		if (strcmp(old_status, "closed") == 0 && strcmp(new_status, "closed") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("account %lld is closed", (long long) id),
					 errdetail("Closing an account is final.")));
		if (strcmp(new_status, "closed") == 0 && strcmp(old_status, "closed") != 0)
		{
			Monetary	posted,
						available;

			account_balances(new, rel, &posted, &available);
			if (posted.units != 0)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("cannot close account %lld: its balance is %s",
								(long long) id, monetary_to_cstring(&posted)),
						 errdetail("Only an account at zero with nothing pending can be closed.")));
			if (has_pending(new, rel, posted.currency))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("cannot close account %lld: it has pending transfers",
								(long long) id),
						 errdetail("Only an account at zero with nothing pending can be closed.")));
		}
		if (column_changed(old, new, rel, "allow_negative") &&
			!DatumGetBool(get_column(new, rel, "allow_negative", &isnull)))
		{
			Monetary	posted,
						available;

			account_balances(new, rel, &posted, &available);
			if (available.units < 0)
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("account %lld has a negative available balance of %s",
								(long long) id, monetary_to_cstring(&available)),
						 errdetail("An account may be barred from going negative only while it is not.")));
		}
		return PointerGetDatum(new);
	}
	elog(ERROR, "account_guard must fire BEFORE INSERT OR UPDATE FOR EACH ROW");
	pg_unreachable();
}

/* BEFORE INSERT on postings: only the ledger writes them. */
Datum
ledger_posting_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "posting_guard");

	payments_require_sql_version();
	if (!ledger_is_writing())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("postings are written only by the ledger"),
				 errhint("Insert into payments.transfers, or call payments.post_transfer().")));
	return PointerGetDatum(trigdata->tg_trigtuple);
}

/* UPDATE, DELETE (row) and TRUNCATE (statement) of what is history. */
Datum
ledger_history_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "history_guard");
	const char *table = RelationGetRelationName(trigdata->tg_relation);
	bool		accounts = strcmp(table, "accounts") == 0;

	payments_require_sql_version();
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot truncate payments.%s", table),
				 errdetail("Ledger history is kept for good.")));
	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) && accounts)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot delete from payments.accounts"),
				 errdetail("Accounts are kept with their history."),
				 errhint("Close the account with payments.set_account_status(id, 'closed').")));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot %s payments.%s",
					TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ? "delete from" : "update",
					table),
			 errdetail("Ledger history is never changed."),
			 errhint("To undo a transfer, post the opposite transfer.")));
	pg_unreachable();
}
