"""A fake chat on loopback: Slack- and Teams-style incoming webhooks that check bodies and misbehave on cue.

    with FakeChat() as chat:
        url = chat.hook("slack", "/services/T000/B000/XXXX")   # or chat.hook("teams", ...)
        chat.fail_next(500, times=2); chat.rate_limit_next(retry_after="3"); chat.hang_next(2.0)
        chat.messages(path)                                     # the JSON bodies it accepted

Slack answers 200 `ok`, Teams (Workflows) 202; a body the service would refuse gets 400, an unknown
path 404 (`no_service`), a Teams body over 28 KB 413. Every exchange is kept in `chat.recorded`.
"""

from __future__ import annotations

import json
import socket
import threading
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Literal

from opsflow.sandbox.loopback import LoopbackHTTPServer, LoopbackServer, TrackingHandler

__all__ = ["FakeChat", "Exchange"]

Flavor = Literal["slack", "teams"]
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
TEAMS_MAX_BYTES = 28 * 1024
SLACK_LIMITS = {"blocks": 50, "header": 150, "section": 3000, "fields": 10, "field": 2000}


@dataclass
class Exchange:
    """One request as the fake saw it; `status` 0 when it hung up without answering."""

    path: str
    flavor: Flavor | None
    body: bytes
    status: int
    answer: str = ""

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class _Fault:
    action: str  # "fail" | "hang"
    path: str | None
    remaining: int
    status: int = 0
    answer: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class _Reply:
    status: int
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0


class FakeChat(LoopbackServer):
    """Incoming webhooks on a free loopback port: each registered path speaks Slack's or Teams' rules."""

    thread_name = "fake-chat"

    def __init__(self, *, port: int = 0) -> None:
        self.hooks: dict[str, Flavor] = {}
        self.recorded: list[Exchange] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._init_loopback(port)

    def _make_server(self) -> LoopbackHTTPServer:
        return LoopbackHTTPServer(self, _Handler)

    def hook(self, flavor: Flavor, path: str = "/services/T000/B000/XXXX") -> str:
        """Open an incoming webhook at `path` that speaks `flavor`; returns its URL."""
        self.hooks[path] = flavor
        return self.base_url + path

    # -- what happened ------------------------------------------------------------------------------

    def messages(self, path: str | None = None) -> list[Any]:
        """The JSON bodies accepted (2xx), at `path` or anywhere, in order."""
        with self._lock:
            return [e.json for e in self.recorded if 200 <= e.status < 300 and (path is None or e.path == path)]

    def count(self, path: str | None = None) -> int:
        """Requests received, answered or not."""
        with self._lock:
            return sum(1 for e in self.recorded if path is None or e.path == path)

    # -- faults -------------------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        answer: str = "",
        headers: dict[str, str] | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next `times` requests (at `path`, or any) with `status`, without posting them."""
        default = {404: "no_service", 500: "rollup_error", 503: "service_unavailable", 403: "action_prohibited"}
        fault = _Fault("fail", path, times, status, answer or default.get(status, ""), dict(headers or {}))
        with self._lock:
            self._faults.append(fault)

    def rate_limit_next(self, *, retry_after: str | None = "1", times: int = 1, path: str | None = None) -> None:
        """Answer 429 `rate_limited`, with `Retry-After` unless it is None."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.fail_next(429, times=times, answer="rate_limited", headers=headers, path=path)

    def hang_next(self, seconds: float, *, times: int = 1, path: str | None = None) -> None:
        """Read the next requests, post nothing, say nothing for `seconds`, then hang up."""
        with self._lock:
            self._faults.append(_Fault("hang", path, times, seconds=seconds))

    def _take_fault(self, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.path is None or fault.path == path:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # -- answering ----------------------------------------------------------------------------------

    def _exchange(self, method: str, path: str, body: bytes) -> _Reply:
        with self._lock:
            flavor = self.hooks.get(path)
            fault = self._take_fault(path)
            if fault is not None and fault.action == "hang":
                reply = _Reply(0, hang=fault.seconds)
            elif fault is not None:
                reply = _Reply(fault.status, fault.answer, dict(fault.headers))
            elif flavor is None:
                reply = _Reply(404, "no_service")
            elif method != "POST":
                reply = _Reply(405, "invalid_method")
            else:
                reply = _answer(flavor, body)
            self.recorded.append(Exchange(path, flavor, body, reply.status, reply.text))
        return reply


def _answer(flavor: Flavor, body: bytes) -> _Reply:
    """What the real service would say to this body."""
    try:
        data = json.loads(body)
    except ValueError:
        return _Reply(400, "invalid_payload")
    if not isinstance(data, dict):
        return _Reply(400, "invalid_payload")
    if flavor == "slack":
        problem = _slack_problem(data)
        return _Reply(400, problem) if problem else _Reply(200, "ok")
    if len(body) > TEAMS_MAX_BYTES:
        return _Reply(413, "Request Entity Too Large")
    problem = _teams_problem(data)
    return _Reply(400, problem) if problem else _Reply(202, "")


def _slack_problem(data: dict[str, Any]) -> str:
    if not isinstance(data.get("text"), str) or not data["text"].strip():
        return "no_text"
    blocks = data.get("blocks", [])
    if not isinstance(blocks, list) or len(blocks) > SLACK_LIMITS["blocks"]:
        return "invalid_blocks"
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        text = (block.get("text") or {}).get("text", "") if isinstance(block, dict) else ""
        if kind == "header" and (not text or len(text) > SLACK_LIMITS["header"]):
            return "invalid_blocks"
        if kind == "section":
            fields = block.get("fields") or []
            if not text and not fields:
                return "invalid_blocks"
            if len(text) > SLACK_LIMITS["section"] or len(fields) > SLACK_LIMITS["fields"]:
                return "invalid_blocks"
            if any(len(f.get("text", "")) > SLACK_LIMITS["field"] for f in fields):
                return "invalid_blocks"
        elif kind not in ("header", "context", "divider"):
            return "invalid_blocks"
    return ""


def _teams_problem(data: dict[str, Any]) -> str:
    attachments = data.get("attachments")
    if data.get("type") != "message" or not isinstance(attachments, list) or not attachments:
        return "BadRequest: a message with attachments is expected"
    for attachment in attachments:
        card = attachment.get("content") if isinstance(attachment, dict) else None
        if attachment.get("contentType") != ADAPTIVE or not isinstance(card, dict):
            return "BadRequest: only Adaptive Cards are supported"
        if card.get("type") != "AdaptiveCard" or not isinstance(card.get("version"), str):
            return "BadRequest: the card is not an AdaptiveCard with a version"
        if not isinstance(card.get("body"), list) or not card["body"]:
            return "BadRequest: the card has no body"
    return ""


class _Handler(TrackingHandler):
    def _serve(self) -> None:
        fake: FakeChat = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        reply = fake._exchange(self.command, self.path.partition("?")[0], body)
        if reply.hang:
            fake._stopping.wait(reply.hang)
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        data = reply.text.encode("utf-8")
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up
            self.close_connection = True

    do_GET = do_POST = do_PUT = _serve
