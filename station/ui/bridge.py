"""The one way events reach the window: collected from the bus, handed to Qt in batches.

Docks register batch handlers with `on(EventClass, handler)`. Bus events are
queued as they come; a timer (20 Hz) hands each handler the list gathered since
the last tick, so a flood of ticks or alerts costs one repaint per tick.
Commands go the other way with `publish`; `answer` awaits the event that answers one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer

from station.bus import Bus

log = logging.getLogger("station.ui")

BatchHandler = Callable[[list[Any]], None]


class UiBridge(QObject):
    """Batches bus events for the UI and publishes the UI's commands."""

    def __init__(self, bus: Bus, hz: float = 20.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bus = bus
        self._sinks: dict[type, list[BatchHandler]] = defaultdict(list)
        self._pending: dict[type, list[Any]] = {}
        self._unsubscribers: list[Callable[[], None]] = []
        self._waiters: dict[type, list[tuple[Callable[[Any], bool], asyncio.Future]]] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, int(1000 / hz)))
        self._timer.timeout.connect(self.flush)
        self._timer.start()

    def on(self, kind: type, handler: BatchHandler) -> None:
        """Call `handler(batch)` on the UI timer with every `kind` event since the last call."""
        if kind not in self._sinks:
            self._pending[kind] = []
            self._unsubscribers.append(self.bus.subscribe(kind, self._pending[kind].append))
        self._sinks[kind].append(handler)

    def publish(self, command: Any) -> None:
        """Send a command (or event) from the UI to the core."""
        self.bus.publish(command)

    def handles(self, kind: type) -> bool:
        """True if some part of Station carries out `kind` (a command nobody handles would be lost)."""
        return self.bus.has_subscribers(kind)

    def answer(self, kind: type, matches: Callable[[Any], bool] = lambda event: True) -> asyncio.Future:
        """A future for the next `kind` event that `matches`, resolved on the UI timer.

        Ask for it before publishing the command it answers, so an answer given at once is not missed.
        """
        future = asyncio.get_running_loop().create_future()
        waiters = self._waiters.get(kind)
        if waiters is None:
            waiters = self._waiters[kind] = []
            self.on(kind, lambda batch: _resolve(waiters, batch))
        waiters.append((matches, future))
        return future

    def flush(self) -> None:
        """Hand every pending batch to its handlers now."""
        for kind, queue in self._pending.items():
            if not queue:
                continue
            batch = queue[:]
            queue.clear()
            for handler in self._sinks[kind]:
                try:
                    handler(batch)
                except Exception:  # one broken dock must not starve the others
                    log.exception("UI handler %s failed", getattr(handler, "__qualname__", handler))

    def close(self) -> None:
        self._timer.stop()
        for unsubscribe in self._unsubscribers:
            unsubscribe()
        self._unsubscribers.clear()


def _resolve(waiters: list[tuple[Callable[[Any], bool], asyncio.Future]], batch: list[Any]) -> None:
    for waiter in list(waiters):
        matches, future = waiter
        if not future.done():
            event = next((e for e in batch if matches(e)), None)
            if event is None:
                continue
            future.set_result(event)
        waiters.remove(waiter)
