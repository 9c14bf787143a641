"""What each destination can do, as the dispatcher announced it (`DestinationBuilt`): the oms decides by
capabilities (does its receiver drop repeats? does it report fills?), never by a destination's name."""

from __future__ import annotations

from station.domain.destinations import BrokerCapabilities
from station.domain.events import DestinationBuilt

# a destination not announced (yet): what a plain broker can do, which asks for nothing unusual
PLAIN = BrokerCapabilities()


class DestinationCapabilities:
    """Capabilities by destination name, kept from `DestinationBuilt` events."""

    def __init__(self) -> None:
        self._known: dict[str, BrokerCapabilities] = {}

    def on_built(self, event: DestinationBuilt) -> None:
        self._known[event.name] = event.capabilities

    def of(self, destination: str) -> BrokerCapabilities:
        return self._known.get(destination, PLAIN)

    def drops_repeats(self, destination: str) -> bool:
        """Its receiver drops an order it has already seen: the order may go out before its row commits."""
        return self.of(destination).drops_repeats

    def reports_fills(self, destination: str) -> bool:
        return self.of(destination).reports_fills
