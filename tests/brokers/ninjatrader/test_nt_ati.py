"""NinjaTrader ATI accounts: order instruction files in real folders, a fake NinjaTrader answering.

The files follow NinjaTrader 8 help "Order Instruction Files (OIF)" (oif*.txt in `incoming`,
PLACE/CANCEL lines) and "Information Update Files" (`<ORDER ID>.txt` with
`State;Filled;AvgPrice`, `<instrument> <exchange>_<account>_Position.txt` with
`LONG|SHORT|FLAT;Qty;AvgPrice`).
"""

import dataclasses
import os
import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from support.ninjatrader_fakes import FakeNinjaTrader, model_request
from support.wait import until
from station.brokers.protocol import Broker, BrokerError
from station.brokers.ninjatrader import AtiBroker, build
from station.brokers.registry import BrokerContext
from station.brokers.ninjatrader.files import OifWriter
from station.bus import Bus
from station.domain.config import DestinationConfig
from station.domain.enums import ConnectionState, OrderStatus, OrderType, Side
from station.domain.events import (
    ConnectionChanged, ErrorRaised, FillReported, Notified, OrderReported, PositionReported,
)
from station.domain.orders import OrderRequest
from station.domain.timeutil import utc_now

D = Decimal


class Recorder:
    """Collects what the broker publishes."""

    def __init__(self, bus: Bus) -> None:
        self.events: list = []
        for kind in (OrderReported, FillReported, PositionReported, ConnectionChanged, ErrorRaised, Notified):
            bus.subscribe(kind, self.events.append)

    def of(self, kind) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    async def until(self, predicate, timeout: float = 5.0) -> None:
        await until(predicate, timeout, what=f"condition; events: {self.events[-8:]}")


@pytest.fixture
def folders(tmp_path):
    incoming, outgoing = tmp_path / "NinjaTrader 8" / "incoming", tmp_path / "NinjaTrader 8" / "outgoing"
    incoming.mkdir(parents=True)
    outgoing.mkdir()
    return incoming, outgoing


@pytest.fixture(autouse=True)
def fresh_writers():
    """Every test starts as a new process would: no OIF writer shared from a previous test."""
    OifWriter._shared.clear()
    yield
    OifWriter._shared.clear()


def polls(broker: AtiBroker):
    """A counter of the broker's looks at its folders (to wait for some to pass, never a bare sleep)."""
    count = [0]
    look = broker._look

    def counted(reread):
        count[0] += 1
        return look(reread)

    broker._look = counted
    return lambda: count[0]


def make_broker(folders, data_dir, bus, **kw) -> AtiBroker:
    incoming, outgoing = folders
    params = {"account": "Sim101", "incoming": str(incoming), "outgoing": str(outgoing), **kw}
    broker = build(DestinationConfig("nt-sim", "ninjatrader-ati", params), BrokerContext(bus, data_dir))
    broker.poll_s = 0.01
    return broker


def order(n: int, **kw) -> OrderRequest:
    fields = dict(client_order_id=f"a{n}-MomentumStrategy-nt-sim", destination="nt-sim", ticker="MES",
                  side=Side.BUY, qty=D(1), strategy="MomentumStrategy", alert_id=n, instrument="MES 12-26")
    fields.update(kw)
    return OrderRequest(**fields)


def oif_files(incoming) -> list[str]:
    return sorted((p.name for p in incoming.iterdir() if p.name.startswith("oif")),
                  key=lambda name: int(name[3:-4]))


async def test_files_have_the_exact_format_and_increasing_names_across_a_restart(folders, data_dir):
    incoming, _ = folders
    bus = Bus()
    seen = Recorder(bus)
    broker = make_broker(folders, data_dir, bus)
    assert isinstance(broker, Broker)
    await broker.start()
    await broker.submit(order(1))
    await broker.submit(order(2, side=Side.SELL, qty=D(2), order_type=OrderType.LIMIT, limit_price=D("5001.25")))
    assert oif_files(incoming) == ["oif1.txt", "oif2.txt"]
    assert (incoming / "oif1.txt").read_text() == "PLACE;Sim101;MES 12-26;BUY;1;MARKET;0;0;DAY;;a1-MomentumStrategy-nt-sim;;\n"
    assert (incoming / "oif2.txt").read_text() == "PLACE;Sim101;MES 12-26;SELL;2;LIMIT;5001.25;0;DAY;;a2-MomentumStrategy-nt-sim;;\n"
    assert [(r.client_order_id, r.status, r.broker_order_id) for r in seen.of(OrderReported)] == [
        ("a1-MomentumStrategy-nt-sim", OrderStatus.SUBMITTED, "oif1.txt"),
        ("a2-MomentumStrategy-nt-sim", OrderStatus.SUBMITTED, "oif2.txt")]
    await broker.stop()
    for path in incoming.iterdir():
        path.unlink()  # NinjaTrader consumed them: the folder no longer tells which N were used

    OifWriter._shared.clear()  # a restart: a new process, a new broker on the same data dir
    again = make_broker(folders, data_dir, Bus())
    await again.start()
    await again.submit(order(3))
    await again.submit(order(1))  # handed over again after the restart: already written, not again
    assert oif_files(incoming) == ["oif3.txt"]
    await again.stop()


async def test_a_crash_between_reserving_and_renaming_never_reuses_a_number(folders, data_dir):
    incoming, _ = folders
    writer = OifWriter.for_folder(incoming, data_dir)
    assert writer.write("PLACE;a") == incoming / "oif1.txt"
    writer.counter_path.write_text(f"5\n{incoming}\n")  # N=5 reserved, then the process died...
    (incoming / "~station-oif5.tmp").write_text("PLACE;half")  # ...before its file was renamed
    OifWriter._shared.clear()
    again = OifWriter.for_folder(incoming, data_dir)
    assert again.write("PLACE;b") == incoming / "oif6.txt"
    assert sorted(p.name for p in incoming.iterdir()) == ["oif1.txt", "oif6.txt"]


async def test_an_unread_file_with_the_next_name_is_never_replaced(folders, data_dir):
    incoming, _ = folders
    writer = OifWriter.for_folder(incoming, data_dir)
    writer.write("PLACE;first")
    (incoming / "oif2.txt").write_text("PLACE;someone else's\n")  # another program wrote oif2 meanwhile
    writer._last = 1  # as if it had not been seen yet
    assert writer.write("PLACE;second") == incoming / "oif3.txt"
    assert (incoming / "oif2.txt").read_text() == "PLACE;someone else's\n"


async def test_destinations_sharing_an_incoming_folder_share_one_sequence(folders, data_dir):
    incoming, outgoing = folders
    bus = Bus()
    first = make_broker(folders, data_dir, bus)
    second = build(DestinationConfig("nt-live", "ninjatrader-ati", {
        "account": "Live1", "incoming": str(incoming), "outgoing": str(outgoing)}), BrokerContext(bus, data_dir))
    await first.submit(order(1))
    await second.submit(order(2, destination="nt-live"))
    await first.submit(order(3))
    assert oif_files(incoming) == ["oif1.txt", "oif2.txt", "oif3.txt"]
    assert (incoming / "oif2.txt").read_text().startswith("PLACE;Live1;")


async def test_no_partially_written_order_file_is_ever_visible(folders, data_dir):
    incoming, _ = folders
    broker = make_broker(folders, data_dir, Bus())
    seen_texts: dict[str, set[str]] = {}
    stop = threading.Event()

    def watch():  # a tight loop reading every oif*.txt it sees, as NinjaTrader's reader might
        while not stop.is_set():
            for name in os.listdir(incoming):
                if name.startswith("oif"):
                    try:
                        with open(incoming / name, encoding="utf-8") as handle:
                            seen_texts.setdefault(name, set()).add(handle.read())
                    except FileNotFoundError:
                        pass

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for n in range(1, 61):
            await broker.submit(order(n, qty=D(n)))
    finally:
        stop.set()
        watcher.join()
    assert oif_files(incoming) == [f"oif{n}.txt" for n in range(1, 61)]
    assert seen_texts, "the watcher saw no file"
    for name, texts in seen_texts.items():
        n = int(name[3:-4])
        assert texts == {f"PLACE;Sim101;MES 12-26;BUY;{n};MARKET;0;0;DAY;;a{n}-MomentumStrategy-nt-sim;;\n"}, name
    assert not [p for p in incoming.iterdir() if not p.name.startswith("oif")]  # no temp file left


async def test_outgoing_state_files_fill_the_order_and_update_the_position(folders, data_dir):
    incoming, outgoing = folders
    nt = FakeNinjaTrader(incoming, outgoing, fill_price=D("5000.5"))
    await nt.start()
    bus = Bus()
    seen = Recorder(bus)
    broker = make_broker(folders, data_dir, bus)
    await broker.start()
    await seen.until(lambda: broker.state is ConnectionState.CONNECTED)
    await broker.submit(order(1, qty=D(2)))
    await seen.until(lambda: seen.of(FillReported) and seen.of(PositionReported))
    fill = seen.of(FillReported)[0].fill
    assert (fill.fill_id, fill.client_order_id, fill.destination, fill.ticker, fill.side, fill.qty, fill.price,
            fill.strategy) == ("nt-sim:a1-MomentumStrategy-nt-sim:2", "a1-MomentumStrategy-nt-sim", "nt-sim",
                               "MES", Side.BUY, D(2), D("5000.5"), "MomentumStrategy")
    position = seen.of(PositionReported)[-1]
    assert (position.destination, position.ticker, position.qty, position.avg_price) == ("nt-sim", "MES", D(2), D("5000.5"))
    assert nt.processed[0][0] == "oif1.txt" and not oif_files(incoming)  # consumed

    await broker.submit(order(2, side=Side.SELL, qty=D(2)))  # close it
    await seen.until(lambda: seen.of(PositionReported)[-1].qty == 0)
    assert seen.of(PositionReported)[-1].avg_price is None
    assert len(seen.of(FillReported)) == 2
    await broker.stop()

    OifWriter._shared.clear()  # restart: the same outgoing files are read again, fills are not repeated
    bus2 = Bus()
    seen2 = Recorder(bus2)
    again = make_broker(folders, data_dir, bus2)
    await again.start()
    await seen2.until(lambda: again.state is ConnectionState.CONNECTED)
    assert seen2.of(FillReported) == []
    assert [(p.ticker, p.qty) for p in seen2.of(PositionReported)] == [("MES", D(0))]  # reconciled
    await again.stop()
    await nt.stop()


async def test_partial_fills_are_reported_once_each_with_stable_ids(folders, data_dir):
    incoming, outgoing = folders
    nt = FakeNinjaTrader(incoming, outgoing)
    bus = Bus()
    seen = Recorder(bus)
    broker = make_broker(folders, data_dir, bus)
    looked = polls(broker)
    await broker.start()
    await broker.submit(order(1, qty=D(3), order_type=OrderType.LIMIT, limit_price=D(5000)))
    nt.process_incoming()  # accepted, working: a limit order waits
    await seen.until(lambda: any(r.status is OrderStatus.WORKING for r in seen.of(OrderReported)))
    nt.fill("a1-MomentumStrategy-nt-sim", 1, D(5000))
    await seen.until(lambda: len(seen.of(FillReported)) == 1)
    nt.fill("a1-MomentumStrategy-nt-sim", 2, D("4999.25"))
    await seen.until(lambda: len(seen.of(FillReported)) == 2)
    again = looked() + 5
    await seen.until(lambda: looked() >= again)  # the file is re-read while recent: still no third fill
    fills = [e.fill for e in seen.of(FillReported)]
    assert [(f.fill_id.rsplit(":", 1)[1], f.qty, f.price) for f in fills] == [("1", D(1), D(5000)), ("3", D(2), D("4999.25"))]
    assert [r.status for r in seen.of(OrderReported)] == [OrderStatus.SUBMITTED, OrderStatus.WORKING]
    await broker.stop()


async def test_cancel_writes_a_cancel_file_and_the_cancelled_state_is_reported(folders, data_dir):
    incoming, outgoing = folders
    nt = FakeNinjaTrader(incoming, outgoing)
    await nt.start()
    bus = Bus()
    seen = Recorder(bus)
    broker = make_broker(folders, data_dir, bus)
    await broker.start()
    await broker.submit(order(1, order_type=OrderType.LIMIT, limit_price=D(4900)))
    await seen.until(lambda: any(r.status is OrderStatus.WORKING for r in seen.of(OrderReported)))
    await broker.cancel("a1-MomentumStrategy-nt-sim")
    await seen.until(lambda: any(r.status is OrderStatus.CANCELLED for r in seen.of(OrderReported)))
    assert nt.processed[1] == ("oif2.txt", ["CANCEL;;;;;;;;;;a1-MomentumStrategy-nt-sim;;"])
    await broker.stop()
    await nt.stop()


async def test_garbage_in_outgoing_is_reported_clearly_and_changes_nothing(folders, data_dir):
    incoming, outgoing = folders
    bus = Bus()
    seen = Recorder(bus)
    broker = make_broker(folders, data_dir, bus)
    looked = polls(broker)
    await broker.start()
    await broker.submit(order(1))
    before = broker.book.snapshot()
    (outgoing / "a1-MomentumStrategy-nt-sim.txt").write_text("FILLED;lots;5000\r\n")
    (outgoing / "junk.txt").write_text("hello world")
    (outgoing / "MES 12-26 Globex_Sim101_Position.txt").write_text("SIDEWAYS;1;2")
    (outgoing / "OTHERAPP1.txt").write_text("FILLED;1;2")  # another program's order: not ours, silent
    (outgoing / "Rithmic.txt").write_text("DISCONNECTED")  # NinjaTrader's connection state file
    await seen.until(lambda: len(seen.of(ErrorRaised)) == 3)
    again = looked() + 5
    await seen.until(lambda: looked() >= again)  # read again meanwhile: each error is told once
    messages = sorted(e.message for e in seen.of(ErrorRaised))
    assert len(messages) == 3 and all(e.source == "nt-sim" for e in seen.of(ErrorRaised))
    assert "'MES 12-26 Globex_Sim101_Position.txt'" in messages[0] and "LONG, SHORT or FLAT" in messages[0]
    assert "'a1-MomentumStrategy-nt-sim.txt'" in messages[1] and "'lots' is not a number" in messages[1]
    assert "'junk.txt'" in messages[2] and "not an order state, position or connection file" in messages[2]
    assert seen.of(FillReported) == [] and seen.of(PositionReported) == []
    assert broker.book.snapshot() == before
    await seen.until(lambda: "Rithmic" in broker.detail)  # NinjaTrader's own link down: said, not hidden
    await broker.stop()


async def test_missing_folder_then_created_and_an_unread_file_makes_it_stale_each_said_once(folders, data_dir):
    incoming, outgoing = folders
    outgoing.rmdir()
    bus = Bus()
    seen = Recorder(bus)
    broker = make_broker(folders, data_dir, bus)
    assert broker.stale_after_s == 10  # NinjaTrader takes an order file at once: 10 s unread means the ATI is off
    broker.stale_after_s = 0.3
    looked = polls(broker)
    await broker.start()
    await seen.until(lambda: broker.state is ConnectionState.ERROR and "outgoing folder not found" in broker.detail)
    again = looked() + 5
    await seen.until(lambda: looked() >= again)
    [notice] = seen.of(Notified)  # said once, not every poll
    assert notice.level == "warning" and "outgoing folder not found" in notice.message
    assert "Automated trading interface" in notice.message
    outgoing.mkdir()
    await seen.until(lambda: broker.state is ConnectionState.CONNECTED)
    await broker.submit(order(1))  # nobody reads incoming
    await seen.until(lambda: broker.state is ConnectionState.STALE, timeout=3)
    assert "oif1.txt" in broker.detail and "ATI" in broker.detail
    again = looked() + 5
    await seen.until(lambda: looked() >= again)
    assert len(seen.of(Notified)) == 2 and "has not read oif1.txt" in seen.of(Notified)[1].message
    (incoming / "oif1.txt").unlink()
    await seen.until(lambda: broker.state is ConnectionState.CONNECTED)
    await broker.stop()


async def test_orders_the_ati_cannot_take_are_refused_and_write_nothing(folders, data_dir):
    incoming, _ = folders
    broker = make_broker(folders, data_dir, Bus(), order_type="limit")
    with pytest.raises(BrokerError, match="whole numbers"):
        await broker.submit(order(1, qty=D("0.5"), price_hint=D(5000)))
    with pytest.raises(BrokerError, match="no price"):
        await broker.submit(order(2))
    await broker.submit(order(3, price_hint=D("5000.25")))  # a limit destination prices at the alert's price
    assert oif_files(incoming) == ["oif1.txt"]
    assert (incoming / "oif1.txt").read_text().split(";")[5:7] == ["LIMIT", "5000.25"]


def test_build_checks_the_destination_and_defaults_to_ninjatraders_own_folders(data_dir, folders, tmp_path,
                                                                               monkeypatch):
    with pytest.raises(ValueError, match="lacks account"):
        build(DestinationConfig("x", "ninjatrader-ati", {"incoming": "/tmp"}), BrokerContext(Bus(), data_dir))
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(tmp_path / "Docs"))  # the user's Documents (platformdirs)
    broker = build(DestinationConfig("x", "ninjatrader-ati", {"account": "Sim101"}), BrokerContext(Bus(), data_dir))
    assert broker.incoming == tmp_path / "Docs" / "NinjaTrader 8" / "incoming"
    assert broker.outgoing == tmp_path / "Docs" / "NinjaTrader 8" / "outgoing"
    with pytest.raises(ValueError, match="not a NinjaTrader"):
        build(DestinationConfig("x", "paper", {}), BrokerContext(Bus(), data_dir))


async def test_a_working_order_is_changed_in_place_with_a_change_file(folders, data_dir):
    incoming, outgoing = folders
    nt = FakeNinjaTrader(incoming, outgoing)
    await nt.start()
    bus = Bus()
    seen = Recorder(bus)
    broker = make_broker(folders, data_dir, bus)
    assert broker.capabilities.native_replace
    await broker.start()
    request = order(1, qty=D(2), order_type=OrderType.LIMIT, limit_price=D(4900))
    await broker.submit(request)
    await seen.until(lambda: any(r.status is OrderStatus.WORKING for r in seen.of(OrderReported)))
    changed = dataclasses.replace(request, qty=D(3), limit_price=D("4950.25"))
    await broker.replace(changed)
    await seen.until(lambda: nt.changes)
    assert nt.processed[1] == ("oif2.txt", ["CHANGE;;;;3;;4950.25;0;;;a1-MomentumStrategy-nt-sim;;"])
    assert nt.changes == [("a1-MomentumStrategy-nt-sim", 3, D("4950.25"), D(0))]
    nt.fill("a1-MomentumStrategy-nt-sim", 3, D("4950.25"))
    await seen.until(lambda: seen.of(FillReported))
    assert seen.of(FillReported)[0].fill.qty == 3  # the whole changed quantity, one fill
    with pytest.raises(BrokerError, match="has not placed"):
        await broker.replace(order(9, order_type=OrderType.LIMIT, limit_price=D(1)))
    await broker.stop()
    await nt.stop()


async def test_reports_since_give_orders_fills_and_positions_also_after_a_restart(folders, data_dir):
    incoming, outgoing = folders
    nt = FakeNinjaTrader(incoming, outgoing)
    await nt.start()
    bus = Bus()
    seen = Recorder(bus)
    broker = make_broker(folders, data_dir, bus)
    await broker.start()
    before = utc_now() - timedelta(seconds=1)
    await broker.submit(order(1, qty=D(3), order_type=OrderType.LIMIT, limit_price=D(5000)))
    await seen.until(lambda: any(r.status is OrderStatus.WORKING for r in seen.of(OrderReported)))
    nt.fill("a1-MomentumStrategy-nt-sim", 1, D(5000))
    await seen.until(lambda: len(seen.of(FillReported)) == 1)
    nt.fill("a1-MomentumStrategy-nt-sim", 2, D(4999))
    await seen.until(lambda: len(seen.of(FillReported)) == 2 and seen.of(PositionReported)[-1].qty == 3)
    live = [e.fill for e in seen.of(FillReported)]
    await broker.stop()

    restarted = make_broker(folders, data_dir, Bus())  # a new process: what it reports comes from its files
    await restarted.start()
    await until(lambda: restarted.state is ConnectionState.CONNECTED)
    reports = await restarted.reports(before)
    assert [(f.fill_id, f.qty, f.price, f.client_order_id, f.ticker) for f in reports.fills] == [
        (f.fill_id, f.qty, f.price, f.client_order_id, f.ticker) for f in live]
    assert [(o.client_order_id, o.status, o.broker_order_id) for o in reports.orders] == [
        ("a1-MomentumStrategy-nt-sim", OrderStatus.FILLED, "oif1.txt")]
    assert [(p.ticker, p.qty, p.avg_price) for p in reports.positions] == [("MES", D(3), D("4999.333333333333333333333333"))]
    assert (await restarted.reports(utc_now())).fills == ()  # nothing since now
    await restarted.stop()
    await nt.stop()


async def test_an_exit_of_the_whole_position_is_closeposition_filled_when_flat_at_the_price_station_has(
        folders, data_dir):
    incoming, outgoing = folders
    nt = FakeNinjaTrader(incoming, outgoing, fill_price=D("5000.5"))
    await nt.start()
    bus = Bus()
    seen = Recorder(bus)
    incoming_, outgoing_ = folders
    prices = {"MES": None}
    broker = build(DestinationConfig("nt-sim", "ninjatrader-ati", {"account": "Sim101", "incoming": str(incoming_),
                                                                   "outgoing": str(outgoing_)}),
                   BrokerContext(bus, data_dir, last_price=lambda ticker: prices.get(ticker)))
    broker.poll_s = 0.01
    await broker.start()
    await broker.submit(order(1, qty=D(2)))
    await broker.submit(order(2, order_type=OrderType.LIMIT, limit_price=D(4800)))  # a resting order there too
    await seen.until(lambda: seen.of(PositionReported) and seen.of(PositionReported)[-1].qty == 2)

    prices["MES"] = D("5003.25")  # the feed's last price when the close happens
    close = model_request(client_order_id="m7-MomentumStrategy-nt-sim-MES", destination="nt-sim", ticker="MES",
                         side=Side.SELL, qty=D(2), strategy="MomentumStrategy", instrument="MES 12-26", role="exit",
                         price_hint=D(5002))
    await broker.submit(close)
    await seen.until(lambda: any(f.fill.client_order_id == close.client_order_id for f in seen.of(FillReported)))
    assert nt.processed[2] == ("oif3.txt", ["CLOSEPOSITION;Sim101;MES 12-26;;;;;;;;;;"])
    fill = seen.of(FillReported)[-1].fill
    assert (fill.fill_id, fill.side, fill.qty, fill.price, fill.strategy) == (
        "nt-sim:m7-MomentumStrategy-nt-sim-MES:2", Side.SELL, D(2), D("5003.25"), "MomentumStrategy")
    assert seen.of(PositionReported)[-1].qty == 0
    assert seen.events.index(seen.of(FillReported)[-1]) < seen.events.index(seen.of(PositionReported)[-1]), \
        "the close's fill comes before the flat position, so the book never sees a difference"
    await seen.until(lambda: any(r.client_order_id == order(2).client_order_id and r.status is OrderStatus.CANCELLED
                                 for r in seen.of(OrderReported)))  # NinjaTrader cancelled what worked there
    reports = await broker.reports(utc_now() - timedelta(minutes=1))
    assert (close.client_order_id, OrderStatus.FILLED) in [(o.client_order_id, o.status) for o in reports.orders]

    # an exit of part of the position (another strategy holds the rest) is a plain PLACE
    await broker.submit(order(3, qty=D(3)))
    await seen.until(lambda: seen.of(PositionReported)[-1].qty == 3)
    await broker.submit(dataclasses.replace(close, client_order_id="m8-MomentumStrategy-nt-sim-MES", qty=D(1)))
    await seen.until(lambda: seen.of(PositionReported)[-1].qty == 2)
    assert nt.processed[-1][1][0].startswith("PLACE;Sim101;MES 12-26;SELL;1;MARKET;")
    await broker.stop()
    await nt.stop()


async def test_a_close_without_any_feed_price_is_booked_at_the_positions_own_average(folders, data_dir):
    incoming, outgoing = folders
    nt = FakeNinjaTrader(incoming, outgoing, fill_price=D("5000.5"))
    await nt.start()
    bus = Bus()
    seen = Recorder(bus)
    broker = make_broker(folders, data_dir, bus)
    await broker.start()
    await broker.submit(order(1, qty=D(2)))
    await seen.until(lambda: seen.of(PositionReported) and seen.of(PositionReported)[-1].qty == 2)
    await broker.submit(model_request(client_order_id="x1", destination="nt-sim", ticker="MES", side=Side.SELL,
                                     qty=D(2), strategy="MomentumStrategy", instrument="MES 12-26", role="exit"))
    await seen.until(lambda: any(f.fill.client_order_id == "x1" for f in seen.of(FillReported)))
    assert seen.of(FillReported)[-1].fill.price == D("5000.5")  # no profit or loss made up
    await broker.stop()
    await nt.stop()


async def test_a_brackets_exits_share_one_oco_id_and_one_filling_cancels_the_other(folders, data_dir):
    incoming, outgoing = folders
    nt = FakeNinjaTrader(incoming, outgoing)
    await nt.start()
    bus = Bus()
    seen = Recorder(bus)
    broker = make_broker(folders, data_dir, bus)
    await broker.start()
    exits = [model_request(client_order_id=f"a1-S-nt-sim-{role}", destination="nt-sim", ticker="MES", side=Side.SELL,
                          qty=D(1), instrument="MES 12-26", role=role, parent_id="a1-S-nt-sim",
                          oco_group="a1-S-nt-sim", **prices)
             for role, prices in (("take_profit", {"order_type": OrderType.LIMIT, "limit_price": D(5010)}),
                                  ("stop_loss", {"order_type": OrderType.STOP, "stop_price": D(4990)}))]
    for request in exits:
        await broker.submit(request)
    await seen.until(lambda: len([r for r in seen.of(OrderReported) if r.status is OrderStatus.WORKING]) == 2)
    assert [lines[0] for _, lines in nt.processed] == [
        "PLACE;Sim101;MES 12-26;SELL;1;LIMIT;5010;0;DAY;a1-S-nt-sim;a1-S-nt-sim-take_profit;;",
        "PLACE;Sim101;MES 12-26;SELL;1;STOPMARKET;0;4990;DAY;a1-S-nt-sim;a1-S-nt-sim-stop_loss;;"]
    nt.fill("a1-S-nt-sim-take_profit", 1, D(5010))
    await seen.until(lambda: any(r.client_order_id == "a1-S-nt-sim-stop_loss" and r.status is OrderStatus.CANCELLED
                                 for r in seen.of(OrderReported)))
    await broker.stop()
    await nt.stop()
