#!/usr/bin/env python3
"""The reference point for the store: a plain SQLite insert loop of rows shaped like Warden's
events (id, type, time, ~300-byte JSON body), batches of 1,000 per transaction, WAL."""
import argparse, json, os, sqlite3, tempfile, time

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=300_000)
args = parser.parse_args()
body = json.dumps({"id": "evt_000000", "type": "message.sent", "occurred_at": "2026-11-23T10:00:00Z",
                   "actor": {"type": "user", "id": "u12345"}, "entities": {"ip": "203.0.113.7", "device": "d9x7k2"},
                   "data": {"text": "hey are we still on for tomorrow?", "recipient": "u54321"}})
results = {}
for synchronous in ("NORMAL", "FULL"):
    with tempfile.TemporaryDirectory() as directory:
        db = sqlite3.connect(os.path.join(directory, "baseline.sqlite"), isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.execute("CREATE TABLE event (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, occurred_at INTEGER NOT NULL, body TEXT NOT NULL)")
        started = time.perf_counter()
        for start in range(0, args.rows, 1000):
            db.execute("BEGIN")
            db.executemany("INSERT INTO event (id, type, occurred_at, body) VALUES (?, ?, ?, ?)",
                           ((f"evt_{i}", "message.sent", 1795428000000 + i, body) for i in range(start, min(start + 1000, args.rows))))
            db.execute("COMMIT")
        results[synchronous] = int(args.rows / (time.perf_counter() - started))
        db.close()
print(json.dumps({"rows": args.rows, "rows_per_sec_synchronous_normal": results["NORMAL"], "rows_per_sec_synchronous_full": results["FULL"]}))
