"""`python -m station` is the same as the `station` command (and the bundle's entry point)."""

import multiprocessing
import sys

from station.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen bundle re-runs itself for child processes
    sys.exit(main())
