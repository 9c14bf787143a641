"""The "TradingView setup" dialog (forms/tradingview_setup.ui): URL, passphrase, alert messages, a test.

Everything a trader pastes into TradingView in one place: the webhook URL
(local, and the public tunnel address they paste), the passphrase (copy,
regenerate), a ready message for each payload dialect, and a button that sends
a real test alert through the receiver.

The passphrase is read from the keyring (in a worker thread) when the dialog opens;
regenerating asks its owner with `RenewSecret` and reads it again on `SecretChanged`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Callable
from urllib.parse import quote

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QLabel, QLineEdit, QMessageBox, QPlainTextEdit,
                               QPushButton, QWidget)

from station.domain.commands import RenewSecret
from station.domain.events import SecretChanged
from station.domain.timeutil import utc_now
from station.domain.validation import ConfigError, Invalid, http_url
from station.secrets import Secret
from station.ui import theme
from station.ui.context import DockContext
from station.ui.forms import child, load_form

log = logging.getLogger("station.ui")

PASSPHRASE = "webhook-passphrase"  # the secret's name (CONTRACT.md: `station secret set webhook-passphrase`)
ANSWER_TIMEOUT_S = 10.0

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


def webhook_url(root: str, strategy: str | None = None) -> str:
    """The webhook URL on `root` (the receiver's address, or the public tunnel's), for one strategy or for any."""
    return f"{root.rstrip('/')}/webhook" + (f"/{quote(strategy, safe='')}" if strategy else "")


def message_for(dialect: int, passphrase: str) -> str:
    """The alert message for `dialect` with the passphrase in it (JSON-escaped)."""
    return DIALECTS[dialect][1].replace("PASSPHRASE", json.dumps(passphrase, ensure_ascii=False)[1:-1])


class TradingViewSetup:
    """Controller of the setup dialog."""

    def __init__(self, context: DockContext, parent: QWidget | None = None, *, first_start: bool = False,
                 on_change: Callable[[], None] | None = None) -> None:
        self.context = context
        self.info = context.info
        self._on_change = on_change or (lambda: None)
        self._secret: Secret | None = None
        self.loading: asyncio.Future | None = None
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
        if "MemoryBackend" in self.info.keyring:
            self.notice.setText("<b>A webhook passphrase was created for this run</b> (no keyring is usable, so it is "
                                "kept in memory only). Copy it into your TradingView alert messages below.")

        self.strategy.addItem(ANY_STRATEGY, None)
        for strategy in context.queries.config.load().strategies:
            self.strategy.addItem(strategy.name, strategy.name)
        for number, (label, _) in DIALECTS.items():
            self.dialect.addItem(f"{number}: {label}", number)
        self.public_url.setText(self._saved_public_url())

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

    def show(self) -> asyncio.Future:
        """Show the dialog and read the passphrase (a future done once it is shown)."""
        self.dialog.show()
        self.loading = asyncio.ensure_future(self.load_passphrase())
        return self.loading

    async def load_passphrase(self) -> None:
        """Read the passphrase from the keyring (off the loop: a keyring may block) and show it."""
        self._secret = await asyncio.to_thread(self.context.secrets.get, PASSPHRASE)
        self.refresh()

    def _passphrase(self) -> str:
        return self._secret.reveal() if self._secret is not None else ""

    def _saved_public_url(self) -> str:
        return self.context.queries.config.settings("webhook").get("public_url") or ""

    def message_text(self, *, reveal: bool) -> str:
        """The selected dialect's message; the passphrase masked unless `reveal`."""
        passphrase = self._passphrase() if reveal else "•" * 12
        return message_for(self.dialect.currentData() or 1, passphrase)

    def refresh(self) -> None:
        """Show URLs, passphrase and message for the current choices."""
        strategy = self.strategy.currentData()
        self.local_url.setText(webhook_url(self.info.receiver_url, strategy))
        public = self.public_url.text().strip()
        if public:
            self.webhook_url.setText(webhook_url(public, strategy))
            self.url_hint.setText("Paste this URL into the alert's Notifications → Webhook URL.")
        else:
            self.webhook_url.setText("")
            self.url_hint.setText(
                "TradingView cannot reach 127.0.0.1. Start a tunnel to this port, e.g. "
                f"<code>cloudflared tunnel --url http://127.0.0.1:{self.info.receiver_port}</code>, and paste its "
                "address above; then switch on \"Behind a tunnel\" in Settings.")
        self.passphrase.setText(self._passphrase())
        self.passphrase.setEchoMode(QLineEdit.Normal if self.show_passphrase.isChecked() else QLineEdit.Password)
        self.message.setPlainText(self.message_text(reveal=self.show_passphrase.isChecked()))

    async def save_public_url(self) -> bool:
        """Keep the pasted public address in the settings (it survives restarts)."""
        text = self.public_url.text().strip()
        if text == self._saved_public_url():
            return True
        try:
            value = http_url(text) if text else None
            await self.context.edits.update_settings("webhook", {"public_url": value})
        except (Invalid, ConfigError) as exc:
            self.url_hint.setText(f'<span style="color:{theme.RED}">{exc}</span>')
            return False
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

    async def regenerate(self) -> bool:
        """Ask the webhook for a new passphrase; once it is in force (`SecretChanged`), show it."""
        bridge = self.context.bridge
        if not bridge.handles(RenewSecret):
            self.url_hint.setText(f'<span style="color:{theme.RED}">The webhook is not running: '
                                  "the passphrase cannot be renewed now.</span>")
            return False
        changed = bridge.answer(SecretChanged, lambda event: event.name == PASSPHRASE)
        bridge.publish(RenewSecret(PASSPHRASE))
        try:
            await asyncio.wait_for(changed, ANSWER_TIMEOUT_S)
        except asyncio.TimeoutError:
            self.url_hint.setText(f'<span style="color:{theme.RED}">The webhook did not confirm a new passphrase; '
                                  "the one shown is still in force.</span>")
            return False
        await self.load_passphrase()
        self.notice.hide()
        return True

    async def send_test_alert(self) -> str:
        """Post a real "buy 1 TEST" alert to the local receiver and show its answer."""
        import aiohttp

        strategy = self.strategy.currentData()
        body = {"passphrase": self._passphrase(), "ticker": "TEST", "action": "buy", "qty": 1, "price": 1,
                "trade_id": f"station-test-{utc_now():%Y%m%d%H%M%S%f}", "time": utc_now().isoformat()}
        self.send_test_button.setEnabled(False)
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
                async with session.post(webhook_url(self.info.receiver_url, strategy), json=body) as response:
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
