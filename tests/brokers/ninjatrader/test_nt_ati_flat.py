"""An ATI account in a running Station: a position NinjaTrader reports FLAT (a trader flattened it there, or an
exit Station did not send) is closed in the book at the best price known, never booked as a made-up loss
(issue 15: "−2 unattributed @ avg 0", unrealised −12,001 in /api/pnl)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from support.ninjatrader_fakes import FakeNinjaTrader
from support.oms import journal, make_alert
from support.wait import until
from station.app import Options, Station
from station.brokers.ninjatrader.files import OifWriter
from station.domain.commands import ClosePosition
from station.domain.enums import OrderStatus
from station.domain.events import Notified, TickReceived
from station.domain.marketdata import Tick
from station.domain.timeutil import utc_now

D = Decimal


@pytest.fixture
async def desk(data_dir, secrets, tmp_path):
    incoming, outgoing = tmp_path / "nt" / "incoming", tmp_path / "nt" / "outgoing"
    incoming.mkdir(parents=True)
    outgoing.mkdir()
    OifWriter._shared.clear()
    nt = FakeNinjaTrader(incoming, outgoing, fill_price=D("5000.5"))
    await nt.start()
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document({
        "destinations": {"nt-sim": {"type": "ninjatrader-ati", "account": "Sim101", "incoming": str(incoming),
                                    "outgoing": str(outgoing)}},
        "strategies": {"Mom": {"tickers": {"MES": {"destinations": {"nt-sim": {"qty": 2, "instrument": "MES 12-26"}}}}}},
    })
    await station.start()
    station.nt = nt
    station.notes = []
    station.bus.subscribe(Notified, station.notes.append)
    yield station
    await station.stop()
    await nt.stop()
    OifWriter._shared.clear()


async def long_two(desk) -> str:
    alert = await journal(desk, make_alert("MES", "buy", qty="2", price="5000", strategy="Mom"))
    coid = f"a{alert.alert_id}-Mom-nt-sim"
    book = desk.oms.book
    await until(lambda: coid in book.orders and book.orders[coid].status is OrderStatus.FILLED, what="filled")
    await until(lambda: book.position("nt-sim", "MES", "Mom") == 2, what="held")
    return coid


def flatten_in_ninjatrader(desk) -> None:
    """The trader flattens the position in NinjaTrader itself: only its position file says so."""
    desk.nt.positions["MES 12-26"] = (0, D(0))
    desk.nt.write_outgoing("MES 12-26 Globex_Sim101_Position.txt", "FLAT;0;0")


async def test_a_flat_position_file_closes_the_book_at_the_last_price_not_at_zero(desk):
    await long_two(desk)
    desk.bus.publish(TickReceived(Tick("MES", utc_now(), 5004.0)))
    book = desk.oms.book
    await until(lambda: book.marks.price("MES") == D(5004), what="the mark")
    flatten_in_ninjatrader(desk)
    await until(lambda: book.position("nt-sim", "MES") == 0, what="the book flat")
    positions = {p.strategy: p for (d, t, s), p in book.positions.items() if t == "MES"}
    assert set(positions) == {"Mom"}, "nothing booked as unattributed"
    mom = positions["Mom"]
    multiplier = mom.multiplier
    assert mom.qty == 0 and mom.realized_pnl == (D(5004) - D("5000.5")) * 2 * multiplier
    assert book.unrealized_pnl() == 0
    [row] = [r for r in book.pnl_by_strategy() if r["strategy"] == "Mom"]
    assert row["total_pnl"] == (D(5004) - D("5000.5")) * 2 * multiplier
    note = await until(lambda: next((n for n in desk.notes if n.title == "Position corrected"), None),
                       what="the notice (sent once the correction is on disk)")
    assert "closed -2 of Mom at 5004" in note.message and "unattributed" not in note.message
    await desk.oms.recorder.flush()
    [stored] = desk.store.query("SELECT qty, realized_pnl FROM positions WHERE ticker = 'MES'")
    assert (D(stored["qty"]), D(stored["realized_pnl"])) == (0, mom.realized_pnl)


async def test_without_any_price_the_close_books_neither_profit_nor_loss(desk):
    await long_two(desk)
    book = desk.oms.book
    book.marks._seen.clear()  # no price known at all (no feed, no alert price seen)
    flatten_in_ninjatrader(desk)
    await until(lambda: book.position("nt-sim", "MES") == 0, what="the book flat")
    assert [p.realized_pnl for p in book.positions.values()] == [0]
    assert book.unrealized_pnl() == 0


async def test_the_oms_close_of_an_ati_position_is_closeposition_and_leaves_the_book_flat_at_the_last_price(desk):
    await long_two(desk)
    desk.bus.publish(TickReceived(Tick("MES", utc_now(), 5002.0)))
    book = desk.oms.book
    await until(lambda: book.marks.price("MES") == D(5002), what="the mark")
    desk.bus.publish(ClosePosition("c1", "Mom", "MES"))  # the Close button (POST /api/positions/close alike)
    await until(lambda: book.position("nt-sim", "MES") == 0, what="closed")
    assert desk.nt.processed[-1][1] == ["CLOSEPOSITION;Sim101;MES 12-26;;;;;;;;;;"]
    [close] = [o for o in book.orders.values() if o.request.side.value == "sell"]
    await until(lambda: book.orders[close.client_order_id].status is OrderStatus.FILLED, what="the close filled")
    assert book.orders[close.client_order_id].avg_price == D(5002)
    [mom] = [p for p in book.positions.values()]
    assert mom.strategy == "Mom" and mom.realized_pnl == (D(5002) - D("5000.5")) * 2 * mom.multiplier
    assert not [n for n in desk.notes if n.title == "Position corrected"], "the book agreed all along"
