#!/usr/bin/env bash
# make run: build, install, start the dev cluster in .run/, run the demo.
set -euo pipefail
source "$(dirname "$0")/cluster.sh"

setup
say "running scripts/demo.sql"
psql_q -d payments --echo-all -P pager=off -f "$ROOT/scripts/demo.sql"
connect_hint
