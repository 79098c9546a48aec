"""Who gets the speakers' mails (each `[[event.speakers]]` with an email, in job-file order) and the
names of those mails: step keys and template kinds."""

from __future__ import annotations

from dataclasses import dataclass

from opsflow.core.jobspec import Event, Speaker

# step key -> template kind
STEPS = {
    "speakers.request": "speaker_request",
    "speakers.rehearsal": "speaker_rehearsal",
    "speakers.materials": "speaker_materials",
    "speakers.thanks": "speaker_thanks",
}
SPEAKER_KINDS = tuple(STEPS.values())


def speaker_step(name: str) -> str | None:
    """The step key of a speaker mail named by its key (`speakers.request`) or its template kind
    (`speaker_request`); None when `name` is no speaker mail."""
    if name in STEPS:
        return name
    return next((key for key, kind in STEPS.items() if kind == name), None)


@dataclass(frozen=True)
class Addressed:
    """A speaker with an email: `number` is their place among `[[event.speakers]]` (1-based)."""

    number: int
    speaker: Speaker

    @property
    def key(self) -> str:
        """The address as the ledger holds it."""
        assert self.speaker.email is not None
        return self.speaker.email.strip().lower()


def addressed_speakers(event: Event) -> list[Addressed]:
    """The speakers who get mails, in job-file order."""
    return [Addressed(n, s) for n, s in enumerate(event.spec.event.speakers, start=1) if s.email]
