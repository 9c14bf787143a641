"""The door into the order pipeline: alerts, strategy signals and manual clicks all come in here.

Alerts (the webhook hands over what it parsed, authenticated and de-duplicated) and
strategy signals (`RecordSignal`) are journaled as rows of `alerts`; once a row is
committed, and only then, `AlertReceived` is published and the router takes it.
Manual clicks (`ManualOrder`, `ClosePosition`, `ReversePosition`, `ProtectPosition`) come in here too but
are not alert rows: their record is their orders, written with the click's cause
(`m<click_id>`, so a retried click makes nothing new) before the click is answered
(`ManualActionCompleted`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import replace
from datetime import datetime
from typing import Any, Callable

from station.bus import Bus
from station.domain.alert import Alert
from station.domain.commands import ClosePosition, ManualOrder, ProtectPosition, RecordSignal, ReversePosition
from station.domain.enums import AlertStatus
from station.domain.events import AlertReceived
from station.store.alerts_repo import AlertJournal, Appended, iso
from station.store.database import Store

__all__ = ["AlertInbox", "Appended", "signal_fingerprint"]

log = logging.getLogger("station.oms")

Click = ManualOrder | ClosePosition | ReversePosition | ProtectPosition
CLICKS = (ManualOrder, ClosePosition, ReversePosition, ProtectPosition)


def signal_fingerprint(strategy: str | None, raw: str) -> str:
    """The journal fingerprint of a strategy's signal, shaped as the webhook's (a signal is never a duplicate:
    its id makes it unique)."""
    return hashlib.sha256(f"signal:{strategy}\n{raw}".encode("utf-8")).hexdigest()


class AlertInbox:
    """Journals alerts and signals (publishing `AlertReceived` after each commit) and takes manual clicks."""

    def __init__(self, bus: Bus, store: Store, *, on_click: Callable[[Click], Any]) -> None:
        self.bus = bus
        self.journal = AlertJournal(store, on_committed=self._committed)
        self._on_click = on_click
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self) -> None:
        """Take signals and clicks from the bus."""
        self._unsubscribe = [self.bus.subscribe(RecordSignal, self.record_signal)]
        self._unsubscribe += [self.bus.subscribe(kind, self._on_click) for kind in CLICKS]

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    # ---- alerts (the webhook) --------------------------------------------------------------

    def append(self, alert: Alert, *, raw: str, fingerprint: str, source_addr: str | None = None) -> asyncio.Future:
        """Journal an accepted alert; the future gives `Appended` once its row is committed (then it is routed)."""
        return self.journal.append(alert, raw=raw, fingerprint=fingerprint, source_addr=source_addr)

    def fingerprints_since(self, since: datetime) -> list[tuple[str, int, str]]:
        """(fingerprint, alert_id, received_at) of webhook alerts received since `since` (for de-duplication)."""
        return self.journal.fingerprints_since(since)

    def queued(self) -> list[Alert]:
        """Alerts journaled but not routed yet (before a crash, or while the oms was down), oldest first."""
        return self.journal.queued()

    # ---- signals (the engine) --------------------------------------------------------------

    async def record_signal(self, command: RecordSignal) -> Appended:
        """Journal a strategy's signal once per signal id; a new one is published as AlertReceived."""
        alert = replace(command.alert, source="strategy", alert_id=None, status=AlertStatus.QUEUED)
        summary = {"strategy": alert.strategy, "ticker": alert.ticker, "action": str(alert.action),
                   "qty": None if alert.qty is None else str(alert.qty),
                   "price": None if alert.price is None else str(alert.price),
                   "trade_id": alert.trade_id, "time": iso(alert.sent_at), "instrument": alert.extra.get("instrument")}
        raw = json.dumps({k: v for k, v in summary.items() if v is not None}, sort_keys=True)
        appended = await self.journal.append(alert, raw=raw, fingerprint=signal_fingerprint(alert.strategy, raw))
        if not appended.new:
            log.info("signal %s was journaled before (alert %d); not again", alert.trade_id, appended.alert_id)
        return appended

    # ---- after a commit ---------------------------------------------------------------------

    def _committed(self, alerts: list[Alert]) -> None:
        publish = self.bus.publish
        for alert in alerts:  # no log line per alert: the journal and the Alerts dock are the record
            publish(AlertReceived(alert))
