/*
 * sql_version.h
 *	  The one version of the payments extension's SQL objects that this
 *	  library serves.
 */
#ifndef PAYMENTS_SQL_VERSION_H
#define PAYMENTS_SQL_VERSION_H

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

#endif							/* PAYMENTS_SQL_VERSION_H */
