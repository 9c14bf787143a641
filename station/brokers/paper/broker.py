"""Paper trading: market orders fill at once, in full, at the feed's last price (else the alert's price);
limit and stop orders work until a later price crosses them; a working order is changed in place.
Reports like any broker, on the bus, and answers `reports(since)` from what it did in this process
(it holds no positions of its own: the book is the durable record).

An order for an option contract (its instrument an OCC symbol, e.g. a 0DTE SPXW call) is priced
by that contract alone: its own quote, else the order's price; never the underlying's or the root's.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime
from decimal import Decimal
from typing import Callable, Iterable

from station.brokers.protocol import BrokerCapabilities, BrokerError, BrokerReports
from station.brokers.rest.symbols import parse_option
from station.bus import Bus
from station.domain.enums import ConnectionState, OrderStatus, OrderType, Side
from station.domain.events import BarUpdated, ConnectionChanged, FillReported, OrderReported, TickReceived
from station.domain.fills import Fill
from station.domain.orders import Order, OrderRequest
from station.domain.timeutil import utc_now

log = logging.getLogger("station.brokers.paper")

FILLS_KEPT = 20_000  # for reports(since): far more than a session's worth


def _price(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _priced_by(request: OrderRequest) -> str:
    """The symbol whose price fills `request`: an option contract's own, else the ticker's."""
    if request.instrument and parse_option(request.instrument) is not None:
        return request.instrument
    return request.ticker


class PaperBroker:
    """A simulated destination living in this process."""

    capabilities = BrokerCapabilities(native_replace=True,
                                      notes=("fills at the last price; no slippage, no commission",))

    def __init__(self, name: str, bus: Bus, last_price: Callable[[str], Decimal | None],
                 open_orders: Iterable[Order] = ()) -> None:
        self.name = name
        self.state = ConnectionState.DISCONNECTED
        self._bus = bus
        self._last_price = last_price
        self._working: dict[str, OrderRequest] = {}
        self._triggered: set[str] = set()
        self._fills: dict[str, int] = {}
        self._filled: deque[Fill] = deque(maxlen=FILLS_KEPT)  # the fills made in this process, oldest first
        self._restore = list(open_orders)
        self._unsubscribe: list[Callable[[], None]] = []

    async def start(self) -> None:
        # working limit/stop orders of a previous run keep working (the book is durable, this broker is not)
        for order in self._restore:
            if order.request.order_type is not OrderType.MARKET and order.status is not OrderStatus.NEW:
                self._working[order.client_order_id] = order.request
                self._fills[order.client_order_id] = 0
        self._unsubscribe = [self._bus.subscribe(TickReceived, self._on_tick),
                             self._bus.subscribe(BarUpdated, self._on_bar)]
        self._set_state(ConnectionState.CONNECTED)

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self._set_state(ConnectionState.DISCONNECTED)

    async def submit(self, request: OrderRequest) -> None:
        if request.order_type is OrderType.MARKET:
            symbol = _priced_by(request)
            price = self._last_price(symbol) or request.price_hint
            if price is None:
                what = f"option {symbol}: no quote for it" if symbol != request.ticker else f"{symbol}: no market data"
                self._report(request, OrderStatus.REJECTED, f"no price for {what} and the order carries none")
                return
            self._fill(request, price)
            return
        self._working[request.client_order_id] = request
        self._report(request, OrderStatus.WORKING)

    async def cancel(self, client_order_id: str) -> None:
        request = self._working.pop(client_order_id, None)
        if request is not None:
            self._triggered.discard(client_order_id)
            self._report(request, OrderStatus.CANCELLED, "cancelled")

    async def replace(self, request: OrderRequest) -> None:
        """Change a working order in place: its quantity and prices apply from the next price on."""
        working = self._working.get(request.client_order_id)
        if working is None:
            raise BrokerError(f"{self.name} has no working order {request.client_order_id}")
        if request.order_type is not working.order_type or request.side is not working.side:
            raise BrokerError(f"{request.client_order_id}: only the quantity and prices of a working order change")
        self._working[request.client_order_id] = request
        self._report(request, OrderStatus.WORKING)

    async def reports(self, since: datetime) -> BrokerReports:
        """Working orders, and the fills made since `since` (in this process); no positions of its own."""
        working = tuple(OrderReported(self.name, coid, OrderStatus.WORKING) for coid in self._working)
        fills = tuple(fill for fill in self._filled if fill.time >= since)
        return BrokerReports(self.name, since, orders=working, fills=fills)

    # ---- prices ----------------------------------------------------------------------------

    def _on_tick(self, event: TickReceived) -> None:
        price = _price(event.tick.price)
        self._cross(event.tick.symbol, price, price, price)

    def _on_bar(self, event: BarUpdated) -> None:
        bar = event.bar
        self._cross(bar.symbol, _price(bar.low), _price(bar.high), None)

    def _cross(self, symbol: str, low: Decimal, high: Decimal, trade: Decimal | None) -> None:
        """Fill working orders of `symbol` that a price range [low, high] reaches."""
        upper = symbol.upper()
        for coid, request in list(self._working.items()):
            if _priced_by(request).upper() != upper:
                continue
            buy = request.side is Side.BUY
            if request.order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and coid not in self._triggered:
                stop = request.stop_price
                if not (high >= stop if buy else low <= stop):
                    continue
                if request.order_type is OrderType.STOP:
                    self._working.pop(coid)
                    fill = stop if trade is None else (max(stop, trade) if buy else min(stop, trade))
                    self._fill(request, fill)
                    continue
                self._triggered.add(coid)
            limit = request.limit_price
            if buy and low <= limit or not buy and high >= limit:
                self._working.pop(coid)
                self._triggered.discard(coid)
                fill = limit if trade is None else (min(limit, trade) if buy else max(limit, trade))
                self._fill(request, fill)

    # ---- reports ---------------------------------------------------------------------------

    def _fill(self, request: OrderRequest, price: Decimal) -> None:
        count = self._fills.get(request.client_order_id, 0) + 1
        self._fills[request.client_order_id] = count
        fill = Fill(fill_id=f"{request.client_order_id}-f{count}", client_order_id=request.client_order_id,
                    destination=self.name, ticker=request.ticker, side=request.side, qty=request.qty, price=price,
                    time=utc_now(), strategy=request.strategy)
        self._filled.append(fill)
        self._bus.publish(FillReported(fill))

    def _report(self, request: OrderRequest, status: OrderStatus, reason: str | None = None) -> None:
        self._bus.publish(OrderReported(self.name, request.client_order_id, status, reason=reason))

    def _set_state(self, state: ConnectionState) -> None:
        self.state = state
        self._bus.publish(ConnectionChanged(self.name, "broker", state, "paper trading"))

