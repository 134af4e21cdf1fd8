/*
 * periods.h
 *	  Closed periods (periods.c).
 */
#ifndef PAYMENTS_PERIODS_H
#define PAYMENTS_PERIODS_H

#include "postgres.h"

#include "datatype/timestamp.h"

/*
 * Refuses legs posted at posted_at in ledger if a period of the ledger is
 * closed at or after that time (a clock stepped back).  Inside SPI.
 */
extern void periods_check_open(const char *ledger, TimestampTz posted_at);

#endif							/* PAYMENTS_PERIODS_H */
