"""Supertrend reversal: enter when a Supertrend flip is confirmed by a reversal candle; ATR trailing stop."""

from __future__ import annotations

from typing import Any

from station.domain.marketdata import Bar
from station.engine.indicators import Supertrend
from station.engine.signals import Signal
from station.engine.strategies.base import Strategy


class SupertrendReversal(Strategy):
    """A flip of Supertrend arms an entry its way for `confirm_bars` bars (the flip bar included); a reversal
    candle (bullish: close > open and close > the previous high; bearish mirrored) confirms it.

    A flip against the position exits it. The stop trails `trail_atr` × ATR behind the close
    (only ever tightening); `take_profit_atr` × ATR from the entry is an optional target.
    """

    kind = "supertrend"

    def __init__(self, name: str, ticker: str, params: dict[str, Any], **context: Any) -> None:
        super().__init__(name, ticker, params, **context)
        self.st = Supertrend(int(params.get("atr_period", 10)), float(params.get("multiplier", 3.0)))
        self.confirm_bars = int(params.get("confirm_bars", 3))
        self.trail_atr = float(params.get("trail_atr") or params.get("multiplier", 3.0))
        self.take_profit_atr: float | None = params.get("take_profit_atr")
        self.pending = 0
        self.pending_age = 0
        self._prev_high: float | None = None
        self._prev_low: float | None = None

    def warmup_bars(self) -> int:
        return int(self.params.get("warmup_bars") or self.st.atr.period * 10 + 2)

    def _on_bar(self, bar: Bar) -> list[Signal]:
        signals: list[Signal] = []
        why = self.stop_or_target_hit(bar)
        if why:
            signals = self.exit(bar, "trailing stop" if why == "stop" else why)
        prev_high, prev_low = self._prev_high, self._prev_low
        self._prev_high, self._prev_low = bar.high, bar.low
        if self.st.update(bar.high, bar.low, bar.close) is None:
            return signals
        direction, atr = self.st.direction, self.st.atr.value
        if self.st.flipped:
            self.pending, self.pending_age = direction, 0
            if self.position == -direction:
                signals += self.exit(bar, "supertrend flip")
        if self.pending and prev_high is not None:
            confirmed = (bar.close > bar.open and bar.close > prev_high) if self.pending > 0 else \
                        (bar.close < bar.open and bar.close < prev_low)
            if confirmed:
                tp = None if self.take_profit_atr is None else self.take_profit_atr * atr
                signals += self.go(bar, self.pending, "supertrend reversal", self.trail_atr * atr, tp)
                self.pending = 0
            else:
                self.pending_age += 1
                if self.pending_age >= self.confirm_bars:
                    self.pending = 0
        if self.position and self.stop is not None:
            trail = bar.close - self.position * self.trail_atr * atr
            self.stop = max(self.stop, trail) if self.position > 0 else min(self.stop, trail)
        return signals

    def display(self) -> dict[str, Any]:
        return {**super().display(), "supertrend": self.st.value, "direction": self.st.direction}
