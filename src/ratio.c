/*
 * ratio.c
 *	  Exact rational factors: the product of exchange rates and their
 *	  inverses, applied to an amount with one rounding.
 *
 * The common case (a factor whose numerator and denominator fit in 127 bits
 * once the power of ten is folded in) goes through amount_muldiv, in 128/256
 * bits.  Anything larger (long rates multiplied together, far-apart scales)
 * goes through the natural numbers below, fixed arrays of 32-bit limbs with
 * schoolbook multiplication and Knuth's division: slower, equally exact.
 */
#include "ratio.h"
#include "bignat.h"

#include <string.h>

/*
 * Bounds of ratio_apply's big path.  The amount is below 2^127 and num, den
 * below 2^254 (< 10^77).  With 10^E folded into the numerator, a result of
 * at least 10^E / 10^77 exceeds AMOUNT_MAX (< 10^38) once E > 115, so larger
 * E overflow outright.  With 10^-E folded into the denominator, any
 * denominator above twice the numerator (< 2^381 < 10^115) rounds the same
 * way (quotient 0, remainder below half), so -E is clamped to 120.  Numbers
 * stay below 2^767.
 */
#define APPLY_MAX_EXP10		115
#define APPLY_CLAMP_EXP10	120

static amount_uint
gcd_u128(amount_uint a, amount_uint b)
{
	while (b != 0)
	{
		amount_uint t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* The factor of one rate: rate itself, or 1 / rate; rate must be positive. */
void
ratio_from_decimal(Decimal rate, bool inverse, Ratio *result)
{
	amount_uint m = amount_abs(rate.mantissa);

	result->num[0] = result->den[0] = 0;
	result->num[1] = inverse ? 1 : m;
	result->den[1] = inverse ? m : 1;
	result->exp10 = inverse ? -rate.exponent : rate.exponent;
}

/*
 * result = a * b, cross-reduced so that it stays in lowest terms when a and
 * b are.  Each of a and b must be one rate's factor (parts below 2^127).
 */
void
ratio_mul(const Ratio *a, const Ratio *b, Ratio *result)
{
	amount_uint g1 = gcd_u128(a->num[1], b->den[1]);
	amount_uint g2 = gcd_u128(b->num[1], a->den[1]);
	BigNat		x,
				y,
				p;

	bignat_from_u128(&x, a->num[1] / g1);
	bignat_from_u128(&y, b->num[1] / g2);
	(void) bignat_mul(&p, &x, &y);
	(void) bignat_to_pair(&p, result->num);
	bignat_from_u128(&x, a->den[1] / g2);
	bignat_from_u128(&y, b->den[1] / g1);
	(void) bignat_mul(&p, &x, &y);
	(void) bignat_to_pair(&p, result->den);
	result->exp10 = a->exp10 + b->exp10;
}

/* The general case of ratio_apply, on natural numbers of any size. */
static AmountStatus
apply_big(const Ratio *r, amount_uint a, bool negative, long e,
		  RoundingMode mode, amount_int *result)
{
	BigNat		n,
				d,
				x;

	if (e > APPLY_MAX_EXP10)
		return AMOUNT_OVERFLOW;
	bignat_from_u128(&x, a);
	bignat_from_pair(&d, r->num);
	(void) bignat_mul(&n, &x, &d);
	bignat_from_pair(&d, r->den);
	if (e > 0)
		(void) bignat_mul_pow10(&n, (int) e);
	else if (e < 0)
		(void) bignat_mul_pow10(&d, (int) (-e < APPLY_CLAMP_EXP10 ? -e : APPLY_CLAMP_EXP10));

	return amount_divide_round(negative, &n, &d, mode, result);
}

/*
 * result = round(a * r * 10^shift10), rounded once by mode.  shift10 is the
 * target's scale minus the source's, so that counts of minor units convert
 * into counts of minor units.
 */
AmountStatus
ratio_apply(const Ratio *r, amount_int a, int shift10, RoundingMode mode,
			amount_int *result)
{
	long		e = (long) r->exp10 + shift10;

	if (a == 0)
	{
		*result = 0;
		return AMOUNT_OK;
	}

	/* the fast path: num and den fit in 127 bits with 10^e folded in */
	if (r->num[0] == 0 && r->den[0] == 0 &&
		r->num[1] <= (amount_uint) AMOUNT_MAX && r->den[1] <= (amount_uint) AMOUNT_MAX &&
		e >= -AMOUNT_MAX_DIGITS && e <= AMOUNT_MAX_DIGITS)
	{
		amount_int	num = (amount_int) r->num[1];
		amount_int	den = (amount_int) r->den[1];
		bool		overflow;

		if (e >= 0)
			overflow = __builtin_mul_overflow(num, amount_pow10((int) e), &num);
		else
			overflow = __builtin_mul_overflow(den, amount_pow10((int) -e), &den);
		if (!overflow)
			return amount_muldiv(a, num, den, mode, result);
	}
	return apply_big(r, amount_abs(a), a < 0, e, mode, result);
}

/*
 * The value of r rounded half-even to the given number of significant digits
 * (at most RATIO_DIGITS_MAX - 2): writes the digits, without trailing zeros,
 * and sets *exponent so that value = digits * 10^exponent.  The result is
 * exact whenever the exact value has no more digits than that.
 */
void
ratio_digits(const Ratio *r, int digits, char *buf, int *exponent)
{
	char		text[BIGNAT_DECIMAL_MAX];
	BigNat		num,
				den,
				n,
				d,
				q,
				rem,
				x;
	int			k;
	int			len;
	bool		away = false;

	bignat_from_pair(&num, r->num);
	bignat_from_pair(&den, r->den);
	/* num / den lies in (10^(dn - dd - 1), 10^(dn - dd + 1)) */
	k = digits - (bignat_to_decimal(&num, text) - bignat_to_decimal(&den, text));
	for (;;)
	{
		n = num;
		d = den;
		if (k > 0)
			(void) bignat_mul_pow10(&n, k);
		else if (k < 0)
			(void) bignat_mul_pow10(&d, -k);
		bignat_divmod(&n, &d, &q, &rem);
		/* q has digits or digits + 1 digits; in the second case scale down once */
		if (bignat_to_decimal(&q, text) <= digits)
			break;
		k--;
	}
	if (rem.len != 0)
	{
		bignat_sub(&x, &d, &rem);
		(void) amount_round_step(bignat_cmp(&rem, &x), (q.limb[0] & 1) != 0,
								 false, ROUND_HALF_EVEN, &away);
		if (away)
			(void) bignat_mul_small(&q, 1, 1);
	}
	len = bignat_to_decimal(&q, buf);
	*exponent = r->exp10 - k;
	while (len > 1 && buf[len - 1] == '0')
	{
		buf[--len] = '\0';
		(*exponent)++;
	}
}
