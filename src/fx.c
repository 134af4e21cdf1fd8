/*
 * fx.c
 *	  Payments between currencies: payments.post_fx_transfer(),
 *	  payments.reverse_fx_transfer() and payments.convert_at_rate().
 *
 * An FX payment is one entry of two transfers through the ledger's FX
 * accounts (payments.fx_accounts, one per ledger and currency, declared by
 * payments.create_fx_account()): from_account pays amount into the FX
 * account of amount's currency, and the FX account of the target currency
 * pays the converted amount to to_account.  The posting engine applies the
 * two as it applies any entry: all or none, accounts locked once in order,
 * limits checked in order.
 *
 * Its row in payments.fx_entries records how the second amount came from
 * the first, for good: the rate as an exact fraction, the rounding, and
 * where the rate came from (the stored rates used, copied; or the caller's
 * quote).  The rule is one function, fx_apply(): converted = amount *
 * numerator / denominator, rounded once to the target's minor unit.  The
 * API computes with it, convert_at_rate() exposes it, and verify_ledger()
 * recomputes every FX entry with it.  A rate taken from the stored rates is
 * the factor payments.convert() applies (conversion_route()), so an FX
 * payment books exactly what convert() returns at that time.
 *
 * Refunds.  reverse_fx_transfer() gives the customer back an amount in the
 * currency it paid and takes its worth back from the merchant: by default
 * at the original rate and rounding, on the running total refunded, so that
 * refunding everything, in any number of parts, gives back exactly the two
 * original amounts and leaves the FX positions as they were; or, if asked,
 * at today's stored rate, the FX accounts then bearing the difference.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/numeric.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bignat.h"
#include "conversion.h"
#include "currency.h"
#include "entries.h"
#include "fx.h"
#include "ledger.h"
#include "ledger_access.h"
#include "outcomes.h"
#include "lifecycle.h"
#include "monetary.h"
#include "ratio.h"
#include "transfer_api.h"

PG_FUNCTION_INFO_V1(fx_convert_at_rate);

/*
 * Significant digits of a rate's numerator or denominator: enough for the
 * product of two stored rates (38 each), within what ratio_apply() takes.
 */
#define RATE_PART_DIGITS	76

/* rates ------------------------------------------------------------------- */

/* One part of a rate, a positive numeric, as a 256-bit mantissa and a power of ten. */
static void
rate_part(Datum value, const char *name, amount_uint part[2], int *exponent)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, value));
	char	   *digits = palloc(strlen(s) + 1);
	int			n = 0,
				frac = 0;
	bool		point = false;
	BigNat		b;

	for (const char *p = s; *p; p++)
	{
		if (*p == '.')
			point = true;
		else if (*p >= '0' && *p <= '9')
		{
			if (point)
				frac++;
			if (n > 0 || *p != '0')
				digits[n++] = *p;
		}
		else
			n = -1;				/* a sign, NaN, Infinity */
		if (n < 0)
			break;
	}
	/* trailing zeros go to the exponent */
	while (n > 0 && digits[n - 1] == '0')
	{
		n--;
		frac--;
	}
	if (n <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a positive number, not %s", name, s)));
	if (n > RATE_PART_DIGITS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s %s has more than %d significant digits", name, s,
						RATE_PART_DIGITS)));
	bignat_from_u128(&b, 0);
	for (int i = 0; i < n; i++)
		(void) bignat_mul_small(&b, 10, (uint32_t) (digits[i] - '0'));
	(void) bignat_to_pair(&b, part);
	*exponent = -frac;
	pfree(digits);
	pfree(s);
}

/* The rate numerator / denominator (numerics) as an exact factor. */
static void
rate_from_numerics(Datum numerator, Datum denominator, Ratio *rate)
{
	int			num_exp,
				den_exp;

	rate_part(numerator, "rate_numerator", rate->num, &num_exp);
	rate_part(denominator, "rate_denominator", rate->den, &den_exp);
	rate->exp10 = num_exp - den_exp;
}

/* A part's digits without trailing zeros; returns how many zeros were dropped. */
static int
rate_part_digits(const amount_uint part[2], char *digits)
{
	BigNat		b;
	int			n,
				zeros = 0;

	bignat_from_pair(&b, part);
	n = bignat_to_decimal(&b, digits);
	while (n > 1 && digits[n - 1] == '0')
	{
		digits[--n] = '\0';
		zeros++;
	}
	return zeros;
}

/*
 * The factor as the numerics fx_entries records, canonically: the
 * denominator an integer without trailing zeros, the numerator with the
 * powers of ten (1.0842/1, 10000/9223, 168.5931/1).
 */
static void
rate_to_numerics(const Ratio *rate, Datum *numerator, Datum *denominator)
{
	char		num[BIGNAT_DECIMAL_MAX];
	char		den[BIGNAT_DECIMAL_MAX];
	int			num_zeros = rate_part_digits(rate->num, num);
	int			den_zeros = rate_part_digits(rate->den, den);

	*numerator = numeric_from_digits(num, rate->exp10 + num_zeros - den_zeros);
	*denominator = numeric_from_digits(den, 0);
}

/*
 * The rule of every FX entry: amount converted to the currency to at the
 * rate, the exact product rounded once by mode.
 */
static amount_int
fx_apply(const Ratio *rate, const Monetary *amount, currency_code to, RoundingMode mode)
{
	amount_int	result = 0;
	AmountStatus status = ratio_apply(rate, amount->units,
									  currency_scale(to) - currency_scale(amount->currency),
									  mode, &result);

	if (status == AMOUNT_INEXACT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("converting %s to %s needs rounding",
						monetary_to_cstring(amount), currency_to_cstring(to)),
				 errdetail("The exact result is not a whole number of minor units of %s, and rounding mode unnecessary refuses to round.",
						   currency_to_cstring(to)),
				 errhint("Convert with another rounding mode, such as half_even.")));
	if (status != AMOUNT_OK)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("converting %s to %s is out of range",
						monetary_to_cstring(amount), currency_to_cstring(to)),
				 errdetail("An amount holds at most %d digits of minor units.",
						   AMOUNT_MAX_DIGITS)));
	return result;
}

/*
 * payments.convert_at_rate(monetary, to currency, rate_numerator numeric,
 * rate_denominator numeric, mode rounding_mode) -> monetary
 */
Datum
fx_convert_at_rate(PG_FUNCTION_ARGS)
{
	Monetary   *amount = PG_GETARG_MONETARY_P(0);
	currency_code to = PG_GETARG_CURRENCY(1);
	RoundingMode mode = rounding_mode_from_datum(PG_GETARG_DATUM(4));
	Ratio		rate;

	rate_from_numerics(PG_GETARG_DATUM(2), PG_GETARG_DATUM(3), &rate);
	PG_RETURN_MONETARY_P(monetary_make(fx_apply(&rate, amount, to, mode), to));
}

/* A time in ISO 8601, as JSON writes it. */
static void
append_json_time(StringInfo buf, TimestampTz t)
{
	char		text[MAXDATELEN + 1];

	appendStringInfoChar(buf, '"');
	appendStringInfoString(buf, JsonEncodeDateTime(text, TimestampTzGetDatum(t),
												   TIMESTAMPTZOID, NULL));
	appendStringInfoChar(buf, '"');
}

/* The stored rates a route used, as fx_entries.rates records them. */
static Datum
route_rates_json(const ConversionRoute *route)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < route->nlegs; i++)
	{
		const ConversionLeg *leg = &route->legs[i];
		char		code[CURRENCY_TEXT_MAX];
		char		rate[AMOUNT_TEXT_MAX];

		appendStringInfoString(&buf, i == 0 ? "{\"from\": " : ", {\"from\": ");
		currency_format_code(leg->from, code);
		escape_json(&buf, code);
		appendStringInfoString(&buf, ", \"to\": ");
		currency_format_code(leg->to, code);
		escape_json(&buf, code);
		amount_format(leg->rate.mantissa, 0, rate);
		appendStringInfo(&buf, ", \"rate\": %s, \"valid_from\": ",
						 DatumGetCString(DirectFunctionCall1(numeric_out,
															 numeric_from_digits(rate, leg->rate.exponent))));
		append_json_time(&buf, leg->valid_from);
		appendStringInfoString(&buf, ", \"source\": ");
		if (leg->source)
			escape_json(&buf, leg->source);
		else
			appendStringInfoString(&buf, "null");
		appendStringInfo(&buf, ", \"inverse\": %s}", leg->inverse ? "true" : "false");
	}
	appendStringInfoChar(&buf, ']');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/* an FX entry ------------------------------------------------------------- */

/* Set while reverse_fx_transfer() inserts its legs: the reversals of FX legs it may write. */
static bool writing_refund = false;


/* An FX entry as the API writes it: its row in fx_entries, and its legs. */
typedef struct FxEntry
{
	Oid			monetary_oid;
	const char *ledger;
	int64		entry_id;
	int64		from_account;
	int64		to_account;
	Monetary	amount;
	Monetary	converted;
	Ratio		rate;
	const char *rounding;		/* the rounding_mode's label */
	const char *basis;			/* stored, quoted or original */
	TimestampTz rate_at;
	Datum		rates;			/* jsonb, or 0 */
	Datum		quote;			/* text, or 0 */
	int64		reverses_entry; /* 0: a payment */
	Monetary	refunded_before;	/* basis original */
	Datum		key;			/* the entry's, or 0 */
	Datum		metadata;		/* the entry's, or 0 */
	/* a refund's: the original's legs it reverses (0: none) */
	int64		reverses_paying;
	int64		reverses_receiving;
} FxEntry;

/* The ledger's FX accounts in two currencies: one look-up for both legs. */
static LedgerPlan fx_accounts_plan = {
	"SELECT (SELECT x.account_id FROM payments.fx_accounts x "
	"         WHERE x.ledger OPERATOR(pg_catalog.=) $1 "
	"           AND x.currency OPERATOR(@monetary@.=) $2::@monetary@.currency), "
	"       (SELECT x.account_id FROM payments.fx_accounts x "
	"         WHERE x.ledger OPERATOR(pg_catalog.=) $1 "
	"           AND x.currency OPERATOR(@monetary@.=) $3::@monetary@.currency)",
	3, {TEXTOID, TEXTOID, TEXTOID}
};

static void pg_attribute_noreturn()
refuse_no_fx_account(const char *ledger, currency_code currency)
{
	char	   *code = currency_to_cstring(currency);

	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("ledger \"%s\" has no FX account in %s", ledger, code),
			 errdetail("Payments between currencies go through the ledger's FX account in each currency."),
			 errhint("Declare it with payments.create_fx_account('%s', '%s').", code, ledger),
			 errledger("fx_accounts", "currency", "fx_accounts_pkey")));
}

/*
 * The ledger's FX accounts in the currencies of the two legs, or an error
 * saying how to declare the one missing.
 */
static void
fx_accounts(const FxEntry *e, currency_code paid, currency_code received,
			int64 *paid_account, int64 *received_account)
{
	Datum		args[3] = {CStringGetTextDatum(e->ledger),
		CStringGetTextDatum(currency_to_cstring(paid)),
	CStringGetTextDatum(currency_to_cstring(received))};
	bool		paid_null,
				received_null;

	if (SPI_execute_plan(ledger_plan(&fx_accounts_plan, e->monetary_oid), args, NULL,
						 false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute_plan failed looking up FX accounts");
	*paid_account = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
												1, &paid_null));
	*received_account = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
													2, &received_null));
	if (paid_null)
		refuse_no_fx_account(e->ledger, paid);
	if (received_null)
		refuse_no_fx_account(e->ledger, received);
}

/*
 * The entry's legs, in order, as one statement (one entry): from_account
 * pays into the FX account of what it pays, the FX account of what
 * to_account gets pays it.  A leg whose amount is null is left out.
 */
static LedgerPlan insert_legs_plan = {
	"INSERT INTO payments.transfers (ledger, from_account, to_account, amount, reverses) "
	"SELECT $1, v.f, v.t, v.a, v.r "
	"  FROM (VALUES (1, $2, $3, $4, $5), (2, $6, $7, $8, $9)) AS v(n, f, t, a, r) "
	" WHERE v.a IS NOT NULL ORDER BY v.n "
	"RETURNING id",
	9, {TEXTOID, INT8OID, INT8OID, MONETARY_PARAM, INT8OID, INT8OID, INT8OID, MONETARY_PARAM,
	INT8OID}
};

static LedgerPlan insert_fx_entry_plan = {
	"INSERT INTO payments.fx_entries (ledger, entry_id, from_account, to_account, amount, "
	"       converted, rate_numerator, rate_denominator, rounding, basis, rate_at, rates, quote, "
	"       reverses_entry, refunded_before, created_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::@monetary@.rounding_mode, $10, $11, $12, "
	"        $13, $14, $15, pg_catalog.statement_timestamp())",
	15, {TEXTOID, INT8OID, INT8OID, INT8OID, MONETARY_PARAM, MONETARY_PARAM, NUMERICOID,
	NUMERICOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, JSONBOID, TEXTOID, INT8OID, MONETARY_PARAM}
};

/* Posts the entry's legs and writes its row; inside SPI. */
static void
fx_entry_write(FxEntry *e)
{
	bool		refund = e->reverses_entry != 0;
	const Monetary *paid = refund ? &e->converted : &e->amount;
	const Monetary *received = refund ? &e->amount : &e->converted;
	Datum		legs[9];
	char		leg_nulls[9];
	Datum		row[15];
	char		row_nulls[15];
	int64		paid_fx,
				received_fx;
	volatile int ret = 0;

	fx_accounts(e, paid->currency, received->currency, &paid_fx, &received_fx);
	memset(leg_nulls, ' ', sizeof(leg_nulls));
	legs[0] = CStringGetTextDatum(e->ledger);
	legs[1] = Int64GetDatum(e->from_account);
	legs[2] = Int64GetDatum(paid_fx);
	legs[3] = MonetaryPGetDatum(paid);
	legs[4] = Int64GetDatum(e->reverses_paying);
	leg_nulls[4] = e->reverses_paying ? ' ' : 'n';
	/* a refund's leg of nothing (a rounded share of zero) is left out */
	leg_nulls[3] = paid->units == 0 ? 'n' : ' ';
	legs[5] = Int64GetDatum(received_fx);
	legs[6] = Int64GetDatum(e->to_account);
	legs[7] = MonetaryPGetDatum(received);
	legs[8] = Int64GetDatum(e->reverses_receiving);
	leg_nulls[8] = e->reverses_receiving ? ' ' : 'n';

	entries_preassign(e->entry_id, e->ledger);
	writing_refund = refund;
	PG_TRY();
	{
		ret = SPI_execute_plan(ledger_plan(&insert_legs_plan, e->monetary_oid), legs, leg_nulls,
							   false, 0);
	}
	PG_FINALLY();
	{
		entries_preassign_clear();
		writing_refund = false;
	}
	PG_END_TRY();
	if (ret != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "inserting the transfers of FX entry %lld failed", (long long) e->entry_id);

	memset(row_nulls, ' ', sizeof(row_nulls));
	row[0] = CStringGetTextDatum(e->ledger);
	row[1] = Int64GetDatum(e->entry_id);
	row[2] = Int64GetDatum(e->from_account);
	row[3] = Int64GetDatum(e->to_account);
	row[4] = MonetaryPGetDatum(&e->amount);
	row[5] = MonetaryPGetDatum(&e->converted);
	rate_to_numerics(&e->rate, &row[6], &row[7]);
	row[8] = CStringGetTextDatum(e->rounding);
	row[9] = CStringGetTextDatum(e->basis);
	row[10] = TimestampTzGetDatum(e->rate_at);
	row[11] = e->rates;
	row_nulls[11] = e->rates ? ' ' : 'n';
	row[12] = e->quote;
	row_nulls[12] = e->quote ? ' ' : 'n';
	row[13] = Int64GetDatum(e->reverses_entry);
	row_nulls[13] = refund ? ' ' : 'n';
	row[14] = MonetaryPGetDatum(&e->refunded_before);
	row_nulls[14] = strcmp(e->basis, "original") == 0 ? ' ' : 'n';
	if (ledger_execute_write(ledger_plan(&insert_fx_entry_plan, e->monetary_oid), row,
							 row_nulls) != SPI_OK_INSERT)
		elog(ERROR, "writing FX entry %lld failed", (long long) e->entry_id);
}

/*
 * The FX entry posted with the entry's key: what the request was.  The
 * request is its accounts, amount (unless the ledger chose it), target
 * currency, rounding, basis, quote, what it refunds and metadata; not the
 * time of the rates, which a retry sends anew.
 */
static LedgerPlan replay_fx_entry_plan = {
	"SELECT e.id, f.entry_id IS NOT NULL, f.from_account, f.to_account, f.amount, "
	"       f.converted, f.rate_numerator, f.rate_denominator, f.rounding::pg_catalog.text, "
	"       f.basis, f.quote, f.reverses_entry, "
	"       coalesce(e.metadata OPERATOR(pg_catalog.=) $3, e.metadata IS NULL AND $3 IS NULL) "
	"  FROM payments.entries e "
	"  LEFT JOIN payments.fx_entries f ON f.ledger OPERATOR(pg_catalog.=) e.ledger "
	"                                  AND f.entry_id OPERATOR(pg_catalog.=) e.id "
	" WHERE e.ledger OPERATOR(pg_catalog.=) $1 AND e.idempotency_key OPERATOR(pg_catalog.=) $2",
	3, {TEXTOID, TEXTOID, JSONBOID}
};

static bool
same_money(const Monetary *a, const Monetary *b)
{
	return a->units == b->units && a->currency == b->currency;
}

static bool
same_text(Datum stored, bool stored_null, Datum given)
{
	if (stored_null || given == 0)
		return stored_null && given == 0;
	return DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID, stored, given));
}

static Datum
numeric_one(void)
{
	return DirectFunctionCall1(int4_numeric, Int32GetDatum(1));
}

static bool
same_numeric(Datum a, Datum b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, a, b)) == 0;
}

/*
 * The key is taken: returns the entry if it is this request, else raises
 * 23I01.  quoted_rate (numeric) and to_amount are the quote's, if any.
 */
static int64
fx_replay(const FxEntry *req, bool amount_chosen, Datum quoted_rate, const Monetary *to_amount)
{
	Datum		args[3] = {CStringGetTextDatum(req->ledger), req->key, req->metadata};
	char		nulls[3] = {' ', ' ', req->metadata ? ' ' : 'n'};
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull,
				quote_null;
	int64		id;
	bool		same;

	if (SPI_execute_plan(ledger_plan(&replay_fx_entry_plan, req->monetary_oid), args, nulls,
						 false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "entry with idempotency key \"%s\" conflicted but was not found",
			 TextDatumGetCString(req->key));
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	id = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
	same = DatumGetBool(SPI_getbinval(row, desc, 2, &isnull));
	if (same)
	{
		Monetary   *amount = DatumGetMonetaryP(SPI_getbinval(row, desc, 5, &isnull));
		Monetary   *converted = DatumGetMonetaryP(SPI_getbinval(row, desc, 6, &isnull));
		Datum		quote = SPI_getbinval(row, desc, 11, &quote_null);
		Datum		reverses = SPI_getbinval(row, desc, 12, &isnull);

		same = DatumGetInt64(SPI_getbinval(row, desc, 3, &isnull)) == req->from_account &&
			DatumGetInt64(SPI_getbinval(row, desc, 4, &isnull)) == req->to_account &&
			(amount_chosen ? amount->currency == req->amount.currency :
			 same_money(amount, &req->amount)) &&
			converted->currency == req->converted.currency &&
			strcmp(TextDatumGetCString(SPI_getbinval(row, desc, 9, &isnull)),
				   req->rounding) == 0 &&
			strcmp(TextDatumGetCString(SPI_getbinval(row, desc, 10, &isnull)), req->basis) == 0 &&
			same_text(quote, quote_null, req->quote) &&
			(isnull ? 0 : DatumGetInt64(reverses)) == req->reverses_entry &&
			DatumGetBool(SPI_getbinval(row, desc, 13, &isnull));
		if (same && quoted_rate)
			same = same_numeric(SPI_getbinval(row, desc, 7, &isnull), quoted_rate) &&
				same_numeric(SPI_getbinval(row, desc, 8, &isnull), numeric_one());
		if (same && to_amount)
			same = same_money(converted, to_amount);
	}
	if (!same)
		api_key_reused(TextDatumGetCString(req->key), "entry", id, req->ledger);
	return id;
}

static void
require(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

static const char *
rounding_label(Datum mode)
{
	return DatumGetCString(DirectFunctionCall1(enum_out, mode));
}

/* A converted amount of nothing: the payee would get nothing for what is paid. */
static void
refuse_nothing(const Monetary *amount, currency_code to)
{
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("%s converts to nothing in %s", monetary_to_cstring(amount),
					currency_to_cstring(to)),
			 errdetail("An FX payment credits a positive amount."),
			 errledger("transfers", "amount", "transfers_amount_positive")));
}

/*
 * payments.post_fx_transfer(from_account, to_account, amount, to_currency,
 * at, mode, idempotency_key, metadata, rate, to_amount, quote)
 */
OUTCOME_COUNTED_FUNCTION(ledger_post_fx_transfer)
{
	FxEntry		e = {0};
	Monetary   *amount;
	Monetary   *to_amount = PG_ARGISNULL(9) ? NULL : PG_GETARG_MONETARY_P(9);
	Datum		quoted_rate = PG_ARGISNULL(8) ? (Datum) 0 : PG_GETARG_DATUM(8);
	currency_code to_currency;
	RoundingMode mode;

	payments_require_sql_version();
	require(fcinfo, 0, "from_account");
	require(fcinfo, 1, "to_account");
	require(fcinfo, 2, "amount");
	require(fcinfo, 3, "to_currency");
	require(fcinfo, 4, "at");
	require(fcinfo, 5, "mode");
	amount = PG_GETARG_MONETARY_P(2);
	to_currency = PG_GETARG_CURRENCY(3);
	mode = rounding_mode_from_datum(PG_GETARG_DATUM(5));

	if (quoted_rate && to_amount)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a quote gives rate or to_amount, not both")));
	if (!PG_ARGISNULL(10) && !quoted_rate && !to_amount)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quote names a quote but gives neither its rate nor its to_amount")));
	if (to_amount && to_amount->currency != to_currency)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("to_amount %s is not in to_currency %s",
						monetary_to_cstring(to_amount), currency_to_cstring(to_currency))));
	if (amount->currency == to_currency)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("amount %s is already in %s", monetary_to_cstring(amount),
						currency_to_cstring(to_currency)),
				 errhint("Pay within one currency with payments.post_transfer().")));
	if (amount->units <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("amount must be positive, not %s", monetary_to_cstring(amount)),
				 errledger("transfers", "amount", "transfers_amount_positive")));

	e.monetary_oid = get_fn_expr_argtype(fcinfo->flinfo, 2);
	e.from_account = PG_GETARG_INT64(0);
	e.to_account = PG_GETARG_INT64(1);
	e.amount = *amount;
	e.converted.currency = to_currency;
	e.rounding = rounding_label(PG_GETARG_DATUM(5));
	e.basis = quoted_rate || to_amount ? "quoted" : "stored";
	e.rate_at = PG_GETARG_TIMESTAMPTZ(4);
	e.quote = PG_ARGISNULL(10) ? (Datum) 0 : PG_GETARG_DATUM(10);
	e.key = PG_ARGISNULL(6) ? (Datum) 0 : PG_GETARG_DATUM(6);
	e.metadata = PG_ARGISNULL(7) ? (Datum) 0 : PG_GETARG_DATUM(7);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	e.ledger = ledger_account_ledger(e.from_account);
	e.entry_id = ledger_nextval(SEQ_ENTRIES);
	if (!api_claim_entry(e.ledger, e.entry_id, e.key, e.metadata))
	{
		int64		id = fx_replay(&e, false, quoted_rate, to_amount);

		SPI_finish();
		PG_RETURN_INT64(id);
	}

	if (to_amount)
	{
		/* the quote's two amounts: the rate is their exact ratio */
		Decimal		to_major = {to_amount->units, -currency_scale(to_currency)};
		Decimal		from_major = {amount->units, -currency_scale(amount->currency)};
		Ratio		a,
					b;

		if (to_amount->units <= 0)
			refuse_nothing(amount, to_currency);
		ratio_from_decimal(to_major, false, &a);
		ratio_from_decimal(from_major, true, &b);
		ratio_mul(&a, &b, &e.rate);
	}
	else if (quoted_rate)
		rate_from_numerics(quoted_rate, numeric_one(), &e.rate);
	else
	{
		ConversionRoute route;

		conversion_route(conversion_cache(fcinfo->flinfo), amount->currency, to_currency,
						 e.rate_at, &route);
		e.rate = route.factor;
		e.rates = route_rates_json(&route);
	}
	e.converted.units = fx_apply(&e.rate, amount, to_currency, mode);
	if (e.converted.units <= 0)
		refuse_nothing(amount, to_currency);

	fx_entry_write(&e);
	SPI_finish();
	PG_RETURN_INT64(e.entry_id);
}

/* refunds ----------------------------------------------------------------- */

/*
 * The FX entry an id names, and its legs: the one from_account paid (into
 * the FX account) and the one to_account received.
 */
static LedgerPlan original_fx_entry_plan = {
	"SELECT f.ledger, f.from_account, f.to_account, f.amount, f.converted, f.rate_numerator, "
	"       f.rate_denominator, f.rounding, f.rate_at, f.rates, "
	"       f.reverses_entry, "
	"       (SELECT t.id FROM payments.transfers t WHERE t.ledger OPERATOR(pg_catalog.=) f.ledger "
	"           AND t.entry_id OPERATOR(pg_catalog.=) f.entry_id "
	"           AND t.from_account OPERATOR(pg_catalog.=) f.from_account), "
	"       (SELECT t.id FROM payments.transfers t WHERE t.ledger OPERATOR(pg_catalog.=) f.ledger "
	"           AND t.entry_id OPERATOR(pg_catalog.=) f.entry_id "
	"           AND t.to_account OPERATOR(pg_catalog.=) f.to_account) "
	"  FROM payments.fx_entries f "
	" WHERE f.entry_id OPERATOR(pg_catalog.=) $1 "
	"   AND f.ledger OPERATOR(pg_catalog.=) (SELECT t.ledger FROM payments.transfers t "
	"                                        WHERE t.entry_id OPERATOR(pg_catalog.=) $1 LIMIT 1)",
	1, {INT8OID}
};

/* The original's legs, locked in id order as the engine will lock them. */
static LedgerPlan lock_fx_legs_plan = {
	"SELECT FROM payments.transfers "
	" WHERE ledger OPERATOR(pg_catalog.=) $1 AND entry_id OPERATOR(pg_catalog.=) $2 "
	" ORDER BY id FOR NO KEY UPDATE",
	2, {TEXTOID, INT8OID}
};

/* What refunds at the original rate have given back so far. */
static LedgerPlan refunded_at_original_rate_plan = {
	"SELECT @monetary@.sum(f.amount) FROM payments.fx_entries f "
	" WHERE f.ledger OPERATOR(pg_catalog.=) $1 AND f.reverses_entry OPERATOR(pg_catalog.=) $2 "
	"   AND f.basis OPERATOR(pg_catalog.=) 'original'",
	2, {TEXTOID, INT8OID}
};

/*
 * The units refunds at the original rate gave back, as snapshot sees them;
 * InvalidSnapshot: as a new statement of the transaction would (READ
 * COMMITTED: those committed while we waited for the legs).
 */
static amount_int
refunded_at_original_rate(const FxEntry *e, Datum *args, Snapshot snapshot)
{
	bool		isnull;
	Datum		sum;
	amount_int	units;

	if (SPI_execute_snapshot(ledger_plan(&refunded_at_original_rate_plan, e->monetary_oid), args,
							 NULL, snapshot, InvalidSnapshot, snapshot != InvalidSnapshot, false,
							 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed reading the refunds of FX entry %lld",
			 (long long) e->reverses_entry);
	sum = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	units = isnull ? 0 : DatumGetMonetaryP(sum)->units;
	SPI_freetuptable(SPI_tuptable);
	return units;
}

bool
fx_writing_refund(void)
{
	return writing_refund;
}

int64
fx_entry_of_transfer(const char *ledger, int64 transfer)
{
	static LedgerPlan plan = {
		"SELECT f.entry_id FROM payments.transfers t "
		"  JOIN payments.fx_entries f ON f.ledger OPERATOR(pg_catalog.=) t.ledger "
		"                            AND f.entry_id OPERATOR(pg_catalog.=) t.entry_id "
		" WHERE t.ledger OPERATOR(pg_catalog.=) $1 AND t.id OPERATOR(pg_catalog.=) $2",
		2, {TEXTOID, INT8OID}
	};
	Datum		args[2] = {CStringGetTextDatum(ledger), Int64GetDatum(transfer)};
	bool		isnull;
	int64		entry = 0;

	if (SPI_execute_plan(ledger_plan(&plan, InvalidOid), args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed looking up the FX entry of transfer %lld",
			 (long long) transfer);
	if (SPI_processed > 0)
		entry = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
											&isnull));
	SPI_freetuptable(SPI_tuptable);
	return entry;
}

/*
 * payments.reverse_fx_transfer(entry, amount, at_original_rate,
 * idempotency_key, metadata)
 */
OUTCOME_COUNTED_FUNCTION(ledger_reverse_fx_transfer)
{
	int64		entry;
	bool		original_rate;
	FxEntry		e = {0};
	Monetary	paid;			/* the original's amount, and what it converted to */
	Monetary	got;
	Datum		numerator,
				denominator;
	Datum		args[2];
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	Monetary   *left;
	RoundingMode mode;

	payments_require_sql_version();
	require(fcinfo, 0, "entry");
	require(fcinfo, 2, "at_original_rate");
	entry = PG_GETARG_INT64(0);
	original_rate = PG_GETARG_BOOL(2);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = Int64GetDatum(entry);
	if (SPI_execute_plan(ledger_plan(&original_fx_entry_plan, InvalidOid), args, NULL,
						 false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed reading FX entry %lld", (long long) entry);
	if (SPI_processed == 0 ||
		!ledger_access_allowed(TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
																 SPI_tuptable->tupdesc, 1,
																 &isnull))))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("FX entry %lld does not exist", (long long) entry),
				 errhint("Refund an entry within one currency with payments.reverse_entry()."),
				 errledger("fx_entries", "entry_id", NULL)));
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	(void) SPI_getbinval(row, desc, 11, &isnull);
	if (!isnull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("entry %lld is itself a refund of an FX payment", (long long) entry),
				 errhint("Refund the payment it refunds, or pay again.")));

	/* the refund runs backwards: the payee pays, the payer gets back */
	e.monetary_oid = TupleDescAttr(desc, 3)->atttypid;
	e.ledger = TextDatumGetCString(SPI_getbinval(row, desc, 1, &isnull));
	e.to_account = DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
	e.from_account = DatumGetInt64(SPI_getbinval(row, desc, 3, &isnull));
	paid = *DatumGetMonetaryP(SPI_getbinval(row, desc, 4, &isnull));
	got = *DatumGetMonetaryP(SPI_getbinval(row, desc, 5, &isnull));
	numerator = SPI_getbinval(row, desc, 6, &isnull);
	denominator = SPI_getbinval(row, desc, 7, &isnull);
	mode = rounding_mode_from_datum(SPI_getbinval(row, desc, 8, &isnull));
	e.rounding = rounding_label(SPI_getbinval(row, desc, 8, &isnull));
	e.reverses_receiving = DatumGetInt64(SPI_getbinval(row, desc, 12, &isnull));
	if (isnull)
		elog(ERROR, "FX entry %lld has no leg from its from_account", (long long) entry);
	e.reverses_paying = DatumGetInt64(SPI_getbinval(row, desc, 13, &isnull));
	if (isnull)
		elog(ERROR, "FX entry %lld has no leg to its to_account", (long long) entry);
	if (original_rate)
	{
		e.basis = "original";
		e.rate_at = DatumGetTimestampTz(SPI_getbinval(row, desc, 9, &isnull));
		e.rates = SPI_getbinval(row, desc, 10, &isnull);
		/* kept past the next SPI call */
		e.rates = isnull ? (Datum) 0 : PointerGetDatum(PG_DETOAST_DATUM_COPY(e.rates));
		rate_from_numerics(numerator, denominator, &e.rate);
	}
	else
	{
		e.basis = "stored";
		e.rate_at = GetCurrentTransactionStartTimestamp();
		e.reverses_paying = 0;	/* a new conversion, not the original's money */
	}
	e.reverses_entry = entry;
	e.amount.currency = paid.currency;
	e.converted.currency = got.currency;
	e.refunded_before.currency = paid.currency;
	e.key = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	e.metadata = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
	if (!PG_ARGISNULL(1))
	{
		Monetary   *amount = PG_GETARG_MONETARY_P(1);

		if (amount->currency != paid.currency)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("refund amount %s is not in %s, the currency entry %lld was paid in",
							monetary_to_cstring(amount), currency_to_cstring(paid.currency),
							(long long) entry)));
		if (amount->units <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("amount must be positive, not %s", monetary_to_cstring(amount)),
					 errledger("transfers", "amount", "transfers_amount_positive")));
		e.amount = *amount;
	}

	e.entry_id = ledger_nextval(SEQ_ENTRIES);
	if (!api_claim_entry(e.ledger, e.entry_id, e.key, e.metadata))
	{
		int64		id = fx_replay(&e, PG_ARGISNULL(1), (Datum) 0, NULL);

		SPI_finish();
		PG_RETURN_INT64(id);
	}

	/* what is left and what went back before are read once the legs are ours */
	{
		Datum		lock_args[2] = {CStringGetTextDatum(e.ledger), Int64GetDatum(entry)};

		if (SPI_execute_plan(ledger_plan(&lock_fx_legs_plan, InvalidOid), lock_args, NULL,
							 false, 0) != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_plan failed locking the legs of FX entry %lld",
				 (long long) entry);
		left = api_unreversed(e.ledger, e.reverses_receiving, e.monetary_oid);
		if (PG_ARGISNULL(1))
		{
			if (left->units <= 0)
				api_refuse_fully_reversed(entry, "FX entry");
			e.amount = *left;
		}
		e.refunded_before.units = refunded_at_original_rate(&e, lock_args, InvalidSnapshot);

		/*
		 * Under a transaction snapshot, a refund committed since it was taken
		 * is not in the total: retrying sees it.
		 */
		if (IsolationUsesXactSnapshot() &&
			refunded_at_original_rate(&e, lock_args, GetLatestSnapshot()) != e.refunded_before.units)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to a concurrent refund of FX entry %lld",
							(long long) entry),
					 errhint("Retry the transaction.")));
	}

	if (original_rate)
	{
		/* the running total's share: all parts together convert as the whole */
		Monetary	total = e.refunded_before;
		amount_int	before = fx_apply(&e.rate, &total, got.currency, mode);

		if (amount_add(total.units, e.amount.units, &total.units) != AMOUNT_OK)
			amount_report(AMOUNT_OVERFLOW, "refunded total", paid.currency);
		e.converted.units = fx_apply(&e.rate, &total, got.currency, mode) - before;
	}
	else
	{
		ConversionRoute route;

		conversion_route(conversion_cache(fcinfo->flinfo), paid.currency, got.currency,
						 e.rate_at, &route);
		e.rate = route.factor;
		e.rates = route_rates_json(&route);
		e.converted.units = fx_apply(&e.rate, &e.amount, got.currency, mode);
		/* each part converts on its own: one of nothing would give money away */
		if (e.converted.units <= 0)
			refuse_nothing(&e.amount, got.currency);
	}

	fx_entry_write(&e);
	SPI_finish();
	PG_RETURN_INT64(e.entry_id);
}
