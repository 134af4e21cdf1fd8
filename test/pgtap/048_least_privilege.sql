-- Least privilege (DESIGN.md section 6): per role, as the README's recipes
-- grant it, what it may do succeeds and everything else is refused with the
-- README's SQLSTATE and leaves nothing behind.  Tenants bound to ledgers
-- (bind_role()) on every path: the API, INSERT, COPY and SELECT; system
-- accounts kept from the application; every transfer attributed by the
-- ledger to the role that posted it.
BEGIN;
SET search_path = public, payments;
SELECT plan(113);

\ir lib/ledger_helpers.sql

-- what sql does as role: {'00000', first column} or {sqlstate, message}
CREATE FUNCTION pg_temp.as_role(role name, sql text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    result text;
    state text;
    msg text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', role);
    BEGIN
        IF sql ~* '^\s*copy' THEN
            EXECUTE sql;            -- returns nothing
        ELSE
            EXECUTE sql INTO result;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        RESET ROLE;
        RETURN ARRAY[state, msg];
    END;
    RESET ROLE;
    RETURN ARRAY['00000', result];
END
$$;
-- refused as role with errcode, and nothing left behind: two tests
CREATE FUNCTION pg_temp.refused_as(role name, sql text, errcode text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    before text := pg_temp.ledger_state();
BEGIN
    RETURN NEXT is((pg_temp.as_role(role, sql))[1], errcode, description);
    RETURN NEXT is(pg_temp.ledger_state(), before, description || ': leaves nothing behind');
END
$$;

-- two tenants' books, and the system accounts that fund them (the DBA's)
SELECT payments.create_system_account('bank-a', 'USD', ledger => 'lp-a') AS bank_a \gset
SELECT payments.create_account('alice', 'USD', ledger => 'lp-a') AS alice \gset
SELECT payments.create_account('amir', 'USD', ledger => 'lp-a') AS amir \gset
SELECT payments.create_system_account('bank-b', 'USD', ledger => 'lp-b') AS bank_b \gset
SELECT payments.create_account('bob', 'USD', ledger => 'lp-b') AS bob \gset
SELECT payments.post_transfer(:bank_a, :alice, '100.00 USD') AS t_a \gset
SELECT payments.post_transfer(:bank_b, :bob, '100.00 USD') AS t_b \gset
SELECT payments.hold(:bob, :bank_b, '5.00 USD') AS hold_b \gset

-- the README's recipes ----------------------------------------------------------

-- an application (the API, not the tables), bound to lp-a: a tenant's service
CREATE ROLE lp_app_a NOLOGIN;
-- the same grants, bound to nothing: a single-tenant install's application
CREATE ROLE lp_app NOLOGIN;
-- a group bound to lp-b, and a role in it
CREATE ROLE lp_tenant_b NOLOGIN;
CREATE ROLE lp_app_b NOLOGIN IN ROLE lp_tenant_b;
GRANT USAGE ON SCHEMA payments TO lp_app_a, lp_app, lp_tenant_b;
GRANT EXECUTE ON FUNCTION
    payments.create_account(text, currency, text, boolean, jsonb, text),
    payments.post_transfer(bigint, bigint, monetary, text, jsonb),
    payments.post_transfer_by_name(text, text, text, monetary, text, jsonb),
    payments.post_transfers(payments.transfer_request[], text, jsonb),
    payments.balance(bigint, timestamptz), payments.balance_by_name(text, text, timestamptz),
    payments.available_balance(bigint), payments.available_balance_by_name(text, text),
    payments.account_id(text, text),
    payments.hold(bigint, bigint, monetary, timestamptz, text, jsonb),
    payments.capture(bigint, monetary, text), payments.release(bigint, text),
    payments.reverse_transfer(bigint, monetary, text, jsonb),
    payments.reverse_entry(bigint, text, jsonb),
    payments.statement(bigint, timestamptz, timestamptz)
    TO lp_app_a, lp_app, lp_tenant_b;
SELECT payments.bind_role('lp_app_a', 'lp-a');
SELECT payments.bind_role('lp_tenant_b', 'lp-b');
-- an operator of lp-a: system accounts, freezing and closing, hot accounts
CREATE ROLE lp_ops_a NOLOGIN;
GRANT USAGE ON SCHEMA payments TO lp_ops_a;
GRANT EXECUTE ON FUNCTION
    payments.create_system_account(text, currency, text, boolean, jsonb, text),
    payments.create_account(text, currency, text, boolean, jsonb, text),
    payments.set_account_status(bigint, text), payments.set_hot(bigint, boolean, integer),
    payments.expire_holds(integer), payments.close_period(text, timestamptz)
    TO lp_ops_a;
SELECT payments.bind_role('lp_ops_a', 'lp-a');
-- an analyst of lp-a: SELECT on the tables and views
CREATE ROLE lp_analyst_a NOLOGIN;
GRANT USAGE ON SCHEMA payments TO lp_analyst_a;
GRANT SELECT ON ALL TABLES IN SCHEMA payments TO lp_analyst_a;
GRANT EXECUTE ON FUNCTION payments.changes_since(text, integer), payments.change_cursor(),
    payments.reconciliation_report() TO lp_analyst_a;
SELECT payments.bind_role('lp_analyst_a', 'lp-a');
-- a loader of lp-a: INSERT on transfers (COPY needs BYPASSRLS as well)
CREATE ROLE lp_loader_a NOLOGIN;
CREATE ROLE lp_copier_a NOLOGIN BYPASSRLS;
GRANT USAGE ON SCHEMA payments TO lp_loader_a, lp_copier_a;
GRANT INSERT ON payments.transfers TO lp_loader_a, lp_copier_a;
GRANT pg_execute_server_program TO lp_loader_a, lp_copier_a;   -- the tests' COPY FROM PROGRAM
SELECT payments.bind_role('lp_loader_a', 'lp-a');
SELECT payments.bind_role('lp_copier_a', 'lp-a');

-- a tenant's application in its own ledger ------------------------------------------

SELECT is((pg_temp.as_role('lp_app_a', format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$,
                                               :alice, :amir)))[1], '00000',
          'a tenant''s application posts in its ledger');
SELECT is((pg_temp.as_role('lp_app_a', $$SELECT payments.post_transfer_by_name('lp-a', 'alice', 'amir', '1.00 USD')$$))[1],
          '00000', 'by name too');
SELECT is((pg_temp.as_role('lp_app_a', format($$SELECT payments.capture(payments.hold(%s, %s, '2.00 USD'))$$,
                                               :alice, :amir)))[1], '00000', 'holds and captures');
SELECT is((pg_temp.as_role('lp_app_a', format($$SELECT payments.balance(%s)$$, :alice)))[2], '96.00 USD',
          'reads its balances');
SELECT is((pg_temp.as_role('lp_app_a', $$SELECT payments.create_account('anna', 'USD', ledger => 'lp-a')$$))[1],
          '00000', 'opens customer accounts in its ledger');

-- ... and in another's: refused on every path, leaving nothing ---------------------

SELECT * FROM pg_temp.refused_as('lp_app_a', format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :bank_b, :bob),
                                 '23503', 'another ledger''s accounts do not exist for it: post_transfer()');
SELECT * FROM pg_temp.refused_as('lp_app_a', format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :alice, :bob),
                                 '23503', 'nor from its own account to one of another ledger');
SELECT * FROM pg_temp.refused_as('lp_app_a', $$SELECT payments.post_transfer_by_name('lp-b', 'bank-b', 'bob', '1.00 USD')$$,
                                 '42501', 'naming another ledger is refused: post_transfer_by_name()');
SELECT * FROM pg_temp.refused_as('lp_app_a',
    format($$SELECT payments.post_transfers(ARRAY[(%s, %s, '1.00 USD', NULL, NULL)]::payments.transfer_request[])$$, :bank_b, :bob),
    '23503', 'post_transfers()');
SELECT * FROM pg_temp.refused_as('lp_app_a', format($$SELECT payments.hold(%s, %s, '1.00 USD')$$, :bob, :bank_b),
                                 '23503', 'hold()');
SELECT * FROM pg_temp.refused_as('lp_app_a', format($$SELECT payments.capture(%s)$$, :hold_b),
                                 '23503', 'capture() of another ledger''s hold');
SELECT * FROM pg_temp.refused_as('lp_app_a', format($$SELECT payments.release(%s)$$, :hold_b),
                                 '23503', 'release()');
SELECT * FROM pg_temp.refused_as('lp_app_a', format($$SELECT payments.reverse_transfer(%s)$$, :t_b),
                                 '23503', 'reverse_transfer()');
SELECT * FROM pg_temp.refused_as('lp_app_a',
    format($$SELECT payments.reverse_entry((SELECT entry_id FROM payments.transfers WHERE id = %s))$$, :t_b),
    '42501', 'reverse_entry() (it cannot even read the entry''s id)');
SELECT * FROM pg_temp.refused_as('lp_app_a', $$SELECT payments.create_account('mallory', 'USD', ledger => 'lp-b')$$,
                                 '42501', 'create_account() in another ledger');
SELECT is((pg_temp.as_role('lp_app_a', format($$SELECT payments.balance(%s)$$, :bob)))[1], '23503',
          'balance() of another ledger''s account: it does not exist');
SELECT is((pg_temp.as_role('lp_app_a', format($$SELECT payments.available_balance(%s)$$, :bob)))[1], '23503',
          'available_balance()');
SELECT is((pg_temp.as_role('lp_app_a', $$SELECT payments.balance_by_name('lp-b', 'bob')$$))[1], '42501',
          'balance_by_name() in another ledger');
SELECT is((pg_temp.as_role('lp_app_a', $$SELECT payments.account_id('bob', 'lp-b')$$))[1], '42501',
          'account_id() in another ledger');
SELECT is((pg_temp.as_role('lp_app_a', format($$SELECT count(*) FROM payments.statement(%s, '-infinity', 'infinity')$$, :bob)))[1],
          '23503', 'statement() of another ledger''s account');
SELECT is((pg_temp.as_role('lp_app_a', $$SELECT payments.post_transfer_by_name('lp-b', 'bank-b', 'bob', '1.00 USD')$$))[2],
          'role "lp_app_a" may not use ledger "lp-b"', 'the refusal names the role and the ledger');

-- a role in a bound group is bound with it
SELECT is((pg_temp.as_role('lp_app_b', format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :bob, :bank_b)))[1],
          '00000', 'a role in a group bound to lp-b posts in lp-b');
SELECT * FROM pg_temp.refused_as('lp_app_b', format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :alice, :amir),
                                 '23503', 'and not in lp-a');

-- a login bound to lp-a that SET ROLEs to a group bound to nothing stays
-- confined: the session's login binds as well as the role it acts as
CREATE ROLE lp_login_a NOLOGIN IN ROLE lp_app;
SELECT payments.bind_role('lp_login_a', 'lp-a');
CREATE FUNCTION pg_temp.as_login_then_role(login name, role name, sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    state text := '00000';
BEGIN
    EXECUTE format('SET LOCAL SESSION AUTHORIZATION %I', login);
    EXECUTE format('SET LOCAL ROLE %I', role);
    BEGIN
        EXECUTE sql;
    EXCEPTION WHEN OTHERS THEN
        state := SQLSTATE;
    END;
    RESET ROLE;
    RESET SESSION AUTHORIZATION;
    RETURN state;
END
$$;
SELECT is(pg_temp.as_login_then_role('lp_login_a', 'lp_app',
              format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :bank_b, :bob)),
          '23503', 'a login bound to lp-a cannot escape it by SET ROLE to an unbound group');
SELECT is(pg_temp.as_login_then_role('lp_login_a', 'lp_app',
              format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :alice, :bank_a)),
          '00000', 'and still posts in lp-a');
CREATE FUNCTION pg_temp.detail_as_login_then_role(login name, role name, sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE format('SET LOCAL SESSION AUTHORIZATION %I', login);
    EXECUTE format('SET LOCAL ROLE %I', role);
    BEGIN
        EXECUTE sql;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    END;
    RESET ROLE;
    RESET SESSION AUTHORIZATION;
    RETURN detail;
END
$$;
SELECT is(pg_temp.detail_as_login_then_role('lp_login_a', 'lp_app',
              $$SELECT payments.post_transfer_by_name('lp-b', 'bank-b', 'bob', '1.00 USD')$$),
          'The session''s login "lp_login_a" is bound to ledger "lp-a".',
          'the refusal says it is the login that is bound');
CREATE ROLE lp_pooler NOLOGIN;
GRANT lp_app_a TO lp_pooler;
SELECT is(pg_temp.as_login_then_role('lp_pooler', 'lp_app_a',
              format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :bank_b, :bob)),
          '23503', 'a pooler''s login bound to nothing, SET ROLE to a tenant''s role, is confined to the tenant''s ledger');

-- an application bound to nothing: today's behaviour
SELECT is((pg_temp.as_role('lp_app', format($$SELECT payments.post_transfer(%s, %s, '1.00 USD') > 0
                                                   AND payments.post_transfer(%s, %s, '1.00 USD') > 0$$,
                                             :alice, :amir, :bob, :bank_b)))[2], 'true',
          'an application bound to no ledger posts in every ledger');

-- system accounts ------------------------------------------------------------------------

SELECT * FROM pg_temp.refused_as('lp_app', $$SELECT payments.create_account('mint', 'USD', allow_negative => true, ledger => 'lp-a')$$,
                                 '42501', 'the application cannot create an account that may go negative');
SELECT * FROM pg_temp.refused_as('lp_app', $$SELECT payments.create_account('mint', 'USD', 'debit', ledger => 'lp-a')$$,
                                 '42501', 'nor a debit-normal one');
SELECT * FROM pg_temp.refused_as('lp_app', $$SELECT payments.create_system_account('mint', 'USD', ledger => 'lp-a')$$,
                                 '42501', 'nor call create_system_account()');
SELECT * FROM pg_temp.refused_as('lp_app', format($$SELECT payments.set_account_status(%s, 'frozen')$$, :bob),
                                 '42501', 'nor freeze accounts');
GRANT UPDATE (allow_negative) ON payments.accounts TO lp_app;
SELECT * FROM pg_temp.refused_as('lp_app', format($$UPDATE payments.accounts SET allow_negative = true WHERE id = %s$$, :alice),
                                 '42501', 'nor, granted UPDATE on the column, let an account go negative');
REVOKE UPDATE (allow_negative) ON payments.accounts FROM lp_app;
SELECT is((pg_temp.as_role('lp_ops_a', $$SELECT payments.create_system_account('settlement-a', 'USD', ledger => 'lp-a') > 0$$))[2],
          'true', 'the operator creates system accounts in its ledger');
SELECT is((pg_temp.as_role('lp_ops_a', format($$SELECT payments.set_account_status(%s, 'frozen')$$, :amir)))[1],
          '00000', 'and freezes its accounts');
SELECT * FROM pg_temp.refused_as('lp_ops_a', $$SELECT payments.create_system_account('mint', 'USD', ledger => 'lp-b')$$,
                                 '42501', 'not in another ledger');
SELECT * FROM pg_temp.refused_as('lp_ops_a', format($$SELECT payments.set_account_status(%s, 'frozen')$$, :bob),
                                 '23503', 'nor freezes another ledger''s accounts');
SELECT * FROM pg_temp.refused_as('lp_ops_a', $$SELECT payments.close_period('lp-b', now() - interval '1 day')$$,
                                 '42501', 'nor closes another ledger''s period');
UPDATE payments.accounts SET allow_negative = false WHERE id = :bank_a;
SELECT is((pg_temp.as_role('lp_ops_a', format($$SELECT payments.set_hot(%s)$$, :bank_a)))[1], '00000',
          'it makes its accounts hot');

-- the right is read again when it is revoked, in a session that used it
SELECT is((pg_temp.as_role('lp_ops_a', $$SELECT payments.create_system_account('settlement-a2', 'USD', ledger => 'lp-a') > 0$$))[2],
          'true', 'the operator creates a system account');
REVOKE EXECUTE ON FUNCTION payments.create_system_account(text, currency, text, boolean, jsonb, text) FROM lp_ops_a;
SELECT * FROM pg_temp.refused_as('lp_ops_a', $$SELECT payments.create_account('mint', 'USD', 'debit', true, ledger => 'lp-a')$$,
                                 '42501', 'revoked, at once: no system account through create_account()');
GRANT EXECUTE ON FUNCTION payments.create_system_account(text, currency, text, boolean, jsonb, text) TO lp_ops_a;
-- what names another ledger learns nothing of it
SELECT payments.create_fx_account('USD', 'lp-b');
GRANT EXECUTE ON FUNCTION payments.create_fx_account(currency, text, boolean) TO lp_ops_a;
SELECT * FROM pg_temp.refused_as('lp_ops_a', $$SELECT payments.create_fx_account('USD', 'lp-b')$$,
                                 '42501', 'create_fx_account() in another ledger, whose FX account exists');
SELECT * FROM pg_temp.refused_as('lp_ops_a', format($$SELECT payments.set_hot(%s)$$, :bob),
                                 '23503', 'set_hot() of another ledger''s account: it does not exist');

-- direct SQL: a loader and an analyst -----------------------------------------------------

SELECT * FROM pg_temp.refused_as('lp_loader_a',
    format($$INSERT INTO payments.transfers (ledger, from_account, to_account, amount) VALUES ('lp-b', %s, %s, '1.00 USD')$$, :bank_b, :bob),
    '42501', 'a loader bound to lp-a cannot INSERT into lp-b');
SELECT * FROM pg_temp.refused_as('lp_loader_a',
    format($$INSERT INTO payments.transfers (from_account, to_account, amount) VALUES (%s, %s, '1.00 USD')$$, :bank_b, :bob),
    '23503', 'nor with the ledger left out');
SELECT * FROM pg_temp.refused_as('lp_loader_a',
    format($$INSERT INTO payments.transfers (from_account, to_account, amount, status, pending_id)
             VALUES (%s, %s, '5.00 USD', 'voided', %s)$$, :alice, :amir, :hold_b),
    '23503', 'nor resolve another ledger''s hold: it does not exist');
SELECT * FROM pg_temp.refused_as('lp_loader_a',
    format($$INSERT INTO payments.transfers (ledger, from_account, to_account, amount, reverses)
             VALUES ('lp-a', %s, %s, '1.00 USD', %s)$$, :alice, :bank_a, :t_b),
    '23503', 'nor reverse another ledger''s transfer');
SELECT is((pg_temp.as_role('lp_loader_a',
    format($$WITH i AS (INSERT INTO payments.transfers (from_account, to_account, amount) VALUES (%s, %s, '1.00 USD'))
             SELECT 'inserted'$$, :alice, :bank_a)))[1],
    '00000', 'it inserts into lp-a');
SELECT * FROM pg_temp.refused_as('lp_loader_a',
    pg_temp.copy_from('payments.transfers (from_account, to_account, amount)', ARRAY[format('%s,%s,1.00 USD', :alice, :bank_a)]),
    '0A000', 'COPY into a table with row level security needs BYPASSRLS');
SELECT is((pg_temp.as_role('lp_copier_a',
    pg_temp.copy_from('payments.transfers (from_account, to_account, amount)', ARRAY[format('%s,%s,1.00 USD', :alice, :bank_a)])))[1],
    '00000', 'a loader with BYPASSRLS copies into its ledger');
SELECT * FROM pg_temp.refused_as('lp_copier_a',
    pg_temp.copy_from('payments.transfers (ledger, from_account, to_account, amount)', ARRAY[format('lp-b,%s,%s,1.00 USD', :bank_b, :bob)]),
    '42501', 'and not into another (its bindings hold without row level security)');

SELECT is((pg_temp.as_role('lp_analyst_a', $$SELECT string_agg(DISTINCT ledger, ',') FROM payments.transfers$$))[2],
          'lp-a', 'an analyst bound to lp-a reads only its transfers');
SELECT is((pg_temp.as_role('lp_analyst_a', $$SELECT string_agg(DISTINCT ledger, ',') FROM payments.postings$$))[2],
          'lp-a', 'postings');
SELECT is((pg_temp.as_role('lp_analyst_a', $$SELECT string_agg(DISTINCT ledger, ',') FROM payments.accounts$$))[2],
          'lp-a', 'accounts');
SELECT is((pg_temp.as_role('lp_analyst_a', $$SELECT string_agg(DISTINCT ledger, ',') FROM payments.account_balances$$))[2],
          'lp-a', 'account_balances');
SELECT is((pg_temp.as_role('lp_analyst_a', $$SELECT string_agg(DISTINCT ledger, ',') FROM payments.trial_balance$$))[2],
          'lp-a', 'the trial balance');
SELECT is((pg_temp.as_role('lp_analyst_a', $$SELECT count(*) FROM payments.holds WHERE ledger = 'lp-b'$$))[2],
          '0', 'the holds view');
SELECT is((pg_temp.as_role('lp_analyst_a', $$SELECT count(*) FROM payments.open_holds WHERE ledger = 'lp-b'$$))[2],
          '0', 'open holds');
SELECT is((pg_temp.as_role('lp_analyst_a', $$SELECT count(*) FROM payments.role_ledgers WHERE ledger = 'lp-b'$$))[2],
          '0', 'and not the other tenants'' bindings');
SELECT is((pg_temp.as_role('lp_analyst_a', $$SELECT count(*) FROM payments.reconciliation_report() WHERE ledger = 'lp-b'$$))[2],
          '0', 'its reconciliation report is of its ledger');
-- a function of its own, cheaper than any filter, sees no other ledger's
-- row through the views (it raises if it does)
CREATE FUNCTION pg_temp.peek(ledger text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    IF ledger = 'lp-b' THEN
        RAISE EXCEPTION 'saw a row of lp-b';
    END IF;
    RETURN true;
END $$;
SELECT is((pg_temp.as_role('lp_analyst_a', format($$SELECT count(*) FROM payments.%I WHERE pg_temp.peek(ledger)$$, v)))[1],
          '00000', format('a function of the reader''s sees no other ledger''s row through %s', v))
  FROM unnest(ARRAY['account_volumes', 'account_balances', 'trial_balance', 'fx_positions',
                    'holds', 'monitor_holds']) v;
SELECT is((pg_temp.as_role('lp_analyst_a', $$SELECT count(*) FROM payments.transfers WHERE id = $$ || :t_b))[2],
          '0', 'another ledger''s transfer by id: nothing');
SELECT is((pg_temp.as_role('lp_analyst_a',
    format($$UPDATE payments.transfers SET amount = amount WHERE id = %s$$, :t_a)))[1], '42501',
    'and it writes nothing');

-- attribution ----------------------------------------------------------------------------

SELECT is((SELECT posted_by || '/' || coalesce(posted_by_session::text, '-') FROM payments.transfers WHERE id = :t_a),
          current_user || '/-', 'a transfer records the role that posted it');
SELECT pg_temp.as_role('lp_app_a', format($$SELECT payments.post_transfer(%s, %s, '3.00 USD')$$, :alice, :bank_a)) AS posted \gset
SELECT is((SELECT posted_by || '/' || posted_by_session FROM payments.transfers WHERE id = (:'posted'::text[])[2]::bigint),
          'lp_app_a/' || session_user, 'through the API: the role the client set, not the owner, and the session''s user');
SELECT is((SELECT posted_by::text FROM payments.transfers
            WHERE id = (SELECT max(id) FROM payments.transfers WHERE ledger = 'lp-a' AND posted_by = 'lp_copier_a')),
          'lp_copier_a', 'through COPY: the loader');
SELECT * FROM pg_temp.refuses(format($$INSERT INTO payments.transfers (from_account, to_account, amount, posted_by)
                                     VALUES (%s, %s, '1.00 USD', 'someone_else')$$, :alice, :amir),
                              '428C9', 'posted_by of transfers is assigned by the ledger', 'the attribution cannot be forged');
SELECT * FROM pg_temp.refuses(format($$INSERT INTO payments.transfers (from_account, to_account, amount, posted_by_session)
                                     VALUES (%s, %s, '1.00 USD', 'someone_else')$$, :alice, :amir),
                              '428C9', NULL, 'nor the session''s part');
SELECT throws_ok(format($$UPDATE payments.transfers SET posted_by = 'someone_else' WHERE id = %s$$, :t_a),
                 '0A000', NULL, 'nor changed afterwards');
SELECT is((SELECT posted_by::text FROM payments.statement(:alice, '-infinity', 'infinity') WHERE transfer_id = (:'posted'::text[])[2]::bigint),
          'lp_app_a', 'statement() shows who posted each leg');

-- binding ------------------------------------------------------------------------------

SELECT throws_ok($$SELECT payments.bind_role('postgres', 'lp-a')$$, '22023', NULL,
                 'a superuser cannot be bound: it would not be confined');
SELECT throws_ok($$SELECT payments.bind_role('lp_app', NULL)$$, '22004', NULL, 'bind_role() needs a ledger');
SELECT throws_ok(format($$SELECT payments.bind_role('lp_app', %L)$$, repeat('l', 65)), '22001', NULL,
                 'a ledger is 1 to 64 bytes, as everywhere');
SELECT ok(NOT has_function_privilege('public', 'payments.bind_role(regrole, text)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'payments.create_system_account(text, currency, text, boolean, jsonb, text)', 'EXECUTE'),
          'binding and system accounts are granted by the DBA');
SELECT payments.bind_role('lp_app_a', 'lp-b');
SELECT is((pg_temp.as_role('lp_app_a', format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :bank_b, :bob)))[1],
          '00000', 'bound to a second ledger, the role posts there too, at once');
SELECT ok(payments.unbind_role('lp_app_a', 'lp-b'), 'unbind_role() says the binding was there');
SELECT is((pg_temp.as_role('lp_app_a', format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, :bank_b, :bob)))[1],
          '23503', 'unbound from it, not any more');

SELECT is((SELECT count(*) FROM payments.verify_ledger()), 0::bigint, 'the books verify');

SELECT * FROM finish();
ROLLBACK;
