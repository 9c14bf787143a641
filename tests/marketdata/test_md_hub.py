"""The bar hub on a real bus: what it publishes per batch, requests, other feeds' ticks, CSV rows, backfill."""

import asyncio
from datetime import datetime, timedelta, timezone

import numpy as np

from station.bus import Bus
from station.domain.commands import ReleaseBars, RequestBars
from station.domain.events import BarsLoaded, BarUpdated, ErrorRaised, MarketDataReceived, TickReceived
from station.domain.marketdata import MarketDataRow, Tick
from station.marketdata.hub import BarHub
from station.marketdata.trades import TradeBatch
from support.wait import until

UTC = timezone.utc
T0 = datetime(2025, 5, 15, 14, 30, tzinfo=UTC)  # 10:30 EDT


def ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 10**9


def batch(*trades) -> TradeBatch:
    """trades: (symbol, seconds after T0, price, size)."""
    symbols = tuple(dict.fromkeys(t[0] for t in trades))
    return TradeBatch(symbols, np.array([symbols.index(t[0]) for t in trades]),
                      np.array([ns(T0) + int(t[1] * 1e9) for t in trades], np.int64),
                      np.array([t[2] for t in trades], float), np.array([t[3] for t in trades], float))


def recorder(bus: Bus, *kinds):
    seen = []
    for kind in kinds:
        bus.subscribe(kind, seen.append)
    return seen


async def started(bus: Bus, **kw) -> BarHub:
    bus.bind(asyncio.get_running_loop())
    hub = BarHub(bus, **kw)
    await hub.start()
    return hub


async def test_a_batch_publishes_closed_bars_one_forming_bar_per_series_and_one_tick_per_symbol():
    bus = Bus()
    hub = await started(bus)
    seen = recorder(bus, BarUpdated, TickReceived)
    hub.ingest(batch(("ES", 0, 5900, 1), ("NQ", 1, 21000, 2), ("ES", 30, 5901, 1), ("ES", 61, 5902, 3),
                     ("NQ", 62, 21010, 1), ("ES", 65, 5899.75, 1)))
    closed = [e.bar for e in seen if isinstance(e, BarUpdated) and e.bar.closed]
    forming = [e.bar for e in seen if isinstance(e, BarUpdated) and not e.bar.closed]
    ticks = [e.tick for e in seen if isinstance(e, TickReceived)]
    assert [(b.symbol, b.start, b.open, b.high, b.low, b.close, b.volume) for b in closed] == [
        ("ES", T0, 5900, 5901, 5900, 5901, 2), ("NQ", T0, 21000, 21000, 21000, 21000, 2)]
    assert sorted((b.symbol, b.start, b.close) for b in forming) == [
        ("ES", T0 + timedelta(minutes=1), 5899.75), ("NQ", T0 + timedelta(minutes=1), 21010)]
    assert sorted((t.symbol, t.price, t.size) for t in ticks) == [("ES", 5899.75, 1), ("NQ", 21010, 1)]
    assert ticks[0].time.tzinfo is not None and hub.last["ES"][1] == 5899.75
    await hub.stop()


async def test_ticks_are_throttled_per_symbol_but_the_latest_always_arrives():
    bus = Bus()
    hub = await started(bus, tick_interval_s=0.05)
    ticks = recorder(bus, TickReceived)
    for i in range(10):
        hub.ingest(batch(("ES", i, 5900 + i, 1)))
    assert [t.tick.price for t in ticks] == [5900]
    await until(lambda: len(ticks) > 1, what="the latest tick after the throttle interval")
    assert [t.tick.price for t in ticks] == [5900, 5909]
    await hub.stop()


async def test_request_bars_answers_with_history_and_keeps_building():
    bus = Bus()
    hub = await started(bus)
    hub.ingest(batch(*[("ES", i * 20, 5900 + i, 1) for i in range(30)]))  # ten minutes
    loaded = recorder(bus, BarsLoaded, ErrorRaised)
    bus.publish(RequestBars("ES", "5m", "chart-1"))
    (answer,) = loaded
    bars = answer.bars
    assert answer.requester == "chart-1" and (bars.symbol, bars.timeframe, len(bars), bars.forming) == ("ES", "5m", 2, True)
    assert bars.bar(0).close == 5914 and bars.bar(0).closed and not bars.bar(-1).closed
    assert ("ES", "5m") in hub.series
    bus.publish(ReleaseBars("ES", "5m", "chart-1"))
    assert ("ES", "5m") not in hub.series and ("ES", "1m") in hub.series  # the default stays
    bus.publish(RequestBars("ES", "7x", "chart-1"))
    assert isinstance(loaded[-1], ErrorRaised) and "7x" in loaded[-1].message
    await hub.stop()


async def test_ticks_from_another_feed_make_bars_and_our_own_ticks_are_not_counted_twice():
    bus = Bus()
    hub = await started(bus)
    bars = recorder(bus, BarUpdated)
    for second, price in ((0, 180.0), (10, 181.0), (70, 179.5)):
        bus.publish(TickReceived(Tick("AAPL", T0 + timedelta(seconds=second), price, 100)))
    await until(lambda: any(e.bar.closed for e in bars), what="the foreign ticks made into bars")
    closed = [e.bar for e in bars if e.bar.closed]
    assert [(b.open, b.high, b.low, b.close, b.volume) for b in closed] == [(180, 181, 180, 181, 200)]
    hub.ingest(batch(("AAPL", 80, 179.0, 50)))  # publishes its own TickReceived
    # Nothing to poll for: this proves an absence. One loop turn runs what the hub would have queued
    # had it taken its own tick for a foreign one (it ingests those on the next turn).
    await asyncio.sleep(0)
    assert hub.series[("AAPL", "1m")].builder.forming.volume == 150
    await hub.stop()


async def test_script_rows_feed_time_bars_but_not_tick_bars():
    bus = Bus()
    hub = await started(bus, timeframes=("1m", "5m"))
    hub.request("SPY", "3t", "test")
    rows = tuple(MarketDataRow(T0 + timedelta(minutes=m), "SPY", 500 + m, 502 + m, 499 + m, 501 + m, 1000)
                 for m in range(6))
    bus.publish(MarketDataReceived(rows))
    five = hub.series[("SPY", "5m")]
    assert [tuple(map(float, x)) for x in zip(*five.store.arrays()[1:])] == [(500, 506, 499, 505, 5000)]
    assert five.builder.forming.open == 505
    assert len(hub.series[("SPY", "3t")].store) == 0 and hub.series[("SPY", "3t")].builder.forming is None
    await hub.stop()


async def test_backfill_replaces_the_range_and_reloads_every_series():
    bus = Bus()
    hub = await started(bus)
    hub.ingest(batch(("ES", 120, 5905, 1)))  # live started at 10:32
    loaded = recorder(bus, BarsLoaded)
    history = batch(("ES", 0, 5900, 2), ("ES", 60, 5901, 2), ("ES", 119, 5903, 1))
    hub.backfill("ES", ns(T0), ns(T0) + 120 * 10**9, history)
    (event,) = loaded
    assert event.requester == "" and [float(c) for c in event.bars.close] == [5900, 5903, 5905]
    assert event.bars.forming
    await hub.stop()


async def test_time_passing_closes_bars():
    bus = Bus()
    hub = await started(bus)
    bars = recorder(bus, BarUpdated)
    hub.ingest(batch(("ES", 5, 5900, 1)))
    hub.advance(ns(T0) + 59 * 10**9)
    assert not any(e.bar.closed for e in bars)
    hub.advance(ns(T0) + 60 * 10**9)
    assert [e.bar.close for e in bars if e.bar.closed] == [5900]
    await hub.stop()


async def test_a_bar_closing_right_after_its_trades_is_published_closed_only():
    bus = Bus()
    hub = await started(bus)
    seen = recorder(bus, BarUpdated, TickReceived)
    end = ns(T0) + 60 * 10**9
    hub.ingest(batch(("ES", 5, 5900, 1), ("ES", 50, 5901, 2)), now_ns=end)  # a replay's step up to the bar's end
    hub.ingest(batch(("ES", 65, 5902, 1)), closing_at=end + 60 * 10**9)  # a backtest's slice: it advances next
    assert [(type(e).__name__, getattr(e, "bar", None) and (e.bar.close, e.bar.closed)) for e in seen] == [
        ("TickReceived", None), ("BarUpdated", (5901, True))]
    hub.advance(end + 60 * 10**9)
    assert [(e.bar.close, e.bar.closed) for e in seen[2:]] == [(5902, True)]  # its tick is throttled (5 ms)
    hub.ingest(batch(("ES", 125, 5903, 1)), closing_at=ns(T0) + 130 * 10**9)  # its bar is not over then: shown
    assert [(e.bar.close, e.bar.closed) for e in seen[3:] if isinstance(e, BarUpdated)] == [(5903, False)]
    await hub.stop()
