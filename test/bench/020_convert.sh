#!/usr/bin/env bash
# Benchmark: payments.convert() over a million rows against plain numeric.
#
# Run by `make bench` (PGHOST, PGPORT, PGUSER, PGDATABASE exported), or by
# hand against any database with the extension.  020_convert.sql builds
# bench_convert.t: 1,000,000 amounts in USD, GBP, JPY and CHF at random times
# over three years, and 4 x 1096 daily rates to EUR in payments.exchange_rates
# (analyzed).  Then, in one session, serial plans (other settings as the
# server has them, JIT included), RUNS times each, alternating:
#
#   convert   sum(payments.convert(amount, 'EUR', ts, 'half_up'))
#             finds each row's rate itself (history cached per query)
#   numeric   sum(round(amount_num * rate, 2))
#             the baseline: numeric columns, the rate in force at ts already
#             stored in the row (precomputed once), numeric's round() (half up)
#   lateral   sum(round(amount_num * r.rate, 2)) with the rate found per row by
#             an index look-up (LATERAL ... ORDER BY valid_from DESC LIMIT 1):
#             what plain SQL costs when it has to look the rate up too
#
# It checks that the three totals are equal, prints the medians, and fails if
# convert is slower than twice the numeric baseline.  The data is removed
# afterwards (KEEP=1 keeps it).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
RUNS=${RUNS:-5}
psql=(psql -X -q -v ON_ERROR_STOP=1)

cleanup() {
    [[ ${KEEP:-0} == 1 ]] && return
    "${psql[@]}" -c "SET client_min_messages = warning" \
                 -c "DROP SCHEMA IF EXISTS bench_convert CASCADE" \
                 -c "DELETE FROM payments.exchange_rates WHERE source = 'bench_convert'" >/dev/null
}
trap cleanup EXIT

echo "020_convert: building 1,000,000 rows and 4,384 rates ..."
"${psql[@]}" -f "$here/020_convert.sql" >/dev/null

convert_q="SELECT amount(sum(payments.convert(amount, 'EUR', ts, 'half_up'))) FROM bench_convert.t"
numeric_q="SELECT sum(round(amount_num * rate, 2)) FROM bench_convert.t"
lateral_q="SELECT sum(round(t.amount_num * r.rate, 2)) FROM bench_convert.t t
    CROSS JOIN LATERAL (SELECT e.rate FROM payments.exchange_rates e
                         WHERE e.from_currency = t.currency
                           AND e.to_currency = 'EUR'
                           AND e.valid_from <= t.ts
                         ORDER BY e.valid_from DESC LIMIT 1) r"

script=$(mktemp)
trap 'rm -f "$script"; cleanup' EXIT
{
    echo "SET max_parallel_workers_per_gather = 0;"
    # warm-up: the table into shared buffers, the library loaded
    echo "SELECT count(*) FROM bench_convert.t;"
    echo "\\timing on"
    for ((i = 0; i < RUNS; i++)); do
        echo "\\echo @convert"; echo "$convert_q;"
        echo "\\echo @numeric"; echo "$numeric_q;"
        echo "\\echo @lateral"; echo "$lateral_q;"
    done
} >"$script"

echo "020_convert: timing, $RUNS runs of each, serial plans ..."
"${psql[@]}" -At -f "$script" | awk -v runs="$RUNS" '
    /^@/ { name = substr($0, 2); next }
    /^Time: / { t[name, ++n[name]] = $2; next }
    name != "" { total[name] = $0 }
    function median(k,    i, j, a, m, tmp) {
        m = n[k]
        for (i = 1; i <= m; i++) a[i] = t[k, i]
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
            if (a[j] + 0 < a[i] + 0) { tmp = a[i]; a[i] = a[j]; a[j] = tmp }
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    END {
        c = median("convert"); b = median("numeric"); l = median("lateral")
        printf "  rows                       1000000 (serial plans, %d runs each)\n", runs
        printf "  total convert              %s\n", total["convert"]
        printf "  total numeric              %s\n", total["numeric"]
        printf "  total lateral              %s\n", total["lateral"]
        printf "  median convert             %9.1f ms\n", c
        printf "  median numeric (baseline)  %9.1f ms\n", b
        printf "  median lateral look-up     %9.1f ms\n", l
        printf "  convert / numeric          %9.2fx  (target: within 2x)\n", c / b
        printf "  convert / lateral          %9.2fx\n", c / l
        if (total["convert"] != total["numeric"] || total["numeric"] != total["lateral"]) {
            print "FAIL: the totals differ"; exit 1
        }
        if (c > 2 * b) { print "FAIL: convert is slower than twice the baseline"; exit 1 }
        print "ok"
    }'
