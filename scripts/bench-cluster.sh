#!/usr/bin/env bash
# Scaling past one core (issue 6, item 5): the same player load on one edge
# process and on two (`--workers 2`), both in front of one origin. Prints each
# server process's CPU % and the players it holds, so that CPU per player can
# be compared: two processes on two cores hold about twice the players of one.
#   bash scripts/bench-cluster.sh [PLAYERS] [MODE: rt|mw] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
PLAYERS=${1:-2000}; MODE=${2:-rt}; SECS=${3:-30}
[ -f dist/bench/cli.js ] || npm run build --silent
[ -f bench/.work/workload.flv ] || bash scripts/bench-make-workload.sh
WORK=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
ORIGIN=19451; EDGE=19450
if [ "$MODE" = rt ]; then PLAY='min_latency on; play { mw_latency 0; }'; else PLAY='play { mw_latency 350; }'; fi
cat > "$WORK/origin.conf" <<CONF
listen $ORIGIN;
srs_log_tank console; srs_log_level warn; max_connections 20000;
vhost __defaultVhost__ { $PLAY }
CONF
cat > "$WORK/edge.conf" <<CONF
listen $EDGE;
srs_log_tank console; srs_log_level warn; max_connections 20000;
vhost __defaultVhost__ { cluster { mode remote; origin 127.0.0.1:$ORIGIN; } $PLAY }
CONF
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
run() {
  local workers=$1
  node dist/src/main/cli.js -c "$WORK/origin.conf" > "$WORK/origin.log" 2>&1 & local op=$!
  node dist/src/main/cli.js -c "$WORK/edge.conf" --workers "$workers" > "$WORK/edge.log" 2>&1 & local ep=$!
  sleep 2
  node dist/bench/cli.js publish --url "rtmp://127.0.0.1:$ORIGIN/live/c" --publishers 1 --duration $((SECS + 20)) > /dev/null 2>&1 &
  local pp=$!
  sleep 2
  # The primary only hands out connections; the workers serve. Listing them after the start.
  local pids; if [ "$workers" -gt 1 ]; then pids=$(pgrep -P "$ep" | tr '\n' ' '); else pids=$ep; fi
  node dist/bench/cli.js rtmp-play --url "rtmp://127.0.0.1:$EDGE/live/c-0" --players "$PLAYERS" --rate 500 --duration "$SECS" --json > "$WORK/play.json" 2> "$WORK/play.err" &
  local lp=$!
  sleep $((SECS / 2)); declare -A t0; for p in $pids $ep $op; do t0[$p]=$(cpu_ticks "$p"); done
  sleep 10; local out="workers=$workers players=$PLAYERS mode=$MODE:"
  for p in $pids; do
    out="$out worker $p $(( ($(cpu_ticks "$p") - ${t0[$p]}) / 10 ))% with $(ls /proc/"$p"/fd | wc -l) fds;"
  done
  if [ "$workers" -gt 1 ]; then out="$out primary $(( ($(cpu_ticks "$ep") - ${t0[$ep]}) / 10 ))%;"; fi
  out="$out origin $(( ($(cpu_ticks "$op") - ${t0[$op]}) / 10 ))%"
  wait $lp || true
  echo "$out"
  node -e "const r=JSON.parse(require('fs').readFileSync('$WORK/play.json','utf8').trim().split('\n').pop()); console.log('  players connected', r.connected ?? r.players?.connected, 'behind', r.behind ?? r.players?.behind, 'kbit/s median', r.kbps?.median ?? r.kbpsMedian)" 2>/dev/null || tail -2 "$WORK/play.err"
  kill $pp $ep $op 2>/dev/null || true; wait $pp $ep $op 2>/dev/null || true; sleep 1
}
run 1
run 2
