-- The extension's own lifecycle: DROP EXTENSION payments is refused while
-- the ledger holds transfers (src/lifecycle.c), whatever statement would
-- drop it, in replica mode too.

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

-- ALTER TABLE that would disable one of the ledger's triggers, or change when
-- it fires, is refused (src/lifecycle.c), in replica mode too.
CREATE FUNCTION payments.trigger_guard() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'ledger_trigger_guard' LANGUAGE C;
COMMENT ON FUNCTION payments.trigger_guard() IS
    'event trigger: refuses an ALTER TABLE that would disable a trigger of the ledger or change when it fires';
REVOKE ALL ON FUNCTION payments.trigger_guard() FROM PUBLIC;

CREATE EVENT TRIGGER payments_trigger_guard ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE')
    EXECUTE FUNCTION payments.trigger_guard();
ALTER EVENT TRIGGER payments_trigger_guard ENABLE ALWAYS;
COMMENT ON EVENT TRIGGER payments_trigger_guard IS
    'refuses ALTER TABLE ... DISABLE TRIGGER (or ENABLE REPLICA/ALWAYS) on a trigger of the ledger; a superuser disables this event trigger to change one deliberately';
