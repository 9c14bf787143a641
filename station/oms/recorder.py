"""Writes the book's changes through the store's writer and runs their follow-ups after the commit, in order."""

from __future__ import annotations

import asyncio
import logging
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from station.store.writer import StoreWriter

log = logging.getLogger("station.oms")

After = Callable[[Any], None]


class Recorder:
    """One ordered pipeline: job committed → its `after(result)` (publishing events, sending orders)."""

    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer
        self._queue: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._together: list | None = None  # writes made inside `together()`, submitted at its end

    @contextmanager
    def together(self) -> Iterator[None]:
        """The writes made inside share one commit (a fill and the exits it arms): submitted as one at the end,
        in order, each with its own follow-up."""
        if self._together is not None:  # nested: the outer block submits
            yield
            return
        self._together = []
        try:
            yield
        finally:
            pending, self._together = self._together, None
            if pending:
                futures = self._writer.submit_together([(job, lazy) for job, lazy, *_ in pending])
                for future, (_job, _lazy, after, failed, done) in zip(futures, pending):
                    self._queue.put_nowait((future, after, failed, done))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="oms-recorder")

    async def stop(self) -> None:
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

        `lazy`: nothing waits on this write (no order is sent after it): it shares the next commit.
        """
        done = asyncio.get_running_loop().create_future()
        if self._together is not None:
            self._together.append((job, lazy, after, failed, done))
        else:
            self._queue.put_nowait((self._writer.submit(job, lazy=lazy), after, failed, done))
        return done

    async def flush(self) -> None:
        """Wait until everything written so far is committed and followed up.

        One turn of the loop first: the router hands over the alerts published this turn in a
        callback (to route them together), and their write belongs to "so far" too.
        """
        await asyncio.sleep(0)
        await self._queue.join()

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
