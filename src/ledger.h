/*
 * ledger.h
 *	  What the ledger's parts share: its SQLSTATEs and limits, its prepared
 *	  statements, an account row, the account-to-ledger cache, and the flag
 *	  that marks the ledger's own writes.
 */
#ifndef PAYMENTS_LEDGER_H
#define PAYMENTS_LEDGER_H

#include "postgres.h"

#include "executor/spi.h"
#include "utils/relcache.h"

#include "monetary.h"

/*
 * SQLSTATEs of their own, one per outcome an application handles differently
 * (the README's error table).  The standard classes; a subclass starting with
 * a letter from I on is the implementation's to define.
 */
/* a replayed idempotency key whose request differs from the original */
#define ERRCODE_IDEMPOTENCY_KEY_REUSED	MAKE_SQLSTATE('2','3','I','0','1')
/* a business decline: the account that would go below zero may not */
#define ERRCODE_INSUFFICIENT_FUNDS		MAKE_SQLSTATE('2','3','L','0','1')
/* business declines: an account that is frozen, or closed */
#define ERRCODE_ACCOUNT_FROZEN			MAKE_SQLSTATE('5','5','L','0','1')
#define ERRCODE_ACCOUNT_CLOSED			MAKE_SQLSTATE('5','5','L','0','2')
/* a hold already captured, voided or expired: it is resolved once */
#define ERRCODE_HOLD_RESOLVED			MAKE_SQLSTATE('5','5','L','0','3')
/* a business decline: the hold is past its expires_at */
#define ERRCODE_HOLD_EXPIRED			MAKE_SQLSTATE('5','5','L','0','4')
/* reversals of a transfer would exceed it */
#define ERRCODE_REVERSAL_EXCEEDS		MAKE_SQLSTATE('2','3','L','0','2')

/* Lengths of the names the ledger keeps, in bytes. */
#define LEDGER_NAME_MAX_BYTES		64
#define ACCOUNT_NAME_MAX_BYTES		256
#define IDEMPOTENCY_KEY_MAX_BYTES	256

/*
 * The largest amount of one transfer, 10^19 minor units.  An account's
 * volume is a sum of at most one leg per transfer, and fewer than 2^63
 * transfers can ever be numbered, so no volume can pass 2^63 * 10^19 <
 * 10^38 - 1: no sequence of transfers can wedge an account at the top of
 * the range.
 */
#define TRANSFER_AMOUNT_MAX		((amount_int) UINT64CONST(10000000000000000000))

/*
 * A statement the ledger keeps prepared.  Its parameter types include
 * monetary (and monetary[]), whose OIDs change when the extension is
 * re-created, so the plan remembers the OID it was made for.  The money
 * operators live in the schema extension monetary was created in: the
 * statement names that schema @monetary@, and ledger_plan() writes in the
 * schema of the type it is given.
 */
typedef struct LedgerPlan
{
	const char *sql;
	int			nargs;
	Oid			argtypes[16];	/* or MONETARY_PARAM, MONETARY_ARRAY_PARAM */
	SPIPlanPtr	plan;
	Oid			monetary_oid;
} LedgerPlan;

#define MONETARY_PARAM			InvalidOid
#define MONETARY_ARRAY_PARAM	((Oid) 1)	/* no type has OID 1 */

extern SPIPlanPtr ledger_plan(LedgerPlan *p, Oid monetary_oid);

/* An account row, as the checks and the engine need it. */
typedef struct AccountRow
{
	int64		id;
	char	   *ledger;
	currency_code currency;
	bool		debit_normal;
	bool		allow_negative;
	char	   *status;
	Monetary	debits_posted;
	Monetary	credits_posted;
	Monetary	debits_pending;
	Monetary	credits_pending;
	bool		hot;			/* set_hot(): its legs go to its stripes */
	int16		stripes;		/* its rows in account_stripes, for good */
} AccountRow;

/* The account columns every statement that reads an account returns, in order. */
#define ACCOUNT_COLUMNS \
	"id, ledger, currency, normal_balance, allow_negative, status, " \
	"debits_posted, credits_posted, debits_pending, credits_pending, hot, stripes"

extern void ledger_read_account(HeapTuple tuple, TupleDesc desc, AccountRow *row);

/* Posted balance on the account's normal side, and what may still be spent. */
extern amount_int ledger_posted_balance(const AccountRow *a);
extern amount_int ledger_available_balance(const AccountRow *a);

/*
 * Raises the error that says why an account cannot take part in a transfer
 * of ledger and currency: not found, in another ledger, frozen (unless the
 * transfer moves no money in or out: a void or an expiry of a hold) or
 * closed, or in another currency.  Returns if it can.
 */
extern void ledger_check_account(const AccountRow *a, int64 account, int64 transfer,
								 const char *ledger, currency_code currency,
								 bool moves_money);
extern void ledger_account_missing(int64 account, bool by_transfer) pg_attribute_noreturn();

/* Runs a plan that writes entries, which only the ledger may (ledger_write_guard). */
extern int	ledger_execute_write(SPIPlanPtr plan, Datum *values, const char *nulls);
extern bool ledger_is_writing(void);

/*
 * The ledger of an account, or an error when there is no such account; from
 * a per-backend cache, else read through SPI (which it connects itself) with
 * a new snapshot: for the paths that write, not for STABLE readers.
 */
extern char *ledger_account_ledger(int64 account);
/* (To a role confined to other ledgers, their accounts do not exist.) */

/* A column of one of the ledger's tables, by name (cached per relation). */
extern int	ledger_column(Relation rel, const char *name);

/* The ledger's own relations, by OID (cached until the relcache changes). */
typedef enum LedgerRelation
{
	SEQ_ACCOUNTS,
	SEQ_TRANSFERS,
	SEQ_POSTINGS,
	SEQ_ENTRIES,
	REL_ACCOUNTS,
	REL_POSTINGS,
	REL_ACCOUNT_STRIPES,
	REL_TRANSFERS,
	REL_OPEN_HOLDS,
	REL_CLOSED_PERIODS,
	REL_ENTRY_XACTS,
	REL_ROLE_LEDGERS
} LedgerRelation;

extern Oid	ledger_relation(LedgerRelation rel);

/* nextval() of one of the ledger's sequences, without a privilege check. */
extern int64 ledger_nextval(LedgerRelation seq);

/*
 * Sets the diagnostic fields that PostgreSQL's own constraint errors set
 * (schema, table, column, constraint) for an error about a ledger table;
 * column and constraint may be NULL.  Use inside ereport().
 */
extern int	errledger(const char *table, const char *column, const char *constraint);

#endif							/* PAYMENTS_LEDGER_H */
