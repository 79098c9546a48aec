"""The fake Zoom's scheduled world: meetings, webinars, their registrants, panelists and surveys, and paging.

Plain data behind one `ZoomState`; Zoom's refusals are raised as `ZoomApiError` and turned into HTTP
answers by `opsflow.sandbox.zoom`. Ended instances are in `zoom_reports`. The caller holds the lock.
"""

from __future__ import annotations

import base64
import copy
import math
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

UTC = UTC
DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 300
PAGE_TOKEN_TTL = timedelta(minutes=15)
MAX_BATCH_REGISTRANTS = 30
MAX_BATCH_PANELISTS = 30  # per call, as the spec's `panelists` array says
MAX_PANELISTS = 100  # per webinar: Zoom's webinar plans allow 100 panelists unless Support raises it
MAX_PANELIST_NAME = 64
MAX_TOPIC = 200
MAX_AGENDA = 2000
MAX_SURVEY_URL = 64
REGISTRANT_STATUSES = ("approved", "pending", "denied")
_REGISTRANT_EXTRAS = (
    "address",
    "city",
    "state",
    "zip",
    "country",
    "phone",
    "comments",
    "industry",
    "job_title",
    "org",
    "no_of_employees",
    "purchasing_time_frame",
    "role_in_purchase_process",
)


class ZoomApiError(Exception):
    """A refusal in Zoom's shape: an HTTP status and the body `{"code", "message"[, "errors"]}`."""

    def __init__(self, status: int, code: int, message: str, errors: list[dict] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON body Zoom sends with this error."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


@dataclass(frozen=True)
class Kind:
    """What differs between meetings and webinars."""

    name: str
    label: str
    types: frozenset[int]
    default_type: int
    list_types: tuple[str, ...]


MEETING = Kind(
    "meeting",
    "Meeting",
    frozenset({1, 2, 3, 8}),
    2,
    ("scheduled", "live", "upcoming", "upcoming_meetings", "previous_meetings"),
)
WEBINAR = Kind("webinar", "Webinar", frozenset({5, 6, 9}), 5, ("scheduled", "upcoming"))


def format_time(moment: datetime) -> str:
    """Zoom's time format: UTC, seconds, trailing Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_token(rng: random.Random, length: int) -> str:
    """An id in the style of Zoom's registrant and user ids (letters, digits, "-" and "_")."""
    return "".join(rng.choices(string.ascii_letters + string.digits + "-_", k=length))


def validation_error(field: str, message: str) -> ZoomApiError:
    """Zoom's answer to a body that breaks a field rule."""
    return ZoomApiError(400, 300, "Validation Failed.", [{"field": field, "message": message}])


def not_found(kind: Kind, value: str) -> ZoomApiError:
    """Zoom's 3001 answer, also used for reports asked for before they are ready."""
    return ZoomApiError(404, 3001, f"{kind.label} does not exist: {value}.")


def _require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ZoomApiError(400, 300, "Request Body should be a valid JSON object.")
    return body


def _check_text(body: dict[str, Any], field: str, limit: int) -> None:
    value = body.get(field)
    if value is None:
        return
    if not isinstance(value, str):
        raise validation_error(field, "Invalid field.")
    if len(value) > limit:
        raise validation_error(field, f"Length must be between 0 and {limit}.")


def _parse_start(value: Any, zone: str) -> datetime:
    """Zoom reads `start_time` as UTC when it ends in Z, else as wall time in `timezone`."""
    if not isinstance(value, str):
        raise validation_error("start_time", "Invalid field.")
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(zone))
    except (ValueError, KeyError, TypeError):
        raise validation_error("start_time", f"Invalid start_time: {value}.") from None
    return moment.astimezone(UTC)


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _default_settings(kind: Kind) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "host_video": False,
        "approval_type": 2,
        "registration_type": 1,
        "audio": "voip",
        "auto_recording": "none",
        "close_registration": False,
        "show_share_button": False,
        "allow_multiple_devices": False,
        "registrants_confirmation_email": True,
        "registrants_email_notification": True,
        "meeting_authentication": False,
        "alternative_hosts": "",
        "contact_name": "",
        "contact_email": "",
    }
    if kind is MEETING:
        settings.update(
            {
                "participant_video": False,
                "join_before_host": False,
                "jbh_time": 0,
                "mute_upon_entry": False,
                "waiting_room": False,
                "watermark": False,
                "use_pmi": False,
                "email_notification": True,
                "encryption_type": "enhanced_encryption",
                "private_meeting": False,
            }
        )
    else:
        settings.update(
            {
                "panelists_video": False,
                "practice_session": False,
                "hd_video": False,
                "panelists_invitation_email_notification": True,
            }
        )
    return settings


def _check_settings(settings: Any) -> None:
    if not isinstance(settings, dict):
        raise validation_error("settings", "Invalid field.")
    if settings.get("approval_type", 2) not in (0, 1, 2):
        raise validation_error("settings.approval_type", "Invalid field.")
    if settings.get("registration_type", 1) not in (1, 2, 3):
        raise validation_error("settings.registration_type", "Invalid field.")
    if settings.get("auto_recording", "none") not in ("local", "cloud", "none"):
        raise validation_error("settings.auto_recording", "Invalid field.")


class Pager:
    """Zoom's `next_page_token` paging: opaque tokens remembering a listing and an offset for 15 minutes."""

    def __init__(self, clock: Callable[[], datetime], rng: random.Random) -> None:
        self._clock = clock
        self._rng = rng
        self._tokens: dict[str, tuple[str, int, datetime]] = {}

    def page(self, listing: str, items: list[Any], query: dict[str, str]) -> tuple[list[Any], dict[str, Any]]:
        """Cut one page out of `items`; returns it with Zoom's paging fields."""
        size = _page_size(query)
        start = 0
        token = query.get("next_page_token", "")
        if token:
            entry = self._tokens.get(token)
            if entry is None or entry[0] != listing or self._clock() - entry[2] > PAGE_TOKEN_TTL:
                raise ZoomApiError(400, 300, "The next page token is invalid or expired.")
            start = entry[1]
        chunk = items[start : start + size]
        next_token = ""
        if start + len(chunk) < len(items):
            next_token = "".join(self._rng.choices(string.ascii_letters + string.digits, k=32))
            self._tokens[next_token] = (listing, start + len(chunk), self._clock())
        meta = {
            "page_count": math.ceil(len(items) / size),
            "page_size": size,
            "total_records": len(items),
            "next_page_token": next_token,
        }
        return chunk, meta


def _page_size(query: dict[str, str]) -> int:
    raw = query.get("page_size", "")
    if not raw:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise ZoomApiError(400, 300, f"Invalid page_size: {raw}.") from None
    return DEFAULT_PAGE_SIZE if size < 1 else min(size, MAX_PAGE_SIZE)


class ZoomState:
    """Meetings and webinars of one host, their registrants, panelists and surveys."""

    def __init__(self, *, host_email: str, clock: Callable[[], datetime]) -> None:
        self.host_email = host_email
        self.meetings: dict[int, dict] = {}
        self.webinars: dict[int, dict] = {}
        self._clock = clock
        self._rng = random.Random(20270121)
        self.host_id = self._token(22)
        self._pager = Pager(clock, self._rng)
        self._used_ids: set[int] = set()
        self._registrants: dict[int, list[dict]] = {}
        self._surveys: dict[int, dict] = {}
        self._panelists: dict[int, list[dict]] = {}
        self.panelist_invitations: dict[int, list[str]] = {}  # emails Zoom itself would have mailed

    # -- identifiers -------------------------------------------------------------------------------

    def _token(self, length: int) -> str:
        return random_token(self._rng, length)

    def _digits(self, length: int) -> str:
        return "".join(self._rng.choices(string.digits, k=length))

    def new_uuid(self) -> str:
        """A meeting-instance UUID: 16 random bytes in base64 (24 characters ending "=="), without "/"."""
        while True:
            value = base64.b64encode(self._rng.randbytes(16)).decode("ascii")
            if "/" not in value:
                return value

    def _new_id(self) -> int:
        while True:
            value = self._rng.randint(80_000_000_000, 99_999_999_999)
            if value not in self._used_ids:
                self._used_ids.add(value)
                return value

    # -- lookups -----------------------------------------------------------------------------------

    def items(self, kind: Kind) -> dict[int, dict]:
        """The meetings or the webinars."""
        return self.meetings if kind is MEETING else self.webinars

    def check_user(self, user_id: str) -> None:
        """Only the one host exists: as "me", by email or by host id."""
        if user_id != "me" and user_id.lower() != self.host_email.lower() and user_id != self.host_id:
            raise ZoomApiError(404, 1001, f"User does not exist: {user_id}.")

    def find(self, kind: Kind, value: str) -> dict:
        """The meeting or webinar with this numeric id, or Zoom's 3001."""
        item = self.items(kind).get(int(value)) if value.isdigit() else None
        if item is None:
            raise not_found(kind, value)
        return item

    def kind_of(self, item_id: int) -> Kind:
        """Whether an id names a meeting or a webinar (ids are distinct); KeyError when neither."""
        if item_id in self.meetings:
            return MEETING
        if item_id in self.webinars:
            return WEBINAR
        raise KeyError(f"no meeting or webinar {item_id}")

    # -- meetings and webinars ---------------------------------------------------------------------

    def create(self, kind: Kind, user_id: str, body: Any) -> dict:
        """POST /users/{userId}/meetings|webinars: store the new item and return its full view."""
        self.check_user(user_id)
        body = _require_object(body)
        _check_text(body, "topic", MAX_TOPIC)
        _check_text(body, "agenda", MAX_AGENDA)
        item_type = body.get("type", kind.default_type)
        if item_type not in kind.types:
            raise validation_error("type", f"Invalid {kind.name} type: {item_type}.")
        zone = body.get("timezone") or "UTC"
        settings = body.get("settings", {})
        _check_settings(settings)
        password = body.get("password") or "".join(self._rng.choices(string.ascii_letters + string.digits, k=6))
        if not isinstance(password, str) or len(password) > 10:
            raise validation_error("password", "Length must be between 0 and 10.")
        item_id = self._new_id()
        encrypted = self._token(32)
        start = _parse_start(body["start_time"], zone) if "start_time" in body else self._clock()
        item: dict[str, Any] = {
            "uuid": self.new_uuid(),
            "id": item_id,
            "host_id": self.host_id,
            "host_email": self.host_email,
            "topic": body.get("topic") or f"Zoom {kind.label}",
            "type": item_type,
            "status": "waiting",
            "start_time": format_time(start),
            "duration": self._duration(body.get("duration", 60)),
            "timezone": zone,
            "agenda": body.get("agenda", ""),
            "created_at": format_time(self._clock()),
            "start_url": f"https://zoom.us/s/{item_id}?zak={self._token(40)}",
            "join_url": f"https://zoom.us/j/{item_id}?pwd={encrypted}",
            "password": password,
            "h323_password": self._digits(6),
            "pstn_password": self._digits(6),
            "encrypted_password": encrypted,
            "settings": _merge(_default_settings(kind), settings),
        }
        if kind is MEETING:
            item["pre_schedule"] = False
        if isinstance(body.get("tracking_fields"), list):
            item["tracking_fields"] = copy.deepcopy(body["tracking_fields"])
        self._sync_registration_url(kind, item)
        self.items(kind)[item_id] = item
        self._registrants[item_id] = []
        return copy.deepcopy(item)

    def _duration(self, value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise validation_error("duration", "Invalid field.")
        return value

    def _sync_registration_url(self, kind: Kind, item: dict) -> None:
        if item["settings"].get("approval_type", 2) == 2:
            item.pop("registration_url", None)
        elif "registration_url" not in item:
            item["registration_url"] = f"https://zoom.us/{kind.name}/register/{self._token(22)}"

    def get(self, kind: Kind, value: str) -> dict:
        """GET /meetings/{id}: the full view."""
        return copy.deepcopy(self.find(kind, value))

    def update(self, kind: Kind, value: str, body: Any) -> None:
        """PATCH /meetings/{id}: change the given fields; settings are merged key by key."""
        item = self.find(kind, value)
        body = _require_object(body)
        _check_text(body, "topic", MAX_TOPIC)
        _check_text(body, "agenda", MAX_AGENDA)
        changes: dict[str, Any] = {}
        for field in ("topic", "agenda", "timezone", "tracking_fields"):
            if field in body:
                changes[field] = copy.deepcopy(body[field])
        if "type" in body:
            if body["type"] not in kind.types:
                raise validation_error("type", f"Invalid {kind.name} type: {body['type']}.")
            changes["type"] = body["type"]
        if "duration" in body:
            changes["duration"] = self._duration(body["duration"])
        if "password" in body:
            if not isinstance(body["password"], str) or len(body["password"]) > 10:
                raise validation_error("password", "Length must be between 0 and 10.")
            changes["password"] = body["password"]
        if "start_time" in body:
            zone = changes.get("timezone") or item["timezone"]
            changes["start_time"] = format_time(_parse_start(body["start_time"], zone))
        if "settings" in body:
            _check_settings(body["settings"])
            changes["settings"] = _merge(item["settings"], body["settings"])
        item.update(changes)
        self._sync_registration_url(kind, item)

    def delete(self, kind: Kind, value: str) -> None:
        """DELETE /meetings/{id}: gone with its registrants; ended instances and their reports stay."""
        item = self.find(kind, value)
        del self.items(kind)[item["id"]]
        self._registrants.pop(item["id"], None)
        self._surveys.pop(item["id"], None)
        self._panelists.pop(item["id"], None)

    def list_items(self, kind: Kind, user_id: str, query: dict[str, str]) -> dict:
        """GET /users/{userId}/meetings|webinars, filtered by `type` and paged."""
        self.check_user(user_id)
        list_type = query.get("type", "scheduled")
        if list_type not in kind.list_types:
            raise ZoomApiError(400, 300, f"Invalid type: {list_type}.")
        items = sorted(self.items(kind).values(), key=lambda i: (i["start_time"], i["id"]))
        now = format_time(self._clock())
        if list_type == "live":
            items = []
        elif list_type.startswith("upcoming"):
            items = [i for i in items if i["start_time"] >= now]
        elif list_type == "previous_meetings":
            items = [i for i in items if i["start_time"] < now]
        page, meta = self._pager.page(f"{kind.name}s:{list_type}", items, query)
        fields = (
            "uuid",
            "id",
            "host_id",
            "topic",
            "type",
            "start_time",
            "duration",
            "timezone",
            "agenda",
            "created_at",
            "join_url",
        )
        return {**meta, f"{kind.name}s": [{f: i[f] for f in fields} for i in page]}

    # -- registrants -------------------------------------------------------------------------------

    def registrants(self, item_id: int) -> list[dict]:
        """Every registrant of a meeting or webinar, whatever the status (copies)."""
        return copy.deepcopy(self._registrants.get(item_id, []))

    def _require_registration(self, kind: Kind, item: dict) -> None:
        if item["settings"].get("approval_type", 2) != 2:
            return
        if kind is MEETING:
            raise ZoomApiError(404, 404, f"Registration has not been enabled for this meeting: {item['id']}.")
        raise ZoomApiError(400, 3000, f"This webinar does not have registration as required: {item['id']}.")

    def _register(self, item: dict, person: dict[str, Any], *, auto_approve: bool) -> dict:
        """Add one registrant; an email already registered gets its existing registration back."""
        email = person["email"]
        status = "approved" if auto_approve or item["settings"].get("approval_type") == 0 else "pending"
        rows = self._registrants.setdefault(item["id"], [])
        for row in rows:
            if row["email"].lower() == email.lower():
                if row["status"] == "denied":
                    row["status"] = status
                return row
        registrant_id = self._token(22)
        row = {
            "id": registrant_id,
            "email": email,
            "first_name": person["first_name"],
            "last_name": person.get("last_name", ""),
            **{f: "" for f in _REGISTRANT_EXTRAS},
            "custom_questions": [],
            "status": status,
            "create_time": format_time(self._clock()),
            "join_url": f"https://zoom.us/w/{item['id']}?tk={self._token(40)}&pwd={item['encrypted_password']}",
        }
        for field in _REGISTRANT_EXTRAS + ("custom_questions",):
            if field in person:
                row[field] = copy.deepcopy(person[field])
        rows.append(row)
        return row

    @staticmethod
    def _check_person(person: Any, where: str) -> dict[str, Any]:
        if not isinstance(person, dict):
            raise validation_error(where, "Invalid field.")
        email = person.get("email")
        if not isinstance(email, str) or "@" not in email or len(email) > 128:
            raise validation_error(f"{where}email", "Invalid field.")
        for field in ("first_name", "last_name"):
            value = person.get(field, "")
            if not isinstance(value, str) or len(value) > 64:
                raise validation_error(f"{where}{field}", "Length must be between 0 and 64.")
        if not person.get("first_name"):
            raise validation_error(f"{where}first_name", "Required field.")
        return person

    def add_registrant(self, kind: Kind, value: str, body: Any) -> dict:
        """POST /meetings/{id}/registrants."""
        item = self.find(kind, value)
        self._require_registration(kind, item)
        person = self._check_person(_require_object(body), "")
        row = self._register(item, person, auto_approve=person.get("auto_approve") is True)
        return {
            "id": item["id"],
            "registrant_id": row["id"],
            "join_url": row["join_url"],
            "topic": item["topic"],
            "start_time": item["start_time"],
        }

    def add_batch(self, kind: Kind, value: str, body: Any) -> dict:
        """POST /meetings/{id}/batch_registrants: at most 30, scheduled meetings (type 2) and webinars (5)."""
        item = self.find(kind, value)
        if kind is MEETING and item["type"] != 2:
            raise ZoomApiError(
                400,
                303,
                "This API can only be used for scheduled meeting(meeting type: 2). "
                "Batch registration is not supported for other meeting types.",
            )
        if kind is WEBINAR and item["type"] != 5:
            raise ZoomApiError(
                400,
                300,
                "This API can only be used for scheduled webinars (type 5). "
                "Batch registration is not supported for other webinar types.",
            )
        self._require_registration(kind, item)
        body = _require_object(body)
        people = body.get("registrants")
        if not isinstance(people, list) or not people:
            raise validation_error("registrants", "Invalid field.")
        if len(people) > MAX_BATCH_REGISTRANTS:
            raise ZoomApiError(400, 300, f"The number of registrants can not exceed {MAX_BATCH_REGISTRANTS}.")
        checked = [self._check_person(p, f"registrants[{n}].") for n, p in enumerate(people)]
        auto = body.get("auto_approve") is True
        rows = [self._register(item, person, auto_approve=auto) for person in checked]
        return {
            "registrants": [{"email": r["email"], "join_url": r["join_url"], "registrant_id": r["id"]} for r in rows]
        }

    def list_registrants(self, kind: Kind, value: str, query: dict[str, str]) -> dict:
        """GET /meetings/{id}/registrants?status=approved|pending|denied, paged."""
        item = self.find(kind, value)
        status = query.get("status", "approved")
        if status not in REGISTRANT_STATUSES:
            raise ZoomApiError(400, 300, f"Invalid status: {status}.")
        rows = [r for r in self._registrants.get(item["id"], []) if r["status"] == status]
        page, meta = self._pager.page(f"registrants:{item['id']}:{status}", rows, query)
        return {**meta, "registrants": copy.deepcopy(page)}

    def update_registrant_status(self, kind: Kind, value: str, body: Any) -> None:
        """PUT /meetings/{id}/registrants/status: approve pending or denied, deny pending or approved,
        cancel approved (the registration then shows as denied); others are left as they are."""
        item = self.find(kind, value)
        body = _require_object(body)
        action = body.get("action")
        moves = {
            "approve": (("pending", "denied"), "approved"),
            "deny": (("pending", "approved"), "denied"),
            "cancel": (("approved",), "denied"),
        }
        if action not in moves:
            raise validation_error("action", "Invalid field.")
        targets = body.get("registrants", [])
        if not isinstance(targets, list) or len(targets) > MAX_BATCH_REGISTRANTS:
            raise validation_error("registrants", "Invalid field.")
        sources, result = moves[action]
        for target in targets:
            if not isinstance(target, dict):
                raise validation_error("registrants", "Invalid field.")
            for row in self._registrants.get(item["id"], []):
                same_id = target.get("id") and target["id"] == row["id"]
                same_email = target.get("email") and str(target["email"]).lower() == row["email"].lower()
                if (same_id or same_email) and row["status"] in sources:
                    row["status"] = result

    # -- panelists --------------------------------------------------------------------------------

    def panelists(self, item_id: int) -> list[dict]:
        """Every panelist of a webinar, in the order they were added (copies)."""
        return copy.deepcopy(self._panelists.get(item_id, []))

    @staticmethod
    def _check_panelist(person: Any, where: str) -> dict[str, Any]:
        if not isinstance(person, dict):
            raise validation_error(where, "Invalid field.")
        email = person.get("email")
        if not isinstance(email, str) or "@" not in email or len(email) > 128:
            raise validation_error(f"{where}email", "Invalid field.")
        name = person.get("name")
        if not isinstance(name, str) or not name.strip():
            raise validation_error(f"{where}name", "Required field.")
        if len(name) > MAX_PANELIST_NAME:
            raise validation_error(f"{where}name", f"Length must be between 1 and {MAX_PANELIST_NAME}.")
        return person

    def add_panelists(self, value: str, body: Any) -> dict:
        """POST /webinars/{id}/panelists: at most 30 a call and 100 a webinar. An email already a
        panelist keeps its id and link and takes the new name."""
        item = self.find(WEBINAR, value)
        body = _require_object(body)
        people = body.get("panelists")
        if not isinstance(people, list) or not people:
            raise validation_error("panelists", "Invalid field.")
        if len(people) > MAX_BATCH_PANELISTS:
            raise ZoomApiError(400, 300, f"The number of panelists can not exceed {MAX_BATCH_PANELISTS}.")
        checked = [self._check_panelist(p, f"panelists[{n}].") for n, p in enumerate(people)]
        rows = self._panelists.setdefault(item["id"], [])
        known = {row["email"].lower() for row in rows}
        newcomers = {p["email"].lower() for p in checked} - known
        if len(rows) + len(newcomers) > MAX_PANELISTS:
            raise ZoomApiError(
                400,
                3000,
                "You have reached the limit for the number of panelists you can add. "
                "Contact Zoom Support for more information.",
            )
        is_mailed = item["settings"].get("panelists_invitation_email_notification", True) is not False
        for person in checked:
            row = next((r for r in rows if r["email"].lower() == person["email"].lower()), None)
            if row is None:
                row = {
                    "id": self._token(22),
                    "email": person["email"],
                    "name": person["name"],
                    "join_url": f"https://zoom.us/w/{item['id']}?tk={self._token(40)}&pwd={item['encrypted_password']}",
                }
                rows.append(row)
            row["name"] = person["name"]
            for field in ("virtual_background_id", "name_tag_id", "name_tag_name", "name_tag_pronouns"):
                if isinstance(person.get(field), str):
                    row[field] = person[field]
            if is_mailed:
                self.panelist_invitations.setdefault(item["id"], []).append(row["email"])
        return {"id": str(item["id"]), "updated_at": format_time(self._clock())}

    def list_panelists(self, value: str) -> dict:
        """GET /webinars/{id}/panelists: all of them in one answer (Zoom does not page this list)."""
        item = self.find(WEBINAR, value)
        rows = self._panelists.get(item["id"], [])
        return {"total_records": len(rows), "panelists": copy.deepcopy(rows)}

    def remove_panelist(self, value: str, panelist: str) -> None:
        """DELETE /webinars/{id}/panelists/{panelistId}: by id or email; an unknown one is Zoom's 1001."""
        item = self.find(WEBINAR, value)
        rows = self._panelists.get(item["id"], [])
        for row in rows:
            if row["id"] == panelist or row["email"].lower() == panelist.lower():
                rows.remove(row)
                return
        raise ZoomApiError(404, 1001, f"User {panelist} does not exist or does not belong to this account.")

    def remove_panelists(self, value: str) -> None:
        """DELETE /webinars/{id}/panelists: every panelist goes."""
        item = self.find(WEBINAR, value)
        self._panelists[item["id"]] = []

    # -- survey ------------------------------------------------------------------------------------

    def get_survey(self, value: str) -> dict:
        """GET /meetings/{id}/survey."""
        item = self.find(MEETING, value)
        return {"show_in_the_browser": True, "third_party_survey": "", **self._surveys.get(item["id"], {})}

    def update_survey(self, value: str, body: Any) -> None:
        """PATCH /meetings/{id}/survey: a third-party link of at most 64 characters, http(s) only."""
        item = self.find(MEETING, value)
        body = _require_object(body)
        survey = dict(self._surveys.get(item["id"], {}))
        if "show_in_the_browser" in body:
            if not isinstance(body["show_in_the_browser"], bool):
                raise validation_error("show_in_the_browser", "Invalid field.")
            survey["show_in_the_browser"] = body["show_in_the_browser"]
        if "third_party_survey" in body:
            url = body["third_party_survey"]
            valid = (
                isinstance(url, str)
                and len(url) <= MAX_SURVEY_URL
                and (url == "" or url.startswith(("https://", "http://")))
            )
            if not valid:
                raise ZoomApiError(400, 300, f"Invalid third party survey: {url}.")
            survey["third_party_survey"] = url
        if isinstance(body.get("custom_survey"), dict):
            survey["custom_survey"] = copy.deepcopy(body["custom_survey"])
        self._surveys[item["id"]] = survey
