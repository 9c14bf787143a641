"""Market data values: trades/quotes (Tick) and OHLCV bars. Prices are floats for speed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Sequence


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


@dataclass(frozen=True, slots=True, eq=False)
class BarColumns:
    """Many bars of one symbol and timeframe as parallel columns (lists or numpy arrays).

    `start_ns` holds each bar's start in UTC nanoseconds; when `forming` is True the
    last bar is still in progress.
    """

    symbol: str
    timeframe: str
    start_ns: Sequence[int]
    open: Sequence[float]
    high: Sequence[float]
    low: Sequence[float]
    close: Sequence[float]
    volume: Sequence[float]
    forming: bool = False

    def __len__(self) -> int:
        return len(self.start_ns)

    def bar(self, index: int) -> Bar:
        """One bar as a `Bar` (negative indexes count from the end)."""
        index = range(len(self))[index]
        start = datetime.fromtimestamp(int(self.start_ns[index]) // 1_000_000_000, timezone.utc)
        start += timedelta(microseconds=int(self.start_ns[index]) % 1_000_000_000 // 1000)
        closed = not (self.forming and index == len(self) - 1)
        return Bar(self.symbol, self.timeframe, start, float(self.open[index]), float(self.high[index]),
                   float(self.low[index]), float(self.close[index]), float(self.volume[index]), closed)


@dataclass(frozen=True, slots=True)
class MarketDataRow:
    """One row of a script's market data CSV (`timestamp,symbol,open,high,low,close,volume,rsi,signal_strength`)."""

    time: datetime
    symbol: str
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0
    rsi: float | None = None
    signal_strength: float | None = None


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """Historical market data to load: a Databento dataset, schema and symbols over [start, end)."""

    request_id: str
    dataset: str
    schema: str
    symbols: tuple[str, ...]
    start: datetime
    end: datetime
    stype_in: str = "raw_symbol"


@dataclass(frozen=True, slots=True)
class CachedHistory:
    """A piece of bought historical data kept on disk: what it covers ([start_ns, end_ns)) and where it is."""

    dataset: str
    schema: str
    stype_in: str
    symbol: str
    start_ns: int
    end_ns: int
    path: str
    size_bytes: int
    cost_usd: float | None = None
