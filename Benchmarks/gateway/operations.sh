#!/usr/bin/env bash
# What the operations features cost the gateway: the same release build in front of the same
# nginx upstream, wrk on loopback, one configuration after another in one run:
#
#   baseline        no metrics, the access log filtered out by the log level (warning)
#   metrics         metrics_port set (every request counted and timed by route group and status)
#   metrics + log   metrics, log_format=json and the access log at info level to a rotated file
#
# Each is reported as requests/s, p50/p99, and as a ratio to the baseline measured in the same run.
#
# Usage: Benchmarks/gateway/operations.sh [seconds per run, default 10] [connections, default 50]
# KEYWARDEN_BIN skips the release build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
duration=${1:-10}
connections=${2:-50}

. "$here/prerequisites.sh"

work=$(mktemp -d)
keywarden=""
cleanup() {
  stop_nginx
  [ -n "$keywarden" ] && kill "$keywarden" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

upstream_port=18281 keywarden_port=18284 metrics_port=18285
start_upstream

start() { # extra environment assignments
  env KEYWARDEN_RATE_LIMIT_TIERS="bench: rpm=100000000 tpm=1000000000000" "$@" \
    "$binary" serve --port $keywarden_port --data-dir "$work/data" --upstream-url "http://127.0.0.1:$upstream_port" \
    >>"$work/keywarden.log" 2>&1 &
  keywarden=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$keywarden_port/readyz" >/dev/null && return; sleep 0.1; done
  echo "keywarden did not start" >&2
  cat "$work/keywarden.log" >&2
  exit 1
}
stop() {
  kill "$keywarden"
  wait "$keywarden" 2>/dev/null || true
  keywarden=""
}
measure() { # label
  KEY=$key wrk -t1 -c"$connections" -d2s -s "$here/chat.lua" "http://127.0.0.1:$keywarden_port/v1/chat/completions" \
    >/dev/null
  KEY=$key wrk -t1 -c"$connections" -d"${duration}s" --latency -s "$here/chat.lua" \
    "http://127.0.0.1:$keywarden_port/v1/chat/completions" >"$work/$1.txt"
}

start KEYWARDEN_LOG_LEVEL=warning
export KEYWARDEN_SDK_BASE_URL="http://127.0.0.1:$keywarden_port" KEYWARDEN_SDK_DATA_DIR="$work/data"
key=$(python3 "$here/make_key.py")
echo "wrk -t1 -c$connections -d${duration}s, POST /v1/chat/completions ($(nproc) cores, all processes on loopback)"
measure baseline
stop

start KEYWARDEN_LOG_LEVEL=warning KEYWARDEN_METRICS_PORT=$metrics_port
measure metrics
series=$(curl -sf "http://127.0.0.1:$metrics_port/metrics" | grep -c '^keywarden_' || true)
gateway_calls=$(curl -sf "http://127.0.0.1:$metrics_port/metrics" \
  | awk '/^keywarden_gateway_calls_total\{status="200"\}/ {print $2}')
stop

start KEYWARDEN_LOG_LEVEL=info KEYWARDEN_METRICS_PORT=$metrics_port KEYWARDEN_LOG_FORMAT=json \
  KEYWARDEN_ACCESS_LOG="$work/access.log"
measure metrics-and-log
stop
access_lines=$(cat "$work"/access.log* | wc -l)
access_bytes=$(cat "$work"/access.log* | wc -c)

python3 - "$work" <<'PY'
import re
import sys

work = sys.argv[1]


def read(label):
    text = open(f"{work}/{label}.txt").read()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    latency = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)", text, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return rate, latency.get("50"), latency.get("99"), int(errors.group(1)) if errors else 0


rows = {label: read(label) for label in ("baseline", "metrics", "metrics-and-log")}
base = rows["baseline"][0]
print(f"{'configuration':<18} {'req/s':>10} {'p50':>9} {'p99':>9} {'non-2xx':>8} {'vs baseline':>12}")
for label, (rate, p50, p99, errors) in rows.items():
    print(f"{label:<18} {rate:>10.0f} {p50:>9} {p99:>9} {errors:>8} {rate / base:>11.2f}x")
PY
echo "metrics run: $series keywarden_* sample lines in the scrape; keywarden_gateway_calls_total{status=\"200\"} $gateway_calls"
echo "access log of the last run: $access_lines lines, $access_bytes bytes"
