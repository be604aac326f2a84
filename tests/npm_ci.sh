#!/usr/bin/env bash
# `npm ci` in a directory, tried up to three times. The npm registry is reached over the network,
# and one failed download stopped a whole CI run at the Inspector's install (2026-12-01) with
# nothing printed but the path of npm's log; so a failed attempt prints the error lines of that
# log before the next try.
#
#   tests/npm_ci.sh DIR [more npm ci flags]
set -euo pipefail
dir=$1
shift
for attempt in 1 2 3; do
    logs=$(mktemp -d)
    if (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error --logs-dir="$logs" "$@"); then
        rm -rf "$logs"
        exit 0
    fi
    echo "npm ci in $dir failed (attempt $attempt of 3); npm's log says:" >&2
    grep -hE '^[0-9]+ (error|warn|http fetch)' "$logs"/*.log 2>/dev/null | grep -vE ' 200 ' | tail -n 12 >&2 || true
    rm -rf "$logs"
    if [[ $attempt -lt 3 ]]; then sleep $((attempt * 15)); fi
done
exit 1
