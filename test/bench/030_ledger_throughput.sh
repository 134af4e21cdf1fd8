#!/usr/bin/env bash
# Throughput of payments.post_transfer() against a floor: the bare writes any
# ledger must make for one transfer (insert the transfer and its two postings,
# update the two balances, rows locked in id order) on plain tables of the
# same shape with bigint amounts and no triggers (030_ledger_floor.sql).
#
# Both start from the same state, in a database of their own: 1000 funded
# accounts and 200,000 prior transfers (030_ledger_setup.sql), vacuumed and
# analyzed.  Each configuration (1, 4 and 8 clients, synchronous_commit on and
# off; BENCH_CLIENTS="1" and BENCH_SYNC="on" narrow them) runs each script for BENCH_SECONDS (8) seconds, BENCH_REPS (5) times,
# back to back, the two alternating which goes first.  The table shows the
# median tps of each, their ratio post_transfer / floor, and the median of
# the ratios of the runs made back to back ("paired", which shared the
# machine's state at the time: steadier on a busy machine).  Target: a ratio
# of at least 0.9.
#
# The floor is one statement per transfer (pgbench -M prepared): one round
# trip and one plan, as post_transfer() is one call whose statements are
# prepared once.  A DO block would be parsed and planned on every call, and
# a SQL function's statements are planned again on every call, which would
# slow the floor down and flatter the ledger.
#
# Run by make bench, with PGHOST, PGPORT and PGUSER set.  Leaves the database
# (BENCH_DB, payments_bench) for inspection; the next run recreates it.
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
DB=${BENCH_DB:-payments_bench}
SECONDS_PER_RUN=${BENCH_SECONDS:-8}
REPS=${BENCH_REPS:-5}
HISTORY=${BENCH_HISTORY:-200000}
CLIENTS=(${BENCH_CLIENTS:-1 4 8})
SYNC=(${BENCH_SYNC:-on off})
CPUS=$(nproc)

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
started=$SECONDS

echo "database $DB: 1000 accounts, $HISTORY prior transfers; ${SECONDS_PER_RUN}s per run, $REPS runs per configuration"
psql_q -d postgres -c "SET client_min_messages = warning" \
                   -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
                   -c "CREATE DATABASE $DB"
psql_q -d "$DB" -c "CREATE EXTENSION payments CASCADE"
psql_q -d "$DB" -v history="$HISTORY" -f "$DIR/030_ledger_setup.sql" >/dev/null

problems=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM payments.verify_ledger()")
[[ $problems == 0 ]] || { echo "the loaded history fails verify_ledger(): $problems rows" >&2; exit 1; }
psql_q -d "$DB" -c "VACUUM ANALYZE" -c "CHECKPOINT"

# The floor must lock in id order: its UPDATE must be an index scan of the
# primary key (ascending keys), not a bitmap heap scan (physical order), in the
# generic plan that pgbench -M prepared ends up with, under the settings the
# floor runs with.
FLOOR_OPTIONS="-c enable_bitmapscan=off"
plan=$( { echo "SET enable_bitmapscan = off;"
          echo "SET plan_cache_mode = force_generic_plan;"
          echo "PREPARE floor(bigint, bigint, bigint) AS"
          sed -e '/^\\/d' -e '/^--/d' \
              -e 's/:f::bigint/$1/g; s/:t::bigint/$2/g; s/:cents::bigint/$3/g' \
              "$DIR/030_ledger_floor.sql"
          echo "EXPLAIN (COSTS OFF) EXECUTE floor(2, 1, 1);"; } | psql_q -d "$DB" -At)
if ! grep -A1 'Update on accounts' <<<"$plan" | grep -q 'Index Scan using accounts_pkey'; then
    printf 'the floor does not lock in id order; its plan is:\n%s\n' "$plan" >&2
    exit 1
fi

# run SCRIPT CLIENTS SYNC SECONDS: prints the tps; fails on any error.
run() {
    local script=$1 clients=$2 sync=$3 seconds=$4 out jobs options
    jobs=$((clients < CPUS ? clients : CPUS))
    options="-c synchronous_commit=$sync"
    [[ $script == floor ]] && options+=" $FLOOR_OPTIONS"
    if ! out=$(PGOPTIONS="$options" \
               pgbench -n -M prepared -c "$clients" -j "$jobs" -T "$seconds" \
                       -f "$DIR/030_ledger_$script.sql" "$DB" 2>&1) ||
       grep -qiE 'aborted|error' <<<"$out"; then
        printf 'pgbench %s failed:\n%s\n' "$script" "$out" >&2
        exit 1
    fi
    sed -nE 's/^tps = ([0-9]+)\.[0-9]*.*/\1/p' <<<"$out"
}

source "$DIR/lib/stats.sh"

# Warm-up, not counted: the pages and plans both scripts use.
for script in post_transfer floor; do run "$script" 4 off 2 >/dev/null; done

declare -A tps
for ((rep = 1; rep <= REPS; rep++)); do
    for sync in "${SYNC[@]}"; do
        for clients in "${CLIENTS[@]}"; do
            if ((rep % 2)); then order=(post_transfer floor); else order=(floor post_transfer); fi
            for script in "${order[@]}"; do
                t=$(run "$script" "$clients" "$sync" "$SECONDS_PER_RUN")
                tps[$script,$sync,$clients]+=" $t"
                printf 'run %d  synchronous_commit=%-3s  clients=%d  %-13s %6s tps\n' \
                       "$rep" "$sync" "$clients" "$script" "$t"
            done
        done
    done
done

problems=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM payments.verify_ledger()")
[[ $problems == 0 ]] || { echo "verify_ledger() after the benchmark: $problems rows" >&2; exit 1; }

echo
echo "post_transfer() against the floor, median tps of $REPS runs of ${SECONDS_PER_RUN}s ($CPUS CPUs);"
echo "paired: the median of each run's post_transfer / floor (the two ran back to back)"
printf '%-18s %7s %14s %10s %7s %7s\n' synchronous_commit clients post_transfer floor ratio paired
below=0
for sync in "${SYNC[@]}"; do
    for clients in "${CLIENTS[@]}"; do
        read -ra ps <<<"${tps[post_transfer,$sync,$clients]}"
        read -ra fs <<<"${tps[floor,$sync,$clients]}"
        p=$(median "${ps[@]}")
        f=$(median "${fs[@]}")
        ratio=$(awk -v p="$p" -v f="$f" 'BEGIN { printf "%.2f", p / f }')
        ratios=()
        for ((i = 0; i < ${#ps[@]}; i++)); do
            ratios+=("$(awk -v p="${ps[i]}" -v f="${fs[i]}" 'BEGIN { printf "%.2f", p / f }')")
        done
        paired=$(median "${ratios[@]}")
        awk -v r="$ratio" 'BEGIN { exit !(r < 0.9) }' && below=$((below + 1))
        printf '%-18s %7d %14d %10d %7s %7s\n' "$sync" "$clients" "$p" "$f" "$ratio" "$paired"
    done
done
((below == 0)) && echo "target met: every ratio is at least 0.90" ||
    echo "target missed: $below configuration(s) below 0.90"
echo "($((SECONDS - started))s in all)"
