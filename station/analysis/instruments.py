"""Point values for `station analyze`: money per point of each order, by `domain/contracts.py`'s one table.

A ticker's `point_value` setting in the config as it is now wins (also for orders made before it was set);
else the point value the order was recorded with, when one was configured then; else the futures table
by the ticker or its contract's root (a bare `ES` is the E-mini: $50); else 1 (stocks).
"""

from __future__ import annotations

from decimal import Decimal

from station.domain.config import RoutingConfig
from station.domain.contracts import point_value as table_value


class PointValues:
    """Resolves the point value of an order or fill of (strategy, ticker)."""

    def __init__(self, by_strategy: dict[tuple[str, str], float] | None = None,
                 by_ticker: dict[str, float] | None = None) -> None:
        self._by_strategy = {(s, t.upper()): v for (s, t), v in (by_strategy or {}).items()}
        self._by_ticker = {t.upper(): v for t, v in (by_ticker or {}).items()}

    @classmethod
    def from_config(cls, config: RoutingConfig) -> "PointValues":
        """Every `point_value` set on a strategy's ticker (for other strategies of that ticker: the first set)."""
        by_strategy: dict[tuple[str, str], float] = {}
        by_ticker: dict[str, float] = {}
        for strategy in config.strategies:
            for ticker in strategy.tickers:
                value = ticker.options.get("point_value")
                if value:
                    by_strategy[(strategy.name, ticker.ticker)] = float(value)
                    by_ticker.setdefault(ticker.ticker, float(value))
        return cls(by_strategy, by_ticker)

    def of(self, strategy: str | None, ticker: str | None, instrument: str | None = None,
           recorded: float | None = None) -> float:
        """Money per point of `ticker` traded by `strategy` (recorded: what its order was stored with)."""
        key = (ticker or "").upper()
        configured = self._by_strategy.get((strategy or "", key), self._by_ticker.get(key))
        if configured is None and recorded is not None and recorded == recorded and recorded not in (0, 1):
            configured = recorded
        return float(table_value(ticker, instrument, None if configured is None else Decimal(repr(configured))))
