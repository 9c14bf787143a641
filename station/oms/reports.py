"""Applying what destinations report: order states, fills (each once, by fill_id), position checks, changes."""

from __future__ import annotations

import dataclasses
import logging
from decimal import Decimal
from typing import Callable

from station.bus import Bus
from station.domain.enums import OrderStatus
from station.domain.events import (
    FillReported,
    Notified,
    OrderFilled,
    OrderReplaced,
    OrderReported,
    OrderUpdated,
    PositionChanged,
    PositionReported,
)
from station.domain.fills import Fill
from station.domain.orders import InvalidTransition, Order
from station.domain.positions import Position
from station.domain.timeutil import utc_now
from station.oms.book import Book, session_day
from station.oms.destinations import DestinationCapabilities
from station.oms.recorder import Recorder
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

    def __init__(self, bus: Bus, book: Book, recorder: Recorder, destinations: DestinationCapabilities) -> None:
        self.bus, self.book, self.recorder, self.destinations = bus, book, recorder, destinations
        # called with an order right after a new fill of it is in the book and its write is queued (the exit
        # manager arms a bracket there: its write follows the fill's, so it never commits without it)
        self.fill_listeners: list[Callable[[Order], None]] = []

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

        # An order a repeat-dropping receiver took (SUBMITTED) shares the next disk flush: were it lost in a
        # crash, the order would be handed over again and its receiver drops it by id (as for the early hand-over)
        lazy = order.status is OrderStatus.SUBMITTED and self.destinations.drops_repeats(order.request.destination)
        return self.recorder.write(lambda conn: write_order(conn, order), after, lazy=lazy)

    def on_order_report(self, event: OrderReported) -> None:
        order = self.book.orders.get(event.client_order_id)
        if order is None:
            log.info("%s reports %s for unknown order %s", event.destination, event.status, event.client_order_id)
            return
        broker_id = event.broker_order_id or order.broker_order_id
        # a native bracket's exit stays held until its entry fills, whatever its destination calls it meanwhile
        waiting = order.status is OrderStatus.HELD and event.status in (OrderStatus.SUBMITTED, OrderStatus.WORKING)
        if event.status in _BY_FILLS or event.status is order.status or waiting:
            if broker_id != order.broker_order_id:
                self.save(dataclasses.replace(order, broker_order_id=broker_id, updated_at=event.at))
            return
        self.set_status(order, event.status, event.reason, broker_order_id=broker_id, at=event.at)

    def on_fill(self, event: FillReported) -> None:
        self.apply_fill(event.fill)

    def apply_fill(self, fill: Fill) -> bool:
        """Apply a fill to the book and record it, unless it was applied before; True if it is new."""
        if fill.fill_id in self.book.fill_ids:
            return False
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

        with self.recorder.together():  # what the fill arms (a bracket's exits) commits with it
            self.recorder.write(job, after)
            if order is not None:
                for listener in self.fill_listeners:
                    try:
                        listener(order)
                    except Exception:  # the fill is booked whatever a follow-up makes of it
                        log.exception("a fill listener failed on %s", order.client_order_id)
        return True

    def on_position_report(self, event: PositionReported) -> bool:
        """Compare a destination's position with the book and correct the book (True if it did).

        What the book holds beyond the report is closed at the best price known (the mark, else the
        position's own average: no profit or loss made up, as a destination that reports flat names no
        price); a position the book never had is booked as unattributed at the reported average."""
        if any(o.request.ticker.upper() == event.ticker.upper() for o in self.book.open_orders(event.destination)):
            return False  # orders in flight: the figures cannot agree yet
        held = self.book.position(event.destination, event.ticker)
        if held == event.qty:
            return False
        now = utc_now()
        corrected, notes = self._close_beyond(event, held, now)
        difference = event.qty - self.book.position(event.destination, event.ticker)
        if difference:
            corrected.append(self._unattributed(event, difference, now))
            notes.append(f"booked {difference:+} as unattributed")
        message = f"{event.destination} reports {event.qty} {event.ticker}, the book had {held}; " + "; ".join(notes)
        log.warning(message)

        def after(_):
            for position in corrected:
                self.bus.publish(PositionChanged(position))
            self.bus.publish(Notified("Position corrected", message, "warning"))

        def job(conn):
            for position in corrected:
                rows.save_position(conn, position, now)

        self.recorder.write(job, after)
        return True

    def _holdings(self, event: PositionReported) -> list[Position]:
        upper = event.ticker.upper()
        return [p for (d, t, _), p in self.book.positions.items() if d == event.destination and t == upper and p.qty]

    def _close_beyond(self, event: PositionReported, held: Decimal, now) -> tuple[list[Position], list[str]]:
        """Close (flat report) or reduce the book's positions that go beyond what the destination holds."""
        mark = self.book.marks.price(event.ticker)
        left = event.qty - held  # what the book must move by; only positions on the other side are reduced
        corrected, notes = [], []
        for position in sorted(self._holdings(event), key=lambda p: -abs(p.qty)):
            if event.qty == 0:
                step = -position.qty  # flat there: every share of it, whichever side
            elif left == 0 or (position.qty > 0) == (left > 0):
                continue
            else:
                step = max(-position.qty, left) if left < 0 else min(-position.qty, left)
            price = mark if mark is not None else position.avg_price
            realized = (price - position.avg_price) * -step * position.multiplier
            qty = position.qty + step
            closed = dataclasses.replace(position, qty=qty, avg_price=position.avg_price if qty else Decimal(0),
                                         realized_pnl=position.realized_pnl + realized)
            self.book.set_position(closed, now)
            self.book.realized_by_day[(session_day(now), position.strategy or "")] += realized
            corrected.append(closed)
            left -= step
            where = "the last price" if mark is not None else "its own average price (no price known)"
            notes.append(f"closed {step:+} of {position.strategy or 'unattributed'} at {price} ({where})")
        return corrected, notes

    def _unattributed(self, event: PositionReported, difference: Decimal, now) -> Position:
        key = (event.destination, event.ticker.upper(), "")
        base = self.book.positions.get(key) or Position(destination=event.destination, ticker=event.ticker.upper())
        qty = base.qty + difference
        mark = self.book.marks.price(event.ticker)
        avg = event.avg_price if event.avg_price is not None else (mark or base.avg_price)
        corrected = dataclasses.replace(base, qty=qty, avg_price=avg if qty else Decimal(0))
        self.book.set_position(corrected, now)
        return corrected

    def on_replaced(self, event: OrderReplaced) -> None:
        """A destination changed a working order as asked: the book takes its new quantity and prices."""
        order = self.book.orders.get(event.request.client_order_id)
        if order is None:
            return
        updated = dataclasses.replace(order, request=event.request, updated_at=utc_now())
        self.book.put(updated)

        def job(conn):
            rows.save_request(conn, event.request)
            write_order(conn, updated)

        self.recorder.write(job, lambda _: self.bus.publish(OrderUpdated(updated)))
