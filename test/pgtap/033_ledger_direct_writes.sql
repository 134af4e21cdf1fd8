-- The ledger's rules hold for every path that writes, not only for
-- post_transfer(): a direct INSERT INTO payments.transfers (one row or many),
-- INSERT ... ON CONFLICT, MERGE and COPY are checked and applied by the same
-- triggers; postings and entries are written only by the ledger, which also
-- assigns every id; history is never
-- updated, deleted or truncated.  Tests run as the superuser, who holds every
-- table privilege: the triggers are what refuses.
BEGIN;
SET search_path = public, payments;
SELECT plan(194);

-- helpers, in pg_temp: gone with the rollback -----------------------------

\ir lib/ledger_helpers.sql

-- lives_ok(), then a check that the ledger is as it was before: two tests.
CREATE FUNCTION pg_temp.changes_nothing(sql text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    before text := pg_temp.ledger_state();
BEGIN
    RETURN NEXT lives_ok(sql, description);
    RETURN NEXT is(pg_temp.ledger_state(), before, description || ': changes nothing');
END
$$;

-- A direct INSERT of one transfer row.
CREATE FUNCTION pg_temp.insert_transfer(from_account bigint, to_account bigint, amount text)
RETURNS text LANGUAGE sql AS $$
    SELECT format('INSERT INTO payments.transfers (from_account, to_account, amount) VALUES (%s, %s, %L)',
                  from_account, to_account, amount)
$$;

-- TRUNCATE: refused (first, before this transaction has posted anything) ---

SELECT * FROM pg_temp.refuses('TRUNCATE payments.transfers CASCADE', '0A000',
    'cannot truncate payments.transfers', 'TRUNCATE of transfers is refused');
SELECT * FROM pg_temp.refuses('TRUNCATE payments.postings', '0A000',
    'cannot truncate payments.postings', 'TRUNCATE of postings is refused');
SELECT * FROM pg_temp.refuses('TRUNCATE payments.accounts, payments.transfers, payments.postings', '0A000',
    'cannot truncate payments.accounts', 'TRUNCATE of the three tables at once is refused');
SELECT is(pg_temp.error_of('TRUNCATE payments.postings'),
    ARRAY['0A000', 'cannot truncate payments.postings', 'Ledger history is kept for good.', NULL],
    'the refusal of TRUNCATE says history is kept');

-- accounts ---------------------------------------------------------------

SELECT create_account('tap_cash', 'USD', 'debit', true) AS cash \gset
SELECT create_account('tap_alice', 'USD') AS alice \gset
SELECT create_account('tap_bob', 'USD') AS bob \gset
SELECT create_account('tap_eur', 'EUR') AS eur \gset
SELECT create_account('tap_meter', 'USD/4') AS meter \gset
SELECT create_account('tap_frozen', 'USD') AS frozen \gset
SELECT create_account('tap_closed', 'USD') AS closed \gset
SELECT create_account('tap_receivable', 'USD', 'debit', false) AS receivable \gset
SELECT create_account('tap_cash', 'USD', 'debit', true, ledger => 'tap_tenant') AS t_cash \gset
SELECT create_account('tap_alice', 'USD', ledger => 'tap_tenant') AS t_alice \gset
SELECT set_account_status(:frozen, 'frozen') AS done \gset
SELECT set_account_status(:closed, 'closed') AS done \gset

-- a direct INSERT is applied as post_transfer() is ---------------------------

INSERT INTO payments.transfers (from_account, to_account, amount, metadata)
VALUES (:cash, :alice, '100.00 USD', '{"via": "insert"}') RETURNING id AS d1 \gset
SELECT results_eq(
    format($$SELECT ledger, status, amount::text, metadata, created_at IS NOT NULL
               FROM payments.transfers WHERE id = %s$$, :d1),
    $$VALUES ('default', 'posted', '100.00 USD', '{"via": "insert"}'::jsonb, true)$$,
    'INSERT without ledger, status or created_at: the ledger fills them in');
SELECT results_eq(
    format($$SELECT ledger, account_id, side, amount::text, balance_after::text
               FROM payments.postings WHERE transfer_id = %s ORDER BY id$$, :d1),
    format($$VALUES ('default', %s::bigint, 'debit', '100.00 USD', '100.00 USD'),
                    ('default', %s::bigint, 'credit', '100.00 USD', '100.00 USD')$$, :cash, :alice),
    'INSERT writes both legs with their running balances');
SELECT is(balance(:alice), '100.00 USD'::monetary, 'INSERT updates the volumes');

INSERT INTO payments.transfers (from_account, to_account, amount)
VALUES (:t_cash, :t_alice, '5.00 USD') RETURNING id AS d2 \gset
SELECT is((SELECT ledger FROM payments.transfers WHERE id = :d2), 'tap_tenant',
          'a transfer inserted without a ledger takes its accounts''');
SELECT lives_ok(
    format($$INSERT INTO payments.transfers (ledger, from_account, to_account, amount, status)
             VALUES ('tap_tenant', %s, %s, '1.00 USD', 'posted')$$, :t_alice, :t_cash),
    'INSERT with the accounts'' ledger and status posted given explicitly');
SELECT is(balance(:t_alice), '4.00 USD'::monetary, 'it is applied');

-- the same refusals as post_transfer() ---------------------------------------

SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:alice, :bob, '0 USD'), '23514',
    'transfer amount must be positive: 0.00 USD', 'INSERT: a zero amount is refused');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:alice, :bob, '-5 USD'), '23514',
    'transfer amount must be positive: -5.00 USD', 'INSERT: a negative amount is refused');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:alice, :alice, '1 USD'), '23514',
    format('transfer from account %s to itself', :alice), 'INSERT: a transfer to the same account is refused');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(-1, :alice, '1 USD'), '23503',
    'account -1 does not exist', 'INSERT: an unknown from_account is refused');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:alice, -1, '1 USD'), '23503',
    'account -1 does not exist', 'INSERT: an unknown to_account is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (ledger, from_account, to_account, amount)
             VALUES ('default', -1, %s, '1 USD')$$, :alice), '23503',
    'account -1 does not exist', 'INSERT: an unknown from_account is refused when the ledger is given');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:alice, :t_alice, '1 USD'), '23514',
    format('account %s is in ledger "tap_tenant", not in the ledger "default" of transfer %s',
           :t_alice, pg_temp.next_transfer_id()),
    'INSERT: a to_account in another ledger is refused');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:t_alice, :alice, '1 USD'), '23514',
    format('account %s is in ledger "default", not in the ledger "tap_tenant" of transfer %s',
           :alice, pg_temp.next_transfer_id()),
    'INSERT: a from_account in another ledger is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (ledger, from_account, to_account, amount)
             VALUES ('tap_nowhere', %s, %s, '1 USD')$$, :alice, :bob), '23514',
    format('account %s is in ledger "default", not in the ledger "tap_nowhere" of transfer %s',
           :alice, pg_temp.next_transfer_id()),
    'INSERT: a ledger that is not the accounts'' is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (ledger, from_account, to_account, amount)
             VALUES ('tap_tenant', %s, %s, '1 USD')$$, :alice, :bob), '23514',
    format('account %s is in ledger "default", not in the ledger "tap_tenant" of transfer %s',
           :alice, pg_temp.next_transfer_id()),
    'INSERT: an existing ledger that is not the accounts'' is refused');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:alice, :eur, '1 USD'), '22000',
    format('currency mismatch: transfer %s is in USD but account %s holds EUR',
           pg_temp.next_transfer_id(), :eur),
    'INSERT: a to_account in another currency is refused');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:alice, :meter, '1 USD'), '22000',
    format('currency mismatch: transfer %s is in USD but account %s holds USD/4',
           pg_temp.next_transfer_id(), :meter),
    'INSERT: USD into a USD/4 account is refused');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:alice, :bob, '1.0000 USD/4'), '22000',
    format('currency mismatch: transfer %s is in USD/4 but account %s holds USD',
           pg_temp.next_transfer_id(), :alice),
    'INSERT: a USD/4 amount between USD accounts is refused');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:frozen, :bob, '1 USD'), '55L01',
    format('account %s is frozen', :frozen), 'INSERT: a frozen from_account is refused');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:alice, :frozen, '1 USD'), '55L01',
    format('account %s is frozen', :frozen), 'INSERT: a frozen to_account is refused');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:closed, :cash, '1 USD'), '55L02',
    format('account %s is closed', :closed), 'INSERT: a closed from_account is refused');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:alice, :closed, '1 USD'), '55L02',
    format('account %s is closed', :closed), 'INSERT: a closed to_account is refused');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:alice, :bob, '100.01 USD'), '23L01',
    format('insufficient funds in account %s for transfer %s', :alice, pg_temp.next_transfer_id()),
    'INSERT: a credit-normal account cannot send more than it has');
SELECT * FROM pg_temp.refuses(pg_temp.insert_transfer(:alice, :receivable, '0.01 USD'), '23L01',
    format('insufficient funds in account %s for transfer %s', :receivable, pg_temp.next_transfer_id()),
    'INSERT: a debit-normal account that may not go negative cannot be credited below zero');

-- a status with fields that do not go with it, or what the ledger assigns
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status)
             VALUES (%s, %s, '1 USD', 'voided')$$, :alice, :bob), '23514',
    'a transfer with status voided must name the hold it resolves in pending_id',
    'INSERT: status voided without a hold is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status)
             VALUES (%s, %s, '1 USD', 'expired')$$, :alice, :bob), '23514',
    'a transfer with status expired must name the hold it resolves in pending_id',
    'INSERT: status expired without a hold is refused');
SELECT is(pg_temp.error_of(format($$INSERT INTO payments.transfers (from_account, to_account, amount, status)
                                    VALUES (%s, %s, '1 USD', 'voided')$$, :alice, :bob)),
    ARRAY['23514', 'a transfer with status voided must name the hold it resolves in pending_id',
          NULL, 'Release a hold with payments.release(); holds expire through payments.expire_holds().'],
    'the refusal says how holds are released');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, pending_id)
             VALUES (%s, %s, '1 USD', %s)$$, :alice, :bob, :d1), '23514',
    format('transfer %s is not a hold', :d1), 'INSERT: pending_id naming a posted transfer is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, reverses)
             VALUES (%s, %s, '1 USD', %s)$$, :alice, :bob, :d1), '23514',
    format('transfer %s reverses transfer %s but not from account %s to account %s',
           pg_temp.next_transfer_id(), :d1, :alice, :cash),
    'INSERT: a reversal between other accounts than the original''s is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, expires_at)
             VALUES (%s, %s, '1 USD', now() + interval '1 day')$$, :alice, :bob), '23514',
    'only a hold (status pending) has an expires_at', 'INSERT: expires_at on a posted transfer is refused');
SELECT is(pg_temp.error_fields_of(format($$INSERT INTO payments.transfers (from_account, to_account, amount, status, reverses)
                                           VALUES (%s, %s, '1 USD', 'pending', %s)$$, :alice, :bob, :d1)),
    ARRAY['23514', 'payments', 'transfers', NULL, 'transfers_status_fields'],
    'the refusal of a hold that reverses names the rule');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, created_at)
             VALUES (%s, %s, '1 USD', now())$$, :alice, :bob), '428C9',
    'created_at of transfers is assigned by the ledger', 'INSERT: created_at given is refused');
SELECT is(pg_temp.error_of(format($$INSERT INTO payments.transfers (from_account, to_account, amount, created_at)
                                    VALUES (%s, %s, '1 USD', '2020-01-01')$$, :alice, :bob)),
    ARRAY['428C9', 'created_at of transfers is assigned by the ledger', NULL,
          'Leave created_at out of the INSERT. To restore a dump, restore with session_replication_role = replica.'],
    'the refusal of a backdated transfer says how to restore instead');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (id, from_account, to_account, amount)
             VALUES (999999999, %s, %s, '1 USD')$$, :alice, :bob), '428C9',
    'id of transfers is assigned by the ledger', 'INSERT: a transfer id given is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, entry_id)
             VALUES (%s, %s, '1 USD', (SELECT entry_id FROM payments.transfers WHERE id = %s))$$,
           :alice, :bob, :d1), '428C9',
    'entry_id of transfers is assigned by the ledger',
    'INSERT: an entry_id given is refused, even that of an existing entry');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (id, from_account, to_account, amount)
             VALUES (nextval('payments.transfers_id_seq'), %s, %s, '1 USD')$$, :alice, :bob), '428C9',
    'id of transfers is assigned by the ledger', 'INSERT: an id drawn from the ledger''s own sequence is refused too');
SELECT * FROM pg_temp.refuses(
    pg_temp.insert_transfer(:cash, :alice, '100000000000000000.01 USD'), '22003',
    'transfer amount 100000000000000000.01 USD is larger than the most one transfer may move, 100000000000000000.00 USD',
    'INSERT: an amount above the cap of 10^19 minor units is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (ledger, from_account, to_account, amount)
             VALUES ('default', NULL, %s, '1 USD')$$, :bob),
    '23502', 'null value in column "from_account" of relation "transfers" violates not-null constraint',
    'INSERT: a null from_account is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (ledger, from_account, to_account, amount)
             VALUES ('default', %s, NULL, '1 USD')$$, :alice),
    '23502', 'null value in column "to_account" of relation "transfers" violates not-null constraint',
    'INSERT: a null to_account is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (ledger, from_account, to_account, amount)
             VALUES ('default', %s, %s, NULL)$$, :alice, :bob),
    '23502', 'null value in column "amount" of relation "transfers" violates not-null constraint',
    'INSERT: a null amount is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (ledger, from_account, to_account, amount, status)
             VALUES ('default', %s, %s, '1 USD', NULL)$$, :alice, :bob),
    '23502', 'null value in column "status" of relation "transfers" violates not-null constraint',
    'INSERT: a null status is refused');
-- With the ledger left out, the refusal names the column that is null.
SELECT throws_ok(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount) VALUES (NULL, %s, '1 USD')$$, :bob),
    '23502', 'null value in column "from_account" of relation "transfers" violates not-null constraint',
    'INSERT without a ledger: the refusal of a null from_account names from_account');
SELECT throws_ok(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount) VALUES (%s, %s, NULL)$$, :alice, :bob),
    '23502', 'null value in column "amount" of relation "transfers" violates not-null constraint',
    'INSERT without a ledger: the refusal of a null amount names amount');

-- multi-row INSERT: all or nothing -------------------------------------------

SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount)
             VALUES (%s, %s, '10.00 USD'), (%s, %s, '1000.00 USD')$$, :cash, :alice, :alice, :bob),
    '23L01',
    format('insufficient funds in account %s for transfer %s', :alice, pg_temp.next_transfer_id() + 1),
    'a multi-row INSERT whose second row overdraws leaves nothing of the first');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount)
             VALUES (%s, %s, '60.00 USD'), (%s, %s, '60.00 USD')$$, :alice, :bob, :alice, :bob),
    '23L01',
    format('insufficient funds in account %s for transfer %s', :alice, pg_temp.next_transfer_id() + 1),
    'two rows that each fit but together overdraw are refused as a whole');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount)
             VALUES (%s, %s, '10.00 USD'), (%s, %s, '1.00 USD')$$, :cash, :alice, :alice, :frozen),
    '55L01', format('account %s is frozen', :frozen),
    'a multi-row INSERT whose second row touches a frozen account leaves nothing of the first');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount)
             VALUES (%s, %s, '10.00 USD'), (%s, %s, '0 USD')$$, :cash, :alice, :alice, :bob),
    '23514', 'transfer amount must be positive: 0.00 USD',
    'a multi-row INSERT whose second row has a zero amount leaves nothing of the first');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount)
             SELECT %s, %s, '1.00 USD' FROM generate_series(1, 101)$$, :alice, :bob),
    '23L01',
    format('insufficient funds in account %s for transfer %s', :alice, pg_temp.next_transfer_id() + 100),
    'INSERT ... SELECT of 101 one-dollar rows from an account holding 100 is refused as a whole');

WITH inserted AS (
    INSERT INTO payments.transfers (from_account, to_account, amount)
    VALUES (:cash, :alice, '10.00 USD'), (:alice, :bob, '60.00 USD'), (:alice, :bob, '50.00 USD')
    RETURNING id)
SELECT count(*) AS m3 FROM inserted \gset
SELECT is(:m3, 3, 'a multi-row INSERT of three valid transfers posts them all');
SELECT results_eq(
    format($$SELECT p.side, p.amount::text, p.balance_after::text
               FROM payments.postings p WHERE p.account_id = %s AND p.transfer_id > %s
              ORDER BY p.created_at, p.id$$, :alice, :d2),
    $$VALUES ('credit', '10.00 USD', '110.00 USD'), ('debit', '60.00 USD', '50.00 USD'),
             ('debit', '50.00 USD', '0.00 USD')$$,
    'a multi-row INSERT applies its rows in order: the deposit makes room for the two payments');
SELECT is(balance(:bob), '110.00 USD'::monetary, 'the payments arrived');

-- INSERT ... ON CONFLICT: never a double posting -------------------------------

INSERT INTO payments.transfers (from_account, to_account, amount, idempotency_key)
VALUES (:cash, :alice, '20.00 USD', 'tap-d-1') RETURNING id AS k1 \gset
SELECT is(balance(:alice), '20.00 USD'::monetary, 'a first INSERT with a key is posted');
SELECT * FROM pg_temp.changes_nothing(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, idempotency_key)
             VALUES (%s, %s, '20.00 USD', 'tap-d-1') ON CONFLICT (ledger, idempotency_key) DO NOTHING$$,
           :cash, :alice),
    'the same INSERT with ON CONFLICT (ledger, idempotency_key) DO NOTHING');
SELECT * FROM pg_temp.changes_nothing(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, idempotency_key)
             VALUES (%s, %s, '20.00 USD', 'tap-d-1') ON CONFLICT DO NOTHING$$, :cash, :alice),
    'the same INSERT with ON CONFLICT DO NOTHING and no target');
SELECT * FROM pg_temp.changes_nothing(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, idempotency_key)
             VALUES (%s, %s, '99.00 USD', 'tap-d-1') ON CONFLICT DO NOTHING$$, :alice, :bob),
    'an INSERT with a used key and other values, ON CONFLICT DO NOTHING');
SELECT * FROM pg_temp.changes_nothing(
    format($$INSERT INTO payments.transfers (ledger, from_account, to_account, amount, idempotency_key)
             VALUES ('default', %s, %s, '20.00 USD', 'tap-d-1'), ('default', %s, %s, '20.00 USD', 'tap-d-1')
             ON CONFLICT (ledger, idempotency_key) DO NOTHING$$, :cash, :alice, :cash, :alice),
    'a multi-row INSERT repeating a used key twice, ON CONFLICT DO NOTHING');
SELECT lives_ok(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, idempotency_key)
             VALUES (%s, %s, '1.00 USD', 'tap-d-2'), (%s, %s, '1.00 USD', 'tap-d-2')
             ON CONFLICT (ledger, idempotency_key) DO NOTHING$$, :cash, :alice, :cash, :alice),
    'a multi-row INSERT of a new key twice, ON CONFLICT DO NOTHING');
SELECT results_eq(
    $$SELECT count(DISTINCT t.id), count(p.id) FROM payments.transfers t
        LEFT JOIN payments.postings p ON p.transfer_id = t.id WHERE t.idempotency_key = 'tap-d-2'$$,
    $$VALUES (1::bigint, 2::bigint)$$,
    'it posted the key once, with two legs');
SELECT is(balance(:alice), '21.00 USD'::monetary, 'the balance counts each key once');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, idempotency_key)
             VALUES (%s, %s, '20.00 USD', 'tap-d-1')$$, :cash, :alice),
    '23505', 'duplicate key value violates unique constraint "transfers_ledger_idempotency_key_key"',
    'an INSERT with a used key and no ON CONFLICT is refused');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, idempotency_key)
             VALUES (%s, %s, '20.00 USD', 'tap-d-1')
             ON CONFLICT (ledger, idempotency_key) DO UPDATE SET metadata = '{"again": true}'$$, :cash, :alice),
    '0A000', 'cannot update payments.transfers',
    'INSERT ... ON CONFLICT DO UPDATE cannot change the posted transfer');
SELECT lives_ok(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, idempotency_key)
             VALUES (%s, %s, '2.00 USD', 'tap-d-1') ON CONFLICT (ledger, idempotency_key) DO NOTHING$$,
           :t_cash, :t_alice),
    'the same key in another ledger, ON CONFLICT DO NOTHING');
SELECT is(balance(:t_alice), '6.00 USD'::monetary, 'is a new transfer in that ledger');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, idempotency_key)
             VALUES (%s, %s, '0 USD', 'tap-d-3') ON CONFLICT DO NOTHING$$, :cash, :alice),
    '23514', 'transfer amount must be positive: 0.00 USD',
    'ON CONFLICT DO NOTHING does not hide a refusal');

-- MERGE -------------------------------------------------------------------------

SELECT lives_ok(
    format($$MERGE INTO payments.transfers t
             USING (VALUES (%s::bigint, %s::bigint, '4.00 USD'::monetary, 'tap-m-1')) AS v (f, o, a, k)
                ON t.ledger = 'default' AND t.idempotency_key = v.k
              WHEN NOT MATCHED THEN INSERT (from_account, to_account, amount, idempotency_key)
                                    VALUES (v.f, v.o, v.a, v.k)$$, :cash, :alice),
    'MERGE ... WHEN NOT MATCHED THEN INSERT posts a transfer');
SELECT is(balance(:alice), '25.00 USD'::monetary, 'with its legs');
SELECT * FROM pg_temp.refuses(
    format($$MERGE INTO payments.transfers t
             USING (VALUES (%s::bigint, %s::bigint, '1000.00 USD'::monetary, 'tap-m-2')) AS v (f, o, a, k)
                ON t.ledger = 'default' AND t.idempotency_key = v.k
              WHEN NOT MATCHED THEN INSERT (from_account, to_account, amount, idempotency_key)
                                    VALUES (v.f, v.o, v.a, v.k)$$, :alice, :bob),
    '23L01',
    format('insufficient funds in account %s for transfer %s', :alice, pg_temp.next_transfer_id()),
    'MERGE cannot overdraw either');
SELECT * FROM pg_temp.refuses(
    $$MERGE INTO payments.transfers t USING (VALUES ('tap-m-1')) AS v (k)
         ON t.ledger = 'default' AND t.idempotency_key = v.k
       WHEN MATCHED THEN UPDATE SET metadata = '{}'$$,
    '0A000', 'cannot update payments.transfers', 'MERGE ... WHEN MATCHED THEN UPDATE is refused');
SELECT * FROM pg_temp.refuses(
    $$MERGE INTO payments.transfers t USING (VALUES ('tap-m-1')) AS v (k)
         ON t.ledger = 'default' AND t.idempotency_key = v.k
       WHEN MATCHED THEN DELETE$$,
    '0A000', 'cannot delete from payments.transfers', 'MERGE ... WHEN MATCHED THEN DELETE is refused');

-- COPY ---------------------------------------------------------------------------

SELECT lives_ok(
    pg_temp.copy_from('payments.transfers (from_account, to_account, amount, idempotency_key)',
                      ARRAY[format('%s,%s,30.00 USD,tap-c-1', :cash, :alice),
                            format('%s,%s,12.50 USD,', :alice, :bob),
                            format('%s,%s,3.00 USD,tap-c-3', :t_cash, :t_alice)]),
    'COPY of three transfers');
SELECT results_eq(
    $$SELECT t.ledger, t.idempotency_key, t.amount::text, t.status, count(p.id)
        FROM payments.transfers t
        LEFT JOIN payments.postings p ON p.ledger = t.ledger AND p.transfer_id = t.id
       WHERE t.id > (SELECT id FROM payments.transfers WHERE idempotency_key = 'tap-m-1')
       GROUP BY t.ledger, t.id ORDER BY t.id$$,
    $$VALUES ('default', 'tap-c-1', '30.00 USD', 'posted', 2::bigint),
             ('default', NULL, '12.50 USD', 'posted', 2::bigint),
             ('tap_tenant', 'tap-c-3', '3.00 USD', 'posted', 2::bigint)$$,
    'COPY posts each row, takes the accounts'' ledger, writes two legs each');
SELECT results_eq(
    format($$SELECT balance(%s)::text, balance(%s)::text, balance(%s)::text$$, :alice, :bob, :t_alice),
    $$VALUES ('42.50 USD', '122.50 USD', '9.00 USD')$$,
    'COPY updates the volumes');
SELECT * FROM pg_temp.refuses(
    pg_temp.copy_from('payments.transfers (from_account, to_account, amount)',
                      ARRAY[format('%s,%s,10.00 USD', :cash, :alice),
                            format('%s,%s,1000.00 USD', :alice, :bob)]),
    '23L01',
    format('insufficient funds in account %s for transfer %s', :alice, pg_temp.next_transfer_id() + 1),
    'COPY whose second row overdraws leaves nothing of the first');
SELECT * FROM pg_temp.refuses(
    pg_temp.copy_from('payments.transfers (from_account, to_account, amount)',
                      ARRAY[format('%s,%s,10.00 USD', :cash, :alice),
                            format('%s,%s,1.00 EUR', :alice, :bob)]),
    '22000', format('currency mismatch: transfer %s is in EUR but account %s holds USD',
           pg_temp.next_transfer_id() + 1, :alice),
    'COPY whose second row is in another currency leaves nothing of the first');
SELECT * FROM pg_temp.refuses(
    pg_temp.copy_from('payments.transfers (from_account, to_account, amount)',
                      ARRAY[format('%s,%s,10.00 USD', :cash, :alice),
                            format('%s,%s,1.00 USD', :alice, :frozen)]),
    '55L01', format('account %s is frozen', :frozen),
    'COPY whose second row touches a frozen account leaves nothing of the first');
SELECT * FROM pg_temp.refuses(
    pg_temp.copy_from('payments.transfers (from_account, to_account, amount)',
                      ARRAY[format('%s,%s,10.00 USD', :cash, :alice),
                            format('%s,%s,1.00 USD', :alice, :t_alice)]),
    '23514', format('account %s is in ledger "tap_tenant", not in the ledger "default" of transfer %s',
           :t_alice, pg_temp.next_transfer_id() + 1),
    'COPY whose second row crosses ledgers leaves nothing of the first');
SELECT * FROM pg_temp.refuses(
    pg_temp.copy_from('payments.transfers (from_account, to_account, amount)',
                      ARRAY[format('%s,%s,-1.00 USD', :alice, :bob)]),
    '23514', 'transfer amount must be positive: -1.00 USD', 'COPY of a negative amount is refused');
SELECT * FROM pg_temp.refuses(
    pg_temp.copy_from('payments.transfers (from_account, to_account, amount, created_at)',
                      ARRAY[format('%s,%s,1.00 USD,2020-01-01', :alice, :bob)]),
    '428C9', 'created_at of transfers is assigned by the ledger', 'COPY of a backdated transfer is refused');
SELECT * FROM pg_temp.refuses(
    pg_temp.copy_from('payments.transfers (id, from_account, to_account, amount)',
                      ARRAY[format('999999999,%s,%s,1.00 USD', :alice, :bob)]),
    '428C9', 'id of transfers is assigned by the ledger', 'COPY of a transfer with its id is refused');
SELECT * FROM pg_temp.refuses(
    pg_temp.copy_from('payments.transfers (from_account, to_account, amount)',
                      ARRAY[format('%s,%s,10.00 USD', :cash, :alice),
                            format('%s,%s,100000000000000000.01 USD', :cash, :alice)]),
    '22003', 'transfer amount 100000000000000000.01 USD is larger than the most one transfer may move, 100000000000000000.00 USD',
    'COPY whose second row is above the cap leaves nothing of the first');
SELECT * FROM pg_temp.refuses(
    pg_temp.copy_from('payments.transfers (from_account, to_account, amount, status)',
                      ARRAY[format('%s,%s,1.00 USD,voided', :alice, :bob)]),
    '23514', 'a transfer with status voided must name the hold it resolves in pending_id',
    'COPY of a void without its hold is refused');
SELECT * FROM pg_temp.refuses(
    pg_temp.copy_from('payments.transfers (from_account, to_account, amount, idempotency_key)',
                      ARRAY[format('%s,%s,30.00 USD,tap-c-1', :cash, :alice)]),
    '23505', 'duplicate key value violates unique constraint "transfers_ledger_idempotency_key_key"',
    'COPY of a used key is refused');
SELECT * FROM pg_temp.refuses(
    pg_temp.copy_from('payments.postings (ledger, transfer_id, account_id, side, amount, balance_after, created_at)',
                      ARRAY[format('default,%s,%s,credit,1.00 USD,43.50 USD,2020-01-01', :d1, :alice)]),
    '0A000', 'payments.postings is written only by the ledger', 'COPY into postings is refused');
SELECT * FROM pg_temp.refuses(
    pg_temp.copy_from('payments.accounts (name, currency, credits_posted)',
                      ARRAY['tap_copied,USD,1000.00 USD']),
    '428C9', 'a new account''s credits_posted must be zero in its currency USD',
    'COPY of an account with a balance is refused');

-- postings are written only by the ledger --------------------------------------------

SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.postings (ledger, transfer_id, account_id, side, amount, balance_after, created_at)
             VALUES ('default', %s, %s, 'credit', '1.00 USD', '43.50 USD', now())$$, :d1, :alice),
    '0A000', 'payments.postings is written only by the ledger', 'INSERT into postings is refused');
SELECT is(pg_temp.error_of(
    format($$INSERT INTO payments.postings (ledger, transfer_id, account_id, side, amount, balance_after, created_at)
             VALUES ('default', %s, %s, 'credit', '1.00 USD', '43.50 USD', now())$$, :d1, :alice)),
    ARRAY['0A000', 'payments.postings is written only by the ledger', NULL,
          'Insert into payments.transfers, or call payments.post_transfer() or payments.post_transfers().'],
    'the refusal says how to write postings');
SELECT * FROM pg_temp.refuses(
    format($$INSERT INTO payments.postings (ledger, transfer_id, account_id, side, amount, balance_after, created_at)
             SELECT ledger, transfer_id, account_id, side, amount, balance_after, created_at
               FROM payments.postings WHERE transfer_id = %s$$, :d1),
    '0A000', 'payments.postings is written only by the ledger', 'INSERT ... SELECT copying legs is refused');

-- entries are written only by the ledger (post_transfers() writes their rows)

SELECT payments.post_transfers(ARRAY[ROW(:cash, :alice, '1.00 USD', NULL, NULL)]::payments.transfer_request[],
                               'tap-e-1', '{"batch": 1}') AS e_ids \gset
SELECT entry_id AS e1 FROM payments.transfers WHERE id = (:'e_ids'::bigint[])[1] \gset
SELECT * FROM pg_temp.refuses(
    $$INSERT INTO payments.entries (ledger, id, idempotency_key, metadata, created_at)
      VALUES ('default', 999999999, 'tap-e-forged', NULL, now())$$,
    '0A000', 'payments.entries is written only by the ledger', 'INSERT into entries is refused');
SELECT * FROM pg_temp.refuses(
    pg_temp.copy_from('payments.entries (ledger, id, idempotency_key, created_at)',
                      ARRAY['default,999999999,tap-e-forged,2020-01-01']),
    '0A000', 'payments.entries is written only by the ledger', 'COPY into entries is refused');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.entries SET metadata = '{"batch": 2}' WHERE id = %s$$, :e1),
    '0A000', 'cannot update payments.entries', 'UPDATE of an entry is refused');
SELECT * FROM pg_temp.refuses(
    format($$DELETE FROM payments.entries WHERE id = %s$$, :e1),
    '0A000', 'cannot delete from payments.entries', 'DELETE of an entry is refused');
SELECT * FROM pg_temp.refuses(
    'TRUNCATE payments.entries', '0A000', 'cannot truncate payments.entries',
    'TRUNCATE of entries is refused');

-- history is never updated or deleted -------------------------------------------------

SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.transfers SET amount = '1000.00 USD' WHERE id = %s$$, :d1),
    '0A000', 'cannot update payments.transfers', 'UPDATE of a transfer''s amount is refused');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.transfers SET metadata = '{"note": "fixed"}' WHERE id = %s$$, :d1),
    '0A000', 'cannot update payments.transfers', 'UPDATE of a transfer''s metadata is refused');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.transfers SET status = 'voided' WHERE id = %s$$, :d1),
    '0A000', 'cannot update payments.transfers', 'UPDATE of a transfer''s status is refused');
SELECT is(pg_temp.error_of(format($$UPDATE payments.transfers SET status = 'voided' WHERE id = %s$$, :d1)),
    ARRAY['0A000', 'cannot update payments.transfers', 'Ledger history is never changed.',
          'To undo a transfer, post the opposite transfer.'],
    'the refusal says how to undo a transfer');
SELECT * FROM pg_temp.refuses(
    format($$DELETE FROM payments.transfers WHERE id = %s$$, :d1),
    '0A000', 'cannot delete from payments.transfers', 'DELETE of a transfer is refused');
SELECT * FROM pg_temp.refuses(
    'DELETE FROM payments.transfers', '0A000', 'cannot delete from payments.transfers',
    'DELETE of all transfers is refused');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.postings SET amount = '1.00 USD' WHERE transfer_id = %s$$, :d1),
    '0A000', 'cannot update payments.postings', 'UPDATE of a leg''s amount is refused');
SELECT * FROM pg_temp.refuses(
    format($$UPDATE payments.postings SET created_at = created_at - interval '1 day' WHERE transfer_id = %s$$, :d1),
    '0A000', 'cannot update payments.postings', 'UPDATE of a leg''s time is refused');
SELECT * FROM pg_temp.refuses(
    format($$DELETE FROM payments.postings WHERE transfer_id = %s$$, :d1),
    '0A000', 'cannot delete from payments.postings', 'DELETE of a transfer''s legs is refused');
SELECT is(pg_temp.error_of(format($$DELETE FROM payments.postings WHERE transfer_id = %s$$, :d1)),
    ARRAY['0A000', 'cannot delete from payments.postings', 'Ledger history is never changed.',
          'To undo a transfer, post the opposite transfer.'],
    'the refusal to delete legs says how to undo a transfer');
SELECT throws_ilike('TRUNCATE payments.transfers CASCADE', 'cannot truncate%',
    'TRUNCATE of transfers is refused also in a transaction that has just posted transfers');

-- A BEFORE trigger the owner adds may fire after the ledger's (triggers fire
-- in name order) and change the row it checked: the engine checks the rows
-- it applies again, so no such change posts a transfer to itself, one past
-- the amount cap (which keeps volumes in range), or one of another status.
CREATE FUNCTION pg_temp.tap_mutate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    CASE NEW.metadata->>'mutate'
        WHEN 'self' THEN NEW.to_account := NEW.from_account;
        WHEN 'huge' THEN NEW.amount := '99999999999999999999999999999999.00 USD';
        WHEN 'zero' THEN NEW.amount := '0.00 USD';
        WHEN 'voided' THEN NEW.status := 'voided';
        WHEN 'stamp' THEN NEW.created_at := NEW.created_at - interval '1 day';
        ELSE NULL;
    END CASE;
    RETURN NEW;
END $$;
CREATE TRIGGER zz_tap_mutate BEFORE INSERT ON payments.transfers
    FOR EACH ROW EXECUTE FUNCTION pg_temp.tap_mutate();
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1.00 USD', NULL, '{"mutate": "self"}')$$, :cash, :alice),
    '23514', format('transfer from account %s to itself', :cash),
    'a row made a transfer to itself after the ledger''s check is refused by the engine');
SELECT throws_ok(
    format($$SELECT payments.post_transfers(ARRAY[ROW(%s, %s, '1.00 USD', NULL, '{"mutate": "huge"}')]::payments.transfer_request[])$$, :cash, :alice),
    '22003', NULL, 'so is one whose amount was raised past the cap');
SELECT throws_ok(
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, metadata) VALUES (%s, %s, '1.00 USD', '{"mutate": "zero"}')$$, :cash, :alice),
    '23514', 'transfer amount must be positive: 0.00 USD', 'or lowered to zero');
SELECT throws_ok(
    format($$SELECT payments.post_transfer(%s, %s, '1.00 USD', NULL, '{"mutate": "voided"}')$$, :cash, :alice),
    '23514', 'a transfer with status voided must name the hold it resolves in pending_id',
    'or given a status its fields do not go with');
SELECT * FROM pg_temp.refuses(
    format($$SELECT payments.post_transfer(%s, %s, '1.00 USD', NULL, '{"mutate": "stamp"}')$$, :cash, :alice),
    '428C9', format('the entry or created_at of transfer %s changed after the ledger assigned them',
                    pg_temp.next_transfer_id()),
    'or given another created_at than the ledger assigned');
DROP TRIGGER zz_tap_mutate ON payments.transfers;

SELECT is_empty('SELECT * FROM payments.verify_ledger()', 'verify_ledger() finds nothing wrong');

SELECT * FROM finish();
ROLLBACK;
