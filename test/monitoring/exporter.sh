#!/bin/bash
# Debian's prometheus-postgres-exporter, started against the throwaway
# cluster with monitoring/postgres-exporter.yaml, serves the ledger's
# metrics on loopback: holds (open, expiring, the sweep's backlog, the
# oldest), the last audit, the row counters, and transfers committed and
# calls refused by SQLSTATE (the cluster preloads the library).  Run by
# make test.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/scripts/cluster.sh"

db=payments_exporter
port=$((20000 + RANDOM % 20000))
psql_q -d postgres -c "SET client_min_messages = warning" \
                   -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
psql_q -d "$db" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION payments CASCADE;
SELECT payments.create_account('bank', 'EUR', 'debit', true, ledger => 'exporter') AS bank \gset
SELECT payments.create_account('alice', 'EUR', ledger => 'exporter') AS alice \gset
SELECT payments.post_transfer(:bank, :alice, '100.00 EUR');
SELECT payments.hold(:alice, :bank, '10.00 EUR', now() + interval '30 minutes');
SELECT payments.hold(:alice, :bank, '5.00 EUR', now() + interval '3 hours');
SELECT payments.hold(:alice, :bank, '1.50 EUR', clock_timestamp() + interval '1 millisecond');
SELECT pg_sleep(0.01);
SELECT payments.run_audit();
-- a refusal, counted by its SQLSTATE (23L01: insufficient funds)
DO $$ BEGIN
    PERFORM payments.post_transfer_by_name('exporter', 'alice', 'bank', '1000.00 EUR');
EXCEPTION WHEN SQLSTATE '23L01' THEN NULL;
END $$;
SQL

DATA_SOURCE_NAME="host=$PGHOST port=$PGPORT user=$PGUSER dbname=$db sslmode=disable" \
    prometheus-postgres-exporter --extend.query-path="$ROOT/monitoring/postgres-exporter.yaml" \
    --web.listen-address="127.0.0.1:$port" >"$RUN_DIR/exporter.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT

metrics=
for _ in $(seq 100); do
    if metrics=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null) &&
       grep -q '^payments_holds_open_holds' <<<"$metrics"; then
        break
    fi
    sleep 0.2
done

failed=0
expect() {   # a metric line (regex) and what it means
    if grep -Eq "$1" <<<"$metrics"; then echo "ok - $2"
    else echo "not ok - $2 (no line matching $1)"; failed=1; fi
}
expect '^payments_holds_open_holds\{.*ledger="exporter".*\} 3$' 'open holds per ledger and currency'
expect '^payments_holds_held\{.*currency="EUR".*ledger="exporter".*\} 16\.5$' 'the amount held'
expect '^payments_holds_expiring_within_hour\{.*ledger="exporter".*\} 1$' 'holds expiring within the hour'
expect '^payments_holds_sweep_backlog\{.*ledger="exporter".*\} 1$' "the sweep's backlog"
expect '^payments_holds_sweep_backlog_amount\{.*ledger="exporter".*\} 1\.5$' 'the amount in the backlog'
expect '^payments_holds_oldest_age_seconds\{.*ledger="exporter".*\} [0-9.e+-]+$' 'the age of the oldest hold'
expect '^payments_audit_problems(\{.*\})? 0$' 'the last audit found nothing'
expect '^payments_audit_age_seconds(\{.*\})? [0-9.e+-]+$' 'how long ago it ran'
expect '^payments_rows_inserted\{.*relation="transfers".*\} [0-9]+$' 'rows inserted into transfers (a counter)'
expect '^payments_outcomes_count\{.*outcome="committed".*\} [1-9][0-9.e+]*$' 'transfers committed (a counter)'
expect '^payments_outcomes_count\{.*outcome="refused".*sqlstate="23L01".*\} [1-9][0-9.e+]*$' 'calls refused for insufficient funds (a counter)'
if ((failed)); then
    echo "--- exporter log"; tail -n 20 "$RUN_DIR/exporter.log"
    echo "--- payments metrics served"; grep '^payments_' <<<"$metrics" || true
    exit 1
fi
psql_q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE $db WITH (FORCE)"
