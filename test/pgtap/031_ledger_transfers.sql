-- Posting transfers: post_transfer() by id, by name and in a named ledger;
-- what it writes (the transfer row, two legs with running balances, the
-- account volumes) and what the readers see: balance() now and as of a
-- time, available_balance(), statement(), the account_balances and
-- trial_balance views, verify_ledger().
BEGIN;
SET search_path = public, payments;
SELECT plan(51);

-- accounts ---------------------------------------------------------------

SELECT create_account('tap_cash', 'USD', 'debit', true) AS cash \gset
SELECT create_account('tap_alice', 'USD') AS alice \gset
SELECT create_account('tap_bob', 'USD') AS bob \gset
SELECT create_account('tap_fees', 'USD', 'credit', false, '{"kind": "income"}') AS fees \gset
SELECT create_account('tap_cash', 'USD', 'debit', true, ledger => 'tap_tenant') AS t_cash \gset
SELECT create_account('tap_alice', 'USD', ledger => 'tap_tenant') AS t_alice \gset
SELECT create_account('tap_meter_in', 'USD/4', 'debit', true) AS meter_in \gset
SELECT create_account('tap_meter', 'USD/4') AS meter \gset
SELECT create_account('tap_eth_in', 'ETH/18', 'debit', true) AS eth_in \gset
SELECT create_account('tap_eth', 'ETH/18') AS eth \gset

SELECT now() AS started \gset

-- a deposit by id ----------------------------------------------------------

SELECT post_transfer(:cash, :alice, '100.00 USD') AS t1 \gset
SELECT ok(:t1::bigint > 0, 'post_transfer(id, id, amount) returns the new transfer''s id');
SELECT results_eq(
    format($$SELECT ledger, idempotency_key, from_account, to_account, amount::text, status,
                    pending_id, reverses, expires_at, metadata
               FROM payments.transfers WHERE id = %s$$, :t1),
    format($$VALUES ('default', NULL::text, %s::bigint, %s::bigint, '100.00 USD', 'posted',
                     NULL::bigint, NULL::bigint, NULL::timestamptz, NULL::jsonb)$$, :cash, :alice),
    'the transfer row: ledger taken from the accounts, status posted, nothing else set');
SELECT ok((SELECT created_at >= :'started'::timestamptz AND created_at <= clock_timestamp()
             FROM payments.transfers WHERE id = :t1),
          'the ledger sets the transfer''s created_at');
SELECT results_eq(
    format($$SELECT ledger, account_id, side, amount::text, balance_after::text
               FROM payments.postings WHERE transfer_id = %s ORDER BY id$$, :t1),
    format($$VALUES ('default', %s::bigint, 'debit', '100.00 USD', '100.00 USD'),
                    ('default', %s::bigint, 'credit', '100.00 USD', '100.00 USD')$$, :cash, :alice),
    'two legs: from_account debited, to_account credited, each with its balance after (debit-normal: debits - credits)');
SELECT is((SELECT count(DISTINCT created_at) FROM payments.postings WHERE transfer_id = :t1), 1::bigint,
          'both legs of a transfer carry the same time');
SELECT ok((SELECT bool_and(p.created_at >= t.created_at AND p.created_at <= clock_timestamp())
             FROM payments.postings p JOIN payments.transfers t ON t.id = p.transfer_id
            WHERE t.id = :t1),
          'the legs are timed when they are applied');
SELECT pg_sleep(0.002) AS slept \gset

-- a payment by name, with a key and metadata --------------------------------

SELECT post_transfer_by_name('default', 'tap_alice', 'tap_bob', '30.00 USD', 'tap-pay-1', '{"memo": "lunch"}') AS t2 \gset
SELECT results_eq(
    format($$SELECT ledger, idempotency_key, from_account, to_account, amount::text, status, metadata
               FROM payments.transfers WHERE id = %s$$, :t2),
    format($$VALUES ('default', 'tap-pay-1', %s::bigint, %s::bigint, '30.00 USD', 'posted',
                     '{"memo": "lunch"}'::jsonb)$$, :alice, :bob),
    'post_transfer(name, name, amount, key, metadata) stores the key and the metadata');
SELECT results_eq(
    format($$SELECT account_id, side, amount::text, balance_after::text
               FROM payments.postings WHERE transfer_id = %s ORDER BY id$$, :t2),
    format($$VALUES (%s::bigint, 'debit', '30.00 USD', '70.00 USD'),
                    (%s::bigint, 'credit', '30.00 USD', '30.00 USD')$$, :alice, :bob),
    'credit-normal accounts: balance after = credits - debits');
SELECT pg_sleep(0.002) AS slept \gset

SELECT post_transfer(:alice, :fees, '0.50 USD') AS t3 \gset
SELECT pg_sleep(0.002) AS slept \gset
-- money back into the debit-normal account: its balance goes down
SELECT post_transfer_by_name('default', 'tap_bob', 'tap_cash', '10.00 USD') AS t4 \gset
SELECT results_eq(
    format($$SELECT account_id, side, amount::text, balance_after::text
               FROM payments.postings WHERE transfer_id = %s ORDER BY id$$, :t4),
    format($$VALUES (%s::bigint, 'debit', '10.00 USD', '20.00 USD'),
                    (%s::bigint, 'credit', '10.00 USD', '90.00 USD')$$, :bob, :cash),
    'a credit to a debit-normal account lowers its balance after');
SELECT pg_sleep(0.002) AS slept \gset
SELECT clock_timestamp() AS after_all \gset

-- another ledger, by name -------------------------------------------------

SELECT post_transfer_by_name('tap_tenant', 'tap_cash', 'tap_alice', '5.00 USD') AS t5 \gset
SELECT results_eq(
    format($$SELECT ledger, from_account, to_account FROM payments.transfers WHERE id = %s$$, :t5),
    format($$VALUES ('tap_tenant', %s::bigint, %s::bigint)$$, :t_cash, :t_alice),
    'post_transfer(name, name, amount, ledger => ...) uses the accounts of that ledger');
SELECT is((SELECT array_agg(DISTINCT ledger) FROM payments.postings WHERE transfer_id = :t5),
          ARRAY['tap_tenant'], 'the legs carry the transfer''s ledger');
SELECT post_transfer(:t_alice, :t_cash, '1.00 USD') AS t6 \gset
SELECT is((SELECT ledger FROM payments.transfers WHERE id = :t6), 'tap_tenant',
          'post_transfer() by id takes the ledger of its accounts');

-- other scales ------------------------------------------------------------

SELECT post_transfer(:meter_in, :meter, '0.0001 USD/4') AS t7 \gset
SELECT post_transfer(:eth_in, :eth, '0.000000000000000001 ETH/18') AS t8 \gset
SELECT post_transfer_by_name('default', 'tap_eth_in', 'tap_eth', '1.5 eth/18') AS t9 \gset
SELECT is(balance(:meter), '0.0001 USD/4'::monetary, 'a USD/4 account holds a hundredth of a cent');
SELECT is(balance_by_name('default', 'tap_eth')::text, '1.500000000000000001 ETH/18', 'an ETH/18 account holds one wei more than 1.5 ETH');
SELECT is(balance(:eth_in)::text, '1.500000000000000001 ETH/18',
          'a debit-normal account''s balance grows with its debits');

-- volumes -----------------------------------------------------------------

SELECT results_eq(
    format($$SELECT name, debits_posted::text, credits_posted::text, debits_pending::text,
                    credits_pending::text
               FROM payments.accounts WHERE id IN (%s, %s, %s, %s) ORDER BY id$$,
           :cash, :alice, :bob, :fees),
    $$VALUES ('tap_cash', '100.00 USD', '10.00 USD', '0.00 USD', '0.00 USD'),
             ('tap_alice', '30.50 USD', '100.00 USD', '0.00 USD', '0.00 USD'),
             ('tap_bob', '10.00 USD', '30.00 USD', '0.00 USD', '0.00 USD'),
             ('tap_fees', '0.00 USD', '0.50 USD', '0.00 USD', '0.00 USD')$$,
    'the account volumes are the sums of their legs');

-- balances ----------------------------------------------------------------

SELECT is(balance(:cash), '90.00 USD'::monetary, 'balance() of a debit-normal account: debits - credits');
SELECT is(balance(:alice), '69.50 USD'::monetary, 'balance() of a credit-normal account: credits - debits');
SELECT is(balance_by_name('default', 'tap_bob'), '20.00 USD'::monetary, 'balance(name)');
SELECT is(balance_by_name('tap_tenant', 'tap_alice', NULL), '4.00 USD'::monetary, 'balance(name, NULL, ledger)');
SELECT is(available_balance(:alice), '69.50 USD'::monetary, 'available_balance(id) without pending amounts is the balance');
SELECT is(available_balance_by_name('default', 'tap_fees'), '0.50 USD'::monetary, 'available_balance(name)');
SELECT is(available_balance_by_name('tap_tenant', 'tap_cash'), '4.00 USD'::monetary, 'available_balance(name, ledger)');
SELECT throws_ok('SELECT payments.balance(-1)', '23503', 'account -1 does not exist',
                 'balance() of an unknown account');
SELECT throws_ok('SELECT payments.available_balance(-1)', '23503', 'account -1 does not exist',
                 'available_balance() of an unknown account');
SELECT throws_ok($$SELECT payments.balance_by_name('default', 'tap_nobody')$$, '23503',
                 'account "tap_nobody" does not exist in ledger "default"',
                 'balance() of an unknown name');
SELECT throws_ok($$SELECT payments.balance_by_name('tap_tenant', 'tap_bob', NULL)$$, '23503',
                 'account "tap_bob" does not exist in ledger "tap_tenant"',
                 'balance() by name looks in the given ledger only');

-- balances as of a time, from the legs' running balances
SELECT created_at AS leg1 FROM payments.postings WHERE transfer_id = :t1 AND account_id = :alice \gset
SELECT created_at AS leg2 FROM payments.postings WHERE transfer_id = :t2 AND account_id = :alice \gset
SELECT created_at AS leg3 FROM payments.postings WHERE transfer_id = :t3 AND account_id = :alice \gset
SELECT ok(:'leg1'::timestamptz < :'leg2'::timestamptz AND :'leg2'::timestamptz < :'leg3'::timestamptz,
          'legs of successive transfers have increasing times');
SELECT is(balance(:alice, '-infinity'), '0.00 USD'::monetary, 'balance(account, -infinity) is zero');
SELECT is(balance(:alice, :'leg1'::timestamptz - interval '1 microsecond'), '0.00 USD'::monetary,
          'balance as of just before the first leg is zero');
SELECT is(balance(:alice, :'leg1'), '100.00 USD'::monetary,
          'balance as of the first leg''s time includes it');
SELECT is(balance(:alice, :'leg2'::timestamptz - interval '1 microsecond'), '100.00 USD'::monetary,
          'balance as of a time between two legs');
SELECT is(balance(:alice, :'leg2'), '70.00 USD'::monetary, 'balance as of the second leg');
SELECT is(balance(:alice, :'leg3'::timestamptz - interval '1 microsecond'), '70.00 USD'::monetary,
          'balance as of a time between the second and third legs');
SELECT is(balance(:alice, :'after_all'), '69.50 USD'::monetary, 'balance as of a time after all legs');
SELECT is(balance(:alice, 'infinity'), balance(:alice), 'balance as of infinity is the balance now');
SELECT is(balance_by_name('default', 'tap_cash', :'leg2'), '100.00 USD'::monetary, 'balance(name, at) of a debit-normal account');
SELECT is(balance_by_name('default', 'tap_cash', :'after_all'), '90.00 USD'::monetary,
          'balance(name, at) after a credit to the debit-normal account');
SELECT is(balance(:meter, '-infinity'), '0.0000 USD/4'::monetary,
          'balance as of a time before any leg is zero in the account''s currency');

-- statement ---------------------------------------------------------------

SELECT results_eq(
    format($$SELECT transfer_id, side, amount::text, balance_after::text, counterparty, metadata
               FROM payments.statement(%s, '-infinity', 'infinity')$$, :alice),
    format($$VALUES (%s::bigint, 'credit', '100.00 USD', '100.00 USD', %s::bigint, NULL::jsonb),
                    (%s::bigint, 'debit', '30.00 USD', '70.00 USD', %s::bigint, '{"memo": "lunch"}'::jsonb),
                    (%s::bigint, 'debit', '0.50 USD', '69.50 USD', %s::bigint, NULL::jsonb)$$,
           :t1, :cash, :t2, :bob, :t3, :fees),
    'statement(): every leg of the account, oldest first, with running balances, counterparties and metadata');
SELECT results_eq(
    format($$SELECT transfer_id, balance_after::text FROM payments.statement(%s, %L, %L)$$,
           :alice, :'leg2', :'leg3'),
    format($$VALUES (%s::bigint, '70.00 USD')$$, :t2),
    'statement(account, from, to) covers [from, to)');
SELECT is(balance(:alice, :'leg2'::timestamptz - interval '1 microsecond'), '100.00 USD'::monetary,
          'the opening balance of that statement is balance(account, from - 1 microsecond)');
SELECT is_empty(format($$SELECT * FROM payments.statement(%s, %L, 'infinity')$$, :alice, :'after_all'),
                'statement() of a period without legs is empty');
SELECT is((SELECT posting_id FROM payments.statement(:alice, '-infinity', 'infinity') WHERE transfer_id = :t2),
          (SELECT id FROM payments.postings WHERE transfer_id = :t2 AND account_id = :alice),
          'statement() names the posting');
SELECT throws_ok($$SELECT * FROM payments.statement(-1, '-infinity', 'infinity')$$, '23503',
                 'account -1 does not exist', 'statement() of an unknown account');

-- for analysts --------------------------------------------------------------

SELECT results_eq(
    format($$SELECT account_id, ledger, name, currency::text, normal_balance, status,
                    balance::text, available::text
               FROM payments.account_balances WHERE account_id IN (%s, %s, %s, %s, %s) ORDER BY account_id$$,
           :cash, :alice, :bob, :fees, :t_alice),
    format($$VALUES (%s::bigint, 'default', 'tap_cash', 'USD', 'debit', 'open', '90.00 USD', '90.00 USD'),
                    (%s::bigint, 'default', 'tap_alice', 'USD', 'credit', 'open', '69.50 USD', '69.50 USD'),
                    (%s::bigint, 'default', 'tap_bob', 'USD', 'credit', 'open', '20.00 USD', '20.00 USD'),
                    (%s::bigint, 'default', 'tap_fees', 'USD', 'credit', 'open', '0.50 USD', '0.50 USD'),
                    (%s::bigint, 'tap_tenant', 'tap_alice', 'USD', 'credit', 'open', '4.00 USD', '4.00 USD')$$,
           :cash, :alice, :bob, :fees, :t_alice),
    'account_balances: every account with its balance and available balance');
SELECT results_eq(
    $$SELECT ledger, currency::text, debits::text, credits::text, balanced
        FROM payments.trial_balance WHERE ledger = 'tap_tenant'$$,
    $$VALUES ('tap_tenant', 'USD', '6.00', '6.00', true)$$,
    'trial_balance: per ledger and currency, debits equal credits');
SELECT is_empty($$SELECT * FROM payments.trial_balance WHERE NOT balanced$$,
                'trial_balance: every ledger and currency is balanced');
SELECT results_eq(
    $$SELECT currency::text, debits::text FROM payments.trial_balance
       WHERE ledger = 'default' AND currency IN ('USD/4', 'ETH/18') ORDER BY 1$$,
    $$VALUES ('ETH/18', '1.500000000000000001'), ('USD/4', '0.0001')$$,
    'trial_balance keeps the scales of one code apart');
SELECT is_empty('SELECT * FROM payments.verify_ledger()', 'verify_ledger() finds nothing wrong');
SELECT is((SELECT count(*) FROM payments.postings WHERE transfer_id IN (:t1, :t2, :t3, :t4, :t5, :t6, :t7, :t8, :t9)),
          18::bigint, 'nine transfers, eighteen legs');

SELECT * FROM finish();
ROLLBACK;
