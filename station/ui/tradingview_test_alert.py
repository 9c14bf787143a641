""""Send test alert": a real alert for a ticker the trader's strategy lists, through the receiver, followed to its routing.

So the first test is green end to end: it is journaled, routed to the strategy's
destinations (their orders are real orders: paper simulates, brokers trade) and the
answer says what became of it. With no strategy listing a ticker, nothing is sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from station.domain.config import RoutingConfig, StrategyConfig, TickerConfig
from station.domain.events import AlertStatusChanged
from station.domain.timeutil import utc_now
from station.queries import Queries
from station.ui.bridge import UiBridge

ROUTING_WAIT_S = 10.0
NONE_CONFIGURED = ("No enabled strategy lists a ticker yet, so a test alert would go nowhere: add a strategy and a "
                   "ticker with a destination (Strategies dock), or import your config (File → Import config…).")


@dataclass(frozen=True)
class TestTarget:
    """The strategy and ticker a test alert goes to, and where its orders would go."""

    __test__ = False  # not a pytest test class, whatever its name

    strategy: str
    ticker: str
    destinations: tuple[str, ...]

    @property
    def summary(self) -> str:
        where = ", ".join(self.destinations) or "no destination (it will be unrouted)"
        return f"buy 1 {self.ticker} for {self.strategy}; its orders go to {where}"


def _destinations(entry: TickerConfig) -> tuple[str, ...]:
    return tuple(f"port:{port}" for port in entry.ports) + tuple(route.destination for route in entry.destinations)


def test_target(config: RoutingConfig, strategy: str | None) -> TestTarget | None:
    """The first enabled ticker of `strategy` (or of the first enabled strategy listing one), or None."""
    candidates: list[StrategyConfig] = [s for s in config.strategies if s.enabled and (strategy is None or s.name == strategy)]
    for candidate in candidates:
        entries = [e for e in candidate.tickers if e.enabled]
        routed = [e for e in entries if _destinations(e)]
        for entry in routed or entries:
            return TestTarget(candidate.name, entry.ticker, _destinations(entry))
    return None


def test_body(target: TestTarget, passphrase: str | None) -> dict:
    """The test alert (dialect 1, quantity 1, no price: brokers trade at market, paper at the feed's price)."""
    body = {"ticker": target.ticker, "action": "buy", "qty": 1, "trade_id": f"station-test-{utc_now():%Y%m%d%H%M%S%f}",
            "time": utc_now().isoformat()}
    return {"passphrase": passphrase, **body} if passphrase is not None else body


@dataclass(frozen=True)
class Outcome:
    """What became of an alert: `routed`, `unrouted` or `rejected`, why, and how many orders it made (if known)."""

    status: str
    reason: str | None = None
    orders: int | None = None


async def routing_of(bridge: UiBridge, queries: Queries, alert_id: int) -> Outcome | None:
    """The alert's routing outcome, or None if none came within a few seconds.

    Listened for first, then looked up in the journal once: the router publishes a status only
    after committing it, so it is either in that read or in an event still to come.
    """
    future = bridge.answer(AlertStatusChanged, lambda event: event.alert_id == alert_id)
    for alert, reason in queries.alerts.latest_alerts(50):
        if alert.alert_id == alert_id and str(alert.status) != "queued":
            future.cancel()
            made = sum(1 for order in queries.orders.latest_orders(500) if order.request.alert_id == alert_id)
            return Outcome(str(alert.status), reason, made)
    try:
        event = await asyncio.wait_for(future, ROUTING_WAIT_S)
    except asyncio.TimeoutError:
        return None
    return Outcome(event.status, event.why, len(getattr(event, "client_order_ids", ())))
