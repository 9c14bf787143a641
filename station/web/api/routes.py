"""The REST API (`/api/…`): alerts, orders, fills, positions, PnL; strategies; manual actions; kill switch.

Collections answer `{"<collection>": [...]}` newest first, `?limit=N` (default 100, at most 1000);
alerts and orders take the filters `status`, `strategy`, `ticker`, `since` (and orders `destination`).
Everything is read and written through the protocols of `station.queries` that `station/app.py`
hands in as `ApiParts`: records from the database, positions and PnL from the live book
(marked at the feed's last prices), strategies' states from the engine.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Mapping

from aiohttp import web

from station.bus import Bus
from station.domain.enums import AlertStatus, OrderStatus
from station.domain.pairs import PairFill
from station.domain.record_filter import RecordFilter
from station.domain.timeutil import parse_eastern
from station.queries import (
    BookQueries, ConfigEditor, ConfigQueries, EngineQueries, RecordQueries, StrategySwitch,
)
from station.web.api import config as rest_config, manual as rest_manual, orders as rest_orders
from station.web.api.auth import ApiError, ApiToken, api_middleware

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


@dataclass(frozen=True)
class ApiParts:
    """What the REST API reads and changes Station through (built by `station/app.py`)."""

    records: RecordQueries
    book: BookQueries
    config: ConfigQueries
    edits: ConfigEditor
    switch: StrategySwitch
    engine: EngineQueries


def num(value: Any) -> int | float | None:
    """A stored decimal (text or Decimal) as the plainest JSON number (int when whole)."""
    if value is None:
        return None
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    return int(value) if value == value.to_integral_value() else float(value)


def limit_of(request: web.Request) -> int:
    text = request.query.get("limit")
    if text is None:
        return DEFAULT_LIMIT
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, "limit must be a whole number", {"limit": f"{text!r} is not a whole number"}) from None
    if value < 1:
        raise ApiError(400, "limit must be at least 1", {"limit": "must be at least 1"})
    return min(value, MAX_LIMIT)


def filter_of(request: web.Request, statuses: type[AlertStatus] | type[OrderStatus], *,
              destination: bool = False) -> RecordFilter:
    """The filters of a listing; 400 naming an unknown status or an unreadable time."""
    query, errors = request.query, {}
    status = query.get("status") or None
    known = [s.value for s in statuses]
    if status is not None and status.lower() not in known:
        errors["status"] = f"{status!r} is not one of {', '.join(known)}"
    since = None
    if query.get("since"):
        try:
            since = since_of(query["since"])
        except ValueError:
            errors["since"] = f"{query['since'][:40]!r} is not an ISO time (e.g. 2024-03-01T09:30:00-05:00)"
    if errors:
        raise ApiError(400, "invalid filter", errors)
    return RecordFilter(status=status.lower() if status else None, strategy=query.get("strategy") or None,
                        ticker=query.get("ticker") or None,
                        destination=(query.get("destination") or None) if destination else None, since=since)


def since_of(text: str) -> datetime:
    """`since` as an aware time: without a zone it is US/Eastern, as everywhere for users. An offset's `+` typed
    into a URL unencoded arrives as a space (`…T09:30:00 00:00`): read as the `+` it was."""
    try:
        return parse_eastern(text)
    except ValueError:
        head, space, offset = text.strip().rpartition(" ")
        if space and head[-1:].isdigit() and offset[:2].isdigit():
            return parse_eastern(f"{head}+{offset}")
        raise


def alert_json(row: Mapping[str, Any]) -> dict:
    return {
        "alert_id": row["alert_id"], "status": row["status"], "status_reason": row["status_reason"],
        "strategy": row["strategy"], "ticker": row["ticker"], "action": row["action"].lower(),
        "qty": num(row["qty"]), "price": num(row["price"]), "received_at": row["received_at"],
        "routed_at": row["routed_at"], "filled_at": row["filled_at"], "source": row["source"],
        "trade_id": row["trade_id"], "position": row["position"], "target_position": row["target_position"],
        "ticker1": row["ticker1"], "hedge": num(row["hedge"]), "ticker2": row["ticker2"],
    }


def order_json(row: Mapping[str, Any]) -> dict:
    return {
        "id": row["client_order_id"], "alert_id": row["alert_id"], "strategy": row["strategy"],
        "destination": row["destination"], "ticker": row["ticker"], "instrument": row["instrument"],
        "action": row["side"], "qty": num(row["qty"]), "order_type": row["order_type"],
        "limit_price": num(row["limit_price"]), "stop_price": num(row["stop_price"]), "tif": row["tif"],
        "status": row["status"], "filled_qty": num(row["filled_qty"]), "avg_price": num(row["avg_price"]),
        "broker_order_id": row["broker_order_id"], "reason": row["reason"], "pair_group": row["pair_group"],
        "leg": row["leg"], "created_at": row["created_at"], "updated_at": row["updated_at"],
        # orders as traders place them (station/web/api/orders.py places, cancels and changes them)
        "role": row["role"], "parent_id": row["parent_id"], "oco_group": row["oco_group"],
        "replaces": row["replaces"], "replaced_by": row["replaced_by"],
    }


def fill_json(row: Mapping[str, Any]) -> dict:
    return {
        "fill_id": row["fill_id"], "order_id": row["client_order_id"], "destination": row["destination"],
        "strategy": row["strategy"], "ticker": row["ticker"], "action": row["side"], "qty": num(row["qty"]),
        "price": num(row["price"]), "commission": num(row["commission"]), "realized_pnl": num(row["realized_pnl"]),
        "time": row["time"],
    }


def position_json(marked) -> dict:
    p = marked.position
    return {
        "destination": p.destination, "strategy": p.strategy, "ticker": p.ticker, "qty": num(p.qty),
        "side": "long" if p.qty > 0 else "short" if p.qty < 0 else "flat", "avg_price": num(p.avg_price),
        "mark": num(marked.mark), "unrealized_pnl": num(marked.unrealized_pnl), "realized_pnl": num(p.realized_pnl),
        "total_pnl": num(marked.total_pnl), "point_value": num(p.multiplier), "updated_at": marked.updated_at.isoformat(),
    }


def pnl_json(rows: list[dict], limit: int) -> dict:
    """Per strategy, and the total over all of them."""
    entries = [{"strategy": r["strategy"], "realized_pnl": num(r["realized_pnl"]),
                "unrealized_pnl": num(r["unrealized_pnl"]), "total_pnl": num(r["total_pnl"]),
                "realized_pnl_today": num(r["realized_pnl_today"]), "open_positions": r["open_positions"],
                "updated_at": r["updated_at"].isoformat()} for r in rows]
    total = {key: num(sum((r[key] for r in rows), Decimal(0)))
             for key in ("realized_pnl", "unrealized_pnl", "total_pnl", "realized_pnl_today")}
    return {"pnl": entries[:limit], "total": total}


class RestApi:
    """Installs the `/api/…` routes on the receiver's application (component `rest-api`)."""

    name = "rest-api"

    def __init__(self, app: web.Application, *, bus: Bus, parts: ApiParts, secrets) -> None:
        self.bus, self.parts = bus, parts
        self.records, self.book, self.config = parts.records, parts.book, parts.config
        self.token = ApiToken(secrets)
        app.middlewares.append(api_middleware(self.token))
        add = app.router
        add.add_get("/api/alerts", self.alerts)
        add.add_get("/api/orders", self.list_orders)
        add.add_get("/api/fills", self.fills)
        add.add_get("/api/positions", self.positions)
        add.add_get("/api/pnl", self.pnl)
        add.add_get("/api/pairs", self.pairs)
        rest_config.install(self, add)
        rest_manual.install(self, add)
        rest_orders.install(self, add)

    async def start(self) -> None:
        await asyncio.to_thread(self.token.ensure)

    async def stop(self) -> None:
        pass

    async def alerts(self, request: web.Request) -> web.Response:
        where = filter_of(request, AlertStatus)
        return web.json_response({"alerts": [alert_json(r) for r in self.records.alert_records(limit_of(request), where)]})

    async def list_orders(self, request: web.Request) -> web.Response:
        where = filter_of(request, OrderStatus, destination=True)
        return web.json_response({"orders": [order_json(r) for r in self.records.order_records(limit_of(request), where)]})

    async def fills(self, request: web.Request) -> web.Response:
        return web.json_response({"fills": [fill_json(r) for r in self.records.fill_records(limit_of(request))]})

    async def positions(self, request: web.Request) -> web.Response:
        limit = limit_of(request)
        flat = request.query.get("include_flat", "true").lower() != "false"
        rows = self.book.marked_positions(include_flat=flat)[:limit]
        return web.json_response({"positions": [position_json(m) for m in rows]})

    async def pnl(self, request: web.Request) -> web.Response:
        return web.json_response(pnl_json(self.book.pnl_by_strategy(), limit_of(request)))

    async def pairs(self, request: web.Request) -> web.Response:
        pairs = self.records.pair_records(limit_of(request))
        return web.json_response({"pairs": [pair_json(group, pair) for group, pair in pairs]})


def pair_json(group: Mapping[str, Any], pair: PairFill) -> dict:
    """A pair group with its legs: quantities, fills, the spread's order and fill price, slippage."""
    def leg(item) -> dict:
        return {"ticker": item.ticker, "qty": num(item.qty), "filled_qty": num(item.filled_qty),
                "remaining_qty": num(item.remaining_qty), "avg_price": num(item.avg_price)}

    return {"pair_group": group["pair_group"], "alert_id": group["alert_id"], "strategy": group["strategy"],
            "destination": group["destination"], "ticker1": group["ticker1"], "hedge": num(group["hedge"]),
            "ticker2": group["ticker2"], "action": group["side"], "qty": num(group["qty"]),
            "order_price": num(pair.order_price), "fill_price": num(pair.fill_price), "slippage": num(pair.slippage),
            "complete": pair.complete, "legs": [leg(pair.leg1), leg(pair.leg2)], "created_at": group["created_at"]}
