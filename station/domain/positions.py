"""Positions with average cost and realised/unrealised PnL, updated fill by fill."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from station.domain.fills import Fill

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Position:
    """Signed quantity (long > 0) of one ticker at one destination, for one strategy."""

    destination: str
    ticker: str
    strategy: str | None = None
    qty: Decimal = ZERO
    avg_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    multiplier: Decimal = Decimal(1)

    @property
    def is_flat(self) -> bool:
        return self.qty == 0

    def unrealized_pnl(self, mark: Decimal | None) -> Decimal:
        """Open PnL against `mark`; zero when flat or when there is no mark."""
        if mark is None or self.qty == 0:
            return ZERO
        return (mark - self.avg_price) * self.qty * self.multiplier

    def apply(self, fill: Fill) -> "Position":
        """The position after `fill`: adds to, reduces, closes or reverses it."""
        signed = fill.qty * fill.side.sign
        qty, avg, realized = self.qty, self.avg_price, self.realized_pnl - fill.commission
        if qty == 0 or (qty > 0) == (signed > 0):
            new_qty = qty + signed
            avg = (avg * abs(qty) + fill.price * abs(signed)) / abs(new_qty)
            return dataclasses.replace(self, qty=new_qty, avg_price=avg, realized_pnl=realized)
        closing = min(abs(signed), abs(qty))
        direction = 1 if qty > 0 else -1
        realized += (fill.price - avg) * closing * direction * self.multiplier
        new_qty = qty + signed
        if new_qty == 0:
            avg = ZERO
        elif (new_qty > 0) != (qty > 0):
            avg = fill.price
        return dataclasses.replace(self, qty=new_qty, avg_price=avg, realized_pnl=realized)
