"""The one reconciliation, in a running Station: after a destination (re)connects, its reports are applied to
the book (fills once, statuses, positions) before anything new goes there; and a working order's change."""

from decimal import Decimal

import pytest

from support.oms import FakeDestination, journal, make_alert
from support.wait import until
from station.app import Options, Station
from station.brokers import registry
from station.domain.commands import ReplaceOrder
from station.domain.enums import OrderStatus
from station.domain.events import (
    FillReported,
    Notified,
    OrderReported,
    OrderUpdated,
    PositionReported,
    ReportsReceived,
    TickReceived,
)
from station.domain.fills import Fill
from station.domain.marketdata import Tick
from station.domain.timeutil import utc_now

CONFIG = {
    "destinations": {"paper": {"type": "paper"}, "ib": {"type": "ib", "port": 7497}},
    "strategies": {"S": {"tickers": {"ES": {"destinations": {"ib": {"qty": 2}}},
                                     "NQ": {"destinations": {"paper": {"qty": 1}}}}},
                   "Lim": {"order_type": "limit", "tickers": {"NQ": {"destinations": {"paper": {"qty": 2}}}}}},
}


@pytest.fixture
async def station(data_dir, secrets, monkeypatch):
    made: dict[str, FakeDestination] = {}

    def factory(destination, context):
        made[destination.name] = FakeDestination(destination.name, context.bus)
        return made[destination.name]

    monkeypatch.setitem(registry.BROKER_FACTORIES, "ib", factory)
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document(CONFIG)
    await station.start()
    station.fakes = made
    yield station
    await station.stop()


def row(station, coid):
    return dict(station.store.query("SELECT * FROM orders WHERE client_order_id = ?", (coid,))[0])


def fill(coid, qty, price, fill_id):
    return Fill(fill_id=fill_id, client_order_id=coid, destination="ib", ticker="ES", side=make_alert().action,
                qty=Decimal(qty), price=Decimal(price), time=utc_now(), strategy="S")


async def test_after_a_reconnect_the_book_takes_the_destinations_reports_before_anything_new_is_sent(station):
    ib = station.fakes["ib"]
    seen = []
    for kind in (ReportsReceived, OrderReported, FillReported):
        station.bus.subscribe(kind, seen.append)
    first = await journal(station, make_alert("ES", "buy", qty="1", strategy="S"))
    coid = f"a{first.alert_id}-S-ib"
    await until(lambda: ib.sent and station.oms.book.orders[coid].status is OrderStatus.SUBMITTED, what="sent")
    ib.fill(ib.sent[0], 1, "5000", fill_id="ex-1")  # one of two fills (the route trades 2) arrives live ...
    await until(lambda: station.oms.book.position("ib", "ES", "S") == 1, what="the live fill booked")
    ib.disconnect()
    waiting = await journal(station, make_alert("ES", "buy", qty="1", strategy="S", trade_id="while down"))
    waiting_coid = f"a{waiting.alert_id}-S-ib"
    # ... the other while Station cannot see, and the position also moved by a trade made elsewhere
    ib.held = {"fills": (fill(coid, 1, "5000", "ex-1"), fill(coid, 1, "5002", "ex-2")),
               "orders": (OrderReported("ib", coid, OrderStatus.FILLED, broker_order_id="B1"),),
               "positions": (PositionReported("ib", "ES", Decimal(5), Decimal("5001")),)}
    notes = []
    station.bus.subscribe(Notified, notes.append)
    ib.connect()
    await until(lambda: len(ib.sent) == 2, what="the waiting order sent after the reconciliation")
    reconciled = next(i for i, e in enumerate(seen) if isinstance(e, ReportsReceived))
    sent_again = next(i for i, e in enumerate(seen) if isinstance(e, OrderReported) and e.client_order_id == waiting_coid)
    assert reconciled < sent_again and ib.sent[1].client_order_id == waiting_coid
    await station.oms.recorder.flush()
    book = station.oms.book
    assert (book.orders[coid].status, book.orders[coid].filled_qty, book.orders[coid].avg_price) == (
        OrderStatus.FILLED, Decimal(2), Decimal("5001"))
    assert book.orders[coid].broker_order_id == "B1"
    assert (row(station, coid)["status"], row(station, coid)["filled_qty"]) == ("filled", "2")
    assert len(station.store.query("SELECT * FROM fills WHERE client_order_id = ?", (coid,))) == 2  # ex-1 once
    # orders in flight for ES at ib (the one that waited) keep the position check for later; once it is done,
    # the next reconciliation books the difference the destination reports as unattributed
    ib.fill(ib.sent[1], 2, "5003", fill_id="ex-3")
    await until(lambda: book.orders[waiting_coid].status is OrderStatus.FILLED, what="the second one filled")
    ib.disconnect()
    ib.held = {**ib.held, "fills": (), "orders": ()}
    ib.connect()
    await until(lambda: book.position("ib", "ES") == 5, what="position corrected")
    assert book.position("ib", "ES", "S") == 4 and book.position("ib", "ES", None) == 5
    assert any(n.title == "Position corrected" and "booked +1 as unattributed" in n.message for n in notes)


async def test_a_working_order_is_changed_and_the_book_and_its_row_follow(station):
    alert = await journal(station, make_alert("NQ", "buy", qty="1", price="18000", strategy="Lim"))
    coid = f"a{alert.alert_id}-Lim-paper"
    book = station.oms.book
    await until(lambda: coid in book.orders and book.orders[coid].status is OrderStatus.WORKING, what="working")
    updates = []
    station.bus.subscribe(OrderUpdated, updates.append)
    station.bus.publish(ReplaceOrder(coid, qty=Decimal(3), limit_price=Decimal("17990")))
    await until(lambda: updates and updates[-1].order.request.qty == 3, what="the book changed")
    await station.oms.recorder.flush()
    assert (row(station, coid)["qty"], row(station, coid)["limit_price"]) == ("3", "17990")
    assert book.orders[coid].request.limit_price == Decimal("17990")
    station.bus.publish(TickReceived(Tick("NQ", utc_now(), 17995.0)))  # above the new limit: no fill
    station.bus.publish(TickReceived(Tick("NQ", utc_now(), 17989.0)))
    await until(lambda: book.orders[coid].status is OrderStatus.FILLED, what="filled at the new limit")
    assert book.position("paper", "NQ", "Lim") == 3
