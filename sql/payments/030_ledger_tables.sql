-- The ledger's tables: accounts, transfers, postings, entries.
--
-- Every primary and unique key starts with ledger, so that the tables can be
-- distributed by it; ids are drawn by the ledger from its sequences and are
-- unique across ledgers too, so single-node users may look rows up by id
-- alone.  Nobody writes these tables but through the API or the triggers
-- (sql/payments/031_ledger_triggers.sql), which hold every rule on every
-- path that writes.  Column order follows the upgrade path from 1.0:
-- columns added by an upgrade come last.

CREATE SEQUENCE payments.accounts_id_seq;
CREATE TABLE payments.accounts (
    id              bigint NOT NULL,            -- assigned by the ledger
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
    CONSTRAINT accounts_pkey PRIMARY KEY (ledger, id),
    CONSTRAINT accounts_ledger_name_key UNIQUE (ledger, name)
);
ALTER SEQUENCE payments.accounts_id_seq OWNED BY payments.accounts.id;
-- look-ups by id alone (single-node users; the ledger's account cache)
CREATE INDEX accounts_id_idx ON payments.accounts (id);
COMMENT ON TABLE payments.accounts IS
    'ledger accounts and their running volumes; balance = normal-side volume minus the other side';
COMMENT ON COLUMN payments.accounts.id IS 'assigned by the ledger from accounts_id_seq; unique across ledgers';
COMMENT ON COLUMN payments.accounts.ledger IS 'the book the account belongs to (a tenant, say): 1 to 64 bytes (account_guard)';
COMMENT ON COLUMN payments.accounts.name IS 'unique within its ledger: 1 to 256 bytes (account_guard)';
COMMENT ON COLUMN payments.accounts.normal_balance IS
    'the side that increases the balance: debit (assets, expenses) or credit (liabilities, income, user wallets)';
COMMENT ON COLUMN payments.accounts.allow_negative IS
    'false: the available balance (posted balance minus pending outgoing) never goes below zero';
COMMENT ON COLUMN payments.accounts.debits_posted IS 'sum of posted debits; written only by the ledger';
COMMENT ON COLUMN payments.accounts.credits_posted IS 'sum of posted credits; written only by the ledger';
COMMENT ON COLUMN payments.accounts.debits_pending IS 'sum of pending debits; written only by the ledger';
COMMENT ON COLUMN payments.accounts.credits_pending IS 'sum of pending credits; written only by the ledger';
COMMENT ON INDEX payments.accounts_id_idx IS 'look-ups of an account by id alone';

CREATE SEQUENCE payments.transfers_id_seq;
CREATE TABLE payments.transfers (
    id              bigint NOT NULL,        -- assigned by the ledger
    ledger          text NOT NULL,          -- filled from the accounts when left out
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
    entry_id        bigint NOT NULL,        -- assigned by the ledger
    CONSTRAINT transfers_pkey PRIMARY KEY (ledger, id),
    CONSTRAINT transfers_ledger_idempotency_key_key UNIQUE (ledger, idempotency_key)
);
ALTER SEQUENCE payments.transfers_id_seq OWNED BY payments.transfers.id;
-- No index by from_account or to_account: every transfer's two legs are
-- postings, and postings_account_idx finds an account's transfers on either
-- side, in time order; two more random-order index entries per transfer
-- would cost every write for a question postings already answer.
CREATE INDEX transfers_entry_idx ON payments.transfers (entry_id);
COMMENT ON TABLE payments.transfers IS
    'money moved inside one ledger: from_account is debited, to_account credited; never updated or deleted';
COMMENT ON COLUMN payments.transfers.id IS 'assigned by the ledger from transfers_id_seq; unique across ledgers';
COMMENT ON COLUMN payments.transfers.idempotency_key IS
    'unique within the ledger (at most 256 bytes): replaying post_transfer() with it returns the original transfer';
COMMENT ON COLUMN payments.transfers.created_at IS 'when the ledger posted the transfer; assigned by the ledger';
COMMENT ON COLUMN payments.transfers.entry_id IS
    'the entry the transfer was posted in: the transfers of one call or one statement in its ledger; 0 for transfers posted before release 1.1';
COMMENT ON INDEX payments.transfers_entry_idx IS 'the transfers of an entry';

CREATE SEQUENCE payments.postings_id_seq;
CREATE TABLE payments.postings (
    id              bigint NOT NULL,        -- drawn by the ledger as each leg is applied
    ledger          text NOT NULL,
    transfer_id     bigint NOT NULL,
    account_id      bigint NOT NULL,
    side            text NOT NULL CHECK (side IN ('debit', 'credit')),
    amount          monetary NOT NULL,
    balance_after   monetary NOT NULL,
    created_at      timestamptz NOT NULL,
    CONSTRAINT postings_pkey PRIMARY KEY (ledger, id)
);
ALTER SEQUENCE payments.postings_id_seq OWNED BY payments.postings.id;
-- The indexes that are not keys lead with ids, which are unique across
-- ledgers: the ledger would add nothing to what they find, and a text column
-- first makes every entry costlier to compare, on every write.  Queries
-- still name the ledger; it is checked on the rows found.
CREATE INDEX postings_account_idx ON payments.postings (account_id, created_at, id);
CREATE INDEX postings_transfer_idx ON payments.postings (transfer_id);
COMMENT ON TABLE payments.postings IS
    'one row per account a transfer touches, with the account''s posted balance after it; written only by the ledger';
COMMENT ON COLUMN payments.postings.id IS
    'drawn when the leg is applied, under the account''s lock: per account, ids follow the order of the legs';
COMMENT ON COLUMN payments.postings.balance_after IS
    'the account''s posted balance (normal side minus the other) right after this leg';
COMMENT ON COLUMN payments.postings.created_at IS
    'when the leg was applied, taken under the account''s lock: per account it follows the order of the legs';

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

SELECT pg_catalog.pg_extension_config_dump('payments.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('payments.accounts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('payments.transfers', '');
SELECT pg_catalog.pg_extension_config_dump('payments.transfers_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('payments.postings', '');
SELECT pg_catalog.pg_extension_config_dump('payments.postings_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('payments.entries', '');
SELECT pg_catalog.pg_extension_config_dump('payments.entries_id_seq', '');

-- Nobody writes the ledger tables directly but through the API, unless a
-- DBA grants it: the triggers then still enforce every rule.
REVOKE ALL ON payments.accounts, payments.transfers, payments.postings, payments.entries
    FROM PUBLIC;
REVOKE ALL ON SEQUENCE payments.accounts_id_seq, payments.transfers_id_seq,
    payments.postings_id_seq, payments.entries_id_seq FROM PUBLIC;
