#!/usr/bin/env bash
# make bench: set up the dev cluster, then run test/bench/*.sh in name order
# with PGHOST, PGPORT, PGUSER and PGDATABASE exported.  BENCH=040 runs only
# the scripts whose names start with 040.
set -euo pipefail
source "$(dirname "$0")/cluster.sh"

setup
mapfile -t benches < <(find "$ROOT/test/bench" -maxdepth 1 -name "${BENCH:-}*.sh" | LC_ALL=C sort)
((${#benches[@]})) || say "no benchmarks in test/bench/"
for bench in "${benches[@]}"; do
    say "bench: ${bench#"$ROOT"/}"
    bash "$bench"
done
