#!/usr/bin/env bash
# Hot accounts (issue 9).  In a database of its own: BENCH_USERS (10,000)
# user accounts funded with 1,000.00 USD each, BENCH_HISTORY (200,000) prior
# transfers among them and to a fee account, vacuumed and analyzed; then the
# fee account is made hot (payments.set_hot(), 16 stripes).
#
#  1. post_transfer() between uniform random pairs of users ("uniform")
#     against post_transfer() from a random user to the fee account ("hot"),
#     at BENCH_CLIENTS (1 2 4 8 16) clients and synchronous_commit
#     BENCH_SYNC (on off): median tps of BENCH_REPS (5) runs of
#     BENCH_SECONDS (8) s each, the two alternating which goes first, their
#     ratio hot / uniform, and the median of the runs' paired ratios.
#     Target: hot at least 0.9x uniform at 8 clients, synchronous_commit on.
#  2. The same fee account not hot ("cold"), 8 clients, synchronous_commit
#     on: what the stripes buy.
#  3. A payout sweep (the fee account's whole available balance to the
#     bank, a debit that locks every stripe) once every 200 ms while 8
#     clients pay fees into it: its latency against theirs, and that the fee
#     account never went below zero (verify_ledger(), and balance() as of
#     each sweep's time).
#
# Run by make bench, with PGHOST, PGPORT and PGUSER set.  Leaves the
# database (BENCH_DB, payments_bench_hot) for inspection.
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
DB=${BENCH_DB:-payments_bench_hot}
SECONDS_PER_RUN=${BENCH_SECONDS:-8}
REPS=${BENCH_REPS:-5}
USERS=${BENCH_USERS:-10000}
HISTORY=${BENCH_HISTORY:-200000}
CLIENTS=(${BENCH_CLIENTS:-1 2 4 8 16})
SYNC=(${BENCH_SYNC:-on off})
CPUS=$(nproc)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
source "$DIR/lib/stats.sh"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
started=$SECONDS

echo "database $DB: $USERS users, $HISTORY prior transfers; ${SECONDS_PER_RUN}s per run, $REPS runs per configuration"
psql_q -d postgres -c "SET client_min_messages = warning" \
                   -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
                   -c "CREATE DATABASE $DB"
psql_q -d "$DB" -c "CREATE EXTENSION payments CASCADE"
psql_q -d "$DB" -v users="$USERS" -v history="$HISTORY" >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT payments.create_account('bank', 'USD', 'debit', true, ledger => 'bench');
SELECT payments.create_account('fees', 'USD', ledger => 'bench');
SELECT payments.create_account('user-' || i, 'USD', ledger => 'bench')
  FROM generate_series(1, :users) i;
-- every user funded in one statement, then the history in another: the
-- posting engine applies each as one set
INSERT INTO payments.transfers (ledger, from_account, to_account, amount)
SELECT 'bench', 1, id, '1000 USD' FROM payments.accounts WHERE name LIKE 'user-%';
INSERT INTO payments.transfers (ledger, from_account, to_account, amount)
SELECT 'bench', f, CASE WHEN g % 10 = 0 THEN 2 WHEN t >= f THEN t + 1 ELSE t END,
       '0.01 USD'::monetary * (1 + (random() * 99)::int)
  FROM (SELECT g, 3 + floor(random() * :users)::bigint AS f,
               3 + floor(random() * (:users - 1))::bigint AS t
          FROM generate_series(1, :history) g) s;
SQL
problems=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM payments.verify_ledger()")
[[ $problems == 0 ]] || { echo "the loaded history fails verify_ledger(): $problems rows" >&2; exit 1; }
psql_q -d "$DB" -c "VACUUM ANALYZE" -c "CHECKPOINT"

cat >"$WORK/uniform.sql" <<SQL
\set f random(3, $((USERS + 2)))
\set t random(3, $((USERS + 1)))
\set t case when :t >= :f then :t + 1 else :t end
\set cents random(1, 100)
SELECT payments.post_transfer(:f::bigint, :t::bigint, '0.01 USD'::monetary * :cents::bigint);
SQL
cat >"$WORK/hot.sql" <<SQL
\set f random(3, $((USERS + 2)))
\set cents random(1, 100)
SELECT payments.post_transfer(:f::bigint, 2::bigint, '0.01 USD'::monetary * :cents::bigint);
SQL
cat >"$WORK/payout.sql" <<'SQL'
SELECT payments.post_transfer(2::bigint, 1::bigint, a.available)
  FROM payments.account_balances a WHERE a.account_id = 2 AND a.available > '0 USD';
SQL

# run SCRIPT CLIENTS SYNC SECONDS [pgbench options]: the tps; fails on any error.
run() {
    local script=$1 clients=$2 sync=$3 seconds=$4 out jobs
    shift 4
    jobs=$((clients < CPUS ? clients : CPUS))
    if ! out=$(PGOPTIONS="-c synchronous_commit=$sync" \
               pgbench -n -M prepared -c "$clients" -j "$jobs" -T "$seconds" "$@" \
                       -f "$WORK/$script.sql" "$DB" 2>&1) ||
       grep -qiE 'aborted|error' <<<"$out"; then
        printf 'pgbench %s failed:\n%s\n' "$script" "$out" >&2
        exit 1
    fi
    printf '%s\n' "$out" >"$WORK/$script.out"
    sed -nE 's/^tps = ([0-9]+)\.[0-9]*.*/\1/p' <<<"$out"
}

# 2 first, while the fee account is still cold
cold=()
for ((rep = 1; rep <= REPS; rep++)); do
    cold+=("$(run hot 8 on "$SECONDS_PER_RUN")")
    printf 'run %d  fee account cold  clients=8  synchronous_commit=on  %6s tps\n' "$rep" "${cold[-1]}"
done
psql_q -d "$DB" -c "SELECT payments.set_hot(2)" >/dev/null

# 1
for script in uniform hot; do run "$script" 4 off 2 >/dev/null; done	# warm-up
declare -A tps
for ((rep = 1; rep <= REPS; rep++)); do
    for sync in "${SYNC[@]}"; do
        for clients in "${CLIENTS[@]}"; do
            if ((rep % 2)); then order=(uniform hot); else order=(hot uniform); fi
            for script in "${order[@]}"; do
                t=$(run "$script" "$clients" "$sync" "$SECONDS_PER_RUN")
                tps[$script,$sync,$clients]+=" $t"
                printf 'run %d  synchronous_commit=%-3s  clients=%-2d  %-8s %6s tps\n' \
                       "$rep" "$sync" "$clients" "$script" "$t"
            done
        done
    done
done

# 3
sweeps_before=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM payments.transfers WHERE from_account = 2")
run hot 8 on 20 >/dev/null &
credits_pid=$!
sleep 1
run payout 1 on 18 -R 5 >/dev/null
wait "$credits_pid"
payout_latency=$(sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' "$WORK/payout.out")
credit_latency=$(sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' "$WORK/hot.out")
sweeps=$(($(psql_q -d "$DB" -Atc "SELECT count(*) FROM payments.transfers WHERE from_account = 2") - sweeps_before))
negative=$(psql_q -d "$DB" -Atc "
    SELECT count(*) FROM payments.postings p
     WHERE p.account_id = 2 AND p.side = 'debit' AND payments.balance(2, p.created_at) < '0 USD'")
problems=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM payments.verify_ledger()")

echo
echo "post_transfer() to a hot fee account against uniform random pairs, median tps of $REPS runs of ${SECONDS_PER_RUN}s ($CPUS CPUs);"
echo "paired: the median of each run's hot / uniform (the two ran back to back)"
printf '%-18s %7s %9s %9s %7s %7s\n' synchronous_commit clients uniform hot ratio paired
missed=0
for sync in "${SYNC[@]}"; do
    for clients in "${CLIENTS[@]}"; do
        read -ra us <<<"${tps[uniform,$sync,$clients]}"
        read -ra hs <<<"${tps[hot,$sync,$clients]}"
        u=$(median "${us[@]}")
        h=$(median "${hs[@]}")
        ratios=()
        for ((i = 0; i < ${#us[@]}; i++)); do ratios+=("$(ratio "${hs[i]}" "${us[i]}")"); done
        printf '%-18s %7d %9d %9d %7s %7s\n' "$sync" "$clients" "$u" "$h" "$(ratio "$h" "$u")" \
               "$(median "${ratios[@]}")"
        if [[ $sync == on && $clients == 8 ]] && awk -v r="$(ratio "$h" "$u")" 'BEGIN { exit !(r < 0.9) }'; then
            missed=1
        fi
    done
done
((missed == 0)) && echo "target met: hot at least 0.90x uniform at 8 clients, synchronous_commit on" ||
    echo "target missed: hot below 0.90x uniform at 8 clients, synchronous_commit on"
c=$(median "${cold[@]}")
h=$(median ${tps[hot,on,8]:-0})
echo "the fee account cold, 8 clients, synchronous_commit on: $c tps; hot: $h tps ($(ratio "$h" "$c")x)"
echo "payout sweeps while 8 clients pay fees: $sweeps sweeps, latency $payout_latency ms (a fee payment: $credit_latency ms);"
echo "  fee account below zero after a sweep: $negative times; verify_ledger(): $problems rows"
((problems == 0 && negative == 0)) || { echo "the hot account went wrong" >&2; exit 1; }
echo "($((SECONDS - started))s in all)"
