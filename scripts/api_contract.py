#!/usr/bin/env python3
"""The API contract, checked from outside: starts `warden serve` on a fresh data directory and runs
schemathesis (every check, every phase, stateful included) against the OpenAPI document the server
serves. Exits non-zero on any failure or error. Settings: schemathesis.toml (the few statuses the
document cannot express, each with its reason) and scripts/schemathesis_hooks.py."""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "wtok_contract_admin_" + "0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_database(server_url: str, name: str) -> str:
    """Creates (afresh) the database `name` on the server `server_url` names; returns its URL."""
    from urllib.parse import urlsplit, urlunsplit
    parts = urlsplit(server_url)
    subprocess.run(["psql", server_url, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", "-c", f"CREATE DATABASE {name}"], check=True)
    return urlunsplit(parts._replace(path="/" + name))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/warden"))
    parser.add_argument("--examples", type=int, default=50, help="examples per operation and phase")
    parser.add_argument("--seed", type=int, default=20261130, help="fixed, so a failure reproduces")
    parser.add_argument("--postgres", help="a postgres:// URL of a server: the store is a new database on it, not a data directory")
    args = parser.parse_args()

    data = tempfile.mkdtemp(prefix="warden-contract-")
    port = free_port()
    log = open(os.path.join(data, "serve.log"), "w")
    env = dict(os.environ, WARDEN_BOOTSTRAP_TOKEN=TOKEN)
    store = ["--data-dir", os.path.join(data, "warden-data")]
    if args.postgres:
        store = ["--database", postgres_database(args.postgres, "warden_contract")]
        print("store: a new PostgreSQL database", flush=True)
    server = subprocess.Popen([args.binary, "serve", *store, "--port", str(port),
                               "--pack", os.path.join(ROOT, "policies/example")], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    print(open(os.path.join(data, "serve.log")).read(), file=sys.stderr)
                    return 1
                time.sleep(0.1)
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "scripts"), SCHEMATHESIS_HOOKS="schemathesis_hooks")
        command = ["st", "--config-file", os.path.join(ROOT, "schemathesis.toml"), "run", base + "/openapi.json", "--checks", "all",
                   "--header", f"Authorization: Bearer {TOKEN}", "--max-examples", str(args.examples), "--seed", str(args.seed),
                   "--workers", "1", "--warnings", "off"]
        print("$ " + " ".join(command).replace(TOKEN, "***"), flush=True)
        status = subprocess.call(command, env=env, cwd=ROOT)
        if status != 0:
            log.flush()
            errors = [line for line in open(os.path.join(data, "serve.log")) if " error " in line or "failed" in line]
            print("server log, errors:\n" + "".join(errors[-20:]), file=sys.stderr)
        return status
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
