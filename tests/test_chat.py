"""The staff chat webhook: both bodies, retries and their waits, clear errors, and the URL never shown,
all over real HTTP against the fake chat of `opsflow.sandbox.chat`."""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime

import pytest
import requests

from opsflow.after.chat import (
    RETRY_AFTER_MAX,
    ChatMessage,
    alert_message,
    chat_flavor,
    chat_payload,
    mask_webhook_url,
    post_chat,
    retry_after_seconds,
    retry_wait,
    summary_message,
)
from opsflow.core.config import Secret
from opsflow.core.errors import ChatError, ConfigError, OpsflowError
from opsflow.sandbox.chat import FakeChat

SECRET_PATH = "/services/T000/B000/XXXXSECRET"
TITLE = "自治体DXセミナー"
FIGURES = {
    "registrations": 40,
    "attendees": 31,
    "attended_registrants": 29,
    "guests": 2,
    "attendance_rate": "73%",
    "average_minutes": 78.46,
    "median_minutes": 85,
    "by_organization": [{"name": "札幌市", "registered": 3, "attended": 2}],
    "deliveries": {"sent": 120, "failed": 1, "ambiguous": 0, "deferred": 0},
    "survey": {"responses": 20, "rate_text": "69%", "comments": ["とても参考になりました"]},
    "chart_cid": None,
    "attendance_source": "report",
    "report_note": None,
    "stage": "survey",
}


@pytest.fixture
def chat():
    with FakeChat() as fake:
        yield fake


class Sleeps(list):
    """An injected sleep: records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _alert(language: str = "ja") -> ChatMessage:
    return alert_message(
        TITLE,
        "mail.invitation",
        "failed",
        "the mail server refused the login (535 5.7.8) <smtp.example.jp>",
        "2027-01-07 10:00 JST",
        "see `opsflow status example-seminar`",
        language,
    )


# --- the bodies ------------------------------------------------------------------------------------


def test_slack_body_of_an_alert():
    payload = chat_payload(_alert(), "slack")
    blocks = payload["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "section", "section", "section", "context"]
    assert blocks[0]["text"] == {
        "type": "plain_text",
        "text": "⚠️ 【要対応】自治体DXセミナーの「開催案内メールの送信」が失敗しました",
        "emoji": True,
    }
    assert blocks[1]["text"]["text"] == "処理が失敗しました。内容を確認し、対応をお願いします。"
    assert [f["text"] for f in blocks[2]["fields"]] == [
        "*セミナー*\n自治体DXセミナー",
        "*処理*\nmail.invitation（開催案内メールの送信）",
        "*状態*\n失敗",
        "*予定時刻*\n2027-01-07 10:00 JST",
    ]
    # the error as preformatted text, with Slack's control characters escaped
    assert blocks[3]["text"] == {
        "type": "mrkdwn",
        "text": "```the mail server refused the login (535 5.7.8) &lt;smtp.example.jp&gt;```",
    }
    assert blocks[4]["text"]["text"] == "対応：see `opsflow status example-seminar`"
    assert blocks[5]["elements"] == [{"type": "mrkdwn", "text": "opsflow からの自動通知です。"}]
    # `text` carries the whole message: Mattermost, Rocket.Chat and LoGo Chat show it instead of blocks
    assert payload["text"].splitlines() == [
        "【要対応】自治体DXセミナーの「開催案内メールの送信」が失敗しました",
        "処理が失敗しました。内容を確認し、対応をお願いします。",
        "セミナー：自治体DXセミナー",
        "処理：mail.invitation（開催案内メールの送信）",
        "状態：失敗",
        "予定時刻：2027-01-07 10:00 JST",
        "the mail server refused the login (535 5.7.8) &lt;smtp.example.jp&gt;",
        "対応：see `opsflow status example-seminar`",
    ]


def test_teams_body_of_the_summary():
    message = summary_message(TITLE, FIGURES, "ja", link="https://example.jp/reports/dx", date_text="2027年1月21日（木）18:00〜19:30")
    payload = chat_payload(message, "teams")
    assert payload["type"] == "message" and len(payload["attachments"]) == 1
    attachment = payload["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"], card["lang"], card["msteams"]) == ("AdaptiveCard", "1.4", "ja", {"width": "Full"})
    title, lead, facts, *notes, footer = card["body"]
    assert title["text"] == "【集計報告・アンケート】自治体DXセミナー" and title["weight"] == "Bolder"
    assert title["color"] == "Default"
    assert lead["text"] == "下記セミナーの参加状況とアンケートの回答状況をお知らせします。"
    assert facts["type"] == "FactSet"
    assert [(f["title"], f["value"]) for f in facts["facts"]] == [
        ("セミナー", "自治体DXセミナー"),
        ("日時", "2027年1月21日（木）18:00〜19:30"),
        ("申込者数", "40名"),
        ("参加者数", "31名（申込者 29名・申込なし 2名）"),
        ("参加率", "73%（申込者 40名のうち 29名が参加）"),
        ("平均参加時間", "78.5分"),
        ("メール送信", "送信済み 120件・送信失敗 1件・送信結果不明 0件・再送待ち 0件"),
        ("アンケート", "回答数 20件（回答率 69%）"),
    ]
    assert [n["text"] for n in notes] == [
        "※送信に失敗した宛先があります。宛先を確認してください。",
        "詳細（所属別・自由記述・グラフ）は集計報告メールをご覧ください。",
    ]
    assert footer["text"] == "opsflow からの自動通知です。" and footer["isSubtle"] is True
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "詳細を見る", "url": "https://example.jp/reports/dx"}]
    # free-text survey comments stay in the mail: a chat channel may reach more people
    assert "とても参考になりました" not in json.dumps(payload, ensure_ascii=False)


def test_teams_alert_is_marked_and_slack_summary_links():
    card = chat_payload(_alert(), "teams")["attachments"][0]["content"]
    assert card["body"][0]["color"] == "Attention"
    assert {"type": "TextBlock", "text": "the mail server refused the login (535 5.7.8) <smtp.example.jp>",
            "fontType": "Monospace", "wrap": True} in card["body"]  # fmt: skip
    slack = chat_payload(summary_message(TITLE, {**FIGURES, "stage": "report"}, "ja", link="https://example.jp/r?a=1&b=2"), "slack")
    assert slack["blocks"][0]["text"]["text"] == "【集計報告・参加状況】自治体DXセミナー"
    assert {"type": "section", "text": {"type": "mrkdwn", "text": "<https://example.jp/r?a=1&b=2|詳細を見る>"}} in slack["blocks"]


def test_english_wording():
    alert = _alert("en")
    assert alert.title == "Action needed: sending the invitation failed (自治体DXセミナー)"
    assert alert.fields[1] == ("Step", "mail.invitation (sending the invitation)")
    assert alert.notes == ("What to do: see `opsflow status example-seminar`",)
    summary = summary_message("DX seminar", {**FIGURES, "survey": None}, "en")
    assert summary.title == "Summary with survey results: DX seminar"
    assert ("Attendance rate", "73% (29 of 40 registered attended)") in summary.fields
    assert "No survey responses have been imported yet." in summary.notes
    assert chat_payload(summary, "slack")["blocks"][-1]["elements"][0]["text"] == "Sent automatically by opsflow."


def test_other_alert_states_and_an_unknown_step():
    blocked = alert_message(TITLE, "survey.send", "blocked", "", "", "", "ja")
    assert blocked.title == "【要対応】自治体DXセミナーの「アンケートメールの送信」が前の処理の失敗で止まっています"
    assert blocked.detail == "（記録なし）" and blocked.notes == ("対応：opsflow status で状況を確認してください。",)
    missed = alert_message(TITLE, "mail.reminder.1d", "missed", "found after the seminar had started", "", "", "ja")
    assert ("状態", "見送り（締め切りを過ぎたため）") in missed.fields
    odd = alert_message(TITLE, "custom.step", "failed", "x", "", "", "ja")
    assert odd.title == "【要対応】自治体DXセミナーの「custom.step」が失敗しました"


@pytest.mark.parametrize(
    ("url", "flavor"),
    [
        ("https://hooks.slack.com/services/T0/B0/X", "slack"),
        ("https://chat.example.lg.jp/hooks/abc", "slack"),
        ("https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d", "teams"),
        ("https://prod-01.japaneast.logic.azure.com:443/workflows/a/triggers/manual/paths/invoke?sig=x", "teams"),
        ("https://default1.2.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/a", "teams"),
        ("https://notwebhook.office.com.example.jp/x", "slack"),
    ],
)
def test_flavor_from_the_host(url, flavor):
    assert chat_flavor(url) == flavor
    assert chat_flavor(Secret(url)) == flavor


def test_flavor_override():
    assert chat_flavor("https://contoso.webhook.office.com/x", "slack") == "slack"
    assert chat_flavor("https://hooks.slack.com/services/x", " Teams ") == "teams"
    with pytest.raises(ConfigError) as caught:
        chat_flavor("https://hooks.slack.com/services/x", "discord")
    assert str(caught.value) == "OPSFLOW_STAFF_WEBHOOK_FORMAT='discord' is not a chat format: put slack or teams"


def test_long_messages_are_cut_to_what_each_service_takes(chat):
    huge = ChatMessage(
        title="長い" * 200,
        lines=tuple(f"{i}行目：" + "あ" * 400 for i in range(120)),
        fields=tuple((f"項目{i}", "い" * 2500) for i in range(12)),
        detail="Traceback " * 3000,
        notes=("う" * 5000,),
    )
    slack, teams = chat.hook("slack", "/services/long"), chat.hook("teams", "/workflows/long")
    assert post_chat(slack, huge, sleep=Sleeps()).status == 200  # the fake checks Slack's limits
    assert post_chat(teams, huge, flavor="teams", sleep=Sleeps()).status == 202  # ... and Teams' 28 KB
    sent = chat.messages("/services/long")[0]
    assert len(sent["blocks"]) <= 50 and len(sent["blocks"][0]["text"]["text"]) == 150
    assert sum(len(b.get("fields", [])) for b in sent["blocks"]) == 12
    assert sent["blocks"][-1]["elements"][0]["text"].endswith("（長いため一部を省略しました）")
    assert len(json.dumps(chat.messages("/workflows/long")[0], ensure_ascii=False).encode()) <= 28 * 1024


# --- posting -------------------------------------------------------------------------------------


def test_both_flavors_are_accepted(chat):
    slack = post_chat(chat.hook("slack", SECRET_PATH), _alert(), sleep=Sleeps())
    teams = post_chat(Secret(chat.hook("teams", "/workflows/abc")), _alert(), flavor="teams", sleep=Sleeps())
    assert (slack.flavor, slack.status, slack.attempts, slack.waits) == ("slack", 200, 1, ())
    assert (teams.flavor, teams.status, teams.attempts) == ("teams", 202, 1)
    assert chat.messages(SECRET_PATH) == [chat_payload(_alert(), "slack")]
    assert chat.messages("/workflows/abc") == [chat_payload(_alert(), "teams")]


def test_500_then_success_posts_once(chat):
    url = chat.hook("slack", SECRET_PATH)
    chat.fail_next(500, times=2)
    sleeps = Sleeps()
    result = post_chat(url, _alert(), sleep=sleeps)
    assert (result.status, result.attempts, result.waits) == (200, 3, (1.0, 2.0))
    assert sleeps == [1.0, 2.0]  # backoff, doubled
    assert chat.count(SECRET_PATH) == 3
    assert len(chat.messages(SECRET_PATH)) == 1  # nothing sent again after the success


def test_429_waits_as_retry_after_says_at_most_the_cap(chat):
    url = chat.hook("slack", SECRET_PATH)
    chat.rate_limit_next(retry_after="7")
    chat.rate_limit_next(retry_after="3600")
    sleeps = Sleeps()
    result = post_chat(url, _alert(), sleep=sleeps)
    assert sleeps == [7.0, RETRY_AFTER_MAX] and result.attempts == 3
    assert len(chat.messages()) == 1


def test_retry_policy():
    now = datetime(2027, 1, 21, 9, 0, tzinfo=UTC)
    assert [retry_wait(None, None, n, now) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert retry_wait(503, None, 1, now) == 1.0
    assert retry_wait(429, "Thu, 21 Jan 2027 09:00:05 GMT", 1, now) == 5.0
    assert retry_wait(429, "soon", 2, now) == 2.0  # unreadable: the backoff
    assert retry_wait(429, "-3", 1, now) == 0.0
    assert [retry_wait(s, None, 1, now) for s in (400, 403, 404, 410, 413)] == [None] * 5
    assert retry_after_seconds("nan", now) is None and retry_after_seconds("1.5", now) == 1.5


def test_a_hang_times_out_and_is_tried_again(chat):
    url = chat.hook("teams", "/workflows/slow")
    chat.hang_next(3.0)
    sleeps = Sleeps()
    result = post_chat(url, _alert(), flavor="teams", timeout=0.3, sleep=sleeps)
    assert (result.status, result.attempts, sleeps) == (202, 2, [1.0])
    assert chat.count("/workflows/slow") == 2 and len(chat.messages("/workflows/slow")) == 1


def test_404_is_a_clear_error_without_retry(chat):
    url = chat.base_url + SECRET_PATH  # no webhook there (removed, or a typo)
    sleeps = Sleeps()
    with pytest.raises(ChatError) as caught:
        post_chat(url, _alert(), sleep=sleeps)
    assert str(caught.value) == (
        f"the staff chat webhook ({chat.base_url}/***) answered 404 (no_service): the URL is wrong or the "
        "webhook was removed: check OPSFLOW_STAFF_WEBHOOK_URL"
    )
    assert (caught.value.status, caught.value.is_transient, caught.value.attempts) == (404, False, 1)
    assert sleeps == [] and chat.count() == 1


def test_the_wrong_format_says_which_setting_fixes_it(chat):
    url = chat.hook("teams", "/webhookb2/abc")  # a Teams-style hook on a host that looks like anything else
    with pytest.raises(ChatError) as caught:
        post_chat(url, _alert(), sleep=Sleeps())
    assert caught.value.status == 400 and chat.count() == 1
    assert str(caught.value).endswith(
        "the service did not accept the slack format: if it is a teams-style webhook, set OPSFLOW_STAFF_WEBHOOK_FORMAT=teams"
    )


def test_teams_error_in_a_200_answer(chat):
    url = chat.hook("teams", "/webhookb2/old")
    chat.fail_next(200, answer="Microsoft Teams endpoint returned HTTP error 413 with ContextId tcid=0")
    with pytest.raises(ChatError) as caught:
        post_chat(url, _alert(), flavor="teams", sleep=Sleeps())
    assert "the message is too large for the chat service" in str(caught.value)


def test_5xx_and_unreachable_give_up_as_transient(chat):
    url = chat.hook("slack", SECRET_PATH)
    chat.fail_next(503, times=5)
    with pytest.raises(ChatError) as busy:
        post_chat(url, _alert(), sleep=Sleeps())
    assert busy.value.is_transient and busy.value.attempts == 3 and busy.value.status == 503
    assert "answered 503 (service_unavailable) (3 attempts): the chat service is busy" in str(busy.value)
    chat.stop()
    with pytest.raises(ChatError) as down:
        post_chat(url, _alert(), sleep=Sleeps(), attempts=2)
    assert down.value.is_transient and down.value.status is None
    assert str(down.value).startswith(f"the staff chat webhook ({chat.base_url}/***) could not be reached (ConnectionError: ")
    assert isinstance(down.value, OpsflowError) and down.value.__context__ is None


def test_a_url_that_is_not_http_is_refused_at_once():
    with pytest.raises(ChatError) as caught:
        post_chat("hooks.slack.com/services/T0/B0/XXXXSECRET", _alert(), sleep=Sleeps())
    assert str(caught.value) == "OPSFLOW_STAFF_WEBHOOK_URL (***) is not an http(s) URL: put the incoming webhook's URL there"
    with pytest.raises(ChatError):
        post_chat("https://[::1/services/XXXXSECRET", _alert(), sleep=Sleeps())


# --- the URL is a secret ---------------------------------------------------------------------------


def test_mask_webhook_url():
    assert mask_webhook_url("https://hooks.slack.com/services/T0/B0/XXXXSECRET") == "https://hooks.slack.com/***"
    assert mask_webhook_url(Secret("http://user:pw@127.0.0.1:8080/x?sig=XXXXSECRET")) == "http://127.0.0.1:8080/***"
    assert mask_webhook_url("http://[::1") == "***"


@pytest.mark.parametrize("as_secret", [False, True])
def test_the_url_never_shows(chat, caplog, as_secret):
    """Every path that can fail, with urllib3 logging at debug level: the secret part of the path is in no
    exception text, repr, traceback, log record or result."""
    caplog.set_level(logging.DEBUG)
    hook = chat.hook("slack", SECRET_PATH)
    url = Secret(hook) if as_secret else hook
    seen: list[str] = []

    def attempt(**kwargs) -> None:
        try:
            result = post_chat(url, _alert(), sleep=Sleeps(), **kwargs)
        except ChatError as exc:
            seen.extend([str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc))])
        else:
            seen.extend([repr(result), str(result)])

    attempt()  # 200
    chat.fail_next(500, times=2)
    attempt()  # 500, 500, 200
    chat.rate_limit_next(retry_after="2", times=3)
    attempt()  # 429 to the end
    chat.fail_next(404, answer=f"no_service for {SECRET_PATH}")  # even a service that echoes the path
    attempt()
    chat.hang_next(2.0, times=2)
    attempt(timeout=0.2, attempts=2)
    chat.fail_next(400, answer="invalid_payload")
    attempt()
    chat.stop()
    attempt(attempts=2)  # connection refused: requests names the path in its error

    records = [r.getMessage() for r in caplog.records]
    assert any("***" in r for r in records if "POST" in r), "urllib3's request line was expected, masked"
    assert any("trying again" in r for r in records)
    for text in [*seen, *records, caplog.text]:
        assert "XXXXSECRET" not in text and "B000" not in text, text
    assert logging.getLogger("urllib3.connectionpool").filters == []  # the redacting filter went away


def test_exception_texts_from_requests_are_masked(chat):
    """requests writes the path into ConnectionError; what opsflow says instead is masked."""
    url = chat.hook("slack", SECRET_PATH)
    chat.stop()
    with pytest.raises(requests.ConnectionError) as raw:
        requests.post(url, json={}, timeout=1)
    assert "XXXXSECRET" in str(raw.value)  # the reason for all this
    with pytest.raises(ChatError) as caught:
        post_chat(url, _alert(), sleep=Sleeps(), attempts=1)
    assert "XXXXSECRET" not in str(caught.value) and "Connection refused" in str(caught.value)


# --- the fake chat itself ------------------------------------------------------------------------


def test_the_fake_answers_like_the_services(chat):
    slack, teams = chat.hook("slack", "/services/a"), chat.hook("teams", "/workflows/b")
    assert (requests.post(slack, json={"text": "hi"}).status_code, chat.recorded[-1].answer) == (200, "ok")
    assert requests.post(slack, json={"blocks": []}).text == "no_text"
    assert requests.post(slack, json={"text": "x", "blocks": [{"type": "header", "text": {"text": "x" * 151}}]}).status_code == 400
    assert requests.post(slack, data=b"not json").text == "invalid_payload"
    assert requests.post(teams, json={"text": "hi"}).status_code == 400
    card = {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
            "content": {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "text": "x"}]}}]}  # fmt: skip
    assert requests.post(teams, json=card).status_code == 202
    card["attachments"][0]["content"]["body"][0]["text"] = "x" * 30_000
    assert requests.post(teams, json=card).status_code == 413
    assert requests.post(chat.base_url + "/nowhere", json={"text": "x"}).status_code == 404
    assert len(chat.messages()) == 2 and chat.count() == 8
