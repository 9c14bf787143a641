"""The one way tests wait for a condition: poll it with a deadline, never a bare sleep.

`wait_until` for plain code and threads, `until` inside a running event loop (it yields
to the loop between polls, so the code under test runs). Both return the predicate's
first truthy value and fail with `what` when the deadline passes.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any, Callable

DEFAULT_TIMEOUT_S = 5.0


class NotMet(AssertionError):
    """A condition was not met before its deadline."""


def wait_until(predicate: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT_S, *, interval: float = 0.01,
               what: str = "condition") -> Any:
    """Poll `predicate()` (blocking) until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise NotMet(f"{what} not met within {timeout} s")
        time.sleep(interval)


async def until(predicate: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT_S, *, interval: float = 0.005,
                what: str = "condition") -> Any:
    """Poll `predicate()` on the running loop until it is truthy; its value. It may return an awaitable."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise NotMet(f"{what} not met within {timeout} s")
        await asyncio.sleep(interval)
