"""SQLite persistence: schema and migrations, the single writer, repositories."""

import sys


def _import_sqlite_utils_without_pandas() -> None:
    """Import sqlite-utils while pandas and numpy are not importable, unless already loaded.

    sqlite-utils imports both at import time only to map their scalar types to column types;
    Station stores plain Python values, and loading them costs ~0.4 s of every start.
    """
    blocked = [name for name in ("pandas", "numpy") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # `import name` now raises ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in blocked:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


_import_sqlite_utils_without_pandas()

from station.store.database import Store  # noqa: E402

__all__ = ["Store"]
