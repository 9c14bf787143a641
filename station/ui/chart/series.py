"""The bars a chart shows, with a level-of-detail pyramid for drawing a million of them quickly.

Bars live in growable numpy columns indexed by position (x = bar index, so closed
hours leave no gap). Level L merges groups of 2**L consecutive bars (first open,
highest high, lowest low, last close, summed volume); a chart zoomed out far draws
a coarse level, one candle per few pixels. A live update touches only the tail of
each level, and `changed_from` tells the drawing cache which blocks to redo.
"""

from __future__ import annotations

import numpy as np

from station.domain.marketdata import Bar, BarColumns
from station.marketdata.bars.builders import BarArrays
from station.marketdata.bars.columns import BarStore
from station.marketdata.bars.timeframes import TimeframeError, parse_timeframe
from station.marketdata.trades import to_ns

MAX_BARS = 5_000_000
TICK_BAR_SLACK_NS = 3600 * 1_000_000_000  # how long after its start a tick bar (or a session bar) may still hold a time


class ChartSeries:
    """One symbol and timeframe as drawn: bars by index, plus merged levels."""

    def __init__(self, symbol: str = "", timeframe: str = "") -> None:
        self.symbol, self.timeframe = symbol, timeframe
        self._bars = BarStore(MAX_BARS)
        self._levels: list[BarStore] = []  # level L (L >= 1) at index L - 1
        self._clean = 0  # levels are valid for bars before this index
        self.revision = 0
        self.changed_from = 0  # first bar index changed since the drawing cache last looked

    def __len__(self) -> int:
        return len(self._bars)

    def column(self, name: str) -> np.ndarray:
        return self._bars.column(name)

    def load(self, bars: BarColumns) -> None:
        """Replace everything by `bars` (a history answer)."""
        self.symbol, self.timeframe = bars.symbol, bars.timeframe
        self._bars = BarStore(MAX_BARS)
        self._bars.append(*(np.asarray(c) for c in (bars.start_ns, bars.open, bars.high, bars.low, bars.close,
                                                     bars.volume)))
        self._levels, self._clean = [], 0
        self._touch(0)

    def apply(self, bar: Bar) -> bool:
        """A live bar: updates the last one (same start), appends a newer one, ignores an older one."""
        start = to_ns(bar.start)
        n = len(self._bars)
        starts = self._bars.column("start")
        if n and start == starts[-1]:
            for name, value in zip(("open", "high", "low", "close", "volume"),
                                   (bar.open, bar.high, bar.low, bar.close, bar.volume)):
                self._bars.column(name)[-1] = value
            self._touch(n - 1)
            return True
        if n and start < starts[-1]:
            return False
        self._bars.append(np.array([start], np.int64), *(np.array([v], np.float64) for v in
                                                         (bar.open, bar.high, bar.low, bar.close, bar.volume)))
        self._touch(n)
        return True

    def _touch(self, index: int) -> None:
        self.revision += 1
        self._clean = min(self._clean, index)
        self.changed_from = min(self.changed_from, index)

    def take_changes(self) -> int:
        """The first index changed since the last call (len(self) when nothing changed)."""
        first, self.changed_from = self.changed_from, len(self)
        return first

    # ---- levels ---------------------------------------------------------------------------------

    def level(self, lvl: int) -> BarArrays:
        """Bars merged in groups of 2**lvl (level 0: the bars themselves)."""
        if lvl <= 0:
            return BarArrays(*(self._bars.column(name) for name in ("start", "open", "high", "low", "close",
                                                                      "volume")))
        if lvl > len(self._levels) or self._clean < len(self._bars):
            self._refresh_levels(lvl)
        store = self._levels[lvl - 1]
        return BarArrays(*(store.column(name) for name in ("start", "open", "high", "low", "close", "volume")))

    def levels_for(self, count: int) -> int:
        """The coarsest useful level for `count` bars (enough to reach a few thousand candles)."""
        return max(0, int(np.ceil(np.log2(max(1, count) / 2048))))

    def _refresh_levels(self, upto: int) -> None:
        """Recompute, in place, the groups of every level from the first changed bar on."""
        n = len(self._bars)
        upto = max(upto, len(self._levels))  # refresh every level built so far, so all are clean together
        lower = self.level(0)
        for lvl in range(1, upto + 1):
            if len(self._levels) < lvl:
                self._levels.append(BarStore(MAX_BARS))
            store = self._levels[lvl - 1]
            first_group = min(self._clean >> lvl, len(store))
            store.truncate(first_group)
            store.add(_merge_pairs(lower, first_group * 2))
            lower = BarArrays(*(store.column(name) for name in ("start", "open", "high", "low", "close", "volume")))
        self._clean = n

    def bounds(self, lo: int, hi: int) -> tuple[float, float, float]:
        """(lowest low, highest high, highest volume) of bars [lo, hi), read from a coarse level when long."""
        n = len(self._bars)
        lo, hi = max(0, lo), min(n, hi)
        if hi <= lo:
            return np.nan, np.nan, np.nan
        lvl = self.levels_for(hi - lo)
        bars = self.level(lvl)
        a, b = lo >> lvl, ((hi - 1) >> lvl) + 1
        return float(bars.low[a:b].min()), float(bars.high[a:b].max()), float(bars.volume[a:b].max())

    def index_within(self, time_ns: int) -> int | None:
        """The index of the bar holding `time_ns`, or None before the first bar or after the newest one ends
        (a time bar's end is its start plus its length; a tick bar's, a while after its start)."""
        starts = self._bars.column("start")
        if not len(starts) or time_ns < starts[0] or time_ns >= starts[-1] + self._last_length():
            return None
        return self.index_at(time_ns)

    def _last_length(self) -> int:
        try:
            timeframe = parse_timeframe(self.timeframe)
        except TimeframeError:
            timeframe = None
        if timeframe is not None and not timeframe.is_tick and timeframe.seconds:
            return timeframe.step_ns
        starts = self._bars.column("start")[-64:]
        spacing = int(np.median(np.diff(starts))) if len(starts) > 1 else 0
        return max(4 * spacing, TICK_BAR_SLACK_NS)

    def index_at(self, time_ns: int) -> int:
        """The index of the bar holding `time_ns` (the last bar for later times; 0 for earlier)."""
        starts = self._bars.column("start")
        return max(0, int(np.searchsorted(starts, time_ns, "right")) - 1)


def _merge_pairs(lower: BarArrays, first: int) -> BarArrays:
    """Merge bars of `lower` two by two, starting at index `first` (even)."""
    n = len(lower.start)
    if first >= n:
        return BarArrays.empty()
    idx = np.arange(first, n, 2)
    last = np.minimum(idx + 1, n - 1)
    return BarArrays(lower.start[idx], lower.open[idx], np.maximum(lower.high[idx], lower.high[last]),
                     np.minimum(lower.low[idx], lower.low[last]), lower.close[last],
                     lower.volume[idx] + np.where(last != idx, lower.volume[last], 0))
