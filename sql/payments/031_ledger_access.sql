-- Ledgers as a security boundary (DESIGN.md section 6; src/ledger_access.c).
-- A role bound to ledgers (payments.bind_role()) reads only their rows, by
-- row level security on every ledger table; it posts only into them, and
-- changes only their accounts, by the triggers (every INSERT, COPY and call
-- of the API); the API's readers, which run as the owner, whom row level
-- security does not confine, check the same.  A role bound to none, a
-- superuser and the owner see every row.

CREATE FUNCTION payments.ledger_visible_support(internal)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'ledger_visible_support'
    LANGUAGE C STRICT;
COMMENT ON FUNCTION payments.ledger_visible_support(internal) IS
    'planner support of payments.ledger_visible(): it keeps every row for roles bound to no ledger';
REVOKE ALL ON FUNCTION payments.ledger_visible_support(internal) FROM PUBLIC;
CREATE FUNCTION payments.ledger_visible(ledger text)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'ledger_visible'
    LANGUAGE C STABLE STRICT LEAKPROOF PARALLEL RESTRICTED
    SUPPORT payments.ledger_visible_support;
COMMENT ON FUNCTION payments.ledger_visible(text) IS
    'may the current role (as the client set it) use the ledger? true unless it is bound to other ledgers only (payments.bind_role()); the row level security of the ledger''s tables';

CREATE FUNCTION payments.require_ledger(ledger text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ledger_require'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION payments.require_ledger(text) IS
    'refuses (42501) a ledger the current role may not use (payments.bind_role()); for the API''s functions that name a ledger before they write';
REVOKE ALL ON FUNCTION payments.require_ledger(text) FROM PUBLIC;

ALTER TABLE payments.accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments.account_stripes ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments.transfers ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments.open_holds ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments.postings ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments.entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments.fx_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments.fx_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments.closed_periods ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments.entry_xacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments.role_ledgers ENABLE ROW LEVEL SECURITY;
CREATE POLICY ledger_isolation ON payments.accounts USING (payments.ledger_visible(ledger));
CREATE POLICY ledger_isolation ON payments.account_stripes USING (payments.ledger_visible(ledger));
CREATE POLICY ledger_isolation ON payments.transfers USING (payments.ledger_visible(ledger));
CREATE POLICY ledger_isolation ON payments.open_holds USING (payments.ledger_visible(ledger));
CREATE POLICY ledger_isolation ON payments.postings USING (payments.ledger_visible(ledger));
CREATE POLICY ledger_isolation ON payments.entries USING (payments.ledger_visible(ledger));
CREATE POLICY ledger_isolation ON payments.fx_accounts USING (payments.ledger_visible(ledger));
CREATE POLICY ledger_isolation ON payments.fx_entries USING (payments.ledger_visible(ledger));
CREATE POLICY ledger_isolation ON payments.closed_periods USING (payments.ledger_visible(ledger));
CREATE POLICY ledger_isolation ON payments.entry_xacts USING (payments.ledger_visible(ledger));
CREATE POLICY ledger_isolation ON payments.role_ledgers USING (payments.ledger_visible(ledger));
