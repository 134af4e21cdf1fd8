-- The examples of the README's money section, exactly as written there, so
-- that the README never shows something the types do not do.  Each block is
-- headed by the README's subsection.
\set SHOW_CONTEXT never

--
-- Application developers: writing and reading amounts
--
SELECT '12.34 usd'::monetary + '0.66 USD';
SELECT 'USD 12.3'::monetary AS usd,
       '1000 JPY'::monetary AS jpy,
       '1.5 ETH/18'::monetary AS eth;
SELECT monetary(19.99, 'EUR') AS price,
       amount('19.99 EUR') AS amount,
       currency('19.99 EUR'::monetary) AS currency,
       minor_units('19.99 EUR'::monetary) AS cents;
SELECT scale('JPY'::currency) AS jpy, scale('BHD'::currency) AS bhd,
       scale(currency('1 ETH/18'::monetary)) AS eth;
SELECT currency('19.99 EUR');
SELECT scale('USD');
SELECT '12.345 USD'::monetary;

--
-- Application developers: exact arithmetic, explicit rounding
--
SELECT '19.99 EUR'::monetary * 3 AS three,
       '19.98 EUR'::monetary * 0.5 AS half;
SELECT '10.00 USD'::monetary / 3.0;
SELECT div('10.00 USD', 3, 'half_even') AS third,
       mul('19.99 EUR', 0.19, 'half_up') AS vat,
       monetary(2.675, 'USD', 'half_even') AS from_numeric;
SELECT rescale('12.3456 USD/4', 2, 'floor') AS to_cents,
       round('1.03 CHF', '0.05 CHF', 'half_up') AS cash;
SELECT '1.00 USD'::monetary + '1.00 EUR';

--
-- Application developers: splitting
--
SELECT split('100.00 USD', 3);
SELECT allocate('0.05 USD', '{3,7}') AS by_ratio,
       allocate('-100.00 USD', '{50,30,20}') AS refund;

--
-- Application developers: JSON, and what drivers send
--
SELECT '12.34 USD'::monetary::jsonb;              -- {"amount": "12.34", "currency": "USD"}
SELECT '{"amount": "0.125", "currency": "BHD"}'::jsonb::monetary;   -- 0.125 BHD
SELECT to_jsonb(p) FROM (SELECT 7 AS id, '1.5 ETH/18'::monetary AS amount) p;
SELECT '10.00 USD'::monetary * 3::smallint;       -- 30.00 USD

--
-- DBAs: operators, storage, indexes
--
SELECT '1.00 USD'::monetary + '2.00 USD' AS qualified;
SELECT pg_column_size('12.34 USD'::monetary) AS monetary_bytes,
       pg_column_size('USD'::currency) AS currency_bytes;
CREATE TABLE readme_payments (id bigint PRIMARY KEY, amount monetary NOT NULL);
INSERT INTO readme_payments VALUES
    (1, '120.00 USD'), (2, '80.50 EUR'), (3, '3000 JPY'), (4, '99.99 USD'), (5, '15.00 EUR');
CREATE INDEX readme_payments_amount ON readme_payments (amount);
CREATE INDEX readme_payments_currency_amount
    ON readme_payments (currency(amount), amount(amount));
CREATE STATISTICS readme_payments_currency ON (currency(amount)) FROM readme_payments;
ANALYZE readme_payments;
SELECT id, amount FROM readme_payments
 WHERE currency(amount) = 'USD' AND amount(amount) >= 100;
SELECT id, amount FROM readme_payments ORDER BY amount;

--
-- Analysts: totals per currency, and numbers
--
SELECT currency(amount) AS currency, count(*), sum(amount), avg(amount),
       min(amount), max(amount)
  FROM readme_payments GROUP BY 1 ORDER BY 1;
SELECT sum(amount) FROM readme_payments;
SELECT count(*) FROM readme_payments WHERE amount > '100.00 USD';
SELECT currency(amount)::text AS currency,
       sum(amount(amount)) AS total_numeric,
       sum(minor_units(amount)) AS total_minor_units
  FROM readme_payments GROUP BY 1 ORDER BY 1;
SELECT avg(m) FROM (VALUES ('0.01 USD'::monetary), ('0.02 USD')) AS t(m);

DROP TABLE readme_payments;
