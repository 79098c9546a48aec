"""The Zoom endpoints opsflow calls, and only those. Lists are generators; callers never see page tokens."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

from opsflow.core.errors import InputError, ZoomNotFoundError, ZoomReportNotReady
from opsflow.zoom.client import HEAVY, LIGHT, MEDIUM, ZoomClient, encode_id

Kind = Literal["meeting", "webinar"]
BATCH_SIZE = 30  # Zoom's limit of registrants per batch call
PANELIST_BATCH_SIZE = 30  # Zoom's limit of panelists per add call
SURVEY_URL_LIMIT = 64  # Zoom's limit on `third_party_survey`


def _plural(kind: Kind) -> str:
    if kind not in ("meeting", "webinar"):
        raise ValueError(f"kind must be 'meeting' or 'webinar', not {kind!r}")
    return f"{kind}s"


class Zoom(ZoomClient):
    """A Zoom account, through its Server-to-Server OAuth app."""

    # --- meetings and webinars --------------------------------------------------------------

    def create(self, kind: Kind, host: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create a meeting or webinar for `host` ("me" or an email). Never retried after a timeout."""
        label = MEDIUM if kind == "meeting" else LIGHT
        return self.request("POST", f"/users/{encode_id(host)}/{_plural(kind)}", label=label, json=body)

    def get(self, kind: Kind, meeting_id: int | str) -> dict[str, Any]:
        return self.request("GET", f"/{_plural(kind)}/{encode_id(meeting_id)}", label=LIGHT)

    def update(self, kind: Kind, meeting_id: int | str, body: dict[str, Any]) -> None:
        self.request("PATCH", f"/{_plural(kind)}/{encode_id(meeting_id)}", label=LIGHT, json=body)

    def delete(self, kind: Kind, meeting_id: int | str) -> None:
        """Delete a meeting or webinar; Zoom sends no cancellation email (opsflow does its own)."""
        params = {"cancel_meeting_reminder": "false"} if kind == "meeting" else {"cancel_webinar_reminder": "false"}
        self.request("DELETE", f"/{_plural(kind)}/{encode_id(meeting_id)}", label=LIGHT, params=params)

    def list_upcoming(self, kind: Kind, host: str) -> Iterator[dict[str, Any]]:
        """The host's scheduled meetings (or webinars), every page."""
        params = {"type": "scheduled"} if kind == "meeting" else {}
        return self.paginate(
            f"/users/{encode_id(host)}/{_plural(kind)}", key=_plural(kind), label=MEDIUM, params=params
        )

    # --- registrants ----------------------------------------------------------------------

    def add_registrant(self, kind: Kind, meeting_id: int | str, registrant: dict[str, Any]) -> dict[str, Any]:
        """Register one person; answers with `registrant_id` and the personal `join_url`."""
        return self.request(
            "POST",
            f"/{_plural(kind)}/{encode_id(meeting_id)}/registrants",
            label=LIGHT,
            json=registrant,
            is_safe_to_repeat=True,
        )

    def batch_register(
        self,
        kind: Kind,
        meeting_id: int | str,
        registrants: Iterable[dict[str, Any]],
        *,
        auto_approve: bool = True,
        confirmation_email: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Register people in calls of at most 30; yields {email, registrant_id, join_url} per person.

        Registering the same email again answers with the same registrant, so a repeat is harmless.
        """
        path = f"/{_plural(kind)}/{encode_id(meeting_id)}/batch_registrants"
        for chunk in _chunks(registrants, BATCH_SIZE):
            body = {
                "auto_approve": auto_approve,
                "registrants_confirmation_email": confirmation_email,
                "registrants": chunk,
            }
            answer = self.request("POST", path, label=HEAVY, json=body, is_safe_to_repeat=True) or {}
            yield from answer.get("registrants") or []

    def list_registrants(self, kind: Kind, meeting_id: int | str, status: str = "approved") -> Iterator[dict[str, Any]]:
        return self.paginate(
            f"/{_plural(kind)}/{encode_id(meeting_id)}/registrants",
            key="registrants",
            label=MEDIUM,
            params={"status": status},
        )

    def cancel_registrants(self, kind: Kind, meeting_id: int | str, registrants: Iterable[dict[str, str]]) -> None:
        """Cancel registrations ({id, email} each), at most 30 a call."""
        path = f"/{_plural(kind)}/{encode_id(meeting_id)}/registrants/status"
        for chunk in _chunks(registrants, BATCH_SIZE):
            self.request("PUT", path, label=MEDIUM, json={"action": "cancel", "registrants": chunk})

    # --- webinar panelists (see `panelists` for adding only those missing) ---------------------

    def post_panelists(self, webinar_id: int | str, panelists: list[dict[str, Any]]) -> None:
        """Add at most 30 panelists ({name, email}) in one call. Adding an email that is already a
        panelist keeps that panelist, so the call is safe to send again."""
        if len(panelists) > PANELIST_BATCH_SIZE:
            raise ValueError(f"at most {PANELIST_BATCH_SIZE} panelists a call, not {len(panelists)}")
        self.request(
            "POST",
            f"/webinars/{encode_id(webinar_id)}/panelists",
            label=MEDIUM,
            json={"panelists": panelists},
            is_safe_to_repeat=True,
        )

    def get_panelists(self, webinar_id: int | str) -> dict[str, Any]:
        """The webinar's panelists in one answer ({total_records, panelists}); Zoom does not page it."""
        return self.request("GET", f"/webinars/{encode_id(webinar_id)}/panelists", label=MEDIUM) or {}

    def delete_panelist(self, webinar_id: int | str, panelist_id: str) -> None:
        """Remove one panelist, by id (Zoom also takes an email)."""
        self.request("DELETE", f"/webinars/{encode_id(webinar_id)}/panelists/{encode_id(panelist_id)}", label=LIGHT)

    def delete_panelists(self, webinar_id: int | str) -> None:
        """Remove every panelist of the webinar."""
        self.request("DELETE", f"/webinars/{encode_id(webinar_id)}/panelists", label=LIGHT)

    # --- after the meeting ----------------------------------------------------------------

    def report_participants(self, kind: Kind, meeting_id: int | str) -> Iterator[dict[str, Any]]:
        """Every row of the participant report (one per join segment), with registrant ids.

        Raises ZoomReportNotReady while Zoom has no report yet (it can take 30 minutes after the end).
        """
        pages = self.paginate(
            f"/report/{_plural(kind)}/{encode_id(meeting_id)}/participants",
            key="participants",
            label=HEAVY,
            params={"include_fields": "registrant_id"},
        )
        try:
            yield from pages
        except ZoomNotFoundError as exc:
            if exc.code != 3001:
                raise
            raise ZoomReportNotReady(
                f"Zoom has no participant report for {kind} {meeting_id} yet: reports can take up to 30 minutes "
                "after the end; it is fetched again later",
                status=exc.status,
                code=exc.code,
                zoom_message=exc.zoom_message,
                request_id=exc.request_id,
            ) from None

    def past_instances(self, meeting_id: int | str) -> list[dict[str, Any]]:
        """The ended instances of a meeting ({uuid, start_time})."""
        answer = self.request("GET", f"/past_meetings/{encode_id(meeting_id)}/instances", label=MEDIUM) or {}
        return answer.get("meetings") or []

    def past_participants(self, meeting_id_or_uuid: int | str, kind: Kind = "meeting") -> Iterator[dict[str, Any]]:
        """Who joined an ended meeting (`/past_meetings`) or webinar (`/past_webinars`), there at once after
        the end: the fallback when the participant report never comes."""
        return self.paginate(
            f"/past_{_plural(kind)}/{encode_id(meeting_id_or_uuid)}/participants", key="participants", label=MEDIUM
        )

    def get_recordings(self, meeting_id_or_uuid: int | str) -> dict[str, Any]:
        """The cloud recording of a meeting or webinar: by id its latest instance, by UUID that one.
        Zoom answers 404 with code 3301 while there is none; see `recordings.fetch_recording`."""
        return self.request("GET", f"/meetings/{encode_id(meeting_id_or_uuid)}/recordings", label=LIGHT) or {}

    # --- survey ---------------------------------------------------------------------------

    def get_survey(self, meeting_id: int | str) -> dict[str, Any]:
        return self.request("GET", f"/meetings/{encode_id(meeting_id)}/survey", label=LIGHT) or {}

    def set_survey_link(self, meeting_id: int | str, url: str, *, show_in_browser: bool = True) -> None:
        """Show `url` as the meeting's post-meeting survey (Zoom allows at most 64 characters)."""
        if len(url) > SURVEY_URL_LIMIT:
            raise InputError(
                f"the survey URL is {len(url)} characters; Zoom's post-meeting survey link allows at most "
                f"{SURVEY_URL_LIMIT}: use a shorter link (a URL shortener or the form's short link) or send "
                "the survey by email only"
            )
        self.request(
            "PATCH",
            f"/meetings/{encode_id(meeting_id)}/survey",
            label=LIGHT,
            json={"show_in_the_browser": show_in_browser, "third_party_survey": url},
        )


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
