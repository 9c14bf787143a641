"""What a broker's REST API says about an order or a position, in Station's terms.

Each broker's `parsing.py` turns its JSON into these; `RestBroker` compares them with
what it reported before and publishes only the changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from station.domain.enums import OrderStatus, OrderType, Side

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Execution:
    """One execution of an order; `fill_id` is the broker's, stable across polls and restarts."""

    fill_id: str
    qty: Decimal
    price: Decimal
    time: datetime


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """One order as the broker lists it now."""

    broker_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    status: OrderStatus
    filled_qty: Decimal = ZERO
    order_type: OrderType | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    entered_at: datetime | None = None
    client_order_id: str | None = None
    reason: str | None = None
    executions: tuple[Execution, ...] = ()

    @property
    def executed_qty(self) -> Decimal:
        return sum((e.qty for e in self.executions), ZERO)


@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    """A position the broker holds: signed quantity (long > 0) and average price."""

    symbol: str
    qty: Decimal
    avg_price: Decimal | None = None


def open_or_partial(status: OrderStatus, filled: Decimal) -> OrderStatus:
    """A live order that has some fills is partially filled, whatever the broker calls it."""
    if filled > 0 and status in (OrderStatus.SUBMITTED, OrderStatus.WORKING):
        return OrderStatus.PARTIALLY_FILLED
    return status
