\echo Use "ALTER EXTENSION payments UPDATE TO '1.1'" to load this file. \quit
-- payments 1.0 -> 1.1.  Each step names the issue it comes from and what it
-- costs on a large ledger.

-- Least privilege (issue 14), first what the rest of this script uses: the
-- bindings of roles to ledgers (an empty table) and the function that the
-- views and row level security ask.  Catalog only.
-- Ledgers as a security boundary (payments.bind_role(); src/ledger_access.c):
-- a role with the privileges of a role bound here uses only the ledgers
-- bound to those roles.  A role bound to none uses every ledger.
CREATE TABLE payments.role_ledgers (
    ledger          text NOT NULL,
    role            regrole NOT NULL,
    bound_at        timestamptz NOT NULL DEFAULT now(),
    bound_by        name NOT NULL,
    CONSTRAINT role_ledgers_pkey PRIMARY KEY (ledger, role)
);
COMMENT ON TABLE payments.role_ledgers IS
    'which roles are confined to which ledgers (payments.bind_role(), payments.unbind_role()): a role that has the privileges of a bound role reads and posts only in the ledgers bound to those roles';
SELECT pg_catalog.pg_extension_config_dump('payments.role_ledgers', '');
REVOKE ALL ON payments.role_ledgers FROM PUBLIC;

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

-- The ledger's triggers cannot be turned off by accident (issue 8): catalog
-- only, instant.  ALTER TABLE that would disable one of the ledger's triggers, or change when
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

-- The posting engine (issue 8) ------------------------------------------------
--
-- Cost on a large ledger.  Every key of every table gains the ledger, so
-- the primary keys of transfers and postings are built anew: on 10^8
-- postings, minutes, with the tables locked.  (The other indexes of postings
-- stay as they are: they lead with ids, unique across ledgers.)  A DBA can
-- build the keys beforehand, without blocking writes, under the names
-- <index>_1_1:
--
--   CREATE UNIQUE INDEX CONCURRENTLY transfers_pkey_1_1 ON payments.transfers (ledger, id);
--   CREATE UNIQUE INDEX CONCURRENTLY postings_pkey_1_1 ON payments.postings (ledger, id);
--
-- and this script then takes them over, in seconds.  transfers.entry_id is
-- added with a default, which PostgreSQL stores once, not per row: existing
-- transfers read entry 0 ("posted before entries existed"); its index is
-- built here, one scan of transfers.  The accounts' primary key is rebuilt
-- and accounts_id_idx built: one scan of accounts, seconds at 10^6.

-- Hot accounts (issue 9): their columns and stripes come first, since the
-- reading functions below count them.
--
-- Cost on a large ledger: the new columns of accounts and postings have
-- constant defaults (or none), which PostgreSQL stores once: catalog only.
-- postings_stripe_idx is partial (legs of hot accounts only, none yet) but
-- building it reads all of postings once, with writes to it blocked: on 10^8
-- postings, a few minutes.  A DBA can build it beforehand, without blocking
-- writes (1.0 fills the new column with nulls meanwhile):
--
--   ALTER TABLE payments.postings ADD COLUMN stripe smallint;
--   CREATE INDEX CONCURRENTLY postings_stripe_idx_1_1 ON payments.postings
--       (account_id, stripe, created_at, id) WHERE stripe IS NOT NULL;
--
-- and this script takes it over.
ALTER TABLE payments.accounts
    ADD COLUMN hot boolean NOT NULL DEFAULT false,
    ADD COLUMN stripes smallint NOT NULL DEFAULT 0,
    ADD COLUMN striped_at timestamptz,
    ADD CONSTRAINT accounts_hot_has_stripes
        CHECK (stripes BETWEEN 0 AND 64 AND (stripes > 0 OR NOT hot));
COMMENT ON COLUMN payments.accounts.debits_posted IS
    'sum of posted debits on the account row; written only by the ledger.  Of a hot account (stripes > 0), only part: payments.account_volumes has the whole';
COMMENT ON COLUMN payments.accounts.credits_posted IS
    'sum of posted credits on the account row; written only by the ledger.  Of a hot account (stripes > 0), only part: payments.account_volumes has the whole';
COMMENT ON COLUMN payments.accounts.debits_pending IS
    'sum of pending debits on the account row; written only by the ledger.  Of a hot account (stripes > 0), only part: payments.account_volumes has the whole';
COMMENT ON COLUMN payments.accounts.credits_pending IS
    'sum of pending credits on the account row; written only by the ledger.  Of a hot account (stripes > 0), only part: payments.account_volumes has the whole';
-- one scan of accounts: seconds at 10^6
CREATE INDEX accounts_hot_idx ON payments.accounts (id) WHERE hot;
COMMENT ON INDEX payments.accounts_hot_idx IS 'the hot accounts (few), for the posting engine';
COMMENT ON COLUMN payments.accounts.hot IS
    'set with payments.set_hot(): transfers that only add to what the account may spend go to its stripes, not its row';
COMMENT ON COLUMN payments.accounts.stripes IS
    'how many rows of payments.account_stripes hold part of its volumes (0: none, and never hot); they are kept for good';
COMMENT ON COLUMN payments.accounts.striped_at IS
    'when the account was first made hot: its postings before then went to its row';
-- Hot accounts (payments.set_hot()): an account's volumes split over its row
-- and its stripes, rows here numbered 1 to accounts.stripes, which transfers
-- that only add to what it may spend update instead of its row.  Its true
-- volumes are the sum: payments.account_volumes adds them up.  Stripes stay
-- once made.  Each page keeps room to update its rows in place (fillfactor
-- 10: a handful of rows per page).
CREATE TABLE payments.account_stripes (
    ledger          text NOT NULL,
    account_id      bigint NOT NULL,
    stripe          smallint NOT NULL,
    debits_posted   monetary NOT NULL,
    credits_posted  monetary NOT NULL,
    debits_pending  monetary NOT NULL,
    credits_pending monetary NOT NULL,
    CONSTRAINT account_stripes_pkey PRIMARY KEY (ledger, account_id, stripe)
) WITH (fillfactor = 10);
COMMENT ON TABLE payments.account_stripes IS
    'the stripes of hot accounts: part of their volumes, which are the sum of the account row and its stripes (payments.account_volumes); written only by the ledger';
COMMENT ON COLUMN payments.account_stripes.stripe IS
    'from 1 to the account''s stripes; the account row itself is stripe 0 in postings.stripe';
SELECT pg_catalog.pg_extension_config_dump('payments.account_stripes', '');
REVOKE ALL ON payments.account_stripes FROM PUBLIC;

-- postings: where a hot account's leg went (issue 9), and the pending volume
-- a leg of a hold or of its resolution moves (issue 10).  Prebuilt columns
-- are taken over if they are what this adds.
DO $$
DECLARE
    c record;
    prebuilt text[] := '{}';
    last_attnum int := 0;
BEGIN
    FOR c IN SELECT v.name, v.type, a.attnum, a.atttypid, a.attnotnull, a.atthasdef
               FROM (VALUES (1, 'stripe', 'smallint'::regtype),
                            (2, 'pending_change', 'monetary'::regtype),
                            (3, 'held_after', 'monetary'::regtype)) v(n, name, type)
               LEFT JOIN pg_attribute a ON a.attrelid = 'payments.postings'::regclass
                                       AND a.attname = v.name AND NOT a.attisdropped
              ORDER BY v.n LOOP
        IF c.attnum IS NULL THEN
            EXECUTE format('ALTER TABLE payments.postings ADD COLUMN %I %s', c.name, c.type);
            c.attnum := (SELECT attnum FROM pg_attribute
                          WHERE attrelid = 'payments.postings'::regclass AND attname = c.name);
        ELSIF c.atttypid <> c.type OR c.attnotnull OR c.atthasdef THEN
            RAISE EXCEPTION 'column payments.postings.% is not the column this update adds', c.name
                USING DETAIL = format('It should be a nullable %s without a default.', c.type);
        ELSE
            prebuilt := prebuilt || c.name;
        END IF;
        -- in a fresh install's order, or the schema would differ from one
        IF c.attnum < last_attnum THEN
            RAISE EXCEPTION 'column payments.postings.% comes before a column it should follow', c.name
                USING HINT = 'Add stripe, pending_change and held_after in that order.';
        END IF;
        last_attnum := c.attnum;
    END LOOP;
    -- only a prebuilt column can hold values (one scan of postings, then)
    IF cardinality(prebuilt) > 0 AND EXISTS (
           SELECT FROM payments.postings
            WHERE stripe IS NOT NULL OR pending_change IS NOT NULL OR held_after IS NOT NULL) THEN
        RAISE EXCEPTION 'the columns % of payments.postings hold values', prebuilt;
    END IF;
END $$;
COMMENT ON COLUMN payments.postings.stripe IS
    'null for an account without stripes; else where the leg went: 0 the account row, k its stripe k.  balance_after is then the running balance of that stripe alone, and the account''s balance the sum over its stripes (payments.balance())';
COMMENT ON COLUMN payments.postings.amount IS
    'the posted money the leg moves: the transfer''s amount, or zero for the legs of a hold, a void or an expiry, which move only pending volumes';
COMMENT ON COLUMN payments.postings.pending_change IS
    'null but for the legs of holds and of their resolutions: the change to the account''s pending volume on the leg''s side, +amount for a hold, -(the hold''s amount) for its capture, void or expiry';
COMMENT ON COLUMN payments.postings.held_after IS
    'with pending_change: the account''s pending outgoing volume right after the leg (pending debits of a credit-normal account, pending credits of a debit-normal one), which its available balance subtracts';
COMMENT ON COLUMN payments.postings.balance_after IS
    'the account''s posted balance (normal side minus the other) right after this leg; of a hot account''s leg (stripe not null), that of its stripe';
COMMENT ON COLUMN payments.postings.created_at IS
    'when the leg was applied, taken under the lock of the account (or of its stripe): per account (per stripe) it follows the order of the legs';
-- open holds (issue 10): first, since the audit reads them
-- The holds not yet resolved: the ledger inserts a row with each hold and
-- deletes it with the hold's resolution.  Whoever resolves a hold first
-- locks its row, so that of two resolutions one waits and then finds it
-- resolved; the expiry sweep skips rows others hold.
CREATE TABLE payments.open_holds (
    ledger          text NOT NULL,
    id              bigint NOT NULL,    -- the hold's transfer id
    expires_at      timestamptz,
    CONSTRAINT open_holds_pkey PRIMARY KEY (ledger, id)
);
CREATE INDEX open_holds_expires_at_idx ON payments.open_holds (expires_at)
    WHERE expires_at IS NOT NULL;
COMMENT ON TABLE payments.open_holds IS
    'the holds not yet captured, voided or expired; written only by the ledger';
COMMENT ON INDEX payments.open_holds_expires_at_idx IS 'for payments.expire_holds()';
SELECT pg_catalog.pg_extension_config_dump('payments.open_holds', '');
REVOKE ALL ON payments.open_holds FROM PUBLIC;

-- reading: every join carries the ledger, and a hot account's volumes are its
-- row's and its stripes' (first: the old audit leans on the old primary key of
-- transfers, which goes next)
CREATE VIEW payments.account_volumes AS
    SELECT a.id AS account_id, a.ledger, a.name, a.currency, a.normal_balance, a.status,
           a.hot, a.stripes,
           CASE WHEN s.account_id IS NULL THEN a.debits_posted
                ELSE a.debits_posted + s.debits_posted END AS debits_posted,
           CASE WHEN s.account_id IS NULL THEN a.credits_posted
                ELSE a.credits_posted + s.credits_posted END AS credits_posted,
           CASE WHEN s.account_id IS NULL THEN a.debits_pending
                ELSE a.debits_pending + s.debits_pending END AS debits_pending,
           CASE WHEN s.account_id IS NULL THEN a.credits_pending
                ELSE a.credits_pending + s.credits_pending END AS credits_pending
      FROM payments.accounts a
      LEFT JOIN (SELECT st.ledger, st.account_id,
                        sum(st.debits_posted) AS debits_posted,
                        sum(st.credits_posted) AS credits_posted,
                        sum(st.debits_pending) AS debits_pending,
                        sum(st.credits_pending) AS credits_pending
                   FROM payments.account_stripes st
                  GROUP BY st.ledger, st.account_id) s
        ON s.ledger = a.ledger AND s.account_id = a.id
     -- a role bound to ledgers sees theirs (the views read as their owner)
     WHERE payments.ledger_visible(a.ledger);
COMMENT ON VIEW payments.account_volumes IS
    'every account with its true volumes: those of its row plus, for a hot account, those of its stripes';
REVOKE ALL ON payments.account_volumes FROM PUBLIC;

CREATE OR REPLACE VIEW payments.account_balances AS
    SELECT v.account_id, v.ledger, v.name, v.currency, v.normal_balance, v.status,
           CASE v.normal_balance
               WHEN 'debit' THEN v.debits_posted - v.credits_posted
               ELSE v.credits_posted - v.debits_posted
           END AS balance,
           CASE v.normal_balance
               WHEN 'debit' THEN v.debits_posted - v.credits_posted
                                 - v.credits_pending
               ELSE v.credits_posted - v.debits_posted
                    - v.debits_pending
           END AS available,
           v.hot
      FROM payments.account_volumes v;
COMMENT ON VIEW payments.account_balances IS
    'every account with its posted and available balance (a hot account''s stripes included)';

CREATE OR REPLACE FUNCTION payments.balance(account bigint, at timestamptz DEFAULT NULL)
    RETURNS monetary
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT CASE
        WHEN balance.at IS NULL THEN b.balance
        WHEN a.stripes = 0 THEN coalesce(
            (SELECT p.balance_after FROM payments.postings p
              WHERE p.ledger = a.ledger AND p.account_id = a.id
                AND p.created_at <= balance.at
              ORDER BY p.created_at DESC, p.id DESC LIMIT 1),
            monetary(0, a.currency))
        -- with stripes: the running balance of its row as of then (of the
        -- legs before it had stripes, if none since), plus each stripe's
        ELSE coalesce(
            (SELECT p.balance_after FROM payments.postings p
              WHERE p.account_id = a.id AND p.stripe = 0 AND p.ledger = a.ledger
                AND p.created_at <= balance.at
              ORDER BY p.created_at DESC, p.id DESC LIMIT 1),
            -- (every leg before it had stripes is at or before striped_at:
            -- the scan starts there, not among the stripes' legs after it)
            (SELECT p.balance_after FROM payments.postings p
              WHERE p.ledger = a.ledger AND p.account_id = a.id AND p.stripe IS NULL
                AND p.created_at <= least(balance.at, a.striped_at)
              ORDER BY p.created_at DESC, p.id DESC LIMIT 1),
            monetary(0, a.currency))
          + coalesce(
            (SELECT sum(l.balance_after)
               FROM generate_series(1, a.stripes) k(stripe)
              CROSS JOIN LATERAL
                    (SELECT p.balance_after FROM payments.postings p
                      WHERE p.account_id = a.id AND p.stripe = k.stripe AND p.ledger = a.ledger
                        AND p.created_at <= balance.at
                      ORDER BY p.created_at DESC, p.id DESC LIMIT 1) l),
            monetary(0, a.currency))
        END
      FROM payments.account_balances b
      JOIN payments.accounts a ON a.ledger = b.ledger AND a.id = b.account_id
     WHERE b.account_id = payments.account_checked(balance.account);
END;
COMMENT ON FUNCTION payments.balance(bigint, timestamptz) IS
    'the posted balance now, or as of a time (the running balance of the last leg at or before it; of a hot account, the sum of its stripes'')';

-- Payments between currencies (issue 11) -----------------------------------
--
-- Cost on a large ledger: two new empty tables and their guards, catalog only.

-- The rule of every FX entry (payments.fx_entries): the exact product with a
-- rate given as a fraction, rounded once.
CREATE FUNCTION payments.convert_at_rate(monetary, "to" currency,
        rate_numerator numeric, rate_denominator numeric DEFAULT 1,
        mode rounding_mode DEFAULT 'half_even') RETURNS monetary
    AS 'MODULE_PATHNAME', 'fx_convert_at_rate'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION payments.convert_at_rate(monetary, currency, numeric, numeric, rounding_mode) IS
    'the amount in another currency at a given rate (rate_numerator / rate_denominator units of "to" per unit of the amount''s currency): the exact product, rounded once to the target''s minor unit';

-- Payments between currencies (payments.post_fx_transfer()).  Each ledger
-- holds its position in each currency it converts on one FX account,
-- declared with payments.create_fx_account(); an FX entry moves money into
-- the FX account of one currency and out of the FX account of another.
CREATE TABLE payments.fx_accounts (
    ledger          text NOT NULL,
    currency        currency NOT NULL,
    account_id      bigint NOT NULL,
    CONSTRAINT fx_accounts_pkey PRIMARY KEY (ledger, currency),
    CONSTRAINT fx_accounts_ledger_account_id_key UNIQUE (ledger, account_id)
);
COMMENT ON TABLE payments.fx_accounts IS
    'the FX account of each ledger and currency: the ledger''s own position in that currency, through which payments between currencies go (payments.create_fx_account())';

-- One row per FX entry: how its second amount came from its first, which
-- never changes, whatever later happens to the stored rates.
CREATE TABLE payments.fx_entries (
    ledger          text NOT NULL,
    entry_id        bigint NOT NULL,
    from_account    bigint NOT NULL,
    to_account      bigint NOT NULL,
    amount          monetary NOT NULL,
    converted       monetary NOT NULL,
    rate_numerator  numeric NOT NULL,
    rate_denominator numeric NOT NULL,
    rounding        rounding_mode NOT NULL,
    basis           text NOT NULL CHECK (basis IN ('stored', 'quoted', 'original')),
    rate_at         timestamptz NOT NULL,
    rates           jsonb,
    quote           text,
    reverses_entry  bigint,
    refunded_before monetary,
    created_at      timestamptz NOT NULL,
    CONSTRAINT fx_entries_pkey PRIMARY KEY (ledger, entry_id)
);
CREATE INDEX fx_entries_reverses_entry_idx ON payments.fx_entries (reverses_entry)
    WHERE reverses_entry IS NOT NULL;
COMMENT ON TABLE payments.fx_entries IS
    'the FX entries (payments.post_fx_transfer(), payments.reverse_fx_transfer()): the two amounts and the exact rate and rounding that turned one into the other; written only by the ledger, never changed';
COMMENT ON COLUMN payments.fx_entries.amount IS
    'the amount the request gave: what from_account paid; of a refund, what the customer (to_account) gets back';
COMMENT ON COLUMN payments.fx_entries.converted IS
    'the other amount, amount * rate_numerator / rate_denominator rounded once by rounding (payments.convert_at_rate()): what to_account received; of a refund, what the merchant (from_account) pays back';
COMMENT ON COLUMN payments.fx_entries.rate_numerator IS
    'with rate_denominator: the rate used, exactly, as units of converted''s currency per unit of amount''s';
COMMENT ON COLUMN payments.fx_entries.basis IS
    'stored: from payments.exchange_rates at rate_at (rates lists the rows); quoted: the caller''s rate or amounts (quote: its reference); original: a refund at its original''s rate, on the running total refunded (refunded_before)';
COMMENT ON COLUMN payments.fx_entries.rates IS
    'of basis stored and original: the stored rates used, as they were then: from, to, rate, valid_from, source, and whether the conversion divided by it';
COMMENT ON COLUMN payments.fx_entries.reverses_entry IS
    'of a refund (payments.reverse_fx_transfer()): the FX entry it refunds';
COMMENT ON COLUMN payments.fx_entries.refunded_before IS
    'of a refund at the original rate: what earlier such refunds of the entry gave back, so that converted = the rounded running total after it less that before';
COMMENT ON INDEX payments.fx_entries_reverses_entry_idx IS 'the refunds of an FX entry';

SELECT pg_catalog.pg_extension_config_dump('payments.fx_accounts', '');
SELECT pg_catalog.pg_extension_config_dump('payments.fx_entries', '');
REVOKE ALL ON payments.fx_accounts, payments.fx_entries FROM PUBLIC;

CREATE OR REPLACE VIEW payments.trial_balance AS
    -- numeric totals: the sum over many accounts may pass monetary's 38 digits
    SELECT v.ledger, v.currency,
           sum(amount(v.debits_posted)) AS debits,
           sum(amount(v.credits_posted)) AS credits,
           sum(amount(v.debits_posted)) = sum(amount(v.credits_posted)) AS balanced
      FROM payments.account_volumes v
     GROUP BY v.ledger, v.currency;
COMMENT ON VIEW payments.trial_balance IS
    'per ledger and currency, total posted debits and credits (numeric, in the currency''s units): they are always equal';


-- Takes over a prebuilt index <name>_1_1 if there is one, valid and with
-- the definition wanted, else builds it; as a primary key if asked.
CREATE FUNCTION payments.upgrade_1_1_index(tab regclass, name text, definition text,
                                           primary_key boolean)
    RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, payments AS $$
DECLARE
    prebuilt oid := to_regclass(format('payments.%I', name || '_1_1'));
    -- the definition without the index's name
    wanted text := regexp_replace(definition, '^(CREATE (UNIQUE )?INDEX )\S+ ', '\1');
BEGIN
    IF prebuilt IS NOT NULL THEN
        IF NOT (SELECT indisvalid FROM pg_index WHERE indexrelid = prebuilt)
           OR regexp_replace(pg_get_indexdef(prebuilt), '^(CREATE (UNIQUE )?INDEX )\S+ ', '\1') <> wanted THEN
            RAISE EXCEPTION 'index payments.%_1_1 is not the index this update builds', name
                USING DETAIL = format('It should be valid and read: %s', wanted),
                      HINT = format('DROP INDEX CONCURRENTLY payments.%I, and build it again or let the update build it.',
                                    name || '_1_1');
        END IF;
        IF primary_key THEN
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY USING INDEX %I',
                           tab, name, name || '_1_1');
        ELSE
            EXECUTE format('ALTER INDEX payments.%I RENAME TO %I', name || '_1_1', name);
        END IF;
    ELSIF primary_key THEN
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY %s', tab, name,
                       regexp_replace(wanted, '^CREATE UNIQUE INDEX ON \S+ USING btree ', ''));
    ELSE
        EXECUTE replace(definition, 'CREATE INDEX ' || name || ' ',
                        'CREATE INDEX ' || quote_ident(name) || ' ');
    END IF;
END
$$;

-- Ids are the ledger's alone from now on.  A 1.0 loader could choose ids
-- ahead of the sequences: start each past every id already taken (one
-- look-up in the old primary keys, on id).
SELECT pg_catalog.setval('payments.accounts_id_seq', m) FROM (SELECT max(id) AS m FROM payments.accounts) s
 WHERE m > (SELECT last_value FROM payments.accounts_id_seq);
SELECT pg_catalog.setval('payments.transfers_id_seq', m) FROM (SELECT max(id) AS m FROM payments.transfers) s
 WHERE m > (SELECT last_value FROM payments.transfers_id_seq);
SELECT pg_catalog.setval('payments.postings_id_seq', m) FROM (SELECT max(id) AS m FROM payments.postings) s
 WHERE m > (SELECT last_value FROM payments.postings_id_seq);

-- Ledgers had no length limit in 1.0; the accounts of a ledger longer than
-- 64 bytes stay readable but can no longer take transfers (22001).  Say so
-- now (one scan of accounts).
DO $$
DECLARE
    n bigint := (SELECT count(*) FROM payments.accounts WHERE octet_length(ledger) > 64);
BEGIN
    IF n > 0 THEN
        RAISE WARNING '% accounts are in ledgers longer than 64 bytes', n
            USING DETAIL = 'From release 1.1 on, transfers to or from them are refused; their balances and history stay readable.';
    END IF;
END $$;

-- accounts: the ledger first in the key
ALTER TABLE payments.accounts ALTER COLUMN id DROP DEFAULT;
ALTER TABLE payments.accounts DROP CONSTRAINT accounts_pkey,
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (ledger, id);
CREATE INDEX accounts_id_idx ON payments.accounts (id);
COMMENT ON COLUMN payments.accounts.id IS 'assigned by the ledger from accounts_id_seq; unique across ledgers';
COMMENT ON COLUMN payments.accounts.ledger IS 'the book the account belongs to (a tenant, say): 1 to 64 bytes (account_guard)';
COMMENT ON COLUMN payments.accounts.name IS 'unique within its ledger: 1 to 256 bytes (account_guard)';
COMMENT ON INDEX payments.accounts_id_idx IS 'look-ups of an account by id alone';

-- transfers: the ledger first in every key; the entry each belongs to
ALTER TABLE payments.transfers ALTER COLUMN id DROP DEFAULT,
    ADD COLUMN entry_id bigint NOT NULL DEFAULT 0;
ALTER TABLE payments.transfers ALTER COLUMN entry_id DROP DEFAULT,
    DROP CONSTRAINT transfers_pkey;
-- an account's transfers are found through its postings (postings_account_idx)
DROP INDEX payments.transfers_from_account_idx, payments.transfers_to_account_idx;
SELECT payments.upgrade_1_1_index('payments.transfers', 'transfers_pkey',
    'CREATE UNIQUE INDEX transfers_pkey ON payments.transfers USING btree (ledger, id)', true);
SELECT payments.upgrade_1_1_index('payments.transfers', 'transfers_entry_idx',
    'CREATE INDEX transfers_entry_idx ON payments.transfers USING btree (entry_id)', false);
COMMENT ON COLUMN payments.transfers.id IS 'assigned by the ledger from transfers_id_seq; unique across ledgers';
COMMENT ON COLUMN payments.transfers.idempotency_key IS
    'unique within the ledger (at most 256 bytes): replaying post_transfer() with it returns the original transfer';
COMMENT ON COLUMN payments.transfers.entry_id IS
    'the entry the transfer was posted in: the transfers of one call or one statement in its ledger; 0 for transfers posted before release 1.1';
COMMENT ON INDEX payments.transfers_entry_idx IS 'the transfers of an entry';
-- who posted each transfer (issue 14): nullable, no default, catalog only
ALTER TABLE payments.transfers ADD COLUMN posted_by text, ADD COLUMN posted_by_session text;
COMMENT ON COLUMN payments.transfers.posted_by IS
    'the role that posted the transfer, as the client acted (current_user, SET ROLE included; not the owner the API runs as); assigned by the ledger; null for transfers posted before release 1.1';
COMMENT ON COLUMN payments.transfers.posted_by_session IS
    'the session''s user when it was another role than posted_by (a pooler''s login that SET ROLE), else null; assigned by the ledger';

-- statement() tells what each leg is, the available balance (issue 10) and
-- who posted it (issue 14): new columns, so a new function; EXECUTE granted
-- on the old one must be granted again (README, Upgrading).
DROP FUNCTION payments.statement(bigint, timestamptz, timestamptz);
CREATE FUNCTION payments.statement(account bigint, from_time timestamptz, to_time timestamptz)
    RETURNS TABLE (posting_id bigint, transfer_id bigint, created_at timestamptz, kind text,
                   side text, amount monetary, balance_after monetary,
                   pending_change monetary, available_after monetary,
                   counterparty bigint, refers_to bigint, metadata jsonb, posted_by text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    -- the account's running balance: each leg's balance_after, or, for an
    -- account with stripes (whose legs carry their stripe's), the opening
    -- balance (computed once, and only then) plus the legs so far.  What it
    -- has on hold (its pending outgoing volume, on its row alone): the
    -- last held_after before the period, plus the pending changes on its
    -- outgoing side since.
    SELECT s.id, s.transfer_id, s.created_at, s.kind, s.side, s.amount, s.balance_after,
           s.pending_change,
           s.balance_after
             - (s.opening_held + coalesce(sum(CASE WHEN s.side <> s.normal_balance
                                                    THEN s.pending_change END)
                                              OVER (ORDER BY s.created_at, s.id),
                                          s.opening_held - s.opening_held)),
           s.counterparty, s.refers_to, s.metadata, s.posted_by
      FROM (SELECT p.id, p.transfer_id, p.created_at,
                   CASE WHEN t.status = 'pending' THEN 'hold'
                        WHEN t.status = 'voided' THEN 'void'
                        WHEN t.status = 'expired' THEN 'expiry'
                        WHEN t.pending_id IS NOT NULL THEN 'capture'
                        WHEN t.reverses IS NOT NULL THEN 'reversal'
                        ELSE 'transfer' END AS kind,
                   p.side, p.amount,
                   CASE WHEN a.stripes = 0 THEN p.balance_after
                        ELSE (SELECT payments.balance(statement.account,
                                                      statement.from_time - interval '1 microsecond'))
                             + sum(CASE WHEN p.side = a.normal_balance THEN p.amount
                                        ELSE - p.amount END)
                                   OVER (ORDER BY p.created_at, p.id)
                   END AS balance_after,
                   p.pending_change, a.normal_balance,
                   coalesce((SELECT h.held_after FROM payments.postings h
                              WHERE h.account_id = a.id AND h.pending_change IS NOT NULL
                                AND h.ledger = a.ledger
                                AND h.created_at < statement.from_time
                              ORDER BY h.created_at DESC, h.id DESC LIMIT 1),
                            monetary(0, a.currency)) AS opening_held,
                   CASE p.side WHEN 'debit' THEN t.to_account ELSE t.from_account END
                       AS counterparty,
                   coalesce(t.pending_id, t.reverses) AS refers_to,
                   t.metadata, t.posted_by
              FROM payments.postings p
              JOIN payments.accounts a ON a.ledger = p.ledger AND a.id = p.account_id
              JOIN payments.transfers t ON t.ledger = p.ledger AND t.id = p.transfer_id
             WHERE a.id = payments.account_checked(statement.account)
               AND p.created_at >= statement.from_time AND p.created_at < statement.to_time) s
     ORDER BY s.created_at, s.id;
END;
COMMENT ON FUNCTION payments.statement(bigint, timestamptz, timestamptz) IS
    'an account''s legs in [from_time, to_time), oldest first: what each is (transfer, hold, capture, void, expiry, reversal), the posted money it moves and the pending volume, and the running posted and available balances; the opening balance is balance(account, from_time - interval ''1 microsecond'')';
REVOKE ALL ON FUNCTION payments.statement(bigint, timestamptz, timestamptz) FROM PUBLIC;

-- postings: the ledger first in the key (its other indexes stay as 1.0
-- built them); ids drawn by the engine
ALTER TABLE payments.postings ALTER COLUMN id DROP DEFAULT,
    DROP CONSTRAINT postings_pkey;
SELECT payments.upgrade_1_1_index('payments.postings', 'postings_pkey',
    'CREATE UNIQUE INDEX postings_pkey ON payments.postings USING btree (ledger, id)', true);
COMMENT ON COLUMN payments.postings.id IS
    'drawn when the leg is applied, under the lock of the account (or of its stripe): per account (per stripe), ids follow the order of the legs';


-- entries
CREATE SEQUENCE payments.entries_id_seq;
CREATE TABLE payments.entries (
    ledger          text NOT NULL,
    id              bigint NOT NULL,
    idempotency_key text,
    metadata        jsonb,
    created_at      timestamptz NOT NULL,
    CONSTRAINT entries_pkey PRIMARY KEY (ledger, id),
    CONSTRAINT entries_ledger_idempotency_key_key UNIQUE (ledger, idempotency_key)
);
ALTER SEQUENCE payments.entries_id_seq OWNED BY payments.entries.id;
COMMENT ON TABLE payments.entries IS
    'entries posted through payments.post_transfers(), with their key and metadata; every transfer''s entry_id names its entry, whether or not the entry has a row here';
COMMENT ON COLUMN payments.entries.idempotency_key IS
    'unique within the ledger: replaying post_transfers() with it returns the entry''s transfers';
SELECT pg_catalog.pg_extension_config_dump('payments.entries', '');
SELECT pg_catalog.pg_extension_config_dump('payments.entries_id_seq', '');
REVOKE ALL ON payments.entries FROM PUBLIC;
REVOKE ALL ON SEQUENCE payments.entries_id_seq FROM PUBLIC;

-- the triggers: the engine once per statement, in place of a row trigger and
-- the deferred balance check
DROP TRIGGER transfer_after_insert ON payments.transfers;
DROP TRIGGER transfer_check_balanced ON payments.transfers;
DROP TRIGGER posting_guard ON payments.postings;
DROP FUNCTION payments.transfer_after_insert(), payments.transfer_check_balanced(),
    payments.posting_guard();

CREATE FUNCTION payments.transfer_statement_start() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_transfer_statement_start' LANGUAGE C;
CREATE FUNCTION payments.transfer_apply() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_transfer_apply' LANGUAGE C SECURITY DEFINER;
CREATE FUNCTION payments.ledger_write_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ledger_write_guard' LANGUAGE C;
COMMENT ON FUNCTION payments.transfer_statement_start() IS
    'trigger: opens the statement''s entry, before any of its transfers is inserted';
COMMENT ON FUNCTION payments.transfer_before_insert() IS
    'trigger: checks a new transfer on its own and assigns its id, ledger, entry and created_at';
COMMENT ON FUNCTION payments.transfer_apply() IS
    'trigger: the posting engine: applies the statement''s transfers (locks, volumes, limits in transfer order, legs)';
COMMENT ON FUNCTION payments.account_guard() IS
    'trigger: assigns a new account''s id; bounds its ledger and name; new accounts start at zero; volumes change only through transfers; status changes follow the rules';

-- The per-row trigger resolves no name through the caller's path (every
-- statement it prepares is qualified) and no user code nests in it, so it
-- drops the SET clause that cost every row.
ALTER FUNCTION payments.transfer_before_insert() RESET search_path;
COMMENT ON FUNCTION payments.ledger_write_guard() IS
    'trigger: postings, entries and the stripes of hot accounts are written only by the ledger itself';
REVOKE ALL ON FUNCTION payments.transfer_statement_start(), payments.transfer_apply(),
    payments.ledger_write_guard() FROM PUBLIC;

CREATE TRIGGER transfer_statement_start BEFORE INSERT ON payments.transfers
    FOR EACH STATEMENT EXECUTE FUNCTION payments.transfer_statement_start();
CREATE TRIGGER transfer_apply AFTER INSERT ON payments.transfers
    REFERENCING NEW TABLE AS new_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION payments.transfer_apply();
CREATE TRIGGER posting_guard BEFORE INSERT ON payments.postings
    FOR EACH ROW EXECUTE FUNCTION payments.ledger_write_guard();
CREATE TRIGGER entry_guard BEFORE INSERT ON payments.entries
    FOR EACH ROW EXECUTE FUNCTION payments.ledger_write_guard();
CREATE TRIGGER entry_history_guard BEFORE UPDATE OR DELETE ON payments.entries
    FOR EACH ROW EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER entry_truncate_guard BEFORE TRUNCATE ON payments.entries
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();
ALTER TABLE payments.entries ENABLE ALWAYS TRIGGER entry_history_guard;
ALTER TABLE payments.entries ENABLE ALWAYS TRIGGER entry_truncate_guard;

-- the API: entries of many transfers
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
REVOKE ALL ON FUNCTION payments.post_transfers(payments.transfer_request[], text, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION payments.account_checked(bigint) IS
    'the account id itself; an error if no such account exists (as the calling query sees the table)';

-- Hot accounts (issue 9), continued: the stripes' guards, the index of their
-- legs, set_hot()
CREATE TRIGGER stripe_guard BEFORE INSERT OR UPDATE ON payments.account_stripes
    FOR EACH ROW EXECUTE FUNCTION payments.ledger_write_guard();
CREATE TRIGGER stripe_history_guard BEFORE DELETE ON payments.account_stripes
    FOR EACH ROW EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER stripe_truncate_guard BEFORE TRUNCATE ON payments.account_stripes
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();
ALTER TABLE payments.account_stripes ENABLE ALWAYS TRIGGER stripe_history_guard;
ALTER TABLE payments.account_stripes ENABLE ALWAYS TRIGGER stripe_truncate_guard;

SELECT payments.upgrade_1_1_index('payments.postings', 'postings_stripe_idx',
    'CREATE INDEX postings_stripe_idx ON payments.postings USING btree (account_id, stripe, created_at, id) WHERE (stripe IS NOT NULL)', false);
COMMENT ON INDEX payments.postings_stripe_idx IS 'the legs of each stripe of hot accounts, in time order';

CREATE FUNCTION payments.set_hot(account bigint, hot boolean DEFAULT true,
                                 stripes integer DEFAULT NULL)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ledger_set_hot'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.set_hot(bigint, boolean, integer) IS
    'makes an account hot (its volumes split over stripes, 16 unless given, more later but never fewer, so that transfers adding to it do not wait for each other) or no longer hot; waits for the transfers applying to it';
REVOKE ALL ON FUNCTION payments.set_hot(bigint, boolean, integer) FROM PUBLIC;


-- Payment flows (issue 10) ------------------------------------------------
--
-- Cost on a large ledger: three partial indexes of transfers, each built by
-- one scan of transfers (on 10^8 transfers, a minute or so each, with writes
-- blocked), and postings_pending_idx, one scan of postings; the rest is
-- catalog only.  A DBA can build them beforehand without blocking writes
-- (1.0 never writes what they index), and this script takes them over:
--
--   CREATE UNIQUE INDEX CONCURRENTLY transfers_ledger_pending_id_key_1_1
--       ON payments.transfers (ledger, pending_id) WHERE pending_id IS NOT NULL;
--   CREATE INDEX CONCURRENTLY transfers_holds_idx_1_1 ON payments.transfers (id)
--       WHERE status = 'pending';
--   CREATE INDEX CONCURRENTLY transfers_reverses_idx_1_1 ON payments.transfers (reverses)
--       WHERE reverses IS NOT NULL;
--   ALTER TABLE payments.postings ADD COLUMN stripe smallint,
--       ADD COLUMN pending_change monetary, ADD COLUMN held_after monetary;
--   CREATE INDEX CONCURRENTLY postings_pending_idx_1_1 ON payments.postings
--       (account_id, created_at, id) WHERE pending_change IS NOT NULL;
SELECT payments.upgrade_1_1_index('payments.transfers', 'transfers_ledger_pending_id_key',
    'CREATE UNIQUE INDEX transfers_ledger_pending_id_key ON payments.transfers USING btree (ledger, pending_id) WHERE (pending_id IS NOT NULL)', false);
SELECT payments.upgrade_1_1_index('payments.transfers', 'transfers_holds_idx',
    'CREATE INDEX transfers_holds_idx ON payments.transfers USING btree (id) WHERE (status = ''pending''::text)', false);
SELECT payments.upgrade_1_1_index('payments.transfers', 'transfers_reverses_idx',
    'CREATE INDEX transfers_reverses_idx ON payments.transfers USING btree (reverses) WHERE (reverses IS NOT NULL)', false);
SELECT payments.upgrade_1_1_index('payments.postings', 'postings_pending_idx',
    'CREATE INDEX postings_pending_idx ON payments.postings USING btree (account_id, created_at, id) WHERE (pending_change IS NOT NULL)', false);
COMMENT ON COLUMN payments.transfers.status IS
    'posted (moves money), pending (a hold: payments.hold()), or, for the transfer that resolves a hold without moving money, voided (payments.release()) or expired (payments.expire_holds())';
COMMENT ON COLUMN payments.transfers.pending_id IS
    'of a capture (status posted), void or expiry: the hold it resolves, in the same ledger, with the same accounts; a hold is resolved once';
COMMENT ON COLUMN payments.transfers.reverses IS
    'of a reversal (payments.reverse_transfer()): the posted transfer it undoes, in full or in part, moving money back between the same accounts; all reversals of a transfer together never exceed it';
COMMENT ON COLUMN payments.transfers.expires_at IS
    'of a hold: from then on it can no longer be captured or voided, only expired';
COMMENT ON INDEX payments.transfers_ledger_pending_id_key IS 'a hold is resolved at most once';
COMMENT ON INDEX payments.transfers_holds_idx IS 'holds by id';
COMMENT ON INDEX payments.transfers_reverses_idx IS 'the reversals of a transfer';

COMMENT ON INDEX payments.postings_pending_idx IS 'the legs that change pending volumes, in time order';

-- Open holds come and go with holds and their resolutions, written by the
-- engine; nobody else writes them.
CREATE TRIGGER open_hold_guard BEFORE INSERT OR UPDATE OR DELETE ON payments.open_holds
    FOR EACH ROW EXECUTE FUNCTION payments.ledger_write_guard();
CREATE TRIGGER open_hold_truncate_guard BEFORE TRUNCATE ON payments.open_holds
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();

ALTER TABLE payments.open_holds ENABLE ALWAYS TRIGGER open_hold_truncate_guard;
COMMENT ON FUNCTION payments.ledger_write_guard() IS
    'trigger: postings, entries, the stripes of hot accounts, open holds, FX entries and closed periods are written only by the ledger itself';

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

-- Holds and what became of them.  A hold past its expires_at reads expired
-- at once (by the statement's clock, as capture() and expire_holds() judge
-- it, not the transaction's), though the amount stays held until
-- expire_holds() releases it.
CREATE VIEW payments.holds AS
    SELECT h.ledger, h.id AS hold_id, h.from_account, h.to_account, h.amount, h.expires_at,
           h.created_at,
           CASE WHEN r.id IS NULL THEN
                    CASE WHEN h.expires_at <= statement_timestamp() THEN 'expired' ELSE 'pending' END
                WHEN r.status = 'posted' THEN 'captured'
                ELSE r.status END AS status,
           CASE WHEN r.status = 'posted' THEN r.amount END AS captured,
           CASE WHEN r.id IS NULL THEN h.amount ELSE h.amount - h.amount END AS held,
           r.id AS resolved_by, r.created_at AS resolved_at, h.metadata
      FROM payments.transfers h
      LEFT JOIN payments.transfers r ON r.ledger = h.ledger AND r.pending_id = h.id
     WHERE h.status = 'pending' AND payments.ledger_visible(h.ledger);
COMMENT ON VIEW payments.holds IS
    'every hold: pending, captured, voided or expired (past expires_at, swept or not), the amount captured, and the amount still held';
REVOKE ALL ON payments.holds FROM PUBLIC;

CREATE OR REPLACE FUNCTION payments.verify_ledger()
    RETURNS TABLE (problem text, account_id bigint, transfer_id bigint, detail text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    -- the volumes of each account row (stripe 0) and each stripe against the
    -- sum of their legs
    WITH legs AS (
        SELECT p.ledger, p.account_id, coalesce(p.stripe, 0) AS stripe,
               sum(p.amount) FILTER (WHERE p.side = 'debit') AS debits,
               sum(p.amount) FILTER (WHERE p.side = 'credit') AS credits
          FROM payments.postings p GROUP BY p.ledger, p.account_id, coalesce(p.stripe, 0)
    ), places AS (
        SELECT a.ledger, a.id AS account_id, 0 AS stripe, a.debits_posted, a.credits_posted
          FROM payments.accounts a
        UNION ALL
        SELECT s.ledger, s.account_id, s.stripe, s.debits_posted, s.credits_posted
          FROM payments.account_stripes s
    )
    SELECT CASE WHEN coalesce(pl.stripe, l.stripe) = 0
                THEN 'account volumes differ from its postings'
                ELSE 'stripe volumes differ from its postings' END,
           coalesce(pl.account_id, l.account_id), NULL::bigint,
           CASE WHEN coalesce(pl.stripe, l.stripe) = 0 THEN '' ELSE
               format('stripe %s: ', coalesce(pl.stripe, l.stripe)) END ||
           format('debits_posted %s, credits_posted %s; postings: debits %s, credits %s',
                  pl.debits_posted, pl.credits_posted, l.debits, l.credits)
      FROM places pl
      FULL JOIN legs l ON l.ledger = pl.ledger AND l.account_id = pl.account_id
                      AND l.stripe = pl.stripe
     WHERE pl.account_id IS NULL
        OR pl.debits_posted <> coalesce(l.debits, pl.debits_posted - pl.debits_posted)
        OR pl.credits_posted <> coalesce(l.credits, pl.credits_posted - pl.credits_posted)
    UNION ALL
    -- running balances, leg by leg, in the order the legs were applied to
    -- the account row or stripe
    SELECT 'posting balance_after differs from the running balance', r.account_id,
           r.transfer_id, format('posting %s: balance_after %s, running %s',
                                 r.id, r.balance_after, r.running)
      FROM (SELECT p.id, p.account_id, p.transfer_id, p.balance_after,
                   sum(CASE WHEN p.side = a.normal_balance THEN p.amount
                            ELSE - p.amount END)
                       OVER (PARTITION BY p.ledger, p.account_id, coalesce(p.stripe, 0)
                             ORDER BY p.id) AS running
              FROM payments.postings p
              JOIN payments.accounts a ON a.ledger = p.ledger AND a.id = p.account_id) r
     WHERE r.balance_after <> r.running
    UNION ALL
    -- legs are applied in order: per account row or stripe, later legs are
    -- not earlier in time
    SELECT 'posting applied before an earlier leg of its account', o.account_id, o.transfer_id,
           format('posting %s at %s follows posting %s at %s', o.id, o.created_at,
                  o.previous_id, o.previous_at)
      FROM (SELECT p.id, p.account_id, p.transfer_id, p.created_at,
                   lag(p.id) OVER w AS previous_id, lag(p.created_at) OVER w AS previous_at
              FROM payments.postings p
            WINDOW w AS (PARTITION BY p.ledger, p.account_id, coalesce(p.stripe, 0)
                         ORDER BY p.id)) o
     WHERE o.created_at < o.previous_at
    UNION ALL
    -- each transfer: one debit leg on from_account, one credit leg on
    -- to_account, each of the posted money it moves (its amount, or none:
    -- a hold, a void, an expiry) and the pending volume it moves (a hold's
    -- amount, less that of the hold a resolution resolves)
    SELECT 'transfer legs do not match the transfer', NULL, t.id,
           format('%s legs; debits %s, credits %s', count(p.id),
                  sum(p.amount) FILTER (WHERE p.side = 'debit'),
                  sum(p.amount) FILTER (WHERE p.side = 'credit'))
      FROM (SELECT t.ledger, t.id, t.from_account, t.to_account,
                   CASE WHEN t.status = 'posted' THEN t.amount
                        ELSE t.amount - t.amount END AS posted,
                   CASE WHEN t.status = 'pending' THEN t.amount
                        WHEN t.pending_id IS NOT NULL THEN
                            - (SELECT h.amount FROM payments.transfers h
                                WHERE h.ledger = t.ledger AND h.id = t.pending_id)
                   END AS pending
              FROM payments.transfers t) t
      LEFT JOIN payments.postings p ON p.ledger = t.ledger AND p.transfer_id = t.id
     GROUP BY t.ledger, t.id, t.from_account, t.to_account, t.posted, t.pending
    HAVING count(p.id) <> 2
        OR count(*) FILTER (WHERE p.side = 'debit' AND p.account_id = t.from_account
                              AND p.amount = t.posted
                              AND p.pending_change IS NOT DISTINCT FROM t.pending) <> 1
        OR count(*) FILTER (WHERE p.side = 'credit' AND p.account_id = t.to_account
                              AND p.amount = t.posted
                              AND p.pending_change IS NOT DISTINCT FROM t.pending) <> 1
    UNION ALL
    SELECT 'posting without a transfer', p.account_id, p.transfer_id, format('posting %s', p.id)
      FROM payments.postings p
     WHERE NOT EXISTS (SELECT FROM payments.transfers t
                        WHERE t.ledger = p.ledger AND t.id = p.transfer_id)
    UNION ALL
    -- pending volumes live on account rows: each row's against its legs'
    -- pending changes, and each stripe's at zero
    SELECT 'account pending volumes differ from its postings', a.id, NULL,
           format('debits_pending %s, credits_pending %s; postings: debits %s, credits %s',
                  a.debits_pending, a.credits_pending, l.debits, l.credits)
      FROM payments.accounts a
      LEFT JOIN (SELECT p.ledger, p.account_id,
                        sum(p.pending_change) FILTER (WHERE p.side = 'debit') AS debits,
                        sum(p.pending_change) FILTER (WHERE p.side = 'credit') AS credits
                   FROM payments.postings p WHERE p.pending_change IS NOT NULL
                  GROUP BY p.ledger, p.account_id) l
        ON l.ledger = a.ledger AND l.account_id = a.id
     WHERE a.debits_pending <> coalesce(l.debits, a.debits_pending - a.debits_pending)
        OR a.credits_pending <> coalesce(l.credits, a.credits_pending - a.credits_pending)
    UNION ALL
    SELECT 'stripe holds pending volumes', s.account_id, NULL,
           format('stripe %s: debits_pending %s, credits_pending %s', s.stripe,
                  s.debits_pending, s.credits_pending)
      FROM payments.account_stripes s
     WHERE amount(s.debits_pending) <> 0 OR amount(s.credits_pending) <> 0
    UNION ALL
    -- pending volumes are the open holds: per account and side, the holds
    -- without a resolution
    SELECT 'pending volumes differ from open holds', a.id, NULL,
           format('debits_pending %s, credits_pending %s; open holds: from it %s, to it %s',
                  a.debits_pending, a.credits_pending, h.debits, h.credits)
      FROM payments.accounts a
      LEFT JOIN (SELECT o.ledger, o.account_id, sum(o.amount) FILTER (WHERE o.debit) AS debits,
                        sum(o.amount) FILTER (WHERE NOT o.debit) AS credits
                   FROM (SELECT t.ledger, x.account_id, x.debit, t.amount
                           FROM payments.transfers t
                          CROSS JOIN LATERAL (VALUES (t.from_account, true),
                                                     (t.to_account, false)) x(account_id, debit)
                          WHERE t.status = 'pending'
                            AND NOT EXISTS (SELECT FROM payments.transfers r
                                             WHERE r.ledger = t.ledger AND r.pending_id = t.id)) o
                  GROUP BY o.ledger, o.account_id) h
        ON h.ledger = a.ledger AND h.account_id = a.id
     WHERE a.debits_pending <> coalesce(h.debits, a.debits_pending - a.debits_pending)
        OR a.credits_pending <> coalesce(h.credits, a.credits_pending - a.credits_pending)
    UNION ALL
    -- open_holds lists exactly the holds without a resolution
    SELECT 'open holds differ from unresolved holds', NULL, coalesce(o.id, t.id),
           CASE WHEN o.id IS NULL THEN 'an unresolved hold has no row in open_holds'
                ELSE 'open_holds has a row for a resolved hold, or for no hold' END
      FROM payments.open_holds o
      FULL JOIN (SELECT t.ledger, t.id, t.expires_at FROM payments.transfers t
                  WHERE t.status = 'pending'
                    AND NOT EXISTS (SELECT FROM payments.transfers r
                                     WHERE r.ledger = t.ledger AND r.pending_id = t.id)) t
        ON t.ledger = o.ledger AND t.id = o.id
     WHERE o.id IS NULL OR t.id IS NULL
        OR o.expires_at IS DISTINCT FROM t.expires_at
    UNION ALL
    -- each resolution agrees with its hold: its accounts, its amount, expiry
    SELECT 'resolution disagrees with its hold', NULL, r.id,
           format('%s of hold %s: %s from %s to %s at %s; hold: %s %s from %s to %s, expires %s',
                  r.status, r.pending_id, r.amount, r.from_account, r.to_account, r.created_at,
                  h.status, h.amount, h.from_account, h.to_account, h.expires_at)
      FROM payments.transfers r
      LEFT JOIN payments.transfers h ON h.ledger = r.ledger AND h.id = r.pending_id
     WHERE r.pending_id IS NOT NULL
       AND (h.id IS NULL OR h.status <> 'pending'
            OR h.from_account <> r.from_account OR h.to_account <> r.to_account
            OR (r.status = 'posted' AND r.amount > h.amount)
            OR (r.status <> 'posted' AND r.amount <> h.amount)
            OR (r.status = 'expired') <> coalesce(r.created_at >= h.expires_at, false))
    UNION ALL
    -- reversals: between the original's accounts, never more than it
    SELECT 'transfer reversed beyond its amount', NULL, t.id,
           format('amount %s, reversed %s', t.amount, sum(r.amount))
      FROM payments.transfers t
      JOIN payments.transfers r ON r.ledger = t.ledger AND r.reverses = t.id
     GROUP BY t.ledger, t.id, t.amount
    HAVING sum(r.amount) > t.amount
        OR bool_or(t.status <> 'posted' OR r.from_account <> t.to_account
                   OR r.to_account <> t.from_account)
    UNION ALL
    -- the running pending outgoing volume, leg by leg
    SELECT 'posting held_after differs from the running held amount', r.account_id,
           r.transfer_id, format('posting %s: held_after %s, running %s',
                                 r.id, r.held_after, r.running)
      FROM (SELECT p.id, p.account_id, p.transfer_id, p.held_after,
                   sum(CASE WHEN p.side <> a.normal_balance THEN p.pending_change
                            ELSE p.pending_change - p.pending_change END)
                       OVER (PARTITION BY p.ledger, p.account_id ORDER BY p.id) AS running
              FROM payments.postings p
              JOIN payments.accounts a ON a.ledger = p.ledger AND a.id = p.account_id
             WHERE p.pending_change IS NOT NULL) r
     WHERE r.held_after <> r.running
    UNION ALL
    -- FX entries: each rate reproduces its amounts (convert_at_rate(); for
    -- a refund at the original rate, on the running total refunded) ...
    SELECT 'FX entry amounts do not follow its rate', NULL, NULL,
           format('entry %s: %s at %s / %s (%s, %s) gives %s, recorded %s', f.entry_id, f.amount,
                  f.rate_numerator, f.rate_denominator, f.rounding, f.basis, f.expected,
                  f.converted)
      FROM (SELECT f.*,
                   CASE WHEN f.basis = 'original' THEN
                            payments.convert_at_rate(f.refunded_before + f.amount,
                                                     currency(f.converted), f.rate_numerator,
                                                     f.rate_denominator, f.rounding)
                            - payments.convert_at_rate(f.refunded_before, currency(f.converted),
                                                       f.rate_numerator, f.rate_denominator,
                                                       f.rounding)
                        ELSE payments.convert_at_rate(f.amount, currency(f.converted),
                                                      f.rate_numerator, f.rate_denominator,
                                                      f.rounding)
                   END AS expected
              FROM payments.fx_entries f) f
     WHERE f.expected <> f.converted
        OR amount(f.amount) <= 0
        OR (f.basis = 'original') <> (f.refunded_before IS NOT NULL)
        OR (f.basis = 'original' AND f.reverses_entry IS NULL)
    UNION ALL
    -- ... refunds at the original rate follow each other: each starts where
    -- the ones before it ended, and together they never pass the original
    SELECT 'FX refunds at the original rate do not add up', NULL, NULL,
           format('refund entry %s of entry %s: refunded_before %s, running %s, original %s',
                  r.entry_id, r.reverses_entry, r.refunded_before, r.running, o.amount)
      FROM (SELECT f.ledger, f.entry_id, f.reverses_entry, f.refunded_before, f.amount,
                   coalesce(sum(f.amount) OVER (PARTITION BY f.ledger, f.reverses_entry
                                                ORDER BY f.refunded_before
                                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                            f.amount - f.amount) AS running
              FROM payments.fx_entries f WHERE f.basis = 'original') r
      LEFT JOIN payments.fx_entries o ON o.ledger = r.ledger AND o.entry_id = r.reverses_entry
     WHERE o.entry_id IS NULL OR r.refunded_before <> r.running
        OR r.refunded_before + r.amount > o.amount
    UNION ALL
    -- ... and its transfers are its two legs through the ledger's FX
    -- accounts: from_account pays into the FX account of what it pays,
    -- the FX account of what to_account gets pays it (a refund's leg of
    -- nothing, at the original rate, is left out)
    SELECT 'FX entry transfers do not match its record', NULL, NULL,
           format('entry %s: %s transfers, %s paying %s from account %s, %s receiving %s on account %s',
                  f.entry_id, c.n, c.paying, f.paid, f.from_account, c.receiving, f.received,
                  f.to_account)
      FROM (SELECT f.*,
                   CASE WHEN f.reverses_entry IS NULL THEN f.amount ELSE f.converted END AS paid,
                   CASE WHEN f.reverses_entry IS NULL THEN f.converted ELSE f.amount END AS received
              FROM payments.fx_entries f) f
     CROSS JOIN LATERAL (
            SELECT count(*) AS n,
                   count(*) FILTER (WHERE t.from_account = f.from_account
                                      AND t.to_account = (SELECT x.account_id FROM payments.fx_accounts x
                                                           WHERE x.ledger = f.ledger
                                                             AND x.currency = currency(f.paid))
                                      AND t.amount = f.paid) AS paying,
                   count(*) FILTER (WHERE t.to_account = f.to_account
                                      AND t.from_account = (SELECT x.account_id FROM payments.fx_accounts x
                                                             WHERE x.ledger = f.ledger
                                                               AND x.currency = currency(f.received))
                                      AND t.amount = f.received) AS receiving,
                   bool_and(t.status = 'posted') AS posted
              FROM payments.transfers t
             WHERE t.ledger = f.ledger AND t.entry_id = f.entry_id) c
     WHERE c.paying <> CASE WHEN amount(f.paid) > 0 THEN 1 ELSE 0 END
        OR c.receiving <> 1
        OR c.n <> c.paying + c.receiving
        OR NOT c.posted
    UNION ALL
    -- a leg of an FX entry goes back only with a refund of its entry
    SELECT 'FX leg reversed outside a refund of its entry', NULL, r.id,
           format('transfer %s reverses transfer %s of FX entry %s', r.id, t.id, t.entry_id)
      FROM payments.transfers r
      JOIN payments.transfers t ON t.ledger = r.ledger AND t.id = r.reverses
      JOIN payments.fx_entries f ON f.ledger = t.ledger AND f.entry_id = t.entry_id
     WHERE NOT EXISTS (SELECT FROM payments.fx_entries rf
                        WHERE rf.ledger = r.ledger AND rf.entry_id = r.entry_id
                          AND rf.reverses_entry = t.entry_id)
    UNION ALL
    -- FX entries balance in each currency
    SELECT 'FX entry does not balance in a currency', NULL, NULL,
           format('entry %s, %s: debits %s, credits %s', b.entry_id, b.currency, b.debits,
                  b.credits)
      FROM (SELECT f.entry_id, currency(p.amount) AS currency,
                   sum(amount(p.amount)) FILTER (WHERE p.side = 'debit') AS debits,
                   sum(amount(p.amount)) FILTER (WHERE p.side = 'credit') AS credits
              FROM payments.fx_entries f
              JOIN payments.transfers t ON t.ledger = f.ledger AND t.entry_id = f.entry_id
              JOIN payments.postings p ON p.ledger = t.ledger AND p.transfer_id = t.id
             GROUP BY f.entry_id, currency(p.amount)) b
     WHERE b.debits IS DISTINCT FROM b.credits
    UNION ALL
    -- an FX account is an account of its ledger in its currency
    SELECT 'FX account is not an account of its ledger and currency', x.account_id, NULL,
           format('%s %s: account %s', x.ledger, x.currency,
                  coalesce(a.ledger || ' ' || a.currency::text, 'missing'))
      FROM payments.fx_accounts x
      LEFT JOIN payments.accounts a ON a.ledger = x.ledger AND a.id = x.account_id
     WHERE a.id IS NULL OR a.currency <> x.currency
    UNION ALL
    -- the books balance: per ledger and currency, debits equal credits
    SELECT 'debits and credits differ', NULL, NULL,
           format('%s %s: debits %s, credits %s', c.ledger, c.currency, c.debits, c.credits)
      FROM (SELECT v.ledger, v.currency,   -- as numeric: a total may pass 38 digits
                   sum(amount(v.debits_posted)) AS debits,
                   sum(amount(v.credits_posted)) AS credits
              FROM payments.account_volumes v GROUP BY v.ledger, v.currency) c
     WHERE c.debits <> c.credits;
END;
COMMENT ON FUNCTION payments.verify_ledger() IS
    'recomputes every balance (of account rows and stripes) and every transfer''s legs from the postings, and every FX entry''s amounts from its rate; returns the rows that disagree (none, always)';

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

ALTER TABLE payments.fx_entries ENABLE ALWAYS TRIGGER fx_entry_history_guard;
ALTER TABLE payments.fx_entries ENABLE ALWAYS TRIGGER fx_entry_truncate_guard;
ALTER TABLE payments.fx_accounts ENABLE ALWAYS TRIGGER fx_account_history_guard;
ALTER TABLE payments.fx_accounts ENABLE ALWAYS TRIGGER fx_account_truncate_guard;

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

-- FX positions ----------------------------------------------------------------

CREATE VIEW payments.fx_positions AS
    SELECT x.ledger, x.currency, x.account_id, b.balance AS position, b.available
      FROM payments.fx_accounts x
      JOIN payments.account_balances b ON b.ledger = x.ledger AND b.account_id = x.account_id;
COMMENT ON VIEW payments.fx_positions IS
    'each ledger''s position in each currency it converts: what its FX account holds (negative: what it owes in that currency)';

CREATE FUNCTION payments.fx_revaluation(reporting_currency currency,
                                        at timestamptz DEFAULT now(),
                                        mode rounding_mode DEFAULT 'half_even')
    RETURNS TABLE (ledger text, currency currency, account_id bigint, "position" monetary,
                   value monetary)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT p.ledger, p.currency, p.account_id, p.balance,
           payments.convert(p.balance, fx_revaluation.reporting_currency, fx_revaluation.at,
                            fx_revaluation.mode)
      FROM (SELECT x.ledger, x.currency, x.account_id,
                   payments.balance(x.account_id, fx_revaluation.at) AS balance
              FROM payments.fx_accounts x
             WHERE payments.ledger_visible(x.ledger)) p
     ORDER BY p.ledger, p.currency;
END;
COMMENT ON FUNCTION payments.fx_revaluation(currency, timestamptz, rounding_mode) IS
    'each FX position as of a time and its value then in a reporting currency (payments.convert() at that time); summed per ledger, the FX book''s gain (or loss, negative) from rate moves and rounding since its positions were taken';

REVOKE ALL ON FUNCTION payments.fx_revaluation(currency, timestamptz, rounding_mode) FROM PUBLIC;
REVOKE ALL ON payments.fx_positions FROM PUBLIC;

-- Functions by account name get names of their own (issue 12) ----------------
--
-- In 1.0 they were overloads of the functions by id, and a driver that sends
-- untyped parameters reached them with ids (PostgreSQL prefers text for an
-- unknown type), and balance(name, ledger) read the ledger as a time.
-- Catalog only.
DROP FUNCTION payments.post_transfer(text, text, monetary, text, jsonb, text);
DROP FUNCTION payments.set_account_status(text, text, text);
DROP FUNCTION payments.balance(text, timestamptz, text);
DROP FUNCTION payments.available_balance(text, text);

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

CREATE FUNCTION payments.balance_by_name(ledger text, account text, at timestamptz DEFAULT NULL)
    RETURNS monetary
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT payments.balance(payments.account_id(balance_by_name.account, balance_by_name.ledger),
                            balance_by_name.at);
END;
COMMENT ON FUNCTION payments.balance_by_name(text, text, timestamptz) IS
    'balance() of the account named in a ledger';

CREATE FUNCTION payments.available_balance_by_name(ledger text, account text)
    RETURNS monetary
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT payments.available_balance(payments.account_id(available_balance_by_name.account,
                                                          available_balance_by_name.ledger));
END;
COMMENT ON FUNCTION payments.available_balance_by_name(text, text) IS
    'available_balance() of the account named in a ledger';

REVOKE ALL ON FUNCTION
    payments.post_transfer_by_name(text, text, text, monetary, text, jsonb),
    payments.set_account_status_by_name(text, text, text),
    payments.balance_by_name(text, text, timestamptz),
    payments.available_balance_by_name(text, text)
    FROM PUBLIC;

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

-- Monitoring: what an on-call engineer watches (DESIGN.md section 6).
--
-- Views over the ledger's own small tables (open_holds) and the audit's
-- runs, cheap enough to read every scrape; throughput comes from
-- PostgreSQL's own counters (pg_stat_user_tables), which Prometheus turns
-- into rates.  monitoring/postgres-exporter.yaml serves them to Debian's
-- prometheus-postgres-exporter.

-- The audit's runs: payments.run_audit() runs verify_ledger() and records
-- what it found, so that an alert can read the last result and its age.
CREATE TABLE payments.audit_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    problems        bigint NOT NULL,
    first_problem   text,
    CONSTRAINT audit_runs_pkey PRIMARY KEY (id)
);
COMMENT ON TABLE payments.audit_runs IS
    'each run of payments.run_audit(): when, how long, and how many rows verify_ledger() returned (none, always)';
SELECT pg_catalog.pg_extension_config_dump('payments.audit_runs', '');
SELECT pg_catalog.pg_extension_config_dump('payments.audit_runs_id_seq', '');
REVOKE ALL ON payments.audit_runs FROM PUBLIC;

CREATE FUNCTION payments.run_audit()
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
AS $$
DECLARE
    started timestamptz := clock_timestamp();
    found bigint;
    first text;
BEGIN
    SELECT count(*), min(v.problem) INTO found, first FROM payments.verify_ledger() v;
    INSERT INTO payments.audit_runs (started_at, finished_at, problems, first_problem)
    VALUES (started, clock_timestamp(), found, first);
    RETURN found;
END;
$$;
COMMENT ON FUNCTION payments.run_audit() IS
    'runs verify_ledger() and records the result in payments.audit_runs (for monitoring); returns how many rows disagree';
REVOKE ALL ON FUNCTION payments.run_audit() FROM PUBLIC;

-- Holds per ledger and currency: what is held, what expires within the
-- hour, what is past its expiry but not yet swept (the sweep's backlog),
-- and the age of the oldest.  From open_holds: only unresolved holds.
CREATE VIEW payments.monitor_holds AS
    SELECT o.ledger, currency(h.amount) AS currency,
           count(*) AS open_holds,
           sum(h.amount) AS held,
           count(*) FILTER (WHERE o.expires_at > statement_timestamp()
                              AND o.expires_at <= statement_timestamp() + interval '1 hour')
               AS expiring_within_hour,
           coalesce(sum(h.amount) FILTER (WHERE o.expires_at > statement_timestamp()
                                            AND o.expires_at <= statement_timestamp() + interval '1 hour'),
                    sum(h.amount) - sum(h.amount)) AS expiring_amount,
           count(*) FILTER (WHERE o.expires_at <= statement_timestamp()) AS sweep_backlog,
           coalesce(sum(h.amount) FILTER (WHERE o.expires_at <= statement_timestamp()),
                    sum(h.amount) - sum(h.amount)) AS sweep_backlog_amount,
           statement_timestamp() - min(h.created_at) AS oldest_age
      FROM payments.open_holds o
      JOIN payments.transfers h ON h.ledger = o.ledger AND h.id = o.id
     WHERE payments.ledger_visible(o.ledger)
     GROUP BY o.ledger, currency(h.amount);
COMMENT ON VIEW payments.monitor_holds IS
    'per ledger and currency: unresolved holds, the amount held, what expires within the hour, the sweep''s backlog (past expiry, not yet expired by expire_holds()) and the age of the oldest hold';

-- The last audit, and how long ago it finished.
CREATE VIEW payments.monitor_audit AS
    SELECT r.finished_at, r.problems, r.first_problem,
           r.finished_at - r.started_at AS duration,
           statement_timestamp() - r.finished_at AS age
      FROM payments.audit_runs r
     ORDER BY r.id DESC
     LIMIT 1;
COMMENT ON VIEW payments.monitor_audit IS
    'the last run of payments.run_audit(): its result, how long it took and how long ago it finished';

-- Rows written to the ledger's tables since the statistics were last reset:
-- counters, for rates.
CREATE VIEW payments.monitor_counters AS
    SELECT s.relname::text AS relation, s.n_tup_ins AS inserted
      FROM pg_catalog.pg_stat_user_tables s
     WHERE s.schemaname = 'payments'
       AND s.relname IN ('transfers', 'postings', 'entries', 'fx_entries');
COMMENT ON VIEW payments.monitor_counters IS
    'rows inserted into transfers, postings, entries and fx_entries since PostgreSQL''s statistics were reset (counters: alert on their rate)';

REVOKE ALL ON payments.monitor_holds, payments.monitor_audit, payments.monitor_counters FROM PUBLIC;

-- Closed periods (issue 13) -------------------------------------------------
--
-- Cost on a large ledger: one new empty table, catalog only.

-- Closed periods (payments.close_period()): up to until, the ledger's
-- balances and statements as of a time are final; nothing posts at or
-- before it (src/periods.c).
CREATE TABLE payments.closed_periods (
    ledger          text NOT NULL,
    until           timestamptz NOT NULL,
    closed_at       timestamptz NOT NULL,
    closed_by       name NOT NULL,
    CONSTRAINT closed_periods_pkey PRIMARY KEY (ledger, until)
);
COMMENT ON TABLE payments.closed_periods IS
    'the periods closed by payments.close_period(): in each ledger, every balance and statement as of a time at or before until is final; written only by the ledger, never changed';

SELECT pg_catalog.pg_extension_config_dump('payments.closed_periods', '');
REVOKE ALL ON payments.closed_periods FROM PUBLIC;
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

ALTER TABLE payments.closed_periods ENABLE ALWAYS TRIGGER closed_period_history_guard;
ALTER TABLE payments.closed_periods ENABLE ALWAYS TRIGGER closed_period_truncate_guard;
ALTER TABLE payments.closed_periods ENABLE ALWAYS TRIGGER closed_periods_changed;

-- Closing a period (DESIGN.md section 6; src/periods.c) ------------------------

CREATE FUNCTION payments.close_period(ledger text, until timestamptz)
    RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'ledger_close_period'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp;
COMMENT ON FUNCTION payments.close_period(text, timestamptz) IS
    'closes the ledger''s period up to until (past): waits for every transaction in progress, then records it; from then on every balance and statement as of a time at or before until is final and nothing posts into it; returns the ledger''s closed time';
REVOKE ALL ON FUNCTION payments.close_period(text, timestamptz) FROM PUBLIC;

-- The change feed (DESIGN.md section 6; src/change_feed.c) -------------------

-- The change feed (payments.changes_since(); src/change_feed.c): for each
-- entry, the top-level transaction that posted it, whose visibility in a
-- snapshot says whether it has committed.  Not dumped: transaction ids mean
-- nothing in another cluster, and a restored ledger starts its feed anew.
CREATE TABLE payments.entry_xacts (
    ledger          text NOT NULL,
    entry_id        bigint NOT NULL,
    xact_id         xid8 NOT NULL,
    CONSTRAINT entry_xacts_pkey PRIMARY KEY (ledger, entry_id)
);
-- the feed reads entries in transaction order
CREATE INDEX entry_xacts_xact_idx ON payments.entry_xacts (xact_id, entry_id);
COMMENT ON TABLE payments.entry_xacts IS
    'for each entry posted since release 1.1, the transaction that posted it (payments.changes_since()); written only by the ledger, never changed, not dumped';
COMMENT ON COLUMN payments.entry_xacts.xact_id IS
    'the top-level transaction that posted the entry''s transfers, with its epoch (pg_current_xact_id())';
COMMENT ON INDEX payments.entry_xacts_xact_idx IS 'entries in transaction order, for the change feed';
REVOKE ALL ON payments.entry_xacts FROM PUBLIC;

-- Which transaction posted each entry is written by the engine (without
-- triggers) and never changes.
CREATE TRIGGER entry_xact_guard BEFORE INSERT ON payments.entry_xacts
    FOR EACH ROW EXECUTE FUNCTION payments.ledger_write_guard();
CREATE TRIGGER entry_xact_history_guard BEFORE UPDATE OR DELETE ON payments.entry_xacts
    FOR EACH ROW EXECUTE FUNCTION payments.history_guard();
CREATE TRIGGER entry_xact_truncate_guard BEFORE TRUNCATE ON payments.entry_xacts
    FOR EACH STATEMENT EXECUTE FUNCTION payments.history_guard();
ALTER TABLE payments.entry_xacts ENABLE ALWAYS TRIGGER entry_xact_history_guard;
ALTER TABLE payments.entry_xacts ENABLE ALWAYS TRIGGER entry_xact_truncate_guard;

-- The change feed (DESIGN.md section 6): every committed transfer, once, in
-- an order consistent with commits, from a cursor the consumer stores.
--
-- A cursor says which transactions the consumer has seen, as a snapshot:
-- 'S' (pg_snapshot's text form) means every transfer of every transaction S
-- sees as done has been returned; 'L/H/xact/entry/transfer' means those of L,
-- and of the transactions H sees done and L did not, those up to (xact,
-- entry, transfer) in that order.  A call returns what the cursor has not
-- seen of the transactions its own snapshot sees done, in batches: first
-- the rest of H, then those done since H.  A transaction in progress in a
-- snapshot is not returned until a later one sees it done, so one that
-- commits late is returned late, never skipped; an aborted one has no rows.
-- Transactions returned in an earlier batch committed before any of a later
-- one; within a batch they come by transaction id, so that one which had
-- committed before another began comes first.  The reader's own
-- transaction counts as in progress: its rows come once it has committed.
--
-- The last row of a call that reached the end of the feed is a mark: all
-- columns but cursor null.  Its cursor moves the consumer past what it was
-- not shown (nothing, or transfers its privileges hide), so that the next
-- call starts there.

-- A cursor at the current snapshot: the feed returns from it the transfers
-- of the transactions that snapshot does not see as done.  To copy the
-- ledger as it is and then follow it, read both in one REPEATABLE READ
-- transaction; to follow from now on, start there.  The caller's own
-- transaction counts as in progress: it may yet roll back.
CREATE FUNCTION payments.change_cursor()
    RETURNS text
    LANGUAGE sql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT CASE WHEN own IS NULL OR own >= pg_snapshot_xmax(seen) THEN seen::text
                ELSE format('%s:%s:%s', least(pg_snapshot_xmin(seen), own), pg_snapshot_xmax(seen),
                            (SELECT string_agg(x::text, ',' ORDER BY x)
                               FROM (SELECT pg_snapshot_xip(seen) UNION SELECT own) AS u(x)))
           END
      FROM (SELECT pg_current_snapshot(), pg_current_xact_id_if_assigned()) AS now(seen, own);
END;
COMMENT ON FUNCTION payments.change_cursor() IS
    'a change feed cursor at the current snapshot, the caller''s own transaction counted as in progress: payments.changes_since() returns from it the transfers of the transactions this snapshot does not see as done';
REVOKE ALL ON FUNCTION payments.change_cursor() FROM PUBLIC;

CREATE FUNCTION payments.changes_since(cursor text, max_transfers integer DEFAULT 1000)
    RETURNS TABLE (next_cursor text, xact_id xid8, ledger text, entry_id bigint, id bigint,
                   idempotency_key text, from_account bigint, to_account bigint,
                   amount monetary, status text, pending_id bigint, reverses bigint,
                   expires_at timestamptz, metadata jsonb, created_at timestamptz)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, payments, pg_temp
AS $$
DECLARE
    now_seen pg_snapshot := payments.change_cursor()::pg_snapshot;
    parts text[];
    low pg_snapshot;            -- L: what the consumer has seen all of
    high pg_snapshot;           -- H: the batch's snapshot
    at_xact xid8 := '0';        -- the last row returned of the batch
    at_entry bigint := 0;
    at_transfer bigint := 0;
    mid_batch boolean;
    wanted integer := max_transfers;
    returned bigint;
BEGIN
    IF max_transfers IS NULL OR max_transfers < 1 THEN
        RAISE EXCEPTION 'max_transfers must be at least 1, not %', coalesce(max_transfers::text, 'null')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF cursor IS NULL THEN
        low := '1:1:';          -- nothing seen: the whole feed
        mid_batch := false;
    ELSE
        parts := regexp_match(cursor,
            '^(\d+:\d+:(?:\d+(?:,\d+)*)?)(?:/(\d+:\d+:(?:\d+(?:,\d+)*)?)/(\d+)/(\d+)/(\d+))?$');
        -- what is not a cursor is refused in one place: the exception below
        BEGIN
            IF parts IS NULL THEN
                RAISE invalid_text_representation;
            END IF;
            low := parts[1]::pg_snapshot;
            mid_batch := parts[2] IS NOT NULL;
            IF mid_batch THEN
                high := parts[2]::pg_snapshot;
                at_xact := parts[3]::xid8;
                at_entry := parts[4]::bigint;
                at_transfer := parts[5]::bigint;
            END IF;
            -- a snapshot lists at most the transactions the server can run
            -- at once: a longer list is not one (and would make every read
            -- slow); a batch's snapshot is never older than what precedes it
            IF (SELECT count(*) FROM pg_snapshot_xip(low))
                   + coalesce((SELECT count(*) FROM pg_snapshot_xip(high)), 0)
                   > 2 * (current_setting('max_connections')::int
                          + current_setting('max_prepared_transactions')::int
                          + current_setting('max_worker_processes')::int
                          + current_setting('autovacuum_max_workers')::int
                          + current_setting('max_wal_senders')::int)
               OR (mid_batch AND pg_snapshot_xmax(low) > pg_snapshot_xmax(high)) THEN
                RAISE invalid_text_representation;
            END IF;
        EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
            RAISE EXCEPTION 'invalid change feed cursor: "%"', left(cursor, 200)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Pass NULL to read the feed from its start, payments.change_cursor() to read from now on, or a next_cursor that payments.changes_since() returned, as it was.';
        END;
        IF pg_snapshot_xmax(coalesce(high, low)) > pg_snapshot_xmax(now_seen) THEN
            RAISE EXCEPTION 'change feed cursor "%" is ahead of this database''s transactions', left(cursor, 200)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The cursor has seen transactions up to %s; this database has begun none past %s.',
                                      pg_snapshot_xmax(coalesce(high, low)), pg_snapshot_xmax(now_seen)),
                      HINT = 'A cursor belongs to the database it was read from. After a restore into a new cluster, start the feed anew from payments.change_cursor().';
        END IF;
    END IF;
    IF NOT mid_batch THEN
        high := now_seen;
    END IF;

    LOOP
        RETURN QUERY
            WITH batch AS (
                SELECT x.ledger, x.entry_id, x.xact_id
                  FROM payments.entry_xacts x
                 WHERE x.xact_id = ANY (ARRAY(SELECT pg_snapshot_xip(low)))
                   AND NOT x.xact_id = ANY (ARRAY(SELECT pg_snapshot_xip(high)))
                   AND x.xact_id < pg_snapshot_xmax(high)
                   AND (x.xact_id, x.entry_id) >= (at_xact, at_entry)
                UNION ALL
                SELECT x.ledger, x.entry_id, x.xact_id
                  FROM payments.entry_xacts x
                 WHERE x.xact_id >= pg_snapshot_xmax(low)
                   AND x.xact_id < pg_snapshot_xmax(high)
                   AND NOT x.xact_id = ANY (ARRAY(SELECT pg_snapshot_xip(high)))
                   AND (x.xact_id, x.entry_id) >= (at_xact, at_entry)
                 ORDER BY 3, 2
                 LIMIT wanted::bigint + 1
            )
            SELECT format('%s/%s/%s/%s/%s', low, high, b.xact_id, b.entry_id, t.id),
                   b.xact_id, t.ledger, t.entry_id, t.id, t.idempotency_key,
                   t.from_account, t.to_account, t.amount, t.status, t.pending_id,
                   t.reverses, t.expires_at, t.metadata, t.created_at
              FROM batch b
              JOIN payments.transfers t ON t.entry_id = b.entry_id AND t.ledger = b.ledger
             WHERE (b.xact_id, b.entry_id, t.id) > (at_xact, at_entry, at_transfer)
             ORDER BY b.xact_id, b.entry_id, t.id
             LIMIT wanted;
        GET DIAGNOSTICS returned = ROW_COUNT;
        wanted := wanted - returned;
        EXIT WHEN wanted = 0;
        -- the batch is done: every transaction high sees as done is seen
        low := high;
        EXIT WHEN NOT mid_batch;
        -- then those done since
        high := now_seen;
        mid_batch := false;
        at_xact := '0';
        at_entry := 0;
        at_transfer := 0;
    END LOOP;
    -- the mark: the feed has been read up to low
    IF wanted > 0 AND low::text IS DISTINCT FROM cursor THEN
        next_cursor := low::text;
        RETURN NEXT;
    END IF;
END;
$$;
COMMENT ON FUNCTION payments.changes_since(text, integer) IS
    'the change feed: up to max_transfers committed transfers that the cursor has not seen, in commit order of their transactions, each with the cursor to resume after it (NULL: from the start of the feed); a last row with only next_cursor marks the end of the feed';
REVOKE ALL ON FUNCTION payments.changes_since(text, integer) FROM PUBLIC;

-- Outcomes: transfers committed and refusals by SQLSTATE (src/outcomes.c) ----

-- What became of the API's calls (src/outcomes.c): transfers committed, and
-- calls refused by SQLSTATE, counted in shared memory when the library is
-- in shared_preload_libraries ('payments'); without it, no rows.
CREATE FUNCTION payments.outcome_counts(
        OUT minute timestamptz, OUT outcome text, OUT sqlstate text, OUT count bigint,
        OUT since timestamptz)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ledger_outcome_counts'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION payments.outcome_counts() IS
    'transfers committed and calls of the API refused (by SQLSTATE), counted in shared memory since since: the totals (minute null), then per minute for the last hour; no rows unless payments is in shared_preload_libraries';
REVOKE ALL ON FUNCTION payments.outcome_counts() FROM PUBLIC;

-- Per minute, the last hour: an on-call engineer's first look.
CREATE VIEW payments.monitor_outcomes AS
    SELECT o.minute, o.outcome, o.sqlstate, o.count
      FROM payments.outcome_counts() o
     WHERE o.minute IS NOT NULL;
COMMENT ON VIEW payments.monitor_outcomes IS
    'per minute of the last hour: transfers committed, and calls of the API refused by SQLSTATE (needs payments in shared_preload_libraries; empty otherwise)';

-- Since counting began (the server's start): counters, for rates.
CREATE VIEW payments.monitor_outcome_totals AS
    SELECT o.outcome, o.sqlstate, o.count, o.since
      FROM payments.outcome_counts() o
     WHERE o.minute IS NULL;
COMMENT ON VIEW payments.monitor_outcome_totals IS
    'transfers committed and calls of the API refused by SQLSTATE since the server started (counters: alert on their rate; needs payments in shared_preload_libraries, empty otherwise)';
REVOKE ALL ON payments.monitor_outcomes, payments.monitor_outcome_totals FROM PUBLIC;

-- The daily reconciliation report ----------------------------------------------

-- The daily reconciliation report (make report): the books as they stand,
-- one row a figure.  Amounts are numeric in each currency's units, so that
-- a sum over many accounts cannot overflow.
CREATE FUNCTION payments.reconciliation_report()
    RETURNS TABLE (section text, ledger text, currency text, item text,
                   amount numeric, count bigint, at timestamptz)
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT r.section, r.ledger, r.currency, r.item, r.amount, r.count, r.at
      FROM (
        -- every ledger and currency balances: debits = credits
        SELECT 1 AS ord, 'trial balance' AS section, t.ledger, t.currency::text AS currency,
               x.item, x.amount, NULL::bigint AS count, NULL::timestamptz AS at
          FROM payments.trial_balance t,
               LATERAL (VALUES (1, 'debits', t.debits), (2, 'credits', t.credits),
                               (3, 'debits - credits', t.debits - t.credits)) AS x(n, item, amount)
        UNION ALL
        -- what the ledger holds in each currency it converts
        SELECT 2, 'fx position', p.ledger, p.currency::text, 'position', amount(p."position"),
               NULL, NULL
          FROM payments.fx_positions p
        UNION ALL
        -- money held by holds not yet resolved
        SELECT 3, 'holds', h.ledger, h.currency::text, x.item, x.amount, x.count, NULL
          FROM payments.monitor_holds h,
               LATERAL (VALUES ('open', amount(h.held), h.open_holds),
                               ('expiring within the hour', amount(h.expiring_amount),
                                h.expiring_within_hour),
                               ('past expiry, not yet swept', amount(h.sweep_backlog_amount),
                                h.sweep_backlog)) AS x(item, amount, count)
        UNION ALL
        -- periods closed: as of these times, every figure is final
        SELECT 4, 'closed periods', c.ledger, NULL, 'closed until', NULL, count(*), max(c.until)
          FROM payments.closed_periods c
         GROUP BY c.ledger
        UNION ALL
        -- the last audit: rows verify_ledger() returned, and when
        SELECT 5, 'audit', NULL, NULL,
               CASE WHEN a.finished_at IS NULL THEN 'never run: SELECT payments.run_audit()'
                    ELSE 'verify_ledger() rows' END,
               NULL, a.problems, a.finished_at
          FROM (VALUES (1)) AS one(n) LEFT JOIN payments.monitor_audit a ON true
      ) r
     ORDER BY r.ord, r.ledger, r.currency, r.item;
END;
COMMENT ON FUNCTION payments.reconciliation_report() IS
    'the daily reconciliation report: trial balance per ledger and currency, FX positions, open holds, closed periods and the last audit, one row a figure (make report)';
REVOKE ALL ON FUNCTION payments.reconciliation_report() FROM PUBLIC;

-- Row level security by ledger (issue 14): catalog only --------------------

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
CREATE TRIGGER role_ledgers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON payments.role_ledgers FOR EACH STATEMENT EXECUTE FUNCTION payments.cached_table_changed();
ALTER TABLE payments.role_ledgers ENABLE ALWAYS TRIGGER role_ledgers_changed;

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

-- The views that read a ledger's rows run with the reader's rights
-- (security_invoker: row level security filters a bound role's rows before
-- anything it adds to a query sees them), or, where an operator reads them
-- without the tables' grants, behind a security barrier.  The API's
-- functions, which read them as the owner, are confined by their filter.
ALTER VIEW payments.account_volumes SET (security_invoker = true);
ALTER VIEW payments.account_balances SET (security_invoker = true);
ALTER VIEW payments.trial_balance SET (security_invoker = true);
ALTER VIEW payments.fx_positions SET (security_invoker = true);
ALTER VIEW payments.holds SET (security_barrier = true);
ALTER VIEW payments.monitor_holds SET (security_barrier = true);

DROP FUNCTION payments.upgrade_1_1_index(regclass, text, text, boolean);
