"""A trading alert as received from TradingView, a script or a strategy signal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from station.domain.enums import AlertAction, AlertStatus, Side
from station.domain.instructions import OrderInstructions
from station.domain.timeutil import require_aware


@dataclass(frozen=True, slots=True)
class SpreadTicker:
    """A TradingView spread `TICKER1-HEDGE*TICKER2`: long ticker1, short hedge x ticker2."""

    ticker1: str
    hedge: Decimal
    ticker2: str

    def __str__(self) -> str:
        return f"{self.ticker1}-{self.hedge}*{self.ticker2}"


@dataclass(frozen=True, slots=True)
class Alert:
    """One accepted alert. `alert_id` is given by the journal; None until journaled.

    `action` is a side (buy, sell) or an `AlertAction` (exit, reverse, cancel); `instructions` are the
    order instructions it carries (order type, prices, tif, stop-loss, take-profit, trailing stop), if any.
    """

    ticker: str
    action: Side | AlertAction
    received_at: datetime
    qty: Decimal | None = None
    price: Decimal | None = None
    strategy: str | None = None
    sent_at: datetime | None = None
    trade_id: str | None = None
    position: str | None = None
    target_position: str | None = None
    spread: SpreadTicker | None = None
    source: str = "webhook"
    dialect: int | None = None
    alert_id: int | None = None
    status: AlertStatus = AlertStatus.QUEUED
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    instructions: OrderInstructions | None = None

    @property
    def side(self) -> Side | None:
        """The side of a buy or sell alert; None for exit, reverse and cancel."""
        return self.action if isinstance(self.action, Side) else None

    def __post_init__(self) -> None:
        require_aware(self.received_at, "received_at")
        if self.sent_at is not None:
            require_aware(self.sent_at, "sent_at")
        if not self.ticker:
            raise ValueError("alert ticker is empty")
        if self.qty is not None and self.qty <= 0:
            raise ValueError("alert qty must be positive")
