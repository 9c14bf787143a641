"""Bar builders: time bars on session boundaries and tick bars, fed whole batches of trades at once.

Each `update(ts, price, size)` takes numpy columns of one symbol's trades in time
order and returns the bars that closed, as columns; the bar still forming stays in
`forming`. Everything per trade is numpy (one `searchsorted` to find each trade's
slot, `reduceat` for open/high/low/close/volume), so a batch of 64k trades costs
about as much as a few dozen Python calls. A trade stamped earlier than one already
seen (exchange timestamps are not strictly ordered) counts in the current bar,
never in a bar already closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from station.marketdata.bars.grid import SessionGrid
from station.marketdata.bars.timeframes import Timeframe

_MIN_TS = np.iinfo(np.int64).min


class BarArrays(NamedTuple):
    """Bars as columns: start (UTC ns, int64) and float64 open, high, low, close, volume."""

    start: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    @staticmethod
    def empty() -> "BarArrays":
        return BarArrays(np.empty(0, np.int64), *(np.empty(0) for _ in range(5)))

    @staticmethod
    def concat(parts: list["BarArrays"]) -> "BarArrays":
        if not parts:
            return BarArrays.empty()
        if len(parts) == 1:
            return parts[0]
        return BarArrays(*(np.concatenate(column) for column in zip(*parts)))


@dataclass(slots=True)
class FormingBar:
    """The bar in progress; `end` is when it closes by time (slot end, or session close for tick bars)."""

    start: int
    end: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    count: int
    slot: int  # the slot start (time bars) or the session open (tick bars)

    def arrays(self) -> BarArrays:
        return BarArrays(np.array([self.start], np.int64), np.array([self.open]), np.array([self.high]),
                         np.array([self.low]), np.array([self.close]), np.array([self.volume]))


class _Segments(NamedTuple):
    first: np.ndarray  # index of each segment's first trade
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    count: np.ndarray


def _segments(cut: np.ndarray, price: np.ndarray, size: np.ndarray) -> _Segments:
    n = len(price)
    first = np.concatenate(([0], cut))
    last = np.append(cut - 1, n - 1)
    return _Segments(first, price[first], np.maximum.reduceat(price, first), np.minimum.reduceat(price, first),
                     price[last], np.add.reduceat(size, first), np.diff(np.append(first, n)))


class BarBuilder:
    """Builds one symbol's bars of one timeframe; subclasses decide where a bar ends."""

    def __init__(self, symbol: str, timeframe: Timeframe, grid: SessionGrid) -> None:
        self.symbol = symbol
        self.timeframe = timeframe
        self.grid = grid
        self.forming: FormingBar | None = None
        self.last_ts = _MIN_TS  # no trade before this time may open or join a bar
        self.changed = False  # the forming bar changed since the flag was last cleared

    def update(self, ts: np.ndarray, price: np.ndarray, size: np.ndarray) -> BarArrays:
        """Add trades (time order); returns the bars they closed."""
        if not len(ts):
            return BarArrays.empty()
        if ts[0] < self.last_ts:
            ts = ts.copy()
            ts[0] = self.last_ts
        ts = np.maximum.accumulate(ts)
        self.last_ts = int(ts[-1])
        idx, valid = self.grid.locate(ts)
        if not valid.all():
            ts, price, size, idx = ts[valid], price[valid], size[valid], idx[valid]
            if not len(ts):
                return BarArrays.empty()
        self.changed = True
        return self._build(ts, price, size, self.grid.bounds[idx], self.grid.ends[idx])

    def close_due(self, now_ns: int) -> BarArrays:
        """Close the forming bar if its time is over at `now_ns` (feed time); returns it or nothing."""
        bar = self.forming
        if bar is None or bar.end > now_ns:
            return BarArrays.empty()
        self.forming = None
        self.changed = True
        self.last_ts = max(self.last_ts, bar.end)
        return bar.arrays()

    def _build(self, ts, price, size, slot, end) -> BarArrays:
        raise NotImplementedError

    def _finish(self, seg: _Segments, starts: np.ndarray, slots: np.ndarray, ends: np.ndarray,
                merged: bool, last_complete: bool) -> BarArrays:
        """Fold segment 0 into the forming bar when `merged`, close what is complete, keep the rest forming."""
        closed: list[BarArrays] = []
        k = 0
        bar = self.forming
        if merged:
            bar.high = max(bar.high, float(seg.high[0]))
            bar.low = min(bar.low, float(seg.low[0]))
            bar.close = float(seg.close[0])
            bar.volume += float(seg.volume[0])
            bar.count += int(seg.count[0])
            k = 1
        m = len(seg.first)
        if bar is not None and (k < m or (merged and m == 1 and last_complete)):
            closed.append(bar.arrays())
            bar = None
        if k < m:
            stop = m if last_complete else m - 1
            if stop > k:
                closed.append(BarArrays(starts[k:stop], seg.open[k:stop], seg.high[k:stop], seg.low[k:stop],
                                        seg.close[k:stop], seg.volume[k:stop]))
            if not last_complete:
                j = m - 1
                bar = FormingBar(int(starts[j]), int(ends[j]), float(seg.open[j]), float(seg.high[j]),
                                 float(seg.low[j]), float(seg.close[j]), float(seg.volume[j]), int(seg.count[j]),
                                 int(slots[j]))
        self.forming = bar
        return BarArrays.concat(closed)


class TimeBarBuilder(BarBuilder):
    """Time bars (1s … 1d) starting on the session's wall-clock grid; a bar closes when its slot is over."""

    def update(self, ts: np.ndarray, price: np.ndarray, size: np.ndarray) -> BarArrays:
        """As `BarBuilder.update`; trades all inside one slot (most batches) fold into its bar without a per-trade
        slot lookup."""
        n = len(ts)
        if n:
            lo = max(int(ts[0]), self.last_ts)  # time order as the general path makes it: never before last_ts
            hi = max(lo, int(ts.max()))
            span = self.grid.span(lo, hi)
            if span is not None:
                return self._fold(span, hi, price, size)
        return super().update(ts, price, size)

    def _fold(self, span: tuple[int, int], hi: int, price: np.ndarray, size: np.ndarray) -> BarArrays:
        self.last_ts = hi
        self.changed = True
        high, low, close, volume = float(price.max()), float(price.min()), float(price[-1]), float(size.sum())
        bar = self.forming
        if bar is not None and bar.slot == span[0]:
            bar.high = max(bar.high, high)
            bar.low = min(bar.low, low)
            bar.close = close
            bar.volume += volume
            bar.count += len(price)
            return BarArrays.empty()
        self.forming = FormingBar(span[0], span[1], float(price[0]), high, low, close, volume, len(price), span[0])
        return bar.arrays() if bar is not None else BarArrays.empty()

    def _build(self, ts, price, size, slot, end) -> BarArrays:
        cut = np.flatnonzero(slot[1:] != slot[:-1]) + 1
        seg = _segments(cut, price, size)
        slots, ends = slot[seg.first], end[seg.first]
        merged = self.forming is not None and self.forming.slot == int(slots[0])
        return self._finish(seg, slots, slots, ends, merged, last_complete=False)


class TickBarBuilder(BarBuilder):
    """Bars of N trades each, restarting at every session open; a bar closes at its Nth trade or the session close."""

    def _build(self, ts, price, size, session, close) -> BarArrays:
        per_bar = self.timeframe.ticks
        n = len(ts)
        run_cut = np.flatnonzero(session[1:] != session[:-1]) + 1
        run_first = np.concatenate(([0], run_cut))
        run_id = np.zeros(n, dtype=np.intp)
        run_id[run_cut] = 1
        np.cumsum(run_id, out=run_id)
        position = np.arange(n) - run_first[run_id]
        bar = self.forming
        carry = bar.count if bar is not None and bar.slot == int(session[0]) else 0
        if carry:
            position[: run_cut[0] if len(run_cut) else n] += carry
        number = position // per_bar
        cut = np.flatnonzero((number[1:] != number[:-1]) | (session[1:] != session[:-1])) + 1
        seg = _segments(cut, price, size)
        starts = ts[seg.first]
        if carry:
            starts[0] = bar.start
        total = seg.count.copy()
        total[0] += carry
        last_complete = bool(total[-1] == per_bar)
        return self._finish(seg, starts, session[seg.first], close[seg.first], bool(carry), last_complete)


def make_builder(symbol: str, timeframe: Timeframe, grid: SessionGrid) -> BarBuilder:
    """The builder for `timeframe` (tick or time bars)."""
    kind = TickBarBuilder if timeframe.is_tick else TimeBarBuilder
    return kind(symbol, timeframe, grid)
