"""`opsflow demo`: the whole lifecycle on one machine, with every email left in an outbox."""

from __future__ import annotations

import email
from email.policy import default

from click.testing import CliRunner

from opsflow.cli.main import cli
from opsflow.sandbox.demo import run_demo


def test_demo_runs_the_whole_seminar(tmp_path):
    lines: list[str] = []
    result = run_demo(tmp_path / "demo", echo=lines.append)
    assert (result.steps, result.messages) == (10, 176)  # 40 x 3 + survey 29 + follow-up 11 + reminder 14 + 2
    steps = [line.split()[3] for line in lines if line.split()[4:5] == ["done"]]
    assert steps == ["zoom.create", "registrants.sync", "mail.invitation", "mail.reminder.1d", "mail.reminder.1h",
                     "report.fetch", "summary.staff", "survey.send", "survey.remind", "summary.staff.survey"]
    index = (result.outbox / "index.html").read_text(encoding="utf-8")
    assert index.count("<details>") == 176 and "data:image/png;base64," in index
    summaries = [email.message_from_bytes(p.read_bytes(), policy=default) for p in result.outbox.glob("*staff*.eml")]
    assert len(summaries) == 2
    assert {p.get_filename() for p in summaries[0].iter_attachments()} == {"attendance.png",
                                                                            "example-seminar-attendance.csv"}


def test_demo_command_runs_again_from_scratch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # a second run starts over instead of finding everything done
        result = CliRunner().invoke(cli, ["demo", "--output", "out"])
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[-1].startswith("10 steps done, 176 emails in out/outbox")
