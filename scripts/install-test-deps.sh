#!/usr/bin/env bash
# Installs the system tools the test suite drives as real clients, through
# apt-get, when they are missing: ffmpeg/ffprobe (publish, play, probe) and
# Debian's chromium (browser players, WebRTC), nginx with libnginx-mod-rtmp
# (a forward destination no one here wrote), srt-tools (srt-live-transmit, an
# SRT peer), pebble (an ACME server for the automatic-certificate test),
# redis-server (the proxy tier's shared state).
# Needs root or sudo.
set -euo pipefail
need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ] || need+=(libnginx-mod-rtmp)
command -v srt-live-transmit >/dev/null 2>&1 || need+=(srt-tools)
command -v pebble >/dev/null 2>&1 || need+=(pebble)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing test tools: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${need[@]}" >/dev/null
