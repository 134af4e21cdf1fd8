/*
 * allocation.c
 *	  Splitting an amount into parts that sum exactly to it.
 *
 * Each part first gets the floor of its exact share; the minor units left
 * over (fewer than the number of parts) go one each to the parts with the
 * largest remainders, ties to the earlier part.  Parts keep the sign of the
 * whole, so splitting a refund mirrors splitting the charge.
 *
 * The number of parts is capped (ALLOCATION_MAX_PARTS), the result array is
 * written in place, 24 bytes a part, and every loop checks for interrupts:
 * a call costs at most a few megabytes and milliseconds, and can be
 * cancelled.
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "monetary.h"

PG_FUNCTION_INFO_V1(monetary_allocate);
PG_FUNCTION_INFO_V1(monetary_split);

/*
 * The most parts split() makes and the most ratios allocate() takes.  Money
 * is split among payees, instalments or lines, not among millions: 100,000
 * parts is a 2.4 MB array built in a few milliseconds, while the 44 million
 * an array could hold took gigabytes and many seconds.  The README says so.
 */
#define ALLOCATION_MAX_PARTS	100000

typedef struct AllocationPart
{
	int			index;
	amount_uint share;
	amount_uint remainder;
} AllocationPart;

static int
by_remainder_then_index(const void *a, const void *b)
{
	const AllocationPart *pa = a;
	const AllocationPart *pb = b;

	if (pa->remainder != pb->remainder)
		return pa->remainder > pb->remainder ? -1 : 1;
	return pa->index - pb->index;
}

/*
 * A monetary[] of n elements, laid out as construct_array() would, whose
 * elements the caller writes through *items: no Datum or value per part.
 */
static ArrayType *
allocation_array(FunctionCallInfo fcinfo, int n, Monetary **items)
{
	Size		nbytes = ARR_OVERHEAD_NONULLS(1) + sizeof(Monetary) * (Size) n;
	ArrayType  *result;

	StaticAssertStmt(sizeof(Monetary) % MAXIMUM_ALIGNOF == 0,
					 "monetary elements need no padding");
	Assert(n >= 1 && n <= ALLOCATION_MAX_PARTS);
	result = (ArrayType *) palloc0(nbytes);
	SET_VARSIZE(result, nbytes);
	result->ndim = 1;
	result->dataoffset = 0;
	result->elemtype = get_fn_expr_argtype(fcinfo->flinfo, 0);
	ARR_DIMS(result)[0] = n;
	ARR_LBOUND(result)[0] = 1;
	*items = (Monetary *) ARR_DATA_PTR(result);
	return result;
}

/* The refusal of a number of parts (or ratios) outside 1..ALLOCATION_MAX_PARTS. */
static void
allocation_check_parts(int n, bool ratios)
{
	if (n >= 1 && n <= ALLOCATION_MAX_PARTS)
		return;
	if (ratios)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of ratios out of range: %d", n),
				 errdetail("An amount splits into 1 to %d parts.", ALLOCATION_MAX_PARTS)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("number of parts out of range: %d", n),
			 errdetail("An amount splits into 1 to %d parts.", ALLOCATION_MAX_PARTS)));
}

/* Builds the monetary[] result from the parts' shares, in input order. */
static ArrayType *
allocation_result(FunctionCallInfo fcinfo, const Monetary *whole,
				  AllocationPart *parts, int n)
{
	amount_uint total = amount_abs(whole->units);
	amount_uint given = 0;
	amount_uint left;
	Monetary   *items;
	ArrayType  *result = allocation_array(fcinfo, n, &items);

	for (int i = 0; i < n; i++)
		given += parts[i].share;
	left = total - given;
	Assert(left < (amount_uint) n);

	qsort(parts, n, sizeof(AllocationPart), by_remainder_then_index);
	for (int i = 0; i < n; i++)
	{
		amount_uint share = parts[i].share + ((amount_uint) i < left ? 1 : 0);
		Monetary   *item = &items[parts[i].index];

		CHECK_FOR_INTERRUPTS();
		item->units = whole->units < 0 ? -(amount_int) share : (amount_int) share;
		item->currency = whole->currency;
	}
	return result;
}

/*
 * The refusal of ratios whose integer weights do not fit in 38 digits,
 * among them any single ratio of more than 38 significant digits.
 */
static void ratios_too_wide(void) pg_attribute_noreturn();

static void
ratios_too_wide(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("ratios span more than %d digits", AMOUNT_MAX_DIGITS),
			 errdetail("Their sum, written at the scale of the most precise ratio, must fit in %d digits.",
					   AMOUNT_MAX_DIGITS)));
}

/* allocate(monetary, numeric[]): parts in proportion to ratios. */
Datum
monetary_allocate(PG_FUNCTION_ARGS)
{
	Monetary   *whole = PG_GETARG_MONETARY_P(0);
	ArrayType  *ratios = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *values;
	bool	   *nulls;
	int			n;
	Decimal    *decimals;
	int			min_exponent = INT_MAX;
	amount_uint weight_total = 0;
	amount_uint *weights;
	AllocationPart *parts;

	if (ARR_NDIM(ratios) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("ratios must be a one-dimensional array")));
	n = ArrayGetNItems(ARR_NDIM(ratios), ARR_DIMS(ratios));
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ratios must not be empty")));
	/* judged before any work, so that a huge array costs nothing */
	allocation_check_parts(n, true);
	deconstruct_array(ratios, NUMERICOID, -1, false, TYPALIGN_INT,
					  &values, &nulls, &n);

	decimals = palloc(sizeof(Decimal) * n);
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ratio %d is null", i + 1)));
		if (!numeric_to_decimal(values[i], &decimals[i]))
			ratios_too_wide();
		if (decimals[i].mantissa < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("ratio %d is negative", i + 1),
					 errdetail("Ratios are shares of the whole: zero or more.")));
		if (decimals[i].mantissa != 0 && decimals[i].exponent < min_exponent)
			min_exponent = decimals[i].exponent;
	}

	/* bring the ratios to one exponent, as integer weights */
	weights = palloc0(sizeof(amount_uint) * n);
	for (int i = 0; i < n; i++)
	{
		amount_int	w = 0;

		CHECK_FOR_INTERRUPTS();
		if (decimals[i].mantissa == 0)
			continue;
		if (amount_mul_decimal(decimals[i].mantissa,
							   (Decimal) {1, decimals[i].exponent - min_exponent},
							   ROUND_UNNECESSARY, &w) != AMOUNT_OK ||
			__builtin_add_overflow(weight_total, (amount_uint) w, &weight_total) ||
			weight_total > (amount_uint) AMOUNT_MAX)
			ratios_too_wide();
		weights[i] = (amount_uint) w;
	}
	if (weight_total == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ratios must not all be zero")));

	parts = palloc(sizeof(AllocationPart) * n);
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		parts[i].index = i;
		amount_muldiv_floor(amount_abs(whole->units), weights[i], weight_total,
							&parts[i].share, &parts[i].remainder);
	}
	PG_RETURN_ARRAYTYPE_P(allocation_result(fcinfo, whole, parts, n));
}

/* split(monetary, n): n parts as equal as minor units allow. */
Datum
monetary_split(PG_FUNCTION_ARGS)
{
	Monetary   *whole = PG_GETARG_MONETARY_P(0);
	int32		n = PG_GETARG_INT32(1);
	amount_uint share;
	amount_uint odd;
	Monetary   *items;
	ArrayType  *result;

	allocation_check_parts(n, false);

	/* the first (total mod n) parts get one more unit: ties go to the earlier part */
	share = amount_abs(whole->units) / (amount_uint) n;
	odd = amount_abs(whole->units) % (amount_uint) n;
	result = allocation_array(fcinfo, n, &items);
	for (int i = 0; i < n; i++)
	{
		amount_uint part = share + ((amount_uint) i < odd ? 1 : 0);

		CHECK_FOR_INTERRUPTS();
		items[i].units = whole->units < 0 ? -(amount_int) part : (amount_int) part;
		items[i].currency = whole->currency;
	}
	PG_RETURN_ARRAYTYPE_P(result);
}
