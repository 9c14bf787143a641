"""A backtest's own database: a throwaway SQLite file written inline, on the loop's thread.

The live pipeline journals signals and records orders and fills through the store's writer.
Live, that writer is a thread with durable group commits; a backtest needs neither the
durability nor the thread: each job runs at once in the calling thread (no fsync), its future
already resolved. So the pipeline's work after a trade is all on the loop, and "quiet" is
simply an empty loop (`research/settle.py`), the same every run.
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

from station.store.database import Store, connect
from station.store.writer import WriterClosed

Job = Callable[[sqlite3.Connection], Any]


class InlineWriter:
    """The store writer's interface (`submit`, `run`, `call`, `close`), each job committed as it is submitted."""

    def __init__(self, path: Path) -> None:
        self._conn = connect(path)
        self._conn.execute("PRAGMA synchronous = OFF")
        self._closed = False
        self.commits = 0

    def submit(self, job: Job, *, single_statement: bool = False, lazy: bool = False) -> Future:
        """Run `job` in one transaction now; the future holds its result (or its exception, rolled back)."""
        if self._closed:
            raise WriterClosed("the store is closed")
        future: Future = Future()
        future.set_running_or_notify_cancel()
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            result = job(conn)
            conn.execute("COMMIT")
        except BaseException as exc:  # noqa: BLE001 - the job's failure belongs to its caller
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            future.set_exception(exc)
            return future
        self.commits += 1
        future.set_result(result)
        return future

    async def run(self, job: Job) -> Any:
        return self.submit(job).result()

    def call(self, job: Job, timeout: float | None = None) -> Any:
        return self.submit(job).result()

    def close(self, timeout: float = 0) -> None:
        if not self._closed:
            self._closed = True
            self._conn.close()


class BacktestStore(Store):
    """A `Store` in `folder` (a temporary one) whose writer is an `InlineWriter`."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.writer.close()  # the threaded writer of a live data dir: not wanted here
        self.writer = InlineWriter(self.path)
