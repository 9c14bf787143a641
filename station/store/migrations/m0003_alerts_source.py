"""Alert journal additions: the sender's address, and one row per strategy signal id."""

import sqlite_utils


def apply(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE alerts ADD COLUMN source_addr TEXT")
    # RecordSignal journals a signal once however often it is recorded (e.g. again after a restart)
    db.execute("CREATE UNIQUE INDEX alerts_signal ON alerts (trade_id) WHERE source = 'strategy'")
