#!/usr/bin/env bash
# DVR load: N publishers of the bench workload (~575 kbit/s each) for D seconds, recorded
# at once to FLV, to MP4, and not recorded, on one Sluice (built in dist/). Prints, per mode,
# the bench's publish summary (server CPU % of one core, RSS) and the bytes the DVR wrote.
# Usage: scripts/bench-dvr.sh [PUBLISHERS] [SECONDS] [PORT]   (MODES="none flv mp4" to choose)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
n="${1:-100}"
secs="${2:-30}"
port="${3:-19935}"
[ -f bench/.work/workload.flv ] || bash scripts/bench-make-workload.sh >/dev/null
for mode in ${MODES:-none flv mp4}; do
  d=$(mktemp -d /tmp/sluice-bench-dvr-XXXX)
  case $mode in
    none) dvr="" ;;
    flv) dvr="dvr { enabled on; dvr_path $d/rec/[app]/[stream].flv; }" ;;
    mp4) dvr="dvr { enabled on; dvr_path $d/rec/[app]/[stream].mp4; }" ;;
  esac
  printf 'listen %s;\nsrs_log_tank console;\nsrs_log_level warn;\npid %s/s.pid;\nvhost __defaultVhost__ { %s }\n' "$port" "$d" "$dvr" > "$d/s.conf"
  (cd "$d" && exec node "$root/dist/src/main/cli.js" -c "$d/s.conf" > "$d/log" 2>&1) &
  spid=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
  node dist/bench/cli.js publish --url "rtmp://127.0.0.1:$port/live/bench" --publishers "$n" --duration "$secs" --pid "$spid" --json > "$d/out.json" 2> "$d/err" || true
  bytes=$(du -sb "$d/rec" 2>/dev/null | cut -f1 || true)
  kill -TERM "$spid"; wait "$spid" || true
  echo "$mode dvr_bytes=${bytes:-0} seconds=$secs $(cat "$d/out.json")"
  rm -rf "$d"
done
