#!/usr/bin/env bash
# Payment flows: a card payment as payments.hold() (authorization, expiring
# in an hour) then payments.capture() of it ("authorize+capture",
# 060_flows_authorize_capture.sql) against the baseline of two plain
# payments.post_transfer() calls between the same random customer and
# merchant ("two transfers", 060_flows_two_transfers.sql).  Each pgbench
# transaction is the two calls, each committing on its own (an authorization
# and its capture are two requests of an application): two commits, and the
# same two account rows locked twice, on both sides.
#
# Both start from the same state, in a database of their own
# (060_flows_setup.sql): BENCH_CUSTOMERS (5000) funded customers and
# BENCH_MERCHANTS (200) merchants, all allow_negative false, and a card
# history of BENCH_HISTORY (200,000) payments among them, half plain
# transfers and half holds (90% captured, 5% released, 5% left open),
# checked with verify_ledger(), vacuumed and analyzed.  Each configuration
# (BENCH_CLIENTS, 1 and 8 clients; BENCH_SYNC, synchronous_commit on and off)
# runs each script for BENCH_SECONDS (8) seconds, BENCH_REPS (3) times, back
# to back, the two alternating which goes first.  The table shows the median
# tps of each, their ratio authorize+capture / two transfers, and the median
# of the ratios of the runs made back to back ("paired": steadier on a busy
# machine).  Then the ledger's size, its open holds (the history's: every
# hold the benchmark makes is captured), deadlocks, and verify_ledger() over
# the whole ledger, timed.
#
# Run by make bench, with PGHOST, PGPORT and PGUSER set.  Leaves the database
# (BENCH_DB, payments_bench_flows) for inspection; the next run recreates it.
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
DB=${BENCH_DB:-payments_bench_flows}
SECONDS_PER_RUN=${BENCH_SECONDS:-8}
REPS=${BENCH_REPS:-3}
CUSTOMERS=${BENCH_CUSTOMERS:-5000}
MERCHANTS=${BENCH_MERCHANTS:-200}
HISTORY=${BENCH_HISTORY:-200000}
CLIENTS=(${BENCH_CLIENTS:-1 8})
SYNC=(${BENCH_SYNC:-on off})
CPUS=$(nproc)
# account ids, as 060_flows_setup.sql creates them: the bank, the merchants,
# the customers
RANGES=(-D first_merchant=2 -D last_merchant=$((MERCHANTS + 1))
        -D first_customer=$((MERCHANTS + 2)) -D last_customer=$((MERCHANTS + CUSTOMERS + 1)))

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
source "$DIR/lib/stats.sh"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
started=$SECONDS

echo "database $DB: $CUSTOMERS customers, $MERCHANTS merchants, $HISTORY prior card payments;" \
     "${SECONDS_PER_RUN}s per run, $REPS runs per configuration"
psql_q -d postgres -c "SET client_min_messages = warning" \
                   -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
                   -c "CREATE DATABASE $DB"
psql_q -d "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION payments CASCADE"
psql_q -d "$DB" -v customers="$CUSTOMERS" -v merchants="$MERCHANTS" -v history="$HISTORY" \
       -f "$DIR/060_flows_setup.sql" >/dev/null
problems=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM payments.verify_ledger()")
[[ $problems == 0 ]] || { echo "the loaded history fails verify_ledger(): $problems rows" >&2; exit 1; }
psql_q -d "$DB" -c "VACUUM ANALYZE" -c "CHECKPOINT"
open_before=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM payments.open_holds")
deadlocks_before=$(psql_q -d "$DB" -Atc "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")

# run SCRIPT CLIENTS SYNC SECONDS: prints the tps; fails on any error.
run() {
    local script=$1 clients=$2 sync=$3 seconds=$4 out jobs
    jobs=$((clients < CPUS ? clients : CPUS))
    if ! out=$(PGOPTIONS="-c synchronous_commit=$sync" \
               pgbench -n -M prepared -c "$clients" -j "$jobs" -T "$seconds" "${RANGES[@]}" \
                       -f "$DIR/060_flows_$script.sql" "$DB" 2>&1) ||
       grep -qiE 'aborted|error' <<<"$out"; then
        printf 'pgbench %s failed:\n%s\n' "$script" "$out" >&2
        exit 1
    fi
    sed -nE 's/^tps = ([0-9]+)\.[0-9]*.*/\1/p' <<<"$out"
}

# Warm-up, not counted: the pages and plans both scripts use.
for script in authorize_capture two_transfers; do run "$script" 4 off 2 >/dev/null; done

declare -A tps
for ((rep = 1; rep <= REPS; rep++)); do
    for sync in "${SYNC[@]}"; do
        for clients in "${CLIENTS[@]}"; do
            if ((rep % 2)); then order=(authorize_capture two_transfers); else order=(two_transfers authorize_capture); fi
            for script in "${order[@]}"; do
                t=$(run "$script" "$clients" "$sync" "$SECONDS_PER_RUN")
                tps[$script,$sync,$clients]+=" $t"
                printf 'run %d  synchronous_commit=%-3s  clients=%d  %-17s %6s tps\n' \
                       "$rep" "$sync" "$clients" "$script" "$t"
            done
        done
    done
done

read -r postings transfers holds open_after deadlocks < <(psql_q -d "$DB" -AtF ' ' -c "
    SELECT (SELECT count(*) FROM payments.postings), (SELECT count(*) FROM payments.transfers),
           (SELECT count(*) FROM payments.transfers WHERE status = 'pending'),
           (SELECT count(*) FROM payments.open_holds),
           (SELECT deadlocks FROM pg_stat_database WHERE datname = current_database())")
verify_started=$SECONDS
problems=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM payments.verify_ledger()")
verify_seconds=$((SECONDS - verify_started))

echo
echo "authorize+capture (hold() then capture()) against two transfers (post_transfer() twice),"
echo "median tps of $REPS runs of ${SECONDS_PER_RUN}s ($CPUS CPUs); a transaction is the two calls;"
echo "paired: the median of each run's authorize+capture / two transfers (the two ran back to back)"
printf '%-18s %7s %17s %13s %7s %7s\n' synchronous_commit clients authorize+capture two_transfers ratio paired
for sync in "${SYNC[@]}"; do
    for clients in "${CLIENTS[@]}"; do
        read -ra hs <<<"${tps[authorize_capture,$sync,$clients]}"
        read -ra ps <<<"${tps[two_transfers,$sync,$clients]}"
        h=$(median "${hs[@]}")
        p=$(median "${ps[@]}")
        ratios=()
        for ((i = 0; i < ${#hs[@]}; i++)); do ratios+=("$(ratio "${hs[i]}" "${ps[i]}")"); done
        printf '%-18s %7d %17d %13d %7s %7s\n' "$sync" "$clients" "$h" "$p" "$(ratio "$h" "$p")" \
               "$(median "${ratios[@]}")"
    done
done
echo "after: $postings postings, $transfers transfers, $holds holds of which $open_after open" \
     "(before the runs: $open_before); deadlocks: $((deadlocks - deadlocks_before))"
echo "verify_ledger() over all of it: $problems rows (${verify_seconds}s)"
((problems == 0)) || { echo "verify_ledger() after the benchmark: $problems rows" >&2; exit 1; }
((open_after == open_before)) || { echo "holds left open by the benchmark: $((open_after - open_before))" >&2; exit 1; }
echo "($((SECONDS - started))s in all)"
