/*
 * monetary.c
 *	  The monetary type's I/O, constructors, accessors and comparisons.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_enum.h"
#include "common/hashfn.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/numeric.h"
#include "utils/syscache.h"

#include "monetary.h"

PG_FUNCTION_INFO_V1(monetary_in);
PG_FUNCTION_INFO_V1(monetary_out);
PG_FUNCTION_INFO_V1(monetary_recv);
PG_FUNCTION_INFO_V1(monetary_send);
PG_FUNCTION_INFO_V1(monetary_from_numeric);
PG_FUNCTION_INFO_V1(monetary_from_numeric_rounded);
PG_FUNCTION_INFO_V1(monetary_amount);
PG_FUNCTION_INFO_V1(monetary_currency);
PG_FUNCTION_INFO_V1(monetary_minor_units);
PG_FUNCTION_INFO_V1(monetary_eq);
PG_FUNCTION_INFO_V1(monetary_ne);
PG_FUNCTION_INFO_V1(monetary_lt);
PG_FUNCTION_INFO_V1(monetary_le);
PG_FUNCTION_INFO_V1(monetary_gt);
PG_FUNCTION_INFO_V1(monetary_ge);
PG_FUNCTION_INFO_V1(monetary_total_lt);
PG_FUNCTION_INFO_V1(monetary_total_le);
PG_FUNCTION_INFO_V1(monetary_total_gt);
PG_FUNCTION_INFO_V1(monetary_total_ge);
PG_FUNCTION_INFO_V1(monetary_total_cmp);
PG_FUNCTION_INFO_V1(monetary_hash);
PG_FUNCTION_INFO_V1(monetary_hash_extended);

Monetary *
monetary_make(amount_int units, currency_code currency)
{
	Monetary   *m = palloc(sizeof(Monetary));

	m->units = units;
	m->currency = currency;
	return m;
}

char *
monetary_to_cstring(const Monetary *m)
{
	char	   *buf = palloc(AMOUNT_TEXT_MAX + 1 + CURRENCY_TEXT_MAX);
	int			len = amount_format(m->units, currency_scale(m->currency), buf);

	buf[len++] = ' ';
	currency_format(m->currency, buf + len);
	return buf;
}

void
currency_check_same(currency_code a, currency_code b)
{
	if (unlikely(a != b))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("currency mismatch: %s and %s",
						currency_to_cstring(a), currency_to_cstring(b)),
				 currency_same_code(a, b) ?
				 errhint("Amounts of one code at different scales are different currencies; use rescale() to change an amount's scale.") : 0));
}

void
monetary_check_same_currency(const Monetary *a, const Monetary *b)
{
	currency_check_same(a->currency, b->currency);
}

void
amount_report(AmountStatus status, const char *what, currency_code currency)
{
	switch (status)
	{
		case AMOUNT_OVERFLOW:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("monetary %s out of range", what),
					 errdetail("An amount holds at most %d digits of minor units.",
							   AMOUNT_MAX_DIGITS)));
			break;
		case AMOUNT_INEXACT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("monetary %s is not a whole number of minor units of %s",
							what, currency_to_cstring(currency)),
					 errhint("Rounding is never implicit: give a rounding mode, as mul(), div() and monetary(numeric, currency, rounding_mode) take.")));
			break;
		case AMOUNT_DIVIDE_BY_ZERO:
			ereport(ERROR,
					(errcode(ERRCODE_DIVISION_BY_ZERO),
					 errmsg("division by zero")));
			break;
		case AMOUNT_TOO_PRECISE:	/* numeric_to_decimal()'s callers handle it */
		case AMOUNT_SYNTAX:
		case AMOUNT_OK:
			break;
	}
	elog(ERROR, "unexpected amount status %d", (int) status);
	pg_unreachable();
}

static inline bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static inline bool
starts_amount(char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.';
}

/* The refusal of text that is not an amount and a currency. */
static void monetary_syntax_error(const char *s) pg_attribute_noreturn();

static void
monetary_syntax_error(const char *s)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type monetary: \"%s\"", s),
			 errhint("Write an amount and its currency, as in \"12.34 USD\".")));
}

/*
 * Reads '12.34 USD', 'USD 12.34', '-0.50 eur', and the JSON form
 * '{"amount": "12.34", "currency": "USD"}'; it never rounds.
 */
Datum
monetary_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);
	const char *p = s;
	const char *first,
			   *second,
			   *amount,
			   *code;
	size_t		first_len,
				second_len,
				amount_len,
				code_len;
	currency_code currency;
	amount_int	units = 0;
	AmountStatus status;

	while (is_space(*p))
		p++;
	if (*p == '{')
	{
		char	   *json_amount,
				   *json_currency;

		monetary_json_parts(s, &json_amount, &json_currency);
		/* the members as the text form has them: one word each */
		if (strpbrk(json_amount, " \t\n\r\f\v") || strpbrk(json_currency, " \t\n\r\f\v") ||
			!starts_amount(*json_amount) || *json_currency == '\0')
			monetary_syntax_error(s);
		p = s = psprintf("%s %s", json_amount, json_currency);
	}
	first = p;
	while (*p && !is_space(*p))
		p++;
	first_len = p - first;
	while (is_space(*p))
		p++;
	second = p;
	while (*p && !is_space(*p))
		p++;
	second_len = p - second;
	while (is_space(*p))
		p++;
	if (first_len == 0 || second_len == 0 || *p != '\0')
		monetary_syntax_error(s);

	if (starts_amount(first[0]))
	{
		amount = first, amount_len = first_len;
		code = second, code_len = second_len;
	}
	else if (starts_amount(second[0]))
	{
		code = first, code_len = first_len;
		amount = second, amount_len = second_len;
	}
	else						/* 'NaN USD', 'Infinity EUR' */
		monetary_syntax_error(s);

	/*
	 * Syntax before range: a malformed amount is a syntax error whatever its
	 * size and whatever the currency's scale ("1x USD/99"); the currency's
	 * own syntax is judged before its scale's range in currency_parse.
	 */
	if (!amount_syntax_ok(amount, amount_len))
		monetary_syntax_error(s);
	currency = currency_from_cstring(code, code_len, s, "monetary");
	status = amount_parse(amount, amount_len, currency_scale(currency),
						  ROUND_UNNECESSARY, &units);
	switch (status)
	{
		case AMOUNT_OK:
			break;
		case AMOUNT_INEXACT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("too many decimal places for %s: \"%s\"",
							currency_to_cstring(currency), s),
					 errdetail("%s has %d decimal places, and input never rounds.",
							   currency_to_cstring(currency), currency_scale(currency)),
					 errhint("Round explicitly with monetary(numeric, currency, rounding_mode).")));
			break;
		case AMOUNT_OVERFLOW:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value \"%s\" is out of range for type monetary", s),
					 errdetail("An amount holds at most %d digits of minor units.",
							   AMOUNT_MAX_DIGITS)));
			break;
		default:
			monetary_syntax_error(s);
	}
	PG_RETURN_MONETARY_P(monetary_make(units, currency));
}

/* Writes the amount with exactly the currency's decimals, then the currency. */
Datum
monetary_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(monetary_to_cstring(PG_GETARG_MONETARY_P(0)));
}

/* Binary form: the 128-bit count, high word first, then the currency. */
Datum
monetary_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	uint64		hi = (uint64) pq_getmsgint64(buf);
	uint64		lo = (uint64) pq_getmsgint64(buf);
	amount_int	units = (amount_int) (((amount_uint) hi << 64) | lo);
	currency_code currency = currency_recv_from(buf);

	if (!amount_in_range(units))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("external monetary value out of range")));
	PG_RETURN_MONETARY_P(monetary_make(units, currency));
}

Datum
monetary_send(PG_FUNCTION_ARGS)
{
	Monetary   *m = PG_GETARG_MONETARY_P(0);
	amount_uint bits = (amount_uint) m->units;
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, (int64) (uint64) (bits >> 64));
	pq_sendint64(&buf, (int64) (uint64) bits);
	currency_send_to(&buf, m->currency);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* numeric's text form, refusing NaN and the infinities. */
static char *
numeric_cstring(Datum numeric)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, numeric));

	if (unlikely(!(s[0] >= '0' && s[0] <= '9') && s[0] != '-'))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot use %s in monetary arithmetic", s)));
	if (unlikely(s[0] == '-' && !(s[1] >= '0' && s[1] <= '9')))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot use %s in monetary arithmetic", s)));
	return s;
}

/*
 * A finite numeric as an exact decimal, when its mantissa has at most 38
 * significant digits; false when it has more (the caller takes another,
 * exact, path or refuses it by its own rule).  NaN and the infinities are
 * refused here.
 */
bool
numeric_to_decimal(Datum numeric, Decimal *result)
{
	char	   *s = numeric_cstring(numeric);
	AmountStatus status = decimal_parse(s, strlen(s), result);

	if (status != AMOUNT_OK && status != AMOUNT_TOO_PRECISE)
		elog(ERROR, "unexpected numeric text \"%.48s\"", s);
	pfree(s);
	return status == AMOUNT_OK;
}

amount_int
numeric_to_units(Datum numeric, int scale, RoundingMode mode,
				 currency_code currency)
{
	char	   *s = numeric_cstring(numeric);
	amount_int	units = 0;
	AmountStatus status = amount_parse(s, strlen(s), scale, mode, &units);

	if (status == AMOUNT_INEXACT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is not a whole number of minor units of %s",
						s, currency_to_cstring(currency)),
				 errhint("Round explicitly with monetary(numeric, currency, rounding_mode).")));
	if (status == AMOUNT_OVERFLOW)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value %s is out of range for type monetary", s),
				 errdetail("An amount holds at most %d digits of minor units.",
						   AMOUNT_MAX_DIGITS)));
	if (status != AMOUNT_OK)
		elog(ERROR, "unexpected numeric text \"%s\"", s);
	pfree(s);
	return units;
}

Datum
units_to_numeric(amount_int units, int scale)
{
	char		buf[AMOUNT_TEXT_MAX];

	amount_format(units, scale, buf);
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/*
 * The label of a rounding_mode value.  The last answer is kept, and
 * dropped when pg_enum changes, since a re-created extension reuses nothing.
 */
static Oid	rounding_mode_cached_oid = InvalidOid;
static RoundingMode rounding_mode_cached;
static bool rounding_mode_callback_registered = false;

static void
rounding_mode_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	rounding_mode_cached_oid = InvalidOid;
}

RoundingMode
rounding_mode_from_datum(Datum mode)
{
	static const char *const labels[] = {
		"half_even", "half_up", "half_down", "up", "down", "ceiling", "floor",
		"unnecessary"
	};
	Oid			oid = DatumGetObjectId(mode);
	HeapTuple	tuple;
	const char *label;

	if (oid == rounding_mode_cached_oid)
		return rounding_mode_cached;
	if (!rounding_mode_callback_registered)
	{
		CacheRegisterSyscacheCallback(ENUMOID, rounding_mode_invalidate, (Datum) 0);
		rounding_mode_callback_registered = true;
	}

	tuple = SearchSysCache1(ENUMOID, mode);
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for enum value %u", oid);
	label = NameStr(((Form_pg_enum) GETSTRUCT(tuple))->enumlabel);
	for (int i = 0; i < lengthof(labels); i++)
	{
		if (strcmp(label, labels[i]) == 0)
		{
			ReleaseSysCache(tuple);
			rounding_mode_cached_oid = oid;
			rounding_mode_cached = (RoundingMode) i;
			return rounding_mode_cached;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown rounding mode: \"%s\"", label)));
	pg_unreachable();
}

/* monetary(numeric, currency): exact, or an error. */
Datum
monetary_from_numeric(PG_FUNCTION_ARGS)
{
	currency_code currency = PG_GETARG_CURRENCY(1);

	PG_RETURN_MONETARY_P(monetary_make(numeric_to_units(PG_GETARG_DATUM(0),
														currency_scale(currency),
														ROUND_UNNECESSARY,
														currency),
									   currency));
}

/* monetary(numeric, currency, rounding_mode): rounded once. */
Datum
monetary_from_numeric_rounded(PG_FUNCTION_ARGS)
{
	currency_code currency = PG_GETARG_CURRENCY(1);
	RoundingMode mode = rounding_mode_from_datum(PG_GETARG_DATUM(2));

	PG_RETURN_MONETARY_P(monetary_make(numeric_to_units(PG_GETARG_DATUM(0),
														currency_scale(currency),
														mode, currency),
									   currency));
}

/* The amount as numeric, at the currency's scale. */
Datum
monetary_amount(PG_FUNCTION_ARGS)
{
	Monetary   *m = PG_GETARG_MONETARY_P(0);

	return units_to_numeric(m->units, currency_scale(m->currency));
}

Datum
monetary_currency(PG_FUNCTION_ARGS)
{
	PG_RETURN_CURRENCY(PG_GETARG_MONETARY_P(0)->currency);
}

/* The integer count of minor units. */
Datum
monetary_minor_units(PG_FUNCTION_ARGS)
{
	return units_to_numeric(PG_GETARG_MONETARY_P(0)->units, 0);
}

/* Equality never raises: amounts of different currencies are not equal. */
Datum
monetary_eq(PG_FUNCTION_ARGS)
{
	Monetary   *a = PG_GETARG_MONETARY_P(0);
	Monetary   *b = PG_GETARG_MONETARY_P(1);

	PG_RETURN_BOOL(a->currency == b->currency && a->units == b->units);
}

Datum
monetary_ne(PG_FUNCTION_ARGS)
{
	Monetary   *a = PG_GETARG_MONETARY_P(0);
	Monetary   *b = PG_GETARG_MONETARY_P(1);

	PG_RETURN_BOOL(a->currency != b->currency || a->units != b->units);
}

/* The ordering operators refuse to compare across currencies. */
#define MONETARY_STRICT_CMP(name, op) \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	Monetary   *a = PG_GETARG_MONETARY_P(0); \
	Monetary   *b = PG_GETARG_MONETARY_P(1); \
\
	monetary_check_same_currency(a, b); \
	PG_RETURN_BOOL(a->units op b->units); \
}

MONETARY_STRICT_CMP(monetary_lt, <)
MONETARY_STRICT_CMP(monetary_le, <=)
MONETARY_STRICT_CMP(monetary_gt, >)
MONETARY_STRICT_CMP(monetary_ge, >=)

/* The total order of the opclasses: currency first, then amount. */
int
monetary_total_cmp_internal(const Monetary *a, const Monetary *b)
{
	if (a->currency != b->currency)
		return a->currency < b->currency ? -1 : 1;
	if (a->units != b->units)
		return a->units < b->units ? -1 : 1;
	return 0;
}

#define MONETARY_TOTAL_CMP(name, op) \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_BOOL(monetary_total_cmp_internal(PG_GETARG_MONETARY_P(0), \
											   PG_GETARG_MONETARY_P(1)) op 0); \
}

MONETARY_TOTAL_CMP(monetary_total_lt, <)
MONETARY_TOTAL_CMP(monetary_total_le, <=)
MONETARY_TOTAL_CMP(monetary_total_gt, >)
MONETARY_TOTAL_CMP(monetary_total_ge, >=)

Datum
monetary_total_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(monetary_total_cmp_internal(PG_GETARG_MONETARY_P(0),
												PG_GETARG_MONETARY_P(1)));
}

/* Equal values have equal bytes: the struct has no padding. */
Datum
monetary_hash(PG_FUNCTION_ARGS)
{
	return hash_any((unsigned char *) PG_GETARG_MONETARY_P(0), sizeof(Monetary));
}

Datum
monetary_hash_extended(PG_FUNCTION_ARGS)
{
	return hash_any_extended((unsigned char *) PG_GETARG_MONETARY_P(0),
							 sizeof(Monetary), PG_GETARG_INT64(1));
}
