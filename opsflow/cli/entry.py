"""The `opsflow` console script. `opsflow run-due` with nothing due answers before the CLI is loaded."""

from __future__ import annotations

import sys

# `run-due` as cron calls it; the log format changes nothing when there is nothing to say
QUICK = (
    ["run-due"],
    ["run-due", "--log-format", "text"],
    ["run-due", "--log-format", "json"],
    ["run-due", "--log-format=text"],
    ["run-due", "--log-format=json"],
)


def main() -> None:
    if sys.argv[1:] in QUICK:
        from opsflow.cli.quick import nothing_due

        if nothing_due():
            return
    from opsflow.cli.main import main as cli_main

    cli_main()
