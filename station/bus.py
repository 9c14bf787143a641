"""In-process publish/subscribe on the loop thread, with isolated handlers.

Handlers subscribe to a message class and receive instances of it and of its
subclasses. A handler that raises is logged and reported as `ErrorRaised`; the
other handlers still run. A handler may be a coroutine function: it is run as a
task whose failure is handled the same way.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import defaultdict
from typing import Any, Callable

from station.domain.events import ErrorRaised

log = logging.getLogger("station.bus")

Handler = Callable[[Any], Any]


class Bus:
    """Dispatches events and commands to the handlers subscribed to their class."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)
        self._routes: dict[type, tuple[Handler, ...]] = {}
        self._loop = loop
        self._tasks: set[asyncio.Task] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach the loop that `publish_threadsafe` hands messages to."""
        self._loop = loop

    def subscribe(self, kind: type, handler: Handler) -> Callable[[], None]:
        """Call `handler(message)` for every published instance of `kind`; returns an unsubscriber."""
        self._handlers[kind].append(handler)
        self._routes.clear()

        def unsubscribe() -> None:
            if handler in self._handlers.get(kind, ()):
                self._handlers[kind].remove(handler)
                self._routes.clear()

        return unsubscribe

    def _route(self, kind: type) -> tuple[Handler, ...]:
        route = self._routes.get(kind)
        if route is None:
            route = tuple(h for base in kind.__mro__ for h in self._handlers.get(base, ()))
            self._routes[kind] = route
        return route

    def has_subscribers(self, kind: type) -> bool:
        """True if something handles `kind` (e.g. a command only another component carries out)."""
        return bool(self._route(kind))

    def publish(self, message: Any) -> None:
        """Deliver `message` now, on the calling (loop) thread."""
        for handler in self._route(type(message)):
            try:
                result = handler(message)
            except Exception as exc:  # isolation: one bad handler never stops the others
                self._report(handler, message, exc)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(lambda t, h=handler, m=message: self._task_done(t, h, m))

    def publish_threadsafe(self, message: Any) -> None:
        """Deliver `message` on the loop thread; callable from any thread."""
        if self._loop is None:
            raise RuntimeError("bus is not bound to a loop")
        self._loop.call_soon_threadsafe(self.publish, message)

    async def drain(self) -> None:
        """Wait for the coroutine handlers started so far (used at shutdown and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _task_done(self, task: asyncio.Task, handler: Handler, message: Any) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._report(handler, message, task.exception())

    def _report(self, handler: Handler, message: Any, exc: BaseException) -> None:
        name = getattr(handler, "__qualname__", repr(handler))
        log.error("handler %s failed on %s", name, type(message).__name__, exc_info=exc)
        if not isinstance(message, ErrorRaised):
            self.publish(ErrorRaised(source=name, message=f"{type(exc).__name__}: {exc}"))
