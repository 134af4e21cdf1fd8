/*
 * fx.h
 *	  Payments between currencies (fx.c).
 */
#ifndef PAYMENTS_FX_H
#define PAYMENTS_FX_H

#include "postgres.h"

/* Whether the entry is an FX payment or refund (has a row in fx_entries); inside SPI. */
extern bool fx_entry_exists(const char *ledger, int64 entry_id);

#endif							/* PAYMENTS_FX_H */
