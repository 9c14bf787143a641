"""Last prices per symbol: the live feed's when there is one, else the last price seen (alerts, fills)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Callable

from station.domain.events import BarUpdated, MarketDataReceived, TickReceived


class Marks:
    """Latest price per symbol; feed prices win over prices merely seen in alerts or fills."""

    def __init__(self) -> None:
        self._feed: dict[str, Decimal] = {}
        self._seen: dict[str, Decimal] = {}
        self.listeners: list[Callable[[str, Decimal], None]] = []
        self.version = 0

    def price(self, symbol: str) -> Decimal | None:
        """The mark for `symbol` (exact, then upper-case), or None."""
        key = symbol.upper()
        return self._feed.get(key) or self._seen.get(key)

    def feed_price(self, symbol: str) -> Decimal | None:
        """The feed's last price for `symbol`, or None: a price merely seen in an alert is not a market."""
        return self._feed.get(symbol.upper())

    def set_feed(self, symbol: str, price: float | Decimal) -> None:
        """A price from the live feed (or replay)."""
        if isinstance(price, float) and not math.isfinite(price):
            return
        value = price if isinstance(price, Decimal) else Decimal(repr(float(price)))
        key = symbol.upper()
        if self._feed.get(key) != value:
            self._feed[key] = value
            self._changed(key, value)

    def seen(self, symbol: str, price: Decimal | None) -> None:
        """A price seen in an alert or a fill: used only while the feed has none."""
        if price is None or not price.is_finite() or price <= 0:
            return
        key = symbol.upper()
        self._seen[key] = price
        if key not in self._feed:
            self._changed(key, price)

    def on_tick(self, event: TickReceived) -> None:
        self.set_feed(event.tick.symbol, event.tick.price)

    def on_rows(self, event: MarketDataReceived) -> None:
        """A script's market data rows: each counts as one trade at its close, in order."""
        for row in event.rows:
            self.set_feed(row.symbol, row.close)

    def on_bar(self, event: BarUpdated) -> None:
        self.set_feed(event.bar.symbol, event.bar.close)

    def _changed(self, symbol: str, price: Decimal) -> None:
        self.version += 1
        for listener in self.listeners:
            listener(symbol, price)
