-- The ledger's contract with DBAs: the objects of DESIGN.md section 4 with
-- their columns, keys (every one starting with ledger), indexes and
-- triggers; privileges (PUBLIC may neither read
-- nor write the ledger; an application role granted the API can post but
-- not touch the tables; an analyst role granted SELECT can read but neither
-- write nor post); SECURITY DEFINER functions with a fixed search_path;
-- volatility labels; the tables kept by pg_dump.
BEGIN;
SET search_path = public, payments;
SELECT plan(181);

-- helpers, in pg_temp: gone with the rollback -----------------------------

-- Runs sql as role: {'00000', its first column as text} or {sqlstate, message}.
CREATE FUNCTION pg_temp.as_role(role name, sql text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    result text;
    state text;
    msg text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', role);
    BEGIN
        EXECUTE sql INTO result;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        RESET ROLE;
        RETURN ARRAY[state, msg];
    END;
    RESET ROLE;
    RETURN ARRAY['00000', result];
END
$$;

-- the ledger's API, as the DBA grants it
CREATE TEMP TABLE api (signature text, volatility text, writes boolean);
INSERT INTO api VALUES
    ('create_account(text, currency, text, boolean, jsonb, text)', 'volatile', true),
    ('create_system_account(text, currency, text, boolean, jsonb, text)', 'volatile', true),
    ('post_transfer(bigint, bigint, monetary, text, jsonb)', 'volatile', true),
    ('post_transfer_by_name(text, text, text, monetary, text, jsonb)', 'volatile', true),
    ('post_transfers(payments.transfer_request[], text, jsonb)', 'volatile', true),
    ('set_account_status(bigint, text)', 'volatile', true),
    ('set_account_status_by_name(text, text, text)', 'volatile', true),
    ('account_id(text, text)', 'stable', false),
    ('account_checked(bigint)', 'stable', false),
    ('balance(bigint, timestamp with time zone)', 'stable', false),
    ('balance_by_name(text, text, timestamp with time zone)', 'stable', false),
    ('available_balance(bigint)', 'stable', false),
    ('available_balance_by_name(text, text)', 'stable', false),
    ('verify_ledger()', 'stable', false),
    ('statement(bigint, timestamp with time zone, timestamp with time zone)', 'stable', false);
CREATE TEMP TABLE trigger_functions (name text);
INSERT INTO trigger_functions VALUES ('transfer_statement_start'), ('transfer_before_insert'),
    ('transfer_apply'), ('account_guard'), ('ledger_write_guard'), ('history_guard');

-- tables, columns, views ----------------------------------------------------------

SELECT has_table('payments', 'accounts', 'table payments.accounts exists');
SELECT has_table('payments', 'transfers', 'table payments.transfers exists');
SELECT has_table('payments', 'postings', 'table payments.postings exists');
SELECT has_table('payments', 'entries', 'table payments.entries exists');
SELECT has_type('payments', 'transfer_request', 'type payments.transfer_request exists');
SELECT has_view('payments', 'account_balances', 'view payments.account_balances exists');
SELECT has_view('payments', 'trial_balance', 'view payments.trial_balance exists');

-- Columns of a table: name, type, not null.
CREATE FUNCTION pg_temp.columns_of(rel regclass) RETURNS TABLE (name text, type text, not_null boolean)
LANGUAGE sql AS $$
    SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull
      FROM pg_attribute a WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
$$;
SELECT set_has(
    $$SELECT * FROM pg_temp.columns_of('payments.accounts')$$,
    $$VALUES ('id', 'bigint', true), ('ledger', 'text', true), ('name', 'text', true),
             ('currency', 'currency', true), ('normal_balance', 'text', true),
             ('allow_negative', 'boolean', true), ('status', 'text', true), ('metadata', 'jsonb', false),
             ('created_at', 'timestamp with time zone', true), ('debits_posted', 'monetary', true),
             ('credits_posted', 'monetary', true), ('debits_pending', 'monetary', true),
             ('credits_pending', 'monetary', true)$$,
    'payments.accounts has the columns of the contract');
SELECT set_has(
    $$SELECT * FROM pg_temp.columns_of('payments.transfers')$$,
    $$VALUES ('id', 'bigint', true), ('ledger', 'text', true), ('idempotency_key', 'text', false),
             ('from_account', 'bigint', true), ('to_account', 'bigint', true), ('amount', 'monetary', true),
             ('status', 'text', true), ('pending_id', 'bigint', false), ('reverses', 'bigint', false),
             ('expires_at', 'timestamp with time zone', false), ('metadata', 'jsonb', false),
             ('created_at', 'timestamp with time zone', true), ('entry_id', 'bigint', true)$$,
    'payments.transfers has the columns of the contract');
SELECT set_has(
    $$SELECT * FROM pg_temp.columns_of('payments.postings')$$,
    $$VALUES ('ledger', 'text', true), ('transfer_id', 'bigint', true), ('account_id', 'bigint', true),
             ('side', 'text', true), ('amount', 'monetary', true), ('balance_after', 'monetary', true),
             ('created_at', 'timestamp with time zone', true)$$,
    'payments.postings has the columns of the contract');
SELECT set_eq(
    $$SELECT * FROM pg_temp.columns_of('payments.entries')$$,
    $$VALUES ('ledger', 'text', true), ('id', 'bigint', true), ('idempotency_key', 'text', false),
             ('metadata', 'jsonb', false), ('created_at', 'timestamp with time zone', true)$$,
    'payments.entries has the columns of the contract, and no other');
SELECT set_eq(
    $$SELECT * FROM pg_temp.columns_of('payments.transfer_request')$$,
    $$VALUES ('from_account', 'bigint', false), ('to_account', 'bigint', false),
             ('amount', 'monetary', false), ('idempotency_key', 'text', false), ('metadata', 'jsonb', false)$$,
    'payments.transfer_request is (from_account, to_account, amount, idempotency_key, metadata)');
SELECT col_default_is('payments', 'accounts', 'ledger', 'default', 'accounts.ledger defaults to ''default''');
SELECT col_default_is('payments', 'accounts', 'normal_balance', 'credit', 'accounts.normal_balance defaults to ''credit''');
SELECT col_default_is('payments', 'accounts', 'allow_negative', 'false', 'accounts.allow_negative defaults to false');
SELECT col_default_is('payments', 'accounts', 'status', 'open', 'accounts.status defaults to ''open''');
SELECT col_default_is('payments', 'transfers', 'status', 'posted', 'transfers.status defaults to ''posted''');
SELECT col_hasnt_default('payments', 'transfers', 'ledger', 'transfers.ledger has no default: it is taken from the accounts');
SELECT col_hasnt_default('payments', 'accounts', 'id', 'accounts.id has no default: the ledger assigns it');
SELECT col_hasnt_default('payments', 'transfers', 'id', 'transfers.id has no default: the ledger assigns it');
SELECT col_hasnt_default('payments', 'transfers', 'entry_id', 'transfers.entry_id has no default: the ledger assigns it');
SELECT col_hasnt_default('payments', 'transfers', 'created_at', 'transfers.created_at has no default: the ledger assigns it');

-- indexes ---------------------------------------------------------------------------

-- Every index of a table: its key columns in order, and whether it is unique.
CREATE FUNCTION pg_temp.indexes_of(rel regclass) RETURNS TABLE (columns text[], is_unique boolean)
LANGUAGE sql AS $$
    SELECT array_agg(a.attname::text ORDER BY k.ord), i.indisunique
      FROM pg_index i
     CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k (attnum, ord)
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
     WHERE i.indrelid = rel AND k.ord <= i.indnkeyatts
     GROUP BY i.indexrelid, i.indisunique
$$;
SELECT bag_eq(
    $$SELECT * FROM pg_temp.indexes_of('payments.accounts')$$,
    $$VALUES (ARRAY['ledger', 'id'], true), (ARRAY['ledger', 'name'], true), (ARRAY['id'], false),
             (ARRAY['id'], false)$$,
    'accounts: unique (ledger, id), unique name within a ledger, an index on id alone, and one of the hot accounts');
SELECT set_eq(
    $$SELECT * FROM pg_temp.indexes_of('payments.transfers')$$,
    $$VALUES (ARRAY['ledger', 'id'], true), (ARRAY['ledger', 'idempotency_key'], true),
             (ARRAY['entry_id'], false), (ARRAY['ledger', 'pending_id'], true),
             (ARRAY['id'], false), (ARRAY['reverses'], false)$$,
    'transfers: unique (ledger, id), unique idempotency key within a ledger, an index by entry (by account: through postings), a hold resolved once, holds by id, reversals by the transfer they reverse');
SELECT results_eq(
    $$SELECT format('%s %s', c.relname, pg_get_expr(i.indpred, i.indrelid)) COLLATE "default" FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
       WHERE c.relname IN ('transfers_ledger_pending_id_key', 'transfers_holds_idx',
                           'transfers_reverses_idx', 'postings_pending_idx',
                           'open_holds_expires_at_idx')
       ORDER BY 1$$,
    $$VALUES ('open_holds_expires_at_idx (expires_at IS NOT NULL)'),
             ('postings_pending_idx (pending_change IS NOT NULL)'),
             ('transfers_holds_idx (status = ''pending''::text)'),
             ('transfers_ledger_pending_id_key (pending_id IS NOT NULL)'),
             ('transfers_reverses_idx (reverses IS NOT NULL)')$$,
    'the indexes of payment flows are partial: plain transfers and their legs are not in them');
SELECT set_eq(
    $$SELECT * FROM pg_temp.indexes_of('payments.postings')$$,
    $$VALUES (ARRAY['ledger', 'id'], true), (ARRAY['account_id', 'created_at', 'id'], false),
             (ARRAY['transfer_id'], false), (ARRAY['account_id', 'stripe', 'created_at', 'id'], false),
             (ARRAY['account_id', 'created_at', 'id'], false)$$,
    'postings: unique (ledger, id), an index for statements and balances as of a time, one for a transfer''s legs, one for the stripes of hot accounts, one for the legs that move pending volumes');
SELECT set_eq(
    $$SELECT * FROM pg_temp.indexes_of('payments.open_holds')$$,
    $$VALUES (ARRAY['ledger', 'id'], true), (ARRAY['expires_at'], false)$$,
    'open_holds: unique (ledger, id), and by expiry for the sweep');
SELECT is((SELECT pg_get_expr(indpred, indrelid) FROM pg_index
            WHERE indexrelid = 'payments.accounts_hot_idx'::regclass),
          'hot', 'accounts_hot_idx holds the hot accounts only');
SELECT is((SELECT pg_get_expr(indpred, indrelid) FROM pg_index
            WHERE indexrelid = 'payments.postings_stripe_idx'::regclass),
          '(stripe IS NOT NULL)', 'postings_stripe_idx holds the legs of hot accounts only');
SELECT set_eq(
    $$SELECT * FROM pg_temp.indexes_of('payments.account_stripes')$$,
    $$VALUES (ARRAY['ledger', 'account_id', 'stripe'], true)$$,
    'account_stripes: unique (ledger, account_id, stripe)');
SELECT set_eq(
    $$SELECT * FROM pg_temp.indexes_of('payments.fx_accounts')$$,
    $$VALUES (ARRAY['ledger', 'currency'], true), (ARRAY['ledger', 'account_id'], true)$$,
    'fx_accounts: one FX account per ledger and currency, and an account is the FX account of one currency');
SELECT set_eq(
    $$SELECT * FROM pg_temp.indexes_of('payments.fx_entries')$$,
    $$VALUES (ARRAY['ledger', 'entry_id'], true), (ARRAY['reverses_entry'], false)$$,
    'fx_entries: one row per entry (ledger, entry_id), and the refunds of an entry');
SELECT is((SELECT pg_get_expr(indpred, indrelid) FROM pg_index
            WHERE indexrelid = 'payments.fx_entries_reverses_entry_idx'::regclass),
          '(reverses_entry IS NOT NULL)', 'fx_entries_reverses_entry_idx holds refunds only');
SELECT set_eq(
    $$SELECT * FROM pg_temp.indexes_of('payments.entry_xacts')$$,
    $$VALUES (ARRAY['ledger', 'entry_id'], true), (ARRAY['xact_id', 'entry_id'], false)$$,
    'entry_xacts: one row per entry (ledger, entry_id), and entries in transaction order for the change feed');
SELECT set_eq(
    $$SELECT * FROM pg_temp.indexes_of('payments.entries')$$,
    $$VALUES (ARRAY['ledger', 'id'], true), (ARRAY['ledger', 'idempotency_key'], true)$$,
    'entries: unique (ledger, id), unique idempotency key within a ledger');
SELECT col_is_pk('payments', 'accounts', ARRAY['ledger', 'id'], 'the primary key of accounts is (ledger, id)');
SELECT col_is_pk('payments', 'transfers', ARRAY['ledger', 'id'], 'the primary key of transfers is (ledger, id)');
SELECT col_is_pk('payments', 'postings', ARRAY['ledger', 'id'], 'the primary key of postings is (ledger, id)');
SELECT col_is_pk('payments', 'entries', ARRAY['ledger', 'id'], 'the primary key of entries is (ledger, id)');
SELECT is_empty(
    $$SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c
       WHERE c.conrelid IN ('payments.accounts'::regclass, 'payments.transfers'::regclass,
                            'payments.postings'::regclass, 'payments.entries'::regclass,
                            'payments.account_stripes'::regclass, 'payments.open_holds'::regclass,
                            'payments.fx_accounts'::regclass, 'payments.fx_entries'::regclass,
                            'payments.closed_periods'::regclass, 'payments.entry_xacts'::regclass)
         AND c.contype IN ('p', 'u', 'f', 'x')
         AND (SELECT attname FROM pg_attribute
               WHERE attrelid = c.conrelid AND attnum = c.conkey[1]) <> 'ledger'
      UNION ALL
      SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text FROM pg_index i
       WHERE i.indrelid IN ('payments.accounts'::regclass, 'payments.transfers'::regclass,
                            'payments.postings'::regclass, 'payments.entries'::regclass,
                            'payments.account_stripes'::regclass, 'payments.open_holds'::regclass,
                            'payments.fx_accounts'::regclass, 'payments.fx_entries'::regclass,
                            'payments.closed_periods'::regclass, 'payments.entry_xacts'::regclass)
         AND i.indisunique
         AND (SELECT attname FROM pg_attribute
               WHERE attrelid = i.indrelid AND attnum = i.indkey[0]) <> 'ledger'$$,
    'every key and unique index of every ledger table starts with ledger');
SELECT ok((SELECT bool_and(i.indisvalid AND i.indisready)
             FROM pg_index i WHERE i.indrelid IN ('payments.accounts'::regclass,
                  'payments.transfers'::regclass, 'payments.postings'::regclass,
                  'payments.entries'::regclass, 'payments.account_stripes'::regclass,
                  'payments.open_holds'::regclass, 'payments.fx_accounts'::regclass,
                  'payments.fx_entries'::regclass, 'payments.entry_xacts'::regclass)),
          'every index of the ledger tables is valid');

-- triggers ----------------------------------------------------------------------------

SELECT trigger_is('payments', 'transfers', 'transfer_statement_start', 'payments', 'transfer_statement_start',
                  'transfers: transfer_statement_start runs payments.transfer_statement_start()');
SELECT trigger_is('payments', 'transfers', 'transfer_before_insert', 'payments', 'transfer_before_insert',
                  'transfers: transfer_before_insert runs payments.transfer_before_insert()');
SELECT trigger_is('payments', 'transfers', 'transfer_apply', 'payments', 'transfer_apply',
                  'transfers: transfer_apply runs payments.transfer_apply()');
SELECT trigger_is('payments', 'transfers', 'transfer_history_guard', 'payments', 'history_guard',
                  'transfers: transfer_history_guard runs payments.history_guard()');
SELECT trigger_is('payments', 'transfers', 'transfer_truncate_guard', 'payments', 'history_guard',
                  'transfers: transfer_truncate_guard runs payments.history_guard()');
SELECT trigger_is('payments', 'postings', 'posting_guard', 'payments', 'ledger_write_guard',
                  'postings: posting_guard runs payments.ledger_write_guard()');
SELECT trigger_is('payments', 'postings', 'posting_history_guard', 'payments', 'history_guard',
                  'postings: posting_history_guard runs payments.history_guard()');
SELECT trigger_is('payments', 'postings', 'posting_truncate_guard', 'payments', 'history_guard',
                  'postings: posting_truncate_guard runs payments.history_guard()');
SELECT trigger_is('payments', 'entries', 'entry_guard', 'payments', 'ledger_write_guard',
                  'entries: entry_guard runs payments.ledger_write_guard()');
SELECT trigger_is('payments', 'entries', 'entry_history_guard', 'payments', 'history_guard',
                  'entries: entry_history_guard runs payments.history_guard()');
SELECT trigger_is('payments', 'entries', 'entry_truncate_guard', 'payments', 'history_guard',
                  'entries: entry_truncate_guard runs payments.history_guard()');
SELECT trigger_is('payments', 'accounts', 'account_guard', 'payments', 'account_guard',
                  'accounts: account_guard runs payments.account_guard()');
SELECT trigger_is('payments', 'accounts', 'account_history_guard', 'payments', 'history_guard',
                  'accounts: account_history_guard runs payments.history_guard()');
SELECT trigger_is('payments', 'accounts', 'account_truncate_guard', 'payments', 'history_guard',
                  'accounts: account_truncate_guard runs payments.history_guard()');
SELECT set_eq(
    $$SELECT c.relname::text, t.tgname::text,
             CASE WHEN t.tgtype & 2 <> 0 THEN 'BEFORE' WHEN t.tgtype & 64 <> 0 THEN 'INSTEAD OF' ELSE 'AFTER' END AS timing,
             CASE WHEN t.tgtype & 1 <> 0 THEN 'ROW' ELSE 'STATEMENT' END AS level,
             concat_ws(' OR ', CASE WHEN t.tgtype & 4 <> 0 THEN 'INSERT' END,
                               CASE WHEN t.tgtype & 16 <> 0 THEN 'UPDATE' END,
                               CASE WHEN t.tgtype & 8 <> 0 THEN 'DELETE' END,
                               CASE WHEN t.tgtype & 32 <> 0 THEN 'TRUNCATE' END) AS events,
             t.tgdeferrable, t.tginitdeferred, t.tgenabled::text
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
       WHERE c.relnamespace = 'payments'::regnamespace AND NOT t.tgisinternal$$,
    $$VALUES ('transfers', 'transfer_statement_start', 'BEFORE', 'STATEMENT', 'INSERT', false, false, 'O'),
             ('transfers', 'transfer_before_insert', 'BEFORE', 'ROW', 'INSERT', false, false, 'O'),
             ('transfers', 'transfer_apply', 'AFTER', 'STATEMENT', 'INSERT', false, false, 'O'),
             ('transfers', 'transfer_history_guard', 'BEFORE', 'ROW', 'UPDATE OR DELETE', false, false, 'A'),
             ('transfers', 'transfer_truncate_guard', 'BEFORE', 'STATEMENT', 'TRUNCATE', false, false, 'A'),
             ('postings', 'posting_guard', 'BEFORE', 'ROW', 'INSERT', false, false, 'O'),
             ('postings', 'posting_history_guard', 'BEFORE', 'ROW', 'UPDATE OR DELETE', false, false, 'A'),
             ('postings', 'posting_truncate_guard', 'BEFORE', 'STATEMENT', 'TRUNCATE', false, false, 'A'),
             ('entries', 'entry_guard', 'BEFORE', 'ROW', 'INSERT', false, false, 'O'),
             ('entries', 'entry_history_guard', 'BEFORE', 'ROW', 'UPDATE OR DELETE', false, false, 'A'),
             ('entries', 'entry_truncate_guard', 'BEFORE', 'STATEMENT', 'TRUNCATE', false, false, 'A'),
             ('accounts', 'account_guard', 'BEFORE', 'ROW', 'INSERT OR UPDATE', false, false, 'O'),
             ('accounts', 'account_history_guard', 'BEFORE', 'ROW', 'DELETE', false, false, 'A'),
             ('accounts', 'account_truncate_guard', 'BEFORE', 'STATEMENT', 'TRUNCATE', false, false, 'A'),
             ('account_stripes', 'stripe_guard', 'BEFORE', 'ROW', 'INSERT OR UPDATE', false, false, 'O'),
             ('account_stripes', 'stripe_history_guard', 'BEFORE', 'ROW', 'DELETE', false, false, 'A'),
             ('account_stripes', 'stripe_truncate_guard', 'BEFORE', 'STATEMENT', 'TRUNCATE', false, false, 'A'),
             ('open_holds', 'open_hold_guard', 'BEFORE', 'ROW', 'INSERT OR UPDATE OR DELETE', false, false, 'O'),
             ('open_holds', 'open_hold_truncate_guard', 'BEFORE', 'STATEMENT', 'TRUNCATE', false, false, 'A'),
             ('fx_entries', 'fx_entry_guard', 'BEFORE', 'ROW', 'INSERT', false, false, 'O'),
             ('fx_entries', 'fx_entry_history_guard', 'BEFORE', 'ROW', 'UPDATE OR DELETE', false, false, 'A'),
             ('fx_entries', 'fx_entry_truncate_guard', 'BEFORE', 'STATEMENT', 'TRUNCATE', false, false, 'A'),
             ('fx_accounts', 'fx_account_history_guard', 'BEFORE', 'ROW', 'UPDATE OR DELETE', false, false, 'A'),
             ('fx_accounts', 'fx_account_truncate_guard', 'BEFORE', 'STATEMENT', 'TRUNCATE', false, false, 'A'),
             ('closed_periods', 'closed_period_guard', 'BEFORE', 'ROW', 'INSERT', false, false, 'O'),
             ('closed_periods', 'closed_period_history_guard', 'BEFORE', 'ROW', 'UPDATE OR DELETE', false, false, 'A'),
             ('closed_periods', 'closed_period_truncate_guard', 'BEFORE', 'STATEMENT', 'TRUNCATE', false, false, 'A'),
             ('closed_periods', 'closed_periods_changed', 'AFTER', 'STATEMENT', 'INSERT OR UPDATE OR DELETE OR TRUNCATE', false, false, 'A'),
             ('entry_xacts', 'entry_xact_guard', 'BEFORE', 'ROW', 'INSERT', false, false, 'O'),
             ('entry_xacts', 'entry_xact_history_guard', 'BEFORE', 'ROW', 'UPDATE OR DELETE', false, false, 'A'),
             ('entry_xacts', 'entry_xact_truncate_guard', 'BEFORE', 'STATEMENT', 'TRUNCATE', false, false, 'A'),
             ('role_ledgers', 'role_ledgers_changed', 'AFTER', 'STATEMENT', 'INSERT OR UPDATE OR DELETE OR TRUNCATE', false, false, 'A')$$,
    'these are the ledger''s triggers, each firing at its time, per row or statement, on its events; the history guards ALWAYS (in replica mode too), the others on origin');
SELECT is((SELECT tgnewtable FROM pg_trigger WHERE tgrelid = 'payments.transfers'::regclass
              AND tgname = 'transfer_apply'), 'new_transfers'::name,
          'transfer_apply reads the statement''s rows from the transition table new_transfers');

-- functions: definer, search_path, volatility ---------------------------------------------

SELECT has_function('payments', 'create_account', ARRAY['text', 'currency', 'text', 'boolean', 'jsonb', 'text'],
                    'create_account(name, currency, normal_balance, allow_negative, metadata, ledger) exists');
SELECT has_function('payments', 'post_transfer', ARRAY['bigint', 'bigint', 'monetary', 'text', 'jsonb'],
                    'post_transfer(from_account, to_account, amount, idempotency_key, metadata) exists');
SELECT has_function('payments', 'post_transfer_by_name', ARRAY['text', 'text', 'text', 'monetary', 'text', 'jsonb'],
                    'post_transfer_by_name(ledger, from_account, to_account, amount, idempotency_key, metadata) exists');
SELECT has_function('payments', 'post_transfers', ARRAY['transfer_request[]', 'text', 'jsonb'],
                    'post_transfers(transfers, idempotency_key, metadata) exists');
SELECT function_returns('payments', 'post_transfers', ARRAY['transfer_request[]', 'text', 'jsonb'],
                        'bigint[]', 'post_transfers() returns the ids as bigint[]');
SELECT has_function('payments', 'balance', ARRAY['bigint', 'timestamp with time zone'], 'balance(account, at) exists');
SELECT has_function('payments', 'balance_by_name', ARRAY['text', 'text', 'timestamp with time zone'], 'balance_by_name(ledger, account, at) exists');
SELECT has_function('payments', 'available_balance', ARRAY['bigint'], 'available_balance(account) exists');
SELECT has_function('payments', 'available_balance_by_name', ARRAY['text', 'text'], 'available_balance_by_name(ledger, account) exists');
SELECT has_function('payments', 'set_account_status', ARRAY['bigint', 'text'], 'set_account_status(account, status) exists');
SELECT has_function('payments', 'set_account_status_by_name', ARRAY['text', 'text', 'text'], 'set_account_status_by_name(ledger, account, status) exists');
SELECT has_function('payments', 'verify_ledger', ARRAY[]::name[], 'verify_ledger() exists');
SELECT is(pg_get_function_arguments('payments.create_account(text, currency, text, boolean, jsonb, text)'::regprocedure),
          'name text, currency currency, normal_balance text DEFAULT ''credit''::text, allow_negative boolean DEFAULT false, metadata jsonb DEFAULT NULL::jsonb, ledger text DEFAULT ''default''::text',
          'create_account() has the argument names and defaults of the contract');
SELECT is(pg_get_function_arguments('payments.post_transfer(bigint, bigint, monetary, text, jsonb)'::regprocedure),
          'from_account bigint, to_account bigint, amount monetary, idempotency_key text DEFAULT NULL::text, metadata jsonb DEFAULT NULL::jsonb',
          'post_transfer() has the argument names and defaults of the contract');
SELECT is(pg_get_function_arguments('payments.balance(bigint, timestamptz)'::regprocedure),
          'account bigint, at timestamp with time zone DEFAULT NULL::timestamp with time zone',
          'balance() has the argument names and defaults of the contract');
SELECT is(pg_get_function_arguments('payments.post_transfers(payments.transfer_request[], text, jsonb)'::regprocedure),
          'transfers transfer_request[], idempotency_key text DEFAULT NULL::text, metadata jsonb DEFAULT NULL::jsonb',
          'post_transfers() has the argument names and defaults of the contract');

SELECT is_definer('payments', 'post_transfer', ARRAY['bigint', 'bigint', 'monetary', 'text', 'jsonb'],
                  'post_transfer() by id is SECURITY DEFINER');
SELECT is_definer('payments', 'post_transfer_by_name', ARRAY['text', 'text', 'text', 'monetary', 'text', 'jsonb'],
                  'post_transfer() by name is SECURITY DEFINER');
SELECT is_definer('payments', 'post_transfers', ARRAY['transfer_request[]', 'text', 'jsonb'],
                  'post_transfers() is SECURITY DEFINER');
SELECT is_definer('payments', 'create_account', ARRAY['text', 'currency', 'text', 'boolean', 'jsonb', 'text'],
                  'create_account() is SECURITY DEFINER');
SELECT is_definer('payments', 'set_account_status', ARRAY['bigint', 'text'], 'set_account_status() by id is SECURITY DEFINER');
SELECT is_definer('payments', 'set_account_status_by_name', ARRAY['text', 'text', 'text'], 'set_account_status() by name is SECURITY DEFINER');
SELECT is_definer('payments', 'balance', ARRAY['bigint', 'timestamp with time zone'], 'balance() by id is SECURITY DEFINER');
SELECT is_definer('payments', 'balance_by_name', ARRAY['text', 'text', 'timestamp with time zone'], 'balance() by name is SECURITY DEFINER');
SELECT is_definer('payments', 'available_balance', ARRAY['bigint'], 'available_balance() by id is SECURITY DEFINER');
SELECT is_definer('payments', 'available_balance_by_name', ARRAY['text', 'text'], 'available_balance() by name is SECURITY DEFINER');
-- The triggers that assign ids and write postings and volumes run as the
-- owner; the guards and the one that opens a statement's entry need no
-- rights, and their SET clause would cost every row: they resolve no names.
SELECT is_definer('payments', name, ARRAY[]::name[], format('trigger function %s() is SECURITY DEFINER', name))
  FROM trigger_functions WHERE name IN ('transfer_before_insert', 'transfer_apply') ORDER BY name;
SELECT isnt_definer('payments', name, ARRAY[]::name[], format('trigger function %s() is not SECURITY DEFINER', name))
  FROM trigger_functions WHERE name NOT IN ('transfer_before_insert', 'transfer_apply') ORDER BY name;

SELECT volatility_is('payments', 'post_transfer', ARRAY['bigint', 'bigint', 'monetary', 'text', 'jsonb'], 'volatile',
                     'post_transfer() by id is VOLATILE');
SELECT volatility_is('payments', 'post_transfer_by_name', ARRAY['text', 'text', 'text', 'monetary', 'text', 'jsonb'], 'volatile',
                     'post_transfer() by name is VOLATILE');
SELECT volatility_is('payments', 'post_transfers', ARRAY['transfer_request[]', 'text', 'jsonb'], 'volatile',
                     'post_transfers() is VOLATILE');
SELECT volatility_is('payments', 'create_account', ARRAY['text', 'currency', 'text', 'boolean', 'jsonb', 'text'], 'volatile',
                     'create_account() is VOLATILE');
SELECT volatility_is('payments', 'set_account_status', ARRAY['bigint', 'text'], 'volatile', 'set_account_status() by id is VOLATILE');
SELECT volatility_is('payments', 'set_account_status_by_name', ARRAY['text', 'text', 'text'], 'volatile', 'set_account_status() by name is VOLATILE');
SELECT volatility_is('payments', 'balance', ARRAY['bigint', 'timestamp with time zone'], 'stable', 'balance() by id is STABLE');
SELECT volatility_is('payments', 'balance_by_name', ARRAY['text', 'text', 'timestamp with time zone'], 'stable', 'balance() by name is STABLE');
SELECT volatility_is('payments', 'available_balance', ARRAY['bigint'], 'stable', 'available_balance() by id is STABLE');
SELECT volatility_is('payments', 'available_balance_by_name', ARRAY['text', 'text'], 'stable', 'available_balance() by name is STABLE');
SELECT volatility_is('payments', 'verify_ledger', ARRAY[]::name[], 'stable', 'verify_ledger() is STABLE');
SELECT volatility_is('payments', 'statement', ARRAY['bigint', 'timestamp with time zone', 'timestamp with time zone'], 'stable',
                     'statement() is STABLE');
SELECT volatility_is('payments', 'account_id', ARRAY['text', 'text'], 'stable', 'account_id() is STABLE');
SELECT is_empty(
    $$SELECT signature FROM api WHERE writes
         AND (SELECT proparallel FROM pg_proc WHERE oid = ('payments.' || signature)::regprocedure) <> 'u'$$,
    'the functions that write are PARALLEL UNSAFE');

-- Every function of the extension, so that new ones are caught.
CREATE TEMP VIEW extension_functions AS
    SELECT p.oid, p.oid::regprocedure::text AS signature, p.prosecdef, p.proconfig, l.lanname,
           p.prosqlbody IS NOT NULL AS body_parsed
      FROM pg_proc p
      JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'payments'
      JOIN pg_language l ON l.oid = p.prolang;
SELECT cmp_ok((SELECT count(*) FROM extension_functions WHERE prosecdef), '>=', 16::bigint,
              'the extension has its SECURITY DEFINER functions (at least the 14 of the API and 2 triggers)');
SELECT is_empty(
    $$SELECT signature, proconfig FROM extension_functions
       WHERE prosecdef AND lanname <> 'c'
         AND proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, payments, pg_temp']$$,
    'every SECURITY DEFINER function of the extension not in C runs with search_path = pg_catalog, payments, pg_temp and nothing else');
SELECT set_eq(
    $$SELECT signature FROM extension_functions
       WHERE prosecdef AND lanname = 'c' AND proconfig IS NULL$$,
    ARRAY['transfer_apply()', 'transfer_before_insert()'],
    'the C SECURITY DEFINER functions without SET search_path are the two triggers, in which no user code nests and every name they prepare is qualified (test/sql/security.sql)');
SELECT is_empty(
    $$SELECT signature, proconfig FROM extension_functions
       WHERE prosecdef AND lanname = 'c' AND proconfig IS NOT NULL
         AND proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, payments, pg_temp']$$,
    'the other C SECURITY DEFINER functions run with search_path = pg_catalog, payments, pg_temp');
SELECT is_empty(
    $$SELECT signature FROM extension_functions
       WHERE lanname NOT IN ('c', 'internal') AND NOT body_parsed
         AND NOT coalesce('search_path=pg_catalog, payments, pg_temp' = ANY (proconfig), false)$$,
    'every SQL or PL/pgSQL function of the extension whose body is parsed at call time runs with a fixed search_path');
SELECT is_empty(
    $$SELECT signature FROM extension_functions WHERE prosecdef AND has_function_privilege('public', oid, 'EXECUTE')$$,
    'PUBLIC may execute no SECURITY DEFINER function of the extension');
SELECT is_empty(
    $$SELECT signature FROM api
       WHERE NOT (SELECT prosecdef FROM pg_proc WHERE oid = ('payments.' || signature)::regprocedure)$$,
    'every function of the ledger''s API is SECURITY DEFINER');
SELECT is_empty(
    $$SELECT p.oid::regprocedure FROM pg_proc p
       WHERE p.pronamespace = 'payments'::regnamespace
         AND (p.proname IN (SELECT name FROM trigger_functions)
              OR p.oid IN (SELECT ('payments.' || signature)::regprocedure FROM api))
         AND obj_description(p.oid, 'pg_proc') IS NULL$$,
    'every function of the ledger has a COMMENT');
SELECT is_empty(
    $$SELECT c.relname FROM pg_class c
       WHERE c.oid IN ('payments.accounts'::regclass, 'payments.transfers'::regclass, 'payments.postings'::regclass,
                       'payments.entries'::regclass, 'payments.account_balances'::regclass,
                       'payments.trial_balance'::regclass)
         AND obj_description(c.oid, 'pg_class') IS NULL$$,
    'every table and view of the ledger has a COMMENT');
SELECT isnt(obj_description('payments.transfer_request'::regtype, 'pg_type'), NULL,
            'payments.transfer_request has a COMMENT');

-- pg_dump keeps the ledger's data ------------------------------------------------------

SELECT set_eq(
    $$SELECT format('%I.%I', n.nspname, r.relname)
        FROM pg_extension e, unnest(e.extconfig) c
        JOIN pg_class r ON r.oid = c JOIN pg_namespace n ON n.oid = r.relnamespace
       WHERE e.extname = 'payments' AND format('%I.%I', n.nspname, r.relname) IN
             ('payments.accounts', 'payments.transfers', 'payments.postings', 'payments.entries',
              'payments.accounts_id_seq', 'payments.transfers_id_seq', 'payments.postings_id_seq',
              'payments.entries_id_seq')$$,
    $$VALUES ('payments.accounts'), ('payments.transfers'), ('payments.postings'), ('payments.entries'),
             ('payments.accounts_id_seq'), ('payments.transfers_id_seq'), ('payments.postings_id_seq'),
             ('payments.entries_id_seq')$$,
    'the four tables and their id sequences are registered with pg_extension_config_dump');
SELECT is(
    (SELECT array_agg(coalesce(f, '') ORDER BY f) FROM pg_extension e,
            unnest(e.extconfig, e.extcondition) AS u (c, f)
      WHERE e.extname = 'payments' AND c IN ('payments.accounts'::regclass, 'payments.transfers'::regclass,
                                              'payments.postings'::regclass, 'payments.entries'::regclass)),
    ARRAY['', '', '', ''],
    'pg_dump keeps every row of them (no filter)');

-- PUBLIC: nothing ---------------------------------------------------------------------------

SELECT table_privs_are('payments', 'accounts', 'public', ARRAY[]::name[], 'PUBLIC has no privilege on payments.accounts');
SELECT table_privs_are('payments', 'transfers', 'public', ARRAY[]::name[], 'PUBLIC has no privilege on payments.transfers');
SELECT table_privs_are('payments', 'postings', 'public', ARRAY[]::name[], 'PUBLIC has no privilege on payments.postings');
SELECT table_privs_are('payments', 'entries', 'public', ARRAY[]::name[], 'PUBLIC has no privilege on payments.entries');
SELECT table_privs_are('payments', 'account_balances', 'public', ARRAY[]::name[], 'PUBLIC has no privilege on payments.account_balances');
SELECT table_privs_are('payments', 'trial_balance', 'public', ARRAY[]::name[], 'PUBLIC has no privilege on payments.trial_balance');
SELECT sequence_privs_are('payments', 'accounts_id_seq', 'public', ARRAY[]::name[], 'PUBLIC has no privilege on accounts_id_seq');
SELECT sequence_privs_are('payments', 'transfers_id_seq', 'public', ARRAY[]::name[], 'PUBLIC has no privilege on transfers_id_seq');
SELECT sequence_privs_are('payments', 'postings_id_seq', 'public', ARRAY[]::name[], 'PUBLIC has no privilege on postings_id_seq');
SELECT sequence_privs_are('payments', 'entries_id_seq', 'public', ARRAY[]::name[], 'PUBLIC has no privilege on entries_id_seq');
SELECT function_privs_are('payments', split_part(signature, '(', 1),
                          string_to_array(rtrim(split_part(signature, '(', 2), ')'), ', ')::name[],
                          'public', ARRAY[]::name[], format('PUBLIC may not execute %s', signature))
  FROM api ORDER BY signature;
SELECT function_privs_are('payments', name, ARRAY[]::name[], 'public', ARRAY[]::name[],
                          format('PUBLIC may not execute the trigger function %s()', name))
  FROM trigger_functions ORDER BY name;

-- an application role: the API, not the tables ------------------------------------------------

CREATE ROLE tap_ledger_app NOLOGIN;
GRANT USAGE ON SCHEMA payments TO tap_ledger_app;
GRANT EXECUTE ON FUNCTION
    payments.create_account(text, currency, text, boolean, jsonb, text),
    payments.post_transfer(bigint, bigint, monetary, text, jsonb),
    payments.post_transfer_by_name(text, text, text, monetary, text, jsonb),
    payments.post_transfers(payments.transfer_request[], text, jsonb),
    payments.balance(bigint, timestamptz),
    payments.balance_by_name(text, text, timestamptz),
    payments.available_balance(bigint),
    payments.available_balance_by_name(text, text),
    payments.set_account_status(bigint, text),
    payments.set_account_status_by_name(text, text, text),
    payments.account_id(text, text)
    TO tap_ledger_app;

SELECT is((pg_temp.as_role('tap_ledger_app', $$SELECT payments.create_account('tap_cash', 'USD', 'debit', true)$$))[1],
          '42501', 'the application role cannot create a system account (debit-normal, may go negative)');
SELECT payments.create_system_account('tap_cash', 'USD');
SELECT is((pg_temp.as_role('tap_ledger_app', $$SELECT payments.create_account('tap_alice', 'USD')$$))[1], '00000',
          'the application role creates an account through create_account()');
SELECT pg_temp.as_role('tap_ledger_app', $$SELECT payments.post_transfer_by_name('default', 'tap_cash', 'tap_alice', '25.00 USD', 'tap-app-1')$$) AS app_t1 \gset
SELECT is(:'app_t1'::text[], ARRAY['00000', (SELECT id::text FROM payments.transfers WHERE idempotency_key = 'tap-app-1')],
          'the application role posts a transfer by name, and gets its id');
SELECT is((pg_temp.as_role('tap_ledger_app',
              format($$SELECT payments.post_transfer(%s, %s, '5.00 USD')$$,
                     account_id('tap_alice'), account_id('tap_cash'))))[1], '00000',
          'the application role posts a transfer by id');
SELECT pg_temp.as_role('tap_ledger_app',
    format($$SELECT payments.post_transfers(ARRAY[ROW(%1$s, %2$s, '1.00 USD', NULL, NULL),
                                                  ROW(%2$s, %1$s, '1.00 USD', NULL, NULL)]::payments.transfer_request[],
                                            'tap-app-entry', '{"app": true}')$$,
           account_id('tap_cash'), account_id('tap_alice'))) AS app_e1 \gset
SELECT is(:'app_e1'::text[],
          ARRAY['00000', (SELECT array_agg(id ORDER BY id)::text FROM payments.transfers
                           WHERE entry_id = (SELECT id FROM payments.entries WHERE idempotency_key = 'tap-app-entry'))],
          'the application role posts an entry with post_transfers(), and gets its ids');
SELECT is(pg_temp.as_role('tap_ledger_app', $$SELECT payments.balance_by_name('default', 'tap_alice')$$), ARRAY['00000', '20.00 USD'],
          'the application role reads a balance');
SELECT is(pg_temp.as_role('tap_ledger_app', format('SELECT payments.available_balance(%s)', account_id('tap_alice'))),
          ARRAY['00000', '20.00 USD'], 'the application role reads an available balance');
SELECT is((pg_temp.as_role('tap_ledger_app', $$SELECT payments.set_account_status_by_name('default', 'tap_alice', 'frozen')$$))[1], '00000',
          'the application role freezes an account');
SELECT is(pg_temp.as_role('tap_ledger_app', $$SELECT payments.post_transfer_by_name('default', 'tap_cash', 'tap_alice', '1.00 USD')$$),
          ARRAY['55L01', format('account %s is frozen', account_id('tap_alice'))],
          'the rules hold for the application role');
SELECT is(pg_temp.as_role('tap_ledger_app',
              format($$INSERT INTO payments.transfers (from_account, to_account, amount) VALUES (%s, %s, '1.00 USD')$$,
                     account_id('tap_cash'), account_id('tap_alice'))),
          ARRAY['42501', 'permission denied for table transfers'],
          'the application role may not INSERT INTO payments.transfers');
SELECT is(pg_temp.as_role('tap_ledger_app',
              $$INSERT INTO payments.postings (ledger, transfer_id, account_id, side, amount, balance_after, created_at)
                VALUES ('default', 1, 1, 'credit', '1.00 USD', '1.00 USD', now())$$),
          ARRAY['42501', 'permission denied for table postings'],
          'the application role may not INSERT INTO payments.postings');
SELECT is(pg_temp.as_role('tap_ledger_app',
              $$INSERT INTO payments.entries (ledger, id, idempotency_key, metadata, created_at)
                VALUES ('default', 1, 'tap-forged', NULL, now())$$),
          ARRAY['42501', 'permission denied for table entries'],
          'the application role may not INSERT INTO payments.entries');
SELECT is(pg_temp.as_role('tap_ledger_app', $$UPDATE payments.accounts SET status = 'open' WHERE name = 'tap_alice'$$),
          ARRAY['42501', 'permission denied for table accounts'],
          'the application role may not UPDATE payments.accounts');
SELECT is(pg_temp.as_role('tap_ledger_app', 'SELECT count(*) FROM payments.transfers'),
          ARRAY['42501', 'permission denied for table transfers'],
          'the application role may not read payments.transfers');
SELECT is(pg_temp.as_role('tap_ledger_app', 'DELETE FROM payments.postings'),
          ARRAY['42501', 'permission denied for table postings'],
          'the application role may not DELETE FROM payments.postings');
SELECT is(pg_temp.as_role('tap_ledger_app', 'TRUNCATE payments.accounts'),
          ARRAY['42501', 'permission denied for table accounts'],
          'the application role may not TRUNCATE payments.accounts');
SELECT is(pg_temp.as_role('tap_ledger_app', $$SELECT nextval('payments.transfers_id_seq')$$),
          ARRAY['42501', 'permission denied for sequence transfers_id_seq'],
          'the application role may not take transfer ids');
SELECT is(pg_temp.as_role('tap_ledger_app', 'SELECT count(*) FROM payments.verify_ledger()'),
          ARRAY['42501', 'permission denied for function verify_ledger'],
          'the application role may not call what it was not granted');

-- an analyst role: reads everything, writes nothing -----------------------------------------

CREATE ROLE tap_ledger_analyst NOLOGIN;
GRANT USAGE ON SCHEMA payments TO tap_ledger_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA payments TO tap_ledger_analyst;

SELECT is(pg_temp.as_role('tap_ledger_analyst', $$SELECT count(*) FROM payments.transfers WHERE idempotency_key = 'tap-app-1'$$),
          ARRAY['00000', '1'], 'the analyst reads payments.transfers');
SELECT is(pg_temp.as_role('tap_ledger_analyst',
              $$SELECT string_agg(side || ' ' || balance_after::text, ', ' ORDER BY id) FROM payments.postings p
                 WHERE p.account_id = (SELECT id FROM payments.accounts WHERE ledger = 'default' AND name = 'tap_alice')$$),
          ARRAY['00000', 'credit 25.00 USD, debit 20.00 USD, credit 21.00 USD, debit 20.00 USD'],
          'the analyst reads payments.postings and payments.accounts');
SELECT is(pg_temp.as_role('tap_ledger_analyst',
              $$SELECT metadata::text FROM payments.entries WHERE idempotency_key = 'tap-app-entry'$$),
          ARRAY['00000', '{"app": true}'], 'the analyst reads payments.entries');
SELECT is(pg_temp.as_role('tap_ledger_analyst',
              $$SELECT sum(amount)::text FROM payments.transfers WHERE idempotency_key = 'tap-app-1'$$),
          ARRAY['00000', '25.00 USD'], 'the analyst adds up amounts with sum()');
SELECT is(pg_temp.as_role('tap_ledger_analyst',
              $$SELECT balance::text FROM payments.account_balances WHERE ledger = 'default' AND name = 'tap_alice'$$),
          ARRAY['00000', '20.00 USD'], 'the analyst reads payments.account_balances');
SELECT is((pg_temp.as_role('tap_ledger_analyst', 'SELECT count(*) FROM payments.trial_balance WHERE balanced'))[1],
          '00000', 'the analyst reads payments.trial_balance');
SELECT is(pg_temp.as_role('tap_ledger_analyst',
              format($$INSERT INTO payments.transfers (from_account, to_account, amount) VALUES (%s, %s, '1.00 USD')$$,
                     account_id('tap_cash'), account_id('tap_alice'))),
          ARRAY['42501', 'permission denied for table transfers'],
          'the analyst may not INSERT INTO payments.transfers');
SELECT is(pg_temp.as_role('tap_ledger_analyst', $$UPDATE payments.accounts SET metadata = '{}'$$),
          ARRAY['42501', 'permission denied for table accounts'],
          'the analyst may not UPDATE payments.accounts');
SELECT is(pg_temp.as_role('tap_ledger_analyst', 'DELETE FROM payments.postings'),
          ARRAY['42501', 'permission denied for table postings'],
          'the analyst may not DELETE FROM payments.postings');
SELECT is(pg_temp.as_role('tap_ledger_analyst', 'TRUNCATE payments.transfers'),
          ARRAY['42501', 'permission denied for table transfers'],
          'the analyst may not TRUNCATE payments.transfers');
SELECT is(pg_temp.as_role('tap_ledger_analyst', $$SELECT payments.post_transfer_by_name('default', 'tap_cash', 'tap_alice', '1.00 USD')$$),
          ARRAY['42501', 'permission denied for function post_transfer_by_name'],
          'the analyst may not call post_transfer_by_name()');
SELECT is(pg_temp.as_role('tap_ledger_analyst',
              format($$SELECT payments.post_transfer(%s, %s, '1.00 USD')$$, account_id('tap_cash'), account_id('tap_alice'))),
          ARRAY['42501', 'permission denied for function post_transfer'],
          'the analyst may not call post_transfer() by id');
SELECT is(pg_temp.as_role('tap_ledger_analyst',
              format($$SELECT payments.post_transfers(ARRAY[ROW(%s, %s, '1.00 USD', NULL, NULL)]::payments.transfer_request[])$$,
                     account_id('tap_cash'), account_id('tap_alice'))),
          ARRAY['42501', 'permission denied for function post_transfers'],
          'the analyst may not call post_transfers()');
SELECT is(pg_temp.as_role('tap_ledger_analyst', $$SELECT payments.create_account('tap_mine', 'USD')$$),
          ARRAY['42501', 'permission denied for function create_account'],
          'the analyst may not call create_account()');
SELECT is(pg_temp.as_role('tap_ledger_analyst', $$SELECT payments.set_account_status_by_name('default', 'tap_alice', 'open')$$),
          ARRAY['42501', 'permission denied for function set_account_status_by_name'],
          'the analyst may not call set_account_status_by_name()');

-- What nests in the API with the owner's rights, such as a trigger a DBA
-- adds to payments.transfers, runs with the API's fixed path, never the
-- caller's (through which it could be handed look-alikes of what it calls).
CREATE TABLE public.tap_seen_path (path text);
CREATE FUNCTION public.tap_record_path() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.tap_seen_path VALUES (current_setting('search_path'));
    RETURN NULL;
END $$;
CREATE TRIGGER tap_record_path AFTER INSERT ON payments.transfers
    FOR EACH ROW EXECUTE FUNCTION public.tap_record_path();
SELECT create_account('tap_nest_from', 'USD', 'debit', true) AS nest_from \gset
SELECT create_account('tap_nest_to', 'USD') AS nest_to \gset
SET LOCAL search_path = public, payments, pg_catalog;
SELECT post_transfer(:nest_from, :nest_to, '1.00 USD') AS nested_1 \gset
SELECT post_transfer_by_name('default', 'tap_nest_from', 'tap_nest_to', '1.00 USD') AS nested_2 \gset
SELECT post_transfers(ARRAY[ROW(:nest_from, :nest_to, '1.00 USD', NULL, NULL)]::payments.transfer_request[]) AS nested_3 \gset
SELECT is((SELECT count(*) FROM public.tap_seen_path), 3::bigint, 'a DBA''s trigger on transfers ran for three API calls');
SELECT is((SELECT array_agg(DISTINCT path) FROM public.tap_seen_path), ARRAY['pg_catalog, payments, pg_temp'],
          'under each, with the API''s fixed search_path, not the caller''s');
DROP TRIGGER tap_record_path ON payments.transfers;
SET LOCAL search_path = public, payments;

SELECT * FROM finish();
ROLLBACK;
