"""SQLite persistence: schema and migrations, the single writer, repositories."""

from station.store.database import Store

__all__ = ["Store"]
