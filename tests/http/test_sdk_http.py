"""The official MCP Python SDK talks to `scale-advisor serve --http` over real HTTP.

Both protocol generations, against both server modes:
- stateless (the default): the handshake-free 2026-07-28 client and the 2025-11-25 `initialize`
  client, each request answered on its own;
- `--stateful`: the same two clients; the 2025-11-25 one gets a session (`Mcp-Session-Id`).
Plus the bearer token (`--token-env`): the SDK with the token is served, without it refused.

Run by tests/http/run.sh; prints `N passed, N failed` and exits non-zero on a failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import traceback
from contextlib import asynccontextmanager

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

BINARY = os.environ.get("SCALE_ADVISOR_BIN", "target/debug/scale-advisor")
# The tools the binary itself lists: HTTP must serve exactly those.
EXPECTED_TOOLS = {
    tool["name"] for tool in json.loads(subprocess.run([BINARY, "tools", "--json"], capture_output=True, check=True).stdout)
}


@asynccontextmanager
async def server(*args: str, env: dict[str, str] | None = None):
    """Starts `serve --http 127.0.0.1:0 ARGS`, yields its /mcp URL, then SIGTERMs it and
    checks that it exits 0 and wrote nothing to stdout."""
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [BINARY, "serve", "--http", "127.0.0.1:0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,  # a file, not a pipe: the server never blocks on a full stderr
            env={**os.environ, **(env or {})},
            text=True,
        )
        try:
            url = None
            for _ in range(200):
                log.seek(0)
                if match := re.search(r"(http://127\.0\.0\.1:\d+/mcp)", log.read()):
                    url = match.group(1)
                    break
                assert proc.poll() is None, f"the server exited {proc.returncode}"
                await asyncio.sleep(0.025)
            assert url, "the server announced no address on stderr"
            yield url
        finally:
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(proc.wait, 15)
            stdout = proc.stdout.read()
            assert code == 0, f"the server exited {code} on SIGTERM"
            assert stdout == "", f"the HTTP server wrote to stdout: {stdout[:200]!r}"


async def exercise(url: str, mode: str, http_client: httpx2.AsyncClient | None = None) -> str:
    """A whole client conversation; returns the negotiated protocol version."""
    transport = streamable_http_client(url, http_client=http_client)
    async with Client(transport, mode=mode) as client:
        tools = await client.list_tools()
        names = {tool.name for tool in tools.tools}
        assert names == EXPECTED_TOOLS, f"tools differ: {names ^ EXPECTED_TOOLS}"
        result = await client.call_tool("diagnose_bottleneck", {"users": 50000, "db_cpu_pct": 75})
        assert not result.is_error, result
        structured = result.structured_content
        assert structured["current_stage"]["number"] == 2, structured
        assert any(f["id"] == "db_cpu_saturation" for f in structured["findings"]), structured
        assert result.content[0].type == "text" and "db_cpu_saturation" in result.content[0].text
        refused = await client.call_tool("diagnose_bottleneck", {"db_cpu_pct": "high"})
        assert refused.is_error and "db_cpu_pct" in refused.content[0].text, refused
        resources = await client.list_resources()
        uris = {str(r.uri) for r in resources.resources}
        assert "knowledge://caching" in uris, uris
        read = await client.read_resource("knowledge://caching")
        assert read.contents[0].text.startswith("#"), read.contents[0].text[:80]
        prompt = await client.get_prompt("scaling_review", {"system_description": "a web shop on one Postgres"})
        assert prompt.messages, prompt
        return client.protocol_version


async def test_stateless_modern_client():
    async with server() as url:
        version = await exercise(url, "auto")
        assert version == "2026-07-28", version


async def test_stateless_legacy_client():
    async with server() as url:
        version = await exercise(url, "legacy")
        assert version == "2025-11-25", version


async def test_stateful_modern_client():
    async with server("--stateful") as url:
        version = await exercise(url, "auto")
        assert version == "2026-07-28", version


async def test_stateful_legacy_client_gets_a_session():
    async with server("--stateful") as url:
        session_ids: list[str] = []

        async def remember(response: httpx2.Response) -> None:
            if sid := response.headers.get("mcp-session-id"):
                session_ids.append(sid)

        async with create_mcp_http_client() as http:
            http.event_hooks["response"].append(remember)
            version = await exercise(url, "legacy", http)
        assert version == "2025-11-25", version
        assert session_ids and len(set(session_ids)) == 1, f"expected one session, saw {set(session_ids)}"


async def test_stateless_legacy_client_gets_no_session():
    async with server() as url:
        session_ids: list[str] = []

        async def remember(response: httpx2.Response) -> None:
            if sid := response.headers.get("mcp-session-id"):
                session_ids.append(sid)

        async with create_mcp_http_client() as http:
            http.event_hooks["response"].append(remember)
            await exercise(url, "legacy", http)
        assert not session_ids, f"a stateless server handed out sessions: {session_ids}"


async def test_token_is_required_and_accepted():
    async with server("--token-env", "ADVISOR_TEST_TOKEN", env={"ADVISOR_TEST_TOKEN": "s3cret-token"}) as url:
        async with create_mcp_http_client(headers={"Authorization": "Bearer s3cret-token"}) as http:
            assert await exercise(url, "auto", http) == "2026-07-28"
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            async with create_mcp_http_client(headers=headers) as http:
                try:
                    await asyncio.wait_for(exercise(url, "legacy", http), 20)
                except AssertionError:
                    raise
                except BaseException:  # the SDK surfaces the 401 as an error of its own kind
                    pass
                else:
                    raise AssertionError(f"the SDK was served without a valid token ({headers})")
            async with httpx2.AsyncClient() as raw:
                response = await raw.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers)
                assert response.status_code == 401, response.status_code
                assert response.headers["www-authenticate"].startswith("Bearer"), response.headers


async def main() -> int:
    tests = [(name, fn) for name, fn in globals().items() if name.startswith("test_") and callable(fn)]
    passed = failed = 0
    for name, test in tests:
        try:
            await asyncio.wait_for(test(), 60)
        except BaseException:  # noqa: BLE001 - report every failure, keep going
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()
        else:
            passed += 1
            print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
