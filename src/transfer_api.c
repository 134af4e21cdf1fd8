/*
 * transfer_api.c
 *	  The application's API: post_transfer(), post_transfers(), and account
 *	  look-ups.
 *
 * The functions that post only insert transfer rows, one statement per
 * call; the triggers on payments.transfers check and apply them, exactly as
 * for any other INSERT.  What they add is idempotency (a key replayed with
 * the same request returns the original transfers, also when two calls
 * race) and, for post_transfers(), an entry of many transfers, all or none.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "entries.h"
#include "ledger.h"
#include "lifecycle.h"

PG_FUNCTION_INFO_V1(ledger_post_transfer);
PG_FUNCTION_INFO_V1(ledger_post_transfer_by_name);
PG_FUNCTION_INFO_V1(ledger_post_transfers);
PG_FUNCTION_INFO_V1(ledger_account_id);
PG_FUNCTION_INFO_V1(ledger_account_checked);

static void
key_reused(const char *key, const char *what, int64 id, const char *ledger)
{
	bool		entry = strcmp(what, "entry") == 0;

	ereport(ERROR,
			(errcode(ERRCODE_IDEMPOTENCY_KEY_REUSED),
			 errmsg("idempotency key \"%s\" was already used for a different %s", key, what),
			 errdetail("%s %lld in ledger \"%s\" was posted with this key, with other accounts, amounts or metadata.",
					   entry ? "Entry" : "Transfer", (long long) id, ledger),
			 errhint("Replay a key only with the request it was first sent with; a new request needs a new key."),
			 errledger(entry ? "entries" : "transfers", "idempotency_key",
					   entry ? "entries_ledger_idempotency_key_key" :
					   "transfers_ledger_idempotency_key_key")));
}

/* post_transfer ------------------------------------------------------------ */

/*
 * The transfer already posted with this key in the ledger, and whether it is
 * the same request.  The stored row is the request's fingerprint: accounts,
 * amount and metadata are compared exactly, so no two different requests can
 * ever match.  $1 may be null: the ledger is then the from account's.
 */
static LedgerPlan find_by_key_plan = {
	"SELECT t.id, t.ledger, "
	"       t.from_account OPERATOR(pg_catalog.=) $2 "
	"       AND t.to_account OPERATOR(pg_catalog.=) $3 "
	"       AND t.amount OPERATOR(@monetary@.=) $4 "
	"       AND coalesce(t.metadata OPERATOR(pg_catalog.=) $6, "
	"                               t.metadata IS NULL AND $6 IS NULL) "
	"  FROM payments.transfers t "
	" WHERE t.idempotency_key OPERATOR(pg_catalog.=) $5 "
	"   AND t.ledger OPERATOR(pg_catalog.=) coalesce($1, "
	"       (SELECT a.ledger FROM payments.accounts a WHERE a.id OPERATOR(pg_catalog.=) $2))",
	6, {TEXTOID, INT8OID, INT8OID, MONETARY_PARAM, TEXTOID, JSONBOID}
};

/*
 * ON CONFLICT waits for a concurrent insert of the same key to commit or
 * abort, so of two racing calls one inserts and the other finds its row; a
 * replay after the fact conflicts the same way.  The BEFORE triggers fire
 * before the conflict check, but they only check and assign; the engine
 * applies the rows really inserted.
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
		key_reused(TextDatumGetCString(args[4]), "transfer", *id,
				   TextDatumGetCString(SPI_getbinval(row, desc, 2, &isnull)));
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
	 * below.  The BEFORE trigger checks only the request itself and the
	 * engine applies only rows really inserted, so a replay is answered even
	 * if its accounts have been frozen since.
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
	"SELECT id FROM payments.accounts "
	" WHERE ledger OPERATOR(pg_catalog.=) $1 AND name OPERATOR(pg_catalog.=) $2",
	2, {TEXTOID, TEXTOID}
};

/*
 * The id of a named account; run inside SPI.  read_only for STABLE callers:
 * the look-up then sees the table as the calling query does.
 */
static int64
account_by_name(Datum ledger, Datum name, bool read_only)
{
	Datum		args[2] = {ledger, name};
	bool		isnull;

	if (SPI_execute_plan(ledger_plan(&account_by_name_plan, InvalidOid), args, NULL,
						 read_only, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed looking up an account by name");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("account \"%s\" does not exist in ledger \"%s\"",
						TextDatumGetCString(name), TextDatumGetCString(ledger)),
				 errledger("accounts", "name", NULL)));
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
									   &isnull));
}

/* payments.post_transfer(text, text, monetary, text, jsonb, ledger text) */
Datum
ledger_post_transfer_by_name(PG_FUNCTION_ARGS)
{
	int64		from_account,
				to_account;

	payments_require_sql_version();
	require_args(fcinfo, true);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	from_account = account_by_name(PG_GETARG_DATUM(5), PG_GETARG_DATUM(0), false);
	to_account = account_by_name(PG_GETARG_DATUM(5), PG_GETARG_DATUM(1), false);
	SPI_finish();
	PG_RETURN_INT64(post_transfer(fcinfo, TextDatumGetCString(PG_GETARG_DATUM(5)),
								  from_account, to_account, PG_GETARG_MONETARY_P(2), 3, 4));
}

/* post_transfers ----------------------------------------------------------- */

/* An entry's transfers, as arrays in request order (the statements' parameters). */
typedef struct EntryRequest
{
	int			n;
	Oid			monetary_oid;
	const char *ledger;
	Datum		key;			/* the entry's, or 0 */
	Datum		metadata;		/* the entry's, or 0 */
	Datum		from_accounts;	/* bigint[] */
	Datum		to_accounts;	/* bigint[] */
	Datum		amounts;		/* monetary[] */
	Datum		keys;			/* text[], with nulls */
	Datum		metadatas;		/* jsonb[], with nulls */
	bool		any_key;
} EntryRequest;

/* Builds the request's arrays from payments.transfer_request[]. */
static void
read_entry_request(ArrayType *requests, EntryRequest *req)
{
	Oid			elemtype = ARR_ELEMTYPE(requests);
	TupleDesc	desc;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *elem_nulls;
	int			n;
	Datum	   *from,
			   *to,
			   *amount,
			   *key,
			   *metadata;
	bool	   *key_nulls,
			   *metadata_nulls;
	int			dims[1];
	int			lbs[1] = {1};

	if (ARR_NDIM(requests) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("transfers must be a one-dimensional array")));
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(requests, elemtype, typlen, typbyval, typalign,
					  &elems, &elem_nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an entry needs at least one transfer")));
	desc = lookup_rowtype_tupdesc(elemtype, -1);
	req->monetary_oid = TupleDescAttr(desc, 2)->atttypid;
	ReleaseTupleDesc(desc);

	from = palloc(n * sizeof(Datum));
	to = palloc(n * sizeof(Datum));
	amount = palloc(n * sizeof(Datum));
	key = palloc(n * sizeof(Datum));
	metadata = palloc(n * sizeof(Datum));
	key_nulls = palloc(n * sizeof(bool));
	metadata_nulls = palloc(n * sizeof(bool));
	req->any_key = false;
	for (int i = 0; i < n; i++)
	{
		HeapTupleHeader t = elem_nulls[i] ? NULL : DatumGetHeapTupleHeader(elems[i]);
		bool		from_null = true,
					to_null = true,
					amount_null = true;

		if (t != NULL)
		{
			from[i] = GetAttributeByNum(t, 1, &from_null);
			to[i] = GetAttributeByNum(t, 2, &to_null);
			amount[i] = GetAttributeByNum(t, 3, &amount_null);
			key[i] = GetAttributeByNum(t, 4, &key_nulls[i]);
			metadata[i] = GetAttributeByNum(t, 5, &metadata_nulls[i]);
		}
		if (from_null || to_null || amount_null)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("transfer %d of the entry has no %s", i + 1,
							t == NULL ? "accounts or amount" : from_null ? "from_account" :
							to_null ? "to_account" : "amount")));
		req->any_key |= !key_nulls[i];
	}

	dims[0] = n;
	req->n = n;
	req->from_accounts = PointerGetDatum(construct_array(from, n, INT8OID, 8,
														 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	req->to_accounts = PointerGetDatum(construct_array(to, n, INT8OID, 8,
													   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	req->amounts = PointerGetDatum(construct_array(amount, n, req->monetary_oid,
												   sizeof(Monetary), false, TYPALIGN_DOUBLE));
	req->keys = PointerGetDatum(construct_md_array(key, key_nulls, 1, dims, lbs, TEXTOID,
												   -1, false, TYPALIGN_INT));
	req->metadatas = PointerGetDatum(construct_md_array(metadata, metadata_nulls, 1, dims, lbs,
														JSONBOID, -1, false, TYPALIGN_INT));
	req->ledger = ledger_account_ledger(DatumGetInt64(from[0]));
}

/* The entry's row, claiming its key: no row when the key is taken. */
static LedgerPlan claim_entry_plan = {
	"INSERT INTO payments.entries (ledger, id, idempotency_key, metadata, created_at) "
	"VALUES ($1, $2, $3, $4, pg_catalog.statement_timestamp()) "
	"ON CONFLICT (ledger, idempotency_key) DO NOTHING RETURNING id",
	4, {TEXTOID, INT8OID, TEXTOID, JSONBOID}
};

/*
 * The entry posted with the key: its transfers' ids, in order, and whether
 * they and the entry's metadata are this request.
 */
static LedgerPlan replay_entry_plan = {
	"WITH e AS (SELECT e.id, e.metadata FROM payments.entries e "
	"            WHERE e.ledger OPERATOR(pg_catalog.=) $1 "
	"              AND e.idempotency_key OPERATOR(pg_catalog.=) $2), "
	"     got AS (SELECT pg_catalog.row_number() OVER (ORDER BY t.id) AS n, t.* "
	"               FROM payments.transfers t, e "
	"              WHERE t.ledger OPERATOR(pg_catalog.=) $1 "
	"                AND t.entry_id OPERATOR(pg_catalog.=) e.id), "
	"     req AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($4), pg_catalog.unnest($5), "
	"                                      pg_catalog.unnest($6), pg_catalog.unnest($7), "
	"                                      pg_catalog.unnest($8)) WITH ORDINALITY "
	"                   AS r(from_account, to_account, amount, idempotency_key, metadata, n)) "
	"SELECT e.id, "
	"       (SELECT pg_catalog.array_agg(got.id ORDER BY got.n) FROM got), "
	"       coalesce(e.metadata OPERATOR(pg_catalog.=) $3, "
	"                           e.metadata IS NULL AND $3 IS NULL) "
	"       AND NOT EXISTS (SELECT FROM req FULL JOIN got ON req.n OPERATOR(pg_catalog.=) got.n "
	"                        WHERE req.n IS NULL OR got.n IS NULL "
	"                           OR req.from_account OPERATOR(pg_catalog.<>) got.from_account "
	"                           OR req.to_account OPERATOR(pg_catalog.<>) got.to_account "
	"                           OR req.amount OPERATOR(@monetary@.<>) got.amount "
	"                           OR NOT coalesce(req.idempotency_key OPERATOR(pg_catalog.=) "
	"                                                      got.idempotency_key, "
	"                                                      req.idempotency_key IS NULL "
	"                                                      AND got.idempotency_key IS NULL) "
	"                           OR NOT coalesce(req.metadata OPERATOR(pg_catalog.=) got.metadata, "
	"                                                      req.metadata IS NULL "
	"                                                      AND got.metadata IS NULL)) "
	"  FROM e",
	8, {TEXTOID, TEXTOID, JSONBOID, INT8ARRAYOID, INT8ARRAYOID, MONETARY_ARRAY_PARAM,
	TEXTARRAYOID, JSONBARRAYOID}
};

static Datum
replay_entry(const EntryRequest *req)
{
	Datum		args[8] = {CStringGetTextDatum(req->ledger), req->key, req->metadata,
		req->from_accounts, req->to_accounts, req->amounts, req->keys, req->metadatas};
	char		nulls[8] = {' ', ' ', req->metadata ? ' ' : 'n', ' ', ' ', ' ', ' ', ' '};
	bool		isnull;
	Datum		ids;

	if (SPI_execute_plan(ledger_plan(&replay_entry_plan, req->monetary_oid), args, nulls,
						 false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed looking up an entry's idempotency key");
	if (SPI_processed == 0)
		elog(ERROR, "entry with idempotency key \"%s\" conflicted but was not found",
			 TextDatumGetCString(req->key));
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull)))
		key_reused(TextDatumGetCString(req->key), "entry",
				   DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											   1, &isnull)),
				   req->ledger);
	ids = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (isnull)
		elog(ERROR, "entry with idempotency key \"%s\" has no transfers",
			 TextDatumGetCString(req->key));
	return ids;
}

/*
 * The transfers' own keys: taken in one global order (advisory locks on
 * buckets of their hashes, sorted), so that two entries sharing keys never
 * wait on each other in a cycle; then each must be new, and new within the
 * entry.  Buckets, not keys, so that a call of any size holds at most
 * TRANSFER_KEY_BUCKETS locks of the shared lock table; two-key advisory
 * locks with the first key TRANSFER_KEY_LOCK_CLASS (README, For DBAs).
 */
#define TRANSFER_KEY_LOCK_CLASS	"1885434227"	/* 'pays' */
#define TRANSFER_KEY_BUCKETS	"1024"

static LedgerPlan lock_transfer_keys_plan = {
	"SELECT pg_catalog.pg_advisory_xact_lock(" TRANSFER_KEY_LOCK_CLASS ", s.b) "
	"  FROM (SELECT DISTINCT (pg_catalog.hashtext($1 OPERATOR(pg_catalog.||) "
	"                  E'\\x1f' OPERATOR(pg_catalog.||) k) "
	"                  OPERATOR(pg_catalog.&) (" TRANSFER_KEY_BUCKETS " - 1)) AS b "
	"          FROM pg_catalog.unnest($2) AS k WHERE k IS NOT NULL ORDER BY 1) s",
	2, {TEXTOID, TEXTARRAYOID}
};

/* A key of the request given twice, or used by a transfer of another entry. */
static LedgerPlan used_transfer_key_plan = {
	"SELECT k, (SELECT t.id FROM payments.transfers t "
	"            WHERE t.ledger OPERATOR(pg_catalog.=) $1 "
	"              AND t.idempotency_key OPERATOR(pg_catalog.=) k "
	"              AND t.entry_id OPERATOR(pg_catalog.<>) $3), "
	"       pg_catalog.count(*) "
	"  FROM pg_catalog.unnest($2) AS k WHERE k IS NOT NULL "
	" GROUP BY k "
	"HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1 OR EXISTS "
	"       (SELECT FROM payments.transfers t WHERE t.ledger OPERATOR(pg_catalog.=) $1 "
	"           AND t.idempotency_key OPERATOR(pg_catalog.=) k "
	"           AND t.entry_id OPERATOR(pg_catalog.<>) $3) "
	" LIMIT 1",
	3, {TEXTOID, TEXTARRAYOID, INT8OID}
};

static void
check_transfer_keys(const EntryRequest *req, int64 entry_id)
{
	Datum		args[3] = {CStringGetTextDatum(req->ledger), req->keys, Int64GetDatum(entry_id)};
	bool		isnull,
				used_null;
	Datum		used;

	if (SPI_execute_plan(ledger_plan(&lock_transfer_keys_plan, InvalidOid), args, NULL,
						 false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed locking transfers' idempotency keys");
	if (SPI_execute_plan(ledger_plan(&used_transfer_key_plan, InvalidOid), args, NULL,
						 false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed looking up transfers' idempotency keys");
	if (SPI_processed == 0)
		return;
	used = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &used_null);
	if (used_null)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("idempotency key \"%s\" is given to two transfers of the entry",
						TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
														  SPI_tuptable->tupdesc, 1, &isnull))),
				 errledger("transfers", "idempotency_key", NULL)));
	ereport(ERROR,
			(errcode(ERRCODE_IDEMPOTENCY_KEY_REUSED),
			 errmsg("idempotency key \"%s\" was already used for transfer %lld",
					TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc, 1, &isnull)),
					(long long) DatumGetInt64(used)),
			 errdetail("A transfer's own key in an entry marks it as new: it may not have been posted before."),
			 errhint("To retry a whole entry safely, give post_transfers() an idempotency_key."),
			 errledger("transfers", "idempotency_key", "transfers_ledger_idempotency_key_key")));
}

/*
 * The entry's transfers, in request order: RETURNING gives their ids in
 * insertion order.  With transfer keys, a key a single post_transfer()
 * committed after check_transfer_keys() looked is skipped, not a 23505: the
 * caller then finds it and says so.
 */
#define INSERT_ENTRY_SQL(on_conflict) \
	"INSERT INTO payments.transfers " \
	"       (ledger, from_account, to_account, amount, idempotency_key, metadata) " \
	"SELECT $1, r.from_account, r.to_account, r.amount, r.idempotency_key, r.metadata " \
	"  FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), " \
	"                 pg_catalog.unnest($5), pg_catalog.unnest($6)) WITH ORDINALITY " \
	"       AS r(from_account, to_account, amount, idempotency_key, metadata, n) " \
	" ORDER BY r.n " on_conflict \
	"RETURNING id"

static LedgerPlan insert_entry_plan = {
	INSERT_ENTRY_SQL(""),
	6, {TEXTOID, INT8ARRAYOID, INT8ARRAYOID, MONETARY_ARRAY_PARAM, TEXTARRAYOID,
	JSONBARRAYOID}
};

static LedgerPlan insert_keyed_entry_plan = {
	INSERT_ENTRY_SQL("ON CONFLICT (ledger, idempotency_key) DO NOTHING "),
	6, {TEXTOID, INT8ARRAYOID, INT8ARRAYOID, MONETARY_ARRAY_PARAM, TEXTARRAYOID,
	JSONBARRAYOID}
};

static ArrayType *
insert_entry(const EntryRequest *req, int64 entry_id)
{
	Datum		args[6] = {CStringGetTextDatum(req->ledger), req->from_accounts,
	req->to_accounts, req->amounts, req->keys, req->metadatas};
	Datum	   *ids;
	bool		isnull;
	volatile int ret = 0;

	entries_preassign(entry_id, req->ledger);
	PG_TRY();
	{
		ret = SPI_execute_plan(ledger_plan(req->any_key ? &insert_keyed_entry_plan :
										   &insert_entry_plan, req->monetary_oid),
							   args, NULL, false, 0);
	}
	PG_FINALLY();
	{
		entries_preassign_clear();
	}
	PG_END_TRY();
	if (ret != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "inserting the %d transfers of an entry failed", req->n);
	if (SPI_processed != (uint64) req->n)
	{
		int			inserted = (int) SPI_processed;

		/* a key committed meanwhile: names it (23I01) */
		check_transfer_keys(req, entry_id);
		elog(ERROR, "%d of the %d transfers of an entry were not inserted",
			 req->n - inserted, req->n);
	}

	ids = SPI_palloc(req->n * sizeof(Datum));
	for (int i = 0; i < req->n; i++)
		ids[i] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
	return construct_array(ids, req->n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/* payments.post_transfers(transfer_request[], idempotency_key text, metadata jsonb) */
Datum
ledger_post_transfers(PG_FUNCTION_ARGS)
{
	EntryRequest req;
	int64		entry_id;
	MemoryContext caller_cxt = CurrentMemoryContext;
	ArrayType  *result;

	payments_require_sql_version();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("transfers must not be null")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	read_entry_request(PG_GETARG_ARRAYTYPE_P(0), &req);
	req.key = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	req.metadata = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	if (req.key != 0 &&
		(VARSIZE_ANY_EXHDR(DatumGetPointer(req.key)) < 1 ||
		 VARSIZE_ANY_EXHDR(DatumGetPointer(req.key)) > IDEMPOTENCY_KEY_MAX_BYTES))
		ereport(ERROR,
				(errcode(VARSIZE_ANY_EXHDR(DatumGetPointer(req.key)) < 1 ?
						 ERRCODE_STRING_DATA_LENGTH_MISMATCH :
						 ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("idempotency_key of entries must be 1 to %d bytes long, not %d",
						IDEMPOTENCY_KEY_MAX_BYTES,
						(int) VARSIZE_ANY_EXHDR(DatumGetPointer(req.key))),
				 errledger("entries", "idempotency_key", NULL)));

	entry_id = ledger_nextval(SEQ_ENTRIES);
	if (req.key != 0 || req.metadata != 0)
	{
		Datum		args[4] = {CStringGetTextDatum(req.ledger), Int64GetDatum(entry_id),
		req.key, req.metadata};
		char		nulls[4] = {' ', ' ', req.key ? ' ' : 'n', req.metadata ? ' ' : 'n'};

		if (ledger_execute_write(ledger_plan(&claim_entry_plan, InvalidOid), args, nulls)
			!= SPI_OK_INSERT_RETURNING)
			elog(ERROR, "SPI_execute_plan failed writing an entry");
		if (SPI_processed == 0)
		{
			/* the key is taken: this request again, or another */
			Datum		ids = replay_entry(&req);

			MemoryContextSwitchTo(caller_cxt);
			result = DatumGetArrayTypePCopy(ids);
			SPI_finish();
			PG_RETURN_ARRAYTYPE_P(result);
		}
	}
	if (req.any_key)
		check_transfer_keys(&req, entry_id);
	result = insert_entry(&req, entry_id);
	MemoryContextSwitchTo(caller_cxt);
	result = DatumGetArrayTypePCopy(PointerGetDatum(result));
	SPI_finish();
	PG_RETURN_ARRAYTYPE_P(result);
}

/* look-ups ----------------------------------------------------------------- */

/* payments.account_id(name, ledger) */
Datum
ledger_account_id(PG_FUNCTION_ARGS)
{
	int64		id;

	payments_require_sql_version();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	id = account_by_name(PG_GETARG_DATUM(1), PG_GETARG_DATUM(0), true);
	SPI_finish();
	PG_RETURN_INT64(id);
}

static LedgerPlan account_exists_plan = {
	"SELECT FROM payments.accounts WHERE id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

/*
 * payments.account_checked(id): the id, or an error when no such account
 * exists as the calling query sees the table (read-only: its snapshot).
 */
Datum
ledger_account_checked(PG_FUNCTION_ARGS)
{
	Datum		args[1] = {PG_GETARG_DATUM(0)};

	payments_require_sql_version();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_plan(ledger_plan(&account_exists_plan, InvalidOid), args, NULL,
						 true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed reading account %lld",
			 (long long) PG_GETARG_INT64(0));
	if (SPI_processed == 0)
		ledger_account_missing(PG_GETARG_INT64(0), false);
	SPI_finish();
	PG_RETURN_INT64(PG_GETARG_INT64(0));
}
