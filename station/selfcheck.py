"""`station --self-check`: proves an installation has every part it needs, without a window.

An installed bundle only carries what its build found, so libraries imported by name,
Qt plugins, keyring backends and shipped files are exactly what can go missing. Each
check uses the part for real (decodes a DBN record, builds a DataFrame, lists keyring
backends by entry point) and prints one line; the exit code is 0 when all passed.
"""

from __future__ import annotations

import sys
import traceback
import warnings
from pathlib import Path
from typing import Callable

# Plugin file stems (lib prefix and suffix removed) each platform needs to draw the window.
QT_PLUGINS = {
    "linux": ["platforms/qxcb", "platforms/qwayland", "platforms/qoffscreen", "imageformats/qsvg",
              "iconengines/qsvgicon"],
    "win32": ["platforms/qwindows", "imageformats/qsvg", "imageformats/qico", "iconengines/qsvgicon"],
    "darwin": ["platforms/qcocoa", "imageformats/qsvg", "iconengines/qsvgicon"],
}


def _shipped_files() -> str:
    import xml.etree.ElementTree as ElementTree

    from station.paths import forms_dir, resources_dir

    forms = sorted(forms_dir().glob("*.ui"))
    if not forms:
        raise RuntimeError(f"no forms in {forms_dir()}")
    for form in forms:
        ElementTree.parse(form)
    icon = resources_dir() / "icons" / "station.svg"
    if not icon.is_file():
        raise RuntimeError(f"missing {icon}")
    return f"{len(forms)} forms, icons in {icon.parent}"


def _qt() -> str:
    import PySide6
    from PySide6 import QtCore, QtGui, QtSvg, QtUiTools, QtWidgets  # noqa: F401  (each must import)

    plugins = Path(QtCore.QLibraryInfo.path(QtCore.QLibraryInfo.LibraryPath.PluginsPath))
    platform = "linux" if sys.platform.startswith("linux") else sys.platform
    stems = {f"{p.parent.name}/{p.name.split('.')[0].removeprefix('lib')}" for p in plugins.glob("*/*")}
    missing = [name for name in QT_PLUGINS.get(platform, []) if name not in stems]
    if missing:
        raise RuntimeError(f"Qt plugins missing from {plugins}: {', '.join(missing)}")
    return f"PySide6 {PySide6.__version__}, {len(stems)} plugins in {plugins}"


def _keyring() -> str:
    from importlib import metadata

    import keyring.core

    from station.secrets import KeyringUnavailable, system_backend

    found = {ep.name: ep.value for ep in metadata.entry_points(group="keyring.backends")}
    if "file" not in found or not any(v.startswith("keyring.backends.") for v in found.values()):
        raise RuntimeError(f"keyring backends not discovered by entry point (found: {sorted(found)})")
    for name, module in found.items():
        if name in ("file", "SecretService", "Windows", "macOS"):
            __import__(module)
    chosen = keyring.core.load_env()
    try:
        backend = chosen or system_backend()
        using = f"{type(backend).__module__}.{type(backend).__name__}"
    except KeyringUnavailable:
        using = "no secure backend on this machine (PYTHON_KEYRING_BACKEND chooses one)"
    return f"{len(found)} backends by entry point; using {using}"


def _market_data() -> str:
    import databento
    import databento_dbn as dbn
    import zstandard

    start = 1_741_012_200_000_000_000
    meta = dbn.Metadata(dataset="GLBX.MDP3", start=start, end=start + 60_000_000_000, schema=dbn.Schema.OHLCV_1M,
                        stype_in=dbn.SType.RAW_SYMBOL, stype_out=dbn.SType.INSTRUMENT_ID, symbols=["ESH5"])
    price = 5800 * dbn.FIXED_PRICE_SCALE
    bar = dbn.OHLCVMsg(dbn.RType.OHLCV_1M, 1, 1001, start, price, price, price, price, 7)
    store = databento.DBNStore.from_bytes(zstandard.ZstdCompressor().compress(bytes(meta) + bytes(bar)))
    with warnings.catch_warnings():  # a deprecation inside databento is not the user's business
        warnings.simplefilter("ignore")
        frame = store.to_df()
    if len(frame) != 1 or int(frame["volume"].iloc[0]) != 7:
        raise RuntimeError(f"decoded {len(frame)} bars, expected one with volume 7")
    return f"databento {databento.__version__}: DBN decoded to a DataFrame"


def _libraries() -> str:
    from importlib.metadata import version

    import aiohttp
    import ib_async
    import pandas
    import pyqtgraph
    import qasync  # noqa: F401  (must import)
    import sqlite3
    from zoneinfo import ZoneInfo

    # The store's SQL needs UPSERT (3.24) and RETURNING (3.35) from the SQLite Python was built with.
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER)")
    db.execute("INSERT INTO t VALUES ('a', 1) ON CONFLICT(k) DO UPDATE SET n = n + 1")
    returned = db.execute("INSERT INTO t VALUES ('a', 1) ON CONFLICT(k) DO UPDATE SET n = n + 1 RETURNING n").fetchall()
    db.close()
    totals = pandas.DataFrame({"k": ["a", "a", "b"], "v": [1, 2, 3]}).groupby("k")["v"].sum().to_dict()
    if totals != {"a": 3, "b": 3} or returned != [(2,)]:
        raise RuntimeError("pandas or SQLite gave a wrong answer")
    ZoneInfo("America/New_York")
    ib_async.Contract(symbol="AAPL")
    return (f"aiohttp {aiohttp.__version__}, pandas {pandas.__version__}, pyqtgraph {pyqtgraph.__version__}, "
            f"ib_async {ib_async.__version__}, qasync {version('qasync')}, SQLite {sqlite3.sqlite_version}")


CHECKS: list[tuple[str, Callable[[], str]]] = [
    ("files", _shipped_files), ("qt", _qt), ("keyring", _keyring), ("market data", _market_data),
    ("libraries", _libraries),
]


def run() -> int:
    """Run every check, print one line each; 0 if all passed, 1 otherwise."""
    failed = 0
    where = "bundle " + getattr(sys, "_MEIPASS", "") if getattr(sys, "frozen", False) else "source install"
    print(f"station self-check ({where}, Python {sys.version.split()[0]})")
    for name, check in CHECKS:
        try:
            print(f"ok    {name}: {check()}")
        except Exception as exc:  # report every broken part, not just the first
            failed += 1
            print(f"FAIL  {name}: {type(exc).__name__}: {exc}")
            traceback.print_exc(file=sys.stderr)
    print("all checks passed" if not failed else f"{failed} check(s) failed")
    return 1 if failed else 0
