#!/usr/bin/env bash
# POST /v1/keys/verify, and its header form GET /v1/keys/verify, against GET /healthz on the same
# release server, measured in the same run with wrk on loopback: the server on core 0, wrk on
# core 1.
#
#   Benchmarks/keys-verify.sh [SECONDS] [CONNECTIONS]
#
# KEYWARDEN_BIN skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-32}
port=18089
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }; }

keywarden=${KEYWARDEN_BIN:-}
if [ -z "$keywarden" ]; then
  swift build -c release --product keywarden >/dev/null
  keywarden="$(swift build -c release --show-bin-path)/keywarden"
fi
data=$(mktemp -d /tmp/keywarden-bench.XXXXXX)
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')operator
# The benchmark measures keys, not accounts: its one account needs no confirmed email.
export KEYWARDEN_OPERATOR_TOKEN=$token KEYWARDEN_LOG_LEVEL=warning KEYWARDEN_BCRYPT_COST=4 KEYWARDEN_REQUIRE_EMAIL_CONFIRMATION=false
taskset -c 0 "$keywarden" serve --data-dir "$data" --port $port >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

base="http://127.0.0.1:$port"
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
session=$(curl -sf -H "Content-Type: application/json" "$base/v1/auth/signup" -d '{"email":"bench@example.com","password":"benchmark-password"}' | json "d['session_token']")
project=$(curl -sf -H "Content-Type: application/json" "$base/v1/organization/projects" -H "Authorization: Bearer $session" | json "d['data'][0]['id']")
verification=$(curl -sf -H "Content-Type: application/json" "$base/v1/organization/phone_verifications" -H "Authorization: Bearer $session" \
  -d '{"phone_number":"+1 201 555 0123"}' | json "d['id']")
code=$(python3 -c "import json; print([json.loads(l) for l in open('$data/outbox.jsonl')][-1]['body'].split('is ')[1][:6])")
curl -sf -H "Content-Type: application/json" "$base/v1/organization/phone_verifications/$verification/check" -H "Authorization: Bearer $session" \
  -d "{\"code\":\"$code\"}" >/dev/null
key=$(curl -sf -H "Content-Type: application/json" "$base/v1/organization/projects/$project/api_keys" -H "Authorization: Bearer $session" \
  -d '{"name":"bench"}' | json "d['value']")
answer=$(curl -sf -H "Content-Type: application/json" "$base/v1/keys/verify" -H "Authorization: Bearer $token" -d "{\"key\":\"$key\"}")
[[ $answer == *'"valid":true'* ]] || { echo "verify did not accept the key: $answer"; exit 1; }

cat >"$data/verify.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"key":"$key"}'
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
LUA
cat >"$data/verify-get.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Keywarden-Key"] = "$key"
LUA
run() { taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
run "$base/healthz" >/dev/null  # warm-up
health=$(run "$base/healthz")
verify=$(run -s "$data/verify.lua" "$base/v1/keys/verify")
by_header=$(run -s "$data/verify-get.lua" "$base/v1/keys/verify")
echo "GET  /healthz                          ${health} requests/s"
echo "POST /v1/keys/verify                   ${verify} requests/s"
echo "GET  /v1/keys/verify (Keywarden-Key)   ${by_header} requests/s"
python3 -c "print('ratio POST verify / healthz: %.2f' % ($verify / $health))"
python3 -c "print('ratio GET verify / healthz:  %.2f' % ($by_header / $health))"
