"""Settings from the environment and .env: validation, exact messages, secrets masked everywhere."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from opsflow.config import RedactingFilter, Secret, Settings, load_settings, mask_url
from opsflow.errors import ConfigError

SECRET = "zoom-secret-Xy9"


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
    with pytest.raises(ConfigError) as err:
        load_settings({var: value}, None)
    assert str(err.value) == message


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
