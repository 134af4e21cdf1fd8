-- monetary comparison: = and <> never raise, < <= > >= refuse a
-- currency mismatch, and the total order (currency, then amount) of the
-- default btree and hash opclasses makes ORDER BY, DISTINCT, GROUP BY,
-- UNIQUE, joins and hash partitions work on mixed-currency columns,
-- whatever plan is chosen.

--
-- Every operator on pairs of one currency, of two currencies and of one
-- code at two scales: = and <> answer, the ordering operators raise 22000.
--
SELECT a, b,
       try_sql(format('SELECT %L::monetary = %L::monetary', a, b)) AS "=",
       try_sql(format('SELECT %L::monetary <> %L::monetary', a, b)) AS "<>",
       try_sql(format('SELECT %L::monetary < %L::monetary', a, b)) AS "<",
       try_sql(format('SELECT %L::monetary <= %L::monetary', a, b)) AS "<=",
       try_sql(format('SELECT %L::monetary > %L::monetary', a, b)) AS ">",
       try_sql(format('SELECT %L::monetary >= %L::monetary', a, b)) AS ">="
FROM (VALUES ('1.00 USD', '1.00 USD'), ('1.00 USD', 'usd 1'), ('1.00 USD', '1.00 USD/2'),
             ('1.00 USD', '2.00 USD'), ('2.00 USD', '1.00 USD'), ('-2.00 USD', '1.00 USD'),
             ('0.00 USD', '-0.00 USD'),
             ('999999999999999999999999999999999999.99 USD', '-999999999999999999999999999999999999.99 USD'),
             ('1.00 USD', '1.00 EUR'), ('1.00 USD', '1.0000 USD/4'), ('0 JPY', '0 JPY/2')
      ) AS t(a, b);

-- The error texts of the ordering operators on a mismatch.
SELECT op, try_sql(format($$SELECT '1 USD'::monetary %s '1 EUR'::monetary$$, op)) AS usd_eur,
       try_sql(format($$SELECT '1 USD'::monetary %s '1 USD/4'::monetary$$, op)) AS usd_usd4
FROM (VALUES ('<'), ('<='), ('>'), ('>=')) AS t(op);

-- So a filter on amounts over mixed rows never answers silently.
CREATE TEMP TABLE mixed (id int, m monetary);
INSERT INTO mixed VALUES
    (1, '10.00 USD'), (2, '-5.00 USD'), (3, '10.00 EUR'), (4, '0.00 USD'),
    (5, '1000 JPY'), (6, '10.0000 USD/4'), (7, '10.00 usd'), (8, '-0.01 EUR'),
    (9, '1.5 ETH/18'), (10, '999999999999999999999999999999999999.99 USD'),
    (11, '-999999999999999999999999999999999999.99 USD'), (12, '0 JPY'),
    (13, NULL), (14, '1000 JPY'), (15, '0.000000000000000001 ETH/18');
ANALYZE mixed;
SELECT try_sql($$SELECT count(*) FROM mixed WHERE m > '1.00 USD'$$) AS "m > 1.00 USD";
SELECT try_sql($$SELECT count(*) FROM mixed WHERE m BETWEEN '0 USD' AND '100 USD'$$) AS "m BETWEEN";
-- while = and <> simply say whether rows are that amount
SELECT id, m FROM mixed WHERE m = '10 USD' ORDER BY id;
SELECT count(*) AS "m <> 10 USD" FROM mixed WHERE m <> '10 USD';
SELECT id, m FROM mixed WHERE m IN ('10 USD', '10 EUR', '1000 JPY') ORDER BY id;
-- and per-currency filters compare amount(), since SQL does not promise to
-- test currency(m) before m > '1.00 USD'
SELECT id, m FROM mixed WHERE currency(m) = 'USD' AND amount(m) > 1.00 ORDER BY id;

--
-- The total order: currency first (as currency sorts), then amount.  It has
-- its own operators, and the opclass support function is its comparison.
--
SELECT a, b,
       a::monetary ~<~ b::monetary AS "~<~", a::monetary ~<=~ b::monetary AS "~<=~",
       a::monetary ~>~ b::monetary AS "~>~", a::monetary ~>=~ b::monetary AS "~>=~",
       monetary_total_cmp(a::monetary, b::monetary) AS cmp
FROM (VALUES ('1.00 USD', '1.00 USD'), ('1.00 USD', '2.00 USD'), ('2.00 USD', '1.00 USD'),
             ('1.00 USD', '1.00 EUR'), ('1000 EUR', '1 USD'), ('1.00 USD', '1.0000 USD/4'),
             ('-999999999999999999999999999999999999.99 USD', '0 USD'),
             ('1 USDC/6', '1 USD/4')) AS t(a, b);

SELECT id, m FROM mixed ORDER BY m, id;
SELECT id, m FROM mixed ORDER BY m DESC NULLS LAST, id;
-- The strict < is not an ordering operator of the opclass.
SELECT try_sql($$SELECT m FROM mixed ORDER BY m USING <$$) AS "ORDER BY m USING <";
SELECT array_agg(m ORDER BY m USING ~>~) FILTER (WHERE currency(m) = 'USD') AS usd_desc FROM mixed;
-- GREATEST and LEAST use the default opclass, so they follow the total
-- order and do not raise on mixed currencies.
SELECT greatest('1 USD'::monetary, '2 EUR'::monetary, '3 CHF'::monetary) AS greatest,
       least('1 USD'::monetary, '2 EUR'::monetary, '3 CHF'::monetary) AS least;

--
-- DISTINCT and GROUP BY, sorting and hashing.
--
SET enable_hashagg = off;
EXPLAIN (COSTS OFF) SELECT m, count(*) FROM mixed GROUP BY m;
SELECT m, count(*) FROM mixed GROUP BY m;
SELECT DISTINCT m FROM mixed;
SELECT count(DISTINCT m) FROM mixed;
RESET enable_hashagg;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT m, count(*) FROM mixed GROUP BY m;
SELECT m, count(*) FROM mixed GROUP BY m ORDER BY m;
EXPLAIN (COSTS OFF) SELECT DISTINCT m FROM mixed;
SELECT DISTINCT m FROM mixed ORDER BY m;
RESET enable_sort;
-- grouped by currency, as an analyst would
SELECT currency(m), count(*), sum(m) FROM mixed WHERE m IS NOT NULL
GROUP BY currency(m) ORDER BY currency(m);

-- Equal values hash equally, however they were written.
SELECT monetary_hash('10.00 USD') = monetary_hash('usd 10') AS hash_equal,
       monetary_hash_extended('10.00 USD', 42) = monetary_hash_extended('10 USD/2', 42) AS hash_extended_equal,
       monetary_hash('0.00 USD') = monetary_hash('-0 USD') AS zero_hash_equal,
       monetary_hash('10.00 USD') <> monetary_hash('10.00 EUR') AS other_currency_differs,
       monetary_hash_extended('10.00 USD', 0) <> monetary_hash_extended('10.00 USD', 1) AS seed_matters;

--
-- Joins: hash, merge and nested loop find the same pairs.
--
CREATE TEMP TABLE mixed2 AS SELECT id, m FROM mixed WHERE id % 3 <> 0;
INSERT INTO mixed2 VALUES (100, '10.0000 USD/4'), (101, '1000 JPY');
ANALYZE mixed2;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT mixed.id, mixed2.id FROM mixed JOIN mixed2 USING (m);
SELECT mixed.id, mixed2.id, m FROM mixed JOIN mixed2 USING (m) ORDER BY 1, 2;
RESET enable_mergejoin;
SET enable_hashjoin = off;
EXPLAIN (COSTS OFF) SELECT mixed.id, mixed2.id FROM mixed JOIN mixed2 USING (m);
SELECT mixed.id, mixed2.id, m FROM mixed JOIN mixed2 USING (m) ORDER BY 1, 2;
RESET enable_nestloop;
SET enable_mergejoin = off;
EXPLAIN (COSTS OFF) SELECT mixed.id, mixed2.id FROM mixed JOIN mixed2 USING (m);
SELECT mixed.id, mixed2.id, m FROM mixed JOIN mixed2 USING (m) ORDER BY 1, 2;
RESET enable_mergejoin;
RESET enable_hashjoin;

--
-- Indexes: btree (ordering, equality, min/max), hash, UNIQUE, and the
-- (currency, amount) expression index for range queries on amounts.
--
CREATE TEMP TABLE big AS
SELECT i AS id,
       monetary((i % 1000 - 500)::numeric / 100,
                         (ARRAY['USD', 'EUR', 'JPY/2', 'USD/4'])[i % 4 + 1]::currency) AS m
FROM generate_series(1, 4000) AS i;
CREATE INDEX big_m ON big (m);
ANALYZE big;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM big WHERE m = '4.97 EUR';
SELECT count(*) FROM big WHERE m = '4.97 EUR';
EXPLAIN (COSTS OFF) SELECT m FROM big ORDER BY m LIMIT 3;
SELECT m FROM big ORDER BY m LIMIT 3;
SELECT m FROM big ORDER BY m DESC LIMIT 3;
SELECT DISTINCT m FROM big ORDER BY m LIMIT 3;
DROP INDEX big_m;
CREATE INDEX big_m_hash ON big USING hash (m);
EXPLAIN (COSTS OFF) SELECT id FROM big WHERE m = '4.97 EUR';
SELECT count(*) FROM big WHERE m = '4.97 EUR';
DROP INDEX big_m_hash;
CREATE INDEX big_currency_amount ON big (currency(m), amount(m));
ANALYZE big;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM big WHERE currency(m) = 'USD' AND amount(m) >= 4.90;
SELECT count(*), min(m), max(m) FROM big WHERE currency(m) = 'USD' AND amount(m) >= 4.90;
RESET enable_seqscan;
RESET enable_bitmapscan;
-- the same answers without indexes
SELECT count(*) FROM big WHERE m = '4.97 EUR';
SELECT count(*), min(m), max(m) FROM big WHERE currency(m) = 'USD' AND amount(m) >= 4.90;

-- UNIQUE: the same amount in two currencies is allowed, the same amount
-- written twice is not.
CREATE TEMP TABLE uniq (m monetary UNIQUE);
INSERT INTO uniq VALUES ('1.00 USD'), ('1.00 EUR'), ('1.0000 USD/4'), ('1 JPY');
SELECT try_sql($$INSERT INTO uniq VALUES ('usd 1')$$) AS duplicate;
SELECT try_sql($$INSERT INTO uniq VALUES ('1.00 USD/2')$$) AS duplicate_by_scale;
SELECT m FROM uniq ORDER BY m;

--
-- Hash partitioning on a monetary column (hash support function 2).
--
CREATE TEMP TABLE parts (m monetary, id int) PARTITION BY HASH (m);
CREATE TEMP TABLE parts_0 PARTITION OF parts FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TEMP TABLE parts_1 PARTITION OF parts FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TEMP TABLE parts_2 PARTITION OF parts FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TEMP TABLE parts_3 PARTITION OF parts FOR VALUES WITH (MODULUS 4, REMAINDER 3);
INSERT INTO parts SELECT m, id FROM big;
SELECT count(*) AS rows, count(DISTINCT tableoid) AS partitions_used FROM parts;
-- one value, one partition; and the planner prunes to it
SELECT count(*) AS values_in_two_partitions
FROM (SELECT m FROM parts GROUP BY m HAVING count(DISTINCT tableoid) > 1) AS t;
EXPLAIN (COSTS OFF) SELECT id FROM parts WHERE m = '4.97 EUR';
SELECT count(*) FROM parts WHERE m = 'eur 4.97';
