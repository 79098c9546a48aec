"""The staff chat: failure alerts and the staff summary POSTed to an incoming webhook, Slack- or Teams-style.

Slack's format (`{"text", "blocks"}`) also suits Mattermost, Rocket.Chat and LoGo Chat; Teams (and its
Workflows) take an Adaptive Card. The webhook URL is a secret, its path the credential: no text leaves
this module with it unmasked, not even requests' or urllib3's.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from opsflow.core.config import MASK, RedactingFilter, Secret, mask_webhook_url, webhook_secret_parts
from opsflow.core.errors import ChatError, ConfigError

log = logging.getLogger(__name__)

Flavor = Literal["slack", "teams"]
Severity = Literal["alert", "info"]

URL_SETTING = "OPSFLOW_STAFF_WEBHOOK_URL"
FORMAT_SETTING = "OPSFLOW_STAFF_WEBHOOK_FORMAT"
# Hosts of Microsoft's webhooks: Teams connectors (retired, still seen) and Workflows (Power Automate).
TEAMS_HOSTS = ("webhook.office.com", "outlook.office.com", "logic.azure.com", "powerplatform.com")

# Slack: header 150 characters, section text 3,000, 10 fields of 2,000, 50 blocks; a message's blocks are
# refused well before the 40,000 characters of `text` (about 13,000 in practice), so stay under 12,000.
SLACK_HEADER_MAX, SLACK_SECTION_MAX, SLACK_FIELD_MAX, SLACK_FIELDS_MAX, SLACK_BLOCKS_MAX = 150, 3000, 2000, 10, 50
SLACK_TEXT_MAX, SLACK_BUDGET = 3000, 12_000
TEAMS_BUDGET = 27_000  # bytes; Teams refuses a message over 28 KB
DETAIL_MAX = 1500

BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0  # seconds: 1, 2, 4 ... between attempts
RETRY_AFTER_MAX = 30.0  # a longer Retry-After is cut to this: a runner should not sleep for minutes

FOOTER = {"ja": "opsflow からの自動通知です。", "en": "Sent automatically by opsflow."}
CUT = {"ja": "（長いため一部を省略しました）", "en": "(shortened: too long for the chat)"}
SEPARATOR = {"ja": "：", "en": ": "}
LINK_LABEL = {"ja": "詳細を見る", "en": "Open"}


@dataclass(frozen=True)
class ChatMessage:
    """One chat message, whatever the service: a title, lines of text, then label/value fields, then
    `detail` (shown as preformatted text, e.g. an error), `notes` after it, and a link as a button."""

    title: str
    lines: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    detail: str = ""
    notes: tuple[str, ...] = ()
    link: str | None = None
    link_label: str = ""
    severity: Severity = "info"
    language: str = "ja"
    is_cut: bool = False  # set when parts were left out to fit the service's size limit

    @property
    def text(self) -> str:
        """The whole message as plain text (Slack's `text`, which chats without blocks show)."""
        sep = SEPARATOR.get(self.language, ": ")
        parts = [self.title, *self.lines, *(f"{label}{sep}{value}" for label, value in self.fields)]
        parts += [self.detail] if self.detail else []
        parts += list(self.notes)
        if self.link:
            parts.append(f"{self.link_label or LINK_LABEL.get(self.language, 'Open')}{sep}{self.link}")
        if self.is_cut:
            parts.append(CUT.get(self.language, CUT["en"]))
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class ChatResult:
    """What the webhook answered. `target` is the URL as it may be shown (`https://host/***`)."""

    target: str
    flavor: Flavor
    status: int
    attempts: int
    waits: tuple[float, ...] = ()


# --- which service ---------------------------------------------------------------------------------


def chat_flavor(url: Secret | str, override: str | None = None) -> Flavor:
    """`teams` for Microsoft's webhook hosts, else `slack`; `override` (the OPSFLOW_STAFF_WEBHOOK_FORMAT
    setting) wins when set."""
    if override:
        value = override.strip().lower()
        if value not in ("slack", "teams"):
            raise ConfigError(f"{FORMAT_SETTING}={override!r} is not a chat format: put slack or teams")
        return "teams" if value == "teams" else "slack"
    try:
        host = (urlsplit(_reveal(url)).hostname or "").lower()
    except ValueError:  # a broken URL: post_chat says so
        host = ""
    return "teams" if any(host == h or host.endswith("." + h) for h in TEAMS_HOSTS) else "slack"


# --- the JSON bodies -------------------------------------------------------------------------------


def chat_payload(message: ChatMessage, flavor: Flavor) -> dict[str, Any]:
    """The JSON body for `flavor`, cut down (details first, then notes and lines) to the service's limits."""
    build, budget = (_slack_payload, SLACK_BUDGET) if flavor == "slack" else (_teams_payload, TEAMS_BUDGET)
    while True:
        payload = build(message)
        smaller = _shrink(message) if _size(payload, flavor) > budget else None
        if smaller is None:
            return payload
        message = smaller


def _size(payload: dict[str, Any], flavor: Flavor) -> int:
    if flavor == "slack":  # Slack counts characters of the blocks
        return len(json.dumps(payload["blocks"], ensure_ascii=False))
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def _shrink(message: ChatMessage) -> ChatMessage | None:
    """A shorter message (the detail halved, then notes, lines and fields left out, the rest cut), or None
    when nothing is left to leave out."""
    if len(message.detail) > 200:
        return replace(message, detail=_cut(message.detail, len(message.detail) // 2), is_cut=True)
    if message.notes:
        return replace(message, notes=message.notes[:-1], is_cut=True)
    if len(message.lines) > 1:
        return replace(message, lines=message.lines[:-1], is_cut=True)
    if any(len(value) > 200 for _, value in message.fields):
        return replace(message, fields=tuple((k, _cut(v, 200)) for k, v in message.fields), is_cut=True)
    if len(message.fields) > 1:
        return replace(message, fields=message.fields[:-1], is_cut=True)
    if len(message.title) > SLACK_HEADER_MAX or any(len(line) > 500 for line in message.lines):
        lines = tuple(_cut(line, 500) for line in message.lines)
        return replace(message, title=_cut(message.title, SLACK_HEADER_MAX), lines=lines, is_cut=True)
    return None


def _slack_payload(message: ChatMessage) -> dict[str, Any]:
    header = ("⚠️ " if message.severity == "alert" else "") + message.title
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(header, SLACK_HEADER_MAX), "emoji": True}}
    ]
    blocks += [_section(chunk) for chunk in _chunks([_escape(line) for line in message.lines])]
    fields = [
        {"type": "mrkdwn", "text": _cut(f"*{_escape(label)}*\n{_escape(value)}", SLACK_FIELD_MAX)}
        for label, value in message.fields
    ]
    for start in range(0, len(fields), SLACK_FIELDS_MAX):
        blocks.append({"type": "section", "fields": fields[start : start + SLACK_FIELDS_MAX]})
    if message.detail:
        blocks.append(_section("```" + _escape(message.detail.replace("```", "'''")) + "```"))
    blocks += [_section(chunk) for chunk in _chunks([_escape(note) for note in message.notes])]
    if message.link:
        label = message.link_label or LINK_LABEL.get(message.language, "Open")
        target = message.link.replace("|", "%7C").replace(">", "%3E")
        blocks.append(_section(f"<{target}|{_escape(label)}>"))
    footer = FOOTER.get(message.language, FOOTER["en"]) + (CUT.get(message.language, "") if message.is_cut else "")
    blocks = blocks[: SLACK_BLOCKS_MAX - 1]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _escape(footer)}]})
    return {"text": _cut(_escape(message.text), SLACK_TEXT_MAX), "blocks": blocks}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SLACK_SECTION_MAX)}}


def _chunks(lines: Sequence[str]) -> Iterator[str]:
    """Lines joined into texts of at most a section's length, split between lines."""
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > SLACK_SECTION_MAX:
            yield "\n".join(chunk)
            chunk = []
        chunk.append(line)
    if chunk:
        yield "\n".join(chunk)


def _escape(text: str) -> str:
    """Slack's three control characters, as its mrkdwn wants them."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _teams_payload(message: ChatMessage) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": message.title,
            "size": "Medium",
            "weight": "Bolder",
            "color": "Attention" if message.severity == "alert" else "Default",
            "wrap": True,
        }
    ]
    body += [{"type": "TextBlock", "text": line, "wrap": True, "spacing": "Small"} for line in message.lines]
    if message.fields:
        body.append({"type": "FactSet", "facts": [{"title": label, "value": value} for label, value in message.fields]})
    if message.detail:
        body.append({"type": "TextBlock", "text": message.detail, "fontType": "Monospace", "wrap": True})
    body += [{"type": "TextBlock", "text": note, "wrap": True, "spacing": "Small"} for note in message.notes]
    footer = FOOTER.get(message.language, FOOTER["en"]) + (CUT.get(message.language, "") if message.is_cut else "")
    body.append({"type": "TextBlock", "text": footer, "size": "Small", "isSubtle": True, "wrap": True})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "lang": message.language,
        "msteams": {"width": "Full"},
        "body": body,
    }
    if message.link:
        label = message.link_label or LINK_LABEL.get(message.language, "Open")
        card["actions"] = [{"type": "Action.OpenUrl", "title": label, "url": message.link}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- sending ---------------------------------------------------------------------------------------


def post_chat(
    url: Secret | str,
    message: ChatMessage,
    *,
    flavor: Flavor | None = None,
    timeout: float = 10.0,
    attempts: int = 3,
    sleep: Callable[[float], None] = time.sleep,
    session: requests.Session | None = None,
) -> ChatResult:
    """POST `message` to the webhook at `url` (flavor from its host unless given). Network errors,
    timeouts, 429 (after its Retry-After, at most RETRY_AFTER_MAX) and 5xx are tried again, `attempts` in
    all; any other answer but 2xx raises ChatError at once. No message, log line or repr shows the URL.

    A timeout after the body went out may mean the message arrived: trying again can then post it twice,
    which for staff is better than an alert lost."""
    raw = _reveal(url)
    shown = mask_webhook_url(raw)
    attempts = max(attempts, 1)
    chosen: Flavor = flavor or chat_flavor(raw)
    try:
        parts = urlsplit(raw)
        is_http = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        is_http = False
    if not is_http:
        raise ChatError(f"{URL_SETTING} ({shown}) is not an http(s) URL: put the incoming webhook's URL there")
    body = json.dumps(chat_payload(message, chosen), ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    secrets = secret_parts(raw)
    waits: list[float] = []
    http = session or requests.Session()
    try:
        with _urllib3_redacted(secrets):
            for attempt in range(1, attempts + 1):
                status, answer, problem = _post_once(http, raw, body, headers, timeout, secrets)
                if status is not None and 200 <= status < 300 and not _refused_in_body(chosen, answer):
                    return ChatResult(shown, chosen, status, attempt, tuple(waits))
                wait = (
                    None
                    if "invalid_url" in answer
                    else retry_wait(status, answer.get("retry_after"), attempt, datetime.now(UTC))
                )
                if wait is None or attempt == attempts:
                    break
                log.warning(
                    "the staff chat webhook %s %s; trying again in %g s (attempt %d of %d)",
                    shown,
                    problem,
                    wait,
                    attempt + 1,
                    attempts,
                )
                waits.append(wait)
                sleep(wait)
    finally:
        if session is None:
            http.close()
    # raised here, outside any `except`, so that no requests exception (it holds the URL) is its context
    raise _chat_error(shown, chosen, status, answer, problem, attempt)


def _post_once(
    http: requests.Session, url: str, body: bytes, headers: dict[str, str], timeout: float, secrets: list[str]
) -> tuple[int | None, dict[str, str], str]:
    """One POST: (status or None without an answer, {text, retry_after}, what happened, for people)."""
    try:
        response = http.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema):
        return None, {"invalid_url": "1"}, "is not a URL requests can use"
    except requests.Timeout as exc:
        return None, {}, f"did not answer within {timeout:g} s ({type(exc).__name__})"
    except requests.RequestException as exc:
        return None, {}, f"could not be reached ({type(exc).__name__}: {redact(_reason(exc), secrets)})"
    answer = {"text": redact(response.text[:300], secrets)}
    if response.headers.get("Retry-After"):
        answer["retry_after"] = response.headers["Retry-After"]
    said = _first_line(answer["text"])
    return response.status_code, answer, f"answered {response.status_code}" + (f" ({said})" if said else "")


def retry_wait(status: int | None, retry_after: str | None, attempt: int, now: datetime) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None when trying again cannot help. `status` None
    means no answer (network error, timeout)."""
    if status is not None and status != 429 and status < 500:
        return None
    backoff = min(BACKOFF_FIRST * 2 ** (attempt - 1), BACKOFF_MAX)
    if status is not None and retry_after:  # 429, and a 503 may say it too
        asked = retry_after_seconds(retry_after, now)
        if asked is not None:
            return min(max(asked, 0.0), RETRY_AFTER_MAX)
    return backoff


def retry_after_seconds(value: str, now: datetime) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from `now`; None when unreadable."""
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) else None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() - now.timestamp()


def _refused_in_body(flavor: Flavor, answer: Mapping[str, str]) -> bool:
    """Teams' old connectors answered 200 with the error in the body (e.g. `... returned HTTP error 413`)."""
    return flavor == "teams" and "HTTP error" in answer.get("text", "")


def _chat_error(
    shown: str, flavor: Flavor, status: int | None, answer: Mapping[str, str], problem: str, attempts: int
) -> ChatError:
    """The error for people: what the webhook did and what to change (never the URL)."""
    where = f"the staff chat webhook ({shown})"
    tries = f" ({attempts} attempts)" if attempts > 1 else ""
    if answer.get("invalid_url"):
        return ChatError(f"{where} {problem}: check {URL_SETTING}", attempts=attempts)
    if status is None:
        return ChatError(
            f"{where} {problem}{tries}: check the network (and a proxy) from this machine; try again later",
            is_transient=True,
            attempts=attempts,
        )
    if status == 429 or status >= 500:
        return ChatError(
            f"{where} {problem}{tries}: the chat service is busy or having trouble; try again later",
            status=status,
            is_transient=True,
            attempts=attempts,
        )
    if status in (404, 410) or 300 <= status < 400:
        fix = f"the URL is wrong or the webhook was removed: check {URL_SETTING}"
    elif status in (401, 403):
        fix = f"the webhook may not post there (revoked, or the channel is closed): check {URL_SETTING} in the chat service"
    elif status == 413 or _refused_in_body(flavor, answer):
        fix = "the message is too large for the chat service"
    elif status == 400:
        other = "teams" if flavor == "slack" else "slack"
        fix = (
            f"the service did not accept the {flavor} format: if it is a {other}-style webhook, "
            f"set {FORMAT_SETTING}={other}"
        )
    else:
        fix = f"check {URL_SETTING}"
    return ChatError(f"{where} {problem}: {fix}", status=status, attempts=attempts)


# --- masking ---------------------------------------------------------------------------------------


def secret_parts(url: Secret | str) -> list[str]:
    """Every piece of the URL that gives the webhook away, longest first (see
    `opsflow.core.config.webhook_secret_parts`, which the settings' log filter uses too)."""
    return webhook_secret_parts(url)


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` with every secret part replaced by `***`."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


@contextmanager
def _urllib3_redacted(secrets: list[str]) -> Iterator[None]:
    """urllib3 logs each request line (`"POST /services/... HTTP/1.1" 200`) at debug level: mask it there."""
    logger = logging.getLogger("urllib3.connectionpool")
    redacting = RedactingFilter(secrets)
    logger.addFilter(redacting)
    try:
        yield
    finally:
        logger.removeFilter(redacting)


def _reveal(url: Secret | str) -> str:
    return url.reveal() if isinstance(url, Secret) else url


def _reason(exc: Exception) -> str:
    """The innermost cause of a requests error (`Connection refused`), not its wrapper's long text."""
    text = str(exc)
    if "Caused by" in text:
        text = text.rsplit("Caused by", 1)[1].strip(" ()")
        text = text.split(": ", 1)[-1] if ": " in text else text
    return _cut(text.strip("'\" ()"), 160)


def _first_line(text: str) -> str:
    """A short answer body worth quoting (`no_service`); nothing for an HTML page or JSON."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return "" if not line or line[0] in "<{[" else _cut(line, 80)


# --- the two messages opsflow sends -----------------------------------------------------------------

# The words of the alert and summary mails (templates/{ja,en}/alert.j2, summary.j2), shortened for a chat.
STEP_LABELS = {
    "zoom.create": ("Zoomミーティングの作成", "creating the Zoom meeting"),
    "registrants.sync": ("申込者の同期", "syncing registrants"),
    "mail.invitation": ("開催案内メールの送信", "sending the invitation"),
    "mail.reminder": ("リマインドメールの送信", "sending a reminder"),
    "report.fetch": ("参加者レポートの取得", "fetching the attendance report"),
    "survey.send": ("アンケートメールの送信", "sending the survey"),
    "survey.remind": ("アンケート再送メールの送信", "sending the survey reminder"),
    "summary.staff": ("集計報告メールの送信", "sending the staff summary"),
    "mail.confirmation": ("受付完了メールの送信", "sending the registration confirmation"),
    "mail.change": ("日時変更のお知らせの送信", "sending the change notice"),
    "mail.cancellation": ("開催中止のお知らせの送信", "sending the cancellation"),
    "speakers.request": ("登壇者へのご依頼メールの送信", "sending the speakers' request"),
    "speakers.rehearsal": ("登壇者へのリハーサル案内の送信", "sending the speakers' rehearsal notice"),
    "speakers.materials": ("登壇者への資料提出依頼の送信", "sending the speakers' materials reminder"),
    "speakers.thanks": ("登壇者への御礼メールの送信", "sending the speakers' thanks"),
    "recording.fetch": ("録画リンクの取得", "fetching the recording's link"),
}
ALERT_STATES = ("failed", "missed", "blocked", "stopped")
WORDS: dict[str, dict[str, Any]] = {
    "ja": {
        "alert": "【要対応】{event}の「{step}」{ending}",
        "failed": ("が失敗しました", "処理が失敗しました。内容を確認し、対応をお願いします。", "失敗"),
        "missed": ("が実行されませんでした", "予定されていた処理が、締め切りまでに実行されませんでした。理由は下記のエラー内容をご覧ください。", "見送り（締め切りを過ぎたため）"),
        "blocked": ("が前の処理の失敗で止まっています", "この処理の前に必要な処理が失敗したため、この処理は実行されずに待機しています。", "待機中（前の処理が失敗）"),
        "stopped": ("が途中で中断されました", "メールサーバーの応答が途絶えたため、送信を途中で中断しました。残りは次回の実行で送信されます。", "中断（送信結果が不明なメールあり）"),
        "alert_fields": ("セミナー", "処理", "状態", "予定時刻"),
        "labelled": "{step}（{label}）",
        "no_error": "（記録なし）",
        "hint": "対応：{hint}",
        "no_hint": "opsflow status で状況を確認してください。",
        "summary": ("【集計報告・参加状況】{event}", "【集計報告・アンケート】{event}"),
        "lead": ("下記セミナーの参加状況をお知らせします。", "下記セミナーの参加状況とアンケートの回答状況をお知らせします。"),
        "figures": (
            ("セミナー", "{event}"),
            ("日時", "{date_text}"),
            ("申込者数", "{registrations}名"),
            ("参加者数", "{attendees}名（申込者 {attended_registrants}名・申込なし {guests}名）"),
            ("参加率", "{attendance_rate}（申込者 {registrations}名のうち {attended_registrants}名が参加）"),
            ("平均参加時間", "{minutes}分"),
            ("メール送信", "送信済み {sent}件・送信失敗 {failed}件・送信結果不明 {ambiguous}件・再送待ち {deferred}件"),
            ("アンケート", "回答数 {responses}件（回答率 {rate_text}）"),
        ),
        "failed_note": "※送信に失敗した宛先があります。宛先を確認してください。",
        "ambiguous_note": "※送信結果が不明なメールがあります（自動では再送しません）。確認のうえ、再送の要否を判断してください。",
        "no_survey_note": "※アンケートの回答データはまだ取り込まれていません。",
        "past_participants_note": "※Zoomの参加者レポートを取得できなかったため、「過去のミーティングの参加者」一覧から集計しています。",
        "details_note": "詳細（所属別・自由記述・グラフ）は集計報告メールをご覧ください。",
    },
    "en": {
        "alert": "Action needed: {step} {ending} ({event})",
        "failed": ("failed", "A step failed. Please look into it.", "failed"),
        "missed": ("did not run", "A scheduled step did not run before its deadline; the reason is below.", "missed (past its deadline)"),
        "blocked": ("is held up by a failed step", "A step it needs first has failed, so this step is waiting and has not run.", "waiting (a step before it failed)"),
        "stopped": ("was broken off", "The mail server stopped answering, so the sending was broken off. The rest go out at the next run.", "broken off (a message in doubt)"),
        "alert_fields": ("Seminar", "Step", "State", "Due"),
        "labelled": "{step} ({label})",
        "no_error": "(none recorded)",
        "hint": "What to do: {hint}",
        "no_hint": "run `opsflow status` to see where things stand.",
        "summary": ("Attendance summary: {event}", "Summary with survey results: {event}"),
        "lead": ("Here are the attendance figures for the seminar.", "Here are the attendance figures and the survey results for the seminar."),
        "figures": (
            ("Seminar", "{event}"),
            ("Date", "{date_text}"),
            ("Registrations", "{registrations}"),
            ("Attendees", "{attendees} ({attended_registrants} registered, {guests} not registered)"),
            ("Attendance rate", "{attendance_rate} ({attended_registrants} of {registrations} registered attended)"),
            ("Average minutes", "{minutes}"),
            ("Mail deliveries", "{sent} sent, {failed} failed, {ambiguous} outcome unknown, {deferred} waiting to retry"),
            ("Survey", "{responses} responses ({rate_text})"),
        ),
        "failed_note": "Some messages could not be delivered: please check those addresses.",
        "ambiguous_note": "Some messages have an unknown outcome and are not resent automatically: please check them.",
        "no_survey_note": "No survey responses have been imported yet.",
        "past_participants_note": "Zoom's participant report was not available: attendance comes from its past participants list.",
        "details_note": "The details (by organization, comments, the chart) are in the summary mail.",
    },
}  # fmt: skip


def step_label(step: str, language: str) -> str:
    """`開催案内メールの送信` for `mail.invitation` (and its sub-keys); "" for a step without a label."""
    for key, labels in STEP_LABELS.items():
        if step == key or step.startswith(key + "."):
            return labels[0 if language == "ja" else 1]
    return ""


def alert_message(
    event_title: str,
    step: str,
    state: str,
    error: str,
    due_text: str,
    hint: str,
    language: str,
    *,
    link: str | None = None,
) -> ChatMessage:
    """The failure alert (the runner's `alert` dict) as a chat message, in `language` (ja, else en)."""
    lang = "ja" if language == "ja" else "en"
    words = WORDS[lang]
    label = step_label(step, lang)
    ending, lead, state_text = words[state] if state in ALERT_STATES else (state, "", state)
    seminar, step_name, state_name, due = words["alert_fields"]
    fields = [(seminar, event_title), (step_name, words["labelled"].format(step=step, label=label) if label else step)]
    fields += [(state_name, state_text)] + ([(due, due_text)] if due_text else [])
    return ChatMessage(
        title=words["alert"].format(event=event_title, step=label or step, ending=ending),
        lines=(lead,) if lead else (),
        fields=tuple(fields),
        detail=_cut(error or words["no_error"], DETAIL_MAX),
        notes=(words["hint"].format(hint=hint or words["no_hint"]),),
        link=link,
        severity="alert",
        language=lang,
    )


def summary_message(
    event_title: str,
    figures: Mapping[str, Any],
    language: str,
    link: str | None = None,
    *,
    date_text: str | None = None,
) -> ChatMessage:
    """The staff summary (the figures of `after.summary.staff_summary`) as a short chat message: the
    headline numbers only. Survey comments stay in the mail: a chat channel may reach more people."""
    lang = "ja" if language == "ja" else "en"
    words = WORDS[lang]
    stage = 1 if figures.get("stage") == "survey" else 0
    survey = figures.get("survey") or {}
    deliveries = {"sent": 0, "failed": 0, "ambiguous": 0, "deferred": 0, **(figures.get("deliveries") or {})}
    values: dict[str, Any] = {
        k: figures.get(k, "-") for k in ("registrations", "attendees", "attended_registrants", "guests")
    }
    values |= {
        "event": event_title,
        "date_text": date_text or "",
        "attendance_rate": figures.get("attendance_rate", "-"),
        "minutes": _minutes(figures.get("average_minutes")),
        "responses": survey.get("responses", 0),
        "rate_text": survey.get("rate_text", "-"),
        **deliveries,
    }
    # a row whose own figure is missing is left out: no date given, no minutes, no survey yet
    missing = {"{date_text}": not date_text, "{minutes}": not values["minutes"], "{responses}": not survey}
    fields = tuple(
        (label, value.format(**values))
        for label, value in words["figures"]
        if not any(placeholder in value and gone for placeholder, gone in missing.items())
    )
    notes = [
        words[note]
        for note, applies in (
            ("failed_note", deliveries["failed"]),
            ("ambiguous_note", deliveries["ambiguous"]),
            ("no_survey_note", stage and not survey),
            ("past_participants_note", figures.get("attendance_source") == "past_participants"),
            ("details_note", True),
        )
        if applies
    ]
    notes += [str(figures["report_note"])] if figures.get("report_note") else []
    return ChatMessage(
        title=words["summary"][stage].format(event=event_title),
        lines=(words["lead"][stage],),
        fields=fields,
        notes=tuple(notes),
        link=link,
        language=lang,
    )


def _minutes(value: Any) -> str:
    """Minutes as the summary mail shows them (`78.5`), "" when unknown."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{round(value, 1):g}"
    return "" if value is None else str(value)
