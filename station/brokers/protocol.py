"""The small protocol every destination implements, and what it reports back.

The oms owns the book. A broker only: keeps its link up (reconnecting by itself
with backoff), sends what it is given, and reports what the destination says,
as bus events: `ConnectionChanged` (kind "broker"), `OrderReported`,
`FillReported`, `PositionReported`. It announces CONNECTED only after it has
reconciled (reported open orders, fills and positions), so the oms sends the
orders that waited while it was down only then, exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from station.domain.enums import ConnectionState
from station.domain.orders import OrderRequest


class BrokerError(RuntimeError):
    """An order could not be handed to the destination (the oms rejects it with this reason)."""


@runtime_checkable
class Broker(Protocol):
    """One destination (a named entry of the config's `destinations`, or a NinjaTrader port)."""

    name: str
    state: ConnectionState

    async def start(self) -> None:
        """Begin connecting (in the background; never blocks start-up) and keep connected."""

    async def stop(self) -> None:
        """Disconnect and stop reconnecting."""

    async def submit(self, request: OrderRequest) -> None:
        """Hand one order over; raise BrokerError if it cannot be sent. Results arrive as reports."""

    async def cancel(self, client_order_id: str) -> None:
        """Ask to cancel a working order; the result arrives as an OrderReported."""


@dataclass(frozen=True)
class BrokerCapabilities:
    """What a destination can do, for the UI and the router (e.g. ports report no fills)."""

    reports_fills: bool = True
    order_types: tuple[str, ...] = ("market", "limit", "stop", "stop_limit")
    notes: tuple[str, ...] = field(default_factory=tuple)
