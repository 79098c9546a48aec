"""The speakers' own mails ([speakers]) as an organizer meets them: a webinar job with two speakers with an
email and one without, applied and run by the runner against the fake Zoom and a loopback SMTP server
(SQLite and PostgreSQL), two cron runners at once, a meeting instead of a webinar, each mail at its time,
the thank-you with the figures and only the comments about the talk, a Zoom that fails the panelist add,
the commands (`send`, `preview`, `speakers`) and bad job files."""

from __future__ import annotations

import dataclasses
import json
import os
import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from opsflow import store as db
from opsflow.cli.main import cli
from opsflow.core.apply import apply_events
from opsflow.core.config import Secret, Settings
from opsflow.core.jobspec import load_job
from opsflow.core.runner import RunContext, run_due
from opsflow.mail.render import renderer_for
from opsflow.mail.speakers import SPEAKER_KINDS, sample_speaker_context
from opsflow.sandbox.zoom import FakeZoom
from opsflow.store import open_store

from .conftest import EXAMPLE_JOB, REPO
from .test_unattended import opsflow, runners_at_once, settings_env

JST = timezone(timedelta(hours=9))
APPLIED = datetime(2026, 11, 26, 10, 0, tzinfo=JST)
START = datetime(2027, 1, 21, 18, 0, tzinfo=JST)
END = START + timedelta(minutes=90)
STAFF = "seminar-staff@example.jp"
KAGA = "daiko@city.kaga.example.lg.jp"
ITOSHIMA = "yamada@city.itoshima.example.lg.jp"
EVENT = "webinar-2027-01"

JOB = """\
[event]
id = "webinar-2027-01"
title = "パブリテックセミナー vol.4「窓口DXの現場から」"
start = 2027-01-21T18:00:00+09:00
duration = "90m"

[[event.speakers]]
name = "大幸 喜徳"
affiliation = "石川県加賀市 政策戦略部"
talk = "加賀市におけるデジタル化の取り組み"
email = "Daiko@city.kaga.example.lg.jp"
comment_columns = ["加賀市のご講演へのご感想"]

[[event.speakers]]
name = "山田 花子"
affiliation = "福岡県糸島市"
talk = "「書かない窓口」導入の一年"
email = "yamada@city.itoshima.example.lg.jp"
comment_columns = ["糸島市のご講演へのご感想"]

[[event.speakers]]
name = "司会 太郎"
affiliation = "事務局"

[zoom]
kind = "{kind}"

[registrants]
csv = "registrants.csv"

[survey]
url = "https://forms.example.jp/f/vol4?email={{email}}"
comment_columns = ["全体のご感想"]

[speakers]
rehearsal = "start - 7d @ 18:00"
rehearsal_notice_at = "start - 9d @ 10:00"
materials_due = "start - 5bd @ 17:00"
materials_remind_at = "start - 8bd @ 10:00"

[summary]
to = ["seminar-staff@example.jp"]
"""

REGISTRANTS = """\
氏名,メールアドレス,所属
高橋 一郎,ichiro@city.hyuga.example.lg.jp,宮崎県日向市
佐藤 二郎,jiro@city.kaga.example.lg.jp,石川県加賀市
鈴木 三郎,saburo@city.itoshima.example.lg.jp,福岡県糸島市
田中 四郎,shiro@pref.example.lg.jp,某県
"""

SURVEY = """\
メールアドレス,加賀市のご講演へのご感想,糸島市のご講演へのご感想,全体のご感想
ichiro@city.hyuga.example.lg.jp,加賀市の事例が具体的でした。,窓口の写真が分かりやすかったです。,また参加します。
jiro@city.kaga.example.lg.jp,庁内の合意形成をもっと聞きたいです。,,時間が短く感じました。
"""


def _job(tmp_path: Path, kind: str = "webinar", text: str = JOB) -> Path:
    jobs = tmp_path / "jobs"
    jobs.mkdir(exist_ok=True)
    (jobs / "registrants.csv").write_text(REGISTRANTS, encoding="utf-8")
    path = jobs / "webinar.toml"
    path.write_text(text.format(kind=kind), encoding="utf-8")
    return path


class World:
    """A seminar applied to a store, run by the runner at given times against the fake Zoom and the sink."""

    def __init__(self, tmp_path, db_url, zoom, fake_zoom, smtp_sink, clock, kind: str = "webinar") -> None:
        self.store = open_store(db_url)
        self.db_url = db_url
        self.settings = Settings(
            smtp_url=Secret(smtp_sink.url),
            mail_from="パブリテックセミナー事務局 <seminar@example.jp>",
            organizer="パブリテックセミナー事務局",
        )
        self.path = _job(tmp_path, kind)
        self.zoom, self.fake, self.sink, self.clock = zoom, fake_zoom, smtp_sink, clock
        self.apply(APPLIED)

    def apply(self, when: datetime) -> None:
        apply_events(self.store, [load_job(self.path)], when.astimezone(UTC))

    def run(self, when: datetime, owner: str = "runner-a"):
        self.clock.wall = when.astimezone(UTC)
        ctx = RunContext(self.store, self.settings, when.astimezone(UTC), lambda: self.zoom, owner=owner)
        return {r.key: r for r in run_due(ctx, event_id=EVENT)}

    def due(self, key: str) -> datetime:
        with self.store.read() as conn:
            return db.get_step(conn, EVENT, key)["due_at"]

    def state(self, key: str) -> str:
        with self.store.read() as conn:
            return db.get_step(conn, EVENT, key)["state"]

    def webinar_id(self) -> int:
        with self.store.read() as conn:
            return db.get_zoom_meeting(conn, EVENT)["meeting_id"]

    def mails(self, address: str, subject: str = "") -> list:
        return [m for m in self.sink.to(address) if subject in str(m["Subject"])]


@pytest.fixture
def world(tmp_path, db_url, zoom, fake_zoom, smtp_sink, clock):
    w = World(tmp_path, db_url, zoom, fake_zoom, smtp_sink, clock)
    yield w
    w.store.dispose()


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _ics(message) -> str:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return part.get_content() if isinstance(part.get_content(), str) else part.get_content().decode()


def _unfolded(ics: str) -> str:
    return ics.replace("\r\n ", "").replace("\n ", "")


def _panelist_posts(fake_zoom, webinar_id: int) -> list[list[str]]:
    path = f"/v2/webinars/{webinar_id}/panelists"
    return [
        [p["email"] for p in json.loads(r.body)["panelists"]]
        for r in fake_zoom.recorded
        if r.method == "POST" and r.path == path
    ]


# --- the request: panelists once, each their own link, nobody twice ---------------------------------------


def test_a_webinar_s_speakers_become_panelists_in_one_call_and_each_gets_their_own_link(world):
    results = world.run(APPLIED)

    assert results["speakers.request"].state == "done", results
    assert "2 sent; panelists: 2 added, 0 already there" in results["speakers.request"].message
    webinar = world.webinar_id()
    assert _panelist_posts(world.fake, webinar) == [["Daiko@city.kaga.example.lg.jp", ITOSHIMA]]
    assert world.fake.panelist_invitations(webinar) == []  # Zoom's own panelist mail is off
    assert world.fake.webinars[webinar]["settings"]["panelists_invitation_email_notification"] is False
    links = {p["email"].lower(): p["join_url"] for p in world.fake.panelists(webinar)}
    assert len(set(links.values())) == 2
    for address, other in ((KAGA, ITOSHIMA), (ITOSHIMA, KAGA)):
        (mail,) = world.mails(address)
        assert str(mail["Subject"]).startswith("【ご登壇のお願い】パブリテックセミナー vol.4")
        text = _text(mail)
        assert links[address] in text.splitlines()  # their own panelist link, on a line of its own
        assert links[other] not in text
        assert "登壇者（パネリスト）用のURL" in text
        assert "ミーティングID" not in text  # typed into the app, the webinar's ID would let them in as an attendee
        assert "2027年1月14日(木) 18:00" in text  # the rehearsal
        ics = _unfolded(_ics(mail))
        assert f"URL:{links[address]}" in ics and "DTSTART:20270121T090000Z" in ics
    assert str(world.mails(KAGA)[0]["To"]) == "大幸 喜徳 <Daiko@city.kaga.example.lg.jp>"
    speakers_mail = [r for r in world.sink.received if "ご登壇" in str(r.message()["Subject"])]
    assert sorted(r.recipients[0] for r in speakers_mail) == sorted([KAGA, ITOSHIMA])  # not the host, no email

    posts = len(world.fake.recorded)
    again = world.run(APPLIED + timedelta(minutes=1), owner="runner-b")
    assert "speakers.request" not in again
    assert [r for r in world.fake.recorded[posts:] if r.method == "POST"] == []
    assert len(world.mails(KAGA)) == 1 and len(world.mails(ITOSHIMA)) == 1
    with world.store.read() as conn:
        rows = db.list_deliveries(conn, EVENT, message_key="speakers.request")
    assert sorted((r["recipient"], r["state"]) for r in rows) == [(KAGA, "sent"), (ITOSHIMA, "sent")]


def test_a_meeting_s_speakers_get_the_seminar_s_link(tmp_path, db_url, zoom, fake_zoom, smtp_sink, clock):
    w = World(tmp_path, db_url, zoom, fake_zoom, smtp_sink, clock, kind="meeting")
    try:
        assert w.run(APPLIED)["speakers.request"].state == "done"
        (meeting_id,) = fake_zoom.meetings
        join_url = fake_zoom.meetings[meeting_id]["join_url"]
        for address in (KAGA, ITOSHIMA):
            (mail,) = w.mails(address)
            text = _text(mail)
            assert join_url in text.splitlines() and "パネリスト" not in text
            assert f"ミーティングID：{str(meeting_id)[:3]} " in text
            assert f"URL:{join_url}" in _unfolded(_ics(mail))
        assert not any(r.path.endswith("/panelists") for r in fake_zoom.recorded)
    finally:
        w.store.dispose()


# --- each mail at its time, the thank-you after the report ------------------------------------------------


def test_rehearsal_materials_and_thanks_each_at_their_time(world, tmp_path):
    world.run(APPLIED)
    webinar = world.webinar_id()
    links = {p["email"].lower(): p["join_url"] for p in world.fake.panelists(webinar)}

    materials_at = world.due("speakers.materials").astimezone(JST)
    assert materials_at == datetime(2027, 1, 8, 10, 0, tzinfo=JST)  # 8 business days before: Jan 11 is a holiday
    assert "speakers.materials" not in world.run(materials_at - timedelta(minutes=1))
    assert world.run(materials_at)["speakers.materials"].state == "done"
    (mail,) = world.mails(KAGA, "ご講演資料のご提出について")
    assert "2027年1月14日(木) 17:00" in _text(mail)  # the deadline: 5 business days before the start
    assert not list(mail.iter_attachments())

    notice_at = world.due("speakers.rehearsal").astimezone(JST)
    assert notice_at == datetime(2027, 1, 12, 10, 0, tzinfo=JST)
    assert world.run(notice_at)["speakers.rehearsal"].state == "done"
    for address in (KAGA, ITOSHIMA):
        (mail,) = world.mails(address, "リハーサルのご案内")
        assert "（2027年1月14日(木) 18:00）" in str(mail["Subject"])
        assert links[address] in _text(mail).splitlines()  # the rehearsal is the webinar's practice session
    assert _panelist_posts(world.fake, webinar) == [["Daiko@city.kaga.example.lg.jp", ITOSHIMA]]  # nobody added again

    world.clock.wall = END.astimezone(UTC)
    world.fake.end_meeting(
        webinar,
        ended_at=END.astimezone(UTC),
        participants=[
            {"name": n, "user_email": e, "join_time": START.astimezone(UTC), "leave_time": END.astimezone(UTC)}
            for n, e in (
                ("高橋 一郎", "ichiro@city.hyuga.example.lg.jp"),
                ("佐藤 二郎", "jiro@city.kaga.example.lg.jp"),
                ("鈴木 三郎", "saburo@city.itoshima.example.lg.jp"),
            )
        ],
    )
    thanks_at = world.due("speakers.thanks").astimezone(JST)
    early = world.run(thanks_at - timedelta(days=1))
    assert early["report.fetch"].state == "done" and "speakers.thanks" not in early

    survey = tmp_path / "answers.csv"
    survey.write_text(SURVEY, encoding="utf-8")
    env = {"OPSFLOW_DATABASE_URL": world.db_url, "OPSFLOW_JOBS_DIR": str(tmp_path / "jobs")}
    imported = CliRunner().invoke(cli, ["survey", "import", EVENT, str(survey)], env=env)
    assert imported.exit_code == 0, imported.output

    assert world.run(thanks_at)["speakers.thanks"].state == "done"
    (kaga,) = world.mails(KAGA, "【御礼】")
    (itoshima,) = world.mails(ITOSHIMA, "【御礼】")
    kaga_text, itoshima_text = _text(kaga), _text(itoshima)
    for text in (kaga_text, itoshima_text):
        assert "お申し込み：4名" in text and "当日のご参加：3名" in text and "参加率：75%" in text
        assert "また参加します。" not in text  # the seminar as a whole: not about their talk
    assert "・加賀市の事例が具体的でした。" in kaga_text and "・庁内の合意形成をもっと聞きたいです。" in kaga_text
    assert "窓口の写真" not in kaga_text
    assert "・窓口の写真が分かりやすかったです。" in itoshima_text and "加賀市の事例" not in itoshima_text
    assert world.run(thanks_at + timedelta(hours=1)) == {}
    assert (
        Counter((r.recipients[0], str(r.message()["Subject"])) for r in world.sink.received).most_common(1)[0][1] == 1
    )
    assert world.mails(STAFF, "【要対応】speakers") == []  # (the registrants' reminders were missed: not run)


def test_the_mails_before_the_seminar_are_missed_once_it_started(world):
    world.run(APPLIED)
    late = world.run(START + timedelta(minutes=5))
    assert late["speakers.materials"].state == "missed" and late["speakers.rehearsal"].state == "missed"
    assert world.mails(KAGA, "リハーサル") == [] and world.mails(KAGA, "ご講演資料") == []
    assert len(world.mails(STAFF, "【要対応】speakers.")) == 2


# --- a Zoom that fails the panelist add ------------------------------------------------------------------


def test_zoom_failing_the_panelist_add_is_retried_then_fails_and_alerts_once(world):
    world.fake.fail_next(503, code=503, message="Service unavailable", times=1000, method="POST", path="/v2/webinars/")

    first = world.run(APPLIED)
    assert first["zoom.create"].state == "done"
    assert first["speakers.request"].state == "retry", first["speakers.request"]
    assert world.mails(KAGA) == [] and world.mails(ITOSHIMA) == []
    retry_at = first["speakers.request"].retry_at
    assert world.run(retry_at - timedelta(seconds=1)) == {}
    assert world.run(retry_at)["speakers.request"].state == "retry"

    last = world.run(APPLIED + timedelta(days=1, hours=1))  # past its deadline (a day after it was due)
    assert last["speakers.request"].state == "failed"
    assert world.state("speakers.request") == "failed"
    (alert,) = world.mails(STAFF, "【要対応】speakers.request が失敗しました")
    assert "503" in _text(alert) or "Zoom" in _text(alert)
    assert world.mails(KAGA) == [] and world.fake.panelists(world.webinar_id()) == []
    assert world.run(APPLIED + timedelta(days=1, hours=2)) == {}  # failed: left for a person
    assert len(world.mails(STAFF, "【要対応】")) == 1


# --- two cron runners at once ----------------------------------------------------------------------------


def test_two_runners_at_once_request_each_speaker_once(db_url, tmp_path):
    path = _job(tmp_path)
    with FakeZoom(clock=lambda: APPLIED.astimezone(UTC)) as fake:
        from .smtp_sink import SmtpSink

        with SmtpSink() as sink:
            env = settings_env(db_url, path.parent, fake, sink.url)
            assert opsflow("apply", "--now", APPLIED.isoformat(), env=env, cwd=tmp_path).returncode == 0
            runs = runners_at_once(2, APPLIED, env, tmp_path) + runners_at_once(2, APPLIED, env, tmp_path)
            assert [(r.returncode, r.stderr) for r in runs] == [(0, "")] * 4
            (webinar,) = fake.webinars
            posts = [r for r in fake.recorded if r.method == "POST" and r.path.endswith("/panelists")]
            assert len(posts) == 1 and len(fake.panelists(webinar)) == 2
            requests = Counter(r.recipients[0] for r in sink.received if "ご登壇" in str(r.message()["Subject"]))
            assert requests == Counter({KAGA: 1, ITOSHIMA: 1})
            done = [line for r in runs for line in r.stdout.splitlines() if "speakers.request done" in line]
            assert len(done) == 1


# --- by hand: send, preview, the listing, a speaker taken out -------------------------------------------


@pytest.fixture
def cli_env(world, tmp_path):
    fake = world.fake
    return {
        "OPSFLOW_DATABASE_URL": world.db_url,
        "OPSFLOW_JOBS_DIR": str(tmp_path / "jobs"),
        "OPSFLOW_ZOOM_ACCOUNT_ID": fake.account_id,
        "OPSFLOW_ZOOM_CLIENT_ID": fake.client_id,
        "OPSFLOW_ZOOM_CLIENT_SECRET": fake.client_secret,
        "OPSFLOW_ZOOM_API_URL": fake.api_url,
        "OPSFLOW_ZOOM_OAUTH_URL": fake.oauth_url,
        "OPSFLOW_SMTP_URL": world.sink.url,
        "OPSFLOW_MAIL_FROM": "パブリテックセミナー事務局 <seminar@example.jp>",
    }


def _cli(env, *args):
    return CliRunner().invoke(cli, list(args), env=env)


def test_send_by_hand_dry_run_to_one_and_resend(world, cli_env):
    world.run(APPLIED)
    dry = _cli(cli_env, "send", EVENT, "speaker_materials", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    data = json.loads(dry.output)
    assert (data["message"], data["would_send"], data["panelists"]) == ("speakers.materials", [KAGA, ITOSHIMA], None)
    assert world.mails(KAGA, "ご講演資料") == []

    one = _cli(cli_env, "send", EVENT, "speakers.materials", "--to", "YAMADA@city.itoshima.example.lg.jp")
    assert one.exit_code == 0, one.output
    assert "speakers.materials: 1 sent" in one.output
    assert len(world.mails(ITOSHIMA, "ご講演資料")) == 1 and world.mails(KAGA, "ご講演資料") == []
    assert world.state("speakers.materials") == "planned"  # --to leaves the step alone

    rest = _cli(cli_env, "send", EVENT, "speakers.materials", "--json")
    assert json.loads(rest.output)["sent"] == [KAGA] and world.state("speakers.materials") == "done"
    again = _cli(cli_env, "send", EVENT, "speakers.materials", "--to", ITOSHIMA, "--resend")
    assert again.exit_code == 0 and len(world.mails(ITOSHIMA, "ご講演資料")) == 2

    stranger = _cli(cli_env, "send", EVENT, "speakers.materials", "--to", "ichiro@city.hyuga.example.lg.jp")
    assert stranger.exit_code == 2
    assert stranger.output.startswith("Error: ichiro@city.hyuga.example.lg.jp is not a speaker of webinar-2027-01")


def test_preview_and_the_listing(world, cli_env):
    world.run(APPLIED)
    links = {p["email"].lower(): p["join_url"] for p in world.fake.panelists(world.webinar_id())}
    shown = _cli(cli_env, "preview", EVENT, "speakers.request", "--to", ITOSHIMA)
    assert shown.exit_code == 0, shown.output
    assert "Subject: 【ご登壇のお願い】" in shown.output and links[ITOSHIMA] in shown.output
    thanks = _cli(cli_env, "preview", EVENT, "speakers.thanks")
    assert thanks.exit_code == 0 and "大幸 喜徳 様" in thanks.output and "参加率" not in thanks.output  # no report yet

    listed = _cli(cli_env, "speakers", EVENT, "--json")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert data["webinar"] is True and data["panelists_error"] is None
    rows = {r["name"]: r for r in data["speakers"]}
    assert rows["大幸 喜徳"]["panelist"] is True and rows["大幸 喜徳"]["panelist_link"] == links[KAGA]
    assert rows["大幸 喜徳"]["mails"] == {"speakers.request": "sent"}
    assert rows["司会 太郎"]["email"] is None and rows["司会 太郎"]["panelist"] is False
    text = _cli(cli_env, "speakers", EVENT)
    assert "   mails:    request sent" in text.output and "gets no mails" in text.output


def test_a_speaker_taken_out_of_the_job_file_is_removed_as_a_panelist_at_the_next_request(world, cli_env):
    world.run(APPLIED)
    webinar = world.webinar_id()
    fake_zoom = world.fake
    by_hand = {"name": "事務局 司会", "email": "host-moderator@example.jp"}
    from opsflow.zoom.panelists import add_panelists

    add_panelists(world.zoom, webinar, [by_hand])  # added on Zoom by hand: opsflow leaves it
    text = JOB.replace('email = "yamada@city.itoshima.example.lg.jp"\n', "")
    world.path.write_text(text.format(kind="webinar"), encoding="utf-8")
    world.apply(APPLIED + timedelta(days=1))

    sent = _cli(cli_env, "send", EVENT, "speakers.request", "--json")
    assert sent.exit_code == 0, sent.output
    data = json.loads(sent.output)
    assert data["panelists"]["removed"] == [ITOSHIMA] and data["sent"] == []
    assert sorted(p["email"] for p in fake_zoom.panelists(webinar)) == [
        "Daiko@city.kaga.example.lg.jp",
        "host-moderator@example.jp",
    ]
    listed = json.loads(_cli(cli_env, "speakers", EVENT, "--json").output)
    assert listed["no_longer_speakers"] == [ITOSHIMA]


def test_speakers_changed_in_the_job_file_after_the_request_are_settled_at_the_next_run(world):
    """A speaker given an email after the request went gets it at the next run (on a webinar, as a
    panelist), one taken out leaves the panel, and those who had it do not get it again."""
    world.run(APPLIED)
    webinar = world.webinar_id()
    text = JOB.replace('email = "yamada@city.itoshima.example.lg.jp"\n', "").replace(
        'name = "司会 太郎"\naffiliation = "事務局"\n', 'name = "司会 太郎"\naffiliation = "事務局"\nemail = "moderator@example.jp"\n'
    )
    world.path.write_text(text.format(kind="webinar"), encoding="utf-8")
    later = APPLIED + timedelta(days=1)
    world.apply(later)
    assert world.state("speakers.request") == "planned"

    results = world.run(later)

    assert results["speakers.request"].state == "done", results["speakers.request"]
    assert len(world.mails("moderator@example.jp")) == 1
    assert len(world.mails(KAGA)) == 1 and len(world.mails(ITOSHIMA)) == 1  # nobody twice
    assert sorted(p["email"].lower() for p in world.fake.panelists(webinar)) == sorted([KAGA, "moderator@example.jp"])
    world.apply(later + timedelta(hours=1))  # nothing changed since: the request stays done
    assert world.state("speakers.request") == "done"


# --- bad job files ---------------------------------------------------------------------------------------


def _line(path: Path, start: str) -> int:
    return next(n for n, t in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if t.startswith(start))


def test_a_speaker_email_that_is_no_address_names_file_key_and_line(tmp_path):
    path = _job(tmp_path, text=JOB.replace('"yamada@city.itoshima.example.lg.jp"', '"yamada at itoshima"'))
    result = CliRunner().invoke(cli, ["validate", str(path)], env={"OPSFLOW_JOBS_DIR": str(path.parent)})
    assert result.exit_code == 2 and "Traceback" not in result.output
    line = _line(path, 'email = "yamada at')
    assert f"{path}:{line}: event.speakers[2].email: 'yamada at itoshima' is not an email address" in result.output


def test_a_speakers_table_without_any_speaker_email_is_refused(tmp_path):
    text = JOB.replace('email = "Daiko@city.kaga.example.lg.jp"\n', "").replace(
        'email = "yamada@city.itoshima.example.lg.jp"\n', ""
    )
    text = text.replace('comment_columns = ["加賀市のご講演へのご感想"]\n', "").replace(
        'comment_columns = ["糸島市のご講演へのご感想"]\n', ""
    )
    path = _job(tmp_path, text=text)
    result = CliRunner().invoke(cli, ["validate", str(path)], env={"OPSFLOW_JOBS_DIR": str(path.parent)})
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{path}:" in result.output and "speakers: no speaker has an email" in result.output


def test_the_rehearsal_notice_after_the_rehearsal_names_its_line(tmp_path):
    path = _job(tmp_path, text=JOB.replace('"start - 9d @ 10:00"', '"start - 6d @ 10:00"'))
    result = CliRunner().invoke(cli, ["validate", str(path)], env={"OPSFLOW_JOBS_DIR": str(path.parent)})
    assert result.exit_code == 2 and "Traceback" not in result.output
    line = _line(path, "rehearsal_notice_at")
    assert f"{path}:{line}: speakers.rehearsal_notice_at" in result.output


# --- the templates ---------------------------------------------------------------------------------------

SNAPSHOTS = REPO / "tests" / "snapshots"
SETTINGS = Settings(organizer="パブリテックセミナー事務局", organizer_contact="seminar@example.jp / 03-1234-5678")


def _example(language: str, **zoom):
    event = load_job(EXAMPLE_JOB)
    spec = event.spec.model_copy(update={"event": event.spec.event.model_copy(update={"language": language})})
    if zoom:
        spec = spec.model_copy(update={"zoom": spec.zoom.model_copy(update=zoom)})
    return dataclasses.replace(event, spec=spec)


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("kind", SPEAKER_KINDS)
def test_speaker_mail_matches_its_snapshot(kind, language):
    event = _example(language, kind="webinar")
    rendered = renderer_for(language).render(kind, sample_speaker_context(kind, event, SETTINGS))
    text = f"Subject: {rendered.subject}\n\n{rendered.text}"
    for suffix, actual in ((".txt", text), (".html", rendered.html)):
        path = SNAPSHOTS / language / f"{kind}{suffix}"
        if os.environ.get("OPSFLOW_UPDATE_SNAPSHOTS"):
            path.write_text(actual, encoding="utf-8")
        assert path.is_file(), f"no snapshot {path}: run with OPSFLOW_UPDATE_SNAPSHOTS=1 once and review it"
        assert actual == path.read_text(encoding="utf-8"), f"{path} differs from the rendered mail"


def _width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in line)


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("kind", SPEAKER_KINDS)
def test_speaker_mails_read_well_full_and_sparse(kind, language):
    event = _example(language)
    full = sample_speaker_context(kind, event, SETTINGS)
    sparse = json.loads(json.dumps(full))
    sparse["speaker"].update(affiliation="", talk="", position="", join_url=None, is_panelist=False)
    sparse["event"].update(meeting_id=None, passcode=None, join_url=None, ics_attached=False)
    sparse["organizer"].update(name="", contact="")
    sparse["rehearsal"]["join_url"] = None
    if kind == "speaker_request":
        sparse.update(rehearsal=None, materials=None)
    if sparse["thanks"]:
        sparse["thanks"].update(figures=None, comments=[])
    renderer = renderer_for(language)
    for context in (full, sparse):
        rendered = renderer.render(kind, context)
        assert rendered.subject.strip() and "\n" not in rendered.subject
        assert "None" not in rendered.subject + rendered.text + rendered.html
        assert "\n\n\n" not in rendered.text
        assert f'<html lang="{language}">' in rendered.html
        for line in rendered.text.splitlines():
            assert "://" in line or _width(line) <= 76, f"{kind}: {line!r}"
    text = renderer.render(kind, full).text
    if kind in ("speaker_request", "speaker_rehearsal"):
        assert full["speaker"]["join_url"] in text.splitlines()
    if kind == "speaker_thanks":
        assert full["thanks"]["figures"]["attendance_rate"] in text
    if language == "ja":
        assert "大幸 喜徳 様" in text and "様様" not in text


def test_validate_renders_the_speaker_templates_of_the_seminar(tmp_path):
    path = _job(tmp_path)
    own = tmp_path / "jobs" / "own" / "ja"
    own.mkdir(parents=True)
    (own / "speaker_thanks.j2").write_text(
        "{% block subject %}{{ thanks.nope }}{% endblock %}{% block text %}{% endblock %}{% block html %}{% endblock %}",
        encoding="utf-8",
    )
    path.write_text(
        JOB.format(kind="webinar").replace('duration = "90m"', 'duration = "90m"\ntemplates = "own"'), encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["validate", str(path)], env={"OPSFLOW_JOBS_DIR": str(path.parent)})
    assert result.exit_code == 2, result.output
    assert "speaker_thanks.j2" in result.output and "Traceback" not in result.output
