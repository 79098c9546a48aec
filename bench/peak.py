"""`python bench/peak.py ARGS...`: run `opsflow ARGS...` in this process and, at exit, print its peak resident
memory to stderr as `peak-rss BYTES`.

The peak is VmHWM from /proc (the high-water mark of this program's own memory, which starts afresh at
exec), not ru_maxrss, which Linux carries over from the parent process through fork and exec.
"""

from __future__ import annotations

import atexit
import resource
import sys


def peak_rss() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux: the next best thing


def report() -> None:
    print(f"peak-rss {peak_rss()}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    atexit.register(report)
    from opsflow.cli.entry import main

    sys.argv = ["opsflow", *sys.argv[1:]]
    main()
