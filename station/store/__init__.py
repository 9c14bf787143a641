"""SQLite persistence: schema and migrations, the single writer, repositories."""

from station.store.database import Store, check_usable
from station.store.errors import StoreError

__all__ = ["Store", "StoreError", "check_usable"]
