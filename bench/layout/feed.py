"""Writes a session file to stdout as a client would: one message at a time, with pauses so
that a server running under valgrind answers each before the next arrives. A line `SLEEP`
waits three seconds (for `initialize` to be answered, so that later calls take the path a
live session takes)."""

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
        time.sleep(0.3)
time.sleep(5)
