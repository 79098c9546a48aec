"""The demo's `index.html`: the seminar as it ran (timeline, one sample of each mail, the staff summary and
its chart, every message linked), built from the database and the outbox. Template: `demo_page.html.j2`.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from email.utils import getaddresses, parsedate_to_datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from opsflow.after.staff_chat import RECIPIENT as CHAT_RECIPIENT
from opsflow.core.errors import NotFoundError
from opsflow.store import Store

ASSETS = "page"  # beside index.html: the font and the charts
WEEKDAYS = "月火水木金土日"
UNITS = {"d": "日", "h": "時間", "m": "分"}

# Japanese label, English label; looked up by key, then by step kind, then by the key without its last part.
LABELS = {
    "zoom.create": ("Zoomミーティング作成", "Zoom meeting"),
    "registrants.sync": ("申込者をZoomに登録", "Registrants to Zoom"),
    "mail.invitation": ("招待メール", "Invitation"),
    "mail.reminder": ("リマインダー", "Reminder"),
    "mail.change": ("日時変更のお知らせ", "Change notice"),
    "mail.cancellation": ("開催中止のお知らせ", "Cancellation"),
    "mail.confirmation": ("受付完了のお知らせ", "Registration confirmation"),
    "speakers.request": ("ご登壇のお願い（登壇者）", "Speakers: request"),
    "speakers.rehearsal": ("リハーサルのご案内（登壇者）", "Speakers: rehearsal"),
    "speakers.materials": ("資料提出のお願い（登壇者）", "Speakers: materials"),
    "speakers.thanks": ("ご登壇の御礼（登壇者）", "Speakers: thanks"),
    "recording.fetch": ("録画リンクの取得", "Recording link"),
    "chat": ("スタッフチャットへの投稿", "Staff chat post"),
    "report.fetch": ("参加レポート取得", "Attendance report"),
    "summary.staff": ("スタッフ向け集計", "Staff summary"),
    "summary.staff.survey": ("スタッフ向け集計（アンケート後）", "Staff summary after the survey"),
    "survey.send": ("アンケート依頼", "Survey"),
    "survey.followup": ("ご欠席の方へのご連絡", "Follow-up for those who missed it"),
    "survey.remind": ("アンケートの再依頼", "Survey reminder"),
    "alert": ("スタッフへの警告", "Alert to staff"),
}
SENT_BY = {"survey.followup": "survey.send"}  # ledger keys sent by a step of another name
STEP_STATES = {"done": "完了", "failed": "失敗", "missed": "見送り", "planned": "予定", "running": "実行中",
               "cancelled": "中止"}  # fmt: skip
DELIVERY_STATES = {"sent": "送信", "failed": "失敗", "deferred": "再送待ち", "pending": "未送信",
                   "sending": "結果不明", "cancelled": "取消"}  # fmt: skip


@dataclass
class Mail:
    """One .eml file of the outbox, read for the page."""

    path: Path
    message_id: str
    subject: str
    sender: str
    to: str
    name: str  # the first recipient's display name
    address: str  # ...and address
    sent_at: datetime | None
    text: str
    attachments: list[str]
    images: list[tuple[str, bytes]]  # (file name, bytes) of the images it carries, inline ones first
    key: str = ""  # its ledger key, "" when the ledger does not know it
    charts: list[str] = field(default_factory=list)  # the images as files beside the page


@dataclass
class Kind:
    """The mails of one ledger key (`mail.invitation`, `survey.followup`, ...)."""

    key: str
    label: str
    english: str
    mails: list[Mail]
    people: list[dict]  # who it was for: name, organization, email, state
    is_summary: bool  # a staff summary: shown with its charts

    @property
    def sample(self) -> Mail | None:
        return self.mails[0] if self.mails else None


@dataclass
class Row:
    """One line of the timeline."""

    when: str
    key: str
    label: str
    english: str
    state: str
    state_label: str
    result: str
    note: str = ""
    link: str = ""  # the anchor of its mail sample


def local_day(moment: datetime, tz: ZoneInfo, *, year: bool = False) -> str:
    """`1月21日(木)`, or `2027年1月21日(木)`, in the seminar's zone."""
    local = moment.astimezone(tz)
    day = f"{local.month}月{local.day}日({WEEKDAYS[local.weekday()]})"
    return f"{local.year}年{day}" if year else day


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    """`1月21日(木) 18:00` in the seminar's zone."""
    return f"{local_day(moment, tz)} {moment.astimezone(tz):%H:%M}"


def label(key: str, kind: str = "") -> tuple[str, str]:
    """The Japanese and English names of a step or a ledger key, the reminder's timing added."""
    found = LABELS.get(key) or LABELS.get(kind)
    stem = key
    while found is None and "." in stem:
        stem = stem.rpartition(".")[0]
        found = LABELS.get(stem)
    if found is None:
        return key, key
    if stem == "alert":  # an alert names the step that went wrong
        return f"{found[0]}（{key.removeprefix('alert.')}）", f"{found[1]}: {key.removeprefix('alert.')}"
    timing = re.fullmatch(r"mail\.reminder\.(\d+)([dhm])", key)
    if timing:
        count, unit = int(timing[1]), timing[2]
        ja = "前日" if (count, unit) == (1, "d") else f"{count}{UNITS[unit]}前"
        en = f"{count}{unit} before"
        return f"{found[0]}（{ja}）", f"{found[1]}, {en}"
    return found


def read_mail(path: Path) -> Mail:
    """The parts of a .eml the page shows: headers, the plain text, attachment names, images."""
    message = message_from_bytes(path.read_bytes(), policy=default)
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else "(no plain-text part)"
    images: list[tuple[str, bytes]] = []
    parts = sorted(message.walk(), key=lambda part: part.get("Content-ID") is None)
    for part in parts:
        if part.get_content_maintype() == "image":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and all(data != seen for _, seen in images):
                images.append((part.get_filename() or f"image.{part.get_content_subtype()}", data))
    addresses = getaddresses([str(message["To"] or "")])
    try:
        sent_at = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        sent_at = None
    return Mail(
        path=path,
        message_id=str(message["Message-ID"] or "").strip(),
        subject=str(message["Subject"] or ""),
        sender=str(message["From"] or ""),
        to=str(message["To"] or ""),
        name=addresses[0][0] if addresses else "",
        address=addresses[0][1].lower() if addresses else "",
        sent_at=sent_at,
        text=text,
        attachments=[name for part in message.iter_attachments() if (name := part.get_filename())],
        images=images,
    )


@dataclass
class Run:
    """What the database holds about one seminar after the run."""

    event: Any
    tz: ZoneInfo
    steps: list
    deliveries: list
    people: dict[str, Any]  # registrants by address
    attendance: list
    answers: list
    meeting_id: str | None  # as Zoom prints it
    recording_url: str | None = None
    speakers: dict[str, dict] = field(default_factory=dict)  # the speakers with an email, by address

    @property
    def active(self) -> list:
        return [p for p in self.people.values() if p["status"] == "active"]

    @property
    def attended(self) -> int:
        return sum(1 for a in self.attendance if a["is_attended"])


def load_run(store: Store, event_id: str) -> Run:
    """One seminar's steps, deliveries, registrants, attendance and survey answers (read only)."""
    from opsflow import store as db
    from opsflow.mail.render import meeting_id_text

    with store.read() as conn:
        event = db.get_event(conn, event_id)
        if event is None:
            raise NotFoundError(f"no seminar {event_id!r} in the database: run the demo first")
        meeting = db.get_zoom_meeting(conn, event_id)
        spec = json.loads(event["spec_json"])
        speakers = {s["email"].lower(): s for s in spec["event"].get("speakers", []) if s.get("email")}
        return Run(
            event=event,
            tz=ZoneInfo(event["timezone"]),
            steps=db.list_steps(conn, [event_id]),
            deliveries=db.list_deliveries(conn, event_id),
            people={p["email"]: p for p in db.list_registrants(conn, event_id)},
            attendance=db.list_attendance(conn, event_id),
            answers=db.list_survey_responses(conn, event_id),
            meeting_id=meeting_id_text(meeting["meeting_id"]) if meeting else None,
            recording_url=meeting["recording_url"] if meeting else None,
            speakers=speakers,
        )


def write_page(store: Store, event_id: str, outbox: Path, chat_posts: list[str] | None = None) -> Path:
    """Write `outbox/index.html` (its font and charts in `outbox/page/`) for one seminar; returns its path.
    `chat_posts`: the texts the staff chat received, shown with the ledger's record of each post."""
    from jinja2 import Environment, StrictUndefined

    run = load_run(store, event_id)
    assets = outbox / ASSETS
    shutil.rmtree(assets, ignore_errors=True)
    assets.mkdir()
    font = _copy_font(assets)
    key_of = {d["message_id"]: d["message_key"] for d in run.deliveries if d["message_id"]}
    mails = [read_mail(path) for path in sorted(outbox.glob("*.eml"))]
    for mail in mails:
        mail.key = key_of.get(mail.message_id, "")
    kinds = _kinds(mails, run)
    for kind in kinds:
        for mail in kind.mails[:1] if kind.is_summary else []:
            mail.charts = _write_images(mail, kind.key, assets)

    start, end, tz = run.event["start_at"].astimezone(run.tz), run.event["end_at"].astimezone(run.tz), run.tz
    environment = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
    environment.filters["href"] = quote  # a file name as a relative link
    template = resources.files(__package__).joinpath("demo_page.html.j2").read_text(encoding="utf-8")
    html = environment.from_string(template).render(
        title=run.event["title"],
        when=f"{local_day(start, tz, year=True)} {start:%H:%M}–{end:%H:%M} {start.tzname()}",
        zone=start.tzname(),
        meeting_id=run.meeting_id,
        sender=mails[0].sender if mails else "",
        registered=len(run.active),
        attended=run.attended,
        answers=len(run.answers),
        messages=len(mails),
        failed=sum(1 for d in run.deliveries if d["state"] == "failed"),
        rows=timeline(run, {kind.key for kind in kinds if kind.mails}),
        kinds=kinds,
        chat=_chat_posts(run, chat_posts or []),
        font=f"{ASSETS}/{font.name}" if font else "",
        local_time=lambda moment: local_time(moment, tz) if moment else "",
    )
    page = outbox / "index.html"
    page.write_text(html, encoding="utf-8")
    return page


def _kinds(mails: list[Mail], run: Run) -> list[Kind]:
    """The mails grouped by ledger key, in the order they were sent; mails the ledger does not know last."""
    groups: dict[str, list[Mail]] = {}
    for mail in mails:
        groups.setdefault(mail.key, []).append(mail)
    for d in run.deliveries:
        if d["recipient"] != CHAT_RECIPIENT:
            groups.setdefault(d["message_key"], [])  # nothing in the outbox: every delivery of it failed
    kinds = []
    for key, group in groups.items():
        people = [_person(d, run.people, run.speakers) for d in run.deliveries if d["message_key"] == key]
        ja, en = label(key) if key else ("その他のメール", "Other mail")
        kinds.append(Kind(key, ja, en, group, people, key.startswith("summary.")))
    last = datetime.max.replace(tzinfo=UTC)
    kinds.sort(key=lambda k: (k.key == "", min((m.sent_at or last for m in k.mails), default=last)))
    return kinds


def _chat_posts(run: Run, texts: list[str]) -> list[dict[str, str]]:
    """Each post to the staff chat as the ledger records it (its key, state and time), with the text the
    chat received, in the order they were posted."""
    posts = sorted((d for d in run.deliveries if d["recipient"] == CHAT_RECIPIENT), key=lambda d: d["id"])
    shown = []
    for n, d in enumerate(posts):
        ja, en = label(d["message_key"].removeprefix("chat."))
        shown.append(
            {
                "key": d["message_key"],
                "label": ja,
                "english": en,
                "state": DELIVERY_STATES.get(d["state"], d["state"]),
                "when": local_time(d["sent_at"], run.tz) if d["sent_at"] else "",
                "text": texts[n] if n < len(texts) else "",
            }
        )
    return shown


def _person(delivery, people: dict[str, Any], speakers: dict[str, dict] | None = None) -> dict[str, str]:
    person = people.get(delivery["recipient"])
    speaker = (speakers or {}).get(delivery["recipient"])
    if person is None and speaker is not None:  # a speaker's own mail
        where = speaker.get("affiliation", "")
        state = delivery["state"]
        return {"name": speaker["name"], "organization": where, "email": delivery["recipient"],
                "state": "" if state == "sent" else DELIVERY_STATES.get(state, state)}  # fmt: skip
    where = " ".join(filter(None, [person["organization"], person["department"]])) if person else ""
    state = delivery["state"]
    return {
        "name": person["name"] if person else "",
        "organization": where,
        "email": delivery["recipient"],
        "state": "" if state == "sent" else DELIVERY_STATES.get(state, state),
    }


def _write_images(mail: Mail, key: str, assets: Path) -> list[str]:
    """The mail's images as files beside the page (names from the mail are made safe first)."""
    names = []
    for n, (name, data) in enumerate(mail.images):
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "image"
        target = assets / f"{key}-{n}-{safe}"
        target.write_bytes(data)
        names.append(f"{ASSETS}/{target.name}")
    return names


def timeline(run: Run, samples: set[str]) -> list[Row]:
    """Each step with its local time, state and what it did, in time order; the seminar itself and the
    survey answers (both simulated by the demo) where they happened. `samples`: keys with a mail sample."""
    tz = run.tz
    sent: dict[str, Counter] = {}
    for d in run.deliveries:
        key = d["message_key"]
        sent.setdefault(SENT_BY.get(key, key), Counter())[key, d["state"]] += 1
    rows: list[tuple[datetime, int, Row]] = []
    for step in run.steps:
        ja, en = label(step["key"], step["kind"])
        result = _step_result(step, sent.get(step["key"], Counter()), run)
        if step["last_error"]:
            result = " ・ ".join(filter(None, [result, step["last_error"]]))
        note = step["at_expr"]
        ran = step["finished_at"] or step["started_at"]
        if ran is not None and abs(ran - step["due_at"]) >= timedelta(minutes=1):
            note += f" ・ 最終実行 {local_time(ran, tz)}"
        if step["attempts"] > 1:
            note += f" ・ {step['attempts']}回実行"
        state = STEP_STATES.get(step["state"], step["state"])
        link = f"#mail-{step['key']}" if step["key"] in samples else ""
        row = Row(local_time(step["due_at"], tz), step["key"], ja, en, step["state"], state, result, note, link)
        rows.append((step["due_at"], 0, row))
    if run.attendance:
        start, end = run.event["start_at"], run.event["end_at"]
        when = f"{local_time(start, tz)}–{end.astimezone(tz):%H:%M}"
        result = f"参加 {run.attended}名（申込 {len(run.active)}名）"
        rows.append((start, 1, Row(when, "", "セミナー当日（Zoom）", "The seminar", "held", "開催", result, "模擬")))
    if run.answers:
        first = min(a["imported_at"] for a in run.answers)
        result = f"回答 {len(run.answers)}件"
        row = Row(
            local_time(first, tz), "", "アンケート回答の取り込み", "Survey answers", "held", "取込", result, "模擬"
        )
        rows.append((first, 1, row))
    return [row for _, _, row in sorted(rows, key=lambda r: (r[0], r[1]))]


def _step_result(step, sent: Counter, run: Run) -> str:
    """What a step did, in a few words: the meeting, the people, the mails by state."""
    if step["state"] != "done" and not sent:
        return ""
    if step["kind"] == "zoom.create":
        return f"ミーティングID {run.meeting_id}" if run.meeting_id else ""
    if step["kind"] == "registrants.sync":
        in_zoom = sum(1 for p in run.active if p["zoom_registrant_id"])
        return f"申込者 {len(run.active)}名 ・ Zoom登録 {in_zoom}名"
    if step["kind"] == "report.fetch":
        return f"記録 {len(run.attendance)}名 ・ うち参加 {run.attended}名"
    if step["kind"] == "recording.fetch":
        return "録画の共有リンクを保存" if run.recording_url else ""
    parts = []
    keys = sorted({key for key, _ in sent}, key=lambda key: (key != step["key"], key))
    for key in keys:  # the step's own mail first, then what else it sent (the survey step: the follow-up)
        states = [f"{DELIVERY_STATES.get(s, s)} {n}通" for (k, s), n in sorted(sent.items()) if k == key]
        prefix = f"{label(key)[0]}: " if len(keys) > 1 else ""
        parts.append(prefix + " ・ ".join(states))
    return " ／ ".join(parts)


def _copy_font(assets: Path) -> Path | None:
    """IPAexGothic (the charts' font) beside the page, so that Japanese shows on a machine without CJK
    fonts; None (the page falls back to the system's fonts) when its package is not installed."""
    from opsflow.after.chart import bundled_font_path

    font = bundled_font_path()
    if font is None:
        return None
    for extra in font.parent.glob("*.txt"):  # the font's licence travels with it
        shutil.copyfile(extra, assets / extra.name)
    return Path(shutil.copyfile(font, assets / font.name))
