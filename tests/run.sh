#!/usr/bin/env bash
# The test command of scale-advisor. Run from the repository root:
#
#   tests/run.sh
#
# Stages: build the binary and the tests, the Rust tests (cargo test --workspace --locked, then the e2e suite
# again on each other protocol revision), the official MCP
# Python SDK 2.x as a client (both of its modes), the MCP Inspector 2.x CLI as a client, the
# streamable HTTP tests (SDK over HTTP, nginx + wrk load), the MCP conformance suite, the report
# page in headless Chromium, and the packaging stage (wheel, bundle, cargo publish --dry-run, the
# README's installs).
# Needs: cargo, python3 (>= 3.10) with venv or pip, node + npm; PyPI and npm reachable the first
# time; chromium, Prometheus and its exporters, PostgreSQL and Redis (installed with apt-get when
# missing). Any failure stops the run with a non-zero exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=$ROOT/target/debug/scale-advisor
START=$SECONDS

stage() {
  echo
  echo "==> [$1/8] $2 ($((SECONDS - START)) s elapsed, $(df -h --output=avail . | tail -n 1 | tr -d ' ') free on disk)"
}

# One build for every stage: the tests' feature set, so that stage 2 builds nothing again (a
# `cargo build -p scale-advisor` first resolves features differently and builds most
# dependencies twice, twice the disk).
# The live systems the source tests start (contract Part 3), from Debian: each test starts its own
# on a free loopback port and stops it by its pid, never a service the package may have started.
live=(prometheus prometheus-node-exporter prometheus-postgres-exporter prometheus-redis-exporter
      postgresql postgresql-client redis-server redis-tools openssl procps util-linux)
missing=()
for package in "${live[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "installing what the source tests start: ${missing[*]}"
  SUDO=$([[ $(id -u) -eq 0 ]] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

stage 1 "build: cargo test --workspace --locked --no-run (the binary and every test)"
cargo test --workspace --locked --no-run

stage 2 "rust tests: cargo test --workspace --locked"
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
cargo test --workspace --locked 2>&1 | tee "$LOGS/cargo.log"
# The end-to-end suite begins its sessions on 2025-11-25 above; run it again on the other
# revisions served (tests/e2e/harness.rs reads SCALE_ADVISOR_E2E_REVISION).
for revision in 2025-06-18 2026-07-28; do
  echo "--> e2e on $revision"
  SCALE_ADVISOR_E2E_REVISION=$revision cargo test --workspace --test e2e --locked 2>&1 | tee -a "$LOGS/cargo.log"
done

stage 3 "python: official MCP Python SDK client (tests/python/test_sdk_client.py)"
PY_DIR=$ROOT/tests/python
VENV=$PY_DIR/.venv
PIP_FLAGS=(--disable-pip-version-check --quiet --requirement "$PY_DIR/requirements.txt")
if [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  PYTHON=$VENV/bin/python
elif python3 -m venv "$VENV" >/dev/null 2>&1 && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  PYTHON=$VENV/bin/python
else
  # No working venv module (e.g. Debian without python3-venv): install for the user instead.
  echo "python3 -m venv is unavailable; falling back to pip install --user"
  rm -rf "$VENV"
  PYTHON=python3
fi
if [[ $PYTHON == python3 ]]; then
  # An "externally managed" system Python refuses --user installs unless told otherwise.
  python3 -m pip install --user "${PIP_FLAGS[@]}" ||
    python3 -m pip install --user --break-system-packages "${PIP_FLAGS[@]}"
else
  "$PYTHON" -m pip install "${PIP_FLAGS[@]}"
fi
SCALE_ADVISOR_BIN=$BIN "$PYTHON" "$PY_DIR/test_sdk_client.py" | tee "$LOGS/python.log"

stage 4 "inspector: MCP Inspector CLI (tests/inspector/run.sh)"
SCALE_ADVISOR_BIN=$BIN "$ROOT/tests/inspector/run.sh" | tee "$LOGS/inspector.log"

stage 5 "streamable HTTP: Python SDK over HTTP, two replicas behind nginx + wrk (tests/http/run.sh)"
SCALE_ADVISOR_BIN=$BIN "$ROOT/tests/http/run.sh"

stage 6 "conformance: official MCP conformance suite over HTTP (tests/conformance/run.sh)"
SCALE_ADVISOR_BIN=$BIN "$ROOT/tests/conformance/run.sh"

stage 7 "report page: headless Chromium, MCP Apps handshake and --html pages (tests/pages/run.sh)"
SCALE_ADVISOR_BIN=$BIN "$ROOT/tests/pages/run.sh" | tee "$LOGS/pages.log"

stage 8 "packaging: wheel, bundle, cargo publish --dry-run, the README's installs (tests/packaging/run.sh)"
"$ROOT/tests/packaging/run.sh" | tee "$LOGS/packaging.log"

# One closing line for CI: every check counted above (a stage that fails stops the run first).
RUST=$(grep -oE 'test result: ok\. [0-9]+ passed' "$LOGS/cargo.log" | awk '{sum += $4} END {print sum + 0}')
CLIENTS=$(cat "$LOGS/python.log" "$LOGS/inspector.log" "$LOGS/pages.log" "$LOGS/packaging.log" | grep -oE '^[0-9]+ passed, 0 failed' | awk '{sum += $1} END {print sum + 0}')
echo
echo "==> all stages passed in $((SECONDS - START)) s"
echo "tests: $((RUST + CLIENTS)) passed, 0 failed"
