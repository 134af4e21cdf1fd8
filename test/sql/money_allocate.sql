-- allocate(monetary, numeric[]) and split(monetary, int):
-- the parts always sum exactly to the whole (largest remainder, ties to
-- the earlier part), keep its sign, and bad ratios or counts are errors.

--
-- split: n parts as equal as minor units allow, the odd units to the
-- earlier parts.
--
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$split('100.00 USD', 3)$$),
             ($$split('-100.00 USD', 3)$$),
             ($$split('100.00 USD', 1)$$),
             ($$split('0.00 USD', 3)$$),
             ($$split('0.01 USD', 3)$$),
             ($$split('0.02 USD', 3)$$),
             ($$split('-0.02 USD', 3)$$),
             ($$split('100 JPY', 7)$$),
             ($$split('1 ETH/18', 3)$$),
             ($$split('999999999999999999999999999999999999.99 USD', 7)$$),
             ($$split('-999999999999999999999999999999999999.99 USD', 2)$$),
             ($$pg_typeof(split('1 USD', 2))::text$$)) AS t(expr);

-- Many parts: they still sum to the whole, and differ by one unit at most.
SELECT n, count(*) AS parts, sum(p) AS total, min(p), max(p),
       count(*) FILTER (WHERE p = '0.01 USD') AS larger_parts
FROM (VALUES (1000), (100000)) AS t(n),
     LATERAL unnest(split('1.00 USD', n)) AS p
GROUP BY n ORDER BY n;
SELECT count(*) AS parts, sum(p) AS total FROM unnest(split('123456.78 EUR', 100000)) AS p;

-- n < 1, or more than 100,000 parts (22023): the cap, not the size of an
-- array, bounds what a call costs.
SELECT n, try_sql(format($$SELECT split('100.00 USD', %s)$$, n)) AS result
FROM (VALUES (0), (-1), (-2147483648), (100001), (44739241), (2147483647)) AS t(n);
SELECT split(NULL, 3) IS NULL AS null_amount, split('1 USD', NULL) IS NULL AS null_parts;

--
-- allocate: parts in proportion to the ratios.
--
SELECT expr, try_sql('SELECT ' || expr) AS result
FROM (VALUES ($$allocate('100.00 USD', '{1,1,1}')$$),
             ($$allocate('100.00 USD', '{70,20,10}')$$),
             ($$allocate('100.00 USD', '{0.7,0.2,0.1}')$$),
             ($$allocate('100.00 USD', '{1}')$$),
             -- ties go to the earlier part ...
             ($$allocate('0.05 USD', '{3,7}')$$),
             ($$allocate('0.05 USD', '{7,3}')$$),
             ($$allocate('0.01 USD', '{1,1}')$$),
             ($$allocate('0.02 USD', '{1,1,1,1}')$$),
             -- ... but the largest remainder comes first, wherever it is
             ($$allocate('0.07 USD', '{3,1,2}')$$),
             ($$allocate('0.07 USD', '{1,2,3}')$$),
             ($$allocate('0.10 USD', '{1,1,1,1,1,1,1}')$$),
             -- negative amounts mirror positive ones
             ($$allocate('-0.05 USD', '{3,7}')$$),
             ($$allocate('-0.07 USD', '{1,2,3}')$$),
             ($$allocate('-100.00 USD', '{1,1,1}')$$),
             -- zero ratios get nothing
             ($$allocate('100.00 USD', '{0,1,1}')$$),
             ($$allocate('100.00 USD', '{0,1,0}')$$),
             ($$allocate('0.01 USD', '{0,0,5}')$$),
             ($$allocate('0.00 USD', '{1,2}')$$),
             -- ratios with different decimal exponents
             ($$allocate('100.00 USD', '{0.5,0.25,0.25}')$$),
             ($$allocate('100.00 USD', '{0.5,25,2500}')$$),
             ($$allocate('100.00 USD', '{1e20,1}')$$),
             ($$allocate('100.00 USD', '{1,0.000001}')$$),
             ($$allocate('100.00 USD', '{1e-30,2e-30}')$$),
             ($$allocate('100.00 USD', '{0.3333,0.3333,0.3334}')$$),
             ($$allocate('100.00 USD', '{1.000,2.00,3.0}')$$),
             ($$allocate('1000 JPY', '{1,1,1}')$$),
             ($$allocate('1 ETH/18', '{1,1,1}')$$),
             -- the whole range, with 38-digit ratios
             ($$allocate('999999999999999999999999999999999999.99 USD', '{1,1,1}')$$),
             ($$allocate('999999999999999999999999999999999999.99 USD', '{99999999999999999999999999999999999998,1}')$$),
             ($$allocate('-999999999999999999999999999999999999.99 USD', '{1,2,3,4,5,6,7}')$$),
             ($$pg_typeof(allocate('1 USD', '{1}'))::text$$)) AS t(expr);

-- Bad ratios.
SELECT ratios, try_sql(format($$SELECT allocate('100.00 USD', %L::numeric[])$$, ratios)) AS result
FROM (VALUES ('{}'), ('{0}'), ('{0,0,0}'), ('{0.000}'), ('{1,-1}'), ('{-1}'), ('{1,-0.001,2}'),
             ('{1,NULL,2}'), ('{NULL}'), ('{{1,2},{3,4}}'), ('{{1}}'), ('{1,NaN}'),
             ('{Infinity,1}'), ('{1,-Infinity}'),
             ('{1e38,1}'), ('{1e-20,1e20}'), ('{99999999999999999999999999999999999999,99999999999999999999999999999999999999}'),
             ('{1.00000000000000000000000000000000000001,1}')) AS t(ratios);
SELECT allocate(NULL, '{1}') IS NULL AS null_amount,
       allocate('1 USD', NULL) IS NULL AS null_ratios;
-- At most 100,000 ratios, as split makes at most 100,000 parts.
SELECT n, try_sql(format($$SELECT cardinality(allocate('100.00 USD', array_fill(1::numeric, ARRAY[%s])))$$, n)) AS result
FROM (VALUES (100000), (100001), (1000000)) AS t(n);
SELECT count(*) AS parts, sum(p) AS total, min(p), max(p)
FROM unnest(allocate('1234.56 USD', array_fill(1::numeric, ARRAY[100000]))) AS p;
-- an array with other bounds is fine: only its elements count
SELECT allocate('1.00 USD', '[0:2]={1,1,1}'::numeric[]) AS zero_based;

--
-- Properties, over many generated cases: the parts always sum to the
-- whole, each part is within one minor unit of its exact share, parts keep
-- the whole's sign, and split(m, n) = allocate(m, n equal ratios).
--
SELECT setseed(0.42);
CREATE TEMP TABLE alloc_cases AS
SELECT i AS id,
       monetary(trunc((random() - 0.5) * 10 ^ (1 + (i % 30)))::numeric / 100, 'USD') AS whole,
       ARRAY(SELECT trunc(random() * CASE WHEN j % 3 = 0 THEN 1000 ELSE 10 END)::numeric
                    / 10::numeric ^ (j % 4)
             FROM generate_series(1, 1 + i % 9) AS j) AS ratios
FROM generate_series(1, 3000) AS i;
-- all-zero ratios are an error; give those cases one non-zero ratio
UPDATE alloc_cases SET ratios = ratios || 1::numeric WHERE (SELECT sum(r) FROM unnest(ratios) AS r) = 0;
-- The ratios have at most 3 decimals: w are them as integers, so that the
-- checks below are exact integer arithmetic on numeric.
CREATE TEMP TABLE alloc_parts AS
SELECT c.id, p.ord, p.part, c.whole,
       minor_units(p.part) AS units, c.ratios[p.ord] * 1000 AS w,
       (SELECT sum(r) * 1000 FROM unnest(c.ratios) AS r) AS total_w
FROM alloc_cases c, unnest(allocate(c.whole, c.ratios)) WITH ORDINALITY AS p(part, ord);
SELECT count(*) AS cases,
       count(*) FILTER (WHERE p.total IS DISTINCT FROM c.whole) AS sums_differ,
       count(*) FILTER (WHERE p.n IS DISTINCT FROM cardinality(c.ratios)) AS counts_differ
FROM alloc_cases c
LEFT JOIN (SELECT id, sum(part) AS total, count(*) AS n FROM alloc_parts GROUP BY id) AS p USING (id);
SELECT count(*) AS parts,
       (SELECT count(*) FROM alloc_parts
         WHERE abs(units * total_w - minor_units(whole) * w) >= total_w) AS parts_off_by_a_unit,
       (SELECT count(*) FROM alloc_parts WHERE sign(units) * sign(minor_units(whole)) < 0) AS parts_of_other_sign
FROM alloc_parts;
-- And they are exactly the largest-remainder allocation, computed here
-- with numeric: every part gets the floor of its exact share, and the
-- units left over go one each to the largest remainders, ties to the
-- earlier part.
WITH shares AS (
    SELECT id, ord, units, sign(minor_units(whole)) AS sgn,
           div(abs(minor_units(whole)) * w, total_w) AS base,
           mod(abs(minor_units(whole)) * w, total_w) AS remainder,
           abs(minor_units(whole)) AS whole_units
    FROM alloc_parts
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY id ORDER BY remainder DESC, ord) AS rank,
           whole_units - sum(base) OVER (PARTITION BY id) AS left_over
    FROM shares
)
SELECT count(*) AS parts,
       count(*) FILTER (WHERE units <> sgn * (base + CASE WHEN rank <= left_over THEN 1 ELSE 0 END)) AS differ
FROM ranked;
SELECT count(*) AS split_cases,
       count(*) FILTER (WHERE split(whole, n)
                            <> allocate(whole, array_fill(1::numeric, ARRAY[n]))) AS split_differs
FROM alloc_cases, LATERAL (SELECT 1 + id % 13 AS n) AS t;

--
-- Every loop checks for interrupts, so a call can be cancelled while it
-- runs.  The statement cancels itself, then calls split or allocate at the
-- cap, then divides by zero: a loop that did not check would run to its end
-- and the division would fail instead.  (The arguments are volatile, so that
-- the calls are not folded into constants before the cancel.)
--
SELECT pg_cancel_backend(pg_backend_pid())
   AND cardinality(split(monetary(1 + (random() * 0)::int, 'JPY'), 100000)) > 0
   AND 1 / (random() * 0)::int = 0;
SELECT pg_cancel_backend(pg_backend_pid())
   AND cardinality(allocate(monetary(1 + (random() * 0)::int, 'JPY'),
                            array_fill(1::numeric, ARRAY[100000]))) > 0
   AND 1 / (random() * 0)::int = 0;
-- the same statement without the call fails on the division
SELECT pg_cancel_backend(pg_backend_pid())
   AND abs(1 + (random() * 0)::int) > 0
   AND 1 / (random() * 0)::int = 0;
