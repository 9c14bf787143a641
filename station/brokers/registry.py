"""Building brokers from the config's destinations: one factory per destination type.

Each broker package registers itself with one line, e.g. in `station/app.py`:

    BROKER_FACTORIES["ib"] = ib_factory          # or register_broker("ib", ib_factory)

NinjaTrader TCP ports are the kind `port` (destinations named `port:<PORT>`,
`DestinationConfig(name="port:5001", type="port", params={"port": 5001})`).
A factory gets the destination and a `BrokerContext` and returns a `Broker`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from station.brokers.protocol import Broker
from station.bus import Bus
from station.domain.config import DestinationConfig
from station.domain.orders import Order

PORT_KIND = "port"


@dataclass
class BrokerContext:
    """What a factory may use: the bus to report on, the data folder, secrets, the feed's last prices, open orders."""

    bus: Bus
    data_dir: Path
    secrets: Any = None
    last_price: Callable[[str], Decimal | None] = lambda symbol: None
    open_orders: Callable[[str], list[Order]] = lambda destination: []
    extras: dict[str, Any] = field(default_factory=dict)


BrokerFactory = Callable[[DestinationConfig, BrokerContext], Broker]
BROKER_FACTORIES: dict[str, BrokerFactory] = {}


def register_broker(kind: str, factory: BrokerFactory) -> None:
    """Make destinations of type `kind` buildable (the last registration wins)."""
    BROKER_FACTORIES[kind] = factory


def destination_kind(destination: DestinationConfig) -> str:
    return destination.type


class UnknownDestinationType(LookupError):
    """No factory is registered for a destination's type in this build."""


def build_broker(destination: DestinationConfig, context: BrokerContext,
                 factories: dict[str, BrokerFactory] | None = None) -> Broker:
    """The broker for one destination, or UnknownDestinationType saying which type is missing."""
    table = BROKER_FACTORIES if factories is None else factories
    factory = table.get(destination.type)
    if factory is None:
        raise UnknownDestinationType(
            f"destination {destination.name}: type {destination.type!r} is not available in this build")
    return factory(destination, context)


def port_destination_config(port: int) -> DestinationConfig:
    """The destination of one NinjaTrader TCP port."""
    return DestinationConfig(name=f"port:{port}", type=PORT_KIND, params={"port": port})
