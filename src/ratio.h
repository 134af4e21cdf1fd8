/*
 * ratio.h
 *	  Exact rational factors: the product of exchange rates and their
 *	  inverses, applied to an amount with one rounding.
 *
 * A conversion multiplies an amount by a rate (direct), divides it by one
 * (inverse), or does both with two rates (triangulated through the base
 * currency).  Each rate is a decimal of at most 38 significant digits, so
 * the whole factor is one fraction num / den * 10^exp10 whose numerator and
 * denominator are products of at most two mantissas (below 2^254).  Applying
 * it computes amount * num * 10^k / den exactly, whatever the sizes, and
 * rounds once.  The result therefore does not depend on the order in which
 * the rates are combined.
 *
 * Pure C (no backend headers), like amount.c, so that a unit test or a fuzzer
 * can drive it directly.
 */
#ifndef PAYMENTS_RATIO_H
#define PAYMENTS_RATIO_H

#include "amount.h"

/* value = num / den * 10^exp10; num, den > 0, each as {high, low} 128-bit halves */
typedef struct Ratio
{
	amount_uint num[2];
	amount_uint den[2];
	int			exp10;
} Ratio;

/* Room for the digits ratio_digits writes: up to digits + 1, and a NUL. */
#define RATIO_DIGITS_MAX	40

extern void ratio_from_decimal(Decimal rate, bool inverse, Ratio *result);
extern void ratio_mul(const Ratio *a, const Ratio *b, Ratio *result);
extern AmountStatus ratio_apply(const Ratio *r, amount_int a, int shift10,
								RoundingMode mode, amount_int *result);
extern void ratio_digits(const Ratio *r, int digits, char *buf, int *exponent);

#endif							/* PAYMENTS_RATIO_H */
