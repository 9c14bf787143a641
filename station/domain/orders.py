"""Orders: what is asked (OrderRequest) and what a destination made of it (Order)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from station.domain.alert import Alert
from station.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from station.domain.timeutil import require_aware, utc_now

S = OrderStatus

# Which status may follow which. A repeated PARTIALLY_FILLED is a further partial fill.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
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
    # a bracket: take-profit (limit) and stop-loss (stop) exits sent with the entry, one cancels the other
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    created_at: datetime = dataclasses.field(default_factory=utc_now)
    # the alert that caused this order, when one did (NinjaTrader port lines carry its fields)
    alert: Alert | None = dataclasses.field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        require_aware(self.created_at, "created_at")
        if not self.client_order_id:
            raise ValueError("client_order_id is empty")
        if self.qty <= 0:
            raise ValueError(f"order qty must be positive, got {self.qty}")
        if self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and self.limit_price is None:
            raise ValueError(f"{self.order_type} order needs a limit price")
        if self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and self.stop_price is None:
            raise ValueError(f"{self.order_type} order needs a stop price")
        for name in ("limit_price", "stop_price", "take_profit", "stop_loss"):
            value = getattr(self, name)
            if value is not None and (not value.is_finite() or value <= 0):
                raise ValueError(f"{name} must be a positive price, got {value}")
        if self.take_profit is not None and self.stop_loss is not None:
            low, high = (self.stop_loss, self.take_profit) if self.side is Side.BUY else (self.take_profit, self.stop_loss)
            if low >= high:
                raise ValueError(f"a {self.side} bracket needs stop_loss on the losing side of take_profit "
                                 f"(got take_profit {self.take_profit}, stop_loss {self.stop_loss})")

    @property
    def symbol(self) -> str:
        """The symbol to send: the destination's instrument, else the ticker."""
        return self.instrument or self.ticker

    def bracket_legs(self) -> tuple["OrderRequest", ...]:
        """The exit orders of a bracket (ids `<id>-tp`, `<id>-sl`), opposite side, same size; () if none."""
        legs = []
        common = dict(destination=self.destination, ticker=self.ticker, side=self.side.opposite, qty=self.qty,
                      tif=self.tif, strategy=self.strategy, alert_id=self.alert_id, instrument=self.instrument,
                      created_at=self.created_at)
        if self.take_profit is not None:
            legs.append(OrderRequest(client_order_id=f"{self.client_order_id}-tp", order_type=OrderType.LIMIT,
                                     limit_price=self.take_profit, **common))
        if self.stop_loss is not None:
            legs.append(OrderRequest(client_order_id=f"{self.client_order_id}-sl", order_type=OrderType.STOP,
                                     stop_price=self.stop_loss, **common))
        return tuple(legs)


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

    def with_fill(self, qty: Decimal, price: Decimal, *, at: datetime | None = None) -> "Order":
        """A copy with one more fill applied: filled quantity, average price and status."""
        if qty <= 0:
            raise ValueError(f"fill qty must be positive, got {qty}")
        if qty > self.remaining_qty:
            raise ValueError(f"fill of {qty} exceeds remaining {self.remaining_qty} of {self.client_order_id}")
        total = self.filled_qty + qty
        prior = (self.avg_price or Decimal(0)) * self.filled_qty
        avg = (prior + price * qty) / total
        status = OrderStatus.FILLED if total == self.request.qty else OrderStatus.PARTIALLY_FILLED
        return self.transition(status, at=at, filled_qty=total, avg_price=avg)
