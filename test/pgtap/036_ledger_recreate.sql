-- The ledger keeps its SPI plans per session; the money types get new OIDs
-- when both extensions are dropped and created again.  One session that posts, then
-- sees the extension re-created, must go on posting (by id, by name, with a
-- replayed key, by INSERT) with every rule in place, and go on converting
-- (the rate look-ups are kept per session too).  The per-session
-- cache of accounts' ledgers must also forget accounts a rollback undid.
BEGIN;
SET search_path = public, payments;
SELECT plan(17);

\ir lib/ledger_helpers.sql

SELECT create_account('tap_cash', 'USD', 'debit', true) AS cash \gset
SELECT create_account('tap_alice', 'USD') AS alice \gset
SELECT post_transfer(:cash, :alice, '10.00 USD', 'tap-re-1') AS t1 \gset
SELECT post_transfer_by_name('default', 'tap_cash', 'tap_alice', '1.00 USD', 'tap-re-2') AS t2 \gset
INSERT INTO payments.transfers (from_account, to_account, amount) VALUES (:alice, :cash, '0.50 USD');
SELECT post_transfers(ARRAY[ROW(:cash, :alice, '1.00 USD', 'tap-re-3', NULL),
                            ROW(:alice, :cash, '1.00 USD', NULL, NULL)]::payments.transfer_request[],
                      'tap-re-entry', '{"n": 1}') AS e1 \gset
SELECT is(post_transfers(ARRAY[ROW(:cash, :alice, '1.00 USD', 'tap-re-3', NULL),
                               ROW(:alice, :cash, '1.00 USD', NULL, NULL)]::payments.transfer_request[],
                         'tap-re-entry', '{"n": 1}'), :'e1'::bigint[],
          'the session has replayed an entry');
SELECT is(balance_by_name('default', 'tap_alice'), '10.50 USD'::monetary, 'the session has posted through every path');
SELECT payments.set_rate('EUR', 'USD', 1.1, '2024-01-01');
SELECT is(payments.convert('1.00 EUR', 'USD', '2024-06-01'), '1.10 USD'::monetary,
          'the session has converted, so its rate look-ups are prepared');

SELECT 'monetary'::regtype::oid AS monetary_before \gset
SET LOCAL client_min_messages = warning;
SET LOCAL payments.allow_drop = on;
DROP EXTENSION payments, monetary CASCADE;
CREATE EXTENSION payments CASCADE;
RESET client_min_messages;

SELECT isnt('monetary'::regtype::oid, :monetary_before::oid,
            'the extension is back, its monetary type with a new OID');
SELECT payments.set_rate('EUR', 'USD', 1.2, '2024-01-01');
SELECT is(payments.convert('1.00 EUR', 'USD', '2024-06-01'), '1.20 USD'::monetary,
          'convert() reads the new exchange_rates table in the same session');
SELECT create_account('tap_cash', 'USD', 'debit', true) AS cash \gset
SELECT create_account('tap_alice', 'USD') AS alice \gset
SELECT lives_ok(format($$SELECT payments.post_transfer(%s, %s, '20.00 USD', 'tap-re-1')$$, :cash, :alice),
                'post_transfer() by id with a key works in the same session');
SELECT lives_ok($$SELECT payments.post_transfer_by_name('default', 'tap_cash', 'tap_alice', '2.00 USD', 'tap-re-2')$$,
                'post_transfer() by name works in the same session');
SELECT is(post_transfer_by_name('default', 'tap_cash', 'tap_alice', '2.00 USD', 'tap-re-2'),
          (SELECT id FROM payments.transfers WHERE idempotency_key = 'tap-re-2'),
          'a replayed key returns the new table''s transfer');
SELECT throws_ok(format($$SELECT payments.post_transfer(%s, %s, '3.00 USD', 'tap-re-2')$$, :cash, :alice),
                 '23I01', 'idempotency key "tap-re-2" was already used for a different transfer',
                 'a different request under it is refused');
SELECT lives_ok(format($$INSERT INTO payments.transfers (from_account, to_account, amount) VALUES (%s, %s, '0.50 USD')$$,
                       :alice, :cash),
                'a direct INSERT works in the same session');
SELECT post_transfers(ARRAY[ROW(:cash, :alice, '1.00 USD', 'tap-re-3', NULL),
                            ROW(:alice, :cash, '1.00 USD', NULL, NULL)]::payments.transfer_request[],
                      'tap-re-entry', '{"n": 1}') AS e2 \gset
SELECT is((SELECT array_agg(id ORDER BY id) FROM payments.transfers
            WHERE entry_id = (SELECT id FROM payments.entries WHERE idempotency_key = 'tap-re-entry')),
          :'e2'::bigint[], 'post_transfers() works in the same session, with an entry key used before');
SELECT is(post_transfers(ARRAY[ROW(:cash, :alice, '1.00 USD', 'tap-re-3', NULL),
                               ROW(:alice, :cash, '1.00 USD', NULL, NULL)]::payments.transfer_request[],
                         'tap-re-entry', '{"n": 1}'), :'e2'::bigint[],
          'and its entry key replays from the new tables');
SELECT throws_ok(format($$SELECT payments.post_transfer(%s, %s, '100.00 USD')$$, :alice, :cash),
                 '23L01', format('insufficient funds in account %s for transfer %s', :alice,
                                 pg_temp.next_transfer_id()),
                 'the balance limit still holds');
SELECT is(balance_by_name('default', 'tap_alice'), '21.50 USD'::monetary, 'the balance counts only the new transfers');
SELECT is_empty('SELECT * FROM payments.verify_ledger()', 'verify_ledger() finds nothing wrong');

-- an account created, used (so cached) and rolled back is gone
SAVEPOINT undone;
SELECT create_account('tap_undone', 'USD', 'debit', true) AS undone \gset
SELECT post_transfer(:undone, :alice, '1.00 USD') IS NOT NULL AS posted;
ROLLBACK TO SAVEPOINT undone;
SELECT throws_ok(format('SELECT payments.balance(%s)', :undone),
                 '23503', format('account %s does not exist', :undone),
                 'an account a savepoint rollback undid does not exist for the ledger');
SELECT throws_ok(format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :undone, :alice),
                 '23503', format('account %s does not exist', :undone),
                 'nor may it send a transfer');

SELECT * FROM finish();
ROLLBACK;
