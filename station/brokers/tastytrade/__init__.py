"""Tastytrade (Open API): equities, SPX/SPXW and equity options, futures, polled over REST.

`build(destination, bus, secrets)` makes the `Broker` for a configured `tastytrade` destination.
Credentials (keyring): `tastytrade-client-secret` + `tastytrade-refresh-token` (OAuth), or
`tastytrade-username` + `tastytrade-password`. `sandbox: true` uses Tastytrade's certification
environment; `base_url` overrides both.
"""

from __future__ import annotations

from station.brokers.protocol import BrokerCapabilities
from station.brokers.rest.broker import RestBroker
from station.bus import Bus
from station.domain.config import DestinationConfig
from station.secrets import SecretStore

CAPABILITIES = BrokerCapabilities(notes=("equities, equity/index options (OCC symbols such as SPXW  240104C04700000) "
                                         "and futures (/ESZ5)",))


def build(destination: DestinationConfig, bus: Bus, secrets: SecretStore, **tuning) -> RestBroker:
    """The broker for one `tastytrade` destination (`tuning`: poll and reconnect intervals, for tests)."""
    from station.brokers.tastytrade import parsing
    from station.brokers.tastytrade.api import TastytradeApi

    params = destination.params
    base_url = params.get("base_url") or (parsing.SANDBOX_URL if params.get("sandbox") else parsing.PRODUCTION_URL)
    api = TastytradeApi(secrets, base_url=base_url, account=params.get("account"))
    if params.get("poll_s") is not None:
        tuning.setdefault("poll_s", float(params["poll_s"]))
    return RestBroker(destination.name, bus, api, capabilities=CAPABILITIES, **tuning)
