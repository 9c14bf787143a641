"""A NinjaTrader account through the ATI file interface: order files in, state files out.

Orders go into `incoming` as `oif<N>.txt` (see `files.OifWriter`): PLACE (a bracket's exits
with one OCO ID, once the order model gives them an `oco_group`), CANCEL, CHANGE, and
CLOSEPOSITION for an order that closes the account's whole position (role `exit`).
NinjaTrader's `outgoing` folder is polled (`ati_folders`): order state files move orders
and report fills, position files positions. CLOSEPOSITION carries no order id, so no state
file follows it: its order is filled when the position file says flat, at the best price
Station has (the feed's last, else the price it knew when it sent it, else the position's
own average: no profit or loss is made up). A missing folder, or an order file NinjaTrader
leaves unread (the ATI is off), is said once in the log and as a notice, and shows red or amber.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Callable

from station.brokers.protocol import BrokerCapabilities, BrokerError, BrokerReports
from station.brokers.ninjatrader.ati_book import AtiBook, AtiOrder
from station.brokers.ninjatrader.ati_folders import (
    ENABLE_ATI, OutgoingFile, OutgoingScanner, folder_problem, oldest_unread,
)
from station.brokers.ninjatrader.files import OifWriter, run_file_job
from station.brokers.ninjatrader.parsing import (
    fill_delta, instrument_without_exchange, oif_cancel, oif_change, oif_close_position, oif_place,
    parse_connection_state, parse_order_state, parse_position, position_instrument, request_role,
)
from station.bus import Bus
from station.domain.enums import ConnectionState, OrderStatus, OrderType, Side, TimeInForce
from station.domain.events import (
    ConnectionChanged, ErrorRaised, FillReported, Notified, OrderReported, PositionReported,
)
from station.domain.fills import Fill
from station.domain.orders import TRANSITIONS, OrderRequest
from station.domain.timeutil import UTC

log = logging.getLogger("station.ninjatrader")

FILL_STATES = (OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED)
STALE_AFTER_S = 10.0  # an order file NinjaTrader has not taken by then: the ATI is off


def _no_price(ticker: str) -> Decimal | None:
    return None


class AtiBroker:
    """Destination `{"type": "ninjatrader-ati", "account", "incoming", "outgoing"}`."""

    # a bracket's armed exits go out as orders sharing one OCO ID (NinjaTrader cancels the other on a fill)
    capabilities = BrokerCapabilities(native_replace=True, native_oco=True,
                                      order_types=("market", "limit", "stop", "stop_limit"),
                                      notes=("quantities are whole numbers",))

    def __init__(self, name: str, bus: Bus, *, account: str, incoming: Path, outgoing: Path,
                 data_dir: Path, order_type: str = "market", tif: str = "day",
                 poll_s: float = 0.2, stale_after_s: float = STALE_AFTER_S,
                 last_price: Callable[[str], Decimal | None] = _no_price) -> None:
        self.name = name
        self.bus = bus
        self.account = account
        self.incoming = Path(incoming)
        self.outgoing = Path(outgoing)
        self.order_type = OrderType.parse(order_type)
        self.tif = TimeInForce.parse(tif)
        self.poll_s = poll_s
        self.stale_after_s = stale_after_s
        self.last_price = last_price
        self.state = ConnectionState.DISCONNECTED
        self.detail = ""
        self.connections: dict[str, str] = {}  # NinjaTrader's own connection state files
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        self.book = AtiBook(Path(data_dir) / "ninjatrader" / f"ati-{safe}.json")
        self._writer = OifWriter.for_folder(self.incoming, Path(data_dir))
        self._scanner = OutgoingScanner(self.outgoing)
        self._texts: dict[str, str] = {}
        self._positions: dict[str, PositionReported] = {}  # ticker -> the latest position file's figures
        self._doubtful: dict[str, str] = {}  # unreadable once: reported if read the same again
        self._warned: str | None = None  # the problem last notified (one notice per episode)
        self._submit_lock = asyncio.Lock()
        self._task: asyncio.Task | None = None

    def __repr__(self) -> str:
        return f"AtiBroker({self.name!r}, account={self.account!r}, {self.state})"

    # ---- Broker protocol ------------------------------------------------------------------

    async def start(self) -> None:
        """Read what this destination remembers, then watch the folders in the background."""
        await run_file_job(self.book.load)
        self._set_state(ConnectionState.CONNECTING, f"account {self.account}")
        self._task = asyncio.create_task(self._run(), name=f"ninjatrader ati {self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._save()
        self._set_state(ConnectionState.DISCONNECTED, "stopped")

    async def submit(self, request: OrderRequest) -> None:
        """Write a PLACE file (CLOSEPOSITION for an exit of the whole position); SUBMITTED is reported once it is
        in place."""
        cid = request.client_order_id
        closes = self._closes_position(request)
        try:
            line = (oif_close_position(self.account, request.symbol) if closes
                    else oif_place(request, self.account, **self._overrides(request)))
        except ValueError as exc:
            raise BrokerError(f"cannot place {cid} through the ATI: {exc}") from None
        async with self._submit_lock:
            order = self.book.orders.get(cid)
            if order is not None and order.file is not None:
                log.info("%s: %s was already written as %s; not written again", self.name, cid, order.file)
                self.bus.publish(OrderReported(self.name, cid, order.order_status))
                return
            order = self.book.add(request)
            order.closes = closes
            await self._save()  # known before NinjaTrader can answer about it
            path = await self._write(line)
            order.file = path.name
            log.info("%s: %s -> %s: %s", self.name, cid, path.name, line)
            if order.order_status is OrderStatus.NEW:  # NinjaTrader may have answered already
                order.status = OrderStatus.SUBMITTED.value
                self.bus.publish(OrderReported(self.name, cid, OrderStatus.SUBMITTED, broker_order_id=path.name))
            await self._save()

    async def cancel(self, client_order_id: str) -> None:
        """Write a CANCEL file; NinjaTrader's CANCELLED state file then moves the order."""
        try:
            line = oif_cancel(client_order_id)
        except ValueError as exc:
            raise BrokerError(str(exc)) from None
        async with self._submit_lock:
            path = await self._write(line)
        log.info("%s: cancel %s -> %s", self.name, client_order_id, path.name)

    async def replace(self, request: OrderRequest) -> None:
        """Write a CHANGE file (quantity and prices); NinjaTrader's state files then say how it went."""
        order = self.book.orders.get(request.client_order_id)
        if order is None or order.file is None:
            raise BrokerError(f"{self.name} has not placed {request.client_order_id}; it cannot be changed")
        try:
            line = oif_change(request)
        except ValueError as exc:
            raise BrokerError(f"cannot change {request.client_order_id} through the ATI: {exc}") from None
        async with self._submit_lock:
            path = await self._write(line)
            order.qty = str(request.qty)
            await self._save()
        log.info("%s: change %s -> %s: %s", self.name, request.client_order_id, path.name, line)

    async def reports(self, since: datetime) -> BrokerReports:
        """Every order placed here with its last known state, the fills reported since `since` (kept with
        the orders, so they survive a restart) and the positions NinjaTrader's files last showed."""
        placed = [order for order in self.book.orders.values() if order.file is not None]
        orders = tuple(OrderReported(self.name, o.client_order_id, o.order_status, broker_order_id=o.file)
                       for o in placed if o.order_status is not OrderStatus.NEW)
        fills = tuple(fill for o in placed for fill in o.fill_records(self.name) if fill.time >= since)
        return BrokerReports(self.name, since, orders=orders, fills=fills, positions=tuple(self._positions.values()))

    def _closes_position(self, request: OrderRequest) -> bool:
        """An exit (role `exit`) of exactly the account's position: NinjaTrader's own CLOSEPOSITION, which also
        cancels the position's protective orders. Any other exit is a PLACE (others' shares stay)."""
        if request_role(request) != "exit" or request.order_type is not OrderType.MARKET:
            return False
        held = self._positions.get(request.ticker)
        return held is not None and held.qty != 0 and held.qty == -request.side.sign * request.qty

    def _overrides(self, request: OrderRequest) -> dict:
        """The destination's order type and time in force applied to a plain market order."""
        extra: dict = {}
        if self.tif is TimeInForce.GTC:
            extra["tif"] = TimeInForce.GTC
        if self.order_type is OrderType.LIMIT and request.order_type is OrderType.MARKET:
            price = request.limit_price if request.limit_price is not None else request.price_hint
            if price is None:
                raise ValueError(f"{self.name} sends limit orders and the order has no price")
            extra.update(order_type=OrderType.LIMIT, limit_price=price)
        return extra

    async def _write(self, line: str) -> Path:
        try:
            return await run_file_job(self._writer.write, line)
        except OSError as exc:
            raise BrokerError(f"cannot write an order file into {self.incoming}: {exc}") from None

    # ---- watching NinjaTrader --------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                problem, files, stale = await asyncio.to_thread(self._look, set(self._doubtful))
                if problem:
                    self._warn(problem)
                    self._set_state(ConnectionState.ERROR, problem)
                else:
                    changed = [self._on_file(f) for f in files]
                    if any(changed):
                        await self._save()
                    # reconciled: everything outgoing holds is reported before CONNECTED
                    if stale:
                        self._warn(stale)
                        self._set_state(ConnectionState.STALE, stale)
                    else:
                        self._warned = None
                        self._set_state(ConnectionState.CONNECTED, self._connected_detail())
            except OSError as exc:
                self._set_state(ConnectionState.ERROR, f"{exc}")
            except Exception as exc:  # a bug must not silently stop the watching: say so and go on
                log.exception("%s: unexpected failure", self.name)
                self._set_state(ConnectionState.ERROR, f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(self.poll_s)

    def _look(self, reread: set[str]) -> tuple[str | None, list[OutgoingFile], str | None]:
        """One poll, off the loop: a folder problem, or the changed outgoing files and staleness."""
        problem = folder_problem(self.incoming, self.outgoing)
        if problem:
            return problem, [], None
        return None, self._scanner.scan(reread), oldest_unread(self.incoming, self.stale_after_s)

    def _warn(self, problem: str) -> None:
        """Say a problem once (log and notice) until it is gone; a staleness that grows is the same problem."""
        kind = problem.split(" for ", 1)[0]
        if self._warned == kind:
            return
        self._warned = kind
        message = f"{self.name} (account {self.account}): {problem}. {ENABLE_ATI} must be on, and the folders " \
                  "must be NinjaTrader's own."
        log.warning(message)
        self.bus.publish(Notified("NinjaTrader ATI", message, "warning"))

    def _connected_detail(self) -> str:
        down = sorted(name for name, state in self.connections.items() if state != "CONNECTED")
        text = f"account {self.account}"
        return text + (f"; NinjaTrader connection down: {', '.join(down)}" if down else "")

    def _on_file(self, file: OutgoingFile) -> bool:
        """Apply one changed outgoing file; True if the kept book changed."""
        if self._texts.get(file.name) == file.text:
            self._doubtful.pop(file.name, None)
            return False
        stem = file.name[:-4]
        try:
            changed = self._interpret(stem, file)
        except ValueError as exc:
            if self._doubtful.get(file.name) != file.text:
                self._doubtful[file.name] = file.text  # maybe caught mid-write: read it once more
                return False
            del self._doubtful[file.name]
            message = f"outgoing file {file.name!r} ignored: {exc}"
            log.warning("%s: %s (content %r)", self.name, message, file.text[:200])
            self.bus.publish(ErrorRaised(source=self.name, message=message))
            changed = False
        self._doubtful.pop(file.name, None)
        self._texts[file.name] = file.text
        return changed

    def _interpret(self, stem: str, file: OutgoingFile) -> bool:
        order = self.book.orders.get(stem)
        if order is not None:
            return self._apply_order_state(order, file)
        instrument = position_instrument(file.name, self.account)
        if instrument is not None:
            position = parse_position(instrument_without_exchange(instrument), file.text)
            ticker = self.book.ticker_for(position.instrument)
            before = self._positions.get(ticker)
            changed = self._apply_close(ticker, before, position.qty, file) if position.qty == 0 else False
            report = PositionReported(self.name, ticker, position.qty, position.avg_price)
            self._positions[ticker] = report
            self.bus.publish(report)
            return changed
        connection = parse_connection_state(file.text)
        if connection is not None:
            self.connections[stem] = connection
            return False
        try:
            parse_order_state(file.text)  # another program's order (or an order we forgot): not ours
        except ValueError as exc:
            raise ValueError(f"not an order state, position or connection file ({exc})") from None
        return False

    def _apply_order_state(self, order: AtiOrder, file: OutgoingFile) -> bool:
        report = parse_order_state(file.text)
        cid = order.client_order_id
        changed = False
        if report.filled > order.filled_qty:
            if report.filled > Decimal(order.qty):
                raise ValueError(f"{report.filled} filled of an order for {order.qty}")
            qty, price = fill_delta(order.filled_qty, order.average, report.filled, report.avg_price)
            self._record_fill(order, report.filled, report.avg_price, qty, price, file.mtime)
            changed = True
        status = report.status
        if status is not None and status not in FILL_STATES and status in TRANSITIONS[order.order_status]:
            order.status = status.value
            reason = f"NinjaTrader: {report.state}" if status is OrderStatus.REJECTED else None
            self.bus.publish(OrderReported(self.name, cid, status, reason=reason))
            changed = True
        return changed

    def _record_fill(self, order: AtiOrder, filled: Decimal, average: Decimal, qty: Decimal, price: Decimal,
                     mtime: float) -> None:
        """One execution: kept with the order (reported again after a restart) and published once."""
        cid = order.client_order_id
        fill = Fill(fill_id=f"{self.name}:{cid}:{filled}", client_order_id=cid, destination=self.name,
                    ticker=order.ticker, side=Side(order.side), qty=qty, price=price,
                    time=datetime.fromtimestamp(mtime, UTC), strategy=order.strategy)
        order.filled, order.avg_price = str(filled), str(average)
        order.fills.append([fill.fill_id, str(qty), str(price), fill.time.isoformat()])
        order.status = (OrderStatus.FILLED if filled == Decimal(order.qty) else OrderStatus.PARTIALLY_FILLED).value
        log.info("%s: %s filled %s @ %s (%s of %s)", self.name, cid, qty, price, filled, order.qty)
        self.bus.publish(FillReported(fill))

    def _apply_close(self, ticker: str, before: PositionReported | None, now_qty: Decimal,
                     file: OutgoingFile) -> bool:
        """The position went flat: a CLOSEPOSITION sent for it is done. NinjaTrader names no price for it, so it
        is filled at the best price Station has, never at a made-up one (True if an order was filled)."""
        closing = [o for o in self.book.orders.values()
                   if o.closes and o.file is not None and not o.order_status.is_terminal and o.ticker == ticker]
        if not closing:
            return False
        order = closing[0]
        left = Decimal(order.qty) - order.filled_qty
        price, source = self._closing_price(order, before)
        self._record_fill(order, Decimal(order.qty), price, left, price, file.mtime)
        log.info("%s: %s closed the position by CLOSEPOSITION; NinjaTrader reports no price for it: booked at %s "
                 "(%s)", self.name, order.client_order_id, price, source)
        for extra in closing[1:]:  # a second close of the same position found nothing left to close
            extra.status = OrderStatus.CANCELLED.value
            self.bus.publish(OrderReported(self.name, extra.client_order_id, OrderStatus.CANCELLED,
                                           reason="the position was already closed"))
        return True

    def _closing_price(self, order: AtiOrder, before: PositionReported | None) -> tuple[Decimal, str]:
        last = self.last_price(order.ticker)
        if last is not None:
            return last, "the feed's last price"
        if order.price_hint is not None:
            return Decimal(order.price_hint), "the last price Station knew when it sent the close"
        if before is not None and before.avg_price is not None:
            return before.avg_price, "the position's average price: no price known, no profit or loss made up"
        raise ValueError(f"no price at all to book the close of {order.client_order_id} at")

    async def _save(self) -> None:
        await run_file_job(self.book.save, self.book.snapshot())

    def _set_state(self, state: ConnectionState, detail: str = "") -> None:
        if state is self.state and detail == self.detail:
            return
        self.state, self.detail = state, detail
        level = logging.INFO if state in (ConnectionState.CONNECTED, ConnectionState.CONNECTING) else logging.WARNING
        log.log(level, "%s %s%s", self.name, state, f" ({detail})" if detail else "")
        self.bus.publish(ConnectionChanged(self.name, "broker", state, detail))
