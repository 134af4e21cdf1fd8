/*
 * monetary.h
 *	  The monetary type: an exact count of one currency's minor units.
 */
#ifndef PAYMENTS_MONETARY_H
#define PAYMENTS_MONETARY_H

#include "postgres.h"
#include "fmgr.h"

#include "amount.h"
#include "currency.h"

/*
 * 24 bytes, aligned like double: PostgreSQL's int128 is declared with the
 * platform's maximum alignment, so the struct needs no padding.
 */
typedef struct Monetary
{
	int128		units;			/* minor units, within +-AMOUNT_MAX */
	currency_code currency;
} Monetary;

StaticAssertDecl(sizeof(Monetary) == 24, "monetary must be 24 bytes");

#define DatumGetMonetaryP(X)	((Monetary *) DatumGetPointer(X))
#define MonetaryPGetDatum(X)	PointerGetDatum(X)
#define PG_GETARG_MONETARY_P(n) DatumGetMonetaryP(PG_GETARG_DATUM(n))
#define PG_RETURN_MONETARY_P(x) return MonetaryPGetDatum(x)

extern Monetary *monetary_make(amount_int units, currency_code currency);
extern void monetary_check_same_currency(const Monetary *a, const Monetary *b);
extern void currency_check_same(currency_code a, currency_code b);
extern int	monetary_total_cmp_internal(const Monetary *a, const Monetary *b);
extern char *monetary_to_cstring(const Monetary *m);

/* Raises the error for a failed AmountStatus; 'what' names the operation. */
extern void amount_report(AmountStatus status, const char *what,
						  currency_code currency) pg_attribute_noreturn();

#define amount_check(status, what, currency) \
	do { \
		AmountStatus amount_check_status_ = (status); \
		if (unlikely(amount_check_status_ != AMOUNT_OK)) \
			amount_report(amount_check_status_, (what), (currency)); \
	} while (0)

/* numeric <-> exact decimals, through numeric's own text form */
extern bool numeric_to_decimal(Datum numeric, Decimal *result);
extern amount_int numeric_to_units(Datum numeric, int scale, RoundingMode mode,
								   currency_code currency);
extern Datum units_to_numeric(amount_int units, int scale);

/*
 * The amount and currency strings of the JSON form {"amount": "12.34",
 * "currency": "USD"} (monetary_json.c); raises if s is not that form.
 */
extern void monetary_json_parts(const char *s, char **amount, char **currency);

/* rounding_mode is an SQL enum; this maps its value to ours */
extern RoundingMode rounding_mode_from_datum(Datum mode);

#endif							/* PAYMENTS_MONETARY_H */
