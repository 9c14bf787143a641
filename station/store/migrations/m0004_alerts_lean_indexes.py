"""Alert journal: drop the index on fingerprints, which nothing reads.

De-duplication keeps recent fingerprints in memory and refills them at start by
`received_at` (its own index). The fingerprint index was never queried, yet each
new alert put its random hash into it: one more B-tree page to change and flush
per alert, on the path the sender waits on (it doubled the journal's CPU per commit).
"""

from station.store.migrations import MigrationDb


def apply(db: MigrationDb) -> None:
    db.execute("DROP INDEX IF EXISTS alerts_fingerprint")
