/*
 * payments.h
 *	  Settings shared by the extension's parts.
 */
#ifndef PAYMENTS_H
#define PAYMENTS_H

#include "currency_code.h"

extern void _PG_init(void);
extern currency_code payments_base_currency(void);

#endif							/* PAYMENTS_H */
