"""Building a broker from a destination: one factory per destination type, one signature for all.

    build(destination: DestinationConfig, context: BrokerContext) -> Broker

Each broker package has that `build`; it is imported only when a destination of its type
is configured, so start-up does not pay for brokers nobody uses. NinjaTrader TCP ports are
destinations of type `ninjatrader-port` named `port:<PORT>` (`port_destination(5001)`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Mapping

from station.brokers.protocol import Broker
from station.bus import Bus
from station.domain.config import DestinationConfig
from station.domain.destinations import port_destination_name
from station.queries_brokers import ContractTable, NoOrders, OrderBook
from station.secrets import SecretStore

PORT_TYPE = "ninjatrader-port"
ATI_TYPE = "ninjatrader-ati"


def _no_price(symbol: str) -> Decimal | None:
    return None


def _no_settings(section: str) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True)
class BrokerContext:
    """What building a broker may use; `station/app.py` fills it in."""

    bus: Bus  # to report on
    data_dir: Path  # the few files a broker keeps (port outboxes, ATI order memory)
    secrets: SecretStore | None = None  # credentials (keyring)
    last_price: Callable[[str], Decimal | None] = _no_price  # the feed's last price (paper fills at it)
    orders: OrderBook = field(default_factory=NoOrders)  # the oms's book, read-only (orders sent before a restart)
    contracts: ContractTable | None = None  # the IB contract table
    settings: Callable[[str], Mapping[str, Any]] = _no_settings  # a settings section, read when needed


BrokerFactory = Callable[[DestinationConfig, BrokerContext], Broker]


def _package(name: str) -> BrokerFactory:
    def factory(destination: DestinationConfig, context: BrokerContext) -> Broker:
        return importlib.import_module(f"station.brokers.{name}").build(destination, context)

    factory.__qualname__ = f"{name}.build"
    return factory


# destination type -> factory (tests may put a double in for a type)
BROKER_FACTORIES: dict[str, BrokerFactory] = {
    "paper": _package("paper"),
    PORT_TYPE: _package("ninjatrader"),
    ATI_TYPE: _package("ninjatrader"),
    "schwab": _package("schwab"),
    "tastytrade": _package("tastytrade"),
    "ib": _package("ib"),
}


class UnknownDestinationType(LookupError):
    """No factory is registered for a destination's type in this build."""


def build(destination: DestinationConfig, context: BrokerContext) -> Broker:
    """The broker for one destination, or UnknownDestinationType saying which type is missing."""
    factory = BROKER_FACTORIES.get(destination.type)
    if factory is None:
        raise UnknownDestinationType(
            f"destination {destination.name}: type {destination.type!r} is not available in this build")
    return factory(destination, context)


def port_destination(port: int) -> DestinationConfig:
    """The destination of one NinjaTrader TCP port."""
    return DestinationConfig(name=port_destination_name(port), type=PORT_TYPE, params={"port": int(port)})
