"""The dashboard's live tables: bus events relayed to Socket.IO frontends (the room `join_frontend` joins).

Events, each a list of rows in the REST API's shapes (the page merges them by key):
`alerts` (new alerts and status changes), `orders` (every change), `positions` (all open
ones), `pnl` (as `GET /api/pnl`), `kill_switch` (as `GET /api/kill-switch`), and `refusals`
(refused webhook requests, through `relay`). Scripts' uploads go out as `trading_update`
(web/scripts/feed.py). Changes are gathered and sent at most `RATE_HZ` times a second, so a
burst of alerts or fills costs the loop one emit per table, and nothing is built while no
frontend listens.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from station.bus import Bus
from station.domain.events import (
    AlertReceived, AlertStatusChanged, KillSwitchChanged, OrderUpdated, PositionChanged, PositionsMarked,
)
from station.domain.orders import Order
from station.queries import BookQueries

log = logging.getLogger("station.web")

RATE_HZ = 10.0
MAX_ROWS = 500  # per table and send: a flood keeps the newest


def _number(value: Any) -> int | float | None:
    from station.web.api.routes import num

    return num(value)


def alert_row(event: AlertReceived) -> dict[str, Any]:
    alert = event.alert
    return {"alert_id": alert.alert_id, "status": str(alert.status), "status_reason": None,
            "strategy": alert.strategy, "ticker": alert.ticker, "action": str(alert.action).lower(),
            "qty": _number(alert.qty), "price": _number(alert.price), "received_at": alert.received_at.isoformat(),
            "source": alert.source}


def order_row(order: Order) -> dict[str, Any]:
    request = order.request
    return {"id": order.client_order_id, "alert_id": request.alert_id, "strategy": request.strategy,
            "destination": request.destination, "ticker": request.ticker, "instrument": request.instrument,
            "action": str(request.side), "qty": _number(request.qty), "order_type": str(request.order_type),
            "limit_price": _number(request.limit_price), "stop_price": _number(request.stop_price),
            "tif": str(request.tif), "status": str(order.status), "filled_qty": _number(order.filled_qty),
            "avg_price": _number(order.avg_price), "reason": order.reason,
            "created_at": request.created_at.isoformat(), "updated_at": order.updated_at.isoformat()}


class DashboardFeed:
    """Component `dashboard-feed`: gathers changes from the bus and emits them to the frontends' room."""

    name = "dashboard-feed"

    def __init__(self, bus: Bus, sio, room: str, book: BookQueries) -> None:
        self.bus, self.sio, self.room, self.book = bus, sio, room, book
        self._rows: dict[str, dict[Any, dict[str, Any]]] = {}
        self._whole: set[str] = set()  # tables sent whole (positions, pnl) on their next round
        self._unsubscribe: list[Callable[[], None]] = []
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self.relay(AlertReceived, "alerts", lambda e: e.alert.alert_id, alert_row)
        self.relay(AlertStatusChanged, "alerts", lambda e: e.alert_id,
                   lambda e: {"alert_id": e.alert_id, "status": e.status, "status_reason": e.why})
        self.relay(OrderUpdated, "orders", lambda e: e.order.client_order_id, lambda e: order_row(e.order))
        for kind in (PositionsMarked, PositionChanged, KillSwitchChanged):
            self._unsubscribe.append(bus.subscribe(kind, self._on_book))

    def relay(self, kind: type, event_name: str, key: Callable[[Any], Any], row: Callable[[Any], dict]) -> None:
        """Send `row(event)` of every `kind` event in the list `event_name`, the latest per `key`."""
        def on_event(event: Any) -> None:
            if self._listening():
                rows = self._rows.setdefault(event_name, {})
                k = key(event)
                rows[k] = {**rows.get(k, {}), **row(event)}
                self._wake.set()
        self._unsubscribe.append(self.bus.subscribe(kind, on_event))

    def _on_book(self, event: Any) -> None:
        if self._listening():
            self._whole.add("kill_switch" if isinstance(event, KillSwitchChanged) else "book")
            self._wake.set()

    def _listening(self) -> bool:
        try:
            return next(iter(self.sio.manager.get_participants("/", self.room)), None) is not None
        except KeyError:  # no frontend ever joined
            return False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._send_loop(), name="dashboard-feed")

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _send_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.send()
            except Exception:  # a frontend that went away mid-send must not end the feed
                log.exception("dashboard feed: sending failed")
            await asyncio.sleep(1.0 / RATE_HZ)

    async def send(self) -> None:
        """Emit what changed since the last send."""
        rows, self._rows = self._rows, {}
        whole, self._whole = self._whole, set()
        for event_name, changed in rows.items():
            await self.sio.emit(event_name, list(changed.values())[-MAX_ROWS:], room=self.room)
        if "book" in whole:
            from station.web.api.routes import pnl_json, position_json

            marked = self.book.marked_positions(include_flat=False)
            await self.sio.emit("positions", [position_json(m) for m in marked[:MAX_ROWS]], room=self.room)
            await self.sio.emit("pnl", pnl_json(self.book.pnl_by_strategy(), MAX_ROWS), room=self.room)
        if "kill_switch" in whole:
            since = self.book.kill_switch_since
            await self.sio.emit("kill_switch", {"engaged": self.book.kill_switch_reason is not None,
                                                "reason": self.book.kill_switch_reason,
                                                "since": since.isoformat() if since else None}, room=self.room)
