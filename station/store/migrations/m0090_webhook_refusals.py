"""Refused webhook requests (any 4xx): time, source, status, reason, the path's strategy, the body's start.

Not alerts (no alert id); the newest 10,000 are kept (`store/refusals_repo.py` prunes by `seq`).
"""

from station.store.migrations import MigrationDb


def apply(db: MigrationDb) -> None:
    db.execute(
        """CREATE TABLE webhook_refusals (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            source TEXT NOT NULL,
            status INTEGER NOT NULL,
            reason TEXT NOT NULL,
            strategy TEXT,
            body TEXT NOT NULL
        )"""
    )
