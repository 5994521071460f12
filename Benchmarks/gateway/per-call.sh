#!/usr/bin/env bash
# What one gateway call costs Keywarden, for each binary given, in the same run: CPU microseconds,
# context switches (thread hand-offs and wake-ups) and malloc calls per call, under wrk load
# against the nginx `return 200` upstream of run.sh, all on loopback.
#
#   Benchmarks/gateway/per-call.sh BINARY [BINARY...]   (e.g. the previous release and this one)
#
# Needs perf; counting malloc calls needs a uprobe on libc's malloc (root), and is skipped
# without one. Each binary gets a fresh data directory and key.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${SECONDS_PER_RUN:-5}
connections=${CONNECTIONS:-50}
command -v perf >/dev/null || { echo "per-call.sh needs perf (Debian: linux-perf)" >&2; exit 1; }
binary=${1:?usage: per-call.sh BINARY [BINARY...]}
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

upstream_port=18191 keywarden_port=18194
start_upstream

malloc_event=
perf probe -q -x "$(ldconfig -p | awk '/libc.so.6 .*x86-64/ {print $NF; exit}')" --add malloc 2>/dev/null || true
if perf probe -l 2>/dev/null | grep -q 'probe_libc:malloc'; then malloc_event=probe_libc:malloc; fi

# CPU ticks of a process's threads, split into its event loops (NIO-...) and every other thread.
thread_ticks() { # pid
  for task in /proc/"$1"/task/*; do
    local name ticks
    name=$(cat "$task/comm")
    ticks=$(sed 's/^.*) //' "$task/stat" | awk '{print $12 + $13}')
    case $name in NIO-*) echo "loop $ticks" ;; *) echo "other $ticks" ;; esac
  done | awk '{t[$1] += $2} END {printf "%d %d\n", t["loop"], t["other"]}'
}

load() { # seconds
  KEY=$key wrk -t1 -c"$connections" -d"$1s" -s "$here/chat.lua" "http://127.0.0.1:$keywarden_port/v1/chat/completions" \
    | awk '/requests in/ {print $1}'
}

printf '%-40s %8s %12s %14s %12s %14s\n' binary "req/s" "CPU us/call" "switches/call" "mallocs/call" "CPU off loops"
for binary in "$@"; do
  data="$work/data-$(basename "$binary")-$RANDOM"
  KEYWARDEN_RATE_LIMIT_TIERS="bench: rpm=100000000 tpm=1000000000000" \
    "$binary" serve --port $keywarden_port --data-dir "$data" --upstream-url "http://127.0.0.1:$upstream_port" \
    --log-level warning >"$work/keywarden.log" 2>&1 &
  keywarden=$!
  pids+=($keywarden)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$keywarden_port/readyz" >/dev/null && break; sleep 0.1; done
  key=$(KEYWARDEN_SDK_BASE_URL="http://127.0.0.1:$keywarden_port" KEYWARDEN_SDK_DATA_DIR="$data" python3 "$here/make_key.py")
  load 2 >/dev/null
  read -r loop_before other_before < <(thread_ticks $keywarden)
  perf stat -x, -e task-clock,context-switches -p $keywarden -o "$work/stat.txt" -- sleep "$seconds" &
  stat=$!
  requests=$(load "$seconds")
  wait $stat
  read -r loop_after other_after < <(thread_ticks $keywarden)
  off_loops=$(awk -v l=$((loop_after - loop_before)) -v o=$((other_after - other_before)) \
    'BEGIN {printf "%.1f%%", (l + o) ? 100 * o / (l + o) : 0}')
  cpu_ms=$(awk -F, '/task-clock/ {print $1}' "$work/stat.txt")
  switches=$(awk -F, '/context-switches/ {print $1}' "$work/stat.txt")
  mallocs=-
  if [ -n "$malloc_event" ]; then
    perf stat -x, -e "$malloc_event" -p $keywarden -o "$work/malloc.txt" -- sleep 3 &
    stat=$!
    counted=$(load 3)
    wait $stat
    mallocs=$(awk -F, -v n="$counted" '/malloc/ {printf "%.1f", $1 / n}' "$work/malloc.txt")
  fi
  awk -v b="$binary" -v r="$requests" -v s="$seconds" -v c="$cpu_ms" -v w="$switches" -v m="$mallocs" -v o="$off_loops" \
    'BEGIN {printf "%-40s %8.0f %12.1f %14.2f %12s %14s\n", b, r / s, c * 1000 / r, w / r, m, o}'
  kill $keywarden
  wait $keywarden 2>/dev/null || true
done
