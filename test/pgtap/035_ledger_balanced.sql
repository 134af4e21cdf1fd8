-- No path can commit a transfer the posting engine did not apply.  The
-- engine runs once per statement (the AFTER INSERT FOR EACH STATEMENT trigger
-- transfer_apply), in the entry the BEFORE STATEMENT trigger
-- transfer_statement_start opened; with any one of the three insert
-- triggers disabled (which the trigger guard refuses in the first place:
-- 037; here it is turned off to try), an INSERT is refused at once (09000).
-- Commits are tried on a second connection (dblink), in transactions that
-- are refused or only prepared and then rolled back: nothing they write
-- stays (the controls need max_prepared_transactions > 0, as the dev cluster
-- has).  Then
-- verify_ledger(): it finds each kind of damage that only a superuser
-- bypassing the triggers (session_replication_role = replica) could do.
BEGIN;
SET search_path = public, payments;
SELECT plan(30);

\ir lib/ledger_helpers.sql

-- helpers, in pg_temp: gone with the rollback -----------------------------

SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SELECT dblink_connect('tap_elsewhere',
    format('host=%s port=%s dbname=%s user=%s',
           split_part(current_setting('unix_socket_directories'), ',', 1),
           current_setting('port'), current_database(), current_user)) AS connected \gset
-- this file's transaction must not hold up the other connection's for long
SELECT dblink_exec('tap_elsewhere', 'SET lock_timeout = ''10s''') AS done \gset
SELECT dblink_exec('tap_elsewhere', 'SET client_min_messages = error') AS done \gset

-- Runs statements on the second connection one after another, stopping at
-- the first error, then rolls back whatever it left open (a transaction, or
-- the prepared transaction tap_035).  Returns {the number of the statement
-- that failed or 0, sqlstate, message, detail, hint}.
CREATE FUNCTION pg_temp.elsewhere(statements text[]) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    i int := 0;
    s text;
    result text[] := ARRAY['0', '00000', NULL, NULL, NULL];
    state text;
    msg text;
    detail text;
    hint text;
BEGIN
    FOREACH s IN ARRAY statements LOOP
        i := i + 1;
        BEGIN
            -- a query's result is not wanted (nor allowed by dblink_exec)
            IF s ~* '^\s*SELECT\s' THEN
                s := format('DO $elsewhere$ BEGIN PERFORM %s; END $elsewhere$',
                            regexp_replace(s, '^\s*SELECT\s', '', 'i'));
            END IF;
            PERFORM dblink_exec('tap_elsewhere', s);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                                    detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
            result := ARRAY[i::text, state, msg, nullif(detail, ''), nullif(hint, '')];
            EXIT;
        END;
    END LOOP;
    PERFORM dblink_exec('tap_elsewhere', 'ROLLBACK');
    IF EXISTS (SELECT FROM pg_prepared_xacts WHERE gid = 'tap_035') THEN
        PERFORM dblink_exec('tap_elsewhere', 'ROLLBACK PREPARED ''tap_035''');
    END IF;
    RETURN result;
END
$$;

-- The start of a transaction on the second connection: two accounts of
-- ledger tap_elsewhere, the source funded.  $from and $to in later
-- statements name them.
CREATE FUNCTION pg_temp.elsewhere_accounts() RETURNS text[] LANGUAGE sql AS $$
    SELECT ARRAY[
        'BEGIN',
        $s$SELECT payments.create_account('tap_x_cash', 'USD', 'debit', true, ledger => 'tap_elsewhere')$s$,
        $s$SELECT payments.create_account('tap_x_alice', 'USD', ledger => 'tap_elsewhere')$s$]
$$;
CREATE FUNCTION pg_temp.accounts_named(sql text) RETURNS text LANGUAGE sql AS $$
    SELECT replace(replace(sql, '$from', $s$payments.account_id('tap_x_cash', 'tap_elsewhere')$s$),
                   '$to', $s$payments.account_id('tap_x_alice', 'tap_elsewhere')$s$)
$$;
CREATE FUNCTION pg_temp.insert_elsewhere(amounts text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.accounts_named(format(
        $s$INSERT INTO payments.transfers (from_account, to_account, amount)
           SELECT $from, $to, a::monetary FROM unnest(%L::text[]) AS a$s$, amounts))
$$;

-- the triggers -----------------------------------------------------------------

SELECT trigger_is('payments', 'transfers', 'transfer_statement_start',
                  'payments', 'transfer_statement_start',
                  'transfers has the trigger transfer_statement_start, running payments.transfer_statement_start()');
SELECT results_eq(
    $$SELECT t.tgconstraint = 0, (t.tgtype & 1) <> 0 AS for_each_row, (t.tgtype & 2) <> 0 AS before,
             (t.tgtype & 4) <> 0 AS on_insert, (t.tgtype & 8) <> 0 AS on_delete,
             (t.tgtype & 16) <> 0 AS on_update, t.tgenabled
        FROM pg_trigger t WHERE t.tgrelid = 'payments.transfers'::regclass
         AND t.tgname = 'transfer_statement_start'$$,
    $$VALUES (true, false, true, true, false, false, 'O'::"char")$$,
    'it fires BEFORE INSERT FOR EACH STATEMENT, enabled');
SELECT trigger_is('payments', 'transfers', 'transfer_apply', 'payments', 'transfer_apply',
                  'transfers has the trigger transfer_apply, running payments.transfer_apply()');
SELECT results_eq(
    $$SELECT t.tgconstraint = 0, (t.tgtype & 1) <> 0 AS for_each_row, (t.tgtype & 2) <> 0 AS before,
             (t.tgtype & 4) <> 0 AS on_insert, (t.tgtype & 8) <> 0 AS on_delete,
             (t.tgtype & 16) <> 0 AS on_update, t.tgnewtable, t.tgoldtable, t.tgenabled
        FROM pg_trigger t WHERE t.tgrelid = 'payments.transfers'::regclass
         AND t.tgname = 'transfer_apply'$$,
    $$VALUES (true, false, false, true, false, false, 'new_transfers'::name, NULL::name, 'O'::"char")$$,
    'it fires AFTER INSERT FOR EACH STATEMENT over the transition table new_transfers, enabled, not deferred');
SELECT hasnt_trigger('payments', 'transfers', 'transfer_after_insert',
                     'the row trigger transfer_after_insert is gone');
SELECT hasnt_trigger('payments', 'transfers', 'transfer_check_balanced',
                     'the deferred trigger transfer_check_balanced is gone');

-- one of the three insert triggers disabled: refused at once --------------------------
-- (on the second connection, in transactions rolled back: nothing stays)

SELECT is(pg_temp.elsewhere(pg_temp.elsewhere_accounts() || ARRAY[
        format('ALTER EVENT TRIGGER payments_trigger_guard DISABLE; ALTER TABLE payments.transfers DISABLE TRIGGER %I', trigger_name),
        pg_temp.insert_elsewhere('{1.00 USD}')]),
    ARRAY['5', '09000', format('trigger %s on payments.transfers does not fire', trigger_name),
          'The triggers transfer_statement_start, transfer_before_insert and transfer_apply post a transfer together; without one of them, transfers would be posted half done.',
          format('ALTER TABLE payments.transfers ENABLE TRIGGER %s.', trigger_name)],
    format('with %s disabled, an INSERT into transfers is refused at once', trigger_name))
  FROM unnest(ARRAY['transfer_statement_start', 'transfer_before_insert', 'transfer_apply'])
       AS trigger_name;
SELECT is((pg_temp.elsewhere(pg_temp.elsewhere_accounts() || ARRAY[
        'ALTER EVENT TRIGGER payments_trigger_guard DISABLE; ALTER TABLE payments.transfers DISABLE TRIGGER transfer_apply',
        pg_temp.accounts_named($s$SELECT payments.post_transfer($from, $to, '1.00 USD')$s$)]))[1:3],
    ARRAY['5', '09000', 'trigger transfer_apply on payments.transfers does not fire'],
    'so is post_transfer()');
SELECT is((pg_temp.elsewhere(pg_temp.elsewhere_accounts() || ARRAY[
        'ALTER EVENT TRIGGER payments_trigger_guard DISABLE; ALTER TABLE payments.transfers DISABLE TRIGGER transfer_apply',
        pg_temp.accounts_named($s$SELECT payments.post_transfers(ARRAY[ROW($from, $to, '1.00 USD', NULL, NULL)]
                                                                 ::payments.transfer_request[])$s$)]))[1:3],
    ARRAY['5', '09000', 'trigger transfer_apply on payments.transfers does not fire'],
    'and post_transfers()');
-- an earlier unapplied statement cannot exist: the first INSERT is refused,
-- and with its refusal caught, nothing of it is left to commit
SELECT is(pg_temp.elsewhere(pg_temp.elsewhere_accounts() || ARRAY[
        'ALTER EVENT TRIGGER payments_trigger_guard DISABLE; ALTER TABLE payments.transfers DISABLE TRIGGER transfer_apply',
        format('DO $do$ BEGIN %s; EXCEPTION WHEN SQLSTATE ''09000'' THEN NULL; END $do$',
               pg_temp.insert_elsewhere('{1.00 USD}')),
        'ALTER TABLE payments.transfers ENABLE TRIGGER transfer_apply',
        pg_temp.insert_elsewhere('{2.00 USD}'),
        pg_temp.accounts_named($s$DO $do$ BEGIN
            IF (SELECT count(*) FROM payments.transfers t
                 WHERE t.ledger = 'tap_elsewhere'
                   AND (SELECT count(*) FROM payments.postings p
                         WHERE p.ledger = t.ledger AND p.transfer_id = t.id) <> 2) > 0
               OR (SELECT count(*) FROM payments.transfers WHERE ledger = 'tap_elsewhere') <> 1 THEN
                RAISE EXCEPTION 'a transfer without its legs';
            END IF;
        END $do$$s$),
        'PREPARE TRANSACTION ''tap_035''']),
    ARRAY['0', '00000', NULL, NULL, NULL],
    'a refused INSERT leaves no transfer behind; the next one, triggers enabled, is applied');

SELECT is_empty($$SELECT * FROM pg_prepared_xacts WHERE gid = 'tap_035'$$,
                'the second connection left no prepared transaction');
SELECT is((SELECT array_agg(format('%s %s', tgname, tgenabled) ORDER BY tgname) FROM pg_trigger
            WHERE tgrelid = 'payments.transfers'::regclass
              AND tgname IN ('transfer_statement_start', 'transfer_before_insert', 'transfer_apply')),
          ARRAY['transfer_apply O', 'transfer_before_insert O', 'transfer_statement_start O'],
          'and every trigger it disabled is enabled');
SELECT is((SELECT count(*) FROM payments.accounts WHERE ledger = 'tap_elsewhere'), 0::bigint,
          'and nothing it wrote stayed');

-- the same, within this transaction --------------------------------------------------

SELECT create_account('tap_cash', 'USD', 'debit', true) AS cash \gset
SELECT create_account('tap_alice', 'USD') AS alice \gset
SELECT create_account('tap_bob', 'USD') AS bob \gset

SELECT * FROM pg_temp.refuses(
    format($q$DO $do$ BEGIN
        ALTER EVENT TRIGGER payments_trigger_guard DISABLE;
        ALTER TABLE payments.transfers DISABLE TRIGGER transfer_apply;
        INSERT INTO payments.transfers (from_account, to_account, amount) VALUES (%s, %s, '1.00 USD');
    END $do$ $q$, :cash, :alice),
    '09000', 'trigger transfer_apply on payments.transfers does not fire',
    'with transfer_apply disabled, an INSERT is refused at once');
SELECT is((SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'payments.transfers'::regclass
              AND tgname = 'transfer_apply'), 'O'::"char",
          'and the trigger is enabled again');
-- all three off (the trigger guard disabled first, by a superuser) is the
-- deliberate bypass, as in replica mode: the row goes in as it is
-- (verify_ledger() below finds such rows)
SAVEPOINT bypass;
ALTER EVENT TRIGGER payments_trigger_guard DISABLE;
ALTER TABLE payments.transfers DISABLE TRIGGER transfer_statement_start,
    DISABLE TRIGGER transfer_before_insert, DISABLE TRIGGER transfer_apply;
SELECT lives_ok(format($$INSERT INTO payments.transfers (id, entry_id, ledger, from_account, to_account, amount, created_at)
                         VALUES (nextval('payments.transfers_id_seq'), 0, 'default', %s, %s, '1.00 USD', now())$$,
                       :cash, :alice),
                'with all three disabled (the owner''s deliberate bypass), a row goes in as it is');
ROLLBACK TO SAVEPOINT bypass;

-- The engine runs as the extension's owner with its own search_path: an
-- operator planted ahead of pg_catalog on the caller's path is not used.
CREATE SCHEMA tap_evil;
CREATE FUNCTION tap_evil.eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'hijacked';
END $$;
CREATE FUNCTION tap_evil.eq(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'hijacked';
END $$;
CREATE OPERATOR tap_evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = tap_evil.eq);
CREATE OPERATOR tap_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = tap_evil.eq);
SELECT lives_ok(format($q$
    DO $do$ BEGIN
        SET LOCAL search_path = tap_evil, pg_catalog, public, payments;
        INSERT INTO payments.transfers (from_account, to_account, amount)
        VALUES (%1$s, %2$s, '7.00 USD'), (%2$s, %3$s, '1.00 USD');
        PERFORM payments.post_transfer(%1$s, %2$s, '1.00 USD', 'tap-evil-1');
        PERFORM payments.post_transfers(ARRAY[ROW(%1$s, %2$s, '1.00 USD', 'tap-evil-2', NULL)]
                                        ::payments.transfer_request[], 'tap-evil-entry');
        PERFORM payments.post_transfers(ARRAY[ROW(%1$s, %2$s, '1.00 USD', 'tap-evil-2', NULL)]
                                        ::payments.transfer_request[], 'tap-evil-entry');
        SET LOCAL search_path = public, payments;   -- before pgTAP reports
    END $do$ $q$, :cash, :alice, :bob),
    'the engine and the API resolve no operator through the caller''s search_path');
SET search_path = public, payments;

-- every posted transfer is applied ----------------------------------------------------

SELECT lives_ok(format($$SELECT payments.post_transfer(%s, %s, '10.00 USD')$$, :cash, :alice),
                'post_transfer()');
SELECT lives_ok(format($$INSERT INTO payments.transfers (from_account, to_account, amount)
                         VALUES (%s, %s, '1.00 USD'), (%s, %s, '2.00 USD')$$, :cash, :alice, :alice, :bob),
                'a multi-row INSERT');
SELECT is_empty($$SELECT t.id FROM payments.transfers t
                   WHERE (SELECT count(*) FROM payments.postings p
                           WHERE p.ledger = t.ledger AND p.transfer_id = t.id) <> 2$$,
                'every transfer of this transaction has its two legs');
SELECT is(pg_temp.elsewhere(pg_temp.elsewhere_accounts() || ARRAY[
        pg_temp.accounts_named($s$SELECT payments.post_transfer($from, $to, '1.00 USD')$s$),
        pg_temp.insert_elsewhere('{1.00 USD, 2.00 USD}'),
        pg_temp.accounts_named($s$SELECT payments.post_transfers(ARRAY[ROW($from, $to, '1.00 USD', NULL, NULL),
                                                                       ROW($to, $from, '1.00 USD', NULL, NULL)]
                                                                 ::payments.transfer_request[])$s$),
        pg_temp.accounts_named($s$
            INSERT INTO payments.transfers (from_account, to_account, amount, idempotency_key)
            VALUES ($from, $to, '1.00 USD', 'tap-x-1') ON CONFLICT DO NOTHING$s$),
        pg_temp.accounts_named($s$
            INSERT INTO payments.transfers (from_account, to_account, amount, idempotency_key)
            VALUES ($from, $to, '1.00 USD', 'tap-x-1') ON CONFLICT DO NOTHING$s$),
        'PREPARE TRANSACTION ''tap_035''']),
    ARRAY['0', '00000', NULL, NULL, NULL],
    'control: a transaction whose transfers were all applied, on every path, can be prepared to commit');

-- verify_ledger() finds what only a trigger bypass could do ------------------------

SELECT is_empty('SELECT * FROM payments.verify_ledger()', 'verify_ledger() finds nothing wrong so far');

SET LOCAL session_replication_role = replica;
-- a transfer without legs
INSERT INTO payments.transfers (id, entry_id, ledger, from_account, to_account, amount, created_at)
VALUES (nextval('payments.transfers_id_seq'), nextval('payments.entries_id_seq'), 'default',
        :cash, :bob, '9.00 USD', now()) RETURNING id AS bare \gset
SET LOCAL session_replication_role = origin;
SELECT is(balance(:bob), '3.00 USD'::monetary,
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
          'default USD: debits 23.00, credits 1020.00',
          'it names the ledger, the currency and both totals');

SET LOCAL session_replication_role = replica;
-- a leg with a wrong running balance, and a leg without a transfer
INSERT INTO payments.postings (id, ledger, transfer_id, account_id, side, amount, balance_after, created_at)
VALUES (nextval('payments.postings_id_seq'), 'default', -1, :alice, 'credit', '0.01 USD', '99.00 USD',
        clock_timestamp());
SET LOCAL session_replication_role = origin;
SELECT bag_has(
    'SELECT problem, account_id, transfer_id FROM payments.verify_ledger()',
    format($$VALUES ('posting balance_after differs from the running balance', %s::bigint, -1::bigint),
                    ('posting without a transfer', %s, -1)$$, :alice, :alice),
    'verify_ledger() finds a wrong running balance and a leg without a transfer');

SELECT dblink_disconnect('tap_elsewhere') AS done \gset
SELECT * FROM finish();
ROLLBACK;
