"""Mail-sending benchmark: opsflow's `send_mail` against plain smtplib, and its memory as recipients grow.

`python bench/send.py [--n 2000] [--memory-sizes 2000,10000]`. Both senders talk to one SMTP sink
(bench/sink.py) in its own process; each memory size runs in a fresh child process. bench/run.py calls
`run()`, which prints the same lines and returns the results as rows for its table.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import resource
import select
import shutil
import smtplib
import socket
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

from opsflow.core.apply import apply_events
from opsflow.core.config import Secret, Settings
from opsflow.core.jobspec import Event, load_job
from opsflow.mail.transport import SmtpTransport
from opsflow.mail.send import preview_message, send_mail
from opsflow.registrants import event_csv_path, import_people, read_registrants
from opsflow.store import Store, open_store

BENCH = Path(__file__).resolve().parent
EXAMPLE_JOB = BENCH.parent / "jobs" / "example-seminar.toml"
SINK = BENCH / "sink.py"

SETUP_AT = datetime(2026, 11, 26, 0, 0, tzinfo=timezone.utc)  # when the seminar is applied and people import
SEND_AT = datetime(2027, 1, 7, 1, 0, tzinfo=timezone.utc)  # the invitation's time, 10:00 JST
MAIL_FROM = "セミナー事務局 <seminar@example.jp>"
GOAL_RATIO = 0.8
MEMORY_GOAL_RATIO = 1.25  # "flat": peak memory at the largest size over the smallest, for bench/run.py's table
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


def without_zoom(event: Event) -> Event:
    """The example registers people with Zoom; the benchmark uses the meeting-less path, as the tests do."""
    return dataclasses.replace(event, spec=event.spec.model_copy(update={"zoom": None}))


def prepare_seminar(folder: Path, count: int) -> tuple[Store, Event]:
    """A copy of the example job in `folder`, its CSV replaced by `count` generated people, applied to a
    new SQLite database and imported. Returns the store and the Zoom-less event."""
    job = folder / "jobs" / EXAMPLE_JOB.name
    job.parent.mkdir(parents=True)
    shutil.copy(EXAMPLE_JOB, job)
    event = without_zoom(load_job_with_csv(job, count))
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


def time_baseline(port: int, messages: list[tuple[str, bytes]]) -> float:
    """Seconds to send every message over one smtplib connection (connect and QUIT included)."""
    gc.collect()
    started = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    try:
        for recipient, data in messages:
            smtp.sendmail("seminar@example.jp", [recipient], data)
    finally:
        smtp.quit()
    return time.perf_counter() - started


# --- opsflow ------------------------------------------------------------------------------------------

def time_opsflow(store: Store, event: Event, port: int, count: int, progress=None) -> float:
    """Seconds for `send_mail` to send the invitation to everyone; fails unless all `count` were sent."""
    url = f"smtp://127.0.0.1:{port}"
    gc.collect()
    started = time.perf_counter()
    report = send_mail(store, settings_for(url), event, "invitation", SEND_AT, sync=False,
                       transport=SmtpTransport(url), progress=progress)
    elapsed = time.perf_counter() - started
    if len(report.sent) != count or report.has_failures:
        raise SystemExit(f"opsflow sent {len(report.sent)} of {count} (failed {len(report.failed)}, "
                         f"ambiguous {len(report.ambiguous)})")
    return elapsed


# --- memory (child process) -------------------------------------------------------------------------

def current_rss() -> int:
    """Resident set size now, in bytes (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    """Peak resident set size of this program so far, in bytes: VmHWM, not ru_maxrss. Linux carries
    ru_maxrss over from the parent through fork and exec, so a child started by a parent holding
    5,000 prebuilt messages would report the parent's 120 MB whatever it used itself."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux: the next best thing


def child_setup(count: int, folder: Path) -> None:
    """The database of a memory run, made in its own process so that the measured one only sends."""
    store, _ = prepare_seminar(folder, count)
    store.dispose()


def child_memory(count: int, port: int) -> dict:
    """Send to `count` registrants set up by another process; RSS after loading, while sending, at the end.
    The peak covers the interpreter, opsflow and the send: what a scheduled send-out costs."""
    with tempfile.TemporaryDirectory(prefix="opsflow-bench-") as tmp:
        folder = Path(tmp)
        setup = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-setup", str(count),
                                "--dir", tmp], capture_output=True, text=True)
        if setup.returncode != 0:
            raise SystemExit(f"setting up {count} registrants failed:\n{setup.stderr.strip()}")
        store = open_store(f"sqlite:///{folder / 'opsflow.db'}")
        event = without_zoom(load_job(folder / "jobs" / EXAMPLE_JOB.name))
        gc.collect()
        after_setup = current_rss()
        peak_after_setup = peak_rss()
        sampled = [after_setup]

        def sample(done: int, total: int) -> None:
            if done % 50 == 0 or done == total:
                sampled.append(current_rss())

        seconds = time_opsflow(store, event, port, count, progress=sample)
        store.dispose()
    return {"recipients": count, "seconds": seconds, "rss_after_setup": after_setup,
            "peak_rss_after_setup": peak_after_setup, "rss_peak_sending": max(sampled), "peak_rss": peak_rss(),
            "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def run_children(sizes: list[int], port: int) -> list[dict]:
    """The memory measurement for each size, each in a fresh interpreter. They run side by side: only
    their memory is reported, not their speed, and a 10,000-recipient run alone takes over a minute."""
    script = str(Path(__file__).resolve())
    children = [subprocess.Popen([sys.executable, script, "--child-memory", str(size), "--port", str(port)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for size in sizes]
    runs = []
    for size, child in zip(sizes, children):
        out, err = child.communicate()
        if child.returncode != 0:
            raise SystemExit(f"the memory run for {size} recipients failed:\n{err.strip()}")
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return runs


# --- reporting ----------------------------------------------------------------------------------------

def throughput_line(count: int, baseline_rate: float, opsflow_rate: float) -> str:
    ratio = opsflow_rate / baseline_rate
    return (f"send throughput, {count} invitations with .ics: baseline smtplib {baseline_rate:.0f} msg/s, "
            f"opsflow {opsflow_rate:.0f} msg/s, ratio {ratio:.2f} (goal >= {GOAL_RATIO})")


def memory_lines(runs: list[dict]) -> list[str]:
    peaks = ", ".join(f"{r['recipients']} recipients {r['peak_rss'] / MB:.0f} MB" for r in runs)
    growth = ", ".join(f"{r['recipients']} recipients {(r['rss_peak_sending'] - r['rss_after_setup']) / MB:+.1f} MB"
                       for r in runs)
    ratio = runs[-1]["peak_rss"] / runs[0]["peak_rss"]
    return [f"peak memory: {peaks} (goal: flat, ratio {ratio:.2f})",
            f"memory growth while sending (RSS over RSS after setup): {growth}"]


def summary_line(count: int, baseline_rate: float, opsflow_rate: float, runs: list[dict]) -> str:
    text = (f"summary: opsflow {opsflow_rate:.0f} msg/s vs smtplib {baseline_rate:.0f} msg/s "
            f"(ratio {opsflow_rate / baseline_rate:.2f}, goal >= {GOAL_RATIO}) over {count} invitations")
    if runs:
        peaks = " / ".join(f"{r['peak_rss'] / MB:.0f} MB" for r in runs)
        sizes = " / ".join(str(r["recipients"]) for r in runs)
        text += f"; peak memory {peaks} at {sizes} recipients (ratio {runs[-1]['peak_rss'] / runs[0]['peak_rss']:.2f})"
    return text


# --- main -----------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="invitations to send in the throughput run")
    parser.add_argument("--memory-sizes", default="2000,10000",
                        help="recipient counts for the memory runs, comma-separated ('' to skip)")
    parser.add_argument("--child-memory", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-setup", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.memory_sizes.split(",") if s.strip()]
    return args


@dataclasses.dataclass(frozen=True)
class Rates:
    """Messages a second: smtplib sending prebuilt bytes, opsflow's send_mail, and (outside the ratio)
    how fast the baseline's messages were built and serialised with the email package."""

    baseline: float
    opsflow: float
    baseline_build: float


def measure_throughput(port: int, count: int) -> Rates:
    """The rates for `count` invitations; setup and the baseline's prebuilding are not timed."""
    with tempfile.TemporaryDirectory(prefix="opsflow-bench-") as tmp:
        store, event = prepare_seminar(Path(tmp), count)
        model = model_message(store, settings_for(f"smtp://127.0.0.1:{port}"), event)
        started = time.perf_counter()
        messages = build_baseline(model, count)
        build_seconds = time.perf_counter() - started
        baseline_seconds = time_baseline(port, messages)
        del messages
        opsflow_seconds = time_opsflow(store, event, port, count)
        store.dispose()
    return Rates(count / baseline_seconds, count / opsflow_seconds, count / build_seconds)


def measure(count: int, sizes: list[int]) -> tuple[Rates, list[dict], int | None]:
    """Throughput over `count` invitations and the memory runs for `sizes`, printing each result as it
    comes; returns the rates, the memory runs and the number of messages the sink took."""
    with running_sink() as (port, sink):
        rates = measure_throughput(port, count)
        print(throughput_line(count, rates.baseline, rates.opsflow), flush=True)
        print(f"note: building and serialising the baseline's messages (EmailMessage, not timed above) runs at "
              f"{rates.baseline_build:.0f} msg/s", flush=True)
        runs = run_children(sizes, port)
        if runs:
            print("\n".join(memory_lines(runs)), flush=True)
    return rates, runs, sink.get("received")


def results(count: int, rates: Rates, runs: list[dict]) -> list[dict]:
    """The results as rows for bench/run.py's table: {name, value, baseline, ratio, goal, ok}."""
    ratio = rates.opsflow / rates.baseline
    rows = [{"name": f"send throughput, {count:,} invitations with .ics", "value": f"{rates.opsflow:.0f} msg/s",
             "baseline": f"{rates.baseline:.0f} msg/s (smtplib)", "ratio": ratio, "goal": f">= {GOAL_RATIO}",
             "ok": ratio >= GOAL_RATIO}]
    if len(runs) >= 2:
        first, last = runs[0], runs[-1]
        growth = last["peak_rss"] / first["peak_rss"]
        rows.append({"name": f"send peak memory, {last['recipients']:,} vs {first['recipients']:,} recipients",
                     "value": f"{last['peak_rss'] / MB:.0f} MB", "baseline": f"{first['peak_rss'] / MB:.0f} MB",
                     "ratio": growth, "goal": f"flat (<= {MEMORY_GOAL_RATIO})", "ok": growth <= MEMORY_GOAL_RATIO})
    return rows


def run(n: int = 2000, sizes: list[int] | tuple[int, ...] = (2000, 10000)) -> list[dict]:
    """Measure and print as the command line does; return the rows of `results`. Raises RuntimeError
    when the sink did not take every message."""
    rates, runs, received = measure(n, list(sizes))
    expected = 2 * n + sum(sizes)
    if received != expected:
        raise RuntimeError(f"the sink took {received} messages, expected {expected}")
    print(summary_line(n, rates.baseline, rates.opsflow, runs), flush=True)
    return results(n, rates, runs)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_setup is not None:
        child_setup(args.child_setup, Path(args.dir))
        return 0
    if args.child_memory is not None:
        print(json.dumps(child_memory(args.child_memory, args.port)))
        return 0
    rates, runs, received = measure(args.n, args.sizes)
    expected = 2 * args.n + sum(args.sizes)
    if received != expected:
        print(f"error: the sink took {received} messages, expected {expected}", file=sys.stderr)
        return 1
    print(summary_line(args.n, rates.baseline, rates.opsflow, runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
