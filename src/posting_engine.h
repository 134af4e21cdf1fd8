/*
 * posting_engine.h
 *	  The one core that applies a set of transfers, whatever wrote them.
 */
#ifndef PAYMENTS_POSTING_ENGINE_H
#define PAYMENTS_POSTING_ENGINE_H

#include "postgres.h"

#include "utils/rel.h"
#include "utils/tuplestore.h"

/*
 * Applies the transfers one statement inserted into payments.transfers (rel),
 * read from its transition table in the order they were inserted: locks their
 * distinct accounts once, in (ledger, id) order, and applies one netted
 * change to each; then, transfer after transfer, computes each leg's running
 * balance, checks every limit, and writes the legs.  The caller has connected
 * to SPI.  Memory does not grow with the number of transfers.
 */
extern void posting_engine_apply(Relation rel, Tuplestorestate *transfers);

#endif							/* PAYMENTS_POSTING_ENGINE_H */
