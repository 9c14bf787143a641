"""Garbage collection on the GUI thread only.

Python's cyclic collector runs in whichever thread happens to allocate. When it frees
a QObject (a widget, a timer, qasync's loop timer) from a worker thread (asyncio's
default executor, databento's or ib_async's threads), Qt cannot unregister that
object's timers, and a later timer event reaches freed memory: a segfault minutes
later, far from the cause. So automatic collection is switched off and the GUI thread
collects on a timer, with the collector's own thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class MainThreadGarbageCollector(QObject):
    """Collects garbage from the thread it was made in, every `interval_ms`, when due."""

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> None:
        """Collect the generations whose allocation counts passed their thresholds."""
        young, middle, old = gc.get_count()
        if young > self.threshold[0]:
            gc.collect(0)
            if middle > self.threshold[1]:
                gc.collect(1)
                if old > self.threshold[2]:
                    gc.collect(2)

    def stop(self) -> None:
        """Give collection back to Python (the Qt loop is ending)."""
        self._timer.stop()
        gc.enable()
