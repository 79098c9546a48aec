"""What the command modules share: the time, common options, JSON output."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def dry_run_option(help_text: str = "Show what would change; change nothing."):
    return click.option("--dry-run", is_flag=True, help=help_text)


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
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
