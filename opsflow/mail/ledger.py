"""The delivery ledger and the send loop: one row per (event, recipient, message), never sent twice.

A row goes pending -> sending -> sent | failed | deferred (or cancelled, when the person was cancelled
before their turn). `sending` is committed before the message itself is written (while the envelope,
with PIPELINING MAIL FROM + RCPT TO + DATA, makes its round trip); a row still `sending` after a crash or
a broken connection is *ambiguous*: reported, never resent on its own (`opsflow deliveries resolve`
decides). Everything else resumes where it stopped.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from opsflow import store as db
from opsflow.core.errors import MailError
from opsflow.mail.message import Outgoing, UnsafeHeaderError
from opsflow.mail.transport import Disconnected, NotWritten, OutcomeUnknown
from opsflow.store import Store

CHUNK = 200  # rows read at a time: memory stays flat however many recipients
CLAIMS = 1000  # recipients claimed at a time
RECONNECTS = 3  # per message, before the batch stops


@dataclass
class BatchReport:
    event_id: str
    message_key: str
    dry_run: bool = False
    sent: list[str] = field(default_factory=list)
    already_sent: int = 0
    deferred: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    failed_before: list[tuple[str, str]] = field(default_factory=list)  # refused in an earlier run, still standing
    would_send: list[str] = field(default_factory=list)
    stopped: bool = False  # asked to stop before the end (a shutdown): the rest are still pending
    left: int = 0  # still pending or deferred when the batch ended

    @property
    def has_failures(self) -> bool:
        return bool(self.failed or self.failed_before or self.ambiguous)

    def counts(self) -> str:
        """`12 sent, 1 ambiguous, 387 left for the next run`: what a stopped batch says."""
        parts = [f"{len(self.sent)} sent", f"{len(self.ambiguous)} ambiguous"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        parts.append(f"{self.left} left for the next run")
        return ", ".join(parts)


class BatchStopped(MailError):
    """The mail server stopped the batch part way (gone, or silent past the timeout). `report` holds
    what was done; the rest stay pending for the next run, the message in doubt is ambiguous."""

    def __init__(self, reason: str, report: BatchReport) -> None:
        self.reason = reason
        self.report = report
        super().__init__(f"{reason}; {report.counts()}")


class Recipients:
    """Who a batch is for, in order: here a list. `opsflow.mail.send` passes the roster itself
    (RosterRecipients), read from the store a page at a time, so that nothing as long as the roster
    is held while the batch runs."""

    def __init__(self, emails: list[str]) -> None:
        self.emails = emails
        self._wanted = set(emails)

    def pages(self, conn, size: int) -> Iterator[list[str]]:
        """The recipients `size` at a time, in order (`conn`: the transaction to read them in)."""
        for start in range(0, len(self.emails), size):
            yield self.emails[start : start + size]

    def among(self, conn, emails: list[str]) -> set[str]:
        """Which of `emails` the batch is for."""
        return {e for e in emails if e in self._wanted}


def retry_delay(attempts: int) -> timedelta:
    """How long a deferred message waits: 5 minutes, doubling, at most 2 hours."""
    return min(timedelta(minutes=5) * 2 ** max(attempts - 1, 0), timedelta(hours=2))


class Pace:
    """At most `per_minute` messages a minute (for relays that limit them); no limit when None."""

    def __init__(self, per_minute: float | None, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.clock, self.sleep = clock, sleep
        self.next_at: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


def send_batch(
    store: Store,
    transport,
    *,
    event_id: str,
    message_key: str,
    recipients: Recipients | list[str],
    build: Callable[[str], Outgoing],
    sender: str,
    now: Callable[[], datetime],
    resend: bool = False,
    dry_run: bool = False,
    pace: Pace | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    cancel_others: bool = True,
) -> BatchReport:
    """Send `message_key` to each recipient who has not had it. `build(email)` makes one message.

    A template error in `build` stops the batch before the first message (the first recipient's
    message is built before anything is claimed); a bad header fails that recipient only; a
    transport that cannot be used at all raises MailError with nothing more marked sent.
    """
    report = BatchReport(event_id, message_key, dry_run)
    if not isinstance(recipients, Recipients):
        recipients = Recipients(recipients)
    with store.read() as conn:
        first = next(recipients.pages(conn, 1), [])
    if first:
        build(first[0])  # templates are checked before anything is claimed or sent
    if dry_run:
        with store.read() as conn:
            everyone = [email for page in recipients.pages(conn, CLAIMS) for email in page]
        return _dry_run(store, report, everyone, now(), resend)

    with store.begin() as conn:
        for page in recipients.pages(conn, CLAIMS):
            if resend:
                db.set_deliveries(
                    conn,
                    event_id,
                    {"state": "pending", "resends": db.deliveries.c.resends + 1, "next_attempt_at": None},
                    now(),
                    states=("sent", "failed", "sending", "deferred"),
                    message_key=message_key,
                    recipients=page,
                )
            db.claim_deliveries(conn, event_id, message_key, page, now())
        counts = db.delivery_counts(conn, event_id, message_key)
        # what earlier runs left for a person to decide, about the people asked for only
        ambiguous = db.list_deliveries(conn, event_id, state="sending", message_key=message_key)
        wanted = recipients.among(conn, [r["recipient"] for r in ambiguous])
        report.ambiguous = [r["recipient"] for r in ambiguous if r["recipient"] in wanted]
        failed = db.list_deliveries(conn, event_id, state="failed", message_key=message_key)
        wanted = recipients.among(conn, [r["recipient"] for r in failed])
        report.failed_before = [(r["recipient"], r["last_error"] or "") for r in failed if r["recipient"] in wanted]
    report.already_sent = counts.get("sent", 0)
    total = sum(counts.get(s, 0) for s in ("pending", "deferred"))
    pace = pace or Pace(None, time.monotonic, time.sleep)

    transport.open()  # a server that cannot be used at all says so plainly: nothing was started
    try:
        _send_all(
            store,
            transport,
            report,
            recipients,
            total,
            build=build,
            sender=sender,
            now=now,
            pace=pace,
            progress=progress,
            should_stop=should_stop,
            cancel_others=cancel_others,
        )
    except MailError as exc:  # stopped part way: say what was done and what is left
        report.left = _left(store, event_id, message_key)
        if isinstance(exc, BatchStopped):
            raise
        raise BatchStopped(str(exc), report) from None
    report.left = _left(store, event_id, message_key) if report.stopped else 0
    return report


def _left(store: Store, event_id: str, message_key: str) -> int:
    with store.read() as conn:
        counts = db.delivery_counts(conn, event_id, message_key)
    return counts.get("pending", 0) + counts.get("deferred", 0)


def _send_all(
    store: Store,
    transport,
    report: BatchReport,
    recipients: Recipients,
    total: int,
    *,
    build,
    sender: str,
    now,
    pace: Pace,
    progress,
    should_stop,
    cancel_others: bool,
) -> None:
    event_id, message_key = report.event_id, report.message_key
    try:
        with store.writer() as held:
            writer = _Ledger(held)
            done, after_id = 0, 0
            while True:
                with store.read() as conn:
                    rows = db.deliveries_to_send(conn, event_id, message_key, now(), after_id, CHUNK)
                    wanted = recipients.among(conn, [row["recipient"] for row in rows])
                if not rows:
                    break
                after_id = rows[-1]["id"]
                chunk = [row for row in rows if _keep(writer, row, wanted, now, cancel_others)]
                emails = [row["recipient"] for row in chunk]
                prefetch = getattr(build, "prefetch", None)
                if prefetch is not None:
                    prefetch(emails)
                messages = _Messages(build, emails)
                for index, row in enumerate(chunk):
                    if should_stop is not None and should_stop():
                        report.stopped = True  # the rest stay pending for the next run
                        break
                    done += 1
                    try:
                        message = messages.take(index)
                        _send_one(
                            writer,
                            transport,
                            row,
                            message,
                            sender,
                            now,
                            pace,
                            report,
                            meanwhile=functools.partial(messages.make, index + 1),
                        )
                    except BaseException:
                        writer.flush()
                        raise
                    if progress:
                        progress(done, total)
                if report.stopped:
                    break
            writer.flush()
    finally:
        transport.close()


class _Messages:
    """The messages of one chunk, each built once, in this thread: the next one is built while the
    mail server reads the current one (a second thread would fight this one for the GIL just when
    the server answers). A message that cannot be built raises when its turn comes, never while
    another one is in flight."""

    def __init__(self, build: Callable[[str], Outgoing], emails: list[str]) -> None:
        self.build = build
        self.emails = emails
        self.made: dict[int, Outgoing | Exception] = {}

    def make(self, index: int) -> None:
        if index < len(self.emails) and index not in self.made:
            try:
                self.made[index] = self.build(self.emails[index])
            except Exception as exc:  # noqa: BLE001 - kept for its turn (see take)
                self.made[index] = exc

    def take(self, index: int) -> Outgoing | UnsafeHeaderError:
        """The message for `emails[index]`, or the UnsafeHeaderError that fails that recipient alone."""
        self.make(index)
        made = self.made.pop(index)
        if isinstance(made, Exception) and not isinstance(made, UnsafeHeaderError):
            raise made
        return made


class _Ledger:
    """Write transactions for the send loop. The `sent` of one message is written together with the
    `sending` claim of the next, one transaction a message instead of two; a crash between them leaves
    that one message `sending` (ambiguous), never more."""

    def __init__(self, writer) -> None:
        self.writer = writer
        self.unrecorded: tuple[int, str, datetime] | None = None

    def sent_later(self, delivery_id: int, message_id: str, at: datetime) -> None:
        self.flush()
        self.unrecorded = (delivery_id, message_id, at)

    @contextmanager
    def transaction(self):
        with self.writer.transaction() as conn:
            self._write_unrecorded(conn)
            yield conn

    def flush(self) -> None:
        if self.unrecorded is not None:
            with self.writer.transaction() as conn:
                self._write_unrecorded(conn)

    def _write_unrecorded(self, conn) -> None:
        if self.unrecorded is not None:
            db.mark_sent(conn, *self.unrecorded)
            self.unrecorded = None


def _keep(writer, row, wanted: set[str], now, cancel_others: bool) -> bool:
    """Whether to send this row now. A recipient no longer wanted (cancelled since the claim, in this run
    or an earlier one) is marked `cancelled`, never sent; when sending to one person only, the others
    are just left for later."""
    if row["recipient"] in wanted:
        return True
    if cancel_others:
        with writer.transaction() as conn:
            db.finish_delivery(conn, row["id"], {"state": "cancelled"}, now())
    return False


def _send_one(
    writer,
    transport,
    row,
    message: Outgoing | UnsafeHeaderError,
    sender: str,
    now,
    pace: Pace,
    report: BatchReport,
    meanwhile: Callable[[], object] | None = None,
) -> None:
    email = row["recipient"]
    if isinstance(message, UnsafeHeaderError):
        _finish(writer, row, "failed", str(message), now, report)
        return
    pace.wait()
    for attempt in range(RECONNECTS + 1):
        taken = False
        try:
            transport.begin(sender, email)
            # the claim is committed while the envelope travels (MAIL FROM, and with PIPELINING RCPT TO
            # and DATA too) and the server answers: one wait instead of two. The message itself goes
            # only after this commit.
            with writer.transaction() as conn:
                taken = db.take_delivery(conn, row["id"], now())
            if not taken:
                transport.close()  # another runner has it: drop the line, so that no message follows our DATA
                return
            reply = transport.prepare(sender, email)
        except Disconnected as exc:
            if taken:  # ours, and the message never started: back in line, not ambiguous
                with writer.transaction() as conn:
                    db.finish_delivery(conn, row["id"], {"state": "pending"}, now())
            if exc.timed_out:  # a silent server: waiting on it for each of the rest would take hours
                raise MailError(f"the mail server stopped answering ({exc})") from None
            if attempt == RECONNECTS:
                raise MailError(f"the mail server keeps closing the connection ({exc})") from None
            transport.open()
            continue
        if not reply.is_ok:
            _refused(writer, row, reply, now, report)
            return
        try:
            reply = transport.deliver(message.as_bytes(), meanwhile)
        except OutcomeUnknown as exc:
            report.ambiguous.append(email)
            with writer.transaction() as conn:
                db.finish_delivery(conn, row["id"], {"last_error": f"connection lost during DATA: {exc}"}, now())
            if exc.timed_out:  # the server took DATA and went silent: stop after the first, not 400 times
                raise MailError(f"the mail server stopped answering after taking a message ({exc})") from None
            return  # the next message opens a new connection
        except NotWritten as exc:
            with writer.transaction() as conn:
                db.finish_delivery(conn, row["id"], {"state": "pending", "last_error": str(exc)}, now())
            raise MailError(str(exc)) from None
        if reply.is_ok:
            writer.sent_later(row["id"], message.message_id, now())
            report.sent.append(email)
        else:
            _refused(writer, row, reply, now, report)
        return  # after a 421 the transport has closed the line; the next message opens a new one


def _refused(writer, row, reply, now, report: BatchReport) -> None:
    """The server said no to this recipient: 4xx defers the message, 5xx fails it."""
    state = "deferred" if reply.is_temporary else "failed"
    _finish(writer, row, state, str(reply), now, report, attempts=row["attempts"] + 1)


def _finish(writer, row, state: str, error: str, now, report: BatchReport, attempts: int | None = None) -> None:
    values = {"state": state, "last_error": error}
    if state == "deferred":
        values["next_attempt_at"] = now() + retry_delay(attempts or row["attempts"] + 1)
        report.deferred.append((row["recipient"], error))
    else:
        report.failed.append((row["recipient"], error))
    with writer.transaction() as conn:
        db.finish_delivery(conn, row["id"], values, now())


def _dry_run(store: Store, report: BatchReport, recipients: list[str], at: datetime, resend: bool) -> BatchReport:
    with store.read() as conn:
        rows = {r["recipient"]: r for r in db.list_deliveries(conn, report.event_id, message_key=report.message_key)}
    for email in recipients:
        row = rows.get(email)
        state = row["state"] if row else "pending"
        # A deferred state always comes from a row; `row is not None` says so to mypy.
        if (
            resend
            or state == "pending"
            or (state == "deferred" and row is not None and (row["next_attempt_at"] or at) <= at)
        ):
            report.would_send.append(email)
        elif state == "sent":
            report.already_sent += 1
        elif state == "sending":
            report.ambiguous.append(email)
    return report
