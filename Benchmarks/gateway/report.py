"""Reads wrk --latency outputs named on the command line as LABEL=FILE and prints the table."""

import re
import sys


def seconds(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def read(path):
    text = open(path).read()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    latency = {p: seconds(v) for p, v in re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)", text, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket = re.search(r"Socket errors: (.*)", text)
    return rate, latency.get("50"), latency.get("99"), int(errors.group(1)) if errors else 0, socket


runs = dict(argument.split("=", 1) for argument in sys.argv[1:])
rows = {label: read(path) for label, path in runs.items()}
print(f"{'configuration':<34} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
for label, (rate, p50, p99, errors, _) in rows.items():
    print(f"{label:<34} {rate:>10.0f} {p50 * 1000:>8.3f} {p99 * 1000:>8.3f} {errors:>8}")
full = {label: row for label, row in rows.items() if not label.startswith("half-load")}
keywarden = full.get("keywarden (auth+limits+metering)")
if keywarden:
    for baseline in ("nginx key check (map)", "nginx reverse proxy", "upstream direct"):
        if baseline in full:
            print(f"keywarden / {baseline:<28} {keywarden[0] / full[baseline][0]:.2f}x throughput")
half_keywarden = rows.get("half-load keywarden")
half_upstream = rows.get("half-load upstream direct")
if half_keywarden and half_upstream:
    added = (half_keywarden[2] - half_upstream[2]) * 1000
    print(f"p99 added by keywarden at half load: {added:.3f} ms (p50 {(half_keywarden[1] - half_upstream[1]) * 1000:.3f} ms)")
