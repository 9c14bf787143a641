"""The live pipeline, composed for one backtest: engine → oms (inbox, router, risk, book, exits) → dispatcher →
paper broker, on a bus of its own, with a throwaway store and no receiver, feed or window.

The same objects `station/app.py` builds, so a strategy backtests as it trades: brackets, OCO
and trailing stops are the oms's and the paper broker's, never a second implementation here.
Bars come from a `BarHub` that builds only the series the strategy asks for and publishes
every slice's last trade (`tick_interval_s=0`), fed by `research/feed.py`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from station.brokers.dispatcher import OrderDispatcher
from station.brokers.registry import BrokerContext
from station.bus import Bus
from station.domain.events import FillReported
from station.engine.calendar import TradingCalendars
from station.engine.runner import StrategyRunner
from station.marketdata.hub import BarHub
from station.oms.service import OrderManager
from station.research.store import BacktestStore
from station.store.config_repo import ConfigRepository

DESTINATION = "backtest"


class PipelineError(RuntimeError):
    """The strategy cannot run as configured (its engine says why)."""


@dataclass(frozen=True, slots=True)
class FillRecord:
    """One fill the paper broker made, at market time."""

    time: datetime
    client_order_id: str
    ticker: str
    side: str
    qty: Decimal
    price: Decimal
    order_type: str


class BacktestPipeline:
    """Builds, starts and stops the parts; collects the paper broker's fills."""

    def __init__(self, document: dict[str, Any], strategy: str, folder: Path,
                 clock: Callable[[], datetime]) -> None:
        self.strategy = strategy
        self.bus = Bus()
        self.store = BacktestStore(folder)
        self.config = ConfigRepository(self.store)
        self.config.import_document(document)
        calendars = TradingCalendars()
        self.oms = OrderManager(self.bus, self.store, self.config, calendars=calendars)
        context = BrokerContext(bus=self.bus, data_dir=folder, last_price=self.oms.marks.feed_price,
                                orders=self.oms.book)
        # nothing waits for a destination in a backtest: the pending limit never applies
        self.dispatcher = OrderDispatcher(context, self.config.load, lambda: 1e12)
        # the tape (for charts and backfills) is not read in a backtest: a short one costs less
        self.hub = BarHub(self.bus, timeframes=(), tick_interval_s=0.0, tape_capacity=4096)
        self.runner = StrategyRunner(self.bus, self.config.load, None, calendars=calendars, clock=clock,
                                     clock_interval_s=1e9)
        self.fills: list[FillRecord] = []
        self.bus.subscribe(FillReported, self._on_fill)
        self._parts = [self.oms, self.dispatcher, self.hub, self.runner]

    async def start(self) -> None:
        """Start every part and the strategy (it warms up on the file's own bars, as with no history live)."""
        self.bus.bind(asyncio.get_running_loop())
        for part in self._parts:
            await part.start()
        await self.runner.ready()
        if not await self.runner.start_strategy(self.strategy):
            group = self.runner.groups.get(self.strategy)
            raise PipelineError(f"strategy {self.strategy} cannot run: {group.reason if group else 'not an engine strategy'}")

    async def stop(self) -> None:
        for part in reversed(self._parts):
            await part.stop()
        await self.bus.drain()
        self.store.close()

    def broker(self):
        """The paper broker of the backtest's one destination."""
        return self.dispatcher.brokers.get(DESTINATION)

    def _on_fill(self, event: FillReported) -> None:
        fill = event.fill
        order = self.oms.book.orders.get(fill.client_order_id)
        kind = str(order.request.order_type) if order is not None else "market"
        self.fills.append(FillRecord(fill.time, fill.client_order_id, fill.ticker, str(fill.side), fill.qty,
                                     fill.price, kind))


async def settle(loop: asyncio.AbstractEventLoop | None = None, limit: int = 100_000) -> None:
    """Run the loop until nothing is ready: every callback, task step and handler the last trades caused is done.

    The pipeline's waits are all on the loop in a backtest (the store writes inline), so an empty
    ready queue means the pipeline is quiet until the next trade or bar. Timers (the oms's marks a few
    times a second of wall time) run whenever the loop turns; nothing a backtest measures depends on them.
    """
    loop = loop or asyncio.get_running_loop()
    ready = loop._ready  # CPython's queue of callbacks due now (stable since 3.4)
    for _ in range(limit):
        if not ready:  # most slices only build bars: nothing to wait for, and no turn of the loop to pay
            return
        await asyncio.sleep(0)
    raise RuntimeError("the pipeline did not settle")
