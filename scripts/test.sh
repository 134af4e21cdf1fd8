#!/usr/bin/env bash
# make test: set up the dev cluster, then run every suite, going on after a
# failure, show what failed, and end with one line "N passed, N failed"
# counting tests: a pg_regress test, an isolation spec, a pgTAP file, a TAP
# file, a stress script, the demo.  Exits non-zero if any suite failed.
set -euo pipefail
source "$(dirname "$0")/cluster.sh"

MAKE_ARGS+=(WERROR=1)
# A cluster that make run started stays up; one started here is stopped at
# the end, whatever happens.
if ! postmaster_alive; then
    trap 'bash "$ROOT/scripts/stop.sh" >/dev/null 2>&1 || true' EXIT
fi
setup
cd "$ROOT"
LOG_DIR=$RUN_DIR/logs
mkdir -p "$LOG_DIR"
# The TAP suite runs as postgres in a copy of the checkout, when we are root.
if is_root; then TAP_DIR=$RUN_DIR/tap; else TAP_DIR=$ROOT; fi

passed=0 failed=0 failed_suites=()

# Lists files matching NAME in DIR, in byte order (as make's $(sort) does).
list() { find "$1" -maxdepth 1 -name "$2" 2>/dev/null | LC_ALL=C sort; }

# How many tests failed, read from a suite's output (pg_regress sums up as
# "F of N tests failed", prove and pg_prove list one "(Wstat: ...)" line per
# failed file).
regress_failures() { grep -oE '[0-9]+ of [0-9]+ tests failed' "$1" | cut -d' ' -f1 || true; }
prove_failures() { grep -c '(Wstat: ' "$1" || true; }
no_count() { :; }

# run_suite NAME TOTAL COUNTER COMMAND...: runs COMMAND, its output shown and
# kept in $LOG_DIR/NAME.log, and counts its TOTAL tests as passed or failed.
run_suite() {
    local name=$1 total=$2 counter=$3 log=$LOG_DIR/$1.log rc=0 nfailed
    shift 3
    say "$name ($total)"
    if ((total == 0)); then echo "no tests: skipped"; return; fi
    "$@" 2>&1 | tee "$log" || rc=$?
    nfailed=$("$counter" "$log")
    nfailed=${nfailed:-0}
    # A suite that died before reporting still counts as a failure.
    ((rc == 0 || nfailed > 0)) || nfailed=1
    ((nfailed <= total)) || nfailed=$total
    passed=$((passed + total - nfailed))
    failed=$((failed + nfailed))
    ((rc == 0)) || failed_suites+=("$name")
}

# What to show of a failed suite: the diffs, or the end of its logs.
show_failure() {
    say "FAILED: $1"
    case $1 in
        regress-*) cat "$RUN_DIR/regress/${1#regress-}/regression.diffs" ;;
        isolation) cat "$RUN_DIR/isolation/regression.diffs" ;;
        tap)       tap_failure_logs ;;
        *)         tail -n 60 "$LOG_DIR/$1.log" ;;
    esac 2>&1 || true
}

# The logs of the failed TAP files: regress_log_NAME (the test's own
# narrative) and NAME_NODE.log (each node's server log).
tap_failure_logs() {
    local name f
    for name in $(grep -oE '^test/t/[^ ]+\.pl \(Wstat' "$LOG_DIR/tap.log" |
                  sed -E 's|^test/t/(.*)\.pl.*|\1|'); do
        for f in "$TAP_DIR/tmp_check/log/regress_log_$name" \
                 "$TAP_DIR/tmp_check/log/${name}"_*.log; do
            [[ -f $f ]] && { echo "--- tail of $f"; tail -n 40 "$f"; }
        done
    done
}

pgtap_db() {
    psql_q -d postgres -c "SET client_min_messages = warning" \
                       -c "DROP DATABASE IF EXISTS payments_tap WITH (FORCE)" \
                       -c "CREATE DATABASE payments_tap" &&
    psql_q -d payments_tap -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION payments CASCADE"
}

pgtap() {
    pgtap_db && pg_prove -d payments_tap "$@"
}

# make run's demo, in a database of its own: it must run to its end, and
# leave books that verify_ledger() finds nothing wrong with.
demo() {
    psql_q -d postgres -c "SET client_min_messages = warning" \
                       -c "DROP DATABASE IF EXISTS payments_demo WITH (FORCE)" \
                       -c "CREATE DATABASE payments_demo" &&
    psql_q -d payments_demo -c "CREATE EXTENSION payments CASCADE" &&
    { psql_q -d payments_demo -P pager=off -f "$ROOT/scripts/demo.sql" >"$LOG_DIR/demo.out" 2>&1 ||
      { tail -n 20 "$LOG_DIR/demo.out"; false; }; } &&
    [[ $(psql_q -d payments_demo -At -c "SELECT count(*) FROM payments.verify_ledger()") == 0 ]] &&
    echo "scripts/demo.sql runs to its end; verify_ledger() finds nothing"
}

# A client adapter's tests (clients/<lang>/run_tests.sh), in a database of their own.
client() {
    local db=payments_client_$1
    psql_q -d postgres -c "SET client_min_messages = warning" \
                       -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
                       -c "CREATE DATABASE $db" &&
    psql_q -d "$db" -c "CREATE EXTENSION payments CASCADE" &&
    PGDATABASE=$db bash "$ROOT/clients/$1/run_tests.sh"
}

# initdb refuses root, so TAP tests then run as postgres in a copy it owns.
tap() {
    if is_root; then
        rsync -a --delete --exclude=/.git --exclude=/.run \
              --chown=postgres:postgres "$ROOT/" "$TAP_DIR/" &&
        runuser -u postgres -- make -C "$TAP_DIR" "${MAKE_ARGS[@]}" prove_installcheck
    else
        make "${MAKE_ARGS[@]}" prove_installcheck
    fi
}

mapfile -t regress_monetary < <(list test/sql 'money_*.sql')
mapfile -t regress_payments < <(list test/sql '*.sql' | grep -v -e /money_ -e /000_setup)
mapfile -t specs < <(list test/isolation/specs '*.spec')
mapfile -t pgtap_files < <(list test/pgtap '*.sql')
mapfile -t tap_files < <(list test/t '*.pl')
mapfile -t stress < <(list test/stress '*.sh')

# The pure C files (amount, currency codes, ISO table) against a reference,
# without a server: one TAP stream, counted as one test.
run_suite unit 1 no_count make -C test/unit check
run_suite demo 1 no_count demo
run_suite regress-monetary "${#regress_monetary[@]}" regress_failures \
    make "${MAKE_ARGS[@]}" installcheck-regress-monetary
run_suite regress-payments "${#regress_payments[@]}" regress_failures \
    make "${MAKE_ARGS[@]}" installcheck-regress-payments
run_suite isolation "${#specs[@]}" regress_failures make "${MAKE_ARGS[@]}" installcheck-isolation
run_suite pgtap "${#pgtap_files[@]}" prove_failures pgtap "${pgtap_files[@]}"
run_suite tap "${#tap_files[@]}" prove_failures tap
for lang in python node; do
    run_suite "client-$lang" 1 no_count client "$lang"
done
run_suite exporter 1 no_count bash test/monitoring/exporter.sh
for script in "${stress[@]}"; do
    run_suite "stress-$(basename "$script" .sh)" 1 no_count bash "$script"
done

for suite in "${failed_suites[@]}"; do
    show_failure "$suite"
done
printf '\n%d passed, %d failed\n' "$passed" "$failed"
((${#failed_suites[@]} == 0))
