/*
 * currency_code.h
 *	  The packed form of a currency: its code and its scale in 64 bits.
 *
 * Pure C (no backend headers), so that tests and fuzzers can use it.  The
 * packing puts the code's characters, six bits each, above five bits of
 * scale, so that comparing two packed values as integers orders them by code
 * and then by scale, the order of their text.
 */
#ifndef PAYMENTS_CURRENCY_CODE_H
#define PAYMENTS_CURRENCY_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CURRENCY_CODE_MIN_LEN	3
#define CURRENCY_CODE_MAX_LEN	8
#define CURRENCY_MAX_SCALE		18
/* "ABCDEFGH/18" and a NUL */
#define CURRENCY_TEXT_MAX		12

typedef uint64_t currency_code;

typedef enum CurrencyStatus
{
	CURRENCY_OK,
	CURRENCY_SYNTAX,			/* not CODE or CODE/SCALE */
	CURRENCY_BAD_SCALE,			/* a scale outside 0..18 */
	CURRENCY_UNKNOWN,			/* not ISO 4217, and no scale given */
	CURRENCY_NO_MINOR_UNIT		/* ISO 4217 without a minor unit, no scale given */
} CurrencyStatus;

extern CurrencyStatus currency_parse(const char *s, size_t len,
									 currency_code *result);
extern int	currency_format(currency_code c, char *buf);
extern int	currency_format_code(currency_code c, char *buf);
extern bool currency_is_valid(currency_code c);
extern currency_code currency_make(const char *code, size_t len, int scale);

static inline int
currency_scale(currency_code c)
{
	return (int) (c & 0x1F);
}

static inline currency_code
currency_with_scale(currency_code c, int scale)
{
	return (c & ~(currency_code) 0x1F) | (currency_code) scale;
}

/* Whether two currencies are the same code, at whatever scales. */
static inline bool
currency_same_code(currency_code a, currency_code b)
{
	return (a >> 5) == (b >> 5);
}

#endif							/* PAYMENTS_CURRENCY_CODE_H */
