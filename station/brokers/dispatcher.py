"""The destinations at work: one broker per destination, one ordered send queue each, driven by commands.

It builds a broker for every destination the config names (and every NinjaTrader port a
strategy lists), and acts on `SubmitOrder`, `CancelOrder` and `ReplaceOrder`. It reports
back only through events: `DestinationBuilt` (what a destination can do), `ReportsReceived`,
`OrderReported`, `OrderReplaced`, `Notified`; brokers add their own reports and
`ConnectionChanged`.

A destination is ready once it is CONNECTED and its `reports(since)` went out as
`ReportsReceived` — the oms reconciles its book with them in that very publish — so after
every (re)connect nothing new is sent before the book agrees with the destination. Until
then orders wait here, in the order they came, and go out once each; an order that waited
past the pending limit is rejected, visibly, with the reason. The book is read (never
written) through `OrderBook`: an order is sent only while the oms still has it as new.

A bracket's entry arrives with its held exits (`SubmitOrder.exits`). Where the destination takes native
brackets (`capabilities.native_brackets`, every exit's type among its `order_types`, every exit priced)
they go in one request (`broker.submit_bracket`), announced first as `ExitsAttached`; elsewhere only the
entry goes and the oms's exit manager keeps the exits, as it does when the destination refuses the bracket in its
native form (`BracketRefused`: `ExitsDetached`, then the entry alone). Orders the oms works itself (held or emulated
exits, `OrderBook.worked_by_station`) are not the destinations' to cancel.

Past 400 lines because its handlers share one state per destination (the broker, its queue, its readiness)
that a split would have to pass around; the brokers' own work is in their packages.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Callable

from station.backoff import Backoff
from station.brokers.protocol import BracketRefused, Broker, BrokerCapabilities, BrokerError
from station.brokers.registry import BrokerContext, UnknownDestinationType, build, port_destination
from station.domain.commands import CancelOrder, ReplaceOrder, SubmitOrder
from station.domain.config import DestinationConfig, RoutingConfig
from station.domain.enums import ConnectionState, OrderStatus
from station.domain.events import (
    ConfigChanged,
    ConnectionChanged,
    DestinationBuilt,
    ExitsAttached,
    ExitsDetached,
    Notified,
    OrderActionRefused,
    OrderReplaced,
    OrderReported,
    ReportsReceived,
)
from station.domain.orders import OrderRequest
from station.domain.timeutil import utc_now

log = logging.getLogger("station.brokers")

CONNECTED = ConnectionState.CONNECTED
FIRST_LOOK_BACK = timedelta(days=1)  # what the first reconciliation after a start asks for, at least
MARGIN = timedelta(minutes=2)  # clocks differ, and a report may trail its event
SWEEP_S = 1.0


def wanted_destinations(config: RoutingConfig) -> dict[str, DestinationConfig]:
    """Every named destination plus one per NinjaTrader port any strategy lists."""
    wanted = {d.name: d for d in config.destinations}
    for strategy in config.strategies:
        for ticker in strategy.tickers:
            for port in ticker.ports:
                dest = port_destination(port)
                wanted[dest.name] = dest
    return wanted


class OrderDispatcher:
    """Component `brokers`: owns the brokers, reconciles each after it (re)connects, sends each order once."""

    name = "brokers"

    def __init__(self, context: BrokerContext, routing: Callable[[], RoutingConfig],
                 pending_limit_s: Callable[[], float]) -> None:
        self.bus = context.bus
        self.context = context
        self.orders = context.orders
        self._routing = routing
        self._pending_limit_s = pending_limit_s
        self.brokers: dict[str, Broker] = {}
        self.configs: dict[str, DestinationConfig] = {}
        self.unavailable: dict[str, str] = {}
        self.ready: set[str] = set()
        self._waiting: dict[str, OrderedDict[str, OrderRequest]] = {}
        self._queues: dict[str, asyncio.Queue] = {}
        self._workers: dict[str, asyncio.Task] = {}
        self._reconciling: dict[str, asyncio.Task] = {}
        self._queued: set[str] = set()  # client order ids waiting here or in a send queue
        self._exits: dict[str, tuple[OrderRequest, ...]] = {}  # a bracket entry's held exits
        self._down_since: dict[str, datetime] = {}
        self._started_at = utc_now()
        self._sweeper: asyncio.Task | None = None
        self._configuring = asyncio.Lock()  # config changes apply one after the other
        # commands are taken from the moment Station is built: what the oms sends at its start waits here
        self._unsubscribe = [self.bus.subscribe(SubmitOrder, self.on_submit),
                             self.bus.subscribe(CancelOrder, self.on_cancel),
                             self.bus.subscribe(ReplaceOrder, self.on_replace),
                             self.bus.subscribe(ConnectionChanged, self.on_connection)]

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._started_at = utc_now()
        self._unsubscribe.append(self.bus.subscribe(ConfigChanged, lambda _event: self.apply_config(self._routing())))
        await self.apply_config(self._routing())
        self._sweeper = asyncio.create_task(self._sweep(), name="pending-orders")

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._sweeper:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        for name in list(self.brokers):
            await self._stop_broker(name)

    async def apply_config(self, config: RoutingConfig) -> None:
        """Build brokers for new destinations, stop those no longer configured (or configured otherwise)."""
        async with self._configuring:
            await self._apply_config(config)

    async def _apply_config(self, config: RoutingConfig) -> None:
        wanted = wanted_destinations(config)
        for name in [n for n in self.brokers if n not in wanted or wanted[n] != self.configs.get(n)]:
            await self._stop_broker(name)
            if name not in wanted:  # gone from the config: its light goes too (not a link that is down)
                self.bus.publish(ConnectionChanged(name, "broker", ConnectionState.REMOVED, "no longer configured"))
        for name, dest in wanted.items():
            if name in self.brokers:
                continue
            self.configs[name] = dest
            try:
                broker = build(dest, self.context)
            except UnknownDestinationType as exc:
                self.unavailable[name] = str(exc)
                continue
            except Exception as exc:  # a bad destination must not stop the others
                log.exception("cannot build destination %s", name)
                self.unavailable[name] = f"destination {name} cannot start: {exc}"
                continue
            self.unavailable.pop(name, None)
            self.brokers[name] = broker
            self._queues[name] = asyncio.Queue()
            self._workers[name] = asyncio.create_task(self._work(name), name=f"send-{name}")
            # a test double may leave capabilities out: then it can do what a plain broker can
            capabilities = getattr(broker, "capabilities", BrokerCapabilities())
            self.bus.publish(DestinationBuilt(name, dest.type, capabilities))
            try:
                await broker.start()
            except Exception as exc:
                log.exception("destination %s failed to start", name)
                self.bus.publish(ConnectionChanged(name, "broker", ConnectionState.ERROR, str(exc)))
        for name, reason in self.unavailable.items():
            for request in list(self._waiting.get(name, {}).values()):
                self._reject(request, reason)

    async def _stop_broker(self, name: str) -> None:
        broker = self.brokers.pop(name)
        self.configs.pop(name, None)
        self.ready.discard(name)
        for task in (self._workers.pop(name, None), self._reconciling.pop(name, None)):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        queue = self._queues.pop(name, None)
        held = [queue.get_nowait() for _ in range(queue.qsize())] if queue is not None else []
        waiting = self._waiting.setdefault(name, OrderedDict())
        for request in reversed(held):  # what was about to go keeps its place, ahead of what waited
            waiting[request.client_order_id] = request
            waiting.move_to_end(request.client_order_id, last=False)
        try:
            await broker.stop()
        except Exception:
            log.exception("stopping destination %s failed", name)

    # ---- commands --------------------------------------------------------------------------

    def on_submit(self, command: SubmitOrder) -> None:
        """Queue an order for its destination; it waits while the destination is not ready."""
        request = command.request
        name = request.destination
        if name in self.unavailable:
            self._reject(request, self.unavailable[name])
            return
        if request.client_order_id in self._queued:
            return
        self._queued.add(request.client_order_id)
        if command.exits:
            self._exits[request.client_order_id] = command.exits
        if name in self.ready:
            self._queues[name].put_nowait(request)
        else:
            self._waiting.setdefault(name, OrderedDict())[request.client_order_id] = request

    async def on_cancel(self, command: CancelOrder) -> None:
        """Withdraw an order never sent, or ask its destination to cancel it."""
        order = self.orders.order(command.client_order_id)
        if order is None or order.status.is_terminal or _worked_by_station(self.orders, order.client_order_id):
            return  # unknown, final, or the oms's own (it cancels those itself)
        name = order.request.destination
        if order.status is OrderStatus.NEW:
            self._withdraw(order.request)
            self._report(order.request, OrderStatus.CANCELLED, "cancelled before it was sent")
            return
        broker = self.brokers.get(name)
        if broker is None:
            self._refused("Order not cancelled", f"{order.client_order_id}: {name} is not configured")
            return
        try:
            await broker.cancel(order.client_order_id)
        except BrokerError as exc:
            self._refused("Order not cancelled", f"{order.client_order_id}: {exc}")
            self.bus.publish(OrderActionRefused(name, order.client_order_id, "cancel", str(exc)))

    async def on_replace(self, command: ReplaceOrder) -> None:
        """Change a working order at its destination; `OrderReplaced` says it was done, a notice why not."""
        order = self.orders.order(command.client_order_id)
        what = "Order not changed"
        if order is None or order.status.is_terminal:
            self._refused(what, f"{command.client_order_id} is not a working order")
            return
        changes = {key: value for key, value in (("qty", command.qty), ("limit_price", command.limit_price),
                                                 ("stop_price", command.stop_price)) if value is not None}
        try:
            request = dataclasses.replace(order.request, **changes)
        except ValueError as exc:
            self._refused(what, f"{command.client_order_id}: {exc}")
            return
        if request.qty <= order.filled_qty:
            self._refused(what, f"{command.client_order_id}: {order.filled_qty} already filled; qty {request.qty} "
                                "would leave nothing to work")
            return
        name = request.destination
        if order.status is OrderStatus.NEW and self._replace_waiting(request):
            self.bus.publish(OrderReplaced(name, request))
            return
        broker = self.brokers.get(name)
        if broker is None or name not in self.ready:
            self._refused(what, f"{command.client_order_id}: {name} is not connected")
            return
        try:
            await broker.replace(request)
        except BrokerError as exc:
            self._refused(what, f"{command.client_order_id}: {exc}")
            self.bus.publish(OrderActionRefused(name, command.client_order_id, "change", str(exc)))
            return
        self.bus.publish(OrderReplaced(name, request))

    # ---- connection and reconciliation -------------------------------------------------------

    def on_connection(self, event: ConnectionChanged) -> None:
        broker = self.brokers.get(event.name)
        if broker is None:
            return
        if event.state is CONNECTED and broker.state is CONNECTED:
            if event.name not in self.ready and event.name not in self._reconciling:
                self._reconciling[event.name] = asyncio.create_task(self._reconcile(event.name, broker),
                                                                    name=f"reconcile-{event.name}")
            return
        if event.state is not CONNECTED:
            if event.name in self.ready:
                self.ready.discard(event.name)
                self._down_since[event.name] = utc_now()
            task = self._reconciling.pop(event.name, None)
            if task is not None and task is not asyncio.current_task():
                task.cancel()

    async def _reconcile(self, name: str, broker: Broker) -> None:
        """Ask what the destination holds, let the oms reconcile, then send what waited."""
        since = self._since(name)
        backoff = Backoff(0.25, 5.0)
        try:
            while True:
                try:
                    reports = await broker.reports(since)
                    break
                except Exception as exc:  # no trading before the book agrees: ask again while connected
                    delay = backoff.next()
                    log.warning("%s: cannot reconcile (%s); asking again in %.1f s", name, exc, delay)
                    await asyncio.sleep(delay)
                    if broker.state is not CONNECTED or self.brokers.get(name) is not broker:
                        return
            if broker.state is not CONNECTED or self.brokers.get(name) is not broker:
                return
            self.bus.publish(ReportsReceived(reports))
            log.info("reconciled %s", reports)
            self.ready.add(name)
            self._down_since.pop(name, None)
            queue = self._queues[name]
            for request in self._waiting.pop(name, OrderedDict()).values():
                queue.put_nowait(request)
        finally:
            if self._reconciling.get(name) is asyncio.current_task():
                del self._reconciling[name]

    def _since(self, name: str) -> datetime:
        """From when to ask: the last drop (or a day before this start), or the oldest open order, if older."""
        since = self._down_since.get(name, self._started_at - FIRST_LOOK_BACK)
        oldest = min((o.request.created_at for o in self.orders.open_orders(name)), default=since)
        return min(since, oldest) - MARGIN

    # ---- sending ----------------------------------------------------------------------------

    async def _work(self, name: str) -> None:
        queue = self._queues[name]
        while True:
            request = await queue.get()
            coid = request.client_order_id
            self._queued.discard(coid)
            order = self.orders.order(coid)
            if order is None or order.status is not OrderStatus.NEW:
                continue  # cancelled meanwhile, or forgotten (its row never committed)
            broker = self.brokers.get(name)
            if broker is None or name not in self.ready:  # down again: it waits for the next reconciliation
                self._queued.add(coid)
                self._waiting.setdefault(name, OrderedDict())[coid] = request
                continue
            exits = self._exits.pop(coid, ())
            try:
                if exits and _takes_bracket(broker, exits, self.orders):
                    await self._send_bracket(name, broker, request, exits)
                else:
                    await broker.submit(request)
            except BrokerError as exc:
                self._report(request, OrderStatus.REJECTED, str(exc))
                continue
            except Exception as exc:
                log.exception("sending %s to %s failed", coid, name)
                self._report(request, OrderStatus.REJECTED, f"{type(exc).__name__}: {exc}")
                continue
            current = self.orders.order(coid)
            if current is not None and current.status is OrderStatus.NEW:
                self._report(request, OrderStatus.SUBMITTED)

    async def _send_bracket(self, name: str, broker: Broker, request: OrderRequest,
                            exits: tuple[OrderRequest, ...]) -> None:
        """The entry with its exits in one request; refused in that form, the entry goes alone and the exits
        go back to the oms's exit manager (`ExitsDetached`, visibly)."""
        ids = tuple(e.client_order_id for e in exits)
        self.bus.publish(ExitsAttached(name, request.client_order_id, ids))
        try:
            await broker.submit_bracket(request, exits)
        except BracketRefused as exc:
            log.warning("%s refused the bracket of %s (%s); the entry goes alone", name, request.client_order_id, exc)
            self.bus.publish(ExitsDetached(name, request.client_order_id, ids, str(exc)))
            await broker.submit(request)

    async def _sweep(self) -> None:
        """Reject orders that waited too long for their destination."""
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                self.reject_stale()
            except Exception:
                log.exception("checking waiting orders failed")

    def reject_stale(self) -> None:
        limit = timedelta(seconds=self._pending_limit_s())
        now = utc_now()
        for name, waiting in list(self._waiting.items()):
            if name in self.ready:
                continue
            for request in [r for r in waiting.values() if now - r.created_at > limit]:
                self._reject(request, f"{name} was not available for {int(limit.total_seconds())} s; order not sent")

    # ---- helpers ----------------------------------------------------------------------------

    def _withdraw(self, request: OrderRequest) -> None:
        self._queued.discard(request.client_order_id)
        self._exits.pop(request.client_order_id, None)
        waiting = self._waiting.get(request.destination)
        if waiting is not None:
            waiting.pop(request.client_order_id, None)

    def _replace_waiting(self, request: OrderRequest) -> bool:
        """Change an order that still waits here (never sent); False if it is not here."""
        waiting = self._waiting.get(request.destination)
        if waiting is None or request.client_order_id not in waiting:
            return False
        waiting[request.client_order_id] = request
        return True

    def _reject(self, request: OrderRequest, reason: str) -> None:
        self._withdraw(request)
        self._report(request, OrderStatus.REJECTED, reason)

    def _report(self, request: OrderRequest, status: OrderStatus, reason: str | None = None) -> None:
        self.bus.publish(OrderReported(request.destination, request.client_order_id, status, reason=reason))

    def _refused(self, title: str, message: str) -> None:
        log.warning("%s: %s", title, message)
        self.bus.publish(Notified(title, message, "warning"))


def _worked_by_station(orders, client_order_id: str) -> bool:
    check = getattr(orders, "worked_by_station", None)
    return bool(check and check(client_order_id))


def _takes_bracket(broker: Broker, exits: tuple[OrderRequest, ...], orders) -> bool:
    """The destination takes the entry with these exits in one request: native brackets of these types, every
    exit priced (an offset resolved from the entry's expected price, or priced there) and still held."""
    capabilities = getattr(broker, "capabilities", BrokerCapabilities())
    if not capabilities.native_brackets or getattr(broker, "submit_bracket", None) is None:
        return False
    for request in exits:
        current = orders.order(request.client_order_id)
        if current is None or current.status is not OrderStatus.HELD:
            return False
        if request.order_type.value not in capabilities.order_types:
            return False
        if request.limit_price is None and request.stop_price is None and not (
                capabilities.offset_exits and request.offset is not None):
            return False
    return True
