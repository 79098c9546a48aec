"""Settings from the environment and .env: validation, exact messages, secrets masked everywhere."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from opsflow.core.config import _ATTRS, RedactingFilter, Secret, Settings, load_settings, mask_url, url_password
from opsflow.core.errors import ConfigError

SECRET = "zoom-secret-Xy9"
ATTR = {var: attr for attr, var in _ATTRS.items()}


def test_defaults_without_anything(tmp_path):
    settings = load_settings({}, tmp_path / ".env")
    assert settings.database_url.reveal() == "sqlite:///opsflow.db"
    assert settings.jobs_dir == Path("jobs")
    assert settings.zoom_api_url == "https://api.zoom.us/v2"
    assert settings.zoom_oauth_url == "https://zoom.us/oauth/token"
    assert settings.smtp_url is None and settings.zoom_client_secret is None


def test_dotenv_is_read_and_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("OPSFLOW_JOBS_DIR=from-dotenv\nOPSFLOW_MAIL_FROM=office@example.jp\n"
                      f"OPSFLOW_ZOOM_CLIENT_SECRET={SECRET}\n")
    settings = load_settings({"OPSFLOW_JOBS_DIR": "from-env", "HOME": "/root"}, dotenv)
    assert settings.jobs_dir == Path("from-env")
    assert settings.mail_from == "office@example.jp"
    assert settings.zoom_client_secret.reveal() == SECRET


def test_secrets_are_masked_in_repr():
    settings = load_settings({
        "OPSFLOW_ZOOM_CLIENT_SECRET": SECRET,
        "OPSFLOW_SMTP_URL": "smtp+starttls://mailer:smtp-pw-77@smtp.example.jp:587",
        "OPSFLOW_DATABASE_URL": "postgresql+psycopg://ops:db-pw-88@db.example.jp/ops",
    }, None)
    shown = repr(settings) + str(settings) + f"{settings.zoom_client_secret}"
    for secret in (SECRET, "smtp-pw-77", "db-pw-88"):
        assert secret not in shown
    assert "smtp+starttls://mailer:***@smtp.example.jp:587" in shown
    assert "postgresql+psycopg://ops:***@db.example.jp/ops" in shown
    assert sorted(settings.secret_values()) == sorted([SECRET, "smtp-pw-77", "db-pw-88"])


def test_require_names_the_variable_and_what_to_put():
    with pytest.raises(ConfigError) as err:
        Settings().require("zoom_client_id")
    assert str(err.value) == ("OPSFLOW_ZOOM_CLIENT_ID is not set: put the Client ID of your Zoom Server-to-Server "
                              "OAuth app in the environment or in .env")
    assert Settings(mail_from="a@example.jp").require("mail_from") == "a@example.jp"


@pytest.mark.parametrize("var,value,message", [
    ("OPSFLOW_SMTP_URL", "imap://u:pw-1@h", "OPSFLOW_SMTP_URL='imap://u:***@h' has an unknown scheme: use one of "
     "smtp:, smtp+starttls:, smtps:, file: (where mail goes, e.g. smtp+starttls://user:password@smtp.example.jp:587, "
     "smtps://user:password@host:465, smtp://localhost:1025 or file:./outbox)"),
    ("OPSFLOW_ZOOM_API_URL", "api.zoom.us/v2", "OPSFLOW_ZOOM_API_URL='api.zoom.us/v2' is not an http(s) URL: put the "
     "Zoom API base URL (default https://api.zoom.us/v2)"),
    ("OPSFLOW_DATABASE_URL", "mysql://u:pw-2@h/db", "OPSFLOW_DATABASE_URL='mysql://u:***@h/db' is not a supported "
     "database: use sqlite:///FILE or postgresql+psycopg://USER@HOST:PORT/DB"),
])
def test_invalid_values(var, value, message):
    settings = load_settings({var: value}, None)  # a bad value is refused when it is read, not before
    with pytest.raises(ConfigError) as err:
        getattr(settings, ATTR[var])
    assert str(err.value) == message
    with pytest.raises(ConfigError):
        settings.require(ATTR[var])


def test_logs_are_redacted():
    logger = logging.getLogger("opsflow.test")
    handler_filter = RedactingFilter([SECRET])
    record = logger.makeRecord("opsflow.test", logging.ERROR, __file__, 1, "token request with %s failed", (SECRET,), None)
    assert handler_filter.filter(record) is True
    assert record.getMessage() == "token request with *** failed"


def test_secret_and_mask_url():
    assert str(Secret("x")) == "***" and repr(Secret("x")) == "Secret('***')"
    assert mask_url("smtp://localhost:1025") == "smtp://localhost:1025"
    assert mask_url("smtps://user:p%40ss@mail.example.jp:465/") == "smtps://user:***@mail.example.jp:465/"


@pytest.mark.parametrize("url,shown", [
    ("smtp://u:pw@host:notaport", "smtp://u:***@host:notaport"),
    ("smtp://u:pw@[::1", "smtp://u:***@[::1"),
    ("postgresql+psycopg://u:p/w@h:abc/db", "postgresql+psycopg://u:***@h:abc/db"),  # an unencoded / in the password
    ("smtp://u:p@ss@host:25", "smtp://u:***@host:25"),
    ("https://hooks.example.jp/in?token=a@b", "https://hooks.example.jp/in?token=a@b"),
    ("mailto:seminar@example.jp", "mailto:seminar@example.jp"),
    ("not a url", "not a url"),
])
def test_mask_url_never_raises(url, shown):
    assert mask_url(url) == shown
    assert (url_password(url) is None) == (shown == url)


def test_a_bad_setting_is_refused_only_when_read(tmp_path):
    settings = load_settings({"OPSFLOW_MAIL_RATE": "0", "OPSFLOW_SMTP_URL": "smtp://u:pw-9@h:99999",
                              "OPSFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, None)
    assert settings.database_url.reveal() == f"sqlite:///{tmp_path / 'x.db'}"  # status and apply still work
    with pytest.raises(ConfigError, match=r"^OPSFLOW_MAIL_RATE='0' would send nothing: write off for no limit"):
        settings.mail_rate
    with pytest.raises(ConfigError) as err:
        settings.require("smtp_url")
    assert "pw-9" not in str(err.value) and "smtp://u:***@h:99999" in str(err.value)
    assert "pw-9" in settings.secret_values()  # still redacted from logs
    assert "pw-9" not in repr(settings) and "mail_rate='0'" in repr(settings)
    assert [p.split("=")[0] for p in settings.problems()] == ["OPSFLOW_SMTP_URL", "OPSFLOW_MAIL_RATE"]


@pytest.mark.parametrize("raw,rate", [("off", None), ("OFF", None), ("none", None), ("", None), ("30", 30.0),
                                      ("0.5", 0.5)])
def test_mail_rate_off_is_no_pacing(raw, rate):
    assert load_settings({"OPSFLOW_MAIL_RATE": raw}, None).mail_rate == rate


def test_dotenv_that_is_not_utf8_names_its_line(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_bytes("OPSFLOW_JOBS_DIR=jobs\nOPSFLOW_ORGANIZER=事務局\n".encode("cp932"))
    with pytest.raises(ConfigError) as err:
        load_settings({}, dotenv)
    assert str(err.value) == f"{dotenv}:2: not UTF-8 text: save the settings file as UTF-8"


def test_dotenv_with_a_byte_order_mark(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("OPSFLOW_JOBS_DIR=from-notepad\n", encoding="utf-8-sig")
    assert load_settings({}, dotenv).jobs_dir == Path("from-notepad")


def test_list_unsubscribe_scheme_is_normalised():
    settings = load_settings({"OPSFLOW_LIST_UNSUBSCRIBE": "MAILTO:a@example.jp"}, None)
    assert settings.list_unsubscribe == "mailto:a@example.jp"
    assert load_settings({"OPSFLOW_LIST_UNSUBSCRIBE": "HTTPS://x.example.jp/u"}, None).list_unsubscribe == \
        "https://x.example.jp/u"
