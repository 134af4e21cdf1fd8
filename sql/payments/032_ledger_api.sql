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

-- By name: every function that names accounts instead of giving their ids
-- ends in _by_name and takes the ledger first, as every key of the ledger
-- starts with it.  Separate names, not overloads: a driver that sends its
-- parameters untyped (node-postgres) would otherwise reach the by-name
-- function with ids, since PostgreSQL prefers text for an unknown type.
CREATE FUNCTION payments.post_transfer_by_name(
        ledger text,
        from_account text,
        to_account text,
        amount monetary,
        idempotency_key text DEFAULT NULL,
        metadata jsonb DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ledger_post_transfer_by_name'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.post_transfer_by_name(text, text, text, monetary, text, jsonb) IS
    'post_transfer() between the accounts named in a ledger';

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

-- Requests built from JSON, strictly: a key that is not a field of
-- transfer_request is refused, never dropped (jsonb_populate_recordset()
-- would drop a misspelt idempotency_key without a word).
CREATE FUNCTION payments.transfer_requests(requests jsonb)
    RETURNS payments.transfer_request[]
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, payments, pg_temp
AS $$
DECLARE
    unknown_key text;
BEGIN
    IF jsonb_typeof(requests) <> 'array' THEN
        RAISE EXCEPTION 'transfer requests must be a JSON array, not %', jsonb_typeof(requests)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM jsonb_array_elements(requests) AS r(request)
                WHERE jsonb_typeof(r.request) <> 'object') THEN
        RAISE EXCEPTION 'each transfer request must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT k INTO unknown_key
      FROM jsonb_array_elements(requests) AS r(request), jsonb_object_keys(r.request) AS k
     WHERE k NOT IN ('from_account', 'to_account', 'amount', 'idempotency_key', 'metadata')
     LIMIT 1;
    IF unknown_key IS NOT NULL THEN
        RAISE EXCEPTION 'unknown key "%" in a transfer request', unknown_key
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A request has from_account, to_account, amount ({"amount": "12.34", "currency": "USD"}), idempotency_key and metadata.';
    END IF;
    RETURN ARRAY(SELECT r FROM jsonb_populate_recordset(NULL::payments.transfer_request, requests) AS r);
END;
$$;
COMMENT ON FUNCTION payments.transfer_requests(jsonb) IS
    'a JSON array of transfer requests (amounts in the JSON form) as post_transfers() takes them; refuses keys it does not know';

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

CREATE FUNCTION payments.set_account_status_by_name(ledger text, account text, status text)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT payments.set_account_status(payments.account_id(set_account_status_by_name.account,
                                                          set_account_status_by_name.ledger),
                                       set_account_status_by_name.status);
END;
COMMENT ON FUNCTION payments.set_account_status_by_name(text, text, text) IS
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
    payments.post_transfer_by_name(text, text, text, monetary, text, jsonb),
    payments.post_transfers(payments.transfer_request[], text, jsonb),
    payments.account_id(text, text),
    payments.account_checked(bigint),
    payments.set_account_status(bigint, text),
    payments.set_account_status_by_name(text, text, text),
    payments.set_hot(bigint, boolean, integer)
    FROM PUBLIC;

-- Payment flows (DESIGN.md section 5).  Each inserts one transfer, which the
-- triggers and the engine check and apply as any other (src/payment_flows.c).

CREATE FUNCTION payments.hold(
        from_account bigint,
        to_account bigint,
        amount monetary,
        expires_at timestamptz DEFAULT NULL,
        idempotency_key text DEFAULT NULL,
        metadata jsonb DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ledger_hold'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.hold(bigint, bigint, monetary, timestamptz, text, jsonb) IS
    'authorizes: holds amount from one account for another (pending volumes; the available balance of the first drops at once, its posted balance does not) until captured, released or expired; returns the hold''s transfer id';

CREATE FUNCTION payments.capture(hold bigint, amount monetary DEFAULT NULL,
                                 idempotency_key text DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ledger_capture'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.capture(bigint, monetary, text) IS
    'posts a hold, in full (amount null) or in part, the rest released; once, and not after it expires; returns the capture''s transfer id';

CREATE FUNCTION payments.release(hold bigint, idempotency_key text DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ledger_release'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.release(bigint, text) IS
    'voids a hold: releases it whole, once, and not after it expires; returns the void''s transfer id';

-- The sweep: expires the holds past their expiry that nobody else is
-- resolving (SKIP LOCKED), oldest first, at most max_holds per call; run it
-- concurrently and as often as you like.
CREATE FUNCTION payments.expire_holds(max_holds integer DEFAULT 10000)
    RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    WITH due AS (
        SELECT o.ledger, o.id FROM payments.open_holds o
         WHERE o.expires_at <= statement_timestamp()
           AND payments.ledger_visible(o.ledger)   -- a role bound to ledgers sweeps theirs
         ORDER BY o.expires_at, o.id
         LIMIT greatest(expire_holds.max_holds, 0)
           FOR UPDATE SKIP LOCKED
    ), expired AS (
        INSERT INTO payments.transfers (ledger, from_account, to_account, amount, status, pending_id)
        SELECT h.ledger, h.from_account, h.to_account, h.amount, 'expired', h.id
          FROM due JOIN payments.transfers h ON h.ledger = due.ledger AND h.id = due.id
         ORDER BY h.ledger, h.id
        RETURNING 1
    )
    SELECT count(*) FROM expired;
END;
COMMENT ON FUNCTION payments.expire_holds(integer) IS
    'expires up to max_holds holds past their expires_at (oldest first, skipping those another transaction is resolving), releasing them; returns how many; safe to run concurrently and repeatedly';

CREATE FUNCTION payments.reverse_transfer(transfer bigint, amount monetary DEFAULT NULL,
                                          idempotency_key text DEFAULT NULL,
                                          metadata jsonb DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ledger_reverse_transfer'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.reverse_transfer(bigint, monetary, text, jsonb) IS
    'refunds: moves amount (all that is left to reverse, if null) back from the transfer''s to_account to its from_account; all reversals of a transfer never exceed it; returns the reversal''s transfer id';

CREATE FUNCTION payments.reverse_entry(entry bigint, idempotency_key text DEFAULT NULL,
                                       metadata jsonb DEFAULT NULL)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'ledger_reverse_entry'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.reverse_entry(bigint, text, jsonb) IS
    'reverses what is left of every posted transfer of an entry (transfers.entry_id), newest first, as one entry, all or none; returns the reversals'' ids';

REVOKE ALL ON FUNCTION
    payments.hold(bigint, bigint, monetary, timestamptz, text, jsonb),
    payments.capture(bigint, monetary, text),
    payments.release(bigint, text),
    payments.expire_holds(integer),
    payments.reverse_transfer(bigint, monetary, text, jsonb),
    payments.reverse_entry(bigint, text, jsonb)
    FROM PUBLIC;

-- Payments between currencies (DESIGN.md section 5; src/fx.c) ---------------

CREATE FUNCTION payments.create_fx_account(currency currency, ledger text DEFAULT 'default',
                                           hot boolean DEFAULT true)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
AS $$
DECLARE
    id bigint;
BEGIN
    IF create_fx_account.currency IS NULL OR create_fx_account.ledger IS NULL
       OR create_fx_account.hot IS NULL THEN
        RAISE EXCEPTION 'currency, ledger and hot must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- a role bound to other ledgers learns nothing of this one's
    PERFORM payments.require_ledger(create_fx_account.ledger);
    -- (PL/pgSQL resolves operators at run time, on this function's path,
    -- where the money types' are not: currencies compare as text)
    -- one creator at a time (readers are not blocked): a second waits, then
    -- finds the first's account
    LOCK TABLE payments.fx_accounts IN SHARE ROW EXCLUSIVE MODE;
    SELECT x.account_id INTO id FROM payments.fx_accounts x
     WHERE x.ledger = create_fx_account.ledger
       AND x.currency::text = create_fx_account.currency::text;
    IF FOUND THEN
        RETURN id;
    END IF;
    id := payments.create_account('fx:' || create_fx_account.currency::text,
                                  create_fx_account.currency, 'credit', true,
                                  '{"fx": true}', create_fx_account.ledger);
    INSERT INTO payments.fx_accounts (ledger, currency, account_id)
    VALUES (create_fx_account.ledger, create_fx_account.currency, id);
    IF create_fx_account.hot THEN
        PERFORM payments.set_hot(id);
    END IF;
    RETURN id;
END;
$$;
COMMENT ON FUNCTION payments.create_fx_account(currency, text, boolean) IS
    'declares the ledger''s FX account in a currency (named fx:CODE, credit-normal, may go negative, hot unless asked not to), through which post_fx_transfer() converts; returns its id, or the existing one''s';

CREATE FUNCTION payments.post_fx_transfer(
        from_account bigint,
        to_account bigint,
        amount monetary,
        to_currency currency,
        at timestamptz DEFAULT now(),
        mode rounding_mode DEFAULT 'half_even',
        idempotency_key text DEFAULT NULL,
        metadata jsonb DEFAULT NULL,
        rate numeric DEFAULT NULL,
        to_amount monetary DEFAULT NULL,
        quote text DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ledger_post_fx_transfer'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.post_fx_transfer(bigint, bigint, monetary, currency, timestamptz,
                                              rounding_mode, text, jsonb, numeric, monetary, text) IS
    'pays amount from one account to another in to_currency, as one entry through the ledger''s FX accounts: converted at the stored rates at at and rounded once by mode, or at a quoted rate, or to a quoted to_amount; records the rate used (payments.fx_entries); returns the entry id';

CREATE FUNCTION payments.reverse_fx_transfer(
        entry bigint,
        amount monetary DEFAULT NULL,
        at_original_rate boolean DEFAULT true,
        idempotency_key text DEFAULT NULL,
        metadata jsonb DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ledger_reverse_fx_transfer'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.reverse_fx_transfer(bigint, monetary, boolean, text, jsonb) IS
    'refunds an FX payment: gives amount (in the currency the customer paid; all that is left, if null) back to its from_account, and takes its worth back from its to_account at the original rate (by default) or at today''s stored rate; one entry; returns its id';

REVOKE ALL ON FUNCTION
    payments.create_fx_account(currency, text, boolean),
    payments.post_fx_transfer(bigint, bigint, monetary, currency, timestamptz, rounding_mode,
                              text, jsonb, numeric, monetary, text),
    payments.reverse_fx_transfer(bigint, monetary, boolean, text, jsonb)
    FROM PUBLIC;

-- Closing a period (DESIGN.md section 6; src/periods.c) ------------------------

CREATE FUNCTION payments.close_period(ledger text, until timestamptz)
    RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'ledger_close_period'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.close_period(text, timestamptz) IS
    'closes the ledger''s period up to until (past): waits for every transaction in progress, then records it; from then on every balance and statement as of a time at or before until is final and nothing posts into it; returns the ledger''s closed time';
REVOKE ALL ON FUNCTION payments.close_period(text, timestamptz) FROM PUBLIC;

-- Least privilege (DESIGN.md section 6; src/ledger_access.c) ------------------

-- System accounts: debit-normal, or allowed to go negative, so that money
-- can come out of them.  Creating or changing one is the right of the roles
-- that may execute this function (the triggers check it, on every path).
CREATE FUNCTION payments.create_system_account(
        name text,
        currency currency,
        normal_balance text DEFAULT 'debit',
        allow_negative boolean DEFAULT true,
        metadata jsonb DEFAULT NULL,
        ledger text DEFAULT 'default')
    RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT payments.create_account(create_system_account.name, create_system_account.currency,
                                   create_system_account.normal_balance,
                                   create_system_account.allow_negative,
                                   create_system_account.metadata, create_system_account.ledger);
END;
COMMENT ON FUNCTION payments.create_system_account(text, currency, text, boolean, jsonb, text) IS
    'opens a system account (by default debit-normal and allowed to go negative: a bank, a settlement account); EXECUTE on it is the right to create and change accounts that are debit-normal or may go negative, which create_account() checks';

-- Binding roles to ledgers: the DBA's (it writes payments.role_ledgers with
-- the caller's rights).
CREATE FUNCTION payments.bind_role(role regrole, ledger text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, payments, pg_temp
AS $$
BEGIN
    IF bind_role.role IS NULL OR bind_role.ledger IS NULL THEN
        RAISE EXCEPTION 'role and ledger must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF octet_length(bind_role.ledger) NOT BETWEEN 1 AND 64 THEN
        RAISE EXCEPTION 'ledger "%" is not 1 to 64 bytes long', left(bind_role.ledger, 70)
            USING ERRCODE = 'string_data_right_truncation';
    END IF;
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = bind_role.role) THEN
        RAISE EXCEPTION 'role "%" is a superuser: it cannot be confined to ledgers', bind_role.role
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Bind the roles the applications log in as, which should not be superusers.';
    END IF;
    INSERT INTO payments.role_ledgers (ledger, role, bound_by)
    VALUES (bind_role.ledger, bind_role.role, current_user)
    ON CONFLICT DO NOTHING;
END;
$$;
COMMENT ON FUNCTION payments.bind_role(regrole, text) IS
    'confines the role (and the roles that have its privileges) to the ledger and the others it is bound to: it reads, posts and changes accounts only there, on every path; a role bound to none uses every ledger';

CREATE FUNCTION payments.unbind_role(role regrole, ledger text)
    RETURNS boolean
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    WITH gone AS (
        DELETE FROM payments.role_ledgers b
         WHERE b.role = unbind_role.role AND b.ledger = unbind_role.ledger
        RETURNING 1)
    SELECT count(*) > 0 FROM gone;
END;
COMMENT ON FUNCTION payments.unbind_role(regrole, text) IS
    'undoes bind_role(); a role left bound to no ledger uses every ledger again (revoke its grants instead to shut it out); returns whether the binding existed';

REVOKE ALL ON FUNCTION
    payments.create_system_account(text, currency, text, boolean, jsonb, text),
    payments.bind_role(regrole, text),
    payments.unbind_role(regrole, text)
    FROM PUBLIC;
