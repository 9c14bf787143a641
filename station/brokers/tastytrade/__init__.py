"""Tastytrade (Open API): equities, SPX/SPXW and equity options, futures, polled over REST.

`build(destination, context)` makes the `Broker` for a configured `tastytrade` destination.
Credentials (keyring): `tastytrade-client-secret` + `tastytrade-refresh-token` (OAuth), or
`tastytrade-username` + `tastytrade-password`. `sandbox: true` uses Tastytrade's certification
environment; `base_url` overrides both.
"""

from __future__ import annotations

from station.brokers.protocol import BrokerCapabilities
from station.brokers.registry import BrokerContext
from station.brokers.rest.broker import RestBroker
from station.domain.config import DestinationConfig

CAPABILITIES = BrokerCapabilities(
    native_brackets=True, order_types=("market", "limit", "stop", "stop_limit"),
    notes=("equities, equity/index options (OCC symbols such as SPXW  240104C04700000) and futures (/ESZ5)",
           "brackets: an OTOCO (the entry triggers its stop and target, one cancelling the other); a single exit "
           "or a trailing stop is worked by Station"))


def build(destination: DestinationConfig, context: BrokerContext, **tuning) -> RestBroker:
    """The broker for one `tastytrade` destination (`tuning`: poll and reconnect intervals, for tests)."""
    from station.brokers.tastytrade import parsing
    from station.brokers.tastytrade.api import TastytradeApi

    params = destination.params
    base_url = params.get("base_url") or (parsing.SANDBOX_URL if params.get("sandbox") else parsing.PRODUCTION_URL)
    api = TastytradeApi(context.secrets, base_url=base_url, account=params.get("account"))
    if params.get("poll_s") is not None:
        tuning.setdefault("poll_s", float(params["poll_s"]))
    broker = RestBroker(destination.name, context.bus, api, capabilities=CAPABILITIES, **tuning)
    # the orders sent there before a restart, so the broker's reports find their client order ids again
    broker.resume(context.orders.open_orders(destination.name), getattr(context.orders, "worked_by_station", None))
    return broker
