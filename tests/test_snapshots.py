"""Rendered mails compared with checked-in files: a template change shows up as a reviewable diff.

Regenerate after an intended change with `OPSFLOW_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_snapshots.py`.
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from opsflow.core.config import Settings
from opsflow.mail.context import sample_context
from opsflow.core.jobspec import load_job
from opsflow.mail.render import KINDS, renderer_for

from .conftest import EXAMPLE_JOB, REPO

SNAPSHOTS = REPO / "tests" / "snapshots"
SETTINGS = Settings(organizer="パブリテックセミナー事務局", organizer_contact="seminar@example.jp / 03-1234-5678")


def _event(language: str):
    event = load_job(EXAMPLE_JOB)
    spec = event.spec.model_copy(update={"event": event.spec.event.model_copy(update={"language": language})})
    return dataclasses.replace(event, spec=spec)


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_rendered_mail_matches_its_snapshot(kind, language):
    event = _event(language)
    rendered = renderer_for(language).render(kind, sample_context(kind, event, SETTINGS))
    text = f"Subject: {rendered.subject}\n\n{rendered.text}"
    for suffix, actual in ((".txt", text), (".html", rendered.html)):
        path = SNAPSHOTS / language / f"{kind}{suffix}"
        if os.environ.get("OPSFLOW_UPDATE_SNAPSHOTS"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
        assert path.is_file(), f"no snapshot {path}: run with OPSFLOW_UPDATE_SNAPSHOTS=1 once and review it"
        assert actual == path.read_text(encoding="utf-8"), f"{path} differs from the rendered mail"
