"""Strategy signals as orders: exit and entry legs never reverse; an option signal's contract is the order's
instrument, and the paper broker prices it by that contract alone (its quote, else the signal's price)."""

import datetime as dt
from decimal import Decimal as D

import pytest

from support.oms import make_alert
from support.wait import until
from station.app import Options, Station
from station.domain.commands import ClosePosition, RecordSignal
from station.domain.enums import OptionRight, OrderType, Side
from station.domain.events import ManualActionCompleted, TickReceived
from station.domain.marketdata import Tick
from station.domain.orders import Order, OrderRequest
from station.domain.timeutil import utc_now
from station.engine.options import option_contract
from station.engine.signals import Signal
from station.oms.book import OrderMeta
from station.oms.planner import intends_reversal
from station.store.alerts_repo import alert_from_row

EXPIRY = dt.date(2025, 5, 15)
CALL = option_contract("SPXW", "ES", EXPIRY, D(5900), OptionRight.CALL)
PUT = option_contract("SPXW", "ES", EXPIRY, D(5850), OptionRight.PUT)


@pytest.mark.parametrize("action,before,after,reverses", [
    ("sell", "long", "flat", False),    # a strategy's exit closes
    ("sell", "flat", "short", False),   # its entry opens, even while the exit's fill is on its way
    ("buy", "short", None, True),       # a TradingView alert saying it was short: one order for both
    ("buy", None, "long", True),
    ("buy", None, None, False),
])
def test_only_a_sender_on_the_other_side_reverses(action, before, after, reverses):
    assert intends_reversal(make_alert(action=action, position=before, target_position=after)) is reverses


@pytest.fixture
async def station(data_dir, secrets):
    core = Station(Options(data_dir=data_dir, port=0), secrets)
    core.config.import_document({
        "destinations": {"paper": {"type": "paper"}},
        "strategies": {"Zero": {"tickers": {"SPXW": {"point_value": 100, "destinations": {"paper": {"qty": 1}}}}}},
    })
    await core.start()
    yield core
    await core.stop()


def signal(code, action, contract, price=None):
    at = dt.datetime(2025, 5, 15, 15, 0, tzinfo=dt.timezone.utc)
    return Signal(f"Zero:SPXW:manual:{code}", "Zero", "SPXW", action, at, price, D(1), "flat", "long", "manual",
                  instrument=contract)


def orders(station):
    return {r["client_order_id"]: dict(r) for r in station.store.query(
        "SELECT o.*, a.trade_id FROM orders o LEFT JOIN alerts a USING (alert_id)")}


async def record(station, *signals):
    for s in signals:
        station.bus.publish(RecordSignal(s.to_alert(utc_now())))
    ids = {s.signal_id for s in signals}
    await until(lambda: ids <= {o["trade_id"] for o in orders(station).values() if o["status"] in ("filled", "rejected")})
    await station.oms.recorder.flush()
    return {o["trade_id"]: o for o in orders(station).values() if o["trade_id"] in ids}


async def test_an_option_is_filled_at_its_own_quote_or_the_signals_price_else_rejected_saying_why(station):
    publish = station.bus.publish
    publish(TickReceived(Tick("ES", utc_now(), 5901.25)))       # the underlying's feed never prices an option
    publish(TickReceived(Tick("SPXW", utc_now(), 7.0)))         # nor does a price under the root's name
    made = await record(station, signal("k1:C", Side.BUY, CALL))
    rejected = made["Zero:SPXW:manual:k1:C"]
    assert rejected["instrument"] == CALL["osi"] == "SPXW  250515C05900000"
    assert (rejected["status"], rejected["reason"]) == (
        "rejected", "no price for option SPXW  250515C05900000: no quote for it and the order carries none")

    publish(TickReceived(Tick(CALL["osi"], utc_now(), 4.2)))    # a quote of that contract (OPRA, IB)
    made = await record(station, signal("k2:C", Side.BUY, CALL), signal("k3:P", Side.BUY, PUT, price=3.5))
    assert [(made[k]["status"], made[k]["avg_price"], made[k]["instrument"]) for k in sorted(made)] == [
        ("filled", "4.2", CALL["osi"]), ("filled", "3.5", PUT["osi"])]
    assert station.oms.book.position("paper", "SPXW", "Zero") == 2
    row = station.store.query("SELECT * FROM alerts WHERE trade_id = 'Zero:SPXW:manual:k2:C'")[0]
    assert alert_from_row(row).extra["instrument"] == CALL     # a signal routed after a restart keeps its contract

    # closing the position (the Close button, the daily loss guard) sends the contract last traded
    publish(TickReceived(Tick(PUT["osi"], utc_now(), 5.0)))
    done = []
    station.bus.subscribe(ManualActionCompleted, done.append)
    publish(ClosePosition("close-1", "Zero", "SPXW"))
    await until(lambda: done)
    await station.oms.recorder.flush()
    closing = orders(station)[done[0].client_order_ids[0]]
    assert (closing["side"], closing["qty"], closing["instrument"], closing["status"], closing["avg_price"]) == (
        "sell", "2", PUT["osi"], "filled", "5.0")


async def test_a_working_option_limit_order_fills_on_the_contracts_quotes_only(station):
    paper = station.dispatcher.brokers["paper"]
    request = OrderRequest("opt-lim", "paper", "SPXW", Side.BUY, D(1), OrderType.LIMIT, limit_price=D("4.0"),
                           strategy="Zero", instrument=CALL["osi"])
    station.oms.book.add_order(Order(request), OrderMeta("t"))
    await paper.submit(request)
    station.bus.publish(TickReceived(Tick("SPXW", utc_now(), 1.0)))
    station.bus.publish(TickReceived(Tick(CALL["osi"], utc_now(), 4.5)))
    assert station.oms.book.orders["opt-lim"].status.value == "working"
    station.bus.publish(TickReceived(Tick(CALL["osi"], utc_now(), 3.9)))
    assert station.oms.book.orders["opt-lim"].avg_price == D("4.0")  # a limit fills at its price
