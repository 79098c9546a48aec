"""What the command modules share: the time, common options (`--json`, `--dry-run`, `--csv`), JSON
and CSV output, and a store whose writes are rolled back (dry runs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from opsflow.cli.quick import json_text

json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
STDOUT = "-"


def dry_run_option(help_text: str = "Show what would change; change nothing."):
    return click.option("--dry-run", is_flag=True, help=help_text)


def csv_option(help_text: str, *, required: bool = False):
    """`--csv PATH`, the same on every command: a file, or `-` (or no value) for stdout."""
    return click.option(
        "--csv",
        "csv_path",
        metavar="PATH",
        is_flag=False,
        flag_value=STDOUT,
        required=required,
        help=f"{help_text} `-` (or no value) prints it instead.",
    )


def check_one_stdout(csv_path: str | None, as_json: bool) -> None:
    """`--csv -` and `--json` cannot both have stdout."""
    if csv_path == STDOUT and as_json:
        raise click.UsageError("--csv - and --json would both print to stdout: give --csv a file name")


def write_csv(csv_path: str, data: bytes) -> None:
    """CSV bytes (UTF-8 with BOM, CRLF: as Excel wants them) to stdout for `-`, else to the file."""
    from opsflow.core.errors import InputError

    if csv_path == STDOUT:
        click.echo(data, nl=False)
        return
    try:
        Path(csv_path).write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write {csv_path}: {exc.strerror}") from None


class RolledBack:
    """The store with every write transaction rolled back at its end: a library call made on it runs
    exactly as it would, says what it did, and leaves the database as it was (a dry run)."""

    def __init__(self, store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    @contextmanager
    def begin(self) -> Iterator[Any]:
        try:
            with self._store.begin() as conn:
                yield conn
                raise _Discard
        except _Discard:
            pass


class _Discard(Exception):
    """Raised at the end of a rolled-back transaction so that the store rolls it back."""


def now(value: str | None = None) -> datetime:
    """The current time in UTC, or the ISO datetime given (it must carry an offset)."""
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO datetime, e.g. 2027-01-07T10:00:00+09:00", param_hint="--now"
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter("give an offset, e.g. 2027-01-07T10:00:00+09:00", param_hint="--now")
    return moment.astimezone(UTC)


def print_json(data: Any) -> None:
    click.echo(json_text(data))
