"""The paper broker: simulated fills at the feed's last price (the demo's default destination)."""

from __future__ import annotations

from station.brokers.paper.broker import PaperBroker
from station.brokers.registry import BrokerContext
from station.domain.config import DestinationConfig

__all__ = ["PaperBroker", "build"]


def build(destination: DestinationConfig, context: BrokerContext) -> PaperBroker:
    """The broker for a `paper` destination; its working limit and stop orders of a previous run keep working."""
    return PaperBroker(destination.name, context.bus, context.last_price, context.orders.open_orders(destination.name))
