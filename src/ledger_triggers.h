/*
 * ledger_triggers.h
 *	  The rules a transfer row keeps on its own, for the engine to check again.
 */
#ifndef PAYMENTS_LEDGER_TRIGGERS_H
#define PAYMENTS_LEDGER_TRIGGERS_H

#include "postgres.h"

#include "access/htup.h"
#include "utils/rel.h"

#include "payment_flows.h"

/*
 * Refuses a transfer row that breaks a rule it keeps on its own (accounts,
 * amount, status and the fields that go with it, lengths); inserting: also
 * one that brings what the ledger assigns (id, entry_id, created_at).
 * Returns its kind.
 */
extern TransferKind ledger_check_transfer_row(Relation rel, HeapTuple tuple, bool inserting);

#endif							/* PAYMENTS_LEDGER_TRIGGERS_H */
