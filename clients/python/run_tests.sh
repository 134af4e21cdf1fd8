#!/bin/sh
# Runs the Python adapter's tests against the database the libpq variables
# name (PGHOST, PGPORT, PGUSER, PGDATABASE, ...), which must have had
# CREATE EXTENSION payments CASCADE; then runs example_concurrent.py.
# Exits non-zero on any failure.
#
#   PGHOST=/path/to/socket PGPORT=5499 PGUSER=postgres PGDATABASE=mydb sh run_tests.sh
#
# Extra arguments go to unittest, e.g. a single test:
#   sh run_tests.sh test_adapter.LedgerTests.test_concurrent_transfers
set -u
cd "$(dirname "$0")" || exit 2
PYTHON=${PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1

if ! "$PYTHON" -c 'import psycopg' 2>/dev/null; then
    echo "not ok - psycopg is missing for $PYTHON: apt-get install -y python3-psycopg" >&2
    exit 2
fi
echo "# $("$PYTHON" --version), psycopg $("$PYTHON" -c 'import psycopg; print(psycopg.__version__)')," \
     "database ${PGDATABASE:-(libpq default)} on ${PGHOST:-(libpq default)}:${PGPORT:-5432}"

failed=0
if [ $# -gt 0 ]; then
    "$PYTHON" -m unittest -v "$@" 2>&1 || failed=1
else
    "$PYTHON" -m unittest -v test_adapter 2>&1 || failed=1
    log=$(mktemp)
    if "$PYTHON" example_concurrent.py >"$log" 2>&1; then
        echo "ok - example_concurrent.py"
        sed 's/^/# /' "$log"
    else
        echo "not ok - example_concurrent.py"
        sed 's/^/# /' "$log"
        failed=1
    fi
    rm -f "$log"
fi

if [ "$failed" -ne 0 ]; then
    echo "FAILED"
    exit 1
fi
echo "PASSED"
