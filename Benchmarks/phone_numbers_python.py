#!/usr/bin/env python3
"""Times the Python port (phonenumbers) on a corpus: parse + is_valid_number + number_type +
region_code_for_number per input, best of ROUNDS, one core."""
import json
import sys
import time

import phonenumbers


def main():
    corpus_path = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with open(corpus_path, encoding="utf-8") as handle:
        corpus = [(line["input"], line["region"]) for line in map(json.loads, handle) if line]
    parse, is_valid, number_type, region_for = (phonenumbers.parse, phonenumbers.is_valid_number,
                                                phonenumbers.number_type, phonenumbers.region_code_for_number)

    def run_once():
        for text, region in corpus:
            try:
                number = parse(text, region)
            except phonenumbers.NumberParseException:
                continue
            is_valid(number)
            number_type(number)
            region_for(number)

    run_once()
    best = min(timed(run_once) for _ in range(rounds))
    print("python: %d numbers in %.3f s (best of %d) = %.0f numbers/s" % (len(corpus), best, rounds, len(corpus) / best))


def timed(body):
    start = time.perf_counter()
    body()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
