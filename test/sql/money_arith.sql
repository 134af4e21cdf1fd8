-- monetary arithmetic: + and - (binary and unary), * and / by
-- numeric and bigint, monetary / monetary; overflow, currency mismatch,
-- division by zero and inexact results, each with its error.

-- The largest and smallest amounts at scale 2, for the overflow cases.
\set max '''999999999999999999999999999999999999.99 USD''::monetary'
\set min '''-999999999999999999999999999999999999.99 USD''::monetary'

--
-- + and - between amounts of one currency.
--
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$'12.34 USD'::monetary + '0.66 USD'$$),
             ($$'12.34 usd'::monetary + '0.66 USD'$$),
             ($$'0.66 USD'::monetary + '12.34 USD'$$),
             ($$'-12.34 USD'::monetary + '0.34 USD'$$),
             ($$'1000 JPY'::monetary + '-1 JPY'$$),
             ($$'1.5 ETH/18'::monetary + '0.000000000000000001 ETH/18'$$),
             ($$'12.34 USD'::monetary - '0.34 USD'$$),
             ($$'0.34 USD'::monetary - '12.34 USD'$$),
             ($$'12.34 USD'::monetary - '12.34 USD'$$),
             ($$- '12.34 USD'::monetary$$),
             ($$- '-12.34 USD'::monetary$$),
             ($$- '0.00 USD'::monetary$$),
             ($$- (- '0.01 USD'::monetary)$$)) AS t(expr);

-- At the edges of the range, and one past them (22003, never a wrap).
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES (:'max' || $$ + '0.00 USD'$$),
             (:'max' || ' + ' || :'min'),
             (:'max' || $$ - '0.01 USD'$$),
             (:'min' || $$ + '0.01 USD'$$),
             ('- ' || :'max'),
             ('- ' || :'min'),
             (:'max' || $$ + '0.01 USD'$$),
             (:'min' || $$ - '0.01 USD'$$),
             (:'min' || $$ + '-0.01 USD'$$),
             (:'max' || ' + ' || :'max'),
             (:'min' || ' + ' || :'min'),
             (:'max' || ' - ' || :'min'),
             (:'min' || ' - ' || :'max'),
             ($$'99999999999999999999999999999999999999 JPY'::monetary + '1 JPY'$$),
             ($$'99999999999999999999.999999999999999999 ETH/18'::monetary + '0.000000000000000001 ETH/18'$$)
      ) AS t(expr);

-- Different currencies, and one code at different scales, do not mix
-- (22000, naming both; a hint when only the scale differs).
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$'1 USD'::monetary + '1 EUR'$$),
             ($$'1 EUR'::monetary - '1 USD'$$),
             ($$'1 USD'::monetary + '1 USD/4'$$),
             ($$'1 USD/4'::monetary - '1 USD'$$),
             ($$'1 ETH/18'::monetary + '1 ETH/8'$$),
             ($$'1 JPY'::monetary + '1 JPY/2'$$),
             ($$'1 USD'::monetary / '1 EUR'::monetary$$),
             ($$'1 USD'::monetary / '1 USD/3'::monetary$$)) AS t(expr);

--
-- * and / by numeric and bigint give the exact result, and refuse (22023)
-- when it is not a whole number of minor units.
--
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$'12.34 USD'::monetary * 2.0$$),
             ($$'12.34 USD'::monetary * 0.5$$),
             ($$0.5 * '12.34 USD'::monetary$$),
             ($$'12.34 USD'::monetary * -1.000$$),
             ($$'12.34 USD'::monetary * 0::numeric$$),
             ($$'12.34 USD'::monetary * 0.0000$$),
             ($$'-12.34 USD'::monetary * 100::numeric$$),
             ($$'12.34 USD'::monetary * 1e-2$$),
             ($$'100 JPY'::monetary * 0.15$$),
             ($$'1 ETH/18'::monetary * 0.000000000000000001$$),
             ($$'1.5 ETH/18'::monetary * 12345678901234567890.123456789012345678$$),
             ($$'12.34 USD'::monetary * 0.3$$),
             ($$0.3 * '12.34 USD'::monetary$$),
             ($$'0.01 USD'::monetary * 0.5$$),
             ($$'-0.01 USD'::monetary * 0.5$$),
             ($$'1 USD'::monetary * 1e-1000$$),
             ($$'0 USD'::monetary * 1e-1000$$),
             ($$'12.34 USD'::monetary * 3::bigint$$),
             ($$3::bigint * '12.34 USD'::monetary$$),
             ($$'12.34 USD'::monetary * -3::bigint$$),
             ($$'12.34 USD'::monetary * 0::bigint$$),
             ($$'12.34 USD'::monetary / 2.0$$),
             ($$'12.34 USD'::monetary / 0.5$$),
             ($$'12.34 USD'::monetary / -0.01$$),
             ($$'12.34 USD'::monetary / 1e-2$$),
             ($$'12.34 USD'::monetary / 4.0$$),
             ($$'12.34 USD'::monetary / 3.0$$),
             ($$'10.00 USD'::monetary / 3::numeric$$),
             ($$'1 USD'::monetary / 1e1000$$),
             ($$'0 USD'::monetary / 1e1000$$),
             ($$'0 USD'::monetary / -7.5$$),
             ($$'12.34 USD'::monetary / 2::bigint$$),
             ($$'-12.34 USD'::monetary / 2::bigint$$),
             ($$'12.34 USD'::monetary / -1234::bigint$$),
             ($$'12.34 USD'::monetary / 4::bigint$$),
             ($$'12.34 USD'::monetary / 1000::bigint$$)) AS t(expr);

-- An integer (int4) literal has operators of its own: without them it
-- would match both the numeric and the bigint ones, and be ambiguous.
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$'12.34 USD'::monetary * 3$$),
             ($$3 * '12.34 USD'::monetary$$),
             ($$'12.34 USD'::monetary / 2$$)) AS t(expr);

-- Overflow of products and quotients (22003).
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES (:'max' || ' * 1.0'),
             (:'max' || ' * -1.0'),
             (:'max' || ' * 1.00000000000000000000000000000000000000000'),
             (:'max' || ' * 1.01'),
             (:'max' || ' * 2::bigint'),
             (:'min' || ' * -2::bigint'),
             ($$'0.01 USD'::monetary * 1e38$$),
             ($$'0.01 USD'::monetary * 1e37$$),
             ($$'1 USD'::monetary * 1e1000$$),
             ($$'1 USD'::monetary * 9223372036854775807::bigint$$),
             ($$'-1 USD'::monetary * (-9223372036854775807 - 1)::bigint$$),
             ($$'10000000000000000000 PTS/0'::monetary * 9223372036854775807::bigint$$),
             ($$'100000000000000000000 PTS/0'::monetary * 9223372036854775807::bigint$$),
             (:'max' || ' / 0.5'),
             (:'max' || ' / -1::bigint'),
             (:'min' || ' / -1::bigint'),
             ($$'0.01 USD'::monetary / 1e-36$$),
             ($$'0.01 USD'::monetary / 1e-37$$),
             ($$'0.01 USD'::monetary / 1e-38$$),
             ($$'0.01 USD'::monetary / 1e-1000$$)) AS t(expr);

-- Division by zero (22012), for each division.
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$'12.34 USD'::monetary / 0.0$$),
             ($$'12.34 USD'::monetary / -0.000$$),
             ($$'0 USD'::monetary / 0.0$$),
             ($$'12.34 USD'::monetary / 0::bigint$$),
             ($$'0 USD'::monetary / 0::bigint$$),
             ($$'12.34 USD'::monetary / '0 USD'::monetary$$),
             ($$'0 USD'::monetary / '0 USD'::monetary$$),
             ($$div('12.34 USD', 0, 'half_even')$$),
             ($$div('12.34 USD', 0, 'unnecessary')$$)) AS t(expr);

-- Factors that are not finite are refused.  Factors of any number of
-- significant digits are exact: beyond 38 the product or quotient is
-- computed with numeric, and rounded once like any other.
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$'12.34 USD'::monetary * 'NaN'::numeric$$),
             ($$'12.34 USD'::monetary * 'Infinity'::numeric$$),
             ($$'-Infinity'::numeric * '12.34 USD'::monetary$$),
             ($$'12.34 USD'::monetary / 'NaN'::numeric$$),
             ($$'12.34 USD'::monetary / 'Infinity'::numeric$$),
             ($$mul('12.34 USD', 'NaN', 'half_even')$$),
             ($$div('12.34 USD', '-Infinity', 'half_even')$$),
             ($$'1.00 USD'::monetary * 1.0000000000000000000000000000000000001$$),
             ($$'1.00 USD'::monetary * 1.00000000000000000000000000000000000001$$),
             ($$'1.00 USD'::monetary * 0.000000000000000000000000000000000000000012345678901234567890123456789012345678$$),
             ($$'1.00 USD'::monetary * 123456789012345678901234567890123456789$$),
             ($$'1.00 USD'::monetary * 1.000000000000000000000000000000000000000000000000000$$),
             ($$'1.00 USD'::monetary / 1.0000000000000000000000000000000000000001$$),
             ($$mul('1.00 USD', 1.00000000000000000000000000000000000001, 'half_even')$$),
             ($$div('1.00 USD', 3.00000000000000000000000000000000000001, 'half_even')$$),
             ($$mul('1.00 USD', 1.00000000000000000000000000000000000001, 'up')$$),
             ($$mul('-1.00 USD', 1.00000000000000000000000000000000000001, 'floor')$$),
             ($$mul('1.00 USD', 0.50000000000000000000000000000000000001, 'half_down')$$),
             ($$mul('1.00 USD', 0.005000000000000000000000000000000000000, 'half_down')$$),
             ($$div('1.00 USD', 1.0000000000000000000000000000000000000001, 'down')$$),
             ($$div('1.00 USD', 1.0000000000000000000000000000000000000001, 'ceiling')$$),
             ($$div('-3.00 USD', -3.00000000000000000000000000000000000001, 'up')$$),
             -- exact: 2^-100 has 70 significant digits
             ($$'1.00 USD'::monetary / 0.0000000000000000000000000000007888609052210118054117285652827862296732064351090230047702789306640625$$),
             ($$'1267650600228229401496703205376 JPY'::monetary * 0.0000000000000000000000000000007888609052210118054117285652827862296732064351090230047702789306640625$$),
             ($$div('1.00 USD', 0.0000000000000000000000000000007888609052210118054117285652827862296732064351090230047702789306640625, 'unnecessary')$$),
             -- out of range whatever the amount
             ($$'0.01 USD'::monetary * 123456789012345678901234567890123456789$$),
             ($$div('0.01 USD', 0.0000000000000000000000000000000000000000123456789012345678901234567890123456789, 'down')$$)
      ) AS t(expr);

-- The largest numerics: 16,383 decimals and 131,072 integer digits, each
-- answered exactly in a few milliseconds.
CREATE TEMP TABLE wide AS
SELECT ('0.' || repeat('3', 16383))::numeric AS thirds,
       ('1.' || repeat('0', 16382) || '1')::numeric AS one_and_a_bit,
       (repeat('9', 131072) || '.' || repeat('9', 16383))::numeric AS huge,
       ('0.' || repeat('0', 16000) || repeat('7', 383))::numeric AS tiny;
SELECT mul('99999999999999999999999999999999999.999 BHD', thirds, 'half_even') AS third,
       mul('1.00 USD', one_and_a_bit, 'up') AS up,
       mul('1.00 USD', one_and_a_bit, 'half_even') AS half_even,
       div('1.00 USD', one_and_a_bit, 'down') AS down,
       div('1.00 USD', one_and_a_bit, 'half_up') AS half_up,
       div('-99999999999999999999999999999999999999 JPY', huge, 'floor') AS floor,
       div('99999999999999999999999999999999999999 JPY', huge, 'half_up') AS half_up_huge
FROM wide;
SELECT try_sql('SELECT ''1 JPY''::monetary * ' || huge) AS times_huge,
       try_sql('SELECT ''1 JPY''::monetary / ' || tiny) AS over_tiny
FROM wide;

--
-- monetary / monetary: a numeric ratio, exact to numeric's precision.
--
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$'10.00 USD'::monetary / '2.50 USD'::monetary$$),
             ($$'10.00 USD'::monetary / '3.00 USD'::monetary$$),
             ($$'-1 JPY'::monetary / '3 JPY'::monetary$$),
             ($$'0.01 USD'::monetary / '999999999999999999999999999999999999.99 USD'::monetary$$),
             ($$'999999999999999999999999999999999999.99 USD'::monetary / '0.01 USD'::monetary$$),
             ($$'1.5 ETH/18'::monetary / '0.5 ETH/18'::monetary$$),
             ($$pg_typeof('1 USD'::monetary / '1 USD'::monetary)::text$$)) AS t(expr);

-- Operators and functions are strict: NULL in, NULL out.
SELECT ('1 USD'::monetary + NULL) IS NULL AS plus, (NULL - '1 USD'::monetary) IS NULL AS minus,
       (- NULL::monetary) IS NULL AS neg, ('1 USD'::monetary * NULL::numeric) IS NULL AS times,
       ('1 USD'::monetary / NULL::bigint) IS NULL AS divided,
       ('1 USD'::monetary / NULL::monetary) IS NULL AS ratio;

-- Factors with huge exponents answer as the exact value would: zero times
-- anything, a tiny quotient rounded, an overflow, and a factor just past
-- one is just past one.
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$'0.00 USD'::monetary * 1e100001$$),
             ($$div('1.00 USD', 1e100001, 'up')$$),
             ($$div('1.00 USD', 1e100001, 'half_even')$$),
             ($$mul('1.00 USD', 1e-16000, 'ceiling')$$),
             ($$'0.01 USD'::monetary * 1e100001$$),
             ($$'0.01 USD'::monetary / 1e-16000$$),
             ($$'1.00 USD'::monetary * (1 + 1e-50)$$),
             ($$mul('1.00 USD', 1 + 1e-50, 'up')$$),
             ($$div('1.00 USD', 1 + 1e-16000, 'floor')$$)) AS t(expr);
