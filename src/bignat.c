/*
 * bignat.c
 *	  Natural numbers of up to 1280 bits: fixed arrays of 32-bit limbs,
 *	  schoolbook multiplication and Knuth's division.
 */
#include "bignat.h"

#include <string.h>

static inline void
bignat_trim(BigNat *a)
{
	while (a->len > 0 && a->limb[a->len - 1] == 0)
		a->len--;
}

void
bignat_from_u128(BigNat *r, amount_uint v)
{
	r->len = 0;
	while (v != 0)
	{
		r->limb[r->len++] = (uint32_t) v;
		v >>= 32;
	}
}

/* From {high, low} 128-bit halves. */
void
bignat_from_pair(BigNat *r, const amount_uint v[2])
{
	for (int i = 0; i < 4; i++)
	{
		r->limb[i] = (uint32_t) (v[1] >> (32 * i));
		r->limb[4 + i] = (uint32_t) (v[0] >> (32 * i));
	}
	r->len = 8;
	bignat_trim(r);
}

bool
bignat_to_u128(const BigNat *a, amount_uint *v)
{
	if (a->len > 4)
		return false;
	*v = 0;
	for (int i = a->len - 1; i >= 0; i--)
		*v = (*v << 32) | a->limb[i];
	return true;
}

/* To {high, low} halves; false if it needs more than 256 bits. */
bool
bignat_to_pair(const BigNat *a, amount_uint v[2])
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

int
bignat_cmp(const BigNat *a, const BigNat *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	for (int i = a->len - 1; i >= 0; i--)
		if (a->limb[i] != b->limb[i])
			return a->limb[i] < b->limb[i] ? -1 : 1;
	return 0;
}

/* r = a - b, for a >= b; r may be a. */
void
bignat_sub(BigNat *r, const BigNat *a, const BigNat *b)
{
	int64_t		borrow = 0;

	for (int i = 0; i < a->len; i++)
	{
		int64_t		t = (int64_t) a->limb[i] - (i < b->len ? b->limb[i] : 0) - borrow;

		borrow = t < 0;
		r->limb[i] = (uint32_t) (t + (borrow ? ((int64_t) 1 << 32) : 0));
	}
	r->len = a->len;
	bignat_trim(r);
}

/* r *= m, plus add; false when the result needs more than BIGNAT_LIMBS. */
bool
bignat_mul_small(BigNat *r, uint32_t m, uint32_t add)
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
		if (r->len == BIGNAT_LIMBS)
			return false;
		r->limb[r->len++] = (uint32_t) carry;
	}
	bignat_trim(r);
	return true;
}

bool
bignat_mul_pow10(BigNat *r, int n)
{
	static const uint32_t small[] = {
		1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
		1000000000
	};

	for (; n >= 9; n -= 9)
		if (!bignat_mul_small(r, small[9], 0))
			return false;
	return bignat_mul_small(r, small[n], 0);
}

/* r = a * b; r may not be a or b. */
bool
bignat_mul(BigNat *r, const BigNat *a, const BigNat *b)
{
	uint32_t	t[2 * BIGNAT_LIMBS] = {0};
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
	if (len > BIGNAT_LIMBS)
		return false;
	memcpy(r->limb, t, len * sizeof(uint32_t));
	r->len = len;
	return true;
}

/*
 * q = u / v, r = u % v, for v > 0: Knuth's algorithm D (TAOCP 4.3.1), in the
 * form of Hacker's Delight's divmnu.  q and r may not be u or v.
 */
void
bignat_divmod(const BigNat *u, const BigNat *v, BigNat *q, BigNat *r)
{
	const uint64_t b = (uint64_t) 1 << 32;
	uint32_t	un[BIGNAT_LIMBS + 1];
	uint32_t	vn[BIGNAT_LIMBS];
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
		bignat_trim(q);
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
	bignat_trim(q);

	/* unnormalize the remainder */
	for (int i = 0; i < n; i++)
		r->limb[i] = (un[i] >> s) |
			(uint32_t) ((uint64_t) un[i + 1] << (32 - s));
	r->len = n;
	bignat_trim(r);
}

/* Writes a in decimal; returns the number of digits ("0" has one). */
int
bignat_to_decimal(const BigNat *a, char *buf)
{
	BigNat		t = *a;
	char		rev[BIGNAT_LIMBS * 10 + 1];
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
		bignat_trim(&t);
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

