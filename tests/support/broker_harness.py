"""Helpers for broker tests: record what a broker publishes, wait for it, make order requests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from support.wait import NotMet, until
from station.bus import Bus
from station.domain.enums import ConnectionState, OrderStatus, OrderType, Side
from station.domain.events import ConnectionChanged, Event, FillReported, OrderReported, PositionReported
from station.domain.orders import OrderRequest
from station.domain.timeutil import utc_now

FAST = {"poll_s": 0.05, "idle_poll_s": 0.2, "reconnect_max_s": 0.2, "auth_retry_s": 0.2}


class Recorder:
    """Every event published on `bus`, in order."""

    def __init__(self, bus: Bus) -> None:
        self.events: list[Event] = []
        bus.subscribe(Event, self.events.append)

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
        """Until `predicate()` holds (`support.wait.until`); a failure shows the last events heard."""
        try:
            await until(predicate, timeout, interval=0.01, what=what)
        except NotMet as exc:
            raise NotMet(f"{exc}; events: {self.events[-12:]}") from None

    async def connected(self, broker, timeout: float = 5.0) -> None:
        await self.wait(lambda: broker.state is ConnectionState.CONNECTED, timeout, f"{broker.name} connected")


def request(coid: str, destination: str, ticker: str, side: str = "buy", qty: int = 10, *,
            order_type: OrderType = OrderType.MARKET, limit: str | None = None, stop: str | None = None,
            instrument: str | None = None, created_at: datetime | None = None, strategy: str = "Momentum") -> OrderRequest:
    return OrderRequest(
        client_order_id=coid, destination=destination, ticker=ticker, side=Side(side), qty=Decimal(qty),
        order_type=order_type, limit_price=Decimal(limit) if limit else None, stop_price=Decimal(stop) if stop else None,
        instrument=instrument, strategy=strategy, created_at=created_at or utc_now())


class Brokers:
    """Builds brokers for one destination in a test (each with its own bus and Recorder); stops them after."""

    def __init__(self, build, name: str, kind: str, params: dict) -> None:
        self.build, self.name, self.kind, self.params = build, name, kind, params
        self.made: list = []

    def __call__(self, secrets, **params):
        from station.domain.config import DestinationConfig

        bus = Bus()
        broker = self.build(DestinationConfig(self.name, self.kind, {**self.params, **params}), bus, secrets, **FAST)
        self.made.append(broker)
        return broker, Recorder(bus)

    async def stop_all(self) -> None:
        for broker in self.made:
            await broker.stop()
