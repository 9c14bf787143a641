"""De-duplication: an alert whose content equals one received within the window is skipped.

The index maps a content fingerprint to the original alert's journal append
(a future while it commits, its id after). It lives on the loop thread, so
checking and registering happen in one step: of two identical alerts arriving
together, exactly one is journaled and the other waits for its id.
It is refilled from the journal at start, so it survives a restart.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import deque
from datetime import datetime
from typing import Callable


def fingerprint(strategy: str | None, canonical_body: str) -> str:
    """The identity of an alert's content: its strategy and its body without the passphrase."""
    return hashlib.sha256(f"{strategy or ''}\n{canonical_body}".encode("utf-8")).hexdigest()


class DedupIndex:
    """Recent fingerprints → the original's id (or the future that will give it)."""

    def __init__(self, window_s: float, clock: Callable[[], float] = time.time) -> None:
        self.window_s = float(window_s)
        self._clock = clock
        self._entries: dict[str, tuple[float, asyncio.Future | int]] = {}
        self._order: deque[tuple[float, str]] = deque()

    def __len__(self) -> int:
        return len(self._entries)

    def original(self, key: str) -> asyncio.Future | int | None:
        """The original of a duplicate (an id, or a future giving `Appended`), or None if new.

        An original whose journal append failed is forgotten: the next copy may be journaled.
        """
        entry = self._entries.get(key)
        if entry is None:
            return None
        at, original = entry
        if at < self._clock() - self.window_s:
            return None
        if isinstance(original, asyncio.Future) and original.done() and (
                original.cancelled() or original.exception() is not None):
            del self._entries[key]
            return None
        return original

    def add(self, key: str, original: asyncio.Future | int, at: float | None = None) -> None:
        """Remember `key` as received now (or at `at`)."""
        at = self._clock() if at is None else at
        self._entries[key] = (at, original)
        self._order.append((at, key))
        self._expire()

    def settle(self, key: str, alert_id: int) -> None:
        """The original's row is committed: keep its id instead of the future (final, and lighter to hold)."""
        entry = self._entries.get(key)
        if entry is not None and not isinstance(entry[1], int):
            self._entries[key] = (entry[0], alert_id)

    def load(self, rows: list[tuple[str, int, str]]) -> None:
        """Refill from journal rows (fingerprint, alert_id, received_at ISO), oldest first."""
        cutoff = self._clock() - self.window_s
        for key, alert_id, received_at in rows:
            at = datetime.fromisoformat(received_at).timestamp()
            if at >= cutoff and key not in self._entries:
                self.add(key, alert_id, at)

    def _expire(self) -> None:
        cutoff = self._clock() - self.window_s
        order, entries = self._order, self._entries
        while order and order[0][0] < cutoff:
            at, key = order.popleft()
            entry = entries.get(key)
            if entry is not None and entry[0] == at:
                del entries[key]
