"""The named-destination dialog (forms/destination.ui): each type shows what it needs, credentials included.

Paper needs nothing; a NinjaTrader ATI account its folders (Browse…, the user's
`Documents/NinjaTrader 8/incoming` and `…/outgoing` by default, a missing folder said at
once, and what NinjaTrader's part reports about that destination); IB its TWS address
with "Test connection"; Schwab its callback URL, app key and secret and "Authorize…";
Tastytrade OAuth or login, the sandbox switch and "Test login". The config's own checks
are shown in the dialog, and nothing is half-saved.
"""

from __future__ import annotations

import asyncio
import html
from pathlib import Path

import platformdirs
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QGroupBox, QLabel,
                               QLineEdit, QPushButton, QWidget)

from station.domain import config_schema
from station.domain.validation import ConfigError
from station.ui import theme
from station.ui.context import DockContext
from station.ui.credential_actions import CredentialTest, SchwabLogin
from station.ui.forms import child, load_form
from station.ui.secret_rows import SecretRows, grid_of
from station.ui.slots import connect, run_task

BOXES = {"paper": "paperBox", "ninjatrader-ati": "atiBox", "ib": "ibBox", "schwab": "schwabBox",
         "tastytrade": "tastytradeBox"}
HINTS = {
    "paper": "Simulated fills on Station's own prices: try everything without an account.",
    "ninjatrader-ati": "Orders as ATI order files for a NinjaTrader 8 account (Tools → Options → Automated "
                       "trading interface: AT Interface on).",
    "ib": "Interactive Brokers through TWS or IB Gateway running on this PC (its API enabled).",
    "schwab": "A Schwab brokerage account through your app at developer.schwab.com (equities and options).",
    "tastytrade": "A Tastytrade account (equities, options, futures) through its Open API.",
}
# destination type -> (form widget, config key) of the plain text fields it uses
TEXT_FIELDS = {
    "ninjatrader-ati": (("atiAccount", "account"), ("incoming", "incoming"), ("outgoing", "outgoing")),
    "ib": (("host", "host"), ("port", "port"), ("clientId", "client_id"), ("ibAccount", "account")),
    "schwab": (("schwabAccount", "account"), ("callbackUrl", "callback_url")),
    "tastytrade": (("tastytradeAccount", "account"),),
}
NUMBERS = ("port", "client_id")
SECRETS = {"schwab": ("schwab-app-key", "schwab-app-secret", "schwab-refresh-token"),
           "tastytrade": ("tastytrade-client-secret", "tastytrade-refresh-token", "tastytrade-username",
                          "tastytrade-password")}


def default_ati_folder(which: str) -> Path:
    """NinjaTrader 8's `incoming` or `outgoing` folder in the user's Documents (CONTRACT.md "ATI order files")."""
    return Path(platformdirs.user_documents_dir()) / "NinjaTrader 8" / which


class DestinationDialog:
    """Create a named destination; the config's own checks are shown in the dialog, nothing half-saved."""

    def __init__(self, context: DockContext, parent: QWidget | None = None) -> None:
        self.context, self.edits = context, context.edits
        self.dialog: QDialog = load_form("destination", parent)
        d = self.dialog
        self.type = child(d, QComboBox, "type")
        self.type.addItems(list(config_schema.DESTINATION_TYPES))
        self.name = child(d, QLineEdit, "name")
        self.error = child(d, QLabel, "error")
        self.hint = child(d, QLabel, "typeHint")
        self.hint.setStyleSheet(f"color: {theme.MUTED}")
        self.boxes = {kind: child(d, QGroupBox, box) for kind, box in BOXES.items()}
        self.fields = {kind: {key: child(d, QLineEdit, widget) for widget, key in pairs}
                       for kind, pairs in TEXT_FIELDS.items()}
        self.sandbox = child(d, QCheckBox, "sandbox")
        self.ati_status = child(d, QLabel, "atiStatus")
        self.ati_status.setWordWrap(True)
        for which in ("incoming", "outgoing"):
            edit = child(d, QLineEdit, which)
            edit.setText(str(default_ati_folder(which)))
            edit.textChanged.connect(self.check_folders)
            child(d, QPushButton, f"browse{which.title()}").clicked.connect(lambda _=False, e=edit: self._browse(e))
        self.secrets = {kind: SecretRows(context, names, grid_of(d, f"{kind}Secrets")) for kind, names in SECRETS.items()}
        bridge = context.bridge
        self.ib_test = CredentialTest(bridge, child(d, QPushButton, "testIb"), child(d, QLabel, "ibResult"), "ib",
                                      params=lambda: self.spec())
        self.tastytrade_test = CredentialTest(bridge, child(d, QPushButton, "testTastytrade"),
                                              child(d, QLabel, "tastytradeResult"), "tastytrade",
                                              params=lambda: self.spec(), prepare=self.secrets["tastytrade"].save_pending)
        self.schwab_login = SchwabLogin(bridge, child(d, QPushButton, "authorizeSchwab"), child(d, QLineEdit, "schwabPaste"),
                                        child(d, QPushButton, "schwabUsePasted"), child(d, QLabel, "schwabResult"),
                                        destination=lambda: self.name.text().strip(), prepare=self._save_for_login,
                                        on_done=lambda _: run_task(self.secrets["schwab"].load()))
        self.type.currentTextChanged.connect(self._show_fields)
        self.name.textChanged.connect(lambda _: self.check_folders())
        connect(child(d, QDialogButtonBox, "buttons").accepted, self.save)
        self._show_fields(self.type.currentText())
        self.loading = run_task(self._load_secrets())

    async def _load_secrets(self) -> None:
        await asyncio.gather(*(rows.load() for rows in self.secrets.values()))

    # ---- the type's part -----------------------------------------------------------------------

    def _show_fields(self, kind: str) -> None:
        for name, box in self.boxes.items():
            box.setVisible(name == kind)
        self.hint.setText(HINTS.get(kind, ""))
        self.error.clear()
        if kind == "ninjatrader-ati":
            self.check_folders()
        self.dialog.adjustSize()

    def spec(self) -> dict:
        """The destination as the config takes it (only the fields of its type)."""
        kind = self.type.currentText()
        spec: dict = {"type": kind}
        for key, edit in self.fields.get(kind, {}).items():
            text = edit.text().strip()
            if text:
                spec[key] = int(text) if key in NUMBERS and text.isdigit() else text
        if kind == "tastytrade":
            spec["sandbox"] = self.sandbox.isChecked()
        return spec

    # ---- NinjaTrader folders -------------------------------------------------------------------

    def _browse(self, edit: QLineEdit) -> None:
        start = edit.text().strip() or str(default_ati_folder("incoming").parent)
        chosen = QFileDialog.getExistingDirectory(self.dialog, "NinjaTrader folder", start)
        if chosen:
            edit.setText(chosen)

    def check_folders(self) -> str:
        """Say at once which folder does not exist, and what the running Station reports for this destination."""
        lines = []
        missing = [text for text in (self.fields["ninjatrader-ati"][which].text().strip()
                                     for which in ("incoming", "outgoing")) if text and not Path(text).expanduser().is_dir()]
        if missing:
            lines.append(f"⚠ Not found: {'; '.join(missing)}. Is NinjaTrader 8 installed for this user? It makes these "
                         "folders; choose them with Browse… if they are elsewhere.")
        name = self.name.text().strip()
        for event in self.context.queries.connections.latest_connections():
            if name and event.name == name and event.detail:
                lines.append(f"NinjaTrader: {event.detail}")
        text = "<br>".join(html.escape(line) for line in lines)
        self.ati_status.setText(f'<span style="color:{theme.AMBER}">{text}</span>' if lines else "")
        return "\n".join(lines)

    # ---- saving --------------------------------------------------------------------------------

    async def _save_destination(self) -> bool:
        name = self.name.text().strip()
        if not name:
            self.error.setText("A destination needs a name.")
            return False
        try:
            await self.edits.save_destination(name, self.spec())
        except ConfigError as exc:
            self.error.setText("\n".join(f"{k.split('.')[-1]}: {v}" for k, v in exc.errors.items()))
            return False
        self.error.clear()
        return True

    async def _save_for_login(self) -> bool:
        """Before Schwab's login: the typed app key and secret, and the destination (its URLs are used)."""
        return await self.secrets["schwab"].save_pending() and await self._save_destination()

    async def save(self) -> bool:
        """Save typed secrets and the destination, then close; on an error say it and keep the dialog open."""
        kind = self.type.currentText()
        if kind in self.secrets and not await self.secrets[kind].save_pending():
            self.error.setText("A secret could not be stored in the keyring; nothing else was saved.")
            return False
        if not await self._save_destination():
            return False
        self.dialog.accept()
        return True
