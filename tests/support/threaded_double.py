"""A loopback broker double on an event loop of its own, in a thread: for tests whose Station runs in another
process (the contract tests), so the double answers while the test waits synchronously."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable

from support.loopback_server import LoopbackServer


class ThreadedDouble:
    """Runs `double` (started on its own loop) until `stop()`; `call()` runs a function on that loop."""

    def __init__(self, double: LoopbackServer) -> None:
        self.double = double
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="broker-double", daemon=True)

    @property
    def url(self) -> str:
        return self.double.url

    def start(self) -> "ThreadedDouble":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.double.start(), self._loop).result(10)
        return self

    def call(self, fn: Callable[..., Any], *args, **kwargs) -> Any:
        """`fn(*args, **kwargs)` on the double's loop (its state is only ever touched there); its result."""

        async def run():
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.double.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
