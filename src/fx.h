/*
 * fx.h
 *	  Payments between currencies (fx.c).
 */
#ifndef PAYMENTS_FX_H
#define PAYMENTS_FX_H

#include "postgres.h"

/* The FX entry a transfer is a leg of, or 0; inside SPI. */
extern int64 fx_entry_of_transfer(const char *ledger, int64 transfer);

/* Whether reverse_fx_transfer() is inserting its legs, which reverse FX legs. */
extern bool fx_writing_refund(void);

#endif							/* PAYMENTS_FX_H */
