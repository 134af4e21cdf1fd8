#!/usr/bin/env bash
# The Node.js adapter's tests: the codec's unit tests always, and the tests
# against a live database when PGDATABASE is set (with PGHOST, PGPORT, PGUSER
# as libpq reads them; the database needs CREATE EXTENSION payments CASCADE).
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules ]; then
    npm ci --no-audit --no-fund
fi
if [ -z "${PGDATABASE:-}" ]; then
    echo "run_tests.sh: PGDATABASE is not set; the tests against a database are skipped" >&2
fi
exec node --test test/
