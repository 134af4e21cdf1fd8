#!/usr/bin/env bash
# The posting engine on sets of transfers (issue 8), from the same starting
# state as 030 (1000 funded accounts, BENCH_HISTORY prior transfers, the
# floor's plain tables beside the ledger's), each figure the median of
# BENCH_REPS runs:
#
#  1. post_transfers() of 100 transfers against 100 post_transfer() calls
#     (each its own transaction, as an application without the batch call
#     makes them), 1 client, synchronous_commit on: transfers per second;
#     target at least 10x.  And against the floor writing the same 100
#     transfers in one transaction (its one-statement transfer, 100 times):
#     target at least 0.7x.
#  2. Linear: one INSERT ... SELECT of N transfers between 10 accounts (that
#     may go negative), N = 1k, 10k, 100k, 1M: time per transfer; target:
#     at the largest N within 1.5x of the smallest.  With the backend's peak
#     private memory (RssAnon, sampled), which must not grow with N.
#  3. COPY of 1M transfers between the 1000 accounts: rows per second,
#     against the floor's COPY into its transfers plus the set-based writes
#     of their legs and balances, in one transaction.
#  4. 8 clients posting two-transfer entries in opposite account orders
#     for BENCH_ENTRY_SECONDS (20): deadlocks and failed transactions (0).
#
# Run by make bench, with PGHOST, PGPORT and PGUSER set; BENCH_PARTS="1 3"
# runs only those parts.
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
DB=${BENCH_DB:-payments_bench_entries}
REPS=${BENCH_REPS:-5}
HISTORY=${BENCH_HISTORY:-200000}
BATCH_SECONDS=${BENCH_SECONDS:-8}
ENTRY_SECONDS=${BENCH_ENTRY_SECONDS:-20}
LINEAR_NS=(${BENCH_LINEAR_NS:-1000 10000 100000 1000000})
COPY_ROWS=${BENCH_COPY_ROWS:-1000000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
want() { [[ " ${BENCH_PARTS:-1 2 3 4} " == *" $1 "* ]]; }
source "$DIR/lib/stats.sh"
started=$SECONDS

echo "database $DB: 1000 accounts, $HISTORY prior transfers; medians of $REPS runs"
psql_q -d postgres -c "SET client_min_messages = warning" \
                   -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
                   -c "CREATE DATABASE $DB"
psql_q -d "$DB" -c "CREATE EXTENSION payments CASCADE"
psql_q -d "$DB" -v history="$HISTORY" -f "$DIR/030_ledger_setup.sql" >/dev/null
# ten accounts that may go negative, for the linear runs; they never touch
# the others
psql_q -d "$DB" >/dev/null <<'SQL'
SELECT payments.create_account('linear-' || i, 'USD', 'debit', true, ledger => 'bench')
  FROM generate_series(1, 10) i;
SQL
psql_q -d "$DB" -c "VACUUM ANALYZE" -c "CHECKPOINT"

# run_tps SCRIPT CLIENTS SECONDS OPTIONS: the tps of a pgbench run.
run_tps() {
    local out
    if ! out=$(PGOPTIONS="$4" pgbench -n -M prepared -c "$2" -j "$2" -T "$3" -f "$1" "$DB" 2>&1) ||
       grep -qiE 'aborted|error' <<<"$out"; then
        printf 'pgbench %s failed:\n%s\n' "$1" "$out" >&2
        exit 1
    fi
    sed -nE 's/^tps = ([0-9.]+).*/\1/p' <<<"$out"
}

# 1. batches ------------------------------------------------------------------
if want 1; then

{
    echo '\set f random(1, 1000)'
    echo "SELECT payments.post_transfers(ARRAY(
        SELECT ROW(f, CASE WHEN t >= f THEN t + 1 ELSE t END,
                   '0.01 USD'::monetary * c, NULL, NULL)::payments.transfer_request
          FROM (SELECT 1 + (random() * 999)::int AS f, 1 + (random() * 998)::int AS t,
                       1 + (random() * 9999)::int AS c
                  FROM generate_series(1, 100)) s));"
} >"$WORK/batch.sql"
{
    for i in $(seq 1 100); do
        echo "\\set f$i random(1, 1000)"
        echo "\\set t$i random(1, 999)"
        echo "\\set t$i case when :t$i >= :f$i then :t$i + 1 else :t$i end"
        echo "\\set c$i random(1, 10000)"
        echo "SELECT payments.post_transfer(:f$i::bigint, :t$i::bigint, '0.01 USD'::monetary * :c$i::bigint);"
    done
} >"$WORK/singles.sql"
{
    echo 'BEGIN;'
    for i in $(seq 1 100); do
        echo "\\set f$i random(1, 1000)"
        echo "\\set t$i random(1, 999)"
        echo "\\set t$i case when :t$i >= :f$i then :t$i + 1 else :t$i end"
        echo "\\set cents$i random(1, 10000)"
        sed -e '/^\\/d' -e '/^--/d' \
            -e "s/:f::bigint/:f$i::bigint/g; s/:t::bigint/:t$i::bigint/g; s/:cents::bigint/:cents$i::bigint/g" \
            "$DIR/030_ledger_floor.sql"
    done
    echo 'COMMIT;'
} >"$WORK/floor100.sql"

declare -a batch singles floor100
for ((rep = 1; rep <= REPS; rep++)); do
    b=$(run_tps "$WORK/batch.sql" 1 "$BATCH_SECONDS" "-c synchronous_commit=on")
    s=$(run_tps "$WORK/singles.sql" 1 "$BATCH_SECONDS" "-c synchronous_commit=on")
    f=$(run_tps "$WORK/floor100.sql" 1 "$BATCH_SECONDS" "-c synchronous_commit=on -c enable_bitmapscan=off")
    # transfers per second: 100 per pgbench transaction in each
    batch+=("$(awk -v x="$b" 'BEGIN { printf "%d", x * 100 }')")
    singles+=("$(awk -v x="$s" 'BEGIN { printf "%d", x * 100 }')")
    floor100+=("$(awk -v x="$f" 'BEGIN { printf "%d", x * 100 }')")
    printf 'run %d  transfers/s: post_transfers(100) %s, 100 x post_transfer() %s, floor (100 in one transaction) %s\n' \
           "$rep" "${batch[-1]}" "${singles[-1]}" "${floor100[-1]}"
done
b=$(median "${batch[@]}"); s=$(median "${singles[@]}"); f=$(median "${floor100[@]}")
# paired: the median of each run's ratios (the three ran back to back, so
# they shared the machine's state: steadier than a ratio of medians when the
# machine's speed drifts during the runs)
pairs_s=(); pairs_f=()
for ((i = 0; i < ${#batch[@]}; i++)); do
    pairs_s+=("$(awk -v a="${batch[i]}" -v c="${singles[i]}" 'BEGIN { printf "%.1f", a / c }')")
    pairs_f+=("$(awk -v a="${batch[i]}" -v c="${floor100[i]}" 'BEGIN { printf "%.2f", a / c }')")
done
ps=$(median "${pairs_s[@]}"); pf=$(median "${pairs_f[@]}")
fi

# 2. linear -------------------------------------------------------------------

# linear_insert N: one INSERT ... SELECT of N transfers among the ten
# linear accounts, in an order that touches all ten over and over
linear_insert() {
    cat <<SQL
INSERT INTO payments.transfers (from_account, to_account, amount)
SELECT a.id, b.id, '0.01 USD'::monetary * (1 + g % 1000)
  FROM generate_series(1, $1) g
  JOIN payments.accounts a ON a.ledger = 'bench' AND a.name = 'linear-' || (1 + g % 10)
  JOIN payments.accounts b ON b.ledger = 'bench' AND b.name = 'linear-' || (1 + (g + 1 + g / 10) % 10)
 WHERE (1 + g % 10) <> (1 + (g + 1 + g / 10) % 10);
SQL
}

declare -A per_transfer memory
want 2 && for n in "${LINEAR_NS[@]}"; do
    times=()
    for ((rep = 1; rep <= REPS; rep++)); do
        out=$(psql_q -d "$DB" -At <<SQL
SELECT pg_backend_pid();
\\timing on
$(linear_insert "$n")
\\timing off
SELECT count(*) FROM payments.transfers WHERE false;
SQL
)
        ms=$(sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' <<<"$out" | head -1)
        times+=("$(awk -v ms="$ms" -v n="$n" 'BEGIN { printf "%.2f", ms * 1000 / n }')")
    done
    per_transfer[$n]=$(median "${times[@]}")
    # the peak private memory of one more run, in a backend of its own:
    # RssAnon sampled every 10 ms while the statement runs (VmHWM would
    # count the shared buffers the backend touched too)
    rm -f "$WORK/pid" "$WORK/stop" "$WORK/peak"
    psql_q -d "$DB" -At >/dev/null <<SQL
\\o $WORK/pid
SELECT pg_backend_pid();
\\o
\\! bash "$DIR/lib/sample_rss.sh" "$WORK/pid" "$WORK/stop" "$WORK/peak" &
$(linear_insert "$n")
\\! touch "$WORK/stop"
SQL
    for i in $(seq 100); do [[ -s $WORK/peak ]] && break; sleep 0.05; done
    memory[$n]=$(cat "$WORK/peak")
    printf 'INSERT ... SELECT of %8d transfers over 10 accounts: %s us per transfer, backend peak private memory (RssAnon) %s kB\n' \
           "$n" "${per_transfer[$n]}" "${memory[$n]}"
done

# 3. COPY -----------------------------------------------------------------------
if want 3; then

# the same rows for both: account ids, and the amount as the ledger reads it
# or in cents for the floor
copy_rows() {
    psql_q -d "$DB" -At -c "COPY (SELECT f, CASE WHEN t >= f THEN t + 1 ELSE t END, $1
                                    FROM (SELECT g, 1 + g % 1000 AS f, 1 + (g * 7 + g / 1000) % 999 AS t,
                                                 1 + g % 10000 AS cents
                                            FROM generate_series(1, $COPY_ROWS) g) s)
                              TO STDOUT"
}
copy_rows "(cents * 0.01)::numeric(20, 2) || ' USD'" >"$WORK/copy.txt"
copy_rows "cents" >"$WORK/copy_floor.txt"
copy_ledger=(); copy_floor=()
for ((rep = 1; rep <= REPS; rep++)); do
    out=$(psql_q -d "$DB" -At <<SQL
\\timing on
\\copy payments.transfers (from_account, to_account, amount) FROM '$WORK/copy.txt'
SQL
)
    ms=$(sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' <<<"$out" | head -1)
    copy_ledger+=("$(awk -v ms="$ms" -v n="$COPY_ROWS" 'BEGIN { printf "%d", n / (ms / 1000) }')")
    out=$(psql_q -d "$DB" -At <<SQL
\\timing on
BEGIN;
CREATE TEMP TABLE copied (LIKE floor.transfers INCLUDING DEFAULTS) ON COMMIT DROP;
ALTER TABLE copied ALTER ledger SET DEFAULT 'bench', ALTER created_at SET DEFAULT now();
\\copy copied (from_account, to_account, amount) FROM '$WORK/copy_floor.txt'
INSERT INTO floor.transfers SELECT * FROM copied;
WITH legs AS (
    SELECT c.id AS transfer_id, l.account_id, l.side, c.amount, row_number() OVER () AS n
      FROM copied c, LATERAL (VALUES (c.from_account, 'debit'), (c.to_account, 'credit')) l (account_id, side)),
     deltas AS (
    SELECT account_id, sum(CASE WHEN side = 'debit' THEN amount ELSE 0 END) AS d,
           sum(CASE WHEN side = 'credit' THEN amount ELSE 0 END) AS c
      FROM legs GROUP BY account_id),
     updated AS (
    UPDATE floor.accounts a SET debits_posted = debits_posted + d.d, credits_posted = credits_posted + d.c
      FROM deltas d WHERE a.ledger = 'bench' AND a.id = d.account_id
    RETURNING a.id, a.credits_posted - a.debits_posted - (d.c - d.d) AS before)
INSERT INTO floor.postings (ledger, transfer_id, account_id, side, amount, balance_after, created_at)
SELECT 'bench', l.transfer_id, l.account_id, l.side, l.amount,
       u.before + sum(CASE WHEN l.side = 'credit' THEN l.amount ELSE -l.amount END)
                      OVER (PARTITION BY l.account_id ORDER BY l.n), now()
  FROM legs l JOIN updated u ON u.id = l.account_id;
COMMIT;
SQL
)
    ms=$(sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' <<<"$out" | awk '{ s += $1 } END { print s }')
    copy_floor+=("$(awk -v ms="$ms" -v n="$COPY_ROWS" 'BEGIN { printf "%d", n / (ms / 1000) }')")
    printf 'run %d  COPY of %d transfers: ledger %s rows/s, floor %s rows/s\n' \
           "$rep" "$COPY_ROWS" "${copy_ledger[-1]}" "${copy_floor[-1]}"
done

fi

problems=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM payments.verify_ledger()")
[[ $problems == 0 ]] || { echo "verify_ledger() after the runs: $problems rows" >&2; exit 1; }

# 4. entries in opposite orders ----------------------------------------------------
if want 4; then

cat >"$WORK/opposite.sql" <<'EOF'
\set a random(1, 20)
\set b random(1, 19)
\set b case when :b >= :a then :b + 1 else :b end
SELECT payments.post_transfers(ARRAY[
    ROW(:a::bigint, :b::bigint, '0.01 USD'::monetary, NULL, NULL),
    ROW(:b::bigint, :a::bigint, '0.02 USD'::monetary, NULL, NULL)]::payments.transfer_request[]);
EOF
psql_q -d "$DB" >/dev/null <<'SQL'
-- accounts 1..20 may go negative for this run: the entries are never refused
SET session_replication_role = replica;
UPDATE payments.accounts SET allow_negative = true WHERE ledger = 'bench' AND id <= 20;
SQL
out=$(PGOPTIONS="-c synchronous_commit=on" pgbench -n -M prepared -c 8 -j 8 -T "$ENTRY_SECONDS" \
        --failures-detailed -f "$WORK/opposite.sql" "$DB" 2>&1) || true
entries_tps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' <<<"$out")
failed=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' <<<"$out")
deadlocks=$(sed -nE 's/^number of deadlock failures: ([0-9]+).*/\1/p' <<<"$out")
aborted=$(grep -ciE 'aborted|error' <<<"$out" || true)
problems=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM payments.verify_ledger()")
fi

echo
want 1 && echo "1. post_transfers() of 100, 1 client, synchronous_commit on (medians, transfers/s):"
want 1 && printf '   post_transfers %s; 100 single calls %s (x%s, paired x%s, target 10); floor in one transaction %s (x%s, paired x%s, target 0.7)\n' \
       "$b" "$s" "$(awk -v a="$b" -v c="$s" 'BEGIN { printf "%.1f", a / c }')" "$ps" \
       "$f" "$(awk -v a="$b" -v c="$f" 'BEGIN { printf "%.2f", a / c }')" "$pf"
first=${LINEAR_NS[0]}; last=${LINEAR_NS[-1]}
want 2 && echo "2. linear: per transfer $(for n in "${LINEAR_NS[@]}"; do printf '%s: %sus  ' "$n" "${per_transfer[$n]}"; done)"
want 2 && printf '   largest / smallest: %s (target at most 1.5); backend peak private memory %s kB at %s, %s kB at %s\n' \
       "$(awk -v a="${per_transfer[$last]}" -v c="${per_transfer[$first]}" 'BEGIN { printf "%.2f", a / c }')" \
       "${memory[$first]}" "$first" "${memory[$last]}" "$last"
want 3 && cl=$(median "${copy_ledger[@]}") && cf=$(median "${copy_floor[@]}") &&
printf '3. COPY of %d transfers over 1000 accounts: ledger %s rows/s, floor %s rows/s (x%s)\n' \
       "$COPY_ROWS" "$cl" "$cf" "$(awk -v a="$cl" -v c="$cf" 'BEGIN { printf "%.2f", a / c }')"
want 4 && printf '4. 8 clients, opposite-order entries for %ss: %s tps, %s deadlocks, %s failed transactions, %s errors; verify_ledger: %s rows\n' \
       "$ENTRY_SECONDS" "${entries_tps:-?}" "${deadlocks:-?}" "${failed:-?}" "$aborted" "$problems"
echo "($((SECONDS - started))s in all)"
