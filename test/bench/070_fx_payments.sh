#!/usr/bin/env bash
# FX payments: one payment between currencies, payments.post_fx_transfer()
# from a random EUR customer to a random USD merchant ("fx",
# 070_fx_payment.sql: one entry of two transfers through the ledger's FX
# accounts, customer -> fx:EUR in EUR and fx:USD -> merchant in USD, the USD
# amount converted at the stored rate, and its row in payments.fx_entries),
# against the baseline of the same two transfers posted as plain ones in one
# call of payments.post_transfers() ("two transfers",
# 070_fx_two_transfers.sql: the same kind of accounts, the FX accounts' ids
# used as plain accounts, the USD amount converted by pgbench).  Each pgbench
# transaction is one call, one entry, one commit, on both sides; the
# difference is what FX adds: finding the FX accounts, the stored rate and
# converting, and writing payments.fx_entries.
#
# Both start from the same state, in a database of their own
# (070_fx_setup.sql): the rate EUR -> USD 1.0842, the FX accounts fx:EUR and
# fx:USD (hot, as payments.create_fx_account() makes them), BENCH_CUSTOMERS
# (5000) funded EUR customers and BENCH_MERCHANTS (200) USD merchants, all
# allow_negative false, and a history of BENCH_HISTORY (150,000) FX payments
# among them (5% of them refunded, in full or in half), checked with
# verify_ledger(), vacuumed and analyzed.  Each configuration (BENCH_CLIENTS,
# 1 and 8 clients; BENCH_SYNC, synchronous_commit on and off) runs each
# script for BENCH_SECONDS (8) seconds, BENCH_REPS (3) times, back to back,
# the two alternating which goes first.  The table shows the median tps of
# each, their ratio fx / two transfers, and the median of the ratios of the
# runs made back to back ("paired": steadier on a busy machine).  Then the
# ledger's size, deadlocks, whether every FX transaction pgbench counted
# left its fx_entries row, and verify_ledger() over the whole ledger, timed.
#
# Run by make bench (BENCH=070 alone), with PGHOST, PGPORT and PGUSER set.
# Leaves the database (BENCH_DB, payments_bench_fx) for inspection; the next
# run recreates it.
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
DB=${BENCH_DB:-payments_bench_fx}
SECONDS_PER_RUN=${BENCH_SECONDS:-8}
REPS=${BENCH_REPS:-3}
CUSTOMERS=${BENCH_CUSTOMERS:-5000}
MERCHANTS=${BENCH_MERCHANTS:-200}
HISTORY=${BENCH_HISTORY:-150000}
CLIENTS=(${BENCH_CLIENTS:-1 8})
SYNC=(${BENCH_SYNC:-on off})
CPUS=$(nproc)
RATE=1.0842     # EUR -> USD, as 070_fx_setup.sql stores it

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
source "$DIR/lib/stats.sh"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
started=$SECONDS

echo "database $DB: $CUSTOMERS customers (EUR), $MERCHANTS merchants (USD), $HISTORY prior FX payments;" \
     "${SECONDS_PER_RUN}s per run, $REPS runs per configuration"
psql_q -d postgres -c "SET client_min_messages = warning" \
                   -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
                   -c "CREATE DATABASE $DB"
psql_q -d "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION payments CASCADE"
load_started=$SECONDS
psql_q -d "$DB" -v customers="$CUSTOMERS" -v merchants="$MERCHANTS" -v history="$HISTORY" \
       -f "$DIR/070_fx_setup.sql" >/dev/null
load_seconds=$((SECONDS - load_started))
problems=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM payments.verify_ledger()")
[[ $problems == 0 ]] || { echo "the loaded history fails verify_ledger(): $problems rows" >&2; exit 1; }
psql_q -d "$DB" -c "VACUUM ANALYZE" -c "CHECKPOINT"

# the accounts' ids, as 070_fx_setup.sql made them
read -r fx_eur fx_usd first_merchant last_merchant first_customer last_customer \
        fx_before deadlocks_before < <(psql_q -d "$DB" -AtF ' ' -c "
    SELECT (SELECT account_id FROM payments.fx_accounts WHERE ledger = 'bench' AND currency = 'EUR'),
           (SELECT account_id FROM payments.fx_accounts WHERE ledger = 'bench' AND currency = 'USD'),
           min(id) FILTER (WHERE name LIKE 'merchant-%'), max(id) FILTER (WHERE name LIKE 'merchant-%'),
           min(id) FILTER (WHERE name LIKE 'customer-%'), max(id) FILTER (WHERE name LIKE 'customer-%'),
           (SELECT count(*) FROM payments.fx_entries),
           (SELECT deadlocks FROM pg_stat_database WHERE datname = current_database())
      FROM payments.accounts WHERE ledger = 'bench'")
((last_merchant - first_merchant + 1 == MERCHANTS && last_customer - first_customer + 1 == CUSTOMERS)) ||
    { echo "the merchants' or the customers' ids are not one range each" >&2; exit 1; }
RANGES=(-D first_merchant="$first_merchant" -D last_merchant="$last_merchant"
        -D first_customer="$first_customer" -D last_customer="$last_customer"
        -D fx_eur="$fx_eur" -D fx_usd="$fx_usd" -D rate="$RATE")
echo "loaded in ${load_seconds}s; FX accounts fx:EUR $fx_eur, fx:USD $fx_usd;" \
     "merchants $first_merchant..$last_merchant, customers $first_customer..$last_customer"

# run SCRIPT CLIENTS SYNC SECONDS: prints the tps and the number of
# transactions; fails on any error.
fx_done=0
run() {
    local script=$1 clients=$2 sync=$3 seconds=$4 out jobs
    jobs=$((clients < CPUS ? clients : CPUS))
    if ! out=$(PGOPTIONS="-c synchronous_commit=$sync" \
               pgbench -n -M prepared -c "$clients" -j "$jobs" -T "$seconds" "${RANGES[@]}" \
                       -f "$DIR/070_fx_$script.sql" "$DB" 2>&1) ||
       grep -qiE 'aborted|error' <<<"$out"; then
        printf 'pgbench %s failed:\n%s\n' "$script" "$out" >&2
        exit 1
    fi
    printf '%s %s\n' "$(sed -nE 's/^tps = ([0-9]+)\.[0-9]*.*/\1/p' <<<"$out")" \
           "$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' <<<"$out")"
}

# Warm-up, not counted: the pages and plans both scripts use.
for script in payment two_transfers; do
    out=$(run "$script" 4 off 2)
    read -r _ n <<<"$out"
    [[ $script == payment ]] && fx_done=$((fx_done + n))
done

declare -A tps
for ((rep = 1; rep <= REPS; rep++)); do
    for sync in "${SYNC[@]}"; do
        for clients in "${CLIENTS[@]}"; do
            if ((rep % 2)); then order=(payment two_transfers); else order=(two_transfers payment); fi
            for script in "${order[@]}"; do
                out=$(run "$script" "$clients" "$sync" "$SECONDS_PER_RUN")
                read -r t n <<<"$out"
                [[ $script == payment ]] && fx_done=$((fx_done + n))
                tps[$script,$sync,$clients]+=" $t"
                printf 'run %d  synchronous_commit=%-3s  clients=%d  %-13s %6s tps\n' \
                       "$rep" "$sync" "$clients" "$script" "$t"
            done
        done
    done
done

read -r postings transfers fx_after deadlocks < <(psql_q -d "$DB" -AtF ' ' -c "
    SELECT (SELECT count(*) FROM payments.postings), (SELECT count(*) FROM payments.transfers),
           (SELECT count(*) FROM payments.fx_entries),
           (SELECT deadlocks FROM pg_stat_database WHERE datname = current_database())")
verify_started=$SECONDS
problems=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM payments.verify_ledger()")
verify_seconds=$((SECONDS - verify_started))

echo
echo "fx (post_fx_transfer()) against two transfers (post_transfers() of the same two legs),"
echo "median tps of $REPS runs of ${SECONDS_PER_RUN}s ($CPUS CPUs); a transaction is one call, one entry;"
echo "paired: the median of each run's fx / two transfers (the two ran back to back)"
printf '%-18s %7s %7s %13s %7s %7s\n' synchronous_commit clients fx two_transfers ratio paired
for sync in "${SYNC[@]}"; do
    for clients in "${CLIENTS[@]}"; do
        read -ra fs <<<"${tps[payment,$sync,$clients]}"
        read -ra ps <<<"${tps[two_transfers,$sync,$clients]}"
        f=$(median "${fs[@]}")
        p=$(median "${ps[@]}")
        ratios=()
        for ((i = 0; i < ${#fs[@]}; i++)); do ratios+=("$(ratio "${fs[i]}" "${ps[i]}")"); done
        printf '%-18s %7d %7d %13d %7s %7s\n' "$sync" "$clients" "$f" "$p" "$(ratio "$f" "$p")" \
               "$(median "${ratios[@]}")"
    done
done
echo "after: $postings postings, $transfers transfers, $fx_after FX entries" \
     "(before the runs: $fx_before; the FX runs counted $fx_done); deadlocks: $((deadlocks - deadlocks_before))"
echo "verify_ledger() over all of it: $problems rows (${verify_seconds}s)"
((problems == 0)) || { echo "verify_ledger() after the benchmark: $problems rows" >&2; exit 1; }
((fx_after - fx_before == fx_done)) ||
    { echo "FX entries written by the benchmark: $((fx_after - fx_before)), transactions counted: $fx_done" >&2; exit 1; }
echo "($((SECONDS - started))s in all)"
