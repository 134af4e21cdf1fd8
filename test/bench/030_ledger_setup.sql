-- The starting state of 030_ledger_throughput.sh, in a database of its own:
-- 1000 user accounts (credit-normal, may not go negative) and a funding
-- source (debit-normal), with a history of 200,000 random transfers after
-- each account's funding of 1,000,000.00 USD.  The same history is loaded
-- twice: into the ledger (payments.*) and into the floor's plain tables
-- (floor.*: same columns, constraints and indexes, bigint minor units, no
-- triggers).
--
-- The history is loaded as a restore would (session_replication_role =
-- replica, the ledger's triggers off) with every derived value computed
-- here: postings with their running balances, account volumes.  The script
-- that runs this then checks it with verify_ledger().  Loading it through
-- post_transfer() would take longer than the whole benchmark.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET search_path = public, payments;

\if :{?history}
\else
\set history 200000
\endif

-- floor: the ledger's tables with plain bigint amounts -------------------

CREATE SCHEMA floor;
CREATE TABLE floor.accounts (
    id              bigint NOT NULL,
    ledger          text NOT NULL DEFAULT 'default',
    name            text NOT NULL,
    currency        text NOT NULL,
    normal_balance  text NOT NULL DEFAULT 'credit'
                    CHECK (normal_balance IN ('debit', 'credit')),
    allow_negative  boolean NOT NULL DEFAULT false,
    status          text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'frozen', 'closed')),
    metadata        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    debits_posted   bigint NOT NULL,
    credits_posted  bigint NOT NULL,
    debits_pending  bigint NOT NULL,
    credits_pending bigint NOT NULL,
    PRIMARY KEY (ledger, id),
    UNIQUE (ledger, name)
);
CREATE INDEX ON floor.accounts (id);
CREATE SEQUENCE floor.transfers_id_seq;
CREATE SEQUENCE floor.entries_id_seq;
CREATE TABLE floor.transfers (
    id              bigint NOT NULL DEFAULT nextval('floor.transfers_id_seq'),
    ledger          text NOT NULL,
    idempotency_key text,
    from_account    bigint NOT NULL,
    to_account      bigint NOT NULL,
    amount          bigint NOT NULL,
    status          text NOT NULL DEFAULT 'posted'
                    CHECK (status IN ('posted', 'pending', 'voided', 'expired')),
    pending_id      bigint,
    reverses        bigint,
    expires_at      timestamptz,
    metadata        jsonb,
    created_at      timestamptz NOT NULL,
    entry_id        bigint NOT NULL DEFAULT nextval('floor.entries_id_seq'),
    PRIMARY KEY (ledger, id),
    UNIQUE (ledger, idempotency_key)
);
CREATE INDEX ON floor.transfers (entry_id);
CREATE SEQUENCE floor.postings_id_seq;
CREATE TABLE floor.postings (
    id              bigint NOT NULL DEFAULT nextval('floor.postings_id_seq'),
    ledger          text NOT NULL,
    transfer_id     bigint NOT NULL,
    account_id      bigint NOT NULL,
    side            text NOT NULL CHECK (side IN ('debit', 'credit')),
    amount          bigint NOT NULL,
    balance_after   bigint NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (ledger, id)
);
CREATE INDEX ON floor.postings (account_id, created_at, id);
CREATE INDEX ON floor.postings (transfer_id);

-- the history, once --------------------------------------------------------

-- accounts 1..1000 are users, 1001 the source
CREATE TEMP TABLE hist AS
SELECT g::bigint AS id, 1001::bigint AS f, g::bigint AS t, 100000000::bigint AS cents
  FROM generate_series(1, 1000) g
UNION ALL
SELECT 1000 + g, f, CASE WHEN t >= f THEN t + 1 ELSE t END, cents
  FROM (SELECT g, 1 + floor(random() * 1000)::bigint AS f,
               1 + floor(random() * 999)::bigint AS t,
               1 + floor(random() * 10000)::bigint AS cents
          FROM generate_series(1, :history) g) s;
ALTER TABLE hist ADD COLUMN at timestamptz;
UPDATE hist SET at = now() - interval '30 days' + id * interval '1 ms';

-- legs, debit before credit (as the ledger writes them), with the account's
-- posted balance after each
CREATE TEMP TABLE legs AS
SELECT row_number() OVER (ORDER BY l.transfer_id, l.side DESC) AS id, l.*,
       sum(CASE WHEN (l.side = 'debit') = (l.account_id = 1001) THEN l.cents ELSE -l.cents END)
           OVER (PARTITION BY l.account_id ORDER BY l.at, l.transfer_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS balance_after
  FROM (SELECT id AS transfer_id, f AS account_id, 'debit' AS side, cents, at FROM hist
        UNION ALL
        SELECT id, t, 'credit', cents, at FROM hist) l;

CREATE TEMP TABLE vols AS
SELECT a AS id,
       coalesce(sum(l.cents) FILTER (WHERE l.side = 'debit'), 0)::bigint AS d,
       coalesce(sum(l.cents) FILTER (WHERE l.side = 'credit'), 0)::bigint AS c
  FROM generate_series(1, 1001) a LEFT JOIN legs l ON l.account_id = a
 GROUP BY a;

-- into both ---------------------------------------------------------------

SET session_replication_role = replica;

INSERT INTO payments.accounts (id, ledger, name, currency, normal_balance, allow_negative,
                               created_at, debits_posted, credits_posted,
                               debits_pending, credits_pending)
SELECT id, 'bench', CASE WHEN id = 1001 THEN 'source' ELSE 'user-' || id END, 'USD',
       CASE WHEN id = 1001 THEN 'debit' ELSE 'credit' END, id = 1001,
       now() - interval '31 days',
       monetary(d / 100.0, 'USD'), monetary(c / 100.0, 'USD'),
       '0 USD', '0 USD'
  FROM vols;
INSERT INTO floor.accounts (id, ledger, name, currency, normal_balance, allow_negative,
                            created_at, debits_posted, credits_posted,
                            debits_pending, credits_pending)
SELECT id, 'bench', CASE WHEN id = 1001 THEN 'source' ELSE 'user-' || id END, 'USD',
       CASE WHEN id = 1001 THEN 'debit' ELSE 'credit' END, id = 1001,
       now() - interval '31 days', d, c, 0, 0
  FROM vols;

INSERT INTO payments.transfers (id, ledger, from_account, to_account, amount, created_at, entry_id)
SELECT id, 'bench', f, t, monetary(cents / 100.0, 'USD'), at, id FROM hist ORDER BY id;
INSERT INTO floor.transfers (id, ledger, from_account, to_account, amount, created_at, entry_id)
SELECT id, 'bench', f, t, cents, at, id FROM hist ORDER BY id;

INSERT INTO payments.postings (id, ledger, transfer_id, account_id, side, amount,
                               balance_after, created_at)
SELECT id, 'bench', transfer_id, account_id, side, monetary(cents / 100.0, 'USD'),
       monetary(balance_after / 100.0, 'USD'), at
  FROM legs ORDER BY id;
INSERT INTO floor.postings (id, ledger, transfer_id, account_id, side, amount,
                            balance_after, created_at)
SELECT id, 'bench', transfer_id, account_id, side, cents, balance_after, at
  FROM legs ORDER BY id;

-- the change feed's record of each entry (release 1.1 on): as if each had
-- committed in a transaction of its own
SELECT to_regclass('payments.entry_xacts') IS NOT NULL AS has_change_feed \gset
\if :has_change_feed
INSERT INTO payments.entry_xacts (ledger, entry_id, xact_id)
SELECT 'bench', h.id, h.id::text::xid8 FROM hist h ORDER BY h.id;
\endif

RESET session_replication_role;

SELECT setval('payments.accounts_id_seq', 1001);
SELECT setval('payments.transfers_id_seq', (SELECT max(id) FROM hist));
SELECT setval('floor.transfers_id_seq', (SELECT max(id) FROM hist));
SELECT setval('payments.entries_id_seq', (SELECT max(id) FROM hist));
SELECT setval('floor.entries_id_seq', (SELECT max(id) FROM hist));
SELECT setval('payments.postings_id_seq', (SELECT max(id) FROM legs));
SELECT setval('floor.postings_id_seq', (SELECT max(id) FROM legs));
