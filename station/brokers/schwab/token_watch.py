"""A Schwab refresh token lasts 7 days from the browser login: say so 24 h before, and when it has run out.

The issue time is stored beside the token in the keyring (`SecretStore.issued_at`). The
watch looks every few minutes and at once when the token changes, and publishes one
`Notified` of kind `schwab-token-expiry` per token and stage: the tray shows it, e-mail
and chat send it when enabled.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Callable

from station.bus import Bus
from station.domain.credentials import EXPIRY_WARNING, expires_at
from station.domain.events import BrokerAuthorized, Notified, SecretChanged
from station.domain.timeutil import to_eastern, utc_now
from station.secrets import KeyringUnavailable, SecretStore

log = logging.getLogger("station.brokers")

REFRESH_TOKEN = "schwab-refresh-token"
KIND = "schwab-token-expiry"
CHECK_EVERY_S = 600.0
HOW = "Accounts & keys → Schwab → Authorize… (or `station broker authorize schwab`)"


class SchwabTokenWatch:
    """Component `schwab-token-watch`: notifies before and at the refresh token's expiry."""

    name = "schwab-token-watch"

    def __init__(self, bus: Bus, secrets: SecretStore, *, clock: Callable[[], datetime] = utc_now,
                 check_every_s: float = CHECK_EVERY_S) -> None:
        self.bus, self.secrets, self.clock, self.check_every_s = bus, secrets, clock, check_every_s
        self._said: set[tuple[datetime, str]] = set()  # (issue time, stage) already notified
        self._task: asyncio.Task | None = None
        self._unsubscribe: list = []

    async def start(self) -> None:
        self._unsubscribe = [self.bus.subscribe(SecretChanged, self._on_secret),
                             self.bus.subscribe(BrokerAuthorized, self._on_authorized)]
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.check_every_s)

    async def _on_secret(self, event: SecretChanged) -> None:
        if event.name == REFRESH_TOKEN:
            await self.check()

    async def _on_authorized(self, event: BrokerAuthorized) -> None:
        if event.ok:
            await self.check()

    async def check(self) -> str | None:
        """Notify if the token is within a day of its expiry or past it; the stage notified now, if any."""
        try:
            issued = await asyncio.to_thread(self.secrets.issued_at, REFRESH_TOKEN)
        except KeyringUnavailable as exc:
            log.warning("cannot read the Schwab refresh token's issue time: %s", exc)
            return None
        expiry = expires_at(REFRESH_TOKEN, issued)
        if expiry is None:
            return None
        now = self.clock()
        stage = "expired" if now >= expiry else "expiring" if now >= expiry - EXPIRY_WARNING else None
        if stage is None or (issued, stage) in self._said:
            return None
        self._said.add((issued, stage))
        when = to_eastern(expiry).strftime("%a %Y-%m-%d %H:%M %Z")
        if stage == "expired":
            self.bus.publish(Notified("Schwab login expired", f"The Schwab refresh token ran out on {when}: Schwab "
                                      f"orders cannot be sent until you log in again: {HOW}.", "error", KIND))
        else:
            hours = max(1, round((expiry - now).total_seconds() / 3600))
            self.bus.publish(Notified("Schwab login expires soon", f"The Schwab refresh token runs out on {when} "
                                      f"(in about {hours} h). Log in again before then: {HOW}.", "warning", KIND))
        return stage
