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

#endif							/* PAYMENTS_CONVERSION_H */
