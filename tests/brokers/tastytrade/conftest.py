"""The Tastytrade tests' loopback double and a broker on it, started and driven as Station drives one."""

from __future__ import annotations

import pytest

from support.broker_harness import Brokers, Driven
from support.tastytrade_double import CLIENT_SECRET, TastytradeDouble
from station.brokers.tastytrade import build


@pytest.fixture
async def double():
    server = await TastytradeDouble().start()
    yield server
    await server.stop()


@pytest.fixture
def oauth(secrets, double):
    secrets.set("tastytrade-client-secret", CLIENT_SECRET)
    secrets.set("tastytrade-refresh-token", double.issue_refresh_token())
    return secrets


@pytest.fixture
async def make_broker(double, monkeypatch, data_dir):
    """`await make_broker(secrets)` -> (broker, recorder): started and driven by the real dispatcher."""
    brokers = Brokers(build, "tasty", "tastytrade", {"base_url": double.url}, Driven(monkeypatch, data_dir))
    yield brokers
    await brokers.stop_all()
