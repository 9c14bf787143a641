"""The Schwab tests' loopback double and a broker on it, started and driven as Station drives one."""

from __future__ import annotations

import pytest

from support.broker_harness import Brokers, Driven
from support.schwab_double import ACCOUNT, APP_KEY, APP_SECRET, SchwabDouble
from station.brokers.schwab import build


@pytest.fixture
async def double():
    server = await SchwabDouble().start()
    yield server
    await server.stop()


@pytest.fixture
def authorised(secrets, double):
    """Keyring holding the app key/secret and a refresh token the double knows."""
    secrets.set("schwab-app-key", APP_KEY)
    secrets.set("schwab-app-secret", APP_SECRET)
    secrets.set("schwab-refresh-token", double.issue_refresh_token())
    return secrets


@pytest.fixture
async def make_broker(double, monkeypatch, data_dir):
    """`await make_broker(secrets)` -> (broker, recorder): started and driven by the real dispatcher."""
    brokers = Brokers(build, "schwab", "schwab", {"base_url": double.url, "account": ACCOUNT},
                      Driven(monkeypatch, data_dir))
    yield brokers
    await brokers.stop_all()
