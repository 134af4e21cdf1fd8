-- Data for 010_money_sum.sh: the same :rows amounts (USD, up to 1,000,000.00,
-- both signs) held three ways, one table each, so that each is scanned at
-- its own width: bigint minor units, numeric(20,2), monetary.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench_money CASCADE;
CREATE SCHEMA bench_money;
SELECT setseed(0.5);
CREATE TABLE bench_money.units AS
SELECT (trunc(random() * 200000001) - 100000000)::bigint AS amount
FROM generate_series(1, :rows);
CREATE TABLE bench_money.as_bigint AS SELECT amount FROM bench_money.units;
CREATE TABLE bench_money.as_numeric AS SELECT (amount::numeric / 100)::numeric(20, 2) AS amount FROM bench_money.units;
CREATE TABLE bench_money.as_monetary AS
SELECT '0.01 USD'::monetary * amount AS amount FROM bench_money.units;
DROP TABLE bench_money.units;
VACUUM (FREEZE, ANALYZE) bench_money.as_bigint, bench_money.as_numeric, bench_money.as_monetary;
