#!/usr/bin/env bash
# SRT players through `sluice proxy` vs the same players straight on the
# origin (issue 16 item 3): CPU of the proxy process relaying N SRT players
# (srt-live-transmit, MPEG-TS to /dev/null) and the origin's CPU in both
# runs, same workload (bench/.work/workload.flv, ~560 kbit/s, published over
# RTMP to the origin), same run. Origin and proxy on core 0, publisher and
# players on core 1 (taskset). CPU over 10 s of the steady window.
#   bash scripts/bench-proxy-srt.sh [PLAYERS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
PLAYERS=${1:-20}; SECS=${2:-30}
[ -f dist/src/main/cli.js ] || npm run build --silent
[ -f bench/.work/workload.flv ] || bash scripts/bench-make-workload.sh
WORK=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
ORIGIN=19471; SYS=19472; OSRT=19473; PSRT=19474
cat > "$WORK/origin.conf" <<CONF
listen $ORIGIN;
srs_log_tank console; srs_log_level warn; max_connections 20000;
srt_server { enabled on; listen $OSRT; }
heartbeat { enabled on; interval 1; url http://127.0.0.1:$SYS/api/v1/srs/register; device_id bench-origin; ports on; }
vhost __defaultVhost__ { srt { enabled on; } play { gop_cache on; } }
CONF
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
run() {
  local via=$1
  SRS_DEVICE_IP=127.0.0.1 taskset -c 0 node dist/src/main/cli.js -c "$WORK/origin.conf" > "$WORK/origin.log" 2>&1 & local op=$!
  PROXY_RTMP_SERVER=off PROXY_HTTP_SERVER=off PROXY_SYSTEM_API=127.0.0.1:$SYS PROXY_SRT_SERVER=127.0.0.1:$PSRT PROXY_ORIGIN_TTL=5 \
    taskset -c 0 node dist/src/main/cli.js proxy > "$WORK/proxy.log" 2>&1 & local pp=$!
  until curl -sf "http://127.0.0.1:$SYS/api/v1/proxy/origins" | grep -q bench-origin; do sleep 0.2; done
  taskset -c 1 ffmpeg -hide_banner -loglevel error -nostdin -re -stream_loop -1 -i bench/.work/workload.flv -c copy -f flv "rtmp://127.0.0.1:$ORIGIN/live/s" & local fp=$!
  sleep 2
  local port=$OSRT; [ "$via" = proxy ] && port=$PSRT
  local pids=()
  for _ in $(seq "$PLAYERS"); do
    taskset -c 1 srt-live-transmit -q "srt://127.0.0.1:$port?streamid=#!::r=live/s,m=request" file://con > /dev/null 2>&1 & pids+=($!)
  done
  # One more player writes what it gets to a file: its bytes over the window say the players keep up.
  taskset -c 1 srt-live-transmit -q "srt://127.0.0.1:$port?streamid=#!::r=live/s,m=request" "file://con" > "$WORK/one.ts" 2>/dev/null & pids+=($!)
  sleep $((SECS / 2))
  local o0 p0 o1 p1 b0 b1; o0=$(cpu_ticks "$op"); p0=$(cpu_ticks "$pp"); b0=$(stat -c %s "$WORK/one.ts")
  sleep 10; o1=$(cpu_ticks "$op"); p1=$(cpu_ticks "$pp"); b1=$(stat -c %s "$WORK/one.ts")
  local relayed; relayed=$(curl -sf "http://127.0.0.1:$SYS/api/v1/proxy/sessions")
  echo "$via: players=$PLAYERS origin cpu $(( (o1 - o0) / 10 ))% proxy cpu $(( (p1 - p0) / 10 ))% (10 s, % of one core); one player $(( (b1 - b0) * 8 / 10000 )) kbit/s; proxy sessions $relayed"
  kill "${pids[@]}" $fp 2>/dev/null || true; wait "${pids[@]}" $fp 2>/dev/null || true
  kill $pp $op 2>/dev/null || true; wait $pp $op 2>/dev/null || true; sleep 1
}
uptime
run direct
run proxy
run proxy
run direct
uptime
