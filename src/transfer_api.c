/*
 * transfer_api.c
 *	  The application's API: post_transfer() and account look-ups.
 *
 * post_transfer() only inserts the transfer row; the triggers on
 * payments.transfers check it and apply it, exactly as for any other INSERT.
 * What it adds is idempotency: a key replayed with the same request returns
 * the original transfer, also when two calls race.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "ledger.h"
#include "lifecycle.h"

PG_FUNCTION_INFO_V1(ledger_post_transfer);
PG_FUNCTION_INFO_V1(ledger_post_transfer_by_name);
PG_FUNCTION_INFO_V1(ledger_account_id);
PG_FUNCTION_INFO_V1(ledger_account_checked);

/*
 * The transfer already posted with this key in the ledger, and whether it is
 * the same request.  The stored row is the request's fingerprint: accounts,
 * amount and metadata are compared exactly, so no two different requests can
 * ever match.  $1 may be null: the ledger is then the from account's.
 */
static LedgerPlan find_by_key_plan = {
	"SELECT t.id, t.ledger, "
	"       t.from_account = $2 AND t.to_account = $3 "
	"       AND t.amount OPERATOR(@monetary@.=) $4 "
	"       AND t.metadata IS NOT DISTINCT FROM $6 "
	"  FROM payments.transfers t "
	" WHERE t.idempotency_key = $5 "
	"   AND t.ledger = coalesce($1, (SELECT a.ledger FROM payments.accounts a WHERE a.id = $2))",
	6, {TEXTOID, INT8OID, INT8OID, MONETARY_PARAM, TEXTOID, JSONBOID}
};

/*
 * ON CONFLICT waits for a concurrent insert of the same key to commit or
 * abort, so of two racing calls one inserts and the other finds its row; a
 * replay after the fact conflicts the same way.
 * The BEFORE trigger, which fires before the conflict check, only checks
 * and fills in; the legs are applied AFTER INSERT, for inserted rows only.
 */
static LedgerPlan insert_keyed_transfer_plan = {
	"INSERT INTO payments.transfers "
	"       (ledger, from_account, to_account, amount, idempotency_key, metadata) "
	"VALUES ($1, $2, $3, $4, $5, $6) "
	"ON CONFLICT (ledger, idempotency_key) DO NOTHING RETURNING id",
	6, {TEXTOID, INT8OID, INT8OID, MONETARY_PARAM, TEXTOID, JSONBOID}
};

/* Without a key nothing can conflict. */
static LedgerPlan insert_transfer_plan = {
	"INSERT INTO payments.transfers "
	"       (ledger, from_account, to_account, amount, idempotency_key, metadata) "
	"VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
	6, {TEXTOID, INT8OID, INT8OID, MONETARY_PARAM, TEXTOID, JSONBOID}
};

/* Looks the key up; returns true and sets *id when a transfer has it. */
static bool
find_by_key(Oid monetary_oid, Datum *args, const char *nulls, int64 *id)
{
	bool		isnull;
	bool		same;
	HeapTuple	row;
	TupleDesc	desc;

	if (SPI_execute_plan(ledger_plan(&find_by_key_plan, monetary_oid), args, nulls,
						 false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed looking up an idempotency key");
	if (SPI_processed == 0)
		return false;

	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	*id = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
	same = DatumGetBool(SPI_getbinval(row, desc, 3, &isnull));
	if (isnull || !same)
		ereport(ERROR,
				(errcode(ERRCODE_IDEMPOTENCY_KEY_REUSED),
				 errmsg("idempotency key \"%s\" was already used for a different transfer",
						TextDatumGetCString(args[4])),
				 errdetail("Transfer %lld in ledger \"%s\" was posted with this key, with other accounts, amount or metadata.",
						   (long long) *id,
						   TextDatumGetCString(SPI_getbinval(row, desc, 2, &isnull))),
				 errhint("Replay a key only with the request it was first sent with; a new request needs a new key.")));
	return true;
}

static int64
post_transfer(FunctionCallInfo fcinfo, const char *ledger, int64 from_account,
			  int64 to_account, Monetary *amount, int key_arg, int metadata_arg)
{
	Oid			monetary_oid = get_fn_expr_argtype(fcinfo->flinfo, 2);
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	bool		has_key = !PG_ARGISNULL(key_arg);
	int64		id = 0;
	bool		isnull;

	args[0] = ledger ? CStringGetTextDatum(ledger) : (Datum) 0;
	nulls[0] = ledger ? ' ' : 'n';
	args[1] = Int64GetDatum(from_account);
	args[2] = Int64GetDatum(to_account);
	args[3] = MonetaryPGetDatum(amount);
	args[4] = has_key ? PG_GETARG_DATUM(key_arg) : (Datum) 0;
	nulls[4] = has_key ? ' ' : 'n';
	args[5] = PG_ARGISNULL(metadata_arg) ? (Datum) 0 : PG_GETARG_DATUM(metadata_arg);
	nulls[5] = PG_ARGISNULL(metadata_arg) ? 'n' : ' ';

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/*
	 * No look-up first: a replayed key conflicts, and the row is then found
	 * below.  The BEFORE trigger checks only the request itself, and the
	 * AFTER trigger does not fire for a row not inserted, so a replay is
	 * answered even if its accounts have been frozen since.
	 */
	if (SPI_execute_plan(ledger_plan(has_key ? &insert_keyed_transfer_plan :
									 &insert_transfer_plan, monetary_oid),
						 args, nulls, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "SPI_execute_plan failed inserting a transfer");
	if (SPI_processed == 1)
		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										 1, &isnull));
	/* a conflict: the key is taken, by this request or by another */
	else if (!has_key || !find_by_key(monetary_oid, args, nulls, &id))
		elog(ERROR, "transfer with idempotency key \"%s\" conflicted but was not found",
			 has_key ? TextDatumGetCString(args[4]) : "");
	SPI_finish();
	return id;
}

/* from_account, to_account and amount (and the ledger, by name) are required. */
static void
require_args(FunctionCallInfo fcinfo, bool by_name)
{
	static const char *const names[] = {"from_account", "to_account", "amount"};

	for (int i = 0; i < lengthof(names); i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be null", names[i])));
	if (by_name && PG_ARGISNULL(5))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ledger must not be null")));
}

/* payments.post_transfer(bigint, bigint, monetary, text, jsonb) */
Datum
ledger_post_transfer(PG_FUNCTION_ARGS)
{
	payments_require_sql_version();
	require_args(fcinfo, false);
	PG_RETURN_INT64(post_transfer(fcinfo, NULL, PG_GETARG_INT64(0), PG_GETARG_INT64(1),
								  PG_GETARG_MONETARY_P(2), 3, 4));
}

static LedgerPlan account_by_name_plan = {
	"SELECT id FROM payments.accounts WHERE ledger = $1 AND name = $2",
	2, {TEXTOID, TEXTOID}
};

/* The id of a named account; run inside SPI. */
static int64
account_by_name(Oid monetary_oid, Datum ledger, Datum name)
{
	Datum		args[2] = {ledger, name};
	bool		isnull;

	if (SPI_execute_plan(ledger_plan(&account_by_name_plan, monetary_oid), args, NULL,
						 false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed looking up an account by name");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("account \"%s\" does not exist in ledger \"%s\"",
						TextDatumGetCString(name), TextDatumGetCString(ledger))));
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
									   &isnull));
}

/* payments.post_transfer(text, text, monetary, text, jsonb, ledger text) */
Datum
ledger_post_transfer_by_name(PG_FUNCTION_ARGS)
{
	Oid			monetary_oid = get_fn_expr_argtype(fcinfo->flinfo, 2);
	int64		from_account,
				to_account;

	payments_require_sql_version();
	require_args(fcinfo, true);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	from_account = account_by_name(monetary_oid, PG_GETARG_DATUM(5), PG_GETARG_DATUM(0));
	to_account = account_by_name(monetary_oid, PG_GETARG_DATUM(5), PG_GETARG_DATUM(1));
	SPI_finish();
	PG_RETURN_INT64(post_transfer(fcinfo, TextDatumGetCString(PG_GETARG_DATUM(5)),
								  from_account, to_account, PG_GETARG_MONETARY_P(2), 3, 4));
}

/* payments.account_id(name, ledger) */
Datum
ledger_account_id(PG_FUNCTION_ARGS)
{
	int64		id;

	payments_require_sql_version();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	id = account_by_name(InvalidOid, PG_GETARG_DATUM(1), PG_GETARG_DATUM(0));
	SPI_finish();
	PG_RETURN_INT64(id);
}

/* payments.account_checked(id): the id, or an error when no such account exists */
Datum
ledger_account_checked(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);

	payments_require_sql_version();
	(void) ledger_account_ledger(InvalidOid, id);
	PG_RETURN_INT64(id);
}
