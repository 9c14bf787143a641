"""Executions reported by a destination."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from station.domain.enums import Side
from station.domain.timeutil import require_aware


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of (part of) an order."""

    fill_id: str
    client_order_id: str
    destination: str
    ticker: str
    side: Side
    qty: Decimal
    price: Decimal
    time: datetime
    commission: Decimal = Decimal(0)
    strategy: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.time, "fill time")
        if self.qty <= 0:
            raise ValueError(f"fill qty must be positive, got {self.qty}")
