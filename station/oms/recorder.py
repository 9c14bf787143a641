"""Writes the book's changes through the store's writer and runs their follow-ups after the commit, in order."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from station.store.writer import StoreWriter

log = logging.getLogger("station.oms")

After = Callable[[Any], None]
LAZY_S = 0.05  # longest a lazy write waits for company


class Recorder:
    """One ordered pipeline: job committed → its `after(result)` (publishing events, sending orders)."""

    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer
        self._queue: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._lazy: list[tuple] = []
        self._lazy_timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="oms-recorder")

    async def stop(self) -> None:
        self._flush_lazy()
        if self._task:
            try:
                await asyncio.wait_for(self._queue.join(), 1.0)
            except asyncio.TimeoutError:
                log.warning("oms writes still pending at shutdown")
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def write(self, job: Callable, after: After | None = None,
              failed: Callable[[BaseException], None] | None = None, *, lazy: bool = False) -> asyncio.Future:
        """Queue `job`; `after(result)` runs on the loop once it is committed. The future resolves after that.

        A `lazy` job waits (at most `LAZY_S`) for the next write, so both share one disk flush
        instead of taking one each; order is kept. For writes a crash may lose without harm.
        """
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        if lazy:
            self._lazy.append((job, after, failed, done))
            if self._lazy_timer is None:
                self._lazy_timer = loop.call_later(LAZY_S, self._flush_lazy)
            return done
        self._flush_lazy()
        self._queue.put_nowait((self._writer.submit(job), after, failed, done))
        return done

    async def flush(self) -> None:
        """Wait until everything written so far is committed and followed up."""
        self._flush_lazy()
        await self._queue.join()

    def _flush_lazy(self) -> None:
        if self._lazy_timer is not None:
            self._lazy_timer.cancel()
            self._lazy_timer = None
        for job, after, failed, done in self._lazy:
            self._queue.put_nowait((self._writer.submit(job), after, failed, done))
        self._lazy.clear()

    async def _run(self) -> None:
        while True:
            future, after, failed, done = await self._queue.get()
            try:
                try:
                    result = await asyncio.wrap_future(future)
                except Exception as exc:
                    log.exception("an oms write failed")
                    if failed:
                        failed(exc)
                    if not done.done():
                        done.set_result(None)
                    continue
                try:
                    if after:
                        after(result)
                except Exception:
                    log.exception("after-commit step failed")
                if not done.done():
                    done.set_result(result)
            finally:
                self._queue.task_done()
