#!/usr/bin/env bash
# make stop: stop the dev cluster.  With --remove (make clean-run), also
# delete .run/ and everything in it.
set -euo pipefail
source "$(dirname "$0")/cluster.sh"

if postmaster_alive; then
    say "stopping the cluster in $PGDATA_DIR"
    as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop
else
    say "no cluster running in $PGDATA_DIR"
fi
if [[ ${1:-} == --remove ]]; then
    say "removing $RUN_DIR"
    rm -rf "$RUN_DIR"
fi
