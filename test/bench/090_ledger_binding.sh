#!/usr/bin/env bash
# What binding a role to its ledger (payments.bind_role()) costs
# post_transfer(): 030's benchmark (one transfer between two random accounts
# of 1000, 200,000 transfers of history, vacuumed and analyzed), posted by
# two roles with the same grants, one bound to the ledger, one bound to
# none, alternately in the same database: BENCH_REPS (5) runs of
# BENCH_SECONDS (8) for each of BENCH_CLIENTS (1 8), synchronous_commit on.
# The table gives the median tps of each, their ratio (target: at least
# 0.95) and the median of the ratios of runs made back to back ("paired").
# Run by make bench.
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
DB=${BENCH_DB:-payments_bench_binding}
SECONDS_PER_RUN=${BENCH_SECONDS:-8}
REPS=${BENCH_REPS:-5}
CLIENTS=(${BENCH_CLIENTS:-1 8})
CPUS=$(nproc)
started=$SECONDS

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
source "$DIR/lib/stats.sh"

psql_q -d postgres -c "SET client_min_messages = warning" \
                   -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
psql_q -d "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION payments CASCADE"
psql_q -d "$DB" -f "$DIR/030_ledger_setup.sql" >/dev/null
psql_q -d "$DB" <<'SQL'
SET client_min_messages = warning;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_bound') THEN
        CREATE ROLE bench_bound LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_unbound') THEN
        CREATE ROLE bench_unbound LOGIN;
    END IF;
END $$;
GRANT USAGE ON SCHEMA payments TO bench_bound, bench_unbound;
GRANT EXECUTE ON FUNCTION payments.post_transfer(bigint, bigint, monetary, text, jsonb)
    TO bench_bound, bench_unbound;
SELECT payments.bind_role('bench_bound', 'bench');
SQL
psql_q -d "$DB" -c "VACUUM ANALYZE" -c "CHECKPOINT"

run() {
    local role=$1 clients=$2 seconds=${3:-$SECONDS_PER_RUN} out jobs
    jobs=$((clients < CPUS ? clients : CPUS))
    if ! out=$(PGOPTIONS="-c synchronous_commit=on" \
               pgbench -n -M prepared -U "bench_$role" -c "$clients" -j "$jobs" -T "$seconds" \
                       -f "$DIR/030_ledger_post_transfer.sql" "$DB" 2>&1) ||
       grep -qiE 'aborted|error' <<<"$out"; then
        printf 'pgbench as %s failed:\n%s\n' "$role" "$out" >&2
        exit 1
    fi
    sed -nE 's/^tps = ([0-9]+)\.[0-9]*.*/\1/p' <<<"$out"
}

for role in bound unbound; do run "$role" 4 2 >/dev/null; done    # warm-up

declare -A tps
for ((rep = 1; rep <= REPS; rep++)); do
    for clients in "${CLIENTS[@]}"; do
        if ((rep % 2)); then order=(bound unbound); else order=(unbound bound); fi
        for role in "${order[@]}"; do
            t=$(run "$role" "$clients")
            tps[$role,$clients]+=" $t"
            printf 'run %d  clients=%d  %-7s %6s tps\n' "$rep" "$clients" "$role" "$t"
        done
    done
done

posted=$(psql_q -d "$DB" -Atc "SELECT string_agg(posted_by || ' ' || n, ', ') FROM
           (SELECT posted_by, count(*) n FROM payments.transfers WHERE posted_by IS NOT NULL GROUP BY 1) s")
problems=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM payments.verify_ledger()")
[[ $problems == 0 ]] || { echo "verify_ledger() after the benchmark: $problems rows" >&2; exit 1; }

echo
echo "post_transfer() by a role bound to its ledger against one bound to none, median tps of"
echo "$REPS runs of ${SECONDS_PER_RUN}s, synchronous_commit on ($CPUS CPUs; posted: $posted)"
printf '%7s %8s %8s %16s\n' clients bound unbound "ratio (paired)"
below=0
for clients in "${CLIENTS[@]}"; do
    read -ra bs <<<"${tps[bound,$clients]}"
    read -ra us <<<"${tps[unbound,$clients]}"
    ratio=$(ratio_of "${tps[bound,$clients]}" "${tps[unbound,$clients]}")
    awk -v r="${ratio%% *}" 'BEGIN { exit !(r < 0.95) }' && below=$((below + 1))
    printf '%7d %8d %8d %16s\n' "$clients" "$(median "${bs[@]}")" "$(median "${us[@]}")" "$ratio"
done
((below == 0)) && echo "target met: binding costs post_transfer() at most 5%" ||
    echo "target missed in $below configuration(s)"
echo "($((SECONDS - started))s in all)"
