/*
 * conversion.h
 *	  Currency conversion through dated exchange rates.
 */
#ifndef PAYMENTS_CONVERSION_H
#define PAYMENTS_CONVERSION_H

#include "postgres.h"
#include "fmgr.h"
#include "datatype/timestamp.h"

#include "amount.h"
#include "currency_code.h"
#include "ratio.h"

/*
 * The rates one caller has read, kept in its FmgrInfo (fn_extra) for as long
 * as the snapshot it read them under stays the same: a query, usually.
 */
typedef struct ConversionCache ConversionCache;

extern ConversionCache *conversion_cache(FmgrInfo *flinfo);

/*
 * units of from, converted to to at the time at and rounded once by mode;
 * raises if there is no rate, or if the result is out of range (or inexact
 * under ROUND_UNNECESSARY).  cache may be NULL when from and to are scales of
 * one code: that is a rescale and reads no rate.
 */
extern amount_int conversion_convert_units(ConversionCache *cache,
										   amount_int units,
										   currency_code from,
										   currency_code to,
										   TimestampTz at,
										   RoundingMode mode);

/*
 * A stored rate a conversion used: the row of payments.exchange_rates from
 * from to to, valid from valid_from, and whether the route divides by it.
 */
typedef struct ConversionLeg
{
	currency_code from;			/* codes (scale 0), as the row has them */
	currency_code to;
	Decimal		rate;
	bool		inverse;
	TimestampTz valid_from;
	const char *source;			/* NULL when the row has none */
} ConversionLeg;

/*
 * How from converts to to at a time: the exact factor applied to amounts of
 * from (scales apart), from the stored rates it used, none for two scales of
 * one code.  Valid until the cache is next used.
 */
typedef struct ConversionRoute
{
	Ratio		factor;
	int			nlegs;
	ConversionLeg legs[2];
} ConversionRoute;

/* numeric from significant digits and a power of ten, written out in full. */
extern Datum numeric_from_digits(const char *digits, int exponent);

/* The route conversion_convert_units() takes; raises if there is no rate. */
extern void conversion_route(ConversionCache *cache, currency_code from,
							 currency_code to, TimestampTz at,
							 ConversionRoute *result);

#endif							/* PAYMENTS_CONVERSION_H */
