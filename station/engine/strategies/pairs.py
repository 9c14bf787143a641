"""Pairs: trade the spread ticker1 − hedge × ticker2 when it strays `entry_z` σ from its mean."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from station.domain.alert import SpreadTicker
from station.domain.enums import Side
from station.domain.events import PairUpdated
from station.domain.marketdata import Bar
from station.engine.indicators import SpreadZScore
from station.engine.signals import POSITION_NAMES, Signal
from station.engine.strategies.base import ENTRY_CODES, EXIT_CODES, Strategy

_SPREAD = re.compile(r"^\s*([^-*\s]+)\s*-\s*([0-9]*\.?[0-9]+)\s*\*\s*([^-*\s]+)\s*$")


def parse_spread(text: str) -> SpreadTicker:
    """`NMFC-0.72*NASDAQ:ROIC` → SpreadTicker(NMFC, 0.72, ROIC): TradingView's spread form, exchange prefixes dropped."""
    match = _SPREAD.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a spread of the form TICKER1-HEDGE*TICKER2")
    try:
        hedge = Decimal(match.group(2))
    except InvalidOperation:
        raise ValueError(f"hedge {match.group(2)!r} is not a number") from None
    if hedge <= 0:
        raise ValueError("the hedge ratio must be positive")
    return SpreadTicker(match.group(1).split(":")[-1], hedge, match.group(3).split(":")[-1])


@dataclass(slots=True)
class _Leg:
    start: datetime | None = None
    close: float = 0.0


class Pairs(Strategy):
    """Long the spread at z ≤ −entry_z, short at z ≥ entry_z; out when |z| falls back to `exit_z`.

    The strategy's ticker is the spread itself (`NMFC-0.72*ROIC`), so its signals route and
    journal exactly like a TradingView spread alert (ticker1, hedge, ticker2 on the line).
    """

    kind = "pairs"

    def __init__(self, name: str, ticker: str, params: dict[str, Any], **context: Any) -> None:
        super().__init__(name, ticker, params, **context)
        self.spread = parse_spread(ticker)
        self.hedge = float(self.spread.hedge)
        self.z = SpreadZScore(int(params.get("lookback", 20)), int(params.get("ddof", 0)))
        self.entry_z = float(params.get("entry_z", 2.0))
        self.exit_z = float(params.get("exit_z", 0.5))
        self.legs = {self.spread.ticker1: _Leg(), self.spread.ticker2: _Leg()}
        self.last_spread: float | None = None

    def subscriptions(self) -> list[tuple[str, str]]:
        return [(self.spread.ticker1, self.timeframe), (self.spread.ticker2, self.timeframe)]

    def warmup_bars(self) -> int:
        return int(self.params.get("warmup_bars") or self.z.period + 1)

    def _on_bar(self, bar: Bar) -> list[Signal]:
        leg = self.legs.get(bar.symbol)
        if leg is None:
            return []
        leg.start, leg.close = bar.start, bar.close
        one, two = self.legs[self.spread.ticker1], self.legs[self.spread.ticker2]
        if one.start != two.start:
            return []  # wait for the other leg's bar of the same time
        spread = one.close - self.hedge * two.close
        self.last_spread = spread
        z = self.z.update(spread)
        if z is None:
            return []
        signals: list[Signal] = []
        if (self.position > 0 and z >= -self.exit_z) or (self.position < 0 and z <= self.exit_z):
            signals += self._trade(bar.start, spread, -self.position, 0, "spread back to mean",
                                   EXIT_CODES[self.position])
        if self.position == 0 and abs(z) >= self.entry_z:
            direction = -1 if z > 0 else 1
            signals += self._trade(bar.start, spread, direction, direction,
                                   f"spread {z:+.2f} σ from mean", ENTRY_CODES[direction])
        self.events.append(PairUpdated(
            strategy=self.name, pair=self.ticker, ticker1=self.spread.ticker1, ticker2=self.spread.ticker2,
            hedge=self.hedge, spread=spread, mean=self.z.mean, std=self.z.std, distance=z,
            position=POSITION_NAMES[self.position], at=bar.start,
        ))
        return signals

    def _trade(self, at: datetime, spread: float, side: int, target: int, reason: str, code: str) -> list[Signal]:
        qty = self.open_qty if target == 0 else Decimal(str(self.params.get("qty", 1)))
        signal = self.make_signal(at, Side.BUY if side > 0 else Side.SELL, spread, qty or Decimal(1), target,
                                  reason, code, spread=self.spread)
        self.position = target
        self.open_qty = qty if target else None
        self.entry_price = spread if target else None
        return [signal]

    def display(self) -> dict[str, Any]:
        return {**super().display(), "spread": self.last_spread, "z": self.z.value}
