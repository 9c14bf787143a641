"""IB as a market data source: trade ticks, quote mids and 5-second bars, restored after a reconnect."""

from __future__ import annotations

import asyncio
import time

from support.ib import fake, make_broker, wait_until  # noqa: F401 - fixtures
from station.bus import Bus
from station.domain.enums import ConnectionState
from station.domain.events import BarUpdated, Notified, TickReceived


def subscribed(fake, count: int, kind: str = "market_data") -> bool:
    """True when the live API session has `count` subscriptions of `kind` (an old, dropped one does not count)."""
    return any(s.ready and len(getattr(s, kind)) == count for s in fake.sessions)


def collect(bus, kind) -> list:
    seen: list = []
    bus.subscribe(kind, seen.append)
    return seen


async def test_trades_become_ticks_under_the_symbol_station_uses_and_survive_a_reconnect(fake, make_broker):
    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    ticks = collect(bus, TickReceived)
    broker, rec, bus = await make_broker(fake.port, bus=bus, market_data=("NASDAQ:AAPL", "MES1!"))
    await wait_until(lambda: len(ticks) == 1, what="TWS's snapshot of AAPL's last trade")
    assert (ticks[0].tick.symbol, ticks[0].tick.price, ticks[0].tick.size) == ("NASDAQ:AAPL", 190.0, 0.0)
    fake.trade("MES", 5801.5, 2)  # MES had no last trade: its first print counts as the snapshot
    await wait_until(lambda: len(ticks) == 2, what="MES first")
    fake.trade("AAPL", 191.25, 300)
    fake.trade("MES", 5802.0, 3)
    await wait_until(lambda: len(ticks) == 4, what="two prints")
    assert [(e.tick.symbol, e.tick.price, e.tick.size) for e in ticks[1:]] == [
        ("MES1!", 5801.5, 0.0), ("NASDAQ:AAPL", 191.25, 300), ("MES1!", 5802.0, 3)]
    assert ticks[-1].tick.time.tzinfo is not None
    fake.drop_clients()
    before = len(ticks)
    await wait_until(lambda: broker.state is not ConnectionState.CONNECTED, what="down")
    await wait_until(lambda: broker.state is ConnectionState.CONNECTED, what="back")
    await wait_until(lambda: subscribed(fake, 2), what="resubscribed")
    await wait_until(lambda: len(ticks) == before + 2, what="the last trades again, as prices without size")
    assert sorted((e.tick.price, e.tick.size) for e in ticks[before:]) == [(191.25, 0.0), (5802.0, 0.0)]
    fake.trade("AAPL", 192.0, 100)
    await wait_until(lambda: len(ticks) == before + 3, what="tick after reconnect")
    assert (ticks[-1].tick.price, ticks[-1].tick.size) == (192.0, 100)


async def test_quotes_mode_publishes_mids_and_never_an_unset_side(fake, make_broker):
    broker, rec, bus = await make_broker(fake.port, market_data=("AAPL",), ticks="quotes")
    ticks = collect(bus, TickReceived)
    await wait_until(lambda: subscribed(fake, 1), what="subscribed")
    fake.quote("AAPL", 190.0, 190.1)
    await wait_until(lambda: len(ticks) == 1, what="first mid")
    fake.quote("AAPL", -1.0, 190.1)  # IB's "no bid": no honest mid
    [ticker] = broker.link.ib.tickers()
    await wait_until(lambda: ticker.bid != 190.0, what="the missing bid seen (and passed over)")
    fake.quote("AAPL", 190.0, 190.2)
    await wait_until(lambda: len(ticks) == 2, what="two mids")
    assert [round(e.tick.price, 4) for e in ticks] == [190.05, 190.1]


async def test_realtime_bars_become_closed_5s_bars(fake, make_broker):
    broker, rec, bus = await make_broker(fake.port, market_data=("ES1!",), ticks="off", realtime_bars=True)
    bars = collect(bus, BarUpdated)
    await wait_until(lambda: subscribed(fake, 1, "bars"), what="subscribed")
    assert subscribed(fake, 0)
    epoch = int(time.time()) // 5 * 5
    fake.bar("ES", epoch, 5800, 5802.25, 5799.5, 5801, 1200)
    await wait_until(lambda: bars, what="bar")
    bar = bars[0].bar
    assert (bar.symbol, bar.timeframe, bar.closed) == ("ES1!", "5s", True)
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (5800, 5802.25, 5799.5, 5801, 1200)
    assert bar.start.timestamp() == epoch


async def test_an_unmappable_market_data_symbol_is_reported_and_the_others_stream(fake, make_broker):
    broker, rec, bus = await make_broker(fake.port, market_data=("NOPE1!", "AAPL"))
    await wait_until(lambda: broker.feed and "NOPE1!" in broker.feed.failed, what="failure noted")
    assert any("NOPE1!" in n.message for n in rec.by_kind[Notified])
    await wait_until(lambda: subscribed(fake, 1), what="AAPL subscribed")
