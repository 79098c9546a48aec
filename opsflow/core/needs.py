"""Which steps a step waits for: its own `after` key, and for a mail that carries the meeting's details
(the join link, the meeting ID), the meeting and the registrant sync of its seminar.

Standard library only: `status` uses it without loading the job-file models.
"""

from __future__ import annotations

from collections.abc import Collection

# Mails whose text carries the join link: they go out only once the meeting and the links exist.
MEETING_MAILS = ("mail.invitation", "mail.reminder", "mail.change", "mail.confirmation")
SETUP_STEPS = ("zoom.create", "registrants.sync")
FINISHED = ("done", "cancelled", "missed")


def step_needs(kind: str, after_key: str | None, keys: Collection[str]) -> list[str]:
    """The keys of the steps that must be finished before a step of `kind` runs; `keys` are the
    seminar's step keys (a prerequisite the seminar does not have is no prerequisite)."""
    needs = [key for key in (after_key or "").split(",") if key in keys]
    if kind in MEETING_MAILS:
        needs += [key for key in SETUP_STEPS if key in keys and key not in needs]
    return needs


def may_wait(kind: str, after_key: str | None) -> bool:
    """False when a step of `kind` never waits, whatever steps its seminar has (its needs are not read)."""
    return bool(after_key) or kind in MEETING_MAILS


def first_unfinished(step, steps_by_key: dict) -> dict | None:
    """The first step that `step` waits for and that is not finished yet (None: it may run)."""
    for key in step_needs(step["kind"], step["after_key"], steps_by_key):
        before = steps_by_key[key]
        if before["state"] not in FINISHED:
            return before
    return None
