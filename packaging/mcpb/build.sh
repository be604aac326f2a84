#!/usr/bin/env bash
# Packs the Claude Desktop bundle target/scale-advisor.mcpb (an MCP Bundle, `server.type:
# "binary"`) with the official @anthropic-ai/mcpb CLI, after validating its manifest. The
# bundle holds manifest.json, server/scale-advisor and LICENSE; the manifest's tools, version
# and platform are read from the binary packed (see manifest.mjs). The bundle runs on the
# operating system and CPU it was built on (Linux or macOS).
#
#   packaging/mcpb/build.sh                        # cargo build --release, then pack
#   SCALE_ADVISOR_BIN=path packaging/mcpb/build.sh # pack a binary already built
#   packaging/mcpb/build.sh --sync                 # also rewrite manifest.json's tools and
#                                                  # version from the binary (tests/e2e checks them)
# Needs node and npm (the CLI is installed here from package-lock.json on first use).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sync=0
case "${1:-}" in
    "") ;;
    --sync) sync=1 ;;
    *) echo "usage: $0 [--sync]" >&2; exit 2 ;;
esac

bin=${SCALE_ADVISOR_BIN:-}
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --release --locked -p scale-advisor)
    bin="$root/target/release/scale-advisor"
fi
case "$(uname -s)" in
    Linux) platform=linux ;;
    Darwin) platform=darwin ;;
    *) echo "build.sh packs Linux and macOS binaries; $(uname -s) is neither" >&2; exit 1 ;;
esac

mcpb="$here/node_modules/.bin/mcpb"
if [ ! -x "$mcpb" ]; then
    "$root/tests/npm_ci.sh" "$here"
fi

stage="$root/target/mcpb"
rm -rf "$stage"
mkdir -p "$stage/server"
cp "$bin" "$stage/server/scale-advisor"
chmod 755 "$stage/server/scale-advisor"
cp "$root/LICENSE" "$stage/LICENSE"
version=$("$bin" --version | awk '{print $2}')
"$bin" tools --json > "$root/target/mcpb-tools.json"
if [ "$sync" = 1 ]; then
    node "$here/manifest.mjs" --sync "$here/manifest.json" "$root/target/mcpb-tools.json" "$version"
    echo "== manifest.json: tools and version written from $bin"
fi
node "$here/manifest.mjs" "$here/manifest.json" "$root/target/mcpb-tools.json" "$version" "$platform" \
    > "$stage/manifest.json"

echo "== mcpb validate"
"$mcpb" validate "$stage/manifest.json"
echo "== mcpb pack"
rm -f "$root/target/scale-advisor.mcpb"
"$mcpb" pack "$stage" "$root/target/scale-advisor.mcpb"
echo "== $root/target/scale-advisor.mcpb: $(wc -c < "$root/target/scale-advisor.mcpb") bytes"
