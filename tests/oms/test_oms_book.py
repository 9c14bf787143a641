"""Book arithmetic, pairs, reversal, risk rules and paper limit/stop fills, against hand-computed cases."""

from decimal import Decimal as D

import pytest

from support.oms import FakeDestination, journal, make_alert
from support.wait import until
from station.app import Options, Station
from station.brokers import registry
from station.domain.alert import SpreadTicker
from station.domain.enums import OrderType, Side
from station.domain.events import BarUpdated, TickReceived
from station.domain.fills import Fill
from station.domain.marketdata import Bar, Tick
from station.domain.orders import Order, OrderRequest
from station.domain.timeutil import utc_now
from station.oms.book import Book, OrderMeta
from station.domain.pairs import Leg, PairFill
from station.domain.config import RoutingConfig
from station.oms.risk.gate import KillSwitchRule, MaxOrderQtyRule, RiskGate
from station.oms.risk.limits import RiskLimits
from station.oms.risk.position import MaxPositionRule


def fill(side, qty, price, n=[0], dest="paper", ticker="ES", strategy="S", commission="0"):
    n[0] += 1
    return Fill(f"f{n[0]}", f"o{n[0]}", dest, ticker, Side(side), D(qty), D(price), utc_now(), D(commission), strategy)


def test_average_cost_realised_and_unrealised_pnl_by_hand():
    book = Book()
    book.apply_fill(fill("buy", 2, "100"))
    book.apply_fill(fill("buy", 1, "103"))          # long 3 @ 101
    position = book.positions[("paper", "ES", "S")]
    assert (position.qty, position.avg_price) == (3, 101)
    _, after, realized = book.apply_fill(fill("sell", 2, "105", commission="1.5"))  # +4 x 2 - 1.5
    assert realized == D("6.5") and after.qty == 1 and after.avg_price == 101
    _, after, realized = book.apply_fill(fill("sell", 3, "99"))  # close 1 at -2, open short 2 @ 99
    assert realized == D(-2) and (after.qty, after.avg_price, after.realized_pnl) == (-2, 99, D("4.5"))
    book.marks.seen("ES", D("97"))
    marked = book.marked_positions()[0]
    assert marked.unrealized_pnl == D(4) and marked.total_pnl == D("8.5")   # (97 - 99) x -2
    book.marks.set_feed("ES", 98.0)   # the feed wins over prices seen
    assert book.unrealized_pnl("S") == D(2) and book.realized_pnl_today("S") == D("4.5")
    assert book.pnl_by_strategy()[0]["total_pnl"] == D("6.5")


def test_point_value_scales_pnl():
    book = Book()
    order = Order(OrderRequest("o-es", "paper", "ES", Side.BUY, D(1), strategy="S"))
    book.add_order(order, OrderMeta("a1", point_value=D(50)))
    book.apply_fill(Fill("x1", "o-es", "paper", "ES", Side.BUY, D(1), D(5000), utc_now(), strategy="S"))
    book.marks.set_feed("ES", 5010.25)
    assert book.unrealized_pnl() == D("512.50")


def test_pair_fill_price_slippage_and_remaining_per_leg():
    # buy 100 NMFC-0.72*ROIC at 4.0: leg1 buys 100 NMFC, leg2 sells 72 ROIC
    pair = PairFill(Side.BUY, D("0.72"), D("4.0"), Leg("NMFC", D(100), D(60), D("11.50")), Leg("ROIC", D(72), D(0)))
    assert pair.fill_price is None and pair.slippage is None
    assert (pair.leg1.remaining_qty, pair.leg2.remaining_qty) == (40, 72) and not pair.complete
    pair = PairFill(Side.BUY, D("0.72"), D("4.0"), Leg("NMFC", D(100), D(100), D("11.50")),
                    Leg("ROIC", D(72), D(72), D("10.50")))
    assert pair.fill_price == D("11.50") - D("0.72") * D("10.50") == D("3.94")
    assert pair.slippage == D("0.06") and pair.complete
    sell = PairFill(Side.SELL, D("0.72"), D("4.0"), pair.leg1, pair.leg2)
    assert sell.slippage == D("-0.06")


def test_risk_rules_each_block_what_they_should_and_only_that():
    book = Book()
    request = lambda side="buy", qty=1, dest="paper": OrderRequest(f"r{side}{qty}", dest, "ES", Side(side), D(qty), strategy="S")  # noqa: E731
    limits = RiskLimits(lambda: RoutingConfig(revision=1), lambda: {"max_order_qty": 5, "max_position": 3})
    size = MaxOrderQtyRule(limits)
    assert size.check(request(qty=5), book) is None and "exceeds the maximum of 5" in size.check(request(qty=6), book)
    position = MaxPositionRule(limits)
    book.apply_fill(fill("buy", 2, "100"))
    assert position.check(request(qty=1), book) is None
    assert "would be 4" in position.check(request(qty=2), book)
    assert position.check(request("sell", 5), book) is None          # long 2 -> short 3 is within 3
    assert "would be -4" in position.check(request("sell", 6), book)
    assert position.check(request(qty=2, dest="other"), book) is None  # per destination
    book.add_order(Order(request(qty=1)), OrderMeta("w"))              # working orders count
    assert "would be 4" in position.check(request(qty=1), book)
    kill = KillSwitchRule()
    assert kill.check(request(qty=9), book) is None
    book.kill_switch_reason = "test"
    assert "kill switch" in kill.check(request(qty=1), book)
    assert kill.check(request("sell", 2), book) is None               # closing passes
    assert kill.check(request("sell", 3), book) is not None           # reversing does not
    gate = RiskGate(book, [size, position])

    class Broken:
        name = "broken"

        def check(self, request, book):
            raise RuntimeError("bug")

    gate.add(Broken())
    assert "risk rule broken failed" in gate.check(request("sell", 1))


# ---- through a running Station ---------------------------------------------------------------------


@pytest.fixture
async def station(data_dir, secrets, monkeypatch):
    made = {}

    def factory(destination, context):
        made[destination.name] = FakeDestination(destination.name, context.bus)
        return made[destination.name]

    monkeypatch.setitem(registry.BROKER_FACTORIES, "ib", factory)
    core = Station(Options(data_dir=data_dir, port=0), secrets)
    core.config.import_document({
        "settings": {"risk": {"max_order_qty": 10, "max_position": 0}},
        "destinations": {"paper": {"type": "paper"}, "ib": {"type": "ib"}},
        "strategies": {
            "Rev": {"tickers": {"ES": {"destinations": {"paper": {}, "ib": {"reversal": "close_then_open"}},
                                       "max_position": 6}}},
            "Pairs": {"tickers": {"NMFC": {"destinations": {"paper": {"qty": 10}}}}},
        },
    })
    await core.start()
    core.fakes = made
    yield core
    await core.stop()


def rows(station, **where):
    found = [dict(r) for r in station.store.query("SELECT * FROM orders ORDER BY seq")]
    return [r for r in found if all(r[k] == v for k, v in where.items())]


async def test_reversal_one_summed_order_or_close_then_open_per_destination(station):
    ib = station.fakes["ib"]
    await journal(station, make_alert("ES", "sell", qty="2", strategy="Rev"))
    await until(lambda: station.oms.book.position("paper", "ES", "Rev") == -2 and len(ib.sent) == 1)
    ib.fill(ib.sent[0], 2, "5000")
    await until(lambda: station.oms.book.position("ib", "ES", "Rev") == -2)
    alert = await journal(station, make_alert("ES", "buy", qty="3", strategy="Rev", position="short"))
    await until(lambda: station.oms.book.position("paper", "ES", "Rev") == 3 and len(ib.sent) == 3)
    paper = rows(station, destination="paper", alert_id=alert.alert_id)
    assert [(r["side"], r["qty"]) for r in paper] == [("buy", "5")]
    legs = rows(station, destination="ib", alert_id=alert.alert_id)
    assert [(r["leg"], r["side"], r["qty"]) for r in legs] == [("close", "buy", "2"), ("open", "buy", "3")]
    assert [r.qty for r in ib.sent[1:]] == [D(2), D(3)]   # close sent before open
    # no position field: a plain buy adds to the long position, no reversal
    await journal(station, make_alert("ES", "buy", qty="1", strategy="Rev"))
    await until(lambda: station.oms.book.position("paper", "ES", "Rev") == 4)


async def test_risk_refusals_are_visible_orders_and_only_the_refused_one(station):
    alert = await journal(station, make_alert("ES", "buy", qty="11", strategy="Rev"))
    await until(lambda: len(rows(station, alert_id=alert.alert_id)) == 2)
    await station.oms.recorder.flush()
    assert {r["status"] for r in rows(station, alert_id=alert.alert_id)} == {"rejected"}
    status = station.store.query("SELECT status, status_reason FROM alerts WHERE alert_id = ?", (alert.alert_id,))[0]
    assert status["status"] == "rejected" and "exceeds the maximum of 10" in status["status_reason"]
    ok = await journal(station, make_alert("ES", "buy", qty="5", strategy="Rev"))
    await until(lambda: rows(station, alert_id=ok.alert_id, destination="paper", status="filled"))
    over = await journal(station, make_alert("ES", "buy", qty="2", strategy="Rev"))  # 5 + 2 > max_position 6
    await until(lambda: len(rows(station, alert_id=over.alert_id)) == 2)
    paper = rows(station, alert_id=over.alert_id, destination="paper")[0]
    assert paper["status"] == "rejected" and "beyond the maximum of 6" in paper["reason"]


async def test_pair_alert_makes_two_legs_and_the_book_computes_the_spread_fill(station):
    from station.store.order_repo import pair_fill, pair_legs

    for symbol, price in (("NMFC", 11.5), ("ROIC", 10.5)):
        station.bus.publish(TickReceived(Tick(symbol, utc_now(), price)))
    alert = await journal(station, make_alert("NMFC-0.72*NASDAQ:ROIC", "buy", qty="1", price="4.0",
                                              spread=SpreadTicker("NMFC", D("0.72"), "ROIC")))
    await until(lambda: len(rows(station, alert_id=alert.alert_id, status="filled")) == 2)
    legs = rows(station, alert_id=alert.alert_id)
    assert [(r["leg"], r["ticker"], r["side"], r["qty"]) for r in legs] == [("1", "NMFC", "buy", "10"), ("2", "ROIC", "sell", "7")]
    group = station.store.query("SELECT * FROM pair_groups")[0]
    pair = pair_fill(group, pair_legs(station.store, [group["pair_group"]])[group["pair_group"]])
    assert pair.fill_price == D("3.94") and pair.slippage == D("0.06") and pair.complete


async def test_paper_limit_and_stop_orders_fill_when_later_prices_cross(station):
    from station.brokers.paper import PaperBroker

    paper: PaperBroker = station.dispatcher.brokers["paper"]
    requests = [
        OrderRequest("lim", "paper", "ES", Side.BUY, D(1), OrderType.LIMIT, limit_price=D(4990), strategy="Rev"),
        OrderRequest("stp", "paper", "ES", Side.SELL, D(1), OrderType.STOP, stop_price=D(4980), strategy="Rev"),
        OrderRequest("sl", "paper", "ES", Side.BUY, D(1), OrderType.STOP_LIMIT, limit_price=D(5012), stop_price=D(5010),
                     strategy="Rev"),
    ]
    for request in requests:
        station.oms.book.add_order(Order(request), OrderMeta("t"))
        await paper.submit(request)
    publish = station.bus.publish
    publish(TickReceived(Tick("ES", utc_now(), 4995.0)))
    assert station.oms.book.orders["lim"].status.value == "working"
    publish(TickReceived(Tick("ES", utc_now(), 4989.0)))   # through the buy limit: fills at its price
    publish(TickReceived(Tick("ES", utc_now(), 5010.5)))   # triggers the stop-limit; its limit 5012 fills at once
    publish(TickReceived(Tick("ES", utc_now(), 4979.0)))   # through the sell stop: fills at that trade's price
    await station.oms.recorder.flush()
    book = station.oms.book
    assert (book.orders["lim"].avg_price, book.orders["sl"].avg_price, book.orders["stp"].avg_price) == (4990, 5012, 4979)
    assert book.position("paper", "ES", "Rev") == 1


async def test_limit_orders_from_alerts_work_at_paper_and_can_be_cancelled(station):
    from station.domain.commands import CancelOrder

    await station.config.save_strategy("Lim", {"order_type": "limit", "tickers": {"ES": {"destinations": {"paper": {}}}}})
    alert = await journal(station, make_alert("ES", "buy", qty="1", price="4990", strategy="Lim"))
    await until(lambda: rows(station, alert_id=alert.alert_id, status="working"))
    order = rows(station, alert_id=alert.alert_id)[0]
    assert (order["order_type"], order["limit_price"]) == ("limit", "4990")
    station.bus.publish(CancelOrder(order["client_order_id"]))
    await until(lambda: rows(station, alert_id=alert.alert_id, status="cancelled"))
    station.bus.publish(TickReceived(Tick("ES", utc_now(), 4980.0)))  # a cancelled order never fills
    await station.oms.recorder.flush()
    assert station.oms.book.position("paper", "ES", "Lim") == 0


async def test_a_destination_reporting_another_position_is_reconciled_visibly(station):
    from station.domain.events import Notified, PositionReported

    notes = []
    station.bus.subscribe(Notified, notes.append)
    ib = station.fakes["ib"]
    await journal(station, make_alert("ES", "buy", qty="2", strategy="Rev"))
    await until(lambda: ib.sent)
    ib.fill(ib.sent[0], 2, "5000")
    await until(lambda: station.oms.book.position("ib", "ES") == 2)
    station.bus.publish(PositionReported("ib", "ES", D(2), D(5000)))   # agrees: nothing to do
    station.bus.publish(PositionReported("ib", "ES", D(3), D(5001)))
    await station.oms.recorder.flush()
    assert station.oms.book.position("ib", "ES") == 3 and station.oms.book.position("ib", "ES", "Rev") == 2
    assert [n.title for n in notes if n.title == "Position corrected"] == ["Position corrected"]
    saved = station.store.query("SELECT qty FROM positions WHERE destination = 'ib' AND strategy = ''")
    assert saved[0]["qty"] == "1"


async def test_a_lazy_write_shares_the_next_flush_keeps_order_and_never_waits_long(tmp_path):
    import asyncio

    from station.oms.recorder import Recorder
    from station.store.writer import LAZY_WAIT_S as LAZY_S
    from station.store import Store

    store = Store(tmp_path / "data")
    recorder = Recorder(store.writer)
    recorder.start()
    done: list[str] = []
    try:
        store.writer.call(lambda conn: conn.execute("CREATE TABLE probe (name TEXT)"))
        insert = lambda name: lambda conn: conn.execute("INSERT INTO probe VALUES (?)", (name,))  # noqa: E731
        commits = store.writer.commits
        lazy = recorder.write(insert("lazy"), lambda _: done.append("lazy"), lazy=True)
        eager = recorder.write(insert("eager"), lambda _: done.append("eager"))
        await asyncio.gather(lazy, eager)
        assert done == ["lazy", "eager"] and store.writer.commits - commits == 1  # one flush for both

        alone = recorder.write(insert("alone"), lambda _: done.append("alone"), lazy=True)
        await asyncio.wait_for(alone, LAZY_S + 1.0)  # nobody came along: written after LAZY_S
        assert [r["name"] for r in store.query("SELECT name FROM probe ORDER BY rowid")] == ["lazy", "eager", "alone"]
    finally:
        await recorder.stop()
        store.close()
