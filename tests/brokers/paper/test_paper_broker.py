"""The paper broker alone on a bus: a working order changed in place, and what its reports(since) answer."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest

from support.broker_harness import Recorder, request
from station.brokers.paper import PaperBroker
from station.brokers.protocol import Broker, BrokerError
from station.bus import Bus
from station.domain.enums import OrderStatus, OrderType
from station.domain.events import TickReceived
from station.domain.marketdata import Tick
from station.domain.timeutil import utc_now


@pytest.fixture
async def paper():
    bus = Bus()
    seen = Recorder(bus)
    broker = PaperBroker("paper", bus, last_price=lambda symbol: Decimal("5000"))
    await broker.start()
    yield broker, bus, seen
    await broker.stop()


async def test_a_working_limit_order_is_changed_in_place_and_fills_at_its_new_price(paper):
    broker, bus, seen = paper
    assert isinstance(broker, Broker) and broker.capabilities.native_replace
    order = request("lim", "paper", "ES", qty=2, order_type=OrderType.LIMIT, limit="4990")
    await broker.submit(order)
    await broker.replace(dataclasses.replace(order, qty=Decimal(1), limit_price=Decimal("4980")))
    assert seen.statuses("lim") == [OrderStatus.WORKING, OrderStatus.WORKING]
    bus.publish(TickReceived(Tick("ES", utc_now(), 4985.0)))  # crosses the old limit only: still working
    assert seen.fills("lim") == []
    bus.publish(TickReceived(Tick("ES", utc_now(), 4979.5)))
    [fill] = seen.fills("lim")
    assert (fill.fill.qty, fill.fill.price) == (Decimal(1), Decimal("4980"))  # a limit fills at its price
    with pytest.raises(BrokerError, match="no working order"):
        await broker.replace(order)
    other = request("stp", "paper", "ES", side="sell", qty=1, order_type=OrderType.STOP, stop="4900")
    await broker.submit(other)
    with pytest.raises(BrokerError, match="only the quantity and prices"):
        await broker.replace(dataclasses.replace(other, side=request("x", "paper", "ES").side))


async def test_reports_since_are_its_working_orders_and_the_fills_made_since(paper):
    broker, bus, seen = paper
    before = utc_now() - timedelta(seconds=1)
    await broker.submit(request("mkt", "paper", "ES", qty=3))
    middle = utc_now()
    await broker.submit(request("mkt2", "paper", "ES", qty=1))
    await broker.submit(request("lim", "paper", "ES", qty=1, order_type=OrderType.LIMIT, limit="4000"))
    reports = await broker.reports(before)
    assert [(f.client_order_id, f.qty, f.price) for f in reports.fills] == [
        ("mkt", Decimal(3), Decimal(5000)), ("mkt2", Decimal(1), Decimal(5000))]
    assert [(o.client_order_id, o.status) for o in reports.orders] == [("lim", OrderStatus.WORKING)]
    assert reports.positions == ()  # the book is the record of what paper holds
    assert [f.client_order_id for f in (await broker.reports(middle)).fills] == ["mkt2"]
    assert [f.fill_id for f in reports.fills] == [e.fill.fill_id for e in seen.of(type(seen.fills("mkt")[0]))]


async def test_a_start_takes_back_working_orders_and_rejects_market_orders_lost_in_flight():
    from station.domain.enums import OrderRole
    from station.domain.instructions import Offset
    from station.domain.orders import Order

    bus = Bus()
    seen = Recorder(bus)
    lost = Order(request("mkt", "paper", "ES", qty=1), status=OrderStatus.SUBMITTED)
    limit = Order(request("lim", "paper", "ES", qty=1, order_type=OrderType.LIMIT, limit="4990"),
                  status=OrderStatus.WORKING)
    trail = Order(dataclasses.replace(request("ts", "paper", "ES", side="sell", qty=1), order_type=OrderType.TRAILING_STOP,
                                      stop_price=Decimal("4995"), offset=Offset("points", Decimal(10)),
                                      role=OrderRole.TRAILING_STOP, parent_id="entry", oco_group="entry-oco"),
                  status=OrderStatus.WORKING)
    unsent = Order(request("new", "paper", "ES", qty=1))
    broker = PaperBroker("paper", bus, last_price=lambda symbol: None, open_orders=[lost, limit, trail, unsent])
    await broker.start()
    reports = await broker.reports(utc_now() - timedelta(days=1))
    assert [(o.client_order_id, o.status) for o in reports.orders] == [
        ("mkt", OrderStatus.REJECTED), ("lim", OrderStatus.WORKING), ("ts", OrderStatus.WORKING)]
    assert "did not trade" in reports.orders[0].reason
    assert [o.client_order_id for o in (await broker.reports(utc_now())).orders] == ["lim", "ts"]  # said once
    bus.publish(TickReceived(Tick("ES", utc_now(), 5000.0)))  # the trail would sit at 4990: it keeps 4995
    bus.publish(TickReceived(Tick("ES", utc_now(), 4994.0)))
    assert [(f.fill.client_order_id, f.fill.price) for f in seen.fills("ts")] == [("ts", Decimal("4994"))]
    await broker.stop()


async def test_script_rows_are_one_trade_each_and_the_hubs_tick_of_them_is_not_counted_again():
    from datetime import timedelta as td

    from station.domain.events import MarketDataReceived
    from station.domain.marketdata import MarketDataRow

    bus = Bus()
    seen = Recorder(bus)
    broker = PaperBroker("paper", bus, last_price=lambda symbol: None)
    await broker.start()
    await broker.submit(request("stp", "paper", "ES", side="sell", qty=1, order_type=OrderType.STOP, stop="4990"))
    at = utc_now()
    rows = tuple(MarketDataRow(at + td(seconds=i), "ES", p, p, p, p) for i, p in enumerate((5000.0, 4989.0, 5005.0)))
    bus.publish(MarketDataReceived(rows))
    assert [f.fill.price for f in seen.fills("stp")] == [Decimal("4989")]
    await broker.submit(request("lim", "paper", "ES", qty=1, order_type=OrderType.LIMIT, limit="5001"))
    bus.publish(TickReceived(Tick("ES", at + td(seconds=2), 5000.0)))  # the hub's tick of the last row: not a trade
    assert seen.fills("lim") == []
    bus.publish(TickReceived(Tick("ES", at + td(seconds=5), 5000.0)))
    assert [f.fill.price for f in seen.fills("lim")] == [Decimal("5001")]
    await broker.stop()
