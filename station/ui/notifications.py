"""Notifications in the window: the tray (or the status bar where there is no tray), and the
Settings dialog for the REST API token and e-mail (forms/api_notifications.ui).

The dialog reads the token from the keyring (in a worker thread), asks the REST API to
renew it (`RenewSecret`, answered by `SecretChanged`) and the e-mail notifier to send a
test (`SendTestNotification`, answered by `NotificationTested`).
"""

from __future__ import annotations

import asyncio
import uuid

from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QSystemTrayIcon,
)

from station.domain.commands import RenewSecret, SendTestNotification
from station.domain.events import NotificationTested, Notified, SecretChanged
from station.domain.validation import ConfigError
from station.paths import resources_dir
from station.secrets import Secret
from station.ui import theme
from station.ui.bridge import UiBridge
from station.ui.context import DockContext
from station.ui.forms import child, load_form
from station.ui.slots import connect, run_task

API_TOKEN, SMTP_PASSWORD = "api-token", "smtp-password"  # the secrets' names (CONTRACT.md: `station secret set`)
RENEW_TIMEOUT_S = 10.0
TEST_TIMEOUT_S = 30.0  # the notifier gives up on a server after 15 s

ICONS = {"info": QSystemTrayIcon.Information, "warning": QSystemTrayIcon.Warning, "error": QSystemTrayIcon.Critical}


class TrayNotifier:
    """Shows each notification as a desktop (tray) message; the status bar when no tray is available."""

    def __init__(self, window: QMainWindow, bridge: UiBridge) -> None:
        self.window = window
        self.shown: list[Notified] = []
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(QIcon(str(resources_dir() / "icons" / "station.svg")), window)
            self.tray.setToolTip("Station")
            self.tray.activated.connect(lambda *_: (window.showNormal(), window.raise_(), window.activateWindow()))
            self.tray.show()
        bridge.on(Notified, self.show)

    def show(self, batch: list[Notified]) -> None:
        self.shown.extend(batch)
        del self.shown[:-200]
        last = batch[-1]
        more = f" (+{len(batch) - 1} more)" if len(batch) > 1 else ""
        if self.tray is not None and self.tray.supportsMessages():
            self.tray.showMessage(f"Station: {last.title}{more}", last.message, ICONS.get(last.level, ICONS["info"]), 8000)
        else:
            self.window.statusBar().showMessage(f"{last.title}: {last.message}{more}", 15000)


class ApiNotificationsDialog:
    """Shows (and can renew) the REST API token; edits the e-mail settings, password to the keyring."""

    def __init__(self, context: DockContext, parent=None) -> None:
        self.context = context
        self._token: Secret | None = None
        self.loading: asyncio.Future | None = None
        self.dialog: QDialog = load_form("api_notifications", parent)
        f = lambda kind, name: child(self.dialog, kind, name)  # noqa: E731
        self.token, self.status = f(QLineEdit, "token"), f(QLabel, "status")
        f(QLabel, "url").setText(f"{context.info.receiver_url}/api/…")
        f(QPushButton, "showToken").toggled.connect(
            lambda on: self.token.setEchoMode(QLineEdit.Normal if on else QLineEdit.Password))
        connect(f(QPushButton, "copyToken").clicked, self.copy_token)
        connect(f(QPushButton, "regenerate").clicked, self.regenerate)
        self.enabled, self.host, self.port = f(QCheckBox, "emailEnabled"), f(QLineEdit, "smtpHost"), f(QSpinBox, "smtpPort")
        self.security, self.user = f(QComboBox, "smtpSecurity"), f(QLineEdit, "smtpUsername")
        self.password, self.sender, self.to = f(QLineEdit, "smtpPassword"), f(QLineEdit, "emailFrom"), f(QLineEdit, "emailTo")
        self.level = f(QComboBox, "minLevel")
        self.security.addItems(["starttls", "tls", "none"])
        self.level.addItems(["info", "warning", "error"])
        values = context.queries.config.settings("notifications")
        self.enabled.setChecked(values["email_enabled"])
        self.host.setText(values["smtp_host"])
        self.port.setValue(values["smtp_port"])
        self.security.setCurrentText(values["smtp_security"])
        self.user.setText(values["smtp_username"] or "")
        self.sender.setText(values["email_from"])
        self.to.setText(", ".join(values["email_to"]))
        self.level.setCurrentText(values["min_level"])
        connect(f(QDialogButtonBox, "buttons").accepted, self.save)
        connect(f(QPushButton, "sendTest").clicked, self.send_test)

    def open(self) -> asyncio.Future:
        """Open the dialog and read the token (a future done once it is shown)."""
        self.dialog.open()
        self.loading = run_task(self.load_token())
        return self.loading

    async def load_token(self) -> None:
        """Read the API token from the keyring, off the loop (a keyring may block)."""
        self._token = await asyncio.to_thread(self.context.secrets.get, API_TOKEN)
        self.token.setText(self._token.reveal() if self._token else "")

    def copy_token(self) -> None:
        QGuiApplication.clipboard().setText(self._token.reveal() if self._token else "")
        self._say("Token copied to the clipboard.", theme.GREEN)

    async def regenerate(self) -> bool:
        """Ask the REST API for a new token; once it is in force (`SecretChanged`), show it."""
        bridge = self.context.bridge
        if not bridge.handles(RenewSecret):
            self._say("The REST API is not running: the token cannot be renewed now.", theme.RED)
            return False
        changed = bridge.answer(SecretChanged, lambda event: event.name == API_TOKEN)
        bridge.publish(RenewSecret(API_TOKEN))
        try:
            await asyncio.wait_for(changed, RENEW_TIMEOUT_S)
        except asyncio.TimeoutError:
            self._say("The REST API did not confirm a new token; the one shown is still in force.", theme.RED)
            return False
        await self.load_token()
        self._say("A new token is in use; scripts need it now.", theme.AMBER)
        return True

    def values(self) -> dict:
        return {"email_enabled": self.enabled.isChecked(), "smtp_host": self.host.text().strip() or "localhost",
                "smtp_port": self.port.value(), "smtp_security": self.security.currentText(),
                "smtp_username": self.user.text().strip() or None, "email_from": self.sender.text().strip(),
                "email_to": [a.strip() for a in self.to.text().split(",") if a.strip()],
                "min_level": self.level.currentText()}

    async def save(self) -> bool:
        try:
            await self.context.edits.update_settings("notifications", self.values())
        except ConfigError as exc:
            self._say("; ".join(f"{k.split('.')[-1]}: {v}" for k, v in exc.errors.items()), theme.RED)
            return False
        if self.password.text():
            await asyncio.to_thread(self.context.secrets.set, SMTP_PASSWORD, self.password.text())
            self.password.clear()
            self.context.bridge.publish(SecretChanged(SMTP_PASSWORD))
        self._say("Saved.", theme.GREEN)
        return True

    async def send_test(self) -> bool:
        """Save, then have the e-mail notifier send a test message with these settings."""
        if not await self.save():
            return False
        bridge, request = self.context.bridge, uuid.uuid4().hex
        if not bridge.handles(SendTestNotification):
            self._say("E-mail notifications are not running.", theme.RED)
            return False
        answered = bridge.answer(NotificationTested, lambda event: event.request_id == request)
        bridge.publish(SendTestNotification(request))
        self._say("Sending a test e-mail…", theme.MUTED)
        try:
            result = await asyncio.wait_for(answered, TEST_TIMEOUT_S)
        except asyncio.TimeoutError:
            self._say("No answer from the e-mail notifier.", theme.RED)
            return False
        self._say("Test e-mail sent." if result.ok else f"Sending failed: {result.error}",
                  theme.GREEN if result.ok else theme.RED)
        return result.ok

    def _say(self, text: str, color: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {color}")
