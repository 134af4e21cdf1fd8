-- The deferred constraint trigger: no path can commit a transfer whose legs
-- do not balance.  It is shown firing by taking away, inside a rolled-back
-- subtransaction, what normally writes the legs.  Then verify_ledger(): it
-- finds each kind of damage that only a superuser bypassing the triggers
-- (session_replication_role = replica) could do.
BEGIN;
SET search_path = public, payments;
SELECT plan(23);

-- helpers, in pg_temp: gone with the rollback -----------------------------

-- Inserts one transfer with the trigger that writes its legs disabled, runs
-- extra (SQL that may write legs itself), then asks for the deferred check
-- at once.  Everything is undone (ALTER TABLE included) by an inner
-- exception block.  Returns {legs after the INSERT, sqlstate, message with
-- the transfer id as N, detail}.
CREATE FUNCTION pg_temp.check_without_legs(from_account bigint, to_account bigint,
                                           amount monetary, extra text DEFAULT NULL)
RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
    legs bigint;
    state text;
    msg text;
    detail text;
BEGIN
    BEGIN
        ALTER TABLE payments.transfers DISABLE TRIGGER transfer_after_insert;
        ALTER TABLE payments.postings DISABLE TRIGGER posting_guard;
        INSERT INTO payments.transfers (from_account, to_account, amount)
        VALUES (check_without_legs.from_account, check_without_legs.to_account,
                check_without_legs.amount)
        RETURNING id INTO new_id;
        IF extra IS NOT NULL THEN
            EXECUTE replace(extra, '$transfer', new_id::text);
        END IF;
        SELECT count(*) INTO legs FROM payments.postings p WHERE p.transfer_id = new_id;
        SET CONSTRAINTS payments.transfer_check_balanced IMMEDIATE;
        RAISE EXCEPTION 'the deferred check let transfer % through', new_id;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                                detail = PG_EXCEPTION_DETAIL;
        RETURN ARRAY[legs::text, state,
                     replace(msg, format('transfer %s ', new_id), 'transfer N '), nullif(detail, '')];
    END;
END
$$;

-- the trigger ----------------------------------------------------------------

SELECT has_trigger('payments', 'transfers', 'transfer_check_balanced',
                   'transfers has the trigger transfer_check_balanced');
SELECT trigger_is('payments', 'transfers', 'transfer_check_balanced',
                  'payments', 'transfer_check_balanced',
                  'it runs payments.transfer_check_balanced()');
SELECT results_eq(
    $$SELECT t.tgconstraint <> 0, t.tgdeferrable, t.tginitdeferred,
             (t.tgtype & 1) <> 0 AS for_each_row, (t.tgtype & 2) <> 0 AS before,
             (t.tgtype & 4) <> 0 AS on_insert, (t.tgtype & 8) <> 0 AS on_delete,
             (t.tgtype & 16) <> 0 AS on_update, t.tgenabled
        FROM pg_trigger t WHERE t.tgrelid = 'payments.transfers'::regclass
         AND t.tgname = 'transfer_check_balanced'$$,
    $$VALUES (true, true, true, true, false, true, false, false, 'O'::"char")$$,
    'it is a constraint trigger AFTER INSERT FOR EACH ROW, DEFERRABLE INITIALLY DEFERRED, enabled');

-- it fires: a transfer without its legs cannot commit ------------------------

SELECT create_account('tap_cash', 'USD', 'debit', true) AS cash \gset
SELECT create_account('tap_alice', 'USD') AS alice \gset
SELECT create_account('tap_bob', 'USD') AS bob \gset

-- The check runs without a search_path of its own: an operator planted
-- ahead of pg_catalog on the caller's path must not be the one it uses.
CREATE SCHEMA tap_evil;
CREATE FUNCTION tap_evil.eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'hijacked';
END $$;
CREATE OPERATOR tap_evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = tap_evil.eq);
SELECT throws_ok(format($q$
    DO $do$
    DECLARE
        id bigint;
    BEGIN
        -- legs for the planted operator to be called on, were it used
        PERFORM payments.post_transfer(%1$s, %2$s, '7.00 USD');
        SET CONSTRAINTS payments.transfer_check_balanced IMMEDIATE;
        SET CONSTRAINTS payments.transfer_check_balanced DEFERRED;
        ALTER TABLE payments.transfers DISABLE TRIGGER transfer_after_insert;
        INSERT INTO payments.transfers (from_account, to_account, amount)
        VALUES (%1$s, %2$s, '7.00 USD') RETURNING transfers.id INTO id;
        SET LOCAL search_path = tap_evil, pg_catalog, public, payments;
        SET CONSTRAINTS payments.transfer_check_balanced IMMEDIATE;
    END $do$ $q$, :cash, :alice),
    '23514', NULL,
    'the deferred check resolves no operator through the caller''s search_path');

SELECT is(
    pg_temp.check_without_legs(:cash, :alice, '1.00 USD'),
    ARRAY['0', '23514', 'transfer N is unbalanced',
          format('It has 0 legs; a posted transfer has one debit of 1.00 USD from account %s and one credit of it to account %s.', :cash, :alice)],
    'a transfer inserted without legs: the INSERT passes (the check is deferred), the check refuses it');
SELECT is(
    pg_temp.check_without_legs(:cash, :alice, '2.00 USD', $$
        INSERT INTO payments.postings (ledger, transfer_id, account_id, side, amount, balance_after, created_at)
        SELECT 'default', $transfer, from_account, 'debit', amount, amount, now()
          FROM payments.transfers WHERE id = $transfer$$),
    ARRAY['1', '23514', 'transfer N is unbalanced',
          format('It has 1 legs; a posted transfer has one debit of 2.00 USD from account %s and one credit of it to account %s.', :cash, :alice)],
    'a transfer with only its debit leg is refused');
SELECT is(
    (pg_temp.check_without_legs(:cash, :alice, '3.00 USD', $$
        INSERT INTO payments.postings (ledger, transfer_id, account_id, side, amount, balance_after, created_at)
        SELECT 'default', $transfer, from_account, 'debit', amount, amount, now()
          FROM payments.transfers WHERE id = $transfer
        UNION ALL
        SELECT 'default', $transfer, to_account, 'credit', '0.30 USD', '0.30 USD', now()
          FROM payments.transfers WHERE id = $transfer$$))[1:3],
    ARRAY['2', '23514', 'transfer N is unbalanced'],
    'a transfer whose credit leg is less than its amount is refused');
SELECT is(
    (pg_temp.check_without_legs(:cash, :alice, '4.00 USD', format($$
        INSERT INTO payments.postings (ledger, transfer_id, account_id, side, amount, balance_after, created_at)
        SELECT 'default', $transfer, from_account, 'debit', amount, amount, now()
          FROM payments.transfers WHERE id = $transfer
        UNION ALL
        SELECT 'default', $transfer, %s, 'credit', amount, amount, now()
          FROM payments.transfers WHERE id = $transfer$$, :bob)))[1:3],
    ARRAY['2', '23514', 'transfer N is unbalanced'],
    'a transfer whose credit leg goes to another account is refused');
SELECT is(
    (pg_temp.check_without_legs(:cash, :alice, '5.00 USD', $$
        INSERT INTO payments.postings (ledger, transfer_id, account_id, side, amount, balance_after, created_at)
        SELECT 'tap_elsewhere', $transfer, a, s, amount, amount, now()
          FROM payments.transfers, LATERAL (VALUES (from_account, 'debit'), (to_account, 'credit')) AS l (a, s)
         WHERE id = $transfer$$))[1:3],
    ARRAY['2', '23514', 'transfer N is unbalanced'],
    'a transfer whose legs are in another ledger is refused');
SELECT is(
    (pg_temp.check_without_legs(:cash, :alice, '6.00 USD', $$
        INSERT INTO payments.postings (ledger, transfer_id, account_id, side, amount, balance_after, created_at)
        SELECT 'default', $transfer, a, s, amount, amount, now()
          FROM payments.transfers,
               LATERAL (VALUES (from_account, 'debit'), (to_account, 'credit'), (to_account, 'credit')) AS l (a, s)
         WHERE id = $transfer$$))[1:3],
    ARRAY['3', '23514', 'transfer N is unbalanced'],
    'a transfer with an extra leg is refused');
SELECT is(
    (pg_temp.check_without_legs(:cash, :alice, '7.00 USD', $$
        INSERT INTO payments.postings (ledger, transfer_id, account_id, side, amount, balance_after, created_at)
        SELECT 'default', $transfer, a, s, amount, amount, now()
          FROM payments.transfers, LATERAL (VALUES (from_account, 'debit'), (to_account, 'credit')) AS l (a, s)
         WHERE id = $transfer$$))[1:3],
    ARRAY['2', 'P0001', 'the deferred check let transfer N through'],
    'control: the same transfer with its two right legs passes the check');
SELECT is_empty($$SELECT * FROM payments.transfers WHERE from_account = $$ || :cash,
                'the helper left no transfer behind');
SELECT is(
    (SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'payments.transfers'::regclass
        AND tgname = 'transfer_after_insert'), 'O'::"char",
    'and the trigger that writes the legs is enabled again');

-- every posted transfer passes it -------------------------------------------------

SELECT lives_ok(format($$SELECT payments.post_transfer(%s, %s, '10.00 USD')$$, :cash, :alice),
                'post_transfer()');
SELECT lives_ok(format($$INSERT INTO payments.transfers (from_account, to_account, amount)
                         VALUES (%s, %s, '1.00 USD'), (%s, %s, '2.00 USD')$$, :cash, :alice, :alice, :bob),
                'a multi-row INSERT');
SELECT lives_ok('SET CONSTRAINTS payments.transfer_check_balanced IMMEDIATE',
                'the deferred check passes for them');
SELECT lives_ok(format($$SELECT payments.post_transfer(%s, %s, '3.00 USD')$$, :alice, :bob),
                'with the check immediate, post_transfer() passes it at once');
SET CONSTRAINTS ALL DEFERRED;

-- verify_ledger() finds what only a trigger bypass could do ------------------------

SELECT is_empty('SELECT * FROM payments.verify_ledger()', 'verify_ledger() finds nothing wrong so far');

SET LOCAL session_replication_role = replica;
-- a transfer without legs
INSERT INTO payments.transfers (ledger, from_account, to_account, amount, created_at)
VALUES ('default', :cash, :bob, '9.00 USD', now()) RETURNING id AS bare \gset
SET LOCAL session_replication_role = origin;
SELECT is(balance(:bob), '5.00 USD'::monetary,
          'with session_replication_role = replica, a transfer row goes in without touching the volumes');
SELECT results_eq(
    'SELECT problem, account_id, transfer_id FROM payments.verify_ledger()',
    format($$VALUES ('transfer legs do not match the transfer', NULL::bigint, %s::bigint)$$, :bare),
    'verify_ledger() finds the transfer without legs');

SET LOCAL session_replication_role = replica;
-- volumes out of line with the legs, and the books out of balance
UPDATE payments.accounts SET credits_posted = '1000.00 USD' WHERE id = :bob;
SET LOCAL session_replication_role = origin;
SELECT bag_eq(
    'SELECT problem, account_id, transfer_id FROM payments.verify_ledger()',
    format($$VALUES ('transfer legs do not match the transfer', NULL::bigint, %s::bigint),
                    ('account volumes differ from its postings', %s, NULL),
                    ('debits and credits differ', NULL, NULL)$$, :bare, :bob),
    'verify_ledger() finds volumes that differ from the legs and books that do not balance');
SELECT is((SELECT detail FROM payments.verify_ledger() WHERE problem = 'debits and credits differ'),
          'USD: debits 16.00, credits 1011.00',
          'it names the currency and both totals');

SET LOCAL session_replication_role = replica;
-- a leg with a wrong running balance, and a leg without a transfer
INSERT INTO payments.postings (ledger, transfer_id, account_id, side, amount, balance_after, created_at)
VALUES ('default', -1, :alice, 'credit', '0.01 USD', '99.00 USD', clock_timestamp());
SET LOCAL session_replication_role = origin;
SELECT bag_has(
    'SELECT problem, account_id, transfer_id FROM payments.verify_ledger()',
    format($$VALUES ('posting balance_after differs from the running balance', %s::bigint, -1::bigint),
                    ('posting without a transfer', %s, -1)$$, :alice, :alice),
    'verify_ledger() finds a wrong running balance and a leg without a transfer');

SELECT * FROM finish();
ROLLBACK;
