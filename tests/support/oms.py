"""Helpers for the oms tests: journal alerts as the webhook does, a controllable destination."""

from __future__ import annotations

import json
from decimal import Decimal

from support.wait import until
from station.domain.alert import Alert, SpreadTicker
from station.domain.destinations import BrokerCapabilities, BrokerReports
from station.domain.enums import ConnectionState, OrderStatus, Side
from station.domain.events import AlertReceived, ConnectionChanged, FillReported, OrderReported
from station.domain.fills import Fill
from station.domain.timeutil import utc_now
from station.store.alerts_repo import instructions_text
from support.wait import until as wait_for  # noqa: F401  (the one polling helper, by the name older tests use)


def make_alert(ticker="ES", action="buy", qty="1", price="5000", action_override=None, **kw) -> Alert:
    """An alert; `action_override` gives an exit, reverse or cancel (`AlertAction`)."""
    return Alert(ticker=ticker, action=action_override or Side.parse(action), received_at=kw.pop("received_at", utc_now()),
                 qty=None if qty is None else Decimal(qty), price=None if price is None else Decimal(price), **kw)


def journal_row(conn, alert: Alert) -> int:
    """Insert an alert into the journal exactly as the webhook does (status queued)."""
    spread = alert.spread or SpreadTicker("", Decimal(0), "")
    cursor = conn.execute(
        "INSERT INTO alerts (status, strategy, ticker, action, qty, price, dialect, source, trade_id, position, "
        "target_position, ticker1, hedge, ticker2, fingerprint, raw, sent_at, received_at, committed_at, instructions) "
        "VALUES ('queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (alert.strategy, alert.ticker, str(alert.action), None if alert.qty is None else str(alert.qty),
         None if alert.price is None else str(alert.price), alert.dialect, alert.source, alert.trade_id,
         alert.position, alert.target_position, spread.ticker1 or None,
         str(spread.hedge) if alert.spread else None, spread.ticker2 or None, "fp", json.dumps({}),
         None, alert.received_at.isoformat(), utc_now().isoformat(), instructions_text(alert)),
    )
    return cursor.lastrowid


async def journal(station, alert: Alert, publish: bool = True) -> Alert:
    """Journal `alert` (committed), then publish AlertReceived like the webhook."""
    import dataclasses

    alert_id = await station.store.writer.run(lambda conn: journal_row(conn, alert))
    alert = dataclasses.replace(alert, alert_id=alert_id)
    if publish:
        station.bus.publish(AlertReceived(alert))
    return alert


class FakeDestination:
    """A destination double behind the Broker protocol: up/down on demand, records what it was sent and
    was asked; `held` is what its `reports(since)` answers (orders, fills, positions it holds)."""

    capabilities = BrokerCapabilities()

    def __init__(self, name: str, bus, *, fill_price: Decimal | None = None, up: bool = True) -> None:
        self.name, self.bus = name, bus
        self.state = ConnectionState.DISCONNECTED
        self.sent: list = []
        self.cancelled: list[str] = []
        self.replaced: list = []
        self.asked: list = []  # the `since` of every reports() call
        self.held = {"orders": (), "fills": (), "positions": ()}
        self.fill_price = fill_price
        self._up = up

    async def start(self) -> None:
        if self._up:
            self.connect()

    async def stop(self) -> None:
        self.state = ConnectionState.DISCONNECTED

    def connect(self) -> None:
        self.state = ConnectionState.CONNECTED
        self.bus.publish(ConnectionChanged(self.name, "broker", ConnectionState.CONNECTED))

    def disconnect(self) -> None:
        self.state = ConnectionState.DISCONNECTED
        self.bus.publish(ConnectionChanged(self.name, "broker", ConnectionState.DISCONNECTED))

    async def submit(self, request) -> None:
        self.sent.append(request)
        self.bus.publish(OrderReported(self.name, request.client_order_id, OrderStatus.SUBMITTED, broker_order_id=f"B{len(self.sent)}"))
        if self.fill_price is not None:
            self.fill(request, request.qty, self.fill_price)

    def fill(self, request, qty, price, fill_id=None) -> None:
        self.bus.publish(FillReported(Fill(
            fill_id=fill_id or f"{request.client_order_id}-{len(self.sent)}-{qty}", client_order_id=request.client_order_id,
            destination=self.name, ticker=request.ticker, side=request.side, qty=Decimal(qty), price=Decimal(price),
            time=utc_now(), strategy=request.strategy)))

    async def cancel(self, client_order_id: str) -> None:
        self.cancelled.append(client_order_id)
        self.bus.publish(OrderReported(self.name, client_order_id, OrderStatus.CANCELLED))

    async def replace(self, request) -> None:
        self.replaced.append(request)

    async def reports(self, since):
        self.asked.append(since)
        return BrokerReports(self.name, since, **self.held)
