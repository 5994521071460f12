#!/usr/bin/env bash
# Regenerates the README's screenshots (docs/screenshots/*.png, 1280x800) from a fresh server.
# Usage: Tests/browser/screenshots.sh [path/to/keywarden]; PYTHON names an interpreter with
# Tests/browser/requirements.txt installed. Needs Debian's chromium and chromium-driver.
set -euo pipefail
python=${PYTHON:-python3}
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:-}
if [ -z "$binary" ]; then
  (cd "$root" && swift build --product keywarden >&2)
  binary="$root/.build/debug/keywarden"
fi
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
KEYWARDEN_BINARY="$binary" "$python" "$root/Tests/browser/screenshots.py" "$root/docs/screenshots"
