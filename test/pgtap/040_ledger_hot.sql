-- Hot accounts (issue 9): payments.set_hot() on a populated account; legs
-- that only add to what it may spend go to a stripe, legs that could take it
-- below its limit go to its row, checked against the true total (row plus
-- stripes); every reading (balance now and as of a time, available,
-- account_balances, account_volumes, trial_balance, statement,
-- verify_ledger) gives the true figures; nobody but the ledger writes hot
-- state or stripes.  Races are in test/isolation/specs/ledger_hot_account.spec,
-- many stripes at once in test/t/040_hot_crash.pl.
BEGIN;
SET search_path = public, payments;
SELECT plan(83);

\ir lib/ledger_helpers.sql

SELECT payments.create_account('bank', 'USD', 'debit', true, ledger => 'hot-tap') AS bank \gset
SELECT payments.create_account('alice', 'USD', ledger => 'hot-tap') AS alice \gset
SELECT payments.create_account('fees', 'USD', ledger => 'hot-tap') AS fees \gset
SELECT payments.create_account('clearing', 'USD', 'debit', true, ledger => 'hot-tap') AS clearing \gset
SELECT payments.post_transfer(:bank, :alice, '1000 USD');
SELECT payments.post_transfer(:alice, :fees, '10 USD');

-- The account's balance as of each of its legs' times, against the sum of
-- its legs up to then (on its normal side): the rows that disagree.
CREATE FUNCTION pg_temp.as_of_mismatches(account bigint) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT format('%s: balance() %s, legs %s', t.at, payments.balance(account, t.at), t.legs)
      FROM (SELECT p.created_at AS at,
                   (SELECT sum(CASE WHEN q.side = a.normal_balance THEN q.amount ELSE - q.amount END)
                      FROM payments.postings q
                     WHERE q.account_id = account AND q.created_at <= p.created_at) AS legs
              FROM payments.postings p JOIN payments.accounts a ON a.id = p.account_id
             WHERE p.account_id = account) t
     WHERE payments.balance(account, t.at) <> t.legs
$$;

-- making an account hot ---------------------------------------------------------------

SELECT clock_timestamp() AS before_hot \gset
SELECT pg_temp.ledger_state() AS state_cold \gset
SELECT lives_ok(format('SELECT payments.set_hot(%s)', :fees), 'set_hot() makes a populated account hot');
SELECT is((SELECT (hot, stripes, striped_at IS NOT NULL)::text FROM payments.accounts WHERE id = :fees),
          '(t,16,t)', 'it is hot, with 16 stripes, and the time it was first made hot');
SELECT is((SELECT count(*) FROM payments.account_stripes
            WHERE account_id = :fees AND ledger = 'hot-tap'
              AND debits_posted = '0 USD' AND credits_posted = '0 USD'
              AND debits_pending = '0 USD' AND credits_pending = '0 USD'), 16::bigint,
          'its stripes 1 to 16 start at zero');
SELECT is(payments.balance(:fees), '10.00 USD'::monetary, 'its balance is what it was');
SELECT is(payments.balance(:fees, clock_timestamp()), '10.00 USD'::monetary, 'and as of now');

-- credits go to a stripe --------------------------------------------------------------

SELECT payments.post_transfer(:alice, :fees, '2.50 USD') AS credit1 \gset
SELECT payments.post_transfer(:alice, :fees, '1.50 USD') AS credit2 \gset
SELECT is((SELECT count(DISTINCT stripe) || ' ' || min(stripe) FILTER (WHERE stripe > 0)::text
             FROM payments.postings WHERE transfer_id IN (:credit1, :credit2) AND account_id = :fees),
          '1 ' || (SELECT min(stripe) FROM payments.postings WHERE transfer_id = :credit1 AND account_id = :fees)::text,
          'a session''s credits to a hot account go to one stripe');
SELECT cmp_ok((SELECT stripe FROM payments.postings WHERE transfer_id = :credit1 AND account_id = :fees),
              '>', 0::smallint, 'a stripe, not the row');
SELECT is((SELECT array_agg(balance_after ORDER BY id) FROM payments.postings
            WHERE transfer_id IN (:credit1, :credit2) AND account_id = :fees),
          ARRAY['2.50 USD', '4.00 USD']::monetary[], 'their balance_after is the stripe''s running balance');
SELECT is((SELECT credits_posted FROM payments.accounts WHERE id = :fees), '10.00 USD'::monetary,
          'the account row keeps its own volumes');
SELECT is((SELECT sum(credits_posted) FROM payments.account_stripes WHERE account_id = :fees),
          '4.00 USD'::monetary, 'the stripes hold the rest');
SELECT is((SELECT credits_posted FROM payments.account_volumes WHERE account_id = :fees),
          '14.00 USD'::monetary, 'account_volumes adds them up');
SELECT is((SELECT (balance, available, hot)::text FROM payments.account_balances WHERE account_id = :fees),
          '("14.00 USD","14.00 USD",t)', 'account_balances gives the true balance and available, and says it is hot');
SELECT is(payments.balance(:fees), '14.00 USD'::monetary, 'balance() the true one');
SELECT is(payments.available_balance(:fees), '14.00 USD'::monetary, 'available_balance() too');
SELECT is((SELECT balanced FROM payments.trial_balance WHERE ledger = 'hot-tap'), true,
          'the trial balance counts the stripes and balances');
SELECT is(payments.balance(:alice), '986.00 USD'::monetary, 'the payer''s side is as ever');

-- debits go to the row, against the total -----------------------------------------------

SELECT payments.post_transfer(:fees, :bank, '12 USD') AS payout \gset
SELECT is((SELECT (stripe, balance_after)::text FROM payments.postings
            WHERE transfer_id = :payout AND account_id = :fees),
          '(0,"-2.00 USD")', 'a payout beyond the row''s own balance goes to the row (stripe 0), whose running balance may go below zero');
SELECT is(payments.balance(:fees), '2.00 USD'::monetary, 'while the account''s balance is the true 2.00');
SELECT * FROM pg_temp.refuses(format('SELECT payments.post_transfer(%s, %s, %L)', :fees, :bank, '2.01 USD'),
    '23L01', 'insufficient funds in account ' || :fees || ' for transfer ' || pg_temp.next_transfer_id(),
    'a payout beyond the true total is refused');
SELECT is((pg_temp.error_of(format('SELECT payments.post_transfer(%s, %s, %L)', :fees, :bank, '2.01 USD')))[3],
          'Its available balance is 2.00 USD and the transfer needs 2.01 USD.',
          'naming the true available balance');
SELECT lives_ok(format('SELECT payments.post_transfer(%s, %s, %L)', :fees, :bank, '2.00 USD'),
                'a payout of exactly the total goes through');
SELECT is(payments.balance(:fees), '0.00 USD'::monetary, 'and leaves it at zero');

-- an entry: limits in transfer order, with the stripes counted
SELECT payments.post_transfer(:alice, :fees, '15 USD');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_transfers(ARRAY[(%s, %s, %L, NULL, NULL), (%s, %s, %L, NULL, NULL)]::payments.transfer_request[])',
           :fees, :bank, '30 USD', :alice, :fees, '20 USD'),
    '23L01', NULL, 'an entry paying out before it takes the fee in is refused, as one after another would be');
SELECT lives_ok(
    format('SELECT payments.post_transfers(ARRAY[(%s, %s, %L, NULL, NULL), (%s, %s, %L, NULL, NULL)]::payments.transfer_request[])',
           :alice, :fees, '20 USD', :fees, :bank, '30 USD'),
    'the other way round it goes through');
SELECT is(payments.balance(:fees), '5.00 USD'::monetary, 'leaving 0 + 15 + 20 - 30');

-- reading as of a time, statements, the audit -------------------------------------------

SELECT is_empty($$SELECT * FROM pg_temp.as_of_mismatches(payments.account_id('fees', 'hot-tap'))$$,
                'balance() as of each leg''s time is the sum of the legs up to then');
SELECT is(payments.balance(:fees, :'before_hot'), '10.00 USD'::monetary,
          'as of a time before it was hot: the row''s running balance then');
SELECT is(payments.balance(:fees, '-infinity'), '0.00 USD'::monetary, 'before any leg: zero');
SELECT is((SELECT array_agg(balance_after ORDER BY posting_id)
             FROM payments.statement(:fees, '-infinity', 'infinity')),
          ARRAY['10.00 USD', '12.50 USD', '14.00 USD', '2.00 USD', '0.00 USD', '15.00 USD',
                '35.00 USD', '5.00 USD']::monetary[],
          'statement() gives the account''s running balance, leg by leg');
SELECT is((SELECT array_agg(balance_after ORDER BY posting_id)
             FROM payments.statement(:fees, (SELECT created_at FROM payments.postings
                                              WHERE transfer_id = :payout AND account_id = :fees),
                                     'infinity')),
          ARRAY['2.00 USD', '0.00 USD', '15.00 USD', '35.00 USD', '5.00 USD']::monetary[],
          'from a time in the middle: opening balance plus the legs');
SELECT is_empty('SELECT * FROM payments.verify_ledger()', 'verify_ledger() finds nothing wrong');

-- more stripes, never fewer; arguments -----------------------------------------------------

SELECT lives_ok(format('SELECT payments.set_hot(%s, true, 20)', :fees), 'stripes can be added');
SELECT is((SELECT count(*) FROM payments.account_stripes WHERE account_id = :fees), 20::bigint,
          'stripes 17 to 20 are added');
SELECT * FROM pg_temp.refuses(format('SELECT payments.set_hot(%s, true, 8)', :fees), '22023',
    'account ' || :fees || ' has 20 stripes, and cannot have fewer', 'stripes are never removed');
SELECT * FROM pg_temp.refuses(format('SELECT payments.set_hot(%s, true, 65)', :fees), '22023',
    'stripes must be between 1 and 64, not 65', 'at most 64 stripes');
SELECT * FROM pg_temp.refuses(format('SELECT payments.set_hot(%s, false, 4)', :fees), '22023',
    'stripes are given only when making an account hot', 'stripes go with making it hot');
SELECT * FROM pg_temp.refuses('SELECT payments.set_hot(NULL)', '22004',
    'set_hot() needs an account and whether it is hot', 'set_hot() needs an account');
SELECT * FROM pg_temp.refuses('SELECT payments.set_hot(987654321)', '23503',
    'account 987654321 does not exist', 'set_hot() of an account that does not exist');

-- nobody but the ledger writes hot state or stripes ---------------------------------------

SELECT * FROM pg_temp.refuses(format('UPDATE payments.accounts SET hot = false WHERE id = %s', :fees),
    '0A000', 'cannot change the hot of account ' || :fees || ' directly', 'hot is set by set_hot() only');
SELECT * FROM pg_temp.refuses(format('UPDATE payments.accounts SET stripes = 1 WHERE id = %s', :fees),
    '0A000', 'cannot change the stripes of account ' || :fees || ' directly', 'stripes too');
SELECT * FROM pg_temp.refuses(
    $$INSERT INTO payments.accounts (name, currency, hot) VALUES ('born-hot', 'USD', true)$$,
    '428C9', 'a new account cannot be hot', 'an account is not created hot');
SELECT * FROM pg_temp.refuses(
    format('UPDATE payments.account_stripes SET credits_posted = %L WHERE account_id = %s AND stripe = 1', '1000 USD', :fees),
    '0A000', 'payments.account_stripes is written only by the ledger', 'a stripe is not updated directly');
SELECT * FROM pg_temp.refuses(
    format('INSERT INTO payments.account_stripes VALUES (%L, %s, 21, %L, %L, %L, %L)', 'hot-tap', :fees,
           '0 USD', '5 USD', '0 USD', '0 USD'),
    '0A000', 'payments.account_stripes is written only by the ledger', 'nor inserted');
SELECT * FROM pg_temp.refuses(format('DELETE FROM payments.account_stripes WHERE account_id = %s', :fees),
    '0A000', 'cannot delete from payments.account_stripes', 'nor deleted');
SELECT * FROM pg_temp.refuses('TRUNCATE payments.account_stripes',
    '0A000', 'cannot truncate payments.account_stripes', 'nor truncated');

-- in replica mode (a restore, a subscriber) account_guard steps aside; the
-- table's own check still holds hot and stripes together
SET session_replication_role = replica;
SELECT throws_ok(format('UPDATE payments.accounts SET stripes = 0 WHERE id = %s', :fees),
    '23514', NULL, 'even in replica mode, a hot account keeps its stripes');
SELECT throws_ok(format('UPDATE payments.accounts SET stripes = 65 WHERE id = %s', :fees),
    '23514', NULL, 'and has at most 64');
-- a count of stripes that the rows do not back (a partial restore, say)
UPDATE payments.accounts SET stripes = 21 WHERE id = :fees;
RESET session_replication_role;
SELECT * FROM pg_temp.refuses(format('SELECT payments.post_transfer(%s, %s, %L)', :fees, :bank, '1 USD'),
    'XX001', 'stripe 21 of account ' || :fees || ' is missing',
    'a payout from an account whose stripes are missing is refused, naming the one missing');
SET session_replication_role = replica;
UPDATE payments.accounts SET stripes = 20 WHERE id = :fees;
RESET session_replication_role;

-- status and limits count the stripes ------------------------------------------------------

SELECT lives_ok(format('SELECT payments.set_account_status(%s, %L)', :fees, 'frozen'), 'a hot account can be frozen');
SELECT * FROM pg_temp.refuses(format('SELECT payments.post_transfer(%s, %s, %L)', :alice, :fees, '1 USD'),
    '55L01', 'account ' || :fees || ' is frozen', 'a frozen hot account takes no credit');
SELECT lives_ok(format('SELECT payments.set_account_status(%s, %L)', :fees, 'open'), 'and reopened');
SELECT * FROM pg_temp.refuses(format('SELECT payments.set_account_status(%s, %L)', :fees, 'closed'),
    '55000', 'cannot close account ' || :fees || ': its balance is 5.00 USD',
    'closing counts the stripes: its row alone is at zero, its balance is not');
-- an account that may go negative: every leg to a stripe
SELECT payments.set_hot(:clearing);
SELECT payments.post_transfer(:alice, :clearing, '3 USD') AS clearing_credit \gset
SELECT cmp_ok((SELECT stripe FROM payments.postings WHERE transfer_id = :clearing_credit AND account_id = :clearing),
              '>', 0::smallint, 'an account that may go negative takes legs that lower it on a stripe too');
SELECT * FROM pg_temp.refuses(format('UPDATE payments.accounts SET allow_negative = false WHERE id = %s', :clearing),
    '23514', 'account ' || :clearing || ' has a negative available balance of -3.00 USD',
    'barring it from going negative counts its stripes');

-- no longer hot ---------------------------------------------------------------------------

SELECT lives_ok(format('SELECT payments.set_hot(%s, false)', :fees), 'set_hot(account, false) cools it down');
SELECT is((SELECT (hot, stripes)::text FROM payments.accounts WHERE id = :fees), '(f,20)',
          'its stripes stay, part of its volumes');
SELECT payments.post_transfer(:alice, :fees, '1 USD') AS cold_credit \gset
SELECT is((SELECT stripe FROM payments.postings WHERE transfer_id = :cold_credit AND account_id = :fees),
          0::smallint, 'credits go to its row again');
SELECT lives_ok(format('SELECT payments.post_transfer(%s, %s, %L)', :fees, :bank, '6 USD'),
                'a debit beyond the row''s own balance still counts the stripes');
SELECT is(payments.balance(:fees), '0.00 USD'::monetary, 'the balance is the true one');
SELECT is_empty($$SELECT * FROM pg_temp.as_of_mismatches(payments.account_id('fees', 'hot-tap'))$$,
                'balance() as of every leg''s time still agrees with the legs');
SELECT lives_ok(format('SELECT payments.set_account_status(%s, %L)', :fees, 'closed'),
                'at a true zero it can be closed');
SELECT * FROM pg_temp.refuses(format('SELECT payments.set_hot(%s)', :fees), '55L02',
    'account ' || :fees || ' is closed', 'a closed account is not made hot again');
SELECT is_empty('SELECT * FROM payments.verify_ledger()', 'verify_ledger() finds nothing wrong');

-- verify_ledger() finds a stripe changed behind the ledger's back -----------------------------

SET session_replication_role = replica;
UPDATE payments.account_stripes SET credits_posted = credits_posted + '1 USD'::monetary
 WHERE account_id = :clearing AND stripe = 1;
RESET session_replication_role;
SELECT set_eq('SELECT problem, account_id FROM payments.verify_ledger()',
    format($$VALUES ('stripe volumes differ from its postings', %s::bigint),
                    ('debits and credits differ', NULL)$$, :clearing),
    'verify_ledger() finds a stripe whose volumes differ from its legs, and the books that no longer balance');

SELECT * FROM finish();
ROLLBACK;
