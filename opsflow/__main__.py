"""`python -m opsflow` runs the command line."""

from opsflow.cli.entry import main

main()
