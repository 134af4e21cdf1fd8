-- Payment flows (DESIGN.md section 5): holds, their captures, voids and
-- expiry, and reversals (refunds) of transfers and of entries.  Every
-- transition with the volumes, legs and open_holds rows it leaves; every
-- refusal with its SQLSTATE and message, through pg_temp.refuses(), so that
-- each also proves it left nothing behind; idempotency keys; frozen and hot
-- accounts; the holds view, statement() and verify_ledger().  Races between
-- resolutions are in the isolation specs, not here.
BEGIN;
SET search_path = public, payments;
-- messages carry timestamps as timestamptz_to_str() writes them: ISO, as ::text does here
SET LOCAL datestyle = 'ISO, YMD';
SELECT plan(201);

\ir lib/ledger_helpers.sql

-- An account's volumes: debits_posted/credits_posted/debits_pending/credits_pending.
CREATE FUNCTION pg_temp.volumes(account bigint) RETURNS text LANGUAGE sql AS $$
    SELECT format('%s/%s/%s/%s', debits_posted, credits_posted, debits_pending, credits_pending)
      FROM payments.account_volumes WHERE account_id = account
$$;

-- An account's posted and available balance.
CREATE FUNCTION pg_temp.balances(account bigint) RETURNS text LANGUAGE sql AS $$
    SELECT format('balance %s, available %s', payments.balance(account),
                  payments.available_balance(account))
$$;

-- A transfer's legs: account side amount balance_after pending_change held_after.
CREATE FUNCTION pg_temp.legs(transfer bigint) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s %s %s %s %s %s', account_id, side, amount, balance_after,
                             coalesce(pending_change::text, '-'), coalesce(held_after::text, '-')),
                      ', ' ORDER BY side DESC)
      FROM payments.postings WHERE transfer_id = transfer
$$;

-- A transfer row: from->to amount status pending_id reverses expires_at.
CREATE FUNCTION pg_temp.transfer(id bigint) RETURNS text LANGUAGE sql AS $$
    SELECT format('%s->%s %s %s %s %s %s', t.from_account, t.to_account, t.amount, t.status,
                  coalesce(t.pending_id::text, '-'), coalesce(t.reverses::text, '-'),
                  coalesce(t.expires_at::text, '-'))
      FROM payments.transfers t WHERE t.id = transfer.id
$$;

-- accounts ------------------------------------------------------------------------------

SELECT payments.create_account('bank', 'USD', 'debit', true, ledger => 'flows-tap') AS bank \gset
SELECT payments.create_account('alice', 'USD', ledger => 'flows-tap') AS alice \gset
SELECT payments.create_account('shop', 'USD', ledger => 'flows-tap') AS shop \gset
SELECT payments.create_account('spender', 'USD', ledger => 'flows-tap') AS spender \gset
SELECT payments.create_account('frosty', 'USD', ledger => 'flows-tap') AS frosty \gset
SELECT payments.create_account('dave', 'USD', ledger => 'flows-tap') AS dave \gset
SELECT payments.create_account('hot', 'USD', ledger => 'flows-tap') AS hot \gset
SELECT payments.create_account('o_bank', 'USD', 'debit', true, ledger => 'flows-tap-other') AS o_bank \gset
SELECT payments.create_account('o_alice', 'USD', ledger => 'flows-tap-other') AS o_alice \gset
SELECT payments.post_transfer(:bank, :alice, '500 USD') AS fund_alice \gset
SELECT payments.post_transfer(:bank, :frosty, '50 USD') AS fund_frosty \gset
SELECT payments.post_transfer(:bank, :dave, '50 USD') AS fund_dave \gset
SELECT payments.post_transfer(:o_bank, :o_alice, '50 USD') AS o_fund \gset

-- a hold ---------------------------------------------------------------------------------

SELECT payments.hold(:alice, :shop, '30 USD') AS h1 \gset
SELECT is(pg_temp.transfer(:h1), format('%s->%s 30.00 USD pending - - -', :alice, :shop),
          'hold() makes a transfer with status pending');
SELECT is(pg_temp.balances(:alice), 'balance 500.00 USD, available 470.00 USD',
          'the payer''s available balance drops at once, its posted balance does not');
SELECT is(pg_temp.balances(:shop), 'balance 0.00 USD, available 0.00 USD',
          'the payee has nothing more to spend yet');
SELECT is(pg_temp.volumes(:alice) || ' | ' || pg_temp.volumes(:shop),
          '0.00 USD/500.00 USD/30.00 USD/0.00 USD | 0.00 USD/0.00 USD/0.00 USD/30.00 USD',
          'the amount goes to the payer''s debits_pending and the payee''s credits_pending');
SELECT is(pg_temp.legs(:h1),
          format('%s debit 0.00 USD 500.00 USD 30.00 USD 30.00 USD, %s credit 0.00 USD 0.00 USD 30.00 USD 0.00 USD',
                 :alice, :shop),
          'two legs of amount 0, pending_change +amount, held_after the account''s pending outgoing');
SELECT is((SELECT format('%s %s %s', ledger, id, coalesce(expires_at::text, '-'))
             FROM payments.open_holds WHERE id = :h1),
          format('flows-tap %s -', :h1), 'the hold has a row in open_holds');

-- a partial capture ------------------------------------------------------------------------

SELECT payments.capture(:h1, '20 USD') AS c1 \gset
SELECT is(pg_temp.transfer(:c1), format('%s->%s 20.00 USD posted %s - -', :alice, :shop, :h1),
          'capture() in part posts a transfer naming the hold, between its accounts');
SELECT is(pg_temp.balances(:alice), 'balance 480.00 USD, available 480.00 USD',
          'the payer pays the amount captured, the rest of the hold is released');
SELECT is(pg_temp.balances(:shop), 'balance 20.00 USD, available 20.00 USD', 'the payee has it');
SELECT is(pg_temp.volumes(:alice) || ' | ' || pg_temp.volumes(:shop),
          '20.00 USD/500.00 USD/0.00 USD/0.00 USD | 0.00 USD/20.00 USD/0.00 USD/0.00 USD',
          'the whole hold leaves the pending volumes');
SELECT is(pg_temp.legs(:c1),
          format('%s debit 20.00 USD 480.00 USD -30.00 USD 0.00 USD, %s credit 20.00 USD 20.00 USD -30.00 USD 0.00 USD',
                 :alice, :shop),
          'the capture''s legs post the amount and take the hold''s whole amount off pending');
SELECT is_empty(format('SELECT * FROM payments.open_holds WHERE id = %s', :h1),
                'the hold''s open_holds row is gone');

SELECT * FROM pg_temp.refuses(format('SELECT payments.capture(%s)', :h1), '55L03',
    format('hold %s is already captured', :h1), 'a hold is captured once');
SELECT is(pg_temp.error_of(format('SELECT payments.capture(%s, %L)', :h1, '1 USD')),
          ARRAY['55L03', format('hold %s is already captured', :h1),
                format('Transfer %s resolved it; a hold is captured, voided or expired once.', :c1), NULL],
          'naming the transfer that captured it');
SELECT * FROM pg_temp.refuses(format('SELECT payments.release(%s)', :h1), '55L03',
    format('hold %s is already captured', :h1), 'a captured hold is not voided');

-- a full capture -------------------------------------------------------------------------

SELECT payments.hold(:alice, :shop, '10 USD') AS h2 \gset
SELECT payments.capture(:h2) AS c2 \gset
SELECT is(pg_temp.transfer(:c2), format('%s->%s 10.00 USD posted %s - -', :alice, :shop, :h2),
          'capture() without an amount captures the whole hold');
SELECT is(pg_temp.balances(:alice) || ' | ' || pg_temp.balances(:shop),
          'balance 470.00 USD, available 470.00 USD | balance 30.00 USD, available 30.00 USD',
          'and moves all of it');

-- a release ------------------------------------------------------------------------------

SELECT payments.hold(:alice, :shop, '15 USD') AS h3 \gset
SELECT is(payments.available_balance(:alice), '455.00 USD'::monetary, 'a hold of 15.00 held');
SELECT payments.release(:h3) AS v3 \gset
SELECT is(pg_temp.transfer(:v3), format('%s->%s 15.00 USD voided %s - -', :alice, :shop, :h3),
          'release() voids the hold: status voided, of its whole amount');
SELECT is(pg_temp.balances(:alice) || ' | ' || pg_temp.balances(:shop),
          'balance 470.00 USD, available 470.00 USD | balance 30.00 USD, available 30.00 USD',
          'it moves no money and gives the payer its available balance back');
SELECT is(pg_temp.legs(:v3),
          format('%s debit 0.00 USD 470.00 USD -15.00 USD 0.00 USD, %s credit 0.00 USD 30.00 USD -15.00 USD 0.00 USD',
                 :alice, :shop),
          'the void''s legs move no money and take the hold off pending');
SELECT is_empty(format('SELECT * FROM payments.open_holds WHERE id = %s', :h3),
                'the released hold''s open_holds row is gone');
SELECT * FROM pg_temp.refuses(format('SELECT payments.capture(%s)', :h3), '55L03',
    format('hold %s is already voided', :h3), 'a voided hold is not captured');

-- what a resolution must agree with --------------------------------------------------------

SELECT payments.hold(:alice, :shop, '5 USD') AS h4 \gset
SELECT * FROM pg_temp.refuses(format('SELECT payments.capture(%s, %L)', :h4, '5.01 USD'), '23514',
    format('capture of 5.01 USD exceeds hold %s of 5.00 USD', :h4), 'a capture beyond the hold is refused');
SELECT is((pg_temp.error_fields_of(format('SELECT payments.capture(%s, %L)', :h4, '6 USD')))[5],
          'transfers_resolution_of_hold', 'as a violation of transfers_resolution_of_hold');
SELECT * FROM pg_temp.refuses(format('SELECT payments.capture(%s, %L)', :h4, '5 EUR'), '22000',
    format('currency mismatch: transfer %s is in EUR but hold %s in USD', pg_temp.next_transfer_id(), :h4),
    'a capture in another currency than the hold''s is refused as a currency mismatch');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status, pending_id)
             VALUES (%s, %s, '4 USD', 'voided', %s)$$, :alice, :shop, :h4), '23514',
    format('a void of hold %s is of its whole amount 5.00 USD, not 4.00 USD', :h4),
    'a void of part of a hold is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status, pending_id)
             VALUES (%s, %s, '5 USD', 'posted', %s)$$, :bank, :shop, :h4), '23514',
    format('transfer %s resolves hold %s but not between its accounts', pg_temp.next_transfer_id(), :h4),
    'a capture between other accounts than the hold''s is refused');
SELECT * FROM pg_temp.refuses(format('SELECT payments.capture(%s)', :fund_alice), '23514',
    format('transfer %s is not a hold', :fund_alice), 'capture() of a posted transfer is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status, pending_id)
             VALUES (%s, %s, '20 USD', 'voided', %s)$$, :alice, :shop, :c1), '23514',
    format('transfer %s is not a hold', :c1), 'a void naming a capture in pending_id is refused');
SELECT * FROM pg_temp.refuses('SELECT payments.capture(987654321)', '23503',
    'hold 987654321 does not exist', 'capture() of a hold that does not exist');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status, pending_id)
             VALUES (%s, %s, '5 USD', 'posted', 987654321)$$, :alice, :shop), '23503',
    'transfer 987654321 does not exist', 'a pending_id naming no transfer');

-- status and fields ---------------------------------------------------------------------

SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, expires_at)
             VALUES (%s, %s, '1 USD', now() + interval '1 day')$$, :alice, :shop), '23514',
    'only a hold (status pending) has an expires_at', 'a posted transfer has no expires_at');
SELECT is((pg_temp.error_fields_of(format(
              $$INSERT INTO payments.transfers (from_account, to_account, amount, expires_at)
                VALUES (%s, %s, '1 USD', now() + interval '1 day')$$, :alice, :shop)))[5],
          'transfers_status_fields', 'as a violation of transfers_status_fields');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status)
             VALUES (%s, %s, '1 USD', 'voided')$$, :alice, :shop), '23514',
    'a transfer with status voided must name the hold it resolves in pending_id',
    'a void names its hold');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status, reverses)
             VALUES (%s, %s, '1 USD', 'pending', %s)$$, :shop, :alice, :c1), '23514',
    'a hold (status pending) cannot resolve a hold or reverse a transfer', 'a hold reverses nothing');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status, pending_id, reverses)
             VALUES (%s, %s, '1 USD', 'posted', %s, %s)$$, :alice, :shop, :h4, :c1), '23514',
    'a transfer cannot both resolve a hold and reverse a transfer', 'a capture is no reversal');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status, reverses)
             VALUES (%s, %s, '20 USD', 'voided', %s)$$, :shop, :alice, :c1), '23514',
    'only a posted transfer can reverse another', 'a void reverses nothing');

-- a raw INSERT takes the same path as the API
INSERT INTO payments.transfers (from_account, to_account, amount, status)
VALUES (:alice, :shop, '2 USD', 'pending') RETURNING id AS raw_hold \gset
SELECT is(pg_temp.volumes(:alice) || ' ' || (SELECT count(*) FROM payments.open_holds WHERE id = :raw_hold),
          '30.00 USD/500.00 USD/7.00 USD/0.00 USD 1',
          'a hold inserted directly holds its amount and opens its row, as hold() does');
INSERT INTO payments.transfers (from_account, to_account, amount, status, pending_id)
VALUES (:alice, :shop, '2 USD', 'voided', :raw_hold) RETURNING id AS raw_void \gset
SELECT is(pg_temp.volumes(:alice) || ' ' || (SELECT count(*) FROM payments.open_holds WHERE id = :raw_hold),
          '30.00 USD/500.00 USD/5.00 USD/0.00 USD 0',
          'and a void inserted directly releases it, as release() does');

-- open_holds is the ledger's ---------------------------------------------------------------

SELECT * FROM pg_temp.refuses(format($$INSERT INTO payments.open_holds VALUES ('flows-tap', %s, NULL)$$, :c1),
    '0A000', 'payments.open_holds is written only by the ledger', 'open_holds takes no INSERT');
SELECT * FROM pg_temp.refuses(format('DELETE FROM payments.open_holds WHERE id = %s', :h4),
    '0A000', 'payments.open_holds is written only by the ledger', 'nor DELETE of a hold''s row');
SELECT * FROM pg_temp.refuses('TRUNCATE payments.open_holds',
    '0A000', 'cannot truncate payments.open_holds', 'nor TRUNCATE');

-- expiry, and frozen accounts ---------------------------------------------------------------

SELECT * FROM pg_temp.refuses(
    format('SELECT payments.hold(%s, %s, %L, now() - interval %L)', :alice, :shop, '1 USD', '1 second'),
    '22023', NULL, 'a hold that would expire before it is made is refused');
SELECT pg_temp.next_transfer_id() AS next \gset
SELECT format('hold %s would expire at %s, which is not after it is made, at ', :next,
              now() - interval '1 second') AS prefix \gset
SELECT is(left((pg_temp.error_of(format('SELECT payments.hold(%s, %s, %L, %L)', :alice, :shop, '1 USD',
                                        now() - interval '1 second')))[2], length(:'prefix')),
          :'prefix', 'naming when it would expire (and when it is made)');

SELECT clock_timestamp() + interval '2 seconds' AS soon \gset
SELECT payments.hold(:alice, :shop, '7 USD', :'soon') AS h5 \gset
SELECT payments.hold(:frosty, :shop, '4 USD', :'soon') AS hf_expiring \gset
SELECT payments.hold(:alice, :shop, '2 USD', clock_timestamp() + interval '1 hour') AS h6 \gset
SELECT payments.hold(:alice, :shop, '1 USD') AS h7 \gset
SELECT payments.hold(:frosty, :shop, '5 USD') AS hf1 \gset
SELECT payments.hold(:frosty, :shop, '6 USD') AS hf2 \gset
SELECT payments.hold(:alice, :frosty, '2 USD') AS hf3 \gset
SELECT is((SELECT expires_at FROM payments.open_holds WHERE id = :h5), :'soon'::timestamptz,
          'a hold''s open_holds row carries its expires_at');

SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status, pending_id)
             VALUES (%s, %s, '7 USD', 'expired', %s)$$, :alice, :shop, :h5), '55000',
    format('hold %s has not expired', :h5), 'a hold is not expired before its expires_at');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status, pending_id)
             VALUES (%s, %s, '1 USD', 'expired', %s)$$, :alice, :shop, :h7), '55000',
    format('hold %s has not expired', :h7), 'nor a hold without an expires_at');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status, pending_id)
             VALUES (%s, %s, '1 USD', 'expired', %s)$$, :alice, :shop, :h6), '23514',
    format('an expiry of hold %s is of its whole amount 2.00 USD, not 1.00 USD', :h6),
    'an expiry is of the whole hold');

SELECT payments.set_account_status(:frosty, 'frozen');
SELECT * FROM pg_temp.refuses(format('SELECT payments.hold(%s, %s, %L)', :frosty, :shop, '1 USD'),
    '55L01', format('account %s is frozen', :frosty), 'no hold from a frozen account');
SELECT * FROM pg_temp.refuses(format('SELECT payments.hold(%s, %s, %L)', :alice, :frosty, '1 USD'),
    '55L01', format('account %s is frozen', :frosty), 'nor to one');
SELECT * FROM pg_temp.refuses(format('SELECT payments.capture(%s)', :hf1),
    '55L01', format('account %s is frozen', :frosty), 'no capture from a frozen account');
SELECT * FROM pg_temp.refuses(format('SELECT payments.capture(%s, %L)', :hf3, '1 USD'),
    '55L01', format('account %s is frozen', :frosty), 'nor to one');
SELECT payments.release(:hf2) AS vf2 \gset
SELECT is(pg_temp.transfer(:vf2) || ' | ' || pg_temp.balances(:frosty),
          format('%s->%s 6.00 USD voided %s - - | balance 50.00 USD, available 41.00 USD', :frosty, :shop, :hf2),
          'a hold from a frozen account can be released: it moves no money');
SELECT payments.release(:hf3) AS vf3 \gset
SELECT is(pg_temp.transfer(:vf3), format('%s->%s 2.00 USD voided %s - -', :alice, :frosty, :hf3),
          'and one to a frozen account');

SELECT is(payments.expire_holds(), 0::bigint, 'expire_holds() before any hold is due expires none');
SELECT pg_sleep(greatest(0, extract(epoch FROM :'soon'::timestamptz - clock_timestamp())::float8) + 0.05);

SELECT * FROM pg_temp.refuses(format('SELECT payments.capture(%s)', :h5), '55L04',
    format('hold %s expired at %s', :h5, :'soon'::timestamptz),
    'a hold past its expires_at is not captured, though no sweep has expired it');
SELECT * FROM pg_temp.refuses(format('SELECT payments.release(%s)', :h5), '55L04',
    format('hold %s expired at %s', :h5, :'soon'::timestamptz), 'nor released');
SELECT is((SELECT format('%s %s %s', status, held, coalesce(resolved_by::text, '-'))
             FROM payments.holds WHERE hold_id = :h5),
          'expired 7.00 USD -', 'holds: an unresolved hold past its expires_at reads expired, still holding its amount');
SELECT is(payments.available_balance(:alice), '455.00 USD'::monetary,
          'until it is swept, an expired hold still holds its amount');

SELECT payments.expire_holds() AS swept \gset
SELECT is(:swept::bigint, 2::bigint, 'expire_holds() expires the holds past their expires_at, and says how many');
SELECT is((SELECT string_agg(format('%s %s', pending_id, status), ', ' ORDER BY pending_id)
             FROM payments.transfers WHERE status = 'expired'),
          format('%s expired, %s expired', :h5, :hf_expiring), 'those two, and no other');
SELECT id AS e5 FROM payments.transfers WHERE pending_id = :h5 \gset
SELECT is(pg_temp.transfer(:e5), format('%s->%s 7.00 USD expired %s - -', :alice, :shop, :h5),
          'an expiry is a transfer of the whole hold, naming it');
SELECT is(pg_temp.legs(:e5),
          format('%s debit 0.00 USD 470.00 USD -7.00 USD 8.00 USD, %s credit 0.00 USD 30.00 USD -7.00 USD 0.00 USD',
                 :alice, :shop),
          'its legs move no money and take the hold off pending');
SELECT is(pg_temp.balances(:alice), 'balance 470.00 USD, available 462.00 USD',
          'the payer gets its available balance back (8.00 USD still held by three holds)');
SELECT is(pg_temp.balances(:frosty), 'balance 50.00 USD, available 45.00 USD',
          'a hold from a frozen account expires too');
SELECT is((SELECT array_agg(id ORDER BY id) FROM payments.open_holds WHERE ledger = 'flows-tap'),
          ARRAY[:h4, :h6, :h7, :hf1]::bigint[], 'the expired holds'' open rows are gone, the others stay');
SELECT is(payments.expire_holds(), 0::bigint, 'a second sweep finds nothing to expire');
SELECT * FROM pg_temp.refuses(format('SELECT payments.capture(%s)', :h5), '55L04',
    format('hold %s is already expired', :h5),
    'an expired hold is not captured once swept either: the same decline (55L04)');
SELECT * FROM pg_temp.refuses(format('SELECT payments.release(%s)', :h5), '55L04',
    format('hold %s is already expired', :h5), 'nor voided');
SELECT payments.set_account_status(:frosty, 'open');

-- limits -------------------------------------------------------------------------------

SELECT * FROM pg_temp.refuses(format('SELECT payments.hold(%s, %s, %L)', :alice, :shop, '462.01 USD'),
    '23L01', format('insufficient funds in account %s for transfer %s', :alice, pg_temp.next_transfer_id()),
    'a hold beyond the available balance is refused');
SELECT payments.hold(:alice, :shop, '462 USD') AS h_all \gset
SELECT is(pg_temp.balances(:alice), 'balance 470.00 USD, available 0.00 USD',
          'a hold of exactly the available balance goes through, and leaves nothing to spend');
SELECT * FROM pg_temp.refuses(format('SELECT payments.post_transfer(%s, %s, %L)', :alice, :shop, '0.01 USD'),
    '23L01', format('insufficient funds in account %s for transfer %s', :alice, pg_temp.next_transfer_id()),
    'a transfer cannot spend what is held');
SELECT payments.release(:h_all) AS v_all \gset
SELECT is(payments.available_balance(:alice), '462.00 USD'::monetary, 'released, it is spendable again');

-- reversals ------------------------------------------------------------------------------

SELECT payments.post_transfer(:alice, :shop, '40 USD') AS p1 \gset
SELECT payments.reverse_transfer(:p1, '15 USD') AS r1 \gset
SELECT is(pg_temp.transfer(:r1), format('%s->%s 15.00 USD posted - %s -', :shop, :alice, :p1),
          'reverse_transfer() moves the amount back, naming the transfer in reverses');
SELECT is(pg_temp.balances(:alice) || ' | ' || pg_temp.balances(:shop),
          'balance 445.00 USD, available 437.00 USD | balance 55.00 USD, available 55.00 USD',
          'a partial refund: 40 paid, 15 back');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_transfer(%s, %L)', :p1, '30 USD'), '23L02',
    format('reversals of transfer %s would exceed it by 5.00 USD', :p1),
    'refunds beyond what is left of the original are refused');
SELECT payments.reverse_transfer(:p1) AS r2 \gset
SELECT is(pg_temp.transfer(:r2), format('%s->%s 25.00 USD posted - %s -', :shop, :alice, :p1),
          'without an amount: all that is left');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_transfer(%s)', :p1), '23L02',
    format('transfer %s is already reversed in full', :p1), 'nothing is left to reverse');
SELECT payments.post_transfer(:alice, :shop, '10 USD') AS p2 \gset
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_transfer(%s, %L)', :p2, '10.01 USD'), '23L02',
    format('reversals of transfer %s would exceed it by 0.01 USD', :p2), 'one refund beyond the original is refused');
SELECT pg_temp.next_transfer_id() AS next \gset
SELECT is(pg_temp.error_of(format('SELECT payments.reverse_transfer(%s, %L)', :p2, '12 USD')),
          ARRAY['23L02', format('reversals of transfer %s would exceed it by 2.00 USD', :p2),
                format('It moved 10.00 USD; with transfer %s its reversals would move back 12.00 USD.', :next),
                NULL],
          'naming what it moved and what its reversals would');
SELECT is(pg_temp.error_fields_of(format('SELECT payments.reverse_transfer(%s, %L)', :p2, '12 USD')),
          ARRAY['23L02', 'payments', 'transfers', 'reverses', 'transfers_reversals_within_transfer'],
          'as a violation of transfers_reversals_within_transfer');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_transfer(%s)', :h4), '23514',
    format('transfer %s moved no money: it cannot be reversed', :h4), 'a hold is not reversed');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_transfer(%s)', :v3), '23514',
    format('transfer %s moved no money: it cannot be reversed', :v3), 'nor a void');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, reverses)
             VALUES (%s, %s, '1 USD', %s)$$, :bank, :alice, :p2), '23514',
    format('transfer %s reverses transfer %s but not from account %s to account %s',
           pg_temp.next_transfer_id(), :p2, :shop, :alice),
    'a reversal between other accounts than the original''s is refused');
SELECT * FROM pg_temp.refuses('SELECT payments.reverse_transfer(987654321)', '23503',
    'transfer 987654321 does not exist', 'reverse_transfer() of a transfer that does not exist');

SELECT payments.reverse_transfer(:c1) AS rc1 \gset
SELECT is(pg_temp.transfer(:rc1), format('%s->%s 20.00 USD posted - %s -', :shop, :alice, :c1),
          'a capture is reversed like any posted transfer: the refund of a card payment');
SELECT is(pg_temp.balances(:alice) || ' | ' || pg_temp.balances(:shop),
          'balance 480.00 USD, available 472.00 USD | balance 20.00 USD, available 20.00 USD',
          'the refund moves the captured amount back');

SELECT payments.post_transfer(:alice, :spender, '10 USD') AS p3 \gset
SELECT payments.post_transfer(:spender, :bank, '9 USD') AS payout \gset
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_transfer(%s)', :p3), '23L01',
    format('insufficient funds in account %s for transfer %s', :spender, pg_temp.next_transfer_id()),
    'a refund from an account that no longer has the money, and may not go negative, is refused');
SELECT payments.reverse_transfer(:p3, '1 USD') AS r3 \gset
SELECT is(pg_temp.transfer(:r3) || ' | ' || pg_temp.balances(:spender),
          format('%s->%s 1.00 USD posted - %s - | balance 0.00 USD, available 0.00 USD', :spender, :alice, :p3),
          'a refund of what it still has goes through, down to zero');

-- entries ----------------------------------------------------------------------------------

SELECT ids[1] AS pe1, ids[2] AS pe2
  FROM (SELECT payments.post_transfers(ARRAY[(:alice, :shop, '3 USD', NULL, NULL),
                                             (:alice, :dave, '4 USD', NULL, NULL)]::payments.transfer_request[]) AS ids) x \gset
SELECT entry_id AS e1 FROM payments.transfers WHERE id = :pe1 \gset
SELECT payments.reverse_entry(:e1, 'flows-k-entry') AS entry_reversal \gset
SELECT is((SELECT array_agg(reverses ORDER BY array_position(:'entry_reversal'::bigint[], id))
             FROM payments.transfers WHERE id = ANY (:'entry_reversal'::bigint[])),
          ARRAY[:pe2, :pe1]::bigint[], 'reverse_entry() reverses each transfer of the entry, newest first');
SELECT is((SELECT string_agg(format('%s->%s %s', from_account, to_account, amount), ', ' ORDER BY id)
             FROM payments.transfers WHERE id = ANY (:'entry_reversal'::bigint[])),
          format('%s->%s 4.00 USD, %s->%s 3.00 USD', :dave, :alice, :shop, :alice),
          'each moving back what it moved');
SELECT is((SELECT format('%s %s', count(DISTINCT entry_id), bool_and(entry_id > :e1)::text)
             FROM payments.transfers WHERE id = ANY (:'entry_reversal'::bigint[])),
          '1 true', 'as one new entry');
SELECT * FROM pg_temp.replays(format('SELECT payments.reverse_entry(%s, %L)', :e1, 'flows-k-entry'),
    :'entry_reversal', 'reverse_entry() replayed with its key returns the same reversals');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_entry(%s)', :e1), '23L02',
    format('entry %s is already reversed in full', :e1), 'an entry is reversed once');
SELECT entry_id AS e_p2 FROM payments.transfers WHERE id = :p2 \gset
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_entry(%s, %L)', :e_p2, 'flows-k-entry'), '23I01',
    'idempotency key "flows-k-entry" was already used for a different entry',
    'its key is not reused for another entry');
SELECT * FROM pg_temp.refuses('SELECT payments.reverse_entry(0)', '22023',
    'entry 0 cannot be reversed as a whole', 'entry 0 is not reversed as a whole');
SELECT * FROM pg_temp.refuses('SELECT payments.reverse_entry(987654321)', '23503',
    'entry 987654321 does not exist', 'reverse_entry() of an entry that does not exist');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_entry(%s)',
                                     (SELECT entry_id FROM payments.transfers WHERE id = :h4)),
    '23514', format('entry %s moved no money: it cannot be reversed',
                    (SELECT entry_id FROM payments.transfers WHERE id = :h4)),
    'an entry of a hold alone moved no money: it is not reversed');
SELECT * FROM pg_temp.refuses(format($$INSERT INTO payments.transfers (from_account, to_account, amount, reverses)
                                       VALUES (%s, %s, '1 EUR', %s)$$, :shop, :alice, :pe1), '22000',
    format('currency mismatch: transfer %s is in EUR but reverses transfer %s in USD',
           pg_temp.next_transfer_id(), :pe1),
    'a reversal in another currency than the original''s is a currency mismatch');
SELECT results_eq(
    $$SELECT (pg_temp.error_of(sql))[1] || ' ' || (pg_temp.error_of(sql))[2]
        FROM (VALUES ('SELECT payments.hold(NULL, 1, ''1 USD'')'),
                     ('SELECT payments.capture(NULL)'),
                     ('SELECT payments.release(NULL)'),
                     ('SELECT payments.reverse_transfer(NULL)'),
                     ('SELECT payments.reverse_entry(NULL)')) v(sql)$$,
    $$VALUES ('22004 from_account must not be null'), ('22004 hold must not be null'),
             ('22004 hold must not be null'), ('22004 transfer must not be null'),
             ('22004 entry must not be null')$$,
    'every flow refuses a null hold, transfer, entry or account (22004)');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_entry(%s, %L)', :e1, ''), '22026',
    'idempotency_key of entries must be 1 to 256 bytes long, not 0',
    'reverse_entry() checks its key as post_transfers() does');
-- a hold and its resolution in one statement: the hold is not open yet
SELECT * FROM pg_temp.refuses(format($$
    INSERT INTO payments.transfers (from_account, to_account, amount, status, pending_id)
    VALUES (%s, %s, '1 USD', 'pending', NULL), (%s, %s, '1 USD', 'voided', %s)$$,
    :alice, :shop, :alice, :shop, pg_temp.next_transfer_id()), '55000',
    format('hold %s is not open', pg_temp.next_transfer_id()),
    'a hold is not resolved by the statement that makes it');
-- what is left of an entry partly refunded
SELECT ids[1] AS pf1, ids[2] AS pf2
  FROM (SELECT payments.post_transfers(ARRAY[(:alice, :shop, '6 USD', NULL, NULL),
                                             (:alice, :shop, '8 USD', NULL, NULL)]::payments.transfer_request[]) AS ids) x \gset
SELECT payments.reverse_transfer(:pf2, '5 USD') AS rf2 \gset
SELECT entry_id AS e2 FROM payments.transfers WHERE id = :pf1 \gset
SELECT payments.reverse_entry(:e2) AS entry_reversal2 \gset
SELECT is((SELECT string_agg(format('%s %s', reverses, amount), ', ' ORDER BY id)
             FROM payments.transfers WHERE id = ANY (:'entry_reversal2'::bigint[])),
          format('%s 3.00 USD, %s 6.00 USD', :pf2, :pf1),
          'reverse_entry() reverses what is left of each transfer');

-- other ledgers ----------------------------------------------------------------------------

SELECT payments.hold(:o_alice, :o_bank, '5 USD') AS o_hold \gset
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status, pending_id)
             VALUES (%s, %s, '5 USD', 'posted', %s)$$, :alice, :shop, :o_hold), '23514',
    format('transfer %s is in ledger "flows-tap-other", not in the ledger "flows-tap" of transfer %s',
           :o_hold, pg_temp.next_transfer_id()),
    'a capture of a hold in another ledger is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status, pending_id)
             VALUES (%s, %s, '5 USD', 'voided', %s)$$, :o_alice, :o_bank, :h4), '23514',
    format('transfer %s is in ledger "flows-tap", not in the ledger "flows-tap-other" of transfer %s',
           :h4, pg_temp.next_transfer_id()),
    'a void of a hold in another ledger is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, reverses)
             VALUES (%s, %s, '1 USD', %s)$$, :alice, :bank, :o_fund), '23514',
    format('transfer %s is in ledger "flows-tap-other", not in the ledger "flows-tap" of transfer %s',
           :o_fund, pg_temp.next_transfer_id()),
    'a reversal of a transfer in another ledger is refused');

-- idempotency keys --------------------------------------------------------------------------

SELECT payments.hold(:alice, :shop, '4 USD', NULL, 'flows-k-hold') AS hk \gset
SELECT * FROM pg_temp.replays(format('SELECT payments.hold(%s, %s, %L, NULL, %L)', :alice, :shop, '4 USD', 'flows-k-hold'),
    :'hk', 'hold() replayed with its key returns the same hold');
SELECT * FROM pg_temp.refuses(format('SELECT payments.hold(%s, %s, %L, NULL, %L)', :alice, :shop, '5 USD', 'flows-k-hold'),
    '23I01', 'idempotency key "flows-k-hold" was already used for a different transfer',
    'hold() with its key and another amount is refused');
SELECT * FROM pg_temp.refuses(format('SELECT payments.post_transfer(%s, %s, %L, %L)', :alice, :shop, '4 USD', 'flows-k-hold'),
    '23I01', 'idempotency key "flows-k-hold" was already used for a different transfer',
    'a posted transfer with a hold''s key is refused, though accounts and amount are the same');
SELECT payments.capture(:hk, '3 USD', 'flows-k-capture') AS ck \gset
SELECT * FROM pg_temp.replays(format('SELECT payments.capture(%s, %L, %L)', :hk, '3 USD', 'flows-k-capture'),
    :'ck', 'capture() replayed with its key returns the same capture, though the hold is captured');
SELECT * FROM pg_temp.refuses(format('SELECT payments.capture(%s, %L, %L)', :hk, '4 USD', 'flows-k-capture'),
    '23I01', 'idempotency key "flows-k-capture" was already used for a different transfer',
    'capture() with its key and another amount is refused');
SELECT * FROM pg_temp.refuses(format('SELECT payments.capture(%s, NULL, %L)', :h6, 'flows-k-capture'),
    '23I01', 'idempotency key "flows-k-capture" was already used for a different transfer',
    'capture() of another hold with the key is refused');
SELECT payments.hold(:alice, :shop, '2 USD') AS hr \gset
SELECT payments.release(:hr, 'flows-k-release') AS vr \gset
SELECT * FROM pg_temp.replays(format('SELECT payments.release(%s, %L)', :hr, 'flows-k-release'),
    :'vr', 'release() replayed with its key returns the same void');
SELECT * FROM pg_temp.refuses(format('SELECT payments.capture(%s, NULL, %L)', :hr, 'flows-k-release'),
    '23I01', 'idempotency key "flows-k-release" was already used for a different transfer',
    'a capture of the hold with the void''s key is refused');
SELECT payments.post_transfer(:alice, :shop, '8 USD') AS pk \gset
SELECT payments.reverse_transfer(:pk, '3 USD', 'flows-k-refund') AS rk \gset
SELECT * FROM pg_temp.replays(format('SELECT payments.reverse_transfer(%s, %L, %L)', :pk, '3 USD', 'flows-k-refund'),
    :'rk', 'reverse_transfer() replayed with its key returns the same reversal');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_transfer(%s, %L, %L)', :pk, '4 USD', 'flows-k-refund'),
    '23I01', 'idempotency key "flows-k-refund" was already used for a different transfer',
    'reverse_transfer() with its key and another amount is refused');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_transfer(%s, %L, %L)', :p2, '3 USD', 'flows-k-refund'),
    '23I01', 'idempotency key "flows-k-refund" was already used for a different transfer',
    'reverse_transfer() of another transfer with the key is refused');
SELECT payments.reverse_transfer(:pk, NULL, 'flows-k-refund-rest') AS rk2 \gset
SELECT * FROM pg_temp.replays(format('SELECT payments.reverse_transfer(%s, NULL, %L)', :pk, 'flows-k-refund-rest'),
    :'rk2', 'a refund of all that is left, replayed once nothing is left, returns the same reversal');

-- a hot account ------------------------------------------------------------------------------

SELECT payments.set_hot(:hot);
SELECT payments.hold(:alice, :hot, '12 USD') AS hh1 \gset
SELECT is(pg_temp.volumes(:hot), '0.00 USD/0.00 USD/0.00 USD/12.00 USD',
          'a hold to a hot account: its pending credits');
SELECT is((SELECT stripe FROM payments.postings WHERE transfer_id = :hh1 AND account_id = :hot), 0::smallint,
          'on its row (stripe 0): pending volumes live on account rows');
SELECT payments.capture(:hh1) AS hc1 \gset
SELECT is(pg_temp.balances(:hot), 'balance 12.00 USD, available 12.00 USD', 'captured, the hot account has it');
SELECT payments.hold(:hot, :bank, '5 USD') AS hh2 \gset
SELECT is(pg_temp.balances(:hot), 'balance 12.00 USD, available 7.00 USD', 'a hold from the hot account');
SELECT * FROM pg_temp.refuses(format('SELECT payments.hold(%s, %s, %L)', :hot, :bank, '7.01 USD'),
    '23L01', format('insufficient funds in account %s for transfer %s', :hot, pg_temp.next_transfer_id()),
    'a hold from a hot account beyond its available balance is refused');
SELECT payments.capture(:hh2, '2 USD') AS hc2 \gset
SELECT is(pg_temp.balances(:hot) || ' | ' || pg_temp.volumes(:hot),
          'balance 10.00 USD, available 10.00 USD | 2.00 USD/12.00 USD/0.00 USD/0.00 USD',
          'a partial capture from it: balances right, nothing left pending');
SELECT is_empty('SELECT * FROM payments.verify_ledger()', 'verify_ledger() finds nothing wrong with the hot account');

-- reading: holds, statement() -------------------------------------------------------------------

SELECT payments.hold(:dave, :shop, '20 USD', NULL, NULL, '{"order": 7}') AS dh \gset
SELECT payments.capture(:dh, '15 USD') AS dc \gset
SELECT payments.hold(:dave, :shop, '1 USD') AS dh2 \gset
SELECT payments.release(:dh2) AS dv2 \gset
SELECT payments.reverse_transfer(:dc, '5 USD') AS dr \gset
SELECT results_eq(
    format($$SELECT kind, side, amount, balance_after, pending_change, available_after, counterparty, refers_to
               FROM payments.statement(%s, '-infinity', 'infinity') ORDER BY posting_id$$, :dave),
    format($$VALUES ('transfer', 'credit', '50 USD'::monetary, '50 USD'::monetary, NULL::monetary, '50 USD'::monetary, %1$s::bigint, NULL::bigint),
                    ('transfer', 'credit', '4 USD', '54 USD', NULL, '54 USD', %2$s, NULL),
                    ('reversal', 'debit', '4 USD', '50 USD', NULL, '50 USD', %2$s, %3$s),
                    ('hold', 'debit', '0 USD', '50 USD', '20 USD', '30 USD', %4$s, NULL),
                    ('capture', 'debit', '15 USD', '35 USD', '-20 USD', '35 USD', %4$s, %5$s),
                    ('hold', 'debit', '0 USD', '35 USD', '1 USD', '34 USD', %4$s, NULL),
                    ('void', 'debit', '0 USD', '35 USD', '-1 USD', '35 USD', %4$s, %6$s),
                    ('reversal', 'credit', '5 USD', '40 USD', NULL, '40 USD', %4$s, %7$s)$$,
           :bank, :alice, :pe2, :shop, :dh, :dh2, :dc),
    'statement() gives each leg''s kind, posted amount, pending change and available balance after it');
SELECT is((SELECT format('%s %s %s', kind, amount, pending_change) FROM payments.statement(:alice, '-infinity', 'infinity')
            WHERE transfer_id = :e5),
          'expiry 0.00 USD -7.00 USD', 'an expiry''s leg reads as kind expiry');
SELECT is((SELECT metadata FROM payments.statement(:dave, '-infinity', 'infinity') WHERE transfer_id = :dh),
          '{"order": 7}'::jsonb, 'a hold''s metadata is on its legs');

SELECT is((SELECT format('%s %s %s %s', status, coalesce(captured::text, '-'), held, coalesce(resolved_by::text, '-'))
             FROM payments.holds WHERE hold_id = :h1),
          format('captured 20.00 USD 0.00 USD %s', :c1), 'holds: a hold captured in part');
SELECT is((SELECT format('%s %s %s %s', status, coalesce(captured::text, '-'), held, coalesce(resolved_by::text, '-'))
             FROM payments.holds WHERE hold_id = :h3),
          format('voided - 0.00 USD %s', :v3), 'a voided hold');
SELECT is((SELECT format('%s %s %s %s', status, coalesce(captured::text, '-'), held, coalesce(resolved_by::text, '-'))
             FROM payments.holds WHERE hold_id = :h5),
          format('expired - 0.00 USD %s', :e5), 'an expired hold');
SELECT is((SELECT format('%s %s %s %s', status, coalesce(captured::text, '-'), held, coalesce(resolved_by::text, '-'))
             FROM payments.holds WHERE hold_id = :h4),
          'pending - 5.00 USD -', 'a pending hold holds its amount');
SELECT is((SELECT format('%s %s->%s %s %s %s', ledger, from_account, to_account, amount,
                         resolved_at = (SELECT created_at FROM payments.transfers WHERE id = :c1),
                         created_at = (SELECT created_at FROM payments.transfers WHERE id = :h1))
             FROM payments.holds WHERE hold_id = :h1),
          format('flows-tap %s->%s 30.00 USD t t', :alice, :shop),
          'with its ledger, accounts, amount, and when it was made and resolved');

SELECT is_empty('SELECT * FROM payments.verify_ledger()', 'verify_ledger() finds nothing wrong');

SELECT * FROM finish();
ROLLBACK;
