-- A randomised check: 100,000 generated amounts in currencies of scale 0,
-- 2, 3 and 18, from one minor unit to 10^30 of them, with factors,
-- divisors and numbers to round.  Every monetary operation is compared
-- with the same computation on numeric, in the same query.  The output is
-- how many rows were checked and how many disagreed (always 0): any
-- disagreement changes a count and fails the test.

-- pg_temp.ref(units, mode): the reference rounding of an exact count of
-- minor units (a decimal), written with numeric's floor, ceil, trunc and
-- round.  NULL for 'unnecessary' when the count is not whole.
CREATE FUNCTION pg_temp.ref(u numeric, mode rounding_mode) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE mode
        WHEN 'down' THEN trunc(u)
        WHEN 'up' THEN sign(u) * ceil(abs(u))
        WHEN 'ceiling' THEN ceil(u)
        WHEN 'floor' THEN floor(u)
        WHEN 'half_up' THEN round(u)
        WHEN 'half_down' THEN sign(u) * ceil(abs(u) - 0.5)
        WHEN 'half_even' THEN CASE WHEN abs(u - trunc(u)) = 0.5
                                   THEN trunc(u) + abs(mod(trunc(u), 2)) * sign(u)
                                   ELSE round(u) END
        WHEN 'unnecessary' THEN CASE WHEN u = trunc(u) THEN u END
    END
$$;

-- pg_temp.shift(u, n): u * 10^-n, exactly (numeric division rounds).
CREATE FUNCTION pg_temp.shift(u numeric, n int) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT u * ('1e' || -n)::numeric
$$;

-- pg_temp.quotient(n, d): n / d truncated at 50 decimals.  Rounding it
-- by any mode gives the same as rounding the exact quotient: the divisors
-- here are below 10^16 once made whole, so a quotient that is not a whole
-- or a half number is further than 10^-17 from one.
CREATE FUNCTION pg_temp.quotient(n numeric, d numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT pg_temp.shift(div(n * 1e50, d), 50)
$$;

-- pg_temp.digits(n): a random whole number of at most n digits (n <= 30).
CREATE FUNCTION pg_temp.digits(n int) RETURNS numeric LANGUAGE sql AS $$
    SELECT trunc((trunc(random() * 1e15)::numeric * 1e15 + trunc(random() * 1e15)::numeric)
                 / 10::numeric ^ (30 - n))
$$;
-- pg_temp.sign(): -1 or 1, at random.
CREATE FUNCTION pg_temp.sign() RETURNS int LANGUAGE sql AS $$
    SELECT CASE WHEN random() < 0.5 THEN -1 ELSE 1 END
$$;

-- pg_temp.sqlstate(query): the SQLSTATE of the query's error, or 'none'.
CREATE FUNCTION pg_temp.sqlstate(query text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
    EXECUTE query;
    RETURN 'none';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$f$;

SELECT setseed(0.2024);
-- One row per case; a table, not a temporary one, so that the sums can
-- also be checked with a parallel plan.
CREATE TABLE money_random AS
SELECT i AS id, s, cur,
       -- two amounts in minor units, of 1 to 30 digits
       pg_temp.sign() * pg_temp.digits(1 + (random() * 29)::int) AS ua,
       pg_temp.sign() * pg_temp.digits(1 + (random() * 29)::int) AS ub,
       -- a factor: simple (often giving whole products) or up to 12
       -- significant digits and 14 decimals; |f| <= 10^5
       CASE WHEN i % 3 = 0
            THEN (trunc(random() * 201) - 100)::numeric
                 / (ARRAY[1, 1, 2, 4, 5, 10, 100])[1 + (random() * 6)::int]
            ELSE pg_temp.sign() * pg_temp.digits(1 + (random() * 11)::int)
                 / 10::numeric ^ (7 + (random() * 7)::int)
       END AS f,
       -- a non-zero divisor: a simple one, or up to 10 digits and 6 decimals
       CASE WHEN i % 5 < 2
            THEN (ARRAY[2, 4, 5, 8, 10, 16, 20, 25, 0.5, 0.25, 0.2, 0.125, 3, 7,
                        -2, -0.5, 1, -1, 100, 0.01])[1 + (random() * 19)::int]
            ELSE pg_temp.sign() * (pg_temp.digits(1 + (random() * 8)::int) + 1)
                 / 10::numeric ^ (random() * 6)::int
       END AS g,
       -- a non-zero bigint of 1 to 7 digits
       (pg_temp.sign() * (1 + trunc(random() * 10 ^ (1 + (random() * 5)::int))))::bigint AS k,
       -- a number with 1 to 10 more decimals than the currency (a third of
       -- those with one more end in 5: ties)
       CASE WHEN i % 2 = 0
            THEN pg_temp.sign() * (pg_temp.digits(1 + (random() * 28)::int) * 10
                                   + CASE WHEN random() < 1.0 / 3 THEN 5 ELSE trunc(random() * 10)::numeric END)
                 / 10::numeric ^ (s + 1)
            ELSE pg_temp.sign() * pg_temp.digits(1 + (random() * 29)::int)
                 / 10::numeric ^ (s + 1 + (random() * 9)::int)
       END AS x,
       -- a smaller scale to rescale to
       CASE s WHEN 0 THEN 0 ELSE (random() * (s - 1))::int END AS t
FROM generate_series(1, 100000) AS i,
     LATERAL (SELECT (ARRAY[0, 2, 3, 18])[1 + i % 4] AS s,
                     (ARRAY['JPY', 'USD', 'BHD', 'ETH/18'])[1 + i % 4]::currency AS cur) AS c;
ALTER TABLE money_random ADD COLUMN ma monetary, ADD COLUMN mb monetary;
UPDATE money_random SET ma = monetary(pg_temp.shift(ua, s), cur),
                        mb = (pg_temp.shift(ub, s)::text || ' ' || cur::text)::monetary;
ANALYZE money_random;

-- What was generated: rows per scale, and the spread of magnitudes.
SELECT s, count(*) AS rows, count(*) FILTER (WHERE abs(ua) < 1000) AS small,
       count(*) FILTER (WHERE abs(ua) >= 1e20) AS large, max(length(abs(ua)::text)) AS max_digits,
       count(*) FILTER (WHERE ua < 0) AS negative
FROM money_random GROUP BY s ORDER BY s;

--
-- I/O and constructors: text and numeric in, text and numeric out.
--
SELECT count(*) AS rows,
       count(*) FILTER (WHERE minor_units(ma) <> ua OR minor_units(mb) <> ub) AS units_differ,
       count(*) FILTER (WHERE amount(ma) <> pg_temp.shift(ua, s)
                           OR scale(amount(ma)) <> s) AS amount_differs,
       count(*) FILTER (WHERE ma::text <> pg_temp.shift(ua, s)::text || ' ' || cur::text) AS text_differs,
       count(*) FILTER (WHERE (ma::text)::monetary <> ma
                           OR (cur::text || ' ' || amount(ma)::text)::monetary <> ma) AS text_in_differs,
       count(*) FILTER (WHERE monetary(amount(mb), cur) <> mb) AS constructor_differs
FROM money_random;

--
-- + and -, binary and unary.
--
SELECT count(*) AS rows,
       count(*) FILTER (WHERE minor_units(ma + mb) <> ua + ub) AS plus_differs,
       count(*) FILTER (WHERE minor_units(ma - mb) <> ua - ub) AS minus_differs,
       count(*) FILTER (WHERE minor_units(- ma) <> - ua) AS negation_differs,
       count(*) FILTER (WHERE (ma + mb) - mb <> ma) AS round_trip_differs,
       count(*) FILTER (WHERE (ma < mb) <> (ua < ub) OR (ma <= mb) <> (ua <= ub)
                           OR (ma > mb) <> (ua > ub) OR (ma >= mb) <> (ua >= ub)
                           OR (ma = mb) <> (ua = ub) OR (ma <> mb) <> (ua <> ub)) AS comparison_differs,
       count(*) FILTER (WHERE sign(monetary_total_cmp(ma, mb)) <> sign(ua - ub)) AS total_order_differs,
       count(*) FILTER (WHERE ma / mb IS DISTINCT FROM
                              CASE WHEN ub <> 0 THEN ua::numeric / ub END) AS ratio_differs
FROM money_random WHERE ub <> 0;

--
-- * numeric and * bigint: exact where the product is a whole number of
-- minor units; rounded once by mul in every mode; and the
-- operator refuses (22023) the inexact ones.
--
SELECT count(*) AS rows,
       count(*) FILTER (WHERE ua * f = trunc(ua * f)) AS exact_products,
       count(*) FILTER (WHERE ua * f = trunc(ua * f)
                          AND (minor_units(ma * f) <> ua * f OR minor_units(f * ma) <> ua * f)) AS product_differs,
       count(*) FILTER (WHERE minor_units(ma * k) <> ua * k OR minor_units(k * ma) <> ua * k) AS bigint_product_differs
FROM money_random;

SELECT count(*) AS rows_times_modes,
       count(*) FILTER (WHERE mode <> 'unnecessary' OR ua * f = trunc(ua * f)) AS compared,
       count(*) FILTER (WHERE (mode <> 'unnecessary' OR ua * f = trunc(ua * f))
                          AND minor_units(mul(ma, f, mode)) <> pg_temp.ref(ua * f, mode)) AS mul_differs
FROM money_random, unnest(enum_range(NULL::rounding_mode)) AS mode;

SELECT count(*) AS inexact_sampled,
       count(*) FILTER (WHERE pg_temp.sqlstate(format('SELECT %L::monetary * %s::numeric', ma, f)) <> '22023') AS operator_not_22023,
       count(*) FILTER (WHERE pg_temp.sqlstate(format('SELECT mul(%L, %s::numeric, ''unnecessary'')', ma, f)) <> '22023') AS unnecessary_not_22023
FROM (SELECT * FROM money_random WHERE ua * f <> trunc(ua * f) ORDER BY id LIMIT 2000) AS t;

--
-- / numeric and / bigint: exact where the quotient is a whole number of
-- minor units; rounded once by div in every mode; and the
-- operators refuse (22023) the inexact ones.
--
SELECT count(*) AS rows,
       count(*) FILTER (WHERE mod(ua, g) = 0) AS exact_quotients,
       count(*) FILTER (WHERE mod(ua, g) = 0 AND minor_units(ma / g) <> div(ua, g)) AS quotient_differs,
       count(*) FILTER (WHERE mod(ua, k) = 0) AS exact_bigint_quotients,
       count(*) FILTER (WHERE mod(ua, k) = 0 AND minor_units(ma / k) <> div(ua, k)) AS bigint_quotient_differs
FROM money_random;

WITH q AS MATERIALIZED (
    SELECT ma, g, k, mod(ua, g) = 0 AS g_exact, mod(ua, k) = 0 AS k_exact,
           pg_temp.quotient(ua, g) AS qg, pg_temp.quotient(ua, k) AS qk
    FROM money_random
)
SELECT count(*) AS rows_times_modes,
       count(*) FILTER (WHERE mode <> 'unnecessary' OR g_exact) AS compared,
       count(*) FILTER (WHERE (mode <> 'unnecessary' OR g_exact)
                          AND minor_units(div(ma, g, mode)) <> pg_temp.ref(qg, mode)) AS div_differs,
       count(*) FILTER (WHERE (mode <> 'unnecessary' OR k_exact)
                          AND minor_units(div(ma, k, mode)) <> pg_temp.ref(qk, mode)) AS div_by_bigint_differs
FROM q, unnest(enum_range(NULL::rounding_mode)) AS mode;

SELECT count(*) AS inexact_sampled,
       count(*) FILTER (WHERE pg_temp.sqlstate(format('SELECT %L::monetary / %s::numeric', ma, g)) <> '22023') AS operator_not_22023,
       count(*) FILTER (WHERE pg_temp.sqlstate(format('SELECT %L::monetary / %s::bigint', ma, k)) <> '22023') AS bigint_operator_not_22023
FROM (SELECT * FROM money_random WHERE mod(ua, g) <> 0 AND mod(ua, k) <> 0 ORDER BY id LIMIT 2000) AS t;

--
-- monetary(numeric, currency, mode): numbers with more decimals
-- than the currency, rounded once in every mode; and the exact
-- constructor refuses them.
--
SELECT count(*) AS rows_times_modes,
       count(*) FILTER (WHERE mode <> 'unnecessary') AS compared,
       count(*) FILTER (WHERE mode <> 'unnecessary'
                          AND minor_units(monetary(x, cur, mode))
                              <> pg_temp.ref(x * 10::numeric ^ s, mode)) AS constructor_differs,
       count(*) FILTER (WHERE mode = 'half_even' AND x * 10::numeric ^ s - trunc(x * 10::numeric ^ s) IN (0.5, -0.5)) AS ties
FROM money_random, unnest(enum_range(NULL::rounding_mode)) AS mode;

SELECT count(*) AS inexact_sampled,
       count(*) FILTER (WHERE pg_temp.sqlstate(format('SELECT monetary(%s::numeric, %L)', x, cur)) <> '22023') AS exact_not_22023,
       count(*) FILTER (WHERE pg_temp.sqlstate(format('SELECT %L::monetary', x || ' ' || cur::text)) <> '22P02') AS input_not_22P02
FROM (SELECT * FROM money_random WHERE x * 10::numeric ^ s <> trunc(x * 10::numeric ^ s) ORDER BY id LIMIT 2000) AS t;

--
-- rescale: down to a smaller scale in every mode, and up exactly.
--
WITH r AS MATERIALIZED (
    SELECT ma, t, pg_temp.shift(ua, s - t) AS u, mod(ua, 10::numeric ^ (s - t)) = 0 AS exact
    FROM money_random WHERE t < s
)
SELECT count(*) AS rows_times_modes,
       count(*) FILTER (WHERE mode <> 'unnecessary' OR exact) AS compared,
       count(*) FILTER (WHERE (mode <> 'unnecessary' OR exact)
                          AND (minor_units(rescale(ma, t, mode)) <> pg_temp.ref(u, mode)
                               OR scale(currency(rescale(ma, t, mode))) <> t)) AS rescale_differs
FROM r, unnest(enum_range(NULL::rounding_mode)) AS mode;

SELECT count(*) AS rows,
       count(*) FILTER (WHERE minor_units(rescale(ma, least(s + 8, 18))) <> ua * 10::numeric ^ (least(s + 8, 18) - s)
                           OR rescale(rescale(ma, least(s + 8, 18)), s, 'unnecessary') <> ma) AS rescale_up_differs
FROM money_random;

--
-- sum and avg, per currency and in small groups, serial and parallel,
-- against numeric's sum and a half-even mean.
--
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS groups, sum(n) AS rows,
       count(*) FILTER (WHERE minor_units(total) <> units) AS sum_differs,
       count(*) FILTER (WHERE minor_units(mean) <> pg_temp.ref(pg_temp.quotient(units, n), 'half_even')) AS avg_differs
FROM (SELECT id % 1000 AS grp, cur, sum(ma) AS total, avg(ma) AS mean, sum(ua) AS units, count(*) AS n
      FROM money_random GROUP BY 1, 2) AS g;
CREATE TEMP TABLE serial_sums AS
SELECT cur, sum(ma) AS total, avg(ma) AS mean, min(ma) AS least, max(ma) AS greatest,
       sum(ua) AS units, count(*) AS n, min(ua) AS least_units, max(ua) AS greatest_units
FROM money_random GROUP BY cur;
SELECT cur, n, minor_units(total) = units AS sum_agrees,
       minor_units(mean) = pg_temp.ref(pg_temp.quotient(units, n), 'half_even') AS avg_agrees,
       minor_units(least) = least_units AND minor_units(greatest) = greatest_units AS min_max_agree
FROM serial_sums ORDER BY cur;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT sum(ma), avg(ma), min(ma), max(ma) FROM money_random WHERE cur = 'USD';
SELECT count(*) AS currencies,
       count(*) FILTER (WHERE p.total = s.total AND p.mean = s.mean
                          AND p.least = s.least AND p.greatest = s.greatest) AS parallel_agrees
FROM serial_sums s,
     LATERAL (SELECT sum(ma) AS total, avg(ma) AS mean, min(ma) AS least, max(ma) AS greatest
              FROM money_random r WHERE r.cur = s.cur) AS p;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

--
-- Factors and divisors of more than 38 significant digits: every fifth row
-- gets one of 39 to 80 digits, of magnitude 10^-25 to 10^12.  mul and div
-- are compared with numeric in every mode; the operators are exact or
-- refuse (22023); results past 38 digits are refused (22003).
--
-- pg_temp.long_digits(n): a random whole number of exactly n significant
-- digits (n >= 3): neither its first nor its last digit is zero.
CREATE FUNCTION pg_temp.long_digits(n int) RETURNS numeric LANGUAGE sql AS $$
    SELECT ((1 + trunc(random() * 9))::text
            || string_agg(trunc(random() * 10)::text, '')
            || (1 + trunc(random() * 9))::text)::numeric
    FROM generate_series(1, n - 2)
$$;
-- pg_temp.significant(x): how many significant digits x has.
CREATE FUNCTION pg_temp.significant(x numeric) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT length(trim(both '0' from replace(abs(x)::text, '.', '')))
$$;
-- The rows are drawn in id order: the physical order of money_random
-- depends on where its UPDATE found room, which an autovacuum run between
-- its creation and its update changes.
CREATE TEMP TABLE money_long AS
SELECT id, s, cur, ua, ma, n,
       pg_temp.sign() * pg_temp.shift(pg_temp.long_digits(n), n - 1 - e) AS f
FROM (SELECT *, 39 + (random() * 41)::int AS n, (random() * 37)::int - 25 AS e
      FROM money_random WHERE id % 5 = 0 ORDER BY id) AS r;
SELECT count(*) AS rows, min(pg_temp.significant(f)) AS min_digits,
       max(pg_temp.significant(f)) AS max_digits,
       count(*) FILTER (WHERE abs(f) < 1) AS below_one,
       count(*) FILTER (WHERE f < 0) AS negative
FROM money_long;

-- mul: the exact product by numeric, rounded by the reference.
WITH m AS MATERIALIZED (
    SELECT ma, f, mode, pg_temp.ref(ua * f, mode) AS want
    FROM money_long, unnest(enum_range(NULL::rounding_mode)) AS mode
)
SELECT count(*) AS rows_times_modes,
       count(*) FILTER (WHERE coalesce(abs(want) < 1e38, false)) AS compared,
       count(*) FILTER (WHERE coalesce(abs(want) < 1e38, false)
                          AND minor_units(mul(ma, f, mode)) <> want) AS mul_differs,
       count(*) FILTER (WHERE abs(want) >= 1e38) AS out_of_range
FROM m;

-- div: the quotient truncated after 100 decimals rounds as the exact one
-- does, since a divisor of at most 80 digits, made whole, leaves a quotient
-- that is not a multiple of one half at least 10^-81 away from one.
WITH d AS MATERIALIZED (
    SELECT ma, f, mode, pg_temp.ref(pg_temp.shift(div(ua * 1e100, f), 100), mode) AS want,
           mod(ua, f) = 0 AS exact
    FROM money_long, unnest(enum_range(NULL::rounding_mode)) AS mode
)
SELECT count(*) AS rows_times_modes,
       count(*) FILTER (WHERE abs(want) < 1e38 AND (mode <> 'unnecessary' OR exact)) AS compared,
       count(*) FILTER (WHERE abs(want) < 1e38 AND (mode <> 'unnecessary' OR exact)
                          AND minor_units(div(ma, f, mode)) <> want) AS div_differs,
       count(*) FILTER (WHERE abs(want) >= 1e38) AS out_of_range
FROM d;

-- Refusals, sampled: inexact results by the operators and by
-- 'unnecessary' (22023), results past 38 digits (22003).
SELECT count(*) AS inexact_sampled,
       count(*) FILTER (WHERE pg_temp.sqlstate(format('SELECT %L::monetary * %s', ma, f)) <> '22023') AS product_not_22023,
       count(*) FILTER (WHERE pg_temp.sqlstate(format('SELECT %L::monetary / %s', ma, f)) <> '22023') AS quotient_not_22023,
       count(*) FILTER (WHERE pg_temp.sqlstate(format('SELECT mul(%L, %s, ''unnecessary'')', ma, f)) <> '22023') AS unnecessary_not_22023
FROM (SELECT * FROM money_long
      WHERE ua * f <> trunc(ua * f) AND abs(ua * f) < 1e37 AND abs(ua / f) < 1e37 AND mod(ua, f) <> 0
      ORDER BY id LIMIT 500) AS t;
SELECT count(*) AS overflow_sampled,
       count(*) FILTER (WHERE pg_temp.sqlstate(format('SELECT mul(%L, %s, ''down'')', ma, f)) <> '22003') AS product_not_22003
FROM (SELECT * FROM money_long WHERE abs(ua * f) >= 1e38 ORDER BY id LIMIT 300) AS t;
SELECT count(*) AS overflow_sampled,
       count(*) FILTER (WHERE pg_temp.sqlstate(format('SELECT div(%L, %s, ''down'')', ma, f)) <> '22003') AS quotient_not_22003
FROM (SELECT * FROM money_long WHERE abs(ua / f) >= 1e38 + 1 ORDER BY id LIMIT 300) AS t;

-- Exact products and quotients with long factors (m and u odd, j from 60
-- to 126, so that m / 2^j = m * 5^j * 10^-j has more than 38 digits): units
-- t * 2^j times m / 2^j is t * m, and units u divided by u / 2^j is 2^j,
-- through the operators and 'unnecessary'.
CREATE TEMP TABLE money_long_exact AS
SELECT id, j, t, m, u, cur,
       pg_temp.shift(m * 5::numeric ^ j, j) AS f,
       pg_temp.shift(u * 5::numeric ^ j, j) AS g
FROM (SELECT i AS id, 60 + i % 67 AS j,
             pg_temp.sign() * (1 + trunc(random() * 1000))::numeric AS t,
             (2 * trunc(random() * 1e8) + 1)::numeric AS m,
             pg_temp.sign() * (2 * pg_temp.digits(1 + (random() * 29)::int) + 1) AS u,
             (ARRAY['JPY', 'USD', 'BHD', 'ETH/18'])[1 + i % 4]::currency AS cur
      FROM generate_series(1, 2000) AS i) AS c;
SELECT count(*) AS cases,
       min(least(pg_temp.significant(f), pg_temp.significant(g))) AS min_digits,
       max(greatest(pg_temp.significant(f), pg_temp.significant(g))) AS max_digits,
       count(*) FILTER (WHERE f * 2::numeric ^ j <> m OR g * 2::numeric ^ j <> u) AS not_exact
FROM money_long_exact;
SELECT count(*) AS cases,
       count(*) FILTER (WHERE minor_units(monetary(pg_temp.shift(t * 2::numeric ^ j, scale(cur)), cur) * f) <> t * m) AS product_differs,
       count(*) FILTER (WHERE minor_units(mul(monetary(pg_temp.shift(t * 2::numeric ^ j, scale(cur)), cur), f, 'unnecessary')) <> t * m) AS unnecessary_product_differs,
       count(*) FILTER (WHERE minor_units(monetary(pg_temp.shift(u, scale(cur)), cur) / g) <> 2::numeric ^ j) AS quotient_differs,
       count(*) FILTER (WHERE minor_units(div(monetary(pg_temp.shift(u, scale(cur)), cur), g, 'unnecessary')) <> 2::numeric ^ j) AS unnecessary_quotient_differs
FROM money_long_exact WHERE abs(t) * 2::numeric ^ j < 1e38;

DROP TABLE money_random;
