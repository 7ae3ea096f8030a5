#!/usr/bin/env python3
"""The MCP server checked with the official MCP Python SDK's client (PyPI `mcp`) against a real
`warden serve`: the client connects over streamable HTTP with a bearer token (it probes the
2026-07-28 `server/discover`, falls back to the `initialize` handshake), lists the tools, and calls
each; scopes are those of the API (an auditor's token cannot reach what it may not); bad arguments
are tool errors the assistant can read; every call is in the audit log."""

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import integration  # noqa: E402  (the Server helper and the token it bootstraps)
from integration import TOKEN, Server, check, failures, request  # noqa: E402

import httpx2  # noqa: E402  (the SDK's HTTP client)
from mcp import ClientSession  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402


def structured(result):
    check(not result.is_error, f"the call succeeds: {(result.content[0].text if result.content else '')[:120]}")
    return json.loads(result.content[0].text)


async def session_calls(url, token, calls):
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        async with streamable_http_client(url + "/mcp", http_client=http, terminate_on_close=False) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await calls(session)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", required=True)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    work = tempfile.mkdtemp(prefix="warden-mcp-")
    started = time.time()
    server = Server(binary, os.path.join(work, "data"))
    try:
        events = [
            {"id": "m1", "type": "message.sent", "actor": {"type": "user", "id": "ann"}, "entities": {"ip": "203.0.113.9"},
             "data": {"text": "Claim your crypto prize now"}},
            {"id": "m2", "type": "message.sent", "actor": {"type": "user", "id": "bob"}, "entities": {"ip": "203.0.113.9"},
             "data": {"text": "see you at the meetup"}},
        ]
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        body = "\n".join(json.dumps({**event, "occurred_at": now}) for event in events).encode()
        status, _, _ = request(server.url + "/v1/events", body)
        check(status == 200, "events are accepted")

        async def admin_calls(session):
            listed = await session.list_tools()
            names = sorted(tool.name for tool in listed.tools)
            check(names == ["case", "entity", "expand", "incident", "search", "sql", "views"], f"the admin sees every tool: {names}")
            check(all(tool.annotations and tool.annotations.read_only_hint for tool in listed.tools), "every tool says it is read-only")
            found = structured(await session.call_tool("search", {"q": "crypto prize"}))
            check([hit["id"] for hit in found["events"]] == ["m1"], f"search finds the message: {found}")
            entity = structured(await session.call_tool("entity", {"entity": "ip:203.0.113.9"}))
            check(entity.get("entity") == "ip:203.0.113.9" or entity.get("id") == "203.0.113.9", f"entity reads the IP: {list(entity)[:8]}")
            expanded = structured(await session.call_tool("expand", {"entity": "user:ann", "hops": 2}))
            check("user:bob" in [node["entity"] for node in expanded["nodes"]], "expansion walks ann → the shared IP → bob")
            rows = structured(await session.call_tool("sql", {"sql": "SELECT id FROM events WHERE actor = :actor", "parameters": {"actor": "user:bob"}}))
            check(rows["rows"] == [["m2"]], f"sql runs with parameters: {rows}")
            refused = await session.call_tool("sql", {"sql": "DELETE FROM event"})
            check(refused.is_error and "only reads" in refused.content[0].text, "a write is refused as a tool error the assistant can read")
            missing = await session.call_tool("case", {"id": 999})
            check(missing.is_error, "a case that does not exist is a tool error")
            bad = await session.call_tool("expand", {"entity": "user:ann", "hops": 9})
            check(bad.is_error and "hops" in bad.content[0].text, "an argument out of range says which")
            views = structured(await session.call_tool("views", {}))
            check("events" in [view["name"] for view in views["views"]], "views lists the SQL views")
            return len(listed.tools)

        asyncio.run(session_calls(server.url, TOKEN, admin_calls))

        # A token without query:read does not see or reach the SQL tools (made offline, between runs).
        server.stop()
        made = subprocess.run([binary, "tokens", "create", "--name", "reader", "--scope", "read", "--data-dir", os.path.join(work, "data"), "--json"],
                              capture_output=True, text=True)
        reader = json.loads(made.stdout)["token"] if made.returncode == 0 else None
        check(reader is not None, f"a read-only token is made: {made.stderr[-300:]}")
        server = Server(binary, os.path.join(work, "data"))
        if reader:
            async def reader_calls(session):
                names = sorted(tool.name for tool in (await session.list_tools()).tools)
                check(names == ["entity", "expand", "search"], f"a read-only token sees only its tools: {names}")
                denied = await session.call_tool("sql", {"sql": "SELECT 1"})
                check(denied.is_error and "query:read" in denied.content[0].text, "calling a tool beyond its scopes is refused")
            asyncio.run(session_calls(server.url, reader, reader_calls))

        # Without a token the endpoint refuses; GET (no server-initiated stream) is 405.
        status, _, _ = request(server.url + "/mcp", b'{"jsonrpc":"2.0","id":1,"method":"ping"}', "application/json", token=None)
        check(status == 401, f"no token, no MCP ({status})")
        status, _, _ = request(server.url + "/mcp", None, None, method="GET")
        check(status == 405, f"GET /mcp is 405: this server opens no stream ({status})")
        status, _, answer = request(server.url + "/mcp", b'{"jsonrpc":"2.0","id":7,"method":"server/discover"}', "application/json")
        check(status == 200 and json.loads(answer)["error"]["code"] == -32601, "server/discover is method-not-found (handshake revisions)")
    finally:
        server.stop()
    # Every tool call is audited with its arguments and outcome.
    with sqlite3.connect(os.path.join(work, "data", "warden.sqlite")) as db:
        calls = db.execute("SELECT target, detail FROM audit_log WHERE action = 'mcp.call' ORDER BY seq").fetchall()
    check(len(calls) == 9, f"every tool call is audited: 8 by the admin, 1 by the reader ({len(calls)})")
    check(any(target == "mcp:sql" and '"outcome":"error"' in detail for target, detail in calls), "refused calls are audited with their outcome")
    shutil.rmtree(work, ignore_errors=True)
    print(f"mcp: {len(failures)} failure(s) in {time.time() - started:.1f}s")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
