"""`python -m opsflow` runs the command line."""

from .entry import main

main()
