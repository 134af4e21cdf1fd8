/*
 * ledger_triggers.c
 *	  The triggers that hold the ledger's rules on every path that writes.
 *
 * transfers: before a statement, its entry is opened (entries.c); BEFORE
 * INSERT checks each row on its own and assigns what the ledger assigns; the
 * statement's rows are then applied all at once by the posting engine
 * (posting_engine.c).  postings and entries are written only by the ledger;
 * account volumes change only through transfers; history is never updated,
 * deleted or truncated.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "utils/reltrigger.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "change_feed.h"
#include "entries.h"
#include "ledger.h"
#include "ledger_access.h"
#include "ledger_triggers.h"
#include "hot_accounts.h"
#include "lifecycle.h"
#include "posting_engine.h"

PG_FUNCTION_INFO_V1(ledger_transfer_statement_start);
PG_FUNCTION_INFO_V1(ledger_transfer_before_insert);
PG_FUNCTION_INFO_V1(ledger_transfer_apply);
PG_FUNCTION_INFO_V1(ledger_account_guard);
PG_FUNCTION_INFO_V1(ledger_write_guard);
PG_FUNCTION_INFO_V1(ledger_history_guard);
PG_FUNCTION_INFO_V1(ledger_cached_table_changed);

static TriggerData *
trigger_data(FunctionCallInfo fcinfo, const char *name)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s can only be called as a trigger", name)));
	return (TriggerData *) fcinfo->context;
}

static Datum
get_column(HeapTuple tuple, Relation rel, const char *name, bool *isnull)
{
	return heap_getattr(tuple, ledger_column(rel, name), RelationGetDescr(rel), isnull);
}

static bool
column_is_null(HeapTuple tuple, Relation rel, const char *name)
{
	return heap_attisnull(tuple, ledger_column(rel, name), RelationGetDescr(rel));
}

/* A column only the ledger fills in was given. */
static void
refuse_assigned_value(Relation rel, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_GENERATED_ALWAYS),
			 errmsg("%s of %s is assigned by the ledger", name,
					RelationGetRelationName(rel)),
			 errhint("Leave %s out of the INSERT. To restore a dump, restore with session_replication_role = replica.",
					 name),
			 errtablecol(rel, ledger_column(rel, name))));
}

/* A text column of at most max_bytes bytes, and at least one. */
static void
check_length(HeapTuple tuple, Relation rel, const char *name, int max_bytes)
{
	bool		isnull;
	Datum		d = get_column(tuple, rel, name, &isnull);
	int			len;

	if (isnull)
		return;
	len = VARSIZE_ANY_EXHDR(DatumGetPointer(d));
	if (len < 1 || len > max_bytes)
		ereport(ERROR,
				(errcode(len < 1 ? ERRCODE_STRING_DATA_LENGTH_MISMATCH :
						 ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("%s of %s must be 1 to %d bytes long, not %d",
						name, RelationGetRelationName(rel), max_bytes, len),
				 errtablecol(rel, ledger_column(rel, name))));
}

/*
 * The ledger's three insert triggers on payments.transfers apply a transfer
 * together: one opens the statement's entry, one checks and assigns each
 * row, one applies the rows.  Their owner can disable one, which would let
 * rows through half done, so each refuses to run unless the others fire
 * too.  (With all three off, as under session_replication_role = replica,
 * rows come in as they are, which is what a restore wants.)
 */
static const char *const transfer_triggers[] = {
	"transfer_statement_start", "transfer_before_insert", "transfer_apply"
};

static bool
trigger_fires(const Trigger *t)
{
	if (t->tgenabled == TRIGGER_DISABLED)
		return false;
	if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		return t->tgenabled == TRIGGER_FIRES_ON_REPLICA || t->tgenabled == TRIGGER_FIRES_ALWAYS;
	return t->tgenabled == TRIGGER_FIRES_ON_ORIGIN || t->tgenabled == TRIGGER_FIRES_ALWAYS;
}

static void
require_transfer_triggers(Relation rel)
{
	TriggerDesc *desc = rel->trigdesc;

	for (int i = 0; i < lengthof(transfer_triggers); i++)
	{
		bool		fires = false;

		for (int j = 0; desc != NULL && j < desc->numtriggers && !fires; j++)
			fires = strcmp(desc->triggers[j].tgname, transfer_triggers[i]) == 0 &&
				trigger_fires(&desc->triggers[j]);
		if (!fires)
			ereport(ERROR,
					(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
					 errmsg("trigger %s on payments.transfers does not fire", transfer_triggers[i]),
					 errdetail("The triggers transfer_statement_start, transfer_before_insert and transfer_apply post a transfer together; without one of them, transfers would be posted half done."),
					 errhint("ALTER TABLE payments.transfers ENABLE TRIGGER %s.",
							 transfer_triggers[i]),
					 errtable(rel)));
	}
}

/* BEFORE INSERT ... FOR EACH STATEMENT on transfers: opens its entry. */
Datum
ledger_transfer_statement_start(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "transfer_statement_start");

	payments_require_sql_version();
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		elog(ERROR, "transfer_statement_start must fire BEFORE INSERT FOR EACH STATEMENT");
	require_transfer_triggers(trigdata->tg_relation);
	entries_statement_begin();
	return PointerGetDatum(NULL);
}

/*
 * The rules a transfer row keeps on its own: accounts and amount given, two
 * different accounts, 0 < amount <= TRANSFER_AMOUNT_MAX (what keeps every
 * volume in range forever), a status with the fields that go with it
 * (transfer_kind()), key and ledger within their lengths.  Checked as each row is inserted, and again
 * by the engine on the rows it applies, since a trigger added after ours may
 * have changed them.  inserting: also refuse what the ledger assigns.
 */
TransferKind
ledger_check_transfer_row(Relation rel, HeapTuple tuple, bool inserting)
{
	TransferKind kind;
	bool		from_null,
				to_null,
				amount_null,
				status_null;
	int64		from_account,
				to_account;
	Monetary   *amount;
	Datum		status;

	from_account = DatumGetInt64(get_column(tuple, rel, "from_account", &from_null));
	to_account = DatumGetInt64(get_column(tuple, rel, "to_account", &to_null));
	amount = DatumGetMonetaryP(get_column(tuple, rel, "amount", &amount_null));
	status = get_column(tuple, rel, "status", &status_null);
	/*
	 * NOT NULL would refuse these only after the BEFORE triggers, naming the
	 * first null column in table order, which may be one left for us to fill
	 * in: name the column that really is null.
	 */
	if (from_null || to_null || amount_null || status_null)
	{
		const char *column = from_null ? "from_account" : to_null ? "to_account" :
			amount_null ? "amount" : "status";

		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
						column, RelationGetRelationName(rel)),
				 errtablecol(rel, ledger_column(rel, column))));
	}
	if (inserting)
	{
		if (!column_is_null(tuple, rel, "id"))
			refuse_assigned_value(rel, "id");
		if (!column_is_null(tuple, rel, "entry_id"))
			refuse_assigned_value(rel, "entry_id");
		if (!column_is_null(tuple, rel, "created_at"))
			refuse_assigned_value(rel, "created_at");
		if (!column_is_null(tuple, rel, "posted_by"))
			refuse_assigned_value(rel, "posted_by");
		if (!column_is_null(tuple, rel, "posted_by_session"))
			refuse_assigned_value(rel, "posted_by_session");
	}

	if (amount->units <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("transfer amount must be positive: %s", monetary_to_cstring(amount)),
				 errtableconstraint(rel, "transfers_amount_positive")));
	if (amount->units > TRANSFER_AMOUNT_MAX)
	{
		Monetary	max = {TRANSFER_AMOUNT_MAX, amount->currency};

		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("transfer amount %s is larger than the most one transfer may move, %s",
						monetary_to_cstring(amount), monetary_to_cstring(&max)),
				 errdetail("A transfer moves at most 10^19 minor units, so that no sequence of transfers can push an account's volumes out of range."),
				 errtableconstraint(rel, "transfers_amount_at_most_max")));
	}
	if (from_account == to_account)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("transfer from account %lld to itself", (long long) from_account),
				 errtableconstraint(rel, "transfers_accounts_differ")));
	kind = transfer_kind(rel, TextDatumGetCString(status),
						 !column_is_null(tuple, rel, "pending_id"),
						 !column_is_null(tuple, rel, "reverses"),
						 !column_is_null(tuple, rel, "expires_at"));
	check_length(tuple, rel, "idempotency_key", IDEMPOTENCY_KEY_MAX_BYTES);
	check_length(tuple, rel, "ledger", LEDGER_NAME_MAX_BYTES);
	return kind;
}

/*
 * BEFORE INSERT FOR EACH ROW on transfers: the checks that need no other
 * row, that the acting role may use the ledger (ledger_access.c), and what
 * the ledger assigns: id, entry, created_at, who posted it, and the ledger
 * from the accounts when left out.  A resolution of a hold first takes the
 * hold (flows_lock_hold()), before its row can meet another's in the unique
 * index transfers_ledger_pending_id_key.
 */
Datum
ledger_transfer_before_insert(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "transfer_before_insert");
	Relation	rel = trigdata->tg_relation;
	HeapTuple	tuple = trigdata->tg_trigtuple;
	bool		isnull,
				ledger_null;
	char	   *ledger;
	TransferKind kind;
	OpenEntry  *entry = fcinfo->flinfo->fn_extra;
	int			cols[6];
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	payments_require_sql_version();
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		elog(ERROR, "transfer_before_insert must fire BEFORE INSERT FOR EACH ROW");
	/* the first row of the statement (the FmgrInfo is the statement's) */
	if (entry == NULL)
	{
		require_transfer_triggers(rel);
		fcinfo->flinfo->fn_extra = entry = entries_current();
	}
	kind = ledger_check_transfer_row(rel, tuple, true);

	ledger_null = column_is_null(tuple, rel, "ledger");
	if (ledger_null)
		ledger = ledger_account_ledger(DatumGetInt64(get_column(tuple, rel, "from_account",
																 &isnull)));
	else
	{
		ledger = TextDatumGetCString(get_column(tuple, rel, "ledger", &ledger_null));
		ledger_access_check(ledger);
	}
	cols[0] = ledger_column(rel, "id");
	values[0] = Int64GetDatum(ledger_nextval(SEQ_TRANSFERS));
	if (TRANSFER_RESOLVES_HOLD(kind))
	{
		Datum		key = get_column(tuple, rel, "idempotency_key", &isnull);

		flows_lock_hold(entries_statement_hold(entry), ledger,
						DatumGetInt64(get_column(tuple, rel, "pending_id", &isnull)),
						DatumGetInt64(values[0]),
						column_is_null(tuple, rel, "idempotency_key") ? NULL :
						TextDatumGetCString(key));
	}

	cols[1] = ledger_column(rel, "entry_id");
	values[1] = Int64GetDatum(entries_entry_for(entry, ledger));
	cols[2] = ledger_column(rel, "created_at");
	values[2] = TimestampTzGetDatum(entries_statement_time(entry));
	cols[3] = ledger_column(rel, "posted_by");
	cols[4] = ledger_column(rel, "posted_by_session");
	ledger_posted_by(&values[3], &values[4], &nulls[4]);
	cols[5] = ledger_column(rel, "ledger");
	values[5] = CStringGetTextDatum(ledger);
	return PointerGetDatum(heap_modify_tuple_by_cols(tuple, RelationGetDescr(rel),
													 ledger_null ? 6 : 5,
													 cols, values, nulls));
}

/* AFTER INSERT ... FOR EACH STATEMENT on transfers: the posting engine. */
Datum
ledger_transfer_apply(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "transfer_apply");

	payments_require_sql_version();
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		trigdata->tg_newtable == NULL)
		elog(ERROR, "transfer_apply must fire AFTER INSERT FOR EACH STATEMENT with a NEW TABLE");
	require_transfer_triggers(trigdata->tg_relation);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	posting_engine_apply(trigdata->tg_relation, trigdata->tg_newtable);
	SPI_finish();
	change_feed_record(entries_current());
	entries_statement_end();
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
	int			attnum = ledger_column(rel, name);
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

/*
 * An account's true volumes, from its row and, if it has stripes, theirs:
 * locked while it is hot (so that no transfer adds to them until the
 * transaction ends), else as they are, since nothing writes them then.
 */
static void
account_total(HeapTuple tuple, Relation rel, AccountRow *row)
{
	bool		isnull;

	row->id = DatumGetInt64(get_column(tuple, rel, "id", &isnull));
	row->debit_normal =
		strcmp(TextDatumGetCString(get_column(tuple, rel, "normal_balance", &isnull)),
			   "debit") == 0;
	row->debits_posted = *DatumGetMonetaryP(get_column(tuple, rel, "debits_posted", &isnull));
	row->credits_posted = *DatumGetMonetaryP(get_column(tuple, rel, "credits_posted", &isnull));
	row->debits_pending = *DatumGetMonetaryP(get_column(tuple, rel, "debits_pending", &isnull));
	row->credits_pending = *DatumGetMonetaryP(get_column(tuple, rel, "credits_pending", &isnull));
	row->currency = row->debits_posted.currency;
	row->hot = DatumGetBool(get_column(tuple, rel, "hot", &isnull));
	row->stripes = DatumGetInt16(get_column(tuple, rel, "stripes", &isnull));
	if (row->stripes > 0)
	{
		TableWriter stripes;

		table_writer_open(&stripes, ledger_relation(REL_ACCOUNT_STRIPES));
		hot_stripes_add(&stripes, get_column(tuple, rel, "ledger", &isnull), row->id,
						row->stripes, row->hot, row);
		table_writer_close(&stripes);
	}
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
		int			cols[lengthof(volume_columns) + 1];
		Datum		values[lengthof(volume_columns) + 1];
		bool		nulls[lengthof(volume_columns) + 1] = {false};

		if (!column_is_null(tuple, rel, "id"))
			refuse_assigned_value(rel, "id");
		check_length(tuple, rel, "ledger", LEDGER_NAME_MAX_BYTES);
		if (!column_is_null(tuple, rel, "ledger"))	/* NOT NULL refuses a null */
			ledger_access_check(TextDatumGetCString(get_column(tuple, rel, "ledger", &isnull)));
		if (DatumGetBool(get_column(tuple, rel, "allow_negative", &isnull)) ||
			(!column_is_null(tuple, rel, "normal_balance") &&
			 strcmp(TextDatumGetCString(get_column(tuple, rel, "normal_balance", &isnull)),
					"debit") == 0))
			ledger_system_accounts_check("create an account that is debit-normal or may go negative");
		check_length(tuple, rel, "name", ACCOUNT_NAME_MAX_BYTES);
		currency = DatumGetCurrency(get_column(tuple, rel, "currency", &isnull));
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"currency\" of relation \"%s\" violates not-null constraint",
							RelationGetRelationName(rel)),
					 errtablecol(rel, ledger_column(rel, "currency"))));
		for (int i = 0; i < lengthof(volume_columns); i++)
			if (!monetary_column_is_zero(tuple, rel, volume_columns[i], currency))
				ereport(ERROR,
						(errcode(ERRCODE_GENERATED_ALWAYS),
						 errmsg("a new account's %s must be zero in its currency %s",
								volume_columns[i], currency_to_cstring(currency)),
						 errhint("Leave the volumes out of the INSERT: they start at zero and change only through transfers. To restore a dump, restore with session_replication_role = replica.")));
		if (DatumGetBool(get_column(tuple, rel, "hot", &isnull)) ||
			DatumGetInt16(get_column(tuple, rel, "stripes", &isnull)) != 0 ||
			!column_is_null(tuple, rel, "striped_at"))
			ereport(ERROR,
					(errcode(ERRCODE_GENERATED_ALWAYS),
					 errmsg("a new account cannot be hot"),
					 errhint("Leave hot, stripes and striped_at out of the INSERT, and make the account hot with payments.set_hot().")));
		if (!column_is_null(tuple, rel, "status") &&	/* NOT NULL refuses a null */
			strcmp(TextDatumGetCString(get_column(tuple, rel, "status", &isnull)),
				   "closed") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot create a closed account")));
		zero = monetary_make(0, currency);
		for (int i = 0; i < lengthof(volume_columns); i++)
		{
			cols[i] = ledger_column(rel, volume_columns[i]);
			values[i] = MonetaryPGetDatum(zero);
		}
		cols[lengthof(volume_columns)] = ledger_column(rel, "id");
		values[lengthof(volume_columns)] = Int64GetDatum(ledger_nextval(SEQ_ACCOUNTS));
		return PointerGetDatum(heap_modify_tuple_by_cols(tuple, RelationGetDescr(rel),
														 lengthof(volume_columns) + 1,
														 cols, values, nulls));
	}
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		HeapTuple	old = trigdata->tg_trigtuple;
		HeapTuple	new = trigdata->tg_newtuple;
		int64		id = DatumGetInt64(get_column(old, rel, "id", &isnull));
		static const char *const fixed[] = {"id", "ledger", "currency", "normal_balance"};
		static const char *const hot_columns[] = {"hot", "stripes", "striped_at"};
		char	   *old_status;
		char	   *new_status;

		ledger_access_check(TextDatumGetCString(get_column(old, rel, "ledger", &isnull)));
		if (column_changed(old, new, rel, "allow_negative") &&
			DatumGetBool(get_column(new, rel, "allow_negative", &isnull)))
			ledger_system_accounts_check("let an account go negative");

		for (int i = 0; i < lengthof(fixed); i++)
			if (column_changed(old, new, rel, fixed[i]))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot change the %s of account %lld", fixed[i], (long long) id),
						 errdetail("The account's postings were made under it.")));
		if (column_changed(old, new, rel, "name"))
			check_length(new, rel, "name", ACCOUNT_NAME_MAX_BYTES);
		for (int i = 0; i < lengthof(volume_columns); i++)
			if (column_changed(old, new, rel, volume_columns[i]))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot change the %s of account %lld directly",
								volume_columns[i], (long long) id),
						 errdetail("Account volumes change only through transfers."),
						 errhint("Post a transfer with payments.post_transfer().")));

		for (int i = 0; i < lengthof(hot_columns) && !ledger_is_writing(); i++)
			if (column_changed(old, new, rel, hot_columns[i]))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot change the %s of account %lld directly",
								hot_columns[i], (long long) id),
						 errhint("Use payments.set_hot().")));

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
			AccountRow	total;
			Monetary	posted;

			account_total(new, rel, &total);
			posted.units = ledger_posted_balance(&total);
			posted.currency = total.currency;
			if (posted.units != 0)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("cannot close account %lld: its balance is %s",
								(long long) id, monetary_to_cstring(&posted)),
						 errdetail("Only an account at zero with nothing pending can be closed.")));
			if (total.debits_pending.units != 0 || total.credits_pending.units != 0)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("cannot close account %lld: it has pending transfers",
								(long long) id),
						 errdetail("Only an account at zero with nothing pending can be closed.")));
		}
		else if (strcmp(new_status, old_status) != 0 &&
				 DatumGetBool(get_column(new, rel, "hot", &isnull)))
		{
			/* freezing or reopening: wait out the transfers writing to its stripes */
			AccountRow	total;

			account_total(new, rel, &total);
		}
		if (column_changed(old, new, rel, "allow_negative") &&
			DatumGetBool(get_column(new, rel, "hot", &isnull)))
			hot_accounts_changed();		/* hints carry allow_negative */
		if (column_changed(old, new, rel, "allow_negative") &&
			!DatumGetBool(get_column(new, rel, "allow_negative", &isnull)))
		{
			AccountRow	total;
			Monetary	available;

			account_total(new, rel, &total);
			available.units = ledger_available_balance(&total);
			available.currency = total.currency;
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

/*
 * BEFORE INSERT on postings and entries, INSERT OR UPDATE on
 * account_stripes, and INSERT, UPDATE OR DELETE on open_holds: only the
 * ledger writes them.
 */
Datum
ledger_write_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "ledger_write_guard");
	Oid			relid = RelationGetRelid(trigdata->tg_relation);

	payments_require_sql_version();
	if (!ledger_is_writing())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("payments.%s is written only by the ledger",
						RelationGetRelationName(trigdata->tg_relation)),
				 relid == ledger_relation(REL_ACCOUNT_STRIPES) ?
				 errhint("Make an account hot with payments.set_hot(); transfers then write its stripes.") :
				 relid == ledger_relation(REL_OPEN_HOLDS) ?
				 errhint("Holds are opened by payments.hold() and closed by payments.capture(), payments.release() or payments.expire_holds().") :
				 relid == ledger_relation(REL_CLOSED_PERIODS) ?
				 errhint("Close a period with payments.close_period().") :
				 relid == ledger_relation(REL_ENTRY_XACTS) ?
				 errhint("The ledger records the transaction of each entry it posts; read them with payments.changes_since().") :
				 strcmp(RelationGetRelationName(trigdata->tg_relation), "fx_entries") == 0 ?
				 errhint("FX entries are written by payments.post_fx_transfer() and payments.reverse_fx_transfer().") :
				 errhint("Insert into payments.transfers, or call payments.post_transfer() or payments.post_transfers()."),
				 errtable(trigdata->tg_relation)));
	return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
						   trigdata->tg_newtuple : trigdata->tg_trigtuple);
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
				 errdetail("Ledger history is kept for good."),
				 errtable(trigdata->tg_relation)));
	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) && accounts)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot delete from payments.accounts"),
				 errdetail("Accounts are kept with their history."),
				 errhint("Close the account with payments.set_account_status(id, 'closed')."),
				 errtable(trigdata->tg_relation)));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot %s payments.%s",
					TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ? "delete from" : "update",
					table),
			 errdetail("Ledger history is never changed."),
			 errhint("To undo a transfer, post the opposite transfer."),
			 errtable(trigdata->tg_relation)));
	pg_unreachable();
}

/*
 * AFTER any write, per statement, ALWAYS, on the tables that backends keep
 * in memory (closed_periods: periods.c; role_ledgers: ledger_access.c):
 * every backend reads them again once the writer commits, whoever wrote
 * them (the API, a restore, a superuser in replica mode).
 */
Datum
ledger_cached_table_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "cached_table_changed");

	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}
