"""Every bad input gets a clear error: the corpus in tests/data/bad/ through the command line.

Job files (`jobs/*.toml`) go through `opsflow validate`, registrant CSVs (`csv/registrants-*.csv`) through
`opsflow registrants import`, survey exports (`csv/survey-*.csv`) through `opsflow survey import`, and
settings (`settings.json`, with `.env` files in `dotenv/`) through a command that uses them. Each exits 2
with exactly the message written down (`expected.json` for files, `settings.json` for settings), names
its file and line or its setting, shows no traceback, and never shows a password.
"""

from __future__ import annotations

import json
import re
import shutil
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner

from opsflow.cli.main import cli

BAD = Path(__file__).parent / "data" / "bad"
EXPECTED: dict[str, str] = json.loads((BAD / "expected.json").read_text(encoding="utf-8"))
SETTINGS: list[dict] = json.loads((BAD / "settings.json").read_text(encoding="utf-8"))
PASSWORD = "corpusPw-7Qz3xK"  # put into every URL of settings.json that has "{password}"
JOB = """\
[event]
id = "bad-seminar"
title = "テストセミナー"
start = 2027-01-21T18:00:00+09:00
duration = "90m"

[registrants]
csv = "people.csv"

[survey]
url = "https://forms.example.jp/f/abc?t={token}"
"""


@pytest.fixture(scope="module")
def seminar(tmp_path_factory) -> Path:
    """A folder with the seminar `bad-seminar` applied and one registrant imported (shared: the bad
    inputs below change nothing)."""
    folder = tmp_path_factory.mktemp("seminar")
    (folder / "jobs").mkdir()
    (folder / "jobs" / "bad.toml").write_text(JOB, encoding="utf-8")
    (folder / "jobs" / "people.csv").write_text("氏名,メールアドレス\n山田 太郎,a@city.example.lg.jp\n", encoding="utf-8")
    for args in (["apply"], ["registrants", "import", "bad-seminar"]):
        result = CliRunner().invoke(cli, args, env=_base(folder))
        assert result.exit_code == 0, result.output
    return folder


def _base(folder: Path) -> dict[str, str]:
    return {"OPSFLOW_DATABASE_URL": f"sqlite:///{folder / 'opsflow.db'}", "OPSFLOW_JOBS_DIR": str(folder / "jobs"),
            "OPSFLOW_SMTP_URL": f"file:{folder / 'outbox'}", "OPSFLOW_MAIL_FROM": "セミナー事務局 <seminar@example.jp>",
            "OPSFLOW_ZOOM_ACCOUNT_ID": "acct", "OPSFLOW_ZOOM_CLIENT_ID": "client",
            "OPSFLOW_ZOOM_CLIENT_SECRET": "unused"}


@pytest.fixture
def run(seminar, monkeypatch):
    """run(*args, **env) -> click Result, in the seminar's folder."""
    monkeypatch.chdir(seminar)

    def run(*args: str, **env: str):
        return CliRunner().invoke(cli, list(args), env={**_base(seminar), **env})

    return run


def _check_clean(result, expected: str) -> None:
    """Exit code 2, exactly `Error: expected` on stderr, nothing on stdout, no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {expected}\n")


def _expected(key: str, path: Path) -> str:
    return EXPECTED[key].replace("{file}", str(path)).replace("{dir}", str(path.parent))


JOB_FILES = sorted(p.name for p in (BAD / "jobs").glob("*.toml"))
CSV_FILES = sorted(p.name for p in (BAD / "csv").glob("*.csv"))


@pytest.mark.parametrize("name", JOB_FILES)
def test_bad_job_file(run, name):
    path = BAD / "jobs" / name
    result = run("validate", str(path))
    _check_clean(result, _expected(f"jobs/{name}", path))
    assert re.search(rf"{re.escape(str(path))}:\d+: ", result.stderr), "the message names the file and line"


@pytest.mark.parametrize("name", CSV_FILES)
def test_bad_csv(run, name):
    path = BAD / "csv" / name
    if name.startswith("survey-"):
        result = run("survey", "import", "bad-seminar", str(path))
    else:
        result = run("registrants", "import", "bad-seminar", str(path), "--dry-run")
    _check_clean(result, _expected(f"csv/{name}", path))
    assert str(path) in result.stderr


@pytest.mark.parametrize("case", SETTINGS, ids=[case["name"] for case in SETTINGS])
def test_bad_setting(run, seminar, tmp_path, monkeypatch, case):
    env = {var: value.replace("{password}", PASSWORD) for var, value in case["env"].items()}
    if "dotenv" in case:
        monkeypatch.chdir(tmp_path)
        shutil.copy(BAD / case["dotenv"], tmp_path / ".env")
    error = case["error"].replace("{cwd}", str(Path.cwd()))
    result = run(*case["args"], **env)
    _check_clean(result, error)
    assert re.search(r"OPSFLOW_[A-Z_]+|^Error: \.env:\d+: ", result.stderr), "the message names the setting"
    assert PASSWORD not in result.output

    debug = run("--debug", *case["args"], **env)  # the traceback --debug prints shows no password either
    assert debug.exception is not None and not isinstance(debug.exception, SystemExit)
    shown = debug.output + "".join(traceback.format_exception(*debug.exc_info))
    assert error in shown and PASSWORD not in shown


def test_the_corpus_is_complete():
    written = {f"jobs/{n}" for n in JOB_FILES} | {f"csv/{n}" for n in CSV_FILES}
    assert written == set(EXPECTED)
    assert len(JOB_FILES) >= 50 and len(CSV_FILES) >= 20 and len(SETTINGS) >= 24
    names = {case["name"] for case in SETTINGS}
    for named in ("smtp-port-word", "smtp-port-too-big", "smtp-ipv6-unclosed", "database-port-word",
                  "dotenv-not-utf8", "database-sqlite-empty", "webhook-scheme", "zoom-api-url-scheme",
                  "templates-dir-missing", "list-unsubscribe-javascript", "mail-rate-zero"):
        assert named in names  # the inputs the issue names
    for named in ("deep-nesting.toml", "templates-missing.toml", "survey-url-placeholder.toml"):
        assert named in JOB_FILES
    assert "registrants-two-email-columns.csv" in CSV_FILES


# --- one setting stops only the commands that use it -----------------------------------------------

@pytest.mark.parametrize("rate", ["0", "-1", "fast"])
def test_a_bad_mail_rate_stops_send_but_not_status(run, rate):
    status = run("status", OPSFLOW_MAIL_RATE=rate)
    assert status.exit_code == 0 and status.stdout.startswith("bad-seminar"), status.output
    sent = run("send", "bad-seminar", "invitation", "--no-sync", "--dry-run", OPSFLOW_MAIL_RATE=rate)
    assert sent.exit_code == 2 and sent.stderr.startswith(f"Error: OPSFLOW_MAIL_RATE='{rate}' ")


@pytest.mark.parametrize("rate", ["off", "OFF", "none", "", "30", "0.5"])
def test_mail_rate_off_means_no_pacing(run, rate):
    result = run("send", "bad-seminar", "invitation", "--no-sync", "--dry-run", OPSFLOW_MAIL_RATE=rate)
    assert result.exit_code == 0, result.output


def test_a_bad_smtp_url_stops_send_but_not_apply_or_status(run):
    env = {"OPSFLOW_SMTP_URL": f"smtp://mailer:{PASSWORD}@[::1"}
    assert run("apply", **env).exit_code == 0
    assert run("status", **env).exit_code == 0
    assert run("send", "bad-seminar", "invitation", "--no-sync", **env).exit_code == 2


# --- one bad job file does not stop apply for the others ------------------------------------------

def test_apply_applies_the_good_files_and_reports_the_bad_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "a-deep.toml").write_bytes((BAD / "jobs" / "deep-nesting.toml").read_bytes())
    (jobs / "b-good.toml").write_text(JOB.split("\n[registrants]")[0].replace("bad-seminar", "good-seminar"),
                                      encoding="utf-8")
    (jobs / "c-moved.toml").write_text(JOB.split("\n[registrants]")[0].replace("bad-seminar", "moved")
                                       + '\n[[mail]]\nkind = "reminder"\nat = "start - 1d"\nname = "x"\n'
                                       + '\n[[mail]]\nkind = "reminder"\nat = "start - 2d"\nname = "x"\n',
                                       encoding="utf-8")
    env = {"OPSFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'opsflow.db'}", "OPSFLOW_JOBS_DIR": str(jobs)}
    result = CliRunner().invoke(cli, ["apply"], env=env)
    assert result.exit_code == 2
    assert result.stdout == "good-seminar: new event, 3 steps planned\n"
    assert result.stderr.startswith("Error: 2 problems in job files:\n"
                                    f"  {jobs / 'a-deep.toml'}:9: TOML syntax error: lists or tables nested more "
                                    "than 50 deep")
    assert f"  {jobs / 'c-moved.toml'}:" in result.stderr
    status = CliRunner().invoke(cli, ["status", "--json"], env=env)
    assert [e["id"] for e in json.loads(status.stdout)["events"]] == ["good-seminar"]


# --- the library refuses a bad URL with a ConfigError, never a ValueError -----------------------------

@pytest.mark.parametrize("url", ["smtp://u:pw-1@h:notaport", "smtps://u:pw-1@h:99999", "smtp://u:pw-1@[::1"])
def test_transport_for_never_raises_value_error(url):
    from opsflow.core.errors import ConfigError
    from opsflow.mail.transport import transport_for

    with pytest.raises(ConfigError) as err:
        transport_for(url)
    assert str(err.value).startswith("OPSFLOW_SMTP_URL='smtp") and "pw-1" not in str(err.value)


@pytest.mark.parametrize("url", ["postgresql+psycopg://u:pw-2@h:abc/db", "postgresql+psycopg://u:pw-2@[::1/db"])
def test_store_never_raises_value_error(url):
    from opsflow.core.errors import ConfigError
    from opsflow.store import Store

    with pytest.raises(ConfigError) as err:
        Store(url)
    assert str(err.value).startswith("cannot open postgresql+psycopg://u:***@") and "pw-2" not in str(err.value)


def test_doctor_reports_every_bad_setting(run):
    result = run("doctor", OPSFLOW_TEMPLATES_DIR="no-such-templates", OPSFLOW_MAIL_RATE="0")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "[FAIL] settings: OPSFLOW_MAIL_RATE='0' would send nothing: write off for no limit, or the " \
                       "most messages a minute the mail server accepts, e.g. 30 for Exchange Online"
    assert lines[1].startswith("       OPSFLOW_TEMPLATES_DIR='no-such-templates': the folder ")
    assert any(line.startswith("[FAIL] job files and templates: OPSFLOW_TEMPLATES_DIR=") for line in lines)
    assert run("doctor").stdout.startswith("[ok  ] settings: every setting given has a usable value\n")
