/*
 * lifecycle.h
 *	  What keeps the ledger safe across upgrades and drops: the library serves
 *	  one version of the extension's SQL objects, and DROP EXTENSION is
 *	  refused while the ledger holds transfers.
 */
#ifndef PAYMENTS_LIFECYCLE_H
#define PAYMENTS_LIFECYCLE_H

/* Set by the Makefile from EXTVERSION. */
#ifndef PAYMENTS_VERSION
#error "PAYMENTS_VERSION must be defined (the Makefile's EXTVERSION)"
#endif

/*
 * Raises an error unless the installed extension payments is at the version
 * this library was built for.  Every entry point of the ledger and of
 * conversion calls it first; after the first success in a backend it costs
 * a test of one flag.
 */
extern void payments_require_sql_version(void);

/* payments.allow_drop: lets DROP EXTENSION payments delete a ledger with transfers */
extern bool payments_allow_drop;

#endif							/* PAYMENTS_LIFECYCLE_H */
