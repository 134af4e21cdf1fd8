/*
 * iso4217.h
 *	  The ISO 4217 currency codes and their minor units.
 *
 * Pure C99 (no backend headers), so that a unit test or a fuzzer can use it
 * as well as the server.
 */
#ifndef PAYMENTS_ISO4217_H
#define PAYMENTS_ISO4217_H

#include <stdbool.h>
#include <stdint.h>

typedef struct Iso4217Currency
{
	char		code[4];		/* three upper-case letters, NUL-terminated */
	int8_t		minor_units;	/* 0..4, or -1 where ISO gives none (N.A.) */
	bool		withdrawn;		/* true for codes no longer in force */
} Iso4217Currency;

/*
 * Finds a code (exactly 3 upper-case ASCII letters, not NUL-terminated
 * necessarily: pass length).  NULL when not ISO.
 */
extern const Iso4217Currency *iso4217_lookup(const char *code, int len);

/* Every code, sorted by code in strcmp order, each code once. */
extern const Iso4217Currency iso4217_table[];
extern const int iso4217_count;

/* True when iso4217_table is strictly ascending (so sorted and unique). */
extern bool iso4217_table_is_sorted(void);

#endif							/* PAYMENTS_ISO4217_H */
