"""Incremental indicators: O(1) per update, `initialized` once warmed up, `reset()` to start over.

Each `update` returns the new value (None until initialized) and keeps it in `value`.
Windowed sums are recomputed exactly each time the ring buffer wraps (O(period) once
every `period` updates, so still O(1) amortised), which keeps floating-point drift
from growing over a long session.
"""

from __future__ import annotations

import math


class SMA:
    """Simple moving average over the last `period` values."""

    __slots__ = ("period", "value", "initialized", "_ring", "_index", "_count", "_sum")

    def __init__(self, period: int) -> None:
        if period < 1:
            raise ValueError(f"period must be at least 1, got {period}")
        self.period = period
        self.reset()

    def reset(self) -> None:
        self.value: float | None = None
        self.initialized = False
        self._ring = [0.0] * self.period
        self._index = 0
        self._count = 0
        self._sum = 0.0

    def update(self, x: float) -> float | None:
        ring, i = self._ring, self._index
        self._sum += x - ring[i]
        ring[i] = x
        i += 1
        if i == self.period:
            i = 0
            self._sum = math.fsum(ring)
        self._index = i
        if not self.initialized:
            self._count += 1
            if self._count < self.period:
                return None
            self.initialized = True
        self.value = self._sum / self.period
        return self.value


class EMA:
    """Exponential moving average, alpha = 2/(period+1), seeded with the SMA of the first `period` values.

    The seed is TA-Lib's and TradingView's `ta.ema` convention; `alpha` may be given
    instead (Wilder's smoothing is alpha = 1/period).
    """

    __slots__ = ("period", "alpha", "value", "initialized", "_seed")

    def __init__(self, period: int, alpha: float | None = None) -> None:
        if period < 1:
            raise ValueError(f"period must be at least 1, got {period}")
        self.period = period
        self.alpha = 2.0 / (period + 1) if alpha is None else alpha
        self.reset()

    def reset(self) -> None:
        self.value: float | None = None
        self.initialized = False
        self._seed = SMA(self.period)

    def update(self, x: float) -> float | None:
        if self.initialized:
            self.value += self.alpha * (x - self.value)
            return self.value
        seed = self._seed.update(x)
        if seed is not None:
            self.value = seed
            self.initialized = True
        return seed


class Wilder(EMA):
    """Wilder's smoothing (RMA, SMMA): alpha = 1/period, seeded with an SMA."""

    __slots__ = ()

    def __init__(self, period: int) -> None:
        super().__init__(period, alpha=1.0 / period)


AVERAGES = {"sma": SMA, "ema": EMA, "wilder": Wilder}


def moving_average(kind: str, period: int) -> SMA | EMA:
    """A moving average by name: `sma`, `ema` or `wilder`."""
    try:
        return AVERAGES[kind.lower()](period)
    except KeyError:
        raise ValueError(f"unknown moving average {kind!r} (known: {', '.join(AVERAGES)})") from None


class TrueRange:
    """Wilder's true range: the bar's range extended to the previous close; the first bar's is high - low."""

    __slots__ = ("value", "initialized", "_prev_close")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.value: float | None = None
        self.initialized = False
        self._prev_close: float | None = None

    def update(self, high: float, low: float, close: float) -> float:
        prev = self._prev_close
        if prev is None:
            tr = high - low
        else:
            tr = (high if high > prev else prev) - (low if low < prev else prev)
        self._prev_close = close
        self.value = tr
        self.initialized = True
        return tr


class ATR:
    """Average true range: Wilder's smoothing of the true range (TradingView `ta.atr`, TA-Lib ATR seed)."""

    __slots__ = ("period", "value", "initialized", "_tr", "_avg")

    def __init__(self, period: int = 14, kind: str = "wilder") -> None:
        self.period = period
        self._tr = TrueRange()
        self._avg = moving_average(kind, period)
        self.value: float | None = None
        self.initialized = False

    def reset(self) -> None:
        self._tr.reset()
        self._avg.reset()
        self.value = None
        self.initialized = False

    def update(self, high: float, low: float, close: float) -> float | None:
        value = self._avg.update(self._tr.update(high, low, close))
        if value is not None:
            self.value = value
            self.initialized = True
        return value


class RollingStd:
    """Standard deviation of the last `period` values (ddof 0: population, as TradingView/ThinkScript StDev).

    Sliding Welford update; mean and squared deviations are recomputed exactly on each wrap.
    """

    __slots__ = ("period", "ddof", "value", "mean", "initialized", "_ring", "_index", "_count", "_m2")

    def __init__(self, period: int, ddof: int = 0) -> None:
        if period < 1 or period - ddof < 1:
            raise ValueError(f"period {period} is too short for ddof {ddof}")
        self.period = period
        self.ddof = ddof
        self.reset()

    def reset(self) -> None:
        self.value: float | None = None
        self.mean: float | None = None
        self.initialized = False
        self._ring = [0.0] * self.period
        self._index = 0
        self._count = 0
        self._m2 = 0.0

    def update(self, x: float) -> float | None:
        ring, i, n = self._ring, self._index, self.period
        if self._count < n:
            self._count += 1
            mean = self.mean or 0.0
            delta = x - mean
            mean += delta / self._count
            self._m2 += delta * (x - mean)
        else:
            old, mean_old = ring[i], self.mean
            mean = mean_old + (x - old) / n
            self._m2 += (x - old) * (x - mean + old - mean_old)
        ring[i] = x
        i += 1
        if i == n:
            i = 0
            if self._count == n:
                mean = math.fsum(ring) / n
                self._m2 = math.fsum((v - mean) ** 2 for v in ring)
        self._index = i
        self.mean = mean
        if self._count < n:
            return None
        self.initialized = True
        m2 = self._m2 if self._m2 > 0.0 else 0.0
        self.value = math.sqrt(m2 / (n - self.ddof))
        return self.value


class SpreadZScore:
    """Rolling mean, standard deviation and z-score (distance from the mean in σ) of a spread."""

    __slots__ = ("period", "value", "mean", "std", "initialized", "_std")

    def __init__(self, period: int, ddof: int = 0) -> None:
        self._std = RollingStd(period, ddof)
        self.period = period
        self.reset()

    def reset(self) -> None:
        self._std.reset()
        self.value: float | None = None
        self.mean: float | None = None
        self.std: float | None = None
        self.initialized = False

    def update(self, spread: float) -> float | None:
        std = self._std.update(spread)
        if std is None:
            return None
        self.initialized = True
        self.mean, self.std = self._std.mean, std
        self.value = (spread - self.mean) / std if std > 0.0 else 0.0
        return self.value


class Supertrend:
    """Supertrend over ATR(`period`) × `multiplier`: bands only tighten; direction flips on a close through the band.

    `direction` is +1 (up: the line is the lower band, under price) or -1 (down: the
    upper band). As TradingView's `ta.supertrend`, the first initialized bar starts
    down; `flipped` is True on the bar whose close crossed the band.
    """

    __slots__ = ("multiplier", "value", "direction", "flipped", "upper", "lower", "initialized", "atr", "_prev_close")

    def __init__(self, period: int = 10, multiplier: float = 3.0) -> None:
        self.multiplier = multiplier
        self.atr = ATR(period)
        self.reset()

    def reset(self) -> None:
        self.atr.reset()
        self.value: float | None = None
        self.direction = 0
        self.flipped = False
        self.upper: float | None = None
        self.lower: float | None = None
        self.initialized = False
        self._prev_close: float | None = None

    def update(self, high: float, low: float, close: float) -> float | None:
        atr = self.atr.update(high, low, close)
        prev_close, self._prev_close = self._prev_close, close
        if atr is None:
            return None
        mid = (high + low) / 2.0
        upper = mid + self.multiplier * atr
        lower = mid - self.multiplier * atr
        if not self.initialized:
            self.initialized = True
            self.direction, self.flipped = -1, False
        else:
            if not (lower > self.lower or prev_close < self.lower):
                lower = self.lower
            if not (upper < self.upper or prev_close > self.upper):
                upper = self.upper
            if self.direction < 0:
                direction = 1 if close > upper else -1
            else:
                direction = -1 if close < lower else 1
            self.flipped = direction != self.direction
            self.direction = direction
        self.upper, self.lower = upper, lower
        self.value = lower if self.direction > 0 else upper
        return self.value
