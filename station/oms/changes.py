"""Changing an order as the trader asks (`ChangeOrder`: the REST API's PATCH, the chart's drag).

- an order Station holds or works itself (a held exit, an exit worked on Station's prices) changes here;
- an order waiting to be sent, or at a destination that changes orders in place (`native_replace`), is
  changed there (`ReplaceOrder`, answered by `OrderReplaced` or `OrderActionRefused`);
- elsewhere it is cancelled and a replacement is placed with a new client order id (`<id>-r<N>`): the
  replacement names it in `replaces`, it names the replacement in `replaced_by`, and the replacement is
  sent only once the cancel is confirmed (if the original fills first, the replacement is cancelled).
A replaced entry hands its held exits to its replacement. Each change is answered by `OrderChanged`.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from decimal import Decimal

from station.bus import Bus
from station.domain.commands import CancelOrder, ChangeOrder, ReplaceOrder, SubmitOrder
from station.domain.enums import OrderStatus, OrderType
from station.domain.events import OrderActionRefused, OrderChanged, OrderReplaced, OrderUpdated
from station.domain.orders import Order
from station.domain.timeutil import utc_now
from station.oms.book import Book
from station.oms.destinations import DestinationCapabilities
from station.oms.exits import ExitManager
from station.oms.reports import ReportApplier, write_order
from station.store import order_repo as rows

log = logging.getLogger("station.oms")

S = OrderStatus
TAKES_LIMIT = (OrderType.LIMIT, OrderType.STOP_LIMIT)
TAKES_STOP = (OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP)
_REPLACEMENT = re.compile(r"^(?P<root>.+)-r(?P<n>\d+)$")


class OrderChanges:
    """Carries out `ChangeOrder`: in place, at the destination, or by cancel-and-replace."""

    def __init__(self, bus: Bus, book: Book, reports: ReportApplier, destinations: DestinationCapabilities,
                 exits: ExitManager) -> None:
        self.bus, self.book, self.reports, self.destinations, self.exits = bus, book, reports, destinations, exits
        self.recorder = reports.recorder
        self._asked: dict[str, str] = {}  # client order id -> request id of a change asked at its destination
        self._replacing: dict[str, str] = {}  # original -> replacement waiting for the original's cancel

    def subscriptions(self) -> dict:
        return {ChangeOrder: self.on_change, OrderReplaced: self.on_replaced,
                OrderActionRefused: self.on_refused, OrderUpdated: self.on_updated}

    def on_change(self, command: ChangeOrder) -> None:
        coid = command.client_order_id
        order = self.book.orders.get(coid)
        error = _refusal(order, command) or self._oversized(order, command.qty)
        if error is not None:
            self._answer(command.request_id, coid, error)
            return
        changes = {k: v for k, v in (("qty", command.qty), ("limit_price", command.limit_price),
                                     ("stop_price", command.stop_price)) if v is not None}
        if order.request.protective and order.status is S.HELD and ("limit_price" in changes or "stop_price" in changes):
            changes["offset"] = order.request.offset if order.request.order_type is OrderType.TRAILING_STOP else None
        try:
            request = dataclasses.replace(order.request, **changes)
        except ValueError as exc:
            self._answer(command.request_id, coid, str(exc))
            return
        if self.book.worked_by_station(coid):
            self._change_here(order, request, command.request_id)
        elif order.status is S.NEW or self.destinations.of(request.destination).native_replace:
            self._asked[coid] = command.request_id
            self.bus.publish(ReplaceOrder(coid, command.qty, command.limit_price, command.stop_price))
        else:
            self._cancel_and_replace(order, request, command.request_id)

    def _oversized(self, order: Order, qty: Decimal | None) -> str | None:
        """An exit may cover no more than it protects: its entry's quantity (while held) or fill, less what its
        OCO partners filled; an exit of a position, the position. More would open a position the other way."""
        request = order.request
        if qty is None or not request.protective:
            return None
        entry = self.book.orders.get(request.parent_id) if request.parent_id else None
        if entry is not None:
            covered = entry.request.qty if order.status is S.HELD else entry.filled_qty
            others = sum((x.filled_qty for x in self.book.exits(entry.client_order_id)
                          if x.client_order_id != order.client_order_id), Decimal(0))
            limit, what = covered - others, f"its entry {entry.client_order_id}"
        else:
            held = abs(self.book.position(request.destination, request.ticker, request.strategy or ""))
            limit, what = held + order.filled_qty, f"the {request.ticker} position"
        if qty > limit:
            return f"qty {qty} is more than {what} leaves to protect ({limit}): the exit would open a position"
        return None

    def _change_here(self, order: Order, request, request_id: str) -> None:
        changed = dataclasses.replace(order, request=request, updated_at=utc_now())
        self.book.put(changed)
        if changed.status is S.WORKING:
            self.exits.rewatch(changed)

        def job(conn):
            rows.save_request(conn, request)
            rows.save_offset(conn, request)
            write_order(conn, changed)

        def after(_):
            self.bus.publish(OrderUpdated(changed))
            self._answer(request_id, changed.client_order_id)

        self.recorder.write(job, after)

    def _cancel_and_replace(self, order: Order, request, request_id: str) -> None:
        new_id = self._next_id(order.client_order_id)
        replacement = Order(dataclasses.replace(request, client_order_id=new_id, replaces=order.client_order_id,
                                                created_at=utc_now()))
        original = dataclasses.replace(order, replaced_by=new_id)
        meta = self.book.meta.get(order.client_order_id)
        self.book.put(original)
        self.book.add_order(replacement, meta)
        moved = [x.client_order_id for x in self.book.exits(order.client_order_id)]
        for coid in moved:  # a held bracket follows its entry
            x = self.book.orders[coid]
            self.book.put(dataclasses.replace(x, request=dataclasses.replace(x.request, parent_id=new_id)))
        if moved:
            self.book.exits_of[new_id] = self.book.exits_of.pop(order.client_order_id)
        self._replacing[order.client_order_id] = new_id
        item = rows.NewOrder(replacement, meta.cause if meta else f"r{order.client_order_id}",
                             meta.pair_group if meta else None, meta.leg if meta else None,
                             meta.point_value if meta else Decimal(1))

        def job(conn):
            rows.insert_orders(conn, [item])
            rows.save_replaced_by(conn, order.client_order_id, new_id)
            rows.move_exits(conn, moved, new_id)

        def after(_):
            self.bus.publish(OrderUpdated(original))
            self.bus.publish(OrderUpdated(replacement))
            self._answer(request_id, new_id)
            self.bus.publish(CancelOrder(order.client_order_id))

        self.recorder.write(job, after)

    def _next_id(self, coid: str) -> str:
        match = _REPLACEMENT.match(coid)
        root, n = (match["root"], int(match["n"])) if match else (coid, 0)
        while f"{root}-r{n + 1}" in self.book.orders:
            n += 1
        return f"{root}-r{n + 1}"

    def on_updated(self, event: OrderUpdated) -> None:
        """The original of a cancel-and-replace ended: cancelled, its replacement goes; filled, it does not."""
        order = event.order
        new_id = self._replacing.get(order.client_order_id)
        if new_id is None or not order.status.is_terminal:
            return
        del self._replacing[order.client_order_id]
        replacement = self.book.orders.get(new_id)
        if replacement is None or replacement.status is not S.NEW:
            return
        if order.status is S.CANCELLED and order.filled_qty < order.request.qty:
            remaining = replacement.request.qty - order.filled_qty
            if remaining != replacement.request.qty and remaining > 0:
                replacement = dataclasses.replace(replacement, request=dataclasses.replace(replacement.request,
                                                                                           qty=remaining))
                self.book.put(replacement)
            self.bus.publish(SubmitOrder(replacement.request, tuple(
                x.request for x in self.book.exits(new_id) if x.status is S.HELD)))
        else:
            self.reports.set_status(replacement, S.CANCELLED,
                                    f"{order.client_order_id} was {order.status} before it could be replaced")

    def on_replaced(self, event: OrderReplaced) -> None:
        request_id = self._asked.pop(event.request.client_order_id, None)
        if request_id is not None:
            self._answer(request_id, event.request.client_order_id)

    def on_refused(self, event: OrderActionRefused) -> None:
        if event.action == "change":
            request_id = self._asked.pop(event.client_order_id, None)
            if request_id is not None:
                self._answer(request_id, event.client_order_id, event.reason)

    def _answer(self, request_id: str, coid: str, error: str | None = None) -> None:
        self.bus.publish(OrderChanged(request_id, coid, error))


def _refusal(order: Order | None, command: ChangeOrder) -> str | None:
    """Why this change cannot be made, or None."""
    if order is None:
        return f"no order {command.client_order_id}"
    if order.status.is_terminal:
        return f"{command.client_order_id} is already {order.status}"
    if command.qty is None and command.limit_price is None and command.stop_price is None:
        return "nothing to change: give qty, limit_price or stop_price"
    kind = order.request.order_type
    if command.limit_price is not None and kind not in TAKES_LIMIT:
        return f"a {kind} order takes no limit_price"
    if command.stop_price is not None and kind not in TAKES_STOP:
        return f"a {kind} order takes no stop_price"
    if command.qty is not None and command.qty <= order.filled_qty:
        return f"{order.filled_qty} already filled; qty {command.qty} would leave nothing to work"
    return None
