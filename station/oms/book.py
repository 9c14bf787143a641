"""The in-memory book: orders, positions per destination/ticker/strategy, PnL; the oms's BookView.

The book is the loop thread's view; every change is also written through the
store's writer (see `order_repo`). It is rebuilt from the database at start.
"""

from __future__ import annotations

from collections import defaultdict
import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from station.domain.enums import OrderStatus
from station.domain.fills import Fill
from station.domain.orders import InvalidTransition, Order, average_price
from station.domain.pnl import MarkedPosition
from station.domain.positions import Position
from station.domain.timeutil import to_eastern, utc_now
from station.oms.marks import Marks

ZERO = Decimal(0)
PositionKey = tuple[str, str, str]  # destination, ticker, strategy ('' for none)


@dataclass(frozen=True, slots=True)
class OrderMeta:
    """What the book keeps about an order besides its domain state."""

    cause: str
    pair_group: str | None = None
    leg: str | None = None
    point_value: Decimal = Decimal(1)


def position_key(destination: str, ticker: str, strategy: str | None) -> PositionKey:
    return destination, ticker.upper(), strategy or ""


def session_day(at: datetime) -> date:
    """The trading day a time belongs to (US/Eastern calendar day)."""
    return to_eastern(at).date()


class Book:
    """Orders, fills applied, positions and marks; implements `station.domain.risk.BookView`."""

    def __init__(self, marks: Marks | None = None) -> None:
        self.marks = marks or Marks()
        self.orders: dict[str, Order] = {}
        self.open: dict[str, Order] = {}  # not yet final, in creation order
        self.meta: dict[str, OrderMeta] = {}
        self.positions: dict[PositionKey, Position] = {}
        self.position_times: dict[PositionKey, datetime] = {}
        # the market time of the price each position was last filled at (the feed's clock then): a replay's
        # older prices do not mark it (see `Marks.price_since`)
        self.priced_at: dict[PositionKey, datetime] = {}
        self.instruments: dict[PositionKey, str] = {}  # what the last fill traded, when not the ticker (an option)
        self.fill_ids: set[str] = set()
        self.realized_by_day: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
        self.kill_switch_reason: str | None = None
        self.kill_switch_since: datetime | None = None
        self.exits_of: dict[str, list[str]] = defaultdict(list)  # entry -> its protective exits, in order
        self.exit_modes: dict[str, str] = {}  # exit -> who works it (see `oms/exits`), once decided

    # ---- BookView -------------------------------------------------------------------------

    @property
    def kill_switch_engaged(self) -> bool:
        return self.kill_switch_reason is not None

    def position(self, destination: str, ticker: str, strategy: str | None = None) -> Decimal:
        """Signed quantity held at one destination (for one strategy, or all)."""
        if strategy is not None:
            held = self.positions.get(position_key(destination, ticker, strategy))
            return held.qty if held else ZERO
        upper = ticker.upper()
        return sum((p.qty for (d, t, _), p in self.positions.items() if d == destination and t == upper), ZERO)

    def net_position(self, ticker: str, strategy: str | None = None) -> Decimal:
        upper = ticker.upper()
        return sum((p.qty for (_, t, s), p in self.positions.items()
                    if t == upper and (strategy is None or s == strategy)), ZERO)

    def realized_pnl_today(self, strategy: str | None = None) -> Decimal:
        today = session_day(utc_now())
        return sum((v for (day, s), v in self.realized_by_day.items()
                    if day == today and (strategy is None or s == strategy)), ZERO)

    def unrealized_pnl(self, strategy: str | None = None) -> Decimal:
        return sum((m.unrealized_pnl for m in self.marked_positions()
                    if strategy is None or (m.position.strategy or "") == strategy), ZERO)

    # ---- orders ---------------------------------------------------------------------------

    def add_order(self, order: Order, meta: OrderMeta, exit_mode: str | None = None) -> None:
        self.meta[order.client_order_id] = meta
        parent = order.request.parent_id
        if parent is not None and order.client_order_id not in self.exits_of[parent]:
            self.exits_of[parent].append(order.client_order_id)
        if exit_mode is not None:
            self.exit_modes[order.client_order_id] = exit_mode
        self.put(order)

    def put(self, order: Order) -> None:
        """Record an order's latest state."""
        coid = order.client_order_id
        self.orders[coid] = order
        if order.status.is_terminal:
            self.open.pop(coid, None)
        else:
            self.open[coid] = order

    def forget(self, client_order_id: str) -> None:
        order = self.orders.pop(client_order_id, None)
        self.open.pop(client_order_id, None)
        self.meta.pop(client_order_id, None)
        self.exit_modes.pop(client_order_id, None)
        if order is not None and order.request.parent_id in self.exits_of:
            siblings = self.exits_of[order.request.parent_id]
            if client_order_id in siblings:
                siblings.remove(client_order_id)

    def exits(self, entry_id: str) -> list[Order]:
        """The protective exits of an entry (any status), in the order they were made."""
        return [self.orders[c] for c in self.exits_of.get(entry_id, ()) if c in self.orders]

    def worked_by_station(self, client_order_id: str) -> bool:
        """Station holds or works this order itself (a held exit not sent with its entry, or an exit worked on
        Station's prices): its destination has nothing to cancel or change."""
        order = self.orders.get(client_order_id)
        if order is None or not order.request.protective:
            return False
        mode = self.exit_modes.get(client_order_id)
        if order.status is OrderStatus.HELD:
            return mode != "native_bracket"
        return order.status is OrderStatus.WORKING and mode == "station"

    def open_for(self, destination: str, ticker: str, strategy: str | None) -> list[Order]:
        """Open orders of one strategy in one ticker at one destination, oldest first."""
        upper = ticker.upper()
        return [o for o in self.open.values() if o.request.destination == destination
                and o.request.ticker.upper() == upper and (o.request.strategy or "") == (strategy or "")]

    def order(self, client_order_id: str) -> Order | None:
        """One order by its client order id (brokers read the book through this, see `queries_brokers`)."""
        return self.orders.get(client_order_id)

    def open_orders(self, destination: str | None = None) -> list[Order]:
        """Orders not yet final, oldest first (optionally at one destination)."""
        return [o for o in self.open.values() if destination is None or o.request.destination == destination]

    def pending(self, destination: str | None = None) -> list[Order]:
        """Orders never handed to their destination yet (status new), oldest first."""
        return [o for o in self.open_orders(destination) if o.status is OrderStatus.NEW]

    def working_qty(self, destination: str, ticker: str, strategy: str | None = None) -> Decimal:
        """Signed quantity still to fill of open orders at a destination for a ticker (protective exits aside:
        they only ever take their own entry's position back)."""
        buys, sells = self.working_sides(destination, ticker, strategy)
        return buys - sells

    def working_sides(self, destination: str, ticker: str, strategy: str | None = None) -> tuple[Decimal, Decimal]:
        """(buy, sell) quantities still to fill of open orders at a destination for a ticker, protective exits
        aside: what the position may grow to each way if every working order fills."""
        upper = ticker.upper()
        buys = sells = ZERO
        for o in self.open_orders(destination):
            request = o.request
            if request.protective or request.ticker.upper() != upper or (
                    strategy is not None and request.strategy != strategy):
                continue
            if request.side.sign > 0:
                buys += o.remaining_qty
            else:
                sells += o.remaining_qty
        return buys, sells

    # ---- fills and positions --------------------------------------------------------------

    def apply_fill(self, fill: Fill) -> tuple[Order | None, Position, Decimal]:
        """Apply one fill (the caller checked it is new): (order after, position after, realised delta)."""
        self.fill_ids.add(fill.fill_id)
        order = self.orders.get(fill.client_order_id)
        strategy = fill.strategy if fill.strategy is not None else (order.request.strategy if order else None)
        if order is not None:
            qty = min(fill.qty, order.remaining_qty)
            if qty > 0:
                try:
                    order = order.with_fill(qty, fill.price, at=fill.time)
                except InvalidTransition:  # a fill after a cancel or reject: the destination is the truth
                    total = order.filled_qty + qty
                    avg = average_price(order.filled_qty, order.avg_price, qty, fill.price)
                    status = OrderStatus.FILLED if total == order.request.qty else OrderStatus.PARTIALLY_FILLED
                    order = dataclasses.replace(order, status=status, filled_qty=total, avg_price=avg,
                                                updated_at=fill.time)
                self.put(order)
        meta = self.meta.get(fill.client_order_id)
        key = position_key(fill.destination, fill.ticker, strategy)
        before = self.positions.get(key) or Position(
            destination=fill.destination, ticker=fill.ticker.upper(), strategy=strategy or None,
            multiplier=meta.point_value if meta else Decimal(1))
        after = before.apply(fill)
        delta = after.realized_pnl - before.realized_pnl
        self.positions[key] = after
        self.position_times[key] = fill.time
        priced_at = self.marks.feed_time(fill.ticker)
        if priced_at is not None:
            self.priced_at[key] = priced_at
        else:
            self.priced_at.pop(key, None)
        if order is not None and order.request.instrument:
            self.instruments[key] = order.request.instrument
        self.realized_by_day[(session_day(fill.time), strategy or "")] += delta
        self.marks.seen(fill.ticker, fill.price)
        return order, after, delta

    def set_position(self, position: Position, at: datetime | None = None) -> None:
        key = position_key(position.destination, position.ticker, position.strategy)
        self.positions[key] = position
        self.position_times[key] = at or utc_now()

    def marked_positions(self, *, include_flat: bool = True) -> list[MarkedPosition]:
        """Every position with its mark and open PnL, newest change first."""
        out = []
        for key, position in self.positions.items():
            if not include_flat and position.is_flat:
                continue
            mark = self.marks.price_since(position.ticker, self.priced_at.get(key))
            out.append(MarkedPosition(position, mark, position.unrealized_pnl(mark), self.position_times.get(key, utc_now())))
        out.sort(key=lambda m: m.updated_at, reverse=True)
        return out

    def pricing(self) -> dict:
        """What marks positions correctly after a restart: the newest prices and when each position was priced."""
        return {"newest": self.marks.newest(),
                "priced_at": [[*key, at.isoformat()] for key, at in self.priced_at.items()]}

    def restore_pricing(self, saved: dict | None) -> None:
        """Take back what `pricing` gave at the last stop (an unreadable entry is skipped)."""
        saved = saved or {}
        self.marks.restore(saved.get("newest") or {})
        for entry in saved.get("priced_at") or []:
            try:
                destination, ticker, strategy, at = entry
                self.priced_at[position_key(destination, ticker, strategy)] = datetime.fromisoformat(at)
            except (TypeError, ValueError):
                continue

    def pnl_by_strategy(self) -> list[dict]:
        """Realised, unrealised and total PnL per strategy, newest change first."""
        rows: dict[str, dict] = {}
        for marked in self.marked_positions():
            name = marked.position.strategy or ""
            row = rows.setdefault(name, {"strategy": marked.position.strategy, "realized_pnl": ZERO,
                                         "unrealized_pnl": ZERO, "open_positions": 0, "updated_at": marked.updated_at})
            row["realized_pnl"] += marked.position.realized_pnl
            row["unrealized_pnl"] += marked.unrealized_pnl
            row["open_positions"] += 0 if marked.position.is_flat else 1
            row["updated_at"] = max(row["updated_at"], marked.updated_at)
        for row in rows.values():
            row["total_pnl"] = row["realized_pnl"] + row["unrealized_pnl"]
            row["realized_pnl_today"] = self.realized_pnl_today(row["strategy"] or "")
        return sorted(rows.values(), key=lambda r: r["updated_at"], reverse=True)
