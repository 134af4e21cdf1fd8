/*
 * amount.c
 *	  Exact decimal arithmetic on 128-bit counts of minor units.
 *
 * Every operation that can be inexact is written as one division with
 * rounding: sign * round(n / d), where n and d are natural numbers, in 128
 * bits when they fit and in bignat.c's otherwise; the rounding is applied
 * once, at the end, from the exact quotient and remainder.
 */
#include "amount.h"
#include "bignat.h"

#include <string.h>

#define Min(a, b) ((a) < (b) ? (a) : (b))

amount_int
amount_pow10(int n)
{
	amount_int	r = 1;

	for (int i = 0; i < n; i++)
		r *= 10;
	return r;
}

bool
amount_in_range(amount_int v)
{
	return v <= AMOUNT_MAX && v >= -AMOUNT_MAX;
}

/*
 * Whether a truncated quotient moves one step away from zero under mode, when
 * the division left a non-zero remainder: half is the sign of (remainder -
 * half the divisor), odd whether the truncated quotient is odd, negative the
 * sign of the exact result.  Other exact code (ratio.c) rounds through it, so
 * that every mode has one definition.
 */
AmountStatus
amount_round_step(int half, bool odd, bool negative, RoundingMode mode,
				  bool *away)
{
	*away = false;
	switch (mode)
	{
		case ROUND_UNNECESSARY:
			return AMOUNT_INEXACT;
		case ROUND_DOWN:
			break;
		case ROUND_UP:
			*away = true;
			break;
		case ROUND_CEILING:
			*away = !negative;
			break;
		case ROUND_FLOOR:
			*away = negative;
			break;
		case ROUND_HALF_UP:
			*away = half >= 0;
			break;
		case ROUND_HALF_DOWN:
			*away = half > 0;
			break;
		case ROUND_HALF_EVEN:
			*away = half > 0 || (half == 0 && odd);
			break;
	}
	return AMOUNT_OK;
}

/* The signed result of a rounded quotient q, checked against the range. */
static AmountStatus
quotient_result(amount_uint q, bool away, bool negative, amount_int *result)
{
	if (q > (amount_uint) AMOUNT_MAX || (away && q == (amount_uint) AMOUNT_MAX))
		return AMOUNT_OVERFLOW;
	if (away)
		q++;
	*result = negative ? -(amount_int) q : (amount_int) q;
	return AMOUNT_OK;
}

/* result = (negative ? -1 : 1) * round(n / d), in 128 bits. */
static AmountStatus
divide_round_128(bool negative, amount_uint n, amount_uint d, RoundingMode mode,
				 amount_int *result)
{
	amount_uint q,
				r;
	bool		away = false;

	if (d == 0)
		return AMOUNT_DIVIDE_BY_ZERO;
	q = n / d;
	r = n % d;
	if (r != 0)
	{
		/* compare r with d - r, that is 2 * r with d, without overflow */
		AmountStatus status = amount_round_step(r < d - r ? -1 : r > d - r ? 1 : 0,
												(q & 1) != 0, negative, mode, &away);

		if (status != AMOUNT_OK)
			return status;
	}
	return quotient_result(q, away, negative, result);
}

/*
 * result = (negative ? -1 : 1) * round(n / d), checked against the range:
 * the one division with rounding behind every inexact operation, here and in
 * ratio.c.  Numbers that fit take the 128-bit path.
 */
AmountStatus
amount_divide_round(bool negative, const BigNat *n, const BigNat *d,
					RoundingMode mode, amount_int *result)
{
	amount_uint n128,
				d128,
				v;
	BigNat		q,
				r,
				t;
	bool		away = false;

	if (bignat_is_zero(d))
		return AMOUNT_DIVIDE_BY_ZERO;
	if (bignat_to_u128(n, &n128) && bignat_to_u128(d, &d128))
		return divide_round_128(negative, n128, d128, mode, result);

	bignat_divmod(n, d, &q, &r);
	if (!bignat_is_zero(&r))
	{
		AmountStatus status;

		bignat_sub(&t, d, &r);
		status = amount_round_step(bignat_cmp(&r, &t),
								   q.len > 0 && (q.limb[0] & 1) != 0,
								   negative, mode, &away);
		if (status != AMOUNT_OK)
			return status;
	}
	if (!bignat_to_u128(&q, &v))
		return AMOUNT_OVERFLOW;
	return quotient_result(v, away, negative, result);
}

AmountStatus
amount_add(amount_int a, amount_int b, amount_int *result)
{
	amount_int	r;

	if (__builtin_add_overflow(a, b, &r) || !amount_in_range(r))
		return AMOUNT_OVERFLOW;
	*result = r;
	return AMOUNT_OK;
}

AmountStatus
amount_sub(amount_int a, amount_int b, amount_int *result)
{
	amount_int	r;

	if (__builtin_sub_overflow(a, b, &r) || !amount_in_range(r))
		return AMOUNT_OVERFLOW;
	*result = r;
	return AMOUNT_OK;
}

AmountStatus
amount_mul_int(amount_int a, int64_t b, amount_int *result)
{
	amount_int	r;

	if (__builtin_mul_overflow(a, (amount_int) b, &r) || !amount_in_range(r))
		return AMOUNT_OVERFLOW;
	*result = r;
	return AMOUNT_OK;
}

AmountStatus
amount_div_int(amount_int a, int64_t b, RoundingMode mode, amount_int *result)
{
	return divide_round_128((a < 0) != (b < 0) && a != 0, amount_abs(a),
							amount_abs((amount_int) b), mode, result);
}

/* a * num / den, rounded once. */
AmountStatus
amount_muldiv(amount_int a, amount_int num, amount_int den, RoundingMode mode,
			  amount_int *result)
{
	bool		negative = ((a < 0) != (num < 0)) != (den < 0);
	amount_uint product;
	BigNat		x,
				y,
				n,
				d;

	if (a == 0 || num == 0)
		negative = false;
	if (!__builtin_mul_overflow(amount_abs(a), amount_abs(num), &product))
		return divide_round_128(negative, product, amount_abs(den), mode, result);
	bignat_from_u128(&x, amount_abs(a));
	bignat_from_u128(&y, amount_abs(num));
	(void) bignat_mul(&n, &x, &y);
	bignat_from_u128(&d, amount_abs(den));
	return amount_divide_round(negative, &n, &d, mode, result);
}

/*
 * floor(a * num / den) and its remainder, for den > 0 and num <= den, where
 * the quotient cannot exceed a: what largest-remainder allocation needs.
 */
void
amount_muldiv_floor(amount_uint a, amount_uint num, amount_uint den,
					amount_uint *quotient, amount_uint *remainder)
{
	BigNat		x,
				y,
				n,
				d,
				q,
				r;

	bignat_from_u128(&x, a);
	bignat_from_u128(&y, num);
	(void) bignat_mul(&n, &x, &y);
	bignat_from_u128(&d, den);
	bignat_divmod(&n, &d, &q, &r);
	(void) bignat_to_u128(&q, quotient);
	(void) bignat_to_u128(&r, remainder);
}

/*
 * Powers of ten past these change no result, so they are clamped: a product
 * |a| * |mantissa| is below 10^76, so any divisor from 10^77 on rounds it as
 * a quotient below one half; a dividend |a| * 10^78 over a mantissa below
 * 10^38 is past the range whatever follows.
 */
#define DIVISOR_CLAMP_EXP10		77
#define DIVIDEND_CLAMP_EXP10	78

AmountStatus
amount_mul_decimal(amount_int a, Decimal b, RoundingMode mode,
				   amount_int *result)
{
	bool		negative = (a < 0) != (b.mantissa < 0);
	BigNat		x,
				y,
				n,
				d;

	amount_uint product;

	if (a == 0 || b.mantissa == 0)
	{
		*result = 0;
		return AMOUNT_OK;
	}
	/* the usual factor (a rescale, a rate, a percentage) fits in 128 bits */
	if (b.exponent <= 0 && b.exponent >= -AMOUNT_MAX_DIGITS &&
		!__builtin_mul_overflow(amount_abs(a), amount_abs(b.mantissa), &product))
		return divide_round_128(negative, product,
								(amount_uint) amount_pow10(-b.exponent), mode, result);
	bignat_from_u128(&x, amount_abs(a));
	bignat_from_u128(&y, amount_abs(b.mantissa));
	(void) bignat_mul(&n, &x, &y);
	bignat_from_u128(&d, 1);
	if (b.exponent >= 0)
	{
		if (!bignat_mul_pow10(&n, Min(b.exponent, DIVIDEND_CLAMP_EXP10)))
			return AMOUNT_OVERFLOW;
	}
	else
		(void) bignat_mul_pow10(&d, Min(-b.exponent, DIVISOR_CLAMP_EXP10));
	return amount_divide_round(negative, &n, &d, mode, result);
}

AmountStatus
amount_div_decimal(amount_int a, Decimal b, RoundingMode mode,
				   amount_int *result)
{
	bool		negative = (a < 0) != (b.mantissa < 0);
	BigNat		n,
				d;

	if (b.mantissa == 0)
		return AMOUNT_DIVIDE_BY_ZERO;
	if (a == 0)
	{
		*result = 0;
		return AMOUNT_OK;
	}
	bignat_from_u128(&n, amount_abs(a));
	bignat_from_u128(&d, amount_abs(b.mantissa));
	if (b.exponent >= 0)
		(void) bignat_mul_pow10(&d, Min(b.exponent, DIVISOR_CLAMP_EXP10));
	else
		(void) bignat_mul_pow10(&n, Min(-b.exponent, DIVIDEND_CLAMP_EXP10));
	return amount_divide_round(negative, &n, &d, mode, result);
}

AmountStatus
amount_rescale(amount_int a, int from_scale, int to_scale, RoundingMode mode,
			   amount_int *result)
{
	Decimal		factor = {1, to_scale - from_scale};

	return amount_mul_decimal(a, factor, mode, result);
}

/* Rounds a to a whole multiple of increment (> 0), as cash rounding does. */
AmountStatus
amount_round_to(amount_int a, amount_int increment, RoundingMode mode,
				amount_int *result)
{
	amount_int	steps;
	AmountStatus status;

	if (increment <= 0)
		return AMOUNT_DIVIDE_BY_ZERO;
	status = divide_round_128(a < 0, amount_abs(a), (amount_uint) increment, mode,
							  &steps);
	if (status != AMOUNT_OK)
		return status;
	if (__builtin_mul_overflow(steps, increment, result) ||
		!amount_in_range(*result))
		return AMOUNT_OVERFLOW;
	return AMOUNT_OK;
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Whether s[0..len) is [+-]digits[.digits], whatever its size: the parsers
 * judge the syntax of the whole text before its range, so that a malformed
 * number is never reported as out of range (or as too precise).
 */
bool
amount_syntax_ok(const char *s, size_t len)
{
	size_t		i = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i >= len || !is_digit(s[i]))
		return false;
	while (i < len && is_digit(s[i]))
		i++;
	if (i < len && s[i] == '.')
	{
		i++;
		if (i >= len || !is_digit(s[i]))
			return false;
		while (i < len && is_digit(s[i]))
			i++;
	}
	return i == len;
}

/*
 * Parses [+-]digits[.digits] into a count of units at the given scale.
 * Digits past the scale are rounded by mode in one step, however many there
 * are, so that a long numeric such as 0.4999...9 rounds from its exact value.
 * Malformed text is AMOUNT_SYNTAX however many digits it has: syntax is
 * judged first.
 */
AmountStatus
amount_parse(const char *s, size_t len, int scale, RoundingMode mode,
			 amount_int *result)
{
	size_t		i = 0;
	bool		negative = false;
	amount_uint units = 0;
	int			frac_digits = 0;
	int			significant = 0;
	int			first_dropped = -1;		/* first digit past the scale */
	bool		dropped_rest = false;	/* a non-zero digit after that one */
	bool		away;
	AmountStatus status;

	if (!amount_syntax_ok(s, len))
		return AMOUNT_SYNTAX;
	if (s[i] == '+' || s[i] == '-')
		negative = (s[i++] == '-');

	for (; i < len && is_digit(s[i]); i++)
	{
		if (units == 0 && s[i] == '0')
			continue;			/* leading zeros count for nothing */
		if (++significant > AMOUNT_MAX_DIGITS)
			return AMOUNT_OVERFLOW;
		units = units * 10 + (amount_uint) (s[i] - '0');
	}
	if (i < len && s[i] == '.')
	{
		i++;
		for (; i < len && is_digit(s[i]); i++)
		{
			if (frac_digits < scale)
			{
				frac_digits++;
				if (units != 0 || s[i] != '0')
				{
					if (++significant > AMOUNT_MAX_DIGITS)
						return AMOUNT_OVERFLOW;
				}
				units = units * 10 + (amount_uint) (s[i] - '0');
			}
			else if (first_dropped < 0)
				first_dropped = s[i] - '0';
			else if (s[i] != '0')
				dropped_rest = true;
		}
	}

	/* pad to the scale; AMOUNT_MAX_DIGITS bounds the digits so far */
	for (; frac_digits < scale; frac_digits++)
	{
		if (units != 0 && ++significant > AMOUNT_MAX_DIGITS)
			return AMOUNT_OVERFLOW;
		units *= 10;
	}

	/* Round what was dropped, against one half of a unit. */
	if (first_dropped > 0 || dropped_rest)
	{
		int			half = first_dropped > 5 || (first_dropped == 5 && dropped_rest) ? 1 :
			first_dropped == 5 ? 0 : -1;

		status = amount_round_step(half, (units & 1) != 0, negative, mode, &away);
		if (status != AMOUNT_OK)
			return status;
		if (away)
			units += 1;
	}
	if (units > (amount_uint) AMOUNT_MAX)
		return AMOUNT_OVERFLOW;
	*result = negative ? -(amount_int) units : (amount_int) units;
	return AMOUNT_OK;
}

/* Parses [+-]digits[.digits] into mantissa and exponent, trailing zeros dropped. */
AmountStatus
decimal_parse(const char *s, size_t len, Decimal *result)
{
	size_t		i = 0;
	bool		negative = false;
	size_t		start;
	long		int_digits = 0;
	long		position = 0;	/* digits seen, integer and fraction */
	long		first_nonzero = -1;
	long		last_nonzero = -1;
	amount_int	mantissa = 0;

	/* the syntax first: a malformed number is never "too precise" */
	if (!amount_syntax_ok(s, len))
		return AMOUNT_SYNTAX;
	if (s[i] == '+' || s[i] == '-')
		negative = (s[i++] == '-');
	start = i;

	/* first pass: where the significant digits begin and end */
	for (; i < len; i++)
	{
		if (s[i] == '.')
		{
			int_digits = position;
			continue;
		}
		if (s[i] != '0')
		{
			if (first_nonzero < 0)
				first_nonzero = position;
			last_nonzero = position;
		}
		position++;
	}
	if (int_digits == 0)
		int_digits = position;
	if (first_nonzero < 0)
	{
		result->mantissa = 0;
		result->exponent = 0;
		return AMOUNT_OK;
	}
	if (last_nonzero - first_nonzero + 1 > AMOUNT_MAX_DIGITS)
		return AMOUNT_TOO_PRECISE;

	/* second pass: the significant digits themselves */
	position = 0;
	for (i = start; i < len; i++)
	{
		if (s[i] == '.')
			continue;
		if (position >= first_nonzero && position <= last_nonzero)
			mantissa = mantissa * 10 + (s[i] - '0');
		position++;
	}
	result->mantissa = negative ? -mantissa : mantissa;
	/* exact: the operations clamp the powers of ten they build themselves */
	result->exponent = (int) (int_digits - last_nonzero - 1);
	return AMOUNT_OK;
}

/* Writes units at scale as [-]digits[.digits]; returns the length. */
int
amount_format(amount_int units, int scale, char *buf)
{
	char		digits[AMOUNT_TEXT_MAX];
	int			n = 0;
	int			len = 0;
	amount_uint v = amount_abs(units);

	do
	{
		digits[n++] = (char) ('0' + (int) (v % 10));
		v /= 10;
	} while (v != 0);
	while (n <= scale)
		digits[n++] = '0';

	if (units < 0)
		buf[len++] = '-';
	while (n > 0)
	{
		if (n == scale)
			buf[len++] = '.';
		buf[len++] = digits[--n];
	}
	buf[len] = '\0';
	return len;
}
