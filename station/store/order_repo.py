"""Orders, fills, positions and pair groups in SQLite: writer jobs for the oms, reads for everyone.

Writer jobs (`fn(conn)`) run in the store's writer thread; their effects are
durable when the awaited future resolves. Reads go through `store.query`. The
journal's rows (`alerts`) are written by `alerts_repo` only, in the same jobs.

The connection directly, not sqlite-utils: these jobs are on the order path inside the
writer's group commits, as prepared statements (sqlite-utils inspects the table on every
write, ~200 µs a row against ~35 µs).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable

from station.domain.alert import Alert, SpreadTicker
from station.domain.enums import OrderRole, OrderStatus, OrderType, Side, TimeInForce
from station.domain.fills import Fill
from station.domain.instructions import Offset
from station.domain.orders import Order, OrderRequest
from station.domain.pairs import Leg, PairFill
from station.domain.positions import Position
from station.domain.timeutil import UTC, utc_now
from station.store.database import Store
from station.store.alerts_repo import alert_from_row


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _txt(value: Any) -> str | None:
    return None if value is None else str(value)


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class NewOrder:
    """An order to insert: its domain state and its book metadata."""

    order: Order
    cause: str
    pair_group: str | None = None
    leg: str | None = None
    point_value: Decimal = Decimal(1)
    exit_mode: str | None = None


def _offset(request: OrderRequest) -> str | None:
    return None if request.offset is None else json.dumps(request.offset.to_json())


@dataclass(frozen=True, slots=True)
class PairGroup:
    """A pair order at one destination: leg 1 on ticker1, leg 2 on hedge x ticker2."""

    pair_group: str
    destination: str
    spread: SpreadTicker
    side: Side
    qty: Decimal
    order_price: Decimal | None
    strategy: str | None = None
    alert_id: int | None = None


# ---- writer jobs -------------------------------------------------------------------------------


def insert_orders(conn: sqlite3.Connection, orders: Iterable[NewOrder]) -> list[str]:
    """Insert orders whose client order id is new; returns the ids actually inserted."""
    inserted = []
    for item in orders:
        order, request = item.order, item.order.request
        cursor = conn.execute(
            "INSERT OR IGNORE INTO orders (client_order_id, alert_id, cause, strategy, destination, ticker, instrument, "
            "side, qty, order_type, limit_price, stop_price, tif, price_hint, status, filled_qty, avg_price, reason, "
            "pair_group, leg, point_value, created_at, updated_at, role, parent_id, oco_group, offset, tick_size, "
            "exit_mode, replaces, replaced_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (request.client_order_id, request.alert_id, item.cause, request.strategy, request.destination,
             request.ticker, request.instrument, str(request.side), str(request.qty), str(request.order_type),
             _txt(request.limit_price), _txt(request.stop_price), str(request.tif), _txt(request.price_hint),
             str(order.status), str(order.filled_qty), _txt(order.avg_price), order.reason, item.pair_group,
             item.leg, str(item.point_value), request.created_at.isoformat(), order.updated_at.isoformat(),
             str(request.role), request.parent_id, request.oco_group, _offset(request), _txt(request.tick_size),
             item.exit_mode, request.replaces, order.replaced_by),
        )
        if cursor.rowcount:
            inserted.append(request.client_order_id)
    return inserted


def insert_pair_groups(conn: sqlite3.Connection, groups: Iterable[PairGroup]) -> None:
    for g in groups:
        conn.execute(
            "INSERT OR IGNORE INTO pair_groups (pair_group, alert_id, strategy, destination, ticker1, hedge, ticker2, "
            "side, qty, order_price, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (g.pair_group, g.alert_id, g.strategy, g.destination, g.spread.ticker1, str(g.spread.hedge),
             g.spread.ticker2, str(g.side), str(g.qty), _txt(g.order_price), utc_now().isoformat()),
        )


def save_order(conn: sqlite3.Connection, order: Order) -> None:
    """Write an order's changing fields (status, fills, broker id, reason)."""
    conn.execute(
        "UPDATE orders SET status = ?, filled_qty = ?, avg_price = ?, broker_order_id = ?, reason = ?, updated_at = ? "
        "WHERE client_order_id = ?",
        (str(order.status), str(order.filled_qty), _txt(order.avg_price), order.broker_order_id, order.reason,
         order.updated_at.isoformat(), order.client_order_id),
    )


def save_request(conn: sqlite3.Connection, request: OrderRequest) -> None:
    """Write what a change may change: quantity, type and prices (an exit armed, changed, or released)."""
    conn.execute("UPDATE orders SET qty = ?, order_type = ?, limit_price = ?, stop_price = ?, price_hint = ? "
                 "WHERE client_order_id = ?",
                 (str(request.qty), str(request.order_type), _txt(request.limit_price), _txt(request.stop_price),
                  _txt(request.price_hint), request.client_order_id))


def save_offset(conn: sqlite3.Connection, request: OrderRequest) -> None:
    """A held exit given a price of its own no longer follows an offset."""
    conn.execute("UPDATE orders SET offset = ? WHERE client_order_id = ?", (_offset(request), request.client_order_id))


def move_exits(conn: sqlite3.Connection, exit_ids: list[str], parent_id: str) -> None:
    """Held exits follow their entry to its replacement."""
    conn.executemany("UPDATE orders SET parent_id = ? WHERE client_order_id = ?", [(parent_id, c) for c in exit_ids])


def save_exit_mode(conn: sqlite3.Connection, client_order_id: str, mode: str) -> None:
    """Who works a protective exit from now on (see migration 0080)."""
    conn.execute("UPDATE orders SET exit_mode = ? WHERE client_order_id = ?", (mode, client_order_id))


def save_replaced_by(conn: sqlite3.Connection, client_order_id: str, replaced_by: str) -> None:
    conn.execute("UPDATE orders SET replaced_by = ? WHERE client_order_id = ?", (replaced_by, client_order_id))


def save_stop_prices(conn: sqlite3.Connection, stops: list[tuple[str, Decimal]]) -> None:
    """Trailing stops that moved: (client order id, stop price)."""
    conn.executemany("UPDATE orders SET stop_price = ? WHERE client_order_id = ?",
                     [(str(price), coid) for coid, price in stops])


def save_position(conn: sqlite3.Connection, position: Position, at: datetime) -> None:
    conn.execute(
        "INSERT INTO positions (destination, ticker, strategy, qty, avg_price, realized_pnl, multiplier, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(destination, ticker, strategy) DO UPDATE SET "
        "qty = excluded.qty, avg_price = excluded.avg_price, realized_pnl = excluded.realized_pnl, "
        "multiplier = excluded.multiplier, updated_at = excluded.updated_at",
        (position.destination, position.ticker, position.strategy or "", str(position.qty), str(position.avg_price),
         str(position.realized_pnl), str(position.multiplier), at.isoformat()),
    )


def insert_fill(conn: sqlite3.Connection, fill: Fill, realized: Decimal) -> bool:
    """Record a fill once (by fill_id); False if it was already recorded."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO fills (fill_id, client_order_id, destination, strategy, ticker, side, qty, price, "
        "commission, realized_pnl, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (fill.fill_id, fill.client_order_id, fill.destination, fill.strategy, fill.ticker, str(fill.side),
         str(fill.qty), str(fill.price), str(fill.commission), str(realized), fill.time.astimezone(UTC).isoformat()),
    )
    return bool(cursor.rowcount)


def set_state(conn: sqlite3.Connection, key: str, value: Any) -> None:
    conn.execute("INSERT INTO oms_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                 (key, json.dumps(value)))


# ---- rows to values ----------------------------------------------------------------------------


def order_from_row(row: sqlite3.Row, alert: Alert | None = None) -> Order:
    request = OrderRequest(
        client_order_id=row["client_order_id"], destination=row["destination"], ticker=row["ticker"],
        side=Side(row["side"]), qty=Decimal(row["qty"]), order_type=OrderType(row["order_type"]),
        limit_price=_dec(row["limit_price"]), stop_price=_dec(row["stop_price"]), tif=TimeInForce(row["tif"]),
        strategy=row["strategy"], alert_id=row["alert_id"], price_hint=_dec(row["price_hint"]),
        instrument=row["instrument"], created_at=_time(row["created_at"]), alert=alert,
        role=OrderRole(row["role"]), parent_id=row["parent_id"], oco_group=row["oco_group"],
        offset=Offset.from_json(json.loads(row["offset"])) if row["offset"] else None,
        tick_size=_dec(row["tick_size"]), replaces=row["replaces"],
    )
    return Order(request=request, status=OrderStatus(row["status"]), filled_qty=Decimal(row["filled_qty"]),
                 avg_price=_dec(row["avg_price"]), broker_order_id=row["broker_order_id"], reason=row["reason"],
                 updated_at=_time(row["updated_at"]), replaced_by=row["replaced_by"])


def position_from_row(row: sqlite3.Row) -> Position:
    return Position(destination=row["destination"], ticker=row["ticker"], strategy=row["strategy"] or None,
                    qty=Decimal(row["qty"]), avg_price=Decimal(row["avg_price"]),
                    realized_pnl=Decimal(row["realized_pnl"]), multiplier=Decimal(row["multiplier"]))


def fill_from_row(row: sqlite3.Row) -> Fill:
    return Fill(fill_id=row["fill_id"], client_order_id=row["client_order_id"], destination=row["destination"],
                ticker=row["ticker"], side=Side(row["side"]), qty=Decimal(row["qty"]), price=Decimal(row["price"]),
                time=_time(row["time"]), commission=Decimal(row["commission"]), strategy=row["strategy"])


class OrderRepository:
    """Reads of the oms tables (writes are the writer jobs above)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def alerts_by_id(self, alert_ids: Iterable[int]) -> dict[int, Alert]:
        ids = sorted(set(alert_ids))
        found: dict[int, Alert] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = self.store.query(f"SELECT * FROM alerts WHERE alert_id IN ({','.join('?' * len(chunk))})", tuple(chunk))
            found.update({r["alert_id"]: alert_from_row(r) for r in rows})
        return found

    def orders(self, *, open_only: bool = False) -> list[tuple[Order, sqlite3.Row]]:
        """Orders oldest first (open ones only, or all), with their rows for the metadata."""
        where = "WHERE status NOT IN ('filled', 'cancelled', 'rejected')" if open_only else ""
        rows = self.store.query(f"SELECT * FROM orders {where} ORDER BY seq")
        alerts = self.alerts_by_id(r["alert_id"] for r in rows if r["alert_id"] is not None)
        return [(order_from_row(r, alerts.get(r["alert_id"])), r) for r in rows]

    def order_row(self, client_order_id: str) -> sqlite3.Row | None:
        """One order's row by its client order id."""
        rows = self.store.query("SELECT * FROM orders WHERE client_order_id = ?", (client_order_id,))
        return rows[0] if rows else None

    def orders_by_id(self, client_order_ids: Iterable[str]) -> dict[str, Order]:
        """Orders by client order id (those that exist)."""
        ids = sorted(set(client_order_ids))
        found: dict[str, Order] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = self.store.query(f"SELECT * FROM orders WHERE client_order_id IN ({','.join('?' * len(chunk))})",
                                    tuple(chunk))
            found.update({r["client_order_id"]: order_from_row(r) for r in rows})
        return found

    def recent_orders(self, limit: int) -> list[sqlite3.Row]:
        return self.store.query("SELECT * FROM orders ORDER BY seq DESC LIMIT ?", (limit,))

    def recent_fills(self, limit: int) -> list[sqlite3.Row]:
        return self.store.query("SELECT * FROM fills ORDER BY seq DESC LIMIT ?", (limit,))

    def latest_orders(self, limit: int) -> list[Order]:
        """The newest `limit` orders, oldest first (what the Orders dock shows at start)."""
        return [order_from_row(r) for r in reversed(self.recent_orders(limit))]

    def latest_fills(self, limit: int) -> list[Fill]:
        """The newest `limit` fills, oldest first."""
        return [fill_from_row(r) for r in reversed(self.recent_fills(limit))]

    def latest_alerts(self, limit: int) -> list[tuple[Alert, str | None]]:
        """The newest `limit` alerts, oldest first, each with its status reason (what the Alerts dock opens with)."""
        return [(alert_from_row(r), r["status_reason"]) for r in reversed(self.recent_alerts(limit))]

    def recent_alerts(self, limit: int) -> list[sqlite3.Row]:
        return self.store.query("SELECT * FROM alerts ORDER BY alert_id DESC LIMIT ?", (limit,))

    def fill_ids(self) -> set[str]:
        return {r["fill_id"] for r in self.store.query("SELECT fill_id FROM fills")}

    def realized_since(self, since: datetime) -> dict[str, Decimal]:
        """Realised PnL of the fills since `since`, per strategy ('' for none)."""
        totals: dict[str, Decimal] = {}
        for r in self.store.query("SELECT strategy, realized_pnl FROM fills WHERE time >= ?",
                                  (since.astimezone(UTC).isoformat(),)):
            totals[r["strategy"] or ""] = totals.get(r["strategy"] or "", Decimal(0)) + Decimal(r["realized_pnl"])
        return totals

    def positions(self) -> list[tuple[Position, datetime]]:
        return [(position_from_row(r), _time(r["updated_at"])) for r in self.store.query("SELECT * FROM positions")]

    def pair_groups(self, limit: int = 1000) -> list[sqlite3.Row]:
        return self.store.query("SELECT * FROM pair_groups ORDER BY created_at DESC, rowid DESC LIMIT ?", (limit,))

    def state(self, key: str, default: Any = None) -> Any:
        rows = self.store.query("SELECT value FROM oms_state WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else default


def pair_legs(store: Store, groups: Iterable[str]) -> dict[str, dict[str, dict]]:
    """The leg orders of pair groups: {group: {leg: orders row}}."""
    names = list(groups)
    if not names:
        return {}
    rows = store.query(f"SELECT * FROM orders WHERE pair_group IN ({','.join('?' * len(names))})", tuple(names))
    out: dict[str, dict[str, dict]] = {}
    for row in rows:
        out.setdefault(row["pair_group"], {})[row["leg"]] = dict(row)
    return out


def pair_fill(group, legs: dict[str, dict]) -> PairFill:
    """A PairFill from a `pair_groups` row and its legs' `orders` rows keyed by leg ('1', '2')."""
    def leg(key: str, ticker: str) -> Leg:
        row = legs.get(key)
        if row is None:
            return Leg(ticker, Decimal(0))
        return Leg(row["ticker"], Decimal(row["qty"]), Decimal(row["filled_qty"]), _dec(row["avg_price"]))

    return PairFill(Side(group["side"]), Decimal(group["hedge"]), _dec(group["order_price"]),
                    leg("1", group["ticker1"]), leg("2", group["ticker2"]))
