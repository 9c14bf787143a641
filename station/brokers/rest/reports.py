"""What a REST broker lists, as Station's reports: which of its orders are ours, their fills and statuses.

The part of `RestBroker` that keeps, across polls and reconnects, the client order id of each broker order
(linked when sent, or found by the client order id the broker keeps, or as an exit nested in its bracket's
entry), the fills reported (each once) and the last status reported of each order (reported again only when it
changes, or all of it for `reports(since)`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable, Iterable

from station.brokers.rest.brackets import BracketLegs
from station.brokers.rest.snapshots import OrderSnapshot, find_placed
from station.brokers.rest.symbols import symbol_key
from station.domain.enums import OrderStatus
from station.domain.events import Event, FillReported, OrderReported
from station.domain.fills import Fill
from station.domain.orders import OrderRequest

ZERO = Decimal(0)
MISSING_PER_CYCLE = 5


class OrderReports:
    """Our orders at the broker and what was reported of them (a base of `RestBroker`, which sets `name`, `bus`,
    `api` and `positions`)."""

    def __init__(self) -> None:
        self._requests: dict[str, OrderRequest] = {}
        self._broker_ids: dict[str, str] = {}  # client order id -> broker order id
        self._client_ids: dict[str, str] = {}  # broker order id -> client order id
        self._reported: dict[str, tuple[OrderStatus, Decimal]] = {}
        self._fill_ids: set[str] = set()
        self._tickers: dict[str, str] = {}
        self.brackets = BracketLegs()  # the exits a bracket entry carries

    def _find(self, request: OrderRequest, snapshots: list[OrderSnapshot]) -> OrderSnapshot | None:
        return find_placed(request, snapshots, claimed=self._client_ids, by_client_id=self.api.carries_client_ids)

    def _apply(self, snapshots: Iterable[OrderSnapshot], emit: Callable[[Event], None], *,
               everything: bool = False) -> None:
        """Report the fills and statuses of our orders: those not reported yet, or (`everything`) all of them."""
        for snap in snapshots:
            coid = self._client_ids.get(snap.broker_order_id)
            if coid is None and snap.client_order_id:
                coid = snap.client_order_id
                self._link(coid, snap.broker_order_id)
            if coid is None and snap.parent_broker_id:  # an exit nested in its bracket's entry
                leg = self.brackets.claim(snap, self._client_ids.get(snap.parent_broker_id), self._broker_ids)
                if leg is not None:
                    coid = leg.client_order_id
                    self._link(coid, snap.broker_order_id)
            if coid is None:
                continue  # placed outside Station: its effect shows in the positions
            request = self._requests.get(coid)
            ticker = request.ticker if request else self._ticker(snap.symbol)
            for execution in snap.executions:
                fill_id = f"{self.name}:{execution.fill_id}"
                if fill_id in self._fill_ids and not everything:
                    continue
                if fill_id not in self._fill_ids:
                    self._fill_ids.add(fill_id)
                    self.positions.filled = True
                emit(FillReported(Fill(
                    fill_id=fill_id, client_order_id=coid, destination=self.name, ticker=ticker, side=snap.side,
                    qty=execution.qty, price=execution.price, time=execution.time,
                    strategy=request.strategy if request else None)))
            if snap.status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED) and snap.executed_qty < snap.filled_qty:
                continue  # the executions are not listed yet: report the status with them, next poll
            if everything or self._reported.get(coid) != (snap.status, snap.filled_qty):
                self._report(coid, snap.status, snap.broker_order_id, snap.reason, snap.filled_qty, emit)

    async def _fetch_missing(self, snapshots: list[OrderSnapshot], emit: Callable[[Event], None], *,
                             everything: bool = False) -> None:
        """Open orders the list no longer shows (older than its window): ask for each one."""
        listed = {s.broker_order_id for s in snapshots}
        missing = [bid for coid, bid in self._broker_ids.items()
                   if bid not in listed and not self._final(coid)][:MISSING_PER_CYCLE]
        for broker_id in missing:
            snap = await self.api.order(broker_id)
            if snap is not None:
                self._apply([snap], emit, everything=everything)

    def _report(self, coid: str, status: OrderStatus, broker_id: str | None, reason: str | None,
                filled: Decimal = ZERO, emit: Callable[[Event], None] | None = None) -> None:
        self._reported[coid] = (status, filled)
        (emit or self.bus.publish)(OrderReported(self.name, coid, status, broker_id, reason))

    def _remember(self, request: OrderRequest) -> None:
        self._requests[request.client_order_id] = request
        self._tickers[symbol_key(request.symbol)] = request.ticker

    def _link(self, coid: str, broker_id: str) -> None:
        self._broker_ids[coid] = broker_id
        self._client_ids[broker_id] = coid

    def _ticker(self, symbol: str) -> str:
        return self._tickers.get(symbol_key(symbol), symbol)

    def _final(self, coid: str) -> bool:
        reported = self._reported.get(coid)
        return reported is not None and reported[0].is_terminal
