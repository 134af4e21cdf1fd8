/*
 * currency.h
 *	  The currency type: a code and its scale, packed in 64 bits.
 */
#ifndef PAYMENTS_CURRENCY_H
#define PAYMENTS_CURRENCY_H

#include "postgres.h"
#include "fmgr.h"
#include "lib/stringinfo.h"

#include "currency_code.h"

#define DatumGetCurrency(X)		((currency_code) DatumGetInt64(X))
#define CurrencyGetDatum(X)		Int64GetDatum((int64) (X))
#define PG_GETARG_CURRENCY(n)	DatumGetCurrency(PG_GETARG_DATUM(n))
#define PG_RETURN_CURRENCY(x)	return CurrencyGetDatum(x)

extern currency_code currency_from_cstring(const char *s, size_t len,
										   const char *whole, const char *type_name);
extern char *currency_to_cstring(currency_code c);
extern void currency_send_to(StringInfo buf, currency_code c);
extern currency_code currency_recv_from(StringInfo buf);

#endif							/* PAYMENTS_CURRENCY_H */
