"""What a NinjaTrader port heard from its receiver, turned into the oms's reports.

Order replies become `OrderReported` (submitted, working, cancelled, rejected) and, from the
growth of `filled_qty` at `avg_price`, `FillReported` once per execution with a stable fill id
(`<port>:<order id>:<cumulative filled>`, so a reply re-sent after a reconnect, or heard again
after Station restarts, is the same fill). Exits the receiver placed for a bracket (`<id>-sl`, …)
fill in the entry's strategy and ticker, on the other side. Position replies become
`PositionReported` under the ticker Station sent (`ES 12-26` → `ES`). The latest status per id
counts: a reply older than what is known changes nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from station.brokers.ninjatrader.parsing import fill_delta, request_role
from station.brokers.ninjatrader.replies import OrderReply, PositionReply, exit_of
from station.bus import Bus
from station.domain.destinations import BrokerCapabilities
from station.domain.enums import OrderStatus, Side
from station.domain.events import FillReported, OrderReported, PositionReported
from station.domain.fills import Fill
from station.domain.orders import TRANSITIONS, OrderRequest
from station.domain.timeutil import utc_now
from station.queries_brokers import NoOrders, OrderBook

log = logging.getLogger("station.ninjatrader")

MEMORY = 20_000  # orders remembered per port (their side, ticker, strategy and what was heard)
FILL_MEMORY = 20_000
_BY_FILLS = (OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED)

# what a port can do, by whether its receiver answers
SILENT = BrokerCapabilities(drops_repeats=True, reports_fills=False,
                            notes=("a line is submitted once written; this port's receiver has not answered, "
                                   "so no fills come back",))
# the receiver works a line's bracket itself (the line carries it: `submit_bracket`), trailing stops too, and
# prices offset exits (ticks, points, percent) from its own fill
ANSWERING = BrokerCapabilities(drops_repeats=True, reports_fills=True, native_brackets=True, offset_exits=True,
                               order_types=("market", "limit", "stop", "stop_limit", "trailing_stop"),
                               notes=("its receiver answers: acks, order states, fills and positions",))
# how the add-on names a bracket's exits after their entry's id
EXIT_SUFFIXES = {"stop_loss": "sl", "take_profit": "tp", "trailing_stop": "trail"}


@dataclass(frozen=True, slots=True)
class SentOrder:
    """What a port line was about, to attribute what the receiver says of it."""

    ticker: str
    symbol: str
    side: Side
    strategy: str | None

    @classmethod
    def of(cls, request: OrderRequest) -> "SentOrder":
        return cls(request.ticker, request.symbol, request.side, request.strategy)


@dataclass(slots=True)
class HeardOrder:
    """The latest the receiver said of one order."""

    status: OrderStatus | None
    filled: Decimal
    avg_price: Decimal | None
    at: datetime


class PortReplies:
    """One port's memory of its orders and positions as its receiver reported them."""

    def __init__(self, name: str, bus: Bus, orders: OrderBook | None = None) -> None:
        self.name = name
        self.bus = bus
        self.orders = orders or NoOrders()
        self.sent: OrderedDict[str, SentOrder] = OrderedDict()
        self.heard: OrderedDict[str, HeardOrder] = OrderedDict()
        self.fills: deque[Fill] = deque(maxlen=FILL_MEMORY)
        self.positions: dict[str, PositionReported] = {}  # ticker -> latest
        self.accounts: set[str] = set()
        self._tickers: dict[str, str] = {}  # symbol (lower case) -> ticker
        self._exits: dict[str, str] = {}  # the receiver's name of a bracket's exit -> the oms's id for it

    def remember(self, request: OrderRequest) -> None:
        """A line for `request` is handed to this port."""
        self.sent[request.client_order_id] = SentOrder.of(request)
        self.sent.move_to_end(request.client_order_id)
        self._tickers[request.symbol.lower()] = request.ticker
        self._tickers.setdefault(request.ticker.lower(), request.ticker)
        while len(self.sent) > MEMORY:
            self.sent.popitem(last=False)

    def attach_exits(self, entry: OrderRequest, exits) -> None:
        """A bracket's exits go with the entry's line: the receiver's replies about them (`<entry id>-sl`, …) are
        about the oms's exit orders."""
        for request in exits:
            suffix = EXIT_SUFFIXES.get(request_role(request))
            if suffix is not None:
                self._exits[f"{entry.client_order_id}-{suffix}"] = request.client_order_id
                self.remember(request)

    # ---- order replies ------------------------------------------------------------------------

    def on_order(self, reply: OrderReply) -> None:
        """Apply an order reply: its new fill first (each once), then a status fills do not bring."""
        if reply.id is None:
            log.warning("%s: the receiver refused a line it could not read: %s", self.name, reply.reason)
            return
        if reply.id in self._exits:  # an exit of a bracket the oms knows under its own id
            reply = dataclasses.replace(reply, id=self._exits[reply.id])
        about = self._attribution(reply.id)
        if about is None:
            log.info("%s: reply about an order this Station did not send: %s %s", self.name, reply.id, reply.status)
            return
        previous = self.heard.get(reply.id) or self._from_book(reply.id)
        if previous is not None and _older(reply, previous):
            return  # a re-sent reply about something already known
        now = utc_now()
        prev_filled = previous.filled if previous else Decimal(0)
        prev_avg = previous.avg_price if previous else None
        if reply.filled_qty > prev_filled:
            try:
                delta = fill_delta(prev_filled, prev_avg, reply.filled_qty, reply.avg_price)
            except ValueError as exc:
                log.warning("%s: %s: %s", self.name, reply.id, exc)
                delta = None
            if delta is None:
                log.warning("%s: %s reports %s filled without a usable price; waiting for one", self.name, reply.id,
                            reply.filled_qty)
                return
            qty, price = delta
            fill = Fill(fill_id=f"{self.name}:{reply.id}:{_plain(reply.filled_qty)}", client_order_id=reply.id,
                        destination=self.name, ticker=about.ticker, side=about.side, qty=qty, price=price,
                        time=now, strategy=about.strategy)
            self.fills.append(fill)
            self.bus.publish(FillReported(fill))
        self.heard[reply.id] = HeardOrder(reply.status or (previous.status if previous else None),
                                          max(reply.filled_qty, prev_filled),
                                          reply.avg_price if reply.filled_qty >= prev_filled else prev_avg, now)
        self.heard.move_to_end(reply.id)
        while len(self.heard) > MEMORY:
            self.heard.popitem(last=False)
        said_at_write = reply.status is OrderStatus.SUBMITTED and reply.id in self.sent  # the port said it already
        if reply.status is not None and reply.status not in _BY_FILLS and not said_at_write and (
                previous is None or previous.status is None or reply.status is not previous.status):
            self.bus.publish(OrderReported(self.name, reply.id, reply.status, reason=reply.reason, at=now))

    def _attribution(self, order_id: str) -> SentOrder | None:
        """Side, ticker and strategy of an order: a line this port sent, the oms's order, or a bracket's exit."""
        known = self._sent(order_id)
        if known is not None:
            return known
        exit_ = exit_of(order_id)
        if exit_ is None:
            return None
        entry = self._sent(exit_[0])
        if entry is None:
            return None
        return SentOrder(entry.ticker, entry.symbol, entry.side.opposite, entry.strategy)

    def _sent(self, order_id: str) -> SentOrder | None:
        known = self.sent.get(order_id)
        if known is None:
            order = self.orders.order(order_id)  # sent before a restart: the oms still has it
            if order is not None and order.request.destination == self.name:
                known = SentOrder.of(order.request)
        return known

    def _from_book(self, order_id: str) -> HeardOrder | None:
        """What the oms already has of an order (heard before a restart), as a starting point for fills."""
        order = self.orders.order(order_id)
        if order is None or order.request.destination != self.name or order.filled_qty == 0:
            return None
        return HeardOrder(order.status, order.filled_qty, order.avg_price, order.updated_at)

    # ---- positions ----------------------------------------------------------------------------

    def on_position(self, reply: PositionReply) -> None:
        """The receiver's account position in one instrument, reported under Station's ticker for it."""
        self.accounts.add(reply.account)
        report = PositionReported(self.name, self.ticker_for(reply.instrument), reply.qty, reply.avg_price)
        self.positions[report.ticker] = report
        self.bus.publish(report)

    def ticker_for(self, instrument: str) -> str:
        """Station's ticker for a NinjaTrader instrument: the one sent as that symbol, else the one named by the
        instrument's root (`ES 12-26` → `ES`), else the instrument itself."""
        lower = instrument.lower()
        if lower in self._tickers:
            return self._tickers[lower]
        root = lower.split(" ", 1)[0]
        return self._tickers.get(root, instrument)

    # ---- reconciliation -----------------------------------------------------------------------

    def orders_since(self, since: datetime) -> list[OrderReported]:
        """The latest status heard of each order that changed since `since`."""
        return [OrderReported(self.name, cid, heard.status, at=heard.at) for cid, heard in self.heard.items()
                if heard.at >= since and heard.status is not None]

    def fills_since(self, since: datetime) -> list[Fill]:
        return [fill for fill in self.fills if fill.time >= since]


def _older(reply: OrderReply, known: HeardOrder) -> bool:
    """A reply that says less than what is known (a lower fill, or a status that may not follow)."""
    if reply.filled_qty < known.filled:
        return True
    if reply.filled_qty > known.filled:
        return False
    if known.status is None or reply.status is None or reply.status is known.status:
        return reply.status is None or reply.status is known.status
    return reply.status not in TRANSITIONS[known.status]


def _plain(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")
