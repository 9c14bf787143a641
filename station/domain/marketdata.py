"""Market data values: trades/quotes (Tick) and OHLCV bars. Prices are floats for speed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Tick:
    """One trade print (or quote mid) of a symbol."""

    symbol: str
    time: datetime
    price: float
    size: float = 0.0


@dataclass(frozen=True, slots=True)
class Bar:
    """An OHLCV bar; `start` is the bar's opening time (aware), `timeframe` e.g. `1m`, `512t`."""

    symbol: str
    timeframe: str
    start: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0
    closed: bool = True
