"""Where warm-up bars come from: a protocol the market data side (Databento historical, DBN replay) satisfies."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, Sequence

from station.domain.marketdata import Bar


class BarHistory(Protocol):
    """Closed bars from before now, so indicators are warm before the first live bar."""

    async def closed_bars(self, symbol: str, timeframe: str, end: datetime, count: int) -> Sequence[Bar]:
        """Up to `count` closed bars of `symbol` in `timeframe` (`1m`, `512t`, …) that started before `end`, oldest first."""
        ...


class ListHistory:
    """A BarHistory over bars already in memory (tests, replays that keep their bars)."""

    def __init__(self, bars: Sequence[Bar]) -> None:
        self._series: dict[tuple[str, str], list[Bar]] = {}
        for bar in sorted(bars, key=lambda b: b.start):
            self._series.setdefault((bar.symbol, bar.timeframe), []).append(bar)

    async def closed_bars(self, symbol: str, timeframe: str, end: datetime, count: int) -> Sequence[Bar]:
        series = [b for b in self._series.get((symbol, timeframe), []) if b.start < end and b.closed]
        return series[-count:] if count else []
