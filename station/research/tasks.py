"""One sweep task, as a worker runs it: a spec in, its summary row out (small, cheap to send back).

A shipped data file (`--ship-data`) arrives as bytes and is written once per worker process to a
temporary file named by its content; every task of that sweep on that worker then reads it there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from pathlib import Path

from station.research.run import BacktestSpec, run_backtest

ROW_KEYS = ("trades", "net_pnl", "gross_profit", "gross_loss", "win_rate", "profit_factor", "max_drawdown", "sharpe",
            "commission", "avg_win", "avg_loss", "expectancy", "max_drawdown_pct", "sortino", "exposure", "fills")
HALF_KEYS = ("trades", "net_pnl", "win_rate", "profit_factor", "max_drawdown", "sharpe")


def local_copy(data: bytes) -> str:
    """The path of a worker-local copy of shipped data (written once per content)."""
    digest = hashlib.sha256(data).hexdigest()[:24]
    path = Path(tempfile.gettempdir()) / f"station-data-{digest}.dbn"
    if not path.exists() or path.stat().st_size != len(data):
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, path)
    return str(path)


def run_summary(spec: BacktestSpec, data: bytes | None = None) -> dict:
    """The sweep row of one parameter set: its parameters, then its summary (and its two halves with a split)."""
    if data is not None:
        spec = dataclasses.replace(spec, data=local_copy(data))
    summary = run_backtest(spec).summary
    row = dict(spec.params)
    row.update({key: summary.get(key) for key in ROW_KEYS})
    for prefix, half in (("is", "in_sample"), ("oos", "out_of_sample")):
        if half in summary:
            row.update({f"{prefix}_{key}": summary[half].get(key) for key in HALF_KEYS})
    return row
