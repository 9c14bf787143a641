"""Alert journal additions: the sender's address, and one row per strategy signal id."""

from station.store.migrations import MigrationDb


def apply(db: MigrationDb) -> None:
    db.execute("ALTER TABLE alerts ADD COLUMN source_addr TEXT")
    # RecordSignal journals a signal once however often it is recorded (e.g. again after a restart)
    db.execute("CREATE UNIQUE INDEX alerts_signal ON alerts (trade_id) WHERE source = 'strategy'")
