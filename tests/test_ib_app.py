"""An IB destination inside a running Station: /health answers before TWS does, and shows the link."""

from __future__ import annotations

import time

import aiohttp

from fake_tws import FakeTWS
from ib_support import TODAY, wait_until
from station.app import Options, Station
from station.brokers.ib import build
from station.domain.config import DestinationConfig


async def test_health_answers_while_tws_hangs_and_then_shows_the_ib_link(data_dir, secrets):
    fake = FakeTWS(today=TODAY)
    await fake.start()
    fake.frozen = True  # TWS accepts the socket and never answers: the worst case for start-up
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    broker = build(DestinationConfig("ib", "ib", {"port": fake.port, "client_id": 5}), station.bus, station.store)
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
