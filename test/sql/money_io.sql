-- monetary: its text form, every input error, the binary form,
-- the exact constructor and the accessors.

--
-- Text input: amount then currency or currency then amount, any case, any
-- surrounding space; output always shows exactly the currency's decimals.
--
SELECT input, input::monetary AS monetary
FROM (VALUES ('12.34 USD'), ('USD 12.34'), ('12.34 usd'), ('usd 12.34'),
             ('-0.50 EUR'), ('EUR -0.50'), ('+1.00 USD'), ('USD +1'),
             ('1000 JPY'), ('-1000 jpy'), ('1.500 BHD'), ('1.5 BHD'),
             ('12.3 USD'), ('12 USD'), ('007.10 USD'), ('-007.10 USD'),
             ('0.01 USD'), ('-0.01 USD'), ('12.3456 USD/4'), ('USD/4 -1.5'),
             ('12.34 USD/2'), ('1.5 ETH/18'), ('-0.000000000000000001 eth/18'),
             ('100 PTS/0'), ('1.2345 CLF'), ('1 ABCDEFGH/8'),
             ('  12.34   USD  ')) AS t(input);
SELECT E'\t12.34\nUSD\r\n'::monetary AS "tab, newline, return";

-- Zero, and negative zero, which is zero.
SELECT input, input::monetary AS monetary
FROM (VALUES ('0 USD'), ('0.00 USD'), ('-0 USD'), ('-0.00 USD'), ('+0 USD'),
             ('000.000 BHD'), ('-0 JPY'), ('-0.000000000000000000 ETH/18')) AS t(input);
SELECT '-0.00 USD'::monetary = '0 USD'::monetary AS "-0 = 0",
       minor_units('-0.00 USD'::monetary) AS units,
       monetary_send('-0.00 USD'::monetary) = monetary_send('0 USD'::monetary) AS same_bytes;

-- Trailing zeros past the currency's scale change nothing, so they are
-- accepted: nothing is rounded.
SELECT input, input::monetary AS monetary
FROM (VALUES ('1.230 USD'), ('1.2300000000000000000000000000000000000000000 USD'),
             ('5.0 JPY'), ('-5.000 JPY')) AS t(input);

-- The extremes: 38 digits of minor units, whatever the scale, and leading
-- zeros do not count.
SELECT input, input::monetary AS monetary
FROM (VALUES ('999999999999999999999999999999999999.99 USD'),
             ('-999999999999999999999999999999999999.99 USD'),
             ('99999999999999999999999999999999999999 JPY'),
             ('-99999999999999999999999999999999999999 PTS/0'),
             ('99999999999999999999.999999999999999999 ETH/18'),
             ('-99999999999999999999.999999999999999999 ETH/18'),
             ('0.999999999999999999 USD/18'),
             ('00000000000000000000000000000000000000000000000001.00 USD'),
             ('1.000000000000000000000000000000000000000000000000 USD')) AS t(input);

--
-- Errors.  One past the extremes is out of range (22003).
--
SELECT input, try_sql(format('SELECT %L::monetary', input)) AS result
FROM (VALUES ('1000000000000000000000000000000000000.00 USD'),
             ('-1000000000000000000000000000000000000.00 USD'),
             ('1000000000000000000000000000000000000 USD'),
             ('100000000000000000000000000000000000000 JPY'),
             ('100000000000000000000 ETH/18'),
             ('340282366920938463463374607431768211456 JPY'),
             ('99999999999999999999999999999999999999999999999999 JPY')) AS t(input);

-- More decimals than the currency has: input never rounds.
SELECT input, try_sql(format('SELECT %L::monetary', input)) AS result
FROM (VALUES ('12.345 USD'), ('USD 0.001'), ('-12.341 USD'), ('1.5 JPY'),
             ('0.0000000000000000001 ETH/18'), ('1.00001 USD/4'),
             ('999999999999999999999999999999999999.995 USD')) AS t(input);

-- Not a decimal amount: NaN, infinities, exponents, double signs, other
-- separators and digits.
SELECT input, try_sql(format('SELECT %L::monetary', input)) AS result
FROM (VALUES ('NaN USD'), ('USD NaN'), ('Infinity USD'), ('USD Infinity'),
             ('-Infinity USD'), ('USD -Infinity'), ('USD inf'), ('1e5 USD'),
             ('1E5 USD'), ('1.5e2 USD'), ('--1 USD'), ('+-1 USD'), ('-+1 USD'),
             ('- 1 USD'), ('1- USD'), ('. USD'), ('1. USD'), ('.5 USD'),
             ('-.5 USD'), ('1.2.3 USD'), ('1,000.00 USD'), ('1_000 USD'),
             ('0x10 USD'), ('١٢ USD'), ('１２ USD'), ('12.34 USD;')) AS t(input);

-- Syntax is judged before range: a malformed amount is a syntax error
-- (22P02) however many digits it has, and whatever its currency.
SELECT input, try_sql(format('SELECT %L::monetary', input)) AS result
FROM (VALUES ('99999999999999999999999999999999999999999x USD'),
             ('USD 99999999999999999999999999999999999999999x'),
             ('-99999999999999999999999999999999999999999.5.5 USD'),
             ('99999999999999999999999999999999999999999e5 USD'),
             ('99999999999999999999999999999999999999999. USD'),
             ('1.0000000000000000000000000000000000000000001x USD'),
             ('1x USD/99'), ('1x XAU'), ('1x ABC'),
             ('99999999999999999999999999999999999999999 USD/1x')) AS t(input);

-- Not an amount and a currency.
SELECT input, try_sql(format('SELECT %L::monetary', input)) AS result
FROM (VALUES (''), ('   '), ('garbage'), ('12.34'), ('USD'), ('12.34 USD EUR'),
             ('12.34 USD 1'), ('$12.34'), ('12.34USD'), ('USD12.34'),
             ('USD USD'), ('12 34 USD')) AS t(input);

-- The currency's own errors, named against the whole input.
SELECT input, try_sql(format('SELECT %L::monetary', input)) AS result
FROM (VALUES ('12.34 XAU'), ('12.34 ABC'), ('ETH 1.5'), ('12.34 USD/19'),
             ('12.34 USD/'), ('12.34 US'), ('1 ABCDEFGHI/2')) AS t(input);
SELECT input, try_sql(format('SELECT %L::monetary', input)) AS result
FROM (VALUES ('12.34 USD/019'), ('12.34 USD/123x')) AS t(input);
-- A scale may have leading zeros; the value is written canonically.
SELECT input, input::monetary AS monetary
FROM (VALUES ('12.34 USD/002'), ('12.3456 USD/0004'), ('USD/00 12')) AS t(input);

-- NULL in, NULL out.
SELECT NULL::monetary IS NULL AS null_monetary;

--
-- The exact constructor monetary(numeric, currency) and the
-- accessors amount(), currency() and minor_units().
--
SELECT n, c, try_sql(format('SELECT monetary(%s, %L)', n, c)) AS result
FROM (VALUES ('12.34', 'USD'), ('12.3', 'USD'), ('-12', 'USD'), ('12.340', 'USD'),
             ('0', 'USD'), ('-0.00', 'USD'), ('1.5', 'ETH/18'), ('1000', 'JPY'),
             ('999999999999999999999999999999999999.99', 'USD'),
             ('-999999999999999999999999999999999999.99', 'USD'),
             ('12.345', 'USD'), ('0.5', 'JPY'), ('-0.001', 'BHD/2'),
             ('1000000000000000000000000000000000000', 'USD'),
             ('1e40', 'JPY'),
             ('''NaN''::numeric', 'USD'), ('''Infinity''::numeric', 'USD'),
             ('''-Infinity''::numeric', 'USD'), ('1', 'XAU')) AS t(n, c);

SELECT m, amount(m), pg_typeof(amount(m)) AS amount_type, currency(m),
       minor_units(m), scale(currency(m)) AS scale
FROM (VALUES ('12.34 USD'::monetary), ('-0.50 EUR'), ('1000 JPY'), ('1.500 BHD'),
             ('1.5 ETH/18'), ('0 USD/4'),
             ('999999999999999999999999999999999999.99 USD'),
             ('-99999999999999999999.999999999999999999 ETH/18')) AS t(m);
-- amount() keeps the scale, and round-trips through the constructor
SELECT scale(amount('12.30 USD')) AS usd_scale, scale(amount('5 JPY')) AS jpy_scale,
       scale(amount('0 ETH/18')) AS eth_scale,
       monetary(amount('-99999999999999999999.999999999999999999 ETH/18'), 'ETH/18')
         = '-99999999999999999999.999999999999999999 ETH/18' AS round_trip;

--
-- Text and binary COPY give back exactly what went out.
--
SELECT m, monetary_send(m)
FROM (VALUES ('12.34 USD'::monetary), ('-0.01 USD'), ('0 JPY'), ('1.5 ETH/18'),
             ('999999999999999999999999999999999999.99 USD'),
             ('-999999999999999999999999999999999999.99 USD')) AS t(m);

CREATE TEMP TABLE mon_out (id int, m monetary);
INSERT INTO mon_out
SELECT row_number() OVER (), m::monetary
FROM (VALUES ('12.34 USD'), ('-12.34 USD'), ('0 USD'), ('0.01 USD'), ('-0.01 USD'),
             ('1000 JPY'), ('1.500 BHD'), ('1.5 ETH/18'), ('-1 PTS/0'), ('12.3456 USD/4'),
             ('999999999999999999999999999999999999.99 USD'),
             ('-999999999999999999999999999999999999.99 USD'),
             ('99999999999999999999999999999999999999 JPY'),
             ('-99999999999999999999.999999999999999999 ETH/18'),
             ('18446744073709551615 PTS/0'), ('18446744073709551616 PTS/0'),
             ('-18446744073709551616 PTS/0'), ('-18446744073709551617 PTS/0'),
             ('9223372036854775807 PTS/0'), ('-9223372036854775808 PTS/0'),
             ('1 ABCDEFGH/18'), ('1 0000/0')) AS t(m);
-- and many more, of every size and sign
INSERT INTO mon_out
SELECT 100 + i, monetary(((-1) ^ i * 7 ^ (i % 45))::numeric(80, 0) / 100, 'USD')
FROM generate_series(1, 200) AS i;
INSERT INTO mon_out VALUES (1000, NULL);
SELECT count(*) AS rows_out FROM mon_out;

\copy mon_out TO 'results/money_io.bin' (FORMAT binary)
CREATE TEMP TABLE mon_in_binary (LIKE mon_out);
\copy mon_in_binary FROM 'results/money_io.bin' (FORMAT binary)
\copy mon_out TO 'results/money_io.txt'
CREATE TEMP TABLE mon_in_text (LIKE mon_out);
\copy mon_in_text FROM 'results/money_io.txt'
SELECT count(*) AS rows,
       count(*) FILTER (WHERE o.m IS NOT DISTINCT FROM b.m
                          AND o.m::text IS NOT DISTINCT FROM b.m::text) AS same_binary,
       count(*) FILTER (WHERE o.m IS NOT DISTINCT FROM t.m
                          AND o.m::text IS NOT DISTINCT FROM t.m::text) AS same_text
FROM mon_out o FULL JOIN mon_in_binary b USING (id) FULL JOIN mon_in_text t USING (id);

-- Binary input is checked as strictly as text input: each bytea below is
-- written to a file with binary COPY and read back by the server as a
-- monetary, so that monetary_recv sees exactly those bytes.
\getenv abs_builddir PG_ABS_BUILDDIR
CREATE TEMP TABLE raw (id int, bytes bytea, what text);
INSERT INTO raw VALUES
    (1, '\x000000000000000000000000000004d20355534402', '12.34 USD: fine'),
    (2, '\x4b3b4ca85a86c47a098a223fffffffff0355534402', '10^38 - 1 units: fine'),
    (3, '\x4b3b4ca85a86c47a098a2240000000000355534402', '10^38 units'),
    (4, '\xb4c4b357a5793b85f675ddc0000000000355534402', '-10^38 units'),
    (5, '\x800000000000000000000000000000000355534402', 'the smallest int128'),
    (6, '\x000000000000000000000000000004d20275730002', 'a bad currency'),
    (7, '\x000000000000000000000000000004d2035553441d', 'scale 29'),
    (8, '\x000000000000000000000000000004d2', 'no currency'),
    (9, '\x00000000000004d20355534402', 'too short'),
    (10, '\x000000000000000000000000000004d2035553440200', 'a byte too many');
\copy (SELECT bytes FROM raw WHERE id = 1) TO 'results/money_io_raw1.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 2) TO 'results/money_io_raw2.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 3) TO 'results/money_io_raw3.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 4) TO 'results/money_io_raw4.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 5) TO 'results/money_io_raw5.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 6) TO 'results/money_io_raw6.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 7) TO 'results/money_io_raw7.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 8) TO 'results/money_io_raw8.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 9) TO 'results/money_io_raw9.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 10) TO 'results/money_io_raw10.bin' (FORMAT binary)
CREATE TEMP TABLE mon_recv (m monetary);
SELECT id, what, try_sql(format(
           'COPY mon_recv FROM %L (FORMAT binary)',
           :'abs_builddir' || '/results/money_io_raw' || id || '.bin')) AS result
FROM raw ORDER BY id;
SELECT m FROM mon_recv;
