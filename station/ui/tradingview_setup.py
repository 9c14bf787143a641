"""The "TradingView setup" dialog (forms/tradingview_setup.ui): URL, passphrase, alert messages, a test.

Everything a trader pastes into TradingView in one place: the webhook URL
(local, and the public tunnel address they paste), the passphrase (copy,
regenerate), a ready message for each payload dialect, and a button that sends
a real test alert through the receiver.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Callable

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QLabel, QLineEdit, QMessageBox, QPlainTextEdit,
                               QPushButton, QWidget)

from station.app import Station
from station.domain.timeutil import utc_now
from station.domain.validation import ConfigError, Invalid, http_url
from station.ui import theme
from station.ui.forms import child, load_form

log = logging.getLogger("station.ui")

ANY_STRATEGY = "Any strategy (routed by ticker)"
# (label, message with TradingView placeholders; PASSPHRASE is replaced, numbers stay unquoted where TradingView fills numbers)
DIALECTS = {
    1: ("ticker · action · qty · price · time", """{
  "passphrase": "PASSPHRASE",
  "ticker": "{{ticker}}",
  "trade_id": "{{strategy.order.id}}",
  "action": "{{strategy.order.action}}",
  "current_position": "{{strategy.prev_market_position}}",
  "qty": {{strategy.order.contracts}},
  "price": {{strategy.order.price}},
  "time": "{{timenow}}"
}"""),
    2: ("order_action · order_contracts · market position (0SPX)", """{
  "passphrase": "PASSPHRASE",
  "ticker": "{{ticker}}",
  "order_action": "{{strategy.order.action}}",
  "order_contracts": "{{strategy.order.contracts}}",
  "order_price": "{{strategy.order.price}}",
  "mar_pos": "{{strategy.market_position}}",
  "mar_pos_size": "{{strategy.market_position_size}}",
  "pre_mar_pos": "{{strategy.prev_market_position}}",
  "pre_mar_pos_size": "{{strategy.prev_market_position_size}}",
  "order_comment": "{{strategy.order.comment}}"
}"""),
    3: ("symbol · action · quantity · price · timestamp", """{
  "passphrase": "PASSPHRASE",
  "symbol": "{{ticker}}",
  "action": "{{strategy.order.action}}",
  "quantity": {{strategy.order.contracts}},
  "price": {{close}},
  "timestamp": "{{timenow}}"
}"""),
}
HINT = ("All three formats are accepted on the same URL. Placeholders in {{…}} are filled by TradingView "
        "when the alert fires; the strategy's order fills give action, contracts and positions.")


def message_for(dialect: int, passphrase: str) -> str:
    """The alert message for `dialect` with the passphrase in it (JSON-escaped)."""
    return DIALECTS[dialect][1].replace("PASSPHRASE", json.dumps(passphrase, ensure_ascii=False)[1:-1])


class TradingViewSetup:
    """Controller of the setup dialog."""

    def __init__(self, station: Station, parent: QWidget | None = None, *, first_start: bool = False,
                 on_change: Callable[[], None] | None = None) -> None:
        self.station = station
        self.webhook = station.webhook
        self._on_change = on_change or (lambda: None)
        self.dialog: QDialog = load_form("tradingview_setup", parent)
        d = self.dialog
        self.notice = child(d, QLabel, "notice")
        self.strategy = child(d, QComboBox, "strategy")
        self.local_url = child(d, QLineEdit, "localUrl")
        self.public_url = child(d, QLineEdit, "publicUrl")
        self.webhook_url = child(d, QLineEdit, "webhookUrl")
        self.url_hint = child(d, QLabel, "urlHint")
        self.passphrase = child(d, QLineEdit, "passphrase")
        self.show_passphrase = child(d, QCheckBox, "showPassphrase")
        self.dialect = child(d, QComboBox, "dialect")
        self.message = child(d, QPlainTextEdit, "message")
        self.message.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))  # JSON reads as code
        self.test_result = child(d, QLabel, "testResult")
        self.send_test_button = child(d, QPushButton, "sendTest")
        child(d, QLabel, "dialectHint").setText(HINT)
        for label in (self.url_hint, child(d, QLabel, "dialectHint")):
            label.setStyleSheet(f"color: {theme.MUTED}")
        self.notice.setVisible(first_start)
        if "MemoryBackend" in station.secrets.description:
            self.notice.setText("<b>A webhook passphrase was created for this run</b> (no keyring is usable, so it is "
                                "kept in memory only). Copy it into your TradingView alert messages below.")

        self.strategy.addItem(ANY_STRATEGY, None)
        for strategy in station.config.load().strategies:
            self.strategy.addItem(strategy.name, strategy.name)
        for number, (label, _) in DIALECTS.items():
            self.dialect.addItem(f"{number}: {label}", number)
        self.public_url.setText(self.webhook.settings.get("public_url") or "")

        self.strategy.currentIndexChanged.connect(self.refresh)
        self.public_url.editingFinished.connect(lambda: asyncio.ensure_future(self.save_public_url()))
        self.show_passphrase.toggled.connect(self.refresh)
        self.dialect.currentIndexChanged.connect(self.refresh)
        child(d, QPushButton, "copyLocalUrl").clicked.connect(lambda: self._copy(self.local_url.text()))
        child(d, QPushButton, "copyWebhookUrl").clicked.connect(lambda: self._copy(self.webhook_url.text()))
        child(d, QPushButton, "copyPassphrase").clicked.connect(lambda: self._copy(self._passphrase()))
        child(d, QPushButton, "copyMessage").clicked.connect(lambda: self._copy(self.message_text(reveal=True)))
        child(d, QPushButton, "regeneratePassphrase").clicked.connect(self._confirm_regenerate)
        self.send_test_button.clicked.connect(lambda: asyncio.ensure_future(self.send_test_alert()))
        self.refresh()

    def _passphrase(self) -> str:
        secret = self.webhook.passphrase
        return secret.reveal() if secret is not None else ""

    def message_text(self, *, reveal: bool) -> str:
        """The selected dialect's message; the passphrase masked unless `reveal`."""
        passphrase = self._passphrase() if reveal else "•" * 12
        return message_for(self.dialect.currentData() or 1, passphrase)

    def refresh(self) -> None:
        """Show URLs, passphrase and message for the current choices."""
        strategy = self.strategy.currentData()
        self.local_url.setText(self.webhook.url(strategy))
        public = self.public_url.text().strip()
        if public:
            self.webhook_url.setText(self.webhook.url(strategy, base=public))
            self.url_hint.setText("Paste this URL into the alert's Notifications → Webhook URL.")
        else:
            self.webhook_url.setText("")
            port = self.station.receiver.port
            self.url_hint.setText(
                "TradingView cannot reach 127.0.0.1. Start a tunnel to this port, e.g. "
                f"<code>cloudflared tunnel --url http://127.0.0.1:{port}</code>, and paste its address above; "
                "then switch on \"Behind a tunnel\" in Settings.")
        self.passphrase.setText(self._passphrase())
        self.passphrase.setEchoMode(QLineEdit.Normal if self.show_passphrase.isChecked() else QLineEdit.Password)
        self.message.setPlainText(self.message_text(reveal=self.show_passphrase.isChecked()))

    async def save_public_url(self) -> bool:
        """Keep the pasted public address in the settings (it survives restarts)."""
        text = self.public_url.text().strip()
        if text == (self.webhook.settings.get("public_url") or ""):
            return True
        try:
            value = http_url(text) if text else None
            await self.station.config.update_settings("webhook", {"public_url": value})
        except (Invalid, ConfigError) as exc:
            self.url_hint.setText(f'<span style="color:{theme.RED}">{exc}</span>')
            return False
        self.webhook.apply_settings()
        self.refresh()
        self._on_change()
        return True

    def _confirm_regenerate(self) -> None:
        answer = QMessageBox.question(
            self.dialog, "Regenerate passphrase",
            "Make a new passphrase? Alerts still sending the old one will be refused (401) until you "
            "update their messages in TradingView.")
        if answer == QMessageBox.Yes:
            asyncio.ensure_future(self.regenerate())

    async def regenerate(self) -> None:
        await self.webhook.regenerate_passphrase()
        self.notice.hide()
        self.refresh()

    async def send_test_alert(self) -> str:
        """Post a real "buy 1 TEST" alert to the local receiver and show its answer."""
        import aiohttp

        strategy = self.strategy.currentData()
        body = {"passphrase": self._passphrase(), "ticker": "TEST", "action": "buy", "qty": 1, "price": 1,
                "trade_id": f"station-test-{utc_now():%Y%m%d%H%M%S%f}", "time": utc_now().isoformat()}
        self.send_test_button.setEnabled(False)
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
                async with session.post(self.webhook.url(strategy), json=body) as response:
                    answer = await response.json(content_type=None)
            if response.status == 200:
                text = (f'<span style="color:{theme.GREEN}">✔ {answer["message"]} (alert #{answer["alert_id"]})</span>'
                        " — see the Alerts dock")
            else:
                text = f'<span style="color:{theme.RED}">✘ {response.status}: {answer.get("message")}</span>'
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            text = f'<span style="color:{theme.RED}">✘ the receiver did not answer: {exc or type(exc).__name__}</span>'
        finally:
            self.send_test_button.setEnabled(True)
        self.test_result.setText(text)
        return text

    @staticmethod
    def _copy(text: str) -> None:
        QGuiApplication.clipboard().setText(text)
