"""Orders as traders place them: roles, brackets (parent, OCO group, offset), who works an exit, changes by
cancel-and-replace; alerts keep their order instructions."""

from station.store.migrations import MigrationDb


def apply(db: MigrationDb) -> None:
    orders = db.utils["orders"]
    orders.add_column("role", str, not_null_default="entry")
    orders.add_column("parent_id", str)  # a protective exit's entry
    orders.add_column("oco_group", str)  # shared by a bracket's exits
    orders.add_column("offset", str)  # JSON: an exit's distance from its entry's fill, or a trailing stop's trail
    orders.add_column("tick_size", str)
    # who works a protective exit: "native_bracket" (sent with its entry), "native_oco" (sent when armed,
    # linked at the destination) or "station" (worked on Station's prices); NULL while it is held
    orders.add_column("exit_mode", str)
    orders.add_column("replaces", str)
    orders.add_column("replaced_by", str)
    orders.create_index(["parent_id"], index_name="orders_parent")
    db.utils["alerts"].add_column("instructions", str)  # JSON of the order instructions given
