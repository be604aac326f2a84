#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, then replays the kept regression inputs.
#
#   fuzz/run.sh            60 seconds per target
#   fuzz/run.sh 300        300 seconds per target
#   fuzz/run.sh 60 tool_arguments
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). cargo-fuzz wants nightly compiler flags; on the
# stable toolchain RUSTC_BOOTSTRAP=1 unlocks them. A crash leaves its input under
# fuzz/artifacts/<target>/: minimise it (`cargo fuzz tmin <target> <file>`), fix the cause,
# and keep it under fuzz/regressions/<target>/ so that `cargo test` replays it from then on.
set -euo pipefail

seconds="${1:-60}"
shift || true
cd "$(dirname "$0")"
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(tool_arguments knowledge_document)
fi
export RUSTC_BOOTSTRAP=1

for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    # Seed the corpus with the kept inputs and, for documents, the real knowledge base.
    cp -n regressions/"$target"/* "corpus/$target/" 2>/dev/null || true
    if [ "$target" = knowledge_document ]; then
        cp -n ../knowledge/docs/*.md "corpus/$target/" 2>/dev/null || true
    fi
    # and, for arguments, every tool's example arguments (tools/fixtures/), as mode-0 inputs.
    if [ "$target" = tool_arguments ]; then
        python3 - "corpus/$target" <<'PY'
import json, pathlib, sys
for fixture in sorted(pathlib.Path("../tools/fixtures").glob("*.json")):
    for example in json.loads(fixture.read_text()):
        seed = pathlib.Path(sys.argv[1]) / f"fixture-{fixture.stem}-{example['name']}"
        seed.write_bytes(b"\0" + json.dumps(example["arguments"]).encode())
PY
    fi
    echo "== $target: ${seconds}s"
    cargo fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1
done

# The kept inputs, replayed exactly as `cargo test` does.
(cd .. && cargo test -q -p scale-advisor-tools --test fuzz_regressions && cargo test -q -p scale-advisor-knowledge --test fuzz_regressions)
