"""`python -m opsflow` runs the command line."""

from .cli import main

main()
