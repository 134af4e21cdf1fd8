/*
 * amount.c
 *	  Exact decimal arithmetic on 128-bit counts of minor units.
 *
 * Every operation that can be inexact is written as one division with
 * rounding: sign * round(n / d), where n and d are non-negative 256-bit
 * integers.  The product of two in-range amounts is below 10^76, which fits
 * in 256 bits, so no operation ever needs more; the rounding is then applied
 * once, at the end, from the exact quotient and remainder.
 */
#include "amount.h"

#include <string.h>

#define Max(a, b) ((a) > (b) ? (a) : (b))
#define Min(a, b) ((a) < (b) ? (a) : (b))

typedef struct u256
{
	amount_uint hi;
	amount_uint lo;
} u256;

#define U64_MASK	((amount_uint) UINT64_MAX)

static const u256 u256_zero = {0, 0};

static inline u256
u256_from(amount_uint v)
{
	u256		r = {0, v};

	return r;
}

static inline bool
u256_is_zero(u256 a)
{
	return a.hi == 0 && a.lo == 0;
}

static inline int
u256_cmp(u256 a, u256 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

static inline u256
u256_sub(u256 a, u256 b)
{
	u256		r;

	r.lo = a.lo - b.lo;
	r.hi = a.hi - b.hi - (a.lo < b.lo ? 1 : 0);
	return r;
}

/* Adds, returning false on a carry out of 256 bits. */
static inline bool
u256_add(u256 a, u256 b, u256 *r)
{
	amount_uint lo = a.lo + b.lo;
	amount_uint carry = lo < a.lo ? 1 : 0;
	amount_uint hi;

	if (__builtin_add_overflow(a.hi, b.hi, &hi) ||
		__builtin_add_overflow(hi, carry, &hi))
		return false;
	r->lo = lo;
	r->hi = hi;
	return true;
}

/* The full 256-bit product of two 128-bit numbers; it cannot overflow. */
static u256
u256_mul128(amount_uint a, amount_uint b)
{
	amount_uint a0 = a & U64_MASK,
				a1 = a >> 64,
				b0 = b & U64_MASK,
				b1 = b >> 64;
	amount_uint lo = a0 * b0;
	amount_uint m1 = a1 * b0;
	amount_uint m2 = a0 * b1;
	amount_uint hi = a1 * b1;
	amount_uint mid = m1 + m2;
	amount_uint mid_carry = mid < m1 ? 1 : 0;
	u256		r;

	r.lo = lo + (mid << 64);
	hi += (mid >> 64) + (mid_carry << 64) + (r.lo < lo ? 1 : 0);
	r.hi = hi;
	return r;
}

/* a * b, returning false when the product does not fit in 256 bits. */
static bool
u256_mul(u256 a, amount_uint b, u256 *r)
{
	u256		low = u256_mul128(a.lo, b);
	amount_uint high;

	if (__builtin_mul_overflow(a.hi, b, &high) ||
		__builtin_add_overflow(high, low.hi, &high))
		return false;
	r->hi = high;
	r->lo = low.lo;
	return true;
}

/* Quotient and remainder; d must be non-zero and below 2^255. */
static void
u256_divmod(u256 n, u256 d, u256 *q, u256 *rem)
{
	u256		quot = u256_zero;
	u256		r = u256_zero;

	if (n.hi == 0 && d.hi == 0)
	{
		q->hi = 0;
		q->lo = n.lo / d.lo;
		rem->hi = 0;
		rem->lo = n.lo % d.lo;
		return;
	}

	/* The slow path: binary long division, for products past 128 bits. */
	for (int i = 255; i >= 0; i--)
	{
		amount_uint bit = i >= 128 ? (n.hi >> (i - 128)) & 1 : (n.lo >> i) & 1;

		r.hi = (r.hi << 1) | (r.lo >> 127);
		r.lo = (r.lo << 1) | bit;
		if (u256_cmp(r, d) >= 0)
		{
			r = u256_sub(r, d);
			if (i >= 128)
				quot.hi |= (amount_uint) 1 << (i - 128);
			else
				quot.lo |= (amount_uint) 1 << i;
		}
	}
	*q = quot;
	*rem = r;
}

amount_int
amount_pow10(int n)
{
	amount_int	r = 1;

	for (int i = 0; i < n; i++)
		r *= 10;
	return r;
}

/*
 * 10^n for 0 <= n; past 10^76 it answers 2 * 10^76 instead.  Callers use it
 * only as a divisor of numerators below 10^76, where any divisor above twice
 * the numerator gives the same rounding, and this one stays below 2^255.
 */
static u256
u256_pow10_clamped(int n)
{
	u256		r = u256_from(1);

	if (n > 76)
	{
		(void) u256_mul(u256_pow10_clamped(76), 2, &r);
		return r;
	}
	for (int i = 0; i < n; i++)
		(void) u256_mul(r, 10, &r);
	return r;
}

bool
amount_in_range(amount_int v)
{
	return v <= AMOUNT_MAX && v >= -AMOUNT_MAX;
}

static inline amount_uint
amount_abs(amount_int v)
{
	return v < 0 ? (amount_uint) 0 - (amount_uint) v : (amount_uint) v;
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

/*
 * Whether a quotient whose remainder is rem (of divisor d) moves one step
 * away from zero under mode; negative tells the sign of the exact result.
 */
static AmountStatus
round_away(u256 q, u256 rem, u256 d, bool negative, RoundingMode mode,
		   bool *away)
{
	*away = false;
	if (u256_is_zero(rem))
		return AMOUNT_OK;

	/* compare rem with d - rem, that is 2 * rem with d, without overflow */
	return amount_round_step(u256_cmp(rem, u256_sub(d, rem)), (q.lo & 1) == 1,
							 negative, mode, away);
}

/* result = (negative ? -1 : 1) * round(n / d), checked against the range. */
static AmountStatus
divide_round(bool negative, u256 n, u256 d, RoundingMode mode,
			 amount_int *result)
{
	u256		q;
	u256		rem;
	bool		away;
	AmountStatus status;

	if (u256_is_zero(d))
		return AMOUNT_DIVIDE_BY_ZERO;
	u256_divmod(n, d, &q, &rem);
	status = round_away(q, rem, d, negative, mode, &away);
	if (status != AMOUNT_OK)
		return status;
	if (away && !u256_add(q, u256_from(1), &q))
		return AMOUNT_OVERFLOW;
	if (q.hi != 0 || q.lo > (amount_uint) AMOUNT_MAX)
		return AMOUNT_OVERFLOW;
	*result = negative ? -(amount_int) q.lo : (amount_int) q.lo;
	return AMOUNT_OK;
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
	if (b == 0)
		return AMOUNT_DIVIDE_BY_ZERO;
	return divide_round((a < 0) != (b < 0) && a != 0,
						u256_from(amount_abs(a)),
						u256_from(amount_abs((amount_int) b)), mode, result);
}

/* a * num / den, rounded once. */
AmountStatus
amount_muldiv(amount_int a, amount_int num, amount_int den, RoundingMode mode,
			  amount_int *result)
{
	bool		negative;

	if (den == 0)
		return AMOUNT_DIVIDE_BY_ZERO;
	negative = ((a < 0) != (num < 0)) != (den < 0);
	if (a == 0 || num == 0)
		negative = false;
	return divide_round(negative,
						u256_mul128(amount_abs(a), amount_abs(num)),
						u256_from(amount_abs(den)), mode, result);
}

/*
 * floor(a * num / den) and its remainder, for den > 0 and num <= den, where
 * the quotient cannot exceed a: what largest-remainder allocation needs.
 */
void
amount_muldiv_floor(amount_uint a, amount_uint num, amount_uint den,
					amount_uint *quotient, amount_uint *remainder)
{
	u256		q,
				rem;

	u256_divmod(u256_mul128(a, num), u256_from(den), &q, &rem);
	*quotient = q.lo;
	*remainder = rem.lo;
}

AmountStatus
amount_mul_decimal(amount_int a, Decimal b, RoundingMode mode,
				   amount_int *result)
{
	bool		negative = (a < 0) != (b.mantissa < 0);
	u256		n = u256_mul128(amount_abs(a), amount_abs(b.mantissa));

	if (u256_is_zero(n))
	{
		*result = 0;
		return AMOUNT_OK;
	}
	if (b.exponent >= 0)
	{
		for (int i = 0; i < b.exponent; i++)
			if (!u256_mul(n, 10, &n))
				return AMOUNT_OVERFLOW;
		return divide_round(negative, n, u256_from(1), mode, result);
	}
	return divide_round(negative, n, u256_pow10_clamped(-b.exponent), mode,
						result);
}

AmountStatus
amount_div_decimal(amount_int a, Decimal b, RoundingMode mode,
				   amount_int *result)
{
	bool		negative = (a < 0) != (b.mantissa < 0);
	u256		n = u256_from(amount_abs(a));
	u256		d = u256_from(amount_abs(b.mantissa));

	if (b.mantissa == 0)
		return AMOUNT_DIVIDE_BY_ZERO;
	if (a == 0)
	{
		*result = 0;
		return AMOUNT_OK;
	}
	if (b.exponent >= 0)
	{
		/* a divisor past 2 * 10^76 rounds like any other above 2 * |a| */
		u256		limit = u256_pow10_clamped(77);

		for (int i = 0; i < b.exponent && u256_cmp(d, limit) < 0; i++)
			(void) u256_mul(d, 10, &d);
		if (u256_cmp(d, limit) > 0)
			d = limit;
	}
	else
	{
		for (int i = 0; i < -b.exponent; i++)
			if (!u256_mul(n, 10, &n) || n.hi >> 127)
				return AMOUNT_OVERFLOW;
	}
	return divide_round(negative, n, d, mode, result);
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
	status = divide_round(a < 0, u256_from(amount_abs(a)),
						  u256_from((amount_uint) increment), mode, &steps);
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
 * Parses [+-]digits[.digits] into a count of units at the given scale.
 * Digits past the scale are rounded by mode in one step, however many there
 * are, so that a long numeric such as 0.4999...9 rounds from its exact value.
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
	u256		q,
				rem,
				d;
	AmountStatus status;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		negative = (s[i++] == '-');
	if (i >= len || !is_digit(s[i]))
		return AMOUNT_SYNTAX;

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
		if (i >= len || !is_digit(s[i]))
			return AMOUNT_SYNTAX;
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
	if (i != len)
		return AMOUNT_SYNTAX;

	/* pad to the scale; AMOUNT_MAX_DIGITS bounds the digits so far */
	for (; frac_digits < scale; frac_digits++)
	{
		if (units != 0 && ++significant > AMOUNT_MAX_DIGITS)
			return AMOUNT_OVERFLOW;
		units *= 10;
	}

	/* Round what was dropped: an exact quotient, and a remainder out of 10. */
	if (first_dropped > 0 || dropped_rest)
	{
		q = u256_from(units);
		d = u256_from(10);
		/* 5 with anything after it is more than half: use 6 for it */
		rem = u256_from((amount_uint) (first_dropped == 5 && dropped_rest ? 6 :
									   first_dropped == 0 ? 1 : first_dropped));
		status = round_away(q, rem, d, negative, mode, &away);
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

	if (i < len && (s[i] == '+' || s[i] == '-'))
		negative = (s[i++] == '-');
	start = i;
	if (i >= len || !is_digit(s[i]))
		return AMOUNT_SYNTAX;

	/* first pass: where the significant digits begin and end */
	for (; i < len; i++)
	{
		if (s[i] == '.')
		{
			if (int_digits != 0 || position == 0)
				return AMOUNT_SYNTAX;
			int_digits = position;
			if (i + 1 >= len)
				return AMOUNT_SYNTAX;
			continue;
		}
		if (!is_digit(s[i]))
			return AMOUNT_SYNTAX;
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
	/*
	 * Past 10^+-DECIMAL_MAX_EXPONENT every operation answers as it would at
	 * that bound (an overflow, or a quotient below one half), so the exponent
	 * is clamped there rather than refused.
	 */
	result->exponent = (int) Max(Min(int_digits - last_nonzero - 1, DECIMAL_MAX_EXPONENT),
								 -DECIMAL_MAX_EXPONENT);
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
