#!/usr/bin/env bash
# HLS delivery rate: one live stream (the bench workload, published by ffmpeg), then `wrk`
# (100 keep-alive connections) against the playlist and one segment of Sluice (built in dist/),
# of nginx serving the same hls_path files from disk, and of a bare node http server answering
# the same bytes from one Buffer (the upper bound of node's http module): each server pinned
# to core 0 in turn, wrk and ffmpeg on core 1. Prints req/s, MB/s and the ratio to nginx.
# Then (unless LL=0) an LL-HLS run: wrk on the playlist and one part, and an audience of
# LL_PLAYERS players polling as hls.js does (blocking playlist reload + part), with Sluice's CPU.
# Every process is started here, bounded by `timeout`, and killed on exit.
# Usage: scripts/bench-hls-delivery.sh [SECONDS per wrk run, 10] [CONNECTIONS, 100]
# Env: REPS (3 rounds, best kept), CLASSIC=0 (skip classic HLS), LL=0 (skip LL-HLS), LL_PLAYERS (1000), LL_SECONDS (30), CTX=off (hls_ctx off), PROF=DIR (--cpu-prof)
# Needs: wrk (apt-get install wrk), nginx, ffmpeg.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs="${1:-10}"
conns="${2:-100}"
ll="${LL:-1}"
llPlayers="${LL_PLAYERS:-1000}"
llSecs="${LL_SECONDS:-30}"
ctx="${CTX:-on}"
reps="${REPS:-3}"
for t in wrk nginx ffmpeg taskset; do command -v "$t" >/dev/null || { echo "needs $t" >&2; exit 2; }; done
[ -f bench/.work/workload.flv ] || bash scripts/bench-make-workload.sh >/dev/null
[ -f dist/src/main/cli.js ] || npm run build >/dev/null

port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
d=$(mktemp -d /tmp/sluice-bench-hls-XXXX)
chmod 755 "$d" # nginx's worker (nobody) reads the files
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  [ -f "$d/nginx.pid" ] && kill -TERM "$(cat "$d/nginx.pid")" 2>/dev/null || true
  rm -rf "$d"
}
trap cleanup EXIT INT TERM

waitport() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }
# `wrk` summary → "req/s MB/s"
runwrk() {
  local out
  out=$(timeout $((secs + 15)) taskset -c 1 wrk -t2 -c"$conns" -d"${secs}s" "$1" 2>&1) || true
  local rps mbs
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  mbs=$(awk '/Transfer\/sec/ {v=$2; if (v ~ /GB/) {sub(/GB/,"",v); v*=1024} else if (v ~ /MB/) sub(/MB/,"",v); else if (v ~ /KB/) {sub(/KB/,"",v); v/=1024}; print v}' <<<"$out")
  local errs
  errs=$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' <<<"$out")
  echo "${rps:-0} ${mbs:-0} ${errs}"
}
row() { # name rps mbs nginx_rps extra
  awk -v n="$1" -v r="$2" -v m="$3" -v g="$4" -v e="$5" 'BEGIN { printf "  %-22s %10.0f req/s %9.1f MB/s   %5.2fx nginx %s\n", n, r, m, (g > 0 ? r / g : 0), e }'
}

rtmp=$(port); http=$(port); ngx=$(port); bare=$(port)
mkdir -p "$d/hls" "$d/www"
startSluice() { # hls_fragment, extra hls directives
  printf 'listen %s;\ndaemon off;\nmax_connections 4000;\nsrs_log_tank console;\nsrs_log_level warn;\npid %s/s.pid;\nhttp_server { enabled on; listen %s; dir %s/www; }\nvhost __defaultVhost__ { hls { enabled on; hls_path %s/hls; hls_fragment %s; hls_window 60; hls_ctx %s; hls_ts_ctx %s; %s } }\n' \
    "$rtmp" "$d" "$http" "$d" "$d" "$1" "$ctx" "$ctx" "$2" > "$d/s.conf"
  local prof=()
  [ -n "${PROF:-}" ] && prof=(--cpu-prof --cpu-prof-dir "$PROF")
  (cd "$d" && exec taskset -c 0 node "${prof[@]}" "$root/dist/src/main/cli.js" -c "$d/s.conf" > "$d/sluice.log" 2>&1) &
  spid=$!
  pids+=("$spid")
  waitport "$rtmp"
  waitport "$http"
}
stopSluice() { kill -TERM "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; }
publish() {
  taskset -c 1 timeout 600 ffmpeg -hide_banner -loglevel error -re -stream_loop -1 -i bench/.work/workload.flv -c copy -f flv "rtmp://127.0.0.1:$rtmp/live/bench" &
  fpid=$!
  pids+=("$fpid")
}

echo "# HLS delivery, $(date -u +%FT%TZ), $(nproc) cores, wrk -t2 -c$conns -d${secs}s on core 1, servers on core 0, hls_ctx $ctx"
echo "# node $(node --version), $(nginx -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
q=""; [ "$ctx" = on ] && q="?hls_ctx=benchctx"
if [ "${CLASSIC:-1}" = 1 ]; then
startSluice 2 ""
publish
# Wait for 3 segments in the playlist.
m3u8="$d/hls/live/bench.m3u8"
for _ in $(seq 300); do [ -f "$m3u8" ] && [ "$(grep -c '\.ts' "$m3u8")" -ge 3 ] && break; sleep 0.2; done
echo "# playlist $(stat -c %s "$m3u8") bytes at the start (hls_window 60: it grows to ~30 segments)"

cat > "$d/nginx.conf" <<EOF
daemon on;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on;
  keepalive_requests 10000000;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  server {
    listen 127.0.0.1:$ngx;
    root $d/hls;
    location ~ \.m3u8\$ { add_header Cache-Control no-cache; }
  }
}
EOF
taskset -c 0 nginx -c "$d/nginx.conf" -p "$d" -e "$d/nginx-error.log"
waitport "$ngx"

# The bare upper bound: node's http module answering one Buffer per path, with the same headers.
cat > "$d/bare.cjs" <<'EOF'
// Each file read once, then answered from that one Buffer with precomputed headers.
const http = require('http'), fs = require('fs');
const [port, dir] = process.argv.slice(2);
const cache = new Map();
http.createServer({ keepAlive: true }, (req, res) => {
  const q = req.url.indexOf('?'); const p = q < 0 ? req.url : req.url.slice(0, q);
  let e = cache.get(p);
  if (!e) {
    let b; try { b = fs.readFileSync(dir + p); } catch { res.writeHead(404); res.end(); return; }
    const m3u8 = p.endsWith('.m3u8');
    e = [b, { 'Content-Type': m3u8 ? 'application/vnd.apple.mpegurl' : 'video/MP2T', 'Content-Length': b.length, 'Cache-Control': m3u8 ? 'public, max-age=1' : 'public, max-age=240, immutable' }];
    cache.set(p, e);
  }
  res.writeHead(200, e[1]); res.end(e[0]);
}).listen(port, '127.0.0.1');
EOF
taskset -c 0 node "$d/bare.cjs" "$bare" "$d/hls" &
pids+=("$!")
waitport "$bare"

# One session for every connection (a player after its master playlist).
curl -s -o /dev/null "http://127.0.0.1:$http/live/bench.m3u8$q" || true
# REPS rounds, each wrk run on sluice, nginx and bare in turn; the best of each is kept (a
# busy machine only ever lowers a figure), every round is printed.
best() { awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN { if (a + 0 >= c + 0) print a, b; else print c, d }'; }
for what in playlist segment; do
  declare -A R=() M=() E=()
  all=""
  for rep in $(seq "$reps"); do
    if [ $what = playlist ]; then
      p="/live/bench.m3u8"
    else
      # The newest segment (Sluice keeps the newest in memory, as players ask for the live edge).
      seg=$(grep '\.ts' "$m3u8" | tail -1)
      p="/live/$seg"
      echo "# round $rep: segment live/$seg $(stat -c %s "$d/hls/live/$seg") bytes"
    fi
    for srv in sluice nginx bare; do
      case $srv in sluice) u="http://127.0.0.1:$http$p$q" ;; nginx) u="http://127.0.0.1:$ngx$p" ;; bare) u="http://127.0.0.1:$bare$p" ;; esac
      read -r r m e <<<"$(runwrk "$u")"
      all+=" $srv=$r"
      read -r R[$srv] M[$srv] <<<"$(best "${R[$srv]:-0}" "${M[$srv]:-0}" "$r" "$m")"
      E[$srv]+="$e"
    done
  done
  echo "$what $p (best of $reps rounds:$all)"
  row nginx "${R[nginx]}" "${M[nginx]}" "${R[nginx]}" "${E[nginx]}"
  row sluice "${R[sluice]}" "${M[sluice]}" "${R[nginx]}" "${E[sluice]}"
  row "bare node http" "${R[bare]}" "${M[bare]}" "${R[nginx]}" "${E[bare]}"
  unset R M E
done
kill -TERM "$fpid" 2>/dev/null || true
stopSluice
fi

[ "$ll" = 1 ] || exit 0
echo "# LL-HLS (hls_ll on, hls_fragment 6, hls_part_duration 0.5), same workload"
rm -rf "$d/hls"/*
startSluice 6 "hls_ll on;"
publish
base="http://127.0.0.1:$http/live/bench"
# Wait for a complete segment, so that the part picked stays listed for the wrk run (3 segments).
for _ in $(seq 300); do curl -sf "$base.m3u8$q" 2>/dev/null | grep -q '^bench-1.m4s' && break; sleep 0.2; done
pl=$(curl -sf "$base.m3u8$q")
part=$(grep -o 'URI="[^"]*\.[0-9]*\.m4s"' <<<"$pl" | grep -v PRELOAD | tail -1 | sed 's/URI="//;s/"//')
echo "# playlist $(wc -c <<<"$pl") bytes, part $part $(curl -sf "http://127.0.0.1:$http/live/$part" | wc -c) bytes"
read -r sr sm se <<<"$(runwrk "$base.m3u8$q")"
row "LL playlist" "$sr" "$sm" 0 "$se"
read -r sr sm se <<<"$(runwrk "http://127.0.0.1:$http/live/$part")"
row "LL part" "$sr" "$sm" 0 "$se"
timeout $((llSecs + 60)) taskset -c 1 node dist/bench/cli.js llhls-play --url "$base.m3u8$q" --players "$llPlayers" --duration "$llSecs" --pid "$spid" || true
stopSluice
