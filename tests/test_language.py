"""Per-registrant language: a language column in the registration CSV (or a Language answer on Zoom's
registration page) mails each person in ja or en; the seminar's language is the default. Through the
CLI, with a real SMTP server on loopback, the fake Zoom over HTTP and a real database."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from .test_cli import NOW, run  # noqa: F401  (the `run` fixture)
from .test_cli_zoom import zoom_env  # noqa: F401  (the `zoom_env` fixture)

TITLE = "パブリテックセミナー vol.4「自治体DXの現場から」"
JOB = f"""\
[event]
id = "lang-seminar"
title = "{TITLE}"
start = 2027-01-21T18:00:00+09:00
duration = "90m"
timezone = "Asia/Tokyo"
language = "ja"
confirmation = false
description = "自治体職員の皆さまを対象としたオンラインセミナーです。"
{{zoom}}
[registrants]
csv = "registrants.csv"
"""
ZOOM = """
[zoom]
kind = "meeting"
host = "me"
registration = {registration}
"""
HEADER = "タイムスタンプ,氏名,メールアドレス,自治体名,言語\r\n"
ROWS = (
    "1,山田 太郎,t-yamada@city.kaga.lg.jp,石川県加賀市,ja",
    "2,John Smith,j-smith@city.example.jp,Example City,en",
    "3,Anna Müller,a-muller@city.example.jp,Example City,\u3000Ｅｎｇｌｉｓｈ ",  # full-width, spaces around
    "4,佐藤 花子,h-sato@city.itoshima.lg.jp,福岡県糸島市,",  # blank: the seminar's language
    "5,鈴木 一郎,i-suzuki@city.kitami.lg.jp,北海道北見市,日本語",
)
ENGLISH = {"j-smith@city.example.jp", "a-muller@city.example.jp"}
JAPANESE = {"t-yamada@city.kaga.lg.jp", "h-sato@city.itoshima.lg.jp", "i-suzuki@city.kitami.lg.jp"}


@pytest.fixture
def env(smtp_sink, db_url) -> dict:
    """SMTP on loopback, and the database of `db_url` (SQLite, and PostgreSQL when it is set up)."""
    return {
        "OPSFLOW_SMTP_URL": smtp_sink.url,
        "OPSFLOW_MAIL_FROM": "セミナー事務局 <seminar@example.jp>",
        "OPSFLOW_ORGANIZER": "パブリテックセミナー事務局",
        "OPSFLOW_DATABASE_URL": db_url,
    }


def _seminar(tmp_path: Path, rows: tuple[str, ...] = ROWS, *, zoom: str = "") -> Path:
    jobs = tmp_path / "jobs"
    jobs.mkdir(exist_ok=True)
    (jobs / "lang-seminar.toml").write_text(JOB.replace("{zoom}", zoom), encoding="utf-8")
    _write_csv(tmp_path, rows)
    return jobs / "lang-seminar.toml"


def _write_csv(tmp_path: Path, rows: tuple[str, ...]) -> Path:
    path = tmp_path / "jobs" / "registrants.csv"
    path.write_text(HEADER + "".join(r + "\r\n" for r in rows), encoding="utf-8-sig")
    return path


def _ics_text(message: EmailMessage) -> str:
    """The attached .ics with its folded lines joined again."""
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return re.sub(r"\r\n[ \t]", "", part.get_payload(decode=True).decode("utf-8"))


def _only(smtp_sink, address: str) -> EmailMessage:
    (message,) = smtp_sink.to(address)
    return message


def test_each_person_gets_the_invitation_in_their_language(run, tmp_path, env, smtp_sink, zoom_env):  # noqa: F811
    _seminar(tmp_path, zoom=ZOOM.format(registration="false"))
    env = {**env, **zoom_env}
    assert run("apply", "--now", NOW, env=env).exit_code == 0
    created = run("zoom", "create", "lang-seminar", env=env)
    assert created.exit_code == 0, created.output

    sent = run("send", "lang-seminar", "invitation", env=env)
    assert (sent.exit_code, sent.stdout) == (
        0,
        "lang-seminar: mail.invitation: 5 sent, 0 had it already, 0 deferred, 0 failed, 0 ambiguous\n",
    )
    for address in ENGLISH:
        message = _only(smtp_sink, address)
        assert message["Subject"] == f"Invitation: {TITLE} (Thursday, 21 January 2027, 18:00–19:30 JST)"
        text = message.get_body(("plain",)).get_content()
        assert text.startswith("Dear ") and "Date and time:\nThursday, 21 January 2027, 18:00–19:30 JST" in text
        assert "様" not in text and "平素" not in text
        assert '<html lang="en">' in message.get_body(("html",)).get_content()
        ics = _ics_text(message)
        assert "DESCRIPTION:Join link: https://" in ics and "\\nMeeting ID: " in ics and "参加用URL" not in ics
    for address in JAPANESE:
        message = _only(smtp_sink, address)
        assert message["Subject"] == f"【ご案内】{TITLE}（2027年1月21日(木) 18:00〜19:30）"
        text = message.get_body(("plain",)).get_content()
        assert " 様\n" in text and "■ 日時\n2027年1月21日(木) 18:00〜19:30" in text and "Dear" not in text
        ics = _ics_text(message)
        assert "DESCRIPTION:参加用URL: https://" in ics and "\\nミーティングID: " in ics and "Join link" not in ics
    assert "John Smith" in str(_only(smtp_sink, "j-smith@city.example.jp")["To"])

    people = json.loads(run("registrants", "list", "lang-seminar", "--json", env=env).stdout)
    assert {p["email"]: (p["language"], p["chosen_language"]) for p in people} == {
        "t-yamada@city.kaga.lg.jp": ("ja", "ja"),
        "j-smith@city.example.jp": ("en", "en"),
        "a-muller@city.example.jp": ("en", "en"),
        "h-sato@city.itoshima.lg.jp": ("ja", None),  # blank: the seminar's, whatever it becomes
        "i-suzuki@city.kitami.lg.jp": ("ja", "ja"),
    }
    assert all("言語" not in p["fields"] for p in people)  # the column chose the language: no form answer
    table = run("registrants", "list", "lang-seminar", env=env).stdout
    assert re.search(r"j-smith@city\.example\.jp .* en\s*$", table, re.MULTILINE)

    preview = run("preview", "lang-seminar", "mail.reminder.1d", "--to", "a-muller@city.example.jp", env=env)
    assert preview.exit_code == 0, preview.output
    lines = preview.stdout.splitlines()
    assert lines[0].startswith(f"Subject: Reminder: {TITLE} starts ") and lines[2] == "Language: en"
    assert "Dear Anna Müller," in lines
    japanese = run("preview", "lang-seminar", "invitation", "--to", "h-sato@city.itoshima.lg.jp", env=env)
    assert japanese.stdout.splitlines()[2] == "Language: ja" and "佐藤 花子 様" in japanese.stdout


def test_an_english_seminar_mails_japanese_to_who_chose_it(run, tmp_path, env, smtp_sink):  # noqa: F811
    job = _seminar(tmp_path, ("1,山田 太郎,t-yamada@city.kaga.lg.jp,石川県加賀市,日本語", "2,John Smith,j@example.jp,X,"))
    job.write_text(job.read_text(encoding="utf-8").replace('language = "ja"', 'language = "en"'), encoding="utf-8")
    assert run("apply", "--now", NOW, env=env).exit_code == 0
    assert run("send", "lang-seminar", "invitation", env=env).exit_code == 0
    assert _only(smtp_sink, "t-yamada@city.kaga.lg.jp")["Subject"].startswith("【ご案内】")
    assert _only(smtp_sink, "j@example.jp")["Subject"].startswith("Invitation: ")


@pytest.mark.parametrize(
    "value,shown",
    [("French", "French"), ("jp", "jp"), ("日本", "日本"), ("ja,en", "ja,en")],
)
def test_a_language_opsflow_cannot_mail_in_stops_the_import(run, tmp_path, env, value, shown):  # noqa: F811
    _seminar(tmp_path, ROWS[:2])
    assert run("apply", "--now", NOW, env=env).exit_code == 0
    assert run("registrants", "import", "lang-seminar", env=env).exit_code == 0
    before = run("registrants", "list", "lang-seminar", "--json", env=env).stdout

    csv = _write_csv(tmp_path, (*ROWS[:2], f'3,Pierre Dupont,p-dupont@ville.example.fr,Ville,"{value}"', *ROWS[3:]))
    result = run("registrants", "import", "lang-seminar", env=env)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {csv} row 4: 言語 '{shown}' is not a language opsflow mails in; write ja or en (日本語, 英語, "
        "Japanese and English work too), or leave it blank for the seminar's language. Nothing was imported\n"
    )
    assert "Traceback" not in result.output and result.stdout == ""
    assert run("registrants", "list", "lang-seminar", "--json", env=env).stdout == before  # nothing changed

    # the mail step imports the CSV first: it stops before sending anything, for the same reason
    sent = run("send", "lang-seminar", "invitation", env=env)
    assert sent.exit_code == 2 and "row 4: 言語 " in sent.stderr and "Traceback" not in sent.output


def test_the_column_named_in_the_job_file(run, tmp_path, env, smtp_sink):  # noqa: F811
    job = _seminar(tmp_path)
    (tmp_path / "jobs" / "registrants.csv").write_text(
        "氏名,メールアドレス,Preferred language of correspondence\r\n"
        "John Smith,j@example.jp,English\r\n山田 太郎,t@example.jp,\r\n",
        encoding="utf-8",
    )
    job.write_text(
        job.read_text(encoding="utf-8")
        + '\n[registrants.columns]\nlanguage = "Preferred language of correspondence"\n',
        encoding="utf-8",
    )
    assert run("apply", "--now", NOW, env=env).exit_code == 0
    imported = run("registrants", "import", "lang-seminar", "--json", env=env)
    assert imported.exit_code == 0, imported.output
    people = json.loads(run("registrants", "list", "lang-seminar", "--json", env=env).stdout)
    assert [(p["email"], p["chosen_language"], p["fields"]) for p in people] == [
        ("j@example.jp", "en", {}),
        ("t@example.jp", None, {}),
    ]


def test_zoom_registrants_choose_by_their_answer(run, tmp_path, env, smtp_sink, zoom_env, fake_zoom, zoom):  # noqa: F811
    _seminar(tmp_path, ROWS[:1], zoom=ZOOM.format(registration="true"))
    env = {**env, **zoom_env}
    assert run("apply", "--now", NOW, env=env).exit_code == 0
    assert run("zoom", "create", "lang-seminar", env=env).exit_code == 0
    (meeting_id,) = fake_zoom.meetings
    answers = {
        "mary@town.example.gov": ("Mary", "Jones", [{"title": "Language", "value": "English"}]),
        "naoko@town.example.lg.jp": ("直子", "森", [{"title": "言語", "value": "日本語"}]),
        "kim@town.example.kr": ("Min", "Kim", [{"title": "Language", "value": "Korean"}]),
        "walk@town.example.lg.jp": ("歩", "徒歩", [{"title": "ご質問", "value": "English please"}]),
    }
    for email, (first, last, questions) in answers.items():
        person = {"email": email, "first_name": first, "last_name": last, "custom_questions": questions}
        zoom.add_registrant("meeting", meeting_id, person)

    synced = run("registrants", "sync", "lang-seminar", env=env)
    assert synced.exit_code == 0, synced.output
    assert synced.stdout.splitlines()[-1] == (
        "lang-seminar: zoom: 1 registered, 0 cancelled, 4 added from Zoom's registration page"
    )
    assert synced.stderr == (
        "Warning: kim@town.example.kr (Kim Min), registered on Zoom's page: Language 'Korean' is neither ja nor "
        "en: they get mail in the seminar's language (ja); for the other one, add them to the registrants CSV with "
        "its language column (write ja or en (日本語, 英語, Japanese and English work too), or leave it blank for "
        "the seminar's language)\n"
    )
    people = json.loads(run("registrants", "list", "lang-seminar", "--json", env=env).stdout)
    chosen = {p["email"]: p["chosen_language"] for p in people}
    assert chosen == {
        "t-yamada@city.kaga.lg.jp": "ja",
        "mary@town.example.gov": "en",
        "naoko@town.example.lg.jp": "ja",
        "kim@town.example.kr": None,
        "walk@town.example.lg.jp": None,  # another question: no answer about the language
    }
    again = run("registrants", "sync", "lang-seminar", env=env)
    assert again.stderr == ""  # said once, when they were added

    assert run("send", "lang-seminar", "invitation", env=env).exit_code == 0
    mary = _only(smtp_sink, "mary@town.example.gov")
    assert mary["Subject"].startswith("Invitation: ")
    assert "https://zoom.us/w/" in mary.get_body(("plain",)).get_content()  # her own link, in English
    for address in ("naoko@town.example.lg.jp", "kim@town.example.kr", "walk@town.example.lg.jp"):
        assert _only(smtp_sink, address)["Subject"].startswith("【ご案内】")


def test_a_changed_language_takes_effect_at_the_next_reminder(run, tmp_path, env, smtp_sink):  # noqa: F811
    """cron's `opsflow run-due`: the invitation in English, then the CSV says 日本語, and the reminder that
    follows (which imports the CSV first) is in Japanese; another person goes the other way."""
    _seminar(tmp_path, ROWS[:2])
    assert run("apply", "--now", NOW, env=env).exit_code == 0
    first = run("run-due", "--now", "2027-01-07T10:00:00+09:00", env=env)
    assert first.exit_code == 0, first.output
    assert _only(smtp_sink, "j-smith@city.example.jp")["Subject"].startswith("Invitation: ")
    assert _only(smtp_sink, "t-yamada@city.kaga.lg.jp")["Subject"].startswith("【ご案内】")

    _write_csv(tmp_path, ("1,山田 太郎,t-yamada@city.kaga.lg.jp,石川県加賀市,English", "2,John Smith,j-smith@city.example.jp,Example City,日本語"))
    smtp_sink.received.clear()
    reminder = run("run-due", "--now", "2027-01-20T18:00:00+09:00", env=env)
    assert reminder.exit_code == 0, reminder.output
    smith = _only(smtp_sink, "j-smith@city.example.jp")
    assert smith["Subject"] == f"【リマインド】明日1月21日(木)18:00開始：{TITLE}"
    assert "John Smith 様" in smith.get_body(("plain",)).get_content()
    yamada = _only(smtp_sink, "t-yamada@city.kaga.lg.jp")
    assert yamada["Subject"] == f"Reminder: {TITLE} starts tomorrow, Thursday 21 January, at 18:00 JST"
    people = json.loads(run("registrants", "list", "lang-seminar", "--json", env=env).stdout)
    assert {p["email"]: p["language"] for p in people} == {
        "t-yamada@city.kaga.lg.jp": "en",
        "j-smith@city.example.jp": "ja",
    }


def test_a_broken_english_template_stops_the_batch_before_anyone_is_mailed(run, tmp_path, env, smtp_sink):  # noqa: F811
    """The seminar's own template folder has an English invitation that cannot render: the batch stops
    before the first message, although the first person on the list is mailed in Japanese."""
    job = _seminar(tmp_path)
    own = tmp_path / "jobs" / "templates" / "en"
    own.mkdir(parents=True)
    (own / "invitation.j2").write_text(
        "{% block subject %}Invitation {{ event.no_such_thing }}{% endblock %}"
        "{% block text %}x{% endblock %}{% block html %}x{% endblock %}",
        encoding="utf-8",
    )
    job.write_text(
        job.read_text(encoding="utf-8").replace("confirmation = false", 'confirmation = false\ntemplates = "templates"'),
        encoding="utf-8",
    )
    validated = run("validate", env=env)
    assert validated.exit_code == 2 and "templates/en/invitation.j2:1: cannot render the subject block" in validated.stderr
    assert run("apply", "--now", NOW, env=env).exit_code == 0
    sent = run("send", "lang-seminar", "invitation", env=env)
    assert sent.exit_code == 2 and "templates/en/invitation.j2:1: cannot render the subject block" in sent.stderr
    assert smtp_sink.received == []
    deliveries = json.loads(run("deliveries", "lang-seminar", "--json", env=env).stdout)
    assert deliveries == []  # nobody claimed: the fixed template sends to everyone


def test_someone_added_by_hand_with_a_language(run, tmp_path, env, smtp_sink):  # noqa: F811
    _seminar(tmp_path, ROWS[:1])
    assert run("apply", "--now", NOW, env=env).exit_code == 0
    assert run("registrants", "import", "lang-seminar", env=env).exit_code == 0
    bad = run("registrants", "add", "lang-seminar", "p@ville.example.fr", "--name", "Pierre", "--language", "fr",
              env=env)
    assert (bad.exit_code, bad.stderr) == (
        2,
        "Error: --language 'fr' is not a language opsflow mails in; write ja or en (日本語, 英語, Japanese and "
        "English work too), or leave it blank for the seminar's language\n",
    )
    added = run("registrants", "add", "lang-seminar", "j@example.jp", "--name", "John Smith", "--language", "ＥＮ",
                env=env)
    assert (added.exit_code, added.stdout) == (0, "j@example.jp added\n")
    # a later import keeps them (added by hand) and their language
    assert run("registrants", "import", "lang-seminar", env=env).exit_code == 0

    raw = run("registrants", "list", "lang-seminar", "--csv", env=env).stdout_bytes.decode("utf-8-sig")
    assert raw.splitlines() == [
        "email,name,organization,department,status,source,join_link,language",
        "t-yamada@city.kaga.lg.jp,山田 太郎,石川県加賀市,,active,csv,,ja",
        "j@example.jp,John Smith,,,active,manual,,en",
    ]
    assert run("send", "lang-seminar", "invitation", env=env).exit_code == 0
    assert _only(smtp_sink, "j@example.jp")["Subject"].startswith("Invitation: ")
