"""Brackets at Tastytrade as an OTOCO complex order, against the loopback double of its Open API: the JSON the SDK's
`NewComplexOrder` sends, the exits' reports (contingent, live, one filled and the other cancelled), the entry's
cancel taking its exits, a lost answer, a restart, and the shapes Tastytrade does not take (refused, nothing
placed, the entry then sent alone by the dispatcher with its exits back with Station)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from support.broker_harness import FAST, AskedOrders, Driven, Recorder, request
from support.tastytrade_double import ACCOUNT
from station.brokers.protocol import BracketRefused
from station.brokers.tastytrade import build
from station.bus import Bus
from station.domain.commands import SubmitOrder
from station.domain.enums import OrderStatus, OrderType
from station.domain.events import ExitsAttached, ExitsDetached
from station.domain.instructions import ExitLevel, OrderInstructions
from station.domain.orders import Order
from station.oms.brackets import bracket_exits

S = OrderStatus


def bracket(coid, ticker="AAPL", side="buy", qty=10, *, stop=None, target=None, trail=None, tick="0.01", **entry):
    """An entry and the exits the oms makes for it (`<coid>-sl`, `-tp`, `-ts`)."""
    order = request(coid, "tasty", ticker, side, qty, **entry)
    instructions = OrderInstructions(stop_loss=stop and ExitLevel(price=Decimal(stop)),
                                     take_profit=target and ExitLevel(price=Decimal(target)), trailing_stop=trail)
    return order, tuple(bracket_exits(order, instructions, Decimal(tick), Decimal(100)))


async def test_an_otoco_as_the_sdk_sends_it_then_the_exits_reports(oauth, double, make_broker):
    broker, seen = await make_broker(oauth)
    await seen.connected(broker)
    assert broker.capabilities.native_brackets and "trailing_stop" not in broker.capabilities.order_types
    entry, exits = bracket("b1", order_type=OrderType.LIMIT, limit="150", stop="145", target="160")
    await broker.submit_bracket(entry, exits)
    [body] = double.complex_bodies
    assert body == {
        "type": "OTOCO",
        "trigger-order": {"time-in-force": "Day", "order-type": "Limit", "external-identifier": "b1",
                          "automated-source": True, "price": "150", "price-effect": "Debit",
                          "legs": [{"instrument-type": "Equity", "symbol": "AAPL", "quantity": 10,
                                    "action": "Buy to Open"}]},
        "orders": [
            {"time-in-force": "Day", "order-type": "Stop", "external-identifier": "b1-sl", "automated-source": True,
             "stop-trigger": "145", "legs": [{"instrument-type": "Equity", "symbol": "AAPL", "quantity": 10,
                                              "action": "Sell to Close"}]},
            {"time-in-force": "Day", "order-type": "Limit", "external-identifier": "b1-tp", "automated-source": True,
             "price": "160", "price-effect": "Credit",
             "legs": [{"instrument-type": "Equity", "symbol": "AAPL", "quantity": 10, "action": "Sell to Close"}]}]}
    await seen.wait(lambda: seen.statuses("b1")[-1:] == [S.WORKING] and seen.statuses("b1-tp")[-1:] == [S.SUBMITTED])
    # Contingent: held until the entry fills (said again by the dispatcher's first reconciliation when the bracket
    # went out before it)
    assert set(seen.statuses("b1-sl")) == set(seen.statuses("b1-tp")) == {S.SUBMITTED}
    assert double.count("POST", "/orders") == 0

    trigger, stop, target = double.components(next(iter(double.complex_orders)))
    double.fill(trigger["id"], 10, "150")
    await seen.wait(lambda: seen.statuses("b1-tp")[-1:] == [S.WORKING] and seen.statuses("b1-sl")[-1:] == [S.WORKING])
    assert seen.statuses("b1")[-1] is S.FILLED
    await seen.wait(lambda: seen.positions("AAPL") and seen.positions("AAPL")[-1].qty == 10, what="long 10")
    double.fill(target["id"], 10, "160")
    await seen.wait(lambda: seen.statuses("b1-sl")[-1:] == [S.CANCELLED], what="the stop cancelled by the OCO")
    assert seen.statuses("b1-tp")[-1] is S.FILLED and stop["status"] == "Cancelled"
    assert [(f.fill.qty, f.fill.price, f.fill.side.value) for f in seen.fills("b1-tp")] == [(10, Decimal(160), "sell")]
    await seen.wait(lambda: seen.positions("AAPL") and seen.positions("AAPL")[-1].qty == 0, what="flat")


async def test_a_futures_otoco_and_the_entrys_cancel_takes_its_exits(oauth, double, make_broker):
    broker, seen = await make_broker(oauth)
    await seen.connected(broker)
    entry, exits = bracket("b2", "MES", "sell", 2, order_type=OrderType.LIMIT, limit="6010", stop="6020",
                           target="5990", tick="0.25", instrument="/MESZ5")
    await broker.submit_bracket(entry, exits)
    trigger, stop, target = double.components(next(iter(double.complex_orders)))
    assert [o["legs"][0]["action"] for o in (trigger, stop, target)] == ["Sell", "Buy", "Buy"]
    assert {o["complex-order-tag"] for o in (stop, target)} == {"OTOCO::order"}
    assert trigger["complex-order-tag"] == "OTOCO::trigger-order" and (stop["status"], target["status"]) == \
        ("Contingent", "Contingent")
    await seen.wait(lambda: S.WORKING in seen.statuses("b2"))
    await broker.cancel("b2")  # the complex order is cancelled whole, as Tastytrade documents it
    assert double.count("DELETE", "/complex-orders/") == 1 and double.count("DELETE", "/orders/") == 0
    await seen.wait(lambda: all(seen.statuses(c)[-1:] == [S.CANCELLED] for c in ("b2", "b2-sl", "b2-tp")))


async def test_what_an_otoco_cannot_carry_is_refused_before_anything_is_sent(oauth, double, make_broker):
    broker, seen = await make_broker(oauth)
    await seen.connected(broker)
    entry, exits = bracket("b3", stop="95")
    with pytest.raises(BracketRefused, match="OTOCO, a stop with a target; b3 has 1 exit"):
        await broker.submit_bracket(entry, exits)
    assert double.count("POST", "/complex-orders") == 0
    await broker.submit(entry)  # the entry may still go alone
    await seen.wait(lambda: S.WORKING in seen.statuses("b3"))
    assert double.by_external_id("b3")["legs"][0]["action"] == "Buy to Open" and len(double.orders) == 1


async def test_refused_by_tastytrade_the_dispatcher_sends_the_entry_alone_and_gives_back_the_exits(oauth, double,
                                                                                                  monkeypatch, data_dir):
    bus = Bus()
    seen = Recorder(bus)
    book = AskedOrders(bus)
    broker = build(_destination(double), _context(bus, oauth, data_dir, book), **FAST)
    dispatcher = await Driven(monkeypatch, data_dir)(broker, bus, kind="tasty-native", orders=book)
    try:
        await seen.connected(broker)
        await seen.reconciled()
        double.refuse_complex = ("complex_order_not_permitted", "Complex orders are not permitted for this account")
        entry, exits = bracket("b4", stop="95", target="110")
        for x in exits:
            book.orders[x.client_order_id] = Order(x, status=S.HELD)
        book.orders[entry.client_order_id] = Order(entry)
        bus.publish(SubmitOrder(entry, exits))
        await seen.wait(lambda: seen.of(ExitsDetached) and S.WORKING in seen.statuses("b4"), what="the entry alone")
        [attached], [detached] = seen.of(ExitsAttached), seen.of(ExitsDetached)
        assert attached.exit_ids == detached.exit_ids == ("b4-sl", "b4-tp")
        assert "not permitted for this account" in detached.reason and detached.entry_id == "b4"
        assert len(double.complex_bodies) == 1 and not double.complex_orders  # refused whole
        assert [o["external-identifier"] for o in double.orders.values()] == ["b4"]
        assert seen.statuses("b4-sl") == seen.statuses("b4-tp") == []  # nothing of them at Tastytrade
    finally:
        await dispatcher.stop()


async def test_a_lost_answer_finds_the_otoco_and_a_restart_resumes_its_held_exits(oauth, double, make_broker):
    broker, seen = await make_broker(oauth)
    await seen.connected(broker)
    double.fail_after_placing = True
    entry, exits = bracket("b5", order_type=OrderType.LIMIT, limit="99", stop="90", target="120")
    await broker.submit_bracket(entry, exits)  # the answer is lost: in doubt, looked for after reconnecting
    await seen.wait(lambda: S.WORKING in seen.statuses("b5") and S.SUBMITTED in seen.statuses("b5-sl"))
    assert len(double.complex_bodies) == 1 and len(double.complex_orders) == 1  # found, not sent again
    await broker.stop()

    trigger, stop, target = double.components(next(iter(double.complex_orders)))
    held = [Order(x, status=S.HELD, broker_order_id=str(o["id"])) for x, o in zip(exits, (stop, target))]
    placed = Order(entry, status=S.WORKING, broker_order_id=str(trigger["id"]))
    again, seen2 = await make_broker(oauth, resume=[placed, *held])
    await seen2.reconciled()
    double.fill(trigger["id"], 10, "99")
    double.fill(stop["id"], 10, "90")
    await seen2.wait(lambda: seen2.statuses("b5-tp")[-1:] == [S.CANCELLED] and S.FILLED in seen2.statuses("b5-sl"))
    assert len(double.complex_bodies) == 1 and double.count("POST", "/orders") == 0


def _destination(double):
    from station.domain.config import DestinationConfig

    return DestinationConfig("tasty", "tastytrade", {"base_url": double.url, "account": ACCOUNT, "poll_s": 0.05})


def _context(bus, secrets, data_dir, book):
    from station.brokers.registry import BrokerContext

    return BrokerContext(bus, data_dir, secrets=secrets, orders=book)
