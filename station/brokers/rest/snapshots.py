"""What a broker's REST API says about an order or a position, in Station's terms, and the API itself.

Each broker's `parsing.py` turns its JSON into these snapshots; its `api.py` implements
`BrokerApi`; `RestBroker` compares snapshots with what it reported before and publishes
only the changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Awaitable, Callable, Container, Protocol

from station.brokers.rest.symbols import same_symbol
from station.brokers.rest.balances import BalanceSnapshot  # noqa: F401  (the API protocol's answer)
from station.domain.enums import OrderStatus, OrderType, Side
from station.domain.orders import OrderRequest

ZERO = Decimal(0)
MATCH_SKEW = timedelta(minutes=2)  # the broker's clock and ours may differ this much


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
    parent_broker_id: str | None = None  # the order that triggers this one (a bracket's exit nested in its entry)

    @property
    def executed_qty(self) -> Decimal:
        return sum((e.qty for e in self.executions), ZERO)


@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    """A position the broker holds: signed quantity (long > 0) and average price."""

    symbol: str
    qty: Decimal
    avg_price: Decimal | None = None


def find_placed(request: OrderRequest, snapshots: list[OrderSnapshot], *, claimed: Container[str],
                by_client_id: bool) -> OrderSnapshot | None:
    """The broker's order a request became, if it reached the broker: by our client order id where the broker
    keeps it (`by_client_id`), else the earliest unclaimed order of the same symbol, side, size, type and prices
    entered since the request was made."""
    exact = next((s for s in snapshots if s.client_order_id == request.client_order_id), None)
    if exact is not None or by_client_id:
        return exact
    since = request.created_at - MATCH_SKEW
    candidates = [
        s for s in snapshots
        if s.broker_order_id not in claimed and same_symbol(s.symbol, request.symbol)
        and s.side is request.side and s.qty == request.qty
        and s.order_type in (None, request.order_type)
        and s.limit_price == request.limit_price and s.stop_price == request.stop_price
        and (s.entered_at is None or s.entered_at >= since)
    ]
    return min(candidates, key=lambda s: s.entered_at or since, default=None)


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

    async def balances(self) -> "BalanceSnapshot | None":
        """The account's balance, buying power and day's PnL (`rest/balances.py`)."""

    async def place(self, request: OrderRequest, position: Callable[[], Awaitable[Decimal]]) -> str:
        """Send the order; return the broker's order id. `position()` gives the current position."""

    async def cancel(self, broker_order_id: str) -> None: ...

    # A broker taking native brackets (`capabilities.native_brackets`) also has
    #     def check_bracket(self, entry, exits) -> None: BracketRefused for a bracket its native form cannot carry
    #     async def place_bracket(self, entry, exits, position) -> dict[str, str]: the entry with its exits in one
    #         request (RejectedError if refused); the broker ids the answer names, by client order id
