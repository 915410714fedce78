"""`python -m hypermetric` runs the command line."""

from hypermetric.cli.app import main

main()
