-- Entries (issue 8): every transfer belongs to the entry of the statement
-- (or call) that posted it, one per statement per ledger.
-- payments.post_transfers() posts many transfers as one entry: all or none,
-- limits checked in request order, running balances in request order, ids
-- returned in request order, idempotent as a whole under the entry's key.
-- Then the error table: one SQLSTATE per outcome, on every path, and the
-- diagnostic fields (DESIGN.md section 7) of the refusals.
BEGIN;
SET search_path = public, payments;
SELECT plan(153);

\ir lib/ledger_helpers.sql

-- helpers, in pg_temp: gone with the rollback -----------------------------

-- One transfer of an entry.
CREATE FUNCTION pg_temp.t(from_account bigint, to_account bigint, amount text,
                          idempotency_key text DEFAULT NULL, metadata jsonb DEFAULT NULL)
RETURNS payments.transfer_request LANGUAGE sql AS $$
    SELECT ROW(from_account, to_account, amount::monetary, idempotency_key, metadata)::payments.transfer_request
$$;

-- A post_transfers() call as SQL: its transfers (pg_temp.t(...) calls), key and metadata.
CREATE FUNCTION pg_temp.entry_sql(transfers text, idempotency_key text DEFAULT NULL,
                                  metadata text DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT payments.post_transfers(ARRAY[%s]::payments.transfer_request[], %L, %L::jsonb)',
                  transfers, idempotency_key, metadata)
$$;

-- Runs a call: it returns ids and posts nothing.
CREATE FUNCTION pg_temp.replays(sql text, ids bigint[], description text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    before text := pg_temp.ledger_state();
    got bigint[];
BEGIN
    EXECUTE sql INTO got;
    RETURN NEXT is(got, ids, description);
    RETURN NEXT is(pg_temp.ledger_state(), before, description || ': posts nothing');
END
$$;

-- accounts ---------------------------------------------------------------

SELECT create_account('tap_cash', 'USD', 'debit', true) AS cash \gset
SELECT create_account('tap_alice', 'USD') AS alice \gset
SELECT create_account('tap_bob', 'USD') AS bob \gset
SELECT create_account('tap_carol', 'USD') AS carol \gset
SELECT create_account('tap_eur', 'EUR') AS eur \gset
SELECT create_account('tap_frozen', 'USD') AS frozen \gset
SELECT create_account('tap_closed', 'USD') AS closed \gset
SELECT create_account('tap_cash', 'USD', 'debit', true, ledger => 'tap_tenant') AS t_cash \gset
SELECT create_account('tap_alice', 'USD', ledger => 'tap_tenant') AS t_alice \gset
SELECT set_account_status(:frozen, 'frozen') AS done \gset
SELECT set_account_status(:closed, 'closed') AS done \gset

-- entry_id: one entry per statement per ledger --------------------------------

SELECT post_transfer(:cash, :alice, '100.00 USD') AS p1 \gset
SELECT post_transfer(:cash, :alice, '100.00 USD') AS p2 \gset
SELECT results_eq(
    format('SELECT count(entry_id), count(DISTINCT entry_id) FROM payments.transfers WHERE id IN (%s, %s)', :p1, :p2),
    $$VALUES (2::bigint, 2::bigint)$$,
    'each post_transfer() call is an entry of its own');

CREATE TEMP TABLE statements (name text, first_id bigint);
INSERT INTO statements SELECT 'multi-row INSERT', pg_temp.next_transfer_id();
INSERT INTO payments.transfers (from_account, to_account, amount)
VALUES (:cash, :bob, '1.00 USD'), (:cash, :carol, '2.00 USD'), (:alice, :bob, '3.00 USD');
INSERT INTO statements SELECT 'INSERT ... SELECT', pg_temp.next_transfer_id();
INSERT INTO payments.transfers (from_account, to_account, amount)
SELECT :cash, :bob, (g || '.00 USD')::monetary FROM generate_series(1, 3) g;
INSERT INTO statements SELECT 'COPY', pg_temp.next_transfer_id();
SELECT pg_temp.copy_from('payments.transfers (from_account, to_account, amount)',
                         ARRAY[format('%s,%s,1.00 USD', :cash, :alice),
                               format('%s,%s,1.00 USD', :alice, :bob),
                               format('%s,%s,1.00 USD', :bob, :carol)]) AS copy_sql \gset
:copy_sql;
INSERT INTO statements SELECT 'two INSERTs in one statement (writable CTEs)', pg_temp.next_transfer_id();
WITH a AS (INSERT INTO payments.transfers (from_account, to_account, amount)
           VALUES (:cash, :alice, '1.00 USD') RETURNING id),
     b AS (INSERT INTO payments.transfers (from_account, to_account, amount)
           VALUES (:cash, :bob, '1.00 USD') RETURNING id)
SELECT count(*) FROM (SELECT id FROM a UNION ALL SELECT id FROM b) ab \gset
INSERT INTO statements SELECT 'end', pg_temp.next_transfer_id();
CREATE TEMP VIEW statement_entries AS
    SELECT s.name, count(t.id) AS transfers, count(DISTINCT t.entry_id) AS entries,
           min(t.entry_id) AS entry_id
      FROM statements s
      JOIN payments.transfers t
        ON t.id >= s.first_id AND t.id < (SELECT min(n.first_id) FROM statements n WHERE n.first_id > s.first_id)
     GROUP BY s.name;
SELECT results_eq(
    $$SELECT name, transfers, entries FROM statement_entries ORDER BY name$$,
    $$VALUES ('COPY', 3::bigint, 1::bigint), ('INSERT ... SELECT', 3, 1),
             ('multi-row INSERT', 3, 1), ('two INSERTs in one statement (writable CTEs)', 2, 1)$$,
    'all rows of a multi-row INSERT, an INSERT ... SELECT, a COPY, or two INSERTs of one statement share one entry');
SELECT is((SELECT count(DISTINCT entry_id) FROM statement_entries), 4::bigint,
          'and each statement has an entry of its own');
SELECT is_empty(
    format($$SELECT t.id FROM payments.transfers t WHERE t.id IN (%s, %s)
              AND t.entry_id IN (SELECT entry_id FROM statement_entries)$$, :p1, :p2),
    'no two statements share an entry');
SELECT is_empty($$SELECT e.id FROM payments.entries e$$,
                'entries posted by plain statements have no row in payments.entries');

WITH i AS (INSERT INTO payments.transfers (from_account, to_account, amount)
           VALUES (:cash, :alice, '1.00 USD'), (:t_cash, :t_alice, '1.00 USD'),
                  (:alice, :bob, '1.00 USD'), (:t_alice, :t_cash, '0.50 USD')
           RETURNING id)
SELECT max(id) AS two_ledgers_last FROM i \gset
SELECT results_eq(
    format($$SELECT ledger, count(*), count(DISTINCT entry_id) FROM payments.transfers
              WHERE id > %s - 4 AND id <= %s GROUP BY ledger ORDER BY ledger$$,
           :two_ledgers_last, :two_ledgers_last),
    $$VALUES ('default', 2::bigint, 1::bigint), ('tap_tenant', 2::bigint, 1::bigint)$$,
    'a statement with transfers in two ledgers: one entry in each, shared by that ledger''s rows');
SELECT is((SELECT count(DISTINCT entry_id) FROM payments.transfers
            WHERE id > :two_ledgers_last - 4 AND id <= :two_ledgers_last), 2::bigint,
          'the two ledgers'' entries are different');

INSERT INTO payments.transfers (from_account, to_account, amount, idempotency_key)
VALUES (:cash, :alice, '1.00 USD', 'tap-n-1') RETURNING id AS n1, entry_id AS n1_entry \gset
INSERT INTO payments.transfers (from_account, to_account, amount, idempotency_key)
VALUES (:cash, :alice, '1.00 USD', 'tap-n-1'), (:cash, :alice, '1.00 USD', 'tap-n-2')
ON CONFLICT DO NOTHING;
SELECT results_eq(
    format($$SELECT idempotency_key, entry_id = %s FROM payments.transfers
              WHERE idempotency_key IN ('tap-n-1', 'tap-n-2') ORDER BY id$$, :n1_entry),
    $$VALUES ('tap-n-1', true), ('tap-n-2', false)$$,
    'ON CONFLICT DO NOTHING: the skipped row''s transfer keeps its entry, the inserted one has the new statement''s');

-- post_transfers(): one entry, ids in request order -------------------------------

SELECT balance(:alice) AS alice_before, balance(:bob) AS bob_before \gset
SELECT pg_temp.next_transfer_id() AS first \gset
SELECT post_transfers(ARRAY[pg_temp.t(:cash, :alice, '10.00 USD'),
                            pg_temp.t(:alice, :bob, '3.00 USD', 'tap-e1-b'),
                            pg_temp.t(:alice, :carol, '4.00 USD', NULL, '{"leg": 3}'),
                            pg_temp.t(:cash, :alice, '1.00 USD')],
                      'tap-e1', '{"order": 1}') AS e1 \gset
SELECT is(:'e1'::bigint[], ARRAY[:first, :first + 1, :first + 2, :first + 3]::bigint[],
          'post_transfers() returns the new transfers'' ids, in request order');
SELECT results_eq(
    format($$SELECT t.from_account, t.to_account, t.amount::text, t.idempotency_key, t.metadata
               FROM unnest(%L::bigint[]) WITH ORDINALITY AS r (id, n)
               JOIN payments.transfers t ON t.id = r.id ORDER BY r.n$$, :'e1'),
    format($$VALUES (%1$s::bigint, %2$s::bigint, '10.00 USD', NULL::text, NULL::jsonb),
                    (%2$s, %3$s, '3.00 USD', 'tap-e1-b', NULL),
                    (%2$s, %4$s, '4.00 USD', NULL, '{"leg": 3}'),
                    (%1$s, %2$s, '1.00 USD', NULL, NULL)$$, :cash, :alice, :bob, :carol),
    'the id at each position is the transfer requested there, with its own key and metadata');
SELECT is((SELECT count(DISTINCT entry_id) FROM payments.transfers WHERE id = ANY (:'e1'::bigint[])), 1::bigint,
          'the transfers of a call share one entry');
SELECT (SELECT entry_id FROM payments.transfers WHERE id = (:'e1'::bigint[])[1]) AS e1_entry \gset
SELECT is((SELECT count(*) FROM payments.transfers WHERE entry_id = :e1_entry), 4::bigint,
          'and nothing else is in it');
SELECT results_eq(
    format($$SELECT ledger, idempotency_key, metadata, created_at IS NOT NULL
               FROM payments.entries WHERE id = %s$$, :e1_entry),
    $$VALUES ('default', 'tap-e1', '{"order": 1}'::jsonb, true)$$,
    'the entry''s row holds its ledger, key and metadata, under the transfers'' entry_id');
SELECT results_eq(
    format($$SELECT p.account_id, p.side, p.amount::text, p.balance_after::text
               FROM payments.postings p WHERE p.transfer_id = ANY (%L::bigint[]) AND p.account_id IN (%s, %s)
              ORDER BY p.id$$, :'e1', :alice, :bob),
    format($$VALUES (%1$s::bigint, 'credit', '10.00 USD', %3$L),
                    (%1$s, 'debit', '3.00 USD', %4$L), (%2$s, 'credit', '3.00 USD', %5$L),
                    (%1$s, 'debit', '4.00 USD', %6$L),
                    (%1$s, 'credit', '1.00 USD', %7$L)$$,
           :alice, :bob, (:'alice_before'::monetary + '10.00 USD')::text,
           (:'alice_before'::monetary + '7.00 USD')::text,
           (:'bob_before'::monetary + '3.00 USD')::text,
           (:'alice_before'::monetary + '3.00 USD')::text,
           (:'alice_before'::monetary + '4.00 USD')::text),
    'each leg''s balance_after is the running balance in request order');
SELECT results_eq(
    format('SELECT balance(%s), balance(%s)', :alice, :bob),
    format('SELECT %L::monetary, %L::monetary', :'alice_before'::monetary + '4.00 USD'::monetary,
           :'bob_before'::monetary + '3.00 USD'::monetary),
    'the volumes take the whole entry');

SELECT post_transfers(ARRAY[pg_temp.t(:cash, :alice, '1.00 USD'), pg_temp.t(:cash, :bob, '1.00 USD')]) AS e2 \gset
SELECT is((SELECT count(DISTINCT entry_id) FROM payments.transfers WHERE id = ANY (:'e2'::bigint[])), 1::bigint,
          'an entry without key or metadata: its transfers share an entry too');
SELECT is_empty(format($$SELECT * FROM payments.entries
                          WHERE id IN (SELECT entry_id FROM payments.transfers WHERE id = ANY (%L::bigint[]))$$,
                       :'e2'),
                'but it has no row in payments.entries');
SELECT isnt((SELECT entry_id FROM payments.transfers WHERE id = (:'e2'::bigint[])[1]), :e1_entry::bigint,
            'and it is another entry than the previous call''s');
SELECT post_transfers(ARRAY[pg_temp.t(:cash, :alice, '1.00 USD')], NULL, '{"note": "no key"}') AS e3 \gset
SELECT results_eq(
    format($$SELECT idempotency_key, metadata FROM payments.entries
              WHERE id = (SELECT entry_id FROM payments.transfers WHERE id = %s)$$, (:'e3'::bigint[])[1]),
    $$VALUES (NULL::text, '{"note": "no key"}'::jsonb)$$,
    'an entry with metadata and no key has a row holding its metadata');

-- an entry larger than the engine writes at once (1024 transfers' legs)
SELECT pg_temp.next_transfer_id() AS big_first \gset
SELECT post_transfers((SELECT array_agg(CASE WHEN g % 2 = 1 THEN pg_temp.t(:cash, :alice, '2.00 USD')
                                             ELSE pg_temp.t(:alice, :bob, '1.00 USD') END ORDER BY g)
                         FROM generate_series(1, 1500) g)) AS big \gset
SELECT is(:'big'::bigint[], (SELECT array_agg(:big_first::bigint + g ORDER BY g) FROM generate_series(0, 1499) g),
          'an entry of 1500 transfers returns their ids in request order');
SELECT is_empty(
    format($$SELECT p.id FROM (
                SELECT p.id, p.transfer_id, p.balance_after,
                       p.balance_after - lag(p.balance_after) OVER (PARTITION BY p.account_id ORDER BY t.id) AS moved,
                       CASE WHEN (p.side = 'debit') = (a.normal_balance = 'debit') THEN p.amount ELSE - p.amount END AS leg
                  FROM payments.postings p
                  JOIN payments.transfers t ON t.ledger = p.ledger AND t.id = p.transfer_id
                  JOIN payments.accounts a ON a.ledger = p.ledger AND a.id = p.account_id
                 WHERE t.entry_id = (SELECT entry_id FROM payments.transfers WHERE id = %s)) p
              WHERE p.moved <> p.leg$$, (:'big'::bigint[])[1]),
    'across it, each leg''s balance_after moves from the previous one by the leg, in request order');
SELECT is((SELECT balance_after FROM payments.postings WHERE transfer_id = (:'big'::bigint[])[1500]
              AND account_id = :alice),
          balance(:alice), 'and the last leg''s balance_after is the balance');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfers((SELECT array_agg(CASE WHEN g = 1400 THEN pg_temp.t(%1$s, %3$s, '1000000.00 USD')
                                                                   WHEN g %% 2 = 1 THEN pg_temp.t(%2$s, %1$s, '2.00 USD')
                                                                   ELSE pg_temp.t(%1$s, %3$s, '1.00 USD') END ORDER BY g)
                                               FROM generate_series(1, 1500) g))$$, :alice, :cash, :bob),
    '23L01', format('insufficient funds in account %s for transfer %s', :alice, pg_temp.next_transfer_id() + 1399),
    'an entry of 1500 transfers whose 1400th overdraws is refused as a whole, naming it');
SELECT is_empty('SELECT * FROM payments.verify_ledger()', 'verify_ledger() finds nothing wrong');

-- all or none --------------------------------------------------------------------

SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '5.00 USD'), pg_temp.t(%s, -1, '1.00 USD'),
                               pg_temp.t(%s, %s, '1.00 USD')$$, :cash, :alice, :alice, :cash, :bob),
                      'tap-e-bad', '{"bad": true}'),
    '23503', 'account -1 does not exist',
    'an entry with an unknown account in the middle is refused as a whole');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '5.00 USD'), pg_temp.t(%s, %s, '1.00 USD'),
                               pg_temp.t(%s, %s, '1.00 USD')$$, :cash, :alice, :alice, :frozen, :cash, :bob),
                      'tap-e-bad', '{"bad": true}'),
    '55L01', format('account %s is frozen', :frozen),
    'an entry with a frozen account in the middle is refused as a whole');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '5.00 USD'), pg_temp.t(%s, %s, '1.00 USD'),
                               pg_temp.t(%s, %s, '1.00 USD')$$, :cash, :alice, :closed, :alice, :cash, :bob),
                      'tap-e-bad', '{"bad": true}'),
    '55L02', format('account %s is closed', :closed),
    'an entry with a closed account in the middle is refused as a whole');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '5.00 USD'), pg_temp.t(%s, %s, '1000.00 USD'),
                               pg_temp.t(%s, %s, '1.00 USD')$$, :cash, :alice, :alice, :bob, :cash, :bob),
                      'tap-e-bad', '{"bad": true}'),
    '23L01', format('insufficient funds in account %s for transfer %s', :alice, pg_temp.next_transfer_id() + 1),
    'an entry whose second transfer overdraws is refused as a whole, naming that transfer');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '5.00 USD'), pg_temp.t(%s, %s, '1.00 EUR'),
                               pg_temp.t(%s, %s, '1.00 USD')$$, :cash, :alice, :alice, :bob, :cash, :bob),
                      'tap-e-bad', '{"bad": true}'),
    '22000', format('currency mismatch: transfer %s is in EUR but account %s holds USD',
                    pg_temp.next_transfer_id() + 1, :alice),
    'an entry with a transfer in another currency in the middle is refused as a whole');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '5.00 USD'), pg_temp.t(%s, %s, '1.00 USD'),
                               pg_temp.t(%s, %s, '1.00 USD')$$, :cash, :alice, :alice, :eur, :cash, :bob),
                      'tap-e-bad', '{"bad": true}'),
    '22000', format('currency mismatch: transfer %s is in USD but account %s holds EUR',
                    pg_temp.next_transfer_id() + 1, :eur),
    'an entry with an account in another currency in the middle is refused as a whole');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '5.00 USD'), pg_temp.t(%s, %s, '100000000000000000.01 USD'),
                               pg_temp.t(%s, %s, '1.00 USD')$$, :cash, :alice, :cash, :bob, :cash, :bob),
                      'tap-e-bad', '{"bad": true}'),
    '22003', 'transfer amount 100000000000000000.01 USD is larger than the most one transfer may move, 100000000000000000.00 USD',
    'an entry with an amount above the cap in the middle is refused as a whole');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '5.00 USD'), pg_temp.t(%s, %s, '1.00 USD'),
                               pg_temp.t(%s, %s, '1.00 USD')$$, :cash, :alice, :alice, :alice, :cash, :bob),
                      'tap-e-bad', '{"bad": true}'),
    '23514', format('transfer from account %s to itself', :alice),
    'an entry with a transfer to its own account in the middle is refused as a whole');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '5.00 USD'), pg_temp.t(%s, %s, '1.00 USD')$$,
                             :cash, :alice, :t_cash, :t_alice),
                      'tap-e-bad', '{"bad": true}'),
    '23514', format('account %s is in ledger "tap_tenant", not in the ledger "default" of transfer %s',
                    :t_cash, pg_temp.next_transfer_id() + 1),
    'an entry with transfers in two ledgers is refused');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '5.00 USD'), pg_temp.t(%s, %s, '1.00 USD')$$,
                             :t_cash, :t_alice, :cash, :alice)),
    '23514', format('account %s is in ledger "default", not in the ledger "tap_tenant" of transfer %s',
                    :cash, pg_temp.next_transfer_id() + 1),
    'whichever ledger comes first');
SELECT post_transfers(ARRAY[pg_temp.t(:cash, :alice, '1.00 USD')], 'tap-e-bad', '{"bad": false}') AS e_bad \gset
SELECT is((SELECT metadata FROM payments.entries WHERE idempotency_key = 'tap-e-bad'), '{"bad": false}'::jsonb,
          'a refused entry did not use up its key: a valid request with it is posted');

-- limits in request order ------------------------------------------------------------

SELECT is(balance(:carol), '7.00 USD'::monetary, 'tap_carol holds 7.00 USD');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '10.00 USD'), pg_temp.t(%s, %s, '10.00 USD')$$,
                             :carol, :bob, :cash, :carol)),
    '23L01', format('insufficient funds in account %s for transfer %s', :carol, pg_temp.next_transfer_id()),
    'an entry whose second transfer would fund its first is refused, though netted it would pass');
SELECT post_transfers(ARRAY[pg_temp.t(:cash, :carol, '10.00 USD'), pg_temp.t(:carol, :bob, '17.00 USD')]) AS e_order \gset
SELECT results_eq(
    format($$SELECT p.side, p.balance_after::text FROM payments.postings p
              WHERE p.transfer_id = ANY (%L::bigint[]) AND p.account_id = %s ORDER BY p.id$$, :'e_order', :carol),
    $$VALUES ('credit', '17.00 USD'), ('debit', '0.00 USD')$$,
    'the same transfers in the other order pass: funded first, then spent down to zero');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '0.01 USD'), pg_temp.t(%s, %s, '5.00 USD')$$,
                             :carol, :bob, :cash, :carol)),
    '23L01', format('insufficient funds in account %s for transfer %s', :carol, pg_temp.next_transfer_id()),
    'an account at zero cannot send first and be funded after, by a cent');

-- the entry's key: a replay returns the same ids ------------------------------------------

SELECT * FROM pg_temp.replays(
    pg_temp.entry_sql(format($$pg_temp.t(%1$s, %2$s, '10.00 USD'), pg_temp.t(%2$s, %3$s, '3.00 USD', 'tap-e1-b'),
                               pg_temp.t(%2$s, %4$s, '4.00 USD', NULL, '{"leg": 3}'),
                               pg_temp.t(%1$s, %2$s, '1.00 USD')$$, :cash, :alice, :bob, :carol),
                      'tap-e1', '{"order": 1}'),
    :'e1'::bigint[], 'the same entry under its key returns the original ids, in order');
SELECT * FROM pg_temp.replays(
    pg_temp.entry_sql(format($$pg_temp.t(%1$s, %2$s, '10 USD'), pg_temp.t(%2$s, %3$s, '3 USD', 'tap-e1-b'),
                               pg_temp.t(%2$s, %4$s, '4 USD', NULL, '{"leg":3}'),
                               pg_temp.t(%1$s, %2$s, '1 USD')$$, :cash, :alice, :bob, :carol),
                      'tap-e1', '{"order":1}'),
    :'e1'::bigint[], 'amounts and metadata written differently are the same request');
SELECT set_account_status(:bob, 'frozen') AS done \gset
SELECT * FROM pg_temp.replays(
    pg_temp.entry_sql(format($$pg_temp.t(%1$s, %2$s, '10.00 USD'), pg_temp.t(%2$s, %3$s, '3.00 USD', 'tap-e1-b'),
                               pg_temp.t(%2$s, %4$s, '4.00 USD', NULL, '{"leg": 3}'),
                               pg_temp.t(%1$s, %2$s, '1.00 USD')$$, :cash, :alice, :bob, :carol),
                      'tap-e1', '{"order": 1}'),
    :'e1'::bigint[], 'a replay answers even after an account was frozen');
SELECT set_account_status(:bob, 'open') AS done \gset

-- a different entry under the key
CREATE TEMP TABLE other_entries (n serial, description text, transfers text, metadata text);
INSERT INTO other_entries (description, transfers, metadata) VALUES
    ('another amount', format($$pg_temp.t(%1$s, %2$s, '10.01 USD'), pg_temp.t(%2$s, %3$s, '3.00 USD', 'tap-e1-b'),
                               pg_temp.t(%2$s, %4$s, '4.00 USD', NULL, '{"leg": 3}'),
                               pg_temp.t(%1$s, %2$s, '1.00 USD')$$, :cash, :alice, :bob, :carol), '{"order": 1}'),
    ('another order', format($$pg_temp.t(%2$s, %3$s, '3.00 USD', 'tap-e1-b'), pg_temp.t(%1$s, %2$s, '10.00 USD'),
                               pg_temp.t(%2$s, %4$s, '4.00 USD', NULL, '{"leg": 3}'),
                               pg_temp.t(%1$s, %2$s, '1.00 USD')$$, :cash, :alice, :bob, :carol), '{"order": 1}'),
    ('other entry metadata', format($$pg_temp.t(%1$s, %2$s, '10.00 USD'), pg_temp.t(%2$s, %3$s, '3.00 USD', 'tap-e1-b'),
                               pg_temp.t(%2$s, %4$s, '4.00 USD', NULL, '{"leg": 3}'),
                               pg_temp.t(%1$s, %2$s, '1.00 USD')$$, :cash, :alice, :bob, :carol), '{"order": 2}'),
    ('no entry metadata', format($$pg_temp.t(%1$s, %2$s, '10.00 USD'), pg_temp.t(%2$s, %3$s, '3.00 USD', 'tap-e1-b'),
                               pg_temp.t(%2$s, %4$s, '4.00 USD', NULL, '{"leg": 3}'),
                               pg_temp.t(%1$s, %2$s, '1.00 USD')$$, :cash, :alice, :bob, :carol), NULL),
    ('other metadata of one transfer', format($$pg_temp.t(%1$s, %2$s, '10.00 USD'), pg_temp.t(%2$s, %3$s, '3.00 USD', 'tap-e1-b'),
                               pg_temp.t(%2$s, %4$s, '4.00 USD', NULL, '{"leg": 4}'),
                               pg_temp.t(%1$s, %2$s, '1.00 USD')$$, :cash, :alice, :bob, :carol), '{"order": 1}'),
    ('another key of one transfer', format($$pg_temp.t(%1$s, %2$s, '10.00 USD'), pg_temp.t(%2$s, %3$s, '3.00 USD', 'tap-e1-x'),
                               pg_temp.t(%2$s, %4$s, '4.00 USD', NULL, '{"leg": 3}'),
                               pg_temp.t(%1$s, %2$s, '1.00 USD')$$, :cash, :alice, :bob, :carol), '{"order": 1}'),
    ('another account', format($$pg_temp.t(%1$s, %2$s, '10.00 USD'), pg_temp.t(%2$s, %4$s, '3.00 USD', 'tap-e1-b'),
                               pg_temp.t(%2$s, %4$s, '4.00 USD', NULL, '{"leg": 3}'),
                               pg_temp.t(%1$s, %2$s, '1.00 USD')$$, :cash, :alice, :bob, :carol), '{"order": 1}'),
    ('one transfer fewer', format($$pg_temp.t(%1$s, %2$s, '10.00 USD'), pg_temp.t(%2$s, %3$s, '3.00 USD', 'tap-e1-b'),
                               pg_temp.t(%2$s, %4$s, '4.00 USD', NULL, '{"leg": 3}')$$,
                               :cash, :alice, :bob, :carol), '{"order": 1}'),
    ('one transfer more', format($$pg_temp.t(%1$s, %2$s, '10.00 USD'), pg_temp.t(%2$s, %3$s, '3.00 USD', 'tap-e1-b'),
                               pg_temp.t(%2$s, %4$s, '4.00 USD', NULL, '{"leg": 3}'),
                               pg_temp.t(%1$s, %2$s, '1.00 USD'), pg_temp.t(%1$s, %2$s, '1.00 USD')$$,
                               :cash, :alice, :bob, :carol), '{"order": 1}');
SELECT r FROM (SELECT * FROM other_entries ORDER BY n) o,
       LATERAL pg_temp.refuses(pg_temp.entry_sql(o.transfers, 'tap-e1', o.metadata), '23I01',
                               'idempotency key "tap-e1" was already used for a different entry',
                               'the entry''s key with ' || o.description || ' is refused') AS r;
SELECT is(pg_temp.error_of(pg_temp.entry_sql(format('pg_temp.t(%s, %s, ''1.00 USD'')', :cash, :alice), 'tap-e1')),
    ARRAY['23I01', 'idempotency key "tap-e1" was already used for a different entry',
          format('Entry %s in ledger "default" was posted with this key, with other accounts, amounts or metadata.', :e1_entry),
          'Replay a key only with the request it was first sent with; a new request needs a new key.'],
    'the refusal names the entry that holds the key, and says what to do');
SELECT post_transfers(ARRAY[pg_temp.t(:t_cash, :t_alice, '1.00 USD')], 'tap-e1', '{"order": 1}') AS e_tenant \gset
SELECT results_eq(
    $$SELECT ledger FROM payments.entries WHERE idempotency_key = 'tap-e1' ORDER BY ledger$$,
    $$VALUES ('default'), ('tap_tenant')$$,
    'entry keys are per ledger: the same key in another ledger is a new entry');

-- the transfers' own keys in an entry --------------------------------------------------

SELECT is(post_transfer(:alice, :bob, '3.00 USD', 'tap-e1-b'), (:'e1'::bigint[])[2],
          'a transfer''s own key in an entry replays through post_transfer()');
SELECT post_transfer(:cash, :bob, '2.00 USD', 'tap-k-used') AS k_used \gset
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '1.00 USD', 'tap-k-new'), pg_temp.t(%s, %s, '2.00 USD', 'tap-k-used')$$,
                             :cash, :alice, :cash, :bob)),
    '23I01', format('idempotency key "tap-k-used" was already used for transfer %s', :k_used),
    'an entry with a transfer key used before is refused, even for the same request');
SELECT is(pg_temp.error_of(pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '2.00 USD', 'tap-k-used')$$, :cash, :bob))),
    ARRAY['23I01', format('idempotency key "tap-k-used" was already used for transfer %s', :k_used),
          'A transfer''s own key in an entry marks it as new: it may not have been posted before.',
          'To retry a whole entry safely, give post_transfers() an idempotency_key.'],
    'the refusal says how to retry an entry');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '1.00 USD', 'tap-k-twice'), pg_temp.t(%s, %s, '2.00 USD', 'tap-k-twice')$$,
                             :cash, :alice, :cash, :bob)),
    '22023', 'idempotency key "tap-k-twice" is given to two transfers of the entry',
    'an entry giving one key to two transfers is refused');
SELECT post_transfers(ARRAY[pg_temp.t(:cash, :alice, '1.00 USD', 'tap-k-new'),
                            pg_temp.t(:cash, :bob, '2.00 USD', 'tap-k-new-2')]) AS e_keys \gset
SELECT results_eq(
    format($$SELECT idempotency_key FROM payments.transfers WHERE id = ANY (%L::bigint[]) ORDER BY id$$, :'e_keys'),
    $$VALUES ('tap-k-new'), ('tap-k-new-2')$$,
    'new transfer keys in an entry are posted with their transfers');
SELECT post_transfers(ARRAY[pg_temp.t(:t_cash, :t_alice, '1.00 USD', 'tap-k-used')]) AS e_key_tenant \gset
SELECT is((SELECT ledger FROM payments.transfers WHERE id = (:'e_key_tenant'::bigint[])[1]), 'tap_tenant',
          'a transfer key used in another ledger only is new in this one');

-- arguments ------------------------------------------------------------------------------

SELECT * FROM pg_temp.refuses('SELECT payments.post_transfers(ARRAY[]::payments.transfer_request[])',
    '22023', 'an entry needs at least one transfer', 'an empty array is refused');
SELECT * FROM pg_temp.refuses('SELECT payments.post_transfers(NULL)',
    '22004', 'transfers must not be null', 'a null array is refused');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '1.00 USD'), NULL$$, :cash, :alice)),
    '22004', 'transfer 2 of the entry has no accounts or amount', 'a null transfer is refused');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(NULL, %s, '1.00 USD')$$, :alice)),
    '22004', 'transfer 1 of the entry has no from_account', 'a transfer without from_account is refused');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '1.00 USD'), pg_temp.t(%s, NULL, '1.00 USD')$$, :cash, :alice, :cash)),
    '22004', 'transfer 2 of the entry has no to_account', 'a transfer without to_account is refused');
SELECT * FROM pg_temp.refuses(
    pg_temp.entry_sql(format($$pg_temp.t(%s, %s, NULL)$$, :cash, :alice)),
    '22004', 'transfer 1 of the entry has no amount', 'a transfer without amount is refused');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfers(ARRAY[[pg_temp.t(%s, %s, '1.00 USD')]])$$, :cash, :alice),
    '2202E', 'transfers must be a one-dimensional array', 'a two-dimensional array is refused');

-- the error table: one SQLSTATE per outcome, on every path ----------------------------------

CREATE TEMP TABLE outcomes (n serial, sqlstate text, sql text, description text);
INSERT INTO outcomes (sqlstate, sql, description) VALUES
    ('23L01', format($$SELECT payments.post_transfer(%s, %s, '1000000.00 USD')$$, :alice, :bob),
     'insufficient funds: post_transfer()'),
    ('23L01', format($$INSERT INTO payments.transfers (from_account, to_account, amount) VALUES (%s, %s, '1000000.00 USD')$$, :alice, :bob),
     'insufficient funds: INSERT'),
    ('23L01', pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '1000000.00 USD')$$, :alice, :bob)),
     'insufficient funds: post_transfers()'),
    ('55L01', format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :cash, :frozen),
     'account frozen: post_transfer()'),
    ('55L01', pg_temp.copy_from('payments.transfers (from_account, to_account, amount)',
                                ARRAY[format('%s,%s,1.00 USD', :frozen, :bob)]),
     'account frozen: COPY'),
    ('55L02', format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :cash, :closed),
     'account closed: post_transfer()'),
    ('55L02', pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '1.00 USD')$$, :closed, :bob)),
     'account closed: post_transfers()'),
    ('23514', format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :alice, :t_alice),
     'accounts in different ledgers: post_transfer()'),
    ('23514', format($$INSERT INTO payments.transfers (ledger, from_account, to_account, amount)
                       VALUES ('tap_tenant', %s, %s, '1.00 USD')$$, :cash, :alice),
     'a ledger not the accounts'': INSERT'),
    ('23514', format($$SELECT payments.post_transfer(%s, %s, '0.00 USD')$$, :cash, :alice),
     'amount not positive: post_transfer()'),
    ('23514', format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :alice, :alice),
     'from = to: post_transfer()'),
    ('22000', format($$SELECT payments.post_transfer(%s, %s, '1.00 EUR')$$, :cash, :alice),
     'currency mismatch: post_transfer()'),
    ('22000', pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '1.00 USD')$$, :cash, :eur)),
     'currency mismatch: post_transfers()'),
    ('23503', format($$SELECT payments.post_transfer(%s, -1, '1.00 USD')$$, :cash),
     'unknown account: post_transfer()'),
    ('23503', $$SELECT payments.post_transfer_by_name('default', 'tap_nobody', 'tap_alice', '1.00 USD')$$,
     'unknown account: post_transfer() by name'),
    ('23503', pg_temp.entry_sql(format($$pg_temp.t(-1, %s, '1.00 USD')$$, :alice)),
     'unknown account: post_transfers()'),
    ('22003', format($$SELECT payments.post_transfer(%s, %s, '100000000000000000.01 USD')$$, :cash, :alice),
     'amount above the cap: post_transfer()'),
    ('22003', pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '100000000000000000.01 USD')$$, :cash, :alice)),
     'amount above the cap: post_transfers()'),
    ('23I01', format($$SELECT payments.post_transfer(%s, %s, '2.01 USD', 'tap-k-used')$$, :cash, :bob),
     'a transfer key reused: post_transfer()'),
    ('23I01', pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '9.00 USD')$$, :cash, :alice), 'tap-e1'),
     'an entry key reused: post_transfers()'),
    ('428C9', format($$INSERT INTO payments.transfers (id, from_account, to_account, amount) VALUES (1, %s, %s, '1.00 USD')$$, :cash, :alice),
     'id given: INSERT'),
    ('428C9', format($$INSERT INTO payments.transfers (entry_id, from_account, to_account, amount) VALUES (%s, %s, %s, '1.00 USD')$$,
                     :e1_entry, :cash, :alice),
     'entry_id given: INSERT'),
    ('428C9', format($$INSERT INTO payments.transfers (created_at, from_account, to_account, amount) VALUES (now(), %s, %s, '1.00 USD')$$, :cash, :alice),
     'created_at given: INSERT'),
    ('428C9', pg_temp.copy_from('payments.transfers (entry_id, from_account, to_account, amount)',
                                ARRAY[format('%s,%s,%s,1.00 USD', :e1_entry, :cash, :alice)]),
     'entry_id given: COPY'),
    ('428C9', $$INSERT INTO payments.accounts (id, name, currency) VALUES (1, 'tap_x', 'USD')$$,
     'account id given: INSERT'),
    ('22001', format($$INSERT INTO payments.transfers (ledger, from_account, to_account, amount) VALUES (%L, %s, %s, '1.00 USD')$$,
                     repeat('l', 65), :cash, :alice),
     'ledger longer than 64 bytes: INSERT'),
    ('22001', format($$SELECT payments.post_transfer(%s, %s, '1.00 USD', %L)$$, :cash, :alice, repeat('k', 257)),
     'key longer than 256 bytes: post_transfer()'),
    ('22001', format($$SELECT payments.post_transfer(%s, %s, '1.00 USD', %L)$$, :cash, :alice, repeat('é', 129)),
     'key of 129 characters but 258 bytes: post_transfer()'),
    ('22001', pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '1.00 USD', %L)$$, :cash, :alice, repeat('k', 257))),
     'transfer key longer than 256 bytes: post_transfers()'),
    ('22001', pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '1.00 USD')$$, :cash, :alice), repeat('k', 257)),
     'entry key longer than 256 bytes: post_transfers()'),
    ('0A000', format($$UPDATE payments.transfers SET amount = '1.00 USD' WHERE id = %s$$, :p1),
     'history: UPDATE of a transfer'),
    ('0A000', format($$DELETE FROM payments.postings WHERE transfer_id = %s$$, :p1),
     'history: DELETE of postings'),
    ('0A000', $$UPDATE payments.entries SET metadata = NULL$$,
     'history: UPDATE of an entry'),
    ('0A000', 'TRUNCATE payments.entries', 'history: TRUNCATE of entries'),
    ('23514', format($$INSERT INTO payments.transfers (from_account, to_account, amount, status) VALUES (%s, %s, '1.00 USD', 'voided')$$, :cash, :alice),
     'a void without its hold: INSERT');
SELECT t FROM (SELECT * FROM outcomes ORDER BY n) o,
       LATERAL throws_ok(o.sql, o.sqlstate, NULL, format('%s: %s', o.sqlstate, o.description)) AS t;

SELECT lives_ok(format($$SELECT payments.post_transfer(%s, %s, '1.00 USD', %L)$$, :cash, :alice, repeat('k', 256)),
                'a key of exactly 256 bytes is accepted');
SELECT lives_ok(pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '1.00 USD')$$, :cash, :alice), repeat('e', 256)),
                'an entry key of exactly 256 bytes is accepted');
SELECT lives_ok(format($$SELECT payments.post_transfer(payments.create_account('tap_l64_cash', 'USD', 'debit', true, ledger => %1$L),
                                                        payments.create_account('tap_l64', 'USD', ledger => %1$L), '1.00 USD')$$,
                       repeat('l', 64)),
                'a ledger of exactly 64 bytes holds accounts and transfers');

-- diagnostic fields: schema, table, column, constraint ------------------------------------------

SELECT is(pg_temp.error_fields_of(format($$SELECT payments.post_transfer(%s, %s, '1000000.00 USD')$$, :alice, :bob)),
          ARRAY['23L01', 'payments', 'accounts', NULL, 'accounts_available_not_negative'],
          'insufficient funds names the table accounts and the rule it keeps');
SELECT is(pg_temp.error_fields_of(format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :cash, :frozen)),
          ARRAY['55L01', 'payments', 'accounts', 'status', 'accounts_open'],
          'a frozen account names accounts.status');
SELECT is(pg_temp.error_fields_of(format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :closed, :bob)),
          ARRAY['55L02', 'payments', 'accounts', 'status', 'accounts_open'],
          'a closed account names accounts.status');
SELECT is(pg_temp.error_fields_of(format($$SELECT payments.post_transfer(%s, -1, '1.00 USD')$$, :cash)),
          ARRAY['23503', 'payments', 'transfers', NULL, 'transfers_account_exists'],
          'an unknown account names the table transfers and the rule');
SELECT is(pg_temp.error_fields_of(pg_temp.entry_sql(format($$pg_temp.t(-1, %s, '1.00 USD')$$, :alice))),
          ARRAY['23503', 'payments', 'transfers', NULL, 'transfers_account_exists'],
          'so it does in an entry');
SELECT is(pg_temp.error_fields_of(
              format($$INSERT INTO payments.transfers (id, from_account, to_account, amount) VALUES (1, %s, %s, '1.00 USD')$$,
                     :cash, :alice)),
          ARRAY['428C9', 'payments', 'transfers', 'id', NULL],
          'an id given names transfers.id');
SELECT is(pg_temp.error_fields_of(
              format($$INSERT INTO payments.transfers (created_at, from_account, to_account, amount) VALUES (now(), %s, %s, '1.00 USD')$$,
                     :cash, :alice)),
          ARRAY['428C9', 'payments', 'transfers', 'created_at', NULL],
          'a created_at given names transfers.created_at');
SELECT is(pg_temp.error_fields_of(format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :alice, :t_alice)),
          ARRAY['23514', 'payments', 'transfers', 'ledger', 'transfers_accounts_in_ledger'],
          'accounts in different ledgers name transfers.ledger');
SELECT is(pg_temp.error_fields_of(format($$SELECT payments.post_transfer(%s, %s, '1.00 EUR')$$, :cash, :alice)),
          ARRAY['22000', 'payments', 'transfers', 'amount', 'transfers_currency_of_accounts'],
          'a currency mismatch names transfers.amount');
SELECT is(pg_temp.error_fields_of(format($$SELECT payments.post_transfer(%s, %s, '100000000000000000.01 USD')$$, :cash, :alice)),
          ARRAY['22003', 'payments', 'transfers', NULL, 'transfers_amount_at_most_max'],
          'an amount above the cap names its rule');
SELECT is(pg_temp.error_fields_of(format($$SELECT payments.post_transfer(%s, %s, '1.00 USD', %L)$$, :cash, :alice, repeat('k', 257))),
          ARRAY['22001', 'payments', 'transfers', 'idempotency_key', NULL],
          'a key too long names transfers.idempotency_key');
SELECT is((pg_temp.error_fields_of(format($$UPDATE payments.transfers SET amount = '1.00 USD' WHERE id = %s$$, :p1)))[1:3],
          ARRAY['0A000', 'payments', 'transfers'],
          'a change of history names its table');
SELECT is((pg_temp.error_fields_of(format($$SELECT payments.post_transfer(%s, %s, '2.01 USD', 'tap-k-used')$$, :cash, :bob)))[1:3],
          ARRAY['23I01', 'payments', 'transfers'],
          'a transfer key reused for another request names the table transfers');
SELECT is((pg_temp.error_fields_of(pg_temp.entry_sql(format($$pg_temp.t(%s, %s, '9.00 USD')$$, :cash, :alice), 'tap-e1')))[1:3],
          ARRAY['23I01', 'payments', 'entries'],
          'an entry key reused for another request names the table entries');

SELECT is_empty('SELECT * FROM payments.verify_ledger()', 'verify_ledger() finds nothing wrong');

SELECT * FROM finish();
ROLLBACK;
