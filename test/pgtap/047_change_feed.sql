-- The change feed (DESIGN.md section 6): every write path records the
-- transaction of each entry it posts, once, and nothing else; the record is
-- the ledger's; changes_since() refuses what is not a cursor and does not
-- return the reader's own, uncommitted transfers; privileges.  Commits,
-- late commits, rollbacks and resuming from a cursor are in
-- test/isolation/specs/ledger_change_feed.spec; writers with delayed
-- commits across a crash in test/t/080_change_feed.pl.
BEGIN;
SET search_path = public, payments;
SELECT plan(32);

\ir lib/ledger_helpers.sql

SELECT payments.create_account('bank', 'USD', 'debit', true, ledger => 'feed-tap') AS bank \gset
SELECT payments.create_account('alice', 'USD', ledger => 'feed-tap') AS alice \gset
SELECT payments.create_account('other', 'USD', 'debit', true, ledger => 'feed-tap-2') AS other \gset
SELECT payments.create_account('bob', 'USD', ledger => 'feed-tap-2') AS bob \gset

-- The entries recorded since the last call, as 'ledger:transfers', checking
-- that each names this transaction.
CREATE TEMP TABLE seen_entries (ledger text, entry_id bigint);
CREATE FUNCTION pg_temp.new_entries() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    IF EXISTS (SELECT FROM payments.entry_xacts WHERE xact_id <> pg_current_xact_id()) THEN
        RETURN 'an entry names another transaction';
    END IF;
    SELECT string_agg(format('%s:%s', x.ledger,
                             (SELECT count(*) FROM payments.transfers t
                               WHERE t.ledger = x.ledger AND t.entry_id = x.entry_id)),
                      ' ' ORDER BY x.entry_id)
      INTO result
      FROM payments.entry_xacts x
     WHERE (x.ledger, x.entry_id) NOT IN (SELECT ledger, entry_id FROM seen_entries);
    INSERT INTO seen_entries SELECT ledger, entry_id FROM payments.entry_xacts
    ON CONFLICT DO NOTHING;
    RETURN coalesce(result, '(none)');
END
$$;
SELECT pg_temp.new_entries();

-- every write path: one row per entry, per ledger -----------------------------------

SELECT payments.post_transfer(:bank, :alice, '100.00 USD', 'feed-1') AS t1 \gset
SELECT is(pg_temp.new_entries(), 'feed-tap:1', 'post_transfer(): one entry of one transfer');
SELECT payments.post_transfers(ARRAY[(:bank, :alice, '1.00 USD', NULL, NULL),
                                     (:bank, :alice, '2.00 USD', NULL, NULL),
                                     (:alice, :bank, '0.50 USD', NULL, NULL)]::payments.transfer_request[]);
SELECT is(pg_temp.new_entries(), 'feed-tap:3', 'post_transfers(): one entry of three transfers');
INSERT INTO payments.transfers (from_account, to_account, amount)
VALUES (:bank, :alice, '1.00 USD'), (:other, :bob, '1.00 USD'), (:other, :bob, '2.00 USD');
SELECT is(pg_temp.new_entries(), 'feed-tap:1 feed-tap-2:2', 'an INSERT into two ledgers: an entry in each');
SELECT lives_ok(pg_temp.copy_from('payments.transfers (from_account, to_account, amount)',
                                  ARRAY[format('%s,%s,1.00 USD', :bank, :alice),
                                        format('%s,%s,2.00 USD', :bank, :alice)]),
                'COPY into transfers');
SELECT is(pg_temp.new_entries(), 'feed-tap:2', 'a COPY: one entry');
SELECT payments.hold(:alice, :bank, '5.00 USD') AS hold \gset
SELECT payments.capture(:hold) AS capture \gset
SELECT is(pg_temp.new_entries(), 'feed-tap:1 feed-tap:1', 'a hold and its capture: an entry each');
SELECT payments.reverse_transfer(:t1, '10.00 USD');
SELECT is(pg_temp.new_entries(), 'feed-tap:1', 'a refund: one entry');
SELECT payments.create_fx_account('USD', 'feed-tap');
SELECT payments.create_fx_account('EUR', 'feed-tap');
SELECT payments.create_account('shop', 'EUR', ledger => 'feed-tap') AS shop \gset
INSERT INTO payments.exchange_rates (from_currency, to_currency, rate, valid_from)
VALUES ('USD', 'EUR', 0.9, '2020-01-01');
SELECT payments.post_fx_transfer(:alice, :shop, '10.00 USD', 'EUR');
SELECT is(pg_temp.new_entries(), 'feed-tap:2', 'an FX payment: one entry of its two legs');

-- nothing for what writes no transfer
SELECT * FROM pg_temp.replays(format($$SELECT payments.post_transfer(%s, %s, '100.00 USD', 'feed-1')$$, :bank, :alice),
                              :t1, 'a replay returns the original transfer');
SELECT * FROM pg_temp.refuses(format($$SELECT payments.post_transfer(%s, %s, '1000000.00 USD')$$, :alice, :bank),
                              '23L01', NULL, 'a refusal records no entry');
SAVEPOINT before_rollback;
SELECT payments.post_transfer(:bank, :alice, '1.00 USD');
ROLLBACK TO SAVEPOINT before_rollback;
SELECT is(pg_temp.new_entries(), '(none)', 'a transfer rolled back to a savepoint takes its entry''s record with it');
INSERT INTO payments.transfers (from_account, to_account, amount)
SELECT :bank, :alice, '1.00 USD' WHERE false;
SELECT is(pg_temp.new_entries(), '(none)', 'an INSERT of no rows records nothing');

-- the reader's own transaction ----------------------------------------------------------

SELECT is((SELECT count(*) FROM payments.changes_since(NULL, 1000) WHERE id IS NOT NULL), 0::bigint,
          'the reader does not get its own transfers: its transaction may yet roll back');
SELECT ok(NOT pg_visible_in_snapshot(pg_current_xact_id(), payments.change_cursor()::pg_snapshot),
          'change_cursor() counts the caller''s transaction as in progress, so its transfers come after it commits');
SELECT ok(NOT pg_visible_in_snapshot(pg_current_xact_id(),
                                     (SELECT next_cursor FROM payments.changes_since(NULL) WHERE id IS NULL)::pg_snapshot),
          'so does the end-of-feed mark of changes_since()');

-- what is not a cursor -------------------------------------------------------------------

SELECT throws_ok($$SELECT * FROM payments.changes_since('garbage')$$, '22023',
                 'invalid change feed cursor: "garbage"', 'a cursor that is not one is refused');
SELECT throws_ok($$SELECT * FROM payments.changes_since('5:3:')$$, '22023',
                 'invalid change feed cursor: "5:3:"', 'a snapshot that is not one is refused');
SELECT throws_ok($$SELECT * FROM payments.changes_since('1:1:/1:1:/1/99999999999999999999/1')$$, '22023',
                 NULL, 'a position out of range is refused');
SELECT throws_ok(format($$SELECT * FROM payments.changes_since('%s:%s:')$$,
                        pg_snapshot_xmax(pg_current_snapshot())::text::bigint + 1000,
                        pg_snapshot_xmax(pg_current_snapshot())::text::bigint + 1000),
                 '22023', NULL, 'a cursor ahead of the database''s transactions (another cluster''s) is refused');
SELECT throws_ok(format($$SELECT * FROM payments.changes_since('1:1:/1:%s:%s/0/0/0')$$,
                        100002, (SELECT string_agg(g::text, ',') FROM generate_series(2, 100001) g)),
                 '22023', NULL, 'a cursor listing more transactions in progress than the server can run is refused');
SELECT throws_ok($$SELECT * FROM payments.changes_since('1:5:/1:3:/0/0/0')$$, '22023',
                 'invalid change feed cursor: "1:5:/1:3:/0/0/0"', 'a cursor whose two snapshots disagree is refused');
SELECT lives_ok($$SELECT * FROM payments.changes_since(NULL, 2147483647)$$,
                'max_transfers may be the largest integer');
SELECT throws_ok($$SELECT * FROM payments.changes_since(NULL, 0)$$, '22023',
                 'max_transfers must be at least 1, not 0', 'max_transfers of 0 is refused');

-- the record is the ledger's ------------------------------------------------------------

SELECT throws_ok($$INSERT INTO payments.entry_xacts VALUES ('feed-tap', 999, '3')$$, '0A000',
                 'payments.entry_xacts is written only by the ledger', 'no INSERT into entry_xacts');
SELECT throws_ok($$UPDATE payments.entry_xacts SET xact_id = '3'$$, '0A000', NULL,
                 'no UPDATE of entry_xacts');
SELECT throws_ok($$TRUNCATE payments.entry_xacts$$, '0A000', NULL, 'no TRUNCATE of entry_xacts');
SELECT ok(NOT EXISTS (SELECT FROM pg_extension e, unnest(e.extconfig) c
                       WHERE e.extname = 'payments' AND c = 'payments.entry_xacts'::regclass),
          'entry_xacts is not dumped: transaction ids mean nothing in another cluster');

-- privileges ------------------------------------------------------------------------------

SELECT ok(NOT has_function_privilege('public', 'payments.changes_since(text, integer)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'payments.change_cursor()', 'EXECUTE'),
          'the feed is granted by the DBA');
CREATE ROLE feed_reader_tap;
GRANT USAGE ON SCHEMA payments TO feed_reader_tap;
GRANT EXECUTE ON FUNCTION payments.changes_since(text, integer), payments.change_cursor() TO feed_reader_tap;
SET LOCAL ROLE feed_reader_tap;
SELECT throws_ok($$SELECT * FROM payments.changes_since(NULL)$$, '42501', NULL,
                 'the feed reads with the caller''s rights: without SELECT on the tables, it is refused');
RESET ROLE;
GRANT SELECT ON payments.transfers, payments.entry_xacts TO feed_reader_tap;
SET LOCAL ROLE feed_reader_tap;
SELECT lives_ok($$SELECT * FROM payments.changes_since(payments.change_cursor())$$,
                'with SELECT on transfers and entry_xacts, it reads');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
