#!/usr/bin/env python3
"""The Python port (phonenumbers) as a whole process doing what `keywarden phone inspect --jsonl`
does: {"input", "region"} lines on standard input, one JSON line per number on standard output
with the same fields, computed as the conformance corpus computes them."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tools", "phone-metadata"))

from corpus import expected  # noqa: E402


def main():
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError:
            out.write('{"error":"invalid_request_line"}\n')
            continue
        answer = {"input": request["input"], **expected(request["input"], request.get("region"))}
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
