#!/usr/bin/env python3
"""Integration checks against a real `warden` binary: crash recovery under load, the bad-input
corpus over real HTTP, first-start bootstrap, graceful shutdown and the CLI. Standard library only."""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from webhook_receiver import WebhookReceiver

TOKEN = "integration-token-0123456789"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACK = os.path.join(ROOT, "policies", "example")
failures = []


def check(condition, message):
    if condition:
        print(f"  ok   {message}")
    else:
        print(f"  FAIL {message}")
        failures.append(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, data_dir, env_token=TOKEN, extra=(), env_extra=None):
        self.binary, self.data_dir, self.port = binary, data_dir, free_port()
        env = dict(os.environ)
        env.update(env_extra or {})
        env.pop("WARDEN_BOOTSTRAP_TOKEN", None)
        if env_token:
            env["WARDEN_BOOTSTRAP_TOKEN"] = env_token
        self.log = tempfile.NamedTemporaryFile("w+", prefix="warden-serve-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [binary, "serve", "--data-dir", data_dir, "--port", str(self.port), "--policy-pack", PACK, "--log-level", "warning", *extra],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(self.url + "/readyz", timeout=1).status == 200:
                    return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("server did not become ready:\n" + self.output())

    def output(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


def request(url, body=None, content_type="application/x-ndjson", token=TOKEN, method=None, timeout=30):
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read()


def event_count(data_dir):
    db = sqlite3.connect(f"file:{os.path.join(data_dir, 'warden.sqlite')}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM event").fetchone()[0]
    finally:
        db.close()


def simulate(binary, path, events, seed=11):
    subprocess.run([binary, "simulate", "--seed", str(seed), "--events", str(events), "--rate", "200", "--out", path,
                    "--start", "2026-11-20T00:00:00Z"], check=True, stderr=subprocess.DEVNULL)
    with open(path, "rb") as f:
        return [line for line in f.read().split(b"\n") if line]


def test_crash_recovery(binary, work):
    print("crash: kill -9 during sustained intake, restart, nothing acknowledged is lost or doubled")
    lines = simulate(binary, os.path.join(work, "load.ndjson"), 120_000)
    batches = [lines[i:i + 500] for i in range(0, len(lines), 500)]
    data_dir = os.path.join(work, "crash-data")
    server = Server(binary, data_dir)
    acknowledged, lock, next_batch = set(), threading.Lock(), [0]

    def sender():
        while True:
            with lock:
                index = next_batch[0]
                next_batch[0] += 1
            if index >= len(batches):
                return
            try:
                status, _, _ = request(server.url + "/v1/events", b"\n".join(batches[index]))
                if status == 200:
                    with lock:
                        acknowledged.add(index)
            except Exception:
                return

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.time() + 20
    while time.time() < deadline and len(acknowledged) < 40:
        time.sleep(0.05)
    server.kill()
    for thread in threads:
        thread.join()
    check(0 < len(acknowledged) < len(batches), f"killed mid-load after {len(acknowledged)} of {len(batches)} batches were acknowledged")

    server = Server(binary, data_dir)
    db = sqlite3.connect(f"file:{os.path.join(data_dir, 'warden.sqlite')}?mode=ro", uri=True)
    stored = {row[0] for row in db.execute("SELECT id FROM event")}
    seqs = [row[0] for row in db.execute("SELECT seq FROM event ORDER BY seq")]
    db.close()
    acked_ids = {json.loads(line)["id"] for index in acknowledged for line in batches[index]}
    check(acked_ids <= stored, f"all {len(acked_ids)} acknowledged events are stored after restart")
    check(seqs == list(range(1, len(seqs) + 1)), "the log's sequence is dense and increasing after the crash")

    totals = {"accepted": 0, "duplicates": 0, "conflicts": 0, "rejected": 0}
    for index, batch in enumerate(batches):
        if index > 60 and index not in acknowledged and index % 7:
            continue
        status, _, body = request(server.url + "/v1/events", b"\n".join(batch))
        answer = json.loads(body)
        for key in totals:
            totals[key] += answer[key]
    resent_acked = sum(len(batches[i]) for i in acknowledged)
    check(totals["duplicates"] >= resent_acked, f"retried batches are absorbed as duplicates ({totals['duplicates']} duplicates)")
    check(totals["conflicts"] == 0 and totals["rejected"] == 0, "no retried line conflicts or is rejected")
    db = sqlite3.connect(f"file:{os.path.join(data_dir, 'warden.sqlite')}?mode=ro", uri=True)
    count, distinct = db.execute("SELECT count(*), count(DISTINCT id) FROM event").fetchone()
    db.close()
    check(count == distinct, f"every event is stored exactly once ({count} events)")
    check(server.stop() == 0, "SIGTERM stops the server gracefully with exit status 0")


def test_backup_under_load(binary, work):
    print("backup: warden backup while a server takes events, warden restore into a new data dir, checked whole")
    lines = simulate(binary, os.path.join(work, "backup-load.ndjson"), 40_000, seed=5)
    batches = [lines[i:i + 500] for i in range(0, len(lines), 500)]
    data_dir = os.path.join(work, "backup-data")
    server = Server(binary, data_dir)
    sent = [0]

    def sender():
        for batch in batches:
            status, _, _ = request(server.url + "/v1/events", b"\n".join(batch))
            if status == 200:
                sent[0] += 1

    thread = threading.Thread(target=sender)
    thread.start()
    while sent[0] < 10:
        time.sleep(0.02)
    backup_dir = os.path.join(work, "backup-copy")
    result = subprocess.run([binary, "backup", "--data-dir", data_dir, "--to", backup_dir, "--json"], capture_output=True, text=True)
    thread.join()
    check(result.returncode == 0, f"warden backup runs beside a server taking events ({result.stderr.strip()[-200:]})")
    manifest = json.loads(result.stdout)
    total = event_count(data_dir)
    check(0 < manifest["events"] < total, f"the backup was taken mid-load ({manifest['events']} of {total} events)")
    check(server.stop() == 0, "the server stops gracefully after the backup")

    restored = os.path.join(work, "backup-restored")
    result = subprocess.run([binary, "restore", "--from", backup_dir, "--data-dir", restored, "--json"], capture_output=True, text=True)
    answer = json.loads(result.stdout) if result.returncode == 0 else {}
    check(answer.get("intact") is True and answer.get("events") == manifest["events"] and answer.get("audit_entries") == manifest["audit_entries"],
          f"warden restore checks the copy whole: {manifest['events']} events, the audit chain to its head ({result.stderr.strip()[-200:]})")
    db = sqlite3.connect(f"file:{os.path.join(restored, 'warden.sqlite')}?mode=ro", uri=True)
    seqs = [row[0] for row in db.execute("SELECT seq FROM event ORDER BY seq")]
    db.close()
    check(seqs == list(range(1, manifest["events"] + 1)), "the restored log is dense and ends where the backup did")
    result = subprocess.run([binary, "restore", "--from", backup_dir, "--data-dir", restored], capture_output=True, text=True)
    check(result.returncode != 0 and "restore into a new data directory" in result.stderr, "restore refuses a data dir that holds a store")
    result = subprocess.run([binary, "backup", "--data-dir", data_dir, "--to", backup_dir], capture_output=True, text=True)
    check(result.returncode != 0 and "back up into a new directory" in result.stderr, "backup refuses a directory that exists")
    server = Server(binary, restored)
    status, _, _ = request(server.url + "/v1/events", b"\n".join(batches[-1]))
    check(status == 200, "a server starts on the restored data dir and takes events")
    check(server.stop() == 0, "and stops gracefully")


def test_bad_inputs(binary, work):
    print("bad input: each gets its documented error over real HTTP and the store is unchanged")
    data_dir = os.path.join(work, "bad-data")
    server = Server(binary, data_dir)
    good = b'{"id":"ok-1","type":"message.sent","occurred_at":"2026-11-23T10:00:00Z","actor":{"type":"user","id":"u1"},"entities":{"ip":"203.0.113.7"},"data":{"text":"hi"}}'
    status, _, _ = request(server.url + "/v1/events", good, "application/json")
    check(status == 200, "a valid event is accepted")
    before = event_count(data_dir)
    garbage = bytes(random.Random(5).getrandbits(8) for _ in range(4096))
    ten_mb_line = b'{"id":"big","type":"x","occurred_at":"2026-11-23T10:00:00Z","data":{"t":"' + b"x" * (10 * 1024 * 1024) + b'"}}'
    two_mb_line = b'{"id":"big2","type":"x","occurred_at":"2026-11-23T10:00:00Z","data":{"t":"' + b"x" * (2 * 1024 * 1024) + b'"}}'
    corpus = [
        ("truncated JSON", good[:40], "application/json", 400, "malformed-json"),
        ("wrong types", b'{"id":["a"],"type":7,"occurred_at":"2026-11-23T10:00:00Z"}', "application/json", 422, "invalid-event"),
        ("huge strings", b'{"id":"' + b"i" * 100_000 + b'","type":"x","occurred_at":"2026-11-23T10:00:00Z"}', "application/json", 422, "invalid-event"),
        ("bad timestamp", b'{"id":"t","type":"x","occurred_at":"23/11/2026 10:00"}', "application/json", 422, "invalid-event"),
        ("unknown entity type", b'{"id":"u","type":"x","occurred_at":"2026-11-23T10:00:00Z","entities":{"planet":"mars"}}', "application/json", 422, "invalid-event"),
        ("empty body", b"", "application/json", 400, "empty-body"),
        ("binary garbage", garbage, "application/x-ndjson", 400, "malformed-json"),
        ("10 MB line", ten_mb_line, "application/x-ndjson", 413, "body-too-large"),
        ("2 MB line (over the 1 MiB event limit)", two_mb_line, "application/x-ndjson", 422, "invalid-event"),
        ("wrong media type", good, "text/csv", 415, "unsupported-media-type"),
        ("conflicting id", good.replace(b'"hi"', b'"changed"'), "application/json", 409, "event-conflict"),
    ]
    for name, body, content_type, expected, slug in corpus:
        status, media, answer = request(server.url + "/v1/events", body, content_type)
        problem = json.loads(answer) if media and "json" in media else {}
        check(status == expected and media == "application/problem+json" and problem.get("type") == f"urn:warden:problem:{slug}",
              f"{name}: {status} {problem.get('type')} — {str(problem.get('detail'))[:70]}")
    status, _, _ = request(server.url + "/v1/events", good, "application/json", token=None)
    check(status == 401, "no token: 401")
    status, _, document = request(server.url + "/openapi.json", token=None, content_type=None)
    from openapi_spec_validator import validate
    try:
        validate(json.loads(document))
        valid = True
    except Exception as error:
        print(f"       {error}")
        valid = False
    check(status == 200 and valid, "/openapi.json is a valid OpenAPI 3.1 document (openapi-spec-validator)")
    check(event_count(data_dir) == before, "the store is unchanged by the whole corpus")
    server.stop()


def test_bootstrap_and_cli(binary, work):
    print("first start, tokens and the CLI")
    data_dir = os.path.join(work, "fresh-data")
    server = Server(binary, data_dir, env_token=None)
    out = server.output()
    secret = next((line.split(": ", 1)[1].strip() for line in out.splitlines() if "admin API token" in line), None)
    check(secret is not None and secret.startswith("wdn_"), "the first start prints an admin token")
    status, _, _ = request(server.url + "/v1/taxonomy", token=secret, content_type=None)
    check(status == 200, "the printed token works")
    result = subprocess.run([binary, "ingest", os.path.join(work, "load.ndjson"), "--data-dir", data_dir, "--policy-pack", PACK],
                            capture_output=True, text=True)
    check(result.returncode != 0 and "in use" in result.stderr, "offline ingest refuses a data dir a server is using")
    server.stop()
    server = Server(binary, data_dir, env_token=None)
    check("admin API token" not in server.output(), "the token is printed only on the first start")
    with open(os.path.join(work, "mixed.ndjson"), "wb") as f:
        f.write(b"\n".join(simulate(binary, os.path.join(work, "small.ndjson"), 3000, seed=3)) + b"\n{broken\n")
    result = subprocess.run([binary, "ingest", os.path.join(work, "mixed.ndjson"), "--to", server.url, "--token", secret, "--json"],
                            capture_output=True, text=True)
    summary = json.loads(result.stdout)
    check(result.returncode == 1 and summary["accepted"] == 3000 and summary["rejected"] == 1 and summary["errors"][0]["line"] == 3001,
          f"ingest --to --json reports each outcome and the failing file line, exit 1 ({result.stdout.strip()[:90]})")
    result = subprocess.run([binary, "simulate", "--to", server.url, "--token", secret, "--events", "600", "--rate", "200",
                             "--speed", "20", "--seed", "21"], capture_output=True, text=True, timeout=120)
    check(result.returncode == 0 and "streamed 600 events" in result.stderr, "simulate --to streams paced traffic to a server")
    server.stop()

    demo_dir = os.path.join(work, "demo-data")
    demo = Server(binary, demo_dir, extra=("--demo", "--demo-rate", "50"))
    deadline = time.time() + 20
    while time.time() < deadline and event_count(demo_dir) < 50:
        time.sleep(0.2)
    check(event_count(demo_dir) >= 50, f"serve --demo streams simulated traffic into the instance ({event_count(demo_dir)} events)")
    check(demo.stop() == 0, "the demo server stops gracefully")

    offline = os.path.join(work, "offline-data")
    result = subprocess.run([binary, "ingest", os.path.join(work, "small.ndjson"), "--data-dir", offline, "--policy-pack", PACK, "--json"],
                            capture_output=True, text=True)
    check(result.returncode == 0 and json.loads(result.stdout)["accepted"] == 3000, "ingest straight into a data dir")
    result = subprocess.run([binary, "ingest", "-", "--data-dir", offline, "--policy-pack", PACK, "--json"],
                            input=open(os.path.join(work, "small.ndjson")).read(), capture_output=True, text=True)
    check(json.loads(result.stdout)["duplicates"] == 3000, "re-ingesting from standard input yields duplicates only")
    result = subprocess.run([binary, "query", "--data-dir", offline, "SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY n DESC", "--json"],
                            capture_output=True, text=True)
    answer = json.loads(result.stdout) if result.returncode == 0 else {}
    check(sum(row[1] for row in answer.get("rows", [])) == 3000 and answer.get("columns") == ["type", "n"], "warden query runs SQL over the views (--json)")
    result = subprocess.run([binary, "query", "--data-dir", offline, "SELECT * FROM api_token"], capture_output=True, text=True)
    check(result.returncode != 0 and "reads only the investigation views" in result.stderr, "warden query refuses what the views do not show, saying why")

    a = simulate(binary, os.path.join(work, "a.ndjson"), 5000, seed=9)
    b = simulate(binary, os.path.join(work, "b.ndjson"), 5000, seed=9)
    c = simulate(binary, os.path.join(work, "c.ndjson"), 5000, seed=10)
    check(a == b and a != c, "simulate is deterministic for a seed and differs across seeds")
    subprocess.run([binary, "simulate", "--duration", "10m", "--cycle", "10m", "--rate", "5", "--out", os.path.join(work, "t.ndjson")],
                   check=True, stderr=subprocess.DEVNULL)
    with open(os.path.join(work, "t.truth.ndjson")) as f:
        campaigns = {json.loads(line)["campaign"] for line in f if '"kind":"campaign"' in line}
    check(len(campaigns) == 6, f"simulate writes ground truth for all six campaigns ({sorted(campaigns)})")

    commands = [[], ["serve"], ["ingest"], ["simulate"], ["bench"], ["bench", "ingest"], ["bench", "store"], ["bench", "rules"],
                ["rules"], ["rules", "check"], ["rules", "test"], ["rules", "replay"],
                ["tokens"], ["tokens", "create"], ["tokens", "list"], ["tokens", "revoke"],
                ["classifiers"], ["classifiers", "train"], ["classifiers", "list"], ["eval"], ["bench", "classifier"], ["bench", "llm-client"], ["query"],
                ["qa"], ["qa", "health"], ["qa", "accuracy"], ["qa", "golden"], ["qa", "golden", "import"], ["qa", "golden", "list"], ["qa", "golden", "checks"],
                ["qa", "certifications"], ["bench", "quality"]]
    helps = [subprocess.run([binary, *command, "--help"], capture_output=True, text=True) for command in commands]
    check(all(h.returncode == 0 and "USAGE" in h.stdout for h in helps), "--help works on every command")
    result = subprocess.run([binary, "rules", "test", PACK], capture_output=True, text=True)
    check(result.returncode == 0 and result.stdout.strip().endswith("passed, 0 failed"), f"rules test: {result.stdout.strip().splitlines()[-1]}")
    broken = os.path.join(work, "broken-pack")
    shutil.copytree(PACK, broken)
    with open(os.path.join(broken, "rules", "zz.rules"), "w") as f:
        f.write('rule a category nope when event.typ == 1 then signal\nrule b category spam when (event.type == "x" then signal\n')
    result = subprocess.run([binary, "rules", "check", broken], capture_output=True, text=True)
    check(result.returncode == 1 and result.stderr.count("rules/zz.rules:") == 3,
          f"rules check lists every problem with file:line:column and exits 1 ({result.stderr.count('rules/zz.rules:')} listed)")
    result = subprocess.run([binary, "rules", "replay", "--events", os.path.join(work, "t.ndjson"), "--truth",
                             os.path.join(work, "t.truth.ndjson"), "--policy-pack", PACK, "--json"], capture_output=True, text=True)
    replay = json.loads(result.stdout)
    check(result.returncode == 0 and len(replay["campaigns"]) == 6 and all(c["recall"] > 0 for c in replay["campaigns"]),
          "rules replay against simulator truth finds every campaign")
    # Golden items from CSV: a file with a bad row imports nothing and names the line; a good one imports every row.
    bad_csv = os.path.join(work, "golden-bad.csv")
    with open(bad_csv, "w") as f:
        f.write('text,answer,explanation\n"you are worthless, leave",harassment.bullying,insult aimed at a person\nhello,rudeness,x\n')
    result = subprocess.run([binary, "qa", "golden", "import", bad_csv, "--queue", "harassment", "--data-dir", offline, "--policy-pack", PACK],
                            capture_output=True, text=True)
    check(result.returncode != 0 and "line 3" in result.stderr and "rudeness" in result.stderr, "qa golden import refuses a bad row with its line")
    good_csv = os.path.join(work, "golden.csv")
    with open(good_csv, "w") as f:
        f.write('text,answer,explanation\n"you are worthless, leave",harassment.bullying,insult aimed at a person\nsee you at practice,none,friendly\n')
    result = subprocess.run([binary, "qa", "golden", "import", good_csv, "--queue", "harassment", "--data-dir", offline, "--policy-pack", PACK],
                            capture_output=True, text=True)
    listed = subprocess.run([binary, "qa", "golden", "list", "--data-dir", offline, "--json"], capture_output=True, text=True)
    items = json.loads(listed.stdout) if listed.returncode == 0 else []
    check(result.returncode == 0 and "Imported 2 golden items" in result.stdout and [i["answer"] for i in items] == ["harassment.bullying", "none"],
          "qa golden import stores every row of a good file, and nothing of a bad one (qa golden list --json)")
    result = subprocess.run([binary, "qa", "certifications", "--data-dir", offline, "--policy-pack", PACK, "--json"], capture_output=True, text=True)
    rules = json.loads(result.stdout).get("rules", []) if result.returncode == 0 else []
    check([r["queue"] for r in rules] == ["harassment"] and rules[0]["items"] == 5, "qa certifications --json lists the pack's rules")
    result = subprocess.run([binary, "qa", "golden", "checks", "--data-dir", offline, "--policy-pack", PACK, "--json"], capture_output=True, text=True)
    checks = json.loads(result.stdout) if result.returncode == 0 else {}
    check(checks.get("mix") == [{"queue": "harassment", "rate": 0.02}] and checks.get("overall", {}).get("checked") == 0,
          "qa golden checks --json: where golden items are mixed, and nothing decided yet")
    result = subprocess.run([binary, "qa", "golden", "checks", "--data-dir", offline, "--policy-pack", PACK, "--days", "0"], capture_output=True, text=True)
    check(result.returncode != 0 and "--days must be between 1 and" in result.stderr, "qa golden checks refuses --days 0 with what it takes")
    result = subprocess.run([binary, "tokens", "create", "--name", "ci", "--scope", "events:write", "--data-dir", offline, "--json"],
                            capture_output=True, text=True)
    check(result.returncode == 0 and json.loads(result.stdout)["token"].startswith("wdn_"), "tokens create --json")
    result = subprocess.run([binary, "tokens", "create", "--name", "x", "--scope", "everything", "--data-dir", offline],
                            capture_output=True, text=True)
    check(result.returncode != 0 and "unknown scope" in result.stderr, "a bad scope is refused with a clear message")


def test_classifiers_cli(binary, work):
    """Train, list and evaluate the built-in classifier from the command line, on a small labelled
    file written here (so it runs without ../shared), and refuse bad data clearly."""
    data_dir = os.path.join(work, "classifiers")
    spam = ["WIN a FREE prize now, call 0800 {}", "Claim your cash reward {} txt STOP", "URGENT you have won {} click the link",
            "Free entry to win {} tickets, reply YES", "Cheap loans approved {} apply today"]
    ham = ["see you at dinner {} ok", "can you pick up the kids at {}", "running late, be there at {}",
           "thanks for yesterday {} it was fun", "what time is the meeting {}"]
    path = os.path.join(work, "labelled.ndjson")
    with open(path, "w") as f:
        for index in range(30):
            f.write(json.dumps({"text": spam[index % 5].format(index), "label": "spam"}) + "\n")
            f.write(json.dumps({"text": ham[index % 5].format(index), "label": "ham"}) + "\n")
    result = subprocess.run([binary, "classifiers", "train", "--name", "demo", "--data", path, "--cross-validate", "3",
                             "--data-dir", data_dir, "--json"], capture_output=True, text=True)
    trained = json.loads(result.stdout) if result.returncode == 0 else {}
    check(trained.get("version") == 1 and trained["metrics"]["cross_validation"]["labels"]["spam"]["mean_f1"] > 0.9,
          "classifiers train stores version 1 and reports cross-validation")
    subprocess.run([binary, "classifiers", "train", "--name", "demo", "--model", "naive_bayes", "--data", path, "--data-dir", data_dir],
                   capture_output=True, text=True)
    result = subprocess.run([binary, "classifiers", "list", "--data-dir", data_dir, "--json"], capture_output=True, text=True)
    versions = [(m["name"], m["version"], m["kind"]) for m in json.loads(result.stdout)["models"]]
    check(versions == [("demo", 1, "logistic_regression"), ("demo", 2, "naive_bayes")], f"classifiers list shows every version {versions}")
    out = os.path.join(work, "eval")
    result = subprocess.run([binary, "eval", "--classifier", "demo@1", "--compare", "demo@2", "--data", path, "--data-dir", data_dir,
                             "--out", out, "--json"], capture_output=True, text=True)
    report = json.loads(result.stdout) if result.returncode == 0 else {}
    check(report.get("labels", {}).get("spam", {}).get("f1", 0) > 0.9 and report["comparison"]["with"] == "demo@2"
          and os.path.exists(os.path.join(out, "pr-curve.svg")) and os.path.exists(os.path.join(out, "report.json")),
          "eval reports per-label F1, compares two classifiers and writes the PR curve as SVG")
    with open(os.path.join(work, "bad.ndjson"), "w") as f:
        f.write('{"text":"fine","label":"ham"}\n{"text":"no label"}\n')
    result = subprocess.run([binary, "classifiers", "train", "--name", "bad", "--data", os.path.join(work, "bad.ndjson"),
                             "--data-dir", data_dir], capture_output=True, text=True)
    check(result.returncode != 0 and "bad.ndjson:2" in result.stderr and "label" in result.stderr,
          "training data without a label is refused, naming the file and line")
    with open(os.path.join(work, "other-labels.ndjson"), "w") as f:
        f.write('{"text":"hello","label":"ham"}\n{"text":"buy","label":"scam"}\n')
    result = subprocess.run([binary, "eval", "--classifier", "demo", "--data", os.path.join(work, "other-labels.ndjson"), "--data-dir", data_dir],
                            capture_output=True, text=True)
    check(result.returncode != 0 and "scam" in result.stderr, "eval refuses data with labels the model does not know, naming them")
    result = subprocess.run([binary, "eval", "--classifier", "nosuch", "--data", path, "--data-dir", data_dir], capture_output=True, text=True)
    check(result.returncode != 0 and "no classifier nosuch" in result.stderr, "eval of an unknown classifier says so")

    # Warden as a moderation endpoint, with the official openai client against a live server.
    import openai
    serve_dir = os.path.join(work, "moderation")
    server = Server(binary, serve_dir)
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=TOKEN, max_retries=0)
    # The example pack's model is trained on its first start, from the data the pack ships.
    answer = client.moderations.create(input=["WINNER! You have won a FREE prize, call 09061701461 now", "see you at dinner tonight ok"],
                                       model="warden")
    check(answer.results[0].flagged and not answer.results[1].flagged,
          "the first start trains sms-spam from the pack's SMS Spam Collection: moderation answers at once")
    result = subprocess.run([binary, "classifiers", "train", "--name", "sms-spam", "--data", path, "--data-dir", serve_dir],
                            capture_output=True, text=True)
    check(result.returncode == 0, "a model retrained into the server's data dir")
    # The model goes live with a pack reload, without a restart.
    status, _, _ = request(server.url + "/v1/policy-pack/reload", b"", "application/json", TOKEN, "POST")
    check(status == 200, "a pack reload rebuilds the classifiers (the retrained model goes live without a restart)")

    answer = client.moderations.create(input=["WIN a FREE prize now, call 0800 99", "see you at dinner tonight ok"], model="warden")
    first, second = answer.results
    check(first.flagged and not second.flagged and first.categories.harassment is False
          and first.categories.model_dump().get("spam") is True and first.category_scores.model_dump().get("spam") > 0.5,
          "the openai client reads Warden's moderation answers (spam flagged, the 13 standard categories present)")
    try:
        client.moderations.create(input=[], model="warden")
        check(False, "an empty input list is refused")
    except openai.UnprocessableEntityError:
        check(True, "an empty input list is refused with 422")
    check(server.stop() == 0, "the moderation server stops gracefully")


class FakePolicyModel:
    """A policy-as-prompt model served like vLLM's chat completions (gpt-oss-safeguard's answer
    shape): down (503) for its first request, then "earn" is spam, anything else is not."""

    def __init__(self, fail_first=1):
        import http.server
        model = self
        self.fail_first, self.requests = fail_first, []
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with model.lock:
                    model.requests.append(body)
                    failing = model.fail_first > 0
                    model.fail_first -= 1
                if failing:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                text = body["messages"][-1]["content"]
                verdict = {"violation": 1, "policy_category": "SP1", "confidence": "high", "rationale": "An income offer to a stranger."} \
                    if "earn" in text else {"violation": 0, "policy_category": None, "confidence": "high", "rationale": "Conversation."}
                answer = json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "model": body.get("model"),
                                     "choices": [{"index": 0, "finish_reason": "stop",
                                                  "message": {"role": "assistant", "content": json.dumps(verdict),
                                                              "reasoning_content": "Checked against SP1 and SP2."}}],
                                     "usage": {"prompt_tokens": 300, "completion_tokens": 30, "total_tokens": 330}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_served_classifier_in_rules(binary, work):
    """The example pack's young_account_spam_policy asks a served policy model through the
    classification stage of a live server: retried through the model's outage, fired with the
    model's rationale, a case in the spam queue; the model's "no" fires nothing."""
    print("classifiers: a served policy model in rules, through the classification stage")
    model = FakePolicyModel(fail_first=1)
    data_dir = os.path.join(work, "served")
    server = Server(binary, data_dir, env_extra={"WARDEN_LLM_URL": model.url})
    try:
        def api(path, body=None):
            status, _, raw = request(server.url + path, None if body is None else json.dumps(body).encode(), "application/json")
            return status, json.loads(raw) if raw else {}

        def message(id, actor, text):
            return {"id": id, "type": "message.sent", "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "actor": {"type": "user", "id": actor}, "data": {"text": text, "recipient": "u9"}}

        status, peek = api("/v1/evaluate", message("peek", "n0", "earn $500 a day https://jobs.example/x"))
        check(status == 200 and [p["rule"] for p in peek.get("pending", [])] == ["young_account_spam_policy"] and peek.get("verdict") == "allow",
              "POST /v1/evaluate lists the rule as pending on the model, without changing the verdict")
        check(api("/v1/events", message("s1", "n1", "earn $500 a day from home https://jobs.example/x"))[0] == 200
              and api("/v1/events", message("s2", "n2", "our holiday photos https://photos.example.org/a"))[0] == 200,
              "two messages with links from new accounts are accepted")
        deadline, jobs = time.time() + 30, {}
        while time.time() < deadline:
            jobs = api("/v1/classifications")[1]
            if jobs.get("counts", {}).get("pending", 1) == 0 and len(jobs.get("classifications", [])) == 2:
                break
            time.sleep(0.2)
        states = {j.get("subject"): j for j in jobs.get("classifications", [])}
        check(states.get("user:n1", {}).get("state") == "fired" and states.get("user:n2", {}).get("state") == "not_fired",
              "the stage settles both through the model's outage: spam fired, holiday photos not")
        check(len(model.requests) == 3, "the request that met the outage was retried (3 requests for 2 texts)")
        system = model.requests[-1]["messages"][0]["content"] if model.requests else ""
        check("Spam policy" in system and model.requests[-1].get("reasoning_effort") == "low",
              "the model is asked with the pack's policy as the system message and the configured reasoning effort")
        signals = api("/v1/signals?rule=young_account_spam_policy")[1].get("signals", [])
        check(len(signals) == 1 and signals[0]["subject"] == "user:n1" and "An income offer to a stranger." in signals[0]["explanation"]
              and 'classify("spam-policy") = 0.95 >= 0.75' in signals[0]["explanation"],
              "the fired rule's signal explains itself with the model's score and rationale")
        deadline, cases = time.time() + 20, []
        while time.time() < deadline and not cases:
            cases = [c for c in api("/v1/cases?queue=spam")[1].get("cases", []) if c["subject"] == "user:n1"]
            time.sleep(0.2)
        check(len(cases) == 1, "the signal opens a case in the spam queue")
        metrics = request(server.url + "/metrics", token=None)[2].decode()
        check('warden_classification_jobs_total{outcome="fired"} 1' in metrics, "the outcome is counted in /metrics")
        check(server.stop() == 0, "the server stops cleanly")
    finally:
        if server.process.poll() is None:
            server.kill()
        model.close()


def test_review_end_to_end(binary, work):
    """An event becomes a case, a decision, a signed webhook delivered through an outage, a statement
    of reasons, an appeal whose overturn delivers the reversal; the audit chain verifies, and an
    edit to it is caught by `warden audit verify`."""
    print("review: event → case → decision → signed webhook → appeal → reversal → audit")
    data_dir = os.path.join(work, "review")
    secret = "whsec_integration"
    receiver = WebhookReceiver(secret, fail_first=2)
    server = Server(binary, data_dir, env_extra={"WARDEN_WEBHOOK_URL": receiver.url, "WARDEN_WEBHOOK_SECRET": secret})

    def token(name, *scopes):
        out = subprocess.run([binary, "tokens", "create", "--data-dir", data_dir, "--name", name, "--json",
                              *[a for s in scopes for a in ("--scope", s)]], check=True, capture_output=True, text=True).stdout
        return json.loads(out)["token"]

    added = subprocess.run([binary, "users", "add", "--data-dir", data_dir, "--name", "vendor1", "--role", "vendor_reviewer", "--queue", "spam",
                            "--password-stdin"], input="a long enough password\n", capture_output=True, text=True)
    check(added.returncode == 0, "warden users add creates a vendor reviewer while the server runs")
    refused = subprocess.run([binary, "users", "add", "--data-dir", data_dir, "--name", "v2", "--role", "vendor_reviewer"],
                             capture_output=True, text=True)
    check(refused.returncode != 0 and "queue" in refused.stderr, "a vendor reviewer without queues is refused, saying why")
    req = urllib.request.Request(server.url + "/v1/sessions", data=json.dumps({"name": "vendor1", "password": "a long enough password"}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as response:
        cookie = response.headers.get("Set-Cookie", "").split(";")[0]
        signed_in = json.loads(response.read())
    check(cookie.startswith("warden_session=") and signed_in.get("role") == "vendor_reviewer", "a person signs in and gets a session cookie")
    req = urllib.request.Request(server.url + "/v1/queues/scams/next", data=b"{}", method="POST",
                                 headers={"Cookie": cookie, "Content-Type": "application/json", "X-CSRF-Token": signed_in.get("csrf_token", "")})
    try:
        urllib.request.urlopen(req, timeout=10)
        check(False, "a vendor reviewer cannot claim outside assigned queues")
    except urllib.error.HTTPError as error:
        check(error.code == 403, "a vendor reviewer cannot claim outside assigned queues (403)")

    reviewer = token("reviewer one", "cases:read", "cases:review")
    other = token("reviewer two", "cases:read", "cases:review")
    product = token("product", "appeals:write")

    def api(path, body=None, tok=TOKEN, method=None):
        status, _, raw = request(server.url + path, None if body is None else json.dumps(body).encode(), "application/json", tok, method)
        return status, (json.loads(raw) if raw and raw[:1] in (b"{", b"[") else raw)

    message = {"id": "scam-1", "type": "message.sent", "occurred_at": "2026-11-23T10:00:00Z", "actor": {"type": "user", "id": "scammer"},
               "data": {"text": "You won a gift card! Claim it now", "recipient": "u2"}}
    check(api("/v1/events", message)[0] == 200, "a scam message is accepted")
    deadline, cases = time.time() + 30, []
    while time.time() < deadline and not cases:
        cases = api("/v1/cases?queue=scams", tok=reviewer)[1].get("cases", [])
        time.sleep(0.2)
    check(len(cases) == 1 and cases[0]["subject"] == "user:scammer", "detection and the case builder open a case in the scams queue")
    status, claimed = api("/v1/queues/scams/next", {}, tok=reviewer)
    check(status == 200 and claimed.get("state") == "in_review", "a reviewer claims it")
    check(api("/v1/queues/scams/next", {}, tok=other)[0] == 204, "nobody else can claim it")
    case_id = claimed.get("id")
    status, decision = api(f"/v1/cases/{case_id}/decision", {"category": "fraud.scam", "violation": True, "policy": "scams-v2",
                                                              "rationale": "Prize lure"}, tok=reviewer)
    check(status == 201 and [a["action"] for a in decision.get("actions", [])] == ["suspend"], "the decision takes the fraud ladder's first step (suspend 7d)")
    topics = receiver.wait_for(1)
    check(topics == ["action.applied"], "the action reaches the product's webhook after the receiver's outage")
    check(len(receiver.attempts) >= 3 and receiver.bad_signatures == 0, f"retried through the outage with valid signatures ({len(receiver.attempts)} attempts)")

    status, appeal = api("/v1/appeals", {"case_id": case_id, "appellant": "user:scammer", "statement": "It was real"}, tok=product)
    check(status == 201, "the user appeals")
    check(api("/v1/queues/appeals/next", {}, tok=reviewer)[0] == 204, "the original decider cannot take the appeal")
    status, appeal_case = api("/v1/queues/appeals/next", {}, tok=other)
    status, _ = api(f"/v1/cases/{appeal_case.get('id')}/decision", {"outcome": "overturned", "rationale": "Genuine promotion"}, tok=other)
    check(status == 201, "another reviewer overturns it")
    topics = receiver.wait_for(3)
    check(topics == ["action.applied", "action.reversed", "user.notice"], f"the reversal and the user's notice are delivered in order ({topics})")

    export = subprocess.run([binary, "export", "statements-of-reasons", "--data-dir", data_dir], capture_output=True, text=True)
    lines = [json.loads(line) for line in export.stdout.splitlines() if line]
    check(export.returncode == 0 and len(lines) == 1 and lines[0].get("decision_account") == "DECISION_ACCOUNT_SUSPENDED"
          and lines[0].get("category") == "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "warden export statements-of-reasons writes the DSA statement")
    # Decisions as ground truth: a small model covering fraud is retrained on them and its drift reported.
    train_file = os.path.join(work, "fraud.ndjson")
    with open(train_file, "w") as f:
        for text, label in [("you won a gift card claim now", "fraud"), ("double your crypto today", "fraud"),
                            ("see you at lunch", "ok"), ("the meeting moved to 3pm", "ok")]:
            f.write(json.dumps({"text": text, "label": label}) + "\n")
    subprocess.run([binary, "classifiers", "train", "--data-dir", data_dir, "--name", "fraud-check", "--data", train_file,
                    "--model", "naive_bayes"], check=True, capture_output=True)
    retrain = subprocess.run([binary, "classifiers", "retrain", "--data-dir", data_dir, "--name", "fraud-check", "--data", train_file,
                              "--policy-pack", PACK, "--json"], capture_output=True, text=True)
    retrained = json.loads(retrain.stdout or "{}")
    check(retrain.returncode == 0 and retrained.get("version") == 2 and retrained.get("metrics", {}).get("decision_examples") == 1,
          f"warden classifiers retrain learns from the decision (overturned on appeal: labelled ok): {retrain.stderr.strip()[:200]}")
    drift = subprocess.run([binary, "classifiers", "drift", "--data-dir", data_dir, "--name", "fraud-check", "--policy-pack", PACK, "--json"],
                           capture_output=True, text=True)
    periods = json.loads(drift.stdout or "{}").get("periods", [])
    check(drift.returncode == 0 and len(periods) == 1 and periods[0].get("reviewed") == 1, "warden classifiers drift reports agreement per week")

    verify = subprocess.run([binary, "audit", "verify", "--data-dir", data_dir, "--json"], capture_output=True, text=True)
    report = json.loads(verify.stdout or "{}")
    check(verify.returncode == 0 and report.get("intact") is True and report.get("entries_checked", 0) > 10,
          f"warden audit verify: the chain is intact ({report.get('entries_checked')} entries) while the server runs")
    check(server.stop() == 0, "the server stops gracefully")
    test_transparency_submission(binary, data_dir, lines[0] if lines else {})

    db = sqlite3.connect(os.path.join(data_dir, "warden.sqlite"))
    try:
        db.execute("UPDATE audit_log SET actor = 'token:someone-else' WHERE seq = 3")
        check(False, "the audit log refuses edits through SQL")
    except sqlite3.DatabaseError:
        check(True, "the audit log refuses edits through SQL")
    db.execute("DROP TRIGGER audit_is_append_only_update")
    db.execute("UPDATE audit_log SET actor = 'token:someone-else' WHERE seq = 3")
    db.commit()
    db.close()
    verify = subprocess.run([binary, "audit", "verify", "--data-dir", data_dir], capture_output=True, text=True)
    check(verify.returncode == 1 and "audit entry 3" in verify.stdout and "edited" in verify.stdout,
          f"warden audit verify finds the edited entry: {verify.stdout.strip().splitlines()[0] if verify.stdout else verify.stderr}")
    receiver.server.shutdown()


def test_transparency_submission(binary, data_dir, statement):
    """Statements of reasons go to a local stand-in of the DSA Transparency Database that applies its
    published rules independently (scripts/dsa_receiver.py): batches of 100, retries through an
    outage, idempotent by puid, refusals recorded with the database's reasons."""
    from dsa_receiver import TransparencyReceiver, validate
    check(statement and validate(statement) == {}, f"the exported statement passes the database's rules: {validate(statement) if statement else 'none'}")
    # An operation's history: 249 more statements like it, and one stored by an earlier version
    # with the category the database retired in 2025.
    db = sqlite3.connect(os.path.join(data_dir, "warden.sqlite"))
    for n in range(249):
        db.execute("INSERT INTO statement_of_reasons (decision_id, created_at, body) VALUES (?, ?, ?)",
                   (1000 + n, 1, json.dumps(dict(statement, puid=f"warden-decision-{1000 + n}"))))
    retired = dict(statement, puid="warden-decision-2000", category="STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE")
    db.execute("INSERT INTO statement_of_reasons (decision_id, created_at, body) VALUES (?, ?, ?)", (2000, 1, json.dumps(retired)))
    db.commit()
    db.close()
    # The database already holds one (an earlier run lost its answer), refuses one by a rule Warden
    # does not know, and is down for the first calls (503, then 429 with Retry-After).
    receiver = TransparencyReceiver("dsa-token", fail_first=2, held=["warden-decision-1010"], refuse_puids=["warden-decision-1100"])
    env = dict(os.environ, WARDEN_DSA_TOKEN="dsa-token")
    run = subprocess.run([binary, "submit", "statements-of-reasons", "--data-dir", data_dir, "--endpoint", receiver.url, "--json"],
                         capture_output=True, text=True, env=env, timeout=120)
    summary = json.loads(run.stdout or "{}")
    check(run.returncode == 0 and summary.get("considered") == 251 and summary.get("created") == 248 and summary.get("already_present") == 1
          and summary.get("refused_locally") == 1 and summary.get("refused_by_database") == 1 and summary.get("pending") == 0,
          f"warden submit statements-of-reasons: 248 created, 1 already there, 2 refused ({run.stdout.strip()[:300]} {run.stderr.strip()[-300:]})")
    reasons = {r["decision_id"]: r["reason"] for r in summary.get("refusals", [])}
    check("retired" in reasons.get(2000, "") and "personal data" in reasons.get(1100, ""),
          f"each refusal says why: the retired category before sending, the database's reason after ({reasons})")
    check(summary.get("retries") == 2 and max(receiver.calls or [0]) > 0 and len(receiver.created) == 248,
          f"retried through the outage; the stand-in created exactly 248 ({summary.get('retries')} retries, {len(receiver.created)} created)")
    check(all(validate(s) == {} for s in receiver.created), "every statement the database created passes its rules")
    again = subprocess.run([binary, "submit", "statements-of-reasons", "--data-dir", data_dir, "--endpoint", receiver.url, "--json"],
                           capture_output=True, text=True, env=env, timeout=60)
    second = json.loads(again.stdout or "{}")
    check(again.returncode == 0 and second.get("considered") == 0 and second.get("calls") == 0 and len(receiver.created) == 248,
          "a second run sends nothing: every statement is recorded")
    bad = subprocess.run([binary, "submit", "statements-of-reasons", "--data-dir", data_dir, "--endpoint", receiver.url, "--include-refused"],
                         capture_output=True, text=True, env=dict(os.environ, WARDEN_DSA_TOKEN="wrong"), timeout=60)
    check(bad.returncode == 1 and "token" in bad.stdout, f"a refused token stops the run and says so: {bad.stdout.strip()[-200:]}")
    receiver.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", required=True)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    work = tempfile.mkdtemp(prefix="warden-integration-")
    started = time.time()
    try:
        test_crash_recovery(binary, work)
        test_backup_under_load(binary, work)
        test_bad_inputs(binary, work)
        test_bootstrap_and_cli(binary, work)
        test_classifiers_cli(binary, work)
        test_review_end_to_end(binary, work)
        test_served_classifier_in_rules(binary, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"integration: {len(failures)} failure(s) in {time.time() - started:.1f}s")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
