#!/usr/bin/env bash
# Streamable HTTP end to end, through real HTTP:
#   1. the official MCP Python SDK against `serve --http`, both protocol generations, stateless
#      and --stateful, with and without a bearer token (test_sdk_http.py);
#   2. two replicas behind nginx under wrk, steady and through a rolling restart (nginx_load.sh).
# Self-contained: creates the venv tests/python/.venv with the SDK when it lacks it, and
# nginx_load.sh installs nginx and wrk from Debian when they are missing.
#
#   SCALE_ADVISOR_BIN=path/to/scale-advisor tests/http/run.sh    # default: build it
#   LOAD_DURATION=5 tests/http/run.sh                             # seconds per load phase
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

venv="$root/tests/python/.venv"
if [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >/dev/null 2>&1; then
    python="$venv/bin/python"
    pip_flags=()
else
    # No venv module (Debian without python3-venv): a user install instead.
    python=python3
    pip_flags=(--user)
fi
if ! "$python" -c 'import mcp.client.streamable_http' 2>/dev/null; then
    echo "== installing the MCP Python SDK ($python)"
    "$python" -m pip install --quiet --disable-pip-version-check "${pip_flags[@]}" -r "$here/requirements.txt" ||
        "$python" -m pip install --quiet --disable-pip-version-check "${pip_flags[@]}" --break-system-packages \
            -r "$here/requirements.txt"
fi

# The debug build by default (the one the e2e tests already built): this checks behaviour; for
# throughput figures run nginx_load.sh on its own, which builds --release.
bin=${SCALE_ADVISOR_BIN:-}
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --quiet -p scale-advisor)
    bin="$root/target/debug/scale-advisor"
fi
export SCALE_ADVISOR_BIN="$bin"

echo "== the MCP Python SDK over HTTP"
"$python" "$here/test_sdk_http.py"

echo
echo "== two replicas behind nginx under load"
"$here/nginx_load.sh"
