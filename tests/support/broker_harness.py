"""Helpers for broker tests: record what a broker publishes, drive it with the real dispatcher, make requests."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from support.wait import NotMet, until
from station.brokers.dispatcher import OrderDispatcher
from station.brokers.registry import BROKER_FACTORIES, BrokerContext
from station.bus import Bus
from station.domain.commands import SubmitOrder
from station.domain.config import DestinationConfig, RoutingConfig
from station.queries_brokers import NoOrders
from station.domain.enums import ConnectionState, OrderStatus, OrderType, Side
from station.domain.events import (
    ConnectionChanged,
    Event,
    FillReported,
    OrderReported,
    PositionReported,
    ReportsReceived,
)
from station.domain.orders import TRANSITIONS, Order, OrderRequest
from station.domain.timeutil import utc_now

FAST = {"poll_s": 0.05, "idle_poll_s": 0.2, "reconnect_max_s": 0.2, "auth_retry_s": 0.2}


def calls(owner, name: str):
    """Count the calls of `owner.name` (a coroutine method) from now on; returns the counter (to wait for
    some attempts to pass, never a bare sleep)."""
    count = [0]
    method = getattr(owner, name)

    async def counted(*args, **kwargs):
        count[0] += 1
        return await method(*args, **kwargs)

    setattr(owner, name, counted)
    return lambda: count[0]


def unpacked(event: Event) -> list[Event]:
    """An event as the reports it stands for: a reconciliation's `ReportsReceived` is its orders, fills and
    positions (in the order the oms applies them), anything else itself."""
    if not isinstance(event, ReportsReceived):
        return [event]
    reports = event.reports
    return [*(FillReported(fill) for fill in reports.fills), *reports.orders, *reports.positions]


class Recorder:
    """Every event published on `bus`, in order (a reconciliation's reports unpacked, see `unpacked`)."""

    def __init__(self, bus: Bus) -> None:
        self.events: list[Event] = []
        self.reconciliations: list[ReportsReceived] = []
        bus.subscribe(Event, self._record)

    def _record(self, event: Event) -> None:
        if isinstance(event, ReportsReceived):
            self.reconciliations.append(event)
        self.events.extend(unpacked(event))

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def statuses(self, coid: str) -> list[OrderStatus]:
        return [e.status for e in self.of(OrderReported) if e.client_order_id == coid]

    def fills(self, coid: str) -> list[FillReported]:
        return [e for e in self.of(FillReported) if e.fill.client_order_id == coid]

    def positions(self, ticker: str) -> list[PositionReported]:
        return [e for e in self.of(PositionReported) if e.ticker == ticker]

    def states(self) -> list[ConnectionState]:
        return [e.state for e in self.of(ConnectionChanged)]

    async def wait(self, predicate, timeout: float = 5.0, what: str = "condition") -> None:
        try:
            await until(predicate, timeout, what=what)
        except NotMet as exc:  # the events as they stand at the deadline, not as they stood when the wait began
            raise NotMet(f"{exc}; events: {self.events[-12:]}") from None

    async def connected(self, broker, timeout: float = 5.0) -> None:
        await self.wait(lambda: broker.state is ConnectionState.CONNECTED, timeout, f"{broker.name} connected")

    async def reconciled(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until the dispatcher has reconciled `count` times (a connect, then each reconnect)."""
        await self.wait(lambda: len(self.reconciliations) >= count, timeout, f"{count} reconciliations")


class Driven:
    """Brokers a test made, driven by the real dispatcher as Station drives them: it starts each, and after
    every (re)connect asks its `reports(since)` and publishes them (`ReportsReceived`) before anything new
    goes there. Tests may still call a broker's `submit` and `cancel` directly. Stops them all at the end."""

    def __init__(self, monkeypatch, data_dir: Path) -> None:
        self.monkeypatch, self.data_dir = monkeypatch, data_dir
        self.dispatchers: list[OrderDispatcher] = []

    async def __call__(self, broker, bus: Bus, kind: str = "under-test", orders=None) -> OrderDispatcher:
        """Drive `broker` (type `kind`); `orders` is the book the dispatcher reads before it sends (none: the
        test calls `submit` itself)."""
        self.monkeypatch.setitem(BROKER_FACTORIES, kind, lambda destination, context: broker)
        routing = RoutingConfig(revision=1, destinations=(DestinationConfig(broker.name, kind, {}),))
        context = BrokerContext(bus, self.data_dir, orders=orders or NoOrders())
        dispatcher = OrderDispatcher(context, lambda: routing, lambda: 3600.0)
        self.dispatchers.append(dispatcher)
        await dispatcher.start()
        return dispatcher

    async def stop_all(self) -> None:
        for dispatcher in self.dispatchers:
            await dispatcher.stop()


class AskedOrders:
    """The oms's book as far as these tests need it: an order asked for (`SubmitOrder`) stays new until its
    destination reports it; the dispatcher sends only what the book still has as new."""

    def __init__(self, bus: Bus) -> None:
        self.orders: dict[str, Order] = {}
        bus.subscribe(OrderReported, self._reported)

    def ask(self, bus: Bus, request: OrderRequest) -> None:
        """Record `request` as a new order and ask for it to be sent."""
        self.orders[request.client_order_id] = Order(request)
        bus.publish(SubmitOrder(request))

    def _reported(self, event: OrderReported) -> None:
        order = self.orders.get(event.client_order_id)
        if order is not None and event.status in TRANSITIONS[order.status]:
            self.orders[event.client_order_id] = dataclasses.replace(order, status=event.status)

    def order(self, client_order_id: str):
        return self.orders.get(client_order_id)

    def open_orders(self, destination=None):
        return [o for o in self.orders.values() if not o.status.is_terminal]


def request(coid: str, destination: str, ticker: str, side: str = "buy", qty: int = 10, *,
            order_type: OrderType = OrderType.MARKET, limit: str | None = None, stop: str | None = None,
            instrument: str | None = None, created_at: datetime | None = None, strategy: str = "Momentum") -> OrderRequest:
    return OrderRequest(
        client_order_id=coid, destination=destination, ticker=ticker, side=Side(side), qty=Decimal(qty),
        order_type=order_type, limit_price=Decimal(limit) if limit else None, stop_price=Decimal(stop) if stop else None,
        instrument=instrument, strategy=strategy, created_at=created_at or utc_now())


class Brokers:
    """Builds REST brokers for one destination in a test (each with its own bus and Recorder), driven by the
    real dispatcher (see `Driven`); stops them after."""

    def __init__(self, build, name: str, kind: str, params: dict, driven: Driven | None = None) -> None:
        self.build, self.name, self.kind, self.params = build, name, kind, params
        self.driven = driven
        self.made: list = []

    async def __call__(self, secrets, *, resume=(), **params):
        """(broker, recorder): started and driven (given `driven`), else only made."""
        bus = Bus()
        recorder = Recorder(bus)
        context = BrokerContext(bus, Path("."), secrets=secrets, orders=_Resumed(list(resume)))
        broker = self.build(DestinationConfig(self.name, self.kind, {**self.params, **params}), context, **FAST)
        self.made.append(broker)
        if self.driven is not None:
            await self.driven(broker, bus)
        return broker, recorder

    async def stop_all(self) -> None:
        if self.driven is not None:
            await self.driven.stop_all()
        for broker in self.made:
            await broker.stop()


class _Resumed:
    """The oms's book as a restarted broker sees it: the orders it had sent there."""

    def __init__(self, orders: list) -> None:
        self._orders = orders

    def order(self, client_order_id: str):
        return next((o for o in self._orders if o.client_order_id == client_order_id), None)

    def open_orders(self, destination: str | None = None) -> list:
        return [o for o in self._orders if destination is None or o.request.destination == destination]
