"""The positions a REST broker holds, as last listed: read for a closing order's instruction, reported as
changes while polling, or all of them when asked for `reports(since)`."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Callable

from station.brokers.rest.snapshots import BrokerApi, PositionSnapshot
from station.brokers.rest.symbols import same_symbol, symbol_key
from station.domain.events import Event, PositionReported

ZERO = Decimal(0)
EVERY_S = 30.0  # polled this often even without fills
FRESH_S = 1.0  # a listing this young answers a closing order's question


class BrokerPositions:
    """What the broker listed last, and what was reported of it (a position gone since is reported flat)."""

    def __init__(self, name: str, api: BrokerApi, ticker: Callable[[str], str]) -> None:
        self.name, self.api, self._ticker = name, api, ticker
        self.reported: dict[str, tuple[Decimal, Decimal | None]] = {}
        self.filled = False  # a fill since the last listing: the figures changed
        # after a (re)connect positions go out with reports(since), after the fills, not on their own before
        self.held = True
        self._listed: tuple[float, list[PositionSnapshot]] | None = None

    def due(self) -> bool:
        """A poll should list them again (a fill since, or a while without)."""
        return self.filled or self._listed is None or time.monotonic() - self._listed[0] > EVERY_S

    async def qty(self, symbol: str, emit: Callable[[Event], None]) -> Decimal:
        """The signed quantity held in `symbol`, from a fresh enough listing."""
        if self._listed is None or self.filled or time.monotonic() - self._listed[0] > FRESH_S:
            await self.refresh(emit)
        return next((p.qty for p in self._listed[1] if same_symbol(p.symbol, symbol)), ZERO)

    async def refresh(self, emit: Callable[[Event], None], *, everything: bool = False) -> None:
        """List them; report those that changed (or, `everything`, all of them)."""
        snapshots = await self.api.positions()
        self._listed = (time.monotonic(), snapshots)
        self.filled = False
        if self.held and not everything:
            return  # the next reports(since) tells them all, after the fills
        current = {symbol_key(p.symbol): p for p in snapshots}
        for key in sorted(set(self.reported) | set(current)):
            snap = current.get(key)
            value = (snap.qty, snap.avg_price) if snap else (ZERO, None)
            if self.reported.get(key) == value and not everything:
                continue
            self.reported[key] = value
            emit(PositionReported(self.name, self._ticker(snap.symbol if snap else key), value[0], value[1]))
