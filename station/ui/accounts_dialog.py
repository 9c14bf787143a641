"""Settings → Accounts & keys (forms/accounts.ui): every secret Station knows, and the tests of each service.

It says which keyring backend holds the secrets, and per service: Station's own secrets;
the Databento key with "Test key"; Schwab's app key and secret with "Authorize…" (the
refresh token's days left shown beside it); Tastytrade's OAuth or login, the sandbox
switch of a tastytrade destination and "Test login"; IB's "Test connection". Values are
read from the keyring only on "Show", in a worker thread, and never logged.
"""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QLabel, QLineEdit, QPushButton, QTabWidget, QWidget

from station.domain.credentials import CREDENTIALS
from station.domain.validation import ConfigError
from station.ui import theme
from station.ui.context import DockContext
from station.ui.credential_actions import CredentialTest, SchwabLogin, say
from station.ui.forms import child, load_form
from station.ui.secret_rows import SecretRows, grid_of
from station.ui.slots import run_task

# each tab's secrets, from the catalogue (a secret added there shows up here by itself)
SECTIONS = {service: tuple(c.name for c in CREDENTIALS if c.service == service)
            for service in ("station", "databento", "schwab", "tastytrade")}
TABS = {"station": 0, "databento": 1, "schwab": 2, "tastytrade": 3, "ib": 4}


def keyring_text(description: str) -> str:
    """What the dialog says about the keyring backend holding the secrets."""
    if "MemoryBackend" in description:
        return (f'<span style="color:{theme.AMBER}">No keyring is usable: secrets are kept in memory for this run '
                "only (the demo). Install and unlock a Secret Service (e.g. gnome-keyring) to keep them.</span>")
    never = "They never go to Station's files or logs."
    if "keyrings.alt" in description:  # chosen explicitly (PYTHON_KEYRING_BACKEND, keyring's config file)
        if "Plaintext" in description:
            return (f'<span style="color:{theme.AMBER}">Secrets are kept in a plain-text file (<b>{description}</b>, '
                    "as chosen by PYTHON_KEYRING_BACKEND or keyring's config): whoever can read this user's files can "
                    f"read them.</span> {never}")
        return f"Secrets are kept in a file of keyrings.alt, as chosen: <b>{description}</b>. {never}"
    return f"Secrets are kept in the OS keyring: <b>{description}</b>. {never}"


class AccountsDialog:
    """Controller of the Accounts & keys dialog."""

    def __init__(self, context: DockContext, parent: QWidget | None = None) -> None:
        self.context = context
        self.loading: asyncio.Future | None = None
        self.dialog: QDialog = load_form("accounts", parent)
        d = self.dialog
        self.tabs = child(d, QTabWidget, "tabs")
        child(d, QLabel, "keyring").setText(keyring_text(context.info.keyring))
        self.sections = {name: SecretRows(context, names, grid_of(d, f"{name}Secrets"))
                         for name, names in SECTIONS.items()}
        bridge = context.bridge
        self.databento = CredentialTest(bridge, child(d, QPushButton, "testDatabento"), child(d, QLabel, "databentoResult"),
                                        "databento", prepare=self.sections["databento"].save_pending)
        self.schwab = SchwabLogin(bridge, child(d, QPushButton, "authorizeSchwab"), child(d, QLineEdit, "schwabPaste"),
                                  child(d, QPushButton, "schwabUsePasted"), child(d, QLabel, "schwabResult"),
                                  destination=lambda: self._first("schwab"), prepare=self.sections["schwab"].save_pending,
                                  on_done=lambda event: run_task(self.sections["schwab"].load()))
        self.tastytrade_destination = child(d, QComboBox, "tastytradeDestination")
        self.sandbox = child(d, QCheckBox, "tastytradeSandbox")
        self.tastytrade = CredentialTest(bridge, child(d, QPushButton, "testTastytrade"),
                                         child(d, QLabel, "tastytradeResult"), "tastytrade",
                                         params=lambda: self._params(self.tastytrade_destination.currentText()),
                                         prepare=self.sections["tastytrade"].save_pending)
        self.ib_destination = child(d, QComboBox, "ibDestination")
        self.ib = CredentialTest(bridge, child(d, QPushButton, "testIb"), child(d, QLabel, "ibResult"), "ib",
                                 params=lambda: self._params(self.ib_destination.currentText()))
        self._fill_destinations()
        self.tastytrade_destination.currentTextChanged.connect(self._show_sandbox)
        self.sandbox.toggled.connect(lambda on: run_task(self.set_sandbox(on)))

    def open(self, tab: str = "station") -> asyncio.Future:
        """Show the dialog on `tab` and read which secrets are set (a future done once read)."""
        self.tabs.setCurrentIndex(TABS.get(tab, 0))
        self.dialog.show()
        self.loading = run_task(self.load())
        return self.loading

    async def load(self) -> None:
        await asyncio.gather(*(section.load() for section in self.sections.values()))

    # ---- destinations --------------------------------------------------------------------------

    def _destinations(self, kind: str) -> list:
        return [d for d in self.context.queries.config.load().destinations if d.type == kind]

    def _first(self, kind: str) -> str | None:
        found = self._destinations(kind)
        return found[0].name if found else None

    def _params(self, name: str) -> dict:
        destination = self.context.queries.config.load().destination(name) if name else None
        return dict(destination.params) if destination else {}

    def _fill_destinations(self) -> None:
        for combo, button, result, kind, what in (
                (self.tastytrade_destination, child(self.dialog, QPushButton, "testTastytrade"),
                 child(self.dialog, QLabel, "tastytradeResult"), "tastytrade", "Test login"),
                (self.ib_destination, child(self.dialog, QPushButton, "testIb"), child(self.dialog, QLabel, "ibResult"),
                 "ib", "Test connection")):
            names = [d.name for d in self._destinations(kind)]
            combo.addItems(names)
            combo.setEnabled(bool(names))
            if not names and kind == "ib":
                button.setEnabled(False)
                say(result, f"No {kind} destination yet: add one (Strategies dock → New destination…) to "
                            f"{what.lower()} it.", theme.MUTED)
        self._show_sandbox(self.tastytrade_destination.currentText())

    def _show_sandbox(self, name: str) -> None:
        self.sandbox.blockSignals(True)
        self.sandbox.setChecked(bool(self._params(name).get("sandbox")))
        self.sandbox.setEnabled(bool(name))
        self.sandbox.setToolTip("" if name else "Add a tastytrade destination first; the switch is saved with it")
        self.sandbox.blockSignals(False)

    async def set_sandbox(self, on: bool) -> bool:
        """Switch the chosen tastytrade destination between the sandbox and production (saved in the config)."""
        name = self.tastytrade_destination.currentText()
        destination = self.context.queries.config.load().destination(name) if name else None
        if destination is None:
            return False
        try:
            await self.context.edits.save_destination(name, {"type": "tastytrade", **destination.params, "sandbox": on})
        except ConfigError as exc:
            say(child(self.dialog, QLabel, "tastytradeResult"), f"✘ not saved: {exc}", theme.RED)
            return False
        say(child(self.dialog, QLabel, "tastytradeResult"),
            f"{name} now trades in the {'sandbox' if on else 'production'} environment", theme.GREEN)
        return True
