#!/usr/bin/env bash
# What the change feed costs post_transfer(), and what counting outcomes in
# shared memory (shared_preload_libraries = 'payments') adds: the same
# benchmark as 030 (one transfer between two random accounts of 1000,
# 200,000 transfers of history, vacuumed and analyzed) in three variants:
#   base     the build just before the change feed (BENCH_BASE, by default
#            the parent of the first commit that added src/change_feed.c)
#   feed     this tree's build, not preloaded: the change feed, and all else
#            this tree adds on the path of a transfer (the ledger-binding
#            checks of a role bound to none, say)
#   counted  this tree's build, preloaded: outcomes counted as well
# The databases are made by their builds' install scripts; the variants run
# in the same cluster, alternately, which restarts before every run to load
# the variant's library (and preload it, or not), then warms up for 2 s:
# BENCH_REPS (5) runs of BENCH_SECONDS (8) for each of BENCH_CLIENTS (1 8),
# synchronous_commit on.  The table gives the median tps of each, the
# ratios feed / base (target: at least 0.95) and counted / feed, and the
# medians of the ratios of runs made back to back (in brackets).
#
# It installs into PostgreSQL's own directories (as make install does),
# changes the dev cluster's shared_preload_libraries while it runs, and
# leaves this tree's build installed and preloaded.  Run by make bench.
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$DIR/../.." && pwd -P)
SECONDS_PER_RUN=${BENCH_SECONDS:-8}
REPS=${BENCH_REPS:-5}
CLIENTS=(${BENCH_CLIENTS:-1 8})
CPUS=$(nproc)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
LIBDIR=$("$PG_CONFIG" --pkglibdir)
started=$SECONDS

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
source "$DIR/lib/stats.sh"

if [[ -z ${BENCH_BASE:-} ]]; then
    first=$(git -C "$ROOT" log --diff-filter=A --format=%H -- src/change_feed.c | tail -n 1)
    [[ -n $first ]] || { echo "no commit adds src/change_feed.c: set BENCH_BASE" >&2; exit 1; }
    BENCH_BASE=$first^
fi
base_rev=$(git -C "$ROOT" rev-parse --short "$BENCH_BASE")
BASE_DIR=$ROOT/.run/bench-base
rm -rf "$BASE_DIR" && mkdir -p "$BASE_DIR"
git -C "$ROOT" archive "$BENCH_BASE" | tar -x -C "$BASE_DIR"
echo "building $base_rev (before the change feed) in ${BASE_DIR#"$ROOT"/}"
make -s -C "$BASE_DIR" PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
make -s -C "$ROOT" PG_CONFIG="$PG_CONFIG" >/dev/null

# use VARIANT: its build's library, preloaded for counted only, for the
# connections that follow: the cluster restarts to take it.
source "$ROOT/scripts/cluster.sh"
use() {
    local build preload
    build=$([[ $1 == base ]] && echo "$BASE_DIR" || echo "$ROOT")
    preload=$([[ $1 == counted ]] && echo payments || echo '')
    install -m 755 "$build/payments.so" "$LIBDIR/payments.so"
    as_owner sed -i "s/^shared_preload_libraries = .*/shared_preload_libraries = '$preload'/" \
        "$PGDATA_DIR/payments_dev.conf"
    as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 -m fast restart >/dev/null
}
trap 'use counted' EXIT

# Each database is created by its build's scripts and library, then loaded
# with history.
for variant in base feed; do
    db=payments_bench_$variant
    build=$([[ $variant == base ]] && echo "$BASE_DIR" || echo "$ROOT")
    make -s -C "$build" PG_CONFIG="$PG_CONFIG" install >/dev/null
    use "$variant"
    psql_q -d postgres -c "SET client_min_messages = warning" \
                       -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    psql_q -d "$db" -c "SET client_min_messages = warning" -c "CREATE EXTENSION payments CASCADE"
    psql_q -d "$db" -f "$DIR/030_ledger_setup.sql" >/dev/null
    psql_q -d "$db" -c "VACUUM ANALYZE" -c "CHECKPOINT"
done

# run VARIANT CLIENTS [SECONDS]: prints the tps; fails on any error.
run() {
    local variant=$1 clients=$2 seconds=${3:-$SECONDS_PER_RUN} out jobs
    jobs=$((clients < CPUS ? clients : CPUS))
    if ! out=$(PGOPTIONS="-c synchronous_commit=on" \
               pgbench -n -M prepared -c "$clients" -j "$jobs" -T "$seconds" \
                       -f "$DIR/030_ledger_post_transfer.sql" "payments_bench_${variant/counted/feed}" 2>&1) ||
       grep -qiE 'aborted|error' <<<"$out"; then
        printf 'pgbench on %s failed:\n%s\n' "$variant" "$out" >&2
        exit 1
    fi
    sed -nE 's/^tps = ([0-9]+)\.[0-9]*.*/\1/p' <<<"$out"
}

# Every measured run starts from a restart that loads its library, and a
# warm-up of 2 s that reads the pages back.
declare -A tps
for ((rep = 1; rep <= REPS; rep++)); do
    for clients in "${CLIENTS[@]}"; do
        if ((rep % 2)); then order=(counted feed base); else order=(base feed counted); fi
        for variant in "${order[@]}"; do
            use "$variant"
            run "$variant" 4 2 >/dev/null
            t=$(run "$variant" "$clients")
            tps[$variant,$clients]+=" $t"
            printf 'run %d  clients=%d  %-7s %6s tps\n' "$rep" "$clients" "$variant" "$t"
        done
    done
done

use feed
rows=$(psql_q -d payments_bench_feed -Atc "SELECT count(*) FROM payments.entry_xacts")
problems=$(psql_q -d payments_bench_feed -Atc "SELECT count(*) FROM payments.verify_ledger()")
[[ $problems == 0 ]] || { echo "verify_ledger() after the benchmark: $problems rows" >&2; exit 1; }

echo
echo "post_transfer(): this tree (feed), and preloaded (counted), against $base_rev (base), median"
echo "tps of $REPS runs of ${SECONDS_PER_RUN}s, synchronous_commit on ($CPUS CPUs; entry_xacts: $rows rows)"
printf '%7s %8s %8s %8s %16s %16s\n' clients base feed counted "feed/base" "counted/feed"
below=0
for clients in "${CLIENTS[@]}"; do
    read -ra b <<<"${tps[base,$clients]}"
    read -ra f <<<"${tps[feed,$clients]}"
    read -ra c <<<"${tps[counted,$clients]}"
    fb=$(ratio_of "${tps[feed,$clients]}" "${tps[base,$clients]}")
    awk -v r="${fb%% *}" 'BEGIN { exit !(r < 0.95) }' && below=$((below + 1))
    printf '%7d %8d %8d %8d %16s %16s\n' "$clients" "$(median "${b[@]}")" "$(median "${f[@]}")" \
           "$(median "${c[@]}")" "$fb" "$(ratio_of "${tps[counted,$clients]}" "${tps[feed,$clients]}")"
done
((below == 0)) && echo "target met: the change feed costs post_transfer() at most 5%" ||
    echo "target missed in $below configuration(s)"
echo "($((SECONDS - started))s in all)"
