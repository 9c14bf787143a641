"""The single writer: one thread, one connection, group commits.

Jobs are callables `fn(conn) -> result`. The thread takes every job waiting,
runs each inside its own savepoint of one transaction, commits once, and only
then resolves the jobs' futures. A job that raises is rolled back alone.

Every statement hands the GIL back and forth between this thread and the busy
event loop, so a lone job skips the savepoint, and so does a job whose writes need
no common transaction (`single_statement=True`, e.g. one INSERT: SQLite undoes a
failed statement by itself). Alone in its group, such a job runs in autocommit
mode: SQLite commits the statement itself, durably, in one round trip instead of three.

A job nobody waits for (`lazy=True`: a routing status, a skipped-duplicate count)
does not cost a disk flush of its own: it joins the next group that commits
anyway, or commits after `LAZY_WAIT_S` if none comes.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable

log = logging.getLogger("station.store")

Job = Callable[[sqlite3.Connection], Any]
_STOP = object()
MAX_GROUP = 512
LAZY_WAIT_S = 0.2


class WriterClosed(RuntimeError):
    """The writer was closed; nothing more can be written."""


class StoreWriter:
    """Owns the only writing connection to the database."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._closed = False
        self._lock = threading.Lock()
        self.commits = 0
        self._thread.start()

    def submit(self, job: Job, *, single_statement: bool = False, lazy: bool = False) -> Future:
        """Queue `job`; the returned future resolves after the commit that contains it.

        `single_statement`: the job's writes need no transaction around them (typically one
        INSERT, its last act); alone in its group it then runs in autocommit mode, where
        SQLite commits each statement itself, durably.
        `lazy`: nobody is waiting for it: it commits with the next job that is not lazy,
        or within `LAZY_WAIT_S` (as durably as any other).
        """
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise WriterClosed("the store is closed")
            self._queue.put((job, future, single_statement, lazy))
        return future

    def submit_together(self, jobs: list[tuple[Job, bool]]) -> list[Future]:
        """Queue `(job, lazy)` pairs as one item: the writer takes them into the same group, so they share one
        commit (each still in its own savepoint); the futures resolve after it, as `submit`'s do."""
        futures = [Future() for _ in jobs]
        with self._lock:
            if self._closed:
                raise WriterClosed("the store is closed")
            self._queue.put([(job, future, False, lazy) for (job, lazy), future in zip(jobs, futures)])
        return futures

    async def run(self, job: Job) -> Any:
        """Run `job` in the writer and wait, without blocking the loop, until it is committed."""
        return await asyncio.wrap_future(self.submit(job))

    def call(self, job: Job, timeout: float | None = 30.0) -> Any:
        """Run `job` and block until committed (for code off the loop: CLI, threads)."""
        return self.submit(job).result(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        conn = self._connect()
        held: list = []  # lazy jobs waiting for company
        deadline = 0.0
        try:
            while True:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()) if held else None)
                except queue.Empty:
                    item = None  # the held jobs waited long enough
                batch, stop = self._gather(held, item)
                if item is not None and not stop and all(entry[3] for entry in batch):
                    if not held:
                        deadline = time.monotonic() + LAZY_WAIT_S
                    held = batch
                    continue
                held = []
                if batch:
                    self._commit_group(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _gather(self, held: list, item) -> tuple[list, bool]:
        """The next group: the held jobs, `item`, and whatever else is waiting; and whether to stop."""
        batch = list(held)
        stop = item is _STOP
        if item is not None and not stop:
            batch.extend(item) if isinstance(item, list) else batch.append(item)
        while len(batch) < MAX_GROUP:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                stop = True
                continue
            batch.extend(item) if isinstance(item, list) else batch.append(item)  # jobs submitted together
        return batch, stop

    def _commit_group(self, conn: sqlite3.Connection, batch: list) -> None:
        if len(batch) == 1 and batch[0][2]:
            self._run_statement(conn, batch[0][0], batch[0][1])
            return
        outcomes = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job, future, single, _ in batch:
                if not future.set_running_or_notify_cancel():
                    continue
                # The savepoint lets a job fail alone. A lone job needs none (the transaction is its
                # own), nor does a single-statement job (SQLite undoes a failed statement itself); and
                # each statement makes this thread take the GIL back from the busy event loop.
                guarded = len(batch) > 1 and not single
                if guarded:
                    conn.execute("SAVEPOINT job")
                try:
                    result = job(conn)
                except BaseException as exc:  # noqa: BLE001 - the job's failure belongs to its caller
                    if guarded:
                        conn.execute("ROLLBACK TO job")
                        conn.execute("RELEASE job")
                    elif len(batch) == 1:
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                    elif not conn.in_transaction:
                        raise  # the failure ended the whole transaction: nothing of this group is durable
                    outcomes.append((future, False, exc))
                    continue
                if guarded:
                    conn.execute("RELEASE job")
                outcomes.append((future, True, result))
            if conn.in_transaction:
                conn.execute("COMMIT")
                self.commits += 1
        except BaseException as exc:  # noqa: BLE001 - the commit itself failed: nobody's job is durable
            log.exception("group commit failed")
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for job, future, *_ in batch:
                if not future.done():
                    if future.running():
                        future.set_exception(exc)
            return
        for future, ok, value in outcomes:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _run_statement(self, conn: sqlite3.Connection, job: Job, future: Future) -> None:
        """A lone single-statement job in autocommit mode: each statement committed (or undone) by SQLite."""
        if not future.set_running_or_notify_cancel():
            return
        try:
            result = job(conn)
        except BaseException as exc:  # noqa: BLE001 - a failed statement changed nothing; earlier ones stay
            future.set_exception(exc)
            return
        self.commits += 1
        future.set_result(result)
