"""`opsflow demo`: the whole lifecycle on one machine, with every email left in an outbox."""

from __future__ import annotations

import email
import re
from email.policy import default
from urllib.parse import unquote

from click.testing import CliRunner

from opsflow.cli.main import cli
from opsflow.sandbox.demo import run_demo


def test_demo_runs_the_whole_seminar(tmp_path):
    lines: list[str] = []
    result = run_demo(tmp_path / "demo", echo=lines.append, screenshot=False)
    # 40 x 4 + survey 29 + follow-up 11 + reminder 14 + 2 summaries + 2 speakers x 4
    assert (result.steps, result.messages) == (16, 224)
    steps = [line.split()[3] for line in lines if line.split()[4:5] == ["done"]]
    assert steps == [
        "zoom.create",
        "registrants.sync",
        "mail.confirmation",
        "speakers.request",
        "speakers.materials",
        "mail.invitation",
        "speakers.rehearsal",
        "mail.reminder.1d",
        "mail.reminder.1h",
        "report.fetch",
        "summary.staff",
        "recording.fetch",
        "survey.send",
        "survey.remind",
        "speakers.thanks",
        "summary.staff.survey",
    ]
    # Zoom is still processing the recording at the first look: the step waits, then stores the link
    assert any("recording.fetch" in line and "retry" in line and "processing" in line for line in lines)
    assert result.page == result.outbox / "index.html" and result.screenshot is None
    index = result.page.read_text(encoding="utf-8")
    linked = [result.outbox / unquote(href) for href in re.findall(r'class="eml" href="([^"]+)"', index)]
    assert sorted(linked) == sorted(result.outbox.glob("*.eml"))  # every message, once each
    assert "+0000" not in index and "1月7日(木) 10:00" in index  # the seminar's local time
    charts = re.findall(r'<img class="chart" src="([^"]+)"', index)
    assert charts and all((result.outbox / chart).read_bytes()[:4] == b"\x89PNG" for chart in charts)
    summaries = [email.message_from_bytes(p.read_bytes(), policy=default) for p in result.outbox.glob("*staff*.eml")]
    assert len(summaries) == 2
    for summary in summaries:  # the attendance CSV attached, the chart inline (the page shows it)
        assert "example-seminar-attendance.csv" in {p.get_filename() for p in summary.iter_attachments()}
        charts_inline = [p for p in summary.walk() if p.get("Content-ID") and p.get_content_maintype() == "image"]
        assert [p.get_filename() for p in charts_inline] == ["attendance.png"]


def test_demo_shows_speakers_recording_languages_and_the_staff_chat(tmp_path):
    """What the demo adds to the example: each speaker's four mails, the recording link in the survey,
    two registrants mailed in English, and the staff summaries posted to the chat once each."""
    result = run_demo(tmp_path / "demo", echo=lambda line: None, screenshot=False)
    mails = [email.message_from_bytes(p.read_bytes(), policy=default) for p in sorted(result.outbox.glob("*.eml"))]

    def to(address: str) -> list[str]:
        return [str(m["Subject"]) for m in mails if address in str(m["To"])]

    for speaker in ("k-ono@city.kaga.lg.jp", "m-sato@city.itoshima.lg.jp"):
        subjects = to(speaker)
        assert len(subjects) == 4, subjects  # request, materials, rehearsal, thanks: once each
    english = to("t-yamazaki@city.morioka.lg.jp")  # the CSV's last row chose English
    assert english and all(re.match(r"[A-Za-z]", s) for s in english), english
    japanese = to("t-yamada@city.kaga.lg.jp")
    assert japanese and not any(re.match(r"[A-Za-z]", s) for s in japanese), japanese
    surveys = [m for m in mails if m["To"] and "t-yamada@city.kaga.lg.jp" in str(m["To"])]
    bodies = [m.get_body(("plain",)).get_content() for m in surveys]
    assert any("zoom.us/rec/share/" in body for body in bodies)  # the fetched recording link
    index = result.page.read_text(encoding="utf-8")
    posts = re.findall(r'<div class="chat-post" data-key="([^"]+)"', index)
    assert posts == ["chat.summary.staff", "chat.summary.staff.survey"]


def test_demo_command_runs_again_from_scratch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # a second run starts over instead of finding everything done
        result = CliRunner().invoke(cli, ["demo", "--output", "out"])
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[-1].startswith("16 steps done, 224 emails in out/outbox")
        assert "page: out/outbox/index.html (the timeline" in result.stdout
        assert re.search(r"^screenshot: (out/index\.png|skipped, .+)$", result.stdout, re.M)
