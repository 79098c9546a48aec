"""A meeting's (or webinar's) cloud recording after the event: its share link, passcode and files.

Zoom answers 404 with code 3301 until the recording exists, then lists its files as "processing" until
they are "completed"; `fetch_recording` is None until then, so a caller polls it up to a deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from opsflow.core.errors import ZoomError
from opsflow.zoom.api import Zoom

NO_RECORDING = 3301  # Zoom's code for "There is no recording for this meeting."


@dataclass(frozen=True)
class RecordingFile:
    """One file of a cloud recording (video, audio only, chat, transcript...)."""

    id: str
    file_type: str  # MP4, M4A, CHAT, TRANSCRIPT, TIMELINE, ...
    recording_type: str  # shared_screen_with_speaker_view, audio_only, ...
    status: str  # "completed", or "processing" while Zoom is still making it
    play_url: str
    download_url: str
    size: int

    @property
    def is_completed(self) -> bool:
        return self.status == "completed"


@dataclass(frozen=True)
class Recording:
    """A meeting instance's cloud recording. `share_url` is the page to send people; `passcode` is the
    one they type there, `play_passcode` the one `url_with_passcode` puts in the link instead."""

    meeting_id: int | None
    uuid: str
    topic: str
    start_time: datetime | None
    share_url: str
    passcode: str
    play_passcode: str
    files: tuple[RecordingFile, ...]

    @property
    def is_completed(self) -> bool:
        """Every file is made (and there is at least one)."""
        return bool(self.files) and all(f.is_completed for f in self.files)

    @property
    def is_ready(self) -> bool:
        """Ready to send: every file is made and Zoom gives the share link."""
        return self.is_completed and bool(self.share_url)

    def url_with_passcode(self) -> str:
        """The share link that opens without typing the passcode (Zoom's `?pwd=`), or the bare link."""
        if not self.share_url or not self.play_passcode:
            return self.share_url
        separator = "&" if urlsplit(self.share_url).query else "?"
        return f"{self.share_url}{separator}pwd={self.play_passcode}"


def fetch_recording(zoom: Zoom, meeting_id: int | str, *, include_processing: bool = False) -> Recording | None:
    """The cloud recording of a meeting or webinar (by id: its latest instance; by UUID: that one).

    None while Zoom has none (code 3301: not recorded, or not yet there after the end) and, unless
    `include_processing`, while some files are still processing. Other errors are raised.
    """
    try:
        answer = zoom.get_recordings(meeting_id)
    except ZoomError as exc:
        if exc.code == NO_RECORDING:
            return None
        raise
    recording = recording_from(answer)
    if not recording.is_completed and not include_processing:
        return None
    return recording


def recording_from(answer: dict[str, Any]) -> Recording:
    """A `Recording` from Zoom's answer to GET /meetings/{id}/recordings."""
    files = tuple(
        RecordingFile(
            id=str(row.get("id") or ""),
            file_type=str(row.get("file_type") or ""),
            recording_type=str(row.get("recording_type") or ""),
            # TIMELINE and CC files carry no status: they come with the others, made when they are
            status=str(row.get("status") or "completed"),
            play_url=str(row.get("play_url") or ""),
            download_url=str(row.get("download_url") or ""),
            size=int(row.get("file_size") or 0),
        )
        for row in answer.get("recording_files") or []
    )
    raw_id = answer.get("id")
    return Recording(
        meeting_id=int(raw_id) if raw_id is not None and str(raw_id).isdigit() else None,
        uuid=str(answer.get("uuid") or ""),
        topic=str(answer.get("topic") or ""),
        start_time=_time(answer.get("start_time")),
        share_url=str(answer.get("share_url") or ""),
        passcode=str(answer.get("password") or ""),
        play_passcode=str(answer.get("recording_play_passcode") or ""),
        files=files,
    )


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
