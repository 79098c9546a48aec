"""Staff chat posts through the delivery ledger: each alert and each summary posted once, whoever runs it.

A post is a delivery row (recipient `staff-chat`, message key `chat.alert.<step>` or `chat.<summary step>`):
claimed as `pending`, taken as `sending` (committed before the POST), then `sent`, `deferred` (a transient
failure its step will retry) or `failed` (with the error, which never holds the URL). A row left in
`sending` is in doubt (a crash mid-post, or another runner posting it right now): never posted again by
itself, shown by `status` as ambiguous.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from opsflow import store as db
from opsflow.after.chat import ChatMessage, Flavor, alert_message, chat_flavor, post_chat, summary_message
from opsflow.core.config import Secret, Settings, mask_webhook_url
from opsflow.core.errors import ChatError

if TYPE_CHECKING:
    from opsflow.core.jobspec import Event
    from opsflow.store import Store

log = logging.getLogger(__name__)

RECIPIENT = "staff-chat"  # the deliveries row's recipient: one chat, whatever its URL
TEST_TEXT = {
    "ja": ("opsflow からのテスト投稿です", "この投稿が見えていれば、障害通知と集計報告はこのチャットにも届きます。"),
    "en": ("A test post from opsflow", "If you can read this, alerts and summaries will reach this chat too."),
}


@dataclass(frozen=True)
class ChatPost:
    """What became of one post. `outcome`: posted, already (posted before), in-doubt (a row left in
    `sending`), failed, deferred (transient: its step tries again), off (no webhook set), would-post."""

    outcome: str
    message_key: str
    target: str = ""  # the webhook as it may be shown: https://host/***
    detail: str = ""  # the error, or the answer (`200 after 2 attempts`)

    @property
    def has_failed(self) -> bool:
        return self.outcome in ("failed", "deferred")

    def line(self) -> str:
        """One line for people: `staff chat (https://host/***): posted (200)`."""
        where = f"staff chat ({self.target})" if self.target else "staff chat"
        return f"{where}: {self.outcome}" + (f" ({self.detail})" if self.detail else "")

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "message_key": self.message_key, "target": self.target, "detail": self.detail}


def staff_webhook(settings: Settings) -> tuple[Secret, Flavor] | None:
    """The webhook and its format, or None when OPSFLOW_STAFF_WEBHOOK_URL is not set (a bad value of either
    setting raises ConfigError naming it)."""
    url = settings.staff_webhook_url
    if not url:
        return None
    return url, chat_flavor(url, settings.staff_webhook_format)


def post_once(
    store: Store,
    settings: Settings,
    event_id: str,
    message_key: str,
    build: Callable[[], ChatMessage],
    now: datetime,
    *,
    dry_run: bool = False,
    retry_failed: bool = False,
    keep_transient: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> ChatPost:
    """Post `build()` to the staff chat unless the ledger says it went already. With `retry_failed`, a
    post that failed before is tried again (a person asked); with `keep_transient`, a transient failure
    leaves the row `deferred` for its step to retry, else it is `failed`."""
    hook = staff_webhook(settings)
    if hook is None:
        return ChatPost("off", message_key)
    url, flavor = hook
    shown = mask_webhook_url(url)
    with store.read() as conn:
        row = _row(conn, event_id, message_key)
    if row is not None and row["state"] == "sent":
        return ChatPost("already", message_key, shown, f"posted {row['sent_at']:%Y-%m-%d %H:%M} UTC")
    if dry_run:
        return ChatPost("would-post", message_key, shown, flavor)
    with store.begin() as conn:
        db.claim_deliveries(conn, event_id, message_key, [RECIPIENT], now)
        if retry_failed:
            values = {"state": "pending", "last_error": None}
            db.set_deliveries(
                conn, event_id, values, now, states=("failed",), message_key=message_key, recipients=[RECIPIENT]
            )
        row = _row(conn, event_id, message_key)
        assert row is not None  # claimed just above
        taken = db.take_delivery(conn, row["id"], now)
    if not taken:
        return _not_taken(row, message_key, shown)
    message = build()
    try:
        result = post_chat(url, message, flavor=flavor, sleep=sleep)
    except ChatError as exc:
        state = "deferred" if exc.is_transient and keep_transient else "failed"
        with store.begin() as conn:
            db.finish_delivery(conn, row["id"], {"state": state, "last_error": str(exc)}, now)
        log.error("%s: the staff chat post %s %s: %s", event_id, message_key, _said(state), exc)
        return ChatPost(state, message_key, shown, str(exc))
    answer = f"{result.status}" + (f" after {result.attempts} attempts" if result.attempts > 1 else "")
    with store.begin() as conn:
        db.mark_sent(conn, row["id"], f"chat {result.flavor} {result.status}", now)
    return ChatPost("posted", message_key, shown, answer)


def _row(conn, event_id: str, message_key: str):
    rows = db.list_deliveries(conn, event_id, message_key=message_key)
    return next((r for r in rows if r["recipient"] == RECIPIENT), None)


def _not_taken(row, message_key: str, shown: str) -> ChatPost:
    """Why a claimed row was not ours to post: posted meanwhile, in doubt, or failed before."""
    state = row["state"]
    if state == "sent":
        return ChatPost("already", message_key, shown)
    if state == "sending":
        return ChatPost(
            "in-doubt",
            message_key,
            shown,
            "another run is posting it, or one stopped while posting: not posted again "
            f"(see `opsflow deliveries {row['event_id']} --state ambiguous`)",
        )
    return ChatPost(state, message_key, shown, row["last_error"] or "")


def _said(state: str) -> str:
    return "failed; its step will try again" if state == "deferred" else "failed"


# --- the two posts opsflow makes --------------------------------------------------------------------


def alert_key(ledger_key: str) -> str:
    return f"chat.alert.{ledger_key}"


def summary_key(step_key: str) -> str:
    """`chat.summary.staff` for the summary after the report, `chat.summary.staff.survey` after the survey."""
    return f"chat.{step_key}"


def post_alert(
    store: Store, settings: Settings, event: Event, ledger_key: str, alert: dict[str, Any], now: datetime
) -> ChatPost:
    """The failure alert (the runner's `alert` variables) posted once per `ledger_key`."""

    def build() -> ChatMessage:
        return alert_message(
            alert["event_title"],
            alert["step"],
            alert["state"],
            alert["error"],
            alert["due_text"],
            alert["hint"],
            event.spec.event.language,
        )

    return post_once(store, settings, event.id, alert_key(ledger_key), build, now)


def post_summary(
    store: Store,
    settings: Settings,
    event: Event,
    step_key: str,
    now: datetime,
    *,
    dry_run: bool = False,
    retry_failed: bool = False,
    keep_transient: bool = False,
) -> ChatPost:
    """The staff summary's headline figures posted once per summary step (`summary.staff` or
    `summary.staff.survey`); the mail stays the full report."""

    def build() -> ChatMessage:
        from opsflow.after.summary import staff_summary
        from opsflow.mail.render import date_text

        language = event.spec.event.language
        figures, _ = staff_summary(store, event, "survey" if step_key.endswith(".survey") else "report")
        when = date_text(event.start_at, event.end_at, event.tz, language)
        return summary_message(event.title, figures, language, date_text=when)

    return post_once(
        store,
        settings,
        event.id,
        summary_key(step_key),
        build,
        now,
        dry_run=dry_run,
        retry_failed=retry_failed,
        keep_transient=keep_transient,
    )


def post_test(settings: Settings, language: str, *, dry_run: bool = False) -> ChatPost:
    """`opsflow chat test`: a short message straight to the webhook (no ledger: each test posts)."""
    url = settings.require("staff_webhook_url")
    flavor = chat_flavor(url, settings.staff_webhook_format)
    shown = mask_webhook_url(url)
    title, line = TEST_TEXT["ja" if language == "ja" else "en"]
    message = ChatMessage(title=title, lines=(line,), language="ja" if language == "ja" else "en")
    if dry_run:
        return ChatPost("would-post", "chat.test", shown, f"{flavor}: {message.text}")
    result = post_chat(url, message, flavor=flavor)
    answer = f"{result.flavor}, answered {result.status}" + (
        f" after {result.attempts} attempts" if result.attempts > 1 else ""
    )
    return ChatPost("posted", "chat.test", shown, answer)
