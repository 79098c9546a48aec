"""The `opsflow` console script. `opsflow run-due` with nothing due answers before the CLI is loaded."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["run-due"]:  # cron, every minute: most often there is nothing to do
        from opsflow.cli.quick import nothing_due_output

        output = nothing_due_output(sys.argv[2:])
        if output is not None:
            sys.stdout.write(output)
            return
    from opsflow.cli.main import main as cli_main

    cli_main()
