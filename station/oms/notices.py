"""Notices about alerts ("not routed", "rejected"): the first at once, then at most one a second per reason.

A flood of alerts with the same problem (a TradingView alert firing for a ticker no
strategy lists) would otherwise be one tray message, log line and e-mail entry
per alert. The journal and the per-alert events (`AlertUnrouted`, …) stay exact;
only the notices are summed up.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from station.domain.alert import Alert
from station.domain.events import Notified

INTERVAL_S = 1.0

Key = tuple[str, str | None]  # title, reason


class AlertNotices:
    """Publishes one `Notified` per title and reason at most every `interval_s`; alerts meanwhile are held."""

    def __init__(self, publish: Callable[[Notified], None], interval_s: float = INTERVAL_S) -> None:
        self._publish = publish
        self.interval_s = interval_s
        self._held: dict[Key, list[Alert]] = {}  # key -> alerts since its last notice (its window is open)
        self._timers: dict[Key, asyncio.TimerHandle] = {}

    def add(self, title: str, reason: str | None, alerts: list[Alert]) -> None:
        """Tell about `alerts` (all with this title and reason): now, or when the key's window closes."""
        key = (title, reason)
        held = self._held.get(key)
        if held is not None:
            held.extend(alerts)
            return
        self._notify(key, alerts)

    @property
    def quiet(self) -> bool:
        """No window is open: the next notice of any reason is told at once."""
        return not self._timers

    def flush(self) -> None:
        """Publish what is held now (at shutdown) and close every window."""
        for timer in self._timers.values():
            timer.cancel()
        held, self._held, self._timers = self._held, {}, {}
        for key, alerts in held.items():
            if alerts:
                self._publish(Notified(key[0], _about(alerts, key[1]), "warning"))

    def _notify(self, key: Key, alerts: list[Alert]) -> None:
        self._publish(Notified(key[0], _about(alerts, key[1]), "warning"))
        self._held[key] = []
        self._timers[key] = asyncio.get_running_loop().call_later(self.interval_s, self._window_closed, key)

    def _window_closed(self, key: Key) -> None:
        del self._timers[key]
        alerts = self._held.pop(key)
        if alerts:
            self._notify(key, alerts)


def _about(alerts: list[Alert], reason: str | None) -> str:
    """A notice's text for one alert, or for several with the same reason."""
    if len(alerts) == 1:
        return f"Alert {alerts[0].alert_id} ({alerts[0].ticker}): {reason}"
    tickers = sorted({alert.ticker for alert in alerts})
    shown = ", ".join(tickers[:5]) + (f" and {len(tickers) - 5} more" if len(tickers) > 5 else "")
    return f"{len(alerts)} alerts, {alerts[0].alert_id} to {alerts[-1].alert_id} ({shown}): {reason}"
