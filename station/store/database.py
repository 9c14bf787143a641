"""The SQLite database: connection settings, migrations, the writer, and readers.

A data dir Station cannot use (a corrupt, truncated, locked or read-only database, a
folder in the database's place) is refused with `StoreError`, one line naming the
problem, before anything in it is changed (`check_usable` reads only).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

from station.store.errors import StoreError
from station.store.migrations import migrate
from station.store.writer import StoreWriter

log = logging.getLogger("station.store")

DB_FILENAME = "station.db"


def check_usable(data_dir: Path) -> None:
    """StoreError if the database in `data_dir` exists but cannot be used; reads only, changes nothing."""
    path = data_dir / DB_FILENAME
    if not os.path.lexists(path):
        if not os.access(data_dir, os.W_OK | os.X_OK):
            raise StoreError(f"data directory {data_dir} is read-only: Station cannot create its database there")
        return
    if not path.is_file():
        raise StoreError(f"{path} is not a database file (a folder or something else is in its place)")
    if not os.access(path, os.R_OK | os.W_OK) or not os.access(data_dir, os.W_OK | os.X_OK):
        raise StoreError(f"database {path} is read-only: Station needs to write it and its folder")
    _check_header(path)
    # a read-only open of a file whose header says WAL still creates its -wal and -shm files: those the check
    # made are removed again when it refuses the database (a database in use by another program has them already)
    sidecars = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    made = [sidecar for sidecar in sidecars if not os.path.lexists(sidecar)]
    try:
        _read_schema(path)
    except StoreError:
        for sidecar in made:
            sidecar.unlink(missing_ok=True)
        raise


def _read_schema(path: Path) -> None:
    try:
        # as_uri needs an absolute path: a relative --data-dir is the user's everyday case
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=1.0, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from None
    try:
        conn.execute("PRAGMA schema_version").fetchone()
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise StoreError(f"database {path} is locked by another program") from None
        raise StoreError(f"database {path} cannot be read: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise _corrupt(path, str(exc)) from None
    finally:
        conn.close()


def _corrupt(path: Path, why: str) -> StoreError:
    return StoreError(f"database {path} is corrupt ({why}); restore it from a backup or use another --data-dir")


def _check_header(path: Path) -> None:
    """A file that is no SQLite database, or shorter than its header says (cut off by a full disk or a partial
    copy), is refused from its 100-byte header before SQLite opens it."""
    with open(path, "rb") as file:
        header = file.read(100)
    size = path.stat().st_size
    if size == 0:
        return  # an empty file is a new database to SQLite
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        raise _corrupt(path, "not an SQLite database")
    # the file format's fixed fields: read/write versions 1 (rollback) or 2 (WAL); payload fractions 64, 32, 32
    if header[18] not in (1, 2) or header[19] not in (1, 2) or header[21:24] != bytes((64, 32, 32)):
        raise _corrupt(path, "its header is damaged")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid = header[24:28] == header[92:96]  # the header's page count is current only if these match
    if valid and pages and size < pages * page_size:
        raise StoreError(f"database {path} is truncated ({size} of {pages * page_size} bytes); restore it from "
                         f"a backup or use another --data-dir")


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
        try:
            setup = connect(self.path)
            try:
                setup.execute("PRAGMA journal_mode = WAL")
                self.schema_version = migrate(setup)
            finally:
                setup.close()
        except sqlite3.Error as exc:
            raise StoreError(f"database {self.path} cannot be used: {exc}") from None
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
