"""Mail-sending benchmark: a whole `opsflow send` process against plain smtplib, and its memory as
recipients grow.

`python bench/send.py [--n 2000] [--runs 3] [--memory-sizes 10000,50000]`. Every sender talks to one SMTP
sink (bench/sink.py) in its own process. Throughput: smtplib sends `--n` prebuilt invitations over one
connection, then over a connection each, then `opsflow send example-seminar invitation` (the default: the
CSV read again, text+HTML+.ics built per person, the ledger) runs as a process from start to exit; the
medians of `--runs` rounds are compared. Memory: the same default `opsflow send` to each size, run through
bench/peak.py, which reports the process's peak RSS. bench/run.py calls `run()`, which prints the same
lines and returns the results as rows for its table.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import re
import select
import shutil
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path

import startup  # bench/startup.py: starting and timing whole processes

from opsflow.core.apply import apply_events
from opsflow.core.config import Secret, Settings
from opsflow.core.jobspec import Event, load_job
from opsflow.mail.send import preview_message
from opsflow.registrants import event_csv_path, import_people, read_registrants
from opsflow.store import Store, open_store

BENCH = Path(__file__).resolve().parent
EXAMPLE_JOB = BENCH.parent / "jobs" / "example-seminar.toml"
SINK = BENCH / "sink.py"
PEAK = BENCH / "peak.py"
EXAMPLE_CSV = BENCH.parent / "jobs" / "registrants" / "example-seminar.csv"

SETUP_AT = datetime(2026, 11, 26, 0, 0, tzinfo=timezone.utc)  # when the seminar is applied and people import
SEND_AT = datetime(2027, 1, 7, 1, 0, tzinfo=timezone.utc)  # the invitation's time, 10:00 JST
MAIL_FROM = "セミナー事務局 <seminar@example.jp>"
GOAL_RATIO = 0.8  # against smtplib over one connection
PER_MESSAGE_GOAL_RATIO = 1.5  # against smtplib with a connection a message
MEMORY_GOAL_RATIO = 1.1  # "flat": peak memory at the largest size over the smallest
SINK_START_TIMEOUT = 15.0
MB = 1024 * 1024

ORGANIZATIONS = (  # (自治体名, 所属部署), cycled over the generated registrants
    ("石川県加賀市", "政策戦略部イノベーション推進課"),
    ("福岡県糸島市", "企画部デジタル推進課"),
    ("北海道札幌市", "デジタル戦略推進局 情報システム課"),
    ("大阪府豊中市", "都市経営部 DX推進課"),
    ("宮城県仙台市", "まちづくり政策局 情報政策部"),
)


# --- setup (never timed) ----------------------------------------------------------------------------

def person_email(n: int) -> str:
    return f"p{n:06d}@city.example.lg.jp"


def person_name(n: int) -> str:
    return f"山田 太郎{n}"


def write_registrants_csv(path: Path, count: int) -> None:
    """A registration-form export with `count` people, numbered from 1."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("氏名,メールアドレス,自治体名,所属部署\r\n")
        for n in range(1, count + 1):
            organization, department = ORGANIZATIONS[n % len(ORGANIZATIONS)]
            out.write(f"{person_name(n)},{person_email(n)},{organization},{department}\r\n")


def prepare_seminar(folder: Path, count: int) -> tuple[Store, Event]:
    """The example job without its [zoom] table in `folder/jobs`, its CSV replaced by `count` generated
    people, applied to a new SQLite database there and imported (as `opsflow apply` would have)."""
    job = folder / "jobs" / EXAMPLE_JOB.name
    job.parent.mkdir(parents=True)
    job.write_text(startup.job_without_zoom(EXAMPLE_JOB.read_text(encoding="utf-8"), SETUP_AT), encoding="utf-8")
    event = load_job_with_csv(job, count)
    store = open_store(f"sqlite:///{folder / 'opsflow.db'}")
    apply_events(store, [event], SETUP_AT)
    report = import_people(store, event.id, read_registrants(event_csv_path(event)), SETUP_AT)
    if len(report.added) != count:
        raise SystemExit(f"setup imported {len(report.added)} registrants, expected {count}")
    return store, event


def load_job_with_csv(job: Path, count: int) -> Event:
    """Write the CSV where the job file's [registrants] csv points (load_job checks that it exists)."""
    with job.open("rb") as raw:
        relative = tomllib.load(raw)["registrants"]["csv"]
    write_registrants_csv(job.parent / relative, count)
    return load_job(job)


def settings_for(url: str) -> Settings:
    return Settings(smtp_url=Secret(url), mail_from=MAIL_FROM, organizer="パブリテックセミナー事務局",
                    organizer_contact="seminar@example.jp")


# --- the sink process -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_sink() -> Iterator[tuple[int, dict]]:
    """Start bench/sink.py on a free port; yield (port, result). After the block, result["received"]
    holds the number of messages the sink took."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(SINK), str(port)], stdout=subprocess.PIPE, text=True)
    result: dict = {}
    try:
        ready, _, _ = select.select([process.stdout], [], [], SINK_START_TIMEOUT)
        line = process.stdout.readline().strip() if ready else ""
        if line != "ready":
            raise SystemExit(f"the SMTP sink did not start within {SINK_START_TIMEOUT:.0f} s (said {line!r})")
        yield port, result
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=SINK_START_TIMEOUT)
        words = out.split()
        if len(words) == 2 and words[0] == "received":
            result["received"] = int(words[1])


# --- baseline: plain smtplib ----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class MessageModel:
    """The parts of one opsflow-rendered invitation, to build equivalent messages from."""

    subject: str
    text: str
    html: str
    ics: str
    ics_method: str
    recipient_name: str


def model_message(store: Store, settings: Settings, event: Event) -> MessageModel:
    """What opsflow would send to the first registrant."""
    message = preview_message(store, settings, event, "invitation", SEND_AT, to=person_email(1))
    (ics,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return MessageModel(subject=str(message["Subject"]), text=message.get_body(("plain",)).get_content(),
                        html=message.get_body(("html",)).get_content(), ics=ics.get_content(),
                        ics_method=ics.get_param("method") or "PUBLISH", recipient_name=person_name(1))


def baseline_message(model: MessageModel, sender: Address, n: int) -> EmailMessage:
    """The invitation for person `n`, built the way a hand-written script would."""
    name, email = person_name(n), person_email(n)
    user, _, domain = email.partition("@")
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = Address(display_name=name, username=user, domain=domain)
    message["Subject"] = model.subject
    message["Date"] = format_datetime(SEND_AT)
    message["Message-ID"] = make_msgid(domain=sender.domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(model.text.replace(model.recipient_name, name), charset="utf-8")
    message.add_alternative(model.html.replace(model.recipient_name, name), subtype="html", charset="utf-8")
    message.add_attachment(model.ics, subtype="calendar", charset="utf-8", filename="seminar.ics",
                           params={"method": model.ics_method})
    return message


def build_baseline(model: MessageModel, count: int) -> list[tuple[str, bytes]]:
    """(recipient, message bytes) for people 1..count, ready to hand to smtplib."""
    sender = Address(display_name="セミナー事務局", username="seminar", domain="example.jp")
    return [(person_email(n), baseline_message(model, sender, n).as_bytes()) for n in range(1, count + 1)]


def time_baseline(port: int, messages: list[tuple[str, bytes]], *, per_message: bool = False) -> float:
    """Seconds to send every message with smtplib: over one connection, or (`per_message`) a new connection
    for each message, as most mailers do (connect, EHLO and QUIT included)."""
    gc.collect()
    started = time.perf_counter()
    if per_message:
        for recipient, data in messages:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                smtp.sendmail("seminar@example.jp", [recipient], data)
        return time.perf_counter() - started
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    try:
        for recipient, data in messages:
            smtp.sendmail("seminar@example.jp", [recipient], data)
    finally:
        smtp.quit()
    return time.perf_counter() - started


# --- opsflow: `opsflow send` as a whole process -------------------------------------------------------

def send_env(folder: Path, port: int) -> dict[str, str]:
    env = startup.bench_env(folder / "opsflow.db")
    env.update({"OPSFLOW_SMTP_URL": f"smtp://127.0.0.1:{port}", "OPSFLOW_MAIL_FROM": MAIL_FROM,
                "OPSFLOW_ORGANIZER": "パブリテックセミナー事務局", "OPSFLOW_ORGANIZER_CONTACT": "seminar@example.jp",
                "OPSFLOW_JOBS_DIR": str(folder / "jobs")})
    return env


def send_command(measure_memory: bool = False) -> list[str]:
    """The default `opsflow send` of the invitation (the CSV read again first), or the same run through
    bench/peak.py, which reports the process's peak memory."""
    if measure_memory:
        return [sys.executable, str(PEAK), "send", "example-seminar", "invitation"]
    return startup.opsflow_command() + ["send", "example-seminar", "invitation"]


def run_send(folder: Path, port: int, count: int, *, measure_memory: bool = False) -> tuple[float, int | None]:
    """Wall-clock seconds of one `opsflow send` process (start to exit) and, with `measure_memory`, its peak
    RSS in bytes; fails unless it sent to all `count` people."""
    gc.collect()
    seconds, done = startup.timed(send_command(measure_memory), folder, send_env(folder, port))
    out = done.stdout.decode()
    counted = re.search(r": (\d+) sent, ", out)  # `example-seminar: mail.invitation: 2000 sent, 0 had it already, ...`
    sent = int(counted.group(1)) if counted else -1
    if done.returncode != 0 or sent != count:
        raise SystemExit(f"`opsflow send` sent {sent} of {count} (exit {done.returncode}):\n{out[-1500:]}"
                         f"{done.stderr.decode()[-1500:]}")
    peak = None
    if measure_memory:
        lines = [line for line in done.stderr.decode().splitlines() if line.startswith("peak-rss ")]
        peak = int(lines[-1].split()[1]) if lines else None
    return seconds, peak


def memory_run(port: int, count: int) -> dict:
    """The peak memory of a default `opsflow send` to `count` registrants (setup not measured)."""
    with tempfile.TemporaryDirectory(prefix="opsflow-bench-") as tmp:
        folder = Path(tmp)
        store, _ = prepare_seminar(folder, count)
        store.dispose()
        seconds, peak = run_send(folder, port, count, measure_memory=True)
    return {"recipients": count, "seconds": seconds, "peak_rss": peak}


# --- reporting ----------------------------------------------------------------------------------------

def memory_lines(runs: list[dict]) -> list[str]:
    peaks = ", ".join(f"{r['recipients']:,} recipients {r['peak_rss'] / MB:.0f} MB ({r['seconds']:.1f} s)"
                      for r in runs)
    ratio = runs[-1]["peak_rss"] / runs[0]["peak_rss"]
    return [f"peak memory of `opsflow send`: {peaks} (ratio {ratio:.2f}, goal <= {MEMORY_GOAL_RATIO})"]


# --- main -----------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="invitations to send in the throughput runs")
    parser.add_argument("--runs", type=int, default=3, help="paired throughput runs (the median is taken)")
    parser.add_argument("--memory-sizes", default="10000,50000",
                        help="recipient counts for the memory runs, comma-separated ('' to skip)")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.memory_sizes.split(",") if s.strip()]
    return args


@dataclasses.dataclass(frozen=True)
class Rates:
    """Messages a second: smtplib over one connection and over one connection a message (both sending
    prebuilt bytes), and the whole `opsflow send` process."""

    baseline: float
    per_message: float
    opsflow: float


def measure_throughput(port: int, count: int, runs: int) -> Rates:
    """Median rates over `runs` rounds; each round sends to `count` people with each sender, in turn.
    Setup and the baseline's prebuilding are not timed; opsflow starts from a fresh copy of the database."""
    times: dict[str, list[float]] = {"baseline": [], "per_message": [], "opsflow": []}
    with tempfile.TemporaryDirectory(prefix="opsflow-bench-") as tmp:
        folder = Path(tmp)
        store, event = prepare_seminar(folder, count)
        model = model_message(store, settings_for(f"smtp://127.0.0.1:{port}"), event)
        store.dispose()
        messages = build_baseline(model, count)
        shutil.copy(folder / "opsflow.db", folder / "prepared.db")
        for _ in range(runs):
            times["baseline"].append(time_baseline(port, messages))
            times["per_message"].append(time_baseline(port, messages, per_message=True))
            for suffix in ("", "-wal", "-shm"):
                (folder / f"opsflow.db{suffix}").unlink(missing_ok=True)
            shutil.copy(folder / "prepared.db", folder / "opsflow.db")
            times["opsflow"].append(run_send(folder, port, count)[0])
    medians = {name: statistics.median(t) for name, t in times.items()}
    return Rates(count / medians["baseline"], count / medians["per_message"], count / medians["opsflow"])


def measure(count: int, runs: int, sizes: list[int]) -> tuple[Rates, list[dict], int | None]:
    """Throughput over `count` invitations and the memory runs for `sizes`, printing each result as it
    comes; returns the rates, the memory runs and the number of messages the sink took."""
    with running_sink() as (port, sink):
        rates = measure_throughput(port, count, runs)
        print(f"send throughput, {count:,} invitations with .ics (medians of {runs}): `opsflow send` "
              f"{rates.opsflow:.0f} msg/s as a whole process; smtplib {rates.baseline:.0f} msg/s over one "
              f"connection (ratio {rates.opsflow / rates.baseline:.2f}, goal >= {GOAL_RATIO}), "
              f"{rates.per_message:.0f} msg/s with a connection a message (ratio "
              f"{rates.opsflow / rates.per_message:.2f}, goal >= {PER_MESSAGE_GOAL_RATIO})", flush=True)
        runs_ = [memory_run(port, size) for size in sizes]
        if runs_:
            print("\n".join(memory_lines(runs_)), flush=True)
    return rates, runs_, sink.get("received")


def results(count: int, rates: Rates, runs: list[dict]) -> list[dict]:
    """The results as rows for bench/run.py's table: {name, value, baseline, ratio, goal, ok}."""
    ratio = rates.opsflow / rates.baseline
    per_message = rates.opsflow / rates.per_message
    rows = [
        {"name": f"send, {count:,} invitations (text+HTML+.ics, ledger), whole `opsflow send` process",
         "value": f"{rates.opsflow:.0f} msg/s", "baseline": f"{rates.baseline:.0f} msg/s (smtplib, prebuilt, "
         "one connection)", "ratio": ratio, "goal": f">= {GOAL_RATIO}", "ok": ratio >= GOAL_RATIO},
        {"name": "send, the same against a connection a message", "value": f"{rates.opsflow:.0f} msg/s",
         "baseline": f"{rates.per_message:.0f} msg/s (smtplib, prebuilt, a connection each)", "ratio": per_message,
         "goal": f">= {PER_MESSAGE_GOAL_RATIO}", "ok": per_message >= PER_MESSAGE_GOAL_RATIO},
    ]
    if len(runs) >= 2:
        first, last = runs[0], runs[-1]
        growth = last["peak_rss"] / first["peak_rss"]
        rows.append({"name": f"peak RSS of a default `opsflow send`, {last['recipients']:,} vs "
                             f"{first['recipients']:,} recipients", "value": f"{last['peak_rss'] / MB:.0f} MB",
                     "baseline": f"{first['peak_rss'] / MB:.0f} MB", "ratio": growth,
                     "goal": f"<= {MEMORY_GOAL_RATIO}", "ok": growth <= MEMORY_GOAL_RATIO})
    return rows


def run(n: int = 2000, sizes: list[int] | tuple[int, ...] = (10000, 50000), runs: int = 3) -> list[dict]:
    """Measure and print as the command line does; return the rows of `results`. Raises RuntimeError
    when the sink did not take every message."""
    rates, memory, received = measure(n, runs, list(sizes))
    expected = 3 * n * runs + sum(sizes)
    if received != expected:
        raise RuntimeError(f"the sink took {received} messages, expected {expected}")
    return results(n, rates, memory)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        run(args.n, args.sizes, args.runs)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
