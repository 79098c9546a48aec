"""Mail to registrants: who gets which message, built from templates, sent through the ledger.

`send_mail` is what both `opsflow send` and the mail steps call. Before a mail step the registrants
are synced again (the CSV, and Zoom registration), so late registrations are included.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from opsflow import store as db
from opsflow.core.config import Settings
from opsflow.core.errors import InputError, NotFoundError
from opsflow.core.jobspec import Event
from opsflow.mail.context import (
    SAMPLE_EMAIL,
    SAMPLE_RECIPIENT,
    SAMPLE_RECIPIENT_EN,
    event_context,
    message_context,
    organizer_context,
    recipient_context,
    survey_context,
)
from opsflow.mail.ics import IcsTemplate, ics_template
from opsflow.mail.ledger import BatchReport, Pace, Recipients, send_batch
from opsflow.mail.message import Attachment, Outgoing, build_message, parse_sender
from opsflow.mail.render import Renderer, meeting_id_text, renderer_for
from opsflow.store import Store

REGISTRANT_KINDS = ("invitation", "confirmation", "reminder", "change", "cancellation")
ICS_KINDS = ("invitation", "confirmation", "reminder", "change", "cancellation")
PREVIEW_SENDER = "opsflow <opsflow@localhost>"
# what a message needs of a registrant (recipient_context, survey_context)
PERSON_COLUMNS = (
    "email",
    "name",
    "organization",
    "department",
    "fields_json",
    "join_url",
    "survey_token",
    "language",
)
LANGUAGES = ("ja", "en")  # the languages a registrant can be mailed in (templates/ja, templates/en)


@dataclass(frozen=True)
class Target:
    """One message to send: its ledger key and its template kind."""

    message_key: str
    kind: str


# After the event: fixed ledger keys, one per message (the survey step sends two of them).
AFTER_EVENT = {
    "survey": Target("survey.send", "survey"),
    "followup": Target("survey.followup", "followup"),
    "survey_reminder": Target("survey.remind", "survey_reminder"),
    "survey.remind": Target("survey.remind", "survey_reminder"),
    "survey.send": Target("survey.send", "survey"),
    "survey.followup": Target("survey.followup", "followup"),
    "summary": Target("summary.staff", "summary"),
    "summary.staff": Target("summary.staff", "summary"),
    "summary.staff.survey": Target("summary.staff.survey", "summary"),
}
STAFF_KINDS = ("summary", "alert")
SURVEY_KINDS = ("survey", "followup", "survey_reminder")


def resolve_target(store: Store, event: Event, name: str) -> Target:
    """`invitation`, `reminder`, `change`, `cancellation`, `survey`, `followup`, `survey_reminder`,
    `summary`, or a step key such as `mail.reminder.1d`."""
    if name in AFTER_EVENT:
        return AFTER_EVENT[name]
    if re.fullmatch(r"mail\.change\.\d+", name):  # a change notice of an earlier move, by its ledger key
        return Target(name, "change")
    if name == "mail.cancellation":
        return Target(name, "cancellation")
    with store.read() as conn:
        steps = [s for s in db.list_steps(conn, [event.id]) if s["kind"].startswith("mail.")]
        row = db.get_event(conn, event.id)
    by_key = {s["key"]: s for s in steps}
    if name in by_key:
        return Target(name, by_key[name]["kind"].removeprefix("mail."))
    if name == "change":  # the notice of the latest move (SEQUENCE also rises for changes that send none)
        notices = sorted((int(k.rsplit(".", 1)[1]), k) for k in by_key if re.fullmatch(r"mail\.change\.\d+", k))
        return Target(notices[-1][1] if notices else f"mail.change.{row['sequence']}", "change")
    if name == "cancellation":
        return Target("mail.cancellation", "cancellation")
    matches = [s["key"] for s in steps if s["kind"] == f"mail.{name}"]
    if len(matches) == 1:
        return Target(matches[0], name)
    if len(matches) > 1:
        raise InputError(f"{event.id} has several {name} mails: name one of {', '.join(matches)}")
    known = ", ".join([*by_key, "change", "cancellation", "survey", "followup", "survey_reminder", "summary"])
    raise NotFoundError(f"{event.id} has no mail {name!r}: use one of {known}")


def recipients_for(store: Store, event: Event, target: Target) -> list[str]:
    """Who gets it, in the roster's order: active registrants; a change notice only those already
    invited; the confirmation those first seen since it was planned, until the invitation goes out
    (see RosterRecipients); the survey the attendees; the follow-up the others; the survey reminder attendees who
    have not answered; the summary the staff list."""
    if target.kind in STAFF_KINDS:
        return [a.lower() for a in event.spec.summary.to] if event.spec.summary else []
    if target.kind not in SURVEY_KINDS:
        with store.read() as conn:
            return [email for page in RosterRecipients(event.id, target).pages(conn, 1000) for email in page]
    with store.read() as conn:
        ids = db.registrant_ids_by_email(conn, event.id)
        attended = {a["registrant_id"] for a in db.list_attendance(conn, event.id) if a["is_attended"]}
        if not attended and not db.list_report_rows(conn, event.id):
            raise NotFoundError(
                f"{event.id} has no attendance yet: run `opsflow report fetch {event.id}` "
                "after the seminar, then send the survey"
            )
        if target.kind == "followup":
            return [p for p in ids if ids[p] not in attended]
        attendees = [p for p in ids if ids[p] in attended]
        if target.kind == "survey":
            return attendees
        answered = {r["registrant_id"] for r in db.list_survey_responses(conn, event.id)}
    return [p for p in attendees if ids[p] not in answered]


class RosterRecipients(Recipients):
    """The recipients of a registrant mail read from the store as the batch needs them, a page at a
    time in the roster's order, instead of a list as long as the roster: the active registrants,
    for a change notice only those already sent the invitation.

    The confirmation (受付完了) goes to those first seen at or after its step was planned (switching it
    on, or upgrading, mails nobody registered before), and only while no invitation has gone out and
    none is theirs: the invitation says all a confirmation would, so a late registrant gets it alone."""

    def __init__(self, event_id: str, target: Target) -> None:
        self.event_id = event_id
        self.invited = "mail.invitation" if target.kind == "change" else None
        self.unconfirmed = target.message_key if target.kind == "confirmation" else None

    def pages(self, conn, size: int) -> Iterator[list[str]]:
        after_id = 0
        while rows := db.active_registrants_page(
            conn, self.event_id, after_id, size, invited=self.invited, unconfirmed=self.unconfirmed
        ):
            after_id = rows[-1].id
            yield [row.email for row in rows]

    def among(self, conn, emails: list[str]) -> set[str]:
        return db.active_registrants_among(
            conn, self.event_id, emails, invited=self.invited, unconfirmed=self.unconfirmed
        )


@dataclass(frozen=True)
class Language:
    """What every recipient mailed in one language shares, prepared once per batch: the templates,
    the seminar's and the message's variables (dates written in that language), the .ics."""

    code: str
    renderer: Renderer
    event: dict
    message: dict
    ics: IcsTemplate | None


class MessageFactory:
    """Builds the message for one recipient; the templates and the .ics are prepared once per batch,
    once for each language the registrants are mailed in, and each person's message is rendered in
    their own language (`registrants.language`, else the seminar's). Staff mails are in the seminar's."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        event: Event,
        target: Target,
        send_at: datetime,
        renderer: Renderer | None = None,
        *,
        preview: bool = False,
    ) -> None:
        self.store, self.settings, self.event, self.target = store, settings, event, target
        self.send_at = send_at
        self.preview = preview
        self.renderer = renderer or renderer_for(
            event.spec.event.language, event_templates(event), settings.templates_dir
        )
        sender = settings.mail_from or (PREVIEW_SENDER if preview else settings.require("mail_from"))
        self.sender = parse_sender(sender)
        with store.read() as conn:
            self.meeting = _as_dict(db.get_zoom_meeting(conn, event.id))
            self.event_row = db.get_event(conn, event.id)
        previous = None
        if target.kind == "change" and self.event_row["previous_start_at"]:
            previous = (self.event_row["previous_start_at"], self.event_row["previous_end_at"])
        self.previous = previous
        self.attachments: tuple[Attachment, ...] = ()
        self.summary = None
        self.alert: dict | None = None
        if target.kind == "summary":
            from opsflow.after.summary import staff_summary

            stage = "survey" if target.message_key.endswith(".survey") else "report"
            self.summary, self.attachments = staff_summary(store, event, stage)
        self._cache: dict[str, dict] = {}
        # what every recipient shares, computed once per batch (and per language)
        self._organizer = organizer_context(settings)
        self.language = event.spec.event.language
        self._languages: dict[str, Language] = {}
        self.ics = self._prepare(self.language, self.renderer).ics
        if target.kind not in STAFF_KINDS:
            with store.read() as conn:
                chosen = db.registrant_languages(conn, event.id)
            for code in sorted(chosen & set(LANGUAGES) - {self.language}):
                self._check(self._prepare(code))  # a template error stops the batch before anything is sent

    def _prepare(self, code: str, renderer: Renderer | None = None) -> Language:
        """The batch's templates, variables and .ics in language `code`, prepared on first use."""
        prepared = self._languages.get(code)
        if prepared is None:
            ics_attached = self.target.kind in ICS_KINDS
            prepared = self._languages[code] = Language(
                code,
                renderer or renderer_for(code, event_templates(self.event), self.settings.templates_dir),
                event_context(
                    self.event, self.meeting, previous=self.previous, ics_attached=ics_attached, language=code
                ),
                message_context(self.target.kind, self.event, self.send_at, code),
                # the .ics is built once; each recipient's copy carries their own join link (see __call__)
                self._ics(code) if ics_attached else None,
            )
        return prepared

    def _check(self, language: Language) -> None:
        """Render the batch's kind in `language` for a sample person: the send checks the first
        recipient's message before anything is claimed, and this the other language's templates."""
        sample = {**(SAMPLE_RECIPIENT if language.code == "ja" else SAMPLE_RECIPIENT_EN), "language": language.code}
        language.renderer.render(self.target.kind, self.context(SAMPLE_EMAIL, sample, language))

    def language_of(self, person: dict) -> Language:
        """The prepared language a person is mailed in: their own, else the seminar's (always the
        seminar's for staff mails)."""
        code = person.get("language")
        if not code or code not in LANGUAGES or self.target.kind in STAFF_KINDS:
            code = self.language
        # prepared already, unless chosen after the batch began (by an import running alongside)
        return self._languages.get(code) or self._prepare(code)

    def _ics(self, language: str) -> IcsTemplate:
        meeting = self.meeting if self.meeting and self.meeting.get("state") == "created" else None
        return ics_template(
            self.event,
            join_url=meeting["join_url"] if meeting else None,
            meeting_id=meeting_id_text(meeting["meeting_id"]) if meeting else None,
            passcode=meeting.get("passcode") if meeting else None,
            sequence=self.event_row["sequence"],
            now=self.send_at,
            cancelled=self.target.kind == "cancellation",
            language=language,
        )

    def prefetch(self, emails: list[str]) -> None:
        """Load the next recipients in one query (the send loop calls this once per chunk)."""
        if self.target.kind in STAFF_KINDS:
            return
        self._cache.clear()
        with self.store.read() as conn:
            rows = db.registrants_by_email(conn, self.event.id, emails, PERSON_COLUMNS)
        self._cache.update({e: dict(r) for e, r in rows.items()})

    def person(self, email: str) -> dict:
        if self.target.kind in STAFF_KINDS:
            return {
                "email": email,
                "name": "",
                "organization": "",
                "department": "",
                "fields_json": "{}",
                "join_url": None,
            }
        row = self._cache.get(email)
        if row is None:
            with self.store.read() as conn:
                found = db.get_registrant(conn, self.event.id, email)
            if found is None and not self.preview:
                raise NotFoundError(f"{email} is not registered for {self.event.id}")
            # a dry run may name people the CSV import has not stored yet: checked with a sample's details
            row = dict(found) if found is not None else {**SAMPLE_RECIPIENT, "email": email}
            if len(self._cache) > 1000:
                self._cache.clear()
            self._cache[email] = row
        return row

    def context(self, email: str, person: dict | None = None, language: Language | None = None) -> dict:
        person = person or self.person(email)
        recipient = recipient_context(person, self.meeting)
        language = language or self.language_of(person)
        return {
            "event": language.event,
            "recipient": recipient,
            "organizer": self._organizer,
            "message": language.message,
            "survey": survey_context(
                self.target.kind, self.event.spec.survey, recipient, person.get("survey_token") or "", self.meeting
            ),
            "summary": self.summary,
            "alert": self.alert,
        }

    def __call__(self, email: str) -> Outgoing:
        person = self.person(email)
        language = self.language_of(person)
        context = self.context(email, person, language)
        rendered = language.renderer.render(self.target.kind, context)
        attachments = self.attachments
        if language.ics is not None:  # the link the body gives this person, so the calendar entry matches it
            ics = language.ics.render(context["recipient"]["join_url"])
            attachments = (Attachment("seminar.ics", "text/calendar", ics), *attachments)
        return build_message(
            rendered,
            sender=self.sender,
            to_email=email,
            to_name=person["name"],
            now=self.send_at,
            reply_to=self.settings.mail_reply_to,
            list_unsubscribe=self.settings.list_unsubscribe,
            attachments=attachments,
        )


def send_mail(
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
    sync: bool = True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int, int], None] | None = None,
    alert: dict | None = None,
    should_stop: Callable[[], bool] | None = None,
    record_step: bool = True,
) -> BatchReport:
    """Send one of the event's mails to everyone who should have it and has not had it.

    `name` `alert:STEP` sends the failure alert for STEP to the staff list (with `alert` as its
    variables); `should_stop()` is asked between messages (a scheduler shutting down). With `to`, only
    that person is sent to, and the step's state is left alone."""
    if name.startswith("alert:"):
        target = Target(f"alert.{name.removeprefix('alert:')}", "alert")
    else:
        target = resolve_target(store, event, name)
    # registrants are synced before a registrant mail, so late registrations are included; not for a
    # cancelled seminar (its Zoom meeting is gone) nor after the event (the report decides who gets what)
    syncs = sync and _syncs_first(event, target)
    if syncs and not dry_run:
        from opsflow.registrants import sync_registrants

        sync_registrants(store, make_zoom or _no_zoom, event, now)
    recipients: Recipients | list[str]
    if dry_run:
        recipients = planned_recipients(store, event, target, now, sync=sync)
    elif target.kind in STAFF_KINDS or target.kind in SURVEY_KINDS:
        recipients = recipients_for(store, event, target)
    else:
        recipients = RosterRecipients(event.id, target)
    if to is not None:
        address = to.strip().lower()
        if not _is_recipient(store, recipients, address):
            why = (
                "registered before the confirmation was planned, or the invitation has gone out"
                if target.kind == "confirmation"
                else "or not invited yet for a change notice"
            )
            raise NotFoundError(
                f"{address} does not get {target.message_key} of {event.id} (not an active registrant, {why})"
            )
        recipients = [address]
    factory = MessageFactory(store, settings, event, target, now, preview=dry_run)
    factory.alert = alert
    return deliver(
        store,
        settings,
        event,
        target.message_key,
        recipients,
        factory,
        factory.sender.addr_spec,
        now,
        to=to,
        resend=resend,
        dry_run=dry_run,
        transport=transport,
        clock=clock,
        sleep=sleep,
        progress=progress,
        should_stop=should_stop,
        record_step=record_step,
    )


def deliver(
    store: Store,
    settings: Settings,
    event: Event,
    message_key: str,
    recipients: Recipients | list[str],
    build: Callable[[str], Outgoing],
    sender: str,
    now: datetime,
    *,
    to: str | None,
    resend: bool,
    dry_run: bool,
    transport=None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    record_step: bool = True,
) -> BatchReport:
    """Send one batch through the ledger (the mail server of the settings unless `transport` is given,
    paced by OPSFLOW_MAIL_RATE), then record its step, when it is one of the seminar's and the batch was
    for everyone: what `send_mail` and the speakers' mails share."""
    if transport is None and not dry_run:
        from opsflow.mail.transport import transport_for

        transport = transport_for(settings.require("smtp_url").reveal(), timeout=settings.smtp_timeout)
    report = send_batch(
        store,
        transport,
        event_id=event.id,
        message_key=message_key,
        recipients=recipients,
        build=build,
        sender=sender,
        now=lambda: now,
        resend=resend,
        dry_run=dry_run,
        pace=Pace(settings.mail_rate, clock, sleep),
        progress=progress,
        should_stop=should_stop,
        cancel_others=to is None,
    )
    if record_step and to is None and not dry_run and message_key in _step_keys(store, event):
        record_mail_step(store, event, message_key, [report], now)
    return report


def _is_recipient(store: Store, recipients: Recipients | list[str], address: str) -> bool:
    if isinstance(recipients, list):
        return address in recipients
    with store.read() as conn:
        return bool(recipients.among(conn, [address]))


def _syncs_first(event: Event, target: Target) -> bool:
    return (
        event.spec.registrants is not None
        and target.kind in REGISTRANT_KINDS
        and target.kind != "cancellation"
        and not event.spec.event.cancelled
    )


def planned_recipients(
    store: Store, event: Event, target: Target | str, now: datetime, *, sync: bool = True
) -> list[str]:
    """Who the mail would go to if it were sent now, for dry runs: with `sync`, as the real send
    imports the CSV first (read, nothing written). People who registered on Zoom's own page since the
    last sync are seen only by the real send."""
    if isinstance(target, str):
        target = resolve_target(store, event, target)
    recipients = recipients_for(store, event, target)
    if not (sync and _syncs_first(event, target)):
        return recipients
    from opsflow.registrants import import_people, scan_event_csv

    imported = import_people(store, event.id, scan_event_csv(event), now, dry_run=True)
    gone = set(imported.cancelled)
    kept = [r for r in recipients if r not in gone]
    if target.kind == "change":  # only people already invited get a change notice
        return kept
    have = set(kept)
    if target.kind == "confirmation":  # only people new to the store; none once the invitation went out
        with store.read() as conn:
            went = db.invitation_went(conn, event.id, now)
        return kept + ([] if went else [e for e in imported.added if e not in have])
    return kept + [e for e in (*imported.added, *imported.reactivated) if e not in have]


def record_mail_step(store: Store, event: Event, step_key: str, reports: list[BatchReport], now: datetime) -> None:
    """A mail step is planned again while the ledger still holds messages to send (deferred by the
    server, or left by a stop), retried when the first is due; failed while someone's message was
    refused or is ambiguous, in this run or an earlier one (until resolved); done when everyone got it."""
    failed = sum(len(r.failed) + len(r.failed_before) for r in reports)
    ambiguous = sum(len(r.ambiguous) for r in reports)
    with store.read() as conn:
        waiting, earliest = db.waiting_deliveries(conn, event.id, [r.message_key for r in reports])
    problems = [
        f"{failed} failed" if failed else "",
        f"{ambiguous} ambiguous" if ambiguous else "",
        f"{waiting} waiting to be sent again" if waiting else "",
    ]
    error = ", ".join(p for p in problems if p) or None
    state = "planned" if waiting else "failed" if failed or ambiguous else "done"
    with store.begin() as conn:
        db.finish_step(conn, event.id, step_key, state, now, error)
        if state == "planned":
            step = db.get_step(conn, event.id, step_key)
            db.update_step(conn, step["id"], {"retry_at": max(earliest or now, now)}, now)


def _step_keys(store: Store, event: Event) -> set[str]:
    with store.read() as conn:
        return {s["key"] for s in db.list_steps(conn, [event.id])}


def event_templates(event: Event):
    """The seminar's own template folder (`[event] templates`, relative to the job file), if any."""
    folder = event.spec.event.templates
    return event.path.parent / folder if folder else None


def preview_message(
    store: Store, settings: Settings, event: Event, name: str, now: datetime, to: str | None = None
) -> EmailMessage:
    """The message `name` as one recipient would get it (the first active registrant by default, or a
    sample person when there is nobody yet). Sends and records nothing."""
    return preview_in_language(store, settings, event, name, now, to)[0]


def preview_in_language(
    store: Store, settings: Settings, event: Event, name: str, now: datetime, to: str | None = None
) -> tuple[EmailMessage, str]:
    """`preview_message`, and the language the recipient is mailed in (ja or en)."""
    target = resolve_target(store, event, name)

    factory = MessageFactory(store, settings, event, target, now, preview=True)
    if to is None:
        people = recipients_for(store, event, target) or recipients_for(store, event, Target("", "invitation"))
        if not people:
            from opsflow.mail.context import SAMPLE_EMAIL, SAMPLE_RECIPIENT

            factory._cache[SAMPLE_EMAIL] = dict(SAMPLE_RECIPIENT)
            people = [SAMPLE_EMAIL]
        to = people[0]
    address = to.strip().lower()
    message = message_from_bytes(factory(address).as_bytes(), policy=default)
    return message, factory.language_of(factory.person(address)).code


def check_templates(settings: Settings, event: Event, steps) -> list[str]:
    """Render every template the seminar's steps use, with a sample recipient; raise TemplateError on
    the first that fails. Returns the kinds checked."""
    from opsflow.mail.context import sample_context

    renderers = [renderer_for(event.spec.event.language, event_templates(event), settings.templates_dir)]
    # the other language too when a folder of the seminar's or the user's has its templates: a registrant
    # may choose it (the built-in set is checked by opsflow's own tests)
    for code in LANGUAGES:
        own = [f for f in (event_templates(event), settings.templates_dir) if f is not None and (f / code).is_dir()]
        if code != event.spec.event.language and own:
            renderers.append(renderer_for(code, event_templates(event), settings.templates_dir))
    kinds = {s.kind.removeprefix("mail.") for s in steps if s.kind.startswith("mail.")}
    kinds |= {"change", "cancellation"} if kinds else set()
    if any(s.kind.startswith("survey.") for s in steps):
        kinds |= {"survey", "followup", "survey_reminder"}
    if any(s.kind == "summary.staff" for s in steps):
        kinds.add("summary")
    if event.spec.summary is not None:
        kinds.add("alert")
    for renderer in renderers:
        for kind in sorted(kinds):
            renderer.render(kind, sample_context(kind, event, settings, language=renderer.language))
    from opsflow.mail.speakers import check_speaker_templates  # the speakers' own, in the seminar's language

    return sorted(kinds) + check_speaker_templates(renderers[0], settings, event, steps)


def _as_dict(row) -> dict | None:
    return dict(row) if row is not None else None


def _no_zoom():
    raise InputError("registrant sync needs Zoom here: pass make_zoom")
