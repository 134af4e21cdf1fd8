/*
 * monetary_json.c
 *	  The JSON form of monetary: {"amount": "12.34", "currency": "USD"}.
 *
 * The amount is a JSON string, written with exactly the currency's decimals,
 * so that no client reads it as a float; a JSON number is refused on input
 * for the same reason.  monetary_in() reads the form too, so casts from json
 * and jsonb are plain I/O casts, and jsonb_populate_record() fills monetary
 * fields from it.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "monetary.h"

PG_FUNCTION_INFO_V1(monetary_to_json);
PG_FUNCTION_INFO_V1(monetary_to_jsonb);

static char *
monetary_json_cstring(const Monetary *m)
{
	char		amount[AMOUNT_TEXT_MAX + 1];
	char		currency[CURRENCY_TEXT_MAX];

	amount_format(m->units, currency_scale(m->currency), amount);
	currency_format(m->currency, currency);
	/* digits, sign, point, [A-Z0-9/]: nothing to escape */
	return psprintf("{\"amount\": \"%s\", \"currency\": \"%s\"}", amount, currency);
}

/* monetary::json */
Datum
monetary_to_json(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall1(json_in,
							   CStringGetDatum(monetary_json_cstring(PG_GETARG_MONETARY_P(0))));
}

/* monetary::jsonb */
Datum
monetary_to_jsonb(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall1(jsonb_in,
							   CStringGetDatum(monetary_json_cstring(PG_GETARG_MONETARY_P(0))));
}

static void monetary_json_error(const char *s, const char *detail) pg_attribute_noreturn();

static void
monetary_json_error(const char *s, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type monetary: \"%s\"", s),
			 errdetail_internal("%s", detail),
			 errhint("Write {\"amount\": \"12.34\", \"currency\": \"USD\"}, the amount as a string.")));
}

/* One string member of the object, or an error naming it. */
static char *
json_string_member(Jsonb *jb, const char *key, const char *s)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(&jb->root, key, strlen(key), &v) == NULL)
		monetary_json_error(s, psprintf("The object has no \"%s\".", key));
	if (v.type != jbvString)
		monetary_json_error(s, psprintf("\"%s\" must be a JSON string%s.", key,
										v.type == jbvNumeric ?
										", so that no client reads it as a float" : ""));
	return pnstrdup(v.val.string.val, v.val.string.len);
}

void
monetary_json_parts(const char *s, char **amount, char **currency)
{
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s)));

	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_COUNT(jb) != 2)
		monetary_json_error(s, "The JSON form is an object of two members, \"amount\" and \"currency\".");
	*amount = json_string_member(jb, "amount", s);
	*currency = json_string_member(jb, "currency", s);
}
