#!/usr/bin/env bash
# make report: the daily reconciliation report of a database of the dev
# cluster (REPORT_DB, payments): trial balance per ledger and currency, FX
# positions, open holds, closed periods, the last audit.  Elsewhere, run
#   SELECT * FROM payments.reconciliation_report();
set -euo pipefail
source "$(dirname "$0")/cluster.sh"

"$PG_BINDIR/pg_isready" -q || die "the cluster in $PGDATA_DIR is not running: start it with make run"
psql -X -q -v ON_ERROR_STOP=1 -P pager=off -P null='' -d "${REPORT_DB:-payments}" <<'SQL'
SELECT format('reconciliation report of %s, %s', current_database(),
              to_char(now(), 'YYYY-MM-DD HH24:MI:SS TZ')) AS title \gset
\echo :title
SELECT * FROM payments.reconciliation_report();
SQL
