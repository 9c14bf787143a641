"""Moving averages over a chart's closes, kept up to date incrementally as bars change.

They are computed as the engine's strategies compute theirs (`engine/indicators.py`, TradingView's
`ta.sma`, `ta.ema`, `ta.rma`): an EMA or Wilder line starts, seeded with the SMA, once it has
`length` closes, so a strategy's own lines drawn on its chart are the lines it trades on.
"""

from __future__ import annotations

import re

import numpy as np

from station.ui.chart.series import ChartSeries

FULL_RECOMPUTE = 4096  # beyond this many changed bars, recompute the whole line vectorised
KINDS = ("sma", "ema", "wilder")
_LINE = re.compile(r"^\s*(SMA|EMA|WILDER|RMA)\s*\(?\s*(\d{1,4})\s*\)?\s*$", re.IGNORECASE)


def parse_line(text: str) -> tuple[str, int]:
    """`EMA 9`, `sma21`, `Wilder(14)` or `RMA 14` as (kind, length); ValueError naming what is accepted."""
    match = _LINE.match(text or "")
    if not match or int(match.group(2)) < 1:
        raise ValueError(f"{text!r} is not a line: write EMA 9, SMA 21 or WILDER 14")
    kind = match.group(1).lower()
    return ("wilder" if kind == "rma" else kind), int(match.group(2))


def line_label(kind: str, length: int) -> str:
    return f"{kind.upper()} {length}"


class MovingAverage:
    """An SMA, EMA or Wilder line of `length` closes; call it for the values (NaN until `length` bars)."""

    def __init__(self, series: ChartSeries, kind: str, length: int) -> None:
        if kind not in KINDS or length < 1:
            raise ValueError(f"unknown moving average {kind}{length}")
        self.series, self.kind, self.length = series, kind, length
        self.alpha = 2.0 / (length + 1) if kind == "ema" else 1.0 / length
        self.values = np.empty(0)
        self.label = line_label(kind, length)

    def __call__(self) -> np.ndarray:
        return self.values

    def update(self, first: int) -> None:
        """Recompute from bar `first` on (everything before it is unchanged)."""
        close = self.series.column("close")
        n = len(close)
        first = max(0, min(first, len(self.values), n))
        values = np.empty(n)
        values[:first] = self.values[:first]
        if self.kind == "sma":
            start = max(0, first - self.length + 1)
            window = np.cumsum(np.concatenate(([0.0], close[start:])))
            idx = np.arange(first, n)
            lo = np.maximum(idx - self.length + 1, 0) - start
            values[first:] = (window[idx - start + 1] - window[lo]) / self.length
            values[first:][idx < self.length - 1] = np.nan
        elif first < self.length or n - first > FULL_RECOMPUTE:
            values[:] = self._whole(close)
        else:
            previous = values[first - 1]
            for i in range(first, n):
                previous = previous + self.alpha * (close[i] - previous)
                values[i] = previous
        self.values = values

    def _whole(self, close: np.ndarray) -> np.ndarray:
        n, seed_at = len(close), self.length - 1
        values = np.full(n, np.nan)
        if n <= seed_at:
            return values
        import pandas as pd

        start = np.concatenate(([close[: self.length].mean()], close[self.length:]))
        values[seed_at:] = pd.Series(start).ewm(alpha=self.alpha, adjust=False).mean().to_numpy()
        return values
