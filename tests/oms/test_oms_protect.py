"""Add stop/target to a position already held (`ProtectPosition`): one OCO group working at once, sized to what is
not yet protected, on the right side of the market; worked by paper as its OCO orders or by Station on its prices;
a close cancels them; Reverse at one destination."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from support.oms import FakeDestination
from support.wait import until
from station.app import Options, Station
from station.brokers import registry
from station.domain.commands import ManualOrder, ClosePosition, ProtectPosition, ReversePosition
from station.domain.enums import Side
from station.domain.events import ManualActionCompleted, TickReceived
from station.domain.instructions import ExitLevel, Offset
from station.domain.marketdata import Tick
from station.domain.timeutil import utc_now

CONFIG = {
    "destinations": {"paper": {"type": "paper"}, "emu": {"type": "ib"}},
    "strategies": {"B": {"tickers": {"ES": {"destinations": {"paper": {}}}}},
                   "E": {"tickers": {"NQ": {"destinations": {"emu": {}}}}}},
}


@pytest.fixture
async def station(data_dir, secrets, monkeypatch):
    made = {}

    def factory(destination, context):
        made[destination.name] = FakeDestination(destination.name, context.bus, fill_price=D("20000"))
        return made[destination.name]

    monkeypatch.setitem(registry.BROKER_FACTORIES, "ib", factory)
    core = Station(Options(data_dir=data_dir, port=0), secrets)
    core.config.import_document(CONFIG)
    core.fakes = made
    await core.start()
    yield core
    await core.stop()


def tick(station, symbol, price):
    station.bus.publish(TickReceived(Tick(symbol, utc_now(), float(price))))


async def click(station, command):
    answers = []
    off = station.bus.subscribe(ManualActionCompleted, lambda e: e.click_id == command.click_id and answers.append(e))
    station.bus.publish(command)
    await until(lambda: answers, what=f"{type(command).__name__} answered")
    off()
    return answers[0]


def order(station, coid):
    return station.oms.book.orders[coid]


async def long_es(station, qty="2"):
    tick(station, "ES", 5000)
    await click(station, ManualOrder("buy1", "B", "ES", Side.BUY, D(qty)))
    await until(lambda: station.oms.book.position("paper", "ES", "B") == D(qty), what="long")


async def test_paper_stop_and_target_work_at_once_as_one_oco_group_and_the_target_cancels_the_stop(station):
    await long_es(station)
    answer = await click(station, ProtectPosition("p1", "B", "ES", "paper", ExitLevel(offset=Offset("ticks", D(8))),
                                                  ExitLevel(price=D("5004"))))
    assert answer.error is None and len(answer.client_order_ids) == 2
    sl, tp = answer.client_order_ids
    await until(lambda: order(station, sl).status.value == order(station, tp).status.value == "working",
                what="both working at paper")
    stop, target = order(station, sl).request, order(station, tp).request
    assert (stop.order_type.value, stop.stop_price, stop.qty, stop.side) == ("stop", D("4998"), D(2), Side.SELL)
    assert (target.order_type.value, target.limit_price, target.role.value) == ("limit", D("5004"), "take_profit")
    assert stop.oco_group == target.oco_group and stop.parent_id == target.parent_id
    assert station.oms.book.exit_modes[sl] == "native_oco"
    again = await click(station, ProtectPosition("p2", "B", "ES", "paper", ExitLevel(price=D("4990"))))
    assert "protected in full" in again.error
    tick(station, "ES", "5004.25")
    await until(lambda: order(station, tp).status.value == "filled" and order(station, sl).status.value == "cancelled",
                what="target filled, stop cancelled")
    await until(lambda: station.oms.book.position("paper", "ES", "B") == 0, what="flat")


async def test_a_level_on_the_wrong_side_or_no_position_is_refused_and_makes_nothing(station):
    refused = await click(station, ProtectPosition("p0", "B", "ES", "paper", ExitLevel(price=D("4990"))))
    assert refused.error == "no open position for B / ES at paper"
    await long_es(station)
    before = set(station.oms.book.orders)
    wrong = await click(station, ProtectPosition("p1", "B", "ES", "paper", ExitLevel(price=D("5001"))))
    assert wrong.error == "a stop for a long goes below the market (5000), not at 5001"
    wrong = await click(station, ProtectPosition("p2", "B", "ES", "paper", None, ExitLevel(price=D("4999"))))
    assert wrong.error == "a target for a long goes above the market (5000), not at 4999"
    assert set(station.oms.book.orders) == before


async def test_a_close_cancels_the_added_exits(station):
    await long_es(station)
    answer = await click(station, ProtectPosition("p1", "B", "ES", "paper", ExitLevel(price=D("4990"))))
    [sl] = answer.client_order_ids
    await until(lambda: order(station, sl).status.value == "working", what="stop working")
    await click(station, ClosePosition("c1", "B", "ES", "paper"))
    await until(lambda: order(station, sl).status.value == "cancelled", what="stop cancelled by the close")
    await until(lambda: station.oms.book.position("paper", "ES", "B") == 0, what="flat")


async def test_station_works_the_exits_where_the_destination_has_no_oco_and_reverse_takes_a_destination(station):
    tick(station, "NQ", 20000)
    await click(station, ManualOrder("buy1", "E", "NQ", Side.BUY, D(1)))
    await until(lambda: station.oms.book.position("emu", "NQ", "E") == 1, what="long NQ")
    answer = await click(station, ProtectPosition("p1", "E", "NQ", "emu", ExitLevel(offset=Offset("ticks", D(4))),
                                                  ExitLevel(offset=Offset("points", D(10)))))
    sl, tp = answer.client_order_ids
    await until(lambda: order(station, sl).status.value == "working", what="stop worked here")
    assert station.oms.book.exit_modes[sl] == "station" and order(station, sl).request.stop_price == D("19999")
    assert order(station, tp).request.limit_price == D("20010")
    assert not [r for r in station.fakes["emu"].sent if r.client_order_id in (sl, tp)]  # nothing at the broker yet
    reversed_ = await click(station, ReversePosition("r1", "E", "NQ", "emu"))
    assert reversed_.error is None
    await until(lambda: station.oms.book.position("emu", "NQ", "E") == -1, what="reversed")
    await until(lambda: {order(station, c).status.value for c in (sl, tp)} == {"cancelled"}, what="exits cancelled")


async def test_a_trailing_stop_added_to_a_held_position_trails_from_the_market_and_fills(station):
    await long_es(station)
    tick(station, "ES", "5001")
    both = await click(station, ProtectPosition("p0", "B", "ES", "paper", ExitLevel(price=D("4990")),
                                                trailing_stop=Offset("ticks", D(8))))
    assert both.error == "give a stop or a trailing stop, not both"
    answer = await click(station, ProtectPosition("p1", "B", "ES", "paper", None, ExitLevel(price=D("5010")),
                                                  trailing_stop=Offset("ticks", D(8))))
    assert answer.error is None
    tp, ts = answer.client_order_ids
    await until(lambda: order(station, ts).status.value == "working", what="the trailing stop working")
    trail = order(station, ts).request
    assert (trail.order_type.value, trail.role.value, trail.stop_price, trail.qty, trail.side) == \
        ("trailing_stop", "trailing_stop", D("4999"), D(2), Side.SELL)  # 8 ticks under the market, not the average
    assert trail.oco_group == order(station, tp).request.oco_group
    tick(station, "ES", "5004")
    await until(lambda: order(station, ts).request.stop_price == D("5002"), what="the stop follows the high")
    tick(station, "ES", "5003")
    tick(station, "ES", "5001.75")
    await until(lambda: order(station, ts).status.value == "filled", what="the trailing stop filled")
    await until(lambda: order(station, tp).status.value == "cancelled", what="its target cancelled")
    await until(lambda: station.oms.book.position("paper", "ES", "B") == 0, what="flat")


async def test_station_trails_a_short_where_the_destination_works_no_trailing_stop(station):
    tick(station, "NQ", 20000)
    await click(station, ManualOrder("sell1", "E", "NQ", Side.SELL, D(1)))
    await until(lambda: station.oms.book.position("emu", "NQ", "E") == -1, what="short NQ")
    answer = await click(station, ProtectPosition("p1", "E", "NQ", "emu", trailing_stop=Offset("points", D(5))))
    [ts] = answer.client_order_ids
    await until(lambda: order(station, ts).status.value == "working", what="trailing stop worked here")
    assert station.oms.book.exit_modes[ts] == "station" and order(station, ts).request.stop_price == D("20005")
    tick(station, "NQ", 19990)
    await until(lambda: order(station, ts).request.stop_price == D("19995"), what="the stop follows the low")
    assert not [r for r in station.fakes["emu"].sent if r.client_order_id.startswith(ts)]
    tick(station, "NQ", "19995.25")
    await until(lambda: [r for r in station.fakes["emu"].sent if r.client_order_id.startswith(ts)],
                what="a market order sent when the stop is reached")
