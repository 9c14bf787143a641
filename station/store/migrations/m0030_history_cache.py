"""The index of historical market data bought from Databento and kept as DBN files under the data dir."""

from station.store.migrations import MigrationDb


def apply(db: MigrationDb) -> None:
    db.execute(
        """CREATE TABLE history_cache (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            dataset TEXT NOT NULL,
            schema TEXT NOT NULL,
            stype_in TEXT NOT NULL,
            symbol TEXT NOT NULL,
            start_ns INTEGER NOT NULL,
            end_ns INTEGER NOT NULL,
            path TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            cost_usd REAL,
            fetched_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX history_cache_key ON history_cache (dataset, schema, stype_in, symbol, start_ns)")
