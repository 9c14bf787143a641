"""Applying what destinations report: order states, fills (each once, by fill_id), position checks."""

from __future__ import annotations

import dataclasses
import logging
from decimal import Decimal

from station.bus import Bus
from station.domain.enums import OrderStatus
from station.domain.events import (
    FillReported,
    Notified,
    OrderFilled,
    OrderReported,
    OrderUpdated,
    PositionChanged,
    PositionReported,
)
from station.domain.orders import InvalidTransition, Order
from station.domain.positions import Position
from station.domain.timeutil import utc_now
from station.oms.book import Book
from station.oms.recorder import Recorder
from station.oms.router import receiver_drops_repeats
from station.store import alerts_repo, order_repo as rows

log = logging.getLogger("station.oms")

# statuses that fills, not reports, bring about (a report of them without a fill only notes the broker id)
_BY_FILLS = (OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED)


def write_order(conn, order: Order) -> None:
    """A writer job step: the order's row, and its alert's `filled_at` when it just filled."""
    rows.save_order(conn, order)
    if order.status is OrderStatus.FILLED and order.request.alert_id is not None:
        alerts_repo.mark_filled(conn, order.request.alert_id, order.updated_at)


class ReportApplier:
    """Turns broker reports into book changes, durable rows and events."""

    def __init__(self, bus: Bus, book: Book, recorder: Recorder) -> None:
        self.bus, self.book, self.recorder = bus, book, recorder

    def set_status(self, order: Order, status: OrderStatus, reason: str | None = None, **changes):
        """Move an order to `status` (if the transition table allows it), persist, publish."""
        current = self.book.orders.get(order.client_order_id, order)
        try:
            updated = current.transition(status, reason=reason or current.reason, **changes)
        except InvalidTransition:
            log.debug("ignored %s -> %s for %s", current.status, status, current.client_order_id)
            return None
        return self.save(updated)

    def save(self, order: Order):
        self.book.put(order)

        def after(_):
            self.bus.publish(OrderUpdated(order))
            if order.status is OrderStatus.REJECTED:
                self.bus.publish(Notified("Order rejected", f"{order.client_order_id}: {order.reason}", "warning"))

        # A port line written (SUBMITTED) shares the next disk flush: were it lost in a crash, the
        # line would be written again and its receiver drops it by id (as for the early hand-over)
        lazy = order.status is OrderStatus.SUBMITTED and receiver_drops_repeats(order.request.destination)
        return self.recorder.write(lambda conn: write_order(conn, order), after, lazy=lazy)

    async def set_status_async(self, order: Order, status: OrderStatus, reason: str | None) -> None:
        future = self.set_status(order, status, reason)
        if future is not None:
            await future

    def on_order_report(self, event: OrderReported) -> None:
        order = self.book.orders.get(event.client_order_id)
        if order is None:
            log.info("%s reports %s for unknown order %s", event.destination, event.status, event.client_order_id)
            return
        broker_id = event.broker_order_id or order.broker_order_id
        if event.status in _BY_FILLS or event.status is order.status:
            if broker_id != order.broker_order_id:
                self.save(dataclasses.replace(order, broker_order_id=broker_id, updated_at=event.at))
            return
        self.set_status(order, event.status, event.reason, broker_order_id=broker_id, at=event.at)

    def on_fill(self, event: FillReported) -> None:
        fill = event.fill
        if fill.fill_id in self.book.fill_ids:
            return
        order, position, realized = self.book.apply_fill(fill)

        def job(conn):
            if not rows.insert_fill(conn, fill, realized):
                return False
            if order is not None:
                write_order(conn, order)
            rows.save_position(conn, position, fill.time)
            return True

        def after(new):
            if not new:
                return
            if order is not None:
                self.bus.publish(OrderFilled(order, fill))
                self.bus.publish(OrderUpdated(order))
            self.bus.publish(PositionChanged(position))

        self.recorder.write(job, after)

    def on_position_report(self, event: PositionReported) -> None:
        """Compare a destination's position with the book; book the difference as unattributed."""
        if self.book.open_orders(event.destination) and any(
                o.request.ticker.upper() == event.ticker.upper() for o in self.book.open_orders(event.destination)):
            return  # orders in flight: the figures cannot agree yet
        held = self.book.position(event.destination, event.ticker)
        if held == event.qty:
            return
        difference = event.qty - held
        key_position = next((p for (d, t, s), p in self.book.positions.items()
                             if d == event.destination and t == event.ticker.upper() and s == ""), None)
        base = key_position or Position(destination=event.destination, ticker=event.ticker.upper())
        qty = base.qty + difference
        avg = event.avg_price if event.avg_price is not None else base.avg_price
        corrected = dataclasses.replace(base, qty=qty, avg_price=avg if qty else Decimal(0))
        now = utc_now()
        self.book.set_position(corrected, now)
        message = (f"{event.destination} reports {event.qty} {event.ticker}, the book had {held}; "
                   f"booked {difference:+} as unattributed")
        log.warning(message)

        def after(_):
            self.bus.publish(PositionChanged(corrected))
            self.bus.publish(Notified("Position corrected", message, "warning"))

        self.recorder.write(lambda conn: rows.save_position(conn, corrected, now), after)
