"""Engine strategies: whether each should run, its last visible state, and each instrument's trading state."""

from station.store.migrations import MigrationDb


def apply(db: MigrationDb) -> None:
    db.execute(
        """CREATE TABLE engine_strategies (
            strategy TEXT PRIMARY KEY,
            desired TEXT NOT NULL DEFAULT 'stopped',
            state TEXT NOT NULL DEFAULT 'stopped',
            reason TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE engine_state (
            strategy TEXT NOT NULL,
            ticker TEXT NOT NULL,
            state TEXT NOT NULL,
            last_signal_id TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (strategy, ticker)
        )"""
    )
