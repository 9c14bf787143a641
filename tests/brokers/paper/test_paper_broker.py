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
