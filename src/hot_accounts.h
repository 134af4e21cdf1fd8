/*
 * hot_accounts.h
 *	  Hot accounts: volumes split over stripes, so that transfers which only
 *	  add to an account do not queue behind each other for its row.
 *
 * An account made hot (payments.set_hot()) gets rows 1..N in
 * payments.account_stripes, each holding volumes of its own; the account
 * row is stripe 0.  Its true volumes are the sum of its row and its
 * stripes, for good: stripes are never folded back or removed, so that a
 * posting's running balance (the running balance of the stripe it went to)
 * stays true.  A leg that cannot take an account below what it may hold
 * (a credit to a credit-normal account, say, or any leg of an account that
 * may go negative) goes to one stripe no one else holds, or to the row
 * when all are held; a leg that could goes to the row, with every stripe
 * locked, so that the limit is checked against the true total.
 */
#ifndef PAYMENTS_HOT_ACCOUNTS_H
#define PAYMENTS_HOT_ACCOUNTS_H

#include "postgres.h"

#include "ledger.h"
#include "table_writer.h"

#define HOT_STRIPES_DEFAULT		16
#define HOT_STRIPES_MAX			64

/*
 * How a hot account was when this backend last read the hot accounts (all
 * of them, through accounts_hot_idx, after any change to accounts' relcache
 * entry: set_hot() and a change of a hot account's allow_negative make
 * one).  A hint for the engine's choice of path, which it checks under its
 * locks: a stale one costs a wait or a retryable refusal (40001), never a
 * wrong balance.  hot_account_learn() keeps it current with what the engine
 * finds.
 */
typedef struct HotAccountHint
{
	int16		stripes;
	bool		debit_normal;
	bool		allow_negative;
} HotAccountHint;

extern bool hot_account_hint(int64 account, HotAccountHint *hint);
extern void hot_account_learn(const AccountRow *row);

/* What a hint holds changed: every backend reads the hot accounts afresh at commit. */
extern void hot_accounts_changed(void);

/* The columns of payments.account_stripes. */
typedef struct StripeColumns
{
	int			debits_posted;
	int			credits_posted;
	int			debits_pending;
	int			credits_pending;
} StripeColumns;

extern void hot_stripe_columns(Relation stripes, StripeColumns *cols);

/*
 * Locks one stripe of account (of ledger, a text datum) that no other
 * transaction holds, trying from one chosen by backend.  Returns its
 * number, its row in stripes->slot; or 0, having locked nothing, when all
 * are taken (the legs then go to the account row, which no credit on a
 * stripe holds) or the account has no stripe rows.
 */
extern int	hot_stripe_lock(TableWriter *stripes, Datum ledger, int64 account, int nstripes);

/*
 * Adds the volumes of the account's stripes 1..nstripes to those of *sum.
 * lock: lock each first, in stripe order, waiting for whoever holds it (so
 * that the sum stays true until the transaction ends); otherwise read them
 * as a new snapshot sees them.
 */
extern void hot_stripes_add(TableWriter *stripes, Datum ledger, int64 account,
							int nstripes, bool lock, AccountRow *sum);

/* The stripe's volumes into row's (which keeps the account's other fields). */
extern void hot_stripe_read(TableWriter *stripes, const StripeColumns *cols, AccountRow *row);

/*
 * Whether legs of these sums could take the account below what it may
 * hold: a leg on the side opposite to its normal one, when it may not go
 * negative.  Such legs are checked against the account's true total.
 */
extern bool hot_legs_need_total(bool debit_normal, bool allow_negative,
								amount_int debits, amount_int credits);

#endif							/* PAYMENTS_HOT_ACCOUNTS_H */
