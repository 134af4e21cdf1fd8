--
-- Currency conversion: exchange rates, payments.rate(), payments.convert().
-- Fixed timestamps throughout; after each error, its SQLSTATE.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET search_path = public, payments;
\set SHOW_CONTEXT never

-- The table, and pg_dump keeps its rows.
SELECT c.relname, e.extconfig @> ARRAY[c.oid] AS dumped
  FROM pg_extension e, pg_class c
 WHERE e.extname = 'payments' AND c.oid = 'payments.exchange_rates'::regclass;

-- History: EUR -> USD changes on Feb 1 and Mar 1; the others hold from Jan 1.
SELECT payments.set_rate('EUR', 'USD', 1.0834, '2024-01-01', 'ecb');
SELECT payments.set_rate('EUR', 'USD', 1.0912, '2024-02-01', 'ecb');
SELECT payments.set_rate('EUR', 'USD', 1.0850, '2024-03-01', 'ecb');
SELECT payments.set_rate('USD', 'JPY', 151.37, '2024-01-01');
SELECT payments.set_rate('GBP', 'USD', 1.27, '2024-01-01');
SELECT payments.set_rate('USD', 'CHF', 0.88, '2024-01-01');
SELECT payments.set_rate('BHD', 'USD', 2.6596, '2024-01-01');
SELECT payments.set_rate('USD', 'JPY', 150, '2024-02-15');
SELECT * FROM payments.exchange_rates ORDER BY from_currency, to_currency, valid_from;

-- The same rate again (a retry) changes nothing.
SELECT payments.set_rate('EUR', 'USD', 1.08340, '2024-01-01', 'ecb');
SELECT count(*) FROM payments.exchange_rates;

--
-- payments.rate()
--
-- direct, at and around the validity boundaries
SELECT at, payments.rate('EUR', 'USD', at)
  FROM unnest(ARRAY['2024-01-01 00:00:00', '2024-01-31 23:59:59.999999',
                    '2024-02-01 00:00:00', '2024-02-01 00:00:00.000001',
                    '2024-02-29 23:59:59.999999', '2024-03-01 00:00:00',
                    'infinity']::timestamptz[]) AS at;
-- one microsecond before the first rate: none
SELECT payments.rate('EUR', 'USD', '2023-12-31 23:59:59.999999');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.rate('EUR', 'USD', '-infinity');
\echo :LAST_ERROR_SQLSTATE
-- inverse: 1 / rate, exact when it terminates, else 38 significant digits
SELECT payments.rate('USD', 'EUR', '2024-01-15') AS usd_eur,
       payments.rate('USD', 'GBP', '2024-01-15') AS usd_gbp,
       payments.rate('JPY', 'USD', '2024-02-15') AS jpy_usd,
       payments.rate('CHF', 'USD', '2024-01-15') AS chf_usd;
SELECT at, payments.rate('USD', 'EUR', at)
  FROM unnest(ARRAY['2024-01-31 23:59:59.999999', '2024-02-01 00:00:00']::timestamptz[]) AS at;
-- triangulated through the base currency USD, every combination of legs
SELECT payments.rate('EUR', 'JPY', '2024-01-15') AS eur_jpy_direct_direct,
       payments.rate('GBP', 'EUR', '2024-01-15') AS gbp_eur_direct_inverse,
       payments.rate('CHF', 'JPY', '2024-01-15') AS chf_jpy_inverse_direct,
       payments.rate('CHF', 'EUR', '2024-01-15') AS chf_eur_inverse_inverse;
-- a triangulated rate changes when either leg does
SELECT at, payments.rate('EUR', 'JPY', at)
  FROM unnest(ARRAY['2024-01-31 23:59:59.999999', '2024-02-01 00:00:00',
                    '2024-02-14 23:59:59.999999', '2024-02-15 00:00:00',
                    '2024-03-01 00:00:00']::timestamptz[]) AS at;
-- two scales of one code: 1, without reading the table (no rate exists in 1900)
SELECT payments.rate('USD', 'USD/4', '1900-01-01'), payments.rate('USD', 'USD', '1900-01-01');
-- rates are between codes: the scales of the arguments do not matter
SELECT payments.rate('EUR/4', 'USD/6', '2024-01-15'), payments.rate('USD/0', 'EUR/8', '2024-01-15');
-- strict
SELECT payments.rate(NULL, 'USD', '2024-01-15'), payments.rate('EUR', 'USD', NULL);

--
-- payments.convert()
--
-- direct, inverse and triangulated, one rounding (half-even by default)
SELECT payments.convert('100.00 EUR', 'USD', '2024-01-15') AS direct,
       payments.convert('100.00 USD', 'EUR', '2024-01-15') AS inverse,
       payments.convert('100.00 EUR', 'JPY', '2024-01-15') AS triangulated,
       payments.convert('1000 JPY', 'GBP', '2024-01-15') AS triangulated_inverse_inverse,
       payments.convert('250.00 CHF', 'EUR', '2024-01-15') AS chf_eur;
-- the product is exact before its one rounding: 1 / 1.0834 USD is 0.923020... EUR,
-- and 1,000,000,000 of them is exactly 923,020,121.838656... EUR
SELECT payments.convert('1.00 USD', 'EUR', '2024-01-15'),
       payments.convert('1000000000.00 USD', 'EUR', '2024-01-15');
-- at and around the boundaries
SELECT at, payments.convert('1000.00 EUR', 'USD', at)
  FROM unnest(ARRAY['2024-01-31 23:59:59.999999', '2024-02-01 00:00:00',
                    '2024-02-29 23:59:59.999999', '2024-03-01 00:00:00']::timestamptz[]) AS at;
SELECT payments.convert('1000.00 EUR', 'USD', '2023-12-31 23:59:59.999999');
\echo :LAST_ERROR_SQLSTATE
-- negative and zero amounts
SELECT payments.convert('-100.00 EUR', 'USD', '2024-01-15') AS direct,
       payments.convert('-100.00 USD', 'EUR', '2024-01-15') AS inverse,
       payments.convert('-100.00 EUR', 'JPY', '2024-01-15') AS triangulated,
       payments.convert('0.00 EUR', 'JPY', '2024-01-15') AS zero;

-- Every rounding mode.  At 1.0850 USD per EUR, 1.00 EUR is 1.085 USD, a tie;
-- 1.01 EUR is 1.09585 USD, above the half; 1.00 USD is 0.921658... EUR, below it.
SELECT mode,
       payments.convert('1.00 EUR', 'USD', '2024-03-15', mode) AS tie,
       payments.convert('-1.00 EUR', 'USD', '2024-03-15', mode) AS neg_tie,
       payments.convert('1.01 EUR', 'USD', '2024-03-15', mode) AS above,
       payments.convert('-1.01 EUR', 'USD', '2024-03-15', mode) AS neg_above,
       payments.convert('1.00 USD', 'EUR', '2024-03-15', mode) AS inverse,
       payments.convert('-1.00 USD', 'EUR', '2024-03-15', mode) AS neg_inverse
  FROM unnest(enum_range(NULL::rounding_mode)) AS mode
 WHERE mode <> 'unnecessary';
-- half_even takes a tie to the even neighbour, down or up: 1.085 -> 1.08, 3.255 -> 3.26
SELECT payments.convert('1.00 EUR', 'USD', '2024-03-15'),
       payments.convert('3.00 EUR', 'USD', '2024-03-15');
-- unnecessary: fine when exact, an error otherwise
SELECT payments.convert('1.00 EUR', 'USD/4', '2024-03-15', 'unnecessary'),
       payments.convert('2.00 EUR', 'USD', '2024-03-15', 'unnecessary');
SELECT payments.convert('1.00 EUR', 'USD', '2024-03-15', 'unnecessary');
\echo :LAST_ERROR_SQLSTATE

-- Scale changes.  Two scales of one code: a rescale, no rate, in any mode.
SELECT payments.convert('1.23 USD', 'USD/4', '1900-01-01') AS up_scale,
       payments.convert('1.2345 USD/4', 'USD', '1900-01-01') AS half_even,
       payments.convert('1.2345 USD/4', 'USD', '1900-01-01', 'up') AS up,
       payments.convert('-1.2355 USD/4', 'USD', '1900-01-01') AS neg_half_even,
       payments.convert('1.2300 USD/4', 'USD', '1900-01-01', 'unnecessary') AS exact;
SELECT payments.convert('1.2345 USD/4', 'USD', '1900-01-01', 'unnecessary');
\echo :LAST_ERROR_SQLSTATE
-- between codes at other scales: the scale difference is part of the one rounding
SELECT payments.convert('1.2345 USD/4', 'EUR', '2024-01-15') AS usd4_eur,
       payments.convert('1.00 EUR', 'USD/4', '2024-01-15') AS eur_usd4,
       payments.convert('1.00 EUR', 'USD/0', '2024-01-15') AS eur_usd0,
       payments.convert('1.00 EUR', 'USD/18', '2024-01-15') AS eur_usd18;
-- JPY (0 decimals) <-> USD (2) <-> BHD (3)
SELECT payments.convert('1 JPY', 'USD', '2024-01-15') AS one_yen,
       payments.convert('999 JPY', 'USD', '2024-01-15') AS yen_usd,
       payments.convert('9.99 USD', 'JPY', '2024-01-15') AS usd_yen,
       payments.convert('-9.99 USD', 'JPY', '2024-01-15') AS neg_usd_yen,
       payments.convert('1.000 BHD', 'JPY', '2024-01-15') AS bhd_yen,
       payments.convert('10000 JPY', 'BHD', '2024-01-15') AS yen_bhd;
-- round trips need not come back: each way rounds once (1 JPY -> 0.01 USD -> 2 JPY)
SELECT payments.convert(payments.convert('1 JPY', 'USD', '2024-01-15'), 'JPY', '2024-01-15');

-- Long rates and big amounts: the exact path past 128 bits.  The triangulated
-- factor (1/3 as 38 digits) * (7 as 38 digits) has 76-digit parts.
SELECT payments.set_rate('AAA/2', 'USD', 0.33333333333333333333333333333333333333, '2024-01-01');
SELECT payments.set_rate('USD', 'BBB/2', 7.0000000000000000000000000000000000001, '2024-01-01');
SELECT payments.rate('AAA/2', 'BBB/2', '2024-01-15'),
       payments.convert('1.00 AAA/2', 'BBB/2', '2024-01-15'),
       payments.convert('99999999999999999999999999999999999.99 AAA/2', 'BBB/2', '2024-01-15'),
       payments.convert('-3.00 BBB/2', 'AAA/2', '2024-01-15', 'floor');
-- overflow is an error, never a wrap
SELECT payments.convert('99999999999999999999999999999999999.99 AAA/2', 'BBB/18', '2024-01-15');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.convert('999999999999999999999999999999999999.99 EUR', 'JPY', '2024-01-15');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.convert(NULL::monetary, 'USD', '2024-01-15'),
       payments.convert('1.00 EUR', 'USD', NULL);

--
-- Missing rates name the pair and the time.
--
-- no direct, no inverse, and one side is the base currency
SELECT payments.convert('1.00 USD', 'SEK', '2024-01-15');
\echo :LAST_ERROR_SQLSTATE
-- neither side has a rate with the base currency
SELECT payments.rate('EUR', 'SEK', '2024-01-15');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.rate('SEK', 'EUR', '2024-01-15');
\echo :LAST_ERROR_SQLSTATE
-- a leg exists only later
SELECT payments.set_rate('NOK', 'USD', 0.094, '2024-06-01');
SELECT payments.convert('100.00 NOK', 'EUR', '2024-05-31 23:59:59.999999');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.convert('100.00 NOK', 'EUR', '2024-06-01');

--
-- The base currency.
--
SHOW payments.base_currency;
-- SEK has a rate to EUR only: through USD there is no route to GBP ...
SELECT payments.set_rate('SEK', 'EUR', 0.0871, '2024-01-01');
SELECT payments.convert('1000.00 SEK', 'GBP', '2024-01-15');
\echo :LAST_ERROR_SQLSTATE
-- ... and through EUR neither, since GBP has no rate with EUR: the error names
-- the side that is not linked to the base currency.  SEK -> USD goes through.
SET payments.base_currency = 'EUR';
SELECT payments.convert('1000.00 SEK', 'GBP', '2024-01-15');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.rate('SEK', 'USD', '2024-01-15'),
       payments.convert('1000.00 SEK', 'USD', '2024-01-15'),
       payments.convert('1000.00 USD', 'SEK', '2024-01-15');
-- a route is one or two rates, never more: SEK -> EUR -> USD -> JPY is not tried
SELECT payments.rate('SEK', 'JPY', '2024-01-15');
\echo :LAST_ERROR_SQLSTATE
RESET payments.base_currency;
-- a bad base currency is refused when it is set
SET payments.base_currency = 'XYZ';
\echo :LAST_ERROR_SQLSTATE
SET payments.base_currency = 'not a currency';
\echo :LAST_ERROR_SQLSTATE
SET payments.base_currency = '';
\echo :LAST_ERROR_SQLSTATE
SHOW payments.base_currency;

--
-- set_rate() refuses what is not a rate.
--
SELECT payments.set_rate('EUR', 'USD', 0, '2024-04-01');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.set_rate('EUR', 'USD', -1.5, '2024-04-01');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.set_rate('EUR', 'USD', 'NaN', '2024-04-01');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.set_rate('EUR', 'USD', 'Infinity', '2024-04-01');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.set_rate('EUR', 'USD', '-Infinity', '2024-04-01');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.set_rate('EUR', 'USD', 1.000000000000000000000000000000000000001, '2024-04-01');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.set_rate('EUR', 'USD', 1e1001, '2024-04-01');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.set_rate('EUR', 'USD', 1e-1001, '2024-04-01');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.set_rate('USD', 'USD', 1, '2024-04-01');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.set_rate('USD', 'USD/4', 1, '2024-04-01');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.set_rate('EUR', 'USD', NULL, '2024-04-01');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.set_rate('EUR', 'USD', 1.1, NULL);
\echo :LAST_ERROR_SQLSTATE
-- a different rate, or the same from another source, at a time already set
SELECT payments.set_rate('EUR', 'USD', 1.1, '2024-02-01', 'ecb');
\echo :LAST_ERROR_SQLSTATE
SELECT payments.set_rate('EUR', 'USD', 1.0912, '2024-02-01', 'fed');
\echo :LAST_ERROR_SQLSTATE
-- one rate per pair of codes and time, whatever scales are written
SELECT payments.set_rate('EUR/4', 'USD', 1.1, '2024-02-01');
\echo :LAST_ERROR_SQLSTATE
-- set_rate at the current time by default
BEGIN;
SELECT payments.set_rate('EUR', 'CAD', 1.47);
SELECT valid_from = now() AS at_now, source IS NULL AS no_source
  FROM payments.exchange_rates WHERE to_currency = 'CAD';
ROLLBACK;

-- The table's constraints refuse the same for plain INSERTs.
INSERT INTO payments.exchange_rates VALUES ('EUR', 'USD', 0, '2024-04-01', NULL);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO payments.exchange_rates VALUES ('EUR', 'USD', 'NaN', '2024-04-01', NULL);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO payments.exchange_rates VALUES ('EUR', 'USD', 'Infinity', '2024-04-01', NULL);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO payments.exchange_rates VALUES ('EUR', 'USD', '-Infinity', '2024-04-01', NULL);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO payments.exchange_rates VALUES ('EUR', 'USD', 1.000000000000000000000000000000000000001, '2024-04-01', NULL);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO payments.exchange_rates VALUES ('USD', 'USD/4', 1, '2024-04-01', NULL);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO payments.exchange_rates VALUES ('EUR', 'USD', NULL, '2024-04-01', NULL);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO payments.exchange_rates VALUES ('EUR/3', 'USD/5', 1.2, '2024-02-01', NULL);
\echo :LAST_ERROR_SQLSTATE

--
-- STABLE: each statement sees the rates as of its snapshot.
--
BEGIN;
SELECT payments.convert('100.00 EUR', 'USD', '2024-04-15');
SELECT payments.set_rate('EUR', 'USD', 1.0700, '2024-04-01', 'revised');
-- the next statement of the same transaction sees the new rate
SELECT payments.convert('100.00 EUR', 'USD', '2024-04-15');
ROLLBACK;
SELECT payments.convert('100.00 EUR', 'USD', '2024-04-15');
-- one call site evaluated across statements (a PL/pgSQL loop) sees each
-- statement's rates, including a savepoint rolled back
CREATE FUNCTION conversion_loop() RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..3 LOOP
        IF i = 2 THEN
            PERFORM payments.set_rate('EUR', 'USD', 1.0700, '2024-04-01');
        END IF;
        IF i = 3 THEN
            BEGIN
                PERFORM payments.set_rate('EUR', 'USD', 1.0600, '2024-04-10');
                RETURN NEXT 'in savepoint: ' || payments.convert('100.00 EUR', 'USD', '2024-04-15');
                RAISE EXCEPTION 'roll back';
            EXCEPTION WHEN raise_exception THEN
                NULL;
            END;
        END IF;
        RETURN NEXT i || ': ' || payments.convert('100.00 EUR', 'USD', '2024-04-15');
    END LOOP;
END
$$;
BEGIN;
SELECT * FROM conversion_loop();
ROLLBACK;
DROP FUNCTION conversion_loop();

-- Rates history in bulk: more look-ups than the per-pair threshold, so the
-- whole history is read; every answer matches a plain look-up.
SELECT count(*) AS times,
       count(*) FILTER (WHERE amount(payments.convert('1000.00 EUR', 'USD', at))
                              <> round(1000.00 * (SELECT rate FROM payments.exchange_rates e
                                                   WHERE e.from_currency = 'EUR' AND e.to_currency = 'USD'
                                                     AND e.valid_from <= at
                                                   ORDER BY valid_from DESC LIMIT 1), 2)) AS mismatches
  FROM generate_series(timestamptz '2024-01-01', '2024-03-31', interval '7 hours') AS at;

--
-- Analysts' helpers.
--
-- the stored rate in force per pair at a time
SELECT * FROM payments.rates_at('2024-02-20');
SELECT * FROM payments.rates_at('2023-06-01');
-- converting a sum is not summing conversions: each row converts at its own
-- time with its own rounding, while a sum converts once, at one time.
CREATE TABLE conversion_sales (amount monetary, sold_at timestamptz);
INSERT INTO conversion_sales VALUES
    ('0.05 EUR', '2024-03-02'), ('0.05 EUR', '2024-03-03'), ('0.05 EUR', '2024-03-04'),
    ('0.05 EUR', '2024-03-05'), ('20.00 GBP', '2024-01-20'), ('1500 JPY', '2024-02-20');
-- in USD, every sale at its own time (each 0.05 EUR is 0.05425 USD: 0.05)
SELECT sum(payments.convert(amount, 'USD', sold_at)) AS sum_of_conversions
  FROM conversion_sales;
-- the EUR sales: summed, then converted once (0.20 EUR is 0.217 USD: 0.22) ...
SELECT payments.convert(sum(amount), 'USD', '2024-03-31') AS conversion_of_sum
  FROM conversion_sales WHERE currency(amount) = 'EUR';
-- ... or converted one by one and summed
SELECT sum(payments.convert(amount, 'USD', sold_at)) AS sum_of_conversions
  FROM conversion_sales WHERE currency(amount) = 'EUR';
-- per currency, then converted: a sum per group, one rounding per group
SELECT currency(amount) AS currency, sum(amount) AS total,
       payments.convert(sum(amount), 'USD', '2024-03-31') AS in_usd
  FROM conversion_sales GROUP BY 1 ORDER BY 1;
DROP TABLE conversion_sales;

--
-- Rates at the ends of the allowed range are read exactly: 1.5e-1000 has
-- 1001 decimal places, and through USD it meets 1e1000, for a factor of 1.5.
--
SELECT payments.set_rate('QQQ/2', 'USD', 1.5e-1000, '2024-01-01');
SELECT payments.set_rate('USD', 'ZZZ/2', 1e1000, '2024-01-01');
SELECT payments.rate('QQQ/2', 'USD', '2024-06-01') = 1.5e-1000 AS direct_exact,
       payments.rate('QQQ/2', 'ZZZ/2', '2024-06-01') AS triangulated;
SELECT payments.convert('100.00 QQQ/2', 'ZZZ/2', '2024-06-01') AS converted,
       payments.convert('100.00 ZZZ/2', 'QQQ/2', '2024-06-01', 'half_even') AS back;

-- leave no rates behind for the other tests
DELETE FROM payments.exchange_rates;
