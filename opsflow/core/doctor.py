"""`opsflow doctor`: check everything a scheduled run needs, before a seminar depends on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opsflow.core.config import Settings, mask_url
from opsflow.core.errors import OpsflowError

# Scopes by what a seminar uses; Zoom's newer granular scopes start with the same words.
ZOOM_SCOPES = {
    "meeting": ("meeting:write", "meeting:read"),
    "webinar": ("webinar:write", "webinar:read"),
    "report": ("report:read",),
    "recording": ("recording:read",),  # a job file with [recording]
}


@dataclass
class Check:
    name: str
    ok: bool | None  # None: not needed here, skipped
    detail: str

    @property
    def status(self) -> str:
        """`ok`, `fail` or `skip`."""
        return "skip" if self.ok is None else ("ok" if self.ok else "fail")


def run_checks(settings: Settings, now: datetime) -> list[Check]:
    checks = [_settings(settings), _database(settings)]
    events, job_check = _jobs(settings)
    checks.append(job_check)
    checks.append(_time_zones(events))
    checks.append(_zoom(settings, events))
    checks.append(_mail(settings, events))
    checks.append(_staff_chat(settings))
    return checks


def _settings(settings: Settings) -> Check:
    problems = settings.problems()
    if problems:
        return Check("settings", False, "\n       ".join(problems))
    return Check("settings", True, "every setting given has a usable value")


def _database(settings: Settings) -> Check:
    from opsflow.store import open_store

    try:
        url = settings.database_url.reveal()
        store = open_store(url)
        version = store.schema_version()
        store.dispose()
    except OpsflowError as exc:
        return Check("database", False, str(exc))
    return Check("database", True, f"{mask_url(url)} (schema {version}, up to date)")


def _jobs(settings: Settings):
    from opsflow.core.jobspec import job_paths, load_jobs
    from opsflow.core.plan import plan_events
    from opsflow.mail.send import check_templates

    try:
        paths = job_paths(settings.jobs_dir)
        planned = plan_events(load_jobs(paths))
        kinds = set()
        for event, steps in planned:
            kinds |= set(check_templates(settings, event, steps))
    except OpsflowError as exc:
        return [], Check("job files and templates", False, str(exc))
    events = [event for event, _ in planned]
    return events, Check(
        "job files and templates",
        True,
        f"{len(events)} job files in {settings.jobs_dir}, {len(kinds)} kinds of mail render",
    )


def _time_zones(events) -> Check:
    from zoneinfo import ZoneInfo

    names = sorted({str(e.tz) for e in events} | {"Asia/Tokyo"})
    try:
        for name in names:
            ZoneInfo(name)
    except Exception as exc:  # noqa: BLE001 - zoneinfo raises several kinds; all mean missing data
        return Check("time zones", False, f"{exc}: install the tzdata package (pip install tzdata)")
    return Check("time zones", True, ", ".join(names))


def _zoom(settings: Settings, events) -> Check:
    uses = [e for e in events if e.spec.zoom is not None]
    if not uses:
        return Check("zoom", None, "no job file uses Zoom")
    from opsflow.zoom import zoom_from_settings

    try:
        zoom = zoom_from_settings(settings)
        token = zoom.token()
    except OpsflowError as exc:
        return Check("zoom", False, str(exc))
    needed = set(ZOOM_SCOPES["report"])
    for event in uses:
        needed |= set(ZOOM_SCOPES[event.spec.zoom.kind])
        if event.spec.recording is not None:
            needed |= set(ZOOM_SCOPES["recording"])
    granted = token.scope.split()
    missing = sorted(n for n in needed if not any(g.startswith(n) for g in granted))
    if granted and missing:
        return Check(
            "zoom",
            False,
            f"the app lacks the scopes {', '.join(missing)}: add them under Scopes in your "
            "app on the Zoom App Marketplace",
        )
    return Check(
        "zoom",
        True,
        f"token issued for account {settings.zoom_account_id}"
        + (f"; scopes cover {', '.join(sorted(needed))}" if granted else ""),
    )


def _mail(settings: Settings, events) -> Check:
    if not events:
        return Check("mail", None, "no job files")
    from opsflow.mail.transport import transport_for

    try:
        url = settings.require("smtp_url").reveal()
        settings.require("mail_from")
        transport = transport_for(url, timeout=15)
        transport.open()
        transport.close()
    except OpsflowError as exc:
        return Check("mail", False, str(exc))
    return Check(
        "mail", True, f"{mask_url(url)} accepts the connection{' and the login' if '@' in url else ''} (no mail sent)"
    )


def _staff_chat(settings: Settings) -> Check:
    """The staff chat's settings (nothing is posted: `opsflow chat test` does that)."""
    from opsflow.after.chat import chat_flavor
    from opsflow.core.config import mask_webhook_url

    try:
        url = settings.staff_webhook_url
        if not url:
            return Check(
                "staff chat", None, "OPSFLOW_STAFF_WEBHOOK_URL is not set: alerts and summaries go by mail only"
            )
        flavor = chat_flavor(url, settings.staff_webhook_format)
    except OpsflowError as exc:
        return Check("staff chat", False, str(exc))
    how = "as set" if settings.staff_webhook_format else "guessed from the host"
    return Check(
        "staff chat",
        True,
        f"{mask_webhook_url(url)} ({flavor} format, {how}); `opsflow chat test` posts a test message",
    )
