"""The routing configuration as values: destinations, strategies, tickers, sizes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class DestinationConfig:
    """A named destination (`paper`, an ATI account, an IB connection, …) and its parameters."""

    name: str
    type: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class TickerDestination:
    """How much of a ticker's alert one destination gets, and under which symbol there."""

    destination: str
    qty: Decimal | None = None
    multiplier: Decimal | None = None
    instrument: str | None = None
    options: dict[str, Any] = field(default_factory=dict, hash=False)

    def size_for(self, alert_qty: Decimal | None) -> Decimal | None:
        """The order size for an alert of `alert_qty`: fixed, scaled, or as sent."""
        if self.qty is not None:
            return self.qty
        if alert_qty is None:
            return None
        return alert_qty * (self.multiplier if self.multiplier is not None else Decimal(1))


@dataclass(frozen=True, slots=True)
class TickerConfig:
    """One ticker of a strategy: its NinjaTrader ports and its named destinations."""

    ticker: str
    enabled: bool = True
    ports: tuple[int, ...] = ()
    destinations: tuple[TickerDestination, ...] = ()
    options: dict[str, Any] = field(default_factory=dict, hash=False)

    def destination_names(self) -> list[str]:
        """Where its orders go: its named destinations, then its NinjaTrader ports (`port:5001`)."""
        from station.domain.destinations import port_destination_name

        return [route.destination for route in self.destinations] + [port_destination_name(p) for p in self.ports]

    def point_value(self, instrument: str | None = None) -> Decimal:
        """Money per point: its `point_value` setting, else the futures table (ES 50 …), else 1."""
        from station.domain.contracts import point_value

        return point_value(self.ticker, instrument, configured=self.options.get("point_value"))


@dataclass(frozen=True, slots=True)
class StrategyConfig:
    """A strategy: the tickers it trades and where their orders go."""

    name: str
    enabled: bool = True
    accounts: dict[str, Any] = field(default_factory=dict, hash=False)
    tickers: tuple[TickerConfig, ...] = ()
    options: dict[str, Any] = field(default_factory=dict, hash=False)

    def ticker(self, symbol: str) -> TickerConfig | None:
        """The ticker entry for `symbol` (exact, then case-insensitive), or None."""
        for entry in self.tickers:
            if entry.ticker == symbol:
                return entry
        upper = symbol.upper()
        for entry in self.tickers:
            if entry.ticker.upper() == upper:
                return entry
        return None


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """A consistent snapshot of the whole routing configuration at one revision."""

    revision: int
    strategies: tuple[StrategyConfig, ...] = ()
    destinations: tuple[DestinationConfig, ...] = ()

    def strategy(self, name: str) -> StrategyConfig | None:
        for strategy in self.strategies:
            if strategy.name == name:
                return strategy
        return None

    def destination(self, name: str) -> DestinationConfig | None:
        for destination in self.destinations:
            if destination.name == name:
                return destination
        return None

    def zero_dte_strategy(self, name: str | None = None) -> StrategyConfig | None:
        """The 0DTE engine strategy `name`, or the first enabled one when no name is given."""
        candidates = [s for s in self.strategies if (s.options.get("engine") or {}).get("kind") == "zero_dte"]
        if name:
            return next((s for s in candidates if s.name == name), None)
        return next((s for s in candidates if s.enabled), None)

    def strategies_listing(self, ticker: str) -> list[StrategyConfig]:
        """Enabled strategies with an enabled entry for `ticker`."""
        out = []
        for strategy in self.strategies:
            entry = strategy.ticker(ticker) if strategy.enabled else None
            if entry is not None and entry.enabled:
                out.append(strategy)
        return out
