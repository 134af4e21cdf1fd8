-- The API as drivers call it: parameters sent untyped (node-postgres) or
-- typed as the driver likes (psycopg: small ints as smallint, Decimal as
-- numeric).  Each former trap: a call by id that resolved to the function
-- by name, balance(name, ledger) reading the ledger as a time, amount * $1
-- that was "not unique".  Statements are prepared with unknown parameters,
-- as a driver's are.
BEGIN;
SET search_path = public, payments;
SELECT plan(21);

\ir lib/ledger_helpers.sql

SELECT payments.create_account('bank', 'USD', 'debit', true, ledger => 'untyped') AS bank \gset
SELECT payments.create_account('alice', 'USD', ledger => 'untyped') AS alice \gset

-- every function of the API has one signature: nothing to choose between
SELECT is_empty(
    $$SELECT p.proname FROM pg_proc p
       WHERE p.pronamespace = 'payments'::regnamespace AND p.prokind = 'f'
         AND p.proname IN ('post_transfer', 'post_transfers', 'balance', 'available_balance',
                           'set_account_status', 'statement', 'hold', 'capture', 'release',
                           'reverse_transfer', 'reverse_entry', 'post_fx_transfer',
                           'reverse_fx_transfer', 'post_transfer_by_name', 'balance_by_name',
                           'available_balance_by_name', 'set_account_status_by_name')
       GROUP BY p.proname HAVING count(*) > 1$$,
    'no function of the API is overloaded: untyped parameters cannot pick the wrong one');

PREPARE post3 AS SELECT payments.post_transfer($1, $2, $3);
PREPARE post5 AS SELECT payments.post_transfer($1, $2, $3, $4, $5);
SELECT lives_ok(format('EXECUTE post3(%L, %L, %L)', :bank, :alice, '10.00 USD'),
                'post_transfer($1, $2, $3) with untyped ids posts by id');
SELECT lives_ok(format('EXECUTE post5(%L, %L, %L, %L, %L)', :bank, :alice, '5.00 USD', 'untyped-1',
                       '{"order": 1}'),
                'and with a key and metadata');
SELECT is((SELECT payments.balance(:alice)), '15.00 USD', 'both transfers are posted');
PREPARE by_name AS SELECT payments.post_transfer_by_name($1, $2, $3, $4);
SELECT lives_ok($$EXECUTE by_name('untyped', 'alice', 'bank', '1.00 USD')$$,
                'post_transfer_by_name(ledger, from, to, amount) with untyped names');

SELECT throws_ok($$SELECT payments.post_transfer_by_name(NULL, 'alice', 'bank', '1.00 USD')$$, '22004',
                 'ledger must not be null', 'post_transfer_by_name() needs its ledger');
PREPARE balance1 AS SELECT payments.balance($1);
PREPARE balance2 AS SELECT payments.balance($1, $2);
PREPARE balance_named AS SELECT payments.balance_by_name($1, $2);
PREPARE available_named AS SELECT payments.available_balance_by_name($1, $2);
SELECT results_eq(format('EXECUTE balance1(%L)', :alice), $$VALUES ('14.00 USD'::monetary)$$,
                  'balance($1) reads an untyped id');
SELECT results_eq(format('EXECUTE balance2(%L, %L)', :alice, '-infinity'), $$VALUES ('0.00 USD'::monetary)$$,
                  'balance($1, $2) reads an untyped time');
SELECT results_eq($$EXECUTE balance_named('untyped', 'alice')$$, $$VALUES ('14.00 USD'::monetary)$$,
                  'balance_by_name(ledger, account): the ledger first, as available_balance_by_name()');
SELECT results_eq($$EXECUTE available_named('untyped', 'alice')$$, $$VALUES ('14.00 USD'::monetary)$$,
                  'available_balance_by_name(ledger, account)');
SELECT throws_ok($$SELECT payments.balance_by_name('alice', 'untyped')$$, '23503',
                 'account "untyped" does not exist in ledger "alice"',
                 'names in the wrong order are an error, never a time');

PREPARE status AS SELECT payments.set_account_status($1, $2);
SELECT lives_ok(format('EXECUTE status(%L, %L)', :alice, 'frozen'), 'set_account_status($1, $2) by id');
SELECT lives_ok($$SELECT payments.set_account_status_by_name('untyped', 'alice', 'open')$$,
                'set_account_status_by_name(ledger, account, status)');

-- money arithmetic with what drivers send
PREPARE times AS SELECT payments.balance($1) * $2;
SELECT results_eq(format('EXECUTE times(%L, %L)', :alice, '0.5'), $$VALUES ('7.00 USD'::monetary)$$,
                  'amount * $1 with an untyped factor');
SELECT is('14.00 USD'::monetary * 2::smallint, '28.00 USD', 'amount * smallint');

-- amounts in the JSON form, where a driver has JSON
SELECT is(payments.post_transfers(payments.transfer_requests(
              format('[{"from_account": %s, "to_account": %s, "amount": {"amount": "2.00", "currency": "USD"}, "idempotency_key": "json-1"}]',
                     :bank, :alice)::jsonb)) IS NOT NULL, true,
          'post_transfers() takes requests built from JSON, amounts in the JSON form');
SELECT is((SELECT idempotency_key FROM payments.transfers WHERE ledger = 'untyped' ORDER BY id DESC LIMIT 1),
          'json-1', 'with their keys');
SELECT throws_ok(format($$SELECT payments.transfer_requests('[{"from_account": %s, "to_account": %s, "amount": {"amount": "1.00", "currency": "USD"}, "idempotency_kye": "k"}]')$$,
                        :bank, :alice),
                 '22023', 'unknown key "idempotency_kye" in a transfer request',
                 'a misspelt key is refused, not dropped with the key it carried');
SELECT throws_ok($$SELECT payments.transfer_requests('{"from_account": 1}')$$, '22023',
                 'transfer requests must be a JSON array, not object', 'requests are an array');
SELECT throws_ok($$SELECT payments.transfer_requests('[{"from_account": 1}, 7]')$$, '22023',
                 'each transfer request must be a JSON object', 'each request is an object');
SELECT is((SELECT payments.balance(:alice)::jsonb), '{"amount": "16.00", "currency": "USD"}'::jsonb,
          'and a balance reads back as JSON, the amount a string');

SELECT * FROM finish();
ROLLBACK;
