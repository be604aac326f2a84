#!/usr/bin/env bash
# scale-advisor driven by the MCP Inspector 2.x CLI (pinned in package.json / package-lock.json).
#
#   tests/inspector/run.sh            # against target/debug/scale-advisor
#   SCALE_ADVISOR_BIN=... tests/inspector/run.sh
#
# Lists the tools, calls every listed tool with the first example of its fixture file (the
# Inspector itself also validates structuredContent against the tool's outputSchema and fails
# the call when it does not match), checks a bad argument gives isError (exit 5), reads
# resources and gets the prompt. The full pass runs in the Inspector's default era for ad-hoc
# stdio targets (legacy: initialize at 2025-11-25); a shorter pass runs with
# --protocol-era modern (server/discover, 2026-07-28). Last line: `N passed, M failed`.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${SCALE_ADVISOR_BIN:-$HERE/../../target/debug/scale-advisor}
if [[ -d $(dirname "$BIN") ]]; then BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN"); fi
CALL_TIMEOUT_S=60

# Each tool's first example from its fixture file (tools/fixtures/<tool>.json, the one list of
# example arguments the Rust tests, benches and fuzzers read too), as --tool-arg key=value
# words (values are compact JSON, so nested objects are written inline; no spaces in a value).
FIXTURES=$HERE/../../tools/fixtures
tool_words() {
  node -e '
    const [path] = process.argv.slice(1);
    const args = JSON.parse(require("fs").readFileSync(path, "utf8"))[0].arguments;
    console.log(Object.entries(args).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" "));
  ' "$FIXTURES/$1.json"
}
# Extra checks (a JS expression over the structured result `s`) proving the nested JSON
# arguments arrived as objects.
declare -A EXTRA=(
  [pick_consistency_model]='s.quorum && s.quorum.n === 3 && s.quorum.overlap === true'
  [scaling_report]='Array.isArray(s.sections) && s.sections.length === 7'
)

if [[ ! -x $BIN ]]; then
  echo "FAIL: $BIN is not an executable (build it, or set SCALE_ADVISOR_BIN)"
  echo "0 passed, 1 failed"
  exit 1
fi

cd "$HERE"
echo "installing the pinned Inspector (Node $(node --version))"
# Inspector 2.x declares node >=22.19; its CLI mode runs on Node 20 (npm's EBADENGINE warnings
# are hidden by --loglevel=error; an engine-strict npm config would refuse the install).
"$HERE/../npm_ci.sh" "$HERE"
echo "inspector $(node -p 'require("./node_modules/@modelcontextprotocol/inspector/package.json").version'), binary $BIN"

# No OS keychain here: keep the Inspector's secrets in memory, and its catalog and client
# config in a scratch directory instead of ~/.mcp-inspector.
export MCP_INSPECTOR_SECRET_STORE=memory
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
export MCP_CATALOG_PATH=$SCRATCH/mcp.json MCP_CLIENT_CONFIG_PATH=$SCRATCH/client.json

passed=0
failed=0
OUT=$SCRATCH/out.json
ERR=$SCRATCH/err.txt

pass() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  echo "FAIL $1"
  if [[ -s $OUT ]]; then echo "  stdout: $(head -c 1500 "$OUT")"; fi
  if [[ -s $ERR ]]; then echo "  stderr: $(grep -v '^unknown format' "$ERR" | head -c 1500)"; fi
}

# inspector ERA ARGS...: runs the CLI (stdout to $OUT, stderr to $ERR); sets $rc.
inspector() {
  local era=$1
  shift
  rc=0
  timeout "$CALL_TIMEOUT_S" npx --no -- @modelcontextprotocol/inspector --cli "$BIN" serve \
    --protocol-era "$era" --format json "$@" >"$OUT" 2>"$ERR" || rc=$?
}

# holds EXPR: the JS expression over `r` (the parsed stdout) is true.
holds() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const ok = (function () { return eval(process.argv[2]); })();
    process.exit(ok ? 0 : 1);
  ' "$OUT" "$1" 2>>"$ERR"
}

# expect LABEL EXIT_CODE EXPR ERA ARGS...: one counted check.
expect() {
  local label=$1 code=$2 expr=$3
  shift 3
  inspector "$@"
  if [[ $rc -ne $code ]]; then
    fail "$label: exit code $rc, expected $code"
  elif ! holds "$expr"; then
    fail "$label: output check failed: $expr"
  else
    pass
  fi
}

# Result checks for a successful tools/call.
CALL_OK='const x = r.result; x && !x.isError && x.structuredContent !== null && typeof x.structuredContent === "object"
  && x.content.filter(c => c.type === "text").length === 1
  && x.content.some(c => c.type === "text" && c.text.trim().length > 0)'

run_era() {
  local era=$1 full=$2

  expect "[$era] tools/list: every tool has inputSchema and outputSchema" 0 \
    'r.result.tools.length > 0 && r.result.tools.some(t => t.name === "diagnose_bottleneck")
     && r.result.tools.every(t => t.inputSchema && t.inputSchema.type === "object"
                              && t.outputSchema && t.outputSchema.type === "object")' \
    "$era" --method tools/list
  local names
  if [[ $rc -ne 0 ]] || ! names=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const t of r.result.tools) console.log(t.name);
  ' "$OUT"); then
    return
  fi
  echo "[$era] tools: $(echo $names)"

  local name
  for name in $names; do
    if [[ $full != full && $name != diagnose_bottleneck ]]; then continue; fi
    local line
    if ! line=$(tool_words "$name"); then
      echo "FAIL: [$era] $name has no fixture file $FIXTURES/$name.json"
      failed=$((failed + 1))
      continue
    fi
    local -a words
    read -r -a words <<<"$line"
    local expr=$CALL_OK
    if [[ -n ${EXTRA[$name]+set} ]]; then expr="$CALL_OK && (s => ${EXTRA[$name]})(r.result.structuredContent)"; fi
    expect "[$era] tools/call $name $line" 0 "$expr" \
      "$era" --method tools/call --tool-name "$name" --tool-arg "${words[@]}"
  done
  if [[ $full == full ]]; then
    local fixture
    for fixture in "$FIXTURES"/*.json; do
      name=$(basename "$fixture" .json)
      if ! grep -qx "$name" <<<"$names"; then
        echo "FAIL: [$era] the fixture $name.json names no listed tool"
        failed=$((failed + 1))
      fi
    done
  fi

  expect "[$era] diagnose_bottleneck db_cpu_pct=150 is isError naming the field (exit 5)" 5 \
    'r.result.isError === true && r.result.content.some(c => c.type === "text" && c.text.includes("db_cpu_pct") && c.text.includes("150"))' \
    "$era" --method tools/call --tool-name diagnose_bottleneck --tool-arg db_cpu_pct=150

  if [[ $full == full ]]; then
    expect "[$era] resources/list" 0 \
      'r.result.resources.some(x => x.uri === "knowledge://caching" && x.mimeType === "text/markdown")' \
      "$era" --method resources/list
    expect "[$era] resources/read knowledge://caching" 0 \
      'r.result.contents[0].mimeType === "text/markdown" && r.result.contents[0].text.startsWith("# ")' \
      "$era" --method resources/read --uri knowledge://caching
  fi
  expect "[$era] resources/read knowledge://scaling-stages#graduation-triggers" 0 \
    'const t = r.result.contents[0].text; t.startsWith("## Graduation triggers") && !t.includes("\n## ")' \
    "$era" --method resources/read --uri 'knowledge://scaling-stages#graduation-triggers'
  expect "[$era] prompts/get scaling_review" 0 \
    'const t = r.result.messages.map(m => m.content.text || "").join("\n");
     t.includes("A shop on one Postgres") && t.includes("diagnose_bottleneck")' \
    "$era" --method prompts/get --prompt-name scaling_review \
    --prompt-args 'system_description=A shop on one Postgres' 'metrics=p95 800 ms'
}

run_era legacy full
run_era modern short

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
