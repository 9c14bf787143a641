"""What TWS says about orders, executions and positions, as Station's reports on the bus.

Guarantees the oms can rely on:
- each execution is reported once (`fill_id` = IB's execId), with its commission
  (held up to `COMMISSION_WAIT_S` for the commission report that follows it);
- an order's status never runs ahead of its fills: a status that says more is filled
  than has been reported waits for those fills (at most `STATUS_WAIT_S`);
- IB's error text on a refused order becomes the REJECTED reason; errors that do
  not end an order (a failed cancel, a warning) change no status;
- unset values (`sys.float_info.max`, NaN) never reach a report.

Live, reports go on the bus; while `collecting()`, they are gathered instead (the broker's
answer to `reports(since)` after a reconnect, which the oms reconciles in one step).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterator

from station.brokers.ib import parsing
from station.brokers.ib.config import COMMISSION_WAIT_S, STATUS_WAIT_S
from station.bus import Bus
from station.domain.enums import OrderStatus
from station.domain.events import Event, FillReported, OrderReported, PortfolioReported, PositionReported
from station.domain.fills import Fill
from station.domain.orders import OrderRequest
from station.domain.timeutil import utc_now

log = logging.getLogger("station.brokers.ib")

# Errors about an order that do not end it (ib_async marks the order cancelled locally for some of them).
NON_FATAL_ORDER_CODES = frozenset({161, 10147, 10148, 10149}) | parsing.ORDER_WARNING_CODES
INACTIVE_GRACE_S = 0.3
INACTIVE_REASON = "IB made the order inactive (rejected or cancelled by IB, no reason given)"
S = OrderStatus


@dataclass
class OrderTrack:
    """What has been reported for one client order id."""

    status: OrderStatus | None = None
    filled_reported: Decimal = Decimal(0)
    parked: tuple[OrderStatus, Decimal, str | None] | None = None
    timer: asyncio.TimerHandle | None = None
    broker_id: str | None = None
    status_filled: Decimal = Decimal(-1)  # filled quantity when the last status was reported


@dataclass
class ReportLedger:
    """The broker's memory across reconnects: requests sent, fills and statuses reported."""

    requests: dict[str, OrderRequest] = field(default_factory=dict)
    tracks: dict[str, OrderTrack] = field(default_factory=dict)
    fills: set[str] = field(default_factory=set)
    con_tickers: dict[int, str] = field(default_factory=dict)

    def track(self, coid: str) -> OrderTrack:
        return self.tracks.setdefault(coid, OrderTrack())


class Reporter:
    """Turns ib_async trades, fills and positions into OrderReported/FillReported/PositionReported."""

    def __init__(self, name: str, bus: Bus, ledger: ReportLedger, ticker_for: Callable[[Any], str],
                 account: str | None) -> None:
        self.name, self.bus, self.ledger = name, bus, ledger
        self.ticker_for = ticker_for
        self.account = account
        self._held: dict[str, tuple[Any, Any, asyncio.TimerHandle]] = {}
        self._open: set[str] = set()  # tickers with a non-zero position last reported
        self._emit: Callable[[Event], None] = bus.publish

    def report(self, event: Event) -> None:
        """Publish one report (or gather it, while collecting)."""
        self._emit(event)

    @contextmanager
    def collecting(self) -> Iterator[list[Event]]:
        """Gather what would be published (in order) instead of publishing it."""
        gathered: list[Event] = []
        self._emit = gathered.append
        try:
            yield gathered
        finally:
            self._emit = self.bus.publish

    # ---- statuses -----------------------------------------------------------------------------

    def status(self, trade) -> None:
        """An order's status changed at IB (or ib_async marked it after an error)."""
        coid = trade.order.orderRef
        if not coid:
            return
        decided = self._decide(trade)
        if decided is None:
            return
        status, reason = decided
        track = self.ledger.track(coid)
        track.broker_id = str(trade.orderStatus.permId or trade.order.permId or trade.order.orderId or "") or None
        if reason is None and status is S.REJECTED:
            # "Inactive" without an error yet: IB's error text usually follows at once; give it a moment.
            if track.timer is None:
                track.parked = (status, Decimal(0), INACTIVE_REASON)
                track.timer = asyncio.get_running_loop().call_later(INACTIVE_GRACE_S, self._flush_parked, coid, True)
            return
        filled = parsing.to_decimal(trade.orderStatus.filled) or Decimal(0)
        if filled > track.filled_reported:
            self._park(coid, track, status, filled, reason)
            return
        self._drop_parked(track)
        self._publish_status(coid, track, status, reason)

    def _decide(self, trade) -> tuple[OrderStatus, str | None] | None:
        """The status to report and its reason, or None when this update changes nothing for us."""
        st = trade.orderStatus
        status = parsing.status_of(st.status, st.filled, st.remaining)
        if status is None:
            return None
        last = trade.log[-1] if trade.log else None
        code = getattr(last, "errorCode", 0) if last is not None else 0
        reason = None
        if code and status in (S.CANCELLED, S.REJECTED):  # ib_async's verdict after an error message
            if code in NON_FATAL_ORDER_CODES:
                return None  # a failed cancel or a warning: the order lives on; TWS says what comes next
            if code in parsing.CANCEL_CODES:
                detail = last.message.split("reason:", 1)[-1].strip() if "reason:" in last.message else ""
                return S.CANCELLED, (detail or None)
            status, reason = S.REJECTED, parsing.reject_reason(last.message, code)
        if status is S.REJECTED and (parsing.clean_float(st.filled) or 0) > 0:
            return S.CANCELLED, reason  # part of it traded: the rest ended, the fills stand
        return status, reason

    def _park(self, coid: str, track: OrderTrack, status: OrderStatus, filled: Decimal, reason: str | None) -> None:
        track.parked = (status, filled, reason)
        if track.timer is None:
            track.timer = asyncio.get_running_loop().call_later(STATUS_WAIT_S, self._flush_parked, coid, True)

    def _flush_parked(self, coid: str, force: bool = False) -> None:
        track = self.ledger.track(coid)
        if track.parked is None:
            return
        status, filled, reason = track.parked
        if filled > track.filled_reported and not force:
            return
        if force and filled > track.filled_reported:
            log.warning("%s: IB reports %s filled of %s but only %s in executions; reporting the status anyway",
                        self.name, filled, coid, track.filled_reported)
        self._drop_parked(track)
        self._publish_status(coid, track, status, reason)

    @staticmethod
    def _drop_parked(track: OrderTrack) -> None:
        track.parked = None
        if track.timer is not None:
            track.timer.cancel()
            track.timer = None

    def _publish_status(self, coid: str, track: OrderTrack, status: OrderStatus, reason: str | None) -> None:
        if track.status is not None and (track.status.is_terminal or (
                status == track.status and (status is not S.PARTIALLY_FILLED or track.status_filled == track.filled_reported))):
            return
        track.status, track.status_filled = status, track.filled_reported
        self._emit(OrderReported(self.name, coid, status, broker_order_id=track.broker_id, reason=reason))

    # ---- executions ---------------------------------------------------------------------------

    def execution(self, trade, fill) -> None:
        """A live execution: reported when its commission arrives, or after a short wait without it."""
        exec_id = fill.execution.execId
        if exec_id in self.ledger.fills or exec_id in self._held:
            return
        timer = asyncio.get_running_loop().call_later(COMMISSION_WAIT_S, self._release, exec_id)
        self._held[exec_id] = (trade, fill, timer)

    def commission(self, trade, fill, report) -> None:
        exec_id = fill.execution.execId
        if exec_id in self._held:
            self._release(exec_id)
        elif exec_id in self.ledger.fills:
            log.info("%s: commission %s for %s arrived after its fill was reported", self.name,
                     report.commission, exec_id)

    def _release(self, exec_id: str) -> None:
        held = self._held.pop(exec_id, None)
        if held is not None:
            trade, fill, timer = held
            timer.cancel()
            self.fill(trade.order.orderRef or fill.execution.orderRef, trade.contract, fill)

    def fill(self, coid: str, contract, fill) -> None:
        """Report one execution (live or reconciled), once."""
        execution = fill.execution
        if not coid or execution.execId in self.ledger.fills:
            return
        qty, price = parsing.to_decimal(execution.shares), parsing.to_decimal(execution.price)
        if not qty or price is None or execution.side not in parsing.ACTION_TO_SIDE:
            log.warning("%s: ignoring execution %s without size, price or side", self.name, execution.execId)
            return
        request = self.ledger.requests.get(coid)
        commission = parsing.to_decimal(fill.commissionReport.commission) or Decimal(0)
        self.ledger.fills.add(execution.execId)
        self._emit(FillReported(Fill(
            fill_id=execution.execId, client_order_id=coid, destination=self.name,
            ticker=request.ticker if request else self.ticker_for(contract),
            side=parsing.ACTION_TO_SIDE[execution.side], qty=qty, price=price,
            time=parsing.fill_time(execution.time, utc_now()), commission=commission,
            strategy=request.strategy if request else None)))
        track = self.ledger.track(coid)
        track.filled_reported += qty
        if track.parked is not None:
            self._flush_parked(coid)

    def flush_held(self) -> None:
        """Report every execution still waiting for its commission (before reconciling or stopping)."""
        for exec_id in list(self._held):
            self._release(exec_id)

    # ---- positions ----------------------------------------------------------------------------

    def position(self, position) -> None:
        """One position as IB holds it (avg price per unit, unset values dropped)."""
        if self.account and position.account != self.account:
            return
        contract = position.contract
        qty = parsing.to_decimal(position.position) or Decimal(0)
        avg = parsing.average_price(position.avgCost, contract.secType, contract.multiplier) if qty else None
        ticker = self.ticker_for(contract)
        (self._open.add if qty else self._open.discard)(ticker)
        self._emit(PositionReported(self.name, ticker, qty, avg))

    def positions(self, positions) -> int:
        """Every position IB holds now; those reported before and gone since are reported flat."""
        before = set(self._open)
        self._open.clear()
        for position in positions:
            self.position(position)
        for ticker in sorted(before - self._open):
            self._emit(PositionReported(self.name, ticker, Decimal(0), None))
        return len(self._open)

    def portfolio(self, item) -> None:
        if self.account and item.account != self.account:
            return
        contract = item.contract
        self._emit(PortfolioReported(
            destination=self.name, account=item.account, ticker=self.ticker_for(contract),
            qty=parsing.to_decimal(item.position) or Decimal(0),
            avg_price=parsing.average_price(item.averageCost, contract.secType, contract.multiplier),
            market_price=parsing.to_decimal(item.marketPrice), unrealized_pnl=parsing.to_decimal(item.unrealizedPNL),
            realized_pnl=parsing.to_decimal(item.realizedPNL)))
