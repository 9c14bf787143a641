"""The webhook Settings dialog (forms/webhook_settings.ui): de-dup window, delay, limits, allow-list, tunnel.

Saving goes through the same checks as `station config import`; an error names
the setting and nothing is applied. The running receiver applies a saved change
at once: the save is announced with `ConfigChanged`, on which the webhook re-reads its settings.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QLabel, QLineEdit,
                               QPlainTextEdit, QPushButton, QWidget)

from station.domain.validation import ConfigError
from station.ui.context import DockContext
from station.ui.forms import child, load_form
from station.ui.slots import connect

# the addresses TradingView sends webhooks from (its documentation), for the allow-list
TRADINGVIEW_ADDRESSES = ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7")
OSPX_RATE_LIMITS = ["50 per hour", "200 per day"]
CUSTOM = "Custom"
PRESETS = {
    "Flood guard: 50 per second (default)": ["50 per second"],
    "0SPX: 50 per hour, 200 per day": OSPX_RATE_LIMITS,
    "Off: no limit": [],
}


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class WebhookSettings:
    """Controller of the settings dialog."""

    def __init__(self, context: DockContext, parent: QWidget | None = None,
                 on_saved: Callable[[], None] | None = None) -> None:
        self.context = context
        self._on_saved = on_saved or (lambda: None)
        self.dialog: QDialog = load_form("webhook_settings", parent)
        d = self.dialog
        self.dedup_window = child(d, QDoubleSpinBox, "dedupWindow")
        self.delay = child(d, QDoubleSpinBox, "delay")
        self.preset = child(d, QComboBox, "ratePreset")
        self.rate_limits = child(d, QLineEdit, "rateLimits")
        self.failed_limits = child(d, QLineEdit, "failedLimits")
        self.allowlist_on = child(d, QCheckBox, "allowlistOn")
        self.allowlist = child(d, QPlainTextEdit, "allowlist")
        self.behind_tunnel = child(d, QCheckBox, "behindTunnel")
        self.errors = child(d, QLabel, "errors")
        self.preset.addItems([CUSTOM, *PRESETS])

        settings = context.queries.config.settings("webhook")
        self.dedup_window.setValue(float(settings["dedup_window_s"]))
        self.delay.setValue(float(settings["delay_s"]))
        self.rate_limits.setText(", ".join(settings["rate_limits"]))
        self.failed_limits.setText(", ".join(settings["failed_passphrase_limits"]))
        self.allowlist_on.setChecked(bool(settings["allowlist"]))
        self.allowlist.setPlainText("\n".join(settings["allowlist"]))
        self.allowlist.setEnabled(bool(settings["allowlist"]))
        self.behind_tunnel.setChecked(settings["behind_tunnel"])
        self._match_preset()

        self.preset.currentTextChanged.connect(self._apply_preset)
        self.rate_limits.textEdited.connect(self._match_preset)
        self.allowlist_on.toggled.connect(self.allowlist.setEnabled)
        connect(child(d, QPushButton, "tradingviewAddresses").clicked, self._tradingview_addresses)
        buttons = child(d, QDialogButtonBox, "buttons")
        connect(buttons.accepted, self.save)

    def values(self) -> dict:
        """The settings as the dialog shows them."""
        return {
            "dedup_window_s": self.dedup_window.value(),
            "delay_s": self.delay.value(),
            "rate_limits": _split(self.rate_limits.text()),
            "failed_passphrase_limits": _split(self.failed_limits.text()),
            "allowlist": _split(self.allowlist.toPlainText()) if self.allowlist_on.isChecked() else [],
            "behind_tunnel": self.behind_tunnel.isChecked(),
        }

    async def save(self) -> bool:
        """Check and store the settings; on an error say which one and keep the dialog open."""
        try:
            await self.context.edits.update_settings("webhook", self.values())
        except ConfigError as exc:
            self.errors.setText("Not saved: " + "; ".join(
                f"{path.removeprefix('settings.webhook.')}: {why}" for path, why in exc.errors.items()))
            return False
        self._on_saved()
        self.dialog.accept()
        return True

    def _apply_preset(self, name: str) -> None:
        if name in PRESETS:
            self.rate_limits.setText(", ".join(PRESETS[name]))

    def _match_preset(self) -> None:
        current = _split(self.rate_limits.text())
        name = next((name for name, limits in PRESETS.items() if limits == current), CUSTOM)
        self.preset.blockSignals(True)
        self.preset.setCurrentText(name)
        self.preset.blockSignals(False)

    def _tradingview_addresses(self) -> None:
        self.allowlist_on.setChecked(True)
        self.allowlist.setPlainText("\n".join(TRADINGVIEW_ADDRESSES))
