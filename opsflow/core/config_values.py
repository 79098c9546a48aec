"""The value of each setting from its text, or a ConfigError that names the variable and what to put there.

`opsflow.core.config.load_settings` calls `convert()` for every setting it finds. A refused value is kept and
raised only when a command reads that setting. Every URL is shown with its password masked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from opsflow.core.config import SETTINGS_HELP, Secret, mask_url, mask_webhook_url
from opsflow.core.errors import ConfigError

SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps", "file")
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
NO_LIMIT = ("off", "none")  # OPSFLOW_MAIL_RATE without pacing (an empty value means the same)


def convert(attr: str, var: str, raw: str) -> object:
    """The value of the setting `attr` (environment variable `var`) written as `raw` (stripped, not empty)."""
    check = _CHECKS.get(attr)
    return raw if check is None else check(var, raw)


def split_url(var: str, raw: str) -> SplitResult:
    """`urlsplit(raw)` with its port read: a bad port or a broken IPv6 host is a ConfigError naming `var`."""
    shown = mask_url(raw)
    try:
        parts = urlsplit(raw)
    except ValueError:  # "Invalid IPv6 URL": a '[' without its ']'
        raise ConfigError(
            f"{var}={shown!r} has a '[' without its ']' in the host name: write an IPv6 address "
            f"as [::1], or fix the host name"
        ) from None
    try:
        port = parts.port
    except ValueError:
        port = None
    port_text = parts.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
    if port_text and not port:
        raise ConfigError(
            f"{var}={shown!r} has the port {port_text!r}, which is not a number from 1 to 65535: "
            f"fix the port, or leave it out for the usual one"
        )
    return parts


def _zoom_url(var: str, raw: str) -> str:
    parts = _http_url(var, raw)
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            f"{var}={mask_url(raw)!r} holds a user or password: remove it; the app credentials go "
            "in OPSFLOW_ZOOM_CLIENT_ID and OPSFLOW_ZOOM_CLIENT_SECRET"
        )
    return raw.rstrip("/")


def _webhook_url(var: str, raw: str) -> str:
    _http_url(var, raw)
    return raw


def _staff_webhook_url(var: str, raw: str) -> Secret:
    """The staff chat's incoming webhook: an http(s) URL with a host; shown only as `https://host/***`."""
    shown = mask_webhook_url(raw)
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise ConfigError(
            f"{var} ({shown}) is not a URL opsflow can read (a bad port or host): put {SETTINGS_HELP[var]}"
        ) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{var} ({shown}) is not an http(s) URL with a host: put {SETTINGS_HELP[var]}, "
            "e.g. https://hooks.slack.com/services/..."
        )
    if parts.username is not None or parts.password is not None or any(c.isspace() for c in raw):
        raise ConfigError(
            f"{var} ({shown}) holds a user, a password or spaces: paste the webhook's URL as the chat gives it"
        )
    return Secret(raw)


def _staff_webhook_format(var: str, raw: str) -> str:
    if raw.lower() not in ("slack", "teams"):
        raise ConfigError(f"{var}={raw!r} is not a chat format: put {SETTINGS_HELP[var]}")
    return raw.lower()


def _http_url(var: str, raw: str) -> SplitResult:
    parts = split_url(var, raw)
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigError(f"{var}={mask_url(raw)!r} is not an http(s) URL: put {SETTINGS_HELP[var]}")
    if not parts.hostname:
        raise ConfigError(f"{var}={mask_url(raw)!r} has no host name: put {SETTINGS_HELP[var]}")
    return parts


def _smtp_url(var: str, raw: str) -> Secret:
    parts = split_url(var, raw)
    shown = mask_url(raw)
    if parts.scheme not in SMTP_SCHEMES:
        raise ConfigError(
            f"{var}={shown!r} has an unknown scheme: use one of "
            f"{', '.join(s + ':' for s in SMTP_SCHEMES)} ({SETTINGS_HELP[var]})"
        )
    if parts.scheme == "file" and not raw[len("file:") :].strip():
        raise ConfigError(f"{var}={shown!r} names no folder: write file: and the outbox folder, e.g. file:./outbox")
    if parts.scheme != "file" and not parts.hostname:
        raise ConfigError(f"{var}={shown!r} names no mail server: put {SETTINGS_HELP[var]}")
    return Secret(raw)


def _database_url(var: str, raw: str) -> Secret:
    parts = split_url(var, raw)
    shown = mask_url(raw)
    if parts.scheme not in DATABASE_SCHEMES:
        raise ConfigError(
            f"{var}={shown!r} is not a supported database: use sqlite:///FILE or postgresql+psycopg://USER@HOST:PORT/DB"
        )
    if parts.scheme == "sqlite":
        path, _, query = raw[len("sqlite:///") :].partition("?")
        if not raw.startswith("sqlite:///") or path in ("", ":memory:") or "mode=memory" in query:
            raise ConfigError(
                f"{var}={shown!r} is an in-memory database, forgotten when each command ends: "
                "name a file, e.g. sqlite:///opsflow.db (three slashes, then the path)"
            )
    return Secret(raw)


def _list_unsubscribe(var: str, raw: str) -> str:
    shown = mask_url(raw)
    if any(c.isspace() or not c.isprintable() or c in '<>"' for c in raw):
        raise ConfigError(
            f"{var}={shown!r} has spaces, quotes or < >: it goes into every mail's List-Unsubscribe "
            "header; write one link, e.g. mailto:seminar@example.jp?subject=unsubscribe"
        )
    scheme, _, rest = raw.partition(":")
    if scheme.lower() == "mailto":
        if "@" not in rest.partition("?")[0]:
            raise ConfigError(
                f"{var}={shown!r} has no address after 'mailto:': write it like "
                "mailto:seminar@example.jp?subject=unsubscribe"
            )
        return f"mailto:{rest}"
    if scheme.lower() == "https":
        parts = _http_url(var, raw)
        if parts.username is not None or parts.password is not None:
            raise ConfigError(f"{var}={shown!r} holds a user or password, which every recipient would see: remove it")
        return f"https:{rest}"
    raise ConfigError(
        f"{var}={shown!r} is not a mailto: or https: link: it goes into every mail's "
        f"List-Unsubscribe header; put {SETTINGS_HELP[var]}, e.g. mailto:seminar@example.jp"
    )


def _address(var: str, raw: str) -> str:
    name, address = parseaddr(raw)
    if "@" not in address or any(c in raw for c in "\r\n") or " " in address:
        raise ConfigError(f"{var}={raw!r} is not an email address: put {SETTINGS_HELP[var]}")
    return raw


def _zoom_plan(var: str, raw: str) -> str:
    if raw.lower() not in ("pro", "business"):
        raise ConfigError(f"{var}={raw!r} is not a plan opsflow knows: put {SETTINGS_HELP[var]}")
    return raw.lower()


def _mail_rate(var: str, raw: str) -> float | None:
    if raw.lower() in NO_LIMIT:
        return None
    try:
        rate = float(raw)
    except ValueError:
        rate = math.nan
    if rate == 0:
        raise ConfigError(
            f"{var}={raw!r} would send nothing: write off for no limit, or the most messages a "
            "minute the mail server accepts, e.g. 30 for Exchange Online"
        )
    if not math.isfinite(rate) or rate < 0:
        raise ConfigError(f"{var}={raw!r} is not a number of messages a minute: put {SETTINGS_HELP[var]}")
    return rate


def _smtp_timeout(var: str, raw: str) -> float:
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 600:
        raise ConfigError(f"{var}={raw!r} is not a number of seconds between 0 and 600: put {SETTINGS_HELP[var]}")
    return seconds


def _templates_dir(var: str, raw: str) -> Path:
    folder = Path(raw)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise ConfigError(
            f"{var}={raw!r}: the folder {folder.absolute()} {what}: create it and copy into it the "
            "built-in templates you want to change (e.g. ja/invitation.j2), or unset "
            f"{var} to use the built-in ones"
        )
    return folder


_CHECKS: dict[str, Callable[[str, str], object]] = {
    "zoom_api_url": _zoom_url,
    "zoom_oauth_url": _zoom_url,
    "zoom_plan": _zoom_plan,
    "zoom_client_secret": lambda var, raw: Secret(raw),
    "survey_webhook_secret": lambda var, raw: Secret(raw),
    "survey_webhook_url": _webhook_url,
    "staff_webhook_url": _staff_webhook_url,
    "staff_webhook_format": _staff_webhook_format,
    "smtp_url": _smtp_url,
    "smtp_timeout": _smtp_timeout,
    "mail_rate": _mail_rate,
    "list_unsubscribe": _list_unsubscribe,
    "mail_from": _address,
    "mail_reply_to": _address,
    "database_url": _database_url,
    "jobs_dir": lambda var, raw: Path(raw),
    "templates_dir": _templates_dir,
}
