#!/usr/bin/env bash
# Regenerates bench/SIZES.md: the bytes a model reads from each tool, per scenario of
# bench/sizes/scenarios.json, in `concise` and `full` (contract §6), beside the bytes the same
# scenarios gave before `detail` existed (bench/sizes/baseline.json, recorded once with
# --baseline on the commit before the change). Also the size of the `tools/list` answer, and
# the floor: each concise answer reduced to the fields the contract names
# (tools/tests/shared/contract_fields.json, the list the tests read) with `summary`,
# `missing_inputs`, `sources` and `truncated`, which is how low concise can go without
# dropping a named field.
#
#   bench/sizes.sh [--baseline] [BINARY]     (BINARY defaults to target/debug/scale-advisor)
#
# It speaks MCP over stdio to `BINARY serve`, so the bytes are those a client receives:
# `structuredContent` as compact JSON and the text block's UTF-8.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=table
if [[ "${1:-}" == "--baseline" ]]; then mode=baseline; shift; fi
binary="${1:-target/debug/scale-advisor}"
[[ -x "$binary" ]] || { echo "no binary at $binary (cargo build -p scale-advisor)" >&2; exit 1; }

python3 - "$mode" "$binary" <<'PY'
import json, subprocess, sys

mode, binary = sys.argv[1], sys.argv[2]
scenarios = json.load(open("bench/sizes/scenarios.json"))
if not scenarios:
    sys.exit("bench/sizes/scenarios.json holds no scenario")

server = subprocess.Popen([binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, encoding="utf-8")
next_id = 0

def request(method, params):
    global next_id
    next_id += 1
    server.stdin.write(json.dumps({"jsonrpc": "2.0", "id": next_id, "method": method,
                                   "params": params}) + "\n")
    server.stdin.flush()
    while True:
        line = server.stdout.readline()
        if not line:
            sys.exit(f"the server closed stdout while answering {method}")
        message = json.loads(line)
        if message.get("id") == next_id:
            return line.rstrip("\n"), message

def compact(value):
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())

# The contract's fields, the same list the tests read: `every_result` and each tool's paths,
# grouped by the contract section they come from.
contract = json.load(open("tools/tests/shared/contract_fields.json"))
flatten = lambda sections: [path for paths in sections.values() for path in paths]
every_result = flatten(contract["every_result"]) + ["truncated"]

def named_paths(tool):
    if tool not in contract["tools"]:
        sys.exit(f"tools/tests/shared/contract_fields.json names no fields for `{tool}`")
    paths = every_result + flatten(contract["tools"][tool])
    # A path whose parts are listed too (`quorum` beside `quorum.n`) stands for its parts.
    return [p for p in paths
            if not any(q.startswith(p + ".") or q.startswith(p + "[].") for q in paths)]

def project(value, parts):
    """`value` holding only the path `parts` (`[]`: every item of a list), or None."""
    head, rest = parts[0], parts[1:]
    name, every = (head[:-2], True) if head.endswith("[]") else (head, False)
    if not isinstance(value, dict) or name not in value:
        return None
    child = value[name]
    if not rest or child is None:
        return {name: child}
    if every and isinstance(child, list):
        return {name: [project(item, rest) or {} for item in child]}
    inner = project(child, rest)
    return None if inner is None else {name: inner}

def merge(into, part):
    if isinstance(into, dict) and isinstance(part, dict):
        for key, value in part.items():
            into[key] = merge(into[key], value) if key in into else value
        return into
    if isinstance(into, list) and isinstance(part, list):
        return [merge(a, b) for a, b in zip(into, part)]
    return part

def contract_floor(tool, structured):
    kept = {}
    for path in named_paths(tool):
        part = project(structured, path.split("."))
        if part is not None:
            kept = merge(kept, part)
    return compact(kept)

request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "sizes", "version": "0"}})
server.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
line, listed = request("tools/list", {})
tools_list_bytes = len(line.encode())
tool_count = len(listed["result"]["tools"])

def measure(scenario, detail):
    arguments = dict(scenario["arguments"])
    if detail:
        arguments["detail"] = detail
    _, answer = request("tools/call", {"name": scenario["tool"], "arguments": arguments})
    result = answer.get("result")
    if result is None or result.get("isError"):
        sys.exit(f"{scenario['name']} ({detail or 'no detail'}) was refused: {answer}")
    text = sum(len(block["text"].encode()) for block in result["content"] if block["type"] == "text")
    structured = result["structuredContent"]
    return {"structured": compact(structured), "text": text,
            "floor": contract_floor(scenario["tool"], structured)}

if mode == "baseline":
    rows = {s["name"]: {k: v for k, v in measure(s, None).items() if k != "floor"}
            for s in scenarios}
    json.dump({"tools_list_bytes": tools_list_bytes, "tools": tool_count, "scenarios": rows},
              open("bench/sizes/baseline.json", "w"), indent=1, sort_keys=True)
    open("bench/sizes/baseline.json", "a").write("\n")
    print(f"recorded {len(rows)} scenarios and tools/list ({tools_list_bytes} bytes) in bench/sizes/baseline.json")
    sys.exit(0)

baseline = json.load(open("bench/sizes/baseline.json"))
# The concise answers as issue 26 found them, before it folded what a model reads twice.
dated = json.load(open("bench/sizes/2026-12-07.json"))["scenarios"]
out = ["# What a model reads: bytes per tool result", "",
       "Generated by `bench/sizes.sh` from `bench/sizes/scenarios.json`; do not edit by hand.",
       "`before` is the same scenario on the commit before `detail` existed",
       "(`bench/sizes/baseline.json`); `12-07` is its concise answer on 2026-12-07, before issue 26",
       "(`bench/sizes/2026-12-07.json`); `structured` is `structuredContent` as compact JSON,",
       "`text` the markdown block, both in bytes. `contract fields` is the concise",
       "`structuredContent` reduced to the fields the contract names",
       "(`tools/tests/shared/contract_fields.json`, the list the tests read) with `summary`,",
       "`missing_inputs`, `sources` and `truncated`: how low concise can go without dropping a",
       "named field.", "",
       f"`tools/list`: {tools_list_bytes:,} bytes for {tool_count} tools "
       f"(before: {baseline['tools_list_bytes']:,} for {baseline['tools']}; limit 20,480).", "",
       "| scenario | tool | before structured | 12-07 concise | concise structured | contract fields | concise text | full structured | full text | concise / full | concise / before |",
       "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
total_before = total_concise = 0
# The large reshard is left out of the second total: its cut map carried the first one.
dated_total = now_total = floor_total = 0
for s in scenarios:
    concise, full = measure(s, "concise"), measure(s, "full")
    before = baseline["scenarios"].get(s["name"])
    b_s = before["structured"] if before else None
    ratio = f"{concise['structured'] / b_s:.2f}" if b_s else "new"
    if b_s:
        total_before += b_s
        total_concise += concise["structured"]
    then = dated.get(s["name"], {}).get("structured")
    if then and s["name"] != "migration_reshard_4096_to_4000":
        dated_total += then
        now_total += concise["structured"]
        floor_total += concise["floor"]
    fmt = lambda v: "n/a" if v is None else f"{v:,}"
    out.append(f"| {s['name']} | `{s['tool']}` | {fmt(b_s)} | {fmt(then)} | "
               f"{concise['structured']:,} | {concise['floor']:,} | {concise['text']:,} | "
               f"{full['structured']:,} | {full['text']:,} | "
               f"{concise['structured'] / full['structured']:.2f} | {ratio} |")
out += ["", f"All scenarios with a `before`: {total_concise:,} bytes of concise `structuredContent` "
        f"against {total_before:,} before ({total_concise / total_before:.2f})." if total_before else ""]
if dated_total:
    out += ["", f"Every scenario but the 4,096-shard reshard: {now_total:,} bytes of concise "
            f"`structuredContent` against {dated_total:,} on 2026-12-07 ({now_total / dated_total:.2f}).",
            "", f"The same scenarios, contract fields alone: {floor_total:,} bytes "
            f"({floor_total / now_total:.2f} of their concise, {floor_total / dated_total:.2f} of 2026-12-07)."]
open("bench/SIZES.md", "w").write("\n".join(out).rstrip() + "\n")
print("\n".join(out))
server.stdin.close()
server.wait(timeout=20)
PY
