#!/usr/bin/env bash
# Phone-number throughput: the Swift PhoneNumbers library (release build) against the Python
# port of libphonenumber on the same corpus, in the same run, one core each.
#
#   Benchmarks/phone-numbers.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
python3 -m pip install -q -r Tools/phone-metadata/requirements.txt
corpus=$(mktemp /tmp/phone-corpus.XXXXXX.jsonl)
trap 'rm -f "$corpus"' EXIT
python3 Tools/phone-metadata/corpus.py --seed 7 --out "$corpus" >/dev/null
swift build -c release --product phone-numbers-benchmark >/dev/null
binary=$(swift build -c release --show-bin-path)/phone-numbers-benchmark

swift_line=$(taskset -c 0 "$binary" "$corpus" "$rounds" | tee /dev/stderr | grep '^swift:')
python_line=$(taskset -c 0 python3 Benchmarks/phone_numbers_python.py "$corpus" "$rounds" | tee /dev/stderr)
swift_rate=$(sed -E 's/.*= ([0-9]+) numbers\/s.*/\1/' <<<"$swift_line")
python_rate=$(sed -E 's/.*= ([0-9]+) numbers\/s.*/\1/' <<<"$python_line")
echo "ratio: swift / python = $(python3 -c "print('%.1f' % ($swift_rate / $python_rate))")x"
