"""Reading the alert journal and the oms tables into pandas frames: times as UTC, numbers as floats.

Only the columns the analysis needs are read: never the alert's raw body (its passphrase is
already removed, but nothing in it is worth exporting) nor the sender's address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from station.store.database import Store

ALERT_COLUMNS = ("alert_id", "status", "status_reason", "strategy", "ticker", "action", "qty", "price", "dialect",
                 "source", "trade_id", "position", "target_position", "ticker1", "hedge", "ticker2",
                 "sent_at", "received_at", "committed_at", "routed_at", "filled_at")
ORDER_COLUMNS = ("seq", "client_order_id", "alert_id", "cause", "strategy", "destination", "ticker", "instrument",
                 "side", "qty", "order_type", "limit_price", "price_hint", "status", "filled_qty", "avg_price",
                 "reason", "pair_group", "leg", "point_value", "created_at", "updated_at", "role")
FILL_COLUMNS = ("seq", "fill_id", "client_order_id", "destination", "strategy", "ticker", "side", "qty", "price",
                "commission", "realized_pnl", "time")
PAIR_COLUMNS = ("pair_group", "alert_id", "strategy", "destination", "ticker1", "hedge", "ticker2", "side", "qty",
                "order_price", "created_at")
DUPLICATE_COLUMNS = ("original_alert_id", "ticker", "received_at")

_TIMES = {"sent_at", "received_at", "committed_at", "routed_at", "filled_at", "created_at", "updated_at", "time"}
_NUMBERS = {"qty", "price", "hedge", "filled_qty", "avg_price", "limit_price", "price_hint", "point_value",
            "commission", "realized_pnl", "order_price"}


@dataclass(frozen=True)
class Tables:
    """One consistent snapshot of what the analysis reads, already limited to `since`."""

    alerts: pd.DataFrame
    orders: pd.DataFrame
    fills: pd.DataFrame
    pairs: pd.DataFrame
    duplicates: pd.DataFrame
    since: datetime | None = None


def _frame(conn, table: str, columns: tuple[str, ...], order_by: str) -> pd.DataFrame:
    frame = pd.read_sql_query(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order_by}", conn)
    for column in frame.columns:
        if column in _TIMES:
            # one resolution for every time column, whatever pandas infers per column (mixing them warns, and
            # pandas 4 will refuse to fill one from another)
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601", errors="coerce").dt.as_unit("us")
        elif column in _NUMBERS:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    for column in ("alert_id", "original_alert_id"):
        if column in frame.columns:
            frame[column] = frame[column].astype("Int64")
    return frame


def load_tables(store: Store, since: datetime | None = None) -> Tables:
    """Read alerts, orders, fills, pair groups and skipped duplicates (alerts received at or after `since`)."""
    conn = store.reader()
    conn.execute("BEGIN")  # one read transaction: the running Station may be writing meanwhile
    try:
        alerts = _frame(conn, "alerts", ALERT_COLUMNS, "alert_id")
        orders = _frame(conn, "orders", ORDER_COLUMNS, "seq")
        fills = _frame(conn, "fills", FILL_COLUMNS, "seq")
        pairs = _frame(conn, "pair_groups", PAIR_COLUMNS, "created_at, rowid")
        duplicates = _frame(conn, "alert_duplicates", DUPLICATE_COLUMNS, "seq")
    finally:
        conn.execute("COMMIT")
    if since is not None:
        alerts, orders, fills, pairs, duplicates = _since(since, alerts, orders, fills, pairs, duplicates)
    return Tables(alerts.reset_index(drop=True), orders.reset_index(drop=True), fills.reset_index(drop=True),
                  pairs.reset_index(drop=True), duplicates.reset_index(drop=True), since)


def _since(since: datetime, alerts, orders, fills, pairs, duplicates):
    """Alerts by their received time; orders, fills and pairs follow their alert (or their own time without one)."""
    cutoff = pd.Timestamp(since)
    alerts = alerts[alerts["received_at"] >= cutoff]
    kept_ids = set(alerts["alert_id"].dropna().astype(int))
    all_orders = set(orders["client_order_id"])
    known_alert = orders["alert_id"].isin(kept_ids)
    no_alert = orders["alert_id"].isna()
    orders = orders[known_alert | (no_alert & (orders["created_at"] >= cutoff))]
    of_orders = fills["client_order_id"].isin(set(orders["client_order_id"]))
    orphan = ~fills["client_order_id"].isin(all_orders) & (fills["time"] >= cutoff)
    fills = fills[of_orders | orphan]
    pairs = pairs[pairs["pair_group"].isin(set(orders["pair_group"].dropna()))]
    duplicates = duplicates[duplicates["received_at"] >= cutoff]
    return alerts, orders, fills, pairs, duplicates
