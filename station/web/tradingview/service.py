"""The webhook component: passphrase, live settings, routes, journal, and strategy signals.

It journals what arrives (TradingView over HTTP, strategies through `RecordSignal`)
and publishes `AlertReceived` after each commit; routing is the oms's job.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any, Callable
from urllib.parse import quote

from station.bus import Bus
from station.domain.alert import Alert
from station.domain.commands import RecordSignal
from station.domain.enums import AlertStatus
from station.domain.events import AlertDuplicated, AlertReceived, ConfigChanged
from station.domain.timeutil import utc_now
from station.store.alerts_repo import AlertJournal, Appended, iso
from station.store.config_repo import ConfigRepository
from station.store.database import Store
from station.secrets import Secret, SecretStore, random_token
from station.web.tradingview.dedup import fingerprint
from station.web.tradingview.endpoint import add_routes
from station.web.tradingview.intake import AlertIntake
from station.web.server import Receiver

log = logging.getLogger("station.web")

PASSPHRASE = "webhook-passphrase"


class WebhookService:
    """Receives alerts: `/webhook` routes, de-duplication, limits, the durable journal."""

    name = "webhook"

    def __init__(self, bus: Bus, store: Store, config: ConfigRepository, secrets: SecretStore,
                 receiver: Receiver, *, announce: Callable[[str], None] | None = None) -> None:
        self.bus, self.config, self.secrets, self.receiver = bus, config, secrets, receiver
        self._announce = announce
        self.journal = AlertJournal(store, on_committed=self._committed)
        self.intake = AlertIntake(self.journal, None, on_duplicate=self._duplicated,
                                  reload_passphrase=self._read_passphrase)
        self.settings: dict[str, Any] = {}
        self._revision: int | None = None
        self.intake.refresh_strategies = self._refresh_if_changed
        self.passphrase_created = False
        add_routes(receiver.app, self.intake)
        self._unsubscribe = [bus.subscribe(ConfigChanged, self._on_config_changed),
                             bus.subscribe(RecordSignal, self._on_record_signal)]

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
            intake.dedup.load(self.journal.fingerprints_since(utc_now() - timedelta(seconds=window)))
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

    # ---- journal and bus -----------------------------------------------------------------------

    def _committed(self, alerts: list[Alert]) -> None:
        publish = self.bus.publish
        for alert in alerts:  # no log line per alert: the journal and the Alerts dock are the record
            publish(AlertReceived(alert))

    def _duplicated(self, original_id: int, alert: Alert) -> None:
        self.bus.publish(AlertDuplicated(original_id, alert.ticker, alert.received_at))

    async def _on_record_signal(self, command: RecordSignal) -> Appended:
        """Journal a strategy's signal once per signal id; new ones are published as AlertReceived."""
        alert = replace(command.alert, source="strategy", alert_id=None, status=AlertStatus.QUEUED)
        summary = {"strategy": alert.strategy, "ticker": alert.ticker, "action": str(alert.action),
                   "qty": None if alert.qty is None else str(alert.qty),
                   "price": None if alert.price is None else str(alert.price),
                   "trade_id": alert.trade_id, "time": iso(alert.sent_at), "instrument": alert.extra.get("instrument")}
        raw = json.dumps({k: v for k, v in summary.items() if v is not None}, sort_keys=True)
        appended = await self.journal.append(alert, raw=raw, fingerprint=fingerprint(f"signal:{alert.strategy}", raw))
        if not appended.new:
            log.info("signal %s was journaled before (alert %d); not again", alert.trade_id, appended.alert_id)
        return appended
