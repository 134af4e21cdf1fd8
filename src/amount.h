/*
 * amount.h
 *	  Exact decimal arithmetic on 128-bit counts of minor units.
 *
 * Everything here is pure C (no backend headers), so that a unit test or a
 * fuzzer can drive it directly.  Functions report failure through
 * AmountStatus; the callers in the server turn that into ereport().
 */
#ifndef PAYMENTS_AMOUNT_H
#define PAYMENTS_AMOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Aligned to 8 bytes, as PostgreSQL's int128 is: palloc promises no more, and
 * the compiler would otherwise use 16-byte aligned stores on these.
 */
typedef __int128 amount_int __attribute__((aligned(8)));
typedef unsigned __int128 amount_uint __attribute__((aligned(8)));

/* The largest number of decimal digits an amount may have. */
#define AMOUNT_MAX_DIGITS	38
/* 10^38 - 1: the range is symmetric, so negation never overflows. */
#define AMOUNT_MAX \
	((amount_int) 9999999999999999999ULL * (amount_int) 10000000000000000000ULL + \
	 (amount_int) 9999999999999999999ULL)

/* The largest scale (decimal places) a currency may have. */
#define AMOUNT_MAX_SCALE	18

typedef enum RoundingMode
{
	ROUND_HALF_EVEN,
	ROUND_HALF_UP,				/* half away from zero */
	ROUND_HALF_DOWN,			/* half toward zero */
	ROUND_UP,					/* away from zero */
	ROUND_DOWN,					/* toward zero */
	ROUND_CEILING,
	ROUND_FLOOR,
	ROUND_UNNECESSARY			/* refuse to round */
} RoundingMode;

typedef enum AmountStatus
{
	AMOUNT_OK,
	AMOUNT_SYNTAX,				/* not a decimal number */
	AMOUNT_OVERFLOW,			/* outside +-AMOUNT_MAX */
	AMOUNT_INEXACT,				/* would need rounding, and the mode refuses */
	AMOUNT_DIVIDE_BY_ZERO,
	AMOUNT_TOO_PRECISE			/* a factor with more than 38 significant digits */
} AmountStatus;

/* A decimal factor: value = mantissa * 10^exponent, mantissa not a multiple of 10. */
typedef struct Decimal
{
	amount_int	mantissa;
	int			exponent;
} Decimal;

/* Room for "-", 38 digits, ".", and the NUL, with margin. */
#define AMOUNT_TEXT_MAX		48

extern bool amount_in_range(amount_int v);

/* |v| as unsigned, so that it holds even the most negative 128-bit value. */
static inline amount_uint
amount_abs(amount_int v)
{
	return v < 0 ? (amount_uint) 0 - (amount_uint) v : (amount_uint) v;
}

extern amount_int amount_pow10(int n);

extern bool amount_syntax_ok(const char *s, size_t len);
extern AmountStatus amount_parse(const char *s, size_t len, int scale,
								 RoundingMode mode, amount_int *result);
extern AmountStatus decimal_parse(const char *s, size_t len, Decimal *result);
extern int	amount_format(amount_int units, int scale, char *buf);

extern AmountStatus amount_add(amount_int a, amount_int b, amount_int *result);
extern AmountStatus amount_sub(amount_int a, amount_int b, amount_int *result);
extern AmountStatus amount_mul_int(amount_int a, int64_t b, amount_int *result);
extern AmountStatus amount_div_int(amount_int a, int64_t b, RoundingMode mode,
								   amount_int *result);
extern AmountStatus amount_mul_decimal(amount_int a, Decimal b, RoundingMode mode,
									   amount_int *result);
extern AmountStatus amount_div_decimal(amount_int a, Decimal b, RoundingMode mode,
									   amount_int *result);
extern AmountStatus amount_rescale(amount_int a, int from_scale, int to_scale,
								   RoundingMode mode, amount_int *result);
extern AmountStatus amount_round_to(amount_int a, amount_int increment,
									RoundingMode mode, amount_int *result);
extern AmountStatus amount_muldiv(amount_int a, amount_int num, amount_int den,
								  RoundingMode mode, amount_int *result);

/* The one division with rounding behind every inexact operation (bignat.h). */
struct BigNat;
extern AmountStatus amount_divide_round(bool negative, const struct BigNat *n,
										const struct BigNat *d, RoundingMode mode,
										amount_int *result);
extern AmountStatus amount_round_step(int half, bool odd, bool negative,
									  RoundingMode mode, bool *away);

extern void amount_muldiv_floor(amount_uint a, amount_uint num, amount_uint den,
								amount_uint *quotient, amount_uint *remainder);

#endif							/* PAYMENTS_AMOUNT_H */
