/*
 * table_writer.c
 *	  Writing rows of the ledger's own tables directly.
 *
 * The posting engine writes the legs of every transfer.  Through SPI each
 * statement would be planned, initialised, checked against the table's
 * constraints (parsed anew each time) and taken through its triggers, the
 * guard that refuses any writer but the ledger among them.  The engine is
 * the ledger: it writes the rows itself, heap tuple and index entries, as
 * PostgreSQL writes its own catalogs and as COPY does, and updates
 * accounts the way UPDATE does: find the row by its primary key, lock its
 * latest version, replace it.  What that skips is for other writers: the
 * rows it writes are whole and valid by construction, and no trigger on
 * those tables fires for them (logical decoding and replication see them as
 * any insert or update).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "table_writer.h"

static void
open_writer(TableWriter *w, Oid relid, bool indexes)
{
	w->rel = table_open(relid, RowExclusiveLock);
	w->estate = CreateExecutorState();
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, w->rel, 1, NULL, 0);
	if (indexes)
		ExecOpenIndices(w->rri, false);
	w->slot = table_slot_create(w->rel, NULL);
	w->cid = GetCurrentCommandId(true);
	w->pkey = NULL;
	w->pkey_scan = NULL;
	w->buffered = NULL;
	w->nbuffered = 0;
}

void
table_writer_open(TableWriter *w, Oid relid)
{
	open_writer(w, relid, true);
}

void
table_writer_open_for_lookup(TableWriter *w, Oid relid)
{
	open_writer(w, relid, false);
}

/* The primary key's index, and a scan key per column with its equality. */
static void
open_primary_key(TableWriter *w)
{
	Oid			pkey = RelationGetPrimaryKeyIndex(w->rel);
	int			ncols;

	if (!OidIsValid(pkey))
		elog(ERROR, "table \"%s\" has no primary key", RelationGetRelationName(w->rel));
	w->pkey = index_open(pkey, RowExclusiveLock);
	ncols = IndexRelationGetNumberOfKeyAttributes(w->pkey);
	/* kept as long as the writer, whatever context its caller is in */
	w->pkey_scan = MemoryContextAlloc(w->estate->es_query_cxt, ncols * sizeof(ScanKeyData));
	for (int i = 0; i < ncols; i++)
	{
		Oid			type = w->pkey->rd_opcintype[i];
		Oid			eq = get_opfamily_member(w->pkey->rd_opfamily[i], type, type,
											 BTEqualStrategyNumber);

		if (!OidIsValid(eq))
			elog(ERROR, "no equality for column %d of index \"%s\"", i + 1,
				 RelationGetRelationName(w->pkey));
		ScanKeyEntryInitialize(&w->pkey_scan[i], 0, i + 1, BTEqualStrategyNumber,
							   InvalidOid, w->pkey->rd_indcollation[i],
							   get_opcode(eq), (Datum) 0);
	}
}

/* Finds the row with the primary key's values key, as snapshot sees it, into w->slot. */
static bool
find_by_key(TableWriter *w, Datum *key, Snapshot snapshot)
{
	int			ncols;
	IndexScanDesc scan;
	bool		found;

	if (w->pkey == NULL)
		open_primary_key(w);
	ncols = IndexRelationGetNumberOfKeyAttributes(w->pkey);
	for (int i = 0; i < ncols; i++)
		w->pkey_scan[i].sk_argument = key[i];

	scan = index_beginscan(w->rel, w->pkey, snapshot, ncols, 0);
	index_rescan(scan, w->pkey_scan, ncols, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, w->slot);
	index_endscan(scan);
	return found;
}

bool
table_writer_fetch_latest(TableWriter *w, Datum *key)
{
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	bool		found = find_by_key(w, key, snapshot);

	UnregisterSnapshot(snapshot);
	return found;
}

/*
 * Locks the row find_by_key() left in w->slot.  latest: its latest version,
 * whatever the snapshot saw; otherwise, when the snapshot is the
 * transaction's, a version changed since is a serialization failure.
 */
static TableWriterLock
lock_found(TableWriter *w, Snapshot snapshot, bool latest, bool skip_locked)
{
	TM_FailureData tmfd;
	TM_Result	result;

	result = table_tuple_lock(w->rel, &w->slot->tts_tid, snapshot, w->slot, w->cid,
							  LockTupleNoKeyExclusive,
							  skip_locked ? LockWaitSkip : LockWaitBlock,
							  latest ? TUPLE_LOCK_FLAG_FIND_LAST_VERSION : 0, &tmfd);
	switch (result)
	{
		case TM_Ok:
			return ROW_LOCKED;
		case TM_WouldBlock:
			return ROW_BUSY;
		case TM_Updated:
		case TM_Deleted:
			if (!latest)
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent update"),
						 errhint("Retry the transaction.")));
			/* the row went away (neither table deletes rows): as if not found */
			return ROW_MISSING;
		case TM_SelfModified:
			/* as UPDATE says it: changed by a later command of this statement */
			ereport(ERROR,
					(errcode(ERRCODE_TRIGGERED_DATA_CHANGE_VIOLATION),
					 errmsg("row of \"%s\" to be updated was already modified by an operation triggered by the current command",
							RelationGetRelationName(w->rel))));
			break;
		default:
			elog(ERROR, "unexpected result %d locking a row of \"%s\"", (int) result,
				 RelationGetRelationName(w->rel));
	}
	pg_unreachable();
}

TableWriterLock
table_writer_lock_latest(TableWriter *w, Datum *key, bool skip_locked)
{
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	TableWriterLock result = ROW_MISSING;

	if (find_by_key(w, key, snapshot))
		result = lock_found(w, snapshot, true, skip_locked);
	UnregisterSnapshot(snapshot);
	return result;
}

bool
table_writer_lock(TableWriter *w, Datum *key)
{
	Snapshot	snapshot = GetActiveSnapshot();

	if (!find_by_key(w, key, snapshot))
		return false;
	return lock_found(w, snapshot, !IsolationUsesXactSnapshot(), false) == ROW_LOCKED;
}

/*
 * Indexes whose uniqueness is checked at the end of the statement or
 * transaction (DEFERRABLE) would need a recheck the executor schedules with
 * its triggers; the ledger's tables have none, and must not get one.
 */
static void
check_no_recheck(TableWriter *w, List *recheck)
{
	if (recheck != NIL)
		elog(ERROR, "table \"%s\" has a deferrable unique index, which the ledger cannot write",
			 RelationGetRelationName(w->rel));
}

/* A writer opened for look-ups would leave the indexes without the new rows. */
static void
require_indexes(TableWriter *w)
{
	if (w->rri->ri_IndexRelationDescs == NULL && RelationGetForm(w->rel)->relhasindex)
		elog(ERROR, "table \"%s\" was opened for look-ups, not to write rows",
			 RelationGetRelationName(w->rel));
}

void
table_writer_update(TableWriter *w, Datum *values, bool *nulls)
{
	TupleDesc	desc = RelationGetDescr(w->rel);
	ItemPointerData tid = w->slot->tts_tid;
#if PG_VERSION_NUM >= 160000
	TU_UpdateIndexes update_indexes;
#else
	bool		update_indexes;
#endif

	require_indexes(w);

	ExecClearTuple(w->slot);
	memcpy(w->slot->tts_values, values, desc->natts * sizeof(Datum));
	memcpy(w->slot->tts_isnull, nulls, desc->natts * sizeof(bool));
	ExecStoreVirtualTuple(w->slot);

	/* the row is locked: no concurrent change can get in the way */
	simple_table_tuple_update(w->rel, &tid, w->slot, GetActiveSnapshot(), &update_indexes);
	/*
	 * A HOT update (no indexed column changed) needs no index entry.  The
	 * others are inserted as plain ones (update = false): the hint that they
	 * come from an update, which only steers bottom-up index deletion, would
	 * need an executor range table the writer does not have.
	 */
#if PG_VERSION_NUM >= 160000
	if (update_indexes != TU_None && w->rri->ri_NumIndices > 0)
		check_no_recheck(w, ExecInsertIndexTuples(w->rri, w->slot, w->estate, false, false,
												  NULL, NIL, update_indexes == TU_Summarizing));
#else
	if (update_indexes && w->rri->ri_NumIndices > 0)
		check_no_recheck(w, ExecInsertIndexTuples(w->rri, w->slot, w->estate, false, false,
												  NULL, NIL));
#endif
	ResetPerTupleExprContext(w->estate);
}

void
table_writer_delete(TableWriter *w)
{
	/* the row is locked: no concurrent change can get in the way */
	simple_table_tuple_delete(w->rel, &w->slot->tts_tid, GetActiveSnapshot());
}

/* Writes the buffered rows: heap tuples several to a page, then their index entries. */
static void
table_writer_flush(TableWriter *w)
{
	if (w->nbuffered == 0)
		return;
	table_multi_insert(w->rel, w->buffered, w->nbuffered, w->cid, 0, NULL);
	for (int i = 0; i < w->nbuffered; i++)
	{
		if (w->rri->ri_NumIndices > 0)
#if PG_VERSION_NUM >= 160000
			check_no_recheck(w, ExecInsertIndexTuples(w->rri, w->buffered[i], w->estate,
													  false, false, NULL, NIL, false));
#else
			check_no_recheck(w, ExecInsertIndexTuples(w->rri, w->buffered[i], w->estate,
													  false, false, NULL, NIL));
#endif
		/* index expressions, if a DBA added any, are evaluated per row */
		ResetPerTupleExprContext(w->estate);
		ExecClearTuple(w->buffered[i]);
	}
	w->nbuffered = 0;
}

void
table_writer_insert(TableWriter *w, Datum *values, bool *nulls)
{
	TupleDesc	desc = RelationGetDescr(w->rel);
	TupleTableSlot *slot;

	require_indexes(w);

	/* the buffer lives as long as the writer, whatever context the caller is in */
	if (w->buffered == NULL)
		w->buffered = MemoryContextAllocZero(w->estate->es_query_cxt,
											 TABLE_WRITER_BUFFERED * sizeof(TupleTableSlot *));
	if (w->buffered[w->nbuffered] == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(w->estate->es_query_cxt);

		w->buffered[w->nbuffered] = table_slot_create(w->rel, NULL);
		MemoryContextSwitchTo(old);
	}
	slot = w->buffered[w->nbuffered++];
	ExecClearTuple(slot);
	memcpy(slot->tts_values, values, desc->natts * sizeof(Datum));
	memcpy(slot->tts_isnull, nulls, desc->natts * sizeof(bool));
	ExecStoreVirtualTuple(slot);
	/* a copy in the slot's own memory: the caller's values may not last */
	ExecMaterializeSlot(slot);
	if (w->nbuffered == TABLE_WRITER_BUFFERED)
		table_writer_flush(w);
}

void
table_writer_close(TableWriter *w)
{
	table_writer_flush(w);
	if (w->buffered != NULL)
		for (int i = 0; i < TABLE_WRITER_BUFFERED && w->buffered[i] != NULL; i++)
			ExecDropSingleTupleTableSlot(w->buffered[i]);
	if (w->pkey != NULL)
		index_close(w->pkey, NoLock);
	ExecDropSingleTupleTableSlot(w->slot);
	ExecCloseIndices(w->rri);
	FreeExecutorState(w->estate);
	table_close(w->rel, NoLock);
}

void
lazy_table_writer_init(LazyTableWriter *l, Oid relid, bool lookup, MemoryContext context)
{
	l->relid = relid;
	l->lookup = lookup;
	l->context = context;
	l->open = false;
}

TableWriter *
lazy_table_writer(LazyTableWriter *l)
{
	if (!l->open)
	{
		MemoryContext old = MemoryContextSwitchTo(l->context);

		open_writer(&l->writer, l->relid, !l->lookup);
		MemoryContextSwitchTo(old);
		l->open = true;
	}
	return &l->writer;
}

void
lazy_table_writer_close(LazyTableWriter *l)
{
	if (l->open)
		table_writer_close(&l->writer);
	l->open = false;
}
