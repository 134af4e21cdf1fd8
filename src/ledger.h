/*
 * ledger.h
 *	  The ledger's core: applying a transfer's legs to its accounts.
 */
#ifndef PAYMENTS_LEDGER_H
#define PAYMENTS_LEDGER_H

#include "postgres.h"

#include "executor/spi.h"

#include "monetary.h"

/* A replayed idempotency key whose request differs from the original. */
#define ERRCODE_IDEMPOTENCY_KEY_REUSED	MAKE_SQLSTATE('2','3','I','0','1')

/*
 * A statement the ledger keeps prepared.  Its parameter types include
 * monetary, whose OID changes when the extension is re-created, so the plan
 * remembers the OID it was made for.  The money operators live in the schema
 * extension monetary was created in: the statement names that schema
 * @monetary@, and ledger_plan() writes in the schema of the type it is given.
 */
typedef struct LedgerPlan
{
	const char *sql;
	int			nargs;
	Oid			argtypes[12];	/* MONETARY_PARAM stands for monetary */
	SPIPlanPtr	plan;
	Oid			monetary_oid;
} LedgerPlan;

#define MONETARY_PARAM	InvalidOid

extern SPIPlanPtr ledger_plan(LedgerPlan *p, Oid monetary_oid);

/* An account row, as the checks and the updates need it. */
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
} AccountRow;

/* Posted balance on the account's normal side, and what may still be spent. */
extern amount_int ledger_posted_balance(const AccountRow *a);
extern amount_int ledger_available_balance(const AccountRow *a);

/* Runs a plan that writes postings or volumes, which only the ledger may. */
extern int	ledger_execute_write(SPIPlanPtr plan, Datum *values, const char *nulls);
extern bool ledger_is_writing(void);

/* Applies a posted transfer: locks, checks and updates both accounts, writes the legs. */
extern void ledger_apply_transfer(Oid monetary_oid, int64 transfer_id,
								  const char *ledger, int64 from_account,
								  int64 to_account, const Monetary *amount);

/*
 * The ledger of an account, or an error when there is no such account; from
 * a per-backend cache, else read through SPI (which it connects itself).
 */
extern char *ledger_account_ledger(Oid monetary_oid, int64 account);


/*
 * Whether this backend's AFTER INSERT trigger applied the transfer in the
 * current transaction: the deferred balance check then knows its legs.
 */
extern bool ledger_applied_here(int64 transfer_id);

#endif							/* PAYMENTS_LEDGER_H */
