/*
 * table_writer.h
 *	  Writing rows of the ledger's own tables directly, as PostgreSQL writes
 *	  its catalogs: heap and index entries, no executor, no trigger.
 */
#ifndef PAYMENTS_TABLE_WRITER_H
#define PAYMENTS_TABLE_WRITER_H

#include "postgres.h"

#include "access/skey.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "utils/rel.h"

typedef struct TableWriter
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;		/* the row written, or found and locked */
	CommandId	cid;
	Relation	pkey;			/* for table_writer_lock(): the primary key */
	ScanKeyData *pkey_scan;		/* its columns' equality, one per column */
	TupleTableSlot **buffered;	/* rows inserted, not yet written */
	int			nbuffered;
} TableWriter;

/* How many inserted rows are written at once, as COPY does. */
#define TABLE_WRITER_BUFFERED	1000

/* Opens a table (RowExclusiveLock) and its indexes for writing. */
extern void table_writer_open(TableWriter *w, Oid relid);

/*
 * Opens a table to find, lock and delete rows by its primary key, not to
 * insert or update them: its other indexes stay closed.
 */
extern void table_writer_open_for_lookup(TableWriter *w, Oid relid);

/*
 * Inserts a row given as a whole (values and nulls in column order; copied,
 * so the caller may free them): the heap tuple, then an entry in every
 * index, unique ones checked.  Rows are written TABLE_WRITER_BUFFERED at a
 * time, several to a heap page and WAL record, and the rest when the writer
 * is closed: nothing may read the table in between.
 */
extern void table_writer_insert(TableWriter *w, Datum *values, bool *nulls);

/*
 * Finds the row with the primary key's values key (one per key column, in
 * the key's order) and locks it FOR NO KEY UPDATE, waiting for whoever holds
 * it.  In READ COMMITTED that is its latest version, as UPDATE would; in
 * REPEATABLE READ and SERIALIZABLE a version changed since the transaction's
 * snapshot is a serialization failure (40001).  Leaves the row in w->slot;
 * returns false when there is none.
 */
extern bool table_writer_lock(TableWriter *w, Datum *key);

/*
 * The same for rows that are counters which the ledger alone changes, by
 * adding to them (a hot account's stripes): finds the row as a new snapshot
 * sees it and locks its latest version, in every isolation level.  With
 * skip_locked, does not wait for a row another transaction holds.
 */
typedef enum TableWriterLock
{
	ROW_LOCKED,
	ROW_MISSING,
	ROW_BUSY					/* held by another transaction (skip_locked) */
} TableWriterLock;

extern TableWriterLock table_writer_lock_latest(TableWriter *w, Datum *key, bool skip_locked);

/* Finds the row as a new snapshot sees it, without locking it, into w->slot. */
extern bool table_writer_fetch_latest(TableWriter *w, Datum *key);

/* Replaces the row table_writer_lock() left in w->slot by a whole new one. */
extern void table_writer_update(TableWriter *w, Datum *values, bool *nulls);

/* Deletes the row a lock left in w->slot. */
extern void table_writer_delete(TableWriter *w);

/* Writes what is buffered, and closes the table and its indexes. */
extern void table_writer_close(TableWriter *w);

/*
 * A writer opened (in context, for writing or only for look-ups) when it is
 * first needed, so that statements that need none open no table; closed, if
 * it was opened, by lazy_table_writer_close().
 */
typedef struct LazyTableWriter
{
	Oid			relid;
	bool		lookup;
	MemoryContext context;
	bool		open;
	TableWriter writer;
} LazyTableWriter;

extern void lazy_table_writer_init(LazyTableWriter *l, Oid relid, bool lookup,
								   MemoryContext context);
extern TableWriter *lazy_table_writer(LazyTableWriter *l);
extern void lazy_table_writer_close(LazyTableWriter *l);

#endif							/* PAYMENTS_TABLE_WRITER_H */
