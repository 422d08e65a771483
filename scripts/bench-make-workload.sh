#!/usr/bin/env bash
# Makes the bench workload: ~560 kbit/s H.264 + AAC FLV, 25 fps, GOP 2 s,
# from ffmpeg's testsrc2 (deterministic content), 30 s (publishers loop it).
# Output: bench/.work/workload.flv (git-ignored). Usage: scripts/bench-make-workload.sh [OUT] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench/.work/workload.flv}"
secs="${2:-30}"
mkdir -p "$(dirname "$out")"
command -v ffmpeg >/dev/null || bash scripts/install-test-deps.sh
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=640x360:rate=25" \
  -f lavfi -i "sine=frequency=440:sample_rate=44100" \
  -t "$secs" \
  -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p -bf 0 \
  -g 50 -keyint_min 50 -sc_threshold 0 \
  -b:v 500k -maxrate 500k -bufsize 500k -x264-params "nal-hrd=cbr:force-cfr=1" \
  -c:a aac -b:a 64k -ac 2 -ar 44100 \
  -threads 1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
  -f flv "$out"
echo "$out: $(ffprobe -v error -show_entries format=duration,bit_rate -of default=nw=1 "$out" | tr '\n' ' ')"
