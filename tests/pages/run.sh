#!/usr/bin/env bash
# The report page in headless Chromium (tests/pages/check_pages.py): the MCP Apps handshake as
# a host speaks it, and the pages `call ... --html` writes, at 1280x800 and a phone's width, in
# the light and the dark scheme. Installs Debian's chromium when it is missing (needs root and
# the Debian archive the first time).
#
#   SCALE_ADVISOR_BIN=target/debug/scale-advisor tests/pages/run.sh [--docs docs]
#
# --docs DIR also copies two screenshots to DIR (the README shows docs/*.png).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${SCALE_ADVISOR_BIN:-$ROOT/target/debug/scale-advisor}

CHROMIUM=${CHROMIUM:-}
if [[ -z $CHROMIUM ]]; then
  CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
fi
if [[ -z $CHROMIUM ]]; then
  echo "chromium is missing: apt-get install -y chromium"
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  fi
  CHROMIUM=$(command -v chromium)
fi
echo "$("$CHROMIUM" --version 2>/dev/null | head -1)"
CHROMIUM=$CHROMIUM python3 "$HERE/check_pages.py" "$BIN" "$HERE/out" "$@"
