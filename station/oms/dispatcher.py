"""Handing orders to destinations: one broker per destination, one ordered send queue each.

An order waits (persisted, status `new`) while its destination is not CONNECTED
and is sent once, in creation order, after the destination reports CONNECTED
(which a broker announces only after reconciling). An order that waited past
the configured limit is rejected, visibly, with the reason.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Awaitable, Callable

from station.brokers.protocol import Broker, BrokerError
from station.brokers.registry import BrokerContext, UnknownDestinationType, build_broker, port_destination_config
from station.domain.config import DestinationConfig, RoutingConfig
from station.domain.enums import ConnectionState, OrderStatus
from station.domain.events import ConnectionChanged
from station.domain.orders import Order
from station.domain.timeutil import utc_now
from station.oms.book import Book

log = logging.getLogger("station.oms")

# (order, new status, reason) -> persisted and published by the oms
UpdateOrder = Callable[[Order, OrderStatus, str | None], Awaitable[None]]


def wanted_destinations(config: RoutingConfig) -> dict[str, DestinationConfig]:
    """Every named destination plus one per NinjaTrader port any strategy lists."""
    wanted = {d.name: d for d in config.destinations}
    for strategy in config.strategies:
        for ticker in strategy.tickers:
            for port in ticker.ports:
                dest = port_destination_config(port)
                wanted[dest.name] = dest
    return wanted


class Dispatcher:
    """Owns the brokers and sends each order to its destination exactly once."""

    def __init__(self, book: Book, context: BrokerContext, update: UpdateOrder,
                 pending_limit_s: Callable[[], float], factories=None) -> None:
        self.book = book
        self.context = context
        self._update = update
        self._pending_limit_s = pending_limit_s
        self._factories = factories
        self.brokers: dict[str, Broker] = {}
        self.configs: dict[str, DestinationConfig] = {}
        self.unavailable: dict[str, str] = {}
        self._queues: dict[str, asyncio.Queue] = {}
        self._workers: dict[str, asyncio.Task] = {}
        self._queued: set[str] = set()
        self._sweeper: asyncio.Task | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    async def apply_config(self, config: RoutingConfig) -> None:
        """Build brokers for new destinations, stop those no longer configured."""
        wanted = wanted_destinations(config)
        for name in [n for n in self.brokers if n not in wanted or wanted[n] != self.configs.get(n)]:
            await self._stop_broker(name)
        for name, dest in wanted.items():
            if name in self.brokers:
                continue
            self.configs[name] = dest
            try:
                broker = build_broker(dest, self.context, self._factories)
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
            try:
                await broker.start()
            except Exception as exc:
                log.exception("destination %s failed to start", name)
                self.context.bus.publish(ConnectionChanged(name, "broker", ConnectionState.ERROR, str(exc)))
        for order in self.book.pending():
            reason = self.unavailable.get(order.request.destination)
            if reason:
                await self._update(order, OrderStatus.REJECTED, reason)
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep(), name="pending-orders")

    async def stop(self) -> None:
        if self._sweeper:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        for name in list(self.brokers):
            await self._stop_broker(name)

    async def _stop_broker(self, name: str) -> None:
        broker = self.brokers.pop(name)
        self.configs.pop(name, None)
        worker = self._workers.pop(name, None)
        self._queues.pop(name, None)
        if worker:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
        self._queued = {c for c in self._queued if self.book.orders.get(c) and self.book.orders[c].request.destination != name}
        try:
            await broker.stop()
        except Exception:
            log.exception("stopping destination %s failed", name)

    # ---- sending ---------------------------------------------------------------------------

    def is_connected(self, destination: str) -> bool:
        broker = self.brokers.get(destination)
        return broker is not None and broker.state is ConnectionState.CONNECTED

    def offer(self, order: Order) -> None:
        """Queue a new order for sending (it waits if its destination is down)."""
        name = order.request.destination
        if name in self.unavailable:
            asyncio.ensure_future(self._update(order, OrderStatus.REJECTED, self.unavailable[name]))
            return
        if self.is_connected(name):  # else it waits: down, or configured a moment ago and not built yet
            self._enqueue(order)

    def on_connection(self, event: ConnectionChanged) -> None:
        """A destination came back: send what waited for it, oldest first."""
        if event.state is ConnectionState.CONNECTED and event.name in self.brokers:
            for order in self.book.pending(event.name):
                self._enqueue(order)

    def _enqueue(self, order: Order) -> None:
        coid = order.client_order_id
        if coid in self._queued:
            return
        self._queued.add(coid)
        self._queues[order.request.destination].put_nowait(coid)

    async def _work(self, name: str) -> None:
        queue = self._queues[name]
        while True:
            coid = await queue.get()
            self._queued.discard(coid)
            order = self.book.orders.get(coid)
            broker = self.brokers.get(name)
            if order is None or order.status is not OrderStatus.NEW or broker is None:
                continue
            if broker.state is not ConnectionState.CONNECTED:
                continue  # stays pending; sent again when the destination reports CONNECTED
            try:
                await broker.submit(order.request)
            except BrokerError as exc:
                await self._update(self.book.orders[coid], OrderStatus.REJECTED, str(exc))
                continue
            except Exception as exc:
                log.exception("sending %s to %s failed", coid, name)
                await self._update(self.book.orders[coid], OrderStatus.REJECTED, f"{type(exc).__name__}: {exc}")
                continue
            current = self.book.orders[coid]
            if current.status is OrderStatus.NEW:
                # recorded in order behind the others, but not waited for: the next order of this
                # destination goes out now, not one disk flush later
                asyncio.ensure_future(self._update(current, OrderStatus.SUBMITTED, None))

    async def cancel(self, order: Order) -> None:
        """Cancel a working order at its destination, or at once if it was never sent."""
        if order.status is OrderStatus.NEW:
            await self._update(order, OrderStatus.CANCELLED, "cancelled before it was sent")
            return
        broker = self.brokers.get(order.request.destination)
        if broker is not None:
            await broker.cancel(order.client_order_id)

    async def _sweep(self) -> None:
        """Reject orders that waited too long for their destination."""
        while True:
            await asyncio.sleep(1.0)
            try:
                await self.reject_stale()
            except Exception:
                log.exception("checking waiting orders failed")

    async def reject_stale(self) -> None:
        limit = timedelta(seconds=self._pending_limit_s())
        now = utc_now()
        for order in self.book.pending():
            name = order.request.destination
            if now - order.request.created_at > limit and not self.is_connected(name) and order.client_order_id not in self._queued:
                await self._update(order, OrderStatus.REJECTED,
                                   f"{name} was not available for {int(limit.total_seconds())} s; order not sent")
