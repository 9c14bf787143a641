"""Where Station keeps its data, and where its shipped forms and resources are."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import platformdirs

APP_NAME = "Station"
# The repository keeps forms/ and resources/ beside station/; installs and the bundle ship them
# as the packages `station.forms` and `station.resources` (setup.py, packaging/bundle_contents.py).
_CHECKOUT = Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    """The OS's per-user data folder for Station (database, logs, exports)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def writable_folder(path: Path | str) -> Path:
    """`path` made absolute and created if need be (an export's folder); ValueError saying why Station cannot write
    there."""
    import os

    path = Path(path).expanduser().absolute()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create output folder {path}: {exc.strerror or exc}") from None
    if not path.is_dir():
        raise ValueError(f"output path {path} is not a folder")
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write to output folder {path}: permission denied")
    return path


def ninjatrader_dir() -> Path:
    """`Documents/NinjaTrader 8` of the user running Station: NinjaTrader 8's own folder (ATI, add-ons)."""
    return Path(platformdirs.user_documents_dir()) / "NinjaTrader 8"


def forms_dir() -> Path:
    """The folder of Qt Designer `.ui` forms (shipped as the `station.forms` package)."""
    return _shipped("station.forms", "forms")


def resources_dir() -> Path:
    """The folder of icons and sample data (shipped as the `station.resources` package)."""
    return _shipped("station.resources", "resources")


def _shipped(package: str, folder: str) -> Path:
    try:
        return Path(str(resources.files(package)))
    except ModuleNotFoundError:  # run from a plain checkout (`python -m station`), nothing installed
        return _CHECKOUT / folder
