"""Prints the functions of BINARY that the callgrind profiles executed, one mangled name a
line, the most executed first: the symbol ordering file that puts them side by side at the
start of the text, the hottest together."""

import re
import subprocess
import sys
from collections import Counter

binary, profiles = sys.argv[1], sys.argv[2:]
cost = Counter()
for profile in profiles:
    names = {}
    current = None
    skip_next = False
    with open(profile, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            line = line.strip()
            named = re.match(r"(c?fn)=\((\d+)\)(?: (.+))?$", line)
            if named:
                kind, number, name = named.groups()
                if name:
                    names[number] = name
                if kind == "fn":
                    current = names.get(number)
                    cost[current] += 0
                elif number in names:
                    cost[names[number]] += 0
                continue
            if line.startswith("calls="):
                skip_next = True  # the next line is the call's inclusive cost
                continue
            if line and (line[0].isdigit() or line[0] in "+-*") and current:
                if skip_next:
                    skip_next = False
                    continue
                fields = line.split()
                if len(fields) >= 2 and fields[1].isdigit():
                    cost[current] += int(fields[1])

symbols = subprocess.run(
    ["nm", "--defined-only", binary], capture_output=True, text=True, check=True
).stdout
functions = {
    parts[2]
    for parts in (line.split() for line in symbols.splitlines())
    if len(parts) == 3 and parts[1] in "tTwW"
}
for name in sorted(set(cost) & functions, key=lambda n: (-cost[n], n)):
    print(name)
