"""A real SMTP server on loopback (aiosmtpd) that records what it receives and fails on demand.

It offers PIPELINING (RFC 2920) in its EHLO answer, as Postfix, Exim and most relays do; `SmtpSink(
pipelining=False)` is a server without it, so that both ways of sending are tested.
"""

from __future__ import annotations

import email
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


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
    refuse_sender: list[str] = field(default_factory=list)  # replies for the next MAIL FROM commands
    data_replies: list[str] = field(default_factory=list)  # replies for the next messages, in order
    data_command_replies: list[str] = field(default_factory=list)  # replies to the next DATA commands (no 354)
    data_without_recipients: list[str] = field(default_factory=list)  # replies to DATA after every RCPT was refused
    drop_at_rcpt: int = 0  # close the connection at the next N RCPT commands
    drop_at_data_command: int = 0  # close the connection at the next N DATA commands, before the 354
    drop_after_data: int = 0  # take the next N messages, then close without answering


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.sink.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.sink.lock:
            if self.sink.faults.refuse_sender:
                return self.sink.faults.refuse_sender.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

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


class _Server(SMTP):
    """aiosmtpd's server, counting connections and DATA commands, with the faults that answer the
    DATA command itself (before the message)."""

    def __init__(self, handler: _Handler, **kwargs) -> None:
        super().__init__(handler, **kwargs)
        self.sink = handler.sink

    def connection_made(self, transport) -> None:
        with self.sink.lock:
            self.sink.connections += 1
        super().connection_made(transport)

    async def smtp_DATA(self, arg: str) -> None:
        faults = self.sink.faults
        with self.sink.lock:
            self.sink.data_commands += 1
            dropped = faults.drop_at_data_command > 0
            if dropped:
                faults.drop_at_data_command -= 1
            has_recipients = self.envelope is not None and bool(self.envelope.rcpt_tos)
            replies = faults.data_command_replies if has_recipients else faults.data_without_recipients
            reply = replies.pop(0) if replies and not dropped else None
        if dropped:
            self.transport.close()
            return
        if reply is not None:  # the server stays out of its DATA state, whatever the reply says
            await self.push(reply)
            return
        await super().smtp_DATA(arg)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _Server(self.handler, **self.SMTP_kwargs)


class SmtpSink:
    """`with SmtpSink() as sink:` a server at `sink.url` (smtp://127.0.0.1:PORT)."""

    def __init__(self, *, pipelining: bool = True) -> None:
        self.received: list[Received] = []
        self.faults = Faults()
        self.pipelining = pipelining
        self.connections = 0  # connections opened to the server
        self.data_commands = 0  # DATA commands it read (with or without a message after them)
        self.lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller: Controller = _Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message() for r in self.received if address in r.recipients]

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        with self.lock:
            self.connections = 0  # start() made one of its own, to see that the server answers
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
