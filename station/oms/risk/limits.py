"""The risk limits in force, read live from the oms's config: strategies' `risk` objects, tickers' own
limits and the overall `risk` settings; and what every rule asks first: does an order only reduce?"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from station.domain.config import RoutingConfig
from station.domain.orders import OrderRequest
from station.domain.risk import BookView


def _limit(value: Any) -> Decimal | None:
    """A configured limit; None when absent or 0 (0 means no limit)."""
    return Decimal(str(value)) if value else None


class RiskLimits:
    """The limits as the oms's config says now (it re-reads the config; nothing is copied here)."""

    def __init__(self, config: Callable[[], RoutingConfig], settings: Callable[[], dict[str, Any]]) -> None:
        self._config = config
        self._settings = settings

    @property
    def config(self) -> RoutingConfig:
        return self._config()

    @property
    def settings(self) -> dict[str, Any]:
        """The `risk` settings."""
        return self._settings()

    def for_strategy(self, name: str | None) -> dict[str, Any]:
        """The `risk` object of strategy `name` (empty when it has none)."""
        strategy = self.config.strategy(name) if name else None
        return (strategy.options.get("risk") or {}) if strategy else {}

    def max_order_qty(self) -> Decimal | None:
        return _limit(self.settings.get("max_order_qty"))

    def max_position(self, request: OrderRequest) -> Decimal | None:
        """The tightest position limit for the order's ticker, or None.

        A ticker's own `max_position` (in its strategy's routing entry) replaces the overall
        `risk.max_position`; `risk.max_position_by_ticker` and the strategy's `risk.max_position`
        apply on top of either.
        """
        strategy = self.config.strategy(request.strategy) if request.strategy else None
        entry = strategy.ticker(request.ticker) if strategy else None
        base = _limit(entry.options.get("max_position")) if entry else None
        limits = [base or _limit(self.settings.get("max_position")),
                  _limit(self.settings.get("max_position_by_ticker", {}).get(request.ticker)),
                  _limit(self.for_strategy(request.strategy).get("max_position"))]
        present = [limit for limit in limits if limit is not None]
        return min(present) if present else None

    def strategy_loss_limit(self, strategy: str | None) -> Decimal | None:
        limit = self.for_strategy(strategy).get("daily_loss_limit")
        return None if limit is None else Decimal(str(limit))

    def overall_loss_limit(self) -> Decimal | None:
        limit = self.settings.get("daily_loss_limit")
        return None if limit is None else Decimal(str(limit))


def reduces_position(request: OrderRequest, book: BookView) -> bool:
    """True when the order only takes off (part of) what its strategy holds at that destination, never through flat."""
    held = book.position(request.destination, request.ticker, request.strategy)
    return held != 0 and (held > 0) != (request.side.sign > 0) and request.qty <= abs(held)


def pnl_today(book: BookView, strategy: str | None) -> Decimal:
    """Realised plus open PnL of today's session (one strategy, or all with None)."""
    return book.realized_pnl_today(strategy) + book.unrealized_pnl(strategy)
