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
port=${KEYWARDEN_SDK_PORT:-18080}
data=$(mktemp -d)
# Roomy organization limits, so only the limits a test sets on a project bind.
KEYWARDEN_RATE_LIMIT_TIERS="sdk: rpm=100000 tpm=100000000" \
  "$binary" serve --upstream echo --port "$port" --data-dir "$data" --log-level warning >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  "$python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
    "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { cat "$data/server.log" >&2; exit 1; }
  sleep 0.1
done
export KEYWARDEN_SDK_BASE_URL="http://127.0.0.1:$port" KEYWARDEN_SDK_DATA_DIR="$data"
cd "$root/Tests/sdk"
status=0
"$python" -m pytest -q -p no:cacheprovider . || status=$?
if [ $status -ne 0 ]; then
  echo "--- server log ---" >&2
  tail -n 50 "$data/server.log" >&2
fi
exit $status
