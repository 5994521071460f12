#!/usr/bin/env bash
# The API keys page of a signed-in person with 100 keys, against GET /healthz on the same release
# server in the same run: wrk on loopback with one connection (the server on core 0, wrk on
# core 1), so the median latency is the time the server takes to render the page.
#
#   Benchmarks/dashboard.sh [SECONDS] [KEYS]
# KEYWARDEN_BIN skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
keys=${2:-100}
port=18090
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }; }

keywarden=${KEYWARDEN_BIN:-}
if [ -z "$keywarden" ]; then
  swift build -c release --product keywarden >/dev/null
  keywarden="$(swift build -c release --show-bin-path)/keywarden"
fi
data=$(mktemp -d /tmp/keywarden-bench.XXXXXX)
# The benchmark measures pages, not accounts: its one account needs no confirmed email.
export KEYWARDEN_LOG_LEVEL=warning KEYWARDEN_BCRYPT_COST=4 KEYWARDEN_REQUIRE_EMAIL_CONFIRMATION=false
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
for i in $(seq "$keys"); do
  curl -sf -H "Content-Type: application/json" "$base/v1/organization/projects/$project/api_keys" -H "Authorization: Bearer $session" \
    -d "{\"name\":\"key $i\"}" >/dev/null
done
# The browser's session cookie holds the same session token the API signed up with.
cookie="keywarden_session=$session"
page=$(curl -sf "$base/api-keys" -H "Cookie: $cookie")
shown=$(grep -c 'key [0-9]' <<<"$page" || true)
[ "$shown" -ge "$keys" ] || { echo "the page shows $shown of $keys keys"; exit 1; }

cat >"$data/page.lua" <<LUA
wrk.headers["Cookie"] = "$cookie"
LUA
run() { # prints requests/s and the median latency in ms
  taskset -c 1 wrk -t1 -c1 -d"${seconds}s" --latency "$@" | awk '
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }; p50 = v }
    END { printf "%s %.3f\n", rps, p50 }'
}
run "$base/healthz" >/dev/null  # warm-up
read -r health_rps health_p50 < <(run "$base/healthz")
read -r page_rps page_p50 < <(run -s "$data/page.lua" "$base/api-keys")
echo "GET /healthz                    ${health_rps} requests/s, median ${health_p50} ms"
echo "GET /api-keys ($keys keys, signed in)  ${page_rps} requests/s, median ${page_p50} ms"
python3 -c "print('page median minus /healthz median: %.3f ms; throughput ratio page / healthz: %.2f' % ($page_p50 - $health_p50, $page_rps / $health_rps))"
