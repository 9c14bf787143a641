"""The paper fill rule of CONTRACT.md, as a pure, deterministic machine: orders in, trades in, fills out.

- market: fills at once, in full, at the last trade of its symbol, else at the price the
  order carries (an alert's); with neither it is rejected, saying why;
- limit: fills when a trade prints at or through its price, at its price;
- stop: fills when a trade prints at or through its price, at that trade's price;
- stop-limit: turns into its limit there (and may fill on that same trade);
- trailing stop: a stop that follows the best trade since it started working, by points or
  a percent, and fills like a stop (one given a stop price starts no worse than it: a stop
  taken back after a restart keeps the level it had reached); its moves are kept for
  `take_moves`;
- OCO: when an order of a group fills, the others of its group are cancelled.

An order with no price yet for its symbol waits, working. Orders of one symbol are looked
at in the order they arrived, so the same trades always give the same fills: the paper
broker, backtests and benchmarks share this one implementation. Slippage (a price per
symbol) is added against the trader to what fills at a trade's price (market, stop,
trailing); a limit fills at its price. Nothing here knows the bus, the loop or the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterator

from station.domain.enums import OrderType, Side

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Trail:
    """How far a trailing stop stays behind the best trade: `points`, or `percent` of that trade."""

    points: Decimal | None = None
    percent: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.points is None) == (self.percent is None):
            raise ValueError("a trail is points or percent, exactly one")
        if (self.points or self.percent) <= 0:
            raise ValueError("a trail's distance must be above zero")

    def distance(self, best: Decimal) -> Decimal:
        return self.points if self.points is not None else best * self.percent / HUNDRED


@dataclass(frozen=True, slots=True)
class SimOrder:
    """One order as the simulator sees it."""

    order_id: str
    symbol: str
    side: Side
    qty: Decimal
    order_type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail: Trail | None = None
    oco_group: str | None = None
    price_hint: Decimal | None = None  # what a market order fills at when its symbol has no trade yet

    def __post_init__(self) -> None:
        needs = {OrderType.LIMIT: ("limit_price",), OrderType.STOP: ("stop_price",),
                 OrderType.STOP_LIMIT: ("limit_price", "stop_price"), OrderType.TRAILING_STOP: ("trail",)}
        for name in needs.get(self.order_type, ()):
            if getattr(self, name) is None:
                raise ValueError(f"a {self.order_type} order needs {name}")
        if self.qty <= 0:
            raise ValueError("an order's quantity must be above zero")


@dataclass(frozen=True, slots=True)
class Filled:
    """An order filled, in full, at `price`."""

    order_id: str
    qty: Decimal
    price: Decimal


@dataclass(frozen=True, slots=True)
class Working:
    """An order accepted and working (waiting for a trade to cross it)."""

    order_id: str


@dataclass(frozen=True, slots=True)
class Cancelled:
    """An order that will not fill any more, and why."""

    order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """An order refused when it arrived, and why."""

    order_id: str
    reason: str


Outcome = Filled | Working | Cancelled | Rejected


@dataclass(slots=True)
class _Live:
    order: SimOrder
    stop: Decimal | None  # the price that triggers it (a trailing stop's moves)
    best: Decimal | None = None  # a trailing stop's best trade so far
    triggered: bool = False  # a stop-limit whose stop was reached: now a limit


@dataclass
class PaperSimulator:
    """Working orders per symbol and the last trade of each; `on_trade` says what a trade fills."""

    slippage: Callable[[str], Decimal] = field(default=lambda symbol: ZERO)
    _last: dict[str, Decimal] = field(default_factory=dict)
    _live: dict[str, _Live] = field(default_factory=dict)
    _by_symbol: dict[str, list[str]] = field(default_factory=dict)
    _moves: dict[str, Decimal] = field(default_factory=dict)

    # ---- orders ----------------------------------------------------------------------------

    def last(self, symbol: str) -> Decimal | None:
        """The last trade seen of `symbol`."""
        return self._last.get(symbol)

    def take_moves(self) -> list[tuple[str, Decimal]]:
        """The trailing stops that moved since the last call, with their new stop."""
        if not self._moves:
            return []
        moves, self._moves = list(self._moves.items()), {}
        return [(order_id, stop) for order_id, stop in moves if order_id in self._live]

    def working(self) -> Iterator[SimOrder]:
        """The working orders, oldest first."""
        return (live.order for live in self._live.values())

    def submit(self, order: SimOrder) -> list[Outcome]:
        """Accept `order`: a market order fills now (or is rejected); any other works until crossed."""
        if order.order_id in self._live:
            return [Rejected(order.order_id, "an order with this id is working already")]
        if order.order_type is OrderType.MARKET:
            price = self._last.get(order.symbol, order.price_hint)
            if price is None:
                return [Rejected(order.order_id, f"no price for {order.symbol}: no trade seen and the order "
                                                 f"carries none")]
            filled = Filled(order.order_id, order.qty, self._slipped(order, price))
            return [filled, *self._cancel_group(order)]
        live = _Live(order, order.stop_price)
        if order.order_type is OrderType.TRAILING_STOP:
            self._start_trail(live, self._last.get(order.symbol, order.price_hint))
        self._live[order.order_id] = live
        self._by_symbol.setdefault(order.symbol, []).append(order.order_id)
        return [Working(order.order_id)]

    def cancel(self, order_id: str, reason: str = "cancelled") -> list[Outcome]:
        """Cancel a working order; [] if it is not working (filled, cancelled or unknown)."""
        live = self._live.pop(order_id, None)
        if live is None:
            return []
        self._by_symbol[live.order.symbol].remove(order_id)
        return [Cancelled(order_id, reason)]

    def replace(self, order_id: str, *, qty: Decimal | None = None, limit_price: Decimal | None = None,
                stop_price: Decimal | None = None) -> SimOrder | None:
        """Change a working order in place (its place in the queue kept); the new order, or None if not working."""
        live = self._live.get(order_id)
        if live is None:
            return None
        old = live.order
        changed = SimOrder(old.order_id, old.symbol, old.side, qty if qty is not None else old.qty, old.order_type,
                           limit_price if limit_price is not None else old.limit_price,
                           stop_price if stop_price is not None else old.stop_price, old.trail, old.oco_group,
                           old.price_hint)
        live.order = changed
        if stop_price is not None:
            live.stop = stop_price
        return changed

    # ---- prices ----------------------------------------------------------------------------

    def on_trade(self, symbol: str, price: Decimal) -> list[Outcome]:
        """A trade printed: what it fills (and the OCO siblings that cancels), in arrival order."""
        self._last[symbol] = price
        ids = self._by_symbol.get(symbol)
        if not ids:
            return []
        outcomes: list[Outcome] = []
        for order_id in list(ids):
            live = self._live.get(order_id)
            if live is None:  # cancelled as an OCO sibling earlier on this trade
                continue
            fill = self._crossed(live, price)
            if fill is None:
                continue
            del self._live[order_id]
            ids.remove(order_id)
            outcomes.append(Filled(order_id, live.order.qty, fill))
            outcomes.extend(self._cancel_group(live.order))
        return outcomes

    def _crossed(self, live: _Live, price: Decimal) -> Decimal | None:
        """The fill price if `price` fills this order now, else None (a trailing stop moves first)."""
        order = live.order
        buy = order.side is Side.BUY
        kind = order.order_type
        if kind is OrderType.TRAILING_STOP:
            if live.best is None:
                self._start_trail(live, price)
            elif (price < live.best) if buy else (price > live.best):
                live.best = price
                stop = price + order.trail.distance(price) if buy else price - order.trail.distance(price)
                if (stop < live.stop) if buy else (stop > live.stop):
                    live.stop = stop
                    self._moves[order.order_id] = stop
        if kind in (OrderType.STOP, OrderType.TRAILING_STOP) or (kind is OrderType.STOP_LIMIT and not live.triggered):
            if live.stop is None or not (price >= live.stop if buy else price <= live.stop):
                return None
            if kind is not OrderType.STOP_LIMIT:
                return self._slipped(order, price)
            live.triggered = True  # a stop-limit becomes its limit, which this same trade may fill
        limit = order.limit_price
        if price <= limit if buy else price >= limit:
            return limit
        return None

    def _start_trail(self, live: _Live, price: Decimal | None) -> None:
        if price is None:
            return  # starts with the first trade
        live.best = price
        distance = live.order.trail.distance(price)
        stop = price + distance if live.order.side is Side.BUY else price - distance
        if live.stop is not None:  # a stop it was given (a restart): never start behind it
            stop = min(stop, live.stop) if live.order.side is Side.BUY else max(stop, live.stop)
        live.stop = stop

    def _slipped(self, order: SimOrder, price: Decimal) -> Decimal:
        slip = self.slippage(order.symbol)
        return price + slip if order.side is Side.BUY else price - slip

    def _cancel_group(self, order: SimOrder) -> list[Outcome]:
        if order.oco_group is None:
            return []
        siblings = [i for i, live in self._live.items() if live.order.oco_group == order.oco_group]
        return [outcome for i in siblings for outcome in self.cancel(i, f"OCO: {order.order_id} filled")]
