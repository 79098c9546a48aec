"""A fake Zoom on loopback: Server-to-Server OAuth, the /v2 endpoints opsflow calls, and injected faults.

    with FakeZoom(clock=clock) as zoom:          # zoom.oauth_url, zoom.api_url
        zoom.rate_limit_next(kind="Daily-limit")
        uuid = zoom.end_meeting(meeting_id, ended_at=..., participants=[...])

Every exchange is kept in `zoom.recorded`. The world lives in `zoom_state` (meetings, registrants,
panelists) and `zoom_reports` (ended instances, their reports and cloud recordings); this module is the
HTTP server, routing, tokens and faults.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import socket
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote

from opsflow.sandbox.loopback import LoopbackHTTPServer, LoopbackServer, TrackingHandler
from opsflow.sandbox.zoom_reports import Attendance
from opsflow.sandbox.zoom_state import (
    MEETING,
    WEBINAR,
    Kind,
    ZoomApiError,
    ZoomState,
    format_time,
    not_found,
)

__all__ = ["FakeZoom", "Quirks", "Recorded"]

JSON_TYPE = "application/json;charset=UTF-8"
SCOPES = (
    "meeting:read:admin meeting:write:admin webinar:read:admin webinar:write:admin report:read:admin "
    "recording:read:admin user:read:admin"
)
QPS_LIMITS = {"Light": 30, "Medium": 20, "Heavy": 10}
QPS_MESSAGE = "You have reached the maximum per-second rate limit for this API. Try again later."
DAILY_MESSAGE = (
    "You have reached the maximum daily rate limit for this API. "
    "Refer to the response header for details on when you can make another request."
)


@dataclass
class Recorded:
    """One exchange as the fake saw it. `path` is the raw path without the query (still %-encoded);
    `status` is 0 when the connection was dropped without an answer."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int
    response_body: bytes
    response_headers: dict[str, str]


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    is_reset: bool = False
    delay: float = 0.0


@dataclass
class _Fault:
    """A scripted misbehaviour, consumed by the next `remaining` matching requests."""

    action: str  # "fail" | "rate" | "reset" | "delay"
    method: str | None
    path: str | None
    remaining: int
    status: int = 0
    code: int | None = None
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    rate_kind: str = "QPS"
    retry_after: str | None = None
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        """Without a path a fault hits API calls only, so a token fetch never uses it up."""
        if self.method is not None and self.method.upper() != method:
            return False
        return path.startswith("/v2/") if self.path is None else path.startswith(self.path)


@dataclass
class Quirks:
    """Odd but real answers, on until switched off (unlike faults, which are used up)."""

    duplicate_rows: bool = False  # each page of a list repeats its first row (an email then in capitals)
    repeat_page_token: bool = False  # each page of a list names itself as the next page, for ever
    slow_create: float = 0.0  # seconds before answering a meeting or webinar creation (it is made at once)
    slow_answers: float = 0.0  # seconds before answering any API call (it is carried out at once)


REPEATED_TOKEN = "opsflowFakeRepeatedPageToken0000"


@dataclass(frozen=True)
class _World:
    state: ZoomState
    attendance: Attendance


Handler = Callable[[_World, Kind, dict[str, str], dict[str, str], Any], Any]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: tuple[str, ...]
    kind: Kind
    status: int
    category: str
    call: Handler
    daily_limit: int = 30_000


def _routes() -> list[_Route]:
    routes: list[_Route] = []

    def add(
        method: str, path: str, kind: Kind, status: int, category: str, call: Handler, daily_limit: int = 30_000
    ) -> None:
        routes.append(_Route(method, tuple(path.split("/")[1:]), kind, status, category, call, daily_limit))

    for kind in (MEETING, WEBINAR):
        many = f"{kind.name}s"
        add(
            "POST",
            f"/v2/users/{{user}}/{many}",
            kind,
            201,
            "Medium" if kind is MEETING else "Light",
            lambda w, k, p, q, b: w.state.create(k, p["user"], b),
            daily_limit=100,
        )
        add(
            "GET",
            f"/v2/users/{{user}}/{many}",
            kind,
            200,
            "Medium",
            lambda w, k, p, q, b: w.state.list_items(k, p["user"], q),
        )
        add("GET", f"/v2/{many}/{{id}}", kind, 200, "Light", lambda w, k, p, q, b: w.state.get(k, p["id"]))
        add(
            "PATCH",
            f"/v2/{many}/{{id}}",
            kind,
            204,
            "Light",
            lambda w, k, p, q, b: w.state.update(k, p["id"], b),
            daily_limit=100,
        )
        add("DELETE", f"/v2/{many}/{{id}}", kind, 204, "Light", lambda w, k, p, q, b: w.state.delete(k, p["id"]))
        add(
            "POST",
            f"/v2/{many}/{{id}}/registrants",
            kind,
            201,
            "Light",
            lambda w, k, p, q, b: w.state.add_registrant(k, p["id"], b),
        )
        add(
            "GET",
            f"/v2/{many}/{{id}}/registrants",
            kind,
            200,
            "Medium",
            lambda w, k, p, q, b: w.state.list_registrants(k, p["id"], q),
        )
        add(
            "POST",
            f"/v2/{many}/{{id}}/batch_registrants",
            kind,
            201,
            "Heavy",
            lambda w, k, p, q, b: w.state.add_batch(k, p["id"], b),
        )
        add(
            "PUT",
            f"/v2/{many}/{{id}}/registrants/status",
            kind,
            204,
            "Medium",
            lambda w, k, p, q, b: w.state.update_registrant_status(k, p["id"], b),
        )
        add(
            "GET",
            f"/v2/report/{many}/{{id}}/participants",
            kind,
            200,
            "Heavy",
            lambda w, k, p, q, b: w.attendance.report_participants(k, p["id"], q),
        )
    add(
        "GET",
        "/v2/past_meetings/{id}/instances",
        MEETING,
        200,
        "Medium",
        lambda w, k, p, q, b: w.attendance.past_instances(p["id"]),
    )
    add(
        "GET",
        "/v2/past_meetings/{id}/participants",
        MEETING,
        200,
        "Medium",
        lambda w, k, p, q, b: w.attendance.past_participants(p["id"], q),
    )
    add(
        "GET",
        "/v2/past_webinars/{id}/participants",
        WEBINAR,
        200,
        "Medium",
        lambda w, k, p, q, b: w.attendance.past_participants(p["id"], q, kind=k),
    )
    add(
        "POST",
        "/v2/webinars/{id}/panelists",
        WEBINAR,
        201,
        "Medium",
        lambda w, k, p, q, b: w.state.add_panelists(p["id"], b),
    )
    add(
        "GET",
        "/v2/webinars/{id}/panelists",
        WEBINAR,
        200,
        "Medium",
        lambda w, k, p, q, b: w.state.list_panelists(p["id"]),
    )
    add(
        "DELETE",
        "/v2/webinars/{id}/panelists",
        WEBINAR,
        204,
        "Light",
        lambda w, k, p, q, b: w.state.remove_panelists(p["id"]),
    )
    add(
        "DELETE",
        "/v2/webinars/{id}/panelists/{panelist}",
        WEBINAR,
        204,
        "Light",
        lambda w, k, p, q, b: w.state.remove_panelist(p["id"], p["panelist"]),
    )
    add(
        "GET",
        "/v2/meetings/{id}/recordings",
        MEETING,
        200,
        "Light",
        lambda w, k, p, q, b: w.attendance.recordings(p["id"]),
    )
    add("GET", "/v2/meetings/{id}/survey", MEETING, 200, "Light", lambda w, k, p, q, b: w.state.get_survey(p["id"]))
    add(
        "PATCH",
        "/v2/meetings/{id}/survey",
        MEETING,
        204,
        "Light",
        lambda w, k, p, q, b: w.state.update_survey(p["id"], b),
    )
    return routes


ROUTES = _routes()


def _match(method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
    """The route for a raw path, with its raw (still encoded) path parameters."""
    segments = path.split("/")[1:]
    for route in ROUTES:
        if route.method != method or len(route.pattern) != len(segments):
            continue
        params: dict[str, str] = {}
        for want, got in zip(route.pattern, segments, strict=True):
            if want.startswith("{") and got:
                params[want[1:-1]] = got
            elif want != got:
                break
        else:
            return route, params
    return None


def _decode_id(raw: str, kind: Kind) -> str:
    """Zoom decodes an id once; a UUID that begins with "/" or holds "//" must come encoded twice."""
    once = unquote(raw)
    if "%" in once:
        return unquote(once)
    if once.startswith("/") or "//" in once:
        raise not_found(kind, once)
    return once


def _next_midnight(now: datetime) -> datetime:
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class FakeZoom(LoopbackServer):
    """Zoom's OAuth and API on a free loopback port, with its state readable and faults scriptable."""

    thread_name = "fake-zoom"

    def __init__(
        self,
        *,
        account_id: str = "fake-account",
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",
        clock: Callable[[], datetime] | None = None,
        report_delay: timedelta = timedelta(minutes=30),
        recording_delay: timedelta = timedelta(hours=1),
        token_ttl: int = 3599,
        host_email: str = "host@example.jp",
        port: int = 0,
    ) -> None:
        self.account_id = account_id
        self.client_id = client_id
        self.client_secret = client_secret
        self._clock = clock or (lambda: datetime.now(UTC))
        self.token_ttl = token_ttl
        self._state = ZoomState(host_email=host_email, clock=self._clock)
        attendance = Attendance(
            self._state, clock=self._clock, report_delay=report_delay, recording_delay=recording_delay
        )
        self._world = _World(self._state, attendance)
        self.meetings: dict[int, dict] = self._state.meetings
        self.webinars: dict[int, dict] = self._state.webinars
        self.recorded: list[Recorded] = []
        self.tokens_issued = 0
        self._tokens: dict[str, datetime] = {}
        self._faults: list[_Fault] = []
        self.quirks = Quirks()
        self._lock = threading.RLock()
        self._init_loopback(port)  # start(), stop(), `with`, base_url: opsflow.sandbox.loopback

    def _make_server(self) -> LoopbackHTTPServer:
        return LoopbackHTTPServer(self, _Handler)

    @property
    def oauth_url(self) -> str:
        """The token endpoint, like https://zoom.us/oauth/token."""
        return self.base_url + "/oauth/token"

    @property
    def api_url(self) -> str:
        """The API base, like https://api.zoom.us/v2."""
        return self.base_url + "/v2"

    # -- looking at what happened ------------------------------------------------------------------

    def count(self, method: str | None = None, path: str | None = None, prefix: str | None = None) -> int:
        """How many recorded exchanges have this method, this exact raw path and this path prefix."""
        with self._lock:
            return sum(
                1
                for r in self.recorded
                if (method is None or r.method == method.upper())
                and (path is None or r.path == path)
                and (prefix is None or r.path.startswith(prefix))
            )

    def registrants(self, meeting_id: int) -> list[dict]:
        """Every registrant of a meeting or webinar, in registration order, whatever the status."""
        with self._lock:
            return self._state.registrants(meeting_id)

    def panelists(self, webinar_id: int) -> list[dict]:
        """Every panelist of a webinar ({id, email, name, join_url}), in the order they were added."""
        with self._lock:
            return self._state.panelists(webinar_id)

    def panelist_invitations(self, webinar_id: int) -> list[str]:
        """The emails Zoom itself would have sent a panelist invitation to (one per add), which it does
        unless the webinar's `settings.panelists_invitation_email_notification` is false."""
        with self._lock:
            return list(self._state.panelist_invitations.get(webinar_id, []))

    # -- the world moving on -----------------------------------------------------------------------

    def end_meeting(
        self,
        meeting_id: int,
        *,
        ended_at: datetime,
        participants: list[dict],
        uuid: str | None = None,
        is_recorded: bool | None = None,
    ) -> str:
        """End an instance of a meeting or webinar with these join/leave segments; returns its UUID.

        Each segment: name, user_email ("" for guests), join_time, leave_time (aware), optional
        registrant_id and status ("in_meeting" or "in_waiting_room"). Past-meeting participants are
        available at once, the report from `ended_at + report_delay` on. `uuid` forces the instance's
        UUID (e.g. "/ab//cd==" to test double encoding). The instance has a cloud recording when
        `is_recorded` (None: when the meeting's `auto_recording` is "cloud"), processing until
        `ended_at + recording_delay`.
        """
        with self._lock:
            return self._world.attendance.end_meeting(
                meeting_id, ended_at=ended_at, participants=participants, uuid=uuid, is_recorded=is_recorded
            )

    def expire_tokens(self) -> None:
        """Invalidate every token issued so far: API calls with one get 401 code 124."""
        with self._lock:
            self._tokens.clear()

    # -- faults ------------------------------------------------------------------------------------

    def _add_fault(self, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(fault)

    def fail_next(
        self,
        status: int,
        *,
        code: int | None = None,
        message: str = "",
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        headers: dict | None = None,
    ) -> None:
        """Answer the next matching requests with `status` and Zoom's {"code", "message"} body.

        The request is not carried out. `code` defaults to the status, `message` to its reason phrase.
        `path` is a prefix of the raw path; without it only /v2 calls match (path="/oauth" fails token
        requests). The same matching holds for every fault.
        """
        self._add_fault(
            _Fault("fail", method, path, times, status=status, code=code, message=message, headers=dict(headers or {}))
        )

    def rate_limit_next(
        self,
        *,
        kind: str = "QPS",
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        """Answer the next matching requests with 429 and Zoom's X-RateLimit-* headers.

        `kind` is "QPS" or "Daily-limit"; a daily limit carries Retry-After, by default the next
        00:00 UTC of the fake's clock as "YYYY-MM-DDTHH:MM:SSZ".
        """
        if kind not in ("QPS", "Daily-limit"):
            raise ValueError(f"kind must be 'QPS' or 'Daily-limit', not {kind!r}")
        self._add_fault(_Fault("rate", method, path, times, rate_kind=kind, retry_after=retry_after))

    def reset_next(self, *, times: int = 1, method: str | None = None, path: str | None = None) -> None:
        """Close the connection of the next matching requests without answering or carrying them out."""
        self._add_fault(_Fault("reset", method, path, times))

    def delay_next(self, seconds: float, *, times: int = 1, method: str | None = None, path: str | None = None) -> None:
        """Carry out the next matching requests, then wait `seconds` before answering."""
        self._add_fault(_Fault("delay", method, path, times, seconds=seconds))

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _fault_reply(self, fault: _Fault, method: str, path: str) -> _Reply:
        if fault.action == "reset":
            return _Reply(0, is_reset=True)
        if fault.action == "fail":
            try:
                phrase = HTTPStatus(fault.status).phrase
            except ValueError:
                phrase = ""
            body = {"code": fault.status if fault.code is None else fault.code, "message": fault.message or phrase}
            return self._json_reply(fault.status, body, fault.headers)
        found = _match(method, path)
        route = found[0] if found else None
        category = route.category if route else "Light"
        daily = fault.rate_kind == "Daily-limit"
        headers = {
            "X-RateLimit-Category": category,
            "X-RateLimit-Type": fault.rate_kind,
            "X-RateLimit-Limit": str((route.daily_limit if route else 30_000) if daily else QPS_LIMITS[category]),
            "X-RateLimit-Remaining": "0",
        }
        retry_after = fault.retry_after
        if retry_after is None and daily:
            retry_after = format_time(_next_midnight(self._clock()))
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        return self._json_reply(429, {"code": 429, "message": DAILY_MESSAGE if daily else QPS_MESSAGE}, headers)

    # -- answering ---------------------------------------------------------------------------------

    @staticmethod
    def _json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> _Reply:
        reply_headers = {"x-zm-trackingid": f"v=2.0;clid=fake;rid=WEB_{secrets.token_hex(16)}"}
        data = b""
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            reply_headers["Content-Type"] = JSON_TYPE
        reply_headers.update(headers or {})
        return _Reply(status, data, reply_headers)

    def _exchange(self, method: str, path: str, query_string: str, headers: dict[str, str], body: bytes) -> _Reply:
        """Decide the answer to one request and record the exchange."""
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        with self._lock:
            fault = self._take_fault(method, path)
            if fault is None or fault.action == "delay":
                reply = self._answer(method, path, query, headers, body)
                reply.delay = max(reply.delay, fault.seconds if fault else 0.0)
                if path.startswith("/v2/"):
                    reply.delay = max(reply.delay, self.quirks.slow_answers)
            else:
                reply = self._fault_reply(fault, method, path)
            self.recorded.append(
                Recorded(method, path, query, dict(headers), body, reply.status, reply.body, dict(reply.headers))
            )
        return reply

    def _answer(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> _Reply:
        try:
            if path == "/oauth/token" and method == "POST":
                return self._issue_token(query, headers, body)
            found = _match(method, path)
            if found is None:
                raise ZoomApiError(404, 404, "Not found")
            route, raw_params = found
            self._check_token(headers)
            params = {
                name: _decode_id(value, route.kind) if name == "id" else unquote(value)
                for name, value in raw_params.items()
            }
            payload = None
            repeated = self.quirks.repeat_page_token and query.get("next_page_token") == REPEATED_TOKEN
            if repeated:
                query = {k: v for k, v in query.items() if k != "next_page_token"}
            if method in ("POST", "PATCH", "PUT"):
                try:
                    payload = json.loads(body) if body else None
                except ValueError:
                    raise ZoomApiError(400, 300, "Request Body should be a valid JSON object.") from None
            result = route.call(self._world, route.kind, params, query, payload)
            # a recording's files are a list too (not paged): Zoom has been seen to repeat a row there as well
            is_list = isinstance(result, dict) and any(
                key in result for key in ("next_page_token", "total_records", "recording_files")
            )
            if method == "GET" and is_list:
                self._odd_page(result)
            reply = self._json_reply(route.status, result if route.status != 204 else None)
            if method == "POST" and route.pattern[1] == "users":
                reply.delay = self.quirks.slow_create
            return reply
        except ZoomApiError as err:
            return self._json_reply(err.status, err.body())
        except Exception as err:  # a bug in the fake should show in the test, not hang it
            return self._json_reply(500, {"code": 500, "message": f"fake Zoom failed: {err!r}"})

    def _odd_page(self, page: dict[str, Any]) -> None:
        """Apply the list quirks to one page of a list (a list that Zoom does not page keeps no token)."""
        if self.quirks.repeat_page_token and "next_page_token" in page:
            page["next_page_token"] = REPEATED_TOKEN
        if self.quirks.duplicate_rows:
            for value in page.values():
                if isinstance(value, list) and value and isinstance(value[0], dict):
                    twin = dict(value[0])
                    if isinstance(twin.get("email"), str):
                        twin["email"] = twin["email"].upper()
                    value.append(twin)

    def _check_token(self, headers: dict[str, str]) -> None:
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or token not in self._tokens:
            raise ZoomApiError(401, 124, "Invalid access token.")
        if self._clock() >= self._tokens[token]:
            raise ZoomApiError(401, 124, "Access token is expired.")

    def _issue_token(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> _Reply:
        params = {**dict(parse_qsl(body.decode("utf-8", "replace"))), **query}
        if params.get("grant_type") != "account_credentials":
            return self._json_reply(400, {"reason": "Unsupported grant type", "error": "unsupported_grant_type"})
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, encoded = value.partition(" ")
        try:
            given = base64.b64decode(encoded, validate=True).decode("utf-8") if scheme.lower() == "basic" else ""
        except (binascii.Error, UnicodeDecodeError):
            given = ""
        if given != f"{self.client_id}:{self.client_secret}":
            return self._json_reply(400, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
        if params.get("account_id") != self.account_id:
            return self._json_reply(400, {"reason": "Invalid account_id", "error": "invalid_request"})
        token = "fake." + secrets.token_urlsafe(32)
        self._tokens[token] = self._clock() + timedelta(seconds=self.token_ttl)
        self.tokens_issued += 1
        return self._json_reply(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_ttl,
                "scope": SCOPES,
                "api_url": self.base_url,
            },
        )


class _Handler(TrackingHandler):
    """Reads one request, asks the FakeZoom for the answer, writes it (or drops the connection)."""

    def _serve(self) -> None:
        fake: FakeZoom = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        reply = fake._exchange(self.command, path, query, dict(self.headers.items()), body)
        if reply.is_reset:
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if reply.delay:
            fake._stopping.wait(reply.delay)
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.status != 204:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:  # the client gave up (e.g. its read timeout during a delay)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


def main(argv: list[str] | None = None) -> int:
    """`python -m opsflow.sandbox.zoom`: serve a fake Zoom with the faults asked for (see `--help`)."""
    from opsflow.sandbox.zoom_cli import run

    return run(argv)


if __name__ == "__main__":
    raise SystemExit(main())
