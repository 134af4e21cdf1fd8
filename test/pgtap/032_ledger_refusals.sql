-- What post_transfer() refuses, each with its SQLSTATE and message, and that
-- a refusal leaves nothing behind: no transfer row, no legs, no change of
-- volumes, and its idempotency key still free for a valid request.
BEGIN;
SET search_path = public, payments;
SELECT plan(109);

-- helpers, in pg_temp: gone with the rollback -----------------------------

\ir lib/ledger_helpers.sql

-- accounts ---------------------------------------------------------------

SELECT create_account('tap_cash', 'USD', 'debit', true) AS cash \gset
SELECT create_account('tap_alice', 'USD') AS alice \gset
SELECT create_account('tap_bob', 'USD') AS bob \gset
SELECT create_account('tap_eur', 'EUR') AS eur \gset
SELECT create_account('tap_meter', 'USD/4') AS meter \gset
SELECT create_account('tap_other', 'USD', ledger => 'tap_tenant') AS other \gset
SELECT create_account('tap_frozen', 'USD') AS frozen \gset
SELECT create_account('tap_closed', 'USD') AS closed \gset
SELECT create_account('tap_receivable', 'USD', 'debit', false) AS receivable \gset
SELECT create_account('tap_clearing', 'USD', 'debit', true) AS clearing \gset
SELECT create_account('tap_equity', 'USD', 'credit', true) AS equity \gset
SELECT post_transfer(:cash, :alice, '100.00 USD') AS t1 \gset
SELECT post_transfer(:cash, :frozen, '10.00 USD') AS t2 \gset
SELECT set_account_status(:frozen, 'frozen') AS done \gset
SELECT set_account_status(:closed, 'closed') AS done \gset

-- amounts ------------------------------------------------------------------

SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '0 USD', 'tap-r-zero')$$, :alice, :bob),
    '23514', 'transfer amount must be positive: 0.00 USD', 'a zero amount is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '-1 USD', 'tap-r-negative')$$, :alice, :bob),
    '23514', 'transfer amount must be positive: -1.00 USD', 'a negative amount is refused');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.post_transfer_by_name('default', 'tap_alice', 'tap_bob', '-0.01 USD', 'tap-r-negative-name')$$,
    '23514', 'transfer amount must be positive: -0.01 USD', 'a negative amount is refused by name too');

-- accounts -----------------------------------------------------------------

SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1 USD', 'tap-r-self')$$, :alice, :alice),
    '23514', format('transfer from account %s to itself', :alice), 'a transfer to the same account is refused');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.post_transfer_by_name('default', 'tap_alice', 'tap_alice', '1 USD')$$,
    '23514', format('transfer from account %s to itself', :alice), 'a transfer to the same account by name is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, -1, '1 USD', 'tap-r-unknown-to')$$, :alice),
    '23503', 'account -1 does not exist', 'an unknown to_account is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(-1, %s, '1 USD', 'tap-r-unknown-from')$$, :alice),
    '23503', 'account -1 does not exist', 'an unknown from_account is refused');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.post_transfer_by_name('default', 'tap_alice', 'tap_nobody', '1 USD', 'tap-r-unknown-to-name')$$,
    '23503', 'account "tap_nobody" does not exist in ledger "default"', 'an unknown to_account name is refused');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.post_transfer_by_name('default', 'tap_nobody', 'tap_alice', '1 USD', 'tap-r-unknown-from-name')$$,
    '23503', 'account "tap_nobody" does not exist in ledger "default"', 'an unknown from_account name is refused');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.post_transfer_by_name('tap_tenant', 'tap_alice', 'tap_bob', '1 USD')$$,
    '23503', 'account "tap_alice" does not exist in ledger "tap_tenant"',
    'names are looked up in the given ledger only');

-- ledgers
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1 USD', 'tap-r-ledger-to')$$, :alice, :other),
    '23514', format('account %s is in ledger "tap_tenant", not in the ledger "default" of transfer %s',
                    :other, pg_temp.next_transfer_id()),
    'a to_account in another ledger is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1 USD', 'tap-r-ledger-from')$$, :other, :alice),
    '23514', format('account %s is in ledger "default", not in the ledger "tap_tenant" of transfer %s',
                    :alice, pg_temp.next_transfer_id()),
    'a from_account in another ledger is refused (the transfer takes the from_account''s ledger)');
SELECT pg_temp.next_transfer_id() AS next \gset
SELECT is(pg_temp.error_of(format($$SELECT payments.post_transfer(%s, %s, '1 USD')$$, :alice, :other)),
    ARRAY['23514', format('account %s is in ledger "tap_tenant", not in the ledger "default" of transfer %s',
                          :other, :next),
          'A transfer moves money inside one ledger; between ledgers it takes two transfers through bridge accounts.',
          NULL],
    'the refusal between ledgers says how to move money between them');

-- currencies
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1 USD', 'tap-r-currency-to')$$, :alice, :eur),
    '22000', format('currency mismatch: transfer %s is in USD but account %s holds EUR',
                    pg_temp.next_transfer_id(), :eur),
    'a to_account in another currency is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1 EUR', 'tap-r-currency-from')$$, :eur, :alice),
    '22000', format('currency mismatch: transfer %s is in EUR but account %s holds USD',
                    pg_temp.next_transfer_id(), :alice),
    'a from_account in another currency is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1 EUR', 'tap-r-currency-amount')$$, :alice, :bob),
    '22000', format('currency mismatch: transfer %s is in EUR but account %s holds USD',
                    pg_temp.next_transfer_id(), :alice),
    'an amount in another currency than both accounts is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1 USD', 'tap-r-scale-to')$$, :alice, :meter),
    '22000', format('currency mismatch: transfer %s is in USD but account %s holds USD/4',
                    pg_temp.next_transfer_id(), :meter),
    'USD and USD/4 are different currencies');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1 USD/4', 'tap-r-scale-amount')$$, :alice, :bob),
    '22000', format('currency mismatch: transfer %s is in USD/4 but account %s holds USD',
                    pg_temp.next_transfer_id(), :alice),
    'an amount in USD/4 between USD accounts is refused');

-- frozen and closed accounts
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1 USD', 'tap-r-frozen-from')$$, :frozen, :bob),
    '55L01', format('account %s is frozen', :frozen), 'a frozen from_account is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1 USD', 'tap-r-frozen-to')$$, :alice, :frozen),
    '55L01', format('account %s is frozen', :frozen), 'a frozen to_account is refused');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.post_transfer_by_name('default', 'tap_alice', 'tap_frozen', '1 USD')$$,
    '55L01', format('account %s is frozen', :frozen), 'a frozen account is refused by name too');
SELECT pg_temp.next_transfer_id() AS next \gset
SELECT is(pg_temp.error_of(format($$SELECT payments.post_transfer(%s, %s, '1 USD')$$, :frozen, :bob)),
    ARRAY['55L01', format('account %s is frozen', :frozen),
          format('Transfer %s cannot move money in or out of it until it is reopened.',
                 :next), NULL],
    'the refusal of a frozen account names the transfer and says it must be reopened');
SELECT pg_temp.next_transfer_id() AS next \gset
SELECT is(pg_temp.error_of(format($$SELECT payments.post_transfer(%s, %s, '1 USD')$$, :alice, :closed)),
    ARRAY['55L02', format('account %s is closed', :closed),
          format('Transfer %s cannot move money in or out of it: closing is final.',
                 :next), NULL],
    'the refusal of a closed account names the transfer and says closing is final');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1 USD', 'tap-r-closed-to')$$, :alice, :closed),
    '55L02', format('account %s is closed', :closed), 'a closed to_account is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1 USD', 'tap-r-closed-from')$$, :closed, :equity),
    '55L02', format('account %s is closed', :closed), 'a closed from_account is refused');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.post_transfer_by_name('default', 'tap_closed', 'tap_equity', '1 USD')$$,
    '55L02', format('account %s is closed', :closed), 'a closed account is refused by name too');

-- balance limits -------------------------------------------------------------

SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '100.01 USD', 'tap-r-funds')$$, :alice, :bob),
    '23L01', format('insufficient funds in account %s for transfer %s', :alice, pg_temp.next_transfer_id()),
    'a credit-normal account that may not go negative cannot send more than it has');
SELECT pg_temp.next_transfer_id() AS next \gset
SELECT is(pg_temp.error_of(format($$SELECT payments.post_transfer(%s, %s, '100.01 USD')$$, :alice, :bob)),
    ARRAY['23L01', format('insufficient funds in account %s for transfer %s', :alice, :next),
          'Its available balance is 100.00 USD and the transfer needs 100.01 USD.',
          'The account may not go negative (allow_negative is false).'],
    'the refusal names the available balance and the amount needed');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.post_transfer_by_name('default', 'tap_bob', 'tap_alice', '0.01 USD', 'tap-r-funds-empty')$$,
    '23L01', format('insufficient funds in account %s for transfer %s', :bob, pg_temp.next_transfer_id()),
    'an empty account cannot send anything');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1.00 USD', 'tap-r-debit-normal')$$, :alice, :receivable),
    '23L01', format('insufficient funds in account %s for transfer %s', :receivable, pg_temp.next_transfer_id()),
    'a debit-normal account that may not go negative cannot be credited below zero');
SELECT pg_temp.next_transfer_id() AS next \gset
SELECT is(pg_temp.error_of(format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :alice, :receivable)),
    ARRAY['23L01', format('insufficient funds in account %s for transfer %s', :receivable, :next),
          'Its available balance is 0.00 USD and the transfer needs 1.00 USD.',
          'The account may not go negative (allow_negative is false).'],
    'the refusal for the credited account names its available balance');

SELECT lives_ok(format($$SELECT payments.post_transfer(%s, %s, '5.00 USD')$$, :alice, :clearing),
                'a debit-normal account that may go negative can be credited below zero');
SELECT is(balance(:clearing), '-5.00 USD'::monetary, 'it is at -5.00 USD');
SELECT lives_ok(format($$SELECT payments.post_transfer(%s, %s, '7.00 USD')$$, :equity, :bob),
                'a credit-normal account that may go negative can send more than it has');
SELECT is(balance(:equity), '-7.00 USD'::monetary, 'it is at -7.00 USD');
SELECT lives_ok(format($$SELECT payments.post_transfer(%s, %s, '3.00 USD')$$, :receivable, :bob),
                'a debit to a debit-normal account that may not go negative is fine');
SELECT lives_ok(format($$SELECT payments.post_transfer(%s, %s, '3.00 USD')$$, :alice, :receivable),
                'it may then be credited down to exactly zero');
SELECT is(balance(:receivable), '0.00 USD'::monetary, 'it is at zero');
SELECT lives_ok(format($$SELECT payments.post_transfer(%s, %s, '92.00 USD')$$, :alice, :bob),
                'an account may send exactly its available balance');
SELECT is(balance(:alice), '0.00 USD'::monetary, 'it is at zero');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '0.01 USD', 'tap-r-funds-zero')$$, :alice, :bob),
    '23L01', format('insufficient funds in account %s for transfer %s', :alice, pg_temp.next_transfer_id()),
    'an account at zero cannot send a cent');

-- pending outgoing amounts (a hold) count against the available balance
SELECT payments.hold(:bob, :alice, '88.00 USD') AS done \gset
SELECT is(available_balance(:bob), '14.00 USD'::monetary, 'tap_bob has 102.00 posted, 88.00 pending out');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '14.01 USD', 'tap-r-funds-pending')$$, :bob, :alice),
    '23L01', format('insufficient funds in account %s for transfer %s', :bob, pg_temp.next_transfer_id()),
    'a transfer beyond the available balance is refused even within the posted balance');
SELECT pg_temp.next_transfer_id() AS next \gset
SELECT is(pg_temp.error_of(format($$SELECT payments.post_transfer(%s, %s, '20.00 USD')$$, :bob, :alice)),
    ARRAY['23L01', format('insufficient funds in account %s for transfer %s', :bob, :next),
          'Its available balance is 14.00 USD and the transfer needs 20.00 USD.',
          'The account may not go negative (allow_negative is false).'],
    'the refusal names the available balance, net of pending amounts');
SELECT lives_ok(format($$SELECT payments.post_transfer(%s, %s, '14.00 USD')$$, :bob, :alice),
                'a transfer of exactly the available balance is accepted');
SELECT is(available_balance(:bob), '0.00 USD'::monetary, 'tap_bob has nothing left available');

-- null arguments -------------------------------------------------------------

SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(NULL, %s, '1 USD', 'tap-r-null')$$, :bob),
    '22004', 'from_account must not be null', 'a null from_account is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, NULL, '1 USD', 'tap-r-null')$$, :alice),
    '22004', 'to_account must not be null', 'a null to_account is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, NULL, 'tap-r-null')$$, :alice, :bob),
    '22004', 'amount must not be null', 'a null amount is refused');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.post_transfer_by_name('default', NULL, 'tap_bob', '1 USD', 'tap-r-null')$$,
    '22004', 'from_account must not be null', 'a null from_account name is refused');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.post_transfer_by_name('default', 'tap_alice', NULL::text, '1 USD', 'tap-r-null')$$,
    '22004', 'to_account must not be null', 'a null to_account name is refused');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.post_transfer_by_name('default', 'tap_alice', 'tap_bob', NULL, 'tap-r-null')$$,
    '22004', 'amount must not be null', 'a null amount is refused by name');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.post_transfer_by_name(NULL, 'tap_alice', 'tap_bob', '1 USD', 'tap-r-null', NULL)$$,
    '22004', 'ledger must not be null', 'a null ledger is refused');

-- the keys of refused transfers are not consumed -------------------------------

SELECT is_empty($$SELECT * FROM payments.transfers WHERE idempotency_key LIKE 'tap-r-%'$$,
                'no refused transfer left a row with its key');
SELECT post_transfer(:cash, :alice, '50.00 USD', 'tap-r-funds') AS k1 \gset
SELECT post_transfer(:alice, :bob, '1.00 USD', 'tap-r-zero') AS k2 \gset
SELECT post_transfer(:alice, :bob, '1.00 USD', 'tap-r-self') AS k3 \gset
SELECT post_transfer_by_name('default', 'tap_alice', 'tap_bob', '1.00 USD', 'tap-r-frozen-to') AS k4 \gset
SELECT post_transfer(:alice, :bob, '1.00 USD', 'tap-r-closed-to') AS k5 \gset
SELECT post_transfer(:alice, :bob, '1.00 USD', 'tap-r-null') AS k6 \gset
SELECT post_transfer(:alice, :bob, '1.00 USD', 'tap-r-ledger-from') AS k7 \gset
SELECT post_transfer(:alice, :bob, '1.00 USD', 'tap-r-currency-to') AS k8 \gset
SELECT results_eq(
    $$SELECT idempotency_key, amount::text FROM payments.transfers
       WHERE idempotency_key LIKE 'tap-r-%' ORDER BY id$$,
    $$VALUES ('tap-r-funds', '50.00 USD'), ('tap-r-zero', '1.00 USD'), ('tap-r-self', '1.00 USD'),
             ('tap-r-frozen-to', '1.00 USD'), ('tap-r-closed-to', '1.00 USD'), ('tap-r-null', '1.00 USD'),
             ('tap-r-ledger-from', '1.00 USD'), ('tap-r-currency-to', '1.00 USD')$$,
    'after a refusal, a valid request with the same key (and other arguments) is posted');
SELECT is(post_transfer(:cash, :alice, '50.00 USD', 'tap-r-funds'), :k1::bigint,
          'and its key then replays as usual');
SELECT is(balance(:alice), '57.00 USD'::monetary, 'balances add up after the refusals (14 + 50 - 7 x 1)');
SELECT is_empty('SELECT * FROM payments.verify_ledger()', 'verify_ledger() finds nothing wrong');

-- the cap: one transfer moves at most 10^19 minor units --------------------
-- (so that no sequence of transfers can push a volume past 38 digits)

SELECT create_account('tap_big_source', 'USD', 'debit', true) AS big_source \gset
SELECT create_account('tap_big', 'USD') AS big \gset
SELECT create_account('tap_wei_source', 'ETH/18', 'debit', true) AS wei_source \gset
SELECT create_account('tap_wei', 'ETH/18') AS wei \gset
SELECT lives_ok(
    format($$SELECT payments.post_transfer(%s, %s, '100000000000000000.00 USD')$$, :big_source, :big),
    'a transfer of exactly the most one transfer may move (10^19 minor units) is accepted');
SELECT lives_ok(
    format($$SELECT payments.post_transfer(%s, %s, '100000000000000000.00 USD')$$, :big_source, :big),
    'and another: the cap is per transfer, not per account');
SELECT is(balance(:big)::text, '200000000000000000.00 USD', 'the account''s balance passes the cap');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '100000000000000000.01 USD', 'tap-o-cap')$$,
           :big_source, :big),
    '22003', 'transfer amount 100000000000000000.01 USD is larger than the most one transfer may move, 100000000000000000.00 USD',
    'one minor unit above the cap is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '999999999999999999999999999999999999.99 USD', 'tap-o-max')$$,
           :big_source, :big),
    '22003', 'transfer amount 999999999999999999999999999999999999.99 USD is larger than the most one transfer may move, 100000000000000000.00 USD',
    'the largest amount a monetary holds (10^38 - 1 minor units) is refused');
SELECT is(pg_temp.error_of(format($$SELECT payments.post_transfer(%s, %s, '100000000000000000.01 USD')$$,
                                  :big_source, :big)),
    ARRAY['22003', 'transfer amount 100000000000000000.01 USD is larger than the most one transfer may move, 100000000000000000.00 USD',
          'A transfer moves at most 10^19 minor units, so that no sequence of transfers can push an account''s volumes out of range.',
          NULL],
    'the refusal above the cap says why there is one');
SELECT lives_ok(
    format($$SELECT payments.post_transfer(%s, %s, '10 ETH/18')$$, :wei_source, :wei),
    'the cap is in minor units: 10 ETH/18 is 10^19 wei and is accepted');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '10.000000000000000001 ETH/18', 'tap-o-wei')$$,
           :wei_source, :wei),
    '22003', 'transfer amount 10.000000000000000001 ETH/18 is larger than the most one transfer may move, 10.000000000000000000 ETH/18',
    'one wei above 10 ETH/18 is refused');
SELECT is_empty($$SELECT * FROM payments.transfers WHERE idempotency_key LIKE 'tap-o-%'$$,
                'no transfer above the cap left a row');

-- Totals of a currency over all accounts may pass 38 digits of minor units
-- (volumes as large as a restore may bring back, set as a restore would).
SET LOCAL session_replication_role = replica;
UPDATE payments.accounts
   SET debits_posted = '999999999999999999999999999999999999.99 USD'
 WHERE id IN (:big_source, :cash);
SET LOCAL session_replication_role = origin;
SELECT lives_ok('SELECT * FROM payments.verify_ledger()',
                'verify_ledger() still answers when the total of a currency''s volumes exceeds 38 digits');
SELECT lives_ok('SELECT * FROM payments.trial_balance',
                'trial_balance still answers when the total of a currency''s volumes exceeds 38 digits');
SELECT is((SELECT debits FROM payments.trial_balance WHERE ledger = 'default' AND currency = 'USD'),
          (SELECT sum(amount(debits_posted)) FROM payments.accounts
            WHERE ledger = 'default' AND currency = 'USD'),
          'trial_balance sums them exactly');
SELECT ok((SELECT debits > 1e36 FROM payments.trial_balance WHERE ledger = 'default' AND currency = 'USD'),
          'that total is more than 38 digits of minor units');

SELECT * FROM finish();
ROLLBACK;
