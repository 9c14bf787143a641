"""The exit manager: a bracket's protective exits from held to done, whoever works them.

- held: made with the entry (`oms/brackets.py`), waiting for it;
- armed when the entry fills, sized to what filled and priced from the fill (a later fill grows them),
  worked as the destination can (`ExitMode`): sent with the entry (native brackets: the destination's),
  sent now as working orders linked by their OCO group (native OCO: the paper broker), or worked here on
  Station's prices, a market order going out when one is reached (a NinjaTrader port with a silent
  receiver, brokers without either). A destination that reports no fills has its entry taken as filled
  when Station's prices say it would have (a market entry when its line is written);
- one filling (or reached) cancels the others of its group; an entry that ends unfilled takes its held
  exits with it; a position that shrinks or closes by other orders shrinks or cancels them;
- trailing stops worked here move with each better price (written a few times a second).
After a restart `restore` takes held and working exits from the book (which the store rebuilt) before
anything new is sent; a bracket whose entry filled meanwhile is armed once its destination is built.

Past 400 lines because it is one state machine: every handler reads and changes the same watched exits;
its pure parts live beside it (`triggers.py`: the price levels, `moves.py`: trailing stops' writes).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from decimal import Decimal
from typing import Callable

from station.bus import Bus
from station.domain.commands import CancelOrder, ReplaceOrder, SubmitOrder
from station.domain.destinations import ExitMode
from station.domain.enums import OrderRole, OrderStatus, OrderType, Side
from station.domain.events import (
    DestinationBuilt,
    ExitsAttached,
    ExitsDetached,
    Notified,
    OrderFilled,
    OrderUpdated,
    PositionChanged,
    StopMoved,
)
from station.domain.orders import InvalidTransition, Order, OrderRequest
from station.domain.timeutil import utc_now
from station.oms.book import Book
from station.oms.brackets import armed
from station.oms.destinations import DestinationCapabilities
from station.oms.exits.moves import StopMoves
from station.oms.exits.triggers import TrailingStops, TriggerIndex
from station.oms.reports import ReportApplier, write_order
from station.store import order_repo as rows
from station.store.order_repo import OrderRepository

log = logging.getLogger("station.oms.exits")

S = OrderStatus
ZERO = Decimal(0)
ENTRY = "entry"  # trigger keys: ("entry", coid) for an entry taken as filled at a silent destination


class ExitManager:
    """Arms, sizes, works and cancels protective exits (part of the oms)."""

    def __init__(self, bus: Bus, book: Book, reports: ReportApplier, destinations: DestinationCapabilities,
                 repo: OrderRepository) -> None:
        self.bus, self.book, self.reports, self.destinations, self.repo = bus, book, reports, destinations, repo
        self.recorder = reports.recorder
        self.triggers = TriggerIndex()
        self.trailing = TrailingStops()
        self._awaiting_price: dict[str, set[str]] = defaultdict(set)  # symbol -> entries taken as filled at the next price
        self._deferred: dict[str, set[str]] = defaultdict(set)  # destination -> entries to arm once it is built
        self.moves = StopMoves(bus, book, self.recorder)  # trailing stops moved, written a few times a second
        self._held: dict[tuple[str, str, str], Decimal] = {}  # each position as last looked at (on_position)
        self._unsubscribe: list[Callable[[], None]] = []

    # ---- lifetime --------------------------------------------------------------------------------

    def start(self) -> None:
        subscribe = self.bus.subscribe
        self._unsubscribe = [
            subscribe(OrderFilled, self.on_filled), subscribe(OrderUpdated, self.on_updated),
            subscribe(PositionChanged, self.on_position), subscribe(CancelOrder, self.on_cancel),
            subscribe(ExitsAttached, self.on_attached), subscribe(ExitsDetached, self.on_detached),
            subscribe(StopMoved, self.moves.on_stop_moved),
            subscribe(DestinationBuilt, self.on_destination),
        ]
        self.book.marks.listeners.append(self.on_price)
        self.reports.fill_listeners.append(self.on_fill_booked)
        self.moves.start()

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self.on_price in self.book.marks.listeners:
            self.book.marks.listeners.remove(self.on_price)
        if self.on_fill_booked in self.reports.fill_listeners:
            self.reports.fill_listeners.remove(self.on_fill_booked)
        await self.moves.stop()

    def restore(self) -> None:
        """After a restart: held exits wait again (or are cancelled when their entry ended unfilled, or armed
        once their destination is built when it filled meanwhile); exits worked here are watched again."""
        exits = [o for o in self.book.open.values() if o.request.protective]
        missing = {o.request.parent_id for o in exits if o.request.parent_id not in self.book.orders}
        for coid, entry in self.repo.orders_by_id(missing).items():
            self.book.orders[coid] = entry if entry.status.is_terminal else self.book.orders.get(coid, entry)
        for order in exits:
            entry = self.book.orders.get(order.request.parent_id)
            if order.status is S.HELD:
                if entry is None or (entry.status.is_terminal and entry.filled_qty == 0):
                    self._cancel_here(order, "its entry ended without a fill")
                elif entry.filled_qty > 0 or entry.status is not S.NEW:
                    self._deferred[entry.request.destination].add(entry.client_order_id)
            elif order.status is S.WORKING and self.book.exit_modes.get(order.client_order_id) == ExitMode.STATION:
                self._watch(order, entry, restored=True)
        log.info("exits restored: %d open, %d watched here, %d brackets to arm", len(exits),
                 len(self.triggers) + len(self.trailing), sum(map(len, self._deferred.values())))

    def on_destination(self, event: DestinationBuilt) -> None:
        for entry_id in sorted(self._deferred.pop(event.name, ())):
            entry = self.book.orders.get(entry_id)
            if entry is None:
                continue
            if entry.filled_qty > 0:
                self.arm(entry)
            elif not event.capabilities.reports_fills and entry.status is not S.NEW:
                self._take_as_filled(entry)

    # ---- entries ---------------------------------------------------------------------------------

    def on_fill_booked(self, order: Order) -> None:
        """An entry's fill is in the book and its write queued: arm its exits now (their write follows it)."""
        if not order.request.protective and self.book.exits_of.get(order.client_order_id):
            self.arm(order)

    def on_filled(self, event: OrderFilled) -> None:
        if event.order.request.protective:
            self._exit_filled(self.book.orders.get(event.order.client_order_id, event.order))

    def on_updated(self, event: OrderUpdated) -> None:
        order = self.book.orders.get(event.order.client_order_id, event.order)
        if order.request.protective:
            if order.status.is_terminal:
                self._unwatch(order.client_order_id)
                if order.status is S.REJECTED and self.book.exit_modes.get(order.client_order_id):
                    self.bus.publish(Notified("Exit rejected", f"{order.client_order_id} ({order.request.role}) was "
                                              f"rejected: {order.reason}; its position may be unprotected", "error"))
            return
        if not self.book.exits_of.get(order.client_order_id):
            return
        if order.status in (S.CANCELLED, S.REJECTED) and order.filled_qty == 0:
            for x in self.book.exits(order.client_order_id):
                if x.status is S.HELD:
                    self._cancel_here(x, f"its entry was {order.status}")
        elif order.status is S.SUBMITTED and not self.destinations.reports_fills(order.request.destination):
            self._take_as_filled(order)

    def _take_as_filled(self, entry: Order) -> None:
        """A destination that reports no fills: the entry counts as filled when Station's prices say it would
        be (a market entry now, at its price or the mark; a limit or stop when a price reaches it)."""
        if not any(x.status is S.HELD for x in self.book.exits(entry.client_order_id)):
            return
        request = entry.request
        if request.order_type is OrderType.MARKET:
            price = request.price_hint or self.book.marks.price(request.ticker)
            if price is None:
                self._awaiting_price[request.ticker.upper()].add(entry.client_order_id)
                return
            self.arm(entry, filled=request.qty, price=price)
            return
        buy = request.side is Side.BUY
        if request.order_type is OrderType.LIMIT:
            level, below = request.limit_price, buy
        else:  # a stop (or stop-limit) entry: reached at its stop
            level, below = request.stop_price, not buy
        self.triggers.add((ENTRY, entry.client_order_id), request.ticker, level, at_or_below=below)
        mark = self.book.marks.price(request.ticker)
        if mark is not None:
            self.on_price(request.ticker, mark)

    def arm(self, entry: Order, *, filled: Decimal | None = None, price: Decimal | None = None) -> None:
        """The entry filled (`filled` in all, at `price`): size and price its exits and put them to work."""
        filled = entry.filled_qty if filled is None else filled
        price = entry.avg_price if price is None else price
        exits = self.book.exits(entry.client_order_id)
        live = [x for x in exits if not x.status.is_terminal]
        if filled <= 0 or not live:
            return
        target = filled - sum((x.filled_qty for x in exits), ZERO)
        held = [x for x in live if x.status is S.HELD]
        mode = self._mode(entry, held)
        ready: list[tuple[Order, OrderRequest]] = []
        for x in live:
            if x.status is not S.HELD:
                self.resize(x, x.filled_qty + target, "its entry filled more")
            elif mode == ExitMode.NATIVE_BRACKET:
                self._armed_at_destination(x, entry, price)
            else:
                ready.append((x, armed(x.request, entry.request.side, target, price)))
        if ready:
            self._go(ready, mode)

    def protect(self, exits: list[Order]) -> None:
        """Exits made for a position already held (`oms/protection.py`): no entry to wait for, they go to work at
        once, as a filled bracket's would at their destination."""
        held = [x for x in exits if x.status is S.HELD]
        if not held:
            return
        capabilities = self.destinations.of(held[0].request.destination)
        self._go([(x, x.request) for x in held], ExitMode.armed(capabilities, {x.request.order_type.value for x in held}))

    def _mode(self, entry: Order, held: list[Order]) -> str:
        if any(self.book.exit_modes.get(x.client_order_id) == ExitMode.NATIVE_BRACKET for x in held):
            return ExitMode.NATIVE_BRACKET
        capabilities = self.destinations.of(entry.request.destination)
        return ExitMode.armed(capabilities, {x.request.order_type.value for x in held})

    def _armed_at_destination(self, x: Order, entry: Order, price: Decimal | None) -> None:
        """A native bracket's exit: the destination works it; an offset is re-priced from the actual fill."""
        self.reports.set_status(x, S.WORKING)
        priced = armed(x.request, entry.request.side, x.request.qty, price)
        if priced.limit_price != x.request.limit_price or priced.stop_price != x.request.stop_price:
            if self.destinations.of(x.request.destination).native_replace:
                self.bus.publish(ReplaceOrder(x.client_order_id, limit_price=priced.limit_price,
                                              stop_price=priced.stop_price))

    def _go(self, ready: list[tuple[Order, OrderRequest]], mode: str) -> None:
        """Put armed exits to work: to their destination as OCO orders, or watched here."""
        now = utc_now()
        orders = []
        for x, request in ready:
            status = S.NEW if mode == ExitMode.NATIVE_OCO else S.WORKING
            order = dataclasses.replace(x.transition(status, at=now), request=request)
            self.book.put(order)
            self.book.exit_modes[order.client_order_id] = mode
            orders.append(order)
        if mode == ExitMode.STATION:
            for order in orders:
                self._watch(order, self.book.orders.get(order.request.parent_id))

        def job(conn):
            for order in orders:
                rows.save_request(conn, order.request)
                rows.save_exit_mode(conn, order.client_order_id, mode)
                write_order(conn, order)

        def after(_):
            for order in orders:
                current = self.book.orders.get(order.client_order_id, order)
                self.bus.publish(OrderUpdated(current))
                if mode == ExitMode.NATIVE_OCO and current.status is S.NEW:
                    self.bus.publish(SubmitOrder(current.request))

        self.recorder.write(job, after)
        if mode == ExitMode.STATION:
            for order in orders:  # a price already through a level fires at once
                mark = self.book.marks.price(order.request.ticker)
                if mark is not None:
                    self.on_price(order.request.ticker, mark)
                    break

    # ---- exits worked here ---------------------------------------------------------------------------

    def _watch(self, order: Order, entry: Order | None, *, restored: bool = False) -> None:
        request = order.request
        if request.role is OrderRole.TRAILING_STOP:
            best = request.price_hint or (entry.avg_price if entry is not None else None) or request.stop_price
            # restored: the stop it had reached is kept (the best price since is not known any more)
            stop = self.trailing.add(order.client_order_id, request.ticker, request.side, request.offset,
                                     request.tick_size, best, request.stop_price if restored else None)
            if stop != request.stop_price:
                self.moves.pending[order.client_order_id] = stop
            return
        level = request.limit_price if request.order_type is OrderType.LIMIT else request.stop_price
        if level is None:
            return
        # a sell stop and a buy target fire at or below their level; a sell target and a buy stop at or above
        below = (request.role is OrderRole.TAKE_PROFIT) == (request.side is Side.BUY)
        self.triggers.add(order.client_order_id, request.ticker, level, at_or_below=below)

    def rewatch(self, order: Order) -> None:
        """An exit worked here was changed (its price or size): watch its new level."""
        self._unwatch(order.client_order_id)
        self.moves.pending.pop(order.client_order_id, None)
        self._watch(order, self.book.orders.get(order.request.parent_id), restored=True)
        mark = self.book.marks.price(order.request.ticker)
        if mark is not None:
            self.on_price(order.request.ticker, mark)

    def _unwatch(self, coid: str) -> None:
        self.triggers.remove(coid)
        self.trailing.remove(coid)

    def on_price(self, symbol: str, price: Decimal) -> None:
        """One price of `symbol` (a Marks listener): what it reaches fires."""
        waiting = self._awaiting_price.pop(symbol.upper(), None)
        if waiting:
            for entry_id in sorted(waiting):
                entry = self.book.orders.get(entry_id)
                if entry is not None:
                    self.arm(entry, filled=entry.request.qty, price=price)
        for key in self.triggers.crossed(symbol, price):
            if isinstance(key, tuple):
                entry = self.book.orders.get(key[1])
                if entry is not None and not entry.status.is_terminal:
                    fill = entry.request.limit_price if entry.request.order_type is OrderType.LIMIT else price
                    self.arm(entry, filled=entry.request.qty, price=fill)
            else:
                self._reached(key, price)
        moved, fired = self.trailing.on_price(symbol, price)
        for key, stop in moved:
            self.moves.pending[key] = stop
        for key in fired:
            self._reached(key, price)

    def _reached(self, coid: str, price: Decimal) -> None:
        """An exit worked here was reached: it goes to its destination at market; its siblings are cancelled."""
        order = self.book.orders.get(coid)
        if order is None or order.status is not S.WORKING:
            return
        moved = self.moves.pending.pop(coid, None)
        request = order.request
        level = request.limit_price if request.order_type is OrderType.LIMIT else (moved or request.stop_price)
        released = order.released(
            dataclasses.replace(request, order_type=OrderType.MARKET, limit_price=None, stop_price=None,
                                price_hint=price),
            f"{request.role} {level} reached at {price}: sent at market")
        self.book.put(released)
        siblings = [s for s in self._siblings(released) if not s.status.is_terminal]
        for sibling in siblings:
            self._cancel(sibling, f"OCO: {coid} was reached")

        def job(conn):
            rows.save_request(conn, released.request)
            write_order(conn, released)

        def after(_):
            self.bus.publish(OrderUpdated(released))
            if self.book.orders.get(coid) is released:
                self.bus.publish(SubmitOrder(released.request))

        self.recorder.write(job, after)

    # ---- exits that fill, shrink, or are cancelled ------------------------------------------------------

    def _siblings(self, order: Order) -> list[Order]:
        return [x for x in self.book.exits(order.request.parent_id) if x.client_order_id != order.client_order_id]

    def _exit_filled(self, x: Order) -> None:
        entry = self.book.orders.get(x.request.parent_id)
        exits = self.book.exits(x.request.parent_id)
        filled = entry.filled_qty if entry is not None else x.request.qty
        target = filled - sum((e.filled_qty for e in exits), ZERO)
        native = self.book.exit_modes.get(x.client_order_id) in (ExitMode.NATIVE_OCO, ExitMode.NATIVE_BRACKET)
        for sibling in self._siblings(x):
            if sibling.status.is_terminal or (native and target <= 0):
                continue  # a destination's OCO cancels the others of a group itself
            self.resize(sibling, sibling.filled_qty + target, f"OCO: {x.client_order_id} filled")
        if entry is not None and target <= 0 and not entry.status.is_terminal:
            # the trade is over: what is left of its entry would open a position with no exits
            self.bus.publish(CancelOrder(entry.client_order_id))

    def on_position(self, event: PositionChanged) -> None:
        """A position changed: its armed exits may cover at most what is held now (the book may be ahead of the
        event), each bracket oldest first."""
        position = event.position
        held = self.book.position(position.destination, position.ticker, position.strategy or "")
        key = (position.destination, position.ticker.upper(), position.strategy or "")
        before = self._held.get(key)
        self._held[key] = held
        if before is not None and held != 0 and (held > 0) == (before > 0) and abs(held) >= abs(before):
            return  # grown (or unchanged) on the same side: every exit still covers no more than is held
        brackets: dict[str, list[Order]] = {}
        for order in self.book.open_for(position.destination, position.ticker, position.strategy):
            if order.request.protective and order.status is not S.HELD:
                brackets.setdefault(order.request.parent_id, []).append(order)
        if not brackets:
            return
        left = abs(held)
        for entry_id, exits in brackets.items():
            entry = self.book.orders.get(entry_id)
            side = entry.request.side if entry is not None else exits[0].request.side.opposite
            if held == 0 or (held > 0) != (side is Side.BUY):
                allowed = ZERO
            else:
                filled = entry.filled_qty if entry is not None else max(x.request.qty for x in exits)
                protected = filled - sum((x.filled_qty for x in self.book.exits(entry_id)), ZERO)
                allowed = min(protected, left)
            left -= allowed
            for x in exits:
                if x.filled_qty + allowed < x.request.qty:
                    self.resize(x, x.filled_qty + allowed, f"the position is now {held}")

    def resize(self, x: Order, qty: Decimal, why: str) -> None:
        """Make an exit cover `qty` in all (cancelled when nothing is left for it)."""
        if x.status.is_terminal or qty == x.request.qty:
            return
        if qty <= x.filled_qty:
            self._cancel(x, why)
            return
        if self.book.worked_by_station(x.client_order_id):
            changed = dataclasses.replace(x, request=dataclasses.replace(x.request, qty=qty), updated_at=utc_now())
            self.book.put(changed)
            self.recorder.write(lambda conn: (rows.save_request(conn, changed.request), write_order(conn, changed)),
                                lambda _: self.bus.publish(OrderUpdated(changed)))
            return
        self.bus.publish(ReplaceOrder(x.client_order_id, qty=qty))

    def on_cancel(self, command: CancelOrder) -> None:
        """A cancel of an order Station holds or works itself (the dispatcher leaves those to the oms)."""
        order = self.book.orders.get(command.client_order_id)
        if order is not None and self.book.worked_by_station(order.client_order_id):
            self._cancel_here(order, "cancelled")

    def _cancel(self, order: Order, reason: str) -> None:
        if self.book.worked_by_station(order.client_order_id):
            self._cancel_here(order, reason)
        elif not order.status.is_terminal:
            self.bus.publish(CancelOrder(order.client_order_id))

    def _cancel_here(self, order: Order, reason: str) -> None:
        self._unwatch(order.client_order_id)
        self.moves.pending.pop(order.client_order_id, None)
        try:
            self.reports.set_status(order, S.CANCELLED, reason)
        except InvalidTransition:
            pass

    # ---- native brackets and trailing stops --------------------------------------------------------------

    def on_attached(self, event: ExitsAttached) -> None:
        """A destination took these exits with their entry: they are its to work."""
        for coid in event.exit_ids:
            self.book.exit_modes[coid] = ExitMode.NATIVE_BRACKET
        ids = list(event.exit_ids)
        self.recorder.write(lambda conn: [rows.save_exit_mode(conn, c, ExitMode.NATIVE_BRACKET) for c in ids],
                            lazy=True)

    def on_detached(self, event: ExitsDetached) -> None:
        """The destination refused the bracket in its native form: the exits are held here again, armed and worked
        on Station's prices when the entry (sent alone) fills."""
        for coid in event.exit_ids:
            self.book.exit_modes.pop(coid, None)
        ids = list(event.exit_ids)
        self.recorder.write(lambda conn: [rows.save_exit_mode(conn, c, None) for c in ids], lazy=True)
        self.bus.publish(Notified(
            "Bracket sent without its exits", f"{event.destination} refused the bracket of {event.entry_id} "
            f"({event.reason}); the entry goes alone and Station works its exits on its prices", "warning"))
