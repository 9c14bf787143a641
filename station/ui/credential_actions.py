"""The buttons behind credentials: "Test key" / "Test connection" / "Test login", and Schwab's "Authorize…".

They ask the core by command and show its answer in green or red: `TestCredentials` →
`CredentialsTested`; `AuthorizeBroker` → `BrokerAuthorizationStarted` (the browser opens
Schwab's login; Station's own listener catches the redirect) → `BrokerAuthorized`. The
address the browser landed on can be pasted instead (`CompleteBrokerAuthorization`).
"""

from __future__ import annotations

import asyncio
import html
import uuid
from typing import Any, Awaitable, Callable

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton

from station.domain.commands import AuthorizeBroker, CompleteBrokerAuthorization, TestCredentials
from station.domain.events import BrokerAuthorizationStarted, BrokerAuthorized, CredentialsTested
from station.ui import theme
from station.ui.bridge import UiBridge
from station.ui.slots import connect

TEST_TIMEOUT_S = 40.0
LOGIN_TIMEOUT_S = 330.0  # a little longer than the core waits for the trader to log in


def say(label: QLabel, text: str, color: str) -> None:
    """Show `text` (plain) in `label`, coloured."""
    label.setText(f'<span style="color:{color}">{html.escape(text)}</span>')


class CredentialTest:
    """One test button: optional preparation (save typed secrets), the command, the answer in a label."""

    def __init__(self, bridge: UiBridge, button: QPushButton, result: QLabel, kind: str,
                 params: Callable[[], dict[str, Any]] = dict,
                 prepare: Callable[[], Awaitable[bool]] | None = None) -> None:
        self.bridge, self.button, self.result, self.kind = bridge, button, result, kind
        self.params, self.prepare = params, prepare
        connect(button.clicked, self.run)

    async def run(self) -> CredentialsTested | None:
        """Run the test; its answer (also shown), or None if it could not be asked."""
        if self.prepare is not None and not await self.prepare():
            say(self.result, "✘ the typed value could not be stored; nothing was tested", theme.RED)
            return None
        if not self.bridge.handles(TestCredentials):
            say(self.result, "✘ Station's checks are not running", theme.RED)
            return None
        request_id = uuid.uuid4().hex
        answered = self.bridge.answer(CredentialsTested, lambda event: event.request_id == request_id)
        self.button.setEnabled(False)
        say(self.result, "testing…", theme.MUTED)
        try:
            self.bridge.publish(TestCredentials(request_id, self.kind, tuple(self.params().items())))
            answer = await asyncio.wait_for(answered, TEST_TIMEOUT_S)
        except asyncio.TimeoutError:
            say(self.result, "✘ no answer", theme.RED)
            return None
        finally:
            self.button.setEnabled(True)
        say(self.result, ("✔ " if answer.ok else "✘ ") + answer.message, theme.GREEN if answer.ok else theme.RED)
        return answer


class SchwabLogin:
    """"Authorize…", the paste-back field and what happened, for one schwab destination (or the defaults)."""

    def __init__(self, bridge: UiBridge, button: QPushButton, paste: QLineEdit, use_pasted: QPushButton,
                 result: QLabel, destination: Callable[[], str | None] = lambda: None,
                 prepare: Callable[[], Awaitable[bool]] | None = None,
                 on_done: Callable[[BrokerAuthorized], None] | None = None) -> None:
        self.bridge, self.button, self.paste, self.use_pasted, self.result = bridge, button, paste, use_pasted, result
        self.destination, self.prepare = destination, prepare
        self.on_done = on_done or (lambda event: None)
        self.open_browser: Callable[[str], object] = lambda url: QDesktopServices.openUrl(QUrl(url))
        self.request_id: str | None = None
        self.started: BrokerAuthorizationStarted | None = None
        connect(button.clicked, self.authorize)
        use_pasted.clicked.connect(self.complete)
        paste.returnPressed.connect(self.complete)
        use_pasted.setEnabled(False)

    async def authorize(self) -> BrokerAuthorized | None:
        """Start the login, open the browser on Schwab's page, wait for Station to catch the redirect."""
        if self.prepare is not None and not await self.prepare():
            say(self.result, "✘ not started: what was typed could not be saved (see the message above)", theme.RED)
            return None
        if not self.bridge.handles(AuthorizeBroker):
            say(self.result, "✘ Schwab logins are not available in this Station", theme.RED)
            return None
        request_id = self.request_id = uuid.uuid4().hex
        started = self.bridge.answer(BrokerAuthorizationStarted, lambda event: event.request_id == request_id)
        done = self.bridge.answer(BrokerAuthorized, lambda event: event.request_id == request_id)
        self.bridge.publish(AuthorizeBroker(request_id, "schwab", self.destination()))
        say(self.result, "starting…", theme.MUTED)
        first, _ = await asyncio.wait([started, done], timeout=TEST_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
        if started in first:
            self._opened(started.result())
            try:
                await asyncio.wait_for(asyncio.shield(done), LOGIN_TIMEOUT_S)
            except asyncio.TimeoutError:
                pass
        else:
            started.cancel()
        if not done.done():
            say(self.result, "✘ no answer from Station's Schwab login", theme.RED)
            return None
        return self._finished(done.result())

    def complete(self) -> None:
        """Hand the pasted address to the login under way."""
        text = self.paste.text().strip()
        if not text or self.request_id is None:
            return
        self.bridge.publish(CompleteBrokerAuthorization(self.request_id, text))
        self.paste.clear()
        say(self.result, "exchanging the code…", theme.MUTED)

    def _opened(self, event: BrokerAuthorizationStarted) -> None:
        self.started = event
        self.use_pasted.setEnabled(True)
        self.open_browser(event.url)
        link = f'<a href="{html.escape(event.url)}">Schwab\'s login page</a>'
        if event.listening:
            text = (f"Log in on {link} (opened in your browser). Station waits for Schwab's answer at "
                    f"{html.escape(event.callback_url)}; if the browser warns about its certificate, continue: "
                    "it is Station's own.")
        else:
            text = (f"Log in on {link} (opened in your browser), then paste the address the browser lands on "
                    f"below. ({html.escape(event.note)})")
        self.result.setText(f'<span style="color:{theme.AMBER}">{text}</span>')

    def _finished(self, event: BrokerAuthorized) -> BrokerAuthorized:
        self.use_pasted.setEnabled(False)
        self.request_id = None
        say(self.result, ("✔ " if event.ok else "✘ ") + event.message, theme.GREEN if event.ok else theme.RED)
        self.on_done(event)
        return event
