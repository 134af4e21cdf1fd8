#!/usr/bin/env bash
# Stress test of the payment flows: 8 pgbench clients for 20 seconds make
# holds and resolve them while others expire and refund them, in a ledger of
# 20 customers and 4 merchants, none of whom may go negative (merchant 1 is a
# hot account: credits to it may go to its stripes, holds and refunds take
# its row).
# Of every 18 calls:
#  - 5 authorize: a hold of 1 to 200 USD from a customer for a merchant,
#    expiring in 10 to 40 ms (one in five: captures and voids then race with
#    its expiry), in 0.2 to 2.5 s, or (one in twenty) never;
#  - 1 drains: a hold of the customer's whole available balance, or a cent
#    more (refused: the available balance counts what is held);
#  - 4 capture one of the 40 latest holds, in full or in part, and 2 void one,
#    so that captures, voids and the sweep race for the same holds;
#  - 1 sweeps: payments.expire_holds(20), concurrently with the others;
#  - 3 refund one of the 10 latest captures or purchases, in part or all that
#    is left, so that refunds of one transfer race and some would exceed it;
#  - 1 purchase (a plain transfer from a customer to a merchant), 1 top-up of
#    a customer from outside.
# A PL/pgSQL wrapper per call catches only the refusals a client expects
# from that call (55L03 hold already resolved, 55L04 hold expired, 23L02
# reversal would exceed, 23L01 insufficient funds, 40001 retry) and records
# every call with its outcome, in the same transaction; any other error
# aborts the client, and the run fails.  Then it asserts, with holds open:
#  - verify_ledger() returns no row;
#  - no account that may not go negative has a negative balance or
#    available balance;
#  - each account's pending volumes are the sum of its open holds (from it:
#    debits, to it: credits), and a customer's available balance is its
#    balance less what it has on hold;
#  - open_holds has exactly the holds that still hold money (payments.holds,
#    held > 0): as many, and the same;
#  - each hold is resolved at most once, and no transfer is reversed beyond
#    its amount;
#  - the calls agree with the ledger: each success made the transfer it
#    returned, of its kind (a capture of its hold, not beyond it, and so on);
#    every hold, capture, void and reversal of the ledger is one a call
#    returned; the holds expired during the run are as many as the sweeps
#    reported;
#  - each refusal was right: a hold refused as resolved is captured or
#    voided, one refused as expired has expired, a refund refused as
#    exceeding would have exceeded its transfer (one of all that is left:
#    the transfer is reversed in full);
#  - every kind of outcome happened: holds, full and partial captures, voids,
#    expiries by the concurrent sweeps, refunds of captures and of purchases,
#    and the refusals 55L03, 55L04, 23L02 and 23L01;
#  - no deadlock and no unexpected error: pgbench reports no failed or aborted
#    transaction, and the server log has no "deadlock detected" in this
#    database and no error from the clients' backends during the run.
# Then, once every expiry has passed, expire_holds() releases every hold that
# expired, the holds that never expire are voided, and the ledger's accounts
# hold nothing pending: available balance = balance, and what they hold is
# what the source paid them.
# Prints the count of each outcome; exits non-zero, saying what failed, if
# any assertion fails.
#
# Run by make test with PGHOST, PGPORT, PGUSER and PGDATABASE set to the dev
# cluster's database payments.  It books in a ledger of its own, so it may run
# again on the same database; it counts the expiries made since it started,
# so nobody else should run expire_holds() in that database meanwhile.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
LOG_FILE=${STRESS_SERVER_LOG:-$ROOT/.run/postgres.log}
CLIENTS=${STRESS_CLIENTS:-8}
SECONDS_TO_RUN=${STRESS_SECONDS:-20}
CUSTOMERS=20
MERCHANTS=4
LEDGER="flows-$(date +%s)-$$"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

psql_q() { psql -X -q -v ON_ERROR_STOP=1 -v ledger="$LEDGER" "$@"; }

echo "ledger $LEDGER: $CUSTOMERS customers, $MERCHANTS merchants, $CLIENTS clients, ${SECONDS_TO_RUN}s"

psql_q -v customers="$CUSTOMERS" -v merchants="$MERCHANTS" <<'SQL'
SET client_min_messages = warning;
SET search_path = public, payments;
DROP SCHEMA IF EXISTS flows_stress CASCADE;
CREATE SCHEMA flows_stress;
CREATE TABLE flows_stress.settings (ledger text NOT NULL, source bigint NOT NULL,
                                    first_transfer bigint NOT NULL);
CREATE TABLE flows_stress.customers (n int PRIMARY KEY, id bigint NOT NULL);
CREATE TABLE flows_stress.merchants (n int PRIMARY KEY, id bigint NOT NULL);
-- Every call and its outcome, written in the call's transaction.
CREATE TABLE flows_stress.calls (
    n        bigserial PRIMARY KEY,
    op       text NOT NULL,     -- hold, drain, capture, void, refund, purchase, topup, sweep
    target   bigint,            -- the hold captured or voided, the transfer refunded
    amount   monetary,          -- asked for; null: the whole hold, or all that is left
    result   bigint,            -- the transfer made (sweep: how many holds expired)
    sqlstate text               -- the refusal; null: a success
);
-- What the clients pick from: the holds made, the transfers that may be refunded.
CREATE TABLE flows_stress.holds (n bigserial PRIMARY KEY, id bigint NOT NULL);
CREATE TABLE flows_stress.posted (n bigserial PRIMARY KEY, id bigint NOT NULL,
                                  amount monetary NOT NULL);

SELECT payments.create_account('source', 'USD', 'debit', true, ledger => :'ledger') AS source
\gset
-- first_transfer: the run's transfers come after it (set once the setup is done)
INSERT INTO flows_stress.settings VALUES (:'ledger', :source, 0);
INSERT INTO flows_stress.customers
SELECT n, payments.create_account('customer-' || n, 'USD', 'credit', false, ledger => :'ledger')
  FROM generate_series(1, :customers) n;
INSERT INTO flows_stress.merchants
SELECT n, payments.create_account('merchant-' || n, 'USD', 'credit', false, ledger => :'ledger')
  FROM generate_series(1, :merchants) n;
SELECT payments.set_hot(id) AS hot FROM flows_stress.merchants WHERE n = 1
\gset
-- 1,000.00 USD for each customer, 100.00 USD for each merchant (for refunds)
SELECT count(payments.post_transfer(:source, id, '1000 USD')) AS funded FROM flows_stress.customers
\gset
SELECT count(payments.post_transfer(:source, id, '100 USD')) AS funded FROM flows_stress.merchants
\gset

CREATE FUNCTION flows_stress.customer(n int) RETURNS bigint LANGUAGE sql STABLE
    RETURN (SELECT id FROM flows_stress.customers c WHERE c.n = customer.n);
CREATE FUNCTION flows_stress.merchant(n int) RETURNS bigint LANGUAGE sql STABLE
    RETURN (SELECT id FROM flows_stress.merchants m WHERE m.n = merchant.n);
CREATE FUNCTION flows_stress.usd(cents bigint) RETURNS monetary LANGUAGE sql IMMUTABLE
    RETURN monetary(cents / 100.0, 'USD');
-- pct percent of amount, in cents, at least one
CREATE FUNCTION flows_stress.part(amount monetary, pct int) RETURNS monetary
LANGUAGE sql IMMUTABLE
    RETURN flows_stress.usd(greatest(round(amount(amount) * pct), 1)::bigint);

-- A hold of amount from customer c for merchant m, expiring in ttl_ms
-- milliseconds (never, if 0).  A hold is refused if the customer's available
-- balance is short (23L01); 22023 only if it would expire before it is made
-- (a client descheduled for longer than ttl_ms), which is no race of the
-- ledger's and is counted apart.
CREATE FUNCTION flows_stress.authorize(op text, c int, m int, amount monetary, ttl_ms int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    hold bigint;
    state text;
    message text;
BEGIN
    BEGIN
        hold := payments.hold(flows_stress.customer(c), flows_stress.merchant(m), amount,
                              CASE WHEN ttl_ms > 0
                                   THEN clock_timestamp() + ttl_ms * interval '1 ms' END);
        INSERT INTO flows_stress.holds (id) VALUES (hold);
    EXCEPTION WHEN SQLSTATE '23L01' OR SQLSTATE '40001' THEN
        state := SQLSTATE;
    WHEN SQLSTATE '22023' THEN
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT;
        IF message NOT LIKE '%would expire at%which is not after it is made%' THEN
            RAISE;
        END IF;
        state := SQLSTATE;
    END;
    INSERT INTO flows_stress.calls (op, amount, result, sqlstate)
    VALUES (op, amount, hold, state);
END $$;

CREATE FUNCTION flows_stress.hold(c int, m int, cents bigint, ttl_ms int) RETURNS void
LANGUAGE sql RETURN flows_stress.authorize('hold', c, m, flows_stress.usd(cents), ttl_ms);

-- A hold of all customer c has available, plus extra cents.
CREATE FUNCTION flows_stress.drain(c int, m int, extra int, ttl_ms int) RETURNS void
LANGUAGE sql RETURN (
    SELECT flows_stress.authorize('drain', c, m, b.available + flows_stress.usd(extra), ttl_ms)
      FROM payments.account_balances b
     WHERE b.account_id = flows_stress.customer(c)
       AND b.available + flows_stress.usd(extra) > '0 USD');

-- The back-th latest hold captured (pct percent of it, or all if pct is 0)
-- or voided (pct null).  A capture never needs funds: the hold has them.
CREATE FUNCTION flows_stress.resolve(back int, pct int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    target bigint;
    asked monetary;
    made bigint;
    state text;
BEGIN
    SELECT h.id, CASE WHEN pct > 0 THEN flows_stress.part(t.amount, pct) END
      INTO target, asked
      FROM (SELECT id FROM flows_stress.holds ORDER BY n DESC OFFSET back LIMIT 1) h
      JOIN payments.transfers t ON t.ledger = (SELECT ledger FROM flows_stress.settings)
                               AND t.id = h.id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    BEGIN
        IF pct IS NULL THEN
            made := payments.release(target);
        ELSE
            made := payments.capture(target, asked);
            INSERT INTO flows_stress.posted (id, amount)
            SELECT made, coalesce(asked, t.amount) FROM payments.transfers t
             WHERE t.ledger = (SELECT ledger FROM flows_stress.settings) AND t.id = target;
        END IF;
    EXCEPTION WHEN SQLSTATE '55L03' OR SQLSTATE '55L04' OR SQLSTATE '40001' THEN
        state := SQLSTATE;
    END;
    INSERT INTO flows_stress.calls (op, target, amount, result, sqlstate)
    VALUES (CASE WHEN pct IS NULL THEN 'void' ELSE 'capture' END, target, asked, made, state);
END $$;

-- A refund of the back-th latest capture or purchase: pct percent of it, or
-- all that is left if pct is 0.  The merchant may lack the money (23L01).
CREATE FUNCTION flows_stress.refund(back int, pct int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    target bigint;
    asked monetary;
    made bigint;
    state text;
BEGIN
    SELECT p.id, CASE WHEN pct > 0 THEN flows_stress.part(p.amount, pct) END
      INTO target, asked
      FROM flows_stress.posted p ORDER BY n DESC OFFSET back LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    BEGIN
        made := payments.reverse_transfer(target, asked);
    EXCEPTION WHEN SQLSTATE '23L02' OR SQLSTATE '23L01' OR SQLSTATE '40001' THEN
        state := SQLSTATE;
    END;
    INSERT INTO flows_stress.calls (op, target, amount, result, sqlstate)
    VALUES ('refund', target, asked, made, state);
END $$;

-- A plain transfer: a purchase from customer c (refundable), or a top-up of c.
CREATE FUNCTION flows_stress.transfer(op text, c int, m int, cents bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    amount monetary := flows_stress.usd(cents);
    made bigint;
    state text;
BEGIN
    BEGIN
        IF op = 'purchase' THEN
            made := payments.post_transfer(flows_stress.customer(c), flows_stress.merchant(m), amount);
            INSERT INTO flows_stress.posted (id, amount) VALUES (made, amount);
        ELSE
            made := payments.post_transfer((SELECT source FROM flows_stress.settings),
                                           flows_stress.customer(c), amount);
        END IF;
    EXCEPTION WHEN SQLSTATE '23L01' OR SQLSTATE '40001' THEN
        state := SQLSTATE;
    END;
    INSERT INTO flows_stress.calls (op, amount, result, sqlstate) VALUES (op, amount, made, state);
END $$;

CREATE FUNCTION flows_stress.sweep(max_holds int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    expired bigint;
    state text;
BEGIN
    BEGIN
        expired := payments.expire_holds(max_holds);
    EXCEPTION WHEN SQLSTATE '40001' THEN
        state := SQLSTATE;
    END;
    INSERT INTO flows_stress.calls (op, result, sqlstate) VALUES ('sweep', expired, state);
END $$;

-- Clear what other ledgers left expired, so the sweeps count only this run's.
SELECT sum(payments.expire_holds()) AS cleared FROM generate_series(1, 3)
\gset
UPDATE flows_stress.settings SET first_transfer = (SELECT max(id) + 1 FROM payments.transfers);
SQL

# pgbench scripts: expiry in ms, 0 for none: one in five short, one in twenty never
ttl='\set kind random(1, 20)
\set ttl case when :kind <= 4 then random(10, 40) when :kind = 20 then 0 else random(200, 2500) end'
cat >"$WORK/hold.sql" <<EOF
\set c random(1, $CUSTOMERS)
\set m random(1, $MERCHANTS)
\set cents random(100, 20000)
$ttl
SELECT flows_stress.hold(:c, :m, :cents, :ttl);
EOF
cat >"$WORK/drain.sql" <<EOF
\set c random(1, $CUSTOMERS)
\set m random(1, $MERCHANTS)
\set extra random(0, 1)
$ttl
SELECT flows_stress.drain(:c, :m, :extra, :ttl);
EOF
cat >"$WORK/capture.sql" <<EOF
\set back random(0, 39)
\set pct random(-60, 100)
SELECT flows_stress.resolve(:back, greatest(:pct, 0));
EOF
cat >"$WORK/void.sql" <<EOF
\set back random(0, 39)
SELECT flows_stress.resolve(:back, NULL);
EOF
cat >"$WORK/refund.sql" <<EOF
\set back random(0, 9)
\set pct random(-20, 70)
SELECT flows_stress.refund(:back, greatest(:pct, 0));
EOF
cat >"$WORK/purchase.sql" <<EOF
\set c random(1, $CUSTOMERS)
\set m random(1, $MERCHANTS)
\set cents random(100, 20000)
SELECT flows_stress.transfer('purchase', :c, :m, :cents);
EOF
cat >"$WORK/topup.sql" <<EOF
\set c random(1, $CUSTOMERS)
\set cents random(10000, 100000)
SELECT flows_stress.transfer('topup', :c, 0, :cents);
EOF
echo 'SELECT flows_stress.sweep(20);' >"$WORK/sweep.sql"

APP=flows-stress-$$
log_start=$(stat -c %s "$LOG_FILE" 2>/dev/null || echo 0)
started=$SECONDS
rc=0
PGAPPNAME=$APP pgbench -n -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_TO_RUN" -M prepared \
        --failures-detailed -f "$WORK/hold.sql@5" -f "$WORK/drain.sql@1" \
        -f "$WORK/capture.sql@4" -f "$WORK/void.sql@2" -f "$WORK/sweep.sql@1" \
        -f "$WORK/refund.sql@3" -f "$WORK/purchase.sql@1" -f "$WORK/topup.sql@1" \
        >"$WORK/pgbench.out" 2>&1 &
pgbench_pid=$!
# The clients' backends, to find their lines in the server log.
sleep 2
backends=$(psql -X -At -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity
                            WHERE application_name = '$APP'" || true)
wait "$pgbench_pid" || rc=$?
grep -E '^(number of|tps|latency average)' "$WORK/pgbench.out" || cat "$WORK/pgbench.out"

failures=()
fail() { failures+=("$*"); }

((rc == 0)) || fail "pgbench exited with status $rc: $(tail -5 "$WORK/pgbench.out" | tr '\n' ' ')"
if grep -qiE 'aborted|error' "$WORK/pgbench.out"; then
    fail "pgbench reports errors or aborted clients: $(grep -iE 'aborted|error' "$WORK/pgbench.out" | head -5 | tr '\n' ' ')"
fi
failed_tx=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$WORK/pgbench.out")
[[ ${failed_tx:-x} == 0 ]] ||
    fail "pgbench failed transactions: ${failed_tx:-not reported} ($(grep -E '^ *(serialization|deadlock) failures' "$WORK/pgbench.out" | tr -s ' \n' ' '))"

if [[ -r $LOG_FILE ]]; then
    tail -c "+$((log_start + 1))" "$LOG_FILE" >"$WORK/server.log"
    deadlocks=$(grep -c "@$PGDATABASE .*deadlock detected" "$WORK/server.log" || true)
    ((deadlocks == 0)) || fail "$deadlocks 'deadlock detected' in the server log: $(grep -A3 "@$PGDATABASE .*deadlock detected" "$WORK/server.log" | head -8 | tr '\n' ' ')"
    [[ -n $backends ]] || fail "the clients' backends were not found in pg_stat_activity"
    for pid in $backends; do
        grep -E "\[$pid\] .*(ERROR|FATAL|PANIC):" "$WORK/server.log" || true
    done >"$WORK/errors.log"
    [[ ! -s $WORK/errors.log ]] ||
        fail "errors in the server log: $(head -3 "$WORK/errors.log" | tr '\n' ' ')"
else
    echo "warning: cannot read the server log $LOG_FILE: deadlocks checked through pgbench only"
fi

# Each check prints: name | ok | detail.
checks() {
    psql_q -At -F '|' "$@" >"$WORK/checks.out" || fail "the checks' queries failed"
    while IFS='|' read -r name ok detail; do
        if [[ $name == outcomes ]]; then
            echo "outcomes: $detail"
        elif [[ $ok == t ]]; then
            echo "ok: $name ($detail)"
        else
            fail "$name: $detail"
        fi
    done <"$WORK/checks.out"
}

# While holds are open: the ledger, the holds, and the calls against both.
checks <<'SQL'
SET search_path = public, payments;
\set l '(SELECT ledger FROM flows_stress.settings)'
CREATE TEMP VIEW calls AS
    SELECT c.*, t.id AS made, t.status, t.pending_id, t.reverses, t.amount AS made_amount,
           t.from_account, t.to_account
      FROM flows_stress.calls c
      LEFT JOIN payments.transfers t ON t.ledger = :l AND t.id = c.result AND c.op <> 'sweep';
SELECT 'verify_ledger() is empty', count(*) = 0,
       count(*) || ' rows' || coalesce(': ' || string_agg(problem || ' ' || detail, '; '), '')
  FROM (SELECT * FROM payments.verify_ledger() LIMIT 5) v;
SELECT 'no negative balance or available balance', count(*) = 0,
       count(*) || ' negative' || coalesce(': ' || string_agg(b.name || ' ' || b.balance || ' (available ' || b.available || ')', ', '), '')
  FROM payments.account_balances b JOIN payments.accounts a ON a.id = b.account_id
 WHERE b.ledger = :l AND NOT a.allow_negative
   AND (b.balance < monetary(0, b.currency) OR b.available < monetary(0, b.currency));
SELECT 'pending volumes = open holds, per account', count(*) = 0,
       count(*) || ' accounts differ' || coalesce(': ' || string_agg(format('%s pending %s/%s, open holds %s/%s',
           a.name, a.debits_pending, a.credits_pending, o.debits, o.credits), '; '), '')
  FROM payments.accounts a
  LEFT JOIN LATERAL (
        SELECT coalesce(sum(h.held) FILTER (WHERE h.from_account = a.id), '0 USD') AS debits,
               coalesce(sum(h.held) FILTER (WHERE h.to_account = a.id), '0 USD') AS credits
          FROM payments.holds h JOIN payments.open_holds o ON o.ledger = h.ledger AND o.id = h.hold_id
         WHERE h.ledger = a.ledger AND a.id IN (h.from_account, h.to_account)) o ON true
 WHERE a.ledger = :l AND (a.debits_pending <> o.debits OR a.credits_pending <> o.credits);
SELECT 'available = balance - open holds, per customer', count(*) = 0,
       count(*) || ' differ' || coalesce(': ' || string_agg(b.name || ' ' || b.balance || ' available ' || b.available, ', '), '')
  FROM payments.account_balances b
 WHERE b.account_id IN (SELECT id FROM flows_stress.customers)
   AND b.available <> b.balance - coalesce((SELECT sum(h.amount) FROM payments.holds h
                                   JOIN payments.open_holds o ON o.ledger = h.ledger AND o.id = h.hold_id
                                  WHERE h.ledger = :l AND h.from_account = b.account_id), '0 USD');
SELECT 'open_holds = the holds with held > 0',
       (SELECT count(*) FROM payments.open_holds WHERE ledger = :l)
       = (SELECT count(*) FROM payments.holds WHERE ledger = :l AND amount(held) > 0)
       AND NOT EXISTS (SELECT id FROM payments.open_holds WHERE ledger = :l
                       EXCEPT SELECT hold_id FROM payments.holds WHERE ledger = :l AND amount(held) > 0),
       (SELECT count(*) FROM payments.open_holds WHERE ledger = :l) || ' open holds, '
       || (SELECT count(*) FROM payments.holds WHERE ledger = :l AND amount(held) > 0) || ' holds with held > 0';
SELECT 'each hold resolved at most once', count(*) = 0,
       count(*) || ' holds resolved more than once' || coalesce(', e.g. ' || min(pending_id), '')
  FROM (SELECT pending_id FROM payments.transfers WHERE pending_id IS NOT NULL
         GROUP BY ledger, pending_id HAVING count(*) > 1) d;
SELECT 'no transfer reversed beyond its amount', count(*) = 0,
       count(*) || ' over-reversed' || coalesce(', e.g. ' || min(id), '')
  FROM (SELECT t.id FROM payments.transfers t
          JOIN payments.transfers r ON r.ledger = t.ledger AND r.reverses = t.id
         GROUP BY t.id, t.amount HAVING sum(r.amount) > t.amount) o;
SELECT 'each success made its transfer', count(*) = 0,
       count(*) || ' calls disagree' || coalesce(', e.g. ' || min(op || ' call ' || n), '')
  FROM calls c
 WHERE c.sqlstate IS NULL AND c.op <> 'sweep'
   AND (c.made IS NULL OR NOT CASE c.op
        WHEN 'hold' THEN c.status = 'pending' AND c.made_amount = c.amount
        WHEN 'drain' THEN c.status = 'pending' AND c.made_amount = c.amount
        WHEN 'capture' THEN c.status = 'posted' AND c.pending_id = c.target
                            AND c.made_amount = coalesce(c.amount, c.made_amount)
                            AND c.made_amount <= (SELECT amount FROM payments.transfers
                                                   WHERE ledger = :l AND id = c.target)
        WHEN 'void' THEN c.status = 'voided' AND c.pending_id = c.target
        WHEN 'refund' THEN c.status = 'posted' AND c.reverses = c.target
                           AND c.made_amount = coalesce(c.amount, c.made_amount)
        ELSE c.status = 'posted' AND c.pending_id IS NULL AND c.reverses IS NULL
                   AND c.made_amount = c.amount END);
SELECT 'every flow transfer was returned by a call', count(*) = 0,
       count(*) || ' transfers no call made' || coalesce(', e.g. ' || min(t.id), '')
  FROM payments.transfers t
 WHERE t.ledger = :l AND t.id >= (SELECT first_transfer FROM flows_stress.settings)
   AND t.status <> 'expired'
   AND NOT EXISTS (SELECT FROM flows_stress.calls c
                    WHERE c.op <> 'sweep' AND c.sqlstate IS NULL AND c.result = t.id);
SELECT 'expiries = what the sweeps reported',
       (SELECT count(*) FROM payments.transfers
         WHERE status = 'expired' AND id >= (SELECT first_transfer FROM flows_stress.settings))
       = (SELECT coalesce(sum(result), 0) FROM flows_stress.calls WHERE op = 'sweep'),
       (SELECT count(*) FROM payments.transfers
         WHERE status = 'expired' AND id >= (SELECT first_transfer FROM flows_stress.settings))
       || ' expiries, the sweeps reported '
       || (SELECT coalesce(sum(result), 0) FROM flows_stress.calls WHERE op = 'sweep');
SELECT 'holds refused as resolved are captured or voided', count(*) = 0,
       count(*) || ' are not' || coalesce(', e.g. ' || min(c.target), '')
  FROM flows_stress.calls c
 WHERE c.sqlstate = '55L03'
   AND NOT EXISTS (SELECT FROM payments.transfers r WHERE r.ledger = :l AND r.pending_id = c.target
                                                     AND r.status IN ('posted', 'voided'));
SELECT 'holds refused as expired have expired', count(*) = 0,
       count(*) || ' have not' || coalesce(', e.g. ' || min(c.target), '')
  FROM flows_stress.calls c JOIN payments.transfers h ON h.ledger = :l AND h.id = c.target
 WHERE c.sqlstate = '55L04' AND NOT coalesce(h.expires_at <= now(), false);
SELECT 'refunds refused as exceeding would have exceeded', count(*) = 0,
       count(*) || ' would not' || coalesce(', e.g. transfer ' || min(c.target), '')
  FROM flows_stress.calls c JOIN payments.transfers t ON t.ledger = :l AND t.id = c.target
 WHERE c.op = 'refund' AND c.sqlstate = '23L02'
   -- all that is left (amount null) is counted with the transfer locked:
   -- refused only if nothing was left, and nothing is left now
   AND coalesce(c.amount, '0.01 USD')
       + coalesce((SELECT sum(r.amount) FROM payments.transfers r
                    WHERE r.ledger = :l AND r.reverses = t.id), '0 USD') <= t.amount;
-- what happened, each of which must have
SELECT 'happened: ' || what, n > 0, n
  FROM (SELECT count(*) FILTER (WHERE op IN ('hold', 'drain') AND sqlstate IS NULL) AS holds,
               count(*) FILTER (WHERE op = 'drain' AND sqlstate IS NULL) AS drains,
               count(*) FILTER (WHERE op = 'capture' AND sqlstate IS NULL AND amount IS NULL) AS full_captures,
               count(*) FILTER (WHERE op = 'capture' AND sqlstate IS NULL AND amount IS NOT NULL) AS partial_captures,
               count(*) FILTER (WHERE op = 'void' AND sqlstate IS NULL) AS voids,
               coalesce(sum(result) FILTER (WHERE op = 'sweep'), 0) AS expiries_by_concurrent_sweeps,
               count(*) FILTER (WHERE op = 'refund' AND sqlstate IS NULL
                                  AND target IN (SELECT result FROM flows_stress.calls
                                                  WHERE op = 'capture')) AS refunds_of_captures,
               count(*) FILTER (WHERE op = 'refund' AND sqlstate IS NULL
                                  AND target IN (SELECT result FROM flows_stress.calls
                                                  WHERE op = 'purchase')) AS refunds_of_purchases,
               count(*) FILTER (WHERE sqlstate = '55L03') AS "refusals 55L03 (already resolved)",
               count(*) FILTER (WHERE sqlstate = '55L04') AS "refusals 55L04 (expired)",
               count(*) FILTER (WHERE sqlstate = '23L02') AS "refusals 23L02 (reversal would exceed)",
               count(*) FILTER (WHERE sqlstate = '23L01' AND op IN ('hold', 'drain'))
                   AS "holds refused 23L01 (insufficient available)"
          FROM flows_stress.calls) c
 CROSS JOIN LATERAL jsonb_each_text(to_jsonb(c)) AS k(what, value)
 CROSS JOIN LATERAL (SELECT value::bigint AS n) v;
SELECT 'transfers refunded more than once', count(*) > 0, count(*) || ' transfers'
  FROM (SELECT reverses FROM payments.transfers WHERE ledger = :l AND reverses IS NOT NULL
         GROUP BY reverses HAVING count(*) > 1) r;
SELECT 'outcomes', true, string_agg(format('%s %s', op, outcomes), '; ' ORDER BY op)
  FROM (SELECT op, string_agg(format('%s %s', coalesce(sqlstate, 'ok'), n), ', '
                              ORDER BY sqlstate NULLS FIRST) AS outcomes
          FROM (SELECT op, sqlstate, count(*) AS n FROM flows_stress.calls
                 WHERE op <> 'sweep' GROUP BY op, sqlstate
                UNION ALL
                SELECT 'sweep', sqlstate, count(*) FROM flows_stress.calls
                 WHERE op = 'sweep' GROUP BY sqlstate) s
         GROUP BY op) o;
SQL

# Once the last expiry has passed, the sweep releases every expired hold;
# the holds that never expire are voided; nothing is left pending.
psql_q -o /dev/null <<'SQL'
SELECT pg_sleep_until(max(expires_at) + interval '10 ms') FROM payments.open_holds
 WHERE ledger = :'ledger';
SQL
for _ in 1 2 3 4 5; do
    n=$(psql_q -At -c "SELECT payments.expire_holds()")
    ((n > 0)) || break
done
checks <<'SQL'
SET search_path = public, payments;
\set l '(SELECT ledger FROM flows_stress.settings)'
SELECT 'after a last sweep, no expired hold holds money', count(*) = 0,
       count(*) || ' do' || coalesce(', e.g. ' || min(hold_id), '')
  FROM payments.holds WHERE ledger = :l AND expires_at IS NOT NULL AND amount(held) > 0;
SELECT 'and every hold that expired unresolved reads expired', count(*) = 0,
       count(*) || ' do not'
  FROM payments.holds WHERE ledger = :l AND expires_at IS NOT NULL
   AND (resolved_by IS NULL OR (status = 'expired') <> (resolved_at >= expires_at));
SELECT 'holds that never expire voided', count(*) > 0, count(*) || ' voided'
  FROM (SELECT payments.release(hold_id) FROM payments.holds
         WHERE ledger = :l AND expires_at IS NULL AND resolved_by IS NULL) r;
SELECT 'nothing pending: available = balance', count(*) = 0,
       count(*) || ' accounts have money on hold'
  FROM payments.account_balances b JOIN payments.accounts a ON a.id = b.account_id
 WHERE b.ledger = :l AND (b.available <> b.balance OR amount(a.debits_pending) <> 0
                          OR amount(a.credits_pending) <> 0);
SELECT 'no open hold left', count(*) = 0, count(*) || ' open holds'
  FROM payments.open_holds WHERE ledger = :l;
SELECT 'money is conserved: what the source paid is what the others hold',
       b.source = b.others, 'source ' || b.source || ', customers and merchants ' || b.others
  FROM (SELECT sum(balance) FILTER (WHERE name = 'source') AS source,
               sum(balance) FILTER (WHERE name <> 'source') AS others
          FROM payments.account_balances WHERE ledger = :l) b;
SQL

echo "stress: $((SECONDS - started))s after setup"
if ((${#failures[@]})); then
    printf 'FAILED: %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "all assertions hold"
