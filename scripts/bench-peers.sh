#!/usr/bin/env bash
# Installs the servers the bench compares against, outside the project's dependencies:
#  - node-media-server (pinned) from npm into bench/.peers/ (git-ignored)
#  - nginx with Debian's libnginx-mod-rtmp (apt), when missing; the system nginx service is not used
#    (the bench starts its own nginx with a generated config in a temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
NMS_VERSION=4.4.3   # keep in sync with NMS_VERSION in bench/peers.ts
if [ ! -f bench/.peers/node_modules/node-media-server/package.json ] ||
   ! grep -q "\"version\": \"$NMS_VERSION\"" bench/.peers/node_modules/node-media-server/package.json; then
  mkdir -p bench/.peers
  [ -f bench/.peers/package.json ] || echo '{"name":"bench-peers","private":true}' > bench/.peers/package.json
  npm install --prefix bench/.peers --no-audit --no-fund --loglevel=error "node-media-server@$NMS_VERSION"
fi
if [ ! -f /usr/lib/nginx/modules/ngx_rtmp_module.so ] || ! command -v nginx >/dev/null; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq nginx libnginx-mod-rtmp >/dev/null
fi
command -v taskset >/dev/null || { echo "taskset (util-linux) is required" >&2; exit 1; }
echo "peers ready: node-media-server $NMS_VERSION, $(nginx -v 2>&1)"
