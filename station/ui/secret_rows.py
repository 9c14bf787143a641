"""Rows of named secrets in a grid: set, replace, show on demand, delete; the keyring is read in a worker thread.

Each row is one `Credential` of the catalog (`domain/credentials.py`): its label, a masked
field (empty, with "stored" or "not set" as placeholder), Show, Save and Delete, and its
state (set or not; for a secret that expires, the days left). A value is read from the
keyring only when "Show" asks for it, and never logged; `SecretChanged` announces a change.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Callable

from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QMessageBox, QPushButton, QWidget

from station.domain.credentials import BY_NAME, EXPIRY_WARNING, Credential, expires_at
from station.domain.events import SecretChanged
from station.domain.timeutil import utc_now
from station.secrets import KeyringUnavailable
from station.ui import theme
from station.ui.context import DockContext
from station.ui.slots import connect, run_task


def time_left(expiry: datetime, now: datetime) -> str:
    """`5 d 3 h left`, `7 h left`, or `expired`."""
    seconds = (expiry - now).total_seconds()
    if seconds <= 0:
        return "expired"
    days, hours = int(seconds // 86400), int(seconds % 86400 // 3600)
    return f"{days} d {hours} h left" if days else f"{max(hours, 1)} h left"


class SecretRow:
    """One secret's widgets and actions."""

    def __init__(self, context: DockContext, credential: Credential, grid: QGridLayout, row: int,
                 on_change: Callable[[str], None] | None = None) -> None:
        self.context, self.credential, self.name = context, credential, credential.name
        self._on_change = on_change or (lambda name: None)
        self.stored = False
        self.issued_at: datetime | None = None
        self._shown_value: str | None = None
        parent = grid.parentWidget()
        self.label = QLabel(credential.label, parent)
        self.label.setToolTip(f"{credential.hint}\nKeyring name: {credential.name}".strip())
        self.field = QLineEdit(parent)
        self.field.setObjectName(f"secret:{credential.name}")
        self.field.setEchoMode(QLineEdit.Password)
        self.field.setToolTip(credential.hint)
        self.show_button = QPushButton("Show", parent)
        self.show_button.setCheckable(True)
        self.save_button = QPushButton("Save", parent)
        self.delete_button = QPushButton("Delete", parent)
        self.state = QLabel(parent)
        self.state.setMinimumWidth(120)
        for column, widget in enumerate((self.label, self.field, self.show_button, self.save_button,
                                         self.delete_button, self.state)):
            grid.addWidget(widget, row, column)
        grid.setColumnStretch(1, 1)
        self.field.textEdited.connect(self._edited)
        connect(self.field.returnPressed, self.save)
        self.show_button.toggled.connect(lambda on: run_task(self.show(on)))
        connect(self.save_button.clicked, self.save)
        self.delete_button.clicked.connect(self._confirm_delete)
        self._paint()

    # ---- reading -------------------------------------------------------------------------------

    async def load(self) -> None:
        """Whether the secret is set (and when it was issued), read off the loop; the value is not read."""
        secrets = self.context.secrets
        try:
            self.stored = await asyncio.to_thread(lambda: secrets.get(self.name) is not None)
            if self.credential.lifetime is not None:
                self.issued_at = await asyncio.to_thread(secrets.issued_at, self.name)
        except KeyringUnavailable as exc:
            self._say(str(exc), theme.RED)
            return
        self._paint()

    async def show(self, on: bool) -> None:
        """Show the stored value in the field (read now), or mask it again."""
        if not on:
            if self._shown_value is not None and self.field.text() == self._shown_value:
                self.field.clear()
            self._shown_value = None
            self.field.setEchoMode(QLineEdit.Password)
            self._paint()
            return
        self.field.setEchoMode(QLineEdit.Normal)
        if self.field.text() or not self.stored:
            return
        try:
            secret = await asyncio.to_thread(self.context.secrets.get, self.name)
        except KeyringUnavailable as exc:
            self._say(str(exc), theme.RED)
            return
        if secret is not None and self.show_button.isChecked():
            self._shown_value = secret.reveal()
            self.field.setText(self._shown_value)
        self._paint()

    # ---- changing ------------------------------------------------------------------------------

    def pending(self) -> bool:
        """A value typed and not saved yet."""
        text = self.field.text()
        return bool(text) and text != self._shown_value

    async def save(self) -> bool:
        """Store the typed value (replacing any); False if there is nothing new or the keyring refused."""
        if not self.pending():
            return False
        value = self.field.text()
        try:
            await asyncio.to_thread(self.context.secrets.set, self.name, value)
        except (KeyringUnavailable, ValueError) as exc:
            self._say(str(exc), theme.RED)
            return False
        self.field.clear()
        self._shown_value = None
        self.show_button.setChecked(False)
        await self.load()
        self._announce()
        self._say("saved", theme.GREEN)
        return True

    def _confirm_delete(self) -> None:
        answer = QMessageBox.question(self.field.window(), "Delete secret",
                                      f"Delete {self.credential.label} ({self.name}) from the keyring?")
        if answer == QMessageBox.Yes:
            run_task(self.delete())

    async def delete(self) -> bool:
        """Remove the secret from the keyring; False if it was not set."""
        try:
            gone = await asyncio.to_thread(self.context.secrets.delete, self.name)
        except KeyringUnavailable as exc:
            self._say(str(exc), theme.RED)
            return False
        self.field.clear()
        self._shown_value = None
        self.show_button.setChecked(False)
        await self.load()
        if gone:
            self._announce()
        return gone

    def _announce(self) -> None:
        self.context.bridge.publish(SecretChanged(self.name))
        self._on_change(self.name)

    # ---- showing -------------------------------------------------------------------------------

    def _edited(self, _text: str) -> None:
        self.save_button.setEnabled(self.pending())

    def _paint(self) -> None:
        self.field.setPlaceholderText("stored in the keyring: type to replace" if self.stored else "not set")
        self.save_button.setEnabled(self.pending())
        self.delete_button.setEnabled(self.stored)
        self.show_button.setEnabled(self.stored or bool(self.field.text()))
        if not self.stored:
            self._say("not set", theme.MUTED)
            return
        expiry = expires_at(self.name, self.issued_at)
        if expiry is None:
            self._say("set" if self.credential.lifetime is None else "set (issue time unknown)", theme.GREEN)
            return
        now = utc_now()
        color = theme.RED if now >= expiry else theme.AMBER if now >= expiry - EXPIRY_WARNING else theme.GREEN
        self._say(f"set · {time_left(expiry, now)}", color)
        self.state.setToolTip(f"issued {self.issued_at:%Y-%m-%d %H:%M} UTC, runs out {expiry:%Y-%m-%d %H:%M} UTC")

    def _say(self, text: str, color: str) -> None:
        self.state.setText(text)
        self.state.setStyleSheet(f"color: {color}")


class SecretRows:
    """The rows of several secrets in one grid (one form's section)."""

    def __init__(self, context: DockContext, names: tuple[str, ...], grid: QGridLayout,
                 on_change: Callable[[str], None] | None = None) -> None:
        self.rows = {name: SecretRow(context, BY_NAME[name], grid, index, on_change)
                     for index, name in enumerate(names)}

    def __getitem__(self, name: str) -> SecretRow:
        return self.rows[name]

    async def load(self) -> None:
        await asyncio.gather(*(row.load() for row in self.rows.values()))

    async def save_pending(self) -> bool:
        """Store every typed value (before a test that needs them); False if one could not be stored."""
        results = [await row.save() for row in self.rows.values() if row.pending()]
        return all(results)


def grid_of(widget: QWidget, name: str) -> QGridLayout:
    """The named grid layout of a loaded form."""
    found = widget.findChild(QGridLayout, name)
    if found is None:
        raise LookupError(f"form {widget.objectName()} has no grid layout {name!r}")
    return found
