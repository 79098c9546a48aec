"""Settings from the environment and `.env`, each checked when first read; secrets masked wherever shown.

This is the only module that reads the environment. Everything else receives a `Settings` object.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from opsflow.core.errors import ConfigError

MASK = "***"


class Secret:
    """A string that shows as `***` in repr, str and f-strings; `reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def mask_url(url: str) -> str:
    """Return `url` with any password replaced by `***` (for display, logs and errors).

    Never raises: a URL with a bad port or a broken IPv6 host is masked as written.
    """
    parts = _userinfo(url)
    if parts is None or ":" not in parts[1]:
        return url
    before, userinfo, after = parts
    return f"{before}{userinfo.partition(':')[0]}:{MASK}@{after}"


def url_password(url: str) -> str | None:
    """The password inside a URL, if any (so that it can be redacted from logs). Never raises."""
    parts = _userinfo(url)
    password = parts[1].partition(":")[2] if parts else ""
    return password or None


def _userinfo(url: str) -> tuple[str, str, str] | None:
    """(`scheme://`, `user:password`, the rest) of a URL with an `@`, split without validating the rest.

    The user part runs to the last `@` before any `?` or `#`, as a password may hold an unencoded `/`:
    masking a little too much is better than showing a password.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    end = min((i for i in (rest.find("?"), rest.find("#")) if i != -1), default=len(rest))
    userinfo, at, after = rest[:end].rpartition("@")
    if not at:
        return None
    return scheme + sep, userinfo, after + rest[end:]


def mask_webhook_url(url: Secret | str) -> str:
    """A webhook URL as it may be shown: scheme, host and port, the rest masked (`https://hooks.slack.com/***`).

    An incoming webhook's path (and a Teams Workflows URL's `sig`) is its credential. Never raises."""
    raw = url.reveal() if isinstance(url, Secret) else url
    try:
        parts = urlsplit(raw)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    return f"{parts.scheme}://{host}{port}/{MASK}"


def webhook_secret_parts(url: Secret | str) -> list[str]:
    """Every piece of a webhook URL that gives it away, longest first: the whole URL, its path and query,
    each path tail (`/B000/XXXX`, `/XXXX`), the last segment and each long query value (`sig=...`), also
    as an HTTP client writes them on the wire (quoted)."""
    raw = url.reveal() if isinstance(url, Secret) else url
    try:
        parts = urlsplit(raw)
    except ValueError:
        return [raw] if raw else []
    found = {raw, _quoted(raw)}
    path = parts.path.rstrip("/")
    if parts.query:
        found |= {f"{path}?{parts.query}", parts.query}
        found |= {value for _, value in parse_qsl(parts.query) if len(value) >= 12}  # `sig`, not `api-version`
    while len(path) > 1:
        found |= {path, _quoted(path)}
        path = "/" + path.split("/", 2)[2] if path.count("/") > 1 else ""
    last = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if len(last) >= 8:
        found.add(last)
    return sorted((p for p in found if len(p) >= 4), key=len, reverse=True)  # "/v1" gives nothing away


def _quoted(text: str) -> str:
    """`text` quoted as requests quotes a URL before sending it (its `requote_uri`)."""
    return quote(text, safe="!#$%&'()*+,/:;=?@[]~")


# (environment variable, attribute, what to put there). The help text is shown when it is missing.
SETTINGS_HELP: dict[str, str] = {
    "OPSFLOW_ZOOM_ACCOUNT_ID": "the Account ID of your Zoom Server-to-Server OAuth app (Zoom App Marketplace > your app > App Credentials)",
    "OPSFLOW_ZOOM_CLIENT_ID": "the Client ID of your Zoom Server-to-Server OAuth app",
    "OPSFLOW_ZOOM_CLIENT_SECRET": "the Client Secret of your Zoom Server-to-Server OAuth app",
    "OPSFLOW_ZOOM_API_URL": "the Zoom API base URL (default https://api.zoom.us/v2)",
    "OPSFLOW_ZOOM_OAUTH_URL": "the Zoom OAuth token URL (default https://zoom.us/oauth/token)",
    "OPSFLOW_ZOOM_PLAN": "the Zoom account's plan for pacing requests: pro (default) or business",
    "OPSFLOW_SMTP_URL": "where mail goes, e.g. smtp+starttls://user:password@smtp.example.jp:587, smtps://user:password@host:465, smtp://localhost:1025 or file:./outbox",
    "OPSFLOW_MAIL_FROM": 'the sender address, e.g. "Seminar office <seminar@example.jp>"',
    "OPSFLOW_MAIL_REPLY_TO": "the address replies go to, e.g. seminar-office@example.jp",
    "OPSFLOW_SMTP_TIMEOUT": "seconds to wait for each answer of the mail server before the batch stops (default 30)",
    "OPSFLOW_MAIL_RATE": "the most messages a minute the mail server accepts, e.g. 30 for Exchange Online, or off for no limit (the default)",
    "OPSFLOW_LIST_UNSUBSCRIBE": "a mailto: or https: link for List-Unsubscribe (optional)",
    "OPSFLOW_ORGANIZER": "the organizer's name as mail signs it, e.g. パブリテックセミナー事務局",
    "OPSFLOW_ORGANIZER_CONTACT": "how to reach the organizer, e.g. seminar@example.jp / 03-1234-5678",
    "OPSFLOW_SURVEY_WEBHOOK_URL": "an https URL that receives the survey recipients as signed JSON (optional)",
    "OPSFLOW_SURVEY_WEBHOOK_SECRET": "the shared secret that signs the survey webhook (HMAC-SHA256)",
    "OPSFLOW_STAFF_WEBHOOK_URL": "the incoming webhook URL of the staff chat (Slack, Mattermost, Rocket.Chat, LoGo Chat or Microsoft Teams) that also gets alerts and summaries (optional)",
    "OPSFLOW_STAFF_WEBHOOK_FORMAT": "the staff chat's message format: slack (Slack, Mattermost, Rocket.Chat, LoGo Chat) or teams (Microsoft Teams); by default guessed from the webhook's host",
    "OPSFLOW_DATABASE_URL": "a database URL, e.g. sqlite:///opsflow.db or postgresql+psycopg://user@host:5432/opsflow",
    "OPSFLOW_JOBS_DIR": "the folder of job files (default ./jobs)",
    "OPSFLOW_TEMPLATES_DIR": "a folder of your own mail templates that override the built-in ones",
}

_ATTRS = {
    "zoom_account_id": "OPSFLOW_ZOOM_ACCOUNT_ID",
    "zoom_client_id": "OPSFLOW_ZOOM_CLIENT_ID",
    "zoom_client_secret": "OPSFLOW_ZOOM_CLIENT_SECRET",
    "zoom_api_url": "OPSFLOW_ZOOM_API_URL",
    "zoom_oauth_url": "OPSFLOW_ZOOM_OAUTH_URL",
    "zoom_plan": "OPSFLOW_ZOOM_PLAN",
    "smtp_url": "OPSFLOW_SMTP_URL",
    "smtp_timeout": "OPSFLOW_SMTP_TIMEOUT",
    "mail_from": "OPSFLOW_MAIL_FROM",
    "mail_reply_to": "OPSFLOW_MAIL_REPLY_TO",
    "mail_rate": "OPSFLOW_MAIL_RATE",
    "list_unsubscribe": "OPSFLOW_LIST_UNSUBSCRIBE",
    "organizer": "OPSFLOW_ORGANIZER",
    "organizer_contact": "OPSFLOW_ORGANIZER_CONTACT",
    "survey_webhook_url": "OPSFLOW_SURVEY_WEBHOOK_URL",
    "survey_webhook_secret": "OPSFLOW_SURVEY_WEBHOOK_SECRET",
    "staff_webhook_url": "OPSFLOW_STAFF_WEBHOOK_URL",
    "staff_webhook_format": "OPSFLOW_STAFF_WEBHOOK_FORMAT",
    "database_url": "OPSFLOW_DATABASE_URL",
    "jobs_dir": "OPSFLOW_JOBS_DIR",
    "templates_dir": "OPSFLOW_TEMPLATES_DIR",
}

_URL_SETTINGS = ("zoom_api_url", "zoom_oauth_url", "smtp_url", "database_url", "survey_webhook_url", "list_unsubscribe")
# URLs that are secrets whole (the path is the credential): shown as `https://host/***` even when invalid
_WEBHOOK_SETTINGS = ("staff_webhook_url",)


@dataclass(frozen=True)
class Invalid:
    """A setting whose value was refused. Reading it raises ConfigError, so one bad setting stops only
    the commands that use it; `raw` is kept so that a password inside it can still be redacted."""

    message: str
    raw: str = field(repr=False)

    def __repr__(self) -> str:
        return "Invalid(...)"


@dataclass(frozen=True)
class Settings:
    """Settings from the environment. Optional ones are None when unset; `require()` explains a missing
    one. A setting with a bad value raises ConfigError when it is read, not when the settings load."""

    def __getattribute__(self, name: str):
        value = object.__getattribute__(self, name)
        if type(value) is Invalid:
            raise ConfigError(value.message)
        return value

    zoom_account_id: str | None = None
    zoom_client_id: str | None = None
    zoom_client_secret: Secret | None = None
    zoom_api_url: str = "https://api.zoom.us/v2"
    zoom_oauth_url: str = "https://zoom.us/oauth/token"
    zoom_plan: str = "pro"
    smtp_url: Secret | None = None
    smtp_timeout: float = 30.0
    mail_from: str | None = None
    mail_reply_to: str | None = None
    mail_rate: float | None = None
    list_unsubscribe: str | None = None
    organizer: str = ""
    organizer_contact: str = ""
    survey_webhook_url: str | None = None
    survey_webhook_secret: Secret | None = None
    staff_webhook_url: Secret | None = None
    staff_webhook_format: str | None = None  # "slack" or "teams"; None: guessed from the host
    database_url: Secret = field(default_factory=lambda: Secret("sqlite:///opsflow.db"))
    jobs_dir: Path = Path("jobs")
    templates_dir: Path | None = None

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = self._raw(f.name)
            if f.name in _URL_SETTINGS and value is not None:
                value = mask_url(value.reveal() if isinstance(value, Secret) else value)
            elif f.name in _WEBHOOK_SETTINGS and value is not None:
                value = mask_webhook_url(value)
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    def problems(self) -> list[str]:
        """The message of every setting with a bad value (for `doctor`, which checks them all)."""
        values = [object.__getattribute__(self, f.name) for f in fields(self)]
        return [value.message for value in values if type(value) is Invalid]

    def _raw(self, attr: str):
        """The setting as stored, without raising: the text as written when it is invalid."""
        value = object.__getattribute__(self, attr)
        return value.raw if type(value) is Invalid else value

    def require(self, attr: str):
        """Return the setting `attr`, or raise ConfigError naming the variable and what to put there."""
        value = getattr(self, attr)
        if value is None or (isinstance(value, (str, Secret)) and not value):
            var = _ATTRS[attr]
            raise ConfigError(f"{var} is not set: put {SETTINGS_HELP[var]} in the environment or in .env")
        return value

    def secret_values(self) -> list[str]:
        """Every secret string held, for redaction."""
        values = []
        for secret in (self.zoom_client_secret, self.survey_webhook_secret):
            if secret:
                values.append(secret.reveal())
        for attr in _URL_SETTINGS:
            url = self._raw(attr)
            password = url_password(url.reveal() if isinstance(url, Secret) else url) if url else None
            for value in (password, unquote(password)) if password else ():
                if value not in values:
                    values.append(value)
        for attr in _WEBHOOK_SETTINGS:
            url = self._raw(attr)
            values += [part for part in webhook_secret_parts(url) if part not in values] if url else []
        return values


def load_settings(environ: Mapping[str, str] | None = None, dotenv_path: Path | str | None = ".env") -> Settings:
    """Read settings from `environ` (default: the process environment) over the values in `.env`.

    The process environment wins over `.env`, as python-dotenv does by default. A setting with a bad
    value raises ConfigError when it is read, so that it stops only the commands that use it; a `.env`
    that cannot be read raises ConfigError at once.
    """
    from opsflow.core.config_values import convert

    values: dict[str, str] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        values.update(_read_dotenv(Path(dotenv_path)))
    values.update({k: v for k, v in (os.environ if environ is None else environ).items() if k.startswith("OPSFLOW_")})
    # Any, not object: convert() gives each attribute the type of its field, and an Invalid stands in for
    # any field by design (Settings.__getattribute__ raises it when read), which no static type can say.
    kwargs: dict[str, Any] = {}
    for attr, var in _ATTRS.items():
        raw = values.get(var, "").strip()
        if raw:
            try:
                kwargs[attr] = convert(attr, var, raw)
            except ConfigError as exc:
                kwargs[attr] = Invalid(exc.message, raw)
    return Settings(**kwargs)


def _read_dotenv(path: Path) -> dict[str, str]:
    """The values of a `.env` file; a file that is not UTF-8 text is a ConfigError naming its line."""
    from dotenv import dotenv_values

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text: save the settings file as UTF-8") from None
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


class RedactingFilter(logging.Filter):
    """Replaces every known secret in a log record's message with `***`."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            for secret in self.secrets:
                message = message.replace(secret, MASK)
            record.msg, record.args = message, None
        return True


def configure_logging(settings: Settings, *, level: int = logging.WARNING) -> None:
    """Send opsflow's logs to stderr with every secret of `settings` redacted."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(settings.secret_values()))
    logger = logging.getLogger("opsflow")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
