"""One Station per data dir: two writers on one journal would interleave alerts and orders.

The lock is the OS's (fcntl/msvcrt through `filelock`), held for the process's life and
freed by the OS when the process ends, however it ends: no stale lock after a crash.
Commands that only read or merge (`config import`, `analyze`) do not take it.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from station.store.errors import StoreError

LOCK_FILENAME = "station.lock"


def hold_data_dir(data_dir: Path) -> FileLock:
    """The data dir's lock, held until released or the process ends; StoreError if another Station has it."""
    lock = FileLock(str(data_dir / LOCK_FILENAME), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise StoreError(f"another Station is already running on {data_dir}: close it first, "
                         f"or use another --data-dir") from None
    except OSError as exc:
        raise StoreError(f"cannot lock data directory {data_dir}: {exc.strerror or exc}") from None
    return lock
