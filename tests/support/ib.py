"""Helpers for the IB tests: a bus recorder, a broker on a fake TWS driven by the real dispatcher, requests."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from support.broker_harness import Driven, unpacked
from support.fake_tws import FakeTWS
from support.wait import until
from station.brokers.ib.broker import IBBroker
from station.brokers.ib.config import IBSettings
from station.bus import Bus
from station.domain.enums import OrderType, Side
from station.domain.events import (
    ConnectionChanged,
    ContractResolved,
    FillReported,
    Notified,
    OrderReported,
    PortfolioReported,
    PositionReported,
    ReportsReceived,
)
from station.domain.orders import OrderRequest

TODAY = date(2025, 3, 3)  # a Monday: a trading day with an SPXW expiry, whatever day the tests run
FAST_RECONNECT = {"reconnect_initial_s": 0.05, "reconnect_max_s": 0.3}
_ids = itertools.count(1)


class Recorder:
    """Every report a broker publishes, in order, with helpers to wait for them."""

    KINDS = (ConnectionChanged, OrderReported, FillReported, PositionReported, PortfolioReported, Notified,
             ContractResolved, ReportsReceived)

    def __init__(self, bus: Bus) -> None:
        self.events: list = []
        self.by_kind: dict[type, list] = defaultdict(list)
        self.reconciliations: list[ReportsReceived] = []  # what the dispatcher had the oms reconcile
        self.reconciled_at: list[int] = []  # len(events) once each reconciliation's reports were recorded
        for kind in self.KINDS:
            bus.subscribe(kind, self._record)

    def _record(self, event) -> None:
        if isinstance(event, ReportsReceived):
            self.reconciliations.append(event)
        for each in unpacked(event):  # a reconciliation's reports count as reported, in the order applied
            self.events.append((time.perf_counter(), each))
            self.by_kind[type(each)].append(each)
        if isinstance(event, ReportsReceived):
            self.reconciled_at.append(len(self.events))

    def reports(self, coid: str) -> list[OrderReported]:
        return [e for e in self.by_kind[OrderReported] if e.client_order_id == coid]

    def statuses(self, coid: str) -> list:
        return [e.status.value for e in self.reports(coid)]

    def fills(self, coid: str | None = None) -> list:
        return [e.fill for e in self.by_kind[FillReported] if coid is None or e.fill.client_order_id == coid]

    def states(self) -> list[str]:
        return [e.state.value for e in self.by_kind[ConnectionChanged]]

    def positions(self, ticker: str) -> list:
        return [e for e in self.by_kind[PositionReported] if e.ticker == ticker]


async def wait_until(predicate, timeout: float = 5.0, what: str = "condition") -> None:
    await until(predicate, timeout, what=what)


def settings(port: int, **changes) -> IBSettings:
    values = dict(port=port, client_id=7, account="DU123456", connect_timeout_s=3.0, **FAST_RECONNECT)
    return IBSettings(**{**values, **changes})


@pytest.fixture
async def fake():
    """A fake TWS on a free port (today is TODAY), stopped after the test."""
    tws = FakeTWS(today=TODAY)
    await tws.start()
    yield tws
    await tws.stop()


@pytest.fixture
async def make_broker(monkeypatch, data_dir):
    """`await make_broker(port, connect=True, name="ib", **settings)` -> (broker, recorder, bus), started and
    driven by the real dispatcher (it reconciles after every (re)connect); all stopped after. With `connect`,
    returns once the first reconciliation is done."""
    driven = Driven(monkeypatch, data_dir)

    async def make(port: int, *, connect: bool = True, name: str = "ib", mappings=tuple, bus: Bus | None = None,
                   **changes) -> tuple[IBBroker, Recorder, Bus]:
        if bus is None:
            bus = Bus()
            bus.bind(asyncio.get_running_loop())
        recorder = Recorder(bus)
        broker = IBBroker(name, settings(port, **changes), bus, mappings=mappings, today=lambda: TODAY)
        await driven(broker, bus, kind=f"ib-{name}")
        if connect:
            await wait_until(lambda: recorder.reconciliations, 5, "broker connected and reconciled")
        return broker, recorder, bus

    yield make
    await driven.stop_all()


def request(ticker: str = "AAPL", side: Side = Side.BUY, qty: str = "10", **fields) -> OrderRequest:
    """An order request with a fresh client order id (as the oms derives them)."""
    coid = fields.pop("client_order_id", f"a{next(_ids)}-Momentum-ib")
    return OrderRequest(client_order_id=coid, destination="ib", ticker=ticker, side=side, qty=Decimal(qty), **fields)


def limit(ticker: str, price: str, **fields) -> OrderRequest:
    return request(ticker, order_type=OrderType.LIMIT, limit_price=Decimal(price), **fields)
