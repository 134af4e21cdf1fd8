/*
 * entries.c
 *	  Which entry each inserted transfer belongs to.
 *
 * A BEFORE STATEMENT trigger opens a statement's entry, the BEFORE ROW
 * trigger draws its id per ledger, and the posting engine (the AFTER
 * STATEMENT trigger) closes it.  Statements nest (a function called while one
 * inserts may insert too), so open entries form a stack.  An entry opened in
 * a subtransaction that aborts goes with it, its rows being gone too.  The
 * three triggers refuse to run unless all three fire (ledger_triggers.c), so
 * no statement leaves its entry open, nor its rows unapplied.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "entries.h"
#include "ledger.h"

typedef struct LedgerEntry
{
	char		ledger[LEDGER_NAME_MAX_BYTES + 1];
	int64		entry_id;
	bool		applied;		/* the engine has applied rows of it */
} LedgerEntry;

/* A statement's ledgers are few, looked at in turn; beyond that, hashed. */
#define FEW_LEDGERS		8

struct OpenEntry
{
	struct OpenEntry *outer;
	SubTransactionId subid;
	TimestampTz posted_at;
	int			nledgers;
	LedgerEntry ledgers[FEW_LEDGERS];
	HTAB	   *more_ledgers;
	StatementHold last_hold;	/* none: zeroed */
};

/* In TopTransactionContext: gone, with the memory, at the end of the transaction. */
static OpenEntry *open_entries = NULL;

/* The API's entry for its next statement (entries_preassign). */
static int64 preassigned_entry = 0;
static char preassigned_ledger[LEDGER_NAME_MAX_BYTES + 1];

static bool callbacks_registered = false;

/* Pops the innermost open entry, freeing it: a transaction may run millions. */
static void
pop_entry(void)
{
	OpenEntry  *e = open_entries;

	open_entries = e->outer;
	if (e->more_ledgers != NULL)
		hash_destroy(e->more_ledgers);
	pfree(e);
}

/*
 * Ledgers longer than the limit exist only from before release 1.1, whose
 * accounts cannot transact any more.
 */
static void
check_ledger_length(const char *ledger)
{
	if (strlen(ledger) > LEDGER_NAME_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("ledger \"%.64s...\" is longer than %d bytes", ledger, LEDGER_NAME_MAX_BYTES),
				 errdetail("Ledgers named before release 1.1 with longer names cannot take new transfers."),
				 errledger("accounts", "ledger", NULL)));
}

static void
entries_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			open_entries = NULL;
			preassigned_entry = 0;
			break;
		default:
			break;
	}
}

static void
entries_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	/* entries opened in it or in its children, which began after it */
	while (open_entries != NULL && open_entries->subid >= mySubid)
		pop_entry();
	preassigned_entry = 0;
}

void
entries_statement_begin(void)
{
	OpenEntry  *e;

	if (!callbacks_registered)
	{
		RegisterXactCallback(entries_xact_callback, NULL);
		RegisterSubXactCallback(entries_subxact_callback, NULL);
		callbacks_registered = true;
	}
	e = MemoryContextAllocZero(TopTransactionContext, sizeof(OpenEntry));
	e->outer = open_entries;
	e->subid = GetCurrentSubTransactionId();
	e->posted_at = GetCurrentTimestamp();
	if (preassigned_entry != 0)
	{
		strlcpy(e->ledgers[0].ledger, preassigned_ledger, sizeof(e->ledgers[0].ledger));
		e->ledgers[0].entry_id = preassigned_entry;
		e->nledgers = 1;
		preassigned_entry = 0;
	}
	open_entries = e;
}

static void
no_open_entry(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
			 errmsg("a transfer was inserted outside a statement the ledger opened"),
			 errdetail("The trigger transfer_statement_start on payments.transfers did not run for its statement."),
			 errhint("Enable the trigger: ALTER TABLE payments.transfers ENABLE TRIGGER transfer_statement_start.")));
}

OpenEntry *
entries_current(void)
{
	if (open_entries == NULL)
		no_open_entry();
	return open_entries;
}

static LedgerEntry *
entry_of(OpenEntry *e, const char *ledger)
{
	LedgerEntry *l;
	char		key[LEDGER_NAME_MAX_BYTES + 1];
	bool		found;

	for (int i = 0; i < e->nledgers; i++)
		if (strcmp(e->ledgers[i].ledger, ledger) == 0)
			return &e->ledgers[i];

	check_ledger_length(ledger);
	if (e->nledgers < FEW_LEDGERS)
	{
		l = &e->ledgers[e->nledgers++];
		strlcpy(l->ledger, ledger, sizeof(l->ledger));
		l->entry_id = ledger_nextval(SEQ_ENTRIES);
		return l;
	}
	if (e->more_ledgers == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(key);
		ctl.entrysize = sizeof(LedgerEntry);
		ctl.hcxt = TopTransactionContext;
		e->more_ledgers = hash_create("payments statement ledgers", 64, &ctl,
									  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	memset(key, 0, sizeof(key));
	strlcpy(key, ledger, sizeof(key));
	l = hash_search(e->more_ledgers, key, HASH_ENTER, &found);
	if (!found)
	{
		l->entry_id = ledger_nextval(SEQ_ENTRIES);
		l->applied = false;
	}
	return l;
}

int64
entries_entry_for(OpenEntry *e, const char *ledger)
{
	return entry_of(e, ledger)->entry_id;
}

int64
entries_entry_applied(OpenEntry *e, const char *ledger)
{
	LedgerEntry *l = entry_of(e, ledger);

	l->applied = true;
	return l->entry_id;
}

void
entries_foreach(OpenEntry *e, EntryVisitor visit, void *arg)
{
	for (int i = 0; i < e->nledgers; i++)
		if (e->ledgers[i].applied)
			visit(e->ledgers[i].ledger, e->ledgers[i].entry_id, arg);
	if (e->more_ledgers != NULL)
	{
		HASH_SEQ_STATUS status;
		LedgerEntry *l;

		hash_seq_init(&status, e->more_ledgers);
		while ((l = hash_seq_search(&status)) != NULL)
			if (l->applied)
				visit(l->ledger, l->entry_id, arg);
	}
}

TimestampTz
entries_statement_time(OpenEntry *e)
{
	return e->posted_at;
}

StatementHold *
entries_statement_hold(OpenEntry *e)
{
	return &e->last_hold;
}

void
entries_statement_end(void)
{
	if (open_entries == NULL)
		no_open_entry();
	pop_entry();
}

void
entries_preassign(int64 entry_id, const char *ledger)
{
	check_ledger_length(ledger);
	strlcpy(preassigned_ledger, ledger, sizeof(preassigned_ledger));
	preassigned_entry = entry_id;
}

void
entries_preassign_clear(void)
{
	preassigned_entry = 0;
}
