"""Moving averages over a chart's closes, kept up to date incrementally as bars change."""

from __future__ import annotations

import numpy as np

from station.ui.chart.series import ChartSeries

FULL_RECOMPUTE = 4096  # beyond this many changed bars, recompute the whole line vectorised


class MovingAverage:
    """An SMA or EMA of `length` closes; call it for the values (NaN until `length` bars for the SMA)."""

    def __init__(self, series: ChartSeries, kind: str, length: int) -> None:
        if kind not in ("sma", "ema") or length < 1:
            raise ValueError(f"unknown moving average {kind}{length}")
        self.series, self.kind, self.length = series, kind, length
        self.values = np.empty(0)
        self.label = f"{kind.upper()} {length}"

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
        elif first == 0 or n - first > FULL_RECOMPUTE:
            import pandas as pd

            values[:] = pd.Series(close).ewm(span=self.length, adjust=False).mean().to_numpy()
        else:
            alpha = 2.0 / (self.length + 1)
            previous = values[first - 1]
            for i in range(first, n):
                previous = alpha * close[i] + (1 - alpha) * previous
                values[i] = previous
        self.values = values
