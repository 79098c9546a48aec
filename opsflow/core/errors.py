"""One exception tree for opsflow; every message is written for the person reading it.

OpsflowError                 base; exit code 1
├── InputError               the user's input is wrong; exit code 2
│   ├── ConfigError          a setting is missing or invalid (names the variable)
│   ├── JobFileError         a job file is wrong (names file, key path, line)
│   ├── TimeExprError        an `at` expression or duration does not parse
│   ├── TemplateError        a mail template is missing or fails to render (names file and line)
│   └── NotFoundError        an event, step or file that was asked for does not exist
├── StoreError               the database cannot be opened, read or upgraded
├── MailError                the mail server cannot be used (connection, TLS, login, full disk)
└── ZoomError                a Zoom API call failed (carries status, Zoom code, message, request id)
    ├── ZoomAuthError        the app credentials or the access token were refused
    ├── ZoomScopeError       the app lacks a scope (code 4700; names the scope)
    ├── ZoomNotFoundError    the meeting, webinar or user does not exist (3001, 1001)
    │   └── ZoomReportNotReady  a report asked for before Zoom has it (3001 after the end)
    ├── RecordingNotReady    the cloud recording is not there yet, or still processing (transient)
    ├── ZoomPlanError        a paid plan or a permission is needed (code 200)
    ├── ZoomRateLimited      over a rate limit; `retry_at` says when to try again
    ├── ZoomUnavailable      network errors or 5xx that outlasted the retries (transient)
    ├── ZoomOutcomeUnknown   a create call timed out: Zoom may or may not have done it
    └── ZoomApiError         any other API error
"""

from __future__ import annotations

from datetime import datetime


class OpsflowError(Exception):
    """Base of every error opsflow raises on purpose. `str(err)` is the message for people."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(OpsflowError):
    """Something the user wrote or typed is wrong; fixing the input fixes the error."""

    exit_code = 2


class ConfigError(InputError):
    """A setting from the environment or `.env` is missing or invalid."""


class TimeExprError(InputError):
    """A time expression (`start - 1d @ 10:00`) or a duration (`90m`) does not parse."""


class JobFileError(InputError):
    """A job file is invalid. Carries the place so that callers can show or group it."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        self.path = path
        self.key = key
        self.line = line
        self.reason = message
        place = ":".join(p for p in (path, str(line) if line else None) if p)
        if key:
            place = f"{place}: {key}" if place else key
        super().__init__(f"{place}: {message}" if place else message)


class JobFileErrors(InputError):
    """Several job-file errors found in one pass, reported together so each is fixed at once."""

    def __init__(self, errors: list[JobFileError]) -> None:
        self.errors = errors
        if len(errors) == 1:
            message = errors[0].message
        else:
            lines = [f"{len(errors)} problems in job files:"]
            lines += [f"  {e.message}" for e in errors]
            message = "\n".join(lines)
        super().__init__(message)


class TemplateError(InputError):
    """A mail template is missing, has a syntax error, or uses something the context lacks."""


class NotFoundError(InputError):
    """Something that was asked for by name does not exist."""


class MailError(OpsflowError):
    """The mail transport cannot be used at all: nothing more is sent in this batch."""


class StoreError(OpsflowError):
    """The database cannot be opened, read, written or upgraded."""


class ZoomError(OpsflowError):
    """A Zoom API call failed. `str()` is the message for people; the fields are for code."""

    is_transient = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        zoom_message: str = "",
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.zoom_message = zoom_message
        self.request_id = request_id
        if request_id:
            message = f"{message} (Zoom request id {request_id})"
        super().__init__(message)


class ZoomAuthError(ZoomError):
    """The app credentials or the access token were refused."""


class ZoomScopeError(ZoomError):
    """The Zoom app lacks a scope that the call needs."""

    def __init__(self, message: str, *, scopes: list[str], **kwargs) -> None:
        self.scopes = scopes
        super().__init__(message, **kwargs)


class ZoomNotFoundError(ZoomError):
    """The meeting, webinar, registrant or user does not exist on Zoom."""


class ZoomReportNotReady(ZoomNotFoundError):
    """The participant report is not available yet (Zoom needs up to 30 minutes after the end)."""

    is_transient = True


class RecordingNotReady(ZoomError):
    """Zoom has no cloud recording of the meeting yet (3301), or is still processing its files."""

    is_transient = True


class ZoomPlanError(ZoomError):
    """The call needs a paid Zoom plan, or a permission the account does not have."""


class ZoomRateLimited(ZoomError):
    """Over a Zoom rate limit; `retry_at` (aware UTC) says when to try again, when known."""

    is_transient = True

    def __init__(self, message: str, *, retry_at: datetime | None = None, limit_type: str = "", **kwargs) -> None:
        self.retry_at = retry_at
        self.limit_type = limit_type
        super().__init__(message, **kwargs)


class ZoomUnavailable(ZoomError):
    """Zoom could not be reached, or answered 5xx, for longer than the retry deadline."""

    is_transient = True


class ZoomOutcomeUnknown(ZoomError):
    """A call that creates something timed out after it was sent: it may have happened. Reconcile."""

    is_transient = True


class ZoomApiError(ZoomError):
    """Any other error answer from the Zoom API."""


class ChatError(OpsflowError):
    """The staff chat webhook refused a message or could not be reached; the message never shows its URL
    (the path is the credential). `status` is the last HTTP status (None: no answer); `is_transient` says
    whether trying later may help (network, 429, 5xx) or a person must fix the URL or format first."""

    def __init__(
        self, message: str, *, status: int | None = None, is_transient: bool = False, attempts: int = 0
    ) -> None:
        self.status = status
        self.is_transient = is_transient
        self.attempts = attempts
        super().__init__(message)
