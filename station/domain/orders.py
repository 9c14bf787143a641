"""Orders: what is asked (OrderRequest) and what a destination made of it (Order).

An order has a `role`: an `entry` opens, an `exit` closes (an exit alert, a close, a flatten), and a
bracket's protective exits (`stop_loss`, `take_profit`, `trailing_stop`) name their entry in `parent_id`
and share one `oco_group`. They start `held` and are armed when the entry fills (see `oms/exits/`).
A change made by cancel-and-replace gives the new order `replaces` and the old one `replaced_by`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from station.domain.alert import Alert
from station.domain.enums import OrderRole, OrderStatus, OrderType, Side, TimeInForce
from station.domain.instructions import Offset
from station.domain.timeutil import require_aware, utc_now

S = OrderStatus

# Which status may follow which. A repeated PARTIALLY_FILLED is a further partial fill.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    # a held exit is armed (new: to send; working: worked by Station or by a native bracket), or ends with it
    S.HELD: frozenset({S.NEW, S.SUBMITTED, S.WORKING, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED}),
    S.NEW: frozenset({S.SUBMITTED, S.WORKING, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED}),
    S.SUBMITTED: frozenset({S.WORKING, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED}),
    S.WORKING: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED}),
    S.FILLED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
}


class InvalidTransition(ValueError):
    """An order was asked to move to a status that may not follow its current one."""


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order to send to one destination; `client_order_id` is derived from its cause."""

    client_order_id: str
    destination: str
    ticker: str
    side: Side
    qty: Decimal
    order_type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    tif: TimeInForce = TimeInForce.DAY
    strategy: str | None = None
    alert_id: int | None = None
    price_hint: Decimal | None = None
    instrument: str | None = None
    role: OrderRole = OrderRole.ENTRY
    parent_id: str | None = None  # a protective exit's entry
    oco_group: str | None = None  # shared by a bracket's exits: one filling cancels the others
    # a protective exit's distance from its entry's fill (stop_loss, take_profit: priced when armed) or the
    # trail of a trailing stop; `tick_size` is the instrument's, for offsets in ticks and for rounding
    offset: Offset | None = None
    tick_size: Decimal | None = None
    replaces: str | None = None  # the order this one replaced (a change by cancel-and-replace)
    created_at: datetime = dataclasses.field(default_factory=utc_now)
    # the alert that caused this order, when one did (NinjaTrader port lines carry its fields)
    alert: Alert | None = dataclasses.field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        require_aware(self.created_at, "created_at")
        if not self.client_order_id:
            raise ValueError("client_order_id is empty")
        if self.qty <= 0:
            raise ValueError(f"order qty must be positive, got {self.qty}")
        priced_later = self.role.protective and self.offset is not None  # priced from the entry's fill
        if self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and self.limit_price is None and not priced_later:
            raise ValueError(f"{self.order_type} order needs a limit price")
        if self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and self.stop_price is None and not priced_later:
            raise ValueError(f"{self.order_type} order needs a stop price")
        if self.order_type is OrderType.TRAILING_STOP and self.offset is None:
            raise ValueError("a trailing stop needs its trail (an offset)")
        if self.role.protective and self.parent_id is None:
            raise ValueError(f"a {self.role} exit needs its entry (parent_id)")
        for name in ("limit_price", "stop_price", "tick_size"):
            value = getattr(self, name)
            if value is not None and (not value.is_finite() or value <= 0):
                raise ValueError(f"{name} must be a positive price, got {value}")

    @property
    def symbol(self) -> str:
        """The symbol to send: the destination's instrument, else the ticker."""
        return self.instrument or self.ticker

    @property
    def protective(self) -> bool:
        """A bracket's stop-loss, take-profit or trailing stop."""
        return self.role.protective


@dataclass(frozen=True, slots=True)
class Order:
    """The live state of one request at its destination."""

    request: OrderRequest
    status: OrderStatus = OrderStatus.NEW
    filled_qty: Decimal = Decimal(0)
    avg_price: Decimal | None = None
    broker_order_id: str | None = None
    reason: str | None = None
    updated_at: datetime = dataclasses.field(default_factory=utc_now)
    replaced_by: str | None = None  # the order that took its place (a change by cancel-and-replace)

    @property
    def client_order_id(self) -> str:
        return self.request.client_order_id

    @property
    def remaining_qty(self) -> Decimal:
        return self.request.qty - self.filled_qty

    def transition(self, status: OrderStatus, *, at: datetime | None = None, **changes) -> "Order":
        """A copy in `status`; raises InvalidTransition if the table forbids it."""
        if status not in TRANSITIONS[self.status]:
            raise InvalidTransition(f"order {self.client_order_id}: {self.status} -> {status} is not allowed")
        return dataclasses.replace(self, status=status, updated_at=at or utc_now(), **changes)

    def released(self, request: OrderRequest, reason: str, *, at: datetime | None = None) -> "Order":
        """An exit Station worked itself whose price was reached, handed to its destination as `request` (a market
        order, same client order id): it starts there as new. Not a report's transition: only the exit manager
        releases."""
        if self.status is not OrderStatus.WORKING or request.client_order_id != self.client_order_id:
            raise InvalidTransition(f"order {self.client_order_id}: only a working exit is released ({self.status})")
        return dataclasses.replace(self, request=request, status=OrderStatus.NEW, reason=reason, updated_at=at or utc_now())

    def with_fill(self, qty: Decimal, price: Decimal, *, at: datetime | None = None) -> "Order":
        """A copy with one more fill applied: filled quantity, average price and status."""
        if qty <= 0:
            raise ValueError(f"fill qty must be positive, got {qty}")
        if qty > self.remaining_qty:
            raise ValueError(f"fill of {qty} exceeds remaining {self.remaining_qty} of {self.client_order_id}")
        total = self.filled_qty + qty
        avg = average_price(self.filled_qty, self.avg_price, qty, price)
        status = OrderStatus.FILLED if total == self.request.qty else OrderStatus.PARTIALLY_FILLED
        return self.transition(status, at=at, filled_qty=total, avg_price=avg)


def average_price(filled: Decimal, avg: Decimal | None, qty: Decimal, price: Decimal) -> Decimal:
    """The average price after `qty` more at `price`, to at most 8 decimals as brokers report one: fills that were
    themselves derived from averages and rounded must not re-average to 5000.9999999975."""
    value = ((avg or Decimal(0)) * filled + price * qty) / (filled + qty)
    return value.quantize(Decimal("0.00000001")) if value.as_tuple().exponent < -8 else value
