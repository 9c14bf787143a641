"""The "TradingView setup" dialog (forms/tradingview_setup.ui): URL, passphrase, alert messages, a test.

Everything a trader pastes into TradingView in one place: the webhook URL (local, and
the public tunnel address they paste; `/webhook` or `/v4/webhook`, the passphrase in the
message or in the URL), the passphrase (copy, regenerate), a ready message for each
payload dialect, and a button that sends a real test alert for a ticker the trader's
strategy lists, through the receiver, and says how it was routed.

The passphrase is read from the keyring (in a worker thread) when the dialog opens;
regenerating asks its owner with `RenewSecret` and reads it again on `SecretChanged`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QLabel, QLineEdit, QMessageBox, QPlainTextEdit,
                               QPushButton, QWidget)

from station.domain.commands import RenewSecret
from station.domain.events import SecretChanged
from station.domain.validation import ConfigError, Invalid, http_url
from station.secrets import Secret
from station.ui import theme
from station.ui.context import DockContext
from station.ui.forms import child, load_form
from station.ui.tradingview_test_alert import NONE_CONFIGURED, routing_of, test_body, test_target
from station.ui.tradingview_messages import ANY_STRATEGY, DIALECTS, HINT, PATHS, message_for, webhook_url
from station.ui.slots import connect, run_task

__all__ = ["TradingViewSetup", "webhook_url", "message_for", "DIALECTS"]

log = logging.getLogger("station.ui")

PASSPHRASE = "webhook-passphrase"  # the secret's name (CONTRACT.md: `station secret set webhook-passphrase`)
ANSWER_TIMEOUT_S = 10.0

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
        self.path_form = child(d, QComboBox, "pathForm")
        self.passphrase_in = child(d, QComboBox, "passphraseIn")
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
        for path in PATHS:
            self.path_form.addItem(path, path)
        self.passphrase_in.addItem("passphrase in the message", "message")
        self.passphrase_in.addItem("passphrase in the URL (?passphrase=…)", "url")
        self.public_url.setText(self._saved_public_url())

        self.strategy.currentIndexChanged.connect(self.refresh)
        self.path_form.currentIndexChanged.connect(self.refresh)
        self.passphrase_in.currentIndexChanged.connect(self.refresh)
        connect(self.public_url.editingFinished, self.save_public_url)
        self.show_passphrase.toggled.connect(self.refresh)
        self.dialect.currentIndexChanged.connect(self.refresh)
        child(d, QPushButton, "copyLocalUrl").clicked.connect(lambda: self._copy(self.url(local=True, reveal=True)))
        child(d, QPushButton, "copyWebhookUrl").clicked.connect(lambda: self._copy(self.url(local=False, reveal=True)))
        child(d, QPushButton, "copyPassphrase").clicked.connect(lambda: self._copy(self._passphrase()))
        child(d, QPushButton, "copyMessage").clicked.connect(lambda: self._copy(self.message_text(reveal=True)))
        child(d, QPushButton, "regeneratePassphrase").clicked.connect(self._confirm_regenerate)
        self.send_test_button.clicked.connect(self._confirm_test)
        self.refresh()

    def show(self) -> asyncio.Future:
        """Show the dialog and read the passphrase (a future done once it is shown)."""
        self.dialog.show()
        self.loading = run_task(self.load_passphrase())
        return self.loading

    async def load_passphrase(self) -> None:
        """Read the passphrase from the keyring (off the loop: a keyring may block) and show it."""
        self._secret = await asyncio.to_thread(self.context.secrets.get, PASSPHRASE)
        self.refresh()

    def _passphrase(self) -> str:
        return self._secret.reveal() if self._secret is not None else ""

    def _saved_public_url(self) -> str:
        return self.context.queries.config.settings("webhook").get("public_url") or ""

    @property
    def in_url(self) -> bool:
        """The passphrase travels in the URL's query, not in the message."""
        return self.passphrase_in.currentData() == "url"

    def url(self, *, local: bool, reveal: bool) -> str:
        """The webhook URL in the chosen form (local or public; "" without a public address); masked unless `reveal`."""
        root = self.info.receiver_url if local else self.public_url.text().strip()
        if not root:
            return ""
        url = webhook_url(root, self.strategy.currentData(), path=self.path_form.currentData() or PATHS[0],
                          passphrase=self._passphrase() if self.in_url and reveal else None)
        return url + ("?passphrase=" + "•" * 12 if self.in_url and not reveal else "")

    def message_text(self, *, reveal: bool) -> str:
        """The selected dialect's message; the passphrase masked unless `reveal` (left out when it is in the URL)."""
        passphrase = None if self.in_url else self._passphrase() if reveal else "•" * 12
        return message_for(self.dialect.currentData() or 1, passphrase)

    def refresh(self) -> None:
        """Show URLs, passphrase and message for the current choices."""
        shown = self.show_passphrase.isChecked()
        self.local_url.setText(self.url(local=True, reveal=shown))
        self.local_url.setCursorPosition(0)
        public = self.public_url.text().strip()
        if public:
            self.webhook_url.setText(self.url(local=False, reveal=shown))
            self.webhook_url.setCursorPosition(0)
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
            run_task(self.regenerate())

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

    def _confirm_test(self) -> None:
        target = test_target(self.context.queries.config.load(), self.strategy.currentData())
        if target is None:
            run_task(self.send_test_alert())  # says that nothing is configured
            return
        answer = QMessageBox.question(self.dialog, "Send test alert",
                                      f"Send a test alert: {target.summary}. It is routed like any alert: a broker "
                                      "destination places a real order. Send it?")
        if answer == QMessageBox.Yes:
            run_task(self.send_test_alert())

    async def send_test_alert(self) -> str:
        """Post a real "buy 1" alert for a ticker the strategy lists, as TradingView would, and show its routing."""
        import aiohttp

        target = test_target(self.context.queries.config.load(), self.strategy.currentData())
        if target is None:
            self.test_result.setText(f'<span style="color:{theme.AMBER}">{NONE_CONFIGURED}</span>')
            return self.test_result.text()
        passphrase = self._passphrase()
        url = self.url(local=True, reveal=True)
        body = test_body(target, None if self.in_url else passphrase)
        self.send_test_button.setEnabled(False)
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
                async with session.post(url, json=body) as response:
                    answer = await response.json(content_type=None)
            if response.status == 200 and answer.get("status") == "success":
                text = await self._followed(answer["alert_id"], target)
            elif response.status == 200:
                text = (f'<span style="color:{theme.AMBER}">{answer["message"]} (alert #{answer["alert_id"]}): '
                        "send it again in a minute</span>")
            else:
                text = f'<span style="color:{theme.RED}">✘ {response.status}: {answer.get("message")}</span>'
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            text = f'<span style="color:{theme.RED}">✘ the receiver did not answer: {exc or type(exc).__name__}</span>'
        finally:
            self.send_test_button.setEnabled(True)
        self.test_result.setText(text)
        return text

    async def _followed(self, alert_id: int, target) -> str:
        """What became of the test alert: routed (green), unrouted or rejected (with the reason)."""
        outcome = await routing_of(self.context.bridge, self.context.queries, alert_id)
        head = f"Alert queued (alert #{alert_id}, {target.ticker} → {target.strategy})"
        if outcome is None:
            return f'<span style="color:{theme.AMBER}">✔ {head}; not routed yet — see the Alerts dock</span>'
        if outcome.status == "routed":
            orders = "" if outcome.orders is None else f": {outcome.orders} order{'s' if outcome.orders != 1 else ''}"
            return f'<span style="color:{theme.GREEN}">✔ {head}, routed{orders}</span> — see the Alerts and Orders docks'
        return f'<span style="color:{theme.RED}">✘ {head}, {outcome.status}: {outcome.reason}</span>'

    @staticmethod
    def _copy(text: str) -> None:
        QGuiApplication.clipboard().setText(text)
