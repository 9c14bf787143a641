"""Routing end to end in one process: journaled alert → orders → paper fills → book and tables."""

from decimal import Decimal

import pytest

from support.oms import FakeDestination, journal, make_alert
from support.wait import until
from station.app import Options, Station
from station.brokers import registry
from station.domain.events import (
    AlertRejected,
    AlertRouted,
    AlertUnrouted,
    Notified,
    OrderUpdated,
    TickReceived,
)
from station.domain.marketdata import Tick
from station.domain.timeutil import utc_now

CONFIG = {
    "destinations": {"paper": {"type": "paper"}, "broker": {"type": "ib", "port": 7497}},
    "strategies": {
        "Momentum": {"tickers": {
            "ES": {"point_value": 50, "destinations": {"paper": {"qty": 2}}},
            "NQ": {"destinations": {"paper": {"multiplier": 3}, "broker": {"instrument": "NQ 12-26"}}},
        }},
        "Other": {"tickers": {"ES": {"destinations": {"paper": {}}}}},
    },
}


@pytest.fixture
def fakes(monkeypatch):
    made: dict[str, FakeDestination] = {}

    def factory(destination, context):
        made[destination.name] = FakeDestination(destination.name, context.bus, up=destination.params.get("port") != 1)
        return made[destination.name]

    monkeypatch.setitem(registry.BROKER_FACTORIES, "ib", factory)
    return made


@pytest.fixture
def make_station(data_dir, secrets):
    started = []

    async def start(config=CONFIG):
        station = Station(Options(data_dir=data_dir, port=0), secrets)
        if config is not None:
            station.config.import_document(config)
        await station.start()
        started.append(station)
        return station

    yield start


def orders(station, **where):
    rows = station.store.query("SELECT * FROM orders ORDER BY seq")
    return [dict(r) for r in rows if all(r[k] == v for k, v in where.items())]


def alert_row(station, alert_id):
    return dict(station.store.query("SELECT * FROM alerts WHERE alert_id = ?", (alert_id,))[0])


async def test_alert_routes_to_every_strategy_listing_it_and_paper_fills_at_the_alert_price(make_station, fakes):
    station = await make_station()
    routed = []
    station.bus.subscribe(AlertRouted, routed.append)
    alert = await journal(station, make_alert("ES", "buy", qty="1", price="5000.25"))
    await until(lambda: len(orders(station, status="filled")) == 2)
    momentum, other = orders(station)
    assert (momentum["client_order_id"], momentum["qty"], momentum["avg_price"]) == (f"a{alert.alert_id}-Momentum-paper", "2", "5000.25")
    assert (other["strategy"], other["qty"], other["filled_qty"]) == ("Other", "1", "1")
    row = alert_row(station, alert.alert_id)
    assert row["status"] == "routed" and row["routed_at"] and row["filled_at"]
    assert routed[0].client_order_ids == (f"a{alert.alert_id}-Momentum-paper", f"a{alert.alert_id}-Other-paper")
    assert station.oms.book.position("paper", "ES", "Momentum") == 2
    await station.stop()


async def test_paper_fills_at_the_feed_price_when_there_is_one_and_rejects_without_any_price(make_station, fakes):
    station = await make_station()
    station.bus.publish(TickReceived(Tick("ES", utc_now(), 5001.5, 1)))
    await journal(station, make_alert("ES", "sell", qty="1", price="4990", strategy="Other"))
    await until(lambda: orders(station, status="filled"))
    assert orders(station)[0]["avg_price"] == "5001.5"
    rejected = []
    station.bus.subscribe(Notified, rejected.append)
    await journal(station, make_alert("NQ", "buy", qty="1", price=None, strategy="Momentum"))
    await until(lambda: orders(station, ticker="NQ", destination="paper", status="rejected"))
    order = orders(station, ticker="NQ", destination="paper")[0]
    assert order["reason"] == "no price for NQ: no market data and the order carries none"
    assert order["qty"] == "3"  # multiplier 3 x alert qty 1
    broker = orders(station, ticker="NQ", destination="broker")[0]
    assert broker["instrument"] == "NQ 12-26" and broker["qty"] == "1"
    assert fakes["broker"].sent[0].symbol == "NQ 12-26"
    await until(lambda: any(n.title == "Order rejected" for n in rejected))
    await station.stop()


async def test_unlisted_ticker_is_unrouted_with_reason_and_notification(make_station, fakes):
    station = await make_station()
    events, notes = [], []
    station.bus.subscribe(AlertUnrouted, events.append)
    station.bus.subscribe(Notified, notes.append)
    alert = await journal(station, make_alert("CL"))
    await until(lambda: events)
    row = alert_row(station, alert.alert_id)
    assert row["status"] == "unrouted" and row["status_reason"] == "no enabled strategy lists ticker CL"
    assert events[0].reason == row["status_reason"] and "CL" in notes[0].message
    named = await journal(station, make_alert("ES", strategy="Nope"))
    await until(lambda: alert_row(station, named.alert_id)["status"] == "unrouted")
    assert alert_row(station, named.alert_id)["status_reason"] == "no strategy named 'Nope'"
    assert orders(station) == []
    await station.stop()


async def test_the_same_alert_never_makes_a_second_order_also_across_restarts(make_station, fakes):
    station = await make_station()
    alert = await journal(station, make_alert("ES", strategy="Momentum"))
    from station.domain.events import AlertReceived

    station.bus.publish(AlertReceived(alert))
    await until(lambda: orders(station, status="filled"))
    await station.oms.recorder.flush()
    await station.stop()
    again = await make_station(config=None)
    again.bus.publish(AlertReceived(alert))  # a resend after a restart
    await again.oms.recorder.flush()
    assert len(orders(again)) == 1 and again.oms.book.position("paper", "ES", "Momentum") == 2
    await again.stop()


async def test_alerts_journaled_but_not_routed_before_a_crash_are_routed_at_start(make_station, fakes):
    station = await make_station()
    await station.stop()
    from station.store import Store

    store = Store(station.options.data_dir)
    from support.oms import journal_row

    ids = [store.writer.call(lambda conn, t=t: journal_row(conn, make_alert(t, strategy="Momentum"))) for t in ("ES", "NQ")]
    store.close()
    again = await make_station(config=None)
    await until(lambda: all(alert_row(again, i)["status"] == "routed" for i in ids))
    await until(lambda: orders(again, ticker="ES", status="filled"))
    assert [o["alert_id"] for o in orders(again)] == [ids[0], ids[1], ids[1]]
    await again.stop()


async def test_orders_wait_while_a_destination_is_down_and_are_sent_once_after_it_connects(make_station, fakes):
    config = {**CONFIG, "destinations": {**CONFIG["destinations"], "broker": {"type": "ib", "port": 1}}}
    station = await make_station(config)
    broker = fakes["broker"]
    first = await journal(station, make_alert("NQ", qty="1", strategy="Momentum"))
    second = await journal(station, make_alert("NQ", qty="2", strategy="Momentum"))
    await until(lambda: len(orders(station, destination="broker")) == 2)
    assert [o["status"] for o in orders(station, destination="broker")] == ["new", "new"]
    assert alert_row(station, first.alert_id)["status"] == "routed" and broker.sent == []
    broker.connect()
    broker.connect()  # a repeated CONNECTED never sends twice
    await until(lambda: len(broker.sent) == 2)
    await station.oms.recorder.flush()
    assert [r.qty for r in broker.sent] == [Decimal(1), Decimal(2)]
    assert [o["status"] for o in orders(station, destination="broker")] == ["submitted", "submitted"]
    assert [o["broker_order_id"] for o in orders(station, destination="broker")] == ["B1", "B2"]
    assert second.alert_id > first.alert_id
    await station.stop()


async def test_waiting_orders_survive_a_restart_and_are_sent_once(make_station, fakes):
    config = {**CONFIG, "destinations": {**CONFIG["destinations"], "broker": {"type": "ib", "port": 1}}}
    station = await make_station(config)
    await journal(station, make_alert("NQ", qty="1", strategy="Momentum"))
    await until(lambda: orders(station, destination="broker"))
    await station.oms.recorder.flush()
    await station.stop()
    again = await make_station(config=None)
    broker = fakes["broker"]
    assert broker.sent == []
    broker.connect()
    await until(lambda: broker.sent)
    await again.oms.recorder.flush()
    assert len(broker.sent) == 1 and orders(again, destination="broker")[0]["status"] == "submitted"
    await again.stop()


async def test_orders_waiting_past_the_limit_are_rejected_visibly(make_station, fakes):
    config = {**CONFIG, "settings": {"oms": {"pending_limit_s": 1}},
              "destinations": {**CONFIG["destinations"], "broker": {"type": "ib", "port": 1}}}
    station = await make_station(config)
    updates = []
    station.bus.subscribe(OrderUpdated, updates.append)
    await journal(station, make_alert("NQ", qty="1", strategy="Momentum"))
    await until(lambda: orders(station, destination="broker", status="rejected"), timeout=5)
    assert "broker was not available for 1 s" in orders(station, destination="broker")[0]["reason"]
    fakes["broker"].connect()
    await station.oms.recorder.flush()
    assert fakes["broker"].sent == []
    await station.stop()


async def test_kill_switch_rejects_alerts_and_flattens(make_station, fakes):
    from station.domain.commands import SetKillSwitch

    station = await make_station()
    await journal(station, make_alert("ES", qty="1", price="5000", strategy="Momentum"))
    await until(lambda: station.oms.book.position("paper", "ES", "Momentum") == 2)
    rejected = []
    station.bus.subscribe(AlertRejected, rejected.append)
    station.bus.publish(SetKillSwitch(True, "test"))
    await until(lambda: station.oms.book.position("paper", "ES", "Momentum") == 0)
    alert = await journal(station, make_alert("ES", strategy="Momentum"))
    await until(lambda: rejected)
    assert alert_row(station, alert.alert_id)["status"] == "rejected"
    assert "kill switch" in alert_row(station, alert.alert_id)["status_reason"]
    await station.stop()
    again = await make_station(config=None)  # stays engaged across a restart until re-armed
    assert again.oms.book.kill_switch_engaged
    again.bus.publish(SetKillSwitch(False))
    await until(lambda: not again.oms.book.kill_switch_engaged)
    later = await journal(again, make_alert("ES", strategy="Momentum"))
    await until(lambda: alert_row(again, later.alert_id)["status"] == "routed")
    await again.stop()


async def test_processing_delay_of_the_strategy_holds_the_alert(make_station, fakes):
    config = {**CONFIG, "strategies": {"Slow": {"delay_s": 0.4, "tickers": {"ES": {"destinations": {"paper": {}}}}}}}
    station = await make_station(config)
    alert = await journal(station, make_alert("ES", strategy="Slow"))
    await station.oms.recorder.flush()
    assert alert_row(station, alert.alert_id)["status"] == "queued"
    await until(lambda: alert_row(station, alert.alert_id)["status"] == "routed", timeout=3)
    await station.stop()


async def test_demo_seeds_a_visible_strategy_routing_es_and_nq_to_paper(data_dir, secrets):
    station = Station(Options(data_dir=data_dir, port=0, demo=True), secrets)
    await station.start()
    demo = station.config.load().strategy("Demo")
    assert demo.enabled and [t.ticker for t in demo.tickers] == ["ES", "NQ"]
    assert all(t.destinations[0].destination == "paper" for t in demo.tickers)
    await journal(station, make_alert("ES", "buy", qty="1", price="5000"))
    await until(lambda: orders(station, status="filled"))
    await station.stop()
    again = Station(Options(data_dir=data_dir, port=0, demo=True), secrets)
    again.config.import_document({"strategies": {"Demo": {"enabled": False}}})
    await again.start()  # an existing (even stopped) strategy is never re-seeded
    assert not again.config.load().strategy("Demo").enabled
    await again.stop()


def test_headless_prints_the_api_token_once_and_it_opens_the_api(headless):
    import json
    import urllib.request

    station = headless()
    code, _ = station.stop()
    out = station.proc.stdout.read()
    token = next(line.split(": ")[-1] for line in out.splitlines() if "REST API token" in line)
    again = headless()
    request = urllib.request.Request(f"{again.url}/api/orders", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read()) == {"orders": []}
    again.stop()
    assert code == 0 and "REST API token" not in again.proc.stdout.read()


async def test_port_orders_carry_the_alert_and_are_sent_once_per_port(make_station, monkeypatch):
    made = {}

    def port_factory(destination, context):
        made[destination.name] = FakeDestination(destination.name, context.bus)
        return made[destination.name]

    monkeypatch.setitem(registry.BROKER_FACTORIES, registry.PORT_TYPE, port_factory)
    station = await make_station({"strategies": {"MomentumStrategy": {"accounts": {}, "tickers": {
        "AAPL": {"ports": [5000]}, "TSLA": {"ports": [5001, 5002]}}}}})
    alert = await journal(station, make_alert("TSLA", "buy", qty="10", price="150.25", position="short"))
    await until(lambda: made["port:5001"].sent and made["port:5002"].sent)
    await station.oms.recorder.flush()
    sent = made["port:5001"].sent[0]
    assert sent.client_order_id == f"a{alert.alert_id}-MomentumStrategy-port:5001"
    assert sent.alert.alert_id == alert.alert_id and sent.alert.position == "short" and sent.qty == 10
    assert made["port:5000"].sent == [] and len(made["port:5002"].sent) == 1
    assert [o["status"] for o in orders(station)] == ["submitted", "submitted"]
    assert alert_row(station, alert.alert_id)["status"] == "routed"
    await station.stop()
