#!/usr/bin/env bash
# Pricing and spend checks against none, same binary, same run: two Keywarden instances in front
# of one nginx upstream, one with model_prices (every call priced, checked against the credit
# balance, the organization's and the project's hard budgets, and debited), one without. They
# are measured in turns (off, on, on, off, off, on), and the ratio of their means is printed.
#
# Usage: Benchmarks/gateway/pricing.sh [seconds per run, default 10] [connections, default 50]
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

upstream_port=18191 off_port=18192 on_port=18193
start_upstream

start() { # name, port, [model prices]
  env KEYWARDEN_RATE_LIMIT_TIERS="bench: rpm=100000000 tpm=1000000000000" ${3:+KEYWARDEN_MODEL_PRICES="$3"} \
    "$binary" serve --port "$2" --data-dir "$work/$1" --upstream-url "http://127.0.0.1:$upstream_port" \
    --log-level warning >"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$2/readyz" >/dev/null && break; sleep 0.1; done
}
start off $off_port
start on $on_port "echo-1: input=0.15 output=0.60"

off_key=$(KEYWARDEN_SDK_BASE_URL="http://127.0.0.1:$off_port" KEYWARDEN_SDK_DATA_DIR="$work/off" \
  python3 "$here/make_key.py")
read -r organization on_key on_token < <(KEYWARDEN_SDK_BASE_URL="http://127.0.0.1:$on_port" KEYWARDEN_SDK_DATA_DIR="$work/on" \
  python3 "$here/make_priced_key.py")
KEYWARDEN_RATE_LIMIT_TIERS="bench: rpm=100000000 tpm=1000000000000" \
  "$binary" admin org grant-credits "$organization" 100000 --data-dir "$work/on" >/dev/null
sleep 3 # the refusal of the empty balance is looked at again after two seconds

for pair in "$off_port $off_key" "$on_port $on_key"; do
  set -- $pair
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
    -d '{"model":"echo-1","messages":[]}' "http://127.0.0.1:$1/v1/chat/completions")
  [ "$status" = 200 ] || { echo "port $1 answered $status" >&2; cat "$work"/*.log >&2; exit 1; }
done

off_pid=${pids[0]} on_pid=${pids[1]}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system CPU, in clock ticks
measure() { # label, port, key, pid
  KEY=$3 wrk -t1 -c"$connections" -d2s -s "$here/chat.lua" "http://127.0.0.1:$2/v1/chat/completions" >/dev/null
  local before
  before=$(ticks "$4")
  KEY=$3 wrk -t1 -c"$connections" -d"${duration}s" --latency -s "$here/chat.lua" \
    "http://127.0.0.1:$2/v1/chat/completions" >"$work/$1.txt"
  # CPU the instance spent per request served: steadier than throughput on a shared machine.
  awk -v used=$(($(ticks "$4") - before)) -v hz="$(getconf CLK_TCK)" \
    '/requests in/ {printf "%.1f\n", used * 1000000 / hz / $1}' "$work/$1.txt" >"$work/$1.cpu"
}
echo "wrk -t1 -c$connections -d${duration}s, POST /v1/chat/completions ($(nproc) cores, all processes on loopback)"
# In the order off, on, on, off, off, on, so a drift of the machine over the run weighs on both
# alike; each side's mean is compared.
order=(off on on off off on)
for index in "${!order[@]}"; do
  side=${order[$index]}
  if [ "$side" = off ]; then
    measure "off-$index" $off_port "$off_key" "$off_pid"
  else
    measure "on-$index" $on_port "$on_key" "$on_pid"
  fi
done
labels=()
for index in "${!order[@]}"; do
  side=${order[$index]}
  labels+=("pricing $side, run $((index + 1))=$work/$side-$index.txt")
done
python3 "$here/report.py" "${labels[@]}"
mean() { cat "$work/$1"-*.txt | awk '/Requests\/sec/ {sum += $2; n++} END {printf "%.0f", sum / n}'; }
cpu() { cat "$work/$1"-*.cpu | awk '{sum += $1; n++} END {printf "%.1f", sum / n}'; }
# The priced instance did price and debit what it served.
python3 - "http://127.0.0.1:$on_port" "$on_token" <<'PY'
import json, sys, time, urllib.request
time.sleep(2)  # usage is written every second
request = urllib.request.Request(sys.argv[1] + "/v1/organization/billing", headers={"Authorization": "Bearer " + sys.argv[2]})
billing = json.load(urllib.request.urlopen(request))
spent = 100_000_000_000 - billing["balance"]["micros"]
assert spent > 0, billing
print(f"the priced instance debited {billing['balance']['currency']} {spent / 1e6:.6f} for what it served")
PY
for index in "${!order[@]}"; do
  echo "run $((index + 1)) (pricing ${order[$index]}): $(cat "$work/${order[$index]}-$index.cpu") us of CPU per request"
done
echo "mean req/s: pricing off $(mean off), pricing on $(mean on)"
echo "mean CPU per request (Keywarden's process): pricing off $(cpu off) us, pricing on $(cpu on) us"
awk -v on="$(mean on)" -v off="$(mean off)" \
  'BEGIN {printf "pricing and spend checks on / off: %.3fx throughput (mean of three runs each)\n", on / off}'
awk -v on="$(cpu on)" -v off="$(cpu off)" \
  'BEGIN {printf "pricing and spend checks on / off: %.3fx CPU per request, so %.3fx the throughput CPU allows\n", on / off, off / on}'
