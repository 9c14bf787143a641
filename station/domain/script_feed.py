"""Trades sent by external scripts (CSV over REST or Socket.IO); their market data rows are `MarketDataRow`s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from station.domain.enums import Side
from station.domain.marketdata import MarketDataRow
from station.domain.timeutil import require_aware


@dataclass(frozen=True, slots=True)
class ScriptTrade:
    """One row of a trades CSV: `timestamp,symbol,side,quantity,price,profit_loss,strategy`."""

    timestamp: datetime
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    profit_loss: Decimal | None = None
    strategy: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.timestamp, "timestamp")


@dataclass(frozen=True, slots=True)
class ScriptUpload:
    """One accepted upload: every row of both CSVs, applied together or not at all."""

    upload_id: int
    source: str
    received_at: datetime
    trades: tuple[ScriptTrade, ...] = ()
    bars: tuple[MarketDataRow, ...] = ()
