/*
 * conversion.c
 *	  Currency conversion through dated exchange rates: payments.rate() and
 *	  payments.convert().
 *
 * Rates.  payments.exchange_rates holds rates between codes: a row from EUR
 * to USD is the price of one EUR in USD from valid_from on, whatever scales
 * the amounts are written at, so it serves EUR/4 to USD/6 as well.  For a
 * pair A -> B at time t, the rate is the newest A -> B row with valid_from
 * <= t; else the inverse of the newest B -> A row; else, through the base
 * currency X (payments.base_currency), the A -> X rate (or inverse of X -> A)
 * times the X -> B rate (or inverse of B -> X).  Two scales of one code need
 * no rate: that is a rescale.
 *
 * Exactness.  Rates are never rounded.  The route's factor is one exact
 * fraction (ratio.c): r, 1 / r, or r1^(+-1) * r2^(+-1); convert() applies it
 * to the count of minor units with the scale difference folded in and rounds
 * once, by the caller's mode, to the target's minor unit.  The result is the
 * correctly rounded value of the exact product, so it does not depend on the
 * order of evaluation.  payments.rate() returns a numeric, and that of an
 * inverse or triangulated route may need rounding (1 / 3): it is rounded
 * half-even to 38 significant digits; convert() never goes through it.
 *
 * Caching.  A conversion needs the rates in force at a time for a few pairs.
 * Each call site (FmgrInfo) keeps a cache in fn_extra: per directed pair of
 * codes, the spans of time over which the pair's rate is known (a rate, or
 * known absence), found by binary search.  The first misses on a pair fetch
 * just the rate in force at the time asked for (one backward index scan, as
 * cheap as the plain SQL look-up, for the single conversions of an OLTP
 * path); after HISTORY_LOAD_AFTER misses the pair's whole history is read at
 * once, so a query over a million rows runs a handful of SPI queries.  Per
 * pair of currencies the last resolved route (its window of validity and its
 * factor) is kept too, so rows at nearby times skip the look-up entirely.
 *
 * The cache is valid for one snapshot: the SPI queries are read-only and run
 * under the caller's active snapshot, and the cache remembers what that
 * snapshot sees (transaction, subtransaction, xmin, xmax, in-progress xids,
 * command id).  A call under a snapshot that may see anything else (the next
 * statement of a PL/pgSQL loop, after another transaction commits or this one
 * writes) starts afresh.  So a rate inserted by this transaction is seen by
 * its next statement, and in READ COMMITTED a concurrently committed rate is
 * seen by the next statement, exactly as a plain SELECT would see them.
 *
 * The C functions run SQL through SPI with every name schema-qualified,
 * operators included, instead of carrying a SET search_path clause (which
 * would cost a GUC save and restore on every call, a million times in a bulk
 * query).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "conversion.h"
#include "monetary.h"
#include "payments.h"
#include "lifecycle.h"
#include "ratio.h"

PG_FUNCTION_INFO_V1(conversion_rate);
PG_FUNCTION_INFO_V1(conversion_convert);
PG_FUNCTION_INFO_V1(conversion_currency_code);

/* Point look-ups on one pair before its whole history is read instead. */
#define HISTORY_LOAD_AFTER	8

/* Routes remembered without a hash look-up: queries mixing a few currencies. */
#define ROUTE_SLOTS			16

/* Significant digits of payments.rate() for an inverse or triangulated route. */
#define RATE_DIGITS			38

/* A directed pair of codes (currencies at scale 0). */
typedef struct PairKey
{
	currency_code from;
	currency_code to;
} PairKey;

/* What payments.exchange_rates says about one pair over [lo, hi). */
typedef struct RateSpan
{
	TimestampTz lo;				/* inclusive; DT_NOBEGIN: since always */
	TimestampTz hi;				/* exclusive; unused when hi_open */
	bool		hi_open;		/* no later rate: the span never ends */
	bool		has_rate;		/* false: no rate in force over the span */
	Decimal		rate;
	const char *source;			/* the row's source, or NULL (in the cache) */
} RateSpan;

/* The known spans of one pair, sorted by lo and disjoint. */
typedef struct RateHistory
{
	PairKey		key;			/* hash key: first */
	bool		complete;		/* the spans cover all time */
	int			misses;			/* look-ups that needed a query */
	int			nspans;
	int			maxspans;
	RateSpan   *spans;
	TimestampTz *los;			/* spans[i].lo, dense, for the binary search */
} RateHistory;

typedef enum RouteKind
{
	ROUTE_DIRECT,
	ROUTE_INVERSE,
	ROUTE_TRIANGULATED
} RouteKind;

/* One rate used by a route, and whether it is divided by. */
typedef struct RouteLeg
{
	Decimal		rate;
	bool		inverse;
	TimestampTz valid_from;		/* the row's, for post_fx_transfer's record */
	const char *source;
} RouteLeg;

/* The histories a route may consult, in the order it consults them. */
typedef enum RouteHistory
{
	HIST_DIRECT,				/* A -> B */
	HIST_INVERSE,				/* B -> A */
	HIST_A_BASE,				/* A -> base */
	HIST_BASE_A,				/* base -> A */
	HIST_BASE_B,				/* base -> B */
	HIST_B_BASE,				/* B -> base */
	HIST_COUNT
} RouteHistory;

/* How one pair converts over [lo, hi): the last answer, for the next call. */
typedef struct Route
{
	PairKey		key;			/* hash key: first */
	RateHistory *hist[HIST_COUNT];	/* found on first use (entries never move) */
	bool		valid;
	TimestampTz lo;
	TimestampTz hi;
	bool		hi_open;
	RouteKind	kind;
	RouteLeg	legs[2];
	Ratio		ratio;			/* the exact factor of the route */
} Route;

struct ConversionCache
{
	MemoryContext cxt;			/* everything below; reset with the snapshot */
	bool		valid;

	/* what the snapshot the rows were read under can see */
	LocalTransactionId lxid;
	SubTransactionId subxid;
	TransactionId xmin;
	TransactionId xmax;
	CommandId	curcid;
	uint32		xcnt;
	int32		subxcnt;
	bool		suboverflowed;
	bool		taken_during_recovery;
	TransactionId *xip;
	TransactionId *subxip;

	currency_code base;			/* payments.base_currency when resolved */
	HTAB	   *histories;		/* PairKey -> RateHistory */
	HTAB	   *routes;			/* PairKey -> Route */
	Route	   *route_slots[ROUTE_SLOTS];	/* recent routes, by a hash of the pair */
};

/*
 * Prepared look-ups, kept for the backend's life and re-prepared if the table
 * is re-created (DROP/CREATE EXTENSION).  Their parameters are the codes as
 * text and a timestamptz, built-in types whose OIDs never change.
 */
static SPIPlanPtr span_plan = NULL;
static SPIPlanPtr next_plan = NULL;
static SPIPlanPtr history_plan = NULL;

#define RATES_PAIR_CONDITION \
	" WHERE payments.currency_code(from_currency) OPERATOR(pg_catalog.=) $1" \
	"   AND payments.currency_code(to_currency) OPERATOR(pg_catalog.=) $2"

/* The rate in force at $3, if any: one backward index scan. */
#define SPAN_QUERY \
	"SELECT rate, valid_from, source FROM payments.exchange_rates" \
	RATES_PAIR_CONDITION \
	"   AND valid_from OPERATOR(pg_catalog.<=) $3" \
	" ORDER BY valid_from DESC LIMIT 1"

/* When the next rate after $3 takes effect, if any (for error messages). */
#define NEXT_QUERY \
	"SELECT NULL::pg_catalog.numeric, valid_from FROM payments.exchange_rates" \
	RATES_PAIR_CONDITION \
	"   AND valid_from OPERATOR(pg_catalog.>) $3" \
	" ORDER BY valid_from LIMIT 1"

/* Every rate of the pair, oldest first. */
#define HISTORY_QUERY \
	"SELECT rate, valid_from, source FROM payments.exchange_rates" \
	RATES_PAIR_CONDITION \
	" ORDER BY valid_from"

static inline currency_code
code_key(currency_code c)
{
	return currency_with_scale(c, 0);
}

static char *
code_text(currency_code c)
{
	char	   *buf = palloc(CURRENCY_TEXT_MAX);

	currency_format_code(c, buf);
	return buf;
}

/* A time as the session writes timestamptz values (DateStyle, TimeZone). */
static char *
time_text(TimestampTz t)
{
	return DatumGetCString(DirectFunctionCall1(timestamptz_out,
											   TimestampTzGetDatum(t)));
}

Datum
numeric_from_digits(const char *digits, int exponent)
{
	StringInfoData buf;
	int			len = (int) strlen(digits);

	initStringInfo(&buf);
	if (exponent >= 0)
	{
		appendStringInfoString(&buf, digits);
		for (int i = 0; i < exponent; i++)
			appendStringInfoChar(&buf, '0');
	}
	else if (len > -exponent)
	{
		appendBinaryStringInfo(&buf, digits, len + exponent);
		appendStringInfoChar(&buf, '.');
		appendStringInfoString(&buf, digits + len + exponent);
	}
	else
	{
		appendStringInfoString(&buf, "0.");
		for (int i = 0; i < -exponent - len; i++)
			appendStringInfoChar(&buf, '0');
		appendStringInfoString(&buf, digits);
	}
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf.data),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

static Datum
decimal_to_numeric(Decimal d)
{
	char		digits[AMOUNT_TEXT_MAX];

	amount_format(d.mantissa, 0, digits);
	return numeric_from_digits(digits, d.exponent);
}

/*
 * A stored rate as an exact decimal.  The table's constraints make every row
 * valid; a row that is not (constraints dropped) is refused by name.
 */
static Decimal
rate_from_datum(Datum rate, const PairKey *key, TimestampTz valid_from)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, rate));
	Decimal		d = {0, 0};

	if (decimal_parse(s, strlen(s), &d) != AMOUNT_OK || d.mantissa <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid exchange rate from %s to %s at %s: %s",
						code_text(key->from), code_text(key->to),
						time_text(valid_from), s),
				 errdetail("A rate in payments.exchange_rates must be positive, with at most %d significant digits.",
						   AMOUNT_MAX_DIGITS),
				 errhint("Correct the row; the table's check constraints refuse such rates.")));
	pfree(s);
	return d;
}

/* A row's source, copied into the cache; NULL when it has none. */
static const char *
source_from_row(ConversionCache *cache, HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;
	Datum		source = SPI_getbinval(tuple, desc, 3, &isnull);

	return isnull ? NULL : MemoryContextStrdup(cache->cxt, TextDatumGetCString(source));
}

static SPIPlanPtr
prepare_plan(const char *query, int nargs)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TIMESTAMPTZOID};
	SPIPlanPtr	plan = SPI_prepare(query, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for exchange rates: %s",
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}

/*
 * Prepares the look-ups once per backend.  Their parameters are built-in
 * types and every name in them is qualified, so the plan cache re-analyses
 * them by itself when the extension is dropped and created again.
 */
static void
prepare_plans(void)
{
	if (history_plan != NULL)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	span_plan = prepare_plan(SPAN_QUERY, 3);
	next_plan = prepare_plan(NEXT_QUERY, 3);
	history_plan = prepare_plan(HISTORY_QUERY, 2);
	SPI_finish();
}

/* Whether the cache was filled under a snapshot that sees what snap sees. */
static bool
cache_matches(const ConversionCache *cache, Snapshot snap)
{
	if (!cache->valid ||
		cache->lxid != MyProc->lxid ||
		cache->subxid != GetCurrentSubTransactionId() ||
		cache->curcid != snap->curcid ||
		cache->xmin != snap->xmin ||
		cache->xmax != snap->xmax ||
		cache->xcnt != snap->xcnt ||
		cache->subxcnt != snap->subxcnt ||
		cache->suboverflowed != snap->suboverflowed ||
		cache->taken_during_recovery != snap->takenDuringRecovery ||
		cache->base != payments_base_currency())
		return false;
	if (snap->xcnt > 0 &&
		memcmp(cache->xip, snap->xip, snap->xcnt * sizeof(TransactionId)) != 0)
		return false;
	/* an overflowed snapshot resolves subtransactions through pg_subtrans */
	if (snap->subxcnt > 0 && (!snap->suboverflowed || snap->takenDuringRecovery) &&
		memcmp(cache->subxip, snap->subxip, snap->subxcnt * sizeof(TransactionId)) != 0)
		return false;
	return true;
}

/* Empties the cache and records the snapshot it will be filled under. */
static void
cache_reset(ConversionCache *cache, Snapshot snap)
{
	HASHCTL		ctl;

	MemoryContextReset(cache->cxt);
	cache->valid = false;

	cache->lxid = MyProc->lxid;
	cache->subxid = GetCurrentSubTransactionId();
	cache->curcid = snap->curcid;
	cache->xmin = snap->xmin;
	cache->xmax = snap->xmax;
	cache->xcnt = snap->xcnt;
	cache->subxcnt = snap->subxcnt;
	cache->suboverflowed = snap->suboverflowed;
	cache->taken_during_recovery = snap->takenDuringRecovery;
	cache->xip = NULL;
	cache->subxip = NULL;
	if (snap->xcnt > 0)
	{
		cache->xip = MemoryContextAlloc(cache->cxt, snap->xcnt * sizeof(TransactionId));
		memcpy(cache->xip, snap->xip, snap->xcnt * sizeof(TransactionId));
	}
	if (snap->subxcnt > 0 && (!snap->suboverflowed || snap->takenDuringRecovery))
	{
		cache->subxip = MemoryContextAlloc(cache->cxt, snap->subxcnt * sizeof(TransactionId));
		memcpy(cache->subxip, snap->subxip, snap->subxcnt * sizeof(TransactionId));
	}
	cache->base = payments_base_currency();

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(PairKey);
	ctl.entrysize = sizeof(RateHistory);
	ctl.hcxt = cache->cxt;
	cache->histories = hash_create("payments exchange rate histories", 16, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.entrysize = sizeof(Route);
	cache->routes = hash_create("payments conversion routes", 16, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	memset(cache->route_slots, 0, sizeof(cache->route_slots));

	prepare_plans();
	cache->valid = true;
}

/* The cache of a call site, valid for the active snapshot. */
ConversionCache *
conversion_cache(FmgrInfo *flinfo)
{
	ConversionCache *cache = (ConversionCache *) flinfo->fn_extra;
	Snapshot	snap;

	if (unlikely(cache == NULL))
	{
		/* once per call site: the rates table must be the one we know */
		payments_require_sql_version();
		cache = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(ConversionCache));
		cache->cxt = AllocSetContextCreate(flinfo->fn_mcxt,
										   "payments conversion cache",
										   ALLOCSET_SMALL_SIZES);
		flinfo->fn_extra = cache;
	}
	if (unlikely(!ActiveSnapshotSet()))
		elog(ERROR, "payments conversion called without an active snapshot");
	snap = GetActiveSnapshot();
	if (unlikely(!cache_matches(cache, snap)))
		cache_reset(cache, snap);
	return cache;
}

/* The index of the span holding t, or -1. */
static int
span_search(const RateHistory *h, TimestampTz t)
{
	const TimestampTz *base = h->los;
	int			n = h->nspans;
	const RateSpan *span;

	if (n == 0 || t < base[0])
		return -1;
	/* the last span with lo <= t, without branches the CPU could mispredict */
	while (n > 1)
	{
		int			half = n / 2;

		base = base[half] <= t ? base + half : base;
		n -= half;
	}
	span = &h->spans[base - h->los];
	if (span->hi_open || t < span->hi)
		return (int) (base - h->los);
	return -1;
}

/*
 * Adds a span to the history.  A span fetched by point look-up ends at the
 * time asked, not at the next rate; another look-up in the same cell yields a
 * span with the same lo, which extends the first instead.
 */
static void
history_add_span(ConversionCache *cache, RateHistory *h, const RateSpan *span)
{
	int			pos = h->nspans;

	/* history_load appends in order; point look-ups insert among a few */
	if (pos > 0 && span->lo <= h->los[pos - 1])
	{
		pos = 0;
		while (pos < h->nspans && h->los[pos] < span->lo)
			pos++;
	}
	if (pos < h->nspans && h->los[pos] == span->lo)
	{
		RateSpan   *same = &h->spans[pos];

		if (span->hi_open)
			same->hi_open = true;
		else if (!same->hi_open && span->hi > same->hi)
			same->hi = span->hi;
		return;
	}
	if (h->nspans == h->maxspans)
	{
		h->maxspans = h->maxspans == 0 ? 4 : h->maxspans * 2;
		if (h->spans == NULL)
		{
			h->spans = MemoryContextAlloc(cache->cxt, h->maxspans * sizeof(RateSpan));
			h->los = MemoryContextAlloc(cache->cxt, h->maxspans * sizeof(TimestampTz));
		}
		else
		{
			h->spans = repalloc(h->spans, h->maxspans * sizeof(RateSpan));
			h->los = repalloc(h->los, h->maxspans * sizeof(TimestampTz));
		}
	}
	memmove(&h->spans[pos + 1], &h->spans[pos], (h->nspans - pos) * sizeof(RateSpan));
	memmove(&h->los[pos + 1], &h->los[pos], (h->nspans - pos) * sizeof(TimestampTz));
	h->spans[pos] = *span;
	h->los[pos] = span->lo;
	h->nspans++;
}

static void
execute_lookup(SPIPlanPtr plan, const PairKey *key, TimestampTz t)
{
	Datum		values[3];
	int			rc;

	values[0] = CStringGetTextDatum(code_text(key->from));
	values[1] = CStringGetTextDatum(code_text(key->to));
	values[2] = TimestampTzGetDatum(t);
	rc = SPI_execute_plan(plan, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed for exchange rates: %s",
			 SPI_result_code_string(rc));
}

/*
 * Fetches the rate of the pair in force at t: one indexed query.  The span
 * known from it runs from that rate's valid_from to t included (a later rate
 * may start right after t; only the whole history tells).
 */
static void
history_fetch_span(ConversionCache *cache, RateHistory *h, TimestampTz t)
{
	RateSpan	span = {DT_NOBEGIN, 0, true, false, {0, 0}, NULL};

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	execute_lookup(span_plan, &h->key, t);
	if (SPI_processed > 0)
	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		rate = SPI_getbinval(tuple, desc, 1, &isnull);

		span.lo = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 2, &isnull));
		span.has_rate = true;
		span.rate = rate_from_datum(rate, &h->key, span.lo);
		span.source = source_from_row(cache, tuple, desc);
	}
	SPI_finish();
	/* nothing comes after +infinity */
	if (t != DT_NOEND)
	{
		span.hi = t + 1;
		span.hi_open = false;
	}
	history_add_span(cache, h, &span);
}

/* When the pair's first rate after t takes effect; false if there is none. */
static bool
history_next(currency_code from, currency_code to, TimestampTz t,
			 TimestampTz *next)
{
	PairKey		key = {from, to};
	bool		found = false;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	execute_lookup(next_plan, &key, t);
	if (SPI_processed > 0)
	{
		bool		isnull;

		*next = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 2, &isnull));
		found = true;
	}
	SPI_finish();
	return found;
}

/* Reads the whole history of the pair: one query, then binary searches. */
static void
history_load(ConversionCache *cache, RateHistory *h)
{
	RateSpan	span = {DT_NOBEGIN, 0, true, false, {0, 0}, NULL};

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	execute_lookup(history_plan, &h->key, 0);

	h->nspans = 0;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		rate = SPI_getbinval(tuple, desc, 1, &isnull);
		TimestampTz valid_from = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 2, &isnull));

		/* close the previous span (or the rateless one before the first) */
		span.hi = valid_from;
		span.hi_open = false;
		if (span.lo < span.hi)
			history_add_span(cache, h, &span);
		span.lo = valid_from;
		span.hi_open = true;
		span.has_rate = true;
		span.rate = rate_from_datum(rate, &h->key, valid_from);
		span.source = source_from_row(cache, tuple, desc);
	}
	history_add_span(cache, h, &span);
	SPI_finish();
	h->complete = true;
}

/*
 * What the table says about from -> to at t.  *slot remembers the pair's
 * history for the route that asks, so that it is looked up once.
 */
static RateSpan
history_span(ConversionCache *cache, RateHistory **slot, currency_code from,
			 currency_code to, TimestampTz t)
{
	RateHistory *h = *slot;
	int			i;

	if (unlikely(h == NULL))
	{
		PairKey		key = {from, to};
		bool		found;

		h = (RateHistory *) hash_search(cache->histories, &key, HASH_ENTER, &found);
		if (!found)
		{
			h->complete = false;
			h->misses = 0;
			h->nspans = h->maxspans = 0;
			h->spans = NULL;
			h->los = NULL;
		}
		*slot = h;
	}
	i = span_search(h, t);
	if (i < 0)
	{
		if (++h->misses > HISTORY_LOAD_AFTER)
			history_load(cache, h);
		else
			history_fetch_span(cache, h, t);
		i = span_search(h, t);
		if (i < 0)
			elog(ERROR, "exchange rate span not found after loading");
	}
	return h->spans[i];
}

/* The window over which a route holds: the intersection of its spans. */
static void
window_narrow(Route *route, const RateSpan *span)
{
	if (span->lo > route->lo)
		route->lo = span->lo;
	if (!span->hi_open && (route->hi_open || span->hi < route->hi))
	{
		route->hi = span->hi;
		route->hi_open = false;
	}
}

/*
 * The rate of from -> to at t, direct (history forward) or inverse (history
 * backward); false if neither exists.
 */
static bool
leg_resolve(ConversionCache *cache, Route *route, RouteHistory forward,
			RouteHistory backward, currency_code from, currency_code to,
			TimestampTz t, RouteLeg *leg)
{
	RateSpan	span = history_span(cache, &route->hist[forward], from, to, t);

	window_narrow(route, &span);
	if (!span.has_rate)
	{
		span = history_span(cache, &route->hist[backward], to, from, t);
		window_narrow(route, &span);
		if (!span.has_rate)
			return false;
		leg->inverse = true;
	}
	else
		leg->inverse = false;
	leg->rate = span.rate;
	leg->valid_from = span.lo;
	leg->source = span.source;
	return true;
}

/*
 * No route at t.  unlinked is the code that has no rate with the base
 * currency, or 0 when triangulation did not apply (one side is the base).
 */
static void pg_attribute_noreturn()
report_missing(const PairKey *key, TimestampTz t, currency_code base,
			   currency_code unlinked)
{
	char	   *a = code_text(key->from);
	char	   *b = code_text(key->to);
	StringInfoData detail;
	TimestampTz next_direct = 0,
				next_inverse = 0;
	bool		has_direct = history_next(key->from, key->to, t, &next_direct);
	bool		has_inverse = history_next(key->to, key->from, t, &next_inverse);

	initStringInfo(&detail);
	if (unlinked == 0)
		appendStringInfo(&detail,
						 "Neither %s to %s nor %s to %s has a rate valid at that time.",
						 a, b, b, a);
	else
		appendStringInfo(&detail,
						 "Neither %s to %s nor %s to %s has a rate valid at that time, and neither has %s to or from the base currency %s.",
						 a, b, b, a, code_text(unlinked), code_text(base));
	if (has_direct || has_inverse)
		appendStringInfo(&detail, " The next rate between %s and %s is valid from %s.",
						 a, b,
						 time_text(!has_inverse ? next_direct :
								   !has_direct ? next_inverse :
								   Min(next_direct, next_inverse)));

	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("no exchange rate from %s to %s at %s", a, b, time_text(t)),
			 errdetail_internal("%s", detail.data),
			 errhint("Record one with payments.set_rate('%s', '%s', rate, valid_from).",
					 a, b)));
}

/*
 * Finds how route's pair converts at t: direct, else inverse, else through
 * the base currency; and the window over which that answer holds.
 */
static void
route_resolve(ConversionCache *cache, Route *route, TimestampTz t)
{
	currency_code a = route->key.from;
	currency_code b = route->key.to;
	currency_code base = code_key(cache->base);
	RateSpan	direct,
				inverse;

	route->valid = false;
	route->lo = DT_NOBEGIN;
	route->hi_open = true;

	direct = history_span(cache, &route->hist[HIST_DIRECT], a, b, t);
	window_narrow(route, &direct);
	if (direct.has_rate)
	{
		route->kind = ROUTE_DIRECT;
		route->legs[0].rate = direct.rate;
		route->legs[0].inverse = false;
		route->legs[0].valid_from = direct.lo;
		route->legs[0].source = direct.source;
		ratio_from_decimal(direct.rate, false, &route->ratio);
		route->valid = true;
		return;
	}

	inverse = history_span(cache, &route->hist[HIST_INVERSE], b, a, t);
	window_narrow(route, &inverse);
	if (inverse.has_rate)
	{
		route->kind = ROUTE_INVERSE;
		route->legs[0].rate = inverse.rate;
		route->legs[0].inverse = true;
		route->legs[0].valid_from = inverse.lo;
		route->legs[0].source = inverse.source;
		ratio_from_decimal(inverse.rate, true, &route->ratio);
		route->valid = true;
		return;
	}

	if (a == base || b == base)
		report_missing(&route->key, t, base, 0);
	if (!leg_resolve(cache, route, HIST_A_BASE, HIST_BASE_A, a, base, t, &route->legs[0]))
		report_missing(&route->key, t, base, a);
	if (!leg_resolve(cache, route, HIST_BASE_B, HIST_B_BASE, base, b, t, &route->legs[1]))
		report_missing(&route->key, t, base, b);
	{
		Ratio		r1,
					r2;

		ratio_from_decimal(route->legs[0].rate, route->legs[0].inverse, &r1);
		ratio_from_decimal(route->legs[1].rate, route->legs[1].inverse, &r2);
		ratio_mul(&r1, &r2, &route->ratio);
	}
	route->kind = ROUTE_TRIANGULATED;
	route->valid = true;
}

/* The route of from -> to (different codes), resolved at t. */
static const Route *
route_at(ConversionCache *cache, currency_code from, currency_code to,
		 TimestampTz t)
{
	Route	  **slot;
	Route	   *route;

	from = code_key(from);
	to = code_key(to);
	slot = &cache->route_slots[((from ^ (to * UINT64CONST(0x9E3779B97F4A7C15))) >> 40) % ROUTE_SLOTS];
	route = *slot;
	if (unlikely(route == NULL || route->key.from != from || route->key.to != to))
	{
		PairKey		key = {from, to};
		bool		found;

		route = (Route *) hash_search(cache->routes, &key, HASH_ENTER, &found);
		if (!found)
		{
			memset(route->hist, 0, sizeof(route->hist));
			route->valid = false;
		}
		*slot = route;
	}
	if (!route->valid || t < route->lo || (!route->hi_open && t >= route->hi))
		route_resolve(cache, route, t);
	return route;
}

void
conversion_route(ConversionCache *cache, currency_code from, currency_code to,
				 TimestampTz at, ConversionRoute *result)
{
	const Route *route;
	currency_code base;

	memset(result, 0, sizeof(*result));
	if (currency_same_code(from, to))
	{
		Decimal		one = {1, 0};

		ratio_from_decimal(one, false, &result->factor);
		return;
	}
	route = route_at(cache, from, to, at);
	result->factor = route->ratio;
	result->nlegs = route->kind == ROUTE_TRIANGULATED ? 2 : 1;
	base = code_key(cache->base);
	for (int i = 0; i < result->nlegs; i++)
	{
		ConversionLeg *leg = &result->legs[i];
		/* the pair the leg converts: a -> b, a -> base, or base -> b */
		currency_code lf = i == 0 ? route->key.from : base;
		currency_code lt = i == 0 && result->nlegs == 2 ? base : route->key.to;

		leg->from = route->legs[i].inverse ? lt : lf;
		leg->to = route->legs[i].inverse ? lf : lt;
		leg->rate = route->legs[i].rate;
		leg->inverse = route->legs[i].inverse;
		leg->valid_from = route->legs[i].valid_from;
		leg->source = route->legs[i].source;
	}
}

/* A conversion that cannot be done: status is not AMOUNT_OK. */
static void pg_attribute_noreturn()
report_conversion(AmountStatus status, amount_int units, currency_code from,
				  currency_code to)
{
	Monetary	m = {units, from};

	if (status == AMOUNT_INEXACT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("converting %s to %s needs rounding",
						monetary_to_cstring(&m), currency_to_cstring(to)),
				 errdetail("The exact result is not a whole number of minor units of %s, and rounding mode unnecessary refuses to round.",
						   currency_to_cstring(to)),
				 errhint("Give payments.convert() another rounding mode, such as half_even.")));
	if (status == AMOUNT_OVERFLOW)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("converting %s to %s is out of range",
						monetary_to_cstring(&m), currency_to_cstring(to)),
				 errdetail("An amount holds at most %d digits of minor units.",
						   AMOUNT_MAX_DIGITS)));
	amount_report(status, "converted value", to);
}

amount_int
conversion_convert_units(ConversionCache *cache, amount_int units,
						 currency_code from, currency_code to, TimestampTz at,
						 RoundingMode mode)
{
	int			shift = currency_scale(to) - currency_scale(from);
	amount_int	result = 0;
	AmountStatus status;

	if (currency_same_code(from, to))
	{
		/* two scales of one code: a rescale, no rate */
		Decimal		one = {1, shift};

		status = amount_mul_decimal(units, one, mode, &result);
	}
	else
		status = ratio_apply(&route_at(cache, from, to, at)->ratio, units,
							 shift, mode, &result);
	if (unlikely(status != AMOUNT_OK))
		report_conversion(status, units, from, to);
	return result;
}

/*
 * payments.convert(monetary, to currency, at timestamptz, mode rounding_mode)
 * The exact product, rounded once to the target's minor unit.
 */
Datum
conversion_convert(PG_FUNCTION_ARGS)
{
	Monetary   *m = PG_GETARG_MONETARY_P(0);
	currency_code to = PG_GETARG_CURRENCY(1);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);
	RoundingMode mode = rounding_mode_from_datum(PG_GETARG_DATUM(3));
	amount_int	units;

	if (currency_same_code(m->currency, to))
		units = conversion_convert_units(NULL, m->units, m->currency, to, at, mode);
	else
		units = conversion_convert_units(conversion_cache(fcinfo->flinfo), m->units,
										 m->currency, to, at, mode);
	PG_RETURN_MONETARY_P(monetary_make(units, to));
}

/*
 * payments.rate(from currency, to currency, at timestamptz) -> numeric
 * A stored rate's exact value; a derived one rounded half-even to 38
 * significant digits (exact when it has no more).
 */
Datum
conversion_rate(PG_FUNCTION_ARGS)
{
	currency_code from = PG_GETARG_CURRENCY(0);
	currency_code to = PG_GETARG_CURRENCY(1);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);
	const Route *route;
	char		digits[RATIO_DIGITS_MAX];
	int			exponent;

	if (currency_same_code(from, to))
	{
		Decimal		one = {1, 0};

		return decimal_to_numeric(one);
	}
	route = route_at(conversion_cache(fcinfo->flinfo), from, to, at);
	if (route->kind == ROUTE_DIRECT)
		return decimal_to_numeric(route->legs[0].rate);
	ratio_digits(&route->ratio, RATE_DIGITS, digits, &exponent);
	return numeric_from_digits(digits, exponent);
}

/* payments.currency_code(currency) -> text: the code without its scale. */
Datum
conversion_currency_code(PG_FUNCTION_ARGS)
{
	char		buf[CURRENCY_TEXT_MAX];

	currency_format_code(PG_GETARG_CURRENCY(0), buf);
	PG_RETURN_TEXT_P(cstring_to_text(buf));
}
