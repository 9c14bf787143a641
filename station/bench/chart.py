"""`station bench chart`: chart frame times over 1M bars and loop lag under 1,000 trades/s.

The chart is Qt, so the work lives in `station.ui.chart.bench` (imported only when run).
"""

from __future__ import annotations


def run(options) -> dict:
    """See `station.ui.chart.bench`."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a benchmark needs no screen
    from station.ui.chart.bench import run as run_chart

    return run_chart(options)
