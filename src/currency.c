/*
 * currency.c
 *	  The currency type's I/O, comparison and accessors.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"

#include "currency.h"
#include "iso4217.h"

PG_FUNCTION_INFO_V1(currency_in);
PG_FUNCTION_INFO_V1(currency_out);
PG_FUNCTION_INFO_V1(currency_recv);
PG_FUNCTION_INFO_V1(currency_send);
PG_FUNCTION_INFO_V1(currency_eq);
PG_FUNCTION_INFO_V1(currency_ne);
PG_FUNCTION_INFO_V1(currency_lt);
PG_FUNCTION_INFO_V1(currency_le);
PG_FUNCTION_INFO_V1(currency_gt);
PG_FUNCTION_INFO_V1(currency_ge);
PG_FUNCTION_INFO_V1(currency_cmp);
PG_FUNCTION_INFO_V1(currency_hash);
PG_FUNCTION_INFO_V1(currency_hash_extended);
PG_FUNCTION_INFO_V1(currency_get_scale);

/*
 * Parses s[0..len) as a currency, reporting errors against the whole input
 * string and the name of the type being read.
 */
currency_code
currency_from_cstring(const char *s, size_t len, const char *whole,
					  const char *type_name)
{
	currency_code result = 0;
	CurrencyStatus status = currency_parse(s, len, &result);
	char		code[CURRENCY_CODE_MAX_LEN + 1];
	size_t		code_len = 0;
	const Iso4217Currency *iso;

	switch (status)
	{
		case CURRENCY_OK:
			return result;
		case CURRENCY_SYNTAX:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type %s: \"%s\"",
							type_name, whole),
					 errdetail("A currency is a code of 3 to 8 letters and digits, optionally followed by /SCALE.")));
			break;
		case CURRENCY_BAD_SCALE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("currency scale out of range: \"%s\"", whole),
					 errdetail("A scale is a number of decimal places from 0 to %d.",
							   CURRENCY_MAX_SCALE)));
			break;
		case CURRENCY_UNKNOWN:
		case CURRENCY_NO_MINOR_UNIT:
			while (code_len < len && code_len < CURRENCY_CODE_MAX_LEN &&
				   s[code_len] != '/')
			{
				code[code_len] = pg_ascii_toupper((unsigned char) s[code_len]);
				code_len++;
			}
			code[code_len] = '\0';
			if (status == CURRENCY_UNKNOWN)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("unknown currency code: \"%s\"", code),
						 errdetail("%s is not an ISO 4217 currency code.", code),
						 errhint("Write any other asset with its number of decimal places, as in \"%s/2\" or \"ETH/18\".",
								 code)));
			/* a known ISO code, which ISO gives no minor unit: say so */
			iso = iso4217_lookup(code, (int) code_len);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("currency code \"%s\" has no minor unit", code),
					 iso != NULL && iso->withdrawn ?
					 errdetail("%s is a withdrawn ISO 4217 code for which ISO published no minor unit, so its number of decimal places must be written.", code) :
					 errdetail("ISO 4217 gives %s no minor unit, so its number of decimal places must be written.", code),
					 errhint("Write it with its number of decimal places, as in \"%s/0\" or \"%s/2\".",
							 code, code)));
			break;
	}
	pg_unreachable();
}

char *
currency_to_cstring(currency_code c)
{
	char	   *buf = palloc(CURRENCY_TEXT_MAX);

	currency_format(c, buf);
	return buf;
}

/* Reads 'USD', 'usd', 'USD/4', 'ETH/18'. */
Datum
currency_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);

	PG_RETURN_CURRENCY(currency_from_cstring(s, strlen(s), s, "currency"));
}

/* Writes the code, with /SCALE unless it is the ISO scale. */
Datum
currency_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(currency_to_cstring(PG_GETARG_CURRENCY(0)));
}

/*
 * Binary form: the code as counted text, then the scale as a byte.  It does
 * not expose the packing, so the packing may change without breaking dumps.
 */
void
currency_send_to(StringInfo buf, currency_code c)
{
	char		code[CURRENCY_TEXT_MAX];
	int			len = currency_format_code(c, code);

	pq_sendbyte(buf, (uint8) len);
	pq_sendbytes(buf, code, len);
	pq_sendbyte(buf, (uint8) currency_scale(c));
}

/* Reads what currency_send_to wrote, as strictly as currency_in reads text. */
currency_code
currency_recv_from(StringInfo buf)
{
	int			len = pq_getmsgbyte(buf);
	const char *code;
	int			scale;

	if (len < CURRENCY_CODE_MIN_LEN || len > CURRENCY_CODE_MAX_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid currency code length in external currency value: %d", len)));
	code = pq_getmsgbytes(buf, len);
	scale = pq_getmsgbyte(buf);
	for (int i = 0; i < len; i++)
		if (!((code[i] >= 'A' && code[i] <= 'Z') || (code[i] >= '0' && code[i] <= '9')))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid character in external currency value")));
	if (scale > CURRENCY_MAX_SCALE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid scale in external currency value: %d", scale)));
	return currency_make(code, len, scale);
}

Datum
currency_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	PG_RETURN_CURRENCY(currency_recv_from(buf));
}

Datum
currency_send(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	currency_send_to(&buf, PG_GETARG_CURRENCY(0));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* The packing orders currencies by code, then by scale. */
#define CURRENCY_CMP(a, b) ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

Datum
currency_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_CURRENCY(0) == PG_GETARG_CURRENCY(1));
}

Datum
currency_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_CURRENCY(0) != PG_GETARG_CURRENCY(1));
}

Datum
currency_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_CURRENCY(0) < PG_GETARG_CURRENCY(1));
}

Datum
currency_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_CURRENCY(0) <= PG_GETARG_CURRENCY(1));
}

Datum
currency_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_CURRENCY(0) > PG_GETARG_CURRENCY(1));
}

Datum
currency_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_CURRENCY(0) >= PG_GETARG_CURRENCY(1));
}

Datum
currency_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(CURRENCY_CMP(PG_GETARG_CURRENCY(0), PG_GETARG_CURRENCY(1)));
}

Datum
currency_hash(PG_FUNCTION_ARGS)
{
	currency_code c = PG_GETARG_CURRENCY(0);

	return hash_any((unsigned char *) &c, sizeof(c));
}

Datum
currency_hash_extended(PG_FUNCTION_ARGS)
{
	currency_code c = PG_GETARG_CURRENCY(0);

	return hash_any_extended((unsigned char *) &c, sizeof(c), PG_GETARG_INT64(1));
}

/* The number of decimal places of the currency's minor unit. */
Datum
currency_get_scale(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(currency_scale(PG_GETARG_CURRENCY(0)));
}
