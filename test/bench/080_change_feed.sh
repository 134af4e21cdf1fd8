#!/usr/bin/env bash
# What the change feed (and the outcome counters of a preloaded library)
# cost post_transfer(): the same benchmark as 030
# (one transfer between two random accounts of 1000, 200,000 transfers of
# history, vacuumed and analyzed) against two builds, this tree's and the
# one just before the change feed (BENCH_BASE, by default the parent of the
# first commit that added src/change_feed.c), each in a database created by
# its own install scripts.  Both run in the same cluster, alternately, the
# library swapped in between (the cluster restarted to preload it, then
# warmed up for 2 s): BENCH_REPS (5) runs of BENCH_SECONDS (8) for
# each of BENCH_CLIENTS (1 8), synchronous_commit on.  The table gives the
# median tps of each and their ratio (target: at least 0.95), and the median
# of the ratios of runs made back to back ("paired").
#
# It installs into PostgreSQL's own directories (as make install does) and
# leaves this tree's build installed.  Run by make bench.
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
median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }

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

# use VARIANT: its build's library, for the connections that follow.  The
# cluster preloads it (shared_preload_libraries, for outcomes.c): it
# restarts to take it.
source "$ROOT/scripts/cluster.sh"
use() {
    local build
    build=$([[ $1 == base ]] && echo "$BASE_DIR" || echo "$ROOT")
    install -m 755 "$build/payments.so" "$LIBDIR/payments.so"
    as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 -m fast restart >/dev/null
}
trap 'use feed' EXIT

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
                       -f "$DIR/030_ledger_post_transfer.sql" "payments_bench_$variant" 2>&1) ||
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
        if ((rep % 2)); then order=(feed base); else order=(base feed); fi
        for variant in "${order[@]}"; do
            use "$variant"
            run "$variant" 4 2 >/dev/null
            t=$(run "$variant" "$clients")
            tps[$variant,$clients]+=" $t"
            printf 'run %d  clients=%d  %-4s %6s tps\n' "$rep" "$clients" "$variant" "$t"
        done
    done
done

rows=$(psql_q -d payments_bench_feed -Atc "SELECT count(*) FROM payments.entry_xacts")
problems=$(psql_q -d payments_bench_feed -Atc "SELECT count(*) FROM payments.verify_ledger()")
[[ $problems == 0 ]] || { echo "verify_ledger() after the benchmark: $problems rows" >&2; exit 1; }

echo
echo "post_transfer() with the change feed against $base_rev without it, median tps of $REPS runs"
echo "of ${SECONDS_PER_RUN}s, synchronous_commit on ($CPUS CPUs; entry_xacts now holds $rows rows)"
printf '%7s %8s %8s %7s %7s\n' clients feed base ratio paired
below=0
for clients in "${CLIENTS[@]}"; do
    read -ra fs <<<"${tps[feed,$clients]}"
    read -ra bs <<<"${tps[base,$clients]}"
    f=$(median "${fs[@]}")
    b=$(median "${bs[@]}")
    ratio=$(awk -v f="$f" -v b="$b" 'BEGIN { printf "%.3f", f / b }')
    ratios=()
    for ((i = 0; i < ${#fs[@]}; i++)); do
        ratios+=("$(awk -v f="${fs[i]}" -v b="${bs[i]}" 'BEGIN { printf "%.3f", f / b }')")
    done
    paired=$(median "${ratios[@]}")
    awk -v r="$ratio" 'BEGIN { exit !(r < 0.95) }' && below=$((below + 1))
    printf '%7d %8d %8d %7s %7s\n' "$clients" "$f" "$b" "$ratio" "$paired"
done
((below == 0)) && echo "target met: the change feed costs post_transfer() at most 5%" ||
    echo "target missed in $below configuration(s)"
echo "($((SECONDS - started))s in all)"
