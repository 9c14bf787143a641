"""Alerts, orders, fills and pair groups as the REST API lists them: newest first, filtered, limited.

Read-only (`queries.RecordQueries`); the tables are written by `alerts_repo` and the oms's
`order_repo` jobs. The connection directly, not sqlite-utils: each list is one prepared
query on a reader connection, built from the filters given.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Mapping

from station.domain.pairs import PairFill
from station.domain.record_filter import RecordFilter
from station.domain.timeutil import UTC
from station.store.database import Store
from station.store.order_repo import pair_fill, pair_legs

# a ticker matches as stored, without its exchange prefix (`NASDAQ:AAPL`), or as a pair's leg
_ALERT_TICKER = ("(upper(ticker) = ? OR upper(substr(ticker, instr(ticker, ':') + 1)) = ? "
                 "OR upper(ticker1) = ? OR upper(ticker2) = ?)")
_ORDER_TICKER = "(upper(ticker) = ? OR upper(substr(ticker, instr(ticker, ':') + 1)) = ? OR upper(instrument) = ?)"


def _iso(where: RecordFilter) -> str:
    assert where.since is not None
    return where.since.astimezone(UTC).isoformat(timespec="microseconds")


class RecordReader:
    """Reads for `GET /api/alerts|orders|fills|pairs` (and the dashboard's first rows)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def alert_records(self, limit: int, where: RecordFilter | None = None) -> list[Mapping[str, Any]]:
        clauses, params = [], []
        where = where or RecordFilter()
        if where.status:
            clauses.append("status = ?")
            params.append(where.status)
        if where.strategy:
            # named in the alert, or routed to that strategy (an alert without a strategy reaches every listing one)
            clauses.append("(strategy = ? OR alert_id IN (SELECT alert_id FROM orders WHERE strategy = ? "
                           "AND alert_id IS NOT NULL))")
            params += [where.strategy] * 2
        if where.ticker:
            clauses.append(_ALERT_TICKER)
            params += [where.ticker.upper()] * 4
        if where.since:
            clauses.append("received_at >= ?")
            params.append(_iso(where))
        return self._select("alerts", clauses, params, "alert_id DESC", limit)

    def order_records(self, limit: int, where: RecordFilter | None = None) -> list[Mapping[str, Any]]:
        clauses, params = [], []
        where = where or RecordFilter()
        for column in ("status", "strategy", "destination"):
            value = getattr(where, column)
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if where.ticker:
            clauses.append(_ORDER_TICKER)
            params += [where.ticker.upper()] * 3
        if where.since:
            # julianday: creation times are written with and without fractions of a second
            clauses.append("julianday(created_at) >= julianday(?)")
            params.append(_iso(where))
        return self._links(self._select("orders", clauses, params, "seq DESC", limit))

    def fill_records(self, limit: int) -> list[Mapping[str, Any]]:
        return self.store.query("SELECT * FROM fills ORDER BY seq DESC LIMIT ?", (limit,))

    def orders_of_cause(self, cause: str) -> list[Mapping[str, Any]]:
        return self._links(self.store.query("SELECT * FROM orders WHERE cause = ? ORDER BY seq", (cause,)))

    def order_record(self, client_order_id: str) -> Mapping[str, Any] | None:
        rows = self._links(self.store.query("SELECT * FROM orders WHERE client_order_id = ?", (client_order_id,)))
        return rows[0] if rows else None

    def _links(self, rows: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """`oco_group` and `parent_id` as the contract reads them: a group shared by OCO siblings, else null (a
        bracket's lone exit keeps the group it was made with, which no other order shares); the entry's id, else
        null (exits added to a position held name an anchor, not an order)."""
        groups = {r["oco_group"] for r in rows if r["oco_group"]}
        parents = {r["parent_id"] for r in rows if r["parent_id"]}
        if not groups and not parents:
            return rows
        shared = {r[0] for r in self.store.query(
            f"SELECT oco_group FROM orders WHERE oco_group IN ({','.join('?' * len(groups))}) "
            "GROUP BY oco_group HAVING COUNT(*) > 1", tuple(groups))} if groups else set()
        orders = {r[0] for r in self.store.query(
            f"SELECT client_order_id FROM orders WHERE client_order_id IN ({','.join('?' * len(parents))})",
            tuple(parents))} if parents else set()
        out = []
        for row in rows:
            lone = row["oco_group"] and row["oco_group"] not in shared
            anchor = row["parent_id"] and row["parent_id"] not in orders
            if lone or anchor:
                row = {**dict(row), **({"oco_group": None} if lone else {}), **({"parent_id": None} if anchor else {})}
            out.append(row)
        return out

    def pair_records(self, limit: int) -> list[tuple[Mapping[str, Any], PairFill]]:
        groups = self.store.query("SELECT * FROM pair_groups ORDER BY created_at DESC, rowid DESC LIMIT ?", (limit,))
        legs = pair_legs(self.store, [g["pair_group"] for g in groups])
        return [(g, pair_fill(g, legs.get(g["pair_group"], {}))) for g in groups]

    def _select(self, table: str, clauses: list[str], params: list[Any], order: str,
                limit: int) -> list[sqlite3.Row]:
        condition = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return self.store.query(f"SELECT * FROM {table} {condition} ORDER BY {order} LIMIT ?", (*params, limit))
