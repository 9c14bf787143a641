"""Brackets end to end in one Station: held exits armed on the entry's fill, sized to it, one OCO group; worked
by the paper broker as its OCO orders, or by Station on its prices where the destination can do neither; exit,
reverse, cancel and the kill switch; changes in place and by cancel-and-replace; a restart with a held bracket."""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D

import pytest

from support.oms import FakeDestination, journal, make_alert
from support.wait import until
from station.app import Options, Station
from station.brokers import registry
from station.domain.commands import ChangeOrder, SetKillSwitch
from station.domain.destinations import BrokerCapabilities
from station.domain.enums import AlertAction, OrderType
from station.domain.events import FillReported, OrderChanged, TickReceived
from station.domain.fills import Fill
from station.domain.instructions import ExitLevel, Offset, OrderInstructions
from station.domain.marketdata import Tick
from station.domain.timeutil import utc_now

CONFIG = {
    "destinations": {"paper": {"type": "paper"}, "emu": {"type": "ib"}, "silent": {"type": "schwab"},
                     "native": {"type": "tastytrade"}},
    "strategies": {
        "B": {"tickers": {"ES": {"destinations": {"paper": {}}}}},
        "E": {"tickers": {"NQ": {"destinations": {"emu": {}}}}},
        "S": {"tickers": {"CL": {"destinations": {"silent": {}}}}},
        "N": {"tickers": {"RTY": {"destinations": {"native": {}}}}},
    },
}


class SilentDestination(FakeDestination):
    """A destination that reports no fills (a NinjaTrader port whose receiver never answers)."""

    capabilities = BrokerCapabilities(drops_repeats=True, reports_fills=False)


class NativeDestination(FakeDestination):
    """A destination that takes a bracket in one request and changes orders in place."""

    capabilities = BrokerCapabilities(native_brackets=True, native_replace=True)

    def __init__(self, name, bus):
        super().__init__(name, bus)
        self.brackets = []

    async def submit_bracket(self, entry, exits):
        self.brackets.append((entry, exits))
        for request in (entry, *exits):
            await self.submit(request)


def ticks(n=8):
    return {"ticks": n}


def bracket(stop=None, target=None, trail=None, **more):
    return OrderInstructions(stop_loss=stop, take_profit=target, trailing_stop=trail, **more)


@pytest.fixture
async def station(data_dir, secrets, monkeypatch):
    made = {}

    def fake(kind):
        def factory(destination, context):
            made[destination.name] = kind(destination.name, context.bus)
            return made[destination.name]
        return factory

    monkeypatch.setitem(registry.BROKER_FACTORIES, "ib", fake(FakeDestination))
    monkeypatch.setitem(registry.BROKER_FACTORIES, "schwab", fake(SilentDestination))
    monkeypatch.setitem(registry.BROKER_FACTORIES, "tastytrade", fake(NativeDestination))
    core = Station(Options(data_dir=data_dir, port=0), secrets)
    core.config.import_document(CONFIG)
    core.fakes = made
    await core.start()
    yield core
    await core.stop()


NUMBERS = ("qty", "filled_qty", "limit_price", "stop_price", "avg_price")


def _plain(row) -> dict:
    """A row with its numbers written plainly (`5000.0` as `5000`)."""
    out = dict(row)
    for key in NUMBERS:
        if out[key] is not None:
            out[key] = format(D(out[key]).normalize(), "f")
    return out


def orders(station, **where):
    found = [_plain(r) for r in station.store.query("SELECT * FROM orders ORDER BY seq")]
    return [r for r in found if all(r[k] == v for k, v in where.items())]


def one(station, coid):
    return orders(station, client_order_id=coid)[0]


def tick(station, symbol, price):
    station.bus.publish(TickReceived(Tick(symbol, utc_now(), float(price))))


async def entry_with_exits(station, instructions, ticker="ES", strategy="B", qty="2", price="5000"):
    alert = await journal(station, make_alert(ticker, "buy", qty=qty, price=price, strategy=strategy,
                                              instructions=instructions))
    await until(lambda: len(orders(station, alert_id=alert.alert_id)) >= 2, what="entry and exits recorded")
    entry = orders(station, alert_id=alert.alert_id, role="entry")[0]["client_order_id"]
    return alert, entry


async def test_paper_bracket_arms_on_the_fill_and_the_target_cancels_the_stop(station):
    tick(station, "ES", 5000)
    _, entry = await entry_with_exits(station, bracket(ExitLevel(offset=Offset("ticks", D(8))),
                                                       ExitLevel(offset=Offset("ticks", D(16)))))
    sl, tp = f"{entry}-sl", f"{entry}-tp"
    await until(lambda: one(station, sl)["status"] == "working" and one(station, tp)["status"] == "working",
                what="both exits working at paper")
    assert one(station, entry)["status"] == "filled" and one(station, entry)["avg_price"] == "5000"
    stop, target = one(station, sl), one(station, tp)
    assert (stop["order_type"], stop["stop_price"], stop["qty"], stop["side"]) == ("stop", "4998", "2", "sell")
    assert (target["order_type"], target["limit_price"], target["qty"]) == ("limit", "5004", "2")
    assert stop["parent_id"] == target["parent_id"] == entry and stop["oco_group"] == target["oco_group"]
    assert stop["exit_mode"] == target["exit_mode"] == "native_oco" and stop["role"] == "stop_loss"
    tick(station, "ES", "5003.75")
    tick(station, "ES", "5004.5")
    await until(lambda: one(station, tp)["status"] == "filled" and one(station, sl)["status"] == "cancelled",
                what="target filled, stop cancelled")
    assert one(station, tp)["avg_price"] == "5004"
    await until(lambda: station.oms.book.position("paper", "ES", "B") == 0, what="flat")


async def test_paper_bracket_stop_fills_at_the_trade_and_the_target_is_cancelled(station):
    tick(station, "ES", 5000)
    _, entry = await entry_with_exits(station, bracket(ExitLevel(price=D("4990")), ExitLevel(price=D("5020"))))
    await until(lambda: one(station, f"{entry}-sl")["status"] == "working", what="armed")
    tick(station, "ES", "4989.5")
    await until(lambda: one(station, f"{entry}-sl")["status"] == "filled", what="stop filled")
    assert one(station, f"{entry}-sl")["avg_price"] == "4989.5"
    await until(lambda: one(station, f"{entry}-tp")["status"] == "cancelled", what="target cancelled")
    await until(lambda: station.oms.book.position("paper", "ES", "B") == 0, what="flat")


async def test_paper_trailing_stop_moves_with_better_prices_and_fills_when_it_turns(station):
    tick(station, "ES", 5000)
    _, entry = await entry_with_exits(station, bracket(trail=Offset("points", D(2))))
    ts = f"{entry}-ts"
    await until(lambda: one(station, ts)["status"] == "working", what="trailing stop working")
    assert one(station, ts)["stop_price"] == "4998"
    for price in ("5001", "5003", "5002"):
        tick(station, "ES", price)
    await until(lambda: one(station, ts)["stop_price"] == "5001", what="the stop followed the high")
    tick(station, "ES", "5000.75")
    await until(lambda: one(station, ts)["status"] == "filled", what="trailing stop filled")
    assert one(station, ts)["avg_price"] == "5000.75"


async def test_a_partial_entry_fill_sizes_the_exits_and_a_later_fill_grows_them(station):
    tick(station, "ES", 5000)
    instructions = bracket(ExitLevel(offset=Offset("points", D(5))), ExitLevel(offset=Offset("points", D(10))),
                           order_type=OrderType.LIMIT, limit_price=D("4995"))
    _, entry = await entry_with_exits(station, instructions, qty="3")
    await until(lambda: one(station, entry)["status"] == "working", what="limit entry working")
    assert {one(station, f"{entry}-{x}")["status"] for x in ("sl", "tp")} == {"held"}
    request = station.oms.book.orders[entry].request
    for n in (1, 2):  # the destination fills part of the entry, then a little more
        station.bus.publish(FillReported(Fill(f"{entry}-part{n}", entry, "paper", "ES", request.side, D(1), D("4995"),
                                              utc_now(), strategy="B")))
        await until(lambda: one(station, f"{entry}-sl")["qty"] == str(n) and
                    one(station, f"{entry}-sl")["status"] == "working", what=f"exits sized to {n}")
        assert one(station, f"{entry}-tp")["qty"] == str(n)
    assert (one(station, f"{entry}-sl")["stop_price"], one(station, f"{entry}-tp")["limit_price"]) == ("4990", "5005")
    held = [o.qty for o in station.dispatcher.brokers["paper"].simulator.working() if o.order_id.endswith(("-sl", "-tp"))]
    assert held == [D(2), D(2)]  # changed in place at paper


async def test_an_exit_alert_while_bracketed_cancels_the_exits_and_closes_once(station):
    tick(station, "ES", 5000)
    _, entry = await entry_with_exits(station, bracket(ExitLevel(offset=Offset("ticks", D(8))),
                                                       ExitLevel(offset=Offset("ticks", D(8)))))
    await until(lambda: one(station, f"{entry}-tp")["status"] == "working", what="armed")
    exit_alert = await journal(station, make_alert("ES", "buy", qty=None, price="5001", strategy="B",
                                                   action_override=AlertAction.EXIT))
    await until(lambda: station.oms.book.position("paper", "ES", "B") == 0, what="closed")
    await until(lambda: {one(station, f"{entry}-{x}")["status"] for x in ("sl", "tp")} == {"cancelled"},
                what="exits cancelled")
    closing = orders(station, alert_id=exit_alert.alert_id)
    assert [(o["role"], o["side"], o["qty"], o["status"]) for o in closing] == [("exit", "sell", "2", "filled")]


async def test_the_kill_switch_cancels_working_orders_and_held_exits_then_flattens(station):
    tick(station, "ES", 5000)
    _, armed = await entry_with_exits(station, bracket(ExitLevel(offset=Offset("ticks", D(8)))))
    await until(lambda: one(station, f"{armed}-sl")["status"] == "working", what="armed")
    limit = bracket(ExitLevel(offset=Offset("ticks", D(8))), order_type=OrderType.LIMIT, limit_price=D("4900"))
    _, waiting = await entry_with_exits(station, limit)
    await until(lambda: one(station, waiting)["status"] == "working", what="limit entry working")
    station.bus.publish(SetKillSwitch(True, "test"))
    await until(lambda: station.oms.book.position("paper", "ES", "B") == 0, what="flattened")
    await until(lambda: [one(station, c)["status"] for c in (f"{armed}-sl", waiting, f"{waiting}-sl")]
                == ["cancelled"] * 3, what="everything cancelled")
    assert not station.oms.book.open


async def test_station_works_exits_where_the_destination_has_neither_brackets_nor_oco(station):
    emu = station.fakes["emu"]
    _, entry = await entry_with_exits(station, bracket(ExitLevel(offset=Offset("ticks", D(4))),
                                                       ExitLevel(offset=Offset("ticks", D(8)))),
                                      ticker="NQ", strategy="E", price="20000")
    request = station.oms.book.orders[entry].request
    emu.fill(request, 2, "20000")
    await until(lambda: one(station, f"{entry}-sl")["status"] == "working", what="exits worked by Station")
    assert one(station, f"{entry}-sl")["exit_mode"] == "station" and [r.client_order_id for r in emu.sent] == [entry]
    assert one(station, f"{entry}-sl")["stop_price"] == "19999"
    tick(station, "NQ", "20001")
    assert len(emu.sent) == 1
    tick(station, "NQ", "19998.75")
    await until(lambda: len(emu.sent) == 2, what="the stop went out at market")
    sent = emu.sent[1]
    assert (sent.client_order_id, sent.order_type.value, sent.side.value, sent.qty) == (f"{entry}-sl", "market", "sell", 2)
    await until(lambda: one(station, f"{entry}-tp")["status"] == "cancelled", what="target cancelled here")
    assert "reached at 19998.75" in one(station, f"{entry}-sl")["reason"]
    emu.fill(sent, 2, "19998.5")
    await until(lambda: station.oms.book.position("emu", "NQ", "E") == 0, what="flat")


async def test_a_silent_destination_takes_its_entry_as_filled_and_station_sends_the_exit(station):
    silent = station.fakes["silent"]
    _, entry = await entry_with_exits(station, bracket(target=ExitLevel(offset=Offset("points", D(1)))),
                                      ticker="CL", strategy="S", qty="1", price="70")
    await until(lambda: one(station, f"{entry}-tp")["status"] == "working", what="target worked by Station")
    assert one(station, f"{entry}-tp")["limit_price"] == "71"
    tick(station, "CL", "71.01")
    await until(lambda: len(silent.sent) == 2, what="the target went out at market")
    assert silent.sent[1].order_type.value == "market" and silent.sent[1].side.value == "sell"


async def test_a_destination_with_native_brackets_takes_the_exits_with_the_entry(station):
    native = station.fakes["native"]
    _, entry = await entry_with_exits(station, bracket(ExitLevel(offset=Offset("ticks", D(10))), ExitLevel(price=D(2100))),
                                      ticker="RTY", strategy="N", qty="1", price="2050")
    await until(lambda: native.brackets, what="sent as one bracket")
    sent_entry, exits = native.brackets[0]
    assert sent_entry.client_order_id == entry and [x.client_order_id for x in exits] == [f"{entry}-sl", f"{entry}-tp"]
    assert (exits[0].stop_price, exits[1].limit_price) == (D("2049"), D(2100))  # the offset from the alert's price
    await until(lambda: one(station, entry)["status"] == "submitted", what="entry submitted")
    assert one(station, f"{entry}-sl")["status"] == "held" and one(station, f"{entry}-sl")["exit_mode"] == "native_bracket"
    native.fill(sent_entry, 1, "2052")
    await until(lambda: one(station, f"{entry}-sl")["status"] == "working", what="the destination's now")
    await until(lambda: native.replaced, what="re-priced from the fill")
    assert (native.replaced[0].client_order_id, native.replaced[0].stop_price) == (f"{entry}-sl", D("2051"))
    assert [r.client_order_id for r in native.sent] == [entry, f"{entry}-sl", f"{entry}-tp"]  # nothing sent again


async def test_cancel_and_reverse_alerts(station):
    tick(station, "ES", 5000)
    limit = bracket(ExitLevel(offset=Offset("ticks", D(8))), order_type=OrderType.LIMIT, limit_price=D("4900"))
    _, waiting = await entry_with_exits(station, limit)
    await until(lambda: one(station, waiting)["status"] == "working", what="working")
    cancel = await journal(station, make_alert("ES", "buy", qty=None, strategy="B", action_override=AlertAction.CANCEL))
    await until(lambda: one(station, waiting)["status"] == "cancelled" and one(station, f"{waiting}-sl")["status"]
                == "cancelled", what="cancelled")
    assert station.store.query("SELECT status, status_reason FROM alerts WHERE alert_id = ?",
                               (cancel.alert_id,))[0]["status"] == "routed"
    _, entry = await entry_with_exits(station, bracket(ExitLevel(offset=Offset("ticks", D(8)))))
    await until(lambda: one(station, f"{entry}-sl")["status"] == "working", what="armed")
    reverse = await journal(station, make_alert("ES", "buy", qty="1", price="5000", strategy="B",
                                                action_override=AlertAction.REVERSE,
                                                instructions=bracket(ExitLevel(offset=Offset("ticks", D(4))))))
    await until(lambda: station.oms.book.position("paper", "ES", "B") == -1, what="reversed to short 1")
    assert one(station, f"{entry}-sl")["status"] == "cancelled"
    made = orders(station, alert_id=reverse.alert_id)
    assert [(o["role"], o["side"], o["qty"]) for o in made] == [("exit", "sell", "2"), ("entry", "sell", "1"),
                                                                ("stop_loss", "buy", "1")]
    await until(lambda: orders(station, alert_id=reverse.alert_id, role="stop_loss")[0]["status"] == "working",
                what="the new side's stop armed")
    assert orders(station, alert_id=reverse.alert_id, role="stop_loss")[0]["stop_price"] == "5001"


async def test_changes_in_place_here_and_by_cancel_and_replace(station):
    answers = []
    station.bus.subscribe(OrderChanged, answers.append)
    tick(station, "ES", 5000)
    limit = bracket(ExitLevel(offset=Offset("ticks", D(8))), order_type=OrderType.LIMIT, limit_price=D("4900"))
    _, entry = await entry_with_exits(station, limit)
    await until(lambda: one(station, entry)["status"] == "working", what="working")
    station.bus.publish(ChangeOrder("c1", entry, limit_price=D("4950")))  # paper changes in place
    await until(lambda: answers and one(station, entry)["limit_price"] == "4950", what="changed at paper")
    station.bus.publish(ChangeOrder("c2", f"{entry}-sl", stop_price=D("4940")))  # a held exit changes here
    await until(lambda: len(answers) == 2 and one(station, f"{entry}-sl")["stop_price"] == "4940", what="held exit")
    assert one(station, f"{entry}-sl")["offset"] is None and answers[1].error is None
    station.bus.publish(ChangeOrder("c3", entry, stop_price=D("1")))
    await until(lambda: len(answers) == 3, what="refused")
    assert "takes no stop_price" in answers[2].error
    tick(station, "ES", "4950")
    await until(lambda: one(station, f"{entry}-sl")["status"] == "working", what="armed at its own price")
    assert one(station, f"{entry}-sl")["stop_price"] == "4940"

    emu = station.fakes["emu"]  # no change in place there: cancelled, and a replacement placed
    alert = await journal(station, make_alert("NQ", "buy", qty="1", price="20000", strategy="E",
                                              instructions=OrderInstructions(order_type=OrderType.LIMIT,
                                                                             limit_price=D("19900"))))
    await until(lambda: orders(station, alert_id=alert.alert_id, status="submitted"), what="sent")
    old = orders(station, alert_id=alert.alert_id)[0]["client_order_id"]
    station.bus.publish(ChangeOrder("c4", old, limit_price=D("19950")))
    await until(lambda: len(answers) == 4, what="answered")
    new = answers[3].client_order_id
    assert new == f"{old}-r1" and one(station, old)["replaced_by"] == new and one(station, new)["replaces"] == old
    await until(lambda: [r.client_order_id for r in emu.sent] == [old, new], what="sent once cancelled")
    assert emu.cancelled == [old] and emu.sent[1].limit_price == D("19950")


async def test_an_exit_cannot_be_changed_to_cover_more_than_it_protects(station):
    """A stop for more than its entry (held) or its fill (working) would open a position the other way."""
    answers = []
    station.bus.subscribe(OrderChanged, answers.append)
    tick(station, "ES", 5000)
    limit = bracket(ExitLevel(offset=Offset("ticks", D(8))), order_type=OrderType.LIMIT, limit_price=D("4900"))
    _, entry = await entry_with_exits(station, limit, qty="2")
    await until(lambda: one(station, entry)["status"] == "working", what="working")
    stop = f"{entry}-sl"
    station.bus.publish(ChangeOrder("c1", stop, qty=D(3)))
    await until(lambda: len(answers) == 1, what="refused")
    assert "more than its entry" in answers[0].error and one(station, stop)["qty"] == "2"
    station.bus.publish(ChangeOrder("c2", stop, qty=D(1)))  # less is allowed while held
    await until(lambda: len(answers) == 2, what="answered")
    assert answers[1].error is None
    request = station.oms.book.orders[entry].request
    station.bus.publish(FillReported(Fill(f"{entry}-part", entry, "paper", "ES", request.side, D(1), D("4900"),
                                          utc_now(), strategy="B")))
    await until(lambda: one(station, stop)["status"] == "working", what="armed for the one filled")
    station.bus.publish(ChangeOrder("c3", stop, qty=D(2)))
    await until(lambda: len(answers) == 3, what="refused")
    assert "leaves to protect (1)" in answers[2].error and one(station, stop)["qty"] == "1"


async def test_a_held_bracket_survives_a_restart_and_arms_once(data_dir, secrets):
    core = Station(Options(data_dir=data_dir, port=0), secrets)
    core.config.import_document({"destinations": {"paper": {"type": "paper"}},
                                 "strategies": {"B": {"tickers": {"ES": {"destinations": {"paper": {}}}}}}})
    await core.start()
    tick(core, "ES", 5000)
    limit = bracket(ExitLevel(offset=Offset("ticks", D(8))), ExitLevel(offset=Offset("ticks", D(8))),
                    order_type=OrderType.LIMIT, limit_price=D("4990"))
    _, entry = await entry_with_exits(core, limit)
    await until(lambda: one(core, entry)["status"] == "working", what="working")
    await core.stop()

    again = Station(Options(data_dir=data_dir, port=0), secrets)
    await again.start()
    try:
        assert [one(again, f"{entry}-{x}")["status"] for x in ("sl", "tp")] == ["held", "held"]
        await until(lambda: "paper" in again.dispatcher.ready, what="paper reconciled")
        tick(again, "ES", "4989")
        await until(lambda: one(again, f"{entry}-sl")["status"] == "working", what="armed after the restart")
        assert len(orders(again)) == 3
        working = sorted(o.order_id for o in again.dispatcher.brokers["paper"].simulator.working())
        assert working == [f"{entry}-sl", f"{entry}-tp"]
    finally:
        await again.stop()


def test_make_alert_carries_what_the_tests_need():
    alert = make_alert("ES", "buy", action_override=AlertAction.EXIT)
    assert alert.action is AlertAction.EXIT and dataclasses.replace(alert).side is None



async def test_risk_counts_held_exits_and_working_orders_not_only_positions(station):
    await station.config.update_settings("risk", {"max_open_orders": 3, "max_position": 0})
    station.oms.current_config()
    tick(station, "ES", 5000)
    limit = bracket(ExitLevel(offset=Offset("ticks", D(8))), ExitLevel(offset=Offset("ticks", D(8))),
                    order_type=OrderType.LIMIT, limit_price=D("4900"))
    _, first = await entry_with_exits(station, limit)  # an entry and two held exits: 3 open
    await until(lambda: one(station, first)["status"] == "working", what="working")
    late = await journal(station, make_alert("ES", "buy", qty="1", price="5000", strategy="B"))
    await until(lambda: orders(station, alert_id=late.alert_id), what="decided")
    [refused] = orders(station, alert_id=late.alert_id)
    assert refused["status"] == "rejected" and "4 open orders" in refused["reason"]
    await station.config.update_settings("risk", {"max_open_orders": 0, "max_position": 2})
    station.oms.current_config()
    # the resting limit for 2 counts: a third contract would pass max_position when it fills
    over = await journal(station, make_alert("ES", "buy", qty="1", price="5000", strategy="B"))
    await until(lambda: orders(station, alert_id=over.alert_id), what="decided")
    assert "beyond the maximum of 2" in orders(station, alert_id=over.alert_id)[0]["reason"]
