"""A minimal SMTP sink for the benchmarks: `python bench/sink.py PORT` accepts and discards every message.

It runs as its own process so that it does not compete with the sender for the GIL. It prints `ready`
once listening, and `received N` when SIGTERM stops it. Like Postfix, Exim, Gmail, SES and most relays
it offers PIPELINING (RFC 2920) in its EHLO answer (aiosmtpd reads pipelined commands, but does not say
so by itself); smtplib never uses it, opsflow does.
"""

from __future__ import annotations

import signal
import sys
import threading

from aiosmtpd.controller import Controller


class CountingHandler:
    """Counts each message and throws it away."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:
        session.host_name = hostname
        return [responses[0], "250-PIPELINING", *responses[1:]]

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1  # handlers run on the controller's one event-loop thread: no lock needed
        return "250 OK"


def serve(port: int) -> int:
    """Listen on 127.0.0.1:`port` until SIGTERM (or SIGINT); return the number of messages taken."""
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    controller.start()  # returns once the server answers
    try:
        print("ready", flush=True)
        while not stop.wait(0.2):  # a short wait so the signal handler gets to run promptly
            pass
    finally:
        controller.stop()
    return handler.count


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python bench/sink.py PORT", file=sys.stderr)
        return 2
    count = serve(int(args[0]))
    print(f"received {count}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
