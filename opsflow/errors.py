"""One exception tree for opsflow; every message is written for the person reading it.

    OpsflowError                 base; exit code 1
    ├── InputError               the user's input is wrong; exit code 2
    │   ├── ConfigError          a setting is missing or invalid (names the variable)
    │   ├── JobFileError         a job file is wrong (names file, key path, line)
    │   ├── TimeExprError        an `at` expression or duration does not parse
    │   └── NotFoundError        an event, step or file that was asked for does not exist
    └── StoreError               the database cannot be opened, read or upgraded
"""

from __future__ import annotations


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


class NotFoundError(InputError):
    """Something that was asked for by name does not exist."""


class StoreError(OpsflowError):
    """The database cannot be opened, read, written or upgraded."""
