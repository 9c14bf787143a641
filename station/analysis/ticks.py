"""Tick sizes for expressing slippage in ticks: the ticker's `tick_size` setting, else a known contract, else a cent."""

from __future__ import annotations

from station.domain.config import RoutingConfig
from station.domain.ticks import FUTURES_TICKS as _FUTURES_TICKS, STOCK_TICK as _STOCK_TICK, future_root

__all__ = ["FUTURES_TICKS", "STOCK_TICK", "TickSizes", "future_root"]

# the table and the contract pattern are the domain's (orders resolve offsets in ticks with them)
FUTURES_TICKS = {root: float(size) for root, size in _FUTURES_TICKS.items()}
STOCK_TICK = float(_STOCK_TICK)


class TickSizes:
    """The tick size of a ticker: its config `tick_size`, else the futures table, else a cent.

    A bare root such as `ES` is also a stock symbol (Eversource); it is taken as the future
    only when its orders carry a point value other than 1 or name a contract.
    """

    def __init__(self, configured: dict[str, float] | None = None) -> None:
        self._configured = {k.upper(): float(v) for k, v in (configured or {}).items()}

    @classmethod
    def from_config(cls, config: RoutingConfig) -> "TickSizes":
        """Every `tick_size` set on a strategy's ticker (the first one set wins for a ticker)."""
        configured: dict[str, float] = {}
        for strategy in config.strategies:
            for ticker in strategy.tickers:
                size = ticker.options.get("tick_size")
                if size:
                    configured.setdefault(ticker.ticker.upper(), float(size))
        return cls(configured)

    def size(self, ticker: str | None, instrument: str | None = None, point_value: float = 1.0) -> float:
        """The tick size for orders of `ticker` (at `instrument`, worth `point_value` a point)."""
        key = (ticker or "").strip().upper()
        if key in self._configured:
            return self._configured[key]
        root = future_root(key) or future_root(instrument)
        if root is None and point_value not in (0, 1) and key:
            root = key
        if root is not None:
            return self._configured.get(root) or FUTURES_TICKS.get(root) or STOCK_TICK
        return STOCK_TICK
