#!/usr/bin/env bash
# Puts scale-advisor beside the official TypeScript and Python MCP servers, measured by mcp-load
# in one run on this machine. Installs the comparison servers at pinned versions first:
#   npm  @modelcontextprotocol/server-everything  -> bench/node_modules (package-lock.json)
#   pip  mcp-server-time                          -> bench/.venv (requirements.txt)
# Extra arguments go to mcp-load, e.g. `bench/compare.sh --cold-runs 10`.
# Prints the markdown table on stdout (progress on stderr); takes about ten minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p scale-advisor -p scale-advisor-bench

(cd bench && npm ci --no-audit --no-fund --loglevel=error)

if [ ! -x bench/.venv/bin/python ]; then
    python3 -m venv bench/.venv
fi
bench/.venv/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt

target/release/mcp-load --compare bench/servers.json "$@"
