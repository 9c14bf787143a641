"""Notifications in the window: the tray (or the status bar where there is no tray), and the
Settings dialog for the REST API token and e-mail (forms/api_notifications.ui)."""

from __future__ import annotations

import asyncio

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

from station.domain.events import Notified
from station.paths import resources_dir
from station.domain.validation import ConfigError
from station.ui import theme
from station.ui.bridge import UiBridge
from station.ui.forms import child, load_form

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

    def __init__(self, station, parent=None) -> None:
        self.station = station
        self.dialog: QDialog = load_form("api_notifications", parent)
        f = lambda kind, name: child(self.dialog, kind, name)  # noqa: E731
        self.token, self.status = f(QLineEdit, "token"), f(QLabel, "status")
        f(QLabel, "url").setText(f"{station.receiver.url}/api/…")
        self.token.setText(station.rest.token.current_value())
        f(QPushButton, "showToken").toggled.connect(
            lambda on: self.token.setEchoMode(QLineEdit.Normal if on else QLineEdit.Password))
        f(QPushButton, "copyToken").clicked.connect(self.copy_token)
        f(QPushButton, "regenerate").clicked.connect(lambda: asyncio.ensure_future(self.regenerate()))
        self.enabled, self.host, self.port = f(QCheckBox, "emailEnabled"), f(QLineEdit, "smtpHost"), f(QSpinBox, "smtpPort")
        self.security, self.user = f(QComboBox, "smtpSecurity"), f(QLineEdit, "smtpUsername")
        self.password, self.sender, self.to = f(QLineEdit, "smtpPassword"), f(QLineEdit, "emailFrom"), f(QLineEdit, "emailTo")
        self.level = f(QComboBox, "minLevel")
        self.security.addItems(["starttls", "tls", "none"])
        self.level.addItems(["info", "warning", "error"])
        values = station.config.settings("notifications")
        self.enabled.setChecked(values["email_enabled"])
        self.host.setText(values["smtp_host"])
        self.port.setValue(values["smtp_port"])
        self.security.setCurrentText(values["smtp_security"])
        self.user.setText(values["smtp_username"] or "")
        self.sender.setText(values["email_from"])
        self.to.setText(", ".join(values["email_to"]))
        self.level.setCurrentText(values["min_level"])
        f(QDialogButtonBox, "buttons").accepted.connect(lambda: asyncio.ensure_future(self.save()))
        f(QPushButton, "sendTest").clicked.connect(lambda: asyncio.ensure_future(self.send_test()))

    def copy_token(self) -> None:
        QGuiApplication.clipboard().setText(self.station.rest.token.current_value())
        self._say("Token copied to the clipboard.", theme.GREEN)

    async def regenerate(self) -> None:
        await self.station.rest.token.regenerate()
        self.token.setText(self.station.rest.token.current_value())
        self._say("A new token is in use; scripts need it now.", theme.AMBER)

    def values(self) -> dict:
        return {"email_enabled": self.enabled.isChecked(), "smtp_host": self.host.text().strip() or "localhost",
                "smtp_port": self.port.value(), "smtp_security": self.security.currentText(),
                "smtp_username": self.user.text().strip() or None, "email_from": self.sender.text().strip(),
                "email_to": [a.strip() for a in self.to.text().split(",") if a.strip()],
                "min_level": self.level.currentText()}

    async def save(self) -> bool:
        try:
            await self.station.config.update_settings("notifications", self.values())
        except ConfigError as exc:
            self._say("; ".join(f"{k.split('.')[-1]}: {v}" for k, v in exc.errors.items()), theme.RED)
            return False
        if self.password.text():
            await asyncio.to_thread(self.station.secrets.set, "smtp-password", self.password.text())
            self.password.clear()
        self._say("Saved.", theme.GREEN)
        return True

    async def send_test(self) -> bool:
        if not await self.save():
            return False
        ok = await self.station.email.send([Notified("Test", "E-mail notifications work.", "info")])
        self._say("Test e-mail sent." if ok else f"Sending failed: {self.station.email.last_error}",
                  theme.GREEN if ok else theme.RED)
        return ok

    def _say(self, text: str, color: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {color}")
