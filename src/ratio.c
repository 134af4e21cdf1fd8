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

#include <string.h>

/* 1280 bits: more than the largest product any caller forms (see below). */
#define BIG_LIMBS	40

/* A natural number; limb[0] is the least significant, len has no leading zeros. */
typedef struct BigNat
{
	int			len;
	uint32_t	limb[BIG_LIMBS];
} BigNat;

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

static inline void
big_trim(BigNat *a)
{
	while (a->len > 0 && a->limb[a->len - 1] == 0)
		a->len--;
}

static void
big_from_u128(BigNat *r, amount_uint v)
{
	r->len = 0;
	while (v != 0)
	{
		r->limb[r->len++] = (uint32_t) v;
		v >>= 32;
	}
}

/* From {high, low} 128-bit halves. */
static void
big_from_pair(BigNat *r, const amount_uint v[2])
{
	for (int i = 0; i < 4; i++)
	{
		r->limb[i] = (uint32_t) (v[1] >> (32 * i));
		r->limb[4 + i] = (uint32_t) (v[0] >> (32 * i));
	}
	r->len = 8;
	big_trim(r);
}

static bool
big_to_u128(const BigNat *a, amount_uint *v)
{
	if (a->len > 4)
		return false;
	*v = 0;
	for (int i = a->len - 1; i >= 0; i--)
		*v = (*v << 32) | a->limb[i];
	return true;
}

/* To {high, low} halves; false if it needs more than 256 bits. */
static bool
big_to_pair(const BigNat *a, amount_uint v[2])
{
	if (a->len > 8)
		return false;
	v[0] = v[1] = 0;
	for (int i = a->len - 1; i >= 0; i--)
	{
		if (i >= 4)
			v[0] = (v[0] << 32) | a->limb[i];
		else
			v[1] = (v[1] << 32) | a->limb[i];
	}
	return true;
}

static int
big_cmp(const BigNat *a, const BigNat *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	for (int i = a->len - 1; i >= 0; i--)
		if (a->limb[i] != b->limb[i])
			return a->limb[i] < b->limb[i] ? -1 : 1;
	return 0;
}

/* r = a - b, for a >= b; r may be a. */
static void
big_sub(BigNat *r, const BigNat *a, const BigNat *b)
{
	int64_t		borrow = 0;

	for (int i = 0; i < a->len; i++)
	{
		int64_t		t = (int64_t) a->limb[i] - (i < b->len ? b->limb[i] : 0) - borrow;

		borrow = t < 0;
		r->limb[i] = (uint32_t) (t + (borrow ? ((int64_t) 1 << 32) : 0));
	}
	r->len = a->len;
	big_trim(r);
}

/* r *= m, plus add; false when the result needs more than BIG_LIMBS. */
static bool
big_mul_small(BigNat *r, uint32_t m, uint32_t add)
{
	uint64_t	carry = add;

	for (int i = 0; i < r->len; i++)
	{
		uint64_t	t = (uint64_t) r->limb[i] * m + carry;

		r->limb[i] = (uint32_t) t;
		carry = t >> 32;
	}
	if (carry != 0)
	{
		if (r->len == BIG_LIMBS)
			return false;
		r->limb[r->len++] = (uint32_t) carry;
	}
	big_trim(r);
	return true;
}

static bool
big_mul_pow10(BigNat *r, int n)
{
	static const uint32_t small[] = {
		1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
		1000000000
	};

	for (; n >= 9; n -= 9)
		if (!big_mul_small(r, small[9], 0))
			return false;
	return big_mul_small(r, small[n], 0);
}

/* r = a * b; r may not be a or b. */
static bool
big_mul(BigNat *r, const BigNat *a, const BigNat *b)
{
	uint32_t	t[2 * BIG_LIMBS] = {0};
	int			len = a->len + b->len;

	for (int i = 0; i < a->len; i++)
	{
		uint64_t	carry = 0;

		for (int j = 0; j < b->len; j++)
		{
			uint64_t	p = (uint64_t) a->limb[i] * b->limb[j] + t[i + j] + carry;

			t[i + j] = (uint32_t) p;
			carry = p >> 32;
		}
		t[i + b->len] = (uint32_t) carry;
	}
	while (len > 0 && t[len - 1] == 0)
		len--;
	if (len > BIG_LIMBS)
		return false;
	memcpy(r->limb, t, len * sizeof(uint32_t));
	r->len = len;
	return true;
}

/*
 * q = u / v, r = u % v, for v > 0: Knuth's algorithm D (TAOCP 4.3.1), in the
 * form of Hacker's Delight's divmnu.  q and r may not be u or v.
 */
static void
big_divmod(const BigNat *u, const BigNat *v, BigNat *q, BigNat *r)
{
	const uint64_t b = (uint64_t) 1 << 32;
	uint32_t	un[BIG_LIMBS + 1];
	uint32_t	vn[BIG_LIMBS];
	int			m = u->len;
	int			n = v->len;
	int			s;

	if (m < n)
	{
		q->len = 0;
		*r = *u;
		return;
	}
	if (n == 1)
	{
		uint64_t	rem = 0;

		for (int j = m - 1; j >= 0; j--)
		{
			uint64_t	cur = (rem << 32) | u->limb[j];

			q->limb[j] = (uint32_t) (cur / v->limb[0]);
			rem = cur % v->limb[0];
		}
		q->len = m;
		big_trim(q);
		r->len = 0;
		if (rem != 0)
		{
			r->limb[0] = (uint32_t) rem;
			r->len = 1;
		}
		return;
	}

	/* normalize, so that the divisor's top limb has its high bit set */
	s = __builtin_clz(v->limb[n - 1]);
	for (int i = n - 1; i > 0; i--)
		vn[i] = (v->limb[i] << s) | (uint32_t) ((uint64_t) v->limb[i - 1] >> (32 - s));
	vn[0] = v->limb[0] << s;
	un[m] = (uint32_t) ((uint64_t) u->limb[m - 1] >> (32 - s));
	for (int i = m - 1; i > 0; i--)
		un[i] = (u->limb[i] << s) | (uint32_t) ((uint64_t) u->limb[i - 1] >> (32 - s));
	un[0] = u->limb[0] << s;

	for (int j = m - n; j >= 0; j--)
	{
		uint64_t	top = ((uint64_t) un[j + n] << 32) | un[j + n - 1];
		uint64_t	qhat = top / vn[n - 1];
		uint64_t	rhat = top % vn[n - 1];
		int64_t		k = 0;
		int64_t		t;

		while (qhat >= b || qhat * vn[n - 2] > ((rhat << 32) | un[j + n - 2]))
		{
			qhat--;
			rhat += vn[n - 1];
			if (rhat >= b)
				break;
		}

		/* multiply and subtract */
		for (int i = 0; i < n; i++)
		{
			uint64_t	p = qhat * vn[i];

			t = (int64_t) un[i + j] - k - (int64_t) (p & 0xFFFFFFFF);
			un[i + j] = (uint32_t) t;
			k = (int64_t) (p >> 32) - (t >> 32);
		}
		t = (int64_t) un[j + n] - k;
		un[j + n] = (uint32_t) t;

		q->limb[j] = (uint32_t) qhat;
		if (t < 0)
		{
			/* qhat was one too large: add the divisor back */
			uint64_t	carry = 0;

			q->limb[j]--;
			for (int i = 0; i < n; i++)
			{
				uint64_t	sum = (uint64_t) un[i + j] + vn[i] + carry;

				un[i + j] = (uint32_t) sum;
				carry = sum >> 32;
			}
			un[j + n] = (uint32_t) ((uint64_t) un[j + n] + carry);
		}
	}
	q->len = m - n + 1;
	big_trim(q);

	/* unnormalize the remainder */
	for (int i = 0; i < n; i++)
		r->limb[i] = (un[i] >> s) |
			(uint32_t) ((uint64_t) un[i + 1] << (32 - s));
	r->len = n;
	big_trim(r);
}

/* Writes a in decimal; returns the number of digits ("0" has one). */
static int
big_to_decimal(const BigNat *a, char *buf)
{
	BigNat		t = *a;
	char		rev[BIG_LIMBS * 10 + 1];
	int			n = 0;
	int			len = 0;

	do
	{
		uint64_t	rem = 0;

		for (int j = t.len - 1; j >= 0; j--)
		{
			uint64_t	cur = (rem << 32) | t.limb[j];

			t.limb[j] = (uint32_t) (cur / 1000000000);
			rem = cur % 1000000000;
		}
		big_trim(&t);
		for (int i = 0; i < 9; i++)
		{
			rev[n++] = (char) ('0' + rem % 10);
			rem /= 10;
		}
	} while (t.len > 0);
	while (n > 1 && rev[n - 1] == '0')
		n--;
	while (n > 0)
		buf[len++] = rev[--n];
	buf[len] = '\0';
	return len;
}

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
	amount_uint m = (amount_uint) (rate.mantissa < 0 ? -rate.mantissa : rate.mantissa);

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

	big_from_u128(&x, a->num[1] / g1);
	big_from_u128(&y, b->num[1] / g2);
	(void) big_mul(&p, &x, &y);
	(void) big_to_pair(&p, result->num);
	big_from_u128(&x, a->den[1] / g2);
	big_from_u128(&y, b->den[1] / g1);
	(void) big_mul(&p, &x, &y);
	(void) big_to_pair(&p, result->den);
	result->exp10 = a->exp10 + b->exp10;
}

/* The general case of ratio_apply, on natural numbers of any size. */
static AmountStatus
apply_big(const Ratio *r, amount_uint a, bool negative, long e,
		  RoundingMode mode, amount_int *result)
{
	BigNat		n,
				d,
				x,
				q,
				rem;
	amount_uint v;
	bool		away = false;

	if (e > APPLY_MAX_EXP10)
		return AMOUNT_OVERFLOW;
	big_from_u128(&x, a);
	big_from_pair(&d, r->num);
	(void) big_mul(&n, &x, &d);
	big_from_pair(&d, r->den);
	if (e > 0)
		(void) big_mul_pow10(&n, (int) e);
	else if (e < 0)
		(void) big_mul_pow10(&d, (int) (-e < APPLY_CLAMP_EXP10 ? -e : APPLY_CLAMP_EXP10));

	big_divmod(&n, &d, &q, &rem);
	if (rem.len != 0)
	{
		AmountStatus status;

		big_sub(&x, &d, &rem);
		status = amount_round_step(big_cmp(&rem, &x),
								   q.len > 0 && (q.limb[0] & 1) != 0,
								   negative, mode, &away);
		if (status != AMOUNT_OK)
			return status;
	}
	if (!big_to_u128(&q, &v) || v > (amount_uint) AMOUNT_MAX ||
		(away && v == (amount_uint) AMOUNT_MAX))
		return AMOUNT_OVERFLOW;
	if (away)
		v++;
	*result = negative ? -(amount_int) v : (amount_int) v;
	return AMOUNT_OK;
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
	return apply_big(r, a < 0 ? (amount_uint) 0 - (amount_uint) a : (amount_uint) a,
					 a < 0, e, mode, result);
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
	char		text[BIG_LIMBS * 10 + 1];
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

	big_from_pair(&num, r->num);
	big_from_pair(&den, r->den);
	/* num / den lies in (10^(dn - dd - 1), 10^(dn - dd + 1)) */
	k = digits - (big_to_decimal(&num, text) - big_to_decimal(&den, text));
	for (;;)
	{
		n = num;
		d = den;
		if (k > 0)
			(void) big_mul_pow10(&n, k);
		else if (k < 0)
			(void) big_mul_pow10(&d, -k);
		big_divmod(&n, &d, &q, &rem);
		/* q has digits or digits + 1 digits; in the second case scale down once */
		if (big_to_decimal(&q, text) <= digits)
			break;
		k--;
	}
	if (rem.len != 0)
	{
		big_sub(&x, &d, &rem);
		(void) amount_round_step(big_cmp(&rem, &x), (q.limb[0] & 1) != 0,
								 false, ROUND_HALF_EVEN, &away);
		if (away)
			(void) big_mul_small(&q, 1, 1);
	}
	len = big_to_decimal(&q, buf);
	*exponent = r->exp10 - k;
	while (len > 1 && buf[len - 1] == '0')
	{
		buf[--len] = '\0';
		(*exponent)++;
	}
}
