#!/usr/bin/env bash
# Regenerates server/hot-symbols.txt, the order in which the release build lays out the
# functions a stdio session runs: every function executed while serving the sessions in
# bench/layout/*.jsonl (under valgrind's callgrind), first in the text and side by side.
# The kernel maps an executable's code 64 KiB at a time around each page it touches, so
# keeping the code that runs together keeps the resident set small (see bench/RESULTS.md).
# Run it after changes that rename or add many functions; a stale file only costs memory.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --release --locked -p scale-advisor
binary=target/release/scale-advisor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for session in bench/layout/*.jsonl; do
    name=$(basename "$session" .jsonl)
    python3 bench/layout/feed.py "$session" |
        valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/$name.out" \
            "$binary" serve >"$work/$name.answers" 2>"$work/$name.log"
    echo "$session: $(wc -l <"$work/$name.answers") answers" >&2
done
python3 bench/layout/hot_symbols.py "$binary" "$work"/*.out >server/hot-symbols.txt
echo "server/hot-symbols.txt: $(wc -l <server/hot-symbols.txt) functions" >&2
# Relink with the new order (the file is an input of the link only: names stay the same).
cargo build --release --locked -p scale-advisor
