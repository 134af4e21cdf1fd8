-- The JSON form of monetary, and factors as drivers send them (release 1.1).

-- to JSON: the amount a string, with exactly the currency's decimals
SELECT '12.34 USD'::monetary::json, '-0.001 BHD'::monetary::jsonb, '5 JPY'::monetary::jsonb;
SELECT to_json(t), to_jsonb(t)
  FROM (SELECT 1 AS id, '1.500000000000000000 ETH/18'::monetary AS amount) t;
SELECT json_agg(m) FROM (VALUES ('1.00 USD'::monetary), ('2.50 EUR')) v(m);

-- and back, exactly, at the extremes of range and scale
SELECT m, m::jsonb::monetary = m AS jsonb_round_trip, m::json::monetary = m AS json_round_trip
  FROM (VALUES ('99999999999999999999999999999999999.999 BHD'::monetary),
               ('-99999999999999999999.999999999999999999 ETH/18'),
               ('-99999999999999999999999999999999999999 JPY'),
               ('0.0001 CLF'), ('0.00 USD'), ('12.3400 USD/4')) v(m);
SELECT '{"amount": "12.34", "currency": "usd"}'::monetary,
       ' {"currency": "ETH/18", "amount": "-0.000000000000000001"}'::monetary;
CREATE TYPE pg_temp.record_with_money AS (id int, amount monetary);
SELECT * FROM jsonb_populate_record(NULL::pg_temp.record_with_money,
                                    '{"id": 7, "amount": {"amount": "3.50", "currency": "EUR"}}');
SELECT * FROM jsonb_populate_recordset(NULL::pg_temp.record_with_money,
    '[{"id": 1, "amount": {"amount": "1.00", "currency": "USD"}},
      {"id": 2, "amount": {"amount": "0.125", "currency": "BHD"}}]');

-- refusals: a number (a float, maybe), missing or extra members, inexact
-- amounts, not an object, not JSON
SELECT '{"amount": 12.34, "currency": "USD"}'::monetary;
SELECT '{"amount": "12.34"}'::monetary;
SELECT '{"amount": "12.34", "currency": "USD", "note": "x"}'::monetary;
SELECT '{"amount": "12.345", "currency": "USD"}'::monetary;
SELECT '{"amount": "USD", "currency": "12.34"}'::monetary;
SELECT '{"amount": "1 2", "currency": "USD"}'::monetary;
SELECT '{"amount": "12.34", "currency": null}'::monetary;
SELECT '["12.34", "USD"]'::jsonb::monetary;
SELECT '{"amount": "12.34", "currency": "USD"'::monetary;

-- factors of every integer type a driver sends, and untyped
SELECT '10.00 USD'::monetary * 3::smallint, 3::smallint * '10.00 USD'::monetary,
       '10.00 USD'::monetary / 4::smallint;
PREPARE times(unknown) AS SELECT '10.00 USD'::monetary * $1 AS product;
EXECUTE times('3');
EXECUTE times('0.25');
EXECUTE times('0.001');
PREPARE times_left(unknown) AS SELECT $1 * '10.00 USD'::monetary AS product;
EXECUTE times_left('2.5');
SELECT '10.00 USD'::monetary * 'x';
DEALLOCATE ALL;
