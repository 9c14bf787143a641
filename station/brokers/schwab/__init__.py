"""Charles Schwab (Trader API): equities and SPX/SPXW and equity options, polled over REST.

`build(destination, context)` makes the `Broker` for a configured `schwab` destination.
Credentials: `schwab-app-key`, `schwab-app-secret` (`station secret set …`) and the refresh
token that `station broker authorize schwab` stores after the browser login.
"""

from __future__ import annotations

from station.brokers.protocol import BrokerCapabilities
from station.brokers.registry import BrokerContext
from station.brokers.rest.broker import RestBroker
from station.domain.config import DestinationConfig

DEFAULT_BASE_URL = "https://api.schwabapi.com"
CAPABILITIES = BrokerCapabilities(
    native_brackets=True, order_types=("market", "limit", "stop", "stop_limit", "trailing_stop"),
    notes=("equities and equity/index options (OCC symbols such as SPXW  240104C04700000)",
           "no futures: Schwab's Trader API does not take them",
           "brackets: a TRIGGER order whose exits form one OCO; trailing stops: Schwab's TRAILING_STOP"))


def build(destination: DestinationConfig, context: BrokerContext, **tuning) -> RestBroker:
    """The broker for one `schwab` destination (`tuning`: poll and reconnect intervals, for tests)."""
    from station.brokers.schwab.api import SchwabApi

    params = destination.params
    api = SchwabApi(context.secrets, base_url=params.get("base_url") or DEFAULT_BASE_URL, account=params.get("account"))
    if params.get("poll_s") is not None:
        tuning.setdefault("poll_s", float(params["poll_s"]))
    broker = RestBroker(destination.name, context.bus, api, capabilities=CAPABILITIES, **tuning)
    # the orders sent there before a restart, so the broker's reports find their client order ids again
    broker.resume(context.orders.open_orders(destination.name), getattr(context.orders, "worked_by_station", None))
    return broker
