#!/usr/bin/env bash
# Players through `sluice proxy` vs the same players straight on the origin
# (issue 16): CPU % of the proxy process per 1,000 RTMP players, the
# origin's CPU in both runs, same workload, same run. Origin and proxy on
# core 0, the load generator on core 1 (taskset).
#   bash scripts/bench-proxy.sh [PLAYERS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
PLAYERS=${1:-1000}; SECS=${2:-30}
[ -f dist/bench/cli.js ] || npm run build --silent
[ -f bench/.work/workload.flv ] || bash scripts/bench-make-workload.sh
WORK=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
ORIGIN=19461; SYS=19462; PROXY=19463
cat > "$WORK/origin.conf" <<CONF
listen $ORIGIN;
srs_log_tank console; srs_log_level warn; max_connections 20000;
heartbeat { enabled on; interval 1; url http://127.0.0.1:$SYS/api/v1/srs/register; device_id bench-origin; ports on; }
vhost __defaultVhost__ { play { mw_latency 350; } }
CONF
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
summary() {
  node -e "const r=JSON.parse(require('fs').readFileSync('$1','utf8').trim().split('\n').pop()); console.log('connected', r.connected, 'behind', r.behind, 'kbit/s median', Math.round(r.kbpsMedian), 'first frame median/p99 ms', Math.round(r.firstFrameMedianMs) + '/' + Math.round(r.firstFrameP99Ms), 'measured cpu %', r.serverCpu.toFixed(1), 'per 1,000', r.cpuPer1000.toFixed(1), 'rss MB per 1,000', r.mbPer1000.toFixed(1), 'generator cpu %', r.generatorCpu.toFixed(1))"
}
run() {
  local via=$1
  SRS_DEVICE_IP=127.0.0.1 taskset -c 0 node dist/src/main/cli.js -c "$WORK/origin.conf" > "$WORK/origin.log" 2>&1 & local op=$!
  PROXY_RTMP_SERVER=127.0.0.1:$PROXY PROXY_HTTP_SERVER=off PROXY_SYSTEM_API=127.0.0.1:$SYS PROXY_ORIGIN_TTL=5 \
    taskset -c 0 node dist/src/main/cli.js proxy > "$WORK/proxy.log" 2>&1 & local pp=$!
  until curl -sf "http://127.0.0.1:$SYS/api/v1/proxy/origins" | grep -q bench-origin; do sleep 0.2; done
  local url pid
  if [ "$via" = proxy ]; then url="rtmp://127.0.0.1:$PROXY/live/s"; pid=$pp; else url="rtmp://127.0.0.1:$ORIGIN/live/s"; pid=$op; fi
  taskset -c 1 node dist/bench/cli.js rtmp-play --url "$url" --publish-url "rtmp://127.0.0.1:$ORIGIN/live/s" \
    --players "$PLAYERS" --rate 500 --duration "$SECS" --pid "$pid" --json > "$WORK/play.json" 2> "$WORK/play.err" &
  local lp=$!
  sleep $((SECS / 2)); local o0; o0=$(cpu_ticks "$op"); sleep 10; local o1; o1=$(cpu_ticks "$op")
  wait $lp || true
  echo "$via: players=$PLAYERS measured pid=$pid ($([ "$via" = proxy ] && echo proxy || echo origin)); origin cpu over 10 s of the steady window $(( (o1 - o0) / 10 ))%"
  echo "  $(summary "$WORK/play.json" 2>/dev/null || tail -3 "$WORK/play.err")"
  kill $pp $op 2>/dev/null || true; wait $pp $op 2>/dev/null || true; sleep 1
}
run direct
run proxy
run proxy
run direct
