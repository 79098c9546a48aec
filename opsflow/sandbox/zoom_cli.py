"""The command line of the fake Zoom (`python -m opsflow.sandbox.zoom`): serve it on loopback with the
faults an operator wants to rehearse (rate limits, 5xx, dropped connections, a slow create, expiring
tokens, odd lists), print the settings that point opsflow at it, and show each request as it comes."""

from __future__ import annotations

import argparse
import signal
import threading
import time

from opsflow.sandbox.zoom import FakeZoom

EPILOG = """\
Faults with a count are used up by the first API calls that arrive, in the order: --rate-limit,
--daily-limit, --fail-5xx, --reset. Token requests never use them up. The server listens on
127.0.0.1 only and keeps its meetings in memory until it stops (Ctrl-C).

example:
  python -m opsflow.sandbox.zoom --port 8765 --rate-limit 3 --slow-create 20
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options of the fake Zoom; `--help` prints them and exits."""
    parser = argparse.ArgumentParser(
        prog="python -m opsflow.sandbox.zoom",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve a fake Zoom (Server-to-Server OAuth and the API calls opsflow makes) on 127.0.0.1, "
        "optionally misbehaving, to rehearse failures by hand.",
    )
    parser.add_argument("--port", type=_port, default=0, help="port to listen on (default 0: any free port)")
    faults = parser.add_argument_group("faults used up by the first API calls")
    faults.add_argument(
        "--rate-limit",
        type=_count,
        default=0,
        metavar="N",
        help="answer the first N API calls with 429 (per-second limit) and Retry-After",
    )
    faults.add_argument(
        "--retry-after",
        type=_seconds,
        default=1.0,
        metavar="SECONDS",
        help="the Retry-After of --rate-limit answers (default 1)",
    )
    faults.add_argument(
        "--daily-limit",
        type=_count,
        default=0,
        metavar="N",
        help="answer N API calls with 429 (daily limit, Retry-After the next 00:00 UTC)",
    )
    faults.add_argument(
        "--fail-5xx",
        type=_count,
        default=0,
        metavar="N",
        help="answer N API calls with a server error (see --fail-status)",
    )
    faults.add_argument(
        "--fail-status",
        type=_status,
        default=500,
        metavar="CODE",
        help="the status of --fail-5xx answers, 500 to 599 (default 500)",
    )
    faults.add_argument(
        "--reset",
        type=_count,
        default=0,
        metavar="N",
        help="drop the connection of N API calls without answering or doing them",
    )
    quirks = parser.add_argument_group("behaviour that stays on")
    quirks.add_argument(
        "--slow-create",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="wait this long before answering a meeting or webinar creation (it is made at once)",
    )
    quirks.add_argument(
        "--slow-answers",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="wait this long before answering every API call (each is carried out at once)",
    )
    quirks.add_argument(
        "--token-ttl",
        type=_whole_seconds,
        default=3599,
        metavar="SECONDS",
        help="how long an access token lasts (default 3599, as Zoom)",
    )
    quirks.add_argument(
        "--expire-tokens-every",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="invalidate every token issued so far this often: API calls then get 401 code 124",
    )
    quirks.add_argument(
        "--duplicate-rows",
        action="store_true",
        help="each page of a list repeats its first row (the email in capitals)",
    )
    quirks.add_argument(
        "--repeat-page-token", action="store_true", help="each page of a list names itself as the next page, for ever"
    )
    parser.add_argument("--quiet", action="store_true", help="do not print each request")
    return parser.parse_args(argv)


def configure(fake: FakeZoom, args: argparse.Namespace) -> list[str]:
    """Script the faults and quirks of `args` into `fake`; returns them described, one per line."""
    said = []
    if args.rate_limit:
        fake.rate_limit_next(times=args.rate_limit, retry_after=f"{args.retry_after:g}")
        said.append(f"{_calls(args.rate_limit)}: 429, per-second limit, Retry-After: {args.retry_after:g}")
    if args.daily_limit:
        fake.rate_limit_next(kind="Daily-limit", times=args.daily_limit)
        said.append(f"{_calls(args.daily_limit)}: 429, daily limit")
    if args.fail_5xx:
        fake.fail_next(args.fail_status, times=args.fail_5xx)
        said.append(f"{_calls(args.fail_5xx)}: HTTP {args.fail_status}")
    if args.reset:
        fake.reset_next(times=args.reset)
        said.append(f"{_calls(args.reset)}: connection dropped, no answer")
    fake.quirks.slow_create = args.slow_create
    fake.quirks.slow_answers = args.slow_answers
    fake.quirks.duplicate_rows = args.duplicate_rows
    fake.quirks.repeat_page_token = args.repeat_page_token
    if args.slow_create:
        said.append(f"a meeting or webinar creation: answered after {args.slow_create:g} s")
    if args.slow_answers:
        said.append(f"every API call: answered after {args.slow_answers:g} s")
    if args.token_ttl != 3599:
        said.append(f"access tokens: last {args.token_ttl} s")
    if args.expire_tokens_every:
        said.append(f"access tokens: all invalidated every {args.expire_tokens_every:g} s")
    if args.duplicate_rows:
        said.append("lists: each page repeats its first row")
    if args.repeat_page_token:
        said.append("lists: each page names itself as the next, for ever")
    return said


def run(argv: list[str] | None = None) -> int:
    """Parse `argv`, serve until Ctrl-C or SIGTERM, and return the exit code."""
    args = parse_args(argv)
    fake = FakeZoom(token_ttl=args.token_ttl, port=args.port)
    said = configure(fake, args)
    try:
        fake.start()
    except OSError as exc:
        print(
            f"Error: cannot listen on 127.0.0.1:{args.port} ({exc.strerror or exc}): choose another --port, "
            "or 0 for any free port",
            flush=True,
        )
        return 1
    try:
        _print_banner(fake, said)
        _serve(fake, args)
    finally:
        fake.stop()
    print(f"\nstopped after {len(fake.recorded)} requests", flush=True)
    return 0


def _serve(fake: FakeZoom, args: argparse.Namespace) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    shown = 0
    next_expiry = time.monotonic() + args.expire_tokens_every
    try:
        while not stop.wait(0.1):
            if not args.quiet:
                for exchange in fake.recorded[shown:]:
                    status = exchange.status or "connection dropped"
                    print(f"{exchange.method} {exchange.path} -> {status}", flush=True)
                    shown += 1
            if args.expire_tokens_every and time.monotonic() >= next_expiry:
                fake.expire_tokens()
                next_expiry += args.expire_tokens_every
                if not args.quiet:
                    print("every access token issued so far is now invalid", flush=True)
    except KeyboardInterrupt:
        pass


def _print_banner(fake: FakeZoom, said: list[str]) -> None:
    print(f"A fake Zoom is listening on {fake.base_url}. In another terminal, point opsflow at it:\n")
    print(f"export OPSFLOW_ZOOM_ACCOUNT_ID={fake.account_id}")
    print(f"export OPSFLOW_ZOOM_CLIENT_ID={fake.client_id}")
    print(f"export OPSFLOW_ZOOM_CLIENT_SECRET={fake.client_secret}")
    print(f"export OPSFLOW_ZOOM_API_URL={fake.api_url}")
    print(f"export OPSFLOW_ZOOM_OAUTH_URL={fake.oauth_url}\n")
    if said:
        print("Misbehaving as asked (counted faults are used up in this order by the API calls that arrive):")
    for line in said:
        print(f"  {line}")
    print("Press Ctrl-C to stop.", flush=True)


def _calls(count: int) -> str:
    return f"{count} API call" if count == 1 else f"{count} API calls"


def _number(text: str, convert, low: float, high: float, what: str):
    try:
        value = convert(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    return value


def _port(text: str) -> int:
    return _number(text, int, 0, 65535, "a port from 0 to 65535")


def _count(text: str) -> int:
    return _number(text, int, 0, 1_000_000, "a count of 0 or more")


def _seconds(text: str) -> float:
    return _number(text, float, 0, 86_400, "a number of seconds from 0 to 86400")


def _whole_seconds(text: str) -> int:
    return _number(text, int, 1, 86_400, "a whole number of seconds from 1 to 86400")


def _status(text: str) -> int:
    return _number(text, int, 500, 599, "a server-error status from 500 to 599")
