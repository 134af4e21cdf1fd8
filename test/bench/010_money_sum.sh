#!/usr/bin/env bash
# Benchmark: sum() over 5,000,000 amounts held three ways.
#
# Run by `make bench` (PGHOST, PGPORT, PGUSER, PGDATABASE exported), or by
# hand against any database with the extension.  010_money_sum.sql builds
# three tables in schema bench_money, each with the same ROWS amounts (USD,
# up to 1,000,000.00, both signs), vacuumed, frozen and analyzed:
#
#   as_bigint     bigint minor units        sum(amount)
#   as_numeric    numeric(20,2)             sum(amount)
#   as_monetary   monetary         sum(amount)
#
# It checks that the three totals agree, then, in one session with JIT off,
# times each sum RUNS times, the three alternating, first with serial plans
# (max_parallel_workers_per_gather = 0) and then with parallel plans (two
# workers, parallel costs zeroed so that the planner always uses them), after
# one untimed warm-up run of each.  It prints the median of each, its ratio
# to bigint, and the on-disk size per row.
#
# A benchmark, not a test: it exits 0 however slow things are, but says
# whether the targets of issue 2 are met (monetary within 1.3x of bigint and
# faster than numeric, serial and parallel).  ROWS, RUNS, and JIT=on change
# what is measured; KEEP=1 keeps the tables afterwards.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
ROWS=${ROWS:-5000000}
RUNS=${RUNS:-5}
JIT=${JIT:-off}
psql=(psql -X -q -v ON_ERROR_STOP=1)

cleanup() {
    [[ ${KEEP:-0} == 1 ]] && return
    "${psql[@]}" -c "SET client_min_messages = warning" \
                 -c "DROP SCHEMA IF EXISTS bench_money CASCADE" >/dev/null || true
}
script=$(mktemp)
trap 'rm -f "$script"; cleanup' EXIT

echo "010_money_sum: building $ROWS rows three ways (bigint, numeric(20,2), monetary) ..."
start=$SECONDS
"${psql[@]}" -v rows="$ROWS" -f "$here/010_money_sum.sql" >/dev/null
echo "010_money_sum: built in $((SECONDS - start)) s"

# The three totals must agree, or the timings mean nothing.
agree=$("${psql[@]}" -At -c "
    SELECT (SELECT sum(amount) FROM bench_money.as_bigint)
         = (SELECT sum(amount) * 100 FROM bench_money.as_numeric)
       AND (SELECT sum(amount) FROM bench_money.as_bigint)
         = (SELECT minor_units(sum(amount)) FROM bench_money.as_monetary)")
[[ $agree == t ]] || { echo "010_money_sum: the three totals differ" >&2; exit 1; }

# Size per row: the whole relation (tuple headers, line pointers, page
# headers and free space included), and the value itself.
sizes=$("${psql[@]}" -At -F ' ' -c "
    SELECT name, round(pg_relation_size(('bench_money.' || name)::regclass)::numeric / $ROWS, 1),
           (SELECT avg(pg_column_size(amount)) FROM bench_money.as_bigint)::int
    FROM (VALUES ('as_bigint')) AS t(name)
    UNION ALL
    SELECT 'as_numeric', round(pg_relation_size('bench_money.as_numeric')::numeric / $ROWS, 1),
           round((SELECT avg(pg_column_size(amount)) FROM bench_money.as_numeric), 1)
    UNION ALL
    SELECT 'as_monetary', round(pg_relation_size('bench_money.as_monetary')::numeric / $ROWS, 1),
           (SELECT avg(pg_column_size(amount)) FROM bench_money.as_monetary)::int")

bigint_q="SELECT sum(amount) FROM bench_money.as_bigint"
numeric_q="SELECT sum(amount) FROM bench_money.as_numeric"
monetary_q="SELECT sum(amount) FROM bench_money.as_monetary"

{
    echo "SET jit = $JIT;"
    for mode in serial parallel; do
        if [[ $mode == serial ]]; then
            echo "SET max_parallel_workers_per_gather = 0;"
        else
            echo "SET max_parallel_workers_per_gather = 2;"
            echo "SET parallel_setup_cost = 0;"
            echo "SET parallel_tuple_cost = 0;"
        fi
        echo "\\echo @plan $mode"
        echo "EXPLAIN (COSTS OFF) $monetary_q;"
        echo "\\echo @endplan"
        # warm-up: the tables into the caches, the library loaded
        echo "$bigint_q;"; echo "$numeric_q;"; echo "$monetary_q;"
        echo "\\timing on"
        for ((i = 0; i < RUNS; i++)); do
            echo "\\echo @$mode bigint"; echo "$bigint_q;"
            echo "\\echo @$mode numeric"; echo "$numeric_q;"
            echo "\\echo @$mode monetary"; echo "$monetary_q;"
        done
        echo "\\timing off"
    done
} >"$script"

echo "010_money_sum: timing, $RUNS runs of each, serial then parallel (2 workers), jit $JIT ..."
"${psql[@]}" -At -f "$script" | awk -v runs="$RUNS" -v rows="$ROWS" -v sizes="$sizes" '
    /^@plan / { plan = substr($0, 7); name = ""; next }
    /^@endplan/ { plan = ""; next }
    /^@/ { name = substr($0, 2); next }
    plan != "" { plans[plan] = plans[plan] "    " $0 "\n"; next }
    /^Time: / && name != "" { t[name, ++n[name]] = $2; next }
    function median(k,    i, j, a, m, tmp) {
        m = n[k]
        for (i = 1; i <= m; i++) a[i] = t[k, i]
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
            if (a[j] + 0 < a[i] + 0) { tmp = a[i]; a[i] = a[j]; a[j] = tmp }
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    function verdict(ok) { return ok ? "met" : "MISSED" }
    END {
        split(sizes, s, /[ \n]/)
        for (i = 1; i in s; i += 3) { relrow[s[i]] = s[i + 1]; col[s[i]] = s[i + 2] }
        printf "\n  sum() over %d rows, median of %d runs (ms); x = ratio to bigint\n\n", rows, runs
        printf "  %-16s %9s %9s %12s %7s %12s %7s\n", "held as", "bytes/row", "value", "serial ms", "x", "parallel ms", "x"
        split("bigint numeric monetary", types, " ")
        split("as_bigint as_numeric as_monetary", tables, " ")
        split("bigint|numeric(20,2)|monetary", labels, "|")
        for (i = 1; i <= 3; i++) {
            se[i] = median("serial " types[i]); pa[i] = median("parallel " types[i])
            printf "  %-16s %9s %9s %12.1f %7.2f %12.1f %7.2f\n", labels[i], relrow[tables[i]], col[tables[i]],
                   se[i], se[i] / se[1], pa[i], pa[i] / pa[1]
        }
        printf "\n  plans of the monetary sum:\n  serial\n%s  parallel\n%s", plans["serial"], plans["parallel"]
        printf "\n  targets (issue 2):\n"
        printf "    serial:   monetary <= 1.3 x bigint (%.2f): %s; monetary < numeric (%.2f vs %.2f): %s\n",
               se[3] / se[1], verdict(se[3] <= 1.3 * se[1]), se[3] / se[1], se[2] / se[1], verdict(se[3] < se[2])
        printf "    parallel: monetary <= 1.3 x bigint (%.2f): %s; monetary < numeric (%.2f vs %.2f): %s\n",
               pa[3] / pa[1], verdict(pa[3] <= 1.3 * pa[1]), pa[3] / pa[1], pa[2] / pa[1], verdict(pa[3] < pa[2])
    }'
