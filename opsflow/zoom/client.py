"""The Zoom transport: Server-to-Server OAuth, timeouts, retries, pacing, pagination, errors for people.

The only place (with `api`, its endpoints) that speaks HTTP to Zoom. Clock, sleep and randomness are
injected, so tests run against a fake Zoom on loopback without waiting.
"""

from __future__ import annotations

import base64
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypedDict
from urllib.parse import quote

import requests

from opsflow.core.config import Secret
from opsflow.core.errors import (
    ZoomApiError,
    ZoomAuthError,
    ZoomError,
    ZoomNotFoundError,
    ZoomOutcomeUnknown,
    ZoomPlanError,
    ZoomRateLimited,
    ZoomScopeError,
    ZoomUnavailable,
)

log = logging.getLogger("opsflow.zoom")

LIGHT, MEDIUM, HEAVY = "light", "medium", "heavy"
# Requests per second for each rate-limit label: Zoom's Pro plan, the safe default (Business+ is higher).
PRO_RATES = {LIGHT: 30.0, MEDIUM: 20.0, HEAVY: 10.0}
BUSINESS_RATES = {LIGHT: 80.0, MEDIUM: 60.0, HEAVY: 40.0}
TOKEN_MARGIN = 60.0  # renew a token this many seconds before Zoom says it expires


@dataclass(frozen=True)
class Credentials:
    """A Server-to-Server OAuth app's credentials. The secret never shows in repr."""

    account_id: str
    client_id: str
    client_secret: Secret


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and by a total deadline (seconds)."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    deadline: float = 120.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The pause before retry number `attempt` (1-based)."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class Pacer:
    """Spaces requests of each rate-limit label so the client stays under its per-second limits."""

    def __init__(self, rates: dict[str, float], clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.intervals = {label: 1.0 / rate for label, rate in rates.items()}
        self.clock = clock
        self.sleep = sleep
        self.next_free: dict[str, float] = {}
        self.lock = threading.Lock()

    def wait(self, label: str) -> None:
        with self.lock:
            now = self.clock()
            slot = max(now, self.next_free.get(label, now))
            self.next_free[label] = slot + self.intervals.get(label, 0.0)
        if slot > now:
            self.sleep(slot - now)


@dataclass
class _Token:
    value: str
    expires_at: float  # on the injected monotonic clock
    api_base: str | None
    scope: str = ""


@dataclass
class ZoomClient:
    """HTTP to Zoom with one `requests.Session`. Use `request()` and `paginate()`; see `api.Zoom`."""

    credentials: Credentials
    api_url: str = "https://api.zoom.us/v2"
    oauth_url: str = "https://zoom.us/oauth/token"
    timeout: tuple[float, float] = (5.0, 30.0)  # connect, read
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    rates: dict[str, float] = field(default_factory=lambda: dict(PRO_RATES))
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    rng: random.Random = field(default_factory=random.Random)
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.pacer = Pacer(self.rates, self.clock, self.sleep)
        self._token: _Token | None = None
        self._token_lock = threading.Lock()
        self.token_requests = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(api_url={self.api_url!r}, account_id={self.credentials.account_id!r})"

    # --- auth -----------------------------------------------------------------------------

    def token(self, *, renew: bool = False) -> _Token:
        """A valid access token, from the cache unless it is (nearly) expired or `renew` is asked."""
        with self._token_lock:
            if renew or self._token is None or self.clock() >= self._token.expires_at:
                self._token = self._fetch_token()
            return self._token

    def _fetch_token(self) -> _Token:
        creds = self.credentials
        basic = base64.b64encode(f"{creds.client_id}:{creds.client_secret.reveal()}".encode()).decode()
        response = self._send(
            "POST",
            self.oauth_url,
            label=None,
            is_safe_to_repeat=True,
            params={"grant_type": "account_credentials", "account_id": creds.account_id},
            headers={"Authorization": f"Basic {basic}"},
        )
        self.token_requests += 1
        if response.status_code != 200:
            body = _json(response)
            reason = body.get("reason") or body.get("error") or response.text[:200]
            raise ZoomAuthError(
                f"Zoom refused the app credentials ({reason}): check OPSFLOW_ZOOM_ACCOUNT_ID, "
                "OPSFLOW_ZOOM_CLIENT_ID and OPSFLOW_ZOOM_CLIENT_SECRET against your Server-to-Server OAuth app",
                status=response.status_code,
                zoom_message=str(reason),
            )
        body = _json(response)
        api_base = body.get("api_url")
        return _Token(
            value=body["access_token"],
            expires_at=self.clock() + float(body.get("expires_in", 3599)) - TOKEN_MARGIN,
            api_base=f"{api_base.rstrip('/')}/v2" if api_base else None,
            scope=str(body.get("scope") or ""),
        )

    # --- requests -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        label: str,
        params: dict | None = None,
        json: Any = None,
        is_safe_to_repeat: bool | None = None,
    ) -> Any:
        """Call the API at `path` (under /v2) and return the decoded JSON body (None for 204).

        `is_safe_to_repeat` defaults to True for every method but POST: a POST that may have reached
        Zoom is never sent again; it raises ZoomOutcomeUnknown and the caller reconciles.
        """
        safe = method != "POST" if is_safe_to_repeat is None else is_safe_to_repeat
        for renewed in (False, True):
            token = self.token(renew=renewed)
            url = f"{token.api_base or self.api_url}{path}"
            response = self._send(
                method,
                url,
                label=label,
                params=params,
                json=json,
                is_safe_to_repeat=safe,
                headers={"Authorization": f"Bearer {token.value}"},
            )
            if response.status_code == 401 and not renewed and _json(response).get("code") in (124, None):
                log.info("Zoom rejected the access token; renewing it once")
                continue
            break
        if response.status_code >= 400:
            raise self._error(response, method, path)
        return _json(response) if response.content else None

    def paginate(
        self, path: str, *, key: str, label: str, params: dict | None = None, page_size: int = 300
    ) -> Iterator[dict]:
        """Yield every item of a paged list (`key` names the list in each page)."""
        query = {**(params or {}), "page_size": page_size}
        seen: set[str] = set()
        while True:
            page = self.request("GET", path, label=label, params=query) or {}
            yield from page.get(key) or []
            token = page.get("next_page_token")
            if not token:
                return
            if token in seen:  # Zoom handed back a page it gave before: following it would never end
                raise ZoomUnavailable(
                    f"Zoom repeated a page token while listing GET {path} after {len(seen) + 1} "
                    "pages; the list cannot be read to its end. It is tried again later; if it "
                    "persists, report it to Zoom"
                )
            seen.add(token)
            query["next_page_token"] = token

    def _send(
        self,
        method: str,
        url: str,
        *,
        label: str | None,
        is_safe_to_repeat: bool,
        params: dict | None = None,
        json: Any = None,
        headers: dict | None = None,
    ) -> requests.Response:
        """Send with pacing and retries; return the final response (any status but 429/5xx retried out)."""
        started = self.clock()
        attempt = 0
        while True:
            attempt += 1
            if label:
                self.pacer.wait(label)
            try:
                response = self.session.request(
                    method, url, params=params, json=json, headers=headers, timeout=self.timeout
                )
            except requests.ConnectTimeout as exc:  # never reached Zoom: safe to send again
                problem: Exception | requests.Response = exc
            except (requests.ReadTimeout, requests.ConnectionError) as exc:
                if not is_safe_to_repeat and not _never_sent(exc):
                    raise ZoomOutcomeUnknown(
                        f"Zoom did not answer {method} {_path(url)} in time ({type(exc).__name__}); it may have "
                        "been carried out, so it is not sent again"
                    ) from None
                problem = exc
            else:
                if response.status_code == 429:
                    retry_at = _retry_after(response, self.now())
                    if response.headers.get("X-RateLimit-Type", "").lower() == "daily-limit":
                        raise self._rate_limited(response, retry_at, method, url)
                    wait = (retry_at - self.now()).total_seconds() if retry_at else None
                    if not self._may_retry(attempt, started, wait):
                        raise self._rate_limited(response, retry_at, method, url)
                    self.sleep(max(wait if wait is not None else self.retry.delay(attempt, self.rng), 0.0))
                    continue
                if response.status_code < 500:
                    return response
                if not is_safe_to_repeat and response.status_code != 503:  # 503: refused before any work
                    raise ZoomOutcomeUnknown(
                        f"Zoom answered HTTP {response.status_code} to {method} {_path(url)}; it may have been "
                        "carried out, so it is not sent again",
                        status=response.status_code,
                        request_id=_request_id(response),
                    )
                problem = response
            delay = self.retry.delay(attempt, self.rng)
            if not self._may_retry(attempt, started, delay):
                raise self._unavailable(problem, method, url, attempt)
            log.info(
                "Zoom %s %s failed (%s); retry %d in %.1f s", method, _path(url), _describe(problem), attempt, delay
            )
            self.sleep(delay)

    def _may_retry(self, attempt: int, started: float, delay: float | None) -> bool:
        elapsed = self.clock() - started
        return attempt < self.retry.max_attempts and elapsed + (delay or 0.0) <= self.retry.deadline

    # --- errors ---------------------------------------------------------------------------

    def _unavailable(self, problem, method: str, url: str, attempts: int) -> ZoomUnavailable:
        if isinstance(problem, requests.Response):
            body = _json(problem)
            return ZoomUnavailable(
                f"Zoom answered HTTP {problem.status_code} to {method} {_path(url)} {attempts} times; "
                "Zoom may be having trouble: try again later",
                status=problem.status_code,
                code=body.get("code"),
                zoom_message=body.get("message", ""),
                request_id=_request_id(problem),
            )
        return ZoomUnavailable(
            f"cannot reach Zoom for {method} {_path(url)} after {attempts} attempts "
            f"({_describe(problem)}): check the network and OPSFLOW_ZOOM_API_URL"
        )

    def _rate_limited(
        self, response: requests.Response, retry_at: datetime | None, method: str, url: str
    ) -> ZoomRateLimited:
        kind = response.headers.get("X-RateLimit-Type", "QPS")
        category = response.headers.get("X-RateLimit-Category", "")
        if kind.lower() == "daily-limit":
            retry_at = retry_at or _next_utc_midnight(self.now())
            what = f"the daily {category} limit".replace("  ", " ")
        else:
            what = f"the per-second {category} limit".replace("  ", " ")
        when = f"; try again after {retry_at:%Y-%m-%d %H:%M} UTC" if retry_at else "; try again in a minute"
        body = _json(response)
        return ZoomRateLimited(
            f"Zoom's rate limit reached for {method} {_path(url)} ({what}){when}",
            retry_at=retry_at,
            limit_type=kind,
            status=429,
            code=body.get("code"),
            zoom_message=body.get("message", ""),
            request_id=_request_id(response),
        )

    def _error(self, response: requests.Response, method: str, path: str) -> ZoomError:
        body = _json(response)
        code = body.get("code")
        message = str(body.get("message") or response.reason or "")
        fields: _ErrorFields = {
            "status": response.status_code,
            "code": code,
            "zoom_message": message,
            "request_id": _request_id(response),
        }
        if response.status_code == 401:
            return ZoomAuthError(
                f"Zoom rejected the access token for {method} {path} even after renewing it "
                f"({message}): check that the app is activated",
                **fields,
            )
        if code == 4700 or "scope" in message.lower():
            scopes = re.findall(r"[a-z_]+:[a-z_]+(?::[a-z_]+)*", message)
            named = ", ".join(scopes) or "the one it names"
            return ZoomScopeError(
                f"the Zoom app lacks the scope {named} needed for {method} {path}: add it "
                f"under Scopes in your app on the Zoom App Marketplace ({message})",
                scopes=scopes,
                **fields,
            )
        if code == 1001:
            return ZoomNotFoundError(
                f"Zoom user not found ({message}): check `host` in the job file's [zoom] table", **fields
            )
        if code in (3001, 3000) and response.status_code == 404:
            return ZoomNotFoundError(f"not found on Zoom: {method} {path} ({message})", **fields)
        if code == 200:
            return ZoomPlanError(
                f"Zoom refused {method} {path}: it needs a paid plan (Pro or higher) or a "
                f"permission the account lacks ({message})",
                **fields,
            )
        return ZoomApiError(
            f"Zoom API error on {method} {path}: HTTP {response.status_code}, code {code}: {message}", **fields
        )


def encode_id(value: str | int) -> str:
    """A meeting id or UUID for a path; a UUID starting with '/' or containing '//' is encoded twice."""
    text = str(value)
    once = quote(text, safe="")
    return quote(once, safe="") if text.startswith("/") or "//" in text else once


class _ErrorFields(TypedDict):
    """The keyword arguments that every ZoomError takes, as `_error` passes them on."""

    status: int | None
    code: int | None
    zoom_message: str
    request_id: str | None


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {"items": body}


def _request_id(response: requests.Response) -> str | None:
    return response.headers.get("x-zm-trackingid")


def _never_sent(exc: Exception) -> bool:
    """True when the connection failed before the request could reach Zoom (refused, DNS)."""
    text = repr(exc)
    return "NewConnectionError" in text or "NameResolutionError" in text or "Connection refused" in text


def _retry_after(response: requests.Response, now: datetime) -> datetime | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    for parse in (lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")), parsedate_to_datetime):
        try:
            moment = parse(value)
        except (ValueError, TypeError):
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _next_utc_midnight(now: datetime) -> datetime:
    return (now.astimezone(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url).split("?")[0]


def _describe(problem) -> str:
    if isinstance(problem, requests.Response):
        return f"HTTP {problem.status_code}"
    return type(problem).__name__
