-- Ledger accounts: create_account() and its defaults, what a direct INSERT or
-- UPDATE of payments.accounts may and may not do, set_account_status() and
-- allow_negative.  Each refusal is checked with its SQLSTATE and message, and
-- for leaving nothing behind.
BEGIN;
SET search_path = public, payments;
SELECT plan(155);

-- helpers, in pg_temp: gone with the rollback -----------------------------

\ir lib/ledger_helpers.sql

-- create_account() -------------------------------------------------------

SELECT create_account('tap_alice', 'USD') AS alice \gset

SELECT results_eq(
    format($$SELECT ledger, name, currency::text, normal_balance, allow_negative, status,
                    metadata, debits_posted::text, credits_posted::text,
                    debits_pending::text, credits_pending::text
               FROM payments.accounts WHERE id = %s$$, :alice),
    $$VALUES ('default', 'tap_alice', 'USD', 'credit', false, 'open', NULL::jsonb,
              '0.00 USD', '0.00 USD', '0.00 USD', '0.00 USD')$$,
    'create_account(name, currency): ledger default, credit-normal, no negative, open, zero volumes in its currency');
SELECT ok((SELECT created_at IS NOT NULL AND created_at <= clock_timestamp()
             FROM payments.accounts WHERE id = :alice),
          'create_account() sets created_at');
SELECT is(account_id('tap_alice'), :alice::bigint,
          'create_account() returns the id of the new account');
SELECT is(account_id('tap_alice', 'default'), :alice::bigint,
          'account_id(name, ledger) finds it in ledger default');

SELECT create_account('tap_assets', 'EUR', 'debit', true, '{"kind": "bank"}', 'tap_books') AS assets \gset
SELECT results_eq(
    format($$SELECT ledger, name, currency::text, normal_balance, allow_negative, status,
                    metadata, debits_posted::text, credits_posted::text,
                    debits_pending::text, credits_pending::text
               FROM payments.accounts WHERE id = %s$$, :assets),
    $$VALUES ('tap_books', 'tap_assets', 'EUR', 'debit', true, 'open', '{"kind": "bank"}'::jsonb,
              '0.00 EUR', '0.00 EUR', '0.00 EUR', '0.00 EUR')$$,
    'create_account() with every argument: ledger, normal side, allow_negative and metadata are kept');
SELECT is(account_id('tap_assets', 'tap_books'), :assets::bigint,
          'account_id() finds an account in its own ledger');
SELECT throws_ok('SELECT payments.account_id(''tap_assets'')', '23503',
                 'account "tap_assets" does not exist in ledger "default"',
                 'account_id() does not find an account of another ledger');

SELECT create_account('tap_metering', 'USD/4') AS metering \gset
SELECT create_account('tap_wallet', 'eth/18', 'debit') AS wallet \gset
SELECT results_eq(
    format($$SELECT currency::text, debits_posted::text, credits_posted::text,
                    debits_pending::text, credits_pending::text
               FROM payments.accounts WHERE id IN (%s, %s) ORDER BY id$$, :metering, :wallet),
    $$VALUES ('USD/4', '0.0000 USD/4', '0.0000 USD/4', '0.0000 USD/4', '0.0000 USD/4'),
             ('ETH/18', '0.000000000000000000 ETH/18', '0.000000000000000000 ETH/18',
              '0.000000000000000000 ETH/18', '0.000000000000000000 ETH/18')$$,
    'USD/4 and ETH/18 accounts start at zero in their own scale');
SELECT is(balance(:wallet), '0 ETH/18'::monetary, 'balance() of a new ETH/18 account is 0 ETH/18');
SELECT is(balance(:wallet, now()), '0 ETH/18'::monetary,
          'balance(account, at) of an account without postings is zero in its currency');
SELECT is(available_balance_by_name('default', 'tap_metering'), '0 USD/4'::monetary,
          'available_balance() by name of a new USD/4 account is 0 USD/4');

-- names are unique within a ledger, not across ledgers
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.create_account('tap_alice', 'USD')$$, '23505',
    'duplicate key value violates unique constraint "accounts_ledger_name_key"',
    'create_account() refuses a name already used in the ledger');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.create_account('tap_alice', 'EUR', 'debit')$$, '23505',
    'duplicate key value violates unique constraint "accounts_ledger_name_key"',
    'create_account() refuses a used name in another currency too');
SELECT lives_ok(
    $$SELECT payments.create_account('tap_alice', 'USD', ledger => 'tap_books')$$,
    'the same name is allowed in another ledger');
SELECT isnt(account_id('tap_alice', 'tap_books'), account_id('tap_alice'),
            'the two accounts named tap_alice are different accounts');

-- CHECK constraints
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.create_account('tap_x', 'USD', 'asset')$$, '23514',
    'new row for relation "accounts" violates check constraint "accounts_normal_balance_check"',
    'create_account() refuses a normal_balance other than debit or credit');
SELECT * FROM pg_temp.refuses(
    $$INSERT INTO payments.accounts (name, currency, status) VALUES ('tap_x', 'USD', 'dormant')$$,
    '23514', 'new row for relation "accounts" violates check constraint "accounts_status_check"',
    'INSERT refuses a status other than open, frozen or closed');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.create_account('tap_x', 'USD', NULL)$$, '23502',
    'null value in column "normal_balance" of relation "accounts" violates not-null constraint',
    'create_account() refuses a null normal_balance');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.create_account('tap_x', NULL)$$, '23502',
    'null value in column "currency" of relation "accounts" violates not-null constraint',
    'create_account() refuses a null currency');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.create_account(NULL, 'USD')$$, '23502',
    'null value in column "name" of relation "accounts" violates not-null constraint',
    'create_account() refuses a null name');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.create_account('tap_x', 'USD', ledger => NULL)$$, '23502',
    'null value in column "ledger" of relation "accounts" violates not-null constraint',
    'create_account() refuses a null ledger');
SELECT * FROM pg_temp.refuses(
    $$INSERT INTO payments.accounts (name, currency, status) VALUES ('tap_x', 'USD', NULL)$$,
    '23502', 'null value in column "status" of relation "accounts" violates not-null constraint',
    'INSERT refuses a null status (and does not crash the server)');

-- direct INSERT: volumes start at zero, an account does not start closed
SELECT * FROM pg_temp.refuses(
    $$INSERT INTO payments.accounts (name, currency, debits_posted) VALUES ('tap_x', 'USD', '1.00 USD')$$,
    '428C9', 'a new account''s debits_posted must be zero in its currency USD',
    'INSERT refuses a non-zero debits_posted');
SELECT * FROM pg_temp.refuses(
    $$INSERT INTO payments.accounts (name, currency, credits_posted) VALUES ('tap_x', 'USD', '0.01 USD')$$,
    '428C9', 'a new account''s credits_posted must be zero in its currency USD',
    'INSERT refuses a non-zero credits_posted');
SELECT * FROM pg_temp.refuses(
    $$INSERT INTO payments.accounts (name, currency, debits_pending) VALUES ('tap_x', 'USD', '-5 USD')$$,
    '428C9', 'a new account''s debits_pending must be zero in its currency USD',
    'INSERT refuses a non-zero debits_pending');
SELECT * FROM pg_temp.refuses(
    $$INSERT INTO payments.accounts (name, currency, credits_pending) VALUES ('tap_x', 'USD', '3 USD')$$,
    '428C9', 'a new account''s credits_pending must be zero in its currency USD',
    'INSERT refuses a non-zero credits_pending');
SELECT * FROM pg_temp.refuses(
    $$INSERT INTO payments.accounts (name, currency, debits_posted) VALUES ('tap_x', 'USD', '0 EUR')$$,
    '428C9', 'a new account''s debits_posted must be zero in its currency USD',
    'INSERT refuses a zero volume in another currency');
SELECT * FROM pg_temp.refuses(
    $$INSERT INTO payments.accounts (name, currency, debits_posted) VALUES ('tap_x', 'USD', '0 USD/4')$$,
    '428C9', 'a new account''s debits_posted must be zero in its currency USD',
    'INSERT refuses a zero volume at another scale of the currency');
SELECT is(pg_temp.error_of(
    $$INSERT INTO payments.accounts (name, currency, debits_posted) VALUES ('tap_x', 'USD', '1.00 USD')$$),
    ARRAY['428C9', 'a new account''s debits_posted must be zero in its currency USD', NULL,
          'Leave the volumes out of the INSERT: they start at zero and change only through transfers. To restore a dump, restore with session_replication_role = replica.'],
    'the refusal of non-zero volumes hints how to insert and how to restore');
SELECT * FROM pg_temp.refuses(
    $$INSERT INTO payments.accounts (id, name, currency) VALUES (999999999, 'tap_x', 'USD')$$,
    '428C9', 'id of accounts is assigned by the ledger',
    'INSERT refuses an account id given by the client');
SELECT is(pg_temp.error_of(
    $$INSERT INTO payments.accounts (id, name, currency) VALUES (999999999, 'tap_x', 'USD')$$),
    ARRAY['428C9', 'id of accounts is assigned by the ledger', NULL,
          'Leave id out of the INSERT. To restore a dump, restore with session_replication_role = replica.'],
    'the refusal of a given account id hints how to insert and how to restore');
SELECT * FROM pg_temp.refuses(
    $$INSERT INTO payments.accounts (name, currency, status) VALUES ('tap_x', 'USD', 'closed')$$,
    '55000', 'cannot create a closed account',
    'INSERT refuses an account that starts closed');

SELECT lives_ok(
    $$INSERT INTO payments.accounts (name, currency) VALUES ('tap_direct', 'JPY')$$,
    'INSERT with the volumes left out is accepted');
SELECT results_eq(
    $$SELECT status, normal_balance, allow_negative, debits_posted::text, credits_posted::text,
             debits_pending::text, credits_pending::text
        FROM payments.accounts WHERE name = 'tap_direct'$$,
    $$VALUES ('open', 'credit', false, '0 JPY', '0 JPY', '0 JPY', '0 JPY')$$,
    'the volumes left out are zero in the account''s currency');
SELECT lives_ok(
    $$INSERT INTO payments.accounts (name, currency, debits_posted, credits_posted, debits_pending, credits_pending)
      VALUES ('tap_zeros', 'BHD', '0 BHD', '0.000 BHD', NULL, NULL)$$,
    'INSERT with volumes given as zero (or null) in the account''s currency is accepted');
SELECT results_eq(
    $$SELECT debits_posted::text, credits_posted::text, debits_pending::text, credits_pending::text
        FROM payments.accounts WHERE name = 'tap_zeros'$$,
    $$VALUES ('0.000 BHD', '0.000 BHD', '0.000 BHD', '0.000 BHD')$$,
    'volumes given as zero or null are stored as zero');
SELECT lives_ok(
    $$INSERT INTO payments.accounts (name, currency, status) VALUES ('tap_frozen_start', 'USD', 'frozen')$$,
    'INSERT of an account that starts frozen is accepted');

-- direct UPDATE: identity, currency, normal side and volumes are fixed ----

SELECT create_account('tap_bank', 'USD', 'debit', true) AS bank \gset
SELECT post_transfer(:bank, :alice, '70.00 USD') AS t1 \gset

SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET debits_posted = '0 USD' WHERE id = %s$$, :bank),
    '0A000', format('cannot change the debits_posted of account %s directly', :bank),
    'UPDATE of debits_posted is refused');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET credits_posted = '1000.00 USD' WHERE id = %s$$, :alice),
    '0A000', format('cannot change the credits_posted of account %s directly', :alice),
    'UPDATE of credits_posted is refused');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET debits_pending = '1 USD' WHERE id = %s$$, :alice),
    '0A000', format('cannot change the debits_pending of account %s directly', :alice),
    'UPDATE of debits_pending is refused');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET credits_pending = '1 USD' WHERE id = %s$$, :alice),
    '0A000', format('cannot change the credits_pending of account %s directly', :alice),
    'UPDATE of credits_pending is refused');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET credits_posted = '70 USD/4' WHERE id = %s$$, :alice),
    '0A000', format('cannot change the credits_posted of account %s directly', :alice),
    'UPDATE of a volume to the same amount at another scale is refused');
SELECT is(pg_temp.error_of(
    format($$UPDATE payments.accounts SET debits_posted = '0 USD' WHERE id = %s$$, :bank)),
    ARRAY['0A000', format('cannot change the debits_posted of account %s directly', :bank),
          'Account volumes change only through transfers.',
          'Post a transfer with payments.post_transfer().'],
    'the refusal of a volume change says how volumes change');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET currency = 'EUR' WHERE id = %s$$, :alice),
    '0A000', format('cannot change the currency of account %s', :alice),
    'UPDATE of the currency is refused');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET currency = 'EUR', debits_posted = '0 EUR',
                    credits_posted = '70.00 EUR', debits_pending = '0 EUR',
                    credits_pending = '0 EUR' WHERE id = %s$$, :alice),
    '0A000', format('cannot change the currency of account %s', :alice),
    'UPDATE of the currency together with the volumes is refused');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET ledger = 'tap_books' WHERE id = %s$$, :alice),
    '0A000', format('cannot change the ledger of account %s', :alice),
    'UPDATE of the ledger is refused');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET normal_balance = 'debit' WHERE id = %s$$, :alice),
    '0A000', format('cannot change the normal_balance of account %s', :alice),
    'UPDATE of the normal side is refused');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET id = id + 1000000 WHERE id = %s$$, :alice),
    '0A000', format('cannot change the id of account %s', :alice),
    'UPDATE of the id is refused');
SELECT is(pg_temp.error_of(
    format($$UPDATE payments.accounts SET currency = 'EUR' WHERE id = %s$$, :alice)),
    ARRAY['0A000', format('cannot change the currency of account %s', :alice),
          'The account''s postings were made under it.', NULL],
    'the refusal of a currency change says why');
SELECT * FROM pg_temp.refuses(
    $$UPDATE payments.accounts SET debits_posted = debits_posted + '0.01 USD'
       WHERE name IN ('tap_alice', 'tap_bank') AND ledger = 'default'$$,
    '0A000', format('cannot change the debits_posted of account %s directly', :alice),
    'a multi-row UPDATE of volumes is refused as a whole');

-- what may change: name, metadata, status, allow_negative
SELECT lives_ok(
    format($$UPDATE payments.accounts SET name = 'tap_alice_renamed', metadata = '{"tier": 2}'
              WHERE id = %s$$, :alice),
    'UPDATE of name and metadata is allowed');
SELECT lives_ok(
    format($$UPDATE payments.accounts SET debits_posted = debits_posted, currency = currency
              WHERE id = %s$$, :alice),
    'an UPDATE that sets the fixed columns to their own values is allowed');
SELECT results_eq(
    format($$SELECT name, metadata, credits_posted::text FROM payments.accounts WHERE id = %s$$, :alice),
    $$VALUES ('tap_alice_renamed', '{"tier": 2}'::jsonb, '70.00 USD')$$,
    'the new name and metadata are stored, the volumes are unchanged');
SELECT lives_ok(
    format($$UPDATE payments.accounts SET name = 'tap_alice', allow_negative = true WHERE id = %s$$, :alice),
    'UPDATE of allow_negative false to true is allowed');
SELECT lives_ok(
    format($$UPDATE payments.accounts SET allow_negative = false WHERE id = %s$$, :alice),
    'UPDATE of allow_negative true to false is allowed at a positive balance');
SELECT lives_ok(
    format($$UPDATE payments.accounts SET status = 'frozen' WHERE id = %s$$, :alice),
    'UPDATE of status open to frozen is allowed');
SELECT lives_ok(
    format($$UPDATE payments.accounts SET status = 'open' WHERE id = %s$$, :alice),
    'UPDATE of status frozen to open is allowed');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET status = 'closed' WHERE id = %s$$, :alice),
    '55000', format('cannot close account %s: its balance is 70.00 USD', :alice),
    'UPDATE to closed is refused at a non-zero balance');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET status = NULL WHERE id = %s$$, :alice),
    '23502', 'null value in column "status" of relation "accounts" violates not-null constraint',
    'UPDATE of status to null is refused (and does not crash the server)');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET allow_negative = NULL WHERE id = %s$$, :alice),
    '23502', 'null value in column "allow_negative" of relation "accounts" violates not-null constraint',
    'UPDATE of allow_negative to null is refused');

-- DELETE and TRUNCATE
SELECT * FROM pg_temp.refuses(
    format('DELETE FROM payments.accounts WHERE id = %s', :alice),
    '0A000', 'cannot delete from payments.accounts',
    'DELETE of an account with history is refused');
SELECT * FROM pg_temp.refuses(
    $$DELETE FROM payments.accounts WHERE name = 'tap_direct'$$,
    '0A000', 'cannot delete from payments.accounts',
    'DELETE of an account without postings is refused too');
SELECT is(pg_temp.error_of($$DELETE FROM payments.accounts WHERE name = 'tap_direct'$$),
    ARRAY['0A000', 'cannot delete from payments.accounts',
          'Accounts are kept with their history.',
          'Close the account with payments.set_account_status(id, ''closed'').'],
    'the refusal of DELETE says to close the account instead');
SELECT * FROM pg_temp.refuses(
    'TRUNCATE payments.accounts CASCADE', '0A000', 'cannot truncate payments.accounts',
    'TRUNCATE of accounts is refused');

-- set_account_status() -------------------------------------------------

SELECT lives_ok(format($$SELECT payments.set_account_status(%s, 'frozen')$$, :alice),
                'set_account_status(id, frozen) freezes an account');
SELECT is((SELECT status FROM payments.accounts WHERE id = :alice), 'frozen',
          'the account is frozen');
SELECT lives_ok(format($$SELECT payments.set_account_status(%s, 'frozen')$$, :alice),
                'freezing a frozen account again is allowed');
SELECT lives_ok($$SELECT payments.set_account_status_by_name('default', 'tap_alice', 'open')$$,
                'set_account_status(name, open) reopens it');
SELECT is((SELECT status FROM payments.accounts WHERE id = :alice), 'open',
          'the account is open again');
SELECT lives_ok($$SELECT payments.set_account_status_by_name('tap_books', 'tap_assets', 'frozen')$$,
                'set_account_status(name, status, ledger) finds the account in its ledger');
SELECT is((SELECT status FROM payments.accounts WHERE id = :assets), 'frozen',
          'the account of the other ledger is frozen');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.set_account_status_by_name('default', 'tap_assets', 'open')$$, '23503',
    'account "tap_assets" does not exist in ledger "default"',
    'set_account_status() by name looks in ledger default only');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.set_account_status(-1, 'frozen')$$, '23503',
    'account -1 does not exist', 'set_account_status() of an unknown id');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.set_account_status(%s, 'suspended')$$, :alice), '23514',
    'new row for relation "accounts" violates check constraint "accounts_status_check"',
    'set_account_status() refuses an unknown status');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.set_account_status(%s, NULL)$$, :alice), '23502',
    'null value in column "status" of relation "accounts" violates not-null constraint',
    'set_account_status() refuses a null status (and does not crash the server)');

-- closing: only at zero, with nothing pending; final
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.set_account_status(%s, 'closed')$$, :alice), '55000',
    format('cannot close account %s: its balance is 70.00 USD', :alice),
    'closing an account with a positive balance is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.set_account_status(%s, 'closed')$$, :bank), '55000',
    format('cannot close account %s: its balance is 70.00 USD', :bank),
    'closing a debit-normal account with a positive balance is refused');
SELECT is(pg_temp.error_of(format($$SELECT payments.set_account_status(%s, 'closed')$$, :alice)),
    ARRAY['55000', format('cannot close account %s: its balance is 70.00 USD', :alice),
          'Only an account at zero with nothing pending can be closed.', NULL],
    'the refusal to close says when an account can be closed');

-- bring both back to zero: the volumes are not zero, the balance is
SELECT post_transfer(:alice, :bank, '70.00 USD') AS t2 \gset
SELECT is(balance(:alice), '0 USD'::monetary, 'tap_alice is back at zero');
SELECT lives_ok(format($$SELECT payments.set_account_status(%s, 'closed')$$, :alice),
                'an account at zero balance (with non-zero volumes) can be closed');
SELECT lives_ok($$SELECT payments.set_account_status_by_name('default', 'tap_bank', 'closed')$$,
                'set_account_status(name, closed) closes a debit-normal account at zero');
SELECT is((SELECT array_agg(status ORDER BY id) FROM payments.accounts WHERE id IN (:alice, :bank)),
          ARRAY['closed', 'closed'], 'both accounts are closed');
SELECT lives_ok(format($$SELECT payments.set_account_status(%s, 'closed')$$, :alice),
                'closing a closed account again is allowed');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.set_account_status(%s, 'open')$$, :alice), '55000',
    format('account %s is closed', :alice),
    'reopening a closed account is refused');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.set_account_status_by_name('default', 'tap_alice', 'frozen')$$, '55000',
    format('account %s is closed', :alice),
    'freezing a closed account (by name) is refused');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET status = 'open' WHERE id = %s$$, :bank), '55000',
    format('account %s is closed', :bank),
    'reopening a closed account by UPDATE is refused');
SELECT is(pg_temp.error_of(format($$SELECT payments.set_account_status(%s, 'open')$$, :alice)),
    ARRAY['55000', format('account %s is closed', :alice), 'Closing an account is final.', NULL],
    'the refusal to reopen says closing is final');
SELECT lives_ok(
    format($$UPDATE payments.accounts SET metadata = '{"closed_by": "tap"}' WHERE id = %s$$, :alice),
    'a closed account''s metadata may still change');
SELECT lives_ok($$SELECT payments.set_account_status_by_name('default', 'tap_frozen_start', 'closed')$$,
                'a frozen account at zero can be closed');

-- allow_negative true to false only while the available balance is not negative
SELECT create_account('tap_equity', 'USD', 'credit', true) AS equity \gset
SELECT create_account('tap_till', 'USD', 'debit', true) AS till \gset
SELECT create_account('tap_bob', 'USD') AS bob \gset
SELECT post_transfer(:equity, :bob, '5.00 USD') AS t3 \gset
SELECT post_transfer(:till, :bob, '5.00 USD') AS t4 \gset
SELECT is(balance(:equity), '-5.00 USD'::monetary,
          'a credit-normal account that may go negative is at -5.00 USD');
SELECT is(balance(:till), '5.00 USD'::monetary, 'a debit-normal account at 5.00 USD');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET allow_negative = false WHERE id = %s$$, :equity),
    '23514', format('account %s has a negative available balance of -5.00 USD', :equity),
    'allow_negative true to false is refused while the balance is negative');
SELECT is(pg_temp.error_of(
    format($$UPDATE payments.accounts SET allow_negative = false WHERE id = %s$$, :equity)),
    ARRAY['23514', format('account %s has a negative available balance of -5.00 USD', :equity),
          'An account may be barred from going negative only while it is not.', NULL],
    'the refusal says when allow_negative may be turned off');
SELECT lives_ok(
    format($$UPDATE payments.accounts SET allow_negative = false, name = 'tap_till2' WHERE id = %s$$, :till),
    'allow_negative true to false is allowed at a positive balance');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.set_account_status(%s, 'closed')$$, :equity), '55000',
    format('cannot close account %s: its balance is -5.00 USD', :equity),
    'closing an account with a negative balance is refused');

-- pending volumes: no transfer makes them yet, a restore can (replica role;
-- a restore brings the ids the ledger assigned, here drawn as it draws them)
SET LOCAL session_replication_role = replica;
INSERT INTO payments.accounts (id, name, currency, debits_posted, credits_posted, debits_pending, credits_pending)
VALUES (nextval('payments.accounts_id_seq'), 'tap_pending_out', 'USD', '0 USD', '0 USD', '5.00 USD', '0 USD'),
       (nextval('payments.accounts_id_seq'), 'tap_pending_in', 'USD', '0 USD', '0 USD', '0 USD', '5.00 USD');
-- tap_bob is at 10.00 posted; 13.00 pending outgoing makes its available balance negative
UPDATE payments.accounts SET debits_pending = '13.00 USD', allow_negative = true WHERE id = :bob;
-- tap_till (debit-normal) is at 5.00 posted; 2.00 pending outgoing (a pending credit)
UPDATE payments.accounts SET credits_pending = '2.00 USD' WHERE id = :till;
SET LOCAL session_replication_role = origin;

SELECT * FROM pg_temp.refuses(
    $$SELECT payments.set_account_status_by_name('default', 'tap_pending_out', 'closed')$$, '55000',
    format('cannot close account %s: it has pending transfers', account_id('tap_pending_out')),
    'closing an account at zero with a pending debit is refused');
SELECT * FROM pg_temp.refuses(
    $$SELECT payments.set_account_status_by_name('default', 'tap_pending_in', 'closed')$$, '55000',
    format('cannot close account %s: it has pending transfers', account_id('tap_pending_in')),
    'closing an account at zero with a pending credit is refused');
SELECT is(available_balance(:bob), '-3.00 USD'::monetary,
          'available_balance() is the posted balance minus pending outgoing');
SELECT is(balance(:bob), '10.00 USD'::monetary, 'balance() does not count pending amounts');
SELECT is(available_balance(:till), '3.00 USD'::monetary,
          'available_balance() of a debit-normal account is its balance minus pending credits');
SELECT results_eq(
    format('SELECT balance::text, available::text FROM payments.account_balances WHERE account_id IN (%s, %s) ORDER BY account_id',
           :till, :bob),
    $$VALUES ('5.00 USD', '3.00 USD'), ('10.00 USD', '-3.00 USD')$$,
    'account_balances shows the balance and the available balance net of pending amounts');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.accounts SET allow_negative = false WHERE id = %s$$, :bob),
    '23514', format('account %s has a negative available balance of -3.00 USD', :bob),
    'allow_negative true to false is refused while pending debits make the available balance negative');

-- The STABLE look-ups read with their query's snapshot, as the query's own
-- scans do: an account created by a volatile call earlier in the same query
-- is not there for them.  (When they ran read-write SPI, which takes a new
-- snapshot, account_checked() found it and balance() then returned NULL:
-- half there.)
SELECT throws_ok(
    $$SELECT payments.balance(x.id) FROM (SELECT payments.create_account('tap-snap-1', 'USD') AS id OFFSET 0) x$$,
    '23503', NULL, 'balance(id) does not see an account its query''s snapshot does not hold: an error, not NULL');
SELECT throws_ok(
    $$SELECT payments.balance_by_name('default', 'tap-snap-2') FROM (SELECT payments.create_account('tap-snap-2', 'USD') OFFSET 0) x$$,
    '23503', 'account "tap-snap-2" does not exist in ledger "default"',
    'nor does balance(name)');
SELECT throws_ok(
    $$SELECT payments.available_balance(x.id) FROM (SELECT payments.create_account('tap-snap-3', 'USD') AS id OFFSET 0) x$$,
    '23503', NULL, 'nor does available_balance()');

-- The per-session cache of accounts' ledgers is bounded in bytes: 60,000
-- accounts of a 64-byte ledger, each sending a transfer whose ledger the
-- cache supplies, would hold about 11 MB of it; the bound is 8 MB (plus the
-- block being filled).
SELECT repeat('c', 64) AS big_ledger \gset
INSERT INTO payments.accounts (ledger, name, currency, normal_balance, allow_negative)
SELECT :'big_ledger', 'tap-cache-' || g, 'USD', 'debit', true FROM generate_series(1, 60000) g;
SELECT create_account('tap-cache-sink', 'USD', ledger => :'big_ledger') AS cache_sink \gset
INSERT INTO payments.transfers (from_account, to_account, amount)
SELECT id, :cache_sink, '0.01 USD' FROM payments.accounts
 WHERE ledger = :'big_ledger' AND id <> :cache_sink;
SELECT is(balance(:cache_sink), '600.00 USD'::monetary, '60,000 accounts of a 64-byte ledger have each sent a transfer');
-- (the cache's context and its hash table's, which has the same name)
SELECT cmp_ok((SELECT sum(total_bytes)::bigint FROM pg_backend_memory_contexts WHERE name = 'payments account ledgers'),
              '<=', 9 * 1024 * 1024::bigint,
              'the session''s cache of accounts'' ledgers stayed within its 8 MB bound');

SELECT * FROM finish();
ROLLBACK;
