"""A real SMTP server on loopback (aiosmtpd) that records what it receives and fails on demand."""

from __future__ import annotations

import email
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=default)


@dataclass
class Faults:
    """What the server does wrong. Each rule is consumed as it fires."""

    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> "550 ..." (every time)
    defer: dict[str, str] = field(default_factory=dict)  # recipient -> "451 ..." (once)
    data_replies: list[str] = field(default_factory=list)  # replies for the next DATA commands, in order
    drop_at_rcpt: int = 0  # close the connection at the next N RCPT commands
    drop_after_data: int = 0  # take the next N messages, then close without answering


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        faults = self.sink.faults
        with self.sink.lock:
            if faults.drop_at_rcpt:
                faults.drop_at_rcpt -= 1
                server.transport.close()
                return "421 closing"
            if address in faults.refuse:
                return faults.refuse[address]
            if address in faults.defer:
                return faults.defer.pop(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        faults = self.sink.faults
        with self.sink.lock:
            if faults.data_replies:
                return faults.data_replies.pop(0)  # after a 421 the client hangs up, as it must
            self.sink.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            if faults.drop_after_data:
                faults.drop_after_data -= 1
                server.transport.abort()
                return "250 OK"
        return "250 OK"


class SmtpSink:
    """`with SmtpSink() as sink:` a server at `sink.url` (smtp://127.0.0.1:PORT)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.faults = Faults()
        self.lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message() for r in self.received if address in r.recipients]

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
