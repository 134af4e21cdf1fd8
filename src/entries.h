/*
 * entries.h
 *	  Entries: the transfers one statement (one call of the API, one INSERT,
 *	  one COPY) inserts, per ledger.  Each statement that inserts transfers
 *	  opens an entry before its first row and the posting engine closes it
 *	  once it has applied them.
 */
#ifndef PAYMENTS_ENTRIES_H
#define PAYMENTS_ENTRIES_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "ledger.h"

typedef struct OpenEntry OpenEntry;

/*
 * The last hold a statement's rows have locked (payment_flows.c takes them
 * in (ledger, id) order): kept with the statement's entry, so that a
 * statement nested in another, which has its own, leaves the outer one's
 * as it was.
 */
typedef struct StatementHold
{
	bool		any;
	char		ledger[LEDGER_NAME_MAX_BYTES + 1];
	int64		id;
} StatementHold;

/* Before a statement that inserts into payments.transfers. */
extern void entries_statement_begin(void);

/* At the first of its rows: the entry the statement opened. */
extern OpenEntry *entries_current(void);

/*
 * For each of its rows: the entry of the row's ledger in the statement
 * (drawn on first use), and the time the statement's transfers are posted.
 */
extern int64 entries_entry_for(OpenEntry *e, const char *ledger);
/*
 * The same, for each row the posting engine applies: an entry whose rows
 * were all left out (ON CONFLICT DO NOTHING, a BEFORE trigger) has none.
 */
extern int64 entries_entry_applied(OpenEntry *e, const char *ledger);
extern TimestampTz entries_statement_time(OpenEntry *e);
extern StatementHold *entries_statement_hold(OpenEntry *e);

/* Calls visit for each entry of the statement with rows the engine applied. */
typedef void (*EntryVisitor) (const char *ledger, int64 entry_id, void *arg);
extern void entries_foreach(OpenEntry *e, EntryVisitor visit, void *arg);

/* After the posting engine has applied the statement's rows. */
extern void entries_statement_end(void);

/*
 * The API's next INSERT belongs to an entry it has already drawn (and whose
 * row it has written): entry_id for the rows of ledger.  Cleared by the
 * statement that takes it, and by entries_preassign_clear().
 */
extern void entries_preassign(int64 entry_id, const char *ledger);
extern void entries_preassign_clear(void);

#endif							/* PAYMENTS_ENTRIES_H */
