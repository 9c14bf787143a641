"""Orders, fills, positions, pair groups and the oms's own durable state (kill switch)."""

from station.store.migrations import MigrationDb


def apply(db: MigrationDb) -> None:
    # client_order_id is the primary key: the same cause never makes a second order.
    db.execute(
        """CREATE TABLE orders (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            client_order_id TEXT NOT NULL UNIQUE,
            alert_id INTEGER,
            cause TEXT NOT NULL,
            strategy TEXT,
            destination TEXT NOT NULL,
            ticker TEXT NOT NULL,
            instrument TEXT,
            side TEXT NOT NULL,
            qty TEXT NOT NULL,
            order_type TEXT NOT NULL,
            limit_price TEXT,
            stop_price TEXT,
            tif TEXT NOT NULL,
            price_hint TEXT,
            status TEXT NOT NULL,
            filled_qty TEXT NOT NULL DEFAULT '0',
            avg_price TEXT,
            broker_order_id TEXT,
            reason TEXT,
            pair_group TEXT,
            leg TEXT,
            point_value TEXT NOT NULL DEFAULT '1',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX orders_status ON orders (status, destination)")
    db.execute("CREATE INDEX orders_alert ON orders (alert_id)")
    db.execute(
        """CREATE TABLE fills (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            fill_id TEXT NOT NULL UNIQUE,
            client_order_id TEXT NOT NULL,
            destination TEXT NOT NULL,
            strategy TEXT,
            ticker TEXT NOT NULL,
            side TEXT NOT NULL,
            qty TEXT NOT NULL,
            price TEXT NOT NULL,
            commission TEXT NOT NULL DEFAULT '0',
            realized_pnl TEXT NOT NULL DEFAULT '0',
            time TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX fills_order ON fills (client_order_id)")
    db.execute(
        """CREATE TABLE positions (
            destination TEXT NOT NULL,
            ticker TEXT NOT NULL,
            strategy TEXT NOT NULL DEFAULT '',
            qty TEXT NOT NULL,
            avg_price TEXT NOT NULL,
            realized_pnl TEXT NOT NULL,
            multiplier TEXT NOT NULL DEFAULT '1',
            updated_at TEXT NOT NULL,
            PRIMARY KEY (destination, ticker, strategy)
        )"""
    )
    db.execute(
        """CREATE TABLE pair_groups (
            pair_group TEXT PRIMARY KEY,
            alert_id INTEGER,
            strategy TEXT,
            destination TEXT NOT NULL,
            ticker1 TEXT NOT NULL,
            hedge TEXT NOT NULL,
            ticker2 TEXT NOT NULL,
            side TEXT NOT NULL,
            qty TEXT NOT NULL,
            order_price TEXT,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE TABLE oms_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
