"""The About dialog (forms/about.ui): version, receiver, data folder, keyring backend."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QLabel, QWidget

from station import __version__
from station.ui.context import StationInfo
from station.ui.forms import child, load_form


def show_about(info: StationInfo, parent: QWidget | None = None) -> QDialog:
    """Open the dialog with this run's facts."""
    dialog = load_form("about", parent)
    child(dialog, QLabel, "version").setText(__version__)
    child(dialog, QLabel, "receiver").setText(info.receiver_url)
    child(dialog, QLabel, "dataDir").setText(str(info.data_dir))
    child(dialog, QLabel, "keyring").setText(info.keyring)
    dialog.open()
    return dialog
