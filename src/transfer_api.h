/*
 * transfer_api.h
 *	  What the application's API functions share (transfer_api.c): entries'
 *	  idempotency keys.
 */
#ifndef PAYMENTS_TRANSFER_API_H
#define PAYMENTS_TRANSFER_API_H

#include "postgres.h"

#include "monetary.h"

/* An entry's idempotency key (or 0): 1 to IDEMPOTENCY_KEY_MAX_BYTES bytes. */
extern void api_check_entry_key(Datum key);

/*
 * Writes the entry's row in payments.entries when it has a key or metadata
 * (else writes nothing), after checking the key; false when the key is
 * already taken in the ledger (by this request or another: the caller
 * compares).  Inside SPI.
 */
extern bool api_claim_entry(const char *ledger, int64 entry_id, Datum key, Datum metadata);

/* 23I01: the key names a different request (what: "transfer" or "entry"). */
extern void api_key_reused(const char *key, const char *what, int64 id,
						   const char *ledger) pg_attribute_noreturn();

/*
 * What is left to reverse of a posted transfer, as a new snapshot sees it
 * (lock the transfer first for an answer that stays true).  Inside SPI.
 */
extern Monetary *api_unreversed(const char *ledger, int64 transfer, Oid monetary_oid);

/* 23L02: nothing is left to reverse of the transfer or entry (what). */
extern void api_refuse_fully_reversed(int64 transfer, const char *what) pg_attribute_noreturn();

#endif							/* PAYMENTS_TRANSFER_API_H */
