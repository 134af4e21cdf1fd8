/*
 * allocation.c
 *	  Splitting an amount into parts that sum exactly to it.
 *
 * Each part first gets the floor of its exact share; the minor units left
 * over (fewer than the number of parts) go one each to the parts with the
 * largest remainders, ties to the earlier part.  Parts keep the sign of the
 * whole, so splitting a refund mirrors splitting the charge.
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "monetary.h"

PG_FUNCTION_INFO_V1(monetary_allocate);
PG_FUNCTION_INFO_V1(monetary_split);

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

/* Builds the monetary[] result from the parts' shares, in input order. */
static ArrayType *
allocation_result(FunctionCallInfo fcinfo, const Monetary *whole,
				  AllocationPart *parts, int n)
{
	amount_uint total = amount_abs(whole->units);
	amount_uint given = 0;
	amount_uint left;
	Datum	   *elems = palloc(sizeof(Datum) * n);
	Oid			monetary_oid = get_fn_expr_argtype(fcinfo->flinfo, 0);

	for (int i = 0; i < n; i++)
		given += parts[i].share;
	left = total - given;
	Assert(left < (amount_uint) n);

	qsort(parts, n, sizeof(AllocationPart), by_remainder_then_index);
	for (int i = 0; i < n; i++)
	{
		amount_uint share = parts[i].share + ((amount_uint) i < left ? 1 : 0);
		amount_int	units = whole->units < 0 ? -(amount_int) share : (amount_int) share;

		elems[parts[i].index] = MonetaryPGetDatum(monetary_make(units, whole->currency));
	}
	return construct_array(elems, n, monetary_oid, sizeof(Monetary), false,
						   TYPALIGN_DOUBLE);
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
	deconstruct_array(ratios, NUMERICOID, -1, false, TYPALIGN_INT,
					  &values, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ratios must not be empty")));

	decimals = palloc(sizeof(Decimal) * n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ratio %d is null", i + 1)));
		decimals[i] = numeric_to_decimal(values[i]);
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

		if (decimals[i].mantissa == 0)
			continue;
		if (amount_mul_decimal(decimals[i].mantissa,
							   (Decimal) {1, decimals[i].exponent - min_exponent},
							   ROUND_UNNECESSARY, &w) != AMOUNT_OK ||
			__builtin_add_overflow(weight_total, (amount_uint) w, &weight_total) ||
			weight_total > (amount_uint) AMOUNT_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("ratios span more than %d digits", AMOUNT_MAX_DIGITS),
					 errdetail("Their sum, written at the scale of the most precise ratio, must fit in %d digits.",
							   AMOUNT_MAX_DIGITS)));
		weights[i] = (amount_uint) w;
	}
	if (weight_total == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ratios must not all be zero")));

	parts = palloc(sizeof(AllocationPart) * n);
	for (int i = 0; i < n; i++)
	{
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
	int32		max_parts = (int32) ((MaxAllocSize - ARR_OVERHEAD_NONULLS(1)) / sizeof(Monetary));
	amount_uint share;
	amount_uint odd;
	Datum	   *elems;

	if (n < 1 || n > max_parts)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of parts out of range: %d", n),
				 errdetail("An amount splits into 1 to %d parts.", max_parts)));

	/* the first (total mod n) parts get one more unit: ties go to the earlier part */
	share = amount_abs(whole->units) / (amount_uint) n;
	odd = amount_abs(whole->units) % (amount_uint) n;
	elems = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		amount_uint part = share + ((amount_uint) i < odd ? 1 : 0);

		elems[i] = MonetaryPGetDatum(monetary_make(whole->units < 0 ? -(amount_int) part :
												   (amount_int) part,
												   whole->currency));
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, get_fn_expr_argtype(fcinfo->flinfo, 0),
										  sizeof(Monetary), false, TYPALIGN_DOUBLE));
}
