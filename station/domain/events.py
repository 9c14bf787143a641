"""Events: facts that happened, named in the past tense, published on the bus."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from decimal import Decimal

from station.domain.alert import Alert
from station.domain.enums import ConnectionState, OrderStatus
from station.domain.fills import Fill
from station.domain.marketdata import Bar, Tick
from station.domain.orders import Order
from station.domain.positions import Position
from station.domain.timeutil import utc_now


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event."""


@dataclass(frozen=True, slots=True)
class ReceiverStarted(Event):
    """The HTTP receiver listens and /health answers."""

    host: str
    port: int


@dataclass(frozen=True, slots=True)
class AlertReceived(Event):
    """An alert was journaled (committed) and answered "Alert queued"."""

    alert: Alert


@dataclass(frozen=True, slots=True)
class AlertDuplicated(Event):
    """An alert equal to a recent one arrived and was skipped."""

    original_alert_id: int
    ticker: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class AlertRouted(Event):
    """An alert was turned into orders (`client_order_ids`)."""

    alert_id: int
    client_order_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlertUnrouted(Event):
    """An alert made no order, with the reason (no strategy lists its ticker, risk, …)."""

    alert_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class AlertRejected(Event):
    """An alert was refused by a risk rule or the kill switch (journaled, never traded)."""

    alert_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class OrderUpdated(Event):
    """An order was created or changed status (submitted, working, filled, rejected, …)."""

    order: Order


@dataclass(frozen=True, slots=True)
class OrderFilled(Event):
    """A (partial) fill arrived; `order` is the order after it."""

    order: Order
    fill: Fill


@dataclass(frozen=True, slots=True)
class OrderReported(Event):
    """A destination says what became of an order (the oms applies it to the book)."""

    destination: str
    client_order_id: str
    status: OrderStatus
    broker_order_id: str | None = None
    reason: str | None = None
    at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True, slots=True)
class FillReported(Event):
    """A destination reports an execution (the oms applies it once, by `fill.fill_id`)."""

    fill: Fill


@dataclass(frozen=True, slots=True)
class PositionReported(Event):
    """A destination's own view of a position (reconciliation; the oms compares and corrects)."""

    destination: str
    ticker: str
    qty: Decimal
    avg_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PortfolioReported(Event):
    """A broker account's own position and PnL for one contract (IB's portfolio updates)."""

    destination: str
    account: str
    ticker: str
    qty: Decimal
    avg_price: Decimal | None = None
    market_price: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    realized_pnl: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ContractResolved(Event):
    """A destination looked a symbol up (answer to `ResolveContract`): the contract in words, or why not."""

    destination: str
    symbol: str
    description: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class PositionChanged(Event):
    """A position changed after a fill or a reconciliation."""

    position: Position


@dataclass(frozen=True, slots=True)
class ConnectionChanged(Event):
    """A link changed state; `kind` groups lights (broker, feed, ninjatrader, receiver)."""

    name: str
    kind: str
    state: ConnectionState
    detail: str = ""


@dataclass(frozen=True, slots=True)
class TickReceived(Event):
    """A trade print from a feed."""

    tick: Tick


@dataclass(frozen=True, slots=True)
class BarUpdated(Event):
    """A bar in progress changed (`bar.closed` is False) or a bar closed (True)."""

    bar: Bar


@dataclass(frozen=True, slots=True)
class ConfigChanged(Event):
    """Strategies, destinations or settings changed (in this process or by `station config import`)."""

    revision: int


@dataclass(frozen=True, slots=True)
class ErrorRaised(Event):
    """Something failed that the trader should see (an uncaught exception, a lost peer)."""

    source: str
    message: str
    at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True, slots=True)
class Notified(Event):
    """A message for the trader's attention (tray notification, e-mail)."""

    title: str
    message: str
    level: str = "info"
