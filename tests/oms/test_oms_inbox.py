"""The inbox: signals and alerts journaled once, published only after their row is committed; clicks enter here too."""

from decimal import Decimal

from support.oms import make_alert
from support.wait import until
from support.webhook import running_station
from station.domain.alert import Alert
from station.domain.commands import ManualOrder, RecordSignal
from station.domain.enums import Side
from station.domain.events import AlertReceived, ManualActionCompleted
from station.domain.timeutil import utc_now

CONFIG = {"destinations": {"paper": {"type": "paper"}},
          "strategies": {"MomentumStrategy": {"tickers": {"ES": {"destinations": {"paper": {"qty": 1}}}}}}}


def journal(station) -> list[dict]:
    return [dict(r) for r in station.store.query("SELECT * FROM alerts ORDER BY alert_id")]


async def test_a_strategy_signal_is_journaled_once_and_published_once(data_dir, secrets):
    async with running_station(data_dir, secrets, config=CONFIG) as station:
        station.oms.router.on_alert = lambda alert: None  # the journal alone
        received = []
        station.bus.subscribe(AlertReceived, received.append)
        signal = Alert(ticker="ES", action=Side.SELL, received_at=utc_now(), qty=Decimal(2),
                       strategy="MomentumStrategy", trade_id="sig-42", source="engine")
        station.bus.publish(RecordSignal(signal))
        station.bus.publish(RecordSignal(signal))
        await station.bus.drain()
        station.bus.publish(RecordSignal(signal))  # again later (a restart replaying its signals)
        await station.bus.drain()
        [row] = journal(station)
        assert (row["source"], row["trade_id"], row["ticker"], row["action"], row["qty"]) == (
            "strategy", "sig-42", "ES", "sell", "2")
        await until(lambda: received, what="AlertReceived")
        await station.store.writer.run(lambda conn: None)  # anything still to come would be published by now
        assert [e.alert.alert_id for e in received] == [row["alert_id"]] and received[0].alert.source == "strategy"


async def test_an_alert_is_published_only_once_its_row_is_committed(data_dir, secrets):
    async with running_station(data_dir, secrets, config=CONFIG) as station:
        station.oms.router.on_alert = lambda alert: None
        seen = []
        station.bus.subscribe(AlertReceived, lambda e: seen.append((e.alert.alert_id, journal(station))))
        appended = await station.oms.inbox.append(make_alert("ES"), raw="{}", fingerprint="fp-1")
        await until(lambda: seen, what="AlertReceived")
        alert_id, rows_then = seen[0]
        assert alert_id == appended.alert_id and appended.new
        assert [r["alert_id"] for r in rows_then] == [alert_id] and rows_then[0]["status"] == "queued"


async def test_a_click_enters_through_the_inbox_and_is_answered_after_its_orders_are_written(data_dir, secrets):
    async with running_station(data_dir, secrets, config=CONFIG) as station:
        station.oms.marks.seen("ES", Decimal(5000))
        answers = []
        station.bus.subscribe(ManualActionCompleted, answers.append)
        station.bus.publish(ManualOrder("c-1", "MomentumStrategy", "ES", Side.BUY, Decimal(1)))
        await until(lambda: answers, what="the click's answer")
        assert answers[0].client_order_ids == ("mc-1-MomentumStrategy-paper",) and answers[0].error is None
        rows = station.store.query("SELECT cause, status FROM orders")
        assert [tuple(r) for r in rows][0][0] == "mc-1"  # committed before the answer
        assert journal(station) == []  # a click is not an alert row: its orders are its record
        station.oms.inbox.stop()
        station.bus.publish(ManualOrder("c-2", "MomentumStrategy", "ES", Side.BUY, Decimal(1)))
        await station.store.writer.run(lambda conn: None)
        assert len(answers) == 1  # the inbox is the only door
        station.oms.inbox.start()
