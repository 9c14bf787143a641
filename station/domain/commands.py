"""Commands: requests to act, named in the imperative, published on the bus."""

from __future__ import annotations

from dataclasses import dataclass

from decimal import Decimal

from station.domain.alert import Alert
from station.domain.enums import Side
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


@dataclass(frozen=True, slots=True)
class RecordSignal(Command):
    """Journal a strategy's signal like an alert (source "strategy"), then route it.

    `alert.trade_id` carries the signal id; recording the same signal id twice
    (e.g. after a restart) journals and routes it once.
    """

    alert: Alert


@dataclass(frozen=True, slots=True)
class ManualOrder(Command):
    """A Buy/Sell click: routed to the destinations of the strategy's ticker like an alert."""

    click_id: str
    strategy: str
    ticker: str
    side: Side
    qty: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ClosePosition(Command):
    """Close one strategy's position in one ticker at every destination."""

    click_id: str
    strategy: str
    ticker: str


@dataclass(frozen=True, slots=True)
class ReversePosition(Command):
    """Turn one strategy's position in one ticker into the same size the other way."""

    click_id: str
    strategy: str
    ticker: str


@dataclass(frozen=True, slots=True)
class ResolveContract(Command):
    """Ask a destination which contract a symbol means today (answered by `ContractResolved`)."""

    destination: str
    symbol: str
