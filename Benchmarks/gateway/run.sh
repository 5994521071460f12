#!/usr/bin/env bash
# The gateway benchmark: Keywarden (key auth + rate limits + metering + forwarding, release
# build) against nginx baselines in the same run, wrk on loopback, then the 1 GiB streaming check.
#
#   upstream direct          nginx answering a fixed chat completion (`return 200`)
#   nginx reverse proxy      nginx proxy_pass to that upstream
#   nginx key check (map)    the same, refusing any Authorization not in a `map` of keys
#   keywarden                the gateway in front of the same upstream
#
# Then, at half of Keywarden's own throughput (paced by wrk's delay()), the p50/p99 of the
# upstream alone and through Keywarden, whose difference is the latency Keywarden adds.
#
# Usage: Benchmarks/gateway/run.sh [seconds per run, default 10] [connections, default 50]
# KEYWARDEN_BIN skips the release build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
duration=${1:-10}
connections=${2:-50}

. "$here/prerequisites.sh"

work=$(mktemp -d)
pids=()
cleanup() {
  stop_nginx
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

upstream_port=18181 proxy_port=18182 keycheck_port=18183 keywarden_port=18184
start_upstream
nginx_conf proxy "server { listen 127.0.0.1:$proxy_port; location / { proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_pass http://model; } }"

KEYWARDEN_RATE_LIMIT_TIERS="bench: rpm=100000000 tpm=1000000000000" \
  "$binary" serve --port $keywarden_port --data-dir "$work/data" --upstream-url "http://127.0.0.1:$upstream_port" \
  --log-level warning >"$work/keywarden.log" 2>&1 &
keywarden=$!
pids+=($keywarden)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$keywarden_port/readyz" >/dev/null && break; sleep 0.1; done
export KEYWARDEN_SDK_BASE_URL="http://127.0.0.1:$keywarden_port" KEYWARDEN_SDK_DATA_DIR="$work/data"
key=$(python3 "$here/make_key.py")
nginx_conf keycheck "map_hash_bucket_size 128;
  map \$http_authorization \$known_key { default 0; \"Bearer $key\" 1; }
  server { listen 127.0.0.1:$keycheck_port; location / {
    if (\$known_key = 0) { return 401 '{\"error\":{\"message\":\"Incorrect API key provided.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}'; }
    proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Authorization \"\"; proxy_pass http://model; } }"

# Every configuration must answer the same request with 200 before it is measured.
for port in $upstream_port $proxy_port $keycheck_port $keywarden_port; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"model":"echo-1","messages":[]}' "http://127.0.0.1:$port/v1/chat/completions")
  [ "$status" = 200 ] || { echo "port $port answered $status" >&2; cat "$work/keywarden.log" >&2; exit 1; }
done

# The processes that serve a port: Keywarden, or an nginx master and its workers.
serving() { # port
  case $1 in
    $keywarden_port) echo "$keywarden" ;;
    $upstream_port) server_pids upstream ;;
    $proxy_port) server_pids proxy ;;
    $keycheck_port) server_pids keycheck ;;
  esac
}
server_pids() { # nginx configuration name
  local master
  master=$(cat "$work/nginx-$1.pid")
  echo "$master" $(pgrep -P "$master")
}
# CPU seconds (user + system) the processes have used so far.
cpu_seconds() { # pids...
  local ticks=0 pid fields
  for pid in "$@"; do
    fields=$(sed 's/^.*) //' "/proc/$pid/stat")
    ticks=$((ticks + $(echo "$fields" | awk '{print $12 + $13}')))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.3f", t / hz}'
}

peak_rss=0
measure() { # label, port, key, [delay ms]
  local label=$1 port=$2
  KEY=$3 DELAY_MS=${4:-} wrk -t1 -c"$connections" -d2s -s "$here/chat.lua" "http://127.0.0.1:$port/v1/chat/completions" >/dev/null
  local pids before
  pids=$(serving "$port")
  # shellcheck disable=SC2086
  before=$(cpu_seconds $pids)
  KEY=$3 DELAY_MS=${4:-} wrk -t1 -c"$connections" -d"${duration}s" --latency -s "$here/chat.lua" \
    "http://127.0.0.1:$port/v1/chat/completions" >"$work/$label.txt" &
  local load=$!
  while kill -0 $load 2>/dev/null; do
    if [ "$port" = $keywarden_port ]; then
      local now
      now=$(awk '/^VmRSS/ {print $2}' "/proc/$keywarden/status")
      [ "$now" -gt "$peak_rss" ] && peak_rss=$now
    fi
    sleep 0.2
  done
  wait $load
  # shellcheck disable=SC2086
  echo "cpu: $(awk -v a="$before" -v b="$(cpu_seconds $pids)" 'BEGIN {printf "%.3f", b - a}')" >>"$work/$label.txt"
}

idle_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$keywarden/status")
echo "wrk -t1 -c$connections -d${duration}s, POST /v1/chat/completions ($(nproc) cores, all processes on loopback)"
measure upstream $upstream_port ""
measure proxy $proxy_port ""
measure keycheck $keycheck_port "$key"
measure keywarden $keywarden_port "$key"

# Half of Keywarden's rate, paced: each connection waits DELAY_MS between requests.
keywarden_rate=$(awk '/Requests\/sec/ {print $2}' "$work/keywarden.txt")
delay=$(awk -v c="$connections" -v r="$keywarden_rate" 'BEGIN {d = int(c * 1000 / (r / 2) + 0.5); print (d < 1 ? 1 : d)}')
measure half-upstream $upstream_port "" "$delay"
measure half-keywarden $keywarden_port "$key" "$delay"

python3 "$here/report.py" \
  "upstream direct=$work/upstream.txt" "nginx reverse proxy=$work/proxy.txt" \
  "nginx key check (map)=$work/keycheck.txt" "keywarden (auth+limits+metering)=$work/keywarden.txt" \
  "half-load upstream direct=$work/half-upstream.txt" "half-load keywarden=$work/half-keywarden.txt"
echo "half load: ${delay} ms between requests per connection (target $(awk -v r="$keywarden_rate" 'BEGIN {printf "%.0f", r / 2}') req/s)"
echo "keywarden resident memory: idle $((idle_rss / 1024)) MiB, peak under load $((peak_rss / 1024)) MiB"

echo
echo "streaming (1 GiB each way):"
"$here/streaming.sh" "$binary"
