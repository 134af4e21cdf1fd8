-- Data for test/bench/020_convert.sh: a million amounts in four currencies at
-- random times over three years, and a daily rate history to EUR for each
-- currency (4 x 1096 rows).  Each row also carries, precomputed, the numeric
-- amount and the rate in force at its time: the baseline's inputs.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench_convert CASCADE;
CREATE SCHEMA bench_convert;
SET TimeZone = 'UTC';
-- payments' operators (= on currency) resolve through the search path
SET search_path = public, payments;

-- the rates: a random walk per currency, 6 significant digits, one a day
DELETE FROM payments.exchange_rates WHERE source = 'bench_convert';
SELECT setseed(0.2024);
INSERT INTO payments.exchange_rates (from_currency, to_currency, rate, valid_from, source)
SELECT c.code::currency, 'EUR', round(c.base * (1 + 0.05 * sin(d / 40.0 + c.phase) + 0.01 * random())::numeric, c.digits),
       timestamptz '2021-01-01' + d * interval '1 day', 'bench_convert'
  FROM (VALUES ('USD', 0.92, 1.0, 5), ('GBP', 1.16, 2.0, 5), ('JPY', 0.0062, 3.0, 7), ('CHF', 1.04, 4.0, 5))
       AS c(code, base, phase, digits),
       generate_series(0, 1095) AS d;

CREATE TABLE bench_convert.t (
    id         bigint PRIMARY KEY,
    amount     monetary NOT NULL,
    currency   currency NOT NULL,
    amount_num numeric NOT NULL,
    ts         timestamptz NOT NULL,
    rate       numeric
);
SELECT setseed(0.42);
INSERT INTO bench_convert.t (id, amount, currency, amount_num, ts)
SELECT i, monetary(a, c::currency), c::currency, a, ts
  FROM (SELECT i,
               (ARRAY['USD', 'GBP', 'JPY', 'CHF'])[1 + (i % 4)] AS c,
               timestamptz '2021-01-01' + random() * interval '1095 days' AS ts,
               random() AS x
          FROM generate_series(1, 1000000) AS i) s,
       LATERAL (SELECT CASE WHEN c = 'JPY' THEN round((s.x * 2000000)::numeric)
                            ELSE round((s.x * 20000)::numeric, 2) END
                       * CASE WHEN i % 10 = 0 THEN -1 ELSE 1 END AS a) v;
-- the rate in force at each row's time, for the baseline
UPDATE bench_convert.t t
   SET rate = (SELECT e.rate FROM payments.exchange_rates e
                WHERE e.from_currency = t.currency AND e.to_currency = 'EUR'
                  AND e.valid_from <= t.ts
                ORDER BY e.valid_from DESC LIMIT 1);
VACUUM ANALYZE bench_convert.t;
ANALYZE payments.exchange_rates;
