"""Prints the functions of BINARY that the callgrind profiles executed, one mangled name a
line: the symbol ordering file that puts them side by side at the start of the text."""

import re
import subprocess
import sys

binary, profiles = sys.argv[1], sys.argv[2:]
executed = set()
for profile in profiles:
    with open(profile, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            named = re.match(r"c?fn=\(\d+\) (.+)$", line.strip())
            if named:
                executed.add(named.group(1))

symbols = subprocess.run(
    ["nm", "--defined-only", binary], capture_output=True, text=True, check=True
).stdout
functions = {
    parts[2]
    for parts in (line.split() for line in symbols.splitlines())
    if len(parts) == 3 and parts[1] in "tTwW"
}
for name in sorted(executed & functions):
    print(name)
