-- Conversion contracts: the exchange_rates table (columns, constraints, its
-- rows kept by pg_dump), the labels of every conversion function, the
-- privileges they run with, and that their queries cannot be redirected
-- through the search path.
BEGIN;
SET search_path = public, payments;
SET TimeZone = 'UTC';
SELECT plan(28);

-- the table --------------------------------------------------------------

SELECT has_table('payments', 'exchange_rates', 'payments.exchange_rates exists');
SELECT columns_are('payments', 'exchange_rates',
    ARRAY['from_currency', 'to_currency', 'rate', 'valid_from', 'source'],
    'exchange_rates has the contract''s columns');
SELECT col_type_is('payments', 'exchange_rates', 'from_currency', 'currency',
                   'from_currency is a currency');
SELECT col_type_is('payments', 'exchange_rates', 'to_currency', 'currency',
                   'to_currency is a currency');
SELECT col_type_is('payments', 'exchange_rates', 'rate', 'numeric', 'rate is numeric');
SELECT col_type_is('payments', 'exchange_rates', 'valid_from', 'timestamp with time zone',
                   'valid_from is timestamptz');
SELECT col_is_pk('payments', 'exchange_rates', ARRAY['from_currency', 'to_currency', 'valid_from'],
                 'the primary key is (from_currency, to_currency, valid_from)');
SELECT ok((SELECT extconfig @> ARRAY['payments.exchange_rates'::regclass::oid]
             FROM pg_extension WHERE extname = 'payments'),
          'exchange_rates is registered with pg_extension_config_dump: pg_dump keeps its rows');
SELECT ok((SELECT indisunique FROM pg_index
            WHERE indexrelid = 'payments.exchange_rates_codes_valid_from'::regclass),
          'one rate per pair of codes and time (a unique index on the codes)');
SELECT is((SELECT count(*)::int FROM pg_constraint
            WHERE conrelid = 'payments.exchange_rates'::regclass AND contype = 'c'),
          4, 'four check constraints: positive, finite, range and digits, two codes');

-- labels -----------------------------------------------------------------

SELECT is(
    (SELECT string_agg(format('%s: %s %s%s%s%s', p.oid::regprocedure,
                              CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END,
                              CASE p.proparallel WHEN 's' THEN 'parallel safe' WHEN 'r' THEN 'parallel restricted' ELSE 'parallel unsafe' END,
                              CASE WHEN p.proisstrict THEN ' strict' ELSE '' END,
                              CASE WHEN p.prosecdef THEN ' security definer' ELSE '' END,
                              coalesce(' set ' || array_to_string(p.proconfig, ' '), '')),
                       E'\n' ORDER BY p.oid::regprocedure::text)
       FROM pg_proc p
      WHERE p.oid IN ('payments.rate(currency, currency, timestamptz)'::regprocedure,
                      'payments.convert(monetary, currency, timestamptz, rounding_mode)'::regprocedure,
                      'payments.set_rate(currency, currency, numeric, timestamptz, text)'::regprocedure,
                      'payments.rates_at(timestamptz)'::regprocedure,
                      'payments.currency_code(currency)'::regprocedure)),
    concat_ws(E'\n',
        'convert(monetary,currency,timestamp with time zone,rounding_mode): stable parallel safe strict',
        'currency_code(currency): immutable parallel safe strict',
        'rate(currency,currency,timestamp with time zone): stable parallel safe strict',
        'rates_at(timestamp with time zone): stable parallel safe',
        'set_rate(currency,currency,numeric,timestamp with time zone,text): volatile parallel unsafe set search_path=pg_catalog, payments, pg_temp'),
    'reading rates is STABLE and PARALLEL SAFE, writing one VOLATILE and unsafe; none is SECURITY DEFINER');
SELECT ok((SELECT prosqlbody IS NOT NULL FROM pg_proc
            WHERE oid = 'payments.rates_at(timestamptz)'::regprocedure),
          'rates_at has a SQL-standard body, resolved when created (no search path needed)');
SELECT is((SELECT array_agg(parameter_default ORDER BY ordinal_position)::text
             FROM information_schema.parameters
            WHERE specific_name = (SELECT specific_name FROM information_schema.routines
                                    WHERE routine_schema = 'payments' AND routine_name = 'convert')),
          '{NULL,NULL,now(),''half_even''::rounding_mode}',
          'convert defaults: now() and half_even');
SELECT is((SELECT count(*)::int FROM (VALUES
              ('payments.exchange_rates'::regclass::oid, 'pg_class'::regclass),
              ('payments.exchange_rates_codes_valid_from'::regclass::oid, 'pg_class'::regclass),
              ('payments.rate(currency, currency, timestamptz)'::regprocedure, 'pg_proc'::regclass),
              ('payments.convert(monetary, currency, timestamptz, rounding_mode)'::regprocedure, 'pg_proc'::regclass),
              ('payments.set_rate(currency, currency, numeric, timestamptz, text)'::regprocedure, 'pg_proc'::regclass),
              ('payments.rates_at(timestamptz)'::regprocedure, 'pg_proc'::regclass),
              ('payments.currency_code(currency)'::regprocedure, 'pg_proc'::regclass)) AS o(oid, cat)
            WHERE obj_description(o.oid, o.cat::regclass::name) IS NULL),
          0, 'every conversion object has a comment');
SELECT is((SELECT count(*)::int FROM pg_constraint
            WHERE conrelid = 'payments.exchange_rates'::regclass
              AND obj_description(oid, 'pg_constraint') IS NULL),
          0, 'every constraint of exchange_rates has a comment');
SELECT is((SELECT count(*)::int FROM information_schema.columns
            WHERE table_schema = 'payments' AND table_name = 'exchange_rates'
              AND col_description('payments.exchange_rates'::regclass, ordinal_position::int) IS NULL),
          0, 'every column of exchange_rates has a comment');

-- privileges -------------------------------------------------------------

INSERT INTO payments.exchange_rates VALUES ('EUR', 'USD', 1.25, '2024-01-01', 'tap');
CREATE ROLE conversion_tap_reader;
GRANT USAGE ON SCHEMA payments TO conversion_tap_reader;
SET ROLE conversion_tap_reader;
SELECT is(payments.convert('1.2345 USD/4', 'USD', '2024-06-01')::text, '1.23 USD',
          'two scales of one code convert without reading the table');
SELECT throws_ok($$SELECT payments.convert('1.00 EUR', 'USD', '2024-06-01')$$, '42501', NULL,
                 'convert reads rates with the caller''s rights: no SELECT, no conversion');
SELECT throws_ok($$SELECT payments.rate('EUR', 'USD', '2024-06-01')$$, '42501', NULL,
                 'so does rate');
SELECT throws_ok($$SELECT * FROM payments.rates_at('2024-06-01')$$, '42501', NULL,
                 'so does rates_at');
SELECT throws_ok($$SELECT payments.set_rate('EUR', 'USD', 1.3, '2024-07-01')$$, '42501', NULL,
                 'set_rate writes with the caller''s rights: no INSERT, no rate');
RESET ROLE;
GRANT SELECT ON payments.exchange_rates TO conversion_tap_reader;
SET ROLE conversion_tap_reader;
SELECT is(payments.convert('1.00 EUR', 'USD', '2024-06-01')::text, '1.25 USD',
          'with SELECT on exchange_rates, convert works');
SELECT is(payments.rate('USD', 'EUR', '2024-06-01'), 0.8, 'and rate');
RESET ROLE;

-- the search path cannot redirect the look-ups ---------------------------

CREATE TEMP TABLE exchange_rates (LIKE payments.exchange_rates);
INSERT INTO exchange_rates VALUES ('EUR', 'USD', 99, '2024-01-01', 'hijack');
CREATE SCHEMA conversion_tap_evil;
CREATE FUNCTION conversion_tap_evil.currency_code(currency) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$ SELECT 'EUR' $$;
SET search_path = conversion_tap_evil, pg_temp, public, payments;
SELECT is(payments.convert('1.00 EUR', 'USD', '2024-06-01')::text, '1.25 USD',
          'convert reads payments.exchange_rates, whatever the search path holds');
SELECT is(payments.rate('EUR', 'USD', '2024-06-01'), 1.25, 'so does rate');
SELECT is((SELECT rate FROM payments.rates_at('2024-06-01')), 1.25, 'so does rates_at');
SELECT lives_ok($$SELECT payments.set_rate('EUR', 'USD', 1.30, '2024-07-01')$$,
                'set_rate runs with its own search path');
SET search_path = public, payments;
SELECT is((SELECT count(*)::int FROM payments.exchange_rates WHERE rate = 1.30), 1,
          'and writes to payments.exchange_rates');

SELECT * FROM finish();
ROLLBACK;
