"""The risk limits in force: each strategy's `risk` config and the overall `risk` settings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from station.domain.config import RoutingConfig
from station.domain.orders import OrderRequest
from station.domain.risk import BookView


class RiskLimits:
    """A snapshot of the limits, refreshed when the config changes (`refresh`)."""

    def __init__(self, load_config: Callable[[], RoutingConfig], load_settings: Callable[[], dict[str, Any]]) -> None:
        self._load_config = load_config
        self._load_settings = load_settings
        self.config = RoutingConfig(revision=-1)
        self.settings: dict[str, Any] = {}
        self.refresh()

    def refresh(self) -> None:
        self.config = self._load_config()
        self.settings = self._load_settings()

    def for_strategy(self, name: str | None) -> dict[str, Any]:
        """The `risk` object of strategy `name` (empty when it has none)."""
        strategy = self.config.strategy(name) if name else None
        return (strategy.options.get("risk") or {}) if strategy else {}

    def max_position(self, strategy: str | None, ticker: str) -> Decimal | None:
        """The tighter of the ticker's limit in settings and the strategy's own, or None."""
        limits = [self.settings.get("max_position_by_ticker", {}).get(ticker),
                  self.for_strategy(strategy).get("max_position")]
        limits = [Decimal(str(limit)) for limit in limits if limit is not None]
        return min(limits) if limits else None

    def strategy_loss_limit(self, strategy: str | None) -> Decimal | None:
        limit = self.for_strategy(strategy).get("daily_loss_limit")
        return None if limit is None else Decimal(str(limit))

    def overall_loss_limit(self) -> Decimal | None:
        limit = self.settings.get("daily_loss_limit")
        return None if limit is None else Decimal(str(limit))


def reduces_exposure(request: OrderRequest, book: BookView) -> bool:
    """True when the order only takes off (part of) what its strategy holds at that destination."""
    held = book.position(request.destination, request.ticker, request.strategy)
    return held != 0 and (held > 0) != (request.side.sign > 0) and request.qty <= abs(held)


def pnl_today(book: BookView, strategy: str | None) -> Decimal:
    """Realised plus open PnL of today's session (one strategy, or all with None)."""
    return book.realized_pnl_today(strategy) + book.unrealized_pnl(strategy)
