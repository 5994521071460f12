#!/usr/bin/env bash
# Runs the browser suite (headless Chromium under Selenium, with JavaScript on and off) against
# servers it starts itself with the echo upstream, one per test module.
# Usage: Tests/browser/run.sh [path/to/keywarden]; PYTHON names an interpreter with
# Tests/browser/requirements.txt installed. Needs Debian's chromium and chromium-driver
# (/usr/bin/chromium, /usr/bin/chromedriver) and zbarimg (zbar-tools), which reads the
# two-factor QR code back; .ci/run installs all three. A failing test leaves the screenshots and page
# sources of its steps, the browser log and the server log in $BROWSER_ARTIFACTS/<test>
# (default /tmp/keywarden-browser-artifacts).
set -euo pipefail
python=${PYTHON:-python3}
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:-}
if [ -z "$binary" ]; then
  (cd "$root" && swift build --product keywarden >&2)
  binary="$root/.build/debug/keywarden"
fi
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
cd "$root/Tests/browser"
KEYWARDEN_BINARY="$binary" "$python" -m pytest -q --tb=short -p no:cacheprovider .
