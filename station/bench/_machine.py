"""What the benchmarks say about the machine they ran on (it is shared: figures vary with its load)."""

from __future__ import annotations

import os


def load_average() -> str:
    """The 1, 5 and 15 minute load averages and the number of cores."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"
    except OSError:  # Windows
        return "unknown"
