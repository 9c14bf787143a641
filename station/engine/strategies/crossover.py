"""Trend-line crossover: long when line 1 crosses above line 2, short when it crosses below."""

from __future__ import annotations

from typing import Any

from station.domain.marketdata import Bar
from station.engine.indicators import moving_average
from station.engine.signals import Signal
from station.engine.strategies.base import Strategy


class CrossLines:
    """Two moving averages of the close and the sign of their last crossing (+1 above, -1 below, 0 none)."""

    __slots__ = ("line1", "line2", "_prev")

    def __init__(self, line1: dict[str, Any], line2: dict[str, Any]) -> None:
        self.line1 = moving_average(line1["type"], int(line1["period"]))
        self.line2 = moving_average(line2["type"], int(line2["period"]))
        self._prev: float | None = None

    @property
    def longest(self) -> int:
        return max(self.line1.period, self.line2.period)

    def update(self, close: float) -> int:
        a = self.line1.update(close)
        b = self.line2.update(close)
        if a is None or b is None:
            return 0
        diff, prev = a - b, self._prev
        self._prev = diff
        if prev is None:
            return 0
        if diff > 0.0 and prev <= 0.0:
            return 1
        if diff < 0.0 and prev >= 0.0:
            return -1
        return 0


class Crossover(Strategy):
    """Long on a cross above, short on a cross below; exits on the reverse cross or the stop (`stop_points`)."""

    kind = "crossover"

    def __init__(self, name: str, ticker: str, params: dict[str, Any], **context: Any) -> None:
        super().__init__(name, ticker, params, **context)
        self.lines = CrossLines(params["line1"], params["line2"])
        self.stop_points: float | None = params.get("stop_points")

    def warmup_bars(self) -> int:
        # EMA/Wilder lines keep a memory of their seed: give them several periods to forget it
        return int(self.params.get("warmup_bars") or self.lines.longest * 5 + 2)

    def _on_bar(self, bar: Bar) -> list[Signal]:
        signals: list[Signal] = []
        why = self.stop_or_target_hit(bar)
        if why:
            signals = self.exit(bar, why)
        cross = self.lines.update(bar.close)
        if cross:
            signals += self.go(bar, cross, "cross above" if cross > 0 else "cross below", self.stop_points)
        return signals

    def display(self) -> dict[str, Any]:
        return {**super().display(), "line1": self.lines.line1.value, "line2": self.lines.line2.value}
