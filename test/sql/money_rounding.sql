-- Explicit rounding: rounding_mode, mul, div,
-- monetary(numeric, currency, mode), rescale and
-- round (cash increments), every mode on both signs.

-- pg_temp.cell(expr): the minor units of a monetary expression, or just
-- "ERROR SQLSTATE", for the grids below (one row per input, one column
-- per rounding mode).
CREATE FUNCTION pg_temp.cell(expr text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    result text;
BEGIN
    EXECUTE 'SELECT minor_units(' || expr || ')::text' INTO result;
    RETURN result;
EXCEPTION WHEN OTHERS THEN
    RETURN 'ERROR ' || SQLSTATE;
END
$f$;

--
-- The modes, in the order of the enum.
--
SELECT enum_range(NULL::rounding_mode);
SELECT try_sql($$SELECT mul('1 USD', 0.5, 'bankers')$$) AS bad_mode;
SELECT mul('1 USD', 0.5, NULL) IS NULL AS null_mode,
       div(NULL, 2, 'up') IS NULL AS null_amount,
       rescale('1 USD', NULL) IS NULL AS null_scale,
       round('1 CHF', NULL, 'up') IS NULL AS null_increment;

-- Exact results, in minor units, that each grid row rounds: halves,
-- near-halves and whole numbers, both signs.
CREATE TEMP TABLE exact (units numeric);
INSERT INTO exact VALUES (3.5), (2.51), (2.5), (2.49), (1), (0.6), (0.5), (0.4),
    (0), (-0.4), (-0.5), (-0.6), (-1), (-2.49), (-2.5), (-2.51), (-3.5);

-- mul: the exact product, rounded once.
SELECT units AS exact,
       max(r) FILTER (WHERE mode = 'half_even') AS half_even,
       max(r) FILTER (WHERE mode = 'half_up') AS half_up,
       max(r) FILTER (WHERE mode = 'half_down') AS half_down,
       max(r) FILTER (WHERE mode = 'up') AS up,
       max(r) FILTER (WHERE mode = 'down') AS down,
       max(r) FILTER (WHERE mode = 'ceiling') AS ceiling,
       max(r) FILTER (WHERE mode = 'floor') AS floor,
       max(r) FILTER (WHERE mode = 'unnecessary') AS unnecessary
FROM exact, unnest(enum_range(NULL::rounding_mode)) AS mode,
     LATERAL pg_temp.cell(format($$mul(monetary(%s, 'USD'), 0.01, %L)$$,
                                 units, mode)) AS r
GROUP BY units ORDER BY units DESC;

-- div: the exact quotient, rounded once.
SELECT units AS exact,
       max(r) FILTER (WHERE mode = 'half_even') AS half_even,
       max(r) FILTER (WHERE mode = 'half_up') AS half_up,
       max(r) FILTER (WHERE mode = 'half_down') AS half_down,
       max(r) FILTER (WHERE mode = 'up') AS up,
       max(r) FILTER (WHERE mode = 'down') AS down,
       max(r) FILTER (WHERE mode = 'ceiling') AS ceiling,
       max(r) FILTER (WHERE mode = 'floor') AS floor,
       max(r) FILTER (WHERE mode = 'unnecessary') AS unnecessary
FROM exact, unnest(enum_range(NULL::rounding_mode)) AS mode,
     LATERAL pg_temp.cell(format($$div(monetary(%s, 'USD'), 100, %L)$$,
                                 units, mode)) AS r
GROUP BY units ORDER BY units DESC;

-- monetary(numeric, currency, mode): a number rounded once.
SELECT units AS exact,
       max(r) FILTER (WHERE mode = 'half_even') AS half_even,
       max(r) FILTER (WHERE mode = 'half_up') AS half_up,
       max(r) FILTER (WHERE mode = 'half_down') AS half_down,
       max(r) FILTER (WHERE mode = 'up') AS up,
       max(r) FILTER (WHERE mode = 'down') AS down,
       max(r) FILTER (WHERE mode = 'ceiling') AS ceiling,
       max(r) FILTER (WHERE mode = 'floor') AS floor,
       max(r) FILTER (WHERE mode = 'unnecessary') AS unnecessary
FROM exact, unnest(enum_range(NULL::rounding_mode)) AS mode,
     LATERAL pg_temp.cell(format($$monetary(%s, 'USD', %L)$$,
                                 units / 100, mode)) AS r
GROUP BY units ORDER BY units DESC;

-- rescale down, from USD/4 to USD.
SELECT units AS exact,
       max(r) FILTER (WHERE mode = 'half_even') AS half_even,
       max(r) FILTER (WHERE mode = 'half_up') AS half_up,
       max(r) FILTER (WHERE mode = 'half_down') AS half_down,
       max(r) FILTER (WHERE mode = 'up') AS up,
       max(r) FILTER (WHERE mode = 'down') AS down,
       max(r) FILTER (WHERE mode = 'ceiling') AS ceiling,
       max(r) FILTER (WHERE mode = 'floor') AS floor,
       max(r) FILTER (WHERE mode = 'unnecessary') AS unnecessary
FROM exact, unnest(enum_range(NULL::rounding_mode)) AS mode,
     LATERAL pg_temp.cell(format($$rescale(monetary(%s, 'USD/4'), 2, %L)$$,
                                 units / 100, mode)) AS r
GROUP BY units ORDER BY units DESC;

-- Quotients that are not halves: n / d minor units.
SELECT n || ' / ' || d AS "units / divisor",
       max(r) FILTER (WHERE mode = 'half_even') AS half_even,
       max(r) FILTER (WHERE mode = 'half_up') AS half_up,
       max(r) FILTER (WHERE mode = 'half_down') AS half_down,
       max(r) FILTER (WHERE mode = 'up') AS up,
       max(r) FILTER (WHERE mode = 'down') AS down,
       max(r) FILTER (WHERE mode = 'ceiling') AS ceiling,
       max(r) FILTER (WHERE mode = 'floor') AS floor,
       max(r) FILTER (WHERE mode = 'unnecessary') AS unnecessary
FROM (VALUES (1, 3), (2, 3), (-1, 3), (-2, 3), (10, 4), (-10, 4), (14, 4),
             (1, -3), (-2, -3), (100, 7), (1, 1000000)) AS t(n, d),
     unnest(enum_range(NULL::rounding_mode)) AS mode,
     LATERAL pg_temp.cell(format($$div(monetary(%s, 'USD/0'), %s, %L)$$,
                                 n, d, mode)) AS r
GROUP BY n, d ORDER BY n DESC, d;

-- The error of an inexact 'unnecessary', with its hint.
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$mul('0.01 USD', 0.5, 'unnecessary')$$),
             ($$div('0.01 USD', 2, 'unnecessary')$$),
             ($$monetary(0.005, 'USD', 'unnecessary')$$),
             ($$rescale('0.0050 USD/4', 2, 'unnecessary')$$),
             ($$round('1.02 CHF', '0.05 CHF', 'unnecessary')$$),
             ($$mul('0.02 USD', 0.5, 'unnecessary')$$)) AS t(expr);

--
-- One rounding of the exact value, however many digits it has: just
-- above or below a half rounds like it, and 256-bit intermediate products
-- round correctly.
--
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$mul('1.00 USD', 0.005, 'half_even')$$),
             ($$mul('1.00 USD', 0.00500000000000000000000000000000000001, 'half_even')$$),
             ($$mul('1.00 USD', 0.00500000000000000000000000000000000001, 'half_down')$$),
             ($$mul('1.00 USD', 0.00499999999999999999999999999999999999, 'half_up')$$),
             ($$mul('-1.00 USD', 0.00500000000000000000000000000000000001, 'half_down')$$),
             ($$mul('-1.00 USD', 0.00499999999999999999999999999999999999, 'half_up')$$),
             ($$mul('1.00 USD', 0.00000000000000000000000000000000000001, 'up')$$),
             ($$mul('1.00 USD', 0.00000000000000000000000000000000000001, 'half_up')$$),
             ($$mul('-1.00 USD', 0.00000000000000000000000000000000000001, 'floor')$$),
             ($$mul('-1.00 USD', 0.00000000000000000000000000000000000001, 'ceiling')$$),
             ($$mul('999999999999999999999999999999999999.99 USD', 0.99999999999999999999999999999999999999, 'half_even')$$),
             ($$mul('999999999999999999999999999999999999.99 USD', 0.99999999999999999999999999999999999999, 'ceiling')$$),
             ($$mul('-999999999999999999999999999999999999.99 USD', 0.99999999999999999999999999999999999999, 'floor')$$),
             ($$mul('999999999999999999999999999999999999.99 USD', 0.5, 'half_even')$$),
             ($$mul('999999999999999999999999999999999999.99 USD', 0.5, 'half_up')$$),
             ($$mul('0.99 USD', 1.0000000000000000000000000000000000001, 'down')$$),
             ($$mul('0.99 USD', 1.0000000000000000000000000000000000001, 'up')$$),
             ($$mul('1234567890123456789012345678901234567 JPY', 8.7654321098765432109876543210987654321, 'half_even')$$),
             ($$mul('-1234567890123456789012345678901234567 JPY', 8.7654321098765432109876543210987654321, 'down')$$),
             ($$mul('1 JPY', 1e-1000, 'up')$$),
             ($$mul('1 JPY', 1e-1000, 'half_up')$$),
             ($$mul('-1 JPY', 1e-1000, 'floor')$$),
             ($$div('999999999999999999999999999999999999.99 USD', 0.99999999999999999999999999999999999999, 'half_even')$$),
             ($$div('99999999999999999999999999999999999999 JPY', 1.2345678901234567890123456789012345678, 'half_even')$$),
             ($$div('-99999999999999999999999999999999999999 JPY', -1.2345678901234567890123456789012345678, 'half_even')$$),
             ($$div('1 JPY', 3e37, 'up')$$),
             ($$div('1 JPY', 1e1000, 'up')$$),
             ($$div('-1 JPY', 1e1000, 'floor')$$),
             ($$div('1 JPY', 1e1000, 'half_up')$$),
             ($$div('99999999999999999999999999999999999999 JPY', 99999999999999999999999999999999999999, 'unnecessary')$$),
             ($$div('99999999999999999999999999999999999999 JPY', 1e-38, 'half_even')$$),
             ($$div('1 JPY', 0.00000000000000000000000000000000000001, 'half_even')$$),
             ($$monetary(0.004999999999999999999999999999999999999999, 'USD', 'half_up')$$),
             ($$monetary(0.005000000000000000000000000000000000000001, 'USD', 'half_down')$$),
             ($$monetary(-0.005000000000000000000000000000000000000001, 'USD', 'half_even')$$),
             ($$monetary(0.015, 'USD', 'half_even')$$),
             ($$monetary(0.025, 'USD', 'half_even')$$),
             ($$monetary(999999999999999999999999999999999999.994, 'USD', 'half_up')$$),
             ($$monetary(999999999999999999999999999999999999.995, 'USD', 'half_up')$$),
             ($$monetary(999999999999999999999999999999999999.995, 'USD', 'down')$$),
             ($$monetary(-999999999999999999999999999999999999.995, 'USD', 'half_even')$$),
             ($$monetary(-999999999999999999999999999999999999.991, 'USD', 'floor')$$),
             ($$monetary(1e-1000, 'USD', 'up')$$),
             ($$monetary(-1e-1000, 'USD', 'half_up')$$),
             ($$monetary('NaN', 'USD', 'half_up')$$),
             ($$monetary(1, 'XAU', 'half_up')$$)) AS t(expr);

-- Rounded products and quotients past 38 digits (22003).
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$mul('999999999999999999999999999999999999.99 USD', 1.0000000000000000000000000000000000001, 'down')$$),
             ($$mul('999999999999999999999999999999999999.99 USD', 1.5, 'half_even')$$),
             ($$mul('-999999999999999999999999999999999999.99 USD', 1.0000000000000000000000000000000000001, 'floor')$$),
             ($$mul('12345678901234567890123456789012345678 JPY', 8.7654321098765432109876543210987654321, 'half_even')$$),
             ($$div('999999999999999999999999999999999999.99 USD', 0.99999999999999999999999999999999999999, 'up')$$),
             ($$div('1 JPY', 1e-38, 'half_even')$$)) AS t(expr);

--
-- rescale: the same code at another scale.  Up is always exact;
-- down rounds (half-even unless told).
--
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$rescale('12.34 USD', 4)$$),
             ($$rescale('-12.34 USD', 18)$$),
             ($$rescale('12.34 USD', 2)$$),
             ($$rescale('12.3400 USD/4', 2)$$),
             ($$rescale('12.3400 USD/4', 2, 'unnecessary')$$),
             ($$rescale('0.0250 USD/4', 2)$$),
             ($$rescale('0.0350 USD/4', 2)$$),
             ($$rescale('0.0250 USD/4', 2, 'half_up')$$),
             ($$rescale('-0.0250 USD/4', 2, 'half_up')$$),
             ($$rescale('1234 JPY', 2)$$),
             ($$rescale('12.50 JPY/2', 0)$$),
             ($$rescale('13.50 JPY/2', 0)$$),
             ($$rescale('1.999999999999999999 ETH/18', 0, 'down')$$),
             ($$rescale('1.999999999999999999 ETH/18', 6, 'up')$$),
             ($$rescale('-1.999999999999999999 ETH/18', 0, 'floor')$$),
             ($$rescale('1 PTS/0', 18)$$),
             ($$rescale('99999999999999999999 PTS/0', 18)$$),
             ($$rescale('100000000000000000000 PTS/0', 18)$$),
             ($$rescale('999999999999999999999999999999999999.99 USD', 3)$$),
             ($$rescale('999999999999999999999999999999999999.99 USD', 1, 'up')$$),
             ($$rescale('999999999999999999999999999999999999.99 USD', 1, 'down')$$),
             ($$rescale('99999999999999999999.999999999999999999 ETH/18', 0, 'half_even')$$),
             ($$rescale('0.0050 USD/4', 2, 'unnecessary')$$),
             ($$rescale('1 USD', -1)$$),
             ($$rescale('1 USD', 19)$$),
             ($$rescale('1 USD', 2147483647)$$)) AS t(expr);

--
-- round: to a whole multiple of a cash increment, such as CHF to
-- 0.05, in the increment's currency.
--
SELECT amount AS "CHF",
       max(r) FILTER (WHERE mode = 'half_even') AS half_even,
       max(r) FILTER (WHERE mode = 'half_up') AS half_up,
       max(r) FILTER (WHERE mode = 'half_down') AS half_down,
       max(r) FILTER (WHERE mode = 'up') AS up,
       max(r) FILTER (WHERE mode = 'down') AS down,
       max(r) FILTER (WHERE mode = 'ceiling') AS ceiling,
       max(r) FILTER (WHERE mode = 'floor') AS floor,
       max(r) FILTER (WHERE mode = 'unnecessary') AS unnecessary
FROM (VALUES (1.08), (1.07), (1.05), (1.03), (1.02), (1.00), (0.02), (0.00),
             (-0.02), (-1.02), (-1.03), (-1.07), (-1.08)) AS t(amount),
     unnest(enum_range(NULL::rounding_mode)) AS mode,
     LATERAL pg_temp.cell(format($$round(monetary(%s, 'CHF'), '0.05 CHF', %L)$$,
                                 amount, mode)) AS r
GROUP BY amount ORDER BY amount DESC;

-- Ties, with an increment of 0.10.
SELECT amount AS "CHF",
       max(r) FILTER (WHERE mode = 'half_even') AS half_even,
       max(r) FILTER (WHERE mode = 'half_up') AS half_up,
       max(r) FILTER (WHERE mode = 'half_down') AS half_down,
       max(r) FILTER (WHERE mode = 'up') AS up,
       max(r) FILTER (WHERE mode = 'down') AS down,
       max(r) FILTER (WHERE mode = 'ceiling') AS ceiling,
       max(r) FILTER (WHERE mode = 'floor') AS floor,
       max(r) FILTER (WHERE mode = 'unnecessary') AS unnecessary
FROM (VALUES (1.15), (1.05), (0.05), (-0.05), (-1.05), (-1.15)) AS t(amount),
     unnest(enum_range(NULL::rounding_mode)) AS mode,
     LATERAL pg_temp.cell(format($$round(monetary(%s, 'CHF'), '0.10 CHF', %L)$$,
                                 amount, mode)) AS r
GROUP BY amount ORDER BY amount DESC;

SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$round('1.02 CHF', '0.05 CHF', 'half_even')$$),
             ($$round('-1.03 CHF', '0.05 CHF', 'half_even')$$),
             ($$round('1234 JPY', '100 JPY', 'half_up')$$),
             ($$round('1250 JPY', '100 JPY', 'half_even')$$),
             ($$round('12.34 USD', '0.01 USD', 'unnecessary')$$),
             ($$round('12.34 USD', '0.25 USD', 'half_even')$$),
             ($$round('30.00 USD', '100.00 USD', 'half_up')$$),
             ($$round('30.00 USD', '100.00 USD', 'up')$$),
             ($$round('-30.00 USD', '100.00 USD', 'floor')$$),
             ($$round('1.23456789 BTC/8', '0.001 BTC/8', 'half_up')$$),
             ($$round('999999999999999999999999999999999999.99 USD', '0.10 USD', 'down')$$),
             ($$round('999999999999999999999999999999999999.99 USD', '0.10 USD', 'up')$$),
             ($$round('-999999999999999999999999999999999999.99 USD', '0.10 USD', 'half_even')$$),
             ($$round('999999999999999999999999999999999999.99 USD', '999999999999999999999999999999999999.99 USD', 'half_even')$$),
             ($$round('1.02 CHF', '0.00 CHF', 'half_even')$$),
             ($$round('1.02 CHF', '-0.05 CHF', 'half_even')$$),
             ($$round('1.02 CHF', '0.05 EUR', 'half_even')$$),
             ($$round('1.02 CHF', '0.050 CHF/3', 'half_even')$$)) AS t(expr);
