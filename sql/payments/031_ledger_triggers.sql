-- The triggers that hold the ledger's rules on every path that writes:
-- post_transfer(), post_transfers(), INSERT, INSERT ... SELECT, multi-row
-- VALUES, INSERT ... ON CONFLICT DO NOTHING, MERGE and COPY all insert into
-- payments.transfers, and every inserted row goes through the one posting
-- engine (src/posting_engine.c), once per statement.
--
-- Those that run SQL run as the extension's owner, so that whoever may insert
-- a transfer need not (and should not) be able to write postings or volumes.
-- All are C and resolve no name through the caller's search_path: the guards
-- run no SQL, and every statement the others prepare names each table,
-- function and operator with its schema (test/sql/security.sql), so they
-- carry no SET search_path, which would cost every row or statement: no
-- user code runs nested in them (the engine writes postings and volumes
-- without firing triggers; the API functions, which do fire the triggers a
-- DBA may add to transfers, carry the SET).

CREATE FUNCTION payments.transfer_statement_start() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_transfer_statement_start' LANGUAGE C;
CREATE FUNCTION payments.transfer_before_insert() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_transfer_before_insert' LANGUAGE C SECURITY DEFINER;
CREATE FUNCTION payments.transfer_apply() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_transfer_apply' LANGUAGE C SECURITY DEFINER;
CREATE FUNCTION payments.account_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_account_guard' LANGUAGE C;
CREATE FUNCTION payments.ledger_write_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_write_guard' LANGUAGE C;
CREATE FUNCTION payments.history_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_history_guard' LANGUAGE C;
COMMENT ON FUNCTION payments.transfer_statement_start() IS
    'trigger: opens the statement''s entry, before any of its transfers is inserted';
COMMENT ON FUNCTION payments.transfer_before_insert() IS
    'trigger: checks a new transfer on its own and assigns its id, ledger, entry and created_at';
COMMENT ON FUNCTION payments.transfer_apply() IS
    'trigger: the posting engine: applies the statement''s transfers (locks, volumes, limits in transfer order, legs)';
COMMENT ON FUNCTION payments.account_guard() IS
    'trigger: assigns a new account''s id; bounds its ledger and name; new accounts start at zero; volumes change only through transfers; status changes follow the rules';
COMMENT ON FUNCTION payments.ledger_write_guard() IS
    'trigger: postings, entries, the stripes of hot accounts, open holds, FX entries and closed periods are written only by the ledger itself';
COMMENT ON FUNCTION payments.history_guard() IS
    'trigger: refuses UPDATE, DELETE and TRUNCATE of ledger history';
REVOKE ALL ON FUNCTION payments.transfer_statement_start(), payments.transfer_before_insert(),
    payments.transfer_apply(), payments.account_guard(), payments.ledger_write_guard(),
    payments.history_guard() FROM PUBLIC;

CREATE TRIGGER transfer_statement_start BEFORE INSERT ON payments.transfers
    FOR EACH STATEMENT EXECUTE FUNCTION payments.transfer_statement_start();
CREATE TRIGGER transfer_before_insert BEFORE INSERT ON payments.transfers
    FOR EACH ROW EXECUTE FUNCTION payments.transfer_before_insert();
CREATE TRIGGER transfer_apply AFTER INSERT ON payments.transfers
    REFERENCING NEW TABLE AS new_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION payments.transfer_apply();
CREATE TRIGGER transfer_history_guard BEFORE UPDATE OR DELETE ON payments.transfers
    FOR EACH ROW EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER transfer_truncate_guard BEFORE TRUNCATE ON payments.transfers
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();

CREATE TRIGGER posting_guard BEFORE INSERT ON payments.postings
    FOR EACH ROW EXECUTE FUNCTION payments.ledger_write_guard();
CREATE TRIGGER posting_history_guard BEFORE UPDATE OR DELETE ON payments.postings
    FOR EACH ROW EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER posting_truncate_guard BEFORE TRUNCATE ON payments.postings
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();

CREATE TRIGGER entry_guard BEFORE INSERT ON payments.entries
    FOR EACH ROW EXECUTE FUNCTION payments.ledger_write_guard();
CREATE TRIGGER entry_history_guard BEFORE UPDATE OR DELETE ON payments.entries
    FOR EACH ROW EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER entry_truncate_guard BEFORE TRUNCATE ON payments.entries
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();

-- Open holds come and go with holds and their resolutions, written by the
-- engine; nobody else writes them.
CREATE TRIGGER open_hold_guard BEFORE INSERT OR UPDATE OR DELETE ON payments.open_holds
    FOR EACH ROW EXECUTE FUNCTION payments.ledger_write_guard();
CREATE TRIGGER open_hold_truncate_guard BEFORE TRUNCATE ON payments.open_holds
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();

-- FX entries are written by post_fx_transfer() and reverse_fx_transfer();
-- FX accounts by create_fx_account(); neither changes once written.
CREATE TRIGGER fx_entry_guard BEFORE INSERT ON payments.fx_entries
    FOR EACH ROW EXECUTE FUNCTION payments.ledger_write_guard();
CREATE TRIGGER fx_entry_history_guard BEFORE UPDATE OR DELETE ON payments.fx_entries
    FOR EACH ROW EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER fx_entry_truncate_guard BEFORE TRUNCATE ON payments.fx_entries
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER fx_account_history_guard BEFORE UPDATE OR DELETE ON payments.fx_accounts
    FOR EACH ROW EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER fx_account_truncate_guard BEFORE TRUNCATE ON payments.fx_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();

-- Closed periods are recorded by close_period() and never reopened.
CREATE TRIGGER closed_period_guard BEFORE INSERT ON payments.closed_periods
    FOR EACH ROW EXECUTE FUNCTION payments.ledger_write_guard();
CREATE TRIGGER closed_period_history_guard BEFORE UPDATE OR DELETE ON payments.closed_periods
    FOR EACH ROW EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER closed_period_truncate_guard BEFORE TRUNCATE ON payments.closed_periods
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();
-- closed_periods and role_ledgers are kept in every backend's memory: a
-- write to either makes every backend read it again.
CREATE FUNCTION payments.cached_table_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_cached_table_changed' LANGUAGE C;
COMMENT ON FUNCTION payments.cached_table_changed() IS
    'trigger: after any change to closed_periods or role_ledgers, every backend reads them again';
REVOKE ALL ON FUNCTION payments.cached_table_changed() FROM PUBLIC;
CREATE TRIGGER closed_periods_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON payments.closed_periods FOR EACH STATEMENT EXECUTE FUNCTION payments.cached_table_changed();
CREATE TRIGGER role_ledgers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON payments.role_ledgers FOR EACH STATEMENT EXECUTE FUNCTION payments.cached_table_changed();

-- Which transaction posted each entry is written by the engine (without
-- triggers) and never changes.
CREATE TRIGGER entry_xact_guard BEFORE INSERT ON payments.entry_xacts
    FOR EACH ROW EXECUTE FUNCTION payments.ledger_write_guard();
CREATE TRIGGER entry_xact_history_guard BEFORE UPDATE OR DELETE ON payments.entry_xacts
    FOR EACH ROW EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER entry_xact_truncate_guard BEFORE TRUNCATE ON payments.entry_xacts
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();

-- A hot account's stripes are updated by the engine as it updates account
-- rows, without triggers; nobody else writes them.  Replica mode lets a
-- restore or logical replication's apply write them, as it does accounts.
CREATE TRIGGER stripe_guard BEFORE INSERT OR UPDATE ON payments.account_stripes
    FOR EACH ROW EXECUTE FUNCTION payments.ledger_write_guard();
CREATE TRIGGER stripe_history_guard BEFORE DELETE ON payments.account_stripes
    FOR EACH ROW EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER stripe_truncate_guard BEFORE TRUNCATE ON payments.account_stripes
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();

CREATE TRIGGER account_guard BEFORE INSERT OR UPDATE ON payments.accounts
    FOR EACH ROW EXECUTE FUNCTION payments.account_guard();
CREATE TRIGGER account_history_guard BEFORE DELETE ON payments.accounts
    FOR EACH ROW EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER account_truncate_guard BEFORE TRUNCATE ON payments.accounts
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();

-- History stays guarded under session_replication_role = replica (a restore,
-- logical replication's apply, some poolers): neither ever updates, deletes
-- or truncates ledger history, so only the triggers on the insert paths step
-- aside there, letting rows come back as they were.
ALTER TABLE payments.transfers ENABLE ALWAYS TRIGGER transfer_history_guard;
ALTER TABLE payments.transfers ENABLE ALWAYS TRIGGER transfer_truncate_guard;
ALTER TABLE payments.postings ENABLE ALWAYS TRIGGER posting_history_guard;
ALTER TABLE payments.postings ENABLE ALWAYS TRIGGER posting_truncate_guard;
ALTER TABLE payments.entries ENABLE ALWAYS TRIGGER entry_history_guard;
ALTER TABLE payments.entries ENABLE ALWAYS TRIGGER entry_truncate_guard;
ALTER TABLE payments.accounts ENABLE ALWAYS TRIGGER account_history_guard;
ALTER TABLE payments.accounts ENABLE ALWAYS TRIGGER account_truncate_guard;
ALTER TABLE payments.account_stripes ENABLE ALWAYS TRIGGER stripe_history_guard;
ALTER TABLE payments.account_stripes ENABLE ALWAYS TRIGGER stripe_truncate_guard;
ALTER TABLE payments.open_holds ENABLE ALWAYS TRIGGER open_hold_truncate_guard;
ALTER TABLE payments.fx_entries ENABLE ALWAYS TRIGGER fx_entry_history_guard;
ALTER TABLE payments.fx_entries ENABLE ALWAYS TRIGGER fx_entry_truncate_guard;
ALTER TABLE payments.fx_accounts ENABLE ALWAYS TRIGGER fx_account_history_guard;
ALTER TABLE payments.fx_accounts ENABLE ALWAYS TRIGGER fx_account_truncate_guard;
ALTER TABLE payments.closed_periods ENABLE ALWAYS TRIGGER closed_period_history_guard;
ALTER TABLE payments.closed_periods ENABLE ALWAYS TRIGGER closed_period_truncate_guard;
ALTER TABLE payments.closed_periods ENABLE ALWAYS TRIGGER closed_periods_changed;
ALTER TABLE payments.role_ledgers ENABLE ALWAYS TRIGGER role_ledgers_changed;
ALTER TABLE payments.entry_xacts ENABLE ALWAYS TRIGGER entry_xact_history_guard;
ALTER TABLE payments.entry_xacts ENABLE ALWAYS TRIGGER entry_xact_truncate_guard;
