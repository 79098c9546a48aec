"""Sending a speaker mail through the delivery ledger (the runner's step and `opsflow send`), and previewing one."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from opsflow.core.config import Settings
from opsflow.core.errors import NotFoundError, OpsflowError
from opsflow.core.jobspec import Event
from opsflow.mail.ledger import BatchReport
from opsflow.mail.speakers.messages import SpeakerMessages
from opsflow.mail.speakers.panelists import Panelists, created_meeting, ensure_panelists, is_webinar
from opsflow.mail.speakers.people import STEPS, addressed_speakers, speaker_step
from opsflow.store import Store

log = logging.getLogger("opsflow.mail.speakers")

LINKED = ("speakers.request", "speakers.rehearsal")  # mails that carry the speaker's link


@dataclass
class SpeakerSend:
    """What a speaker step did: the batch, and for a webinar what happened to the panelists."""

    report: BatchReport
    panelists: Panelists | None = None


def _step_key(event: Event, name: str) -> str:
    key = speaker_step(name)
    if key is None:
        raise NotFoundError(f"{name!r} is no speaker mail: use one of {', '.join(STEPS)}")
    speakers = event.spec.speakers
    if key == "speakers.rehearsal" and speakers.rehearsal is None:
        raise NotFoundError(
            f"{event.id} has no rehearsal: set [speakers] rehearsal (when it is held) in its job file first"
        )
    if key == "speakers.materials" and speakers.materials_due is None:
        raise NotFoundError(f"{event.id} has no materials deadline: set [speakers] materials_due in its job file first")
    if not addressed_speakers(event):
        raise NotFoundError(
            f"{event.id} has no speaker with an email, so nobody gets {key}: "
            'add email = "..." to its [[event.speakers]]'
        )
    return key


def send_speakers(
    store: Store,
    settings: Settings,
    event: Event,
    name: str,
    now: datetime,
    *,
    to: str | None = None,
    resend: bool = False,
    dry_run: bool = False,
    transport=None,
    make_zoom: Callable | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> SpeakerSend:
    """Send a speaker mail (`speakers.request`, ... or `speaker_request`, ...) to each speaker with an email
    who has not had it; with `to`, to that speaker only (the step's state is left alone). For a webinar the
    request and the rehearsal notice first make the speakers panelists (not in a dry run)."""
    from opsflow.mail.send import deliver

    key = _step_key(event, name)
    speakers = addressed_speakers(event)
    recipients = [a.key for a in speakers]
    if to is not None:
        address = to.strip().lower()
        if address not in recipients:
            raise NotFoundError(
                f"{address} is not a speaker of {event.id} with an email; the speakers are: {', '.join(recipients)}"
            )
        recipients = [address]
    panelists = None
    if key in LINKED and not dry_run and is_webinar(store, event):
        if make_zoom is None:
            raise OpsflowError("the speakers' panelist links need Zoom here: pass make_zoom")
        panelists = ensure_panelists(store, make_zoom(), event, remove_gone=key == "speakers.request" and to is None)
        log.info("%s: %s", event.id, panelists.text())
    build = SpeakerMessages(
        store, settings, event, key, now, links=panelists.links if panelists else None, preview=dry_run
    )
    report = deliver(
        store,
        settings,
        event,
        key,
        recipients,
        build,
        build.sender.addr_spec,
        now,
        to=to,
        resend=resend,
        dry_run=dry_run,
        transport=transport,
        clock=clock,
        sleep=sleep,
        progress=progress,
        should_stop=should_stop,
    )
    return SpeakerSend(report, panelists)


def preview_speaker(
    store: Store, settings: Settings, event: Event, name: str, now: datetime, to: str | None = None, make_zoom=None
) -> tuple[EmailMessage, str]:
    """The speaker mail `name` as one speaker (the first by default) would get it, and its language (the
    seminar's); sends and records nothing. A webinar's panelist links are read from Zoom when it answers."""
    from email import message_from_bytes
    from email.policy import default

    key = _step_key(event, name)
    links: dict[str, str] = {}
    if key in LINKED and make_zoom is not None and is_webinar(store, event) and created_meeting(store, event):
        from opsflow.zoom.panelists import list_panelists

        try:
            webinar = created_meeting(store, event)
            assert webinar is not None
            links = {p.email.lower(): p.join_url for p in list_panelists(make_zoom(), webinar["meeting_id"])}
        except OpsflowError as exc:  # a preview without the link still shows the mail
            log.warning("%s: the panelist links could not be read from Zoom: %s", event.id, exc)
    build = SpeakerMessages(store, settings, event, key, now, links=links, preview=True)
    address = (to or addressed_speakers(event)[0].key).strip().lower()
    return message_from_bytes(build(address).as_bytes(), policy=default), event.spec.event.language
