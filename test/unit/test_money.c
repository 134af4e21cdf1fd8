/*
 * test_money.c
 *	  Unit tests of the pure money code: src/amount.c (128/256-bit decimal
 *	  arithmetic), src/currency_code.c (the packed currency) and
 *	  src/iso4217.c (the ISO table), without a server.
 *
 * The arithmetic is checked against a reference written independently, on
 * decimal digit strings: schoolbook multiplication and long division, then
 * the rounding rule of each mode read off the remainder.  Random cases come
 * from a fixed seed, so a failure repeats.  Prints TAP; exits 1 on failure.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "currency_code.h"
#include "iso4217.h"

static int	tests = 0;
static int	failures = 0;

static void
report(bool ok, const char *what, long cases)
{
	tests++;
	if (!ok)
		failures++;
	printf("%s %d - %s (%ld cases)\n", ok ? "ok" : "not ok", tests, what, cases);
}

/* xorshift64*: a fixed, portable sequence */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static int
rng_below(int n)
{
	return (int) (rng() % (uint64_t) n);
}

/* A random string of n decimal digits, the first not zero (n >= 1). */
static void
random_digits(char *buf, int n)
{
	for (int i = 0; i < n; i++)
		buf[i] = (char) ('0' + (i == 0 ? 1 + rng_below(9) : rng_below(10)));
	buf[n] = '\0';
}

/* Parses a digit string of at most 38 digits. */
static amount_int
digits_value(const char *s)
{
	amount_int	v = 0;

	for (; *s; s++)
		v = v * 10 + (*s - '0');
	return v;
}

/* Writes |v| in decimal. */
static void
uint_digits(amount_uint v, char *buf)
{
	char		tmp[48];
	int			n = 0;

	do
	{
		tmp[n++] = (char) ('0' + (int) (v % 10));
		v /= 10;
	} while (v != 0);
	for (int i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
}

static amount_uint
uabs(amount_int v)
{
	return v < 0 ? (amount_uint) 0 - (amount_uint) v : (amount_uint) v;
}

/* a * b on digit strings, schoolbook. */
static void
digits_mul(const char *a, const char *b, char *out)
{
	int			la = (int) strlen(a),
				lb = (int) strlen(b);
	int			prod[200] = {0};
	int			n = la + lb,
				start = 0;

	for (int i = la - 1; i >= 0; i--)
		for (int j = lb - 1; j >= 0; j--)
			prod[i + j + 1] += (a[i] - '0') * (b[j] - '0');
	for (int k = n - 1; k > 0; k--)
	{
		prod[k - 1] += prod[k] / 10;
		prod[k] %= 10;
	}
	while (start < n - 1 && prod[start] == 0)
		start++;
	for (int k = start; k < n; k++)
		out[k - start] = (char) ('0' + prod[k]);
	out[n - start] = '\0';
}

/*
 * The reference rounding: the exact result is sign * (q + frac), q a digit
 * string, frac given by cmp_half (-1, 0, 1: below, at, above one half) and
 * inexact.  Returns whether to add one to q (away from zero), or -1 when
 * the mode refuses.
 */
static int
ref_away(bool negative, bool q_odd, bool inexact, int cmp_half, RoundingMode mode)
{
	if (!inexact)
		return 0;
	switch (mode)
	{
		case ROUND_UNNECESSARY:
			return -1;
		case ROUND_DOWN:
			return 0;
		case ROUND_UP:
			return 1;
		case ROUND_CEILING:
			return !negative;
		case ROUND_FLOOR:
			return negative;
		case ROUND_HALF_UP:
			return cmp_half >= 0;
		case ROUND_HALF_DOWN:
			return cmp_half > 0;
		case ROUND_HALF_EVEN:
			return cmp_half > 0 || (cmp_half == 0 && q_odd);
	}
	return -2;
}

/*
 * Whether the last reference result was both out of range and inexact: the
 * code may then report either (it checks whichever it meets first).
 */
static bool ref_both = false;

/*
 * Finishes a reference result: q digits (any length), plus one if away,
 * checked against 38 digits.  Returns the status and sets *result.
 */
static AmountStatus
ref_finish(const char *q, bool negative, int away, amount_int *result)
{
	char		digits[200];
	int			n;
	int			start = 0;

	ref_both = false;
	if (away < 0)
	{
		size_t		lead = strspn(q, "0");

		ref_both = strlen(q) - lead > AMOUNT_MAX_DIGITS;
		return AMOUNT_INEXACT;
	}
	strcpy(digits, q);
	n = (int) strlen(digits);
	if (away)
	{
		int			k = n - 1;

		while (k >= 0 && digits[k] == '9')
			digits[k--] = '0';
		if (k < 0)
		{
			memmove(digits + 1, digits, (size_t) n + 1);
			digits[0] = '1';
			n++;
		}
		else
			digits[k]++;
	}
	while (start < n - 1 && digits[start] == '0')
		start++;
	if (n - start > AMOUNT_MAX_DIGITS)
		return AMOUNT_OVERFLOW;
	*result = digits_value(digits + start);
	if (negative)
		*result = -*result;
	return AMOUNT_OK;
}

/* Whether the code's status is the reference's. */
static bool
same_status(AmountStatus got, AmountStatus want)
{
	return got == want ||
		(ref_both && want == AMOUNT_INEXACT && got == AMOUNT_OVERFLOW);
}

/* Reference of amount_mul_decimal: a * m * 10^e, rounded. */
static AmountStatus
ref_mul_decimal(amount_int a, amount_int m, int e, RoundingMode mode, amount_int *result)
{
	char		da[48],
				dm[48],
				p[200],
				q[200];
	bool		negative = (a < 0) != (m < 0);
	int			n;

	uint_digits(uabs(a), da);
	uint_digits(uabs(m), dm);
	digits_mul(da, dm, p);
	if (strcmp(p, "0") == 0)
	{
		*result = 0;
		return AMOUNT_OK;
	}
	n = (int) strlen(p);
	if (e >= 0)
	{
		ref_both = false;
		if (n + e > AMOUNT_MAX_DIGITS)
			return AMOUNT_OVERFLOW;
		strcpy(q, p);
		memset(q + n, '0', (size_t) e);
		q[n + e] = '\0';
		return ref_finish(q, negative, 0, result);
	}
	else
	{
		int			drop = -e;
		const char *rest;
		int			cmp_half = -1;
		bool		inexact = false;
		bool		odd;

		if (drop >= n)
		{
			/* q = 0; the fraction is p / 10^drop */
			strcpy(q, "0");
			rest = p;
			inexact = true;
			if (drop > n)
				cmp_half = -1;	/* below 0.1 */
			else
				cmp_half = p[0] > '5' ? 1 : p[0] < '5' ? -1 :
					(strspn(p + 1, "0") == strlen(p + 1) ? 0 : 1);
		}
		else
		{
			memcpy(q, p, (size_t) (n - drop));
			q[n - drop] = '\0';
			rest = p + n - drop;
			inexact = strspn(rest, "0") != strlen(rest);
			cmp_half = rest[0] > '5' ? 1 : rest[0] < '5' ? -1 :
				(strspn(rest + 1, "0") == strlen(rest + 1) ? 0 : 1);
		}
		odd = (q[strlen(q) - 1] - '0') % 2 == 1;
		return ref_finish(q, negative, ref_away(negative, odd, inexact, cmp_half, mode), result);
	}
}

/*
 * Reference of a / d for a digit string numerator and a divisor below
 * 10^37: long division with a 128-bit remainder.
 */
static AmountStatus
ref_divide(const char *num, amount_uint d, bool negative, RoundingMode mode, amount_int *result)
{
	char		q[200];
	int			n = (int) strlen(num);
	amount_uint r = 0;
	int			cmp_half;

	for (int i = 0; i < n; i++)
	{
		r = r * 10 + (amount_uint) (num[i] - '0');
		q[i] = (char) ('0' + (int) (r / d));
		r %= d;
	}
	q[n] = '\0';
	cmp_half = r * 2 > d ? 1 : r * 2 == d ? 0 : -1;
	return ref_finish(q, negative,
					  ref_away(negative, (q[n - 1] - '0') % 2 == 1, r != 0, cmp_half, mode),
					  result);
}

/* Reference of amount_div_decimal: a / (m * 10^e), m below 10^36, e <= 0 or small. */
static AmountStatus
ref_div_decimal(amount_int a, amount_int m, int e, RoundingMode mode, amount_int *result)
{
	char		num[200];
	amount_uint d = uabs(m);
	int			n;

	ref_both = false;
	if (m == 0)
		return AMOUNT_DIVIDE_BY_ZERO;
	if (a == 0)
	{
		*result = 0;
		return AMOUNT_OK;
	}
	for (int i = 0; i < e; i++)
		d *= 10;
	uint_digits(uabs(a), num);
	n = (int) strlen(num);
	for (int i = 0; i < -e; i++)
		num[n++] = '0';
	num[n] = '\0';
	return ref_divide(num, d, (a < 0) != (m < 0), mode, result);
}

/* A random amount of 1 to 38 digits, either sign, sometimes 0 or an edge. */
static amount_int
random_amount(void)
{
	char		buf[48];
	amount_int	v;

	switch (rng_below(20))
	{
		case 0:
			return 0;
		case 1:
			return AMOUNT_MAX;
		case 2:
			return -AMOUNT_MAX;
		default:
			random_digits(buf, 1 + rng_below(38));
			v = digits_value(buf);
			return rng_below(2) ? -v : v;
	}
}

static const char *const mode_names[] = {
	"half_even", "half_up", "half_down", "up", "down", "ceiling", "floor", "unnecessary"
};

static void
test_mul_decimal(void)
{
	long		cases = 0;
	bool		ok = true;

	for (int i = 0; i < 200000 && ok; i++)
	{
		char		buf[48];
		amount_int	a = random_amount();
		amount_int	m;
		Decimal		d;
		RoundingMode mode = (RoundingMode) rng_below(8);
		amount_int	got = 0,
					want = 0;
		AmountStatus sg,
					sw;

		random_digits(buf, 1 + rng_below(38));
		m = digits_value(buf);
		while (m % 10 == 0)
			m /= 10;
		if (rng_below(2))
			m = -m;
		d.mantissa = m;
		d.exponent = rng_below(90) - 80;	/* -80 .. 9 */
		sg = amount_mul_decimal(a, d, mode, &got);
		sw = ref_mul_decimal(a, m, d.exponent, mode, &want);
		cases++;
		if (!same_status(sg, sw) || (sg == AMOUNT_OK && got != want))
		{
			char		ga[48],
						gm[48];

			uint_digits(uabs(a), ga);
			uint_digits(uabs(m), gm);
			printf("# mul %s%s * %s%se%d %s: status %d/%d\n", a < 0 ? "-" : "", ga,
				   m < 0 ? "-" : "", gm, d.exponent, mode_names[mode], sg, sw);
			ok = false;
		}
	}
	report(ok, "amount_mul_decimal agrees with schoolbook multiplication, every mode", cases);
}

static void
test_div_decimal(void)
{
	long		cases = 0;
	bool		ok = true;

	for (int i = 0; i < 200000 && ok; i++)
	{
		char		buf[48];
		amount_int	a = random_amount();
		amount_int	m;
		Decimal		d;
		RoundingMode mode = (RoundingMode) rng_below(8);
		amount_int	got = 0,
					want = 0;
		AmountStatus sg,
					sw;
		int			mdigits = 1 + rng_below(30);

		random_digits(buf, mdigits);
		m = digits_value(buf);
		while (m % 10 == 0)
			m /= 10;
		if (rng_below(2))
			m = -m;
		d.mantissa = m;
		/* the divisor stays below 10^36 once whole, for the reference */
		d.exponent = rng_below(2) ? -rng_below(40) : rng_below(36 - mdigits + 1);
		sg = amount_div_decimal(a, d, mode, &got);
		sw = ref_div_decimal(a, m, d.exponent, mode, &want);
		cases++;
		if (!same_status(sg, sw) || (sg == AMOUNT_OK && got != want))
		{
			char		ga[48],
						gm[48];

			uint_digits(uabs(a), ga);
			uint_digits(uabs(m), gm);
			printf("# div %s%s / %s%se%d %s: status %d/%d\n", a < 0 ? "-" : "", ga,
				   m < 0 ? "-" : "", gm, d.exponent, mode_names[mode], sg, sw);
			ok = false;
		}
	}
	report(ok, "amount_div_decimal agrees with long division, every mode", cases);
}

static void
test_div_int_and_muldiv(void)
{
	long		cases = 0;
	bool		ok = true;

	for (int i = 0; i < 100000 && ok; i++)
	{
		amount_int	a = random_amount();
		int64_t		b = (int64_t) (rng() >> (1 + rng_below(62)));
		RoundingMode mode = (RoundingMode) rng_below(8);
		amount_int	got = 0,
					want = 0;
		AmountStatus sg,
					sw;
		char		num[48];

		if (rng_below(2))
			b = -b;
		if (rng_below(50) == 0)
			b = INT64_MIN;
		sg = amount_div_int(a, b, mode, &got);
		if (b == 0)
			sw = AMOUNT_DIVIDE_BY_ZERO;
		else if (a == 0)
		{
			sw = AMOUNT_OK;
			want = 0;
		}
		else
		{
			uint_digits(uabs(a), num);
			sw = ref_divide(num, uabs((amount_int) b), (a < 0) != (b < 0), mode, &want);
		}
		cases++;
		if (sg != sw || (sg == AMOUNT_OK && got != want))
		{
			printf("# div_int case %d (%s): status %d/%d\n", i, mode_names[mode], sg, sw);
			ok = false;
		}
	}
	report(ok, "amount_div_int agrees with long division, every mode, INT64_MIN included", cases);

	/* muldiv with num <= den and floor: what allocation uses */
	cases = 0;
	for (int i = 0; i < 100000 && ok; i++)
	{
		amount_uint a = uabs(random_amount());
		amount_uint den = 1 + (uabs(random_amount()) % AMOUNT_MAX);
		amount_uint num = den == 0 ? 0 : uabs(random_amount()) % (den + 1);
		amount_uint q,
					r;
		char		da[48],
					dn[48],
					p[200];
		amount_int	want = 0;

		if (den >= (amount_uint) amount_pow10(36))
			den /= 1000;	/* keep the reference's divisor below 10^37 */
		if (num > den)
			num = den;
		amount_muldiv_floor(a, num, den, &q, &r);
		uint_digits(a, da);
		uint_digits(num, dn);
		digits_mul(da, dn, p);
		(void) ref_divide(p, den, false, ROUND_DOWN, &want);
		cases++;
		/* q * den + r == a * num, checked as q == floor and r < den */
		if ((amount_int) q != want || r >= den)
		{
			printf("# muldiv_floor case %d\n", i);
			ok = false;
		}
	}
	report(ok, "amount_muldiv_floor is the floor of a * num / den, with r < den", cases);
}

static void
test_parse_format(void)
{
	long		cases = 0;
	bool		ok = true;

	for (int i = 0; i < 200000 && ok; i++)
	{
		amount_int	v = random_amount();
		int			scale = rng_below(19);
		char		buf[AMOUNT_TEXT_MAX];
		amount_int	back = 0;
		int			len = amount_format(v, scale, buf);

		cases++;
		if ((size_t) len != strlen(buf) ||
			amount_parse(buf, (size_t) len, scale, ROUND_UNNECESSARY, &back) != AMOUNT_OK ||
			back != v)
		{
			printf("# format/parse %s at scale %d\n", buf, scale);
			ok = false;
		}
	}
	report(ok, "amount_format then amount_parse gives the value back, every scale", cases);

	/* parse with dropped digits rounds like the reference */
	cases = 0;
	for (int i = 0; i < 200000 && ok; i++)
	{
		char		digits[120],
					text[130];
		int			scale = rng_below(19);
		int			int_digits = rng_below(20);
		int			extra = 1 + rng_below(40);
		int			frac = scale + extra;
		int			n;
		bool		negative = rng_below(2);
		RoundingMode mode = (RoundingMode) rng_below(8);
		amount_int	got = 0,
					want = 0;
		AmountStatus sg,
					sw;

		random_digits(digits, int_digits + frac);
		if (rng_below(4) == 0)	/* an exact half or an exact value, often */
		{
			memset(digits + int_digits + scale, '0', (size_t) extra);
			if (rng_below(2))
				digits[int_digits + scale] = '5';
		}
		n = sprintf(text, "%s", negative ? "-" : "");
		if (int_digits == 0)
			n += sprintf(text + n, "0");
		else
			n += sprintf(text + n, "%.*s", int_digits, digits);
		n += sprintf(text + n, ".%s", digits + int_digits);
		sg = amount_parse(text, (size_t) n, scale, mode, &got);
		sw = ref_div_decimal(0, 1, 0, mode, &want);		/* placeholder, replaced below */
		{
			/* the value in units is digits / 10^extra */
			char		num[130];
			char		q[130];
			const char *rest = digits + int_digits + scale;
			int			qn = int_digits + scale;
			int			cmp_half;
			bool		inexact = strspn(rest, "0") != strlen(rest);

			memcpy(num, digits, (size_t) qn);
			num[qn] = '\0';
			strcpy(q, qn ? num : "0");
			cmp_half = rest[0] > '5' ? 1 : rest[0] < '5' ? -1 :
				(strspn(rest + 1, "0") == strlen(rest + 1) ? 0 : 1);
			sw = ref_finish(q, negative,
							ref_away(negative, (q[strlen(q) - 1] - '0') % 2 == 1,
									 inexact, cmp_half, mode),
							&want);
		}
		cases++;
		if (sg != sw || (sg == AMOUNT_OK && got != want))
		{
			printf("# parse %s at scale %d, %s: status %d/%d\n", text, scale, mode_names[mode], sg, sw);
			ok = false;
		}
	}
	report(ok, "amount_parse rounds dropped digits like the reference, every mode", cases);

	{
		static const char *const bad[] = {
			"", "-", "+", ".", "1.", ".5", "-.5", "1..2", "1.2.3", "--1", "+-1", "1e5",
			"NaN", "1 ", " 1", "0x10", "1,5", "١"
		};
		amount_int	v;

		ok = true;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (amount_parse(bad[i], strlen(bad[i]), 2, ROUND_HALF_EVEN, &v) != AMOUNT_SYNTAX)
			{
				printf("# '%s' parsed\n", bad[i]);
				ok = false;
			}
		report(ok, "amount_parse refuses malformed numbers", (long) (sizeof(bad) / sizeof(bad[0])));
	}
	{
		amount_int	v;

		/* syntax is judged before range: a malformed long number is SYNTAX */
		static const char *const bad_long[] = {
			"99999999999999999999999999999999999999999x",
			"99999999999999999999999999999999999999999.",
			"-99999999999999999999999999999999999999999.5.5",
			"99999999999999999999999999999999999999999e5",
			"1.000000000000000000000000000000000000000000001 ",
			"x99999999999999999999999999999999999999999"
		};

		ok = true;
		for (size_t i = 0; i < sizeof(bad_long) / sizeof(bad_long[0]); i++)
		{
			Decimal		d;

			if (amount_parse(bad_long[i], strlen(bad_long[i]), 2, ROUND_HALF_EVEN, &v) != AMOUNT_SYNTAX ||
				decimal_parse(bad_long[i], strlen(bad_long[i]), &d) != AMOUNT_SYNTAX ||
				amount_syntax_ok(bad_long[i], strlen(bad_long[i])))
			{
				printf("# '%s' not judged malformed first\n", bad_long[i]);
				ok = false;
			}
		}
		report(ok, "amount_parse and decimal_parse judge syntax before range",
			   (long) (sizeof(bad_long) / sizeof(bad_long[0])));

		ok = amount_parse("99999999999999999999999999999999999999", 38, 0, ROUND_UNNECESSARY, &v) == AMOUNT_OK &&
			v == AMOUNT_MAX &&
			amount_parse("100000000000000000000000000000000000000", 39, 0, ROUND_UNNECESSARY, &v) == AMOUNT_OVERFLOW &&
			amount_parse("99999999999999999999999999999999999999.5", 40, 0, ROUND_HALF_UP, &v) == AMOUNT_OVERFLOW &&
			amount_parse("99999999999999999999999999999999999999.5", 40, 0, ROUND_DOWN, &v) == AMOUNT_OK &&
			amount_parse("0000000000000000000000000000000000000000001", 43, 0, ROUND_UNNECESSARY, &v) == AMOUNT_OK &&
			v == 1 &&
			amount_parse("-0.00", 5, 2, ROUND_UNNECESSARY, &v) == AMOUNT_OK && v == 0;
		report(ok, "amount_parse at the edges of the range", 6);
	}
}

static void
test_add_sub_mul_int(void)
{
	long		cases = 0;
	bool		ok = true;

	for (int i = 0; i < 200000 && ok; i++)
	{
		amount_int	a = random_amount(),
					b = random_amount(),
					r = 0;
		int64_t		k = (int64_t) (rng() >> (1 + rng_below(63)));
		bool		over;

		/* __int128 holds a + b and a - b of in-range amounts exactly */
		over = !amount_in_range(a + b);
		ok &= (amount_add(a, b, &r) == (over ? AMOUNT_OVERFLOW : AMOUNT_OK)) && (over || r == a + b);
		over = !amount_in_range(a - b);
		ok &= (amount_sub(a, b, &r) == (over ? AMOUNT_OVERFLOW : AMOUNT_OK)) && (over || r == a - b);
		/* products checked through the decimal reference */
		{
			amount_int	want = 0;
			AmountStatus sw = ref_mul_decimal(a, (amount_int) k, 0, ROUND_UNNECESSARY, &want);

			ok &= amount_mul_int(a, k, &r) == sw && (sw != AMOUNT_OK || r == want);
		}
		cases++;
		if (!ok)
			printf("# add/sub/mul_int case %d\n", i);
	}
	report(ok, "amount_add, amount_sub and amount_mul_int: exact, or overflow past 38 digits", cases);
}

static void
test_round_to_and_rescale(void)
{
	long		cases = 0;
	bool		ok = true;

	for (int i = 0; i < 100000 && ok; i++)
	{
		amount_int	a = random_amount();
		amount_int	inc = 1 + (amount_int) (rng() % 1000000);
		RoundingMode mode = (RoundingMode) rng_below(8);
		amount_int	got = 0,
					steps = 0;
		AmountStatus sg = amount_round_to(a, inc, mode, &got);
		AmountStatus ss = amount_div_int(a, (int64_t) inc, mode, &steps);
		AmountStatus sw = ss;
		amount_int	want = 0;

		if (ss == AMOUNT_OK)
			sw = amount_mul_int(steps, (int64_t) inc, &want);
		cases++;
		if (sg != sw || (sg == AMOUNT_OK && got != want))
		{
			printf("# round_to case %d\n", i);
			ok = false;
		}
	}
	report(ok, "amount_round_to is a rounded quotient times the increment", cases);

	cases = 0;
	for (int i = 0; i < 100000 && ok; i++)
	{
		amount_int	a = random_amount();
		int			from = rng_below(19),
					to = rng_below(19);
		RoundingMode mode = (RoundingMode) rng_below(8);
		amount_int	got = 0,
					want = 0;
		AmountStatus sg = amount_rescale(a, from, to, mode, &got);
		AmountStatus sw = ref_mul_decimal(a, 1, to - from, mode, &want);

		cases++;
		if (sg != sw || (sg == AMOUNT_OK && got != want))
		{
			printf("# rescale case %d\n", i);
			ok = false;
		}
	}
	report(ok, "amount_rescale agrees with the reference, up and down, every mode", cases);
}

static void
test_decimal_parse(void)
{
	static const struct
	{
		const char *text;
		AmountStatus status;
		long long	mantissa;
		int			exponent;
	}			cases[] = {
		{"0", AMOUNT_OK, 0, 0},
		{"-0.000", AMOUNT_OK, 0, 0},
		{"12.340", AMOUNT_OK, 1234, -2},
		{"-1200", AMOUNT_OK, -12, 2},
		{"0.001", AMOUNT_OK, 1, -3},
		{"100000000000000000000000000000000000000000000000000", AMOUNT_OK, 1, 50},
		{"1.000000000000000000000000000000000000001", AMOUNT_TOO_PRECISE, 0, 0},
		{"0.0000012345678901234567890123456789012345678", AMOUNT_OK, 0, 0},
		{"1.", AMOUNT_SYNTAX, 0, 0},
		{".1", AMOUNT_SYNTAX, 0, 0},
		{"1e3", AMOUNT_SYNTAX, 0, 0},
	};
	bool		ok = true;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		Decimal		d = {0, 0};
		AmountStatus s = decimal_parse(cases[i].text, strlen(cases[i].text), &d);

		/* a mantissa of 0 in the table with a non-zero one parsed: only the status is checked */
		bool		check_value = cases[i].mantissa != 0 || strspn(cases[i].text, "-0.") == strlen(cases[i].text);

		if (s != cases[i].status ||
			(s == AMOUNT_OK && check_value &&
			 (d.mantissa != cases[i].mantissa || d.exponent != cases[i].exponent)))
		{
			printf("# decimal_parse %s: status %d\n", cases[i].text, s);
			ok = false;
		}
	}
	report(ok, "decimal_parse: mantissa without trailing zeros, exponent, 38 significant digits at most",
		   (long) (sizeof(cases) / sizeof(cases[0])));
	(void) cases[0].mantissa;
}

static void
test_currency(void)
{
	bool		ok = iso4217_table_is_sorted();
	long		cases = 0;

	report(ok, "the ISO 4217 table is sorted and has no duplicate", iso4217_count);

	ok = true;
	for (int i = 0; i < iso4217_count; i++)
	{
		const Iso4217Currency *c = &iso4217_table[i];
		currency_code code = 0;
		char		buf[CURRENCY_TEXT_MAX];
		CurrencyStatus s = currency_parse(c->code, 3, &code);

		cases++;
		ok &= strlen(c->code) == 3 && c->minor_units >= -1 && c->minor_units <= 4;
		ok &= iso4217_lookup(c->code, 3) == c;
		if (c->minor_units < 0)
			ok &= s == CURRENCY_NO_MINOR_UNIT;
		else
		{
			ok &= s == CURRENCY_OK && currency_scale(code) == c->minor_units;
			currency_format(code, buf);
			ok &= strcmp(buf, c->code) == 0;
		}
		/* every other scale is written CODE/SCALE, and reads back */
		for (int scale = 0; scale <= CURRENCY_MAX_SCALE; scale++)
		{
			char		text[CURRENCY_TEXT_MAX];
			currency_code back = 0;

			snprintf(text, sizeof(text), "%s/%d", c->code, scale);
			ok &= currency_parse(text, strlen(text), &code) == CURRENCY_OK;
			currency_format(code, buf);
			ok &= strcmp(buf, scale == c->minor_units ? c->code : text) == 0;
			ok &= currency_parse(buf, strlen(buf), &back) == CURRENCY_OK && back == code;
			ok &= currency_is_valid(code);
		}
		if (!ok)
		{
			printf("# ISO code %s\n", c->code);
			break;
		}
	}
	report(ok, "every ISO code reads at its scale, is written plain, and every other scale as CODE/SCALE", cases);

	/* the withdrawn codes of List Three for which ISO published no minor unit */
	{
		static const char *const no_minor_unit[] = {
			"ARY", "BEC", "BEL", "BGJ", "BGK", "BUK", "CHC", "CSJ", "ECV", "ESA",
			"ESB", "GHP", "GNE", "GNS", "GQE", "GWE", "ILP", "ILR", "ISJ", "LAJ",
			"LSM", "LUC", "LUL", "MLF", "MTP", "MVQ", "MZE", "PEH", "RHD", "ROK",
			"TJR", "UGS", "UGW", "UYN", "UYP", "VNC", "YDD", "ZAL", "ZRZ", "ZWC"
		};
		currency_code code = 0;

		ok = true;
		for (size_t i = 0; i < sizeof(no_minor_unit) / sizeof(no_minor_unit[0]); i++)
		{
			const Iso4217Currency *c = iso4217_lookup(no_minor_unit[i], 3);

			ok &= c != NULL && c->withdrawn && c->minor_units == -1 &&
				currency_parse(no_minor_unit[i], 3, &code) == CURRENCY_NO_MINOR_UNIT;
		}
		report(ok, "the 40 withdrawn List Three codes without a minor unit are known, and need a scale",
			   (long) (sizeof(no_minor_unit) / sizeof(no_minor_unit[0])));
	}

	/* packed order is the order of (code text, scale) */
	ok = true;
	cases = 0;
	for (int i = 0; i < 200000 && ok; i++)
	{
		static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
		char		a[9],
					b[9];
		int			la = 3 + rng_below(6),
					lb = 3 + rng_below(6);
		int			sa = rng_below(19),
					sb = rng_below(19);
		currency_code ca,
					cb;
		int			want,
					got;

		for (int k = 0; k < la; k++)
			a[k] = alphabet[rng_below(36)];
		a[la] = '\0';
		if (rng_below(3) == 0)
		{
			strcpy(b, a);
			lb = la;
		}
		else
		{
			for (int k = 0; k < lb; k++)
				b[k] = alphabet[rng_below(36)];
			b[lb] = '\0';
		}
		ca = currency_make(a, (size_t) la, sa);
		cb = currency_make(b, (size_t) lb, sb);
		want = strcmp(a, b);
		want = want != 0 ? (want > 0) - (want < 0) : (sa > sb) - (sa < sb);
		got = (ca > cb) - (ca < cb);
		cases++;
		if (got != want || !currency_is_valid(ca))
		{
			printf("# order of %s/%d and %s/%d\n", a, sa, b, sb);
			ok = false;
		}
	}
	report(ok, "packed currencies compare as their (code, scale)", cases);

	{
		static const char *const bad[] = {
			"", "US", "ABCDEFGHI", "US$", "US D", " USD", "USD ", "USD/", "USD//2", "/2",
			"USD/-1", "USD/1x", "USD/123x", "USD/99999999999999999999999x", "USD/2 "
		};
		static const char *const bad_scale[] = {
			"USD/19", "USD/99", "USD/123", "USD/019", "USD/00000000000000000000019",
			"USD/99999999999999999999999999999999"
		};
		/* leading zeros are accepted: the value is what counts */
		static const char *const zeros[] = {"USD/02", "USD/002", "usd/00000000000000000000002"};
		currency_code c;

		ok = true;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			ok &= currency_parse(bad[i], strlen(bad[i]), &c) == CURRENCY_SYNTAX;
		for (size_t i = 0; i < sizeof(bad_scale) / sizeof(bad_scale[0]); i++)
			ok &= currency_parse(bad_scale[i], strlen(bad_scale[i]), &c) == CURRENCY_BAD_SCALE;
		for (size_t i = 0; i < sizeof(zeros) / sizeof(zeros[0]); i++)
			ok &= currency_parse(zeros[i], strlen(zeros[i]), &c) == CURRENCY_OK &&
				c == currency_make("USD", 3, 2);
		ok &= currency_parse("ABC", 3, &c) == CURRENCY_UNKNOWN;
		ok &= currency_parse("ETH", 3, &c) == CURRENCY_UNKNOWN;
		ok &= currency_parse("XAU", 3, &c) == CURRENCY_NO_MINOR_UNIT;
		ok &= !currency_is_valid(0) && !currency_is_valid(~(currency_code) 0);
		ok &= !currency_is_valid(currency_make("USD", 3, 2) | 19);
		report(ok, "currency_parse judges syntax before the scale's range, reads leading zeros; currency_is_valid refuses stray bits", 30);
	}
}

int
main(void)
{
	test_decimal_parse();
	test_parse_format();
	test_add_sub_mul_int();
	test_mul_decimal();
	test_div_decimal();
	test_div_int_and_muldiv();
	test_round_to_and_rescale();
	test_currency();
	printf("1..%d\n", tests);
	if (failures)
		printf("# %d of %d failed\n", failures, tests);
	return failures ? 1 : 0;
}
