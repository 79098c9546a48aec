"""The only module that speaks SMTP (or writes an outbox folder).

A transport sends one message in steps so that the caller can record `sending` before DATA: `begin()`
(MAIL FROM on its way; the caller commits its claim while the server answers), `prepare()` (the answer,
then RCPT TO: nothing delivered yet, safe to redo) and `deliver()` (DATA: after it starts, a broken
connection leaves the outcome unknown).
"""

from __future__ import annotations

import itertools
import os
import smtplib
import ssl
import tempfile
import time
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
    when the URL has a user. One connection serves a whole batch."""

    def __init__(self, url: str, *, timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None) -> None:
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
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.smtp: smtplib.SMTP | None = None
        self.mail_sent = False  # MAIL FROM is on its way (begin) and its answer not read yet

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
        self.smtp = smtp

    def begin(self, sender: str) -> None:
        """Send MAIL FROM without waiting: the caller records its claim while the server answers, and
        `prepare()` reads the answer. A broken line raises Disconnected."""
        smtp = self._connected()
        try:
            smtp.putcmd("mail", f"FROM:{smtplib.quoteaddr(sender)}")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise Disconnected(_reason(exc), timed_out=_is_timeout(exc)) from None
        self.mail_sent = True

    def prepare(self, sender: str, recipient: str) -> Reply:
        """MAIL FROM (unless `begin()` sent it) and RCPT TO. A refusal comes back as a Reply; a broken
        line raises Disconnected."""
        smtp = self._connected()
        try:
            if self.mail_sent:
                self.mail_sent = False
                reply = Reply(*_decoded(smtp.getreply()))
            else:
                reply = Reply(*_decoded(smtp.mail(sender)))
            if reply.is_ok:
                reply = Reply(*_decoded(smtp.rcpt(recipient)))
            if not reply.is_ok:
                self._after_refusal(reply)
            return reply
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise Disconnected(_reason(exc), timed_out=_is_timeout(exc)) from None

    def deliver(self, data: bytes) -> Reply:
        """DATA. A broken line raises OutcomeUnknown: the message may have been taken."""
        smtp = self._connected()
        try:
            reply = Reply(*_decoded(smtp.data(data)))
        except smtplib.SMTPDataError as exc:  # refused before the message was sent
            reply = Reply(exc.smtp_code, _text(exc.smtp_error))
            self._after_refusal(reply)
            return reply
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise OutcomeUnknown(_reason(exc), timed_out=_is_timeout(exc)) from None
        if reply.code == 421:
            self.close()
        return reply

    def close(self) -> None:
        self.mail_sent = False
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None

    def _connected(self) -> smtplib.SMTP:
        if self.smtp is None:
            self.open()
        assert self.smtp is not None
        return self.smtp

    def _after_refusal(self, reply: Reply) -> None:
        """Reset the transaction after a refusal; 421 means the server is closing the line."""
        if reply.code == 421:
            self.close()
            raise Disconnected(str(reply))
        assert self.smtp is not None  # only called with the reply of a command just sent on the open line
        try:
            self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()


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

    def begin(self, sender: str) -> None:
        pass

    def prepare(self, sender: str, recipient: str) -> Reply:
        self.recipient = recipient
        return Reply(250, "OK")

    def deliver(self, data: bytes) -> Reply:
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
