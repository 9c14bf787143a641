"""The webhook component: passphrase, live settings, routes; accepted alerts go to the oms's inbox, refused
requests become `RequestRefused` events.

It parses, authenticates, limits and de-duplicates what TradingView sends; the inbox
(`station.oms.inbox`) journals each accepted alert and publishes `AlertReceived` once
it is committed. Routing is the oms's job.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, Callable, Protocol
from urllib.parse import quote

from station.bus import Bus
from station.domain.alert import Alert
from station.domain.config import RoutingConfig
from station.domain.events import AlertDuplicated, ConfigChanged
from station.domain.timeutil import utc_now
from station.oms.inbox import AlertInbox
from station.secrets import Secret, SecretStore, random_token
from station.web.tradingview.endpoint import add_routes
from station.web.tradingview.intake import AlertIntake
from station.web.tradingview.refusals import RefusalRecorder
from station.web.server import Receiver

log = logging.getLogger("station.web")

PASSPHRASE = "webhook-passphrase"


class WebhookConfig(Protocol):
    """What the webhook reads of the config (the config repository): its settings and the strategy names."""

    def revision(self) -> int: ...

    def settings(self, name: str) -> dict[str, Any]: ...

    def load(self) -> RoutingConfig: ...


class WebhookService:
    """Receives alerts: `/webhook` routes, de-duplication, limits; hands accepted alerts to the inbox."""

    name = "webhook"

    def __init__(self, bus: Bus, inbox: AlertInbox, config: WebhookConfig, secrets: SecretStore,
                 receiver: Receiver, *, announce: Callable[[str], None] | None = None) -> None:
        self.bus, self.inbox, self.config, self.secrets, self.receiver = bus, inbox, config, secrets, receiver
        self._announce = announce
        self.intake = AlertIntake(inbox, None, on_duplicate=self._duplicated, reload_passphrase=self._read_passphrase)
        self.settings: dict[str, Any] = {}
        self._revision: int | None = None
        self.intake.refresh_strategies = self._refresh_if_changed
        self.passphrase_created = False
        self.refusals = RefusalRecorder(bus)  # every 4xx: a RequestRefused (recorded by the store) and a log line
        add_routes(receiver.app, self.intake, self.refusals)
        self._unsubscribe = [bus.subscribe(ConfigChanged, self._on_config_changed)]

    # ---- lifetime ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Make sure a passphrase exists (created and shown once if not), load settings and recent alerts."""
        secret, created = await asyncio.to_thread(self.secrets.ensure, PASSPHRASE)
        self.intake.passphrase = secret
        self.passphrase_created = created
        if created:
            log.warning("no webhook passphrase was set: a new one was created (kept in %s)", self.secrets.description)
            if self._announce is not None:
                self._announce(f"Webhook passphrase (created now, shown once; put it in your TradingView alert "
                               f"message as \"passphrase\"): {secret.reveal()}")
        self.apply_settings()

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    # ---- settings ------------------------------------------------------------------------------

    def apply_settings(self) -> None:
        """Read the `webhook` settings and strategy names and apply what changed (live)."""
        self._revision = self.config.revision()
        settings = self.config.settings("webhook")
        old, self.settings = self.settings, settings
        intake = self.intake
        if settings["rate_limits"] != old.get("rate_limits"):
            intake.limiter.configure(settings["rate_limits"])
        if settings["failed_passphrase_limits"] != old.get("failed_passphrase_limits"):
            intake.failures.configure(settings["failed_passphrase_limits"])
        intake.access.configure(settings["allowlist"], settings["behind_tunnel"])
        window = float(settings["dedup_window_s"])
        if window > float(old.get("dedup_window_s", 0)):  # first load, or a longer look back
            intake.dedup.window_s = window
            intake.dedup.load(self.inbox.fingerprints_since(utc_now() - timedelta(seconds=window)))
        intake.dedup.window_s = window
        strategies = [strategy.name for strategy in self.config.load().strategies]
        names = {name.lower(): name for name in reversed(strategies)}  # the first of a case-insensitive clash
        names.update({name: name for name in strategies})
        intake.strategies = names

    def _on_config_changed(self, event: ConfigChanged) -> None:
        self.apply_settings()

    def _refresh_if_changed(self) -> bool:
        """Apply a config change the watcher has not announced yet (the REST API made a strategy just now)."""
        if self._revision is None or self.config.revision() == self._revision:
            return False
        self.apply_settings()
        return True

    # ---- passphrase ----------------------------------------------------------------------------

    @property
    def passphrase(self) -> Secret | None:
        return self.intake.passphrase

    async def regenerate_passphrase(self) -> Secret:
        """A new random passphrase, stored in the keyring and in force at once."""
        secret = await asyncio.to_thread(self.secrets.set, PASSPHRASE, random_token())
        self.intake.passphrase = secret
        log.info("webhook passphrase regenerated")
        return secret

    async def _read_passphrase(self) -> Secret | None:
        return await asyncio.to_thread(self.secrets.get, PASSPHRASE)

    def url(self, strategy: str | None = None, base: str | None = None) -> str:
        """The webhook URL on `base` (default: this receiver), for one strategy or for any."""
        root = (base or self.receiver.url).rstrip("/")
        return f"{root}/webhook" + (f"/{quote(strategy, safe='')}" if strategy else "")

    @property
    def journal(self):
        """The inbox's journal (the Alerts dock still reads it here until it reads through queries)."""
        return self.inbox.journal

    # ---- bus -----------------------------------------------------------------------------------

    def _duplicated(self, original_id: int, alert: Alert) -> None:
        self.bus.publish(AlertDuplicated(original_id, alert.ticker, alert.received_at))
