#!/usr/bin/env bash
# Streams 1 GiB down (as fast as possible, then to a slow reader) and 1 GiB up (sized, then
# chunked) through Keywarden's gateway and reports its resident memory before and at its peak
# during each transfer; fails if a transfer is incomplete or memory grows by more than 64 MiB.
# Usage: Benchmarks/gateway/streaming.sh [path/to/release/keywarden]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
binary=${1:-}
if [ -z "$binary" ]; then
  (cd "$root" && swift build -c release --product keywarden >&2)
  binary="$root/.build/release/keywarden"
fi
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }
size=$((1 << 30))
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
python3 "$here/stream_upstream.py" 18191 "$size" &
pids+=($!)
KEYWARDEN_RATE_LIMIT_TIERS="bench: rpm=100000000 tpm=1000000000000" \
  "$binary" serve --port 18190 --data-dir "$work/data" --upstream-url http://127.0.0.1:18191 --log-level warning \
  >"$work/server.log" 2>&1 &
server=$!
pids+=($server)
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18190/readyz >/dev/null && break; sleep 0.1; done
export KEYWARDEN_SDK_BASE_URL=http://127.0.0.1:18190 KEYWARDEN_SDK_DATA_DIR="$work/data"
key=$(python3 "$here/make_key.py")

rss() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }

# Runs a transfer while sampling the server's RSS; prints the peak in KiB.
watch_rss() {
  local peak=0 now
  "$@" >"$work/out" &
  local transfer=$!
  while kill -0 $transfer 2>/dev/null; do
    now=$(rss)
    [ "$now" -gt "$peak" ] && peak=$now
    sleep 0.05
  done
  wait $transfer
  echo "$peak"
}

truncate -s "$size" "$work/upload.bin"
auth="Authorization: Bearer $key"
base=$(rss)
printf '%-30s %12s %12s %10s %s\n' transfer "RSS before" "RSS peak" seconds result
for case in download download-slow-reader upload-sized upload-chunked; do
  before=$(rss)
  start=$(date +%s%N)
  case $case in
    download)
      peak=$(watch_rss curl -s -o /dev/null -w '%{size_download}' -H "$auth" http://127.0.0.1:18190/v1/files/big/content) ;;
    download-slow-reader)
      # The reader takes 100 MB/s, far slower than the upstream sends: back-pressure must hold
      # the rest upstream instead of in Keywarden's memory.
      peak=$(watch_rss curl -s --limit-rate 100M -o /dev/null -w '%{size_download}' -H "$auth" \
        http://127.0.0.1:18190/v1/files/big/content) ;;
    upload-sized)
      peak=$(watch_rss curl -s -H "$auth" -H 'Content-Type: application/octet-stream' -T "$work/upload.bin" \
        http://127.0.0.1:18190/v1/uploads) ;;
    upload-chunked)
      peak=$(watch_rss sh -c "head -c $size /dev/zero | curl -s -H '$auth' -H 'Content-Type: application/octet-stream' -T - http://127.0.0.1:18190/v1/uploads") ;;
  esac
  seconds=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN {print (b - a) / 1e9}')
  result=$(cat "$work/out")
  printf '%-30s %9d KiB %9d KiB %10.1f %s\n' "$case" "$before" "$peak" "$seconds" "$result"
  case $case in
    download*) [ "$result" = "$size" ] || { echo "download incomplete" >&2; exit 1; } ;;
    *) [ "$result" = "{\"bytes\": $size}" ] || { echo "upload incomplete" >&2; exit 1; } ;;
  esac
  growth=$((peak - base))
  if [ $growth -gt 65536 ]; then
    echo "memory grew by $growth KiB during $case: not flat" >&2
    exit 1
  fi
done
echo "1 GiB each way passed; peak RSS stayed within 64 MiB of the idle server's $base KiB"
