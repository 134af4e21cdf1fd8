/*
 * monetary_arith.c
 *	  Arithmetic and rounding on monetary values.
 *
 * The operators are exact: a result that is not a whole number of minor
 * units is an error.  Rounding is a business decision, so it happens only in
 * the functions that take a rounding_mode, once, at the end.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

#include "monetary.h"

PG_FUNCTION_INFO_V1(monetary_add);
PG_FUNCTION_INFO_V1(monetary_sub);
PG_FUNCTION_INFO_V1(monetary_neg);
PG_FUNCTION_INFO_V1(monetary_mul_numeric);
PG_FUNCTION_INFO_V1(numeric_mul_monetary);
PG_FUNCTION_INFO_V1(monetary_mul_int8);
PG_FUNCTION_INFO_V1(int8_mul_monetary);
PG_FUNCTION_INFO_V1(monetary_mul_int4);
PG_FUNCTION_INFO_V1(int4_mul_monetary);
PG_FUNCTION_INFO_V1(monetary_div_int4);
PG_FUNCTION_INFO_V1(monetary_mul_int2);
PG_FUNCTION_INFO_V1(int2_mul_monetary);
PG_FUNCTION_INFO_V1(monetary_div_int2);
PG_FUNCTION_INFO_V1(monetary_mul_text);
PG_FUNCTION_INFO_V1(text_mul_monetary);
PG_FUNCTION_INFO_V1(monetary_div_numeric);
PG_FUNCTION_INFO_V1(monetary_div_int8);
PG_FUNCTION_INFO_V1(monetary_div_monetary);
PG_FUNCTION_INFO_V1(monetary_mul_rounded);
PG_FUNCTION_INFO_V1(monetary_div_rounded);
PG_FUNCTION_INFO_V1(monetary_rescale);
PG_FUNCTION_INFO_V1(monetary_round);

Datum
monetary_add(PG_FUNCTION_ARGS)
{
	Monetary   *a = PG_GETARG_MONETARY_P(0);
	Monetary   *b = PG_GETARG_MONETARY_P(1);
	amount_int	r = 0;

	monetary_check_same_currency(a, b);
	amount_check(amount_add(a->units, b->units, &r), "sum", a->currency);
	PG_RETURN_MONETARY_P(monetary_make(r, a->currency));
}

Datum
monetary_sub(PG_FUNCTION_ARGS)
{
	Monetary   *a = PG_GETARG_MONETARY_P(0);
	Monetary   *b = PG_GETARG_MONETARY_P(1);
	amount_int	r = 0;

	monetary_check_same_currency(a, b);
	amount_check(amount_sub(a->units, b->units, &r), "difference", a->currency);
	PG_RETURN_MONETARY_P(monetary_make(r, a->currency));
}

/* The range is symmetric, so negation cannot overflow. */
Datum
monetary_neg(PG_FUNCTION_ARGS)
{
	Monetary   *a = PG_GETARG_MONETARY_P(0);

	PG_RETURN_MONETARY_P(monetary_make(-a->units, a->currency));
}

/*
 * Factors and divisors of more than 38 significant digits.  A numeric is an
 * exact decimal of at most 131,072 digits before the point and 16,383 after
 * it, and numeric's multiplication, truncated division and subtraction are
 * exact, so the exact result is computed with them and rounded once, as for
 * any other factor.  Magnitudes that decide the result alone are judged
 * first, so that numeric never builds a number much longer than the factor:
 * a product by |f| >= 10^38, or a quotient by |f| < 10^-38, is past 38
 * digits whatever the (non-zero) amount.  Every step is linear in the
 * factor's length (or its length times 20 words, for the division), a few
 * milliseconds at numeric's largest.
 */
static Datum
numeric_const(const char *s)
{
	return DirectFunctionCall3(numeric_in, CStringGetDatum(s),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

static int
numeric_abs_cmp(Datum a, const char *b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
											 DirectFunctionCall1(numeric_abs, a),
											 numeric_const(b)));
}

/* A whole numeric as a count of units, or AMOUNT_OVERFLOW past 38 digits. */
static AmountStatus
numeric_whole_units(Datum whole, amount_int *result)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, whole));

	return amount_parse(s, strlen(s), 0, ROUND_UNNECESSARY, result);
}

/* result = round(a * factor), for any finite factor. */
static AmountStatus
mul_numeric_exact(amount_int a, Datum factor, RoundingMode mode,
				  amount_int *result)
{
	Datum		product;
	char	   *s;

	if (a == 0)
	{
		*result = 0;
		return AMOUNT_OK;
	}
	if (numeric_abs_cmp(factor, "1e38") >= 0)
		return AMOUNT_OVERFLOW;
	product = DirectFunctionCall2(numeric_mul, units_to_numeric(a, 0), factor);
	/* amount_parse rounds every dropped digit in one step, by mode */
	s = DatumGetCString(DirectFunctionCall1(numeric_out, product));
	return amount_parse(s, strlen(s), 0, mode, result);
}

/* result = round(a / divisor), for any finite non-zero divisor. */
static AmountStatus
div_numeric_exact(amount_int a, Datum divisor, RoundingMode mode,
				  amount_int *result)
{
	Datum		dividend;
	Datum		quotient;
	Datum		remainder;
	amount_int	q = 0;
	amount_uint magnitude;
	bool		negative;
	bool		away = false;
	AmountStatus status;

	if (a == 0)
	{
		*result = 0;
		return AMOUNT_OK;
	}
	if (numeric_abs_cmp(divisor, "1e-38") < 0)
		return AMOUNT_OVERFLOW;
	negative = (a < 0) != (DatumGetInt32(DirectFunctionCall2(numeric_cmp, divisor,
															 numeric_const("0"))) < 0);
	/* a = q * divisor + r exactly, q truncated toward zero, |r| < |divisor| */
	dividend = units_to_numeric(a, 0);
	quotient = DirectFunctionCall2(numeric_div_trunc, dividend, divisor);
	remainder = DirectFunctionCall2(numeric_sub, dividend,
									DirectFunctionCall2(numeric_mul, quotient, divisor));
	status = numeric_whole_units(quotient, &q);
	if (status != AMOUNT_OK)
		return status;
	magnitude = amount_abs(q);
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, remainder, numeric_const("0"))) != 0)
	{
		/* how |r| compares with half of |divisor|: 2|r| against |divisor| */
		Datum		twice = DirectFunctionCall1(numeric_abs,
												DirectFunctionCall2(numeric_add, remainder,
																	remainder));
		int			half = DatumGetInt32(DirectFunctionCall2(numeric_cmp, twice,
															 DirectFunctionCall1(numeric_abs, divisor)));

		status = amount_round_step(half, (magnitude & 1) != 0, negative, mode, &away);
		if (status != AMOUNT_OK)
			return status;
	}
	if (away)
	{
		if (magnitude >= (amount_uint) AMOUNT_MAX)
			return AMOUNT_OVERFLOW;
		magnitude++;
	}
	*result = negative ? -(amount_int) magnitude : (amount_int) magnitude;
	return AMOUNT_OK;
}

static Monetary *
mul_numeric(Monetary *a, Datum factor, RoundingMode mode)
{
	Decimal		d;
	amount_int	r = 0;
	AmountStatus status;

	if (numeric_to_decimal(factor, &d))
		status = amount_mul_decimal(a->units, d, mode, &r);
	else
		status = mul_numeric_exact(a->units, factor, mode, &r);
	amount_check(status, "product", a->currency);
	return monetary_make(r, a->currency);
}

static Monetary *
div_numeric(Monetary *a, Datum divisor, RoundingMode mode)
{
	Decimal		d;
	amount_int	r = 0;
	AmountStatus status;

	if (numeric_to_decimal(divisor, &d))
		status = amount_div_decimal(a->units, d, mode, &r);
	else
		status = div_numeric_exact(a->units, divisor, mode, &r);
	amount_check(status, "quotient", a->currency);
	return monetary_make(r, a->currency);
}

Datum
monetary_mul_numeric(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(mul_numeric(PG_GETARG_MONETARY_P(0), PG_GETARG_DATUM(1),
									 ROUND_UNNECESSARY));
}

Datum
numeric_mul_monetary(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(mul_numeric(PG_GETARG_MONETARY_P(1), PG_GETARG_DATUM(0),
									 ROUND_UNNECESSARY));
}

static Monetary *
mul_int8(Monetary *a, int64 factor)
{
	amount_int	r = 0;

	amount_check(amount_mul_int(a->units, factor, &r), "product", a->currency);
	return monetary_make(r, a->currency);
}

Datum
monetary_mul_int8(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(mul_int8(PG_GETARG_MONETARY_P(0), PG_GETARG_INT64(1)));
}

Datum
int8_mul_monetary(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(mul_int8(PG_GETARG_MONETARY_P(1), PG_GETARG_INT64(0)));
}

/* integer forms, so that amount * 3 is not ambiguous between bigint and numeric */
Datum
monetary_mul_int4(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(mul_int8(PG_GETARG_MONETARY_P(0), PG_GETARG_INT32(1)));
}

Datum
int4_mul_monetary(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(mul_int8(PG_GETARG_MONETARY_P(1), PG_GETARG_INT32(0)));
}

/* smallint forms: drivers send small integers as smallint */
Datum
monetary_mul_int2(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(mul_int8(PG_GETARG_MONETARY_P(0), PG_GETARG_INT16(1)));
}

Datum
int2_mul_monetary(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(mul_int8(PG_GETARG_MONETARY_P(1), PG_GETARG_INT16(0)));
}

/*
 * text forms: a factor sent as an untyped parameter (amount * $1) resolves
 * here, among the numeric, bigint, integer and smallint forms, rather than
 * to none; the text is read as an exact decimal.
 */
static Datum
text_factor(text *t)
{
	return DirectFunctionCall3(numeric_in, CStringGetDatum(text_to_cstring(t)),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

Datum
monetary_mul_text(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(mul_numeric(PG_GETARG_MONETARY_P(0), text_factor(PG_GETARG_TEXT_PP(1)),
									 ROUND_UNNECESSARY));
}

Datum
text_mul_monetary(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(mul_numeric(PG_GETARG_MONETARY_P(1), text_factor(PG_GETARG_TEXT_PP(0)),
									 ROUND_UNNECESSARY));
}

static Monetary *
div_int8(Monetary *a, int64 divisor)
{
	amount_int	r = 0;

	amount_check(amount_div_int(a->units, divisor, ROUND_UNNECESSARY, &r),
				 "quotient", a->currency);
	return monetary_make(r, a->currency);
}

Datum
monetary_div_int4(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(div_int8(PG_GETARG_MONETARY_P(0), PG_GETARG_INT32(1)));
}

Datum
monetary_div_int2(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(div_int8(PG_GETARG_MONETARY_P(0), PG_GETARG_INT16(1)));
}

Datum
monetary_div_numeric(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(div_numeric(PG_GETARG_MONETARY_P(0), PG_GETARG_DATUM(1),
									 ROUND_UNNECESSARY));
}

Datum
monetary_div_int8(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(div_int8(PG_GETARG_MONETARY_P(0), PG_GETARG_INT64(1)));
}

/* A ratio of two amounts of one currency, to numeric's precision. */
Datum
monetary_div_monetary(PG_FUNCTION_ARGS)
{
	Monetary   *a = PG_GETARG_MONETARY_P(0);
	Monetary   *b = PG_GETARG_MONETARY_P(1);

	monetary_check_same_currency(a, b);
	return DirectFunctionCall2(numeric_div, units_to_numeric(a->units, 0),
							   units_to_numeric(b->units, 0));
}

/* mul(monetary, numeric, rounding_mode) */
Datum
monetary_mul_rounded(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(mul_numeric(PG_GETARG_MONETARY_P(0), PG_GETARG_DATUM(1),
									 rounding_mode_from_datum(PG_GETARG_DATUM(2))));
}

/* div(monetary, numeric, rounding_mode) */
Datum
monetary_div_rounded(PG_FUNCTION_ARGS)
{
	PG_RETURN_MONETARY_P(div_numeric(PG_GETARG_MONETARY_P(0), PG_GETARG_DATUM(1),
									 rounding_mode_from_datum(PG_GETARG_DATUM(2))));
}

/* rescale(monetary, scale, rounding_mode): the same code at another scale. */
Datum
monetary_rescale(PG_FUNCTION_ARGS)
{
	Monetary   *a = PG_GETARG_MONETARY_P(0);
	int32		scale = PG_GETARG_INT32(1);
	RoundingMode mode = rounding_mode_from_datum(PG_GETARG_DATUM(2));
	currency_code target;
	amount_int	r = 0;

	if (scale < 0 || scale > CURRENCY_MAX_SCALE)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("currency scale out of range: %d", scale),
				 errdetail("A scale is a number of decimal places from 0 to %d.",
						   CURRENCY_MAX_SCALE)));
	target = currency_with_scale(a->currency, scale);
	amount_check(amount_rescale(a->units, currency_scale(a->currency), scale, mode, &r),
				 "rescaled value", target);
	PG_RETURN_MONETARY_P(monetary_make(r, target));
}

/* round(monetary, increment, rounding_mode): to a cash increment. */
Datum
monetary_round(PG_FUNCTION_ARGS)
{
	Monetary   *a = PG_GETARG_MONETARY_P(0);
	Monetary   *increment = PG_GETARG_MONETARY_P(1);
	RoundingMode mode = rounding_mode_from_datum(PG_GETARG_DATUM(2));
	amount_int	r = 0;

	monetary_check_same_currency(a, increment);
	if (increment->units <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rounding increment must be positive: %s",
						monetary_to_cstring(increment))));
	amount_check(amount_round_to(a->units, increment->units, mode, &r),
				 "rounded value", a->currency);
	PG_RETURN_MONETARY_P(monetary_make(r, a->currency));
}
