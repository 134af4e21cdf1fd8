-- Idempotency keys: a replay of the same request returns the original
-- transfer and posts nothing; a different request under a used key is an
-- error of its own (23I01); keys are unique per ledger; a refused transfer
-- does not consume its key.
BEGIN;
SET search_path = public, payments;
SELECT plan(63);

-- helpers, in pg_temp: gone with the rollback -----------------------------

\ir lib/ledger_helpers.sql


-- accounts ---------------------------------------------------------------

SELECT create_account('tap_cash', 'USD', 'debit', true) AS cash \gset
SELECT create_account('tap_alice', 'USD') AS alice \gset
SELECT create_account('tap_bob', 'USD') AS bob \gset
SELECT create_account('tap_cash', 'USD', 'debit', true, ledger => 'tap_tenant') AS t_cash \gset
SELECT create_account('tap_alice', 'USD', ledger => 'tap_tenant') AS t_alice \gset

-- a replay returns the original --------------------------------------------

SELECT post_transfer(:cash, :alice, '100.00 USD', 'tap-k-1', '{"order": 1, "memo": "top-up"}') AS k1 \gset
SELECT is((SELECT idempotency_key FROM payments.transfers WHERE id = :k1), 'tap-k-1',
          'the transfer stores its key');
SELECT * FROM pg_temp.replays(
    format($$SELECT payments.post_transfer(%s, %s, '100.00 USD', 'tap-k-1', '{"order": 1, "memo": "top-up"}')$$,
           :cash, :alice), :k1,
    'the same request with the same key returns the original id');
SELECT * FROM pg_temp.replays(
    $$SELECT payments.post_transfer_by_name('default', 'tap_cash', 'tap_alice', '100.00 USD', 'tap-k-1', '{"order": 1, "memo": "top-up"}')$$,
    :k1, 'the same request by name returns the original id');
SELECT * FROM pg_temp.replays(
    $$SELECT payments.post_transfer_by_name('default', 'tap_cash', 'tap_alice', '100 USD', 'tap-k-1', '{"memo":"top-up","order":1}')$$,
    :k1, 'the same amount and metadata written differently are the same request');
SELECT is((SELECT count(*) FROM payments.transfers WHERE idempotency_key = 'tap-k-1'), 1::bigint,
          'one transfer has the key');
SELECT is(balance(:alice), '100.00 USD'::monetary, 'posted once');

-- a different request under a used key is refused ----------------------------

SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '100.01 USD', 'tap-k-1', '{"order": 1, "memo": "top-up"}')$$,
           :cash, :alice),
    '23I01', 'idempotency key "tap-k-1" was already used for a different transfer',
    'a used key with another amount is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '100.00 USD', 'tap-k-1', '{"order": 1, "memo": "top-up"}')$$,
           :cash, :bob),
    '23I01', 'idempotency key "tap-k-1" was already used for a different transfer',
    'a used key with another to_account is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '100.00 USD', 'tap-k-1', '{"order": 1, "memo": "top-up"}')$$,
           :bob, :alice),
    '23I01', 'idempotency key "tap-k-1" was already used for a different transfer',
    'a used key with another from_account is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '100.00 USD', 'tap-k-1', '{"order": 2, "memo": "top-up"}')$$,
           :cash, :alice),
    '23I01', 'idempotency key "tap-k-1" was already used for a different transfer',
    'a used key with other metadata is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '100.00 USD', 'tap-k-1')$$, :cash, :alice),
    '23I01', 'idempotency key "tap-k-1" was already used for a different transfer',
    'a used key without the metadata it was sent with is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '100.0000 USD/4', 'tap-k-1', '{"order": 1, "memo": "top-up"}')$$,
           :cash, :alice),
    '23I01', 'idempotency key "tap-k-1" was already used for a different transfer',
    'a used key with the same amount at another scale is refused');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.post_transfer_by_name('default', 'tap_alice', 'tap_cash', '100.00 USD', 'tap-k-1', '{"order": 1, "memo": "top-up"}')$$,
    '23I01', 'idempotency key "tap-k-1" was already used for a different transfer',
    'a used key with the accounts swapped (by name) is refused');
SELECT is(pg_temp.error_of(format($$SELECT payments.post_transfer(%s, %s, '1.00 USD', 'tap-k-1')$$, :cash, :alice)),
    ARRAY['23I01', 'idempotency key "tap-k-1" was already used for a different transfer',
          format('Transfer %s in ledger "default" was posted with this key, with other accounts, amounts, metadata or kind of transfer (a hold and its expiry, what it resolves or reverses).', :k1),
          'Replay a key only with the request it was first sent with; a new request needs a new key.'],
    'the refusal names the transfer that holds the key, and says what to do');

-- null metadata and {} are different requests
SELECT post_transfer(:cash, :alice, '1.00 USD', 'tap-k-null') AS k_null \gset
SELECT post_transfer(:cash, :alice, '1.00 USD', 'tap-k-empty', '{}') AS k_empty \gset
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1.00 USD', 'tap-k-null', '{}')$$, :cash, :alice),
    '23I01', 'idempotency key "tap-k-null" was already used for a different transfer',
    'a key sent with null metadata does not replay with {}');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1.00 USD', 'tap-k-empty')$$, :cash, :alice),
    '23I01', 'idempotency key "tap-k-empty" was already used for a different transfer',
    'a key sent with {} does not replay with null metadata');
SELECT * FROM pg_temp.replays(
    format($$SELECT payments.post_transfer(%s, %s, '1.00 USD', 'tap-k-null', NULL)$$, :cash, :alice),
    :k_null, 'a key sent with null metadata replays with null metadata');
SELECT * FROM pg_temp.replays(
    format($$SELECT payments.post_transfer(%s, %s, '1.00 USD', 'tap-k-empty', '{}')$$, :cash, :alice),
    :k_empty, 'a key sent with {} replays with {}');

-- a key repeated within one statement posts once
SELECT results_eq(
    format($$SELECT count(DISTINCT payments.post_transfer(%s, %s, '2.00 USD', 'tap-k-stmt'))
               FROM generate_series(1, 3)$$, :cash, :bob),
    $$VALUES (1::bigint)$$,
    'three calls with one key in one statement return one id');
SELECT is(balance(:bob), '2.00 USD'::monetary, 'and post once');

-- without a key, every call is a new transfer
SELECT post_transfer(:cash, :alice, '1.00 USD') AS n1 \gset
SELECT post_transfer(:cash, :alice, '1.00 USD') AS n2 \gset
SELECT isnt(:n1::bigint, :n2::bigint, 'two calls without a key post two transfers');

-- keys are per ledger ----------------------------------------------------------

SELECT post_transfer_by_name('tap_tenant', 'tap_cash', 'tap_alice', '100.00 USD', 'tap-k-1', '{"order": 1, "memo": "top-up"}') AS t1 \gset
SELECT isnt(:t1::bigint, :k1::bigint, 'the same key and request in another ledger is a new transfer');
SELECT is(balance(:t_alice), '100.00 USD'::monetary, 'posted in that ledger');
SELECT * FROM pg_temp.replays(
    format($$SELECT payments.post_transfer(%s, %s, '100.00 USD', 'tap-k-1', '{"order": 1, "memo": "top-up"}')$$,
           :t_cash, :t_alice), :t1,
    'a replay by id finds the key in the accounts'' ledger');
SELECT * FROM pg_temp.replays(
    format($$SELECT payments.post_transfer(%s, %s, '100.00 USD', 'tap-k-1', '{"order": 1, "memo": "top-up"}')$$,
           :cash, :alice), :k1,
    'and the key in ledger default still replays its own transfer');
SELECT results_eq(
    $$SELECT ledger, count(*) FROM payments.transfers WHERE idempotency_key = 'tap-k-1' GROUP BY ledger ORDER BY ledger$$,
    $$VALUES ('default', 1::bigint), ('tap_tenant', 1::bigint)$$,
    'one transfer per ledger holds the key');
SELECT post_transfer_by_name('tap_tenant', 'tap_alice', 'tap_cash', '5.00 USD', 'tap-k-t2', NULL) AS t2 \gset
SELECT post_transfer_by_name('default', 'tap_alice', 'tap_cash', '5.00 USD', 'tap-k-t2') AS d2 \gset
SELECT results_eq(
    format($$SELECT id <> %s, ledger FROM payments.transfers WHERE id = %s$$, :t2, :d2),
    $$VALUES (true, 'default')$$,
    'a key used only in another ledger is free in ledger default');

-- a refused transfer does not consume its key ----------------------------------

SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '500.00 USD', 'tap-k-2')$$, :alice, :bob),
    '23L01',
    format('insufficient funds in account %s for transfer %s', :alice, pg_temp.next_transfer_id()), 'a refused transfer with a key');
SELECT is_empty($$SELECT * FROM payments.transfers WHERE idempotency_key = 'tap-k-2'$$,
                'leaves no transfer with its key');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '500.00 USD', 'tap-k-2')$$, :alice, :bob),
    '23L01',
    format('insufficient funds in account %s for transfer %s', :alice, pg_temp.next_transfer_id()),
    'its replay is checked again, and refused again');
SELECT post_transfer(:alice, :bob, '50.00 USD', 'tap-k-2') AS k2 \gset
SELECT is(balance(:bob), '52.00 USD'::monetary, 'a valid request with the refused key is posted (2.00 + 50.00)');
SELECT * FROM pg_temp.replays(
    format($$SELECT payments.post_transfer(%s, %s, '50.00 USD', 'tap-k-2')$$, :alice, :bob), :k2,
    'and then replays as usual');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '500.00 USD', 'tap-k-2')$$, :alice, :bob),
    '23I01', 'idempotency key "tap-k-2" was already used for a different transfer',
    'the first, refused request under that key is now a different request');

-- a replay answers even when the request could not be posted any more ------------

SELECT set_account_status(:alice, 'frozen') AS done \gset
SELECT * FROM pg_temp.replays(
    format($$SELECT payments.post_transfer(%s, %s, '50.00 USD', 'tap-k-2')$$, :alice, :bob), :k2,
    'a replay after the account was frozen returns the original id');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '50.00 USD', 'tap-k-3')$$, :alice, :bob),
    '55L01', format('account %s is frozen', :alice), 'while a new key is refused');
SELECT set_account_status(:alice, 'open') AS done \gset
SELECT post_transfer(:alice, :bob, balance(:alice), 'tap-k-drain') AS drain \gset
SELECT is(balance(:alice), '0.00 USD'::monetary, 'tap_alice is drained');
SELECT * FROM pg_temp.replays(
    format($$SELECT payments.post_transfer(%s, %s, '50.00 USD', 'tap-k-2')$$, :alice, :bob), :k2,
    'a replay after the money is gone returns the original id');

-- a key posted by a direct INSERT replays through post_transfer() ------------------

INSERT INTO payments.transfers (from_account, to_account, amount, idempotency_key)
VALUES (:cash, :bob, '7.00 USD', 'tap-k-insert') RETURNING id AS ins \gset
SELECT * FROM pg_temp.replays(
    format($$SELECT payments.post_transfer(%s, %s, '7.00 USD', 'tap-k-insert')$$, :cash, :bob), :ins,
    'post_transfer() replays a key first posted by INSERT');

SELECT is_empty('SELECT * FROM payments.verify_ledger()', 'verify_ledger() finds nothing wrong');

SELECT * FROM finish();
ROLLBACK;
