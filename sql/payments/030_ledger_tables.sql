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
    -- set by payments.set_hot() only
    hot             boolean NOT NULL DEFAULT false,
    stripes         smallint NOT NULL DEFAULT 0,
    striped_at      timestamptz,
    CONSTRAINT accounts_pkey PRIMARY KEY (ledger, id),
    CONSTRAINT accounts_ledger_name_key UNIQUE (ledger, name),
    -- held in replica mode too, where account_guard does not run
    CONSTRAINT accounts_hot_has_stripes
        CHECK (stripes BETWEEN 0 AND 64 AND (stripes > 0 OR NOT hot))
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
COMMENT ON COLUMN payments.accounts.debits_posted IS
    'sum of posted debits on the account row; written only by the ledger.  Of a hot account (stripes > 0), only part: payments.account_volumes has the whole';
COMMENT ON COLUMN payments.accounts.credits_posted IS
    'sum of posted credits on the account row; written only by the ledger.  Of a hot account (stripes > 0), only part: payments.account_volumes has the whole';
COMMENT ON COLUMN payments.accounts.debits_pending IS
    'sum of pending debits on the account row; written only by the ledger.  Of a hot account (stripes > 0), only part: payments.account_volumes has the whole';
COMMENT ON COLUMN payments.accounts.credits_pending IS
    'sum of pending credits on the account row; written only by the ledger.  Of a hot account (stripes > 0), only part: payments.account_volumes has the whole';
COMMENT ON COLUMN payments.accounts.hot IS
    'set with payments.set_hot(): transfers that only add to what the account may spend go to its stripes, not its row';
COMMENT ON COLUMN payments.accounts.stripes IS
    'how many rows of payments.account_stripes hold part of its volumes (0: none, and never hot); they are kept for good';
COMMENT ON COLUMN payments.accounts.striped_at IS
    'when the account was first made hot: its postings before then went to its row';
COMMENT ON INDEX payments.accounts_id_idx IS 'look-ups of an account by id alone';
-- the hot accounts, which every backend reads once after set_hot()
CREATE INDEX accounts_hot_idx ON payments.accounts (id) WHERE hot;
COMMENT ON INDEX payments.accounts_hot_idx IS 'the hot accounts (few), for the posting engine';

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
    posted_by       text,                   -- assigned by the ledger
    posted_by_session text,                 -- assigned by the ledger
    CONSTRAINT transfers_pkey PRIMARY KEY (ledger, id),
    CONSTRAINT transfers_ledger_idempotency_key_key UNIQUE (ledger, idempotency_key)
);
ALTER SEQUENCE payments.transfers_id_seq OWNED BY payments.transfers.id;
-- No index by from_account or to_account: every transfer's two legs are
-- postings, and postings_account_idx finds an account's transfers on either
-- side, in time order; two more random-order index entries per transfer
-- would cost every write for a question postings already answer.
CREATE INDEX transfers_entry_idx ON payments.transfers (entry_id);
-- Payment flows (holds, their resolutions, reversals): partial indexes, so
-- that plain transfers pay only their predicates.  A hold is resolved once:
-- by a capture, a void or its expiry, each a transfer naming it.
CREATE UNIQUE INDEX transfers_ledger_pending_id_key ON payments.transfers (ledger, pending_id)
    WHERE pending_id IS NOT NULL;
CREATE INDEX transfers_holds_idx ON payments.transfers (id) WHERE status = 'pending';
CREATE INDEX transfers_reverses_idx ON payments.transfers (reverses) WHERE reverses IS NOT NULL;
COMMENT ON TABLE payments.transfers IS
    'money moved inside one ledger: from_account is debited, to_account credited; never updated or deleted';
COMMENT ON COLUMN payments.transfers.id IS 'assigned by the ledger from transfers_id_seq; unique across ledgers';
COMMENT ON COLUMN payments.transfers.idempotency_key IS
    'unique within the ledger (at most 256 bytes): replaying post_transfer() with it returns the original transfer';
COMMENT ON COLUMN payments.transfers.created_at IS 'when the ledger posted the transfer; assigned by the ledger';
COMMENT ON COLUMN payments.transfers.entry_id IS
    'the entry the transfer was posted in: the transfers of one call or one statement in its ledger; 0 for transfers posted before release 1.1';
COMMENT ON INDEX payments.transfers_entry_idx IS 'the transfers of an entry';
COMMENT ON COLUMN payments.transfers.posted_by IS
    'the role that posted the transfer, as the client acted (current_user, SET ROLE included; not the owner the API runs as); assigned by the ledger; null for transfers posted before release 1.1';
COMMENT ON COLUMN payments.transfers.posted_by_session IS
    'the session''s user when it was another role than posted_by (a pooler''s login that SET ROLE), else null; assigned by the ledger';
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
    stripe          smallint,               -- of a hot account; see below
    pending_change  monetary,               -- of a hold's leg or its resolution's
    held_after      monetary,
    CONSTRAINT postings_pkey PRIMARY KEY (ledger, id)
);
ALTER SEQUENCE payments.postings_id_seq OWNED BY payments.postings.id;
-- The indexes that are not keys lead with ids, which are unique across
-- ledgers: the ledger would add nothing to what they find, and a text column
-- first makes every entry costlier to compare, on every write.  Queries
-- still name the ledger; it is checked on the rows found.
CREATE INDEX postings_account_idx ON payments.postings (account_id, created_at, id);
CREATE INDEX postings_transfer_idx ON payments.postings (transfer_id);
-- the running balance of each stripe of a hot account as of a time
CREATE INDEX postings_stripe_idx ON payments.postings (account_id, stripe, created_at, id)
    WHERE stripe IS NOT NULL;
COMMENT ON TABLE payments.postings IS
    'one row per account a transfer touches, with the account''s posted balance after it; written only by the ledger';
COMMENT ON COLUMN payments.postings.id IS
    'drawn when the leg is applied, under the lock of the account (or of its stripe): per account (per stripe), ids follow the order of the legs';
COMMENT ON COLUMN payments.postings.balance_after IS
    'the account''s posted balance (normal side minus the other) right after this leg; of a hot account''s leg (stripe not null), that of its stripe';
COMMENT ON COLUMN payments.postings.stripe IS
    'null for an account without stripes; else where the leg went: 0 the account row, k its stripe k.  balance_after is then the running balance of that stripe alone, and the account''s balance the sum over its stripes (payments.balance())';
-- the account's pending outgoing volume as of a time (statement())
CREATE INDEX postings_pending_idx ON payments.postings (account_id, created_at, id)
    WHERE pending_change IS NOT NULL;
COMMENT ON COLUMN payments.postings.amount IS
    'the posted money the leg moves: the transfer''s amount, or zero for the legs of a hold, a void or an expiry, which move only pending volumes';
COMMENT ON COLUMN payments.postings.pending_change IS
    'null but for the legs of holds and of their resolutions: the change to the account''s pending volume on the leg''s side, +amount for a hold, -(the hold''s amount) for its capture, void or expiry';
COMMENT ON COLUMN payments.postings.held_after IS
    'with pending_change: the account''s pending outgoing volume right after the leg (pending debits of a credit-normal account, pending credits of a debit-normal one), which its available balance subtracts';
COMMENT ON INDEX payments.postings_pending_idx IS 'the legs that change pending volumes, in time order';
COMMENT ON INDEX payments.postings_stripe_idx IS 'the legs of each stripe of hot accounts, in time order';
COMMENT ON COLUMN payments.postings.created_at IS
    'when the leg was applied, taken under the lock of the account (or of its stripe): per account (per stripe) it follows the order of the legs';

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

SELECT pg_catalog.pg_extension_config_dump('payments.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('payments.accounts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('payments.transfers', '');
SELECT pg_catalog.pg_extension_config_dump('payments.transfers_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('payments.postings', '');
SELECT pg_catalog.pg_extension_config_dump('payments.postings_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('payments.entries', '');
SELECT pg_catalog.pg_extension_config_dump('payments.account_stripes', '');
SELECT pg_catalog.pg_extension_config_dump('payments.entries_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('payments.open_holds', '');
SELECT pg_catalog.pg_extension_config_dump('payments.fx_accounts', '');
SELECT pg_catalog.pg_extension_config_dump('payments.fx_entries', '');
SELECT pg_catalog.pg_extension_config_dump('payments.closed_periods', '');
SELECT pg_catalog.pg_extension_config_dump('payments.role_ledgers', '');

-- Nobody writes the ledger tables directly but through the API, unless a
-- DBA grants it: the triggers then still enforce every rule.
REVOKE ALL ON payments.accounts, payments.transfers, payments.postings, payments.entries,
    payments.account_stripes, payments.open_holds, payments.fx_accounts,
    payments.fx_entries, payments.closed_periods, payments.entry_xacts,
    payments.role_ledgers FROM PUBLIC;
REVOKE ALL ON SEQUENCE payments.accounts_id_seq, payments.transfers_id_seq,
    payments.postings_id_seq, payments.entries_id_seq FROM PUBLIC;
