"""Where Station keeps its data, and where its shipped forms and resources are."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import platformdirs

APP_NAME = "Station"


def default_data_dir() -> Path:
    """The OS's per-user data folder for Station (database, logs, exports)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def forms_dir() -> Path:
    """The folder of Qt Designer `.ui` forms (shipped as the `station.forms` package)."""
    return Path(str(resources.files("station.forms")))


def resources_dir() -> Path:
    """The folder of icons and sample data (shipped as the `station.resources` package)."""
    return Path(str(resources.files("station.resources")))
