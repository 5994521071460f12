#!/usr/bin/env bash
# Runs the official openai SDK suite against a freshly started Keywarden with the echo upstream.
# Usage: Tests/sdk/run.sh [path/to/keywarden]   (default: a debug build)
# PYTHON names the interpreter that has Tests/sdk/requirements.txt installed (default python3).
set -euo pipefail
python=${PYTHON:-python3}
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:-}
if [ -z "$binary" ]; then
  (cd "$root" && swift build --product keywarden >&2)
  binary="$root/.build/debug/keywarden"
fi
# Absolute, for the tests that start servers of their own from Tests/sdk.
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
port=${KEYWARDEN_SDK_PORT:-18080}
server=
data=
trap 'if [ -n "$server" ]; then kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; fi; rm -rf "$data"' EXIT

# Runs the suite against a fresh server whose rate-limit buckets live in $1 (memory or database),
# forwarding to $2 (default: the echo upstream).
run_suite() {
  data=$(mktemp -d)
  # Roomy organization limits, so only the limits a test sets on a project bind.
  KEYWARDEN_RATE_LIMIT_TIERS="sdk: rpm=100000 tpm=100000000" KEYWARDEN_RATE_LIMIT_STORE=$1 \
    "$binary" serve --upstream "${2:-echo}" --port "$port" --data-dir "$data" --log-level warning >"$data/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do
    "$python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
      "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    kill -0 $server 2>/dev/null || { cat "$data/server.log" >&2; return 1; }
    sleep 0.1
  done
  local status=0
  echo "== rate-limit buckets in $1" >&2
  (cd "$root/Tests/sdk" && KEYWARDEN_SDK_BASE_URL="http://127.0.0.1:$port" KEYWARDEN_SDK_DATA_DIR="$data" \
    KEYWARDEN_SDK_BINARY="$binary" "$python" -m pytest -q -p no:cacheprovider .) || status=$?
  if [ $status -eq 0 ] && [ -n "${KEYWARDEN_METRICS_PORT:-}" ]; then
    # The run through an HTTP upstream must have had calls served on the fast path.
    "$python" - "http://127.0.0.1:$KEYWARDEN_METRICS_PORT/metrics" <<'PY' || status=$?
import re, sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
counts = dict(re.findall(r'^keywarden_fast_path_requests_total\{outcome="(\w+)"\} (\d+)', text, re.M))
print(f"fast path: served {counts.get('served', 0)}, handed on {counts.get('handed_on', 0)}", file=sys.stderr)
sys.exit(0 if int(counts.get("served", 0)) > 0 else 1)
PY
  fi
  if [ $status -ne 0 ]; then
    echo "--- server log ---" >&2
    tail -n 50 "$data/server.log" >&2
  fi
  kill $server 2>/dev/null || true
  wait $server 2>/dev/null || true
  server=
  rm -rf "$data"
  return $status
}

run_suite memory
run_suite database

# Once more with the gateway forwarding over HTTP to a second Keywarden that answers from its echo
# upstream: the calls go through the event-loop fast path and its upstream connections.
echo_port=${KEYWARDEN_SDK_ECHO_PORT:-18081}
echo_data=$(mktemp -d)
KEYWARDEN_RATE_LIMIT_TIERS="sdk: rpm=100000000 tpm=100000000000" \
  "$binary" serve --upstream echo --port "$echo_port" --data-dir "$echo_data" --log-level warning \
  >"$echo_data/server.log" 2>&1 &
echo_server=$!
trap 'kill $echo_server 2>/dev/null || true; if [ -n "$server" ]; then kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; fi; rm -rf "$data" "$echo_data"' EXIT
for _ in $(seq 1 100); do
  "$python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
    "http://127.0.0.1:$echo_port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo_key=$(cd "$root/Tests/sdk" && KEYWARDEN_SDK_BASE_URL="http://127.0.0.1:$echo_port" KEYWARDEN_SDK_DATA_DIR="$echo_data" \
  "$python" -c "from keywarden_account import Account; print(Account(email='upstream@example.com').key(name='upstream')[0])")
echo "== through an HTTP upstream (the fast path)" >&2
KEYWARDEN_UPSTREAM_AUTHORIZATION="Bearer $echo_key" KEYWARDEN_METRICS_PORT=${KEYWARDEN_SDK_METRICS_PORT:-18082} \
  run_suite memory "http://127.0.0.1:$echo_port"
