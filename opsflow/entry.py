"""The `opsflow` console script. `opsflow run-due` with nothing due answers before the CLI is loaded."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["run-due"] and _nothing_due():
        return
    from .cli import main as cli_main

    cli_main()


def _nothing_due() -> bool:
    from datetime import datetime, timezone

    from .config import quick_database_url
    from .store.fastpath import has_due_steps

    url = quick_database_url()
    return url is not None and has_due_steps(url, datetime.now(timezone.utc)) is False
