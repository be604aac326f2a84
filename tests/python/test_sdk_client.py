#!/usr/bin/env python3
"""scale-advisor driven by the official MCP Python SDK (2.x) over stdio, in both of its modes.

- default mode (`Client(...)`, i.e. `mode="auto"`): probes `server/discover` and, against a
  server that advertises 2026-07-28, adopts it with no handshake; every request then carries
  the per-request `_meta`.
- legacy mode (`Client(..., mode="legacy")`): the `initialize` handshake at 2025-11-25.

"auto" silently falls back to `initialize` when the probe fails, so each mode asserts the
protocol version it ended up with.

Binary: $SCALE_ADVISOR_BIN, else ../../target/debug/scale-advisor relative to this file.
Prints one line per failure and a last line `N passed, M failed`; exits 1 on any failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import anyio
import jsonschema
from jsonschema.validators import validator_for
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

if not __debug__:
    sys.exit("run without -O: the checks are plain asserts")

HERE = Path(__file__).resolve().parent
BINARY = Path(os.environ.get("SCALE_ADVISOR_BIN") or HERE / ".." / ".." / "target" / "debug" / "scale-advisor").resolve()

# Each tool's first example from its fixture file (tools/fixtures/<tool>.json, the one list of
# example arguments the Rust tests, benches and fuzzers read too). A listed tool without a
# fixture file fails its call check.
FIXTURES = HERE / ".." / ".." / "tools" / "fixtures"


def example_arguments(tool: str) -> dict[str, Any] | None:
    path = FIXTURES / f"{tool}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))[0]["arguments"]


# (label, Client keyword arguments, protocol version the connection must end up on)
MODES: list[tuple[str, dict[str, Any], str]] = [
    ("default", {}, "2026-07-28"),
    ("legacy", {"mode": "legacy"}, "2025-11-25"),
]

MODE_TIMEOUT_S = 30

passed = 0
failed = 0


@contextlib.contextmanager
def check(label: str):
    """One counted check: the block's asserts pass, or it is a failure (with the reason)."""
    global passed, failed
    try:
        yield
    except AssertionError as error:
        failed += 1
        print(f"FAIL {label}: {error}", flush=True)
    except Exception:  # an SDK error (bad schema, timeout, protocol) is a failed check too
        failed += 1
        print(f"FAIL {label}: {traceback.format_exc()}", flush=True)
    else:
        passed += 1


def texts(content: list[Any]) -> list[str]:
    return [block.text for block in content if getattr(block, "type", None) == "text"]


async def list_all_tools(client: Client) -> list[Any]:
    tools: list[Any] = []
    cursor: str | None = None
    for _ in range(100):
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            return tools
    raise AssertionError("tools/list never ended (100 pages)")


async def exercise(label: str, options: dict[str, Any], version: str) -> None:
    params = StdioServerParameters(command=str(BINARY), args=["serve"])
    async with Client(params, read_timeout_seconds=10, **options) as client:
        with check(f"[{label}] negotiated {version}"):
            assert client.protocol_version == version, f"got {client.protocol_version}"
            session = client.session
            if version == "2026-07-28":
                assert session.discover_result is not None, "no server/discover result"
                assert session.initialize_result is None, "fell back to initialize"
            else:
                assert session.initialize_result is not None, "no initialize result"
                info = client.server_info
                assert info is not None and info.name == "scale-advisor", f"serverInfo {info}"

        tools = await list_all_tools(client)
        names = [tool.name for tool in tools]
        print(f"[{label}] protocol {client.protocol_version}; tools: {', '.join(names)}", flush=True)
        with check(f"[{label}] tools/list"):
            assert "diagnose_bottleneck" in names, names
            assert len(names) == len(set(names)), f"duplicate tool names: {names}"

        for tool in tools:
            with check(f"[{label}] {tool.name} declares inputSchema and outputSchema"):
                assert isinstance(tool.input_schema, dict) and tool.input_schema.get("type") == "object", tool.input_schema
                assert isinstance(tool.output_schema, dict) and tool.output_schema.get("type") == "object", tool.output_schema
                validator_for(tool.output_schema, default=jsonschema.Draft202012Validator).check_schema(tool.output_schema)

        for tool in tools:
            arguments = example_arguments(tool.name)
            with check(f"[{label}] tools/call {tool.name} {arguments}"):
                assert arguments is not None, f"no fixture file {FIXTURES / (tool.name + '.json')}"
                result = await client.call_tool(tool.name, arguments)
                body = texts(result.content)
                assert not result.is_error, f"isError: {body}"
                assert result.structured_content is not None, "no structuredContent"
                assert isinstance(result.structured_content, dict), type(result.structured_content)
                assert len(body) == 1 and body[0].strip(), f"text blocks: {body}"
                schema = tool.output_schema
                validator = validator_for(schema, default=jsonschema.Draft202012Validator)(schema)
                errors = sorted(validator.iter_errors(result.structured_content), key=lambda e: list(e.path))
                assert not errors, "structuredContent does not validate: " + "; ".join(
                    f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:5]
                )

        with check(f"[{label}] diagnose_bottleneck db_cpu_pct=150 is a tool error naming the field"):
            result = await client.call_tool("diagnose_bottleneck", {"db_cpu_pct": 150})
            body = "\n".join(texts(result.content))
            assert result.is_error, f"not an error: {body}"
            assert "db_cpu_pct" in body and "150" in body, body

        with check(f"[{label}] resources/list"):
            listed = await client.list_resources()
            uris = {str(resource.uri): resource for resource in listed.resources}
            assert "knowledge://caching" in uris, sorted(uris)
            assert uris["knowledge://caching"].mime_type == "text/markdown", uris["knowledge://caching"]

        with check(f"[{label}] resources/read knowledge://caching"):
            read = await client.read_resource("knowledge://caching")
            content = read.contents[0]
            assert content.mime_type == "text/markdown", content.mime_type
            assert content.text.startswith("# "), content.text[:80]

        with check(f"[{label}] resources/read knowledge://scaling-stages#graduation-triggers"):
            read = await client.read_resource("knowledge://scaling-stages#graduation-triggers")
            text = read.contents[0].text
            assert text.startswith("## Graduation triggers"), text[:80]
            assert "\n## " not in text, "the fragment runs past its section"

        with check(f"[{label}] prompts/get scaling_review"):
            prompts = await client.list_prompts()
            assert "scaling_review" in [prompt.name for prompt in prompts.prompts], prompts
            got = await client.get_prompt(
                "scaling_review", {"system_description": "A shop on one Postgres", "metrics": "p95 800 ms"}
            )
            assert got.messages, "no messages"
            text = "\n".join(m.content.text for m in got.messages if getattr(m.content, "type", None) == "text")
            for needle in ("A shop on one Postgres", "p95 800 ms", "diagnose_bottleneck"):
                assert needle in text, f"{needle!r} missing from the prompt"


async def main() -> None:
    for label, options, version in MODES:
        with check(f"[{label}] session"):
            with anyio.fail_after(MODE_TIMEOUT_S):
                await exercise(label, options, version)


if __name__ == "__main__":
    print(f"binary: {BINARY}", flush=True)
    if not os.access(BINARY, os.X_OK):
        print(f"FAIL: {BINARY} is not an executable (build it, or set SCALE_ADVISOR_BIN)")
        print("0 passed, 1 failed")
        sys.exit(1)
    anyio.run(main)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
