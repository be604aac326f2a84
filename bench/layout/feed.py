"""Writes a session file to stdout as a client would. A line `SLEEP` waits three seconds,
so that a server running under valgrind has answered `initialize` and later calls take the
path a live session takes; the rest are written at once, as a pipelining client does."""

import sys
import time

with open(sys.argv[1], encoding="utf-8") as session:
    for line in session:
        if line.strip() == "SLEEP":
            sys.stdout.flush()
            time.sleep(3)
            continue
        sys.stdout.write(line)
sys.stdout.flush()
time.sleep(10)
