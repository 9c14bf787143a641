"""The bar hub: trades from every feed in, bars and last prices out on the bus.

What the bus sees (the same live, on replay and in `station bench replay`):

- `BarUpdated(bar, closed=True)` once for every bar that closes, of every series
  built (the default timeframes for every symbol, plus what `RequestBars` asked for);
- `BarUpdated(bar, closed=False)` at most once per series per ingested batch, with
  the forming bar as it stands after the batch;
- `TickReceived` with the last trade of each symbol, at most once per symbol per
  `tick_interval_s` (5 ms by default; the latest one is always delivered);
- `BarsLoaded` answering `RequestBars`, and for everybody after a backfill.

Never one event per trade: feeds hand over `TradeBatch`es (a live feed's batches
cover at most a few milliseconds), so a flood of trades costs a few bus events.
`TickReceived` from other feeds (IB, scripts) is coalesced per loop turn and
feeds the same builders.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from station.bus import Bus
from station.domain.commands import ReleaseBars, RequestBars
from station.domain.events import BarsLoaded, BarUpdated, ErrorRaised, MarketDataReceived, TickReceived
from station.domain.marketdata import Bar, BarColumns, Tick
from station.marketdata.bars.builders import BarArrays, BarBuilder, make_builder
from station.marketdata.bars.columns import TAPE_FIELDS, BarStore, Columns
from station.marketdata.bars.grid import SessionGrid
from station.marketdata.bars.sessions import session_for
from station.marketdata.bars.timeframes import Timeframe, TimeframeError, parse_timeframe
from station.marketdata.trades import TradeBatch, ns_to_datetime

log = logging.getLogger("station.marketdata")

@dataclass
class BarSeries:
    """One symbol's bars of one timeframe: the builder, the closed bars, and who asked for them."""

    builder: BarBuilder
    store: BarStore
    requesters: set[str] = field(default_factory=set)
    default: bool = False

    def columns(self) -> BarColumns:
        """Closed bars plus the forming one, as a snapshot."""
        bars = self.store.arrays()
        forming = self.builder.forming
        if forming is not None:
            bars = BarArrays.concat([bars, forming.arrays()])
        b = self.builder
        return BarColumns(b.symbol, b.timeframe.name, *bars, forming=forming is not None)


class BarHub:
    """Builds bars for every symbol any feed delivers, and publishes them (see the module docstring)."""

    name = "bars"

    def __init__(self, bus: Bus, *, timeframes: tuple[str, ...] = ("1m",), sessions: dict[str, str] | None = None,
                 tick_interval_s: float = 0.005, tape_capacity: int = 2_000_000,
                 bar_capacity: int = 2_000_000) -> None:
        self.bus = bus
        self.defaults = tuple(parse_timeframe(t) for t in timeframes)
        self.session_overrides = dict(sessions or {})
        self.tick_interval_s = tick_interval_s
        self.tape_capacity = tape_capacity
        self.bar_capacity = bar_capacity
        self.tapes: dict[str, Columns] = {}
        self.series: dict[tuple[str, str], BarSeries] = {}
        self._by_symbol: dict[str, list[BarSeries]] = {}
        self._grids: dict[tuple[str, str], SessionGrid] = {}
        self.last: dict[str, tuple[int, float, float]] = {}
        self._tick_sent: dict[str, float] = {}
        self._tick_pending: dict[str, tuple[int, float, float]] = {}
        self._tick_timer: asyncio.TimerHandle | None = None
        self._foreign: list[Tick] = []
        self._publishing = False
        self._unsubscribe: list[Callable[[], None]] = []
        self.trades = 0

    # ---- lifetime -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen for other feeds' ticks, script rows and bar requests."""
        subscribe = self.bus.subscribe
        self._unsubscribe = [subscribe(TickReceived, self._on_tick), subscribe(MarketDataReceived, self._on_rows),
                             subscribe(RequestBars, self._on_request), subscribe(ReleaseBars, self._on_release)]

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._tick_timer is not None:
            self._tick_timer.cancel()
            self._tick_timer = None
        self._flush_ticks()

    # ---- trades in ------------------------------------------------------------------------------

    def ingest(self, batch: TradeBatch, *, now_ns: int | None = None, publish_ticks: bool = True,
               closing_at: int | None = None) -> None:
        """Add a batch of trades: update every series of its symbols, publish closed and forming bars.

        With `now_ns`, bars over by then close after the batch (`advance`); `closing_at` says the caller
        advances to that time right after. Either way a bar about to close is published closed only, not also
        as it stood forming a moment before."""
        touched: list[BarSeries] = []
        for symbol, ts, price, size in batch.by_symbol():
            valid = price == price  # drops NaN prices (undefined in the source)
            if not valid.all():
                ts, price, size = ts[valid], price[valid], size[valid]
                if not len(ts):
                    continue
            for series in self._series_of(symbol):
                if batch.synthetic and series.builder.timeframe.is_tick:
                    continue
                self._publish_closed(series, series.builder.update(ts, price, size))
                touched.append(series)
            self._tape(symbol).append(ts, price, size, np.full(len(ts), batch.synthetic))
            last = (int(ts[-1]), float(price[-1]), float(size[-1]))
            self.last[symbol] = last
            if publish_ticks:
                self._tick_pending[symbol] = last
            self.trades += len(ts)
        closing = now_ns if now_ns is not None else closing_at
        for series in touched:
            forming = series.builder.forming
            if closing is None or forming is None or forming.end > closing:
                self._publish_forming(series)
        if self._tick_pending:
            self._send_ticks()
        if now_ns is not None:
            self.advance(now_ns)

    def advance(self, now_ns: int) -> None:
        """Feed time moved to `now_ns`: close every bar whose time is over."""
        for series in self.series.values():
            forming = series.builder.forming
            if forming is not None and forming.end <= now_ns:
                self._publish_closed(series, series.builder.close_due(now_ns))

    def backfill(self, symbol: str, lo_ns: int, hi_ns: int, batch: TradeBatch) -> None:
        """History for [lo_ns, hi_ns) replaces what the tape holds there; the symbol's series are rebuilt."""
        tape = self._tape(symbol)
        parts = [(ts, px, sz) for sym, ts, px, sz in batch.by_symbol() if sym == symbol]
        ts, px, sz = (np.concatenate(c) for c in zip(*parts)) if parts else (np.empty(0, np.int64), np.empty(0), np.empty(0))
        tape.replace_range(lo_ns, hi_ns, ts, px, sz, np.full(len(ts), batch.synthetic))
        for series in list(self._series_of(symbol)):
            rebuilt = self._build_series(symbol, series.builder.timeframe)
            series.builder, series.store = rebuilt.builder, rebuilt.store
            self.bus.publish(BarsLoaded(series.columns(), ""))
        if len(tape) and symbol not in self.last:
            self.last[symbol] = (int(tape.column("ts")[-1]), float(tape.column("price")[-1]), 0.0)

    # ---- series ---------------------------------------------------------------------------------

    def request(self, symbol: str, timeframe: str, requester: str) -> BarColumns:
        """Start (or share) a series and return its bars so far; TimeframeError for a bad timeframe."""
        tf = parse_timeframe(timeframe)
        self._series_of(symbol)
        series = self.series.get((symbol, tf.name)) or self._add_series(symbol, tf)
        series.requesters.add(requester)
        return series.columns()

    def release(self, symbol: str, timeframe: str, requester: str) -> None:
        """Drop a requester; a series nobody needs (and not a default) stops being built."""
        try:
            key = (symbol, parse_timeframe(timeframe).name)
        except TimeframeError:
            return
        series = self.series.get(key)
        if series is None:
            return
        series.requesters.discard(requester)
        if not series.requesters and not series.default:
            del self.series[key]
            self._by_symbol[symbol].remove(series)

    def symbols(self) -> list[str]:
        """Every symbol seen so far."""
        return sorted(self.tapes)

    def _series_of(self, symbol: str) -> list[BarSeries]:
        found = self._by_symbol.get(symbol)
        if found is None:
            found = self._by_symbol[symbol] = []
            for tf in self.defaults:
                self._add_series(symbol, tf).default = True
        return found

    def _add_series(self, symbol: str, tf: Timeframe) -> BarSeries:
        series = self._build_series(symbol, tf)
        self.series[(symbol, tf.name)] = series
        self._by_symbol[symbol].append(series)
        return series

    def _build_series(self, symbol: str, tf: Timeframe) -> BarSeries:
        """A series built from the symbol's tape so far."""
        session = session_for(symbol, self.session_overrides)
        grid = self._grids.get((session.name, tf.name))
        if grid is None:
            grid = self._grids[(session.name, tf.name)] = SessionGrid(session, tf)
        series = BarSeries(make_builder(symbol, tf, grid), BarStore(self.bar_capacity))
        tape = self.tapes.get(symbol)
        if tape is not None and len(tape):
            ts, price, size = tape.column("ts"), tape.column("price"), tape.column("size")
            if tf.is_tick:
                real = ~tape.column("synthetic")
                ts, price, size = ts[real], price[real], size[real]
            series.store.add(series.builder.update(ts, price, size))
        series.builder.changed = False
        return series

    def _tape(self, symbol: str) -> Columns:
        tape = self.tapes.get(symbol)
        if tape is None:
            tape = self.tapes[symbol] = Columns(TAPE_FIELDS, self.tape_capacity)
        return tape

    # ---- publishing -----------------------------------------------------------------------------

    def _publish_closed(self, series: BarSeries, bars: BarArrays) -> None:
        if not len(bars.start):
            return
        series.store.add(bars)
        b = series.builder
        publish = self.bus.publish
        for start, o, h, lo, c, v in zip(bars.start.tolist(), bars.open.tolist(), bars.high.tolist(),
                                         bars.low.tolist(), bars.close.tolist(), bars.volume.tolist()):
            publish(BarUpdated(Bar(b.symbol, b.timeframe.name, ns_to_datetime(start), o, h, lo, c, v, True)))

    def _publish_forming(self, series: BarSeries) -> None:
        b = series.builder
        f = b.forming
        if not b.changed or f is None:
            return
        b.changed = False
        self.bus.publish(BarUpdated(Bar(b.symbol, b.timeframe.name, ns_to_datetime(f.start), f.open, f.high,
                                        f.low, f.close, f.volume, False)))

    @staticmethod
    def _now() -> float:
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:  # ingesting outside the loop (benchmarks, tools): the same clock
            return time.monotonic()

    def _send_ticks(self) -> None:
        now = self._now()
        due = [s for s in self._tick_pending if now - self._tick_sent.get(s, -1e9) >= self.tick_interval_s]
        for symbol in due:
            self._tick_sent[symbol] = now
            self._publish_tick(symbol, self._tick_pending.pop(symbol))
        if self._tick_pending and self._tick_timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._tick_timer = loop.call_later(self.tick_interval_s, self._on_tick_timer)

    def _on_tick_timer(self) -> None:
        self._tick_timer = None
        self._send_ticks()

    def _flush_ticks(self) -> None:
        for symbol, last in list(self._tick_pending.items()):
            self._publish_tick(symbol, last)
        self._tick_pending.clear()

    def _publish_tick(self, symbol: str, last: tuple[int, float, float]) -> None:
        self._publishing = True
        try:
            self.bus.publish(TickReceived(Tick(symbol, ns_to_datetime(last[0]), last[1], last[2])))
        finally:
            self._publishing = False

    # ---- bus handlers ---------------------------------------------------------------------------

    def _on_tick(self, event: TickReceived) -> None:
        if self._publishing:
            return  # our own last-price tick: its trade is already in the bars
        self._foreign.append(event.tick)
        if len(self._foreign) == 1:  # coalesce a loop turn's ticks into one batch
            try:
                asyncio.get_running_loop().call_soon(self._ingest_foreign)
            except RuntimeError:  # published outside the loop (a script, a test): take it now
                self._ingest_foreign()

    def _ingest_foreign(self) -> None:
        ticks, self._foreign = self._foreign, []
        self.ingest(TradeBatch.from_ticks(ticks), publish_ticks=False)

    def _on_rows(self, event: MarketDataReceived) -> None:
        if event.rows:
            self.ingest(TradeBatch.from_rows(event.rows))

    def _on_request(self, command: RequestBars) -> None:
        try:
            bars = self.request(command.symbol, command.timeframe, command.requester)
        except (TimeframeError, ValueError) as exc:
            self.bus.publish(ErrorRaised(source="bars", message=f"{command.symbol} {command.timeframe}: {exc}"))
            return
        self.bus.publish(BarsLoaded(bars, command.requester))

    def _on_release(self, command: ReleaseBars) -> None:
        self.release(command.symbol, command.timeframe, command.requester)
