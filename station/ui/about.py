"""The About dialog (forms/about.ui): version, receiver, data folder, keyring backend."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QLabel, QWidget

from station import __version__
from station.app import Station
from station.ui.forms import child, load_form


def show_about(station: Station, parent: QWidget | None = None) -> QDialog:
    dialog = load_form("about", parent)
    child(dialog, QLabel, "version").setText(__version__)
    child(dialog, QLabel, "receiver").setText(station.receiver.url)
    child(dialog, QLabel, "dataDir").setText(str(station.options.data_dir))
    child(dialog, QLabel, "keyring").setText(station.secrets.description)
    dialog.open()
    return dialog
