"""E-mail of notifications through SMTP (aiosmtplib); the password is the keyring secret `smtp-password`.

Notifications at or above the configured level are collected for a moment and
sent as one message, so a burst (a lost broker, ten rejected orders) is one e-mail.
The `notifications` settings are read through the callable `station/app.py` hands in.
"""

from __future__ import annotations

import asyncio
import logging
from email.message import EmailMessage
from typing import Any, Callable

from station.bus import Bus
from station.domain.commands import SendTestNotification
from station.domain.events import Notified, NotificationTested
from station.domain.timeutil import to_eastern, utc_now

log = logging.getLogger("station.notify")

LEVELS = {"info": 0, "warning": 1, "error": 2}
PASSWORD_SECRET = "smtp-password"
BATCH_S = 2.0
TIMEOUT_S = 15.0


class EmailNotifier:
    """Component `email`: logs every notification; e-mails those at or above `min_level` when enabled."""

    name = "email"

    def __init__(self, bus: Bus, settings: Callable[[], dict[str, Any]], secrets, batch_s: float = BATCH_S) -> None:
        self.bus, self.settings, self.secrets = bus, settings, secrets
        self.batch_s = batch_s
        self._queue: list[Notified] = []
        self._flush: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task] = set()
        self.sent = 0
        self.last_error: str | None = None
        self._unsubscribe: list = []

    async def start(self) -> None:
        self._unsubscribe = [self.bus.subscribe(Notified, self.on_notified),
                             self.bus.subscribe(SendTestNotification, self.on_send_test)]

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._flush:
            self._flush.cancel()
            self._send_batch()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=1.0)

    def on_notified(self, event: Notified) -> None:
        level = {"info": logging.INFO, "warning": logging.WARNING}.get(event.level, logging.ERROR)
        log.log(level, "%s: %s", event.title, event.message)
        settings = self.settings()
        if not settings["email_enabled"] or not settings["email_to"]:
            return
        if LEVELS.get(event.level, 2) < LEVELS[settings["min_level"]]:
            return
        self._queue.append(event)
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(self.batch_s, self._send_batch)

    async def on_send_test(self, command: SendTestNotification) -> None:
        """Send a test e-mail with the settings as saved, and say how it went (`NotificationTested`)."""
        ok = await self.send([Notified("Test", "E-mail notifications work.", "info")])
        self.bus.publish(NotificationTested(command.request_id, ok, None if ok else self.last_error))

    def _send_batch(self) -> None:
        self._flush = None
        batch, self._queue = self._queue, []
        if batch:
            task = asyncio.ensure_future(self.send(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def send(self, batch: list[Notified], settings: dict | None = None) -> bool:
        """Send one message for `batch`; False (logged, remembered) if the server refuses."""
        import aiosmtplib

        settings = settings or self.settings()
        message = EmailMessage()
        first = batch[0]
        message["Subject"] = f"Station: {first.title}" + (f" (+{len(batch) - 1} more)" if len(batch) > 1 else "")
        message["From"] = settings["email_from"]
        message["To"] = ", ".join(settings["email_to"])
        stamp = to_eastern(utc_now()).strftime("%Y-%m-%d %H:%M:%S %Z")
        message.set_content("\n".join(f"[{n.level}] {n.title}: {n.message}" for n in batch) + f"\n\n— Station, {stamp}\n")
        password = None
        if settings["smtp_username"]:
            secret = await asyncio.to_thread(self.secrets.get, PASSWORD_SECRET)
            password = secret.reveal() if secret else None
        security = settings["smtp_security"]
        try:
            await aiosmtplib.send(
                message, hostname=settings["smtp_host"], port=settings["smtp_port"],
                username=settings["smtp_username"], password=password, use_tls=security == "tls",
                start_tls=True if security == "starttls" else False, timeout=TIMEOUT_S,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("e-mail to %s failed: %s", message["To"], self.last_error)
            return False
        self.sent += 1
        self.last_error = None
        return True
