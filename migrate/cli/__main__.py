"""`python -m migrate.cli …` (the tests and benchmarks start the command line this way)."""

from migrate.cli import main

main()
