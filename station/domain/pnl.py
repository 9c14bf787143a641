"""A position valued at a mark: what the Positions & PnL views and `/api/positions` show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from station.domain.positions import Position


@dataclass(frozen=True, slots=True)
class MarkedPosition:
    """A position with its mark (feed's last price, else the last price seen) and open PnL there."""

    position: Position
    mark: Decimal | None
    unrealized_pnl: Decimal
    updated_at: datetime

    @property
    def total_pnl(self) -> Decimal:
        return self.position.realized_pnl + self.unrealized_pnl
