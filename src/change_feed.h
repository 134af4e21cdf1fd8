/*
 * change_feed.h
 *	  The change feed: which transaction posted each entry (change_feed.c).
 */
#ifndef PAYMENTS_CHANGE_FEED_H
#define PAYMENTS_CHANGE_FEED_H

#include "postgres.h"

#include "entries.h"

/*
 * Records, for each entry of the statement that has transfers, the
 * transaction posting them (a row of payments.entry_xacts).  After the
 * posting engine has applied the statement's rows, before its entry closes.
 */
extern void change_feed_record(OpenEntry *statement);

#endif							/* PAYMENTS_CHANGE_FEED_H */
