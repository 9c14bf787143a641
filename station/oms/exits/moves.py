"""Trailing stops that moved (Station's own, or a destination's `StopMoved`): gathered, then written and shown
a few times a second, so a stop that follows every tick costs one write per interval, not one per tick."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from decimal import Decimal

from station.bus import Bus
from station.domain.events import OrderUpdated, StopMoved
from station.domain.timeutil import utc_now
from station.oms.book import Book
from station.store import order_repo as rows

log = logging.getLogger("station.oms.exits")

FLUSH_S = 0.25


class StopMoves:
    """The latest level of each trailing stop that moved since the last write."""

    def __init__(self, bus: Bus, book: Book, recorder) -> None:
        self.bus, self.book, self.recorder = bus, book, recorder
        self.pending: dict[str, Decimal] = {}
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="exit-trailing")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.write()

    def on_stop_moved(self, event: StopMoved) -> None:
        """A destination's trailing stop moved (the paper broker's): the book follows."""
        if event.client_order_id in self.book.open:
            self.pending[event.client_order_id] = event.stop_price

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            try:
                self.write()
            except Exception:  # a failed write must not end the trailing of every stop
                log.exception("writing moved trailing stops failed")

    def write(self) -> None:
        """The stops that moved since the last call: into the book and the store (lazily), and shown."""
        if not self.pending:
            return
        moved, self.pending = self.pending, {}
        changed = []
        now = utc_now()
        for coid, stop in moved.items():
            order = self.book.open.get(coid)
            if order is None or order.request.stop_price == stop:
                continue
            order = dataclasses.replace(order, request=dataclasses.replace(order.request, stop_price=stop),
                                        updated_at=now)
            self.book.put(order)
            changed.append(order)
        if not changed:
            return
        stops = [(o.client_order_id, o.request.stop_price) for o in changed]
        self.recorder.write(lambda conn: rows.save_stop_prices(conn, stops),
                            lambda _: [self.bus.publish(OrderUpdated(o)) for o in changed], lazy=True)
