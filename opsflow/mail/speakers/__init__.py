"""The speakers' own mails ([speakers]): the request with their link, the rehearsal notice, the materials
reminder and the thank-you, one per speaker with an email, sent through the delivery ledger.

For a webinar the request (and the rehearsal notice) first makes each speaker a panelist on Zoom and
takes their own panelist link from Zoom's list; a speaker taken out of the job file after their request
went is removed as a panelist at the next request.

`people` (who, and the step names), `panelists` (the Zoom side), `messages` (what a mail says),
`send` (through the ledger), `listing` (`opsflow speakers`), `samples` (templates checked and snapshotted).
"""

from opsflow.mail.speakers.listing import speaker_rows
from opsflow.mail.speakers.messages import SpeakerMessages, moment_text
from opsflow.mail.speakers.panelists import Panelists, ensure_panelists, is_webinar
from opsflow.mail.speakers.people import SPEAKER_KINDS, STEPS, Addressed, addressed_speakers, speaker_step
from opsflow.mail.speakers.samples import check_speaker_templates, sample_speaker_context
from opsflow.mail.speakers.send import SpeakerSend, preview_speaker, send_speakers

__all__ = [
    "SPEAKER_KINDS",
    "STEPS",
    "Addressed",
    "Panelists",
    "SpeakerMessages",
    "SpeakerSend",
    "addressed_speakers",
    "check_speaker_templates",
    "ensure_panelists",
    "is_webinar",
    "moment_text",
    "preview_speaker",
    "sample_speaker_context",
    "send_speakers",
    "speaker_rows",
    "speaker_step",
]
