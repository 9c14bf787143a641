"""An IB destination inside a running Station: /health answers before TWS does, and shows the link."""

from __future__ import annotations

import time
from decimal import Decimal

import aiohttp

from support.fake_tws import FakeTWS
from support.ib import TODAY, wait_until
from support.wait import until
from station.app import Options, Station
from station.brokers.ib import build
from station.brokers.registry import BrokerContext
from station.domain.config import DestinationConfig


async def test_health_answers_while_tws_hangs_and_then_shows_the_ib_link(data_dir, secrets):
    fake = FakeTWS(today=TODAY)
    await fake.start()
    fake.frozen = True  # TWS accepts the socket and never answers: the worst case for start-up
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    broker = build(DestinationConfig("ib", "ib", {"port": fake.port, "client_id": 5}), BrokerContext(station.bus, data_dir))
    station.components.append(broker)
    started = time.perf_counter()
    await station.start()
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{station.receiver.url}/health") as response:
            body = await response.json()
        answered = time.perf_counter() - started
        assert response.status == 200 and body["status"] == "ok"
        assert answered < 1.0, answered  # not held up by the broker (its connect timeout is seconds)
        assert body["connections"]["ib"] == "connecting"
        fake.frozen = False
        fake.drop_clients()
        await wait_until(lambda: station.connections["ib"].state.value == "connected", timeout=15, what="connected")
        async with session.get(f"{station.receiver.url}/health") as response:
            assert (await response.json())["connections"]["ib"] == "connected"
    await station.stop()
    assert station.connections["ib"].state.value == "disconnected"
    await fake.stop()


async def test_alert_routed_through_the_oms_to_ib_fills_and_shows_in_the_book(data_dir, secrets):
    """The configured destination {"type": "ib"} built by the oms, an alert, IB's fill, the book."""
    from support.oms import journal, make_alert

    fake = FakeTWS(today=TODAY)
    await fake.start()
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document({
        "destinations": {"ib": {"type": "ib", "host": "127.0.0.1", "port": fake.port, "client_id": 7,
                                "account": "DU123456"}},
        "strategies": {"Momentum": {"tickers": {"AAPL": {"destinations": {"ib": {"multiplier": 1}}}}}},
    })
    await station.start()
    try:
        await wait_until(lambda: "ib" in station.connections and station.connections["ib"].state.value == "connected",
                         timeout=15, what="connected")
        alert = await journal(station, make_alert("AAPL", "buy", qty="5", price="190", strategy="Momentum"))
        coid = f"a{alert.alert_id}-Momentum-ib"
        await until(lambda: station.oms.book.position("ib", "AAPL", "Momentum") == 5, timeout=10)
        row = lambda: station.store.query("SELECT status, filled_qty FROM orders WHERE client_order_id = ?", (coid,))[0]  # noqa: E731
        await until(lambda: row()["status"] == "filled", timeout=5)
        assert Decimal(row()["filled_qty"]) == 5
        assert [o.order_ref for o in fake.orders.values()] == [coid]
    finally:
        await station.stop()
        await fake.stop()
