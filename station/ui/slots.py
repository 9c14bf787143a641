"""The one way a widget's signal starts work: `connect(signal, fn, *args)` and `run_task(coro)`.

A Qt signal hands its own values to whatever is connected (`clicked` passes `checked`,
`activated` an index), which a method with an optional parameter takes for an argument:
"+ Ticker" once added the ticker `False`. `connect` calls `fn` with the arguments given
here and never the signal's. When `fn` is a coroutine function its call runs as a task
(`run_task`), and a task that fails is reported at once, not when it is garbage collected:
it goes to `sys.excepthook` (Station's logs it and puts it in the status bar). qasync's
`asyncSlot` does the latter but cannot be called with no arguments (a shortcut's
`activated`) in the version we use, so the window uses this instead.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from typing import Any, Awaitable, Callable

_running: set[asyncio.Task] = set()  # the loop keeps only weak references to tasks


def run_task(work: Awaitable[Any], name: str | None = None) -> asyncio.Task:
    """Run `work` on the loop; if it raises, the error is logged and reported at once."""
    task = asyncio.ensure_future(work)
    if name:
        task.set_name(name)
    _running.add(task)
    task.add_done_callback(_finished)
    return task


def slot(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    """A callable for `signal.connect` that calls `fn(*args, **kwargs)`, dropping whatever the signal passes."""

    def call(*_signal_values: Any) -> Any:
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            return run_task(result, getattr(fn, "__qualname__", None))
        return result

    call.__qualname__ = f"slot({getattr(fn, '__qualname__', fn)!s})"
    return call


def connect(signal: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Connect `signal` to `fn(*args, **kwargs)` (a coroutine function runs as a task): see `slot`."""
    signal.connect(slot(fn, *args, **kwargs))


def running() -> list[asyncio.Task]:
    """Tasks started by the window and not finished yet (tests wait for them)."""
    return [task for task in _running if not task.done()]


def _finished(task: asyncio.Task) -> None:
    _running.discard(task)
    if task.cancelled():
        return
    error = task.exception()
    if error is None:
        return
    error.add_note(f"(in the window's task {task.get_name()})")
    sys.excepthook(type(error), error, error.__traceback__)
