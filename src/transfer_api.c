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
#include "ledger_access.h"
#include "outcomes.h"
#include "lifecycle.h"
#include "payment_flows.h"
#include "transfer_api.h"

PG_FUNCTION_INFO_V1(ledger_account_id);
PG_FUNCTION_INFO_V1(ledger_account_checked);

void
api_key_reused(const char *key, const char *what, int64 id, const char *ledger)
{
	bool		entry = strcmp(what, "entry") == 0;

	ereport(ERROR,
			(errcode(ERRCODE_IDEMPOTENCY_KEY_REUSED),
			 errmsg("idempotency key \"%s\" was already used for a different %s", key, what),
			 entry ?
			 errdetail("Entry %lld in ledger \"%s\" was posted with this key, with other accounts, amounts or metadata.",
					   (long long) id, ledger) :
			 errdetail("Transfer %lld in ledger \"%s\" was posted with this key, with other accounts, amounts, metadata or kind of transfer (a hold and its expiry, what it resolves or reverses).",
					   (long long) id, ledger),
			 errhint("Replay a key only with the request it was first sent with; a new request needs a new key."),
			 errledger(entry ? "entries" : "transfers", "idempotency_key",
					   entry ? "entries_ledger_idempotency_key_key" :
					   "transfers_ledger_idempotency_key_key")));
}

/* post_transfer ------------------------------------------------------------ */

/*
 * One transfer as the API inserts it: a plain one, a hold, a resolution of
 * a hold or a reversal.  Columns left null are zero or NULL here.
 */
typedef struct TransferRow
{
	Oid			monetary_oid;
	const char *ledger;			/* NULL: the from account's */
	int64		from_account;
	int64		to_account;
	Monetary   *amount;
	bool		amount_chosen;	/* the ledger chose it (all that is left to
								 * reverse): a replay matches whatever it was */
	Datum		key;			/* text, or 0 */
	Datum		metadata;		/* jsonb, or 0 */
	const char *status;
	int64		pending_id;
	int64		reverses;
	Datum		expires_at;		/* timestamptz, or 0 */
	bool		has_expiry;
} TransferRow;

#define TRANSFER_ROW_PARAMS 10
#define TRANSFER_ROW_TYPES \
	{TEXTOID, INT8OID, INT8OID, MONETARY_PARAM, TEXTOID, JSONBOID, TEXTOID, INT8OID, INT8OID, \
	TIMESTAMPTZOID}

static void
transfer_row_args(const TransferRow *r, Datum *args, char *nulls)
{
	memset(nulls, ' ', TRANSFER_ROW_PARAMS);
	args[0] = r->ledger ? CStringGetTextDatum(r->ledger) : (Datum) 0;
	nulls[0] = r->ledger ? ' ' : 'n';
	args[1] = Int64GetDatum(r->from_account);
	args[2] = Int64GetDatum(r->to_account);
	args[3] = MonetaryPGetDatum(r->amount);
	args[4] = r->key;
	nulls[4] = r->key ? ' ' : 'n';
	args[5] = r->metadata;
	nulls[5] = r->metadata ? ' ' : 'n';
	args[6] = CStringGetTextDatum(r->status);
	args[7] = Int64GetDatum(r->pending_id);
	nulls[7] = r->pending_id ? ' ' : 'n';
	args[8] = Int64GetDatum(r->reverses);
	nulls[8] = r->reverses ? ' ' : 'n';
	args[9] = r->expires_at;
	nulls[9] = r->has_expiry ? ' ' : 'n';
}

/*
 * The transfer already posted with this key in the ledger, and whether it is
 * the same request.  The stored row is the request's fingerprint: accounts,
 * amount (unless the request leaves it to the ledger), metadata and what
 * kind of transfer it is are compared exactly, so no two different requests
 * can ever match.  $1 may be null: the ledger is then the from account's.
 */
static LedgerPlan find_by_key_plan = {
	"SELECT t.id, t.ledger, "
	"       t.from_account OPERATOR(pg_catalog.=) $2 "
	"       AND t.to_account OPERATOR(pg_catalog.=) $3 "
	"       AND coalesce(t.amount OPERATOR(@monetary@.=) $4, true) "
	"       AND coalesce(t.metadata OPERATOR(pg_catalog.=) $6, "
	"                               t.metadata IS NULL AND $6 IS NULL) "
	"       AND t.status OPERATOR(pg_catalog.=) $7 "
	"       AND coalesce(t.pending_id OPERATOR(pg_catalog.=) $8, "
	"                    t.pending_id IS NULL AND $8 IS NULL) "
	"       AND coalesce(t.reverses OPERATOR(pg_catalog.=) $9, "
	"                    t.reverses IS NULL AND $9 IS NULL) "
	"       AND coalesce(t.expires_at OPERATOR(pg_catalog.=) $10, "
	"                    t.expires_at IS NULL AND $10 IS NULL) "
	"  FROM payments.transfers t "
	" WHERE t.idempotency_key OPERATOR(pg_catalog.=) $5 "
	"   AND t.ledger OPERATOR(pg_catalog.=) coalesce($1, "
	"       (SELECT a.ledger FROM payments.accounts a WHERE a.id OPERATOR(pg_catalog.=) $2))",
	TRANSFER_ROW_PARAMS, TRANSFER_ROW_TYPES
};

/*
 * ON CONFLICT waits for a concurrent insert of the same key to commit or
 * abort, so of two racing calls one inserts and the other finds its row; a
 * replay after the fact conflicts the same way.  The BEFORE triggers fire
 * before the conflict check, but they only check, assign and lock; the
 * engine applies the rows really inserted.
 */
#define INSERT_TRANSFER_SQL(on_conflict) \
	"INSERT INTO payments.transfers " \
	"       (ledger, from_account, to_account, amount, idempotency_key, metadata, " \
	"        status, pending_id, reverses, expires_at) " \
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) " on_conflict "RETURNING id"

static LedgerPlan insert_keyed_transfer_plan = {
	INSERT_TRANSFER_SQL("ON CONFLICT (ledger, idempotency_key) DO NOTHING "),
	TRANSFER_ROW_PARAMS, TRANSFER_ROW_TYPES
};

/* Without a key nothing can conflict. */
static LedgerPlan insert_transfer_plan = {
	INSERT_TRANSFER_SQL(""),
	TRANSFER_ROW_PARAMS, TRANSFER_ROW_TYPES
};

/* Looks the key up; returns true and sets *id when a transfer has it. */
static bool
find_by_key(const TransferRow *r, int64 *id)
{
	Datum		args[TRANSFER_ROW_PARAMS];
	char		nulls[TRANSFER_ROW_PARAMS];
	bool		isnull;
	bool		same;
	HeapTuple	row;
	TupleDesc	desc;

	transfer_row_args(r, args, nulls);
	if (r->amount_chosen)
		nulls[3] = 'n';
	if (SPI_execute_plan(ledger_plan(&find_by_key_plan, r->monetary_oid), args, nulls,
						 false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed looking up an idempotency key");
	if (SPI_processed == 0)
		return false;

	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	*id = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
	same = DatumGetBool(SPI_getbinval(row, desc, 3, &isnull));
	if (isnull || !same)
		api_key_reused(TextDatumGetCString(r->key), "transfer", *id,
					   TextDatumGetCString(SPI_getbinval(row, desc, 2, &isnull)));
	return true;
}

/* Inserts the transfer (the caller has connected to SPI); returns its id, or the replayed one's. */
static int64
insert_transfer(const TransferRow *r)
{
	Datum		args[TRANSFER_ROW_PARAMS];
	char		nulls[TRANSFER_ROW_PARAMS];
	int64		id = 0;
	bool		isnull;

	/*
	 * No look-up first: a replayed key conflicts, and the row is then found
	 * below.  The BEFORE trigger checks only the request itself and the
	 * engine applies only rows really inserted, so a replay is answered even
	 * if its accounts have been frozen since.
	 */
	transfer_row_args(r, args, nulls);
	if (SPI_execute_plan(ledger_plan(r->key ? &insert_keyed_transfer_plan :
									 &insert_transfer_plan, r->monetary_oid),
						 args, nulls, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "SPI_execute_plan failed inserting a transfer");
	if (SPI_processed == 1)
		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										 1, &isnull));
	/* a conflict: the key is taken, by this request or by another */
	else if (!r->key || !find_by_key(r, &id))
		elog(ERROR, "transfer with idempotency key \"%s\" conflicted but was not found",
			 r->key ? TextDatumGetCString(r->key) : "");
	return id;
}

static int64
post_transfer(FunctionCallInfo fcinfo, const char *ledger, int64 from_account,
			  int64 to_account, Monetary *amount, int key_arg, int metadata_arg)
{
	TransferRow r = {
		.monetary_oid = get_fn_expr_argtype(fcinfo->flinfo, key_arg - 1),	/* the amount's */
		.ledger = ledger,
		.from_account = from_account,
		.to_account = to_account,
		.amount = amount,
		.key = PG_ARGISNULL(key_arg) ? (Datum) 0 : PG_GETARG_DATUM(key_arg),
		.metadata = PG_ARGISNULL(metadata_arg) ? (Datum) 0 : PG_GETARG_DATUM(metadata_arg),
		.status = "posted"
	};
	int64		id;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	id = insert_transfer(&r);
	SPI_finish();
	return id;
}

/* from_account, to_account and amount are required, and by name the ledger before them. */
static void
require_args(FunctionCallInfo fcinfo, bool by_name)
{
	static const char *const names[] = {"ledger", "from_account", "to_account", "amount"};
	int			skip = by_name ? 0 : 1; /* by id, there is no ledger argument */

	for (int i = skip; i < lengthof(names); i++)
		if (PG_ARGISNULL(i - skip))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be null", names[i])));
}

/* payments.post_transfer(bigint, bigint, monetary, text, jsonb) */
OUTCOME_COUNTED_FUNCTION(ledger_post_transfer)
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

	ledger_access_check(TextDatumGetCString(ledger));
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

/* payments.post_transfer_by_name(ledger text, text, text, monetary, text, jsonb) */
OUTCOME_COUNTED_FUNCTION(ledger_post_transfer_by_name)
{
	int64		from_account,
				to_account;

	payments_require_sql_version();
	require_args(fcinfo, true);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	from_account = account_by_name(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), false);
	to_account = account_by_name(PG_GETARG_DATUM(0), PG_GETARG_DATUM(2), false);
	SPI_finish();
	PG_RETURN_INT64(post_transfer(fcinfo, TextDatumGetCString(PG_GETARG_DATUM(0)),
								  from_account, to_account, PG_GETARG_MONETARY_P(3), 4, 5));
}

/* post_transfers ----------------------------------------------------------- */

void
api_check_entry_key(Datum key)
{
	int			len = key ? VARSIZE_ANY_EXHDR(DatumGetPointer(key)) : 0;

	if (key && (len < 1 || len > IDEMPOTENCY_KEY_MAX_BYTES))
		ereport(ERROR,
				(errcode(len < 1 ? ERRCODE_STRING_DATA_LENGTH_MISMATCH :
						 ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("idempotency_key of entries must be 1 to %d bytes long, not %d",
						IDEMPOTENCY_KEY_MAX_BYTES, len),
				 errledger("entries", "idempotency_key", NULL)));
}

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

bool
api_claim_entry(const char *ledger, int64 entry_id, Datum key, Datum metadata)
{
	Datum		args[4] = {CStringGetTextDatum(ledger), Int64GetDatum(entry_id), key, metadata};
	char		nulls[4] = {' ', ' ', key ? ' ' : 'n', metadata ? ' ' : 'n'};

	api_check_entry_key(key);
	if (key == 0 && metadata == 0)
		return true;
	if (ledger_execute_write(ledger_plan(&claim_entry_plan, InvalidOid), args, nulls)
		!= SPI_OK_INSERT_RETURNING)
		elog(ERROR, "SPI_execute_plan failed writing an entry");
	return SPI_processed == 1;
}

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
		api_key_reused(TextDatumGetCString(req->key), "entry",
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
OUTCOME_COUNTED_FUNCTION(ledger_post_transfers)
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

	entry_id = ledger_nextval(SEQ_ENTRIES);
	if (!api_claim_entry(req.ledger, entry_id, req.key, req.metadata))
	{
		/* the key is taken: this request again, or another */
		Datum		ids = replay_entry(&req);

		MemoryContextSwitchTo(caller_cxt);
		result = DatumGetArrayTypePCopy(ids);
		SPI_finish();
		PG_RETURN_ARRAYTYPE_P(result);
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
	"SELECT ledger FROM payments.accounts WHERE id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

/*
 * payments.account_checked(id): the id, or an error when no such account
 * exists as the calling query sees the table (read-only: its snapshot), or
 * it is in a ledger the acting role may not use (to which it does not exist).
 */
Datum
ledger_account_checked(PG_FUNCTION_ARGS)
{
	Datum		args[1] = {PG_GETARG_DATUM(0)};
	bool		isnull;
	bool		visible;

	payments_require_sql_version();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_plan(ledger_plan(&account_exists_plan, InvalidOid), args, NULL,
						 true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed reading account %lld",
			 (long long) PG_GETARG_INT64(0));
	visible = SPI_processed > 0 &&
		ledger_access_allowed(TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
																SPI_tuptable->tupdesc, 1,
																&isnull)));
	if (!visible)
		ledger_account_missing(PG_GETARG_INT64(0), false);
	SPI_finish();
	PG_RETURN_INT64(PG_GETARG_INT64(0));
}

/* payment flows ------------------------------------------------------------ */


/* payments.hold(from_account, to_account, amount, expires_at, idempotency_key, metadata) */
OUTCOME_COUNTED_FUNCTION(ledger_hold)
{
	TransferRow r = {
		.monetary_oid = get_fn_expr_argtype(fcinfo->flinfo, 2),
		.key = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4),
		.metadata = PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5),
		.status = "pending",
		.expires_at = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3),
		.has_expiry = !PG_ARGISNULL(3)
	};
	int64		id;

	payments_require_sql_version();
	require_args(fcinfo, false);
	r.from_account = PG_GETARG_INT64(0);
	r.to_account = PG_GETARG_INT64(1);
	r.amount = PG_GETARG_MONETARY_P(2);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	id = insert_transfer(&r);
	SPI_finish();
	PG_RETURN_INT64(id);
}

/* A transfer named by id alone: the hold or the original the call is about. */
static void
named_transfer(int64 id, const char *what, NamedTransfer *n)
{
	/* to a role confined to other ledgers, theirs do not exist */
	if (!flows_transfer(id, n) || !ledger_access_allowed(n->ledger))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("%s %lld does not exist", what, (long long) id),
				 errledger("transfers", "id", NULL)));
}

/*
 * A resolution of a hold: the hold's ledger and accounts, the amount given
 * (a capture's) or the hold's; the triggers and the engine check the rest.
 */
static int64
resolve_hold(FunctionCallInfo fcinfo, const char *status, Monetary *amount, int key_arg)
{
	TransferRow r = {
		.key = PG_ARGISNULL(key_arg) ? (Datum) 0 : PG_GETARG_DATUM(key_arg),
		.status = status,
		.pending_id = PG_GETARG_INT64(0)
	};
	NamedTransfer hold;
	int64		id;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	named_transfer(r.pending_id, "hold", &hold);
	r.ledger = hold.ledger;
	r.from_account = hold.from_account;
	r.to_account = hold.to_account;
	r.amount = amount ? amount : &hold.amount;
	r.monetary_oid = hold.amount_type;
	id = insert_transfer(&r);
	SPI_finish();
	return id;
}

static void
require_hold(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("hold must not be null")));
}

/* payments.capture(hold, amount, idempotency_key) */
OUTCOME_COUNTED_FUNCTION(ledger_capture)
{
	payments_require_sql_version();
	require_hold(fcinfo);
	PG_RETURN_INT64(resolve_hold(fcinfo, "posted",
								 PG_ARGISNULL(1) ? NULL : PG_GETARG_MONETARY_P(1), 2));
}

/* payments.release(hold, idempotency_key) */
OUTCOME_COUNTED_FUNCTION(ledger_release)
{
	payments_require_sql_version();
	require_hold(fcinfo);
	PG_RETURN_INT64(resolve_hold(fcinfo, "voided", NULL, 1));
}

/* What is left to reverse of a transfer, as this snapshot sees it. */
static LedgerPlan unreversed_plan = {
	"SELECT t.amount OPERATOR(@monetary@.-) "
	"       coalesce((SELECT @monetary@.sum(r.amount) FROM payments.transfers r "
	"                  WHERE r.ledger OPERATOR(pg_catalog.=) t.ledger "
	"                    AND r.reverses OPERATOR(pg_catalog.=) t.id), "
	"                t.amount OPERATOR(@monetary@.-) t.amount) "
	"  FROM payments.transfers t "
	" WHERE t.ledger OPERATOR(pg_catalog.=) $1 AND t.id OPERATOR(pg_catalog.=) $2",
	2, {TEXTOID, INT8OID}
};

Monetary *
api_unreversed(const char *ledger, int64 transfer, Oid monetary_oid)
{
	Datum		args[2] = {CStringGetTextDatum(ledger), Int64GetDatum(transfer)};
	bool		isnull;

	if (SPI_execute_plan(ledger_plan(&unreversed_plan, monetary_oid), args, NULL,
						 false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute_plan failed reading the reversals of transfer %lld",
			 (long long) transfer);
	return DatumGetMonetaryP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
										   &isnull));
}

/*
 * The original, locked as the engine will lock it, so that what is left is
 * computed after any reversal committed meanwhile (READ COMMITTED).
 */
static LedgerPlan lock_original_plan = {
	"SELECT FROM payments.transfers "
	" WHERE ledger OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2 "
	"   FOR NO KEY UPDATE",
	2, {TEXTOID, INT8OID}
};

void
api_refuse_fully_reversed(int64 transfer, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_REVERSAL_EXCEEDS),
			 errmsg("%s %lld is already reversed in full", what, (long long) transfer),
			 errledger("transfers", "reverses", "transfers_reversals_within_transfer")));
}

/* payments.reverse_transfer(transfer, amount, idempotency_key, metadata) */
OUTCOME_COUNTED_FUNCTION(ledger_reverse_transfer)
{
	TransferRow r = {
		.key = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2),
		.metadata = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3),
		.status = "posted",
		.amount = PG_ARGISNULL(1) ? NULL : PG_GETARG_MONETARY_P(1)
	};
	NamedTransfer original;
	int64		id;

	payments_require_sql_version();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("transfer must not be null")));
	r.reverses = PG_GETARG_INT64(0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	named_transfer(r.reverses, "transfer", &original);
	r.monetary_oid = original.amount_type;
	r.ledger = original.ledger;
	r.from_account = original.to_account;
	r.to_account = original.from_account;

	/* a replay is answered before what is left is computed (it may be nothing now) */
	r.amount_chosen = r.amount == NULL;
	if (r.amount_chosen)
		r.amount = &original.amount;	/* for the look-up, which ignores it */
	if (r.key && find_by_key(&r, &id))
	{
		SPI_finish();
		PG_RETURN_INT64(id);
	}
	if (r.amount_chosen)
	{
		Datum		args[2] = {CStringGetTextDatum(original.ledger), Int64GetDatum(r.reverses)};

		/* all that is left, with the original locked; the engine checks it again */
		if (SPI_execute_plan(ledger_plan(&lock_original_plan, InvalidOid), args, NULL,
							 false, 0) != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_plan failed locking transfer %lld", (long long) r.reverses);
		/* the same request may have committed while we waited */
		if (r.key && find_by_key(&r, &id))
		{
			SPI_finish();
			PG_RETURN_INT64(id);
		}
		r.amount = api_unreversed(original.ledger, r.reverses, r.monetary_oid);
		/* (a transfer that moved no money has nothing reversed: the engine says why) */
		if (r.amount->units <= 0)
			api_refuse_fully_reversed(r.reverses, "transfer");
	}
	id = insert_transfer(&r);
	SPI_finish();
	PG_RETURN_INT64(id);
}

/*
 * The reversals of what is left of each posted transfer of an entry, newest
 * first, as one entry of their own (entries_preassign).
 */
static LedgerPlan insert_entry_reversal_plan = {
	"INSERT INTO payments.transfers (ledger, from_account, to_account, amount, reverses) "
	"SELECT t.ledger, t.to_account, t.from_account, l.amount, t.id "
	"  FROM payments.transfers t "
	"  CROSS JOIN LATERAL (SELECT t.amount OPERATOR(@monetary@.-) "
	"                             coalesce(@monetary@.sum(r.amount), "
	"                                      t.amount OPERATOR(@monetary@.-) t.amount) AS amount "
	"                        FROM payments.transfers r "
	"                       WHERE r.ledger OPERATOR(pg_catalog.=) t.ledger "
	"                         AND r.reverses OPERATOR(pg_catalog.=) t.id) l "
	" WHERE t.entry_id OPERATOR(pg_catalog.=) $2 AND t.ledger OPERATOR(pg_catalog.=) $1 "
	"   AND t.status OPERATOR(pg_catalog.=) 'posted' "
	"   AND @monetary@.amount(l.amount) OPERATOR(pg_catalog.>) 0 "
	" ORDER BY t.id DESC "
	"RETURNING id",
	2, {TEXTOID, INT8OID}
};

/* The posted transfers of an entry, locked in id order, as the engine will lock them. */
static LedgerPlan lock_entry_originals_plan = {
	"SELECT FROM payments.transfers "
	" WHERE entry_id OPERATOR(pg_catalog.=) $2 AND ledger OPERATOR(pg_catalog.=) $1 "
	"   AND status OPERATOR(pg_catalog.=) 'posted' "
	" ORDER BY id FOR NO KEY UPDATE",
	2, {TEXTOID, INT8OID}
};

static LedgerPlan entry_ledger_plan = {
	"SELECT t.ledger, t.amount FROM payments.transfers t "
	" WHERE t.entry_id OPERATOR(pg_catalog.=) $1 LIMIT 1",
	1, {INT8OID}
};

/*
 * The entry posted with the key, if it is the reversal of entry: its
 * transfers' ids in order, or 23I01 if it is anything else.
 */
static LedgerPlan replay_entry_reversal_plan = {
	"SELECT e.id, (SELECT pg_catalog.array_agg(t.id ORDER BY t.id) FROM payments.transfers t "
	"               WHERE t.ledger OPERATOR(pg_catalog.=) e.ledger "
	"                 AND t.entry_id OPERATOR(pg_catalog.=) e.id), "
	"       coalesce(e.metadata OPERATOR(pg_catalog.=) $4, e.metadata IS NULL AND $4 IS NULL) "
	"       AND NOT EXISTS (SELECT FROM payments.transfers t "
	"                        WHERE t.ledger OPERATOR(pg_catalog.=) e.ledger "
	"                          AND t.entry_id OPERATOR(pg_catalog.=) e.id "
	"                          AND NOT EXISTS (SELECT FROM payments.transfers o "
	"                                           WHERE o.ledger OPERATOR(pg_catalog.=) t.ledger "
	"                                             AND o.id OPERATOR(pg_catalog.=) t.reverses "
	"                                             AND o.entry_id OPERATOR(pg_catalog.=) $3)) "
	"  FROM payments.entries e "
	" WHERE e.ledger OPERATOR(pg_catalog.=) $1 AND e.idempotency_key OPERATOR(pg_catalog.=) $2",
	4, {TEXTOID, TEXTOID, INT8OID, JSONBOID}
};

/* payments.reverse_entry(entry, idempotency_key, metadata) */
OUTCOME_COUNTED_FUNCTION(ledger_reverse_entry)
{
	int64		entry = PG_GETARG_INT64(0);
	Datum		key = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	Datum		metadata = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	MemoryContext caller_cxt = CurrentMemoryContext;
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	char	   *ledger;
	Oid			monetary_oid;
	int64		reversal;
	bool		isnull;
	volatile int ret = 0;
	Datum	   *ids;
	int			n;
	ArrayType  *result;

	payments_require_sql_version();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("entry must not be null")));
	if (entry == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("entry 0 cannot be reversed as a whole"),
				 errdetail("Entry 0 holds every transfer posted before release 1.1."),
				 errhint("Reverse its transfers one by one with payments.reverse_transfer().")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = Int64GetDatum(entry);
	if (SPI_execute_plan(ledger_plan(&entry_ledger_plan, InvalidOid), args, NULL, false, 1)
		!= SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed reading entry %lld", (long long) entry);
	if (SPI_processed == 0 ||
		!ledger_access_allowed(ledger = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
																		  SPI_tuptable->tupdesc,
																		  1, &isnull))))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("entry %lld does not exist", (long long) entry),
				 errledger("transfers", "entry_id", NULL)));
	monetary_oid = TupleDescAttr(SPI_tuptable->tupdesc, 1)->atttypid;
	reversal = ledger_nextval(SEQ_ENTRIES);
	if (!api_claim_entry(ledger, reversal, key, metadata))
	{
		/* the key is taken: this request again, or another */
		Datum		replay[4] = {CStringGetTextDatum(ledger), key, Int64GetDatum(entry),
		metadata};
		char		replay_nulls[4] = {' ', ' ', ' ', metadata ? ' ' : 'n'};
		Datum		result_ids;

		if (SPI_execute_plan(ledger_plan(&replay_entry_reversal_plan, InvalidOid),
							 replay, replay_nulls, false, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "entry with idempotency key \"%s\" conflicted but was not found",
				 TextDatumGetCString(key));
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3,
										&isnull)))
			api_key_reused(TextDatumGetCString(key), "entry",
						   DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													   SPI_tuptable->tupdesc, 1, &isnull)),
						   ledger);
		result_ids = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		if (isnull)
			elog(ERROR, "entry with idempotency key \"%s\" has no transfers",
				 TextDatumGetCString(key));
		MemoryContextSwitchTo(caller_cxt);
		result = DatumGetArrayTypePCopy(result_ids);
		SPI_finish();
		PG_RETURN_ARRAYTYPE_P(result);
	}

	args[0] = CStringGetTextDatum(ledger);
	args[1] = Int64GetDatum(entry);
	/* what is left is counted once the originals are ours */
	if (SPI_execute_plan(ledger_plan(&lock_entry_originals_plan, InvalidOid), args, nulls,
						 false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed locking the transfers of entry %lld", (long long) entry);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("entry %lld moved no money: it cannot be reversed", (long long) entry),
				 errdetail("It has no posted transfer; only posted transfers are reversed."),
				 errhint("Release a hold with payments.release()."),
				 errledger("transfers", "reverses", "transfers_reverses_posted")));
	entries_preassign(reversal, ledger);
	PG_TRY();
	{
		ret = SPI_execute_plan(ledger_plan(&insert_entry_reversal_plan, monetary_oid),
							   args, nulls, false, 0);
	}
	PG_FINALLY();
	{
		entries_preassign_clear();
	}
	PG_END_TRY();
	if (ret != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "inserting the reversal of entry %lld failed", (long long) entry);
	if (SPI_processed == 0)
		api_refuse_fully_reversed(entry, "entry");
	n = (int) SPI_processed;
	ids = SPI_palloc(n * sizeof(Datum));
	for (int i = 0; i < n; i++)
		ids[i] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
	MemoryContextSwitchTo(caller_cxt);
	result = construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	SPI_finish();
	PG_RETURN_ARRAYTYPE_P(result);
}
