\echo Use "ALTER EXTENSION payments UPDATE TO '1.1'" to load this file. \quit
-- payments 1.0 -> 1.1.  Each step names the issue it comes from and what it
-- costs on a large ledger.

-- History guarded in replica mode too (issue 7): catalog only, instant.
ALTER TABLE payments.transfers ENABLE ALWAYS TRIGGER transfer_history_guard;
ALTER TABLE payments.transfers ENABLE ALWAYS TRIGGER transfer_truncate_guard;
ALTER TABLE payments.postings ENABLE ALWAYS TRIGGER posting_history_guard;
ALTER TABLE payments.postings ENABLE ALWAYS TRIGGER posting_truncate_guard;
ALTER TABLE payments.accounts ENABLE ALWAYS TRIGGER account_history_guard;
ALTER TABLE payments.accounts ENABLE ALWAYS TRIGGER account_truncate_guard;

-- DROP EXTENSION refused while the ledger holds transfers (issue 7):
-- catalog only, instant.
CREATE FUNCTION payments.drop_guard() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'ledger_drop_guard' LANGUAGE C
    SECURITY DEFINER SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.drop_guard() IS
    'event trigger: refuses a statement that would drop extension payments while its ledger holds transfers, unless payments.allow_drop is on';
REVOKE ALL ON FUNCTION payments.drop_guard() FROM PUBLIC;

CREATE EVENT TRIGGER payments_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP OWNED')
    EXECUTE FUNCTION payments.drop_guard();
ALTER EVENT TRIGGER payments_drop_guard ENABLE ALWAYS;
COMMENT ON EVENT TRIGGER payments_drop_guard IS
    'refuses DROP EXTENSION payments (or a DROP SCHEMA ... CASCADE or DROP OWNED reaching it) while the ledger holds transfers; SET payments.allow_drop = on to drop deliberately';
