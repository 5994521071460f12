#!/usr/bin/env python3
"""Runs a corpus through `keywarden phone inspect --jsonl` and reports agreement with
libphonenumber's answers recorded in it.

    python3 Tools/phone-metadata/compare.py CORPUS [--keywarden .build/debug/keywarden] [--show 20]

CORPUS is a file written by corpus.py (.jsonl or .jsonl.gz). Exits 1 when any case disagrees
on valid, region, type or e164, or when fewer than 99.9% agree on every field.
"""
import argparse
import gzip
import json
import subprocess
import sys

FIELDS = ["valid", "e164", "region", "type", "international", "national", "error"]
STRICT = ["valid", "region", "type", "e164"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("--keywarden", default=".build/debug/keywarden")
    parser.add_argument("--show", type=int, default=20)
    arguments = parser.parse_args()
    opener = gzip.open if arguments.corpus.endswith(".gz") else open
    with opener(arguments.corpus, "rt", encoding="utf-8") as handle:
        cases = [json.loads(line) for line in handle if line.strip()]
    request = "".join(json.dumps({"input": c["input"], "region": c["region"]}, ensure_ascii=False) + "\n" for c in cases)
    run = subprocess.run([arguments.keywarden, "phone", "inspect", "--jsonl"], input=request.encode("utf-8"),
                         capture_output=True, check=True)
    answers = [json.loads(line) for line in run.stdout.decode("utf-8").splitlines()]
    if len(answers) != len(cases):
        sys.exit("expected %d answers, got %d" % (len(cases), len(answers)))
    field_misses = {field: 0 for field in FIELDS}
    disagreements = []
    for case, answer in zip(cases, answers):
        wrong = [field for field in FIELDS if case["expected"][field] != answer.get(field)]
        for field in wrong:
            field_misses[field] += 1
        if wrong:
            disagreements.append((case, answer, wrong))
    total = len(cases)
    agree = total - len(disagreements)
    print("cases: %d, agree on every field: %d (%.3f%%)" % (total, agree, 100.0 * agree / total))
    for field in FIELDS:
        print("  %-13s %d disagree" % (field, field_misses[field]))
    for case, answer, wrong in disagreements[:arguments.show]:
        print("- input %r region %r: %s" % (case["input"], case["region"], ", ".join(
            "%s expected %r got %r" % (field, case["expected"][field], answer.get(field)) for field in wrong)))
    strict_misses = sum(field_misses[field] for field in STRICT)
    if strict_misses or agree < 0.999 * total:
        sys.exit(1)


if __name__ == "__main__":
    main()
