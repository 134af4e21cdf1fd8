/*
 * change_feed.c
 *	  The change feed: which transaction posted each entry.
 *
 * Neither transfer ids nor created_at follow commit order: a transaction
 * that draws its ids first may commit last.  What does is visibility: a
 * transaction commits between the last snapshot that sees it in progress
 * and the first that sees it done.  So the ledger records, for each entry,
 * the full (epoch-qualified) id of the top-level transaction that posted it
 * (payments.entry_xacts), and payments.changes_since() returns the entries
 * whose transactions a reader's snapshot sees done and its cursor's snapshot
 * did not.  A transaction that commits late is in progress in the earlier
 * snapshot, and so returned later, never skipped; one that aborts takes its
 * rows here with it.
 *
 * One row per entry, not per transfer: a batch of thousands pays once.  The
 * row is written directly, as the engine writes postings (table_writer.c),
 * in the statement that posts the entry, so in its subtransaction too.
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/xid8.h"

#include "change_feed.h"
#include "ledger.h"
#include "table_writer.h"

typedef struct FeedWriter
{
	bool		open;
	TableWriter writer;
	int			ledger;			/* columns, 0-based */
	int			entry_id;
	int			xact_id;
	int			natts;
	FullTransactionId xact;
} FeedWriter;

static void
record_entry(const char *ledger, int64 entry_id, void *arg)
{
	FeedWriter *f = arg;
	Datum		values[8];
	bool		nulls[8];

	if (!f->open)
	{
		Relation	rel;

		table_writer_open(&f->writer, ledger_relation(REL_ENTRY_XACTS));
		rel = f->writer.rel;
		f->natts = RelationGetDescr(rel)->natts;
		if (f->natts > lengthof(values))
			elog(ERROR, "payments.entry_xacts has %d columns, more than expected", f->natts);
		f->ledger = ledger_column(rel, "ledger") - 1;
		f->entry_id = ledger_column(rel, "entry_id") - 1;
		f->xact_id = ledger_column(rel, "xact_id") - 1;
		f->open = true;
	}
	for (int i = 0; i < f->natts; i++)
		nulls[i] = true;
	values[f->ledger] = CStringGetTextDatum(ledger);
	values[f->entry_id] = Int64GetDatum(entry_id);
	values[f->xact_id] = FullTransactionIdGetDatum(f->xact);
	nulls[f->ledger] = nulls[f->entry_id] = nulls[f->xact_id] = false;
	table_writer_insert(&f->writer, values, nulls);
}

void
change_feed_record(OpenEntry *statement)
{
	FeedWriter	f = {0};

	/* the top-level transaction: snapshots list those, not subtransactions */
	f.xact = GetTopFullTransactionId();
	entries_foreach(statement, record_entry, &f);
	if (f.open)
		table_writer_close(&f.writer);
}
