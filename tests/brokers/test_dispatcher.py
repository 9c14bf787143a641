"""The dispatcher on a real bus: orders wait for a reconciled destination and go once, in order; the pending
limit; unknown types; cancels and changes; capabilities announced; what `since` it asks for."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest

from support.broker_harness import AskedOrders, Recorder, request
from support.oms import FakeDestination
from support.wait import until
from station.brokers.dispatcher import OrderDispatcher
from station.brokers.registry import BROKER_FACTORIES, BrokerContext
from station.bus import Bus
from station.domain.commands import CancelOrder, ReplaceOrder
from station.domain.config import DestinationConfig, RoutingConfig, StrategyConfig, TickerConfig
from station.domain.enums import OrderStatus, OrderType
from station.domain.events import (
    DestinationBuilt,
    Notified,
    OrderReplaced,
    OrderReported,
    ReportsReceived,
    TickReceived,
)
from station.domain.marketdata import Tick
from station.domain.timeutil import utc_now

S = OrderStatus


@pytest.fixture
async def rig(monkeypatch, data_dir):
    """`await rig(*destinations, ports=())` -> (dispatcher, bus, book, recorder, fakes): FakeDestinations for
    type `fake` (down until `connect()`), real ones otherwise; all stopped after."""
    made: list[OrderDispatcher] = []
    fakes: dict[str, FakeDestination] = {}

    def fake(destination, context):
        fakes[destination.name] = FakeDestination(destination.name, context.bus, up=False)
        return fakes[destination.name]

    monkeypatch.setitem(BROKER_FACTORIES, "fake", fake)

    async def start(*destinations: DestinationConfig, ports: tuple[int, ...] = (), limit_s: float = 3600.0):
        bus = Bus()
        book = AskedOrders(bus)
        recorder = Recorder(bus)
        strategies = (StrategyConfig("S", tickers=(TickerConfig("AAPL", ports=ports),)),) if ports else ()
        routing = RoutingConfig(revision=1, destinations=destinations, strategies=strategies)
        dispatcher = OrderDispatcher(BrokerContext(bus, data_dir, last_price=lambda symbol: None, orders=book),
                                     lambda: routing, lambda: limit_s)
        made.append(dispatcher)
        await dispatcher.start()
        return dispatcher, bus, book, recorder, fakes

    yield start
    for dispatcher in made:
        await dispatcher.stop()


def fake(name: str = "ib") -> DestinationConfig:
    return DestinationConfig(name, "fake", {})


async def test_orders_wait_for_a_reconciled_destination_then_go_once_in_order(rig):
    dispatcher, bus, book, seen, fakes = await rig(fake())
    asked = [request(f"a{n}", "ib", "AAPL", qty=n) for n in (1, 2, 3)]
    for order in asked:
        book.ask(bus, order)
    book.ask(bus, asked[0])  # asked twice (a restart re-offers what never went out): sent once
    ib = fakes["ib"]
    ib.held = {"fills": (), "orders": (OrderReported("ib", "a0", S.FILLED),), "positions": ()}
    assert ib.sent == [] and seen.reconciliations == []
    ib.connect()
    await until(lambda: len(ib.sent) == 3, what="the waiting orders sent")
    assert [r.client_order_id for r in ib.sent] == ["a1", "a2", "a3"]
    assert len(seen.reconciliations) == 1 and ib.asked  # asked what it holds before anything went out
    first_send = seen.events.index(next(e for e in seen.of(OrderReported) if e.client_order_id == "a1"))
    assert seen.events.index(seen.of(OrderReported)[0]) < first_send  # the reconciled report came first
    assert [book.order(c).status for c in ("a1", "a2", "a3")] == [S.SUBMITTED] * 3
    book.ask(bus, request("a4", "ib", "AAPL"))  # ready: goes at once
    await until(lambda: len(ib.sent) == 4, what="sent while ready")
    ib.disconnect()
    book.ask(bus, request("a5", "ib", "AAPL"))
    assert "ib" not in dispatcher.ready
    ib.connect()
    await until(lambda: len(ib.sent) == 5, what="sent after the next reconciliation")
    assert len(seen.reconciliations) == 2


async def test_an_unreadable_destination_gets_nothing_until_its_reports_can_be_read(rig):
    dispatcher, bus, book, seen, fakes = await rig(fake())
    ib = fakes["ib"]
    answer = ib.reports
    failures = []

    async def flaky(since):
        if len(failures) < 2:
            failures.append(since)
            raise ConnectionError("the account cannot be read just now")
        return await answer(since)

    ib.reports = flaky
    book.ask(bus, request("a1", "ib", "AAPL"))
    ib.connect()
    await until(lambda: ib.sent, timeout=5, what="sent once the reports were read")
    assert len(failures) == 2 and len(seen.reconciliations) == 1


async def test_what_waited_past_the_limit_is_rejected_with_the_reason_and_unknown_types_at_once(rig):
    dispatcher, bus, book, seen, fakes = await rig(fake(), DestinationConfig("nowhere", "carrier-pigeon", {}),
                                                   limit_s=30)
    book.ask(bus, request("old", "ib", "AAPL", created_at=utc_now() - timedelta(seconds=31)))
    book.ask(bus, request("new", "ib", "AAPL"))
    book.ask(bus, request("lost", "not-configured", "AAPL", created_at=utc_now() - timedelta(seconds=31)))
    book.ask(bus, request("pigeon", "nowhere", "AAPL"))
    assert book.order("pigeon").status is S.REJECTED
    assert "type 'carrier-pigeon' is not available in this build" in seen.of(OrderReported)[0].reason
    dispatcher.reject_stale()
    rejected = {e.client_order_id: e.reason for e in seen.of(OrderReported) if e.status is S.REJECTED}
    assert rejected["old"] == "ib was not available for 30 s; order not sent"
    assert rejected["lost"] == "not-configured was not available for 30 s; order not sent"
    assert "new" not in rejected
    fakes["ib"].connect()
    await until(lambda: fakes["ib"].sent, what="the fresh one sent")
    assert [r.client_order_id for r in fakes["ib"].sent] == ["new"]


async def test_cancel_withdraws_an_order_never_sent_and_asks_the_destination_for_a_sent_one(rig):
    dispatcher, bus, book, seen, fakes = await rig(fake())
    ib = fakes["ib"]
    book.ask(bus, request("waiting", "ib", "AAPL"))
    bus.publish(CancelOrder("waiting"))
    await until(lambda: book.order("waiting").status is S.CANCELLED, what="withdrawn")
    assert seen.of(OrderReported)[-1].reason == "cancelled before it was sent"
    ib.connect()
    book.ask(bus, request("sent", "ib", "AAPL", order_type=OrderType.LIMIT, limit="100"))
    await until(lambda: ib.sent, what="sent")
    bus.publish(CancelOrder("sent"))
    await until(lambda: ib.cancelled == ["sent"], what="asked to cancel")
    assert [r.client_order_id for r in ib.sent] == ["sent"]  # the withdrawn one never went out
    bus.publish(CancelOrder("unknown"))  # nothing to do: nothing happens
    await bus.drain()
    assert ib.cancelled == ["sent"]


async def test_a_working_order_is_changed_in_place_and_a_port_line_cannot_be(rig):
    dispatcher, bus, book, seen, fakes = await rig(DestinationConfig("paper", "paper", {}), ports=(5999,))
    built = {e.name: e.capabilities for e in seen.of(DestinationBuilt)}
    assert built["paper"].native_replace and not built["port:5999"].native_replace
    assert built["port:5999"].drops_repeats and not built["port:5999"].reports_fills
    limit_order = request("lim", "paper", "ES", qty=2, order_type=OrderType.LIMIT, limit="4990")
    book.ask(bus, limit_order)
    await until(lambda: book.order("lim").status is S.WORKING, what="working at paper")
    bus.publish(ReplaceOrder("lim", qty=Decimal(3), limit_price=Decimal("4995")))
    await until(lambda: seen.of(OrderReplaced), what="changed")
    assert seen.of(OrderReplaced)[0].request == dataclasses.replace(limit_order, qty=Decimal(3),
                                                                    limit_price=Decimal("4995"))
    bus.publish(TickReceived(Tick("ES", utc_now(), 4994.0)))  # crosses the new limit, not the old one
    await until(lambda: seen.fills("lim"), what="filled")
    assert (seen.fills("lim")[0].fill.qty, seen.fills("lim")[0].fill.price) == (Decimal(3), Decimal("4995"))  # at its limit
    port_line = request("line", "port:5999", "AAPL")
    book.ask(bus, port_line)  # the port is down: the line waits here, and a waiting order is changed here
    bus.publish(ReplaceOrder("line", qty=Decimal(2)))
    await until(lambda: len(seen.of(OrderReplaced)) == 2, what="changed while waiting")
    book.orders["line"] = dataclasses.replace(book.orders["line"], status=S.SUBMITTED)  # as if written
    bus.publish(ReplaceOrder("line", qty=Decimal(5)))
    await until(lambda: seen.of(Notified), what="refused")
    assert seen.of(Notified)[0].title == "Order not changed" and "not connected" in seen.of(Notified)[0].message
    bus.publish(ReplaceOrder("lim", qty=Decimal(9)))  # filled: the destination has nothing to change
    await until(lambda: len(seen.of(Notified)) == 2, what="refused again")
    assert seen.of(Notified)[1].message == "lim: paper has no working order lim"
    bus.publish(ReplaceOrder("never-asked", qty=Decimal(1)))
    await until(lambda: len(seen.of(Notified)) == 3, what="refused a third time")
    assert seen.of(Notified)[2].message == "never-asked is not a working order"


async def test_it_asks_for_a_day_back_at_first_then_from_the_last_drop(rig):
    dispatcher, bus, book, seen, fakes = await rig(fake())
    ib = fakes["ib"]
    started = utc_now()
    ib.connect()
    await until(lambda: seen.reconciliations, what="first reconciliation")
    assert timedelta(days=1) < started - ib.asked[0] < timedelta(days=1, minutes=3)
    dropped = utc_now()
    ib.disconnect()
    ib.connect()
    await until(lambda: len(seen.reconciliations) == 2, what="second reconciliation")
    assert abs(ib.asked[1] + timedelta(minutes=2) - dropped) < timedelta(seconds=1)  # the drop, less a margin
    assert seen.reconciliations[-1].reports.since == ib.asked[1]
