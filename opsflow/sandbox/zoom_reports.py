"""Ended instances in the fake Zoom: who joined and left when (participant reports, past-meeting lists)
and their cloud recordings.

Reports answer 3001 until `ended_at + report_delay`, as Zoom's do for up to 30 minutes; past-meeting
participants are there at once. Every join/leave segment is one row, so a rejoin shows twice. A
recorded instance's files are "processing" from the end until `ended_at + recording_delay`, then
"completed" with a share link; before the end, or unrecorded, it is Zoom's 3301.
"""

from __future__ import annotations

import random
import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opsflow.sandbox.zoom_state import (
    MEETING,
    Kind,
    Pager,
    ZoomApiError,
    ZoomState,
    format_time,
    not_found,
    random_token,
)

FIRST_USER_ID = 16778240  # Zoom numbers participants from here, in steps of 1024
PARTICIPANT_STATUSES = ("in_meeting", "in_waiting_room")
# (file_type, file_extension, recording_type, bytes per second) of each file a cloud recording makes
RECORDING_FILES = (
    ("MP4", "MP4", "shared_screen_with_speaker_view", 40_000),
    ("M4A", "M4A", "audio_only", 4_000),
)


@dataclass(frozen=True)
class CloudRecording:
    """What stays the same in the answers about one instance's cloud recording."""

    share_token: str
    password: str
    play_passcode: str
    file_ids: tuple[str, ...]


@dataclass
class Instance:
    """One ended occurrence of a meeting or webinar, with its join/leave segments."""

    uuid: str
    item_id: int
    kind: Kind
    started_at: datetime
    ended_at: datetime
    segments: list[dict]
    topic: str = ""
    item_type: int = 2
    recording: CloudRecording | None = None


def _check_segment(segment: dict) -> dict:
    for field in ("name", "join_time", "leave_time"):
        if field not in segment:
            raise ValueError(f"participant segment lacks {field!r}: {segment!r}")
    join, leave = segment["join_time"], segment["leave_time"]
    if join.tzinfo is None or leave.tzinfo is None or leave < join:
        raise ValueError(f"join_time and leave_time must be aware and in order: {segment!r}")
    status = segment.get("status", "in_meeting")
    if status not in PARTICIPANT_STATUSES:
        raise ValueError(f"unknown participant status {status!r}")
    return {**segment, "user_email": segment.get("user_email") or "", "status": status}


class Attendance:
    """The ended instances of the meetings and webinars in a `ZoomState`."""

    def __init__(
        self,
        state: ZoomState,
        *,
        clock: Callable[[], datetime],
        report_delay: timedelta,
        recording_delay: timedelta = timedelta(hours=1),
    ) -> None:
        self._state = state
        self._clock = clock
        self._report_delay = report_delay
        self._recording_delay = recording_delay
        self._rng = random.Random(3001)
        self._pager = Pager(clock, self._rng)
        self._instances: dict[int, list[Instance]] = {}
        self._by_uuid: dict[str, Instance] = {}
        self._person_ids: dict[str, str] = {}

    def end_meeting(
        self,
        item_id: int,
        *,
        ended_at: datetime,
        participants: list[dict],
        uuid: str | None = None,
        is_recorded: bool | None = None,
    ) -> str:
        """Record that an instance ended with these join/leave segments; returns its UUID.

        The instance takes the meeting's current UUID (or `uuid`); the meeting then gets a fresh
        UUID for its next instance, as on Zoom. It has a cloud recording when `is_recorded`, or, when
        that is None, when the meeting's `settings.auto_recording` is "cloud".
        """
        kind = self._state.kind_of(item_id)
        item = self._state.items(kind)[item_id]
        if ended_at.tzinfo is None:
            raise ValueError("ended_at must be an aware datetime")
        segments = [_check_segment(s) for s in participants]
        instance_uuid = uuid or item["uuid"]
        if instance_uuid in self._by_uuid:
            raise ValueError(f"instance UUID {instance_uuid!r} is already used")
        started_at = min((s["join_time"] for s in segments), default=datetime.fromisoformat(item["start_time"]))
        if is_recorded is None:
            is_recorded = item["settings"].get("auto_recording") == "cloud"
        recording = None
        if is_recorded:
            recording = CloudRecording(
                share_token=random_token(self._rng, 64),
                password=random_token(self._rng, 8),
                play_passcode=random_token(self._rng, 32),
                file_ids=tuple(_file_id(self._rng) for _ in RECORDING_FILES),
            )
        instance = Instance(
            instance_uuid, item_id, kind, started_at, ended_at, segments, item["topic"], item["type"], recording
        )
        self._instances.setdefault(item_id, []).append(instance)
        self._by_uuid[instance_uuid] = instance
        item["uuid"] = self._state.new_uuid()
        return instance_uuid

    def _find(self, kind: Kind, value: str) -> Instance | None:
        """An instance by UUID, or the latest ended instance of a numeric id."""
        if value.isdigit():
            ended = [i for i in self._instances.get(int(value), []) if i.kind is kind]
            return max(ended, key=lambda i: i.ended_at) if ended else None
        instance = self._by_uuid.get(value)
        return instance if instance is not None and instance.kind is kind else None

    def _person_id(self, segment: dict) -> str:
        """Signed-in people keep one id across rows; guests without an email have none."""
        email = segment["user_email"].lower()
        if not email:
            return ""
        return self._person_ids.setdefault(email, random_token(self._rng, 22))

    def _rows(self, instance: Instance) -> list[tuple[dict, dict]]:
        """(segment, common row fields) in join order."""
        ordered = sorted(enumerate(instance.segments), key=lambda pair: pair[1]["join_time"])
        rows = []
        for index, segment in ordered:
            join, leave = segment["join_time"], segment["leave_time"]
            rows.append(
                (
                    segment,
                    {
                        "id": self._person_id(segment),
                        "user_id": str(FIRST_USER_ID + 1024 * index),
                        "name": segment["name"],
                        "user_email": segment["user_email"],
                        "join_time": format_time(join),
                        "leave_time": format_time(leave),
                        "duration": int((leave - join).total_seconds()),
                        "failover": False,
                        "status": segment["status"],
                    },
                )
            )
        return rows

    def report_participants(self, kind: Kind, value: str, query: dict[str, str]) -> dict[str, Any]:
        """GET /report/meetings|webinars/{id or uuid}/participants: 3001 until end + report delay.

        With include_fields=registrant_id every row carries registrant_id ("" for people who did
        not register); without it no row does.
        """
        instance = self._find(kind, value)
        if instance is None or self._clock() < instance.ended_at + self._report_delay:
            raise not_found(kind, value)
        with_registrant = "registrant_id" in query.get("include_fields", "").split(",")
        rows = []
        for segment, row in self._rows(instance):
            row["customer_key"] = ""
            if with_registrant:
                row["registrant_id"] = segment.get("registrant_id") or ""
            rows.append(row)
        page, meta = self._pager.page(f"report:{instance.uuid}", rows, query)
        return {**meta, "participants": page}

    def past_instances(self, value: str) -> dict[str, Any]:
        """GET /past_meetings/{id}/instances: the ended instances of a meeting."""
        known = value.isdigit() and (int(value) in self._state.meetings or int(value) in self._instances)
        if not known:
            raise not_found(MEETING, value)
        instances = [i for i in self._instances.get(int(value), []) if i.kind is MEETING]
        return {"meetings": [{"uuid": i.uuid, "start_time": format_time(i.started_at)} for i in instances]}

    def past_participants(self, value: str, query: dict[str, str], kind: Kind = MEETING) -> dict[str, Any]:
        """GET /past_meetings|past_webinars/{id or uuid}/participants: there as soon as the instance ended."""
        instance = self._find(kind, value)
        if instance is None:
            if value.isdigit() and int(value) in self._state.items(kind):
                raise ZoomApiError(
                    404, 3001, f"{'Meeting' if kind is MEETING else 'Webinar'} ID is invalid or not end."
                )
            raise not_found(kind, value)
        rows = []
        for segment, row in self._rows(instance):
            if segment.get("registrant_id"):
                row["registrant_id"] = segment["registrant_id"]
            rows.append(row)
        page, meta = self._pager.page(f"past:{instance.uuid}", rows, query)
        return {**meta, "participants": page}

    def recordings(self, value: str) -> dict[str, Any]:
        """GET /meetings/{id or uuid}/recordings, for a meeting or a webinar: the instance's files,
        "processing" until `ended_at + recording_delay`, then "completed" with `share_url`."""
        instance = self._by_uuid.get(value)
        if instance is None and value.isdigit():
            ended = self._instances.get(int(value), [])
            instance = max(ended, key=lambda i: i.ended_at) if ended else None
        now = self._clock()
        if instance is None or instance.recording is None or now < instance.ended_at:
            raise ZoomApiError(404, 3301, "There is no recording for this meeting.")
        recording = instance.recording
        is_completed = now >= instance.ended_at + self._recording_delay
        seconds = max(int((instance.ended_at - instance.started_at).total_seconds()), 1)
        files = []
        for file_id, (file_type, extension, recording_type, rate) in zip(
            recording.file_ids, RECORDING_FILES, strict=True
        ):
            row: dict[str, Any] = {
                "id": file_id,
                "meeting_id": instance.uuid,
                "recording_start": format_time(instance.started_at),
                "recording_end": format_time(instance.ended_at),
                "file_type": file_type,
                "file_extension": extension,
                "recording_type": recording_type,
                "status": "completed" if is_completed else "processing",
            }
            if is_completed:
                row["file_size"] = seconds * rate
                row["play_url"] = f"https://zoom.us/rec/play/{file_id}"
                row["download_url"] = f"https://zoom.us/rec/download/{file_id}"
            files.append(row)
        answer: dict[str, Any] = {
            "uuid": instance.uuid,
            "id": instance.item_id,
            "host_id": self._state.host_id,
            "topic": instance.topic,
            "type": str(instance.item_type),  # a string in Zoom's document
            "start_time": format_time(instance.started_at),
            "duration": seconds // 60,
            "total_size": sum(f.get("file_size", 0) for f in files),
            "recording_count": len(files),
            "password": recording.password,
            "recording_play_passcode": recording.play_passcode,
            "recording_files": files,
        }
        if is_completed:
            answer["share_url"] = f"https://zoom.us/rec/share/{recording.share_token}"
        return answer


def _file_id(rng: random.Random) -> str:
    """A recording file id in Zoom's shape (a lower-case UUID)."""
    return str(uuid_module.UUID(int=rng.getrandbits(128), version=4))
