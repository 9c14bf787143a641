"""The named-destination dialog (forms/destination.ui): paper, NinjaTrader ATI account, IB, … ."""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QLineEdit, QWidget

from station.domain import config_schema
from station.domain.validation import ConfigError
from station.ui.config_edits import ConfigEdits
from station.ui.forms import child, load_form

FIELDS = {"account": "account", "incoming": "incoming", "outgoing": "outgoing", "host": "host", "port": "port",
          "client_id": "clientId"}


class DestinationDialog:
    """Create a named destination; the config's own checks are shown in the dialog, nothing half-saved."""

    def __init__(self, edits: ConfigEdits, parent: QWidget | None = None) -> None:
        self.edits = edits
        self.dialog: QDialog = load_form("destination", parent)
        self.type = child(self.dialog, QComboBox, "type")
        self.type.addItems(list(config_schema.DESTINATION_TYPES))
        self.type.currentTextChanged.connect(self._show_fields)
        self.name = child(self.dialog, QLineEdit, "name")
        self.error = child(self.dialog, QLabel, "error")
        self.fields = {key: child(self.dialog, QLineEdit, name) for key, name in FIELDS.items()}
        child(self.dialog, QDialogButtonBox, "buttons").accepted.connect(lambda: asyncio.ensure_future(self.save()))
        self._show_fields(self.type.currentText())

    def _show_fields(self, kind: str) -> None:
        known = config_schema.DESTINATION_TYPES[kind][0].fields
        for key, edit in self.fields.items():
            edit.setVisible(key in known)
            label = self.dialog.findChild(QLabel, f"{FIELDS[key]}Label")
            if label:
                label.setVisible(key in known)

    def spec(self) -> dict:
        known = config_schema.DESTINATION_TYPES[self.type.currentText()][0].fields
        spec: dict = {"type": self.type.currentText()}
        for key, edit in self.fields.items():
            text = edit.text().strip()
            if key in known and text:
                spec[key] = int(text) if key in ("port", "client_id") and text.isdigit() else text
        return spec

    async def save(self) -> bool:
        name = self.name.text().strip()
        if not name:
            self.error.setText("A destination needs a name.")
            return False
        try:
            await self.edits.save_destination(name, self.spec())
        except ConfigError as exc:
            self.error.setText("\n".join(f"{k.split('.')[-1]}: {v}" for k, v in exc.errors.items()))
            return False
        self.dialog.accept()
        return True
