"""A backtest's own database: SQLite in memory, written and read inline, on the loop's thread.

The live pipeline journals signals and records orders and fills through the store's writer and
reads back through the store. Live, that writer is a thread with durable group commits; a backtest
needs neither the durability nor the thread: one in-memory connection serves the writer and every
read, and each job runs at once in the calling thread inside a savepoint (a job that raises is undone
alone), its future already resolved. So the pipeline's work after a trade is all on the loop, and
"quiet" is simply an empty loop (`research/pipeline.settle`), the same every run.
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

from station.store.database import Store
from station.store.migrations import migrate
from station.store.writer import WriterClosed

Job = Callable[[sqlite3.Connection], Any]


class InlineWriter:
    """The store writer's interface (`submit`, `submit_together`, `run`, `call`, `close`), each job applied as it is submitted."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._closed = False
        self.commits = 0

    def submit(self, job: Job, *, single_statement: bool = False, lazy: bool = False) -> Future:
        """Run `job` now; the future holds its result (or its exception, the job's writes undone)."""
        if self._closed:
            raise WriterClosed("the store is closed")
        future: Future = Future()
        future.set_running_or_notify_cancel()
        conn = self._conn
        conn.execute("SAVEPOINT job")
        try:
            result = job(conn)
        except BaseException as exc:  # noqa: BLE001 - the job's failure belongs to its caller
            conn.execute("ROLLBACK TO job")
            conn.execute("RELEASE job")
            future.set_exception(exc)
            return future
        conn.execute("RELEASE job")
        self.commits += 1
        future.set_result(result)
        return future

    def submit_together(self, jobs: list[tuple[Job, bool]]) -> list[Future]:
        """As the store writer's: here each job is applied at once anyway."""
        return [self.submit(job, lazy=lazy) for job, lazy in jobs]

    async def run(self, job: Job) -> Any:
        return self.submit(job).result()

    def call(self, job: Job, timeout: float | None = None) -> Any:
        return self.submit(job).result()

    def close(self, timeout: float = 0) -> None:
        self._closed = True


class BacktestStore(Store):
    """A `Store` in memory: one connection, migrated like a data dir's, read and written on the calling thread."""

    def __init__(self, folder: Path) -> None:  # noqa: D107 - no super().__init__: no file, no writer thread
        self.path = Path(folder) / ":memory:"
        self._conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA foreign_keys = ON")
        self.schema_version = migrate(self._conn)
        self.writer = InlineWriter(self._conn)

    def reader(self) -> sqlite3.Connection:
        return self._conn

    def close(self) -> None:
        self.writer.close()
        self._conn.close()
