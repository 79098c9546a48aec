"""The `opsflow` console script. `opsflow run-due` with nothing due answers before the CLI is loaded."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["run-due"]:
        from opsflow.cli.quick import nothing_due

        if nothing_due():
            return
    from opsflow.cli.main import main as cli_main

    cli_main()
