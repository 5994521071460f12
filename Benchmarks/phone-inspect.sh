#!/usr/bin/env bash
# `keywarden phone inspect --jsonl` against the Python port doing the same as a whole process
# (Benchmarks/phone_inspect_python.py), over the committed conformance corpus, in the same run,
# both on one core: start-up, reading, parsing, validating, formatting and writing included.
#
#   Benchmarks/phone-inspect.sh [ROUNDS]
#
# KEYWARDEN_BIN skips the release build. Each side's time is the best of ROUNDS (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
python3 -m pip install -q -r Tools/phone-metadata/requirements.txt
keywarden=${KEYWARDEN_BIN:-}
if [ -z "$keywarden" ]; then
  swift build -c release --product keywarden >/dev/null
  keywarden="$(swift build -c release --show-bin-path)/keywarden"
fi
work=$(mktemp -d /tmp/phone-inspect.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 - "$work/input.jsonl" <<'PY'
import gzip, json, sys
with gzip.open("Tests/PhoneNumbersTests/Corpus/corpus.jsonl.gz", "rt", encoding="utf-8") as corpus, \
        open(sys.argv[1], "w", encoding="utf-8") as out:
    for line in corpus:
        case = json.loads(line)
        out.write(json.dumps({"input": case["input"], "region": case["region"]}, ensure_ascii=False) + "\n")
PY
best() { # command...
  local fastest=
  for _ in $(seq "$rounds"); do
    local started ended
    started=$(date +%s.%N)
    taskset -c 0 "$@" <"$work/input.jsonl" >"$work/out.jsonl"
    ended=$(date +%s.%N)
    fastest=$(awk -v a="$fastest" -v t="$(awk -v s="$started" -v e="$ended" 'BEGIN {print e - s}')" \
      'BEGIN {print (a == "" || t < a) ? t : a}')
  done
  echo "$fastest"
}
swift=$(best "$keywarden" phone inspect --jsonl)
cp "$work/out.jsonl" "$work/swift.jsonl"
python=$(best python3 Benchmarks/phone_inspect_python.py)
python3 - "$work/swift.jsonl" "$work/out.jsonl" <<'PY'
import json, sys
swift, python = (open(path, encoding="utf-8").read().splitlines() for path in sys.argv[1:])
assert len(swift) == len(python), (len(swift), len(python))
same = sum(json.loads(a) == json.loads(b) for a, b in zip(swift, python))
print(f"{len(swift)} numbers; the two agree on {same} of them")
PY
echo "keywarden phone inspect --jsonl  ${swift} s (best of $rounds, whole process)"
echo "python phone_inspect_python.py   ${python} s (best of $rounds, whole process)"
awk -v s="$swift" -v p="$python" 'BEGIN {printf "ratio: python / keywarden = %.1fx\n", p / s}'
