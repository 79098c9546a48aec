"""The only module that speaks SMTP (or writes an outbox folder).

A transport sends one message in steps so that the caller can record `sending` before the message
itself goes out: `begin()` writes the envelope without waiting (MAIL FROM; with RCPT TO and DATA too
when the server offers PIPELINING, RFC 2920), and the caller commits its claim while the server
answers; `prepare()` reads the answers (without PIPELINING it sends RCPT TO and DATA one by one):
nothing is delivered yet and it is safe to redo; `deliver()` writes the message itself: once it has
started, a broken connection leaves the outcome unknown. A caller that does not go on after
`begin()` calls `close()`, which then drops the line without a word, so that no message can follow.
"""

from __future__ import annotations

import itertools
import os
import re
import smtplib
import socket
import ssl
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from opsflow.core.config import mask_url
from opsflow.core.errors import MailError


@dataclass(frozen=True)
class Reply:
    code: int
    text: str

    @property
    def is_ok(self) -> bool:
        return 200 <= self.code < 400

    @property
    def is_temporary(self) -> bool:
        return 400 <= self.code < 500

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


class _LineBroken(Exception):
    """The line to the server broke; `timed_out` when the server went silent rather than away."""

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


class Disconnected(_LineBroken):
    """The connection broke before DATA: nothing was delivered; reopen and send again."""


class OutcomeUnknown(_LineBroken):
    """The connection broke during DATA: the server may or may not have taken the message."""


class NotWritten(Exception):
    """The message could not be written (the outbox): it was not delivered, and no more will be."""


def transport_for(url: str, *, timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None):
    """The transport that OPSFLOW_SMTP_URL names; a URL that does not parse is a ConfigError, never a ValueError."""
    from opsflow.core.config_values import split_url

    scheme = split_url("OPSFLOW_SMTP_URL", url).scheme
    if scheme == "file":
        return FileTransport(Path(url[len("file:") :]))
    return SmtpTransport(url, timeout=timeout, ssl_context=ssl_context)


class SmtpTransport:
    """smtp:// (plain, for a local relay), smtp+starttls:// and smtps:// with certificate checks, AUTH
    when the URL has a user. One connection serves a whole batch. When the server offers PIPELINING,
    MAIL FROM, RCPT TO and DATA go out in one write and their three answers are read together:
    two round trips a message instead of four."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        pipelining: bool = True,
    ) -> None:
        from opsflow.core.config_values import split_url

        parts = split_url("OPSFLOW_SMTP_URL", url)  # checks the port, so `parts.port` below cannot raise
        self.scheme = parts.scheme
        self.host = parts.hostname or "localhost"
        default_port = {"smtps": 465, "smtp+starttls": 587}.get(self.scheme, 25)
        self.port = parts.port or default_port
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.shown = mask_url(url)
        self.timeout = timeout
        self._ssl_context = ssl_context  # the default one is made on first use: it costs 30 ms to make
        self.allows_pipelining = pipelining  # False: one command at a time even where PIPELINING is offered
        self.smtp: smtplib.SMTP | None = None
        self.is_pipelining = False  # this connection pipelines the envelope (the server offered it)
        self.unanswered = 0  # commands written by begin() whose answers prepare() has not read yet
        self.is_in_data = False  # the server may be reading a message (DATA accepted, the end not written)

    @property
    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def open(self) -> None:
        """Connect, say EHLO, start TLS and log in as the URL says. Raises MailError for people."""
        self.close()
        try:
            if self.scheme == "smtps":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self.ssl_context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo_or_helo_if_needed()
            if self.scheme == "smtp+starttls":
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(
                f"the mail server {self.host}:{self.port} refused the login for {self.user!r} "
                f"({exc.smtp_code}): check the user and password in OPSFLOW_SMTP_URL"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise MailError(
                f"the mail server {self.host}:{self.port} does not offer what {self.shown} asks for "
                f"({exc}): use smtp+starttls:// only where it supports STARTTLS and AUTH"
            ) from None
        except ssl.SSLError as exc:
            raise MailError(
                f"the TLS handshake with {self.host}:{self.port} failed ({exc.reason or exc}): check "
                "the host name and its certificate, or the scheme (smtps:// is port 465, "
                "smtp+starttls:// is 587)"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"cannot connect to the mail server {self.host}:{self.port} ({_reason(exc)}): check "
                "OPSFLOW_SMTP_URL and that the server is running"
            ) from None
        self.is_pipelining = self.allows_pipelining and smtp.has_extn("pipelining")
        _send_at_once(smtp.sock)
        self.smtp = smtp

    def begin(self, sender: str, recipient: str) -> None:
        """Write MAIL FROM (with PIPELINING also RCPT TO and DATA) without waiting for an answer: the
        caller records its claim while the server reads them, and `prepare()` reads the answers. A
        broken line raises Disconnected."""
        smtp = self._connected()
        commands = f"MAIL FROM:{_quoted(sender)}\r\n"
        if self.is_pipelining:
            commands += f"RCPT TO:{_quoted(recipient)}\r\nDATA\r\n"
        self.unanswered = 3 if self.is_pipelining else 1
        try:
            smtp.send(commands.encode(smtp.command_encoding))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise Disconnected(_reason(exc), timed_out=_is_timeout(exc)) from None

    def prepare(self, sender: str, recipient: str) -> Reply:
        """The answers to the envelope (written first when `begin()` was not called): the server's 354
        when it waits for the message, else its refusal (the transaction reset, or the line closed
        when the server would read what comes next as a message). A 421 or a broken line raises
        Disconnected: nothing was delivered."""
        if not self.unanswered:
            self.begin(sender, recipient)
        smtp = self._connected()
        try:
            if self.is_pipelining:
                replies = [self._reply(smtp) for _ in range(3)]  # MAIL FROM, RCPT TO, DATA
            else:
                replies = [self._reply(smtp)]
                if replies[-1].is_ok:
                    replies.append(Reply(*_decoded(smtp.rcpt(recipient))))
                if replies[-1].is_ok:
                    replies.append(Reply(*_decoded(smtp.docmd("data"))))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise Disconnected(_reason(exc), timed_out=_is_timeout(exc)) from None
        finally:
            self.unanswered = 0
        self.is_in_data = len(replies) == 3 and replies[2].code == 354
        refusal = next((r for r in replies if not r.is_ok), None)
        if refusal is None and not self.is_in_data:  # DATA answered with neither 354 nor a refusal
            self.close()
            raise Disconnected(f"the mail server answered DATA with {replies[-1]}")
        if refusal is None:
            return replies[2]
        self._after_refusal(refusal, replies)
        return refusal

    def deliver(self, data: bytes, meanwhile: Callable[[], object] | None = None) -> Reply:
        """Write the message (after `prepare()` returned the server's 354) and read the answer;
        `meanwhile()` runs while the server reads it. A broken line raises OutcomeUnknown: the
        message may have been taken."""
        smtp = self._connected()
        assert self.is_in_data, "deliver() follows a prepare() that returned 354"
        # dot-stuffing as smtplib does it (a dot at the start of any line doubled), on bytes whose
        # lines already end in CRLF
        body = data.replace(b"\n.", b"\n..")
        if body.startswith(b"."):
            body = b"." + body
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        try:
            smtp.send(body + b".\r\n")
            self.is_in_data = False
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise OutcomeUnknown(_reason(exc), timed_out=_is_timeout(exc)) from None
        if meanwhile is not None:
            meanwhile()
        try:
            reply = self._reply(smtp)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise OutcomeUnknown(_reason(exc), timed_out=_is_timeout(exc)) from None
        if reply.code == 421:
            self.close()
        return reply

    def close(self) -> None:
        """Say QUIT and close; in the middle of a transaction only close, so that nothing more the
        server reads can be taken for a message."""
        if self.smtp is not None:
            if self.unanswered or self.is_in_data:
                self.smtp.close()
            else:
                try:
                    self.smtp.quit()
                except (smtplib.SMTPException, OSError):
                    self.smtp.close()
            self.smtp = None
        self.unanswered = 0
        self.is_in_data = False

    def _connected(self) -> smtplib.SMTP:
        if self.smtp is None:
            self.open()
        assert self.smtp is not None
        return self.smtp

    @staticmethod
    def _reply(smtp: smtplib.SMTP) -> Reply:
        return Reply(*_decoded(smtp.getreply()))

    def _after_refusal(self, refusal: Reply, replies: list[Reply]) -> None:
        """Reset the transaction after a refusal. 421 means the server is closing the line; a server
        that said 354 all the same waits for a message: only closing the line ends that safely."""
        closing = next((r for r in replies if r.code == 421), None)
        if closing is not None:
            self.close()
            raise Disconnected(str(closing))
        if self.is_in_data:
            self.close()
            return
        assert self.smtp is not None  # only called with the replies of commands just sent on the open line
        try:
            self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9.-]+")


def _quoted(address: str) -> str:
    """`<address>` for MAIL FROM and RCPT TO: a plain address as it is (what smtplib's quoteaddr makes
    of it, without parsing it each time), anything else through quoteaddr."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _send_at_once(sock: socket.socket | None) -> None:
    """Each write is a whole command group or message: send it now instead of waiting for the
    answer to the last one (Nagle's algorithm)."""
    if sock is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:  # not TCP (a test's socket pair): nothing to tune
        pass


_WRITTEN = itertools.count(1)


class FileTransport:
    """Writes each message as an .eml file into a folder (previews, dry runs, the demo)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def open(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MailError(f"cannot use the outbox folder {self.folder}: {exc.strerror}") from None

    def begin(self, sender: str, recipient: str) -> None:
        self.recipient = recipient

    def prepare(self, sender: str, recipient: str) -> Reply:
        self.recipient = recipient
        return Reply(354, "write the message")

    def deliver(self, data: bytes, meanwhile: Callable[[], object] | None = None) -> Reply:
        self.count += 1
        safe = "".join(c if c.isalnum() or c in "@.-_" else "_" for c in self.recipient)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            # unique across batches and processes, and sorted in the order written
            name = self.folder / f"{time.time_ns()}-{os.getpid()}-{next(_WRITTEN):06d}-{safe}.eml"
            os.replace(tmp, name)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise NotWritten(f"cannot write to the outbox {self.folder}: {exc.strerror}") from None
        if meanwhile is not None:
            meanwhile()
        return Reply(250, f"written {name.name}")

    def close(self) -> None:
        pass


def _decoded(reply: tuple[int, bytes | str]) -> tuple[int, str]:
    return reply[0], _text(reply[1])


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _is_timeout(exc: BaseException) -> bool:
    """smtplib turns a read that timed out into SMTPServerDisconnected; the timeout is its context."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


def _reason(exc: BaseException) -> str:
    if _is_timeout(exc):
        return "no answer within the time limit (OPSFLOW_SMTP_TIMEOUT)"
    return str(exc) or type(exc).__name__
