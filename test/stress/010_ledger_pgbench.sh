#!/usr/bin/env bash
# Stress test of the ledger: 8 pgbench clients for 20 seconds post random
# transfers among 50 accounts that may not go negative, with amounts large
# enough that many are refused for insufficient funds: of every eight calls,
# four post one transfer, two an entry of three (a -> b, b -> c, c -> a,
# in random directions, so that entries lock their accounts in opposite
# orders), all or none, one pays a fee into a hot fee account (which may not
# go negative either), and one pays the fee account's whole available
# balance out to a user, or a cent more (refused).  Then it asserts:
#  - verify_ledger() returns no row;
#  - no account with allow_negative false is negative, now or after any of
#    its legs (postings.balance_after; for the hot account, its balance as of
#    each leg's time, summed over its stripes);
#  - per currency, debit-normal and credit-normal balances agree;
#  - the transfers are exactly the successful calls: as many, the same ids,
#    and each with the call's accounts, amount and idempotency key; no
#    refused call left a transfer behind; an entry's transfers share its
#    entry_id and no other transfer has it;
#  - no deadlock and no unexpected error: pgbench reports no failed or aborted
#    transaction, and the server log has no "deadlock detected" in database
#    payments and no error from the clients' backends during the run.
# Prints the throughput and the count of successes and refusals; exits
# non-zero, saying what failed, if any assertion fails.
#
# Run by make test with PGHOST, PGPORT, PGUSER and PGDATABASE set to the dev
# cluster's database payments.  It books in a ledger of its own, so it may run
# again on the same database.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
LOG_FILE=${STRESS_SERVER_LOG:-$ROOT/.run/postgres.log}
CLIENTS=${STRESS_CLIENTS:-8}
SECONDS_TO_RUN=${STRESS_SECONDS:-20}
ACCOUNTS=50
LEDGER="stress-$(date +%s)-$$"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

psql_q() { psql -X -q -v ON_ERROR_STOP=1 -v ledger="$LEDGER" -v accounts="$ACCOUNTS" "$@"; }

echo "ledger $LEDGER: $ACCOUNTS accounts, $CLIENTS clients, ${SECONDS_TO_RUN}s"

# The accounts, and a PL/pgSQL wrapper that pgbench calls.  The wrapper
# catches only the refusal for insufficient funds (in a subtransaction, so the
# refused transfer is rolled back and the client goes on); any other error
# reaches pgbench, which then aborts the client, and the run fails.  Every
# call is recorded in the same transaction as its transfer (outside the
# subtransaction): a success with the id post_transfer() returned, a refusal
# with its key.  So a transfer that no call returned, a returned id with no
# transfer, or a refused call that left a transfer would all show.
psql_q <<'SQL'
SET client_min_messages = warning;
SET search_path = public, payments;
DROP SCHEMA IF EXISTS ledger_stress CASCADE;
CREATE SCHEMA ledger_stress;
CREATE TABLE ledger_stress.settings (ledger text NOT NULL);
INSERT INTO ledger_stress.settings VALUES (:'ledger');
CREATE TABLE ledger_stress.accounts (n int PRIMARY KEY, id bigint NOT NULL);
CREATE TABLE ledger_stress.calls (
    key         text PRIMARY KEY,
    transfer_id bigint,            -- null: refused
    from_id     bigint NOT NULL,
    to_id       bigint NOT NULL,
    amount      monetary NOT NULL,
    entry_key   text               -- the entry's, for a transfer of post_transfers()
);
CREATE SEQUENCE ledger_stress.keys;

SELECT payments.create_account('source', 'USD', 'debit', true, ledger => :'ledger') AS source
\gset
SELECT payments.create_account('fees', 'USD', 'credit', false, ledger => :'ledger') AS fees
\gset
SELECT payments.set_hot(:fees);
CREATE TABLE ledger_stress.fees (id bigint NOT NULL);
INSERT INTO ledger_stress.fees VALUES (:fees);
INSERT INTO ledger_stress.accounts
SELECT n, payments.create_account('user-' || n, 'USD', 'credit', false, ledger => :'ledger')
  FROM generate_series(1, :accounts) n;
-- 1,000.00 USD each to start with
SELECT count(payments.post_transfer(:source, id, '1000 USD')) AS funded FROM ledger_stress.accounts
\gset

-- One transfer, recorded as a call: a success with its id, a refusal for
-- insufficient funds with none.
CREATE FUNCTION ledger_stress.post(from_id bigint, to_id bigint, amount monetary) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    key text := 'stress-' || nextval('ledger_stress.keys');
    transfer bigint;
BEGIN
    BEGIN
        transfer := payments.post_transfer(from_id, to_id, amount, key);
    EXCEPTION WHEN SQLSTATE '23L01' THEN    -- insufficient funds
        NULL;
    END;
    INSERT INTO ledger_stress.calls VALUES (key, transfer, from_id, to_id, amount);
END
$$;

-- One call: from user-f to user-t (t is drawn among the others), amount in
-- cents.
CREATE FUNCTION ledger_stress.call(f int, t int, cents bigint) RETURNS void
LANGUAGE sql AS $$
    SELECT ledger_stress.post((SELECT id FROM ledger_stress.accounts WHERE n = f),
                              (SELECT id FROM ledger_stress.accounts
                                WHERE n = CASE WHEN t >= f THEN t + 1 ELSE t END),
                              monetary(cents / 100.0, 'USD'))
$$;

-- A fee from user-f into the hot fee account.
CREATE FUNCTION ledger_stress.fee(f int, cents bigint) RETURNS void LANGUAGE sql AS $$
    SELECT ledger_stress.post((SELECT id FROM ledger_stress.accounts WHERE n = f),
                              (SELECT id FROM ledger_stress.fees),
                              monetary(cents / 100.0, 'USD'))
$$;

-- A payout of the fee account's available balance, plus extra cents, to user-t.
CREATE FUNCTION ledger_stress.payout(t int, extra int) RETURNS void LANGUAGE sql AS $$
    SELECT ledger_stress.post(b.account_id, (SELECT id FROM ledger_stress.accounts WHERE n = t),
                              b.available + monetary(extra / 100.0, 'USD'))
      FROM payments.account_balances b
     WHERE b.account_id = (SELECT id FROM ledger_stress.fees)
       AND b.available + monetary(extra / 100.0, 'USD') > '0 USD'
$$;

-- One entry of three transfers around users a, b, c (distinct), in the
-- direction given: a -> b -> c -> a, or the reverse.
CREATE FUNCTION ledger_stress.entry(a int, b int, c int, reverse boolean, cents bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    entry_key text := 'stress-entry-' || nextval('ledger_stress.keys');
    ids bigint[];
    ring int[] := CASE WHEN reverse THEN ARRAY[a, c, b, a] ELSE ARRAY[a, b, c, a] END;
    requests payments.transfer_request[];
BEGIN
    IF a = b OR b = c OR a = c THEN
        RETURN;
    END IF;
    SELECT array_agg(ROW((SELECT id FROM ledger_stress.accounts WHERE n = ring[i]),
                         (SELECT id FROM ledger_stress.accounts WHERE n = ring[i + 1]),
                         monetary((cents + i) / 100.0, 'USD'),
                         entry_key || '-' || i, NULL)::payments.transfer_request ORDER BY i)
      INTO requests FROM generate_series(1, 3) i;
    BEGIN
        ids := payments.post_transfers(requests, entry_key);
    EXCEPTION WHEN SQLSTATE '23L01' THEN    -- insufficient funds, for the whole entry
        NULL;
    END;
    INSERT INTO ledger_stress.calls
    SELECT r.idempotency_key, ids[r.i], r.from_account, r.to_account, r.amount, entry_key
      FROM unnest(requests) WITH ORDINALITY AS r(from_account, to_account, amount,
                                                 idempotency_key, metadata, i);
END
$$;
SQL

cat >"$WORK/transfer.sql" <<EOF
\set f random(1, $ACCOUNTS)
\set t random(1, $((ACCOUNTS - 1)))
\set cents random(1, 150000)
SELECT ledger_stress.call(:f, :t, :cents);
EOF
cat >"$WORK/fee.sql" <<EOF
\set f random(1, $ACCOUNTS)
\set cents random(1, 5000)
SELECT ledger_stress.fee(:f, :cents);
EOF
cat >"$WORK/payout.sql" <<EOF
\set t random(1, $ACCOUNTS)
\set extra random(-2, 1)
SELECT ledger_stress.payout(:t, greatest(:extra, 0));
EOF
cat >"$WORK/entry.sql" <<EOF
\set a random(1, $ACCOUNTS)
\set b random(1, $ACCOUNTS)
\set c random(1, $ACCOUNTS)
\set reverse random(0, 1)
\set cents random(1, 60000)
SELECT ledger_stress.entry(:a, :b, :c, :reverse = 1, :cents);
EOF

APP=ledger-stress-$$
log_start=$(stat -c %s "$LOG_FILE" 2>/dev/null || echo 0)
rc=0
PGAPPNAME=$APP pgbench -n -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_TO_RUN" -M prepared \
        --failures-detailed -f "$WORK/transfer.sql@4" -f "$WORK/entry.sql@2" \
        -f "$WORK/fee.sql@1" -f "$WORK/payout.sql@1" \
        >"$WORK/pgbench.out" 2>&1 &
pgbench_pid=$!
# The clients' backends, to find their lines in the server log.
sleep 2
backends=$(psql -X -At -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity
                            WHERE application_name = '$APP'" || true)
wait "$pgbench_pid" || rc=$?
cat "$WORK/pgbench.out"

failures=()
fail() { failures+=("$*"); }

# pgbench: the run completed, and no transaction failed (a deadlock or a
# serialization failure is counted as failed; any other error aborts its
# client).
((rc == 0)) || fail "pgbench exited with status $rc"
if grep -qiE 'aborted|error' "$WORK/pgbench.out"; then
    fail "pgbench reports errors or aborted clients: $(grep -iE 'aborted|error' "$WORK/pgbench.out" | head -5 | tr '\n' ' ')"
fi
failed_tx=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$WORK/pgbench.out")
[[ ${failed_tx:-x} == 0 ]] || fail "pgbench failed transactions: ${failed_tx:-not reported}"
tps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$WORK/pgbench.out" | head -1)

# The server log, from where it stood before the run: no "deadlock detected"
# in database payments, and no error at all from the clients' backends (the
# refusals they catch are not logged).
if [[ -r $LOG_FILE ]]; then
    tail -c "+$((log_start + 1))" "$LOG_FILE" >"$WORK/server.log"
    deadlocks=$(grep -c "@$PGDATABASE .*deadlock detected" "$WORK/server.log" || true)
    ((deadlocks == 0)) || fail "$deadlocks 'deadlock detected' in the server log"
    [[ -n $backends ]] || fail "the clients' backends were not found in pg_stat_activity"
    for pid in $backends; do
        grep -E "\[$pid\] .*(ERROR|FATAL|PANIC):" "$WORK/server.log" || true
    done >"$WORK/errors.log"
    [[ ! -s $WORK/errors.log ]] ||
        fail "errors in the server log: $(head -3 "$WORK/errors.log" | tr '\n' ' ')"
else
    echo "warning: cannot read the server log $LOG_FILE: deadlocks checked through pgbench only"
fi

# The ledger's own invariants, and the calls against the transfers.
psql_q -At -F '|' >"$WORK/checks.out" <<'SQL' || fail "the checks' queries failed"
SET search_path = public, payments;
\set l '(SELECT ledger FROM ledger_stress.settings)'
SELECT 'verify_ledger() is empty', count(*) = 0,
       count(*) || ' rows' || coalesce(': ' || string_agg(problem || ' ' || detail, '; '), '')
  FROM (SELECT * FROM payments.verify_ledger() LIMIT 5) v;
SELECT 'no negative account', count(*) = 0,
       count(*) || ' negative' || coalesce(': ' || string_agg(b.name || ' ' || b.balance || ' (available ' || b.available || ')', ', '), '')
  FROM payments.account_balances b JOIN payments.accounts a ON a.id = b.account_id
 WHERE NOT a.allow_negative AND (b.balance < monetary(0, b.currency)
                                 OR b.available < monetary(0, b.currency));
SELECT 'no negative leg', count(*) = 0, count(*) || ' postings went below zero'
  FROM payments.postings p JOIN payments.accounts a ON a.id = p.account_id
 WHERE NOT a.allow_negative
   AND CASE WHEN p.stripe IS NULL THEN p.balance_after
            ELSE payments.balance(p.account_id, p.created_at) END < monetary(0, a.currency);
SELECT 'the hot fee account took legs on several stripes and on its row',
       count(DISTINCT p.stripe) > 2 AND count(*) FILTER (WHERE p.stripe = 0) > 0,
       count(DISTINCT p.stripe) || ' stripes used, ' || count(*) FILTER (WHERE p.stripe = 0) || ' legs on its row'
  FROM payments.postings p WHERE p.account_id = (SELECT id FROM ledger_stress.fees);
SELECT 'debit-normal = credit-normal', coalesce(bool_and(d = c), true),
       coalesce(string_agg(currency || ': debit-normal ' || d || ', credit-normal ' || c, '; '), '')
  FROM (SELECT currency,
               coalesce(sum(balance) FILTER (WHERE normal_balance = 'debit'), monetary(0, currency)) AS d,
               coalesce(sum(balance) FILTER (WHERE normal_balance = 'credit'), monetary(0, currency)) AS c
          FROM payments.account_balances GROUP BY currency) s;
-- The run's transfers are those with a key (the funding had none).
SELECT 'transfers = successful calls',
       (SELECT count(*) FROM payments.transfers WHERE ledger = :l AND idempotency_key IS NOT NULL)
       = (SELECT count(*) FROM ledger_stress.calls WHERE transfer_id IS NOT NULL),
       (SELECT count(*) FROM payments.transfers WHERE ledger = :l AND idempotency_key IS NOT NULL)
       || ' transfers, ' || (SELECT count(*) FROM ledger_stress.calls WHERE transfer_id IS NOT NULL)
       || ' successful calls';
SELECT 'same transfers as calls', count(*) = 0,
       count(*) || ' differ' || coalesce(', e.g. ' || min(coalesce(c.key, t.idempotency_key)), '')
  FROM (SELECT * FROM ledger_stress.calls WHERE transfer_id IS NOT NULL) c
  FULL JOIN (SELECT * FROM payments.transfers WHERE ledger = :l AND idempotency_key IS NOT NULL) t
    ON t.id = c.transfer_id AND t.idempotency_key = c.key AND t.from_account = c.from_id
   AND t.to_account = c.to_id AND t.amount = c.amount
 WHERE c.key IS NULL OR t.id IS NULL;
SELECT 'refusals left no trace', count(*) = 0, count(*) || ' refused keys have a transfer'
  FROM ledger_stress.calls c JOIN payments.transfers t
    ON t.ledger = :l AND t.idempotency_key = c.key
 WHERE c.transfer_id IS NULL;
SELECT 'refusals happened', count(*) > 0, count(*) || ' refusals'
  FROM ledger_stress.calls WHERE transfer_id IS NULL;
SELECT 'entries are all or none', count(*) = 0,
       count(*) || ' entries partly posted' || coalesce(', e.g. ' || min(entry_key), '')
  FROM (SELECT entry_key FROM ledger_stress.calls WHERE entry_key IS NOT NULL
         GROUP BY entry_key HAVING count(transfer_id) NOT IN (0, 3)) e;
SELECT 'an entry is one entry_id, its own', count(*) = 0,
       count(*) || ' entries whose transfers do not share an entry_id of their own'
  FROM (SELECT c.entry_key FROM ledger_stress.calls c
          JOIN payments.transfers t ON t.ledger = :l AND t.id = c.transfer_id
         WHERE c.entry_key IS NOT NULL
         GROUP BY c.entry_key
        HAVING count(DISTINCT t.entry_id) <> 1
            OR (SELECT count(*) FROM payments.transfers u
                 WHERE u.ledger = :l AND u.entry_id = min(t.entry_id)) <> 3) e;
SELECT 'entries posted', count(DISTINCT entry_key) > 0,
       count(DISTINCT entry_key) || ' entries posted'
  FROM ledger_stress.calls WHERE entry_key IS NOT NULL AND transfer_id IS NOT NULL;
SELECT 'counts', true, count(transfer_id) || ' ' || count(*) FILTER (WHERE transfer_id IS NULL)
  FROM ledger_stress.calls;
SQL

while IFS='|' read -r name ok detail; do
    if [[ $name == counts ]]; then
        read -r successes refusals <<<"$detail"
    elif [[ $ok == t ]]; then
        echo "ok: $name ($detail)"
    else
        fail "$name: $detail"
    fi
done <"$WORK/checks.out"
[[ -n ${successes:-} ]] || fail "the checks did not run: $(cat "$WORK/checks.out")"

echo "stress: ${tps:-?} transactions/s, ${successes:-?} successes, ${refusals:-?} refusals (insufficient funds)"
if ((${#failures[@]})); then
    printf 'FAILED: %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "all assertions hold"
