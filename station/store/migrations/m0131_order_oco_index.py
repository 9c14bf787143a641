"""Orders by OCO group: the REST API tells a shared group from a lone exit's (`record_reader._links`) per listing."""

from station.store.migrations import MigrationDb


def apply(db: MigrationDb) -> None:
    db.execute("CREATE INDEX IF NOT EXISTS orders_oco_group ON orders (oco_group) WHERE oco_group IS NOT NULL")
