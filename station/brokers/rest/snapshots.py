"""What a broker's REST API says about an order or a position, in Station's terms, and the API itself.

Each broker's `parsing.py` turns its JSON into these snapshots; its `api.py` implements
`BrokerApi`; `RestBroker` compares snapshots with what it reported before and publishes
only the changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Awaitable, Callable, Protocol

from station.domain.enums import OrderStatus, OrderType, Side
from station.domain.orders import OrderRequest

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


def to_decimal(value: Any) -> Decimal | None:
    """A JSON number or numeric string as a Decimal (via its text, so 150.1 stays 150.1); None if absent."""
    return None if value is None or value == "" else Decimal(str(value))


class BrokerApi(Protocol):
    """One broker's REST API in Station's terms (see each broker's `api.py`)."""

    title: str
    carries_client_ids: bool  # the broker stores our client order id on its orders

    @property
    def description(self) -> str: ...

    def check(self, request: OrderRequest) -> None:
        """Raise BrokerError if this broker cannot take the order at all (before anything is sent)."""

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def orders(self, since: datetime) -> list[OrderSnapshot]:
        """Orders entered since `since` (and any still working), newest first or in any order."""

    async def order(self, broker_order_id: str) -> OrderSnapshot | None: ...

    async def positions(self) -> list[PositionSnapshot]: ...

    async def place(self, request: OrderRequest, position: Callable[[], Awaitable[Decimal]]) -> str:
        """Send the order; return the broker's order id. `position()` gives the current position."""

    async def cancel(self, broker_order_id: str) -> None: ...
