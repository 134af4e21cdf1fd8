-- The examples of the README's money section, exactly as written there, so
-- that the README never shows something the types do not do.  Each block is
-- headed by the README's subsection.
SET search_path = public, payments;
\set SHOW_CONTEXT never

--
-- Application developers: writing and reading amounts
--
SELECT '12.34 usd'::payments.monetary + '0.66 USD';
SELECT 'USD 12.3'::payments.monetary AS usd,
       '1000 JPY'::payments.monetary AS jpy,
       '1.5 ETH/18'::payments.monetary AS eth;
SELECT payments.monetary(19.99, 'EUR') AS price,
       payments.amount('19.99 EUR') AS amount,
       payments.currency('19.99 EUR'::payments.monetary) AS currency,
       payments.minor_units('19.99 EUR'::payments.monetary) AS cents;
SELECT payments.currency('19.99 EUR');
SELECT '12.345 USD'::payments.monetary;

--
-- Application developers: exact arithmetic, explicit rounding
--
SELECT '19.99 EUR'::payments.monetary * 3 AS three,
       '19.98 EUR'::payments.monetary * 0.5 AS half;
SELECT '10.00 USD'::payments.monetary / 3.0;
SELECT payments.div('10.00 USD', 3, 'half_even') AS third,
       payments.mul('19.99 EUR', 0.19, 'half_up') AS vat,
       payments.monetary(2.675, 'USD', 'half_even') AS from_numeric;
SELECT payments.rescale('12.3456 USD/4', 2, 'floor') AS to_cents,
       payments.round('1.03 CHF', '0.05 CHF', 'half_up') AS cash;
SELECT '1.00 USD'::payments.monetary + '1.00 EUR';

--
-- Application developers: splitting
--
SELECT payments.split('100.00 USD', 3);
SELECT payments.allocate('0.05 USD', '{3,7}') AS by_ratio,
       payments.allocate('-100.00 USD', '{50,30,20}') AS refund;

--
-- DBAs: operators, storage, indexes
--
SELECT '1.00 USD'::payments.monetary OPERATOR(payments.+) '2.00 USD' AS qualified;
SELECT pg_column_size('12.34 USD'::payments.monetary) AS monetary_bytes,
       pg_column_size('USD'::payments.currency) AS currency_bytes;
CREATE TABLE readme_payments (id bigint PRIMARY KEY, amount payments.monetary NOT NULL);
INSERT INTO readme_payments VALUES
    (1, '120.00 USD'), (2, '80.50 EUR'), (3, '3000 JPY'), (4, '99.99 USD'), (5, '15.00 EUR');
CREATE INDEX readme_payments_amount ON readme_payments (amount);
CREATE INDEX readme_payments_currency_amount
    ON readme_payments (payments.currency(amount), payments.amount(amount));
CREATE STATISTICS readme_payments_currency ON (payments.currency(amount)) FROM readme_payments;
ANALYZE readme_payments;
SELECT id, amount FROM readme_payments
 WHERE payments.currency(amount) = 'USD' AND payments.amount(amount) >= 100;
SELECT id, amount FROM readme_payments ORDER BY amount;

--
-- Analysts: totals per currency, and numbers
--
SELECT payments.currency(amount) AS currency, count(*), sum(amount), avg(amount),
       min(amount), max(amount)
  FROM readme_payments GROUP BY 1 ORDER BY 1;
SELECT sum(amount) FROM readme_payments;
SELECT count(*) FROM readme_payments WHERE amount > '100.00 USD';
SELECT payments.currency(amount)::text AS currency,
       sum(payments.amount(amount)) AS total_numeric,
       sum(payments.minor_units(amount)) AS total_minor_units
  FROM readme_payments GROUP BY 1 ORDER BY 1;
SELECT avg(m) FROM (VALUES ('0.01 USD'::payments.monetary), ('0.02 USD')) AS t(m);

DROP TABLE readme_payments;
