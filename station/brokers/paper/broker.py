"""Paper trading on `PaperSimulator` (the contract's paper fill rule): market orders fill at once, in full, at
the last price (the feed's, else the order's own); limit, stop, stop-limit and trailing stop orders work until
a trade crosses them; orders sharing an `oco_group` cancel each other (a bracket's exits); a working order is
changed in place. Deterministic for a given sequence of prices.

Its prices: the feed's trades (`TickReceived`) and each row of a script's market data, as one trade at its
close (`MarketDataReceived`; the ticks the bar hub then makes of the same rows are not counted twice).
It reports like any broker, on the bus, and answers `reports(since)` from what it did in this process; the
book is the durable record. At a start it takes back the working orders of the last run (a trailing stop
keeps the level it had reached); a market order of the last run that was sent but whose fill was never
recorded (Station stopped in between) is reported rejected by its first `reports`, so none stays `submitted`.

An order for an option contract (its instrument an OCC symbol, e.g. a 0DTE SPXW call) is priced
by that contract alone: its own quote, else the order's price; never the underlying's or the root's.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime
from decimal import Decimal
from typing import Callable, Iterable

from station.brokers.paper.simulator import Cancelled, Filled, Outcome, PaperSimulator, Rejected, SimOrder, Trail, Working
from station.brokers.protocol import BrokerCapabilities, BrokerError, BrokerReports
from station.brokers.rest.symbols import parse_option
from station.bus import Bus
from station.domain.enums import ConnectionState, OrderStatus, OrderType
from station.domain.events import (
    ConnectionChanged,
    FillReported,
    MarketDataReceived,
    OrderReported,
    StopMoved,
    TickReceived,
)
from station.domain.fills import Fill
from station.domain.orders import Order, OrderRequest
from station.domain.timeutil import utc_now

log = logging.getLogger("station.brokers.paper")

FILLS_KEPT = 20_000  # for reports(since): far more than a session's worth
LOST = "Station stopped before this paper order's fill was recorded: it did not trade"


def _price(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _priced_by(request: OrderRequest) -> str:
    """The symbol whose price fills `request`: an option contract's own, else the ticker's."""
    if request.instrument and parse_option(request.instrument) is not None:
        return request.instrument.upper()
    return request.ticker.upper()


def _trail(request: OrderRequest) -> Trail | None:
    offset = request.offset
    if request.order_type is not OrderType.TRAILING_STOP or offset is None:
        return None
    if offset.unit == "percent":
        return Trail(percent=offset.value)
    return Trail(points=offset.distance(Decimal(0), request.tick_size))


class PaperBroker:
    """A simulated destination living in this process."""

    capabilities = BrokerCapabilities(
        native_replace=True, native_oco=True, order_types=("market", "limit", "stop", "stop_limit", "trailing_stop"),
        notes=("fills by the contract's paper rule at the feed's trades; no slippage, no commission",))

    def __init__(self, name: str, bus: Bus, last_price: Callable[[str], Decimal | None],
                 open_orders: Iterable[Order] = ()) -> None:
        self.name = name
        self.state = ConnectionState.DISCONNECTED
        self._bus = bus
        self._last_price = last_price
        self.simulator = PaperSimulator()
        self._requests: dict[str, OrderRequest] = {}  # what was sent here, by client order id
        self._fills: dict[str, int] = {}
        self._filled: deque[Fill] = deque(maxlen=FILLS_KEPT)  # the fills made in this process, oldest first
        self._restore = list(open_orders)
        self._lost: list[OrderReported] = []
        self._row_times: dict[str, datetime] = {}  # the latest script row per symbol
        self._unsubscribe: list[Callable[[], None]] = []

    async def start(self) -> None:
        for order in self._restore:
            request = order.request
            if order.status in (OrderStatus.NEW, OrderStatus.HELD) or request.destination != self.name:
                continue  # the oms sends these (again) itself
            if request.order_type is OrderType.MARKET:
                # sent in the last run, its fill never recorded: Station stopped in between
                self._lost.append(OrderReported(self.name, order.client_order_id, OrderStatus.REJECTED, reason=LOST))
                continue
            self._requests[order.client_order_id] = request
            self._fills[order.client_order_id] = 0
            self.simulator.submit(self._sim_order(request))  # working again, as it was
        self._restore = []
        self._unsubscribe = [self._bus.subscribe(TickReceived, self._on_tick),
                             self._bus.subscribe(MarketDataReceived, self._on_rows)]
        self._set_state(ConnectionState.CONNECTED)

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self._set_state(ConnectionState.DISCONNECTED)

    # ---- orders ----------------------------------------------------------------------------

    async def submit(self, request: OrderRequest) -> None:
        symbol = _priced_by(request)
        if request.order_type is OrderType.MARKET and self.simulator.last(symbol) is None:
            if (self._last_price(symbol) or request.price_hint) is None:
                what = f"option {symbol}: no quote for it" if symbol != request.ticker.upper() else \
                    f"{request.ticker}: no market data"
                self._report(request.client_order_id, OrderStatus.REJECTED, f"no price for {what} and the order carries none")
                return
        self._requests[request.client_order_id] = request
        self._apply(self.simulator.submit(self._sim_order(request)))

    async def cancel(self, client_order_id: str) -> None:
        self._apply(self.simulator.cancel(client_order_id, "cancelled"))

    async def replace(self, request: OrderRequest) -> None:
        """Change a working order in place: its quantity and prices apply from the next price on."""
        working = next((o for o in self.simulator.working() if o.order_id == request.client_order_id), None)
        if working is None:
            raise BrokerError(f"{self.name} has no working order {request.client_order_id}")
        sent = self._requests[request.client_order_id]
        if request.order_type is not sent.order_type or request.side is not sent.side:
            raise BrokerError(f"{request.client_order_id}: only the quantity and prices of a working order change")
        self.simulator.replace(request.client_order_id, qty=request.qty, limit_price=request.limit_price,
                         stop_price=request.stop_price)
        self._requests[request.client_order_id] = request
        self._report(request.client_order_id, OrderStatus.WORKING)

    async def reports(self, since: datetime) -> BrokerReports:
        """Working orders, the fills made since `since` (in this process), market orders of the last run lost
        in flight (rejected); no positions of its own."""
        working = tuple(OrderReported(self.name, o.order_id, OrderStatus.WORKING) for o in self.simulator.working())
        lost, self._lost = tuple(self._lost), []
        fills = tuple(fill for fill in self._filled if fill.time >= since)
        return BrokerReports(self.name, since, orders=lost + working, fills=fills)

    def _sim_order(self, request: OrderRequest) -> SimOrder:
        symbol = _priced_by(request)
        hint = self._last_price(symbol) or request.price_hint
        return SimOrder(request.client_order_id, symbol, request.side, request.qty, request.order_type,
                        request.limit_price, request.stop_price, _trail(request), request.oco_group, hint)

    # ---- prices ----------------------------------------------------------------------------

    def _on_tick(self, event: TickReceived) -> None:
        symbol = event.tick.symbol.upper()
        rows_until = self._row_times.get(symbol)
        if rows_until is not None and event.tick.time <= rows_until:
            return  # the bar hub's tick of script rows already taken one by one
        self._trade(symbol, _price(event.tick.price))

    def _on_rows(self, event: MarketDataReceived) -> None:
        for row in event.rows:
            symbol = row.symbol.upper()
            self._row_times[symbol] = max(row.time, self._row_times.get(symbol, row.time))
            self._trade(symbol, _price(row.close))

    def _trade(self, symbol: str, price: Decimal) -> None:
        self._apply(self.simulator.on_trade(symbol, price))
        for order_id, stop in self.simulator.take_moves():
            self._bus.publish(StopMoved(self.name, order_id, stop))

    # ---- reports ---------------------------------------------------------------------------

    def _apply(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            if isinstance(outcome, Filled):
                self._fill(outcome)
            elif isinstance(outcome, Working):
                self._report(outcome.order_id, OrderStatus.WORKING)
            elif isinstance(outcome, Cancelled):
                self._report(outcome.order_id, OrderStatus.CANCELLED, outcome.reason)
            elif isinstance(outcome, Rejected):
                self._report(outcome.order_id, OrderStatus.REJECTED, outcome.reason)

    def _fill(self, filled: Filled) -> None:
        request = self._requests[filled.order_id]
        count = self._fills.get(filled.order_id, 0) + 1
        self._fills[filled.order_id] = count
        fill = Fill(fill_id=f"{filled.order_id}-f{count}", client_order_id=filled.order_id, destination=self.name,
                    ticker=request.ticker, side=request.side, qty=filled.qty, price=filled.price, time=utc_now(),
                    strategy=request.strategy)
        self._filled.append(fill)
        self._bus.publish(FillReported(fill))

    def _report(self, client_order_id: str, status: OrderStatus, reason: str | None = None) -> None:
        self._bus.publish(OrderReported(self.name, client_order_id, status, reason=reason))

    def _set_state(self, state: ConnectionState) -> None:
        self.state = state
        self._bus.publish(ConnectionChanged(self.name, "broker", state, "paper trading"))
