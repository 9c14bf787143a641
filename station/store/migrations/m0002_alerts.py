"""The durable alert journal: every accepted alert, its content, times and routing status."""

from station.store.migrations import MigrationDb


def apply(db: MigrationDb) -> None:
    db.execute(
        """CREATE TABLE alerts (
            alert_id INTEGER PRIMARY KEY AUTOINCREMENT,
            status TEXT NOT NULL DEFAULT 'queued',
            status_reason TEXT,
            strategy TEXT,
            ticker TEXT NOT NULL,
            action TEXT NOT NULL,
            qty TEXT,
            price TEXT,
            dialect INTEGER,
            source TEXT NOT NULL,
            trade_id TEXT,
            position TEXT,
            target_position TEXT,
            ticker1 TEXT,
            hedge TEXT,
            ticker2 TEXT,
            fingerprint TEXT NOT NULL,
            raw TEXT NOT NULL,
            sent_at TEXT,
            received_at TEXT NOT NULL,
            committed_at TEXT,
            routed_at TEXT,
            filled_at TEXT
        )"""
    )
    db.execute("CREATE INDEX alerts_fingerprint ON alerts (fingerprint, received_at)")
    db.execute("CREATE INDEX alerts_status ON alerts (status)")
    db.execute("CREATE INDEX alerts_received ON alerts (received_at)")
