"""IB as a market data source: trade ticks, quote mids and 5-second bars, restored after a reconnect."""

from __future__ import annotations

import asyncio
import time

from ib_support import fake, make_broker, wait_until  # noqa: F401 - fixtures
from station.domain.enums import ConnectionState
from station.domain.events import BarUpdated, Notified, TickReceived


def collect(bus, kind) -> list:
    seen: list = []
    bus.subscribe(kind, seen.append)
    return seen


async def test_trades_become_ticks_under_the_symbol_station_uses_and_survive_a_reconnect(fake, make_broker):
    broker, rec, bus = await make_broker(fake.port, market_data=("NASDAQ:AAPL", "MES1!"))
    ticks = collect(bus, TickReceived)
    await wait_until(lambda: len(fake.sessions) == 1 and len(fake.sessions[0].market_data) == 2, what="subscribed")
    ticks.clear()
    fake.trade("AAPL", 191.25, 300)
    fake.trade("MES", 5801.5, 2)
    await wait_until(lambda: len(ticks) == 2, what="two ticks")
    by_symbol = {e.tick.symbol: e.tick for e in ticks}
    assert (by_symbol["NASDAQ:AAPL"].price, by_symbol["NASDAQ:AAPL"].size) == (191.25, 300)
    assert by_symbol["MES1!"].price == 5801.5 and by_symbol["MES1!"].time.tzinfo is not None
    fake.drop_clients()
    await wait_until(lambda: broker.state is not ConnectionState.CONNECTED, what="down")
    await wait_until(lambda: broker.state is ConnectionState.CONNECTED, what="back")
    await wait_until(lambda: fake.sessions and len(fake.sessions[0].market_data) == 2, what="resubscribed")
    ticks.clear()
    fake.trade("AAPL", 192.0, 100)
    await wait_until(lambda: [e.tick.price for e in ticks] == [192.0], what="tick after reconnect")


async def test_quotes_mode_publishes_mids_and_never_an_unset_side(fake, make_broker):
    broker, rec, bus = await make_broker(fake.port, market_data=("AAPL",), ticks="quotes")
    ticks = collect(bus, TickReceived)
    await wait_until(lambda: fake.sessions and fake.sessions[0].market_data, what="subscribed")
    fake.quote("AAPL", 190.0, 190.1)
    await wait_until(lambda: len(ticks) == 1, what="first mid")
    fake.quote("AAPL", -1.0, 190.1)  # IB's "no bid": no honest mid
    await asyncio.sleep(0.05)
    fake.quote("AAPL", 190.0, 190.2)
    await wait_until(lambda: len(ticks) == 2, what="two mids")
    assert [round(e.tick.price, 4) for e in ticks] == [190.05, 190.1]


async def test_realtime_bars_become_closed_5s_bars(fake, make_broker):
    broker, rec, bus = await make_broker(fake.port, market_data=("ES1!",), ticks="off", realtime_bars=True)
    bars = collect(bus, BarUpdated)
    await wait_until(lambda: fake.sessions and fake.sessions[0].bars, what="subscribed")
    assert not fake.sessions[0].market_data
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
    assert fake.sessions[0].market_data
