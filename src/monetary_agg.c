/*
 * monetary_agg.c
 *	  sum, avg, min and max over monetary, with parallel combine.
 *
 * sum and avg share one transition state, kept in the aggregate context and
 * updated in place, as numeric's and int8's are.  The running total counts
 * its 128-bit wrap-arounds rather than failing on them, so that an overflow
 * is judged on the exact total, whatever order the rows arrive in.
 */
#include "postgres.h"

#include "libpq/pqformat.h"
#include "utils/builtins.h"

#include "bignat.h"
#include "monetary.h"

PG_FUNCTION_INFO_V1(monetary_sum_accum);
PG_FUNCTION_INFO_V1(monetary_sum_combine);
PG_FUNCTION_INFO_V1(monetary_sum_serialize);
PG_FUNCTION_INFO_V1(monetary_sum_deserialize);
PG_FUNCTION_INFO_V1(monetary_sum_final);
PG_FUNCTION_INFO_V1(monetary_avg_final);
PG_FUNCTION_INFO_V1(monetary_smaller);
PG_FUNCTION_INFO_V1(monetary_larger);

typedef struct MonetarySumState
{
	int128		sum;			/* the total modulo 2^128 */
	int64		wraps;			/* how many times it wrapped, signed */
	int64		count;
	currency_code currency;
} MonetarySumState;

static MonetarySumState *
sum_state_new(FunctionCallInfo fcinfo)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "monetary aggregate function called in non-aggregate context");
	return MemoryContextAllocZero(aggcontext, sizeof(MonetarySumState));
}

static inline void
sum_state_add(MonetarySumState *state, int128 units, int64 count,
			  int64 wraps, currency_code currency)
{
	int128		r;

	if (state->count == 0)
		state->currency = currency;
	else if (unlikely(state->currency != currency))
		currency_check_same(state->currency, currency);
	if (unlikely(__builtin_add_overflow(state->sum, units, &r)))
		state->wraps += units > 0 ? 1 : -1;
	state->sum = r;
	state->wraps += wraps;
	state->count += count;
}

Datum
monetary_sum_accum(PG_FUNCTION_ARGS)
{
	MonetarySumState *state = PG_ARGISNULL(0) ? sum_state_new(fcinfo) :
		(MonetarySumState *) PG_GETARG_POINTER(0);

	if (!PG_ARGISNULL(1))
	{
		Monetary   *m = PG_GETARG_MONETARY_P(1);

		sum_state_add(state, m->units, 1, 0, m->currency);
	}
	PG_RETURN_POINTER(state);
}

Datum
monetary_sum_combine(PG_FUNCTION_ARGS)
{
	MonetarySumState *state;
	MonetarySumState *other;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	other = (MonetarySumState *) PG_GETARG_POINTER(1);
	state = PG_ARGISNULL(0) ? sum_state_new(fcinfo) :
		(MonetarySumState *) PG_GETARG_POINTER(0);
	if (other->count > 0)
		sum_state_add(state, other->sum, other->count, other->wraps,
					  other->currency);
	PG_RETURN_POINTER(state);
}

Datum
monetary_sum_serialize(PG_FUNCTION_ARGS)
{
	MonetarySumState *state = (MonetarySumState *) PG_GETARG_POINTER(0);
	amount_uint bits = (amount_uint) state->sum;
	StringInfoData buf;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "monetary aggregate function called in non-aggregate context");
	pq_begintypsend(&buf);
	pq_sendint64(&buf, (int64) (uint64) (bits >> 64));
	pq_sendint64(&buf, (int64) (uint64) bits);
	pq_sendint64(&buf, state->wraps);
	pq_sendint64(&buf, state->count);
	pq_sendint64(&buf, (int64) state->currency);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
monetary_sum_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	MonetarySumState *state;
	StringInfoData buf;
	uint64		hi,
				lo;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "monetary aggregate function called in non-aggregate context");
	state = palloc0(sizeof(MonetarySumState));
#if PG_VERSION_NUM >= 170000
	initReadOnlyStringInfo(&buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
#else
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
#endif
	hi = (uint64) pq_getmsgint64(&buf);
	lo = (uint64) pq_getmsgint64(&buf);
	state->sum = (int128) (((amount_uint) hi << 64) | lo);
	state->wraps = pq_getmsgint64(&buf);
	state->count = pq_getmsgint64(&buf);
	state->currency = (currency_code) pq_getmsgint64(&buf);
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(state);
}

/* The exact total, or an error when it is out of range. */
static int128
sum_state_total(MonetarySumState *state)
{
	if (state->wraps != 0 || !amount_in_range(state->sum))
		amount_report(AMOUNT_OVERFLOW, "sum", state->currency);
	return state->sum;
}

Datum
monetary_sum_final(PG_FUNCTION_ARGS)
{
	MonetarySumState *state;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (MonetarySumState *) PG_GETARG_POINTER(0);
	if (state->count == 0)
		PG_RETURN_NULL();
	PG_RETURN_MONETARY_P(monetary_make(sum_state_total(state), state->currency));
}

/*
 * The mean, rounded half-even to a minor unit: a reporting figure.  It is
 * taken of the exact total, wrap-arounds included, so that it is right
 * whenever the amounts are (their mean is always in range).
 */
Datum
monetary_avg_final(PG_FUNCTION_ARGS)
{
	MonetarySumState *state;
	amount_uint total[2];		/* |wraps * 2^128 + sum|, high half first */
	bool		negative;
	uint64		wraps;
	BigNat		n,
				d;
	amount_int	r = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (MonetarySumState *) PG_GETARG_POINTER(0);
	if (state->count == 0)
		PG_RETURN_NULL();

	negative = state->wraps < 0 || (state->wraps == 0 && state->sum < 0);
	wraps = state->wraps < 0 ? (uint64) 0 - (uint64) state->wraps : (uint64) state->wraps;
	/* sum is the total modulo 2^128: borrow from the wraps where it points back */
	if (negative)
	{
		total[0] = wraps - (state->sum > 0 ? 1 : 0);
		total[1] = (amount_uint) 0 - (amount_uint) state->sum;
	}
	else
	{
		total[0] = wraps - (state->sum < 0 ? 1 : 0);
		total[1] = (amount_uint) state->sum;
	}
	bignat_from_pair(&n, total);
	bignat_from_u128(&d, (amount_uint) state->count);
	amount_check(amount_divide_round(negative, &n, &d, ROUND_HALF_EVEN, &r),
				 "average", state->currency);
	PG_RETURN_MONETARY_P(monetary_make(r, state->currency));
}

/* min and max: the transition and combine function, refusing mixed currencies. */
Datum
monetary_smaller(PG_FUNCTION_ARGS)
{
	Monetary   *a = PG_GETARG_MONETARY_P(0);
	Monetary   *b = PG_GETARG_MONETARY_P(1);

	monetary_check_same_currency(a, b);
	PG_RETURN_MONETARY_P(a->units <= b->units ? a : b);
}

Datum
monetary_larger(PG_FUNCTION_ARGS)
{
	Monetary   *a = PG_GETARG_MONETARY_P(0);
	Monetary   *b = PG_GETARG_MONETARY_P(1);

	monetary_check_same_currency(a, b);
	PG_RETURN_MONETARY_P(a->units >= b->units ? a : b);
}
