#!/usr/bin/env python3
"""The reference point for rule evaluation (issue #3): a Python loop of orjson.loads over the same
NDJSON file `warden bench rules --events FILE` reads. Prints one JSON object: the best of three
passes in lines per second."""
import json, subprocess, sys, time

try:
    import orjson
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "orjson"], check=True)
    import orjson

if len(sys.argv) != 2:
    sys.exit("usage: orjson_baseline.py EVENTS.ndjson")
with open(sys.argv[1], "rb") as file:
    lines = [line for line in file.read().split(b"\n") if line]
rates = []
for _ in range(3):
    started = time.perf_counter()
    for line in lines:
        orjson.loads(line)
    rates.append(len(lines) / (time.perf_counter() - started))
print(json.dumps({"lines": len(lines), "orjson_lines_per_sec": int(max(rates))}))
