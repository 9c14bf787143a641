"""Pacing: TWS takes at most 50 API messages a second and answers more with error 100 (then disconnects).

ib_async throttles to 45 in its own bookkeeping, but stamps a whole batch with the
time the batch began, so under a burst more than 45 can leave within one second
on the wire (measured: 46-48 for a 200-order burst). The broker therefore paces
its own orders and cancels below that (`ORDER_MESSAGES_PER_SECOND`), measured when
each goes out, which leaves room for the few other requests (lookups, heartbeats,
market data) that ib_async's throttle still guards.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from collections import deque

TWS_MESSAGES_PER_SECOND = 45  # ib_async's own limit (TWS's is 50)
ORDER_MESSAGES_PER_SECOND = 38


class Pacer:
    """Hands out send slots, first come first served, so no window of `window_s` holds more than `rate`."""

    def __init__(self, rate: int = ORDER_MESSAGES_PER_SECOND, window_s: float = 1.0) -> None:
        self.rate, self.window_s = rate, window_s
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()
        self.waited_s = 0.0

    async def take(self, count: int = 1) -> None:
        """Wait for room for `count` messages, then count them as sent now."""
        count = min(count, self.rate)
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= self.window_s:
                    self._sent.popleft()
                if len(self._sent) + count <= self.rate:
                    break
                pause = self._sent[len(self._sent) + count - self.rate - 1] + self.window_s - now
                self.waited_s += max(pause, 0.0)
                await asyncio.sleep(max(pause, 0.0005))
            self._sent.extend([time.monotonic()] * count)


def max_in_window(times: list[float], window_s: float = 1.0) -> int:
    """The most timestamps (sorted seconds) that fall in any window of `window_s` seconds."""
    best = 0
    for index, start in enumerate(times):
        best = max(best, bisect_left(times, start + window_s, lo=index) - index)
    return best
