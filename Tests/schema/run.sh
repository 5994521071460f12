#!/usr/bin/env bash
# Runs schemathesis (every check, every operation) against a fresh server with the echo
# upstream, once with a session token and once with an admin key as the people's credential.
# Usage: Tests/schema/run.sh [path/to/keywarden]; PYTHON names an interpreter with
# Tests/schema/requirements.txt installed.
set -euo pipefail
python=${PYTHON:-python3}
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:-}
if [ -z "$binary" ]; then
  (cd "$root" && swift build --product keywarden >&2)
  binary="$root/.build/debug/keywarden"
fi
port=${KEYWARDEN_SCHEMA_PORT:-18090}
data=$(mktemp -d)
server=
trap 'if [ -n "$server" ]; then kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; fi; rm -rf "$data"' EXIT

export KW_OPERATOR_TOKEN=operator-token-for-the-schema-run-0123456789
KEYWARDEN_OPERATOR_TOKEN=$KW_OPERATOR_TOKEN KEYWARDEN_BCRYPT_COST=4 \
  KEYWARDEN_RATE_LIMIT_TIERS="schema: rpm=10000000 tpm=10000000000" \
  KEYWARDEN_LOGIN_ATTEMPTS_PER_ACCOUNT=10000 KEYWARDEN_LOGIN_ATTEMPTS_PER_ADDRESS=100000 \
  KEYWARDEN_SIGNUPS_PER_ADDRESS_PER_HOUR=1000000 \
  "$binary" serve --upstream echo --port "$port" --data-dir "$data" --log-level warning >"$data/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  "$python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
    "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { cat "$data/server.log" >&2; exit 1; }
  sleep 0.1
done
eval "$("$python" "$root/Tests/schema/credentials.py" "http://127.0.0.1:$port" "$data")"

status=0
cd "$root/Tests/schema"
for credential in session admin; do
  if [ "$credential" = admin ]; then export KW_SESSION=$KW_ADMIN_KEY; fi
  echo "== schemathesis, people authenticated by their $credential credential" >&2
  "$python" -m schemathesis.cli --no-color run "http://127.0.0.1:$port/openapi.yaml" \
    --url "http://127.0.0.1:$port" --checks all --workers 1 \
    --max-examples "${KEYWARDEN_SCHEMA_EXAMPLES:-25}" --seed "${KEYWARDEN_SCHEMA_SEED:-1}" \
    || status=$?
done
if grep -E " (error|critical) " "$data/server.log" >&2; then
  echo "the server logged errors during the schema run" >&2
  status=1
fi
kill -0 $server 2>/dev/null || { echo "the server died during the schema run" >&2; status=1; }
exit $status
