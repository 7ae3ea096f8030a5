#!/usr/bin/env python3
"""Three `warden serve` nodes on one PostgreSQL database, one killed mid-stream.

Simulated traffic goes to all three nodes from three senders, reviewers claim and decide cases on
all three, enforcement webhooks go to a receiver that verifies signatures and applies each
idempotency key once. The node that runs detection is killed with SIGKILL mid-stream and started
again later. Then, with everything caught up:

- every acknowledged event is in the log, and the log is dense;
- no signal is doubled, and detection's signals equal those a single SQLite node computes over the
  same log in the same order (velocity counters stayed exact across the takeover);
- no case was given to two reviewers, no subject has two open cases;
- every enforcement webhook reached the receiver, each key applied once, nothing left in the outbox;
- the audit chain verifies (`warden audit verify --database`);
- detection was taken over within 10 s, with the events it re-processed counted.

Needs a PostgreSQL server whose role may create databases (--postgres URL); scripts/test starts one.
Prints a JSON summary line (takeover time, events re-processed) for BENCHMARKS.md."""
import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit, urlunsplit
from webhook_receiver import WebhookReceiver

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACK = os.path.join(ROOT, "policies/example")
TOKEN = "wtok_multinode_admin_0123456789abcdef"
SECRET = "whsec_multinode"
FAILURES = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message, flush=True)
    if not condition:
        FAILURES.append(message)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def psql(url, sql):
    out = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-c", sql], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def create_database(server_url, name):
    subprocess.run(["psql", server_url, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", "-c", f"CREATE DATABASE {name}"],
                   check=True, capture_output=True)
    return urlunsplit(urlsplit(server_url)._replace(path="/" + name))


class Node:
    def __init__(self, binary, database, name, work, receiver):
        self.binary, self.database, self.name, self.port = binary, database, name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(work, f"{name}.log")
        self.env = dict(os.environ, WARDEN_BOOTSTRAP_TOKEN=TOKEN, WARDEN_WEBHOOK_URL=receiver.url, WARDEN_WEBHOOK_SECRET=SECRET)
        self.env.pop("WARDEN_DATABASE_URL", None)
        self.process = None

    def start(self):
        log = open(self.log_path, "a")
        self.process = subprocess.Popen([self.binary, "serve", "--database", self.database, "--port", str(self.port), "--policy-pack", PACK],
                                        stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT)
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(self.url + "/readyz", timeout=1).status == 200:
                    return
            except Exception:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError(f"node {self.name} did not become ready:\n" + open(self.log_path).read()[-3000:])

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def log(self):
        with open(self.log_path) as f:
            return f.read()


def call(url, body=None, token=TOKEN, content_type="application/json", timeout=15):
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET",
                                     headers={"Authorization": f"Bearer {token}", **({"Content-Type": content_type} if body is not None else {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw[:1] in (b"{", b"[") else raw)
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, (json.loads(raw) if raw[:1] in (b"{", b"[") else raw)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/warden"))
    parser.add_argument("--postgres", required=True, help="postgres:// URL of a server whose role may create databases")
    parser.add_argument("--events", type=int, default=12_000)
    parser.add_argument("--resume-limit", type=float, default=10.0,
                        help="seconds within which the new owner must commit new detection work (a debug build replays slower: scripts/test allows 30)")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="warden-multinode-")
    database = create_database(args.postgres, "warden_multinode")
    receiver = WebhookReceiver(SECRET)
    nodes = [Node(args.binary, database, name, work, receiver) for name in ("a", "b", "c")]
    summary = {}
    try:
        print(f"3 nodes on one PostgreSQL database; {args.events} simulated events; logs in {work}", flush=True)
        for node in nodes:
            node.start()
        reviewers = []
        for index in range(4):
            out = subprocess.run([args.binary, "tokens", "create", "--database", database, "--name", f"reviewer {index}", "--json",
                                  "--scope", "cases:read", "--scope", "cases:review"], check=True, capture_output=True, text=True, env=nodes[0].env).stdout
            reviewers.append(json.loads(out)["token"])

        events_path = os.path.join(work, "events.ndjson")
        subprocess.run([args.binary, "simulate", "--seed", "18", "--events", str(args.events), "--rate", "20", "--cycle", "10m", "--out", events_path,
                        "--start", "2026-11-20T00:00:00Z"], check=True, stderr=subprocess.DEVNULL)
        lines = [line for line in open(events_path, "rb").read().split(b"\n") if line]
        batches = [lines[i:i + 200] for i in range(0, len(lines), 200)]

        acknowledged, lock = set(), threading.Lock()
        live = list(nodes)
        pending = list(range(len(batches)))
        sent_half = threading.Event()
        stop_reviewing = threading.Event()
        refusals = {}

        def sender(seed):
            rng = random.Random(seed)
            while True:
                with lock:
                    if not pending:
                        return
                    index = pending.pop(0)
                    half = len(pending) <= len(batches) // 2
                if half:
                    sent_half.set()
                batch = batches[index]
                while True:
                    with lock:
                        node = rng.choice(live)
                    try:
                        status, _ = call(node.url + "/v1/events", b"\n".join(batch), content_type="application/x-ndjson")
                    except Exception:
                        status = None
                    if status == 200:
                        with lock:
                            acknowledged.update(json.loads(line)["id"] for line in batch)
                        break
                    time.sleep(0.2)
                time.sleep(0.3)

        claims, claims_lock = [], threading.Lock()

        def reviewer(token, seed):
            rng = random.Random(seed)
            queues = ["urgent", "scams", "harassment", "spam", "general"]
            while not stop_reviewing.is_set():
                with lock:
                    node = rng.choice(live)
                queue = rng.choice(queues)
                try:
                    status, claimed = call(node.url + f"/v1/queues/{queue}/next", b"{}", token=token)
                except Exception:
                    continue
                if status != 200:
                    if status != 204:
                        with claims_lock:
                            refusals[status] = refusals.get(status, 0) + 1
                    time.sleep(0.05)
                    continue
                with claims_lock:
                    claims.append((claimed["id"], token[-6:]))
                try:
                    status, answer = call(node.url + f"/v1/cases/{claimed['id']}/decision",
                                          json.dumps({"category": claimed["category"], "violation": True, "policy": "community-v1", "rationale": "multi-node test"}).encode(), token=token)
                    if status != 201:
                        status, answer = call(node.url + f"/v1/cases/{claimed['id']}/decision",
                                              json.dumps({"category": claimed["category"], "violation": False, "policy": "community-v1", "rationale": "multi-node test"}).encode(), token=token)
                    if status != 201:
                        detail = answer.get("detail", "") if isinstance(answer, dict) else ""
                        with claims_lock:
                            refusals[f"decision {status}: {detail[:80]}"] = refusals.get(f"decision {status}: {detail[:80]}", 0) + 1
                except Exception:
                    pass

        senders = [threading.Thread(target=sender, args=(i,)) for i in range(3)]
        workers = [threading.Thread(target=reviewer, args=(token, 100 + i)) for i, token in enumerate(reviewers)]
        started = time.time()
        for thread in senders + workers:
            thread.start()

        # Mid-stream: kill the node that runs detection.
        sent_half.wait(timeout=300)
        owner = psql(database, "SELECT owner FROM consumer_lease WHERE name = 'detection'")[0][0]
        pid = int(owner.split(":")[1])
        victim = next(node for node in nodes if node.process.pid == pid)
        with lock:
            live.remove(victim)
        victim.kill()
        killed_at = time.time()
        print(f"killed node {victim.name} (it ran detection) with SIGKILL at {killed_at - started:.1f}s", flush=True)
        new_owner = None
        while time.time() - killed_at < 60:
            rows = psql(database, "SELECT owner FROM consumer_lease WHERE name = 'detection'")
            if rows and rows[0][0] != owner:
                new_owner = rows[0][0]
                break
            time.sleep(0.05)
        takeover = time.time() - killed_at
        # Resumed: the new owner commits past what the killed node had committed.
        committed = int((psql(database, "SELECT seq FROM consumer_cursor WHERE name = 'detection'") or [["0"]])[0][0])
        resumed = None
        while time.time() - killed_at < 60:
            now = int((psql(database, "SELECT seq FROM consumer_cursor WHERE name = 'detection'") or [["0"]])[0][0])
            if now > committed or now == int(psql(database, "SELECT seq FROM log_head")[0][0]) and new_owner:
                resumed = time.time() - killed_at
                break
            time.sleep(0.05)
        check(new_owner is not None and takeover < 10, f"another node took the detection lease over {takeover:.1f}s after the kill (target under 10 s)")
        check(resumed is not None and resumed < args.resume_limit,
              f"it restored detection's state and committed new work {resumed or 0:.1f}s after the kill (limit {args.resume_limit:g} s)")
        successor = next((node for node in nodes if new_owner and node.process.pid == int(new_owner.split(":")[1])), None)

        for thread in senders:
            thread.join()
        # The killed node comes back and serves again.
        victim.start()
        with lock:
            live.append(victim)
        print(f"traffic done at {time.time() - started:.1f}s; node {victim.name} is back; waiting for every consumer to catch up", flush=True)

        deadline = time.time() + 180
        while time.time() < deadline:
            (head,), = psql(database, "SELECT seq FROM log_head")
            lags = psql(database, f"""
                SELECT (SELECT coalesce(max(seq), 0) FROM consumer_cursor WHERE name = 'detection'),
                       (SELECT seq FROM graph_cursor), (SELECT seq FROM search_cursor),
                       (SELECT coalesce(max(id), 0) FROM signal) - (SELECT coalesce(max(seq), 0) FROM consumer_cursor WHERE name = 'cases.signals'),
                       (SELECT count(*) FROM outbox WHERE state = 'pending')""")[0]
            if lags[:3] == [head] * 3 and lags[3] == "0" and lags[4] == "0":
                break
            time.sleep(0.5)
        check(time.time() < deadline, f"every consumer caught up with the log (head {head}) and the outbox drained")
        # Reviewers work the queues empty (or for a minute), then the outbox drains.
        deadline = time.time() + 60
        while time.time() < deadline:
            (waiting,), = psql(database, "SELECT count(*) FROM review_case WHERE state IN ('open', 'escalated') AND queue IN ('urgent', 'scams', 'harassment', 'spam', 'general')")
            if waiting == "0":
                break
            time.sleep(0.5)
        stop_reviewing.set()
        for thread in workers:
            thread.join()
        print(f"{len(claims)} claims; refusals: {refusals}; {waiting} cases left waiting", flush=True)
        deadline = time.time() + 60
        while time.time() < deadline and psql(database, "SELECT count(*) FROM outbox WHERE state = 'pending'")[0][0] != "0":
            time.sleep(0.5)

        # Nothing acknowledged is lost; the log is dense.
        stored = {row[0] for row in psql(database, "SELECT id FROM event")}
        check(len(acknowledged) == len(lines), f"every event was acknowledged ({len(acknowledged)} of {len(lines)})")
        check(acknowledged <= stored, f"every acknowledged event is in the log ({len(acknowledged & stored)} of {len(acknowledged)})")
        (count, top), = psql(database, "SELECT count(*), coalesce(max(seq), 0) FROM event")
        check(count == top == str(len(stored)), f"the log is dense: {count} events, the last at seq {top}")

        # Signals: none doubled, and the same as one SQLite node computes over the same log.
        (doubled,), = psql(database, "SELECT count(*) FROM (SELECT 1 FROM signal GROUP BY event_seq, rule, rule_version HAVING count(*) > 1) d")
        check(doubled == "0", "no signal is doubled")
        pg_signals = {(row[0], row[1]) for row in psql(database, "SELECT e.id, s.rule FROM signal s JOIN event e ON e.seq = s.event_seq WHERE s.rule <> 'sla'")}
        log_path = os.path.join(work, "log.ndjson")
        with open(log_path, "w") as f:
            subprocess.run(["psql", database, "-At", "-c", "SELECT body FROM event ORDER BY seq"], check=True, stdout=f)
        reference = os.path.join(work, "reference")
        subprocess.run([args.binary, "ingest", log_path, "--data-dir", reference, "--policy-pack", PACK, "--json"], check=True, capture_output=True)
        single = Node(args.binary, database, "reference", work, receiver)
        single.process = subprocess.Popen([args.binary, "serve", "--data-dir", reference, "--port", str(single.port), "--policy-pack", PACK],
                                          stdout=open(single.log_path, "w"), stderr=subprocess.STDOUT,
                                          env={k: v for k, v in single.env.items() if not k.startswith("WARDEN_WEBHOOK")}, cwd=ROOT)
        sqlite_db = os.path.join(reference, "warden.sqlite")
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                out = subprocess.run(["sqlite3", sqlite_db, "SELECT (SELECT seq FROM consumer_cursor WHERE name = 'detection'), (SELECT max(seq) FROM event)"],
                                     capture_output=True, text=True).stdout.strip().split("|")
                if len(out) == 2 and out[0] and out[0] == out[1]:
                    break
            except Exception:
                pass
            time.sleep(0.5)
        single.stop()
        out = subprocess.run(["sqlite3", "-separator", "\t", sqlite_db, "SELECT e.id, s.rule FROM signal s JOIN event e ON e.seq = s.event_seq WHERE s.rule <> 'sla'"],
                             capture_output=True, text=True, check=True).stdout
        sqlite_signals = {tuple(line.split("\t")) for line in out.splitlines() if line}
        check(len(pg_signals) > 0 and pg_signals == sqlite_signals,
              f"detection's {len(pg_signals)} signals equal the {len(sqlite_signals)} one SQLite node computes over the same log "
              f"({len(pg_signals - sqlite_signals)} extra, {len(sqlite_signals - pg_signals)} missing)")

        pg_labels = {(row[0], row[1]) for row in psql(database, "SELECT entity, name FROM entity_label")}
        out = subprocess.run(["sqlite3", "-separator", "\t", sqlite_db, "SELECT entity, name FROM entity_label"], capture_output=True, text=True, check=True).stdout
        sqlite_labels = {tuple(line.split("\t")) for line in out.splitlines() if line}
        check(pg_labels == sqlite_labels, f"the {len(pg_labels)} labels detection set equal those of one SQLite node")

        # Claims and cases.
        claimed_ids = [case for case, _ in claims]
        check(len(claimed_ids) > 0 and len(claimed_ids) == len(set(claimed_ids)), f"{len(claimed_ids)} claims, no case given to two reviewers")
        (open_twice,), = psql(database, """SELECT count(*) FROM (SELECT subject FROM review_case WHERE kind = 'review' AND golden_item IS NULL
                                             AND state IN ('open', 'in_review', 'on_hold', 'escalated') GROUP BY subject HAVING count(*) > 1) d""")
        check(open_twice == "0", "no subject has two open cases")

        # Webhooks: every one delivered, each key applied once.
        keys = {row[0] for row in psql(database, "SELECT idempotency_key FROM outbox WHERE destination = ''")}
        (left,), = psql(database, "SELECT count(*) FROM outbox WHERE state <> 'delivered'")
        check(len(keys) > 0 and keys <= receiver.applied_keys and left == "0" and receiver.bad_signatures == 0,
              f"all {len(keys)} enforcement webhooks reached the receiver with valid signatures ({len(receiver.attempts)} deliveries, "
              f"{len(receiver.applied_keys)} keys applied once each), none left in the outbox")

        verified = subprocess.run([args.binary, "audit", "verify", "--database", database], capture_output=True, text=True, env=nodes[0].env)
        check(verified.returncode == 0, "the audit chain verifies: " + (verified.stdout.strip().splitlines() or [""])[-1])

        replayed = None
        if successor:
            for line in successor.log().splitlines():
                if "detection state restored" in line and "replayed=" in line:
                    replayed = int(line.split("replayed=")[1].split()[0])
        summary = {"events": len(lines), "nodes": 3, "takeover_seconds": round(takeover, 2), "resumed_seconds": round(resumed or 0, 2),
                   "detection_cursor_at_kill": committed,
                   "events_replayed_on_takeover": replayed, "claims": len(claims), "webhooks": len(keys), "signals": len(pg_signals)}
        print(json.dumps(summary), flush=True)
    finally:
        for node in nodes:
            node.stop()
        try:
            subprocess.run(["psql", args.postgres, "-q", "-c", "DROP DATABASE IF EXISTS warden_multinode WITH (FORCE)"], capture_output=True)
        except Exception:
            pass
    if FAILURES:
        print(f"{len(FAILURES)} multi-node checks failed; logs in {work}", file=sys.stderr)
        return 1
    print("multi-node: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
