"""Configuration: destinations, strategies, their tickers and per-destination sizes, settings."""

from station.store.migrations import MigrationDb


def apply(db: MigrationDb) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta (key, value) VALUES ('config_revision', '0')")
    db.execute(
        """CREATE TABLE destinations (
            name TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    db.execute(
        """CREATE TABLE strategies (
            name TEXT PRIMARY KEY,
            enabled INTEGER NOT NULL DEFAULT 1,
            accounts TEXT NOT NULL DEFAULT '{}',
            options TEXT NOT NULL DEFAULT '{}',
            seq INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute(
        """CREATE TABLE strategy_tickers (
            strategy TEXT NOT NULL REFERENCES strategies(name) ON DELETE CASCADE ON UPDATE CASCADE,
            ticker TEXT NOT NULL,
            enabled INTEGER NOT NULL DEFAULT 1,
            ports TEXT NOT NULL DEFAULT '[]',
            options TEXT NOT NULL DEFAULT '{}',
            seq INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (strategy, ticker)
        )"""
    )
    db.execute(
        """CREATE TABLE ticker_destinations (
            strategy TEXT NOT NULL,
            ticker TEXT NOT NULL,
            destination TEXT NOT NULL REFERENCES destinations(name) ON UPDATE CASCADE,
            qty TEXT,
            multiplier TEXT,
            instrument TEXT,
            options TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (strategy, ticker, destination),
            FOREIGN KEY (strategy, ticker) REFERENCES strategy_tickers(strategy, ticker)
                ON DELETE CASCADE ON UPDATE CASCADE
        )"""
    )
    db.execute("CREATE TABLE settings (section TEXT PRIMARY KEY, value TEXT NOT NULL)")
