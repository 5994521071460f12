#!/usr/bin/env bash
# Runs the system suite (real processes, real sockets, kill -9) against a debug build.
# Usage: Tests/system/run.sh [path/to/keywarden]; PYTHON names an interpreter with pytest.
# With TEST_POSTGRES_URL set, the durability drill runs on PostgreSQL too.
set -euo pipefail
python=${PYTHON:-python3}
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:-}
if [ -z "$binary" ]; then
  (cd "$root" && swift build --product keywarden >&2)
  binary="$root/.build/debug/keywarden"
fi
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
cd "$root/Tests/system"
KEYWARDEN_BINARY="$binary" "$python" -m pytest -q -p no:cacheprovider .
