"""Numbered schema migrations: `mNNNN_name.py` modules with `apply(db)`, run in order once.

`db` offers `execute(sql, params)` on the migrating connection, and `db.utils`: a sqlite-utils
`Database` on that same connection (inside the migration's transaction) for table changes that
read well with it (`db.utils["orders"].add_column(...)`). sqlite-utils is imported only when a
migration asks for `utils`: importing it imports pandas (~0.4 s), which a start on an up-to-date
database keeps out.

The schema version is SQLite's `user_version`. Each migration runs in its own
transaction together with the version bump, so a failure leaves the previous
version intact.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
import sqlite3

from station.store.errors import StoreError

log = logging.getLogger("station.store")

_NAME = re.compile(r"^m(\d{4})_\w+$")


class MigrationDb:
    """What a migration gets: the migrating connection's `execute` and, on demand, sqlite-utils on it
    (both inside the migration's transaction)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._utils = None

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    @property
    def utils(self):
        """A `sqlite_utils.Database` on the migrating connection (imported on first use: it brings pandas)."""
        if self._utils is None:
            import sqlite_utils

            # sqlite-utils commits only what it opened itself: inside BEGIN IMMEDIATE its changes join ours
            self._utils = sqlite_utils.Database(self.conn, execute_plugins=False)
        return self._utils


def available() -> list[tuple[int, str]]:
    """(version, module name) of every migration shipped, in order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = _NAME.match(info.name)
        if match:
            found.append((int(match.group(1)), info.name))
    found.sort()
    versions = [v for v, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {found}")
    return found


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every shipped migration not applied yet, in number order; returns the schema version.

    Applied versions are recorded one by one (`schema_migrations`), so a migration
    numbered below one already applied (packages own number ranges) still runs.
    """
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    shipped = available()
    newest = shipped[-1][0] if shipped else 0
    if current > newest:
        raise StoreError(
            f"the database has schema {current}, newer than this Station knows ({newest}); "
            "use a newer Station or another --data-dir"
        )
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                 "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    if not applied and current:  # made before versions were recorded: all up to user_version ran
        applied = {version for version, _ in shipped if version <= current}
        conn.executemany("INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))",
                         [(version, name) for version, name in shipped if version in applied])
    for version, name in shipped:
        if version in applied:
            continue
        module = importlib.import_module(f"{__name__}.{name}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            module.apply(MigrationDb(conn))
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))", (version, name))
            conn.execute(f"PRAGMA user_version = {max(applied | {version})}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.add(version)
        log.info("schema migration %d applied (%s)", version, name)
    return max(applied, default=0)
