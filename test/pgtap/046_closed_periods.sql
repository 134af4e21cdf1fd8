-- Closed periods (DESIGN.md section 6): close_period()'s rules, the record,
-- and the engine's refusal to post into a closed period on every write
-- path.  The wait for transactions in progress, and balances as of a time
-- that stay final, are in test/isolation/specs/ledger_close_period.spec.
BEGIN;
SET search_path = public, payments;
SELECT plan(17);

\ir lib/ledger_helpers.sql

SELECT payments.create_account('bank', 'USD', 'debit', true, ledger => 'close-tap') AS bank \gset
SELECT payments.create_account('alice', 'USD', ledger => 'close-tap') AS alice \gset
SELECT payments.create_account('other', 'USD', 'debit', true, ledger => 'close-tap-2') AS other \gset
SELECT payments.create_account('bob', 'USD', ledger => 'close-tap-2') AS bob \gset
SELECT payments.post_transfer(:bank, :alice, '100.00 USD');

SELECT throws_ok($$SELECT payments.close_period('close-tap', clock_timestamp() - interval '1 second')$$,
                 '55000', 'close_period() must run before its transaction writes anything',
                 'a transaction that has posted cannot close: its legs would escape the wait');
SELECT throws_ok($$SELECT payments.close_period('close-tap', clock_timestamp() + interval '1 minute')$$,
                 '22023', NULL, 'a period that has not ended cannot be closed');
SELECT throws_ok($$SELECT payments.close_period('close-tap', NULL)$$, '22004',
                 'ledger and until must not be null', 'until is required');

-- what a period closed by close_period() records: as a restore brings it
-- back, in replica mode (the insert guard steps aside, as for every table)
SET LOCAL session_replication_role = replica;
INSERT INTO payments.closed_periods VALUES ('close-tap', '2026-01-01', '2026-01-02', 'tap');
SET LOCAL session_replication_role = origin;
SELECT lives_ok(format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :bank, :alice),
                'a period that ended in the past: posting now goes on');

-- a period closed up to a time still ahead of the clock (a clock stepped
-- back, or written by hand): nothing posts into it, on any path
SET LOCAL session_replication_role = replica;
INSERT INTO payments.closed_periods VALUES ('close-tap', now() + interval '1 day', now(), 'tap');
SET LOCAL session_replication_role = origin;
SELECT * FROM pg_temp.refuses(format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :bank, :alice),
                              '55L05', NULL, 'post_transfer() into a closed period is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount) VALUES (%s, %s, '1.00 USD')$$,
           :bank, :alice),
    '55L05', NULL, 'so is a plain INSERT');
SELECT * FROM pg_temp.refuses(format($$SELECT payments.hold(%s, %s, '1.00 USD')$$, :alice, :bank),
                              '55L05', NULL, 'and a hold');
SELECT * FROM pg_temp.refuses(
    pg_temp.copy_from('payments.transfers (from_account, to_account, amount)',
                      ARRAY[format('%s,%s,1.00 USD', :bank, :alice)]),
    '55L05', NULL, 'and a COPY');
SELECT is((pg_temp.error_fields_of(format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :bank, :alice)))[3],
          'closed_periods', 'the error names table closed_periods');
SELECT lives_ok(format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :other, :bob),
                'another ledger is not closed by it');

-- the record is the ledger's
SELECT throws_ok($$INSERT INTO payments.closed_periods VALUES ('close-tap', '2025-01-01', now(), 'me')$$,
                 '0A000', 'payments.closed_periods is written only by the ledger', 'no INSERT but close_period()');
SELECT throws_ok($$DELETE FROM payments.closed_periods$$, '0A000', 'cannot delete from payments.closed_periods',
                 'a closed period is never reopened');
SELECT ok(NOT has_function_privilege('public', 'payments.close_period(text, timestamptz)', 'EXECUTE'),
          'close_period() is granted by the DBA');

SELECT * FROM finish();
ROLLBACK;

