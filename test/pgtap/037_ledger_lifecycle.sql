-- A DBA cannot lose the ledger by accident (issue 7): every statement that
-- would drop extension payments is refused while its ledger holds a
-- transfer, and changes nothing; an empty ledger drops freely; SET
-- payments.allow_drop = on is the deliberate step.  History stays guarded
-- under session_replication_role = replica.  And no ALTER TABLE turns a
-- trigger of the ledger off, or changes when it fires.
BEGIN;
SET search_path = public, payments;
SELECT plan(53);

SELECT has_function('payments', 'drop_guard', ARRAY[]::name[], 'payments.drop_guard() exists');
SELECT is((SELECT ROW(evtevent, evtenabled, evttags)::text FROM pg_event_trigger
            WHERE evtname = 'payments_drop_guard'),
          '(ddl_command_start,A,"{""DROP EXTENSION"",""DROP SCHEMA"",""DROP OWNED""}")',
          'the drop guard fires ALWAYS (in replica mode too), before DROP EXTENSION, DROP SCHEMA and DROP OWNED');
SELECT is((SELECT ROW(evtevent, evtenabled, evttags)::text FROM pg_event_trigger
            WHERE evtname = 'payments_trigger_guard'),
          '(ddl_command_start,A,"{""ALTER TABLE""}")',
          'the trigger guard fires ALWAYS, before ALTER TABLE');
SELECT is((SELECT count(*)::int FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
            WHERE e.extname = 'payments' AND d.deptype = 'e' AND d.classid = 'pg_event_trigger'::regclass),
          2, 'both event triggers belong to the extension');

-- No ALTER TABLE turns a trigger of the ledger off or changes when it fires:
-- with all three insert triggers off, rows would go in without legs; with
-- the history guards off or demoted, history could be changed.
CREATE TEMP TABLE trigger_changes (n serial, sql text, description text);
INSERT INTO trigger_changes (sql, description) VALUES
    ('ALTER TABLE payments.transfers DISABLE TRIGGER ALL', 'DISABLE TRIGGER ALL on transfers'),
    ('ALTER TABLE payments.transfers DISABLE TRIGGER USER', 'DISABLE TRIGGER USER on transfers'),
    ('ALTER TABLE payments.postings DISABLE TRIGGER ALL', 'DISABLE TRIGGER ALL on postings'),
    ('ALTER TABLE payments.accounts DISABLE TRIGGER USER', 'DISABLE TRIGGER USER on accounts'),
    ('ALTER TABLE payments.entries DISABLE TRIGGER ALL', 'DISABLE TRIGGER ALL on entries'),
    ('ALTER TABLE payments.transfers DISABLE TRIGGER transfer_apply', 'disabling the engine'),
    ('ALTER TABLE payments.transfers DISABLE TRIGGER transfer_history_guard', 'disabling a history guard'),
    ('ALTER TABLE payments.transfers ENABLE TRIGGER transfer_history_guard', 'demoting a history guard from ALWAYS'),
    ('ALTER TABLE payments.transfers ENABLE TRIGGER ALL', 'ENABLE TRIGGER ALL, which would demote the history guards'),
    ('ALTER TABLE payments.transfers ENABLE REPLICA TRIGGER transfer_before_insert', 'ENABLE REPLICA on an insert trigger'),
    ('ALTER TABLE payments.transfers ENABLE ALWAYS TRIGGER transfer_apply', 'ENABLE ALWAYS on the engine (restores would post twice)'),
    ('ALTER TABLE payments.transfers ADD COLUMN note text, DISABLE TRIGGER transfer_apply', 'a disable among other commands');
SELECT throws_ok(c.sql, '09000', NULL, c.description || ' is refused')
  FROM (SELECT * FROM trigger_changes ORDER BY n) c;
SELECT is((SELECT array_agg(format('%s %s', tgname, tgenabled) ORDER BY tgname) FROM pg_trigger
            WHERE tgrelid = 'payments.transfers'::regclass),
          ARRAY['transfer_apply O', 'transfer_before_insert O', 'transfer_history_guard A',
                'transfer_statement_start O', 'transfer_truncate_guard A'],
          'and the triggers of transfers fire as they did');
-- what is not the ledger's stays the DBA's
CREATE FUNCTION pg_temp.life_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER life_audit BEFORE INSERT ON payments.transfers FOR EACH ROW EXECUTE FUNCTION pg_temp.life_noop();
SELECT lives_ok('ALTER TABLE payments.transfers DISABLE TRIGGER life_audit',
                'a trigger the DBA added may be disabled');
SELECT lives_ok('ALTER TABLE payments.transfers ENABLE TRIGGER transfer_apply',
                'enabling a trigger that already fires so changes nothing, and is allowed');
DROP TRIGGER life_audit ON payments.transfers;

-- An empty ledger (accounts, but no transfer) drops freely.
SAVEPOINT empty;
SELECT payments.create_account('life_bank', 'USD', 'debit', true);
SELECT lives_ok('DROP EXTENSION payments', 'an empty ledger is dropped without ceremony');
SELECT hasnt_extension('payments', 'and is gone');
ROLLBACK TO SAVEPOINT empty;

SELECT payments.create_account('life_bank', 'USD', 'debit', true) AS bank,
       payments.create_account('life_alice', 'USD') AS alice \gset
SELECT payments.post_transfer(:bank, :alice, '10.00 USD', 'life-1');
SELECT payments.post_transfer(:alice, :bank, '1.00 USD');
SELECT payments.post_transfers(ARRAY[ROW(:bank, :alice, '1.00 USD', NULL, NULL),
                                     ROW(:alice, :bank, '1.00 USD', NULL, NULL)]::payments.transfer_request[],
                               'life-entry', '{"batch": 1}');
SELECT is(current_setting('payments.allow_drop'), 'off', 'payments.allow_drop is off by default');

CREATE TEMP TABLE before AS
SELECT (SELECT count(*) FROM payments.transfers) AS transfers,
       (SELECT count(*) FROM payments.postings) AS postings,
       (SELECT count(*) FROM payments.accounts) AS accounts,
       (SELECT count(*) FROM payments.entries) AS entries;

-- Each way of dropping it, refused with the same message.
SELECT throws_like(stmt, 'cannot drop extension payments: its ledger holds % transfers',
                   stmt || ' is refused while the ledger holds transfers')
  FROM unnest(ARRAY['DROP EXTENSION payments',
                    'DROP EXTENSION payments CASCADE',
                    'DROP EXTENSION IF EXISTS payments, pgtap CASCADE',
                    'DROP EXTENSION monetary CASCADE',
                    'DROP SCHEMA payments CASCADE',
                    'DROP SCHEMA public CASCADE',
                    'DROP OWNED BY ' || quote_ident(current_user)]) AS stmt;
SELECT throws_ok('DROP EXTENSION payments', '2BP01', NULL, 'with SQLSTATE 2BP01');
-- (without CASCADE, PostgreSQL itself keeps monetary and schema public)
SELECT throws_ok('DROP EXTENSION monetary', '2BP01',
                 'cannot drop extension monetary because other objects depend on it',
                 'DROP EXTENSION monetary without CASCADE is PostgreSQL''s own refusal');

-- The message says what would be lost and how to drop deliberately.
CREATE FUNCTION pg_temp.refusal(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE detail text; hint text;
BEGIN
    EXECUTE stmt;
    RETURN 'not refused';
EXCEPTION WHEN dependent_objects_still_exist THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN detail || ' / ' || hint;
END $$;
SELECT matches(pg_temp.refusal('DROP EXTENSION payments CASCADE'),
               '^Dropping it deletes every ledger''s accounts \(\d+\), transfers and postings, and every exchange rate\. / .*SET payments\.allow_drop = on',
               'the detail counts the accounts, the hint names the deliberate step');

-- Refusals changed nothing.
SELECT has_extension('payments', 'payments is still installed');
SELECT has_extension('monetary', 'monetary is still installed');
SELECT has_schema('payments', 'schema payments is still there');
SELECT results_eq('SELECT (SELECT count(*) FROM payments.transfers), (SELECT count(*) FROM payments.postings),
                          (SELECT count(*) FROM payments.accounts), (SELECT count(*) FROM payments.entries)',
                  'SELECT transfers, postings, accounts, entries FROM before',
                  'every transfer, posting, account and entry is still there');
SELECT is(payments.balance(:alice), '9.00 USD'::monetary, 'and the balances are unchanged');

-- Replica mode (restores, logical replication's apply, some poolers)
-- changes none of it.
SET LOCAL session_replication_role = replica;
SELECT throws_like('DROP EXTENSION payments CASCADE', 'cannot drop extension payments%',
                   'DROP EXTENSION is refused under session_replication_role = replica');
SELECT throws_ok(format('UPDATE payments.postings SET amount = ''1.00 USD'' WHERE account_id = %s', :alice),
                 '0A000', 'cannot update payments.postings', 'UPDATE of postings is refused in replica mode');
SELECT throws_ok(format('DELETE FROM payments.postings WHERE account_id = %s', :alice),
                 '0A000', 'cannot delete from payments.postings', 'DELETE of postings is refused in replica mode');
SELECT throws_ok('UPDATE payments.transfers SET metadata = ''{}''', '0A000',
                 'cannot update payments.transfers', 'UPDATE of transfers is refused in replica mode');
SELECT throws_ok('DELETE FROM payments.transfers', '0A000',
                 'cannot delete from payments.transfers', 'DELETE of transfers is refused in replica mode');
SELECT throws_ok('TRUNCATE payments.postings', '0A000',
                 'cannot truncate payments.postings', 'TRUNCATE of postings is refused in replica mode');
SELECT throws_ok('TRUNCATE payments.transfers CASCADE', '0A000',
                 'cannot truncate payments.transfers', 'TRUNCATE of transfers is refused in replica mode');
SELECT throws_ok(format('DELETE FROM payments.accounts WHERE id = %s', :alice), '0A000',
                 'cannot delete from payments.accounts', 'DELETE of accounts is refused in replica mode');
SELECT throws_ok('UPDATE payments.entries SET metadata = ''{}''', '0A000',
                 'cannot update payments.entries', 'UPDATE of entries is refused in replica mode');
SELECT throws_ok('DELETE FROM payments.entries', '0A000',
                 'cannot delete from payments.entries', 'DELETE of entries is refused in replica mode');
SELECT throws_ok('TRUNCATE payments.entries', '0A000',
                 'cannot truncate payments.entries', 'TRUNCATE of entries is refused in replica mode');
SELECT is((SELECT count(*) FROM payments.entries WHERE idempotency_key = 'life-entry'), 1::bigint,
          'the entry is still there');
SET LOCAL session_replication_role = origin;
SELECT is(payments.balance(:alice), '9.00 USD'::monetary, 'the balances are still unchanged');

-- The deliberate step: only a superuser may take it, and then it drops.
CREATE ROLE life_owner_of_nothing;
SET LOCAL ROLE life_owner_of_nothing;
SELECT throws_ok('SET payments.allow_drop = on', '42501', NULL,
                 'only a superuser may set payments.allow_drop');
RESET ROLE;
SET LOCAL payments.allow_drop = on;
SELECT lives_ok('DROP EXTENSION payments CASCADE',
                'with payments.allow_drop = on, DROP EXTENSION payments CASCADE drops the ledger');
SELECT hasnt_extension('payments', 'payments is gone');

SELECT * FROM finish();
ROLLBACK;
