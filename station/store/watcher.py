"""Notices configuration changes made by any process (a CLI import, the REST API, the window)."""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

log = logging.getLogger("station.store")


class ConfigWatcher:
    """Polls the config revision and calls `on_change(revision)` when it moves."""

    def __init__(self, read_revision: Callable[[], int], on_change: Callable[[int], None],
                 interval_s: float = 0.5) -> None:
        self._read = read_revision
        self._on_change = on_change
        self._interval = interval_s
        self._task: asyncio.Task | None = None
        self.revision = read_revision()

    def check(self) -> bool:
        """Look now; True if the revision moved (and `on_change` was called)."""
        revision = self._read()
        if revision == self.revision:
            return False
        self.revision = revision
        self._on_change(revision)
        return True

    async def start(self) -> None:
        self._task = asyncio.create_task(self._poll(), name="config-watcher")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                self.check()
            except Exception:  # a locked or busy database must not end the watch
                log.exception("config revision check failed")
