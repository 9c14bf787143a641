"""Commands: requests to act, named in the imperative, published on the bus."""

from __future__ import annotations

from dataclasses import dataclass

from station.domain.orders import OrderRequest


@dataclass(frozen=True, slots=True)
class Command:
    """Base of every command."""


@dataclass(frozen=True, slots=True)
class SubmitOrder(Command):
    """Send an order to its destination (after the risk check)."""

    request: OrderRequest


@dataclass(frozen=True, slots=True)
class CancelOrder(Command):
    """Cancel a working order by its client order id."""

    client_order_id: str


@dataclass(frozen=True, slots=True)
class FlattenAll(Command):
    """Close every open position at every destination."""

    reason: str = "manual"


@dataclass(frozen=True, slots=True)
class SetKillSwitch(Command):
    """Engage (flatten everything, halt every strategy) or re-arm the kill switch."""

    engaged: bool
    reason: str = "manual"


@dataclass(frozen=True, slots=True)
class StartStrategy(Command):
    """Start trading a strategy."""

    name: str


@dataclass(frozen=True, slots=True)
class StopStrategy(Command):
    """Stop trading a strategy."""

    name: str
