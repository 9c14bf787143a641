"""A DBN file's trades into a backtest's pipeline at full speed, as a paced live replay would deliver them.

The file is streamed chunk by chunk as numpy columns (never a Python object per trade). Each
chunk is cut into slices at the trades where something can happen, and the pipeline settles
after each slice, before the next trade exists for it:

- a time bar's end: the trades before it go in, then the bar closes at its end time (as a
  live feed's clock closes it), the strategy decides and its orders fill at the last price;
- a tick bar's last trade (the bar closes on it): the slice ends with that trade;
- the first trade that fills or triggers a working order of the paper broker
  (`brokers/paper/crossing.py`), and the trade a trailing stop follows furthest: the slice
  ends with it, so the broker sees it as the last price, as it would live.

In between, trades only build bars: one `BarHub.ingest` per slice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Awaitable

import numpy as np

from station.brokers.paper.crossing import next_event
from station.marketdata.databento.files import DbnFile
from station.marketdata.hub import BarHub
from station.marketdata.trades import TradeBatch
from station.research.contracts import ContractRolls

NO_END = np.iinfo(np.int64).max


class Cancelled(Exception):
    """The backtest was cancelled (from the window's Cancel)."""


@dataclass
class FeedProgress:
    """How far the feed is: market time reached and trades fed."""

    now_ns: int = 0
    first_ns: int | None = None  # the first trade fed
    trades: int = 0
    slices: int = 0


class HistoryFeed:
    """Feeds one file into `hub`, settling the pipeline at every slice (see the module docstring)."""

    def __init__(self, hub: BarHub, settle: Callable[[], Awaitable[None]], simulator: Callable[[], object | None],
                 on_time: Callable[[int], None] = lambda ns: None) -> None:
        self.hub = hub
        self.settle = settle
        self.simulator = simulator
        self.on_time = on_time
        self.progress = FeedProgress()
        self._rows: dict[str, np.ndarray] = {}
        self._opening: dict[int, np.ndarray] = {}
        self._last_key = np.iinfo(np.int64).min

    async def play(self, path, symbols: set[str], start_ns: int = 0, end_ns: int = NO_END, *, chunk: int = 65_536,
                   cancelled: Callable[[], bool] = lambda: False,
                   on_chunk: Callable[[FeedProgress], None] = lambda p: None, rolls: ContractRolls | None = None) -> None:
        """Feed the trades of `symbols` in [start_ns, end_ns) (a contract's as its ticker's, by `rolls`); then
        close the bars still forming at the end."""
        dbn = DbnFile(path)
        for batch in dbn.batches(chunk):
            if cancelled():
                raise Cancelled()
            if len(batch.ts) and int(batch.ts[0]) >= end_ns:
                break
            if rolls:
                batch = rolls.apply(batch)
            part = _select(batch, symbols, start_ns, end_ns)
            if part is not None:
                await self._feed(part)
            on_chunk(self.progress)
        end = int(dbn.metadata.end or 0)
        final = min(end_ns, end) if end and end < 2**63 else end_ns
        if final == NO_END:
            final = max(self.progress.now_ns, 0) + 1
        final = max(final, self.progress.now_ns)
        while (due := self._due()) is not None and due <= final:  # each bar closes at its own end, in order
            await self._advance(due)
        await self._advance(final)

    def _due(self) -> int | None:
        ends = [s.builder.forming.end for s in self.hub.series.values() if s.builder.forming is not None]
        return min(ends) if ends else None

    async def _advance(self, now_ns: int) -> None:
        self._set_time(now_ns)
        self.hub.advance(now_ns)
        await self.settle()

    def _set_time(self, now_ns: int) -> None:
        if now_ns > self.progress.now_ns:
            self.progress.now_ns = now_ns
            self.on_time(now_ns)

    async def _feed(self, batch: TradeBatch) -> None:
        key = np.maximum.accumulate(np.maximum(batch.ts, self._last_key))
        self._last_key = int(key[-1])
        self._rows = {name: np.flatnonzero(batch.code == code) for code, name in enumerate(batch.symbols)}
        self._opening = {}
        i, n = 0, len(key)
        while i < n:
            due, j = self._bars(key, i, n)
            if due is not None and key[i] >= due:
                await self._advance(due)  # the bar is over before this trade: it closes at its end time
                continue
            # the first trade at or after the bar's end (n: none in this batch)
            boundary = n if due is None else i + int(np.searchsorted(key[i:], due, "left"))
            j = self._order_trade(batch, i, min(j, boundary))
            closing = due if j == boundary < n else None  # the bar closes right after these trades
            self.hub.ingest(_slice(batch, i, j), closing_at=closing)
            if self.progress.first_ns is None:
                self.progress.first_ns = int(key[i])
            self.progress.trades += j - i
            self.progress.slices += 1
            self._set_time(int(key[j - 1]))
            if closing is not None:  # nothing but bars happened on these trades: the bar closes now, one settle for both
                self._set_time(due)
                self.hub.advance(due)
            await self.settle()
            i = j

    # ---- where the next slice ends ------------------------------------------------------------

    def _bars(self, key: np.ndarray, i: int, n: int) -> tuple[int | None, int]:
        """(the earliest end of a bar forming or about to open, the end of a slice closing a tick bar on its last
        trade). A bar about to open ends where the grid puts its first trade; a tick bar ends at its session's close
        or at its Nth trade."""
        due, stop = None, n
        for series in self.hub.series.values():
            builder = series.builder
            rows = self._rows.get(builder.symbol)
            if rows is None:
                continue
            first = int(np.searchsorted(rows, i))
            forming = builder.forming
            if forming is not None:
                end, count = forming.end, forming.count
            else:
                ends = self._opening_ends(builder, key, rows)
                end, count = (int(ends[first]) if first < len(ends) and ends[first] >= 0 else None), 0
            if end is not None and (due is None or end < due):
                due = end
            if builder.timeframe.is_tick:
                need = builder.timeframe.ticks - count
                if 0 < need <= len(rows) - first:
                    stop = min(stop, int(rows[first + need - 1]) + 1)
        return due, stop

    def _opening_ends(self, builder, key: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """For each of `rows` (a symbol's trades in this batch): when the bar the first trade in session from there
        on would open ends (-1: none here). Computed once per batch and series, in one pass of the grid."""
        cached = self._opening.get(id(builder))
        if cached is not None:
            return cached
        idx, valid = builder.grid.locate(np.maximum(key[rows], builder.last_ts))
        ends = np.where(valid, builder.grid.ends[idx], -1)
        m = len(rows)
        following = np.minimum.accumulate(np.where(valid, np.arange(m), m)[::-1])[::-1]
        out = np.append(ends, -1)[following]
        self._opening[id(builder)] = out
        return out

    def _order_trade(self, batch: TradeBatch, i: int, j: int) -> int:
        """The first trade a working order of the paper broker fills or triggers on, or a trailing stop's best."""
        simulator = self.simulator()
        if simulator is None:
            return j
        last = j
        for symbol in {o.symbol for o in simulator.working()}:
            rows = self._rows.get(symbol)
            if rows is None:
                continue
            rows = rows[np.searchsorted(rows, i):np.searchsorted(rows, last)]
            if not len(rows):
                continue
            prices = batch.price[rows]
            hit = next_event(simulator, symbol, prices)
            if hit is not None:
                last = int(rows[hit]) + 1
        return last


def _select(batch: TradeBatch, symbols: set[str], start_ns: int, end_ns: int) -> TradeBatch | None:
    """The batch's trades of `symbols` in [start_ns, end_ns) with a price (one symbol's: a batch of that symbol)."""
    codes = [code for code, name in enumerate(batch.symbols) if name in symbols]
    if not codes:
        return None
    keep = None
    if len(codes) < len(batch.symbols):
        keep = batch.code == codes[0] if len(codes) == 1 else np.isin(batch.code, codes)
    if start_ns > 0:
        keep = _both(keep, batch.ts >= start_ns)
    if end_ns != NO_END:
        keep = _both(keep, batch.ts < end_ns)
    if np.isnan(batch.price).any():
        keep = _both(keep, batch.price == batch.price)
    if keep is None:
        return batch
    rows = np.flatnonzero(keep)
    if len(rows) == len(batch):
        return batch
    if not len(rows):
        return None
    ts, price, size = batch.ts[rows], batch.price[rows], batch.size[rows]
    if len(codes) == 1:
        return TradeBatch.single(batch.symbols[codes[0]], ts, price, size, batch.synthetic)
    return TradeBatch(batch.symbols, batch.code[rows], ts, price, size, batch.synthetic)


def _both(mask: np.ndarray | None, other: np.ndarray) -> np.ndarray:
    return other if mask is None else mask & other


def _slice(batch: TradeBatch, i: int, j: int) -> TradeBatch:
    if i == 0 and j == len(batch):
        return batch
    return TradeBatch(batch.symbols, batch.code[i:j], batch.ts[i:j], batch.price[i:j], batch.size[i:j], batch.synthetic)
