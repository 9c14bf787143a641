"""Trades and market data sent by external scripts, kept per upload."""

from station.store.migrations import MigrationDb


def apply(db: MigrationDb) -> None:
    db.execute(
        """CREATE TABLE script_uploads (
            upload_id INTEGER PRIMARY KEY AUTOINCREMENT,
            source TEXT NOT NULL,
            received_at TEXT NOT NULL,
            trades INTEGER NOT NULL,
            bars INTEGER NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE script_trades (
            id INTEGER PRIMARY KEY,
            upload_id INTEGER NOT NULL REFERENCES script_uploads(upload_id),
            timestamp TEXT NOT NULL,
            symbol TEXT NOT NULL,
            side TEXT NOT NULL,
            quantity TEXT NOT NULL,
            price TEXT NOT NULL,
            profit_loss TEXT,
            strategy TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE script_bars (
            id INTEGER PRIMARY KEY,
            upload_id INTEGER NOT NULL REFERENCES script_uploads(upload_id),
            timestamp TEXT NOT NULL,
            symbol TEXT NOT NULL,
            open REAL NOT NULL,
            high REAL NOT NULL,
            low REAL NOT NULL,
            close REAL NOT NULL,
            volume REAL,
            rsi REAL,
            signal_strength REAL
        )"""
    )
    db.execute("CREATE INDEX script_trades_upload ON script_trades (upload_id)")
    db.execute("CREATE INDEX script_bars_symbol ON script_bars (symbol, timestamp)")
