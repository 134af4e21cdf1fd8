-- Aggregates over monetary: sum, avg (half-even), min and max;
-- empty input, NULLs, mixed currencies, overflow judged on the exact total,
-- window use, and parallel plans with their combine functions.

-- pg_temp.sqlstate(query): just the SQLSTATE of the query's error, for
-- errors whose message depends on which rows a parallel worker saw.
CREATE FUNCTION pg_temp.sqlstate(query text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$f$;

--
-- The four aggregates, with NULLs skipped.
--
CREATE TEMP TABLE amounts (id int, m monetary);
INSERT INTO amounts VALUES
    (1, '10.00 USD'), (2, '-2.50 USD'), (3, NULL), (4, '0.01 USD'),
    (5, '100.00 USD'), (6, '-0.02 USD'), (7, NULL);
SELECT sum(m), avg(m), min(m), max(m), count(m) AS counted, count(*) AS rows FROM amounts;
SELECT pg_typeof(sum(m)) AS sum_type, pg_typeof(avg(m)) AS avg_type,
       pg_typeof(min(m)) AS min_type, pg_typeof(max(m)) AS max_type FROM amounts;

-- Empty input and all-NULL input give NULL.
SELECT sum(m) IS NULL AS sum_null, avg(m) IS NULL AS avg_null,
       min(m) IS NULL AS min_null, max(m) IS NULL AS max_null
FROM amounts WHERE false;
SELECT sum(m) IS NULL AS sum_null, avg(m) IS NULL AS avg_null,
       min(m) IS NULL AS min_null, max(m) IS NULL AS max_null
FROM amounts WHERE m IS NULL;

-- Per currency, as an analyst groups them; FILTER and HAVING work as usual.
CREATE TEMP TABLE ledger (id int, m monetary);
INSERT INTO ledger VALUES
    (1, '10.00 USD'), (2, '5.00 EUR'), (3, '1000 JPY'), (4, '-2.50 USD'),
    (5, '0.001 BHD'), (6, '-5.00 EUR'), (7, '1.5 ETH/18'), (8, '0.0001 USD/4'),
    (9, '2.5 ETH/18'), (10, '500 JPY'), (11, NULL);
SELECT currency(m), sum(m), avg(m), min(m), max(m), count(*)
FROM ledger WHERE m IS NOT NULL GROUP BY currency(m) ORDER BY currency(m);
SELECT currency(m), sum(m) FILTER (WHERE id > 2) AS sum_after_2
FROM ledger WHERE m IS NOT NULL GROUP BY currency(m) HAVING count(*) > 1 ORDER BY 1;
-- and to numeric, to combine with other numbers
SELECT currency(m), sum(amount(m)) AS total, sum(m) = monetary(sum(amount(m)), currency(m)) AS agrees
FROM ledger WHERE m IS NOT NULL GROUP BY currency(m) ORDER BY currency(m);

-- Mixing currencies in one group is an error (22000), in every aggregate.
SELECT agg, try_sql(format('SELECT %s(m) FROM ledger WHERE id IN (1, 2)', agg)) AS usd_eur,
       try_sql(format('SELECT %s(m) FROM ledger WHERE id IN (1, 8)', agg)) AS usd_usd4
FROM (VALUES ('sum'), ('avg'), ('min'), ('max')) AS t(agg);

--
-- avg rounds the exact mean half-even to a minor unit.
--
SELECT vals, try_sql(format('SELECT avg(m::monetary) FROM unnest(%L::text[]) AS m', vals)) AS avg
FROM (VALUES ('{0.01 USD, 0.02 USD}'), ('{0.02 USD, 0.03 USD}'), ('{0.03 USD, 0.04 USD}'),
             ('{-0.01 USD, -0.02 USD}'), ('{-0.02 USD, -0.03 USD}'),
             ('{0.01 USD, 0.02 USD, 0.02 USD}'), ('{0.01 USD, 0.01 USD, 0.02 USD}'),
             ('{1 JPY, 2 JPY}'), ('{2 JPY, 3 JPY}'), ('{1 JPY, 1 JPY, 2 JPY, 2 JPY}'),
             ('{0 JPY, 0 JPY, 0 JPY, 1 JPY}'), ('{0 JPY, 0 JPY, 0 JPY, -2 JPY}'),
             ('{1 JPY, 0 JPY, 0 JPY, 0 JPY, 0 JPY, 0 JPY, 0 JPY}'),
             ('{0.000000000000000001 ETH/18, 0.000000000000000002 ETH/18}')) AS t(vals);

--
-- Overflow is judged on the exact total, whatever the order of the rows:
-- a running total may leave the range, even 128 bits, and come back.
--
\set max '''999999999999999999999999999999999999.99 USD'''
\set min '''-999999999999999999999999999999999999.99 USD'''
CREATE TEMP TABLE edges (id int, m monetary);
INSERT INTO edges VALUES (1, :max), (2, :max), (3, :min), (4, :min), (5, '0.01 USD'), (6, '-0.01 USD');
SELECT ids, try_sql(format('SELECT sum(m ORDER BY id) FROM edges WHERE id = ANY (%L)', ids)) AS "sum(m ORDER BY id)",
       try_sql(format('SELECT sum(m ORDER BY id DESC) FROM edges WHERE id = ANY (%L)', ids)) AS "sum(m ORDER BY id DESC)"
FROM (VALUES ('{1}'::int[]), ('{1,2,3,4}'), ('{1,2,3}'), ('{1,3,2,4}'), ('{1,5}'), ('{1,5,6}'),
             ('{4,6}'), ('{3,4,6,1,2,5}'), ('{1,2}'), ('{3,4}')) AS t(ids);
-- avg: the mean of amounts at the edge, taken of the exact total even where
-- it leaves 128 bits (the mean of in-range amounts is always in range)
SELECT ids, try_sql(format('SELECT avg(m) FROM edges WHERE id = ANY (%L)', ids)) AS avg
FROM (VALUES ('{1,5}'::int[]), ('{1,2,3,4}'), ('{1,2,3}'), ('{1,2}'), ('{3,4}')) AS t(ids);

--
-- As a window function: running totals per currency.
--
SELECT id, m, sum(m) OVER (PARTITION BY currency(m) ORDER BY id) AS running,
       max(m) OVER (PARTITION BY currency(m)) AS largest
FROM ledger WHERE m IS NOT NULL ORDER BY currency(m), id;

--
-- Parallel plans: partial aggregates in two workers, combined in the
-- leader, agree with the serial plan.  (Temporary tables are never
-- scanned in parallel, so these tables are ordinary ones.)
--
CREATE TABLE money_agg_par (id int, m monetary);
INSERT INTO money_agg_par
SELECT i, monetary(((i * 7919) % 200001 - 100000)::numeric / 100,
                            (ARRAY['USD', 'EUR', 'JPY/2'])[i % 3 + 1]::currency)
FROM generate_series(1, 30000) AS i;
INSERT INTO money_agg_par VALUES (0, NULL);
-- statistics on currency(m), so that the planner knows there are few
-- groups and aggregates in the workers
CREATE STATISTICS money_agg_par_currency ON (currency(m)) FROM money_agg_par;
ANALYZE money_agg_par;

SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_result AS
SELECT currency(m) AS c, sum(m), avg(m), min(m), max(m), count(*)
FROM money_agg_par WHERE m IS NOT NULL GROUP BY currency(m);
SELECT * FROM serial_result ORDER BY c;
-- the same, from numeric
SELECT currency(m), sum(amount(m))
FROM money_agg_par WHERE m IS NOT NULL GROUP BY currency(m) ORDER BY 1;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT currency(m) AS c, sum(m), avg(m), min(m), max(m), count(*)
FROM money_agg_par WHERE m IS NOT NULL GROUP BY currency(m);
SELECT count(*) AS groups,
       count(*) FILTER (WHERE s.sum = p.sum AND s.avg = p.avg AND s.min = p.min
                          AND s.max = p.max AND s.count = p.count) AS agree
FROM serial_result s
FULL JOIN (SELECT currency(m) AS c, sum(m), avg(m), min(m), max(m), count(*)
           FROM money_agg_par WHERE m IS NOT NULL GROUP BY currency(m)) AS p USING (c);

-- One currency, no GROUP BY: a plain partial aggregate.
EXPLAIN (COSTS OFF)
SELECT sum(m), avg(m), min(m), max(m) FROM money_agg_par WHERE currency(m) = 'USD';
SELECT sum(m), avg(m), min(m), max(m) FROM money_agg_par WHERE currency(m) = 'USD';
SELECT (SELECT sum(m) FROM money_agg_par WHERE currency(m) = 'USD')
     = (SELECT monetary(sum(amount(m)), 'USD') FROM money_agg_par WHERE currency(m) = 'USD') AS agrees_with_numeric;
-- Mixed currencies fail in parallel too (which pair is named depends on
-- how the rows were shared out, so only the SQLSTATE is shown).
SELECT pg_temp.sqlstate('SELECT sum(m) FROM money_agg_par') AS sum_mixed,
       pg_temp.sqlstate('SELECT avg(m) FROM money_agg_par') AS avg_mixed,
       pg_temp.sqlstate('SELECT min(m) FROM money_agg_par') AS min_mixed,
       pg_temp.sqlstate('SELECT max(m) FROM money_agg_par') AS max_mixed;
-- Workers that see only NULLs, or nothing, leave the result NULL.
SELECT sum(m) IS NULL AS sum_null, avg(m) IS NULL AS avg_null
FROM money_agg_par WHERE m IS NULL;
SELECT sum(m) IS NULL AS sum_null, avg(m) IS NULL AS avg_null
FROM money_agg_par WHERE id < 0;

-- Totals that leave 128 bits, many times over, in each worker (the first
-- half of the table is the largest amount, the second the smallest) and
-- come back in the combine; and a total that is really out of range.
CREATE TABLE money_agg_edges (id int, m monetary);
INSERT INTO money_agg_edges
SELECT i, CASE WHEN i <= 10000 THEN :max ELSE :min END::monetary
FROM generate_series(1, 20000) AS i;
ANALYZE money_agg_edges;
EXPLAIN (COSTS OFF) SELECT sum(m) FROM money_agg_edges;
SELECT sum(m), avg(m), min(m), max(m) FROM money_agg_edges;
SELECT sum(m) FROM money_agg_edges WHERE id > 1;
SELECT try_sql('SELECT sum(m) FROM money_agg_edges WHERE id <= 10000') AS all_max,
       try_sql('SELECT avg(m) FROM money_agg_edges WHERE id <= 10000') AS avg_all_max;
SET max_parallel_workers_per_gather = 0;
SELECT sum(m), avg(m), min(m), max(m) FROM money_agg_edges;
SELECT sum(m) FROM money_agg_edges WHERE id > 1;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

DROP TABLE money_agg_par, money_agg_edges;
