"""A strategy's signal and how it becomes a journaled, routed command (`RecordSignal`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from station.domain.alert import Alert, SpreadTicker
from station.domain.commands import RecordSignal
from station.domain.events import StrategySignalled
from station.domain.enums import Side
from station.domain.timeutil import UTC

FLAT, LONG, SHORT = "flat", "long", "short"
POSITION_NAMES = {0: FLAT, 1: LONG, -1: SHORT}


def signal_id(strategy: str, ticker: str, timeframe: str, at: datetime, code: str) -> str:
    """A deterministic id: the same strategy, instrument, bar and decision always give the same id."""
    at = at.astimezone(UTC)
    stamp = at.strftime("%Y%m%dT%H%M%S") + (f".{at.microsecond:06d}" if at.microsecond else "")
    return f"{strategy}:{ticker}:{timeframe}:{stamp}:{code}"


@dataclass(frozen=True, slots=True)
class Signal:
    """One decision of a strategy: an action on a ticker, why, and the position before and after it."""

    signal_id: str
    strategy: str
    ticker: str
    action: Side
    bar_time: datetime
    price: float | None
    qty: Decimal
    position: str
    target_position: str
    reason: str
    spread: SpreadTicker | None = None
    instrument: dict[str, Any] | None = field(default=None, compare=False)

    def to_alert(self, received_at: datetime) -> Alert:
        """The signal as an alert of source "strategy": journaled once per `trade_id` and routed like any alert."""
        extra: dict[str, Any] = {"reason": self.reason}
        if self.instrument is not None:
            extra["instrument"] = self.instrument
        return Alert(
            ticker=self.ticker, action=self.action, received_at=received_at, qty=self.qty,
            price=None if self.price is None else Decimal(repr(round(self.price, 10))), strategy=self.strategy, sent_at=self.bar_time,
            trade_id=self.signal_id, position=self.position, target_position=self.target_position,
            spread=self.spread, source="strategy", extra=extra,
        )

    def command(self, received_at: datetime) -> RecordSignal:
        return RecordSignal(self.to_alert(received_at))

    def signalled(self, note: str, at: datetime) -> StrategySignalled:
        """The event the Engine dock shows: traded unless `note` says why not."""
        return StrategySignalled(
            strategy=self.strategy, ticker=self.ticker, action=str(self.action), signal_id=self.signal_id,
            price=self.price, qty=self.qty, reason=self.reason, position=self.position,
            target_position=self.target_position, traded=not note, note=note, at=at)
