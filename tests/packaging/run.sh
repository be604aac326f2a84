#!/usr/bin/env bash
# The packaging stage: every way the README installs scale-advisor, run here.
#   1. the wheel (maturin, one release build) installed into a fresh venv, and the official MCP
#      Python SDK client (tests/python/test_sdk_client.py, both modes) against its binary;
#   2. the README's install commands, each under a `# README: <command>` line (tests/e2e/readme.rs
#      checks that this list and the README's commands are the same);
#   3. the MCP bundle packed and validated from the same release binary, and unpacked to check it
#      holds the manifest and a binary that runs;
#   4. `cargo publish --dry-run` for the three crates, in dependency order, and the top-level
#      skill.md in the server crate's package;
#   5. `config` and `skill install` of the installed binary into a scratch HOME.
# Needs cargo, python3 (>= 3.10) and npm; PyPI, npm and crates.io reachable the first time.
#
#   tests/packaging/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
work="$root/target/packaging"
rm -rf "$work"
mkdir -p "$work"
# uv and pipx keep their caches and installs under target/packaging (cargo and pip keep theirs).
export UV_CACHE_DIR="$work/uv-cache" UV_TOOL_DIR="$work/uv-tools" UV_TOOL_BIN_DIR="$work/uv-bin" \
    PIPX_HOME="$work/pipx" PIPX_BIN_DIR="$work/pipx-bin" PIPX_MAN_DIR="$work/pipx-man"
py_client="$root/tests/python/.venv/bin/python"
check() { echo "ok: $*"; }

echo "== the packaging tools (tests/packaging/requirements.txt)"
tools="$here/.venv"
if [ ! -x "$tools/bin/maturin" ]; then
    python3 -m venv "$tools"
    "$tools/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi
export PATH="$tools/bin:$PATH"

echo "== 1. the wheel: maturin build --release (the one release build of this stage)"
maturin build --release --locked --out "$work/wheels"
wheel=$(ls "$work"/wheels/scale_advisor-*.whl)
echo "wheel: $(basename "$wheel"), $(wc -c < "$wheel") bytes"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheel"
installed="$work/venv/bin/scale-advisor"
"$installed" --version
cmp "$installed" "$root/target/release/scale-advisor"
check "the wheel installs the release binary as venv/bin/scale-advisor"
if [ ! -x "$py_client" ]; then
    python3 -m venv "$root/tests/python/.venv"
    "$py_client" -m pip install --quiet --disable-pip-version-check -r "$root/tests/python/requirements.txt"
fi
SCALE_ADVISOR_BIN="$installed" "$py_client" "$root/tests/python/test_sdk_client.py"

echo "== 2. the README's install commands"
index=(--no-index --find-links "$work/wheels")
# README: uvx scale-advisor serve
uvx "${index[@]}" scale-advisor serve < /dev/null
uvx "${index[@]}" scale-advisor tools | grep '^plan_capacity ' > /dev/null
check "uvx scale-advisor serve (the name resolved from the wheel, as from PyPI)"
# README: pipx install scale-advisor
pipx install --pip-args="${index[*]}" scale-advisor
"$PIPX_BIN_DIR/scale-advisor" --version
pipx uninstall scale-advisor > /dev/null
check "pipx install scale-advisor"
# README: uvx --from . scale-advisor serve
uvx --from . scale-advisor serve < /dev/null
check "uvx --from . scale-advisor serve"
# README: pipx install .
pipx install .
"$PIPX_BIN_DIR/scale-advisor" --version
check "pipx install ."
# README: cargo install --locked --path server
cargo install --locked --path server --root "$work/cargo-root"
"$work/cargo-root/bin/scale-advisor" --version
check "cargo install --locked --path server"
# README: cargo run --release --locked -p scale-advisor -- serve
cargo run --release --locked -p scale-advisor -- serve < /dev/null
check "cargo run --release --locked -p scale-advisor -- serve"
# README: cargo install --locked scale-advisor
#   what crates.io would hand out is what `cargo publish --dry-run` packs and builds (step 4).
# README: bash tests/run.sh
#   the command that runs this stage (from .ci/run).

echo "== 3. the MCP bundle"
# README: bash packaging/mcpb/build.sh
bash packaging/mcpb/build.sh
bundle="$root/target/scale-advisor.mcpb"
echo "bundle: $(wc -c < "$bundle") bytes"
rm -rf "$work/unpacked"
"$root/packaging/mcpb/node_modules/.bin/mcpb" unpack "$bundle" "$work/unpacked" > /dev/null
cmp "$work/unpacked/server/scale-advisor" "$root/target/release/scale-advisor"
[ -x "$work/unpacked/server/scale-advisor" ]
"$work/unpacked/server/scale-advisor" tools --json > "$work/bundle-tools.json"
python3 - "$work/unpacked/manifest.json" "$work/bundle-tools.json" <<'PY'
import json, sys
manifest = json.load(open(sys.argv[1]))
tools = json.load(open(sys.argv[2]))
assert manifest["server"]["type"] == "binary", manifest["server"]
assert manifest["server"]["entry_point"] == "server/scale-advisor"
listed = [(t["name"], t["description"]) for t in manifest["tools"]]
assert listed == [(t["name"], t["description"]) for t in tools], "bundle tools differ from the binary's"
print(f"bundle manifest: {len(listed)} tools, version {manifest['version']}")
PY
"$root/packaging/mcpb/node_modules/.bin/mcpb" validate "$work/unpacked/manifest.json"
check "the bundle holds a valid manifest and the release binary, which runs"

echo "== 4. cargo publish --dry-run (knowledge, tools, server in dependency order)"
cargo package --list --locked -p scale-advisor-knowledge > "$work/knowledge.list"
for doc in knowledge/docs/*.md; do
    grep -qx "docs/$(basename "$doc")" "$work/knowledge.list" || { echo "the knowledge crate lacks $doc"; exit 1; }
done
cargo package --list --locked -p scale-advisor | grep -qx skill.md
check "the packaged crates hold the $(ls knowledge/docs/*.md | wc -l) knowledge documents and skill.md"
# One command for the three: cargo packs each against the others' packed sources, in order.
# It unpacks them from a temporary registry into $CARGO_HOME/registry/src/<that registry>/ and
# builds them. A later run from the same checkout would reuse both, what an earlier run unpacked
# and what it built (same names and version: cargo takes registry sources to never change), and
# build tools against an old knowledge crate. So the unpacked copies go first (crates.io's own
# directory is left alone), and the check builds in a target directory of its own, removed after.
for unpacked in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
    case $unpacked in */index.crates.io-*/) continue ;; esac
    rm -rf "$unpacked"scale-advisor-*
done
publish_target="$work/publish-target"
rm -rf "$publish_target"
# --allow-dirty: what is checked is the packing, not whether a developer has committed yet.
CARGO_TARGET_DIR="$publish_target" \
    cargo publish --dry-run --allow-dirty --locked --workspace --exclude scale-advisor-bench
# The server crate's skill.md is a symlink to the top-level one: the package holds its text.
# (cargo publish leaves the packed crates in package/tmp-crate and package/tmp-registry.)
crate=$(find "$publish_target/package" -name 'scale-advisor-[0-9]*.crate' | head -n 1)
[ -n "$crate" ] || { echo "cargo publish --dry-run left no scale-advisor crate"; exit 1; }
tar -xzOf "$crate" "$(basename "$crate" .crate)/skill.md" | cmp - "$root/skill.md"
rm -rf "$publish_target"
check "cargo publish --dry-run --workspace; the server crate packs the top-level skill.md"

echo "== 5. config and skill install into a scratch HOME"
scratch="$work/scratch-home"
mkdir -p "$scratch"
HOME="$scratch" "$installed" config claude-desktop > "$work/claude-desktop.json"
HOME="$scratch" "$installed" config claude-code > "$work/claude-code.txt"
HOME="$scratch" "$installed" skill install
python3 - "$work/claude-desktop.json" "$installed" "$work/claude-code.txt" <<'PY'
import json, os, sys
entry = json.load(open(sys.argv[1]))["mcpServers"]["scale-advisor"]
binary = os.path.realpath(sys.argv[2])
assert entry == {"command": binary, "args": ["serve"]}, entry
line = open(sys.argv[3]).read().strip()
assert line == f"claude mcp add --scope user scale-advisor -- {binary} serve", line
PY
cmp "$scratch/.claude/skills/scale-advisor/SKILL.md" "$root/skill.md"
check "config names the installed binary; skill install wrote SKILL.md"

echo
echo "packaging: wheel $(wc -c < "$wheel") bytes, bundle $(wc -c < "$bundle") bytes"
