"""Trades as numpy columns: the one currency between feeds (DBN, live, IB ticks, CSV) and the bar builders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator, Sequence

import numpy as np

from station.domain.marketdata import MarketDataRow, Tick
from station.domain.timeutil import require_aware

NS = 1_000_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_FEW_SYMBOLS = 8  # up to this many symbols a mask per symbol beats sorting


def to_ns(moment: datetime) -> int:
    """An aware datetime as UTC nanoseconds (exact)."""
    return (require_aware(moment) - EPOCH) // timedelta(microseconds=1) * 1000


def ns_to_datetime(value: int) -> datetime:
    """UTC nanoseconds as an aware datetime (microsecond precision)."""
    return EPOCH + timedelta(microseconds=int(value) // 1000)


@dataclass(slots=True)
class TradeBatch:
    """Trades of one or more symbols in time order: `code` indexes `symbols`; ts in UTC ns.

    `synthetic` batches come from OHLC bars (CSV rows, ohlcv records): four prints per
    bar (open, high, low, close, volume on the close) at the bar's start. They make
    exact time bars of the same or a longer timeframe, but no tick bars.
    """

    symbols: Sequence[str]
    code: np.ndarray
    ts: np.ndarray
    price: np.ndarray
    size: np.ndarray
    synthetic: bool = False

    def __len__(self) -> int:
        return len(self.ts)

    def by_symbol(self) -> Iterator[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
        """(symbol, ts, price, size) for each symbol present, each in time order."""
        if not len(self.ts):
            return
        if len(self.symbols) == 1:
            yield self.symbols[0], self.ts, self.price, self.size
            return
        counts = np.bincount(self.code, minlength=len(self.symbols))
        present = np.flatnonzero(counts)
        if len(present) == 1:
            yield self.symbols[present[0]], self.ts, self.price, self.size
        elif len(present) <= _FEW_SYMBOLS:
            for code in present:
                mask = self.code == code
                yield self.symbols[code], self.ts[mask], self.price[mask], self.size[mask]
        else:
            order = np.argsort(self.code, kind="stable")
            ends = np.cumsum(counts)
            for code in present:
                rows = order[ends[code] - counts[code]:ends[code]]
                yield self.symbols[code], self.ts[rows], self.price[rows], self.size[rows]

    @staticmethod
    def single(symbol: str, ts: np.ndarray, price: np.ndarray, size: np.ndarray, synthetic: bool = False) -> "TradeBatch":
        """Trades of one symbol."""
        return TradeBatch((symbol,), np.zeros(len(ts), np.intp), ts.astype(np.int64, copy=False),
                          price.astype(np.float64, copy=False), size.astype(np.float64, copy=False), synthetic)

    @staticmethod
    def from_ticks(ticks: Iterable[Tick]) -> "TradeBatch":
        """Trade prints from any feed (IB, scripts) as a batch, in time order."""
        ticks = sorted(ticks, key=lambda t: t.time)
        symbols: dict[str, int] = {}
        code = [symbols.setdefault(t.symbol, len(symbols)) for t in ticks]
        return TradeBatch(tuple(symbols), np.array(code, np.intp), np.array([to_ns(t.time) for t in ticks], np.int64),
                          np.array([t.price for t in ticks], np.float64), np.array([t.size for t in ticks], np.float64))

    @staticmethod
    def from_ohlc(symbols: Sequence[str], code: np.ndarray, ts: np.ndarray, open_: np.ndarray, high: np.ndarray,
                  low: np.ndarray, close: np.ndarray, volume: np.ndarray) -> "TradeBatch":
        """OHLCV bars as four synthetic prints each (see the class docstring)."""
        n = len(ts)
        price = np.empty(4 * n)
        price[0::4], price[1::4], price[2::4], price[3::4] = open_, high, low, close
        size = np.zeros(4 * n)
        size[3::4] = volume
        order = np.argsort(ts, kind="stable")
        pick = (order[:, None] * 4 + np.arange(4)).ravel()
        return TradeBatch(tuple(symbols), np.repeat(code, 4)[pick], np.repeat(ts.astype(np.int64), 4)[pick],
                          price[pick], size[pick], synthetic=True)

    @staticmethod
    def from_rows(rows: Sequence[MarketDataRow]) -> "TradeBatch":
        """A script's market data CSV rows, through the same OHLC path as ohlcv records."""
        symbols: dict[str, int] = {}
        code = np.array([symbols.setdefault(r.symbol, len(symbols)) for r in rows], np.intp)
        column = lambda name: np.array([getattr(r, name) for r in rows], np.float64)  # noqa: E731
        ts = np.array([to_ns(r.time) for r in rows], np.int64)
        return TradeBatch.from_ohlc(tuple(symbols), code, ts, column("open"), column("high"), column("low"),
                                    column("close"), column("volume"))
