/*
 * currency_code.c
 *	  Parsing, formatting and checking the packed form of a currency.
 *
 * Nothing here reads a table: the ISO 4217 list is compiled in, so a value
 * means the same on every server and in every restore order.
 */
#include "currency_code.h"
#include "iso4217.h"

#define CHAR_BITS		6
#define SCALE_BITS		5
#define CODE_BITS		(CHAR_BITS * CURRENCY_CODE_MAX_LEN)

/* 0 ends the code; digits sort before letters, as in ASCII. */
static int
char_value(char c)
{
	if (c >= '0' && c <= '9')
		return 1 + (c - '0');
	if (c >= 'A' && c <= 'Z')
		return 11 + (c - 'A');
	if (c >= 'a' && c <= 'z')
		return 11 + (c - 'a');
	return -1;
}

static char
value_char(int v)
{
	return v <= 10 ? (char) ('0' + v - 1) : (char) ('A' + v - 11);
}

static int
code_char(currency_code c, int i)
{
	return (int) ((c >> (SCALE_BITS + CHAR_BITS * (CURRENCY_CODE_MAX_LEN - 1 - i))) & 0x3F);
}

/* Packs an already checked code (3 to 8 of [A-Za-z0-9]) and scale. */
currency_code
currency_make(const char *code, size_t len, int scale)
{
	currency_code c = 0;

	for (size_t i = 0; i < CURRENCY_CODE_MAX_LEN; i++)
		c = (c << CHAR_BITS) | (currency_code) (i < len ? char_value(code[i]) : 0);
	return (c << SCALE_BITS) | (currency_code) scale;
}

/*
 * Parses CODE or CODE/SCALE, case-insensitively; no surrounding space.  A
 * malformed text is CURRENCY_SYNTAX before anything is judged of its value.
 */
CurrencyStatus
currency_parse(const char *s, size_t len, currency_code *result)
{
	size_t		code_len = 0;
	char		upper[CURRENCY_CODE_MAX_LEN];
	const Iso4217Currency *iso;
	int			scale = 0;

	while (code_len < len && s[code_len] != '/')
	{
		if (code_len >= CURRENCY_CODE_MAX_LEN || char_value(s[code_len]) < 0)
			return CURRENCY_SYNTAX;
		upper[code_len] = value_char(char_value(s[code_len]));
		code_len++;
	}
	if (code_len < CURRENCY_CODE_MIN_LEN)
		return CURRENCY_SYNTAX;

	if (code_len < len)
	{
		size_t		i = code_len + 1;

		/*
		 * The scale is a decimal number; leading zeros are accepted ("USD/002"
		 * is USD/2, written back as "USD"), as they are in amounts.  The
		 * syntax of the whole text is judged before the scale's range, and
		 * the value stops growing once past the range, so that it cannot
		 * overflow however many digits it has.
		 */
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		{
			if (scale <= CURRENCY_MAX_SCALE)
				scale = scale * 10 + (s[i] - '0');
		}
		if (i == code_len + 1 || i != len)
			return CURRENCY_SYNTAX;
		if (scale > CURRENCY_MAX_SCALE)
			return CURRENCY_BAD_SCALE;
	}
	else
	{
		iso = code_len == 3 ? iso4217_lookup(upper, 3) : NULL;
		if (iso == NULL)
			return CURRENCY_UNKNOWN;
		if (iso->minor_units < 0)
			return CURRENCY_NO_MINOR_UNIT;
		scale = iso->minor_units;
	}
	*result = currency_make(upper, code_len, scale);
	return CURRENCY_OK;
}

/* Writes the code alone; returns its length. */
int
currency_format_code(currency_code c, char *buf)
{
	int			len = 0;

	for (int i = 0; i < CURRENCY_CODE_MAX_LEN; i++)
	{
		int			v = code_char(c, i);

		if (v == 0)
			break;
		buf[len++] = value_char(v);
	}
	buf[len] = '\0';
	return len;
}

/* Writes CODE, or CODE/SCALE where the scale is not the ISO one. */
int
currency_format(currency_code c, char *buf)
{
	int			len = currency_format_code(c, buf);
	int			scale = currency_scale(c);
	const Iso4217Currency *iso = len == 3 ? iso4217_lookup(buf, 3) : NULL;

	if (iso == NULL || iso->minor_units != scale)
	{
		buf[len++] = '/';
		if (scale >= 10)
			buf[len++] = (char) ('0' + scale / 10);
		buf[len++] = (char) ('0' + scale % 10);
		buf[len] = '\0';
	}
	return len;
}

/* Whether c is a packing that currency_parse could have produced. */
bool
currency_is_valid(currency_code c)
{
	int			len = 0;

	if (c >> (CODE_BITS + SCALE_BITS) != 0 ||
		currency_scale(c) > CURRENCY_MAX_SCALE)
		return false;
	for (int i = 0; i < CURRENCY_CODE_MAX_LEN; i++)
	{
		int			v = code_char(c, i);

		if (v > 36 || (v != 0 && len != i))
			return false;
		if (v != 0)
			len++;
	}
	return len >= CURRENCY_CODE_MIN_LEN;
}
