"""Skipped duplicate alerts in SQLite: one row per resend that de-duplication answered "skipped".

The connection directly, not sqlite-utils: one prepared INSERT per skipped resend, on the
webhook's path (sqlite-utils' `insert` inspects the table on every call, ~6x slower).
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from station.domain.events import AlertDuplicated
from station.domain.timeutil import UTC
from station.store.database import Store
from station.store.writer import WriterClosed

log = logging.getLogger("station.store")


def record_duplicate(conn: sqlite3.Connection, original_alert_id: int, ticker: str | None, received_at: datetime) -> None:
    """Writer job: note one skipped resend of alert `original_alert_id`."""
    conn.execute("INSERT INTO alert_duplicates (original_alert_id, ticker, received_at) VALUES (?, ?, ?)",
                 (original_alert_id, ticker, received_at.astimezone(UTC).isoformat()))


class DuplicateLog:
    """Subscribed to `AlertDuplicated`: writes each skipped resend without waiting for the commit."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def on_duplicated(self, event: AlertDuplicated) -> None:
        try:
            future = self.store.writer.submit(
                lambda conn: record_duplicate(conn, event.original_alert_id, event.ticker, event.received_at), lazy=True)
        except WriterClosed:
            return  # shutting down: a count for the report is not worth holding the exit for
        future.add_done_callback(self._check)

    @staticmethod
    def _check(future) -> None:
        if future.exception() is not None:
            log.warning("a skipped duplicate was not recorded: %s", future.exception())
