"""Last prices per symbol: the live feed's when there is one, else the last price seen (alerts, fills).

Each feed price comes with its market time (the trade's exchange time, a bar's start), and the
price with the latest market time ever seen is kept beside the current one. A replay moves the
market's clock back (the demo's starts again at 09:25 on every start; "Replay…" plays an old
file): its prices fill paper orders from then on, but a position priced at a later market time
(filled then, or carried over a restart) keeps being marked at the newest price until the
replay's clock passes it. So no position is valued at prices from before it existed.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

from station.domain.events import BarUpdated, MarketDataReceived, TickReceived


class Marks:
    """Latest price per symbol; feed prices win over prices merely seen in alerts or fills."""

    def __init__(self) -> None:
        self._feed: dict[str, Decimal] = {}
        self._feed_at: dict[str, datetime] = {}  # the market time of each feed price
        self._newest: dict[str, tuple[Decimal, datetime]] = {}  # the feed price with the latest market time
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

    def feed_time(self, symbol: str) -> datetime | None:
        """The market time of the feed's last price for `symbol` (a replay's clock during a replay), or None."""
        return self._feed_at.get(symbol.upper())

    def price_since(self, symbol: str, priced_at: datetime | None) -> Decimal | None:
        """The mark of a position last priced at market time `priced_at`: the feed's price unless the feed's
        clock is behind that (a replay), then the newest price seen; with no feed, the newest or last seen."""
        key = symbol.upper()
        feed, at = self._feed.get(key), self._feed_at.get(key)
        if feed is not None and (priced_at is None or at is None or at >= priced_at):
            return feed
        newest = self._newest.get(key)
        return newest[0] if newest is not None else self._seen.get(key)

    def set_feed(self, symbol: str, price: float | Decimal, at: datetime | None = None) -> None:
        """A price from the live feed (or replay), at market time `at`."""
        if isinstance(price, float) and not math.isfinite(price):
            return
        value = price if isinstance(price, Decimal) else Decimal(repr(float(price)))
        key = symbol.upper()
        if at is None:
            self._feed_at.pop(key, None)  # a price of unknown time: no clock to compare
        else:
            self._feed_at[key] = at
            newest = self._newest.get(key)
            if newest is None or at >= newest[1]:
                self._newest[key] = (value, at)
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
        self.set_feed(event.tick.symbol, event.tick.price, event.tick.time)

    def on_rows(self, event: MarketDataReceived) -> None:
        """A script's market data rows: each counts as one trade at its close, in order."""
        for row in event.rows:
            self.set_feed(row.symbol, row.close)

    def on_bar(self, event: BarUpdated) -> None:
        # a bar's close is no older than its start, nor than the trade the feed last printed inside it
        bar = event.bar
        current = self._feed_at.get(bar.symbol.upper())
        self.set_feed(bar.symbol, bar.close, bar.start if current is None or bar.start > current else current)

    # ---- across restarts ----------------------------------------------------------------------

    def newest(self) -> dict[str, Any]:
        """The newest price of each symbol with its market time, as JSON values (kept across restarts)."""
        return {symbol: [str(price), at.isoformat()] for symbol, (price, at) in self._newest.items()}

    def restore(self, saved: dict[str, Any]) -> None:
        """Take back what `newest` gave (a bad entry is skipped: it only delays a mark to the first price)."""
        for symbol, value in (saved or {}).items():
            try:
                price, at = Decimal(value[0]), datetime.fromisoformat(value[1])
            except (TypeError, ValueError, IndexError, ArithmeticError):
                continue
            if at.tzinfo is not None and price.is_finite():
                self._newest.setdefault(symbol.upper(), (price, at))
        self.version += 1

    def _changed(self, symbol: str, price: Decimal) -> None:
        self.version += 1
        for listener in self.listeners:
            listener(symbol, price)
