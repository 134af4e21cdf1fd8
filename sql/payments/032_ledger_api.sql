-- The application's API.  The functions that post only insert transfer rows
-- (one statement per call); the triggers check and apply them, exactly as
-- for any other INSERT.  What the API adds is idempotency and, for
-- post_transfers(), an entry of many transfers posted all or none.
--
-- Every one runs with a fixed search_path: the statements the C ones prepare
-- name each table, function and operator with its schema anyway, but
-- whatever runs nested in them with the owner's rights (a trigger a DBA adds
-- to payments.transfers, say) must not resolve names through the caller's
-- path either.

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

CREATE TYPE payments.transfer_request AS (
    from_account    bigint,
    to_account      bigint,
    amount          monetary,
    idempotency_key text,
    metadata        jsonb
);
COMMENT ON TYPE payments.transfer_request IS
    'one transfer of an entry posted by payments.post_transfers(): from_account is debited, to_account credited';

CREATE FUNCTION payments.post_transfers(
        transfers payments.transfer_request[],
        idempotency_key text DEFAULT NULL,
        metadata jsonb DEFAULT NULL)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'ledger_post_transfers'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.post_transfers(payments.transfer_request[], text, jsonb) IS
    'posts the transfers, in order, as one entry of their ledger, all or none; returns their ids in order (the original ones when the entry''s idempotency key is replayed)';

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
    'the account id itself; an error if no such account exists (as the calling query sees the table)';

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

CREATE FUNCTION payments.set_hot(account bigint, hot boolean DEFAULT true,
                                 stripes integer DEFAULT NULL)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ledger_set_hot'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.set_hot(bigint, boolean, integer) IS
    'makes an account hot (its volumes split over stripes, 16 unless given, more later but never fewer, so that transfers adding to it do not wait for each other) or no longer hot; waits for the transfers applying to it';

REVOKE ALL ON FUNCTION
    payments.create_account(text, currency, text, boolean, jsonb, text),
    payments.post_transfer(bigint, bigint, monetary, text, jsonb),
    payments.post_transfer(text, text, monetary, text, jsonb, text),
    payments.post_transfers(payments.transfer_request[], text, jsonb),
    payments.account_id(text, text),
    payments.account_checked(bigint),
    payments.set_account_status(bigint, text),
    payments.set_account_status(text, text, text),
    payments.set_hot(bigint, boolean, integer)
    FROM PUBLIC;
