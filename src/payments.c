/*
 * payments.c
 *	  Module entry point and settings of the payments extension.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "currency_code.h"
#include "lifecycle.h"
#include "outcomes.h"
#include "payments.h"

PG_MODULE_MAGIC;

/* payments.base_currency: the currency that conversion triangulates through */
static char *base_currency_setting = NULL;
static currency_code base_currency = 0;

static bool
check_base_currency(char **newval, void **extra, GucSource source)
{
	currency_code c;

	if (currency_parse(*newval, strlen(*newval), &c) != CURRENCY_OK)
	{
		GUC_check_errdetail("\"%s\" is not a currency; write an ISO 4217 code, or CODE/SCALE.",
							*newval);
		return false;
	}
	*extra = malloc(sizeof(currency_code));
	if (*extra == NULL)
		return false;
	*(currency_code *) *extra = c;
	return true;
}

static void
assign_base_currency(const char *newval, void *extra)
{
	base_currency = *(currency_code *) extra;
}

currency_code
payments_base_currency(void)
{
	return base_currency;
}

void
_PG_init(void)
{
	DefineCustomStringVariable("payments.base_currency",
							   "Currency through which exchange rates are triangulated.",
							   "When no direct or inverse rate exists between two currencies, "
							   "conversion goes through this one.",
							   &base_currency_setting,
							   "USD",
							   /*
								* the DBA's: which rates post_fx_transfer() books must not be
								* the caller's to choose
								*/
							   PGC_SUSET,
							   0,
							   check_base_currency,
							   assign_base_currency,
							   NULL);
	DefineCustomBoolVariable("payments.allow_drop",
							 "Lets DROP EXTENSION payments delete a ledger that holds transfers.",
							 "While it is off, a statement that would drop extension payments "
							 "(DROP EXTENSION, DROP SCHEMA ... CASCADE, DROP OWNED) is refused "
							 "as long as the ledger holds a transfer.",
							 &payments_allow_drop,
							 false,
							 PGC_SUSET,
							 0,
							 NULL,
							 NULL,
							 NULL);
	outcomes_request_shmem();
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("payments");
#else
	EmitWarningsOnPlaceholders("payments");
#endif
}
