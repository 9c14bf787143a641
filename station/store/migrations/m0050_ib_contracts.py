"""The IB contract table: TradingView symbol -> IB contract, edited by the trader (seeded with index futures)."""

from station.store.migrations import MigrationDb

SEEDS = [
    # tv_symbol, sec_type, symbol, exchange, note
    ("ES1!", "FUT", "ES", "CME", "E-mini S&P 500"),
    ("MES1!", "FUT", "MES", "CME", "Micro E-mini S&P 500"),
    ("NQ1!", "FUT", "NQ", "CME", "E-mini Nasdaq-100"),
    ("MNQ1!", "FUT", "MNQ", "CME", "Micro E-mini Nasdaq-100"),
    ("SPX", "IND", "SPX", "CBOE", "S&P 500 index (underlying of the 0DTE options)"),
]


def apply(db: MigrationDb) -> None:
    db.execute(
        """CREATE TABLE ib_contracts (
            tv_symbol TEXT PRIMARY KEY,
            sec_type TEXT NOT NULL,
            symbol TEXT NOT NULL,
            exchange TEXT NOT NULL DEFAULT 'SMART',
            primary_exchange TEXT NOT NULL DEFAULT '',
            currency TEXT NOT NULL DEFAULT 'USD',
            expiry TEXT NOT NULL DEFAULT '',
            strike TEXT,
            "right" TEXT NOT NULL DEFAULT '',
            strike_offset INTEGER NOT NULL DEFAULT 0,
            trading_class TEXT NOT NULL DEFAULT '',
            multiplier TEXT NOT NULL DEFAULT '',
            roll_days INTEGER NOT NULL DEFAULT 8,
            note TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL
        )"""
    )
    for tv_symbol, sec_type, symbol, exchange, note in SEEDS:
        db.execute(
            "INSERT INTO ib_contracts (tv_symbol, sec_type, symbol, exchange, note, updated_at) "
            "VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            [tv_symbol, sec_type, symbol, exchange, note],
        )
