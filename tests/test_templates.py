"""The built-in mail templates (templates/ja, templates/en): every kind renders with real content.

Recipients are municipal staff whose gateways strip HTML and attachments, so most checks are on the
TEXT part: it alone must carry the date and time, the join link on its own line, the meeting ID and
the passcode.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

from opsflow.core.errors import TemplateError
from opsflow.core.resources import builtin_templates_dir
from opsflow.mail.render import BLOCKS, KINDS, Renderer
from opsflow.mail.speakers import SPEAKER_KINDS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES = ("ja", "en")

JOIN_URL = "https://us02web.zoom.us/j/88231635078?pwd=Qm9nYXNTZWNyZXQ.1"
PERSONAL_URL = "https://us02web.zoom.us/w/88231635078?tk=Vx7.personal-token&pwd=Qm9nYXNTZWNyZXQ.1"
SURVEY_URL = "https://forms.example.jp/f/publitech-vol3?email=hanako.takahashi%40city.example.lg.jp"
MATERIALS_URL = "https://files.example.jp/publitech-vol3/slides.pdf"
RECORDING_URL = "https://video.example.jp/publitech-vol3"

DATE_TEXT = {"ja": "2027年1月21日(木) 18:00〜19:30", "en": "Thursday, 21 January 2027, 18:00–19:30 JST"}
PREVIOUS_DATE_TEXT = {"ja": "2027年1月14日(木) 18:00〜19:30", "en": "Thursday, 14 January 2027, 18:00–19:30 JST"}


def sample_context(language: str, kind: str) -> dict:
    """A full context as the contract describes it: every top-level key, realistic values."""
    return {
        "event": {
            "id": "example-seminar",
            "title": "パブリテックセミナー vol.3「自治体DXの現場から」",
            "series": "publitech-seminar",
            "description": "全国の自治体職員の皆さまを対象に、先進自治体の取り組みを紹介します。",
            "date_text": DATE_TEXT[language],
            "start_date": "2027-01-21",
            "start_time": "18:00",
            "end_time": "19:30",
            "timezone": "Asia/Tokyo",
            "speakers": [
                {"name": "髙橋 健太", "affiliation": "石川県加賀市 政策戦略部イノベーション推進課",
                 "talk": "加賀市におけるデジタル化の取り組みについて", "position": "課長"},
                {"name": "山﨑 真理子", "affiliation": "福岡県糸島市 企画部デジタル推進課",
                 "talk": "「書かない窓口」導入の一年", "position": ""},
            ],
            "join_url": JOIN_URL,
            "meeting_id": "882 3163 5078",
            "passcode": "UVwIAI",
            "previous_date_text": PREVIOUS_DATE_TEXT[language] if kind == "change" else None,
            "ics_attached": kind in ("invitation", "confirmation", "change", "cancellation"),
        },
        "recipient": {
            "name": "髙橋 花子",
            "email": "hanako.takahashi@city.example.lg.jp",
            "organization": "宮﨑県日向市",
            "department": "総務課",
            "fields": {"役職": "主任", "質問・ご要望": "特になし"},
            "join_url": PERSONAL_URL,
        },
        "organizer": {"name": "パブリテックセミナー事務局", "contact": "seminar@example.jp\nTEL 03-1234-5678"},
        "message": {"kind": kind, "when": "tomorrow", "days_before": 1,
                    "start_text": "明日1月21日(木)18:00" if language == "ja" else "tomorrow, Thursday 21 January, at 18:00 JST",
                    "schedule": [
                        {"kind": "invitation", "when_text": "1月7日(木)10:00" if language == "ja"
                         else "on Thursday 7 January at 10:00 JST"},
                        {"kind": "reminder", "when_text": "1月20日(水)18:00" if language == "ja"
                         else "on Wednesday 20 January at 18:00 JST"},
                    ] if kind == "confirmation" else []},
        "survey": {"url": SURVEY_URL, "materials_url": MATERIALS_URL, "recording_url": RECORDING_URL,
                   "recording_passcode": "Ab1+x2Yz",
                   "deadline_text": "2027年1月28日(木)" if language == "ja" else "Thursday, 28 January 2027"},
        "summary": {
            "registrations": 73,
            "attendees": 54,
            "attended_registrants": 52,
            "guests": 2,
            "attendance_rate": "71%",
            "average_minutes": 78.4,
            "median_minutes": 84,
            "by_organization": [
                {"name": "石川県加賀市", "registered": 12, "attended": 10},
                {"name": "福岡県糸島市", "registered": 9, "attended": 7},
            ],
            "deliveries": {"sent": 219, "failed": 3, "ambiguous": 1, "deferred": 2},
            "survey": {"responses": 31, "rate_text": "57%",
                       "comments": ["窓口改革の具体例が参考になりました。", "録画の公開を希望します。"]},
            "chart_cid": "attendance-chart@opsflow",
            "report_note": "参加時間は再入室を合算しています。",
            "attendance_source": "report",
            "stage": "survey",
        } if kind == "summary" else None,
        "alert": {
            "event_title": "パブリテックセミナー vol.3",
            "step": "mail.reminder.1d",
            "step_label": "リマインドメールの送信",
            "state": "failed",
            "error": "SMTP 451 4.3.0 mailbox temporarily unavailable",
            "due_text": "2027年1月20日(水) 18:00",
            "hint": "メールサーバーの状態を確認し、opsflow run-due を実行してください。",
        } if kind == "alert" else None,
    }


def sparse_context(language: str, kind: str) -> dict:
    """The same context with everything optional left out: None, "" or empty lists."""
    context = sample_context(language, kind)
    context["event"].update(description="", speakers=[], join_url=None, meeting_id=None, passcode=None,
                            previous_date_text=None, ics_attached=False)
    context["recipient"].update(name="", organization="", department=None, fields={}, join_url=None)
    context["organizer"].update(name="", contact="")
    context["message"].update(schedule=[])
    context["survey"].update(url=None, materials_url=None, recording_url=None, recording_passcode=None,
                             deadline_text=None)
    if context["summary"]:
        context["summary"].update(by_organization=[], survey=None, chart_cid=None, report_note=None,
                                  average_minutes=None, median_minutes=None, stage="report")
    if context["alert"]:
        context["alert"].update(error=None, due_text=None, hint=None, state="missed")
    return context


def render(language: str, kind: str, context: dict | None = None, **changes):
    """Render with the built-in set; `changes` are `section={key: value}` updates to the sample."""
    context = copy.deepcopy(context) if context is not None else sample_context(language, kind)
    for section, values in changes.items():
        context[section].update(values)
    return Renderer(language, [TEMPLATES]).render(kind, context)


def width(line: str) -> int:
    """Columns a line takes in a Japanese mail reader (wide and ambiguous characters count 2)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in line)


# --- the set itself ------------------------------------------------------------------------------

def test_the_built_in_folder_is_this_one():
    assert builtin_templates_dir().resolve() == TEMPLATES.resolve()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_exists_with_the_three_blocks(language):
    files = {p.stem for p in (TEMPLATES / language).glob("*.j2")}
    assert files == set(KINDS) | set(SPEAKER_KINDS)  # the speakers' own: tests/test_speakers.py renders them
    env = Environment()
    for kind in (*KINDS, *SPEAKER_KINDS):
        source = (TEMPLATES / language / f"{kind}.j2").read_text(encoding="utf-8")
        names = {block.name for block in env.parse(source).find_all(nodes.Block)}
        assert names == set(BLOCKS), f"{language}/{kind}.j2 has blocks {sorted(names)}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_with_a_one_line_subject(language, kind):
    rendered = render(language, kind)
    assert rendered.subject.strip() and "\n" not in rendered.subject
    assert rendered.subject == rendered.subject.strip()
    assert rendered.text.strip() and rendered.html.strip()
    assert "None" not in rendered.text + rendered.subject + rendered.html
    assert f'<html lang="{language}">' in rendered.html
    assert not re.search(r"<(link|script|style|iframe)\b|style=", rendered.html), "plain HTML, no CSS or scripts"
    assert all(src.startswith("cid:") for src in re.findall(r'src="([^"]*)"', rendered.html)), "no external images"
    assert "\n\n\n" not in rendered.text, "no double blank lines in the text part"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_with_everything_optional_missing(language, kind):
    rendered = render(language, kind, sparse_context(language, kind))
    assert rendered.subject.strip()
    assert "None" not in rendered.text + rendered.subject + rendered.html
    assert "882 3163 5078" not in rendered.text and "UVwIAI" not in rendered.text
    assert "\n\n\n" not in rendered.text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_text_lines_stay_short(language, kind):
    for line in render(language, kind).text.splitlines():
        if "://" not in line:
            assert width(line) <= 76, f"{language}/{kind}: {line!r} is {width(line)} columns"


# --- the join details in the text part ----------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["invitation", "confirmation", "reminder", "change"])
def test_text_part_alone_carries_date_link_meeting_id_and_passcode(language, kind):
    rendered = render(language, kind)
    lines = rendered.text.splitlines()
    assert DATE_TEXT[language] in rendered.text
    assert PERSONAL_URL in lines, "the join link is written out in full on a line of its own"
    assert any("882 3163 5078" in line for line in lines)
    assert any("UVwIAI" in line for line in lines)
    # the HTML part links it and shows the address too (the & escaped as it must be in HTML)
    escaped = PERSONAL_URL.replace("&", "&amp;")
    assert f'<a href="{escaped}">{escaped}</a>' in rendered.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_personal_link_is_marked_as_personal_and_the_meeting_link_is_not(language):
    personal = render(language, "invitation").text
    shared = render(language, "invitation", recipient={"join_url": JOIN_URL}).text
    assert JOIN_URL in shared.splitlines()
    marker = {"ja": "専用のURL", "en": "personal to you"}[language]
    assert marker in personal and marker not in shared


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["invitation", "reminder", "change"])
def test_without_a_join_link_the_mail_says_it_comes_later(language, kind):
    rendered = render(language, kind, recipient={"join_url": None})
    assert "https://us02web.zoom.us" not in rendered.text + rendered.html
    later = {"ja": "改めてお送りいたします", "en": "We will send you the link"}[language]
    assert later in rendered.text and later in rendered.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_meeting_id_and_passcode_only_when_given(language):
    text = render(language, "invitation", event={"meeting_id": None}).text
    assert "UVwIAI" in text and "882 3163 5078" not in text
    assert {"ja": "ミーティングID", "en": "Meeting ID"}[language] not in text
    text = render(language, "invitation", event={"passcode": None}).text
    assert "882 3163 5078" in text and "UVwIAI" not in text
    assert {"ja": "パスコード", "en": "Passcode"}[language] not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_invitation_has_the_programme_and_the_calendar_file_note(language):
    text = render(language, "invitation").text
    assert "加賀市におけるデジタル化の取り組みについて" in text
    assert "「書かない窓口」導入の一年" in text
    if language == "ja":
        assert "石川県加賀市 政策戦略部イノベーション推進課 課長 髙橋 健太 氏" in text
        assert "福岡県糸島市 企画部デジタル推進課 山﨑 真理子 氏" in text
    else:
        assert "髙橋 健太, 課長, 石川県加賀市 政策戦略部イノベーション推進課" in text
        assert "山﨑 真理子, 福岡県糸島市 企画部デジタル推進課" in text
    assert ".ics" in text
    assert ".ics" not in render(language, "invitation", event={"ics_attached": False}).text
    no_speakers = render(language, "invitation", event={"speakers": []}).text
    assert {"ja": "プログラム", "en": "Programme"}[language] not in no_speakers


# --- greeting and signature ---------------------------------------------------------------------

def test_japanese_greeting_is_organization_then_name_sama():
    lines = render("ja", "invitation").text.splitlines()
    assert lines[:3] == ["宮﨑県日向市", "総務課", "髙橋 花子 様"]
    lines = render("ja", "invitation", recipient={"organization": "", "department": ""}).text.splitlines()
    assert lines[0] == "髙橋 花子 様"
    assert "平素より大変お世話になっております。" in lines


def test_english_greeting_is_dear_name():
    assert render("en", "invitation").text.startswith("Dear 髙橋 花子,\n")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["summary", "alert"])
def test_staff_mails_greet_the_team_not_a_person(language, kind):
    text = render(language, kind, recipient={"name": "", "organization": ""}).text
    first = text.splitlines()[0]
    assert first == {"ja": "セミナー事務局各位", "en": "Hello team,"}[language]
    assert "様" not in text and "Dear" not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_signature_comes_from_the_organizer_and_empty_lines_are_omitted(language):
    text = render(language, "invitation").text
    assert "パブリテックセミナー事務局" in text.splitlines()
    assert "seminar@example.jp" in text.splitlines() and "TEL 03-1234-5678" in text.splitlines()
    bare = render(language, "invitation", organizer={"name": "", "contact": ""}).text
    assert "事務局" not in bare and "----" not in bare
    assert "TEL" not in bare


# --- reminder wording ---------------------------------------------------------------------------

@pytest.mark.parametrize(("when", "ja", "en"), [
    ("tomorrow", "明日1月21日(木)18:00", "tomorrow, Thursday 21 January, at 18:00 JST"),
    ("today", "本日18:00", "today at 18:00 JST"),
    ("later", "1月21日(木)18:00", "on Thursday 21 January at 18:00 JST"),
])
def test_reminder_names_the_start_as_message_start_text_gives_it(when, ja, en):
    for language, start in (("ja", ja), ("en", en)):
        rendered = render(language, "reminder", message={"when": when, "start_text": start})
        assert start in rendered.subject and start in rendered.text and start in rendered.html
        assert rendered.subject.startswith({"ja": "【リマインド】", "en": "Reminder:"}[language])
        assert "まもなく" not in rendered.subject + rendered.text and "soon" not in rendered.subject + rendered.text


# --- change and cancellation --------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_change_shows_the_new_and_the_previous_date(language):
    rendered = render(language, "change")
    assert rendered.subject.startswith({"ja": "【日時変更】", "en": "Date changed:"}[language])
    text = rendered.text
    assert DATE_TEXT[language] in text and PREVIOUS_DATE_TEXT[language] in text
    assert text.index(DATE_TEXT[language]) < text.index(PREVIOUS_DATE_TEXT[language]), "the new date comes first"
    assert PREVIOUS_DATE_TEXT[language] in rendered.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_cancellation_says_cancelled_and_gives_no_link(language):
    rendered = render(language, "cancellation")
    assert rendered.subject.startswith({"ja": "【開催中止】", "en": "Cancelled:"}[language])
    assert DATE_TEXT[language] in rendered.text
    assert {"ja": "中止", "en": "cancelled"}[language] in rendered.text
    assert "zoom.us" not in rendered.text + rendered.html


# --- after the seminar --------------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_survey_mail_thanks_and_carries_the_survey_link(language):
    rendered = render(language, "survey")
    assert rendered.subject.startswith({"ja": "【アンケートのお願い】", "en": "Your feedback"}[language])
    assert SURVEY_URL in rendered.text.splitlines()
    assert f'href="{SURVEY_URL}"' in rendered.html
    assert {"ja": "ご参加いただき", "en": "Thank you very much for attending"}[language] in rendered.text
    assert {"ja": "2027年1月28日(木)", "en": "Thursday, 28 January 2027"}[language] in rendered.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_followup_shows_materials_recording_and_survey_only_when_given(language):
    full = render(language, "followup")
    for url in (MATERIALS_URL, RECORDING_URL, SURVEY_URL):
        assert url in full.text.splitlines() and f'href="{url}"' in full.html
    assert {"ja": "お目にかかることができず", "en": "sorry we missed you"}[language] in full.text

    none = render(language, "followup", survey={"url": None, "materials_url": None, "recording_url": None})
    for url in (MATERIALS_URL, RECORDING_URL, SURVEY_URL):
        assert url not in none.text and url not in none.html
    assert {"ja": "アンケート", "en": "survey"}[language] not in none.text

    only_recording = render(language, "followup", survey={"materials_url": None, "url": None})
    assert RECORDING_URL in only_recording.text and MATERIALS_URL not in only_recording.text
    assert SURVEY_URL not in only_recording.text
    assert {"ja": "録画", "en": "recording"}[language] in only_recording.subject

    only_survey = render(language, "followup", survey={"materials_url": None, "recording_url": None})
    assert SURVEY_URL in only_survey.text.splitlines()
    assert MATERIALS_URL not in only_survey.text and RECORDING_URL not in only_survey.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_survey_reminder_resends_the_link(language):
    rendered = render(language, "survey_reminder")
    if language == "ja":
        assert rendered.subject.startswith("【再送・アンケートのお願い】")
    assert SURVEY_URL in rendered.text.splitlines()


# --- staff mails --------------------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_summary_lists_the_numbers_and_organizations(language):
    rendered = render(language, "summary")
    text = rendered.text
    for number in ("73", "54", "52", "2", "71%", "78.4", "84", "219", "57%", "31"):
        assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d.])", text), number
    lines = text.splitlines()
    kaga = next(line for line in lines if "石川県加賀市" in line)
    itoshima = next(line for line in lines if "福岡県糸島市" in line)
    assert re.findall(r"\d+", kaga) == ["12", "10"] and re.findall(r"\d+", itoshima) == ["9", "7"]
    assert kaga.index("12") + 1 == itoshima.index("9"), "numbers are right-aligned in a column"
    assert "窓口改革の具体例が参考になりました。" in text and "録画の公開を希望します。" in text
    assert "参加時間は再入室を合算しています。" in text
    assert "<table>" in rendered.html and "<td>石川県加賀市</td><td>12</td><td>10</td>" in rendered.html
    assert '<img src="cid:attendance-chart@opsflow" alt="' in rendered.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_summary_has_the_chart_only_when_chart_cid_is_set(language):
    context = sample_context(language, "summary")
    context["summary"]["chart_cid"] = None
    rendered = render(language, "summary", context)
    assert "<img" not in rendered.html and "cid:" not in rendered.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_summary_of_the_report_stage_without_survey(language):
    context = sample_context(language, "summary")
    context["summary"].update(stage="report", survey=None)
    rendered = render(language, "summary", context)
    assert "57%" not in rendered.text and "窓口改革" not in rendered.text
    assert "73" in rendered.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_alert_says_what_failed_when_the_error_and_what_to_do(language):
    rendered = render(language, "alert")
    for part in (rendered.text, rendered.html):
        assert "mail.reminder.1d" in part
        assert "SMTP 451 4.3.0 mailbox temporarily unavailable" in part
        assert "メールサーバーの状態を確認し、opsflow run-due を実行してください。" in part
        assert "2027年1月20日(水) 18:00" in part
        assert "パブリテックセミナー vol.3" in part
    assert "mail.reminder.1d" in rendered.subject


@pytest.mark.parametrize("language", LANGUAGES)
def test_alert_for_a_missed_step_says_it_did_not_run(language):
    context = sample_context(language, "alert")
    context["alert"].update(state="missed", step="mail.reminder.1h", error=None)
    rendered = render(language, "alert", context)
    assert {"ja": "実行されませんでした", "en": "did not run"}[language] in rendered.subject
    assert {"ja": "失敗しました", "en": "failed"}[language] not in rendered.subject
    # the reason is the error's (a mail found after the start, a recording Zoom never made): not guessed
    assert {"ja": "締め切りまでに実行されませんでした", "en": "did not run before its deadline"}[language] in rendered.text


def test_alert_names_each_step_of_the_seminar_in_words(tmp_path):
    """An alert about any step of the plan says what that step does, in the seminar's language."""
    from opsflow.after.chat import step_label

    keys = ["zoom.create", "registrants.sync", "mail.confirmation", "mail.invitation", "mail.reminder.1d",
            "mail.change.1", "mail.cancellation", "speakers.request", "speakers.rehearsal", "speakers.materials",
            "speakers.thanks", "report.fetch", "recording.fetch", "survey.send", "survey.remind",
            "summary.staff", "summary.staff.survey"]  # fmt: skip
    for key in keys:
        assert step_label(key, "ja") and step_label(key, "en"), key
    assert step_label("recording.fetch", "ja") == "録画リンクの取得"


# --- escaping, errors, sandbox ------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ("summary", "alert")])
def test_names_are_escaped_in_html_and_verbatim_in_text(language, kind):
    name = "<b>山田</b> & 花子"
    rendered = render(language, kind, recipient={"name": name, "organization": "A&B <市>"})
    assert name in rendered.text
    assert "&lt;b&gt;山田&lt;/b&gt; &amp; 花子" in rendered.html
    assert "<b>" not in rendered.html


def test_staff_content_is_escaped_in_html():
    context = sample_context("ja", "summary")
    context["summary"]["survey"]["comments"] = ["<script>alert(1)</script> & more"]
    rendered = render("ja", "summary", context)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<script>alert(1)</script> & more" in rendered.text


def _write_template(folder: Path, kind: str, text_block: str) -> None:
    (folder / "ja").mkdir(parents=True, exist_ok=True)
    (folder / "ja" / f"{kind}.j2").write_text(
        "{% block subject %}件名{% endblock %}\n"
        f"{{% block text %}}\n{text_block}\n{{% endblock %}}\n"
        "{% block html %}<p>本文</p>{% endblock %}\n",
        encoding="utf-8",
    )


def test_a_missing_variable_is_a_template_error(tmp_path):
    _write_template(tmp_path, "invitation", "{{ recipient.name }} 様\n{{ event.no_such_key }}")
    with pytest.raises(TemplateError) as raised:
        Renderer("ja", [tmp_path]).render("invitation", sample_context("ja", "invitation"))
    message = str(raised.value)
    assert "invitation.j2" in message and "no_such_key" in message


def test_an_unknown_top_level_name_is_a_template_error(tmp_path):
    _write_template(tmp_path, "reminder", "{{ join_url }}")
    with pytest.raises(TemplateError):
        Renderer("ja", [tmp_path]).render("reminder", sample_context("ja", "reminder"))


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ().__class__.__base__.__subclasses__() }}",
    "{{ recipient.__class__ }}",
    "{{ '{0.__class__}'.format(1) }}",
])
def test_the_sandbox_blocks_attribute_tricks(tmp_path, source):
    _write_template(tmp_path, "invitation", source)
    with pytest.raises(TemplateError):
        Renderer("ja", [tmp_path]).render("invitation", sample_context("ja", "invitation"))


def test_a_user_template_overrides_one_kind_and_the_rest_come_from_the_built_in_set(tmp_path):
    _write_template(tmp_path, "invitation", "独自の案内 {{ event.date_text }}")
    renderer = Renderer("ja", [tmp_path, TEMPLATES])
    assert renderer.render("invitation", sample_context("ja", "invitation")).text == \
        "独自の案内 2027年1月21日(木) 18:00〜19:30\n"
    assert PERSONAL_URL in renderer.render("reminder", sample_context("ja", "reminder")).text.splitlines()
