"""The price levels Station watches for exits it works itself, indexed so a price costs little however many wait.

`TriggerIndex`: per symbol, one heap of levels that fire when a trade is at or below them (a long's
stop, a short's target) and one of levels that fire at or above them. A price that fires nothing costs
two comparisons with the heaps' tops, whatever their size; each level that fires costs O(log n) to pop.
Removing a level is lazy (it is skipped when it surfaces).

`TrailingStops`: trailing stops follow the best price since their entry filled; each price is looked at
against every trailing stop of its symbol (O(t) for t trailing stops there), since each may move.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from decimal import Decimal
from typing import Hashable

from station.domain.enums import Side
from station.domain.exits import trailing_stop
from station.domain.instructions import Offset


class TriggerIndex:
    """Levels per symbol that fire once when a trade reaches them."""

    def __init__(self) -> None:
        self._below: dict[str, list] = {}  # fire when price <= level: a max-heap (negated levels)
        self._above: dict[str, list] = {}  # fire when price >= level: a min-heap
        self._live: dict[Hashable, int] = {}  # key -> the sequence number of its live entry
        self._seq = 0

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._live

    def add(self, key: Hashable, symbol: str, level: Decimal, *, at_or_below: bool) -> None:
        """Watch `level` for `key` (replacing what it watched before)."""
        self._seq += 1
        self._live[key] = self._seq
        if at_or_below:
            heapq.heappush(self._below.setdefault(symbol.upper(), []), (-level, self._seq, key))
        else:
            heapq.heappush(self._above.setdefault(symbol.upper(), []), (level, self._seq, key))

    def remove(self, key: Hashable) -> None:
        self._live.pop(key, None)

    def crossed(self, symbol: str, price: Decimal) -> list[Hashable]:
        """The keys whose level a trade at `price` reaches (each fires once), lowest risk first."""
        fired: list[Hashable] = []
        upper = symbol.upper()
        below = self._below.get(upper)
        while below and -below[0][0] >= price:
            _, seq, key = heapq.heappop(below)
            if self._live.get(key) == seq:
                del self._live[key]
                fired.append(key)
        above = self._above.get(upper)
        while above and above[0][0] <= price:
            _, seq, key = heapq.heappop(above)
            if self._live.get(key) == seq:
                del self._live[key]
                fired.append(key)
        return fired


@dataclass(slots=True)
class _Trail:
    symbol: str
    exit_side: Side  # a sell trails a long: its stop rises with the highs
    offset: Offset
    tick: Decimal | None
    best: Decimal
    stop: Decimal


class TrailingStops:
    """Trailing stops by symbol: each better price moves them, a price at or through one fires it."""

    def __init__(self) -> None:
        self._by_symbol: dict[str, dict[Hashable, _Trail]] = {}

    def __len__(self) -> int:
        return sum(len(trails) for trails in self._by_symbol.values())

    def __contains__(self, key: Hashable) -> bool:
        return any(key in trails for trails in self._by_symbol.values())

    def add(self, key: Hashable, symbol: str, exit_side: Side, offset: Offset, tick: Decimal | None,
            best: Decimal, stop: Decimal | None = None) -> Decimal:
        """Start trailing from `best` (a stop already reached further, `stop`, is kept); its stop now."""
        entry_side = exit_side.opposite
        computed = trailing_stop(entry_side, best, offset, tick)
        if stop is not None:
            computed = max(computed, stop) if exit_side is Side.SELL else min(computed, stop)
        self._by_symbol.setdefault(symbol.upper(), {})[key] = _Trail(symbol.upper(), exit_side, offset, tick, best,
                                                                     computed)
        return computed

    def remove(self, key: Hashable) -> None:
        for trails in self._by_symbol.values():
            if trails.pop(key, None) is not None:
                return

    def stop_of(self, key: Hashable) -> Decimal | None:
        for trails in self._by_symbol.values():
            if key in trails:
                return trails[key].stop
        return None

    def on_price(self, symbol: str, price: Decimal) -> tuple[list[tuple[Hashable, Decimal]], list[Hashable]]:
        """(stops that moved with their new level, stops this price fired)."""
        trails = self._by_symbol.get(symbol.upper())
        if not trails:
            return [], []
        moved, fired = [], []
        for key, trail in trails.items():
            sell = trail.exit_side is Side.SELL
            if (price <= trail.stop) if sell else (price >= trail.stop):
                fired.append(key)
                continue
            if (price > trail.best) if sell else (price < trail.best):
                trail.best = price
                stop = trailing_stop(trail.exit_side.opposite, price, trail.offset, trail.tick)
                if (stop > trail.stop) if sell else (stop < trail.stop):
                    trail.stop = stop
                    moved.append((key, stop))
        for key in fired:
            del trails[key]
        return moved, fired
