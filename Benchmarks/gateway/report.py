"""Reads wrk --latency outputs named on the command line as LABEL=FILE and prints the table.

A file may end with `cpu: SECONDS`, the CPU time (user and system) the server under test used
during the run: the table then shows its CPU microseconds per request."""

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
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    cpu = re.search(r"^cpu: ([\d.]+)", text, re.M)
    per_call = float(cpu.group(1)) * 1e6 / requests if cpu and requests else None
    return rate, latency.get("50"), latency.get("99"), int(errors.group(1)) if errors else 0, socket, per_call


runs = dict(argument.split("=", 1) for argument in sys.argv[1:])
rows = {label: read(path) for label, path in runs.items()}
print(f"{'configuration':<34} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'CPU us/req':>11}")
for label, (rate, p50, p99, errors, _, per_call) in rows.items():
    cpu = f"{per_call:>11.1f}" if per_call is not None else f"{'-':>11}"
    print(f"{label:<34} {rate:>10.0f} {p50 * 1000:>8.3f} {p99 * 1000:>8.3f} {errors:>8} {cpu}")
full = {label: row for label, row in rows.items() if not label.startswith("half-load")}
keywarden = full.get("keywarden (auth+limits+metering)")
if keywarden:
    for baseline in ("nginx key check (map)", "nginx reverse proxy", "upstream direct"):
        if baseline in full:
            print(f"keywarden / {baseline:<28} {keywarden[0] / full[baseline][0]:.2f}x throughput")
    key_check = full.get("nginx key check (map)")
    if key_check and keywarden[5] and key_check[5]:
        print(f"CPU per request, keywarden / nginx key check: {keywarden[5] / key_check[5]:.2f}x")
half_keywarden = rows.get("half-load keywarden")
half_upstream = rows.get("half-load upstream direct")
if half_keywarden and half_upstream:
    added = (half_keywarden[2] - half_upstream[2]) * 1000
    print(f"p99 added by keywarden at half load: {added:.3f} ms (p50 {(half_keywarden[1] - half_upstream[1]) * 1000:.3f} ms)")
