-- The ledger: accounts, transfers, postings, and the API that writes them.
-- Every rule is enforced by C triggers on the tables themselves, so it holds
-- for post_transfer(), a plain INSERT and COPY alike.

-- tables -----------------------------------------------------------------

CREATE SEQUENCE payments.accounts_id_seq;
CREATE TABLE payments.accounts (
    id              bigint PRIMARY KEY DEFAULT nextval('payments.accounts_id_seq'),
    ledger          text NOT NULL DEFAULT 'default',
    name            text NOT NULL,
    currency        currency NOT NULL,
    normal_balance  text NOT NULL DEFAULT 'credit'
                    CHECK (normal_balance IN ('debit', 'credit')),
    allow_negative  boolean NOT NULL DEFAULT false,
    status          text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'frozen', 'closed')),
    metadata        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- set to zero by the insert trigger, then changed only by transfers
    debits_posted   monetary NOT NULL,
    credits_posted  monetary NOT NULL,
    debits_pending  monetary NOT NULL,
    credits_pending monetary NOT NULL,
    UNIQUE (ledger, name)
);
ALTER SEQUENCE payments.accounts_id_seq OWNED BY payments.accounts.id;
COMMENT ON TABLE payments.accounts IS
    'ledger accounts and their running volumes; balance = normal-side volume minus the other side';
COMMENT ON COLUMN payments.accounts.normal_balance IS
    'the side that increases the balance: debit (assets, expenses) or credit (liabilities, income, user wallets)';
COMMENT ON COLUMN payments.accounts.allow_negative IS
    'false: the available balance (posted balance minus pending outgoing) never goes below zero';
COMMENT ON COLUMN payments.accounts.debits_posted IS 'sum of posted debits; written only by the ledger';
COMMENT ON COLUMN payments.accounts.credits_posted IS 'sum of posted credits; written only by the ledger';
COMMENT ON COLUMN payments.accounts.debits_pending IS 'sum of pending debits; written only by the ledger';
COMMENT ON COLUMN payments.accounts.credits_pending IS 'sum of pending credits; written only by the ledger';

CREATE SEQUENCE payments.transfers_id_seq;
CREATE TABLE payments.transfers (
    id              bigint PRIMARY KEY DEFAULT nextval('payments.transfers_id_seq'),
    ledger          text NOT NULL,      -- filled from the accounts when left out
    idempotency_key text,
    from_account    bigint NOT NULL,
    to_account      bigint NOT NULL,
    amount          monetary NOT NULL,
    status          text NOT NULL DEFAULT 'posted'
                    CHECK (status IN ('posted', 'pending', 'voided', 'expired')),
    pending_id      bigint,
    reverses        bigint,
    expires_at      timestamptz,
    metadata        jsonb,
    created_at      timestamptz NOT NULL,   -- assigned by the ledger
    UNIQUE (ledger, idempotency_key)
);
ALTER SEQUENCE payments.transfers_id_seq OWNED BY payments.transfers.id;
CREATE INDEX transfers_from_account_idx ON payments.transfers (from_account, created_at);
CREATE INDEX transfers_to_account_idx ON payments.transfers (to_account, created_at);
COMMENT ON TABLE payments.transfers IS
    'money moved inside one ledger: from_account is debited, to_account credited; never updated or deleted';
COMMENT ON COLUMN payments.transfers.idempotency_key IS
    'unique within the ledger: replaying post_transfer() with it returns the original transfer';
COMMENT ON COLUMN payments.transfers.created_at IS 'when the ledger posted the transfer; assigned by the ledger';

CREATE SEQUENCE payments.postings_id_seq;
CREATE TABLE payments.postings (
    id              bigint PRIMARY KEY DEFAULT nextval('payments.postings_id_seq'),
    ledger          text NOT NULL,
    transfer_id     bigint NOT NULL,
    account_id      bigint NOT NULL,
    side            text NOT NULL CHECK (side IN ('debit', 'credit')),
    amount          monetary NOT NULL,
    balance_after   monetary NOT NULL,
    created_at      timestamptz NOT NULL
);
ALTER SEQUENCE payments.postings_id_seq OWNED BY payments.postings.id;
CREATE INDEX postings_account_idx ON payments.postings (account_id, created_at, id);
CREATE INDEX postings_transfer_idx ON payments.postings (transfer_id);
COMMENT ON TABLE payments.postings IS
    'one row per account a transfer touches, with the account''s posted balance after it; written only by the ledger';
COMMENT ON COLUMN payments.postings.balance_after IS
    'the account''s posted balance (normal side minus the other) right after this leg';
COMMENT ON COLUMN payments.postings.created_at IS
    'when the leg was applied, taken under the account''s lock: per account it follows the order of the legs';

SELECT pg_catalog.pg_extension_config_dump('payments.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('payments.accounts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('payments.transfers', '');
SELECT pg_catalog.pg_extension_config_dump('payments.transfers_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('payments.postings', '');
SELECT pg_catalog.pg_extension_config_dump('payments.postings_id_seq', '');

-- Nobody writes the ledger tables directly but through the API, unless a
-- DBA grants it: the triggers then still enforce every rule.
REVOKE ALL ON payments.accounts, payments.transfers, payments.postings FROM PUBLIC;
REVOKE ALL ON SEQUENCE payments.accounts_id_seq, payments.transfers_id_seq,
    payments.postings_id_seq FROM PUBLIC;

-- triggers ---------------------------------------------------------------
-- Those that run SQL run as the extension's owner, so that whoever may
-- insert a transfer need not (and should not) be able to write postings or
-- volumes.  The guards run no SQL and resolve no names: they need neither
-- rights nor a search_path, and a SET clause would cost every row it guards.

CREATE FUNCTION payments.transfer_before_insert() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_transfer_before_insert' LANGUAGE C
    SECURITY DEFINER SET search_path = pg_catalog, payments, pg_temp;
CREATE FUNCTION payments.transfer_after_insert() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_transfer_after_insert' LANGUAGE C
    SECURITY DEFINER SET search_path = pg_catalog, payments, pg_temp;
-- Runs as the inserting role, with no search_path of its own: its one query
-- names everything with its schema, and runs only for a transfer whose AFTER
-- trigger was disabled, where failing for want of rights refuses the transfer.
CREATE FUNCTION payments.transfer_check_balanced() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_transfer_check_balanced' LANGUAGE C;
CREATE FUNCTION payments.account_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_account_guard' LANGUAGE C;
CREATE FUNCTION payments.posting_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_posting_guard' LANGUAGE C;
CREATE FUNCTION payments.history_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_history_guard' LANGUAGE C;
COMMENT ON FUNCTION payments.transfer_before_insert() IS
    'trigger: checks a new transfer on its own and fills in its ledger and created_at';
COMMENT ON FUNCTION payments.transfer_after_insert() IS
    'trigger: applies both legs in account id order (one locking UPDATE each), checks the limits, writes the postings';
COMMENT ON FUNCTION payments.transfer_check_balanced() IS
    'deferred constraint trigger: at commit, each transfer''s legs sum to zero per currency';
COMMENT ON FUNCTION payments.account_guard() IS
    'trigger: new accounts start at zero; volumes change only through transfers; status changes follow the rules';
COMMENT ON FUNCTION payments.posting_guard() IS
    'trigger: postings are written only by the ledger itself';
COMMENT ON FUNCTION payments.history_guard() IS
    'trigger: refuses UPDATE, DELETE and TRUNCATE of ledger history';
REVOKE ALL ON FUNCTION payments.transfer_before_insert(), payments.transfer_after_insert(),
    payments.transfer_check_balanced(), payments.account_guard(), payments.posting_guard(),
    payments.history_guard() FROM PUBLIC;

CREATE TRIGGER transfer_before_insert BEFORE INSERT ON payments.transfers
    FOR EACH ROW EXECUTE FUNCTION payments.transfer_before_insert();
CREATE TRIGGER transfer_after_insert AFTER INSERT ON payments.transfers
    FOR EACH ROW EXECUTE FUNCTION payments.transfer_after_insert();
CREATE CONSTRAINT TRIGGER transfer_check_balanced AFTER INSERT ON payments.transfers
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payments.transfer_check_balanced();
CREATE TRIGGER transfer_history_guard BEFORE UPDATE OR DELETE ON payments.transfers
    FOR EACH ROW EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER transfer_truncate_guard BEFORE TRUNCATE ON payments.transfers
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();

CREATE TRIGGER posting_guard BEFORE INSERT ON payments.postings
    FOR EACH ROW EXECUTE FUNCTION payments.posting_guard();
CREATE TRIGGER posting_history_guard BEFORE UPDATE OR DELETE ON payments.postings
    FOR EACH ROW EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER posting_truncate_guard BEFORE TRUNCATE ON payments.postings
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
ALTER TABLE payments.accounts ENABLE ALWAYS TRIGGER account_history_guard;
ALTER TABLE payments.accounts ENABLE ALWAYS TRIGGER account_truncate_guard;

-- the application's API ----------------------------------------------------

CREATE FUNCTION payments.create_account(
        name text,
        currency currency,
        normal_balance text DEFAULT 'credit',
        allow_negative boolean DEFAULT false,
        metadata jsonb DEFAULT NULL,
        ledger text DEFAULT 'default')
    RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    INSERT INTO payments.accounts (ledger, name, currency, normal_balance,
                                   allow_negative, metadata)
    VALUES (create_account.ledger, create_account.name, create_account.currency,
            create_account.normal_balance, create_account.allow_negative,
            create_account.metadata)
    RETURNING id;
END;
COMMENT ON FUNCTION payments.create_account(text, currency, text, boolean, jsonb, text) IS
    'opens an account with zero volumes; returns its id';

CREATE FUNCTION payments.post_transfer(
        from_account bigint,
        to_account bigint,
        amount monetary,
        idempotency_key text DEFAULT NULL,
        metadata jsonb DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ledger_post_transfer'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.post_transfer(bigint, bigint, monetary, text, jsonb) IS
    'moves amount from one account to another in their ledger; returns the transfer id (the original one when the idempotency key is replayed)';

CREATE FUNCTION payments.post_transfer(
        from_account text,
        to_account text,
        amount monetary,
        idempotency_key text DEFAULT NULL,
        metadata jsonb DEFAULT NULL,
        ledger text DEFAULT 'default')
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ledger_post_transfer_by_name'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.post_transfer(text, text, monetary, text, jsonb, text) IS
    'post_transfer() with accounts named within a ledger';

CREATE FUNCTION payments.account_id(name text, ledger text DEFAULT 'default')
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ledger_account_id'
    LANGUAGE C STABLE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.account_id(text, text) IS
    'the id of the account with this name in the ledger; an error if there is none';

CREATE FUNCTION payments.account_checked(account bigint)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ledger_account_checked'
    LANGUAGE C STABLE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.account_checked(bigint) IS
    'the account id itself; an error if no such account exists';

CREATE VIEW payments.account_balances AS
    SELECT a.id AS account_id, a.ledger, a.name, a.currency, a.normal_balance, a.status,
           CASE a.normal_balance
               WHEN 'debit' THEN a.debits_posted - a.credits_posted
               ELSE a.credits_posted - a.debits_posted
           END AS balance,
           CASE a.normal_balance
               WHEN 'debit' THEN a.debits_posted - a.credits_posted
                                 - a.credits_pending
               ELSE a.credits_posted - a.debits_posted
                    - a.debits_pending
           END AS available
      FROM payments.accounts a;
COMMENT ON VIEW payments.account_balances IS
    'every account with its posted and available balance';

CREATE FUNCTION payments.balance(account bigint, at timestamptz DEFAULT NULL)
    RETURNS monetary
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT CASE
        WHEN balance.at IS NULL THEN b.balance
        ELSE coalesce(
            (SELECT p.balance_after FROM payments.postings p
              WHERE p.account_id = b.account_id AND p.created_at <= balance.at
              ORDER BY p.created_at DESC, p.id DESC LIMIT 1),
            monetary(0, b.currency))
        END
      FROM payments.account_balances b
     WHERE b.account_id = payments.account_checked(balance.account);
END;
COMMENT ON FUNCTION payments.balance(bigint, timestamptz) IS
    'the posted balance now, or as of a time (the running balance of the last leg at or before it)';

CREATE FUNCTION payments.balance(account text, at timestamptz DEFAULT NULL,
                                 ledger text DEFAULT 'default')
    RETURNS monetary
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT payments.balance(payments.account_id(balance.account, balance.ledger), balance.at);
END;
COMMENT ON FUNCTION payments.balance(text, timestamptz, text) IS
    'balance() of the account named in a ledger';

CREATE FUNCTION payments.available_balance(account bigint)
    RETURNS monetary
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT b.available FROM payments.account_balances b
     WHERE b.account_id = payments.account_checked(available_balance.account);
END;
COMMENT ON FUNCTION payments.available_balance(bigint) IS
    'the posted balance minus pending outgoing amounts: what may still be spent';

CREATE FUNCTION payments.available_balance(account text, ledger text DEFAULT 'default')
    RETURNS monetary
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT payments.available_balance(payments.account_id(available_balance.account,
                                                                 available_balance.ledger));
END;
COMMENT ON FUNCTION payments.available_balance(text, text) IS
    'available_balance() of the account named in a ledger';

CREATE FUNCTION payments.set_account_status(account bigint, status text)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    UPDATE payments.accounts SET status = set_account_status.status
     WHERE id = payments.account_checked(set_account_status.account);
END;
COMMENT ON FUNCTION payments.set_account_status(bigint, text) IS
    'freezes (no transfers in or out), reopens, or closes (only at zero with nothing pending; final) an account';

CREATE FUNCTION payments.set_account_status(account text, status text,
                                            ledger text DEFAULT 'default')
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT payments.set_account_status(payments.account_id(set_account_status.account,
                                                                set_account_status.ledger),
                                             set_account_status.status);
END;
COMMENT ON FUNCTION payments.set_account_status(text, text, text) IS
    'set_account_status() of the account named in a ledger';

-- the audit -----------------------------------------------------------------

CREATE FUNCTION payments.verify_ledger()
    RETURNS TABLE (problem text, account_id bigint, transfer_id bigint, detail text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    -- account volumes against the sum of their legs
    WITH legs AS (
        SELECT p.account_id,
               sum(p.amount) FILTER (WHERE p.side = 'debit') AS debits,
               sum(p.amount) FILTER (WHERE p.side = 'credit') AS credits
          FROM payments.postings p GROUP BY p.account_id
    )
    SELECT 'account volumes differ from its postings', a.id, NULL::bigint,
           format('debits_posted %s, credits_posted %s; postings: debits %s, credits %s',
                  a.debits_posted, a.credits_posted, l.debits, l.credits)
      FROM payments.accounts a LEFT JOIN legs l ON l.account_id = a.id
     WHERE a.debits_posted <> coalesce(l.debits, monetary(0, a.currency))
        OR a.credits_posted <> coalesce(l.credits, monetary(0, a.currency))
    UNION ALL
    -- running balances, leg by leg
    SELECT 'posting balance_after differs from the running balance', r.account_id,
           r.transfer_id, format('posting %s: balance_after %s, running %s',
                                 r.id, r.balance_after, r.running)
      FROM (SELECT p.id, p.account_id, p.transfer_id, p.balance_after,
                   sum(CASE WHEN p.side = a.normal_balance THEN p.amount
                                     ELSE - p.amount END)
                       OVER (PARTITION BY p.account_id ORDER BY p.created_at, p.id) AS running
              FROM payments.postings p JOIN payments.accounts a ON a.id = p.account_id) r
     WHERE r.balance_after <> r.running
    UNION ALL
    -- each transfer: one debit of its amount from from_account, one credit to to_account
    SELECT 'transfer legs do not match the transfer', NULL, t.id,
           format('%s legs; debits %s, credits %s', count(p.id),
                  sum(p.amount) FILTER (WHERE p.side = 'debit'),
                  sum(p.amount) FILTER (WHERE p.side = 'credit'))
      FROM payments.transfers t LEFT JOIN payments.postings p ON p.transfer_id = t.id
     WHERE t.status = 'posted'
     GROUP BY t.id
    HAVING count(p.id) <> 2
        OR count(*) FILTER (WHERE p.side = 'debit' AND p.account_id = t.from_account
                              AND p.amount = t.amount AND p.ledger = t.ledger) <> 1
        OR count(*) FILTER (WHERE p.side = 'credit' AND p.account_id = t.to_account
                              AND p.amount = t.amount AND p.ledger = t.ledger) <> 1
    UNION ALL
    SELECT 'posting without a transfer', p.account_id, p.transfer_id, format('posting %s', p.id)
      FROM payments.postings p
     WHERE NOT EXISTS (SELECT FROM payments.transfers t WHERE t.id = p.transfer_id)
    UNION ALL
    -- the books balance: per currency, debits equal credits
    SELECT 'debits and credits differ', NULL, NULL,
           format('%s: debits %s, credits %s', c.currency, c.debits, c.credits)
      FROM (SELECT a.currency,   -- as numeric: a total may pass 38 digits
                   sum(amount(a.debits_posted)) AS debits,
                   sum(amount(a.credits_posted)) AS credits
              FROM payments.accounts a GROUP BY a.currency) c
     WHERE c.debits <> c.credits;
END;
COMMENT ON FUNCTION payments.verify_ledger() IS
    'recomputes every balance and every transfer''s legs from the postings; returns the rows that disagree (none, always)';

-- for analysts ------------------------------------------------------------

CREATE VIEW payments.trial_balance AS
    -- numeric totals: the sum over many accounts may pass monetary's 38 digits
    SELECT a.ledger, a.currency,
           sum(amount(a.debits_posted)) AS debits,
           sum(amount(a.credits_posted)) AS credits,
           sum(amount(a.debits_posted)) = sum(amount(a.credits_posted)) AS balanced
      FROM payments.accounts a
     GROUP BY a.ledger, a.currency;
COMMENT ON VIEW payments.trial_balance IS
    'per ledger and currency, total posted debits and credits (numeric, in the currency''s units): they are always equal';

CREATE FUNCTION payments.statement(account bigint, from_time timestamptz, to_time timestamptz)
    RETURNS TABLE (posting_id bigint, transfer_id bigint, created_at timestamptz,
                   side text, amount monetary, balance_after monetary,
                   counterparty bigint, metadata jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT p.id, p.transfer_id, p.created_at, p.side, p.amount, p.balance_after,
           CASE p.side WHEN 'debit' THEN t.to_account ELSE t.from_account END,
           t.metadata
      FROM payments.postings p
      JOIN payments.transfers t ON t.id = p.transfer_id
     WHERE p.account_id = payments.account_checked(statement.account)
       AND p.created_at >= statement.from_time AND p.created_at < statement.to_time
     ORDER BY p.created_at, p.id;
END;
COMMENT ON FUNCTION payments.statement(bigint, timestamptz, timestamptz) IS
    'an account''s legs in [from_time, to_time), oldest first, with running balances; the opening balance is balance(account, from_time - interval ''1 microsecond'')';

-- Reading functions are for the roles a DBA grants; writing ones likewise.
REVOKE ALL ON FUNCTION
    payments.create_account(text, currency, text, boolean, jsonb, text),
    payments.post_transfer(bigint, bigint, monetary, text, jsonb),
    payments.post_transfer(text, text, monetary, text, jsonb, text),
    payments.account_id(text, text),
    payments.account_checked(bigint),
    payments.balance(bigint, timestamptz),
    payments.balance(text, timestamptz, text),
    payments.available_balance(bigint),
    payments.available_balance(text, text),
    payments.set_account_status(bigint, text),
    payments.set_account_status(text, text, text),
    payments.verify_ledger(),
    payments.statement(bigint, timestamptz, timestamptz)
    FROM PUBLIC;
REVOKE ALL ON payments.account_balances, payments.trial_balance FROM PUBLIC;
