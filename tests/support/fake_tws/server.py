"""A loopback TWS: the real socket protocol, an order book that outlives connections, and test controls.

What it does like TWS: handshake and startApi (a client id in use is refused with
error 326), nextValidId/managedAccounts, contract details and option chains,
placeOrder -> openOrder/orderStatus/execDetails/commissionReport, bracket orders
held until transmitted and OCA siblings cancelled, cancel (error 202), open/completed
orders, executions and positions on request and live, account updates, market
data ticks and 5-second bars, current time, error messages. Orders, fills and
positions live in the server, not the connection: a client that drops and comes
back (or a server restarted with `restart()`) finds them as it left them.

Bracket children (`parentId`) wait PreSubmitted while TWS holds the family until the child
with `transmit` arrives; a refused child that was to transmit leaves its family held (never
working); cancelling a parent cancels its children with it.

Controls for tests: `fill_mode` ("auto" fills marketable orders at once, "manual"
waits for `fill()`), `partial_fills` (split the next auto fill), `reject_symbols`
(IB's error 201 text per symbol), `reject_refs` (the same per orderRef: one order of a
bracket), `lose_orders`, `frozen`, `drop_clients()`, `stop()`/`start(port)`,
`trade()`/`quote()`/`bar()` for market data, and `received` (every message with
its arrival time, for pacing checks).
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from support.wait import until

from . import wire
from .securities import SecurityMaster
from .session import Session
from .wire import FakeExecution, FakeOrder

EASTERN = ZoneInfo("America/New_York")


class FakeTWS:
    """A TWS / IB Gateway double on 127.0.0.1."""

    def __init__(self, *, account: str = "DU123456", today: date | None = None, next_order_id: int = 1,
                 commission: float = 1.25, prices: dict[str, float] | None = None) -> None:
        self.account = account
        self.securities = SecurityMaster(today or datetime.now(EASTERN).date())
        self.next_order_id = next_order_id
        self.commission = commission
        self.prices: dict[str, float] = {"AAPL": 190.0, "TSLA": 250.0, "SPX": 5800.0, **(prices or {})}
        self.fill_mode = "auto"
        self.partial_fills: list[float] = []
        self.reject_symbols: dict[str, str] = {}
        self.reject_refs: dict[str, str] = {}
        self.lose_orders = False  # accept placeOrder and forget it (TWS died before it took the order)
        self.modified: list = []  # working orders changed in place (placeOrder with their id again)
        self.frozen = False  # read requests and answer nothing (a hung TWS, a half-open socket)
        self.orders: dict[tuple[int, int], FakeOrder] = {}
        self.executions: list[FakeExecution] = []
        self.positions: dict[int, list[float]] = {}  # conId -> [qty, avg cost incl. multiplier]
        self.realized: dict[int, float] = {}
        # the account's values (updateAccountValue) and the day's PnL (reqPnL's answer)
        self.money: dict[str, str] = {"NetLiquidation": "100000.00", "TotalCashValue": "100000.00",
                                      "BuyingPower": "400000.00", "RealizedPnL": "0.00"}
        self.daily_pnl = 0.0
        self.sessions: list[Session] = []
        self.received: list[tuple[float, int, int, list[str]]] = []  # (monotonic, client id, msg id, fields)
        self.errors_sent: list[tuple[int, int, str]] = []
        self.port = 0
        self.connects = 0
        self._server: asyncio.base_events.Server | None = None
        self._perm = itertools.count(900_001)
        self._exec = itertools.count(1)

    # ---- lifetime -------------------------------------------------------------------------------

    async def start(self, port: int = 0) -> int:
        """Listen (on `port`, or a free one); returns the port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port or self.port or 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """TWS shuts down: no more connections, every session dropped. The book is kept."""
        if self._server is None:
            return
        self._server.close()
        closed = asyncio.ensure_future(self._server.wait_closed())
        while not closed.done():  # a connection accepted a moment ago may not be a session yet
            self.drop_clients()
            await asyncio.wait([closed], timeout=0.02)
        self._server = None

    async def restart(self, down_s: float = 0.0, *, reset_order_ids: bool = False) -> None:
        """The daily restart: down for `down_s`, back on the same port with the same book."""
        await self.stop()
        await asyncio.sleep(down_s)
        if reset_order_ids:
            self.next_order_id = 1
        await self.start(self.port)

    def drop_clients(self) -> None:
        """Cut every API connection at once (a network drop: no goodbye)."""
        for session in list(self.sessions):
            session.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(self, reader, writer)
        self.sessions.append(session)
        self.connects += 1
        try:
            await session.run()
        finally:
            if session in self.sessions:
                self.sessions.remove(session)

    # ---- what sessions ask --------------------------------------------------------------------

    def client_in_use(self, client_id: int) -> bool:
        return any(s.client_id == client_id and s.ready for s in self.sessions)

    def valid_id_for(self, client_id: int) -> int:
        used = [oid for (cid, oid) in self.orders if cid == client_id]
        return max([self.next_order_id, *(oid + 1 for oid in used)])

    def sessions_of(self, client_id: int) -> list[Session]:
        return [s for s in self.sessions if s.client_id == client_id and s.ready]

    def send_error(self, session: Session, req_id: int, code: int, text: str) -> None:
        self.errors_sent.append((req_id, code, text))
        session.send(wire.error(req_id, code, text))

    def broadcast(self, data: bytes) -> None:
        for session in self.sessions:
            if session.ready:
                session.send(data)

    def broadcast_error(self, code: int, text: str) -> None:
        """A notice to every client, e.g. 1100 (TWS lost IB's servers) and 1102 (restored)."""
        self.errors_sent.append((-1, code, text))
        self.broadcast(wire.error(-1, code, text))

    def price_of(self, order: FakeOrder) -> float:
        sec = order.sec
        for key in (sec.local_symbol, sec.symbol):
            if key in self.prices and sec.sec_type != "OPT":
                return self.prices[key]
        if sec.sec_type == "OPT":
            return 5.0
        if sec.sec_type == "FUT":
            return self.prices.get(sec.symbol, 5800.0)
        return 100.0

    # ---- orders -------------------------------------------------------------------------------

    def place(self, session: Session, order: FakeOrder) -> None:
        """A placeOrder from `session`: register, hold until transmitted, acknowledge, maybe fill."""
        key = (order.client_id, order.order_id)
        if self.lose_orders:
            return
        if key in self.orders:
            existing = self.orders[key]
            if existing.is_done or existing.order_ref != order.order_ref:
                self.send_error(session, order.order_id, 103, "Duplicate order id")
                return
            # the same id again for a working order: TWS's modify (size and prices change in place)
            existing.qty, existing.lmt, existing.aux = order.qty, order.lmt, order.aux
            existing.trail_stop, existing.trailing_percent = order.trail_stop, order.trailing_percent
            self.modified.append(existing)
            self.notify(existing, open_order=True)
            self.maybe_fill(existing)
            return
        refused = (self.reject_refs.get(order.order_ref) or self.reject_symbols.get(order.sec.symbol)
                   or self.reject_symbols.get(order.sec.local_symbol))
        if refused:
            text = refused
            order.perm_id = next(self._perm)
            order.status = "Inactive"
            self.orders[key] = order
            self.send_error(session, order.order_id, 201, f"Order rejected - reason:{text}")
            session.send(wire.order_status(order))
            return
        order.perm_id = next(self._perm)
        self.orders[key] = order
        self.next_order_id = max(self.next_order_id, order.order_id + 1)
        if order.parent_id:
            parent = self.orders.get((order.client_id, order.parent_id))
            if parent is not None:
                parent.children.append(order)
        if not order.transmit:
            return  # TWS holds untransmitted orders until the bracket's last child arrives
        family = [order]
        if order.parent_id and (parent := self.orders.get((order.client_id, order.parent_id))):
            family = [parent, *parent.children]
        for member in family:
            member.transmit = True
            member.status = "PreSubmitted" if (member.parent_id or member.order_type in ("STP", "STP LMT")) else "Submitted"
            self.notify(member, open_order=True)
        for member in family:
            if not member.parent_id:
                self.maybe_fill(member)

    def maybe_fill(self, order: FakeOrder) -> None:
        if self.fill_mode != "auto" or order.is_done:
            return
        price = self.price_of(order)
        marketable = order.order_type == "MKT" or (
            order.order_type == "LMT" and order.lmt is not None
            and (price <= order.lmt if order.action == "BUY" else price >= order.lmt))
        if not marketable:
            return
        for part in self._split(order.remaining):
            self.fill(order, part, price)

    def _split(self, qty: float) -> list[float]:
        """The next auto fill in the pieces `partial_fills` asks for (the rest in one last piece)."""
        plan, self.partial_fills = self.partial_fills, []
        parts, left = [], qty
        for part in plan:
            if left <= 0:
                break
            parts.append(min(part, left))
            left -= parts[-1]
        return parts + ([left] if left > 0 else [])

    def find(self, order_ref: str | None = None, order_id: int | None = None) -> FakeOrder:
        for order in self.orders.values():
            if order_ref is not None and order.order_ref == order_ref:
                return order
            if order_id is not None and order.order_id == order_id:
                return order
        raise KeyError(order_ref or order_id)

    def fill(self, order: FakeOrder | str, qty: float | None = None, price: float | None = None) -> FakeExecution:
        """Execute (part of) an order: the book, positions and every connected client hear of it."""
        if isinstance(order, str):
            order = self.find(order_ref=order)
        qty = order.remaining if qty is None else min(qty, order.remaining)
        price = self.price_of(order) if price is None else price
        order.avg_price = (order.avg_price * order.filled + price * qty) / (order.filled + qty)
        order.filled += qty
        order.last_price = price
        order.status = "Filled" if order.remaining <= 1e-9 else "Submitted"
        now = datetime.now(EASTERN)
        execution = FakeExecution(f"0000e0d5.{next(self._exec):08x}.01.01", order,
                                  now.strftime("%Y%m%d %H:%M:%S US/Eastern"), qty, price, order.filled,
                                  order.avg_price, round(self.commission * qty, 4))
        self.executions.append(execution)
        self._book_position(order, qty, price)
        for session in self.sessions_of(order.client_id):
            session.send(wire.exec_details(-1, execution))
        self.notify(order, open_order=order.status == "Filled")
        for session in self.sessions_of(order.client_id):
            session.send(wire.commission_report(execution))
        self._after_fill(order)
        return execution

    def _after_fill(self, order: FakeOrder) -> None:
        if order.status != "Filled":
            return
        for child in order.children:  # a filled entry activates its bracket exits
            if child.status == "PreSubmitted" and child.order_type not in ("STP", "TRAIL"):
                child.status = "Submitted"
                self.notify(child)
        if order.oca_group:  # one cancels all
            for other in self.orders.values():
                if other is not order and other.oca_group == order.oca_group and not other.is_done:
                    self.cancel(other, reason="OCA group")

    def cancel(self, order: FakeOrder, *, reason: str = "") -> None:
        order.status = "Cancelled"
        for session in self.sessions_of(order.client_id):
            self.send_error(session, order.order_id, 202, f"Order Canceled - reason:{reason}")
        self.notify(order)
        for child in order.children:  # a bracket's exits go with their parent
            if not child.is_done:
                self.cancel(child, reason="parent cancelled")

    def notify(self, order: FakeOrder, *, open_order: bool = False) -> None:
        for session in self.sessions_of(order.client_id):
            if open_order:
                session.send(wire.open_order(order))
            session.send(wire.order_status(order))

    def _book_position(self, order: FakeOrder, qty: float, price: float) -> None:
        sec = order.sec
        signed = qty if order.action == "BUY" else -qty
        held = self.positions.setdefault(sec.con_id, [0.0, 0.0])
        cost = price * sec.multiplier_value
        if held[0] == 0 or (held[0] > 0) == (signed > 0):
            held[1] = (held[1] * abs(held[0]) + cost * abs(signed)) / abs(held[0] + signed)
        else:
            closed = min(abs(signed), abs(held[0]))
            self.realized[sec.con_id] = self.realized.get(sec.con_id, 0.0) + (cost - held[1]) * closed * (1 if held[0] > 0 else -1)
            if abs(signed) > abs(held[0]):
                held[1] = cost
        held[0] += signed
        if held[0] == 0:
            held[1] = 0.0
        for session in self.sessions:
            if session.ready:
                session.position_changed(sec, held[0], held[1])

    # ---- the account ----------------------------------------------------------------------------

    def account_changed(self, daily_pnl: float | None = None, **values: str) -> None:
        """New account values (NetLiquidation=…, BuyingPower=…) and day's PnL, sent as TWS sends them."""
        self.money.update(values)
        if daily_pnl is not None:
            self.daily_pnl = daily_pnl
        for session in self.sessions:
            if session.ready:
                session.account_changed(values, daily_pnl is not None)

    # ---- market data --------------------------------------------------------------------------

    def trade(self, symbol: str, price: float, size: float) -> None:
        """A trade print to every market-data subscriber of `symbol`."""
        self.prices[symbol] = price
        for session in self.sessions:
            session.tick(symbol, [(4, price, size)])

    def quote(self, symbol: str, bid: float, ask: float, size: float = 1.0) -> None:
        for session in self.sessions:
            session.tick(symbol, [(1, bid, size), (2, ask, size)])

    def bar(self, symbol: str, epoch: int, o: float, h: float, low: float, c: float, volume: float) -> None:
        """A 5-second real-time bar to every subscriber of `symbol`."""
        for session in self.sessions:
            session.realtime_bar(symbol, epoch, o, h, low, c, volume)

    # ---- waiting ------------------------------------------------------------------------------

    async def wait_for(self, predicate, timeout: float = 5.0, what: str = "condition") -> None:
        """Until `predicate()` holds (`support.wait.until`)."""
        await until(predicate, timeout, what=f"fake TWS: {what}")

    def placed(self) -> list[FakeOrder]:
        return sorted(self.orders.values(), key=lambda o: o.perm_id)

