#!/usr/bin/env bash
# The side-by-side matrix of docs/BENCHMARKS.md: builds, makes the workload and
# installs the peers when missing, then runs `node dist/bench/cli.js matrix`.
# Extra arguments go to the matrix command, e.g. --servers sluice-mw --players 1000 --steady 10.
# Prints the markdown tables on stdout (progress on stderr); JSON goes to bench/.work/.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent >/dev/null || true   # tsc emits even when unrelated files have errors
[ -f dist/bench/cli.js ] || { echo "build failed: dist/bench/cli.js missing" >&2; exit 1; }
[ -f bench/.work/workload.flv ] || bash scripts/bench-make-workload.sh
bash scripts/bench-peers.sh >&2
exec node dist/bench/cli.js matrix "$@"
