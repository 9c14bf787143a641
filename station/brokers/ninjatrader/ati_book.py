"""What an ATI destination remembers of its orders, kept in the data dir across restarts.

NinjaTrader's outgoing files name only the order id and carry cumulative figures
(`FILLED;2;5000.25`), so turning them into fills needs each order's side, ticker and
what was already reported. This small JSON file holds exactly that; it is written
whole and renamed (`write_atomic`), before an order file is written and after every
change, so a restart never reports a fill twice or misses whose order a file is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from station.brokers.ninjatrader.files import write_atomic
from station.domain.enums import OrderStatus, Side
from station.domain.fills import Fill
from station.domain.orders import OrderRequest

log = logging.getLogger("station.ninjatrader")

KEEP_FINISHED = 5000  # finished orders remembered (NinjaTrader clears outgoing on its restart)


@dataclass(slots=True)
class AtiOrder:
    """One order sent through the ATI and what NinjaTrader reported of it so far."""

    client_order_id: str
    ticker: str
    symbol: str
    side: str
    qty: str
    strategy: str | None = None
    filled: str = "0"
    avg_price: str | None = None
    status: str = OrderStatus.NEW.value
    file: str | None = None  # the oif file it went out in, once written
    fills: list[list[str]] = field(default_factory=list)  # [fill id, qty, price, time ISO] as reported
    closes: bool = False  # sent as CLOSEPOSITION: only the position file says when it is done
    price_hint: str | None = None  # the price Station knew when it sent it

    def fill_records(self, destination: str) -> list[Fill]:
        """The fills reported for this order, as they were reported."""
        return [Fill(fill_id=fill_id, client_order_id=self.client_order_id, destination=destination,
                     ticker=self.ticker, side=Side(self.side), qty=Decimal(qty), price=Decimal(price),
                     time=datetime.fromisoformat(at), strategy=self.strategy)
                for fill_id, qty, price, at in self.fills]

    @property
    def filled_qty(self) -> Decimal:
        return Decimal(self.filled)

    @property
    def average(self) -> Decimal | None:
        return Decimal(self.avg_price) if self.avg_price is not None else None

    @property
    def order_status(self) -> OrderStatus:
        return OrderStatus(self.status)

    @property
    def order_side(self) -> Side:
        return Side(self.side)

    @classmethod
    def from_request(cls, request: OrderRequest) -> "AtiOrder":
        hint = str(request.price_hint) if request.price_hint is not None else None
        return cls(request.client_order_id, request.ticker, request.symbol, request.side.value,
                   str(request.qty), request.strategy, price_hint=hint)


class AtiBook:
    """The orders of one ATI destination, by client order id, and the instrument -> ticker names."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.orders: dict[str, AtiOrder] = {}
        self.tickers: dict[str, str] = {}  # instrument (lower-case) -> ticker

    def load(self) -> None:
        """Read the kept file; an unreadable one is logged and set aside, never silently lost."""
        if self.path is None or not self.path.exists():
            return
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            orders = {cid: AtiOrder(**fields) for cid, fields in document["orders"].items()}
            tickers = dict(document.get("tickers", {}))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            broken = self.path.with_suffix(".broken")
            self.path.replace(broken)
            log.error("ATI order memory %s is unreadable (%s); kept as %s", self.path, exc, broken)
            return
        self.orders, self.tickers = orders, tickers

    def snapshot(self) -> bytes:
        """The file content for the current state (taken on the loop, written in a thread)."""
        document = {"orders": {cid: asdict(order) for cid, order in self.orders.items()},
                    "tickers": self.tickers}
        return json.dumps(document, indent=1, sort_keys=True).encode("utf-8")

    def save(self, data: bytes) -> None:
        """Write a snapshot (blocking: call it in a thread)."""
        if self.path is not None:
            write_atomic(self.path, data)

    def add(self, request: OrderRequest) -> AtiOrder:
        """Remember a new order (or return the one already known under that id)."""
        order = self.orders.get(request.client_order_id)
        if order is None:
            order = self.orders[request.client_order_id] = AtiOrder.from_request(request)
            self.tickers[request.symbol.lower()] = request.ticker
            self._prune()
        return order

    def ticker_for(self, instrument: str) -> str:
        """The ticker orders for `instrument` were placed under; the instrument itself when unknown."""
        return self.tickers.get(instrument.lower(), instrument)

    def _prune(self) -> None:
        finished = [cid for cid, order in self.orders.items() if order.order_status.is_terminal]
        for cid in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self.orders[cid]
