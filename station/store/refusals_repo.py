"""Refused webhook requests in SQLite: written off the webhook's path, the newest `KEPT` kept, read newest first.

The connection directly, not sqlite-utils: one prepared INSERT (and a ranged DELETE by
primary key that keeps the table at its bound) per refusal, as a lazy job of the
writer thread, so a flood of refused requests costs the loop nothing but a queue put.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime

from station.domain.events import RequestRefused
from station.domain.refusals import KEPT, Refusal
from station.domain.timeutil import UTC, parse_utc
from station.store.database import Store
from station.store.writer import WriterClosed

log = logging.getLogger("station.store")


def record_refusal(conn: sqlite3.Connection, refusal: Refusal, keep: int = KEPT) -> None:
    """Writer job: add one refusal and drop what falls out of the newest `keep`."""
    cursor = conn.execute(
        "INSERT INTO webhook_refusals (at, source, status, reason, strategy, body) VALUES (?, ?, ?, ?, ?, ?)",
        (refusal.at.astimezone(UTC).isoformat(), refusal.source, refusal.status, refusal.reason, refusal.strategy,
         refusal.body))
    conn.execute("DELETE FROM webhook_refusals WHERE seq <= ?", (cursor.lastrowid - keep,))


def refusal_from_row(row: sqlite3.Row) -> Refusal:
    return Refusal(at=parse_utc(row["at"]), source=row["source"], status=row["status"], reason=row["reason"],
                   strategy=row["strategy"], body=row["body"])


class RefusalRepository:
    """Writes each `RequestRefused` (subscribed on the bus); reads them for the window and the REST API."""

    def __init__(self, store: Store, keep: int = KEPT) -> None:
        self.store = store
        self.keep = keep

    def on_refused(self, event: RequestRefused) -> None:
        """Queue the write; nobody waits for it (it joins the next commit)."""
        try:
            future = self.store.writer.submit(lambda conn: record_refusal(conn, event.refusal, self.keep), lazy=True)
        except WriterClosed:
            return  # shutting down: the refusal was answered and logged already
        future.add_done_callback(self._check)

    def latest_refusals(self, limit: int = 100, since: datetime | None = None) -> list[Refusal]:
        """The newest `limit` refusals (since `since`, if given), newest first."""
        if since is None:
            rows = self.store.query("SELECT * FROM webhook_refusals ORDER BY seq DESC LIMIT ?", (limit,))
        else:
            rows = self.store.query("SELECT * FROM webhook_refusals WHERE at >= ? ORDER BY seq DESC LIMIT ?",
                                    (since.astimezone(UTC).isoformat(), limit))
        return [refusal_from_row(row) for row in rows]

    async def settled(self) -> None:
        """Wait until every refusal queued so far is committed: an empty job commits with the held lazy ones."""
        try:
            await self.store.writer.run(lambda conn: None)
        except WriterClosed:
            pass

    @staticmethod
    def _check(future) -> None:
        if future.exception() is not None:
            log.warning("a refused webhook request was not recorded: %s", future.exception())
