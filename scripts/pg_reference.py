#!/usr/bin/env python3
"""The limit for `warden bench store --database`: the same rows written into a table shaped like
Warden's event log by the plainest client loops, psycopg's COPY and batched INSERT, one
transaction per batch, on the same server in the same run.

    warden simulate --events 200000 --seed 11 > /tmp/events.ndjson
    scripts/pg_reference.py --url postgres://… --events-file /tmp/events.ndjson [--batch 1000] [--json]

Needs psycopg (pip install "psycopg[binary]"). Creates and drops a table of its own
(`event_reference`); the database is otherwise untouched.
"""
import argparse
import json
import sys
import time

import psycopg


def rows_from(path):
    rows = []
    with open(path, "rb") as handle:
        for seq, line in enumerate(handle, start=1):
            line = line.strip()
            if not line:
                continue
            event = json.loads(line)
            entities = []
            actor = event.get("actor")
            if actor:
                entities.append(f"{actor['type']}:{actor['id']}")
            for kind, value in (event.get("entities") or {}).items():
                entities.append(f"{kind}:{value}")
            rows.append((seq, event["id"], event["type"], 0, 0, "\n".join(entities), line.decode()))
    return rows


def measure(url, rows, batch, method):
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS event_reference")
        connection.execute("""
            CREATE TABLE event_reference (
                seq bigint PRIMARY KEY, id text NOT NULL UNIQUE, type text NOT NULL, occurred_at bigint NOT NULL,
                received_at bigint NOT NULL, entities text NOT NULL, body text NOT NULL)""")
        connection.execute("CREATE INDEX event_reference_by_type ON event_reference (type, seq)")
        connection.autocommit = False
        latencies = []
        started = time.perf_counter()
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            begun = time.perf_counter()
            with connection.cursor() as cursor:
                if method == "copy":
                    with cursor.copy("COPY event_reference (seq, id, type, occurred_at, received_at, entities, body) FROM STDIN") as copy:
                        for row in chunk:
                            copy.write_row(row)
                else:
                    cursor.executemany("INSERT INTO event_reference VALUES (%s, %s, %s, %s, %s, %s, %s)", chunk)
            connection.commit()
            latencies.append(time.perf_counter() - begun)
        seconds = time.perf_counter() - started
        connection.autocommit = True
        connection.execute("DROP TABLE event_reference")
    latencies.sort()
    return {
        "method": method, "events": len(rows), "batch": batch, "seconds": round(seconds, 3),
        "events_per_sec": int(len(rows) / seconds),
        "commit_p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "commit_p99_ms": round(latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)] * 1000, 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="postgres:// URL of the database to use")
    parser.add_argument("--events-file", required=True, help="NDJSON events (warden simulate)")
    parser.add_argument("--batch", type=int, default=1000, help="rows per transaction (default 1000)")
    parser.add_argument("--method", choices=["copy", "insert", "both"], default="both")
    parser.add_argument("--json", action="store_true", help="print one JSON object per method")
    args = parser.parse_args()
    rows = rows_from(args.events_file)
    if not rows:
        sys.exit(f"{args.events_file} holds no events")
    for method in (["copy", "insert"] if args.method == "both" else [args.method]):
        result = measure(args.url, rows, args.batch, method)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"psycopg {method}: {result['events']} rows in {result['seconds']}s: {result['events_per_sec']} rows/s "
                  f"(transactions of {args.batch}; commit p50 {result['commit_p50_ms']} ms, p99 {result['commit_p99_ms']} ms)")


if __name__ == "__main__":
    main()
