/*
 * payment_flows.h
 *	  Holds, their resolutions (capture, void, expiry) and reversals: what a
 *	  transfer of each kind must agree with, checked where it is applied.
 *
 * A hold (status pending) moves its amount into the accounts' pending
 * volumes and gets a row in payments.open_holds.  It is resolved once, by a
 * transfer naming it in pending_id: a capture (status posted) posts up to
 * its amount, a void (voided) or an expiry (expired) posts nothing; each
 * takes the whole hold out of the pending volumes and deletes its open row.
 * Whoever resolves a hold first locks that row, before the resolution is
 * inserted (flows_lock_hold), so that of two racing resolutions the second
 * waits and then finds the hold resolved; the unique index
 * transfers_ledger_pending_id_key stands behind it.  Expiry is decided by
 * the resolution's own created_at against the hold's expires_at: from then
 * on it can be expired, not captured or voided, whether or not a sweep ran.
 *
 * A reversal (reverses) moves money back between the transfer's accounts;
 * all reversals of a transfer never exceed it, checked with the original's
 * row locked, so that concurrent partial reversals queue on it.
 */
#ifndef PAYMENTS_PAYMENT_FLOWS_H
#define PAYMENTS_PAYMENT_FLOWS_H

#include "postgres.h"

#include "access/htup.h"
#include "datatype/timestamp.h"
#include "utils/hsearch.h"
#include "utils/rel.h"

#include "entries.h"
#include "ledger.h"
#include "table_writer.h"

typedef enum TransferKind
{
	TRANSFER_PLAIN,				/* posted */
	TRANSFER_REVERSAL,			/* posted, reverses another */
	TRANSFER_HOLD,				/* pending */
	TRANSFER_CAPTURE,			/* posted, resolves a hold */
	TRANSFER_VOID,				/* voided, resolves a hold */
	TRANSFER_EXPIRY				/* expired, resolves a hold */
} TransferKind;

#define TRANSFER_RESOLVES_HOLD(kind) \
	((kind) == TRANSFER_CAPTURE || (kind) == TRANSFER_VOID || (kind) == TRANSFER_EXPIRY)
/* Whether its legs move posted money (the others move pending volumes only). */
#define TRANSFER_POSTS(kind) \
	((kind) == TRANSFER_PLAIN || (kind) == TRANSFER_REVERSAL || (kind) == TRANSFER_CAPTURE)

/*
 * The kind of a transfer row from its status and which of pending_id,
 * reverses and expires_at it has; refuses (23514) a combination that is
 * none.
 */
extern TransferKind transfer_kind(Relation rel, const char *status, bool has_pending_id,
								  bool has_reverses, bool has_expires_at);

/* A transfer row as the engine reads it. */
typedef struct Transfer
{
	int64		id;
	const char *ledger;
	int64		from_account;
	int64		to_account;
	Monetary	amount;
	TransferKind kind;
	int64		pending_id;		/* of a resolution */
	int64		reverses;		/* of a reversal */
	TimestampTz created_at;
	bool		has_expiry;		/* of a hold */
	TimestampTz expires_at;
} Transfer;

/*
 * Before a resolution of a hold is inserted (BEFORE INSERT FOR EACH ROW):
 * locks the hold's open row, so that of two resolutions the second waits
 * here, before its row can meet the first's in the unique index.  A
 * statement takes its holds in (ledger, id) order, waiting; one out of that
 * order only if no one holds it (else 40001), so that no two statements
 * wait on each other in a cycle (last: the last hold the statement took,
 * kept with its entry).  Refuses a hold already resolved (55L03; 55L04 if it expired),
 * unless by a transfer with idempotency_key key (NULL for none): that is a
 * replay, which the insert's ON CONFLICT then answers.  Refuses a hold not
 * open (none, not yet committed, not a hold).  self is the resolution's
 * id.  What else it must agree with is checked by the engine.
 */
extern void flows_lock_hold(StatementHold *last, const char *ledger, int64 hold, int64 self,
							const char *key);

/* What the engine keeps of the flows of one statement. */
typedef struct FlowsState
{
	MemoryContext context;
	Oid			monetary_oid;
	LazyTableWriter transfers;	/* to find holds and originals, and lock these */
	LazyTableWriter open_holds;
	HTAB	   *resolved;		/* the holds resolved, with their amounts */
	HTAB	   *reversed;		/* the transfers reversed, with theirs */
} FlowsState;

extern void flows_begin(FlowsState *f, MemoryContext context, Oid monetary_oid);

/*
 * Pass 1 of the engine, for each transfer of a kind: a hold's expiry is
 * after it is made; a resolution agrees with its hold (ledger, accounts,
 * amount; an expiry comes after expires_at), and returns the hold's amount;
 * a reversal names a posted transfer, whose accounts it swaps.
 */
extern void flows_check_hold(const Transfer *t);
extern amount_int flows_resolve(FlowsState *f, const Transfer *t);
extern void flows_add_reversal(FlowsState *f, const Transfer *t);

/*
 * After pass 1, before the accounts are locked, in (ledger, id) order: each
 * hold resolved is locked, refused if it expired by the clock once locked
 * (a capture or void), and its open row deleted; each reversed transfer is
 * locked and its reversals, together, refused (23L02) if they would exceed
 * it.
 */
extern void flows_lock_holds(FlowsState *f);
extern void flows_check_reversals(FlowsState *f);

/* Pass 3: the amount of the hold a resolution resolves; a hold's open row. */
extern amount_int flows_hold_amount(FlowsState *f, const Transfer *t);
extern void flows_open_hold(FlowsState *f, const Transfer *t);

extern void flows_end(FlowsState *f);

/* The ledger of a transfer, by id alone (through its legs), or NULL. */
extern char *flows_transfer_ledger(int64 transfer);

/* A transfer another names (a hold, an original), as a new snapshot sees it. */
typedef struct NamedTransfer
{
	int64		id;
	char	   *ledger;
	int64		from_account;
	int64		to_account;
	Monetary	amount;
	Oid			amount_type;	/* monetary's OID */
	char	   *status;
	bool		has_expiry;
	TimestampTz expires_at;
} NamedTransfer;

/* The transfer with this id, in whatever ledger: false if there is none.  Connected to SPI. */
extern bool flows_transfer(int64 id, NamedTransfer *n);

#endif							/* PAYMENTS_PAYMENT_FLOWS_H */
