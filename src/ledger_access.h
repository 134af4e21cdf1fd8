/*
 * ledger_access.h
 *	  Ledgers as a security boundary: roles bound to ledgers
 *	  (payments.bind_role(); ledger_access.c).
 */
#ifndef PAYMENTS_LEDGER_ACCESS_H
#define PAYMENTS_LEDGER_ACCESS_H

#include "postgres.h"

/*
 * Who posts: the acting role's name, and the session user's when it is
 * another (else null), as the ledger records them on each transfer.
 */
extern void ledger_posted_by(Datum *posted_by, Datum *session, bool *session_null);

/* May the acting role use the ledger?  Roles bound to none may use all. */
extern bool ledger_access_allowed(const char *ledger);

/* The same, refusing with 42501 when it may not. */
extern void ledger_access_check(const char *ledger);

/*
 * May the acting role create or change accounts that may go negative or
 * are debit-normal (system accounts)?  Refuses with 42501 when it may not.
 */
extern void ledger_system_accounts_check(const char *what);

#endif							/* PAYMENTS_LEDGER_ACCESS_H */
