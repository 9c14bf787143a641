"""The SQLite database: connection settings, migrations, the writer, and readers."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from station.store.migrations import migrate
from station.store.writer import StoreWriter

log = logging.getLogger("station.store")

DB_FILENAME = "station.db"


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode with full durability (an answered alert survives power loss)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = FULL")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    return conn


class Store:
    """Owns the database file: migrates it on open, then one writer and per-thread readers."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DB_FILENAME
        setup = connect(self.path)
        try:
            setup.execute("PRAGMA journal_mode = WAL")
            self.schema_version = migrate(setup)
        finally:
            setup.close()
        self.writer = StoreWriter(lambda: connect(self.path))
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    def reader(self) -> sqlite3.Connection:
        """This thread's read-only connection (sees every committed write)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=True)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        """Rows of a read query on this thread's reader."""
        return self.reader().execute(sql, params).fetchall()

    def close(self) -> None:
        """Commit what is queued and close every connection."""
        self.writer.close()
        with self._readers_lock:
            for conn in self._readers:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:
                    pass  # made in another thread that already ended
            self._readers.clear()
        self._local = threading.local()
