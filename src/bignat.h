/*
 * bignat.h
 *	  Natural numbers of up to 1280 bits, for the exact arithmetic that does
 *	  not fit in 128: products of amounts, rates and powers of ten, and their
 *	  quotients.
 *
 * Pure C (no backend headers), like amount.c, so that a unit test or a
 * fuzzer can drive it directly.
 */
#ifndef PAYMENTS_BIGNAT_H
#define PAYMENTS_BIGNAT_H

#include <stdbool.h>
#include <stdint.h>

#include "amount.h"

/* 1280 bits: more than the largest product any caller forms. */
#define BIGNAT_LIMBS	40


/* A natural number; limb[0] is the least significant, len has no leading zeros. */
typedef struct BigNat
{
	int			len;
	uint32_t	limb[BIGNAT_LIMBS];
} BigNat;

/* Room for bignat_to_decimal's digits and a NUL. */
#define BIGNAT_DECIMAL_MAX	(BIGNAT_LIMBS * 10 + 1)

extern void bignat_from_u128(BigNat *r, amount_uint v);
extern bool bignat_to_u128(const BigNat *a, amount_uint *v);
extern void bignat_from_pair(BigNat *r, const amount_uint v[2]);
extern bool bignat_to_pair(const BigNat *a, amount_uint v[2]);
extern int	bignat_cmp(const BigNat *a, const BigNat *b);
extern void bignat_sub(BigNat *r, const BigNat *a, const BigNat *b);
extern bool bignat_mul_small(BigNat *r, uint32_t m, uint32_t add);
extern bool bignat_mul_pow10(BigNat *r, int n);
extern bool bignat_mul(BigNat *r, const BigNat *a, const BigNat *b);
extern void bignat_divmod(const BigNat *u, const BigNat *v, BigNat *q, BigNat *r);
extern int	bignat_to_decimal(const BigNat *a, char *buf);

static inline bool
bignat_is_zero(const BigNat *a)
{
	return a->len == 0;
}

#endif							/* PAYMENTS_BIGNAT_H */
