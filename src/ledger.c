/*
 * ledger.c
 *	  What the ledger's parts share: prepared statements, account rows and
 *	  their checks, the account-to-ledger cache, the ledger's sequences.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "ledger.h"
#include "ledger_access.h"

static bool ledger_writing = false;

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
		uses_monetary |= p->argtypes[i] == MONETARY_PARAM ||
			p->argtypes[i] == MONETARY_ARRAY_PARAM;
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
	{
		if (p->argtypes[i] == MONETARY_PARAM)
			types[i] = monetary_oid;
		else if (p->argtypes[i] == MONETARY_ARRAY_PARAM)
			types[i] = get_array_type(monetary_oid);
		else
			types[i] = p->argtypes[i];
	}
	/*
	 * A generic plan, always: the statements are simple look-ups by key, and
	 * a custom plan for each call would cost a planning each time.
	 */
	p->plan = SPI_prepare_cursor(uses_monetary ? with_monetary_schema(p->sql, monetary_oid) : p->sql,
								 p->nargs, types, CURSOR_OPT_GENERIC_PLAN);
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

int
errledger(const char *table, const char *column, const char *constraint)
{
	err_generic_string(PG_DIAG_SCHEMA_NAME, "payments");
	err_generic_string(PG_DIAG_TABLE_NAME, table);
	if (column != NULL)
		err_generic_string(PG_DIAG_COLUMN_NAME, column);
	if (constraint != NULL)
		err_generic_string(PG_DIAG_CONSTRAINT_NAME, constraint);
	return 0;
}

/* accounts ---------------------------------------------------------------- */

/*
 * A transfer's account that does not exist breaks the transfer's rule, as a
 * foreign key would (named on transfers); any other look-up names accounts.
 */
void
ledger_account_missing(int64 account, bool by_transfer)
{
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("account %lld does not exist", (long long) account),
			 by_transfer ? errledger("transfers", NULL, "transfers_account_exists") :
			 errledger("accounts", "id", NULL)));
	pg_unreachable();
}

static Monetary
read_monetary(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	if (isnull)
		elog(ERROR, "account volume column %d is null", col);
	return *DatumGetMonetaryP(d);
}

/* Reads an account row as ACCOUNT_COLUMNS lists its columns. */
void
ledger_read_account(HeapTuple tuple, TupleDesc desc, AccountRow *row)
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
	row->hot = DatumGetBool(SPI_getbinval(tuple, desc, 11, &isnull));
	row->stripes = DatumGetInt16(SPI_getbinval(tuple, desc, 12, &isnull));
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

void
ledger_check_account(const AccountRow *a, int64 account, int64 transfer,
					 const char *ledger, currency_code currency, bool moves_money)
{
	/* to a role confined to other ledgers, their accounts do not exist */
	if (a == NULL || !ledger_access_allowed(a->ledger))
		ledger_account_missing(account, true);
	if (strcmp(a->ledger, ledger) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("account %lld is in ledger \"%s\", not in the ledger \"%s\" of transfer %lld",
						(long long) a->id, a->ledger, ledger, (long long) transfer),
				 errdetail("A transfer moves money inside one ledger; between ledgers it takes two transfers through bridge accounts."),
				 errledger("transfers", "ledger", "transfers_accounts_in_ledger")));
	if (strcmp(a->status, "frozen") == 0 && moves_money)
		ereport(ERROR,
				(errcode(ERRCODE_ACCOUNT_FROZEN),
				 errmsg("account %lld is frozen", (long long) a->id),
				 errdetail("Transfer %lld cannot move money in or out of it until it is reopened.",
						   (long long) transfer),
				 errledger("accounts", "status", "accounts_open")));
	if (strcmp(a->status, "closed") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ACCOUNT_CLOSED),
				 errmsg("account %lld is %s", (long long) a->id, a->status),
				 errdetail("Transfer %lld cannot move money in or out of it: closing is final.",
						   (long long) transfer),
				 errledger("accounts", "status", "accounts_open")));
	if (a->currency != currency)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("currency mismatch: transfer %lld is in %s but account %lld holds %s",
						(long long) transfer, currency_to_cstring(currency),
						(long long) a->id, currency_to_cstring(a->currency)),
				 errledger("transfers", "amount", "transfers_currency_of_accounts")));
}

/*
 * Accounts' ledgers, kept per backend: an account's ledger never changes
 * (account_guard refuses it) and committed accounts are never deleted, so an
 * entry stays true.  An account of an aborted (sub)transaction is gone, so an
 * abort empties the cache; so do any relcache invalidation (DROP EXTENSION
 * among them) and reaching its bound, in entries or bytes.  Should an entry
 * still be stale (rows rewritten in replica mode), the engine, which updates
 * each account where its ledger is the transfer's, refuses the transfer: a
 * stale entry can refuse, never misfile.
 */
#define ACCOUNT_LEDGER_CACHE_MAX		65536
#define ACCOUNT_LEDGER_CACHE_MAX_BYTES	(8 * 1024 * 1024)

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
		/* blocks of at most 1 MB, so that the byte bound is one too */
		account_ledger_context = AllocSetContextCreate(TopMemoryContext,
													   "payments account ledgers",
													   ALLOCSET_DEFAULT_MINSIZE,
													   ALLOCSET_DEFAULT_INITSIZE,
													   1024 * 1024);
		CacheRegisterRelcacheCallback(account_ledger_cache_reset, (Datum) 0);
		RegisterXactCallback(account_ledger_xact_abort, NULL);
		RegisterSubXactCallback(account_ledger_subxact_abort, NULL);
	}
	if (account_ledger_cache != NULL &&
		(hash_get_num_entries(account_ledger_cache) >= ACCOUNT_LEDGER_CACHE_MAX ||
		 MemoryContextMemAllocated(account_ledger_context, true) >= ACCOUNT_LEDGER_CACHE_MAX_BYTES))
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

static LedgerPlan account_ledger_plan = {
	"SELECT ledger FROM payments.accounts WHERE id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

char *
ledger_account_ledger(int64 account)
{
	Datum		values[1] = {Int64GetDatum(account)};
	bool		isnull;
	const char *cached = account_ledger_cached(account);
	char	   *result;

	if (cached != NULL)
		result = pstrdup(cached);
	else
	{
		const char *ledger;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_plan(ledger_plan(&account_ledger_plan, InvalidOid),
							 values, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_plan failed reading account %lld", (long long) account);
		if (SPI_processed == 0)
			ledger_account_missing(account, true);
		ledger = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc, 1, &isnull));
		account_ledger_remember(account, ledger);
		/* in the caller's context, so that it outlives SPI_finish() */
		result = SPI_palloc(strlen(ledger) + 1);
		strcpy(result, ledger);
		SPI_finish();
	}
	/* to a role confined to other ledgers, it does not exist */
	if (!ledger_access_allowed(result))
		ledger_account_missing(account, true);
	return result;
}

/* columns and sequences ---------------------------------------------------- */

/*
 * Columns are found by name, since the tables may gain columns in upgrades,
 * and the answers kept per relation and name (the names are literals of the
 * callers) until the relcache says the relation changed.  The same cache
 * keeps the OIDs of the ledger's sequences.
 */
typedef struct ColumnCacheEntry
{
	Oid			relid;
	const char *name;
	int			attnum;
} ColumnCacheEntry;

static ColumnCacheEntry column_cache[128];
static int	column_cache_used = 0;
static Oid	relation_oids[REL_ROLE_LEDGERS + 1];
static bool relcache_callback_registered = false;

static void
column_cache_invalidate(Datum arg, Oid relid)
{
	column_cache_used = 0;
	memset(relation_oids, 0, sizeof(relation_oids));
}

static void
register_relcache_callback(void)
{
	if (!relcache_callback_registered)
	{
		CacheRegisterRelcacheCallback(column_cache_invalidate, (Datum) 0);
		relcache_callback_registered = true;
	}
}

int
ledger_column(Relation rel, const char *name)
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
	register_relcache_callback();
	if (column_cache_used < lengthof(column_cache))
	{
		column_cache[column_cache_used].relid = relid;
		column_cache[column_cache_used].name = name;
		column_cache[column_cache_used].attnum = attnum;
		column_cache_used++;
	}
	return attnum;
}

Oid
ledger_relation(LedgerRelation which)
{
	static const char *const names[] = {
		[SEQ_ACCOUNTS] = "accounts_id_seq",
		[SEQ_TRANSFERS] = "transfers_id_seq",
		[SEQ_POSTINGS] = "postings_id_seq",
		[SEQ_ENTRIES] = "entries_id_seq",
		[REL_ACCOUNTS] = "accounts",
		[REL_POSTINGS] = "postings",
		[REL_ACCOUNT_STRIPES] = "account_stripes",
		[REL_TRANSFERS] = "transfers",
		[REL_OPEN_HOLDS] = "open_holds",
		[REL_CLOSED_PERIODS] = "closed_periods",
		[REL_ENTRY_XACTS] = "entry_xacts",
		[REL_ROLE_LEDGERS] = "role_ledgers"
	};

	if (!OidIsValid(relation_oids[which]))
	{
		Oid			oid = get_relname_relid(names[which], get_namespace_oid("payments", false));

		if (!OidIsValid(oid))
			elog(ERROR, "relation payments.%s is missing", names[which]);
		register_relcache_callback();
		relation_oids[which] = oid;
	}
	return relation_oids[which];
}

int64
ledger_nextval(LedgerRelation seq)
{
	/* ids are the ledger's to draw, whoever inserts: no privilege check */
	return nextval_internal(ledger_relation(seq), false);
}
