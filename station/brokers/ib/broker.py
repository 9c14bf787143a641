"""The IB destination: orders to TWS/IB Gateway through ib_async, reports back, and a link that heals itself.

`start()` returns at once; a background task connects (only ib_async's `*Async`
calls, ib_async imported there), takes over IB's open orders and id sequence, restores
market data and reports CONNECTED. After a drop (TWS restarts daily) it reconnects with
the shared back-off and does the same. What IB holds then (executions first, then order
statuses, then positions) is `reports(since)`'s answer, which the dispatcher asks for
before it sends anything new; until then positions are not reported on their own (they
would run ahead of the fills). Order ids only ever grow (never error 103). A working
order is changed in place (placeOrder again with its id: IB's modify).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import date, datetime
from typing import Any, Callable, Iterable

from station.brokers.protocol import BrokerCapabilities, BrokerError, BrokerReports
from station.brokers.ib import parsing
from station.brokers.ib.account import AccountWatch
from station.brokers.ib.config import IBSettings
from station.brokers.ib.link import IBLink
from station.brokers.ib.pacing import Pacer
from station.brokers.ib.reports import ReportLedger, Reporter
from station.brokers.ib.symbols import UnknownSymbol
from station.bus import Bus
from station.domain.commands import ResolveContract
from station.domain.contract_map import ContractMapping
from station.domain.enums import ConnectionState, OrderStatus, OrderType
from station.domain.events import ConfigChanged, ContractResolved, FillReported, Notified, OrderReported, PositionReported
from station.domain.orders import OrderRequest
from station.domain.timeutil import EASTERN, utc_now

log = logging.getLogger("station.brokers.ib")

LOST_IN_FLIGHT = ("TWS never confirmed this order before the connection dropped and IB does not list it: "
                  "it did not trade and was not sent again")


def eastern_today() -> date:
    """Today's date in New York (the exchanges' day, for front months and 0DTE expiries)."""
    return datetime.now(EASTERN).date()


class IBBroker:
    """One IB destination (a `{"type": "ib", …}` entry), behind the `Broker` protocol."""

    capabilities = BrokerCapabilities(
        native_brackets=True, native_replace=True,
        order_types=("market", "limit", "stop", "stop_limit", "trailing_stop"),
        notes=("brackets: the entry as parent, its exits as children in one OCA group (ib_async's bracketOrder)",
               "trailing stops: IB's TRAIL", "orderRef = client order id"))

    def __init__(self, name: str, settings: IBSettings, bus: Bus, *,
                 mappings: Callable[[], Iterable[ContractMapping]] = tuple,
                 today: Callable[[], date] = eastern_today) -> None:
        self.name = name
        self.settings = settings
        self.bus = bus
        self.ledger = ReportLedger()
        self.link = IBLink(name, settings, bus, on_connected=self._on_link_up, on_error=self._on_error)
        self._mappings = mappings
        self._today = today
        self.resolver = None  # ContractResolver, made with the IB client on first connect
        self.feed = None  # IBMarketData when the destination streams market data
        self.reporter = Reporter(name, bus, self.ledger, self.ticker_for, settings.account)
        self.account_watch = AccountWatch(name, bus)  # balance, buying power, day's PnL for the window
        self._trades: dict[str, Any] = {}  # client order id -> ib_async Trade
        self._max_order_id = 0
        self.pacer = Pacer()
        self._positions_held = True  # until reports(since) after a (re)connect told them, after the fills
        self._refused_exits: set[str] = set()  # bracket children IB rejected (their entry is cancelled once)
        self._unsubscribe: list[Callable[[], None]] = []

    @property
    def state(self) -> ConnectionState:
        return self.link.state

    # ---- lifetime -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Begin connecting in the background; returns at once."""
        self._unsubscribe = [self.bus.subscribe(ConfigChanged, self._on_config),
                             self.bus.subscribe(ResolveContract, self._on_resolve)]
        self.link.start()

    async def stop(self) -> None:
        """Report what is pending, disconnect, stop reconnecting."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self.reporter.flush_held()
        await self.link.stop()

    # ---- orders -------------------------------------------------------------------------------

    async def submit(self, request: OrderRequest) -> None:
        """Send one order; results arrive as reports."""
        await self._place(request, ())

    async def submit_bracket(self, entry: OrderRequest, exits: tuple[OrderRequest, ...]) -> None:
        """Send an entry with its protective exits in ib_async's `bracketOrder` shape: the parent with `transmit`
        off, then its children (`parentId`; the target first, the stops after it, as `bracketOrder` orders
        them), the last one transmitting the family; the children also share one OCA group."""
        await self._place(entry, tuple(sorted(exits, key=lambda x: x.order_type is not OrderType.LIMIT)))

    async def _place(self, request: OrderRequest, legs: tuple[OrderRequest, ...]) -> None:
        self._require_connected()
        coid = request.client_order_id
        if coid in self.ledger.requests or coid in self._trades:
            log.info("%s: %s is already at IB; not sent again", self.name, coid)
            if coid in self._trades:
                self.reporter.status(self._trades[coid])
            return
        try:
            contract = await self.resolver.resolve(request.symbol)
        except UnknownSymbol as exc:
            raise BrokerError(f"{request.symbol}: {exc}") from None
        except (ConnectionError, asyncio.TimeoutError):
            raise BrokerError(f"lost the connection to TWS while looking up {request.symbol}") from None
        await self.pacer.take(1 + len(legs))  # a burst of alerts goes out no faster than TWS accepts
        self._require_connected()
        if coid in self.ledger.requests:
            return  # the same order id was sent by a concurrent call while the contract was looked up
        try:
            orders = self._build_orders(request, legs)
        except ValueError as exc:
            raise BrokerError(str(exc)) from None
        requests = (request, *legs)
        for each in requests:
            self.ledger.requests[each.client_order_id] = each
        self.ledger.con_tickers.setdefault(contract.conId, request.ticker)
        try:
            for order in orders:
                self._trades[order.orderRef] = self.link.ib.placeOrder(contract, order)
            orders[0].transmit = True  # the family went out with its last child (a cancel is then TWS's to confirm)
        except ConnectionError:
            for each in requests:
                if each.client_order_id not in self._trades:
                    self.ledger.requests.pop(each.client_order_id, None)
            if coid not in self._trades:
                raise BrokerError("the connection to TWS dropped before the order went out") from None

    async def replace(self, request: OrderRequest) -> None:
        """Change a working order's quantity and prices in place (IB's modify: the same order id again)."""
        self._require_connected()
        coid = request.client_order_id
        trade = self._trades.get(coid)
        if trade is None:
            raise BrokerError(f"{self.name} has no order {coid}")
        if trade.isDone():
            raise BrokerError(f"{coid} is already {trade.orderStatus.status.lower()} at IB")
        order = trade.order
        fields = parsing.order_fields(request, account=self.settings.account)
        if fields["action"] != order.action or fields["orderType"] != order.orderType:
            raise BrokerError(f"{coid}: only the quantity and prices of a working order change")
        order.totalQuantity = fields["totalQuantity"]
        order.lmtPrice = fields.get("lmtPrice", order.lmtPrice)
        order.auxPrice = fields.get("auxPrice", order.auxPrice)
        if order.orderType == "TRAIL" and request.stop_price is not None:
            order.trailStopPrice = parsing.ib_price(request.stop_price)  # where the trailing stop stands now
        await self.pacer.take()
        try:
            self._trades[coid] = self.link.ib.placeOrder(trade.contract, order)
        except ConnectionError:
            raise BrokerError("the connection to TWS dropped; the change was not sent") from None
        self.ledger.requests[coid] = request

    async def reports(self, since: datetime) -> BrokerReports:
        """IB's executions since `since` (those not reported yet), its orders' statuses (orders lost in a drop
        rejected), and its positions (one closed meanwhile reported flat)."""
        ib = self.link.ib
        if ib is None or self.link.state is not ConnectionState.CONNECTED:
            raise BrokerError(f"{self.name} is not connected to TWS ({self.link.state}: {self.link.detail})")
        self.reporter.flush_held()  # executions waiting for their commission go out first, as they are
        with self.reporter.collecting() as gathered:
            self._report_state(ib, since)
        self._positions_held = False
        return BrokerReports(
            self.name, since,
            orders=tuple(e for e in gathered if isinstance(e, OrderReported)),
            fills=tuple(e.fill for e in gathered if isinstance(e, FillReported)),
            positions=tuple(e for e in gathered if isinstance(e, PositionReported)))

    def _build_orders(self, request: OrderRequest, legs: tuple[OrderRequest, ...]) -> list:
        import ib_async

        account = self.settings.account
        fields = [parsing.order_fields(each, account=account) for each in (request, *legs)]  # ValueError: none sent
        parent = ib_async.Order(orderId=self._next_order_id(), **fields[0])
        if not legs:
            return [parent]
        parent.transmit = False  # TWS holds the entry until its last exit arrives, so all go live together
        orders = [parent]
        oca = legs[0].oco_group or f"{request.client_order_id}-oco"
        for index, leg_fields in enumerate(fields[1:]):
            orders.append(ib_async.Order(orderId=self._next_order_id(), parentId=parent.orderId, ocaGroup=oca,
                                         ocaType=1, transmit=index == len(legs) - 1, **leg_fields))
        return orders

    def _next_order_id(self) -> int:
        order_id = self.link.ib.client.getReqId()
        self._max_order_id = max(self._max_order_id, order_id)
        return order_id

    async def cancel(self, client_order_id: str) -> None:
        """Ask TWS to cancel a working order; the outcome arrives as an OrderReported."""
        self._require_connected()
        trade = self._trades.get(client_order_id)
        if trade is None:
            raise BrokerError(f"{self.name} has no order {client_order_id}")
        if trade.isDone():
            raise BrokerError(f"{client_order_id} is already {trade.orderStatus.status.lower()} at IB")
        await self.pacer.take()
        try:
            self.link.ib.cancelOrder(trade.order)
        except ConnectionError:
            raise BrokerError("the connection to TWS dropped; the cancel was not sent") from None

    def _require_connected(self) -> None:
        if self.link.state is not ConnectionState.CONNECTED:
            raise BrokerError(f"{self.name} is not connected to TWS/IB Gateway at {self.settings.address} "
                              f"({self.link.state}: {self.link.detail})")

    # ---- connecting and reconciling -------------------------------------------------------------

    async def _on_link_up(self, ib, *, full: bool) -> str:
        """Called by the link after each (re)connect, before CONNECTED is reported; returns a summary."""
        if self.resolver is None:
            self._wire(ib)
        self._positions_held = True
        if not full:  # TWS got its own link back (1101/1102): ask again what may have changed meanwhile
            await asyncio.wait_for(asyncio.gather(ib.reqPositionsAsync(), ib.reqOpenOrdersAsync()),
                                   self.settings.connect_timeout_s)
            await asyncio.wait_for(ib.reqExecutionsAsync(), self.settings.connect_timeout_s)
        summary = self._adopt(ib)
        for item in ib.portfolio(self.settings.account or ""):  # the account view, for the window
            self.reporter.portfolio(item)
        self.account_watch.follow(self.settings.account or next(iter(ib.managedAccounts()), ""), fresh=full)
        if self.feed is not None:
            await self.feed.restore(fresh=full)
        return summary

    def _wire(self, ib) -> None:
        from station.brokers.ib.contracts import ContractResolver

        self.resolver = ContractResolver(ib, self._mappings, self._today)
        ib.orderStatusEvent += self._on_status
        ib.execDetailsEvent += self.reporter.execution
        ib.commissionReportEvent += self.reporter.commission
        ib.positionEvent += self._on_position
        ib.updatePortfolioEvent += self.reporter.portfolio
        self.account_watch.attach(ib)
        if self.settings.market_data:
            from station.brokers.ib.marketdata import IBMarketData

            self.feed = IBMarketData(self.name, ib, self.resolver, self.bus, self.settings)

    def _adopt(self, ib) -> str:
        """Take over this session's orders and IB's id sequence (never reusing an id); a summary of IB's state."""
        trades = [t for t in ib.trades() if t.order.orderRef]
        ours = self.settings.client_id
        fresh: dict[str, Any] = {}  # this session's Trade objects replace the last session's
        for trade in trades:
            current = fresh.get(trade.order.orderRef)
            if current is None or current.isDone():  # an open order wins over a finished namesake
                fresh[trade.order.orderRef] = trade
            if trade.order.clientId == ours:
                self._max_order_id = max(self._max_order_id, trade.order.orderId)
        self._trades.update(fresh)
        fills = ib.fills()
        for fill in fills:
            if fill.execution.clientId == ours:
                self._max_order_id = max(self._max_order_id, fill.execution.orderId)
        ib.client.updateReqId(self._max_order_id + 1)  # whatever TWS says, never reuse an id
        return (f"{sum(not t.isDone() for t in trades)} open orders, {len(fills)} executions, "
                f"{sum(1 for p in ib.positions() if p.position)} positions at IB")

    def _report_state(self, ib, since: datetime) -> None:
        """Report IB's truth through the reporter: executions first, then order statuses, then positions."""
        trades = [t for t in ib.trades() if t.order.orderRef]
        now = utc_now()
        fills = sorted(ib.fills(), key=lambda f: f.time)
        for fill in fills:
            if parsing.fill_time(fill.execution.time, now) >= since:
                self.reporter.fill(fill.execution.orderRef, fill.contract, fill)
        for trade in trades:
            self.reporter.status(trade)
        lost = self._report_lost({t.order.orderRef for t in trades} | {f.execution.orderRef for f in fills})
        if lost:
            log.warning("%s: %d orders lost in the drop", self.name, lost)
        self.reporter.positions(ib.positions())

    def _report_lost(self, at_ib: set[str]) -> int:
        """Orders sent that IB never saw (the link dropped with them queued) end visibly, not silently."""
        lost = 0
        for coid in list(self.ledger.requests):
            track = self.ledger.track(coid)
            if coid in at_ib or track.filled_reported or (track.status and track.status.is_terminal):
                continue
            trade = self._trades.get(coid)
            if trade is not None and trade.orderStatus.status not in ("PendingSubmit", "ApiPending"):
                continue
            track.status = OrderStatus.REJECTED
            self._trades.pop(coid, None)
            self.reporter.report(OrderReported(self.name, coid, OrderStatus.REJECTED, reason=LOST_IN_FLIGHT))
            lost += 1
        return lost

    # ---- what IB tells us -------------------------------------------------------------------------

    def _on_status(self, trade) -> None:
        coid = trade.order.orderRef
        if coid:
            self._trades[coid] = trade
        self.reporter.status(trade)
        if coid and self.ledger.track(coid).status is OrderStatus.REJECTED:
            self._exit_refused(coid)

    def _exit_refused(self, coid: str) -> None:
        """IB rejected a bracket's exit: while its entry has not traded, the entry is cancelled (TWS cancels the
        other children with it), so no position opens without the protection asked for."""
        request = self.ledger.requests.get(coid)
        if request is None or not request.parent_id or coid in self._refused_exits:
            return
        self._refused_exits.add(coid)
        parent, refused = self._trades.get(request.parent_id), self._trades.get(coid)
        if parent is None or parent.isDone() or (parsing.clean_float(parent.orderStatus.filled) or 0) > 0:
            return  # it traded already: the oms says the position may be unprotected
        if refused is not None and refused.order.transmit:
            parent.order.transmit = False  # the child that was to transmit the family was refused: TWS holds it all
        self.bus.publish(Notified(f"IB {self.name}: bracket refused", f"IB rejected {coid}, an exit of "
                                  f"{request.parent_id}; Station cancels the entry so nothing opens unprotected",
                                  "error"))
        try:
            self.link.ib.cancelOrder(parent.order)
        except ConnectionError:
            log.warning("%s: could not cancel %s after its exit %s was rejected", self.name, request.parent_id, coid)

    def _on_position(self, position) -> None:
        if not self.link.reconciling and not self._positions_held:  # after a reconnect: after the fills
            self.reporter.position(position)

    def _on_error(self, req_id: int, code: int, text: str) -> None:
        kind = parsing.classify_error(code)
        trade = next((t for t in self._trades.values() if t.order.orderId == req_id), None) if req_id > 0 else None
        if kind == "warning" and trade is not None:
            self.bus.publish(Notified(f"IB {self.name}: order {trade.order.orderRef}", f"IB {code}: {text}", "warning"))

    def ticker_for(self, contract) -> str:
        """Station's name for an IB contract: as ordered this session, as the table maps it, or IB's own."""
        if contract.conId in self.ledger.con_tickers:
            return self.ledger.con_tickers[contract.conId]
        if self.resolver is not None and contract.secType in ("STK", "IND"):
            mapped = self.resolver.reverse(contract.secType, contract.symbol)
            if mapped:
                return mapped
        return parsing.display_symbol(contract.secType, contract.symbol, contract.localSymbol,
                                      contract.lastTradeDateOrContractMonth, parsing.clean_float(contract.strike),
                                      contract.right, contract.tradingClass)

    # ---- table changes and lookups from the window -----------------------------------------------

    def _on_config(self, event: ConfigChanged) -> None:
        if self.resolver is not None:
            self.resolver.invalidate()

    async def _on_resolve(self, command: ResolveContract) -> None:
        if command.destination != self.name:
            return
        if self.link.state is not ConnectionState.CONNECTED:
            self.bus.publish(ContractResolved(self.name, command.symbol, error=f"{self.name} is not connected"))
            return
        from station.brokers.ib.contracts import describe

        try:
            started = time.perf_counter()
            contract = await self.resolver.resolve(command.symbol)
            mapping = self.resolver.mapping_for(command.symbol)
            text = f"{describe(contract, mapping)} ({(time.perf_counter() - started) * 1000:.0f} ms)"
            self.bus.publish(ContractResolved(self.name, command.symbol, description=text))
        except (UnknownSymbol, ConnectionError, asyncio.TimeoutError) as exc:
            self.bus.publish(ContractResolved(self.name, command.symbol, error=str(exc) or type(exc).__name__))
