"""Alerts skipped as duplicates of a recent one: kept so the analysis can count what de-duplication avoided."""

from station.store.migrations import MigrationDb


def apply(db: MigrationDb) -> None:
    db.execute(
        """CREATE TABLE alert_duplicates (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            original_alert_id INTEGER NOT NULL,
            ticker TEXT,
            received_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX alert_duplicates_original ON alert_duplicates (original_alert_id)")
